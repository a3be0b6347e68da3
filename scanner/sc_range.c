/* sc_range.c - OSV range evaluation (see sc_range.h).
 *
 * Sorting the events and walking them up to `version` leaves the state set
 * by the greatest event that applies to `version`; finding that event in one
 * pass gives the same answer without a sort or any allocation. */
#include "sc_range.h"
#include "sc_inventory.h"

#include <string.h>

/* Order of kinds at equal versions, as a sort would place them. */
static int kind_rank(sc_event_kind k) {
  return k == SC_EV_INTRODUCED ? 0 : k == SC_EV_LAST_AFFECTED ? 1 : 2;
}

static int is_zero_intro(const sc_event *e) {
  return e->kind == SC_EV_INTRODUCED && strcmp(e->version, "0") == 0;
}

/* Event order: "0" introduced first, then by version, then by kind. */
static int ev_cmp(sc_vscheme s, const sc_event *a, const sc_event *b, int *out) {
  int za = is_zero_intro(a), zb = is_zero_intro(b);
  if (za || zb) {
    *out = za && zb ? 0 : za ? -1 : 1;
    return 0;
  }
  int rc = sc_version_cmp(s, a->version, b->version, out);
  if (rc) return rc;
  if (!*out) *out = kind_rank(a->kind) - kind_rank(b->kind);
  return 0;
}

int sc_range_affected(sc_vscheme s, const sc_event *ev, size_t nev, const char *version, int *affected) {
  if (!affected) return SC_ERR_ARG;
  *affected = 0;
  if (!version || (nev && !ev)) return SC_ERR_ARG;
  int rc = sc_version_valid(s, version), c;
  if (rc) return rc;
  const sc_event *best = NULL;
  int limited = 0, below_limit = 0;
  for (size_t i = 0; i < nev; i++) {
    const sc_event *e = &ev[i];
    if (!e->version || e->kind > SC_EV_LIMIT) return SC_ERR_ARG;
    if (e->kind == SC_EV_LIMIT) {
      if (strcmp(e->version, "*") == 0) continue;
      limited = 1;
      if ((rc = sc_version_cmp(s, version, e->version, &c))) return rc;
      if (c < 0) below_limit = 1;
      continue;
    }
    int applies;
    if (is_zero_intro(e)) {
      applies = 1;
    } else {
      if ((rc = sc_version_cmp(s, e->version, version, &c))) return rc;
      /* last_affected == version keeps it affected; fixed == version ends it */
      applies = e->kind == SC_EV_LAST_AFFECTED ? c < 0 : c <= 0;
    }
    if (!applies) continue;
    if (best) {
      if ((rc = ev_cmp(s, e, best, &c))) return rc;
      if (c < 0) continue;
    }
    best = e;
  }
  if (limited && !below_limit) return 0;
  *affected = best && best->kind == SC_EV_INTRODUCED;
  return 0;
}

const char *sc_range_fixed_for(sc_vscheme s, const sc_event *ev, size_t nev, const char *version) {
  const char *best = NULL;
  int c;
  if (!version || !ev) return NULL;
  for (size_t i = 0; i < nev; i++) {
    if (ev[i].kind != SC_EV_FIXED || !ev[i].version) continue;
    if (sc_version_cmp(s, ev[i].version, version, &c) || c <= 0) continue;
    if (best && (sc_version_cmp(s, ev[i].version, best, &c) || c >= 0)) continue;
    best = ev[i].version;
  }
  return best;
}
