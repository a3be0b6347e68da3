/* sc_findlist.h - a list of findings: what matching produces, what the store
 * gives back, what reports and the policy read.
 *
 * Ownership: the list owns its arrays and, unless it borrows (re-match),
 * every string (copied into its arena).  Thread: caller's.
 * Errors: 0, SC_ERR_NOMEM, SC_ERR_LIMIT (over SC_MATCH_MAX_FINDINGS). */
#ifndef CUSTOMS_SC_FINDLIST_H
#define CUSTOMS_SC_FINDLIST_H
#include <stddef.h>
#include <stdint.h>

#include "sc_inventory.h"
#include "sc_policy.h" /* sc_finding */

#define SC_MATCH_MAX_FINDINGS 1000000 /* per image */
#define SC_MATCH_MAX_NOTES 100         /* notes about unparsable versions, per list */
#define SC_FINDING_UNSURE 0x1u         /* sc_finding_list.flags: matched by caution (see unsure) */

struct sc_arena;

/* v[0..n) can be passed as sc_image_facts.findings / nfindings as is.
 * Sorted by severity (critical first, unknown last) then id.  Every string
 * is owned by the list (fixed_version is "" when there is no fix). */
typedef struct sc_finding_list {
  sc_finding *v;
  const char **layer;   /* per finding: layer digest that brought the package, "" unknown */
  const char **purl;    /* per finding: package URL, "" unknown */
  /* per finding: the vendor's own rating of its record ("Debian urgency:
   * low", "Ubuntu priority: medium"), "" none; NULL when not looked up
   * (sc_sev_rate_findings: reports, not the gate) */
  const char **rating;
  uint8_t *flags;       /* per finding: SC_FINDING_* bits */
  size_t n, cap;
  int64_t generation;   /* vulnerability data generation they were computed at */
  /* Findings matched by caution: a version (installed, or of the OSV range)
   * that the ecosystem's comparator cannot parse is counted as affected, not
   * as "not affected".  Such a finding has SC_FINDING_UNSURE in flags;
   * unsure counts them; notes says which (at most SC_MATCH_MAX_NOTES), e.g.
   * "Debian:12 foo 1.0~~bad: version not comparable (dpkg): counted as
   * affected by CVE-...".  The flag is stored with the finding (5th item of
   * a stored hit, schema 5), so a list read back from the store has all
   * three as well. */
  size_t unsure;
  sc_strlist notes;
  int borrow;           /* internal: strings not copied (sc_match_rematch_all) */
  struct sc_arena *arena;
} sc_finding_list;

void sc_finding_list_init(sc_finding_list *l);
void sc_finding_list_free(sc_finding_list *l);
/* fixable: a fixed version exists */
static inline int sc_finding_fixable(const sc_finding *f) {
  return f->fixed_version && f->fixed_version[0];
}
/* finding i of l was matched by caution (its version is not comparable) */
static inline int sc_finding_unsure(const sc_finding_list *l, size_t i) {
  return l && l->flags && i < l->n && (l->flags[i] & SC_FINDING_UNSURE);
}

/* Appends one finding (f's strings NULL read as ""), with the layer that
 * brought its package and its purl; strings are copied unless l->borrow.
 * unsure: matched by caution (SC_FINDING_UNSURE, counted and noted). */
int sc_finding_list_add(sc_finding_list *l, const sc_finding *f, const char *layer, const char *purl, int unsure);
/* Sorts by severity (critical first, unknown last), then id, package, and
 * the order of addition. */
int sc_finding_list_sort(sc_finding_list *l);
#endif
