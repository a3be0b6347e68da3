/* sc_policy_int.h - private to the policy modules: the loaded policy's
 * structure and the state of one evaluation.  Nothing outside
 * sc_policy_*.c includes it; the public API is sc_policy.h.
 *
 *   sc_policy_yaml.c    YAML text -> node tree (strict: aliases, depth,
 *                       size), typed getters, FILE:LINE:COL error lines
 *   sc_policy_parse.c   node tree -> validated sc_policy; load, free, getters
 *   sc_policy_eval.c    sc_policy + image facts -> decision and reasons
 *   sc_policy_render.c  the verdict's message and JSON, expiry warnings
 *
 * Ownership: a sc_policy owns every string in it (freed by sc_policy_free);
 * an ectx borrows the policy and the facts and owns its arrays and the
 * reasons array for one sc_policy_evaluate call.
 * Thread: a loaded policy is read-only, so any number of threads may
 * evaluate it at once; an ectx belongs to one call on one thread.
 * Errors: as in sc_policy.h; inside, allocation failure is the sticky
 * `oom` flag of the ectx (or `nomem` of the parse context). */
#ifndef CUSTOMS_SC_POLICY_INT_H
#define CUSTOMS_SC_POLICY_INT_H
#include <jansson.h>
#include <stdint.h>

#include "sc_buf.h"
#include "sc_policy.h"
#include "sc_vex.h"

#define SC_POLICY_LINE_MAX 512 /* bytes of one error or warning line (longer ones are cut) */

typedef struct pkgspec {
  char *eco;     /* NULL = any ecosystem */
  char *name;
  char *version; /* NULL = any version */
} pkgspec;

typedef struct cond {
  int severity;     /* rank threshold, 0 = none */
  int fixable_only;
  int unknown_rank; /* rank of findings without a severity */
  int has_max_cvss;
  double max_cvss;
  int secrets, root;
  int max_age_days; /* -1 = none */
  int stale_base_days; /* -1 = none */
  char **vulns;
  size_t nvulns;
  pkgspec *pkgs;
  size_t npkgs;
} cond;

typedef struct rule {
  char *name;
  int line;
  char **repos;
  size_t nrepos;
  int has_deny, has_warn;
  cond deny, warn;
} rule;

typedef struct exc {
  char *vuln;
  char **repos;
  size_t nrepos;
  int has_pkg;
  pkgspec pkg;
  int has_expires;
  int64_t expires_day; /* last day (UTC) on which it applies */
  int exp_line, exp_col;
  char *reason;
  int line, col;
} exc;

/* One entry of `vex:`: an OpenVEX document and the repositories its
 * statements apply to (like an exception's; "**" when not given). */
typedef struct vexsrc {
  char *path;        /* as written in the policy */
  char *file;        /* the path read (relative ones resolved): what a reload watches */
  char **repos;
  size_t nrepos;
  sc_vex_doc *doc;
} vexsrc;

/* The VEX statement that decides a finding (or NULL st). */
typedef struct vexhit {
  const sc_vex_doc *doc;
  const sc_vex_stmt *st;
  const char *product;
} vexhit;

struct sc_policy {
  char *file;
  sc_policy_mode mode;
  sc_unscanned unscanned;
  sc_on_error on_error;
  sc_head head;
  sc_decision no_data;            /* no_data: what an image judged without any vulnerability data gets */
  rule *rules;
  size_t nrules;
  exc *excs;
  size_t nexcs;
  vexsrc *vex;
  size_t nvex;
  /* vex_referrers: repositories whose images' VEX referrers are applied
   * (true = "**"; absent or false = none: a pusher's own VEX never counts) */
  char **vexref_repos;
  size_t nvexref_repos;
};

/* What counted at one level (allow/warn/deny), for the message. */
typedef struct lvinfo {
  int secrets, root, age, stale;
  int64_t age_days;
  int max_age;
  int64_t stale_days;
  int max_stale;
  size_t nrules;
} lvinfo;

/* One evaluation (sc_policy_evaluate). */
typedef struct ectx {
  const sc_policy *p;
  const sc_image_facts *f;
  int64_t now, today;
  const char *repo;
  int32_t *exc_of;     /* per finding: applicable exception, -1 none, -2 not computed */
  int32_t *expired_of; /* per finding: an expired exception that would have applied */
  uint8_t *flevel;     /* per finding: strongest level it counted at */
  uint8_t *plevel;     /* per package (or per finding without an inventory) */
  uint8_t *exc_used;
  vexhit *vex_of;         /* per finding: the suppressing statement (NULL: no VEX at all) */
  vexhit *vex_expired_of; /* per finding: an expired statement that would have suppressed it */
  size_t nvexed;          /* findings suppressed by VEX */
  uint8_t *rlevel;     /* per rule */
  size_t applied;      /* rules whose repositories match the image */
  lvinfo lv[3];
  json_t *reasons;
  size_t nreasons, omitted;
  int oom;
  int64_t changes_at;  /* earliest time a time-based condition starts to hold, 0 none */
} ectx;

/* Severity rank of a finding's severity; out of range -> SC_SEV_UNKNOWN. */
static inline int sc_pol_sev_rank(int s) { return s >= SC_SEV_LOW && s <= SC_SEV_CRITICAL ? s : SC_SEV_UNKNOWN; }
extern const char *const sc_pol_sev_names[5]; /* by rank: "unknown" .. "critical" */

/* Appends printf text cut to SC_POLICY_LINE_MAX - 1 bytes (one line of an
 * error or warning report keeps its start even when a value is huge). */
void sc_pol_linef(sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reasons (sc_policy_render.c), called by the evaluator as it finds them. */
json_t *sc_pol_jstr(const char *s); /* string (cleaned if not UTF-8) or null */
void sc_pol_jadd(ectx *x, json_t *o, const char *k, json_t *v);
/* A new reason object appended to the list, or NULL past the cap. */
json_t *sc_pol_reason(ectx *x, const rule *r, int lvl, const char *kind);
void sc_pol_finding_fields(ectx *x, json_t *o, const sc_finding *fd);

/* Fills v from a finished evaluation: the message, the reasons JSON (with
 * the applied exceptions and the truncation note) and the rule.  `first` is
 * the index of the first rule that produced `decision`, or -1.  Returns 0,
 * or SC_ERR_NOMEM with v zeroed. */
int sc_pol_render(ectx *x, int decision, int first, sc_verdict *v);

#endif
