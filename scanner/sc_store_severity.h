/* sc_store_severity.h - severity sources beside the OSV records: CVSS scores
 * keyed by CVE id (from NVD CVE 2.0 feeds, sc_nvd) and the distributions'
 * own ratings of a record (Debian urgency, Ubuntu priority).
 *
 * A record without its own severity borrows the highest severity of the
 * records sharing an alias with it and of the CVE scores of its aliases
 * (its id and upstream ids included): sc_vulnstore_finish_import
 * recomputes that for every record whose aliases an import touched, so the
 * order in which records and scores are imported does not matter.  Writes
 * happen inside an import transaction (sc_vulnstore_import_begin), which
 * they require.  A vendor rating is shown beside the score, never used as
 * the severity.
 * Owner: store (SQLite, sc_store_severity.c).  Thread: the handle's.
 * Errors: 0, SC_ERR_ARG, SC_ERR_DB. */
#ifndef CUSTOMS_SC_STORE_SEVERITY_H
#define CUSTOMS_SC_STORE_SEVERITY_H
#include <stddef.h>
#include <stdint.h>

#include "sc_store.h"

/* One CVE's score as stored. */
typedef struct sc_cve_score {
  const char *cve;       /* "CVE-2024-1234" */
  const char *vector;    /* CVSS vector the score came from; NULL none */
  double score;          /* 0.0 .. 10.0 */
  int severity;          /* SC_SEV_* the score rates */
  const char *scored_by; /* who scored it ("nvd@nist.gov"); NULL unknown */
} sc_cve_score;

/* What sc_sev_put_cve_score did. */
enum { SC_SEV_PUT_UNCHANGED = 0, SC_SEV_PUT_ADDED = 1, SC_SEV_PUT_UPDATED = 2 };

/* Stores (or replaces) the score of s->cve, brought by feed; *outcome says
 * whether it was new, changed or the same.  A new or changed score marks
 * the CVE id as touched: finish_import re-derives the records naming it. */
int sc_sev_put_cve_score(sc_store *st, const sc_cve_score *s, const char *feed, int *outcome);
/* Removes the score of cve (the feed has no metric for it any more);
 * *removed (may be NULL) says whether there was one. */
int sc_sev_del_cve_score(sc_store *st, const char *cve, int *removed);
/* Keeps a vendor's rating of record id (kind "Debian urgency", "Ubuntu
 * priority"); one per kind, the record's deletion takes it along. */
int sc_sev_put_rating(sc_store *st, const char *id, const char *kind, const char *rating);

/* ---- reading ---- */

/* Number of CVE scores stored. */
int sc_sev_count_cve_scores(sc_store *st, int64_t *n);
/* Number of stored findings (every matched image, the `findings` view)
 * without a severity, and of all of them. */
int sc_sev_count_unrated_findings(sc_store *st, int64_t *unrated, int64_t *total);
/* The vendor rating of record id ("kind: rating", e.g. "Ubuntu priority:
 * medium") into out; "" and 0 when it has none; SC_ERR_DB. */
int sc_sev_rating_of(sc_store *st, const char *id, char *out, size_t cap);
struct sc_finding_list;
/* Fills l->rating (one entry per finding, "" none) from the vendor ratings
 * of the findings' records; strings live in the list's arena. */
int sc_sev_rate_findings(sc_store *st, struct sc_finding_list *l);
/* The stored score of cve: 0, SC_ERR_NOTFOUND, SC_ERR_DB; its vector is
 * copied into vector (may be NULL; "" when none). */
int sc_sev_cve_score_of(sc_store *st, const char *cve, double *score, int *severity, char *vector, size_t vcap);
#endif
