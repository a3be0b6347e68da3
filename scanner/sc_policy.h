/* sc_policy.h - the policy file: parse, validate, evaluate.
 *
 * A policy is loaded once (sc_policy_load*), is immutable afterwards and may
 * be evaluated from any number of threads at once.  The file format is
 * documented key by key in conf/policy.yaml; in short:
 *
 *   mode: enforce|audit      unscanned: scan|deny|allow
 *   on_error: deny|allow     head: auto|allow|deny
 *   rules:       [{name, repositories, deny: {COND}, warn: {COND}}]
 *   exceptions:  [{vulnerability, repositories, package, expires, reason}]
 *   vex:         [PATH | {file: PATH, repositories}]   (OpenVEX, sc_vex.h)
 *   vex_referrers: false | true | [REPO_GLOB, ...]     (VEX attached to images)
 *   COND keys:   severity, fixable_only, unknown_severity, max_cvss, secrets,
 *                root, max_age_days, stale_base_days, vulnerabilities, packages
 *
 * Rule semantics: EVERY rule whose repositories match the image applies and
 * the strictest outcome wins (deny > warn > allow).  First-match semantics
 * would make the order of rules a silent security property: adding a lenient
 * rule for one team above the org-wide rule would quietly switch the
 * org-wide rule off for that team's repositories.  With all-match a rule can only add
 * restrictions; loosening is done with exceptions, which are explicit, carry
 * a reason and expire.  The verdict names the first rule (in file order)
 * that produced the final decision.
 *
 * Within one condition block the keys are alternatives (any one blocks);
 * fixable_only and unknown_severity only modify severity and max_cvss.
 * Exceptions remove a finding from the severity, max_cvss and
 * vulnerabilities conditions of every rule; they never hide secrets, root,
 * age or a stale base, and never hide a package listed in `packages`.
 *
 * VEX: a `not_affected` or `fixed` statement of a document listed under
 * `vex:` (or attached to the image, sc_image_facts.vex_docs) that covers a
 * finding takes it out before any rule looks: it counts for no condition
 * (not even `vulnerabilities`), and the verdict says "suppressed by VEX
 * (document, justification)".  The last statement (file order, documents
 * in `vex:` order) that covers a finding decides, as OpenVEX statements
 * override earlier ones; an expired statement (customs' `expires`) is
 * skipped.  A VEX file that cannot be read or is not valid OpenVEX is a
 * load error of the policy.
 *
 * VEX referrers (documents attached to an image, sc_store_vex.h) are
 * applied only where `vex_referrers:` says so (default: nowhere): whoever
 * may push to a repository may attach a referrer, so trusting them lets a
 * pusher lift the denial of their own image.  Only the referrers attached
 * in the image's own repository are read.  A referrer that could not be
 * fetched or parsed suppresses nothing and is named in the verdict.
 *
 * Parsing is strict: unknown keys, wrong types, bad enum values, bad dates,
 * bad globs, missing name/reason, duplicate keys or rule names, YAML aliases
 * and YAML syntax errors are all errors, reported as "FILE:LINE:COL: message"
 * (1-based, pointing at the offending node), one per line, all of them (up
 * to SC_POLICY_MAX_ERRORS).  A typo must never silently weaken a policy.
 *
 * Implemented in sc_policy_yaml.c (YAML tree), sc_policy_parse.c (schema,
 * load, free), sc_policy_eval.c (evaluate) and sc_policy_render.c (messages,
 * reasons, expiry report); their shared structures are in sc_policy_int.h.
 * Owner: scanner/policy.  Thread: see above.  Errors: SC_ERR_* (sc_inventory.h). */
#ifndef CUSTOMS_SC_POLICY_H
#define CUSTOMS_SC_POLICY_H
#include <stddef.h>
#include <stdint.h>

#include "sc_inventory.h"

/* Severity ranks come from sc_cvss.h (SC_SEV_UNKNOWN = 0, LOW, MEDIUM, HIGH,
 * CRITICAL); until that header exists a compatible definition is provided
 * here.  sc_cvss.h should also define SC_SEV_DEFINED. */
#if defined(__has_include)
#if __has_include("sc_cvss.h")
#include "sc_cvss.h"
#define SC_POLICY_HAVE_CVSS_H 1
#endif
#endif
#if !defined(SC_POLICY_HAVE_CVSS_H) && !defined(SC_SEV_DEFINED)
#define SC_SEV_DEFINED
typedef enum sc_severity {
  SC_SEV_UNKNOWN = 0,
  SC_SEV_LOW,
  SC_SEV_MEDIUM,
  SC_SEV_HIGH,
  SC_SEV_CRITICAL
} sc_severity;
#endif

