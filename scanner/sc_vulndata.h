/* sc_vulndata.h - the vulnerability data in memory, as matching reads it.
 *
 * sc_vulndb_load reads every record and affected package through
 * sc_vulnstore (any backend) into one arena: records by id, affected
 * entries chained per (ecosystem, normalised name), ranges decoded into
 * sc_range events.  Built once per match run or re-match and then only
 * read.
 * Ownership: the db owns everything it hands out (sc_vuln, sc_vuln_affected
 * and their strings) until sc_vulndb_free.
 * Thread: loading uses the store handle's thread; a loaded db is immutable
 * and may be read by any number of threads.
 * Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_DB. */
#ifndef CUSTOMS_SC_VULNDATA_H
#define CUSTOMS_SC_VULNDATA_H
#include <stddef.h>
#include <stdint.h>

#include "sc_range.h"
#include "sc_store.h"

/* One record. */
typedef struct sc_vuln {
  const char *id;
  const char **aliases;
  size_t naliases;
  int sev;               /* effective severity (SC_SEV_*) */
  double score, score_own; /* effective and own CVSS score, -1 none */
} sc_vuln;

/* One affected package of a record. */
typedef struct sc_vuln_affected {
  const sc_vuln *v;
  int sev;               /* affected[].ecosystem_specific.severity */
  sc_event *ev;          /* all ranges' events, range r at ev[rstart[r]..rstart[r+1]) */
  uint32_t *rstart;
  char *rsemver;         /* per range: 1 = SEMVER */
  size_t nranges;
  const char **versions; /* explicit versions */
  size_t nversions;
  const struct sc_vuln_affected *next; /* same (ecosystem, name) */
} sc_vuln_affected;

typedef struct sc_vulndb sc_vulndb;

/* Loads every affected package of the store's vulnerability data. */
int sc_vulndb_load(sc_store *st, sc_vulndb **out);
void sc_vulndb_free(sc_vulndb *db);
/* Number of (vulnerability, affected package) entries loaded. */
size_t sc_vulndb_size(const sc_vulndb *db);
/* The affected entries of (ecosystem, normalised name), chained by next;
 * NULL when none. */
const sc_vuln_affected *sc_vulndb_lookup(const sc_vulndb *db, const char *ecosystem, const char *name);

/* The data generation (0 before the first import). */
int sc_vulndb_generation(sc_store *st, int64_t *gen);
#endif
