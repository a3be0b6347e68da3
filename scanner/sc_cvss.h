/* sc_cvss.h - CVSS vector scoring and severity names.
 *
 * Versions:
 *   CVSS:3.0 / CVSS:3.1  base, temporal and environmental scores with the
 *            specification's formulas; v3.1 uses the integer-arithmetic
 *            Roundup (spec appendix A), v3.0 the plain ceil(x*10)/10, and the
 *            v3.1 environmental change (MISS*0.9731, exponent 13).
 *   CVSS v2  "AV:N/AC:L/Au:N/C:P/I:P/A:P" (optionally in parentheses or after
 *            "CVSS:2.0/"): base and temporal; environmental metrics are
 *            validated but not scored (environmental = temporal).
 *   CVSS:4.0 the real scoring: macro-vector (EQ1..EQ6) lookup table plus the
 *            severity-distance interpolation of the FIRST reference
 *            calculator; threat and environmental metrics are honoured in
 *            `environmental` (the CVSS-BTE score), `base` ignores them.
 * Metrics may come in any order; an unknown metric, a duplicate, a bad value
 * or a missing mandatory metric makes the vector malformed.
 *
 * Severity from a score (FIRST scale): 0.0 none, 0.1-3.9 low, 4.0-6.9
 * medium, 7.0-8.9 high, 9.0-10.0 critical.  CVSS v2 scores use NVD's v2
 * scale (no critical: 7.0-10.0 high).
 * Pure functions, no globals: thread-safe. */
#ifndef CUSTOMS_SC_CVSS_H
#define CUSTOMS_SC_CVSS_H

#define SC_SEV_DEFINED 1 /* sc_policy.h checks this */
typedef enum sc_severity {
  SC_SEV_NONE = -1,   /* scored 0.0: no impact (below every threshold) */
  SC_SEV_UNKNOWN = 0, /* no usable score or text */
  SC_SEV_LOW,
  SC_SEV_MEDIUM,
  SC_SEV_HIGH,
  SC_SEV_CRITICAL
} sc_severity;

#define SC_CVSS_MAX 512 /* longest vector string accepted */

typedef struct {
  int version;          /* 20, 30, 31 or 40 */
  double base;          /* base score (v4: CVSS-B, threat/environmental ignored) */
  double temporal;      /* v2/v3 temporal score (= base without temporal metrics);
                           v4: CVSS-BT */
  double environmental; /* v3 environmental score; v4: CVSS-BTE (the score the
                           FIRST calculator shows); v2: = temporal */
} sc_cvss_detail;

/* Base score of `vector` and its severity; either out-pointer may be NULL.
 * Errors: SC_ERR_ARG (NULL vector), SC_ERR_FORMAT (malformed vector),
 * SC_ERR_UNSUPP ("CVSS:x.y/" with an unknown version), SC_ERR_LIMIT (longer
 * than SC_CVSS_MAX). */
int sc_cvss_score(const char *vector, double *score, sc_severity *sev);

/* All scores of `vector`; same errors as sc_cvss_score. */
int sc_cvss_scores(const char *vector, sc_cvss_detail *d);

/* FIRST qualitative rating of a score (v3/v4 scale); negative or > 10 is
 * SC_SEV_UNKNOWN. */
sc_severity sc_severity_from_score(double score);

/* Vendor words, case-insensitive: "critical", "high", "important" (Red Hat,
 * Ubuntu "high"), "medium", "moderate", "low", "negligible", "unimportant"
 * (Debian/Ubuntu), "none"; anything else (NULL, "", "untriaged", "not yet
 * assigned") is SC_SEV_UNKNOWN. */
sc_severity sc_severity_from_text(const char *text);

/* "none", "unknown", "low", "medium", "high", "critical". */
const char *sc_severity_name(sc_severity sev);
#endif