#define SC_POLICY_MAX_BYTES   (1024 * 1024) /* larger files are rejected */
#define SC_POLICY_MAX_ERRORS  100           /* further errors are summarised */
#define SC_POLICY_MAX_RULES   1000
#define SC_POLICY_MAX_EXCEPTIONS 10000
#define SC_POLICY_MAX_LIST    10000         /* entries in any one list */
#define SC_POLICY_MAX_VEX     100           /* files under `vex:` */
#define SC_POLICY_MAX_STRING  1024          /* bytes in any one scalar */
#define SC_VERDICT_MAX_REASONS 1000         /* reasons_json entries (then "truncated") */
#define SC_VERDICT_MAX_MESSAGE 2048         /* bytes of verdict message */

typedef struct sc_policy sc_policy;
struct sc_vex_doc;

typedef struct sc_finding {
  const char *id;                 /* "CVE-2023-4911", "GHSA-...", ... */
  const char *const *aliases;
  size_t naliases;
  const char *ecosystem;          /* OSV ecosystem ("Debian:12", "PyPI"), NULL unknown */
  const char *package;
  const char *version;            /* installed */
  const char *fixed_version;      /* NULL or "" = no fix available */
  int severity;                   /* sc_severity; out of range = unknown */
  double score;                   /* CVSS base score, < 0 unknown */
} sc_finding;

typedef struct sc_image_facts {
  const char *repository;         /* "library/nginx" (no registry host) */
  const char *reference;          /* tag or digest the client asked for, may be NULL */
  const char *digest;             /* manifest digest, may be NULL */
  const sc_finding *findings;
  size_t nfindings;
  const sc_package *packages;     /* image inventory, for `packages` (may be NULL:
                                     then the findings' packages are used) */
  size_t npackages;
  const sc_secret *secrets;       /* may be NULL when nsecrets == 0 */
  size_t nsecrets;
  int runs_as_root;               /* 1 root, 0 not root, -1 unknown (never blocks) */
  int64_t created;                /* unix seconds; <= 0 unknown: reproducible builds
                                     stamp 1970-01-01, which is not an age */
  int scanned;                    /* 0 = never scanned */
  int scan_failed;                /* scanner or database failure */
  int no_data;                    /* no vulnerability data is loaded at all (policy key no_data) */
  /* The image's base (sc_lineage.h) was superseded: every tag that named it
   * has moved to a newer image.  0 (what a zeroed struct says) = no known
   * base, or it is current: never blocks. */
  int stale_base;
  int64_t stale_base_secs;        /* stale_base: how long ago, in seconds (>= 0) */
  const char *stale_base_ref;     /* stale_base: "repo:tag" that named it, may be NULL */
  const char *stale_base_digest;  /* stale_base: its manifest digest, may be NULL */
  const char *stale_base_now;     /* stale_base: where that tag points now, may be NULL */
  /* OpenVEX documents attached to the image (referrers of type
   * application/vnd.openvex+json), applied after the policy's `vex:` files
   * with no repository scope: sc_judge.c fills them only when
   * sc_policy_trusts_vex_referrers says so; NULL/0 = none. */
  const struct sc_vex_doc *const *vex_docs;
  size_t nvex_docs;
  /* Trusted VEX referrers that are not applied, one line each
   * ("sha256:...: reason"), named in the message and the reasons
   * (kind "vex_error"); NULL/0 = none. */
  const char *const *vex_errors;
  size_t nvex_errors;
} sc_image_facts;

typedef enum sc_decision { SC_DECISION_ALLOW, SC_DECISION_WARN, SC_DECISION_DENY } sc_decision;
typedef enum sc_policy_mode { SC_MODE_ENFORCE, SC_MODE_AUDIT } sc_policy_mode;
typedef enum sc_unscanned { SC_UNSCANNED_SCAN, SC_UNSCANNED_DENY, SC_UNSCANNED_ALLOW } sc_unscanned;
typedef enum sc_on_error { SC_ON_ERROR_DENY, SC_ON_ERROR_ALLOW } sc_on_error;
typedef enum sc_head { SC_HEAD_AUTO, SC_HEAD_ALLOW, SC_HEAD_DENY } sc_head;

