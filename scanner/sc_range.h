/* sc_range.h - OSV "affected[].ranges[]" evaluation (types ECOSYSTEM, SEMVER).
 *
 * Follows the OSV schema's algorithm: events are ordered by version
 * (introduced "0" first), and a version is affected when the last event at
 * or below it is an `introduced`; a `fixed` equal to the version ends the
 * range (not affected), a `last_affected` equal to it does not (affected).
 * `limit` events cap the range: the version must be below one of them
 * ("*" means no limit).  Events may come in any order; at equal versions
 * introduced sorts before last_affected before fixed.  Pure and thread-safe. */
#ifndef CUSTOMS_SC_RANGE_H
#define CUSTOMS_SC_RANGE_H
#include <stddef.h>
#include "sc_version.h"

typedef enum { SC_EV_INTRODUCED, SC_EV_FIXED, SC_EV_LAST_AFFECTED, SC_EV_LIMIT } sc_event_kind;

typedef struct {
  sc_event_kind kind;
  const char *version;
} sc_event;

/* Is `version` affected by one range with these events?  *affected = 0/1.
 * Errors: SC_ERR_ARG (NULL argument, NULL event version, unknown kind),
 * SC_ERR_FORMAT / SC_ERR_LIMIT (version or an event version does not parse
 * under s; *affected is left 0). */
int sc_range_affected(sc_vscheme s, const sc_event *ev, size_t nev, const char *version, int *affected);

/* The lowest `fixed` version greater than `version` among the events (a
 * pointer into ev), or NULL when none is (or nothing parses): the
 * "fixed_version" to report. */
const char *sc_range_fixed_for(sc_vscheme s, const sc_event *ev, size_t nev, const char *version);
#endif