typedef struct sc_verdict {
  sc_decision decision;
  char *rule;         /* first rule (file order) that produced the decision; NULL
                         when allowed or decided by unscanned/on_error */
  char *message;      /* one paragraph for humans (registry DENIED body, logs):
                         rule, counts by severity, top 5 findings
                         "CVE-x (pkg installed -> fixed)", how to add an exception */
  char *reasons_json; /* JSON array: {"kind": "severity"|"cvss"|"vulnerability"|
                         "package"|"secret"|"root"|"age"|"stale_base"|"unscanned"|
                         "scan_error",
                         "action": "deny"|"warn", "rule", "finding", "package",
                         "version", "fixed_version", "severity", ...} and applied
                         exceptions {"kind":"exception", "vulnerability", "reason",
                         "expires"}, VEX suppressions {"kind":"vex", "document", ...}
                         and trusted VEX referrers not applied {"kind":"vex_error",
                         "error": "sha256:...: reason"} */
  int64_t changes_at; /* unix time at which this verdict may change by time
                         alone (an image reaches max_age_days, or its base
                         stale_base_days, later today); 0: no such time */
} sc_verdict;

/* Load and validate a policy.  On success *out is set and *errors is NULL.
 * On failure *out is NULL and *errors (when errors is not NULL) holds every
 * problem as "FILE:LINE:COL: message\n" lines; free it with free().
 * Errors: SC_ERR_FORMAT (invalid policy), SC_ERR_IO (cannot read the file),
 * SC_ERR_LIMIT (file over SC_POLICY_MAX_BYTES), SC_ERR_NOMEM, SC_ERR_ARG. */
int sc_policy_load(const char *path, sc_policy **out, char **errors);
/* Same from memory; `name` is the FILE used in error lines. */
int sc_policy_load_mem(const char *name, const char *yaml, size_t len, sc_policy **out,
                       char **errors);
void sc_policy_free(sc_policy *p);

sc_policy_mode sc_policy_mode_of(const sc_policy *p);
sc_unscanned sc_policy_unscanned(const sc_policy *p);
sc_on_error sc_policy_on_error(const sc_policy *p);
sc_head sc_policy_head(const sc_policy *p);
size_t sc_policy_rule_count(const sc_policy *p);
size_t sc_policy_exception_count(const sc_policy *p);
size_t sc_policy_vex_count(const sc_policy *p); /* documents under `vex:` */
/* The file VEX document i was read from (relative paths resolved against
 * the policy's directory), for a daemon that reloads when it changes;
 * NULL past the end. */
const char *sc_policy_vex_file(const sc_policy *p, size_t i);
/* One exception as written (sc_policy_exception_at); strings belong to
 * the policy.  expires_day: the last day (UTC, days since 1970-01-01) on
 * which it applies, when has_expires. */
typedef struct sc_policy_exception_info {
  const char *vulnerability;
  const char *const *repositories;
  size_t nrepositories;
  const char *package_ecosystem, *package_name, *package_version; /* NULL: any (name NULL: no package) */
  int has_expires;
  int64_t expires_day;
  const char *reason;
  int line;
} sc_policy_exception_info;
/* Exception i (< sc_policy_exception_count), in file order.  SC_ERR_ARG. */
int sc_policy_exception_at(const sc_policy *p, size_t i, sc_policy_exception_info *out);
/* 1 when some rule has a stale_base_days condition: only then need a
 * caller look up the image's lineage for the stale_base facts. */
int sc_policy_uses_stale_base(const sc_policy *p);
/* 1 when `vex_referrers:` trusts the VEX referrers of images in repo. */
int sc_policy_trusts_vex_referrers(const sc_policy *p, const char *repo);

/* Judge one image at time `now` (unix seconds; exception expiry and image
 * age are measured against it).  Fills *v (free with sc_verdict_free).
 * - not scanned (f->scanned == 0): DENY unless `unscanned: allow` (callers
 *   that honour `unscanned: scan` scan first and never ask);
 * - scan failed: DENY with `on_error: deny`, otherwise judged on what is known;
 * - audit mode turns every DENY into WARN and says so in the message.
 * Errors: SC_ERR_ARG (NULL argument), SC_ERR_NOMEM (v is then zeroed). */
int sc_policy_evaluate(const sc_policy *p, const sc_image_facts *f, int64_t now, sc_verdict *v);
void sc_verdict_free(sc_verdict *v);
const char *sc_decision_name(sc_decision d); /* "allow", "warn", "deny" */

/* For `customs policy check`: one "FILE:LINE:COL: message\n" line per
 * exception that has expired, or expires within `days` days of `now`.
 * Returns the number of lines (0: *warnings is NULL) or SC_ERR_NOMEM /
 * SC_ERR_ARG.  Free *warnings with free(). */
int sc_policy_check_expiring(const sc_policy *p, int64_t now, int days, char **warnings);

int sc_glob_match(const char *pattern, const char *name); /* see sc_glob.h */

#endif
