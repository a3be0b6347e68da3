// test_policy.c - policy parsing (errors with line:col), evaluation, expiry.
// (Line comments: YAML globs below contain the C comment delimiters.)
#include <jansson.h>
#include <stdlib.h>

#include "../../scanner/sc_policy.h"
#include "tap.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define NOW ((int64_t)1767225600) // 2026-01-01T00:00:00Z
#define DAY 86400

static sc_policy *load(const char *yaml) {
  sc_policy *p = NULL;
  char *err = NULL;
  int rc = sc_policy_load_mem("t.yaml", yaml, strlen(yaml), &p, &err);
  if (rc != 0) printf("# unexpected load failure %d:\n%s", rc, err ? err : "");
  free(err);
  return p;
}

// ------------------------------------------------------------ parse errors

static const struct {
  const char *what, *yaml, *want; // want: an exact line of the error output
} err_cases[] = {
    {"unknown top-level key", "mode: enforce\nmodes: audit\n",
     "t.yaml:2:1: unknown key 'modes' in the policy (expected mode, unscanned, on_error, head, no_data, vex, vex_referrers, rules, exceptions)"},
    {"unknown key in deny",
     "rules:\n  - name: r\n    deny:\n      severty: high\n",
     "t.yaml:4:7: unknown key 'severty' in deny (expected severity, fixable_only, unknown_severity, "
     "max_cvss, secrets, root, max_age_days, stale_base_days, vulnerabilities, packages)"},
    {"bad enum", "mode: enfoce\n", "t.yaml:1:7: bad value 'enfoce' for mode (expected enforce or audit)"},
    {"bad head", "head: maybe\n", "t.yaml:1:7: bad value 'maybe' for head (expected auto, allow or deny)"},
    {"bad severity",
     "rules:\n  - name: r\n    deny: {severity: severe}\n",
     "t.yaml:3:22: bad value 'severe' for severity (expected low, medium, high or critical)"},
    {"wrong type: bool", "rules:\n  - name: r\n    deny:\n      secrets: yes\n",
     "t.yaml:4:16: secrets must be true or false, not 'yes'"},
    {"wrong type: list for string", "rules:\n  - name: [a, b]\n    deny: {root: true}\n",
     "t.yaml:2:11: rule name must be a string, not a list"},
    {"wrong type: rules is a mapping", "rules:\n  name: r\n",
     "t.yaml:2:3: rules must be a list, not a mapping"},
    {"max_cvss out of range", "rules:\n  - name: r\n    deny: {max_cvss: 11}\n",
     "t.yaml:3:22: max_cvss must be a number from 0 to 10, not '11'"},
    {"max_age_days not whole", "rules:\n  - name: r\n    deny: {max_age_days: 1.5}\n",
     "t.yaml:3:26: max_age_days must be a whole number from 0 to 36500, not '1.5'"},
    {"stale_base_days negative", "rules:\n  - name: r\n    deny: {stale_base_days: -1}\n",
     "t.yaml:3:29: stale_base_days must be a whole number from 0 to 36500, not '-1'"},
    {"stale_base_days not whole", "rules:\n  - name: r\n    warn: {stale_base_days: 0.5}\n",
     "t.yaml:3:29: stale_base_days must be a whole number from 0 to 36500, not '0.5'"},
    {"stale_base_days not a number", "rules:\n  - name: r\n    deny:\n      stale_base_days: soon\n",
     "t.yaml:4:24: stale_base_days must be a whole number from 0 to 36500, not 'soon'"},
    {"stale_base_days too large", "rules:\n  - name: r\n    deny: {stale_base_days: 36501}\n",
     "t.yaml:3:29: stale_base_days must be a whole number from 0 to 36500, not '36501'"},
    {"stale_base_days twice", "rules:\n  - name: r\n    deny: {stale_base_days: 1, stale_base_days: 2}\n",
     "t.yaml:3:32: duplicate key 'stale_base_days' in deny"},
    {"bad date (Feb 30)",
     "exceptions:\n  - vulnerability: CVE-1\n    expires: 2027-02-30\n    reason: x\n",
     "t.yaml:3:14: bad date '2027-02-30' for expires (expected YYYY-MM-DD)"},
    {"bad date (format)",
     "exceptions:\n  - vulnerability: CVE-1\n    expires: 1/2/2027\n    reason: x\n",
     "t.yaml:3:14: bad date '1/2/2027' for expires (expected YYYY-MM-DD)"},
    {"bad glob",
     "rules:\n  - name: r\n    repositories: [\"library/*\", \"Team/**\"]\n    deny: {root: true}\n",
     "t.yaml:3:33: bad repository pattern 'Team/**': uppercase 'T' in repository pattern (repository "
     "names are lowercase)"},
    {"bad glob (** inside a segment)",
     "rules:\n  - name: r\n    repositories: [\"a**\"]\n    deny: {root: true}\n",
     "t.yaml:3:20: bad repository pattern 'a**': '**' must be a whole path segment (like 'team/**/api')"},
    {"missing name", "rules:\n  - repositories: [\"**\"]\n    deny: {root: true}\n",
     "t.yaml:2:5: rule #1 has no name"},
    {"missing reason", "exceptions:\n  - vulnerability: CVE-2024-1\n    expires: 2027-01-01\n",
     "t.yaml:2:5: exception #1 has no reason (say why it is safe to accept)"},
    {"missing vulnerability", "exceptions:\n  - reason: because\n",
     "t.yaml:2:5: exception #1 has no vulnerability"},
    {"duplicate rule names",
     "rules:\n  - name: same\n    deny: {root: true}\n  - name: same\n    deny: {secrets: true}\n",
     "t.yaml:4:11: duplicate rule name 'same' (first at line 2)"},
    {"duplicate key", "mode: enforce\nmode: audit\n", "t.yaml:2:1: duplicate key 'mode' in the policy"},
    {"rule with no deny/warn", "rules:\n  - name: r\n", "t.yaml:2:5: rule #1 has neither deny nor warn"},
    {"deny that cannot fire", "rules:\n  - name: r\n    deny:\n      secrets: false\n",
     "t.yaml:4:7: deny has no condition that can match (severity, max_cvss, secrets, root, max_age_days, "
     "stale_base_days, vulnerabilities or packages)"},
    {"fixable_only alone", "rules:\n  - name: r\n    deny: {fixable_only: true, root: true}\n",
     "t.yaml:3:11: deny: fixable_only and unknown_severity need severity or max_cvss"},
    {"YAML syntax error (unclosed flow)", "rules:\n  - name: r\n    deny: {root: true\n",
     "t.yaml:4:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at "
     "line 3, column 11)"},
    {"YAML syntax error (bad indentation)", "mode: enforce\n  head: auto\n",
     "t.yaml:2:7: YAML syntax error: mapping values are not allowed in this context"},
    {"alias", "rules:\n  - name: &n r\n    deny: {root: true}\n  - name: *n\n    deny: {root: true}\n",
     "t.yaml:4:11: YAML aliases (*name) are not allowed in a policy"},
    {"not a mapping", "- a\n- b\n", "t.yaml:1:1: the policy must be a mapping (mode, rules, ...), not a list"},
    {"empty file", "", "t.yaml:1:1: the policy is empty (expected a mapping with mode, rules, ...)"},
    {"two documents", "mode: enforce\n---\nmode: audit\n", "t.yaml:2:1: a policy file holds one YAML document"},
    {"bad package spec", "rules:\n  - name: r\n    deny: {packages: [\"log4j@\"]}\n",
     "t.yaml:3:23: bad package 'log4j@' (expected name, name@version or ecosystem/name)"},
    {"empty repositories", "rules:\n  - name: r\n    repositories: []\n    deny: {root: true}\n",
     "t.yaml:3:19: repositories is empty: the rule would never apply"},
};

static int has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (len == n && !memcmp(p, line, n)) return 1;
    p = nl ? nl + 1 : NULL;
  }
  return 0;
}

static void test_parse_errors(void) {
  for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
    sc_policy *p = (sc_policy *)1;
    char *err = NULL;
    int rc = sc_policy_load_mem("t.yaml", err_cases[i].yaml, strlen(err_cases[i].yaml), &p, &err);
    CHECK_INT(rc, SC_ERR_FORMAT, "%s: rejected", err_cases[i].what);
    CHECK(p == NULL, "%s: no policy returned", err_cases[i].what);
    CHECK(err && has_line(err, err_cases[i].want), "%s: error line", err_cases[i].what);
    if (!err || !has_line(err, err_cases[i].want))
      printf("#   want: %s\n#   got:  %s", err_cases[i].want, err ? err : "(null)\n");
    free(err);
  }

  // All errors are collected, not just the first, in file order.
  const char *multi = "mode: loud\n"
                      "rules:\n"
                      "  - name: a\n"
                      "    deny: {severity: hgih}\n"
                      "    colour: red\n"
                      "exceptions:\n"
                      "  - vulnerability: CVE-1\n"
                      "    expires: 2027-13-01\n";
  char *err = NULL;
  sc_policy *p = NULL;
  CHECK_INT(sc_policy_load_mem("m.yaml", multi, strlen(multi), &p, &err), SC_ERR_FORMAT, "multi: rejected");
  int lines = 0;
  for (const char *q = err; q && *q; q++) lines += *q == '\n';
  CHECK_INT(lines, 5, "multi: five errors reported");
  CHECK(err && strstr(err, "m.yaml:1:7:") && strstr(err, "m.yaml:4:22:") && strstr(err, "m.yaml:5:5:") &&
            strstr(err, "m.yaml:8:14:") && strstr(err, "m.yaml:7:5: exception #1 has no reason"),
        "multi: every error has its position");
  CHECK(err && strstr(err, "m.yaml:1:7:") < strstr(err, "m.yaml:8:14:"), "multi: in file order");
  free(err);

  // Too many errors: capped, with a final summary line.
  char big[8192];
  size_t o = (size_t)snprintf(big, sizeof(big), "rules:\n");
  for (int i = 0; i < SC_POLICY_MAX_ERRORS + 20; i++)
    o += (size_t)snprintf(big + o, sizeof(big) - o, "  - {name: r%d, deny: {bad: 1}}\n", i);
  err = NULL;
  CHECK_INT(sc_policy_load_mem("big.yaml", big, o, &p, &err), SC_ERR_FORMAT, "many errors: rejected");
  lines = 0;
  for (const char *q = err; q && *q; q++) lines += *q == '\n';
  CHECK_INT(lines, SC_POLICY_MAX_ERRORS + 1, "many errors: capped");
  CHECK(err && strstr(err, "big.yaml: too many errors"), "many errors: summary line");
  free(err);

  // File errors.
  err = NULL;
  CHECK_INT(sc_policy_load("/nonexistent/policy.yaml", &p, &err), SC_ERR_IO, "missing file: SC_ERR_IO");
  CHECK(err && strstr(err, "/nonexistent/policy.yaml: cannot read:"), "missing file: message");
  free(err);
  err = NULL;
  CHECK_INT(sc_policy_load("/tmp", &p, &err), SC_ERR_IO, "directory: SC_ERR_IO");
  free(err);

  // Hostile input: deep nesting, huge scalars, binary garbage never crash.
  char deep[400];
  memset(deep, '[', sizeof(deep) - 1);
  deep[sizeof(deep) - 1] = '\0';
  err = NULL;
  CHECK_INT(sc_policy_load_mem("d.yaml", deep, strlen(deep), &p, &err), SC_ERR_FORMAT, "deep nesting rejected");
  CHECK(err && strstr(err, "nesting deeper"), "deep nesting: message");
  free(err);
  char *huge = malloc(SC_POLICY_MAX_STRING + 64);
  o = (size_t)snprintf(huge, 32, "rules:\n  - name: ");
  memset(huge + o, 'x', SC_POLICY_MAX_STRING + 1);
  o += SC_POLICY_MAX_STRING + 1;
  huge[o++] = '\n';
  err = NULL;
  CHECK_INT(sc_policy_load_mem("h.yaml", huge, o, &p, &err), SC_ERR_FORMAT, "huge scalar rejected");
  CHECK(err && strstr(err, "h.yaml:2:11: value longer than"), "huge scalar: position");
  free(err);
  free(huge);
  const char garbage[] = "\xff\xfe\x00\x01:\x80[{";
  err = NULL;
  CHECK_INT(sc_policy_load_mem("g.yaml", garbage, sizeof(garbage) - 1, &p, &err), SC_ERR_FORMAT, "binary rejected");
  free(err);
  CHECK_INT(sc_policy_load_mem("x", "mode: audit", SC_POLICY_MAX_BYTES + 1, &p, NULL), SC_ERR_LIMIT,
            "oversized input: SC_ERR_LIMIT");
}

// ------------------------------------------------------------- valid files

static void test_shipped_policy(void) {
  sc_policy *p = NULL;
  char *err = NULL;
  int rc = sc_policy_load(SRCDIR "/conf/policy.yaml", &p, &err);
  CHECK_INT(rc, 0, "conf/policy.yaml loads");
  if (rc) printf("%s", err ? err : "");
  free(err);
  if (!p) return;
  CHECK_INT(sc_policy_mode_of(p), SC_MODE_ENFORCE, "shipped: enforce");
  CHECK_INT(sc_policy_unscanned(p), SC_UNSCANNED_SCAN, "shipped: unscanned scan");
  CHECK_INT(sc_policy_on_error(p), SC_ON_ERROR_DENY, "shipped: on_error deny");
  CHECK_INT(sc_policy_head(p), SC_HEAD_AUTO, "shipped: head auto");
  CHECK_INT(sc_policy_rule_count(p), 1, "shipped: one rule");

  // The shipped rule denies a critical finding and a secret anywhere.
  sc_finding crit = {.id = "CVE-2024-0001", .package = "openssl", .version = "3.0.1",
                     .fixed_version = "3.0.2", .severity = SC_SEV_CRITICAL, .score = 9.8};
  sc_secret sec = {.path = "root/.ssh/id_rsa", .rule = "private-key"};
  sc_image_facts f = {.repository = "any/where/deep", .findings = &crit, .nfindings = 1, .scanned = 1,
                      .runs_as_root = -1, .created = -1};
  sc_verdict v;
  CHECK_INT(sc_policy_evaluate(p, &f, NOW, &v), 0, "shipped: evaluate");
  CHECK_INT(v.decision, SC_DECISION_DENY, "shipped: critical denied");
  sc_verdict_free(&v);
  f.nfindings = 0;
  f.secrets = &sec;
  f.nsecrets = 1;
  sc_policy_evaluate(p, &f, NOW, &v);
  CHECK_INT(v.decision, SC_DECISION_DENY, "shipped: secret denied");
  CHECK(v.message && strstr(v.message, "private-key in /root/.ssh/id_rsa"), "shipped: secret named");
  sc_verdict_free(&v);
  f.nsecrets = 0;
  sc_policy_evaluate(p, &f, NOW, &v);
  CHECK_INT(v.decision, SC_DECISION_ALLOW, "shipped: clean image allowed");
  sc_verdict_free(&v);
  sc_policy_free(p);
}

static void test_accessors(void) {
  sc_policy *p = load("mode: audit\nunscanned: deny\non_error: allow\nhead: deny\n");
  CHECK(p != NULL, "settings-only policy loads");
  if (!p) return;
  CHECK_INT(sc_policy_mode_of(p), SC_MODE_AUDIT, "mode audit");
  CHECK_INT(sc_policy_unscanned(p), SC_UNSCANNED_DENY, "unscanned deny");
  CHECK_INT(sc_policy_on_error(p), SC_ON_ERROR_ALLOW, "on_error allow");
  CHECK_INT(sc_policy_head(p), SC_HEAD_DENY, "head deny");
  CHECK_INT(sc_policy_rule_count(p), 0, "no rules");
  sc_policy_free(p);
  p = load("rules:\nexceptions:\n");
  CHECK(p != NULL, "empty rules/exceptions lists are allowed");
  if (p) CHECK_INT(sc_policy_mode_of(p), SC_MODE_ENFORCE, "default mode enforce");
  sc_policy_free(p);
}

// -------------------------------------------------------------- evaluation

static const char *const a_glibc[] = {"CVE-2023-4911", "DSA-5514-1"};
static const char *const a_ghsa[] = {"GHSA-aaaa-bbbb-cccc"};

// A fixed set of findings every evaluation case starts from (each case
// chooses which to include with a bit mask).
static const sc_finding F[] = {
    /* 0 */ {.id = "DEBIAN-CVE-2023-4911", .aliases = a_glibc, .naliases = 2, .ecosystem = "Debian:12",
             .package = "glibc", .version = "2.36-9", .fixed_version = "2.36-9+deb12u3",
             .severity = SC_SEV_HIGH, .score = 7.8},
    /* 1 */ {.id = "CVE-2024-0002", .package = "zlib", .version = "1.2.13", .fixed_version = "",
             .severity = SC_SEV_CRITICAL, .score = 9.8},
    /* 2 */ {.id = "CVE-2024-0003", .package = "curl", .version = "7.88", .fixed_version = "7.88.1-10",
             .severity = SC_SEV_MEDIUM, .score = 5.3},
    /* 3 */ {.id = "PYSEC-2024-1", .aliases = a_ghsa, .naliases = 1, .ecosystem = "PyPI",
             .package = "requests", .version = "2.0", .fixed_version = "2.32", .severity = SC_SEV_UNKNOWN,
             .score = -1},
    /* 4 */ {.id = "CVE-2024-0005", .package = "openssl", .version = "3.0.1", .fixed_version = "3.0.2",
             .severity = SC_SEV_LOW, .score = 3.1},
};

static const sc_package PKGS[] = {
    {.type = "java", .ecosystem = "Maven", .name = "log4j", .version = "1.2.17", .path = "app/lib/log4j.jar"},
    {.type = "deb", .ecosystem = "Debian:12", .name = "netcat-openbsd", .version = "1.219-1", .path = "var/lib/dpkg/status"},
    {.type = "python", .ecosystem = "PyPI", .name = "requests", .version = "2.0", .path = "usr/lib/python3/requests"},
};

static const sc_secret SECRETS[] = {{.path = "etc/key.pem", .rule = "private-key", .line = 1}};

typedef struct eval_case {
  const char *what;
  const char *yaml;
  const char *repo;
  unsigned findings; // bit i = F[i]
  int pkgs, secrets, root;
  int64_t created;
  int scanned, failed;
  sc_decision want;
  const char *want_rule;             // NULL: no rule
  const char *msg_has[3];            // substrings of the message
  const char *msg_not;               // must not appear in the message
  const char *json_has;              // substring of reasons_json
} eval_case;

#define ONE_RULE(cond) "rules:\n  - name: r1\n    repositories: [\"**\"]\n    deny: " cond "\n"

static const eval_case eval_cases[] = {
    // severity threshold
    {"critical threshold denies critical", ONE_RULE("{severity: critical}"), "app", 1u << 1, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"r1", "CVE-2024-0002 (zlib 1.2.13 -> no fix)", "1 critical"}, NULL,
     "\"kind\":\"severity\""},
    {"critical threshold ignores high", ONE_RULE("{severity: critical}"), "app", 1u << 0 | 1u << 2, 0, 0, 0, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"high threshold: at or above", ONE_RULE("{severity: high}"), "app", 0x1f, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"2 vulnerabilities (1 critical, 1 high)",
     "CVE-2024-0002 (zlib 1.2.13 -> no fix), DEBIAN-CVE-2023-4911 (glibc 2.36-9 -> 2.36-9+deb12u3)"}, "CVE-2024-0003", NULL},
    // fixable_only
    {"fixable_only skips unfixed", ONE_RULE("{severity: high, fixable_only: true}"), "app", 1u << 1, 0, 0, 0, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"fixable_only counts fixed", ONE_RULE("{severity: high, fixable_only: true}"), "app", 1u << 0 | 1u << 1, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"1 vulnerability (1 high)", "glibc 2.36-9 -> 2.36-9+deb12u3"}, "zlib", NULL},
    // unknown_severity
    {"unknown severity ranks low by default", ONE_RULE("{severity: medium}"), "app", 1u << 3, 0, 0, 0, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"unknown_severity: high makes it count", ONE_RULE("{severity: medium, unknown_severity: high}"), "app", 1u << 3, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"1 unknown", "PYSEC-2024-1 (requests 2.0 -> 2.32)"}, NULL, "\"severity\":\"unknown\""},
    {"unknown_severity: low counts for severity low", ONE_RULE("{severity: low}"), "app", 1u << 3, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"PYSEC-2024-1"}, NULL, NULL},
    // max_cvss
    {"max_cvss: above blocks", ONE_RULE("{max_cvss: 7.5}"), "app", 1u << 0 | 1u << 2 | 1u << 3, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"1 vulnerability", "DEBIAN-CVE-2023-4911"}, "CVE-2024-0003", "\"kind\":\"cvss\""},
    {"max_cvss: equal does not block", ONE_RULE("{max_cvss: 7.8}"), "app", 1u << 0, 0, 0, 0, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    // secrets, root, age
    {"secrets", ONE_RULE("{secrets: true}"), "app", 0, 0, 1, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"1 secret (private-key in /etc/key.pem)"}, NULL, "\"path\":\"etc/key.pem\""},
    {"secrets: none found", ONE_RULE("{secrets: true}"), "app", 0x1f, 0, 0, 1, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"root", ONE_RULE("{root: true}"), "app", 0, 0, 0, 1, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"runs as root"}, NULL, "\"kind\":\"root\""},
    {"root unknown never blocks", ONE_RULE("{root: true}"), "app", 0, 0, 0, -1, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"max_age_days: old image", ONE_RULE("{max_age_days: 90}"), "app", 0, 0, 0, 0, NOW - 100 * DAY, 1, 0,
     SC_DECISION_DENY, "r1", {"100 days old (max 90)"}, NULL, "\"age_days\":100"},
    {"max_age_days: young image", ONE_RULE("{max_age_days: 90}"), "app", 0, 0, 0, 0, NOW - 89 * DAY, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"max_age_days: epoch 0 is unknown", ONE_RULE("{max_age_days: 90}"), "app", 0, 0, 0, 0, 0, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    // ids via alias, packages
    {"vulnerabilities by alias", ONE_RULE("{vulnerabilities: [cve-2023-4911]}"), "app", 0x1f, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"DEBIAN-CVE-2023-4911"}, "CVE-2024-0002", "\"listed\":\"cve-2023-4911\""},
    {"vulnerabilities by GHSA alias", ONE_RULE("{vulnerabilities: [GHSA-aaaa-bbbb-cccc]}"), "app", 0x1f, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"PYSEC-2024-1"}, NULL, NULL},
    {"packages by name (inventory)", ONE_RULE("{packages: [log4j]}"), "app", 0, 1, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"listed package log4j 1.2.17"}, NULL, "\"path\":\"app/lib/log4j.jar\""},
    {"packages name@version mismatch", ONE_RULE("{packages: [\"log4j@2.17.1\"]}"), "app", 0, 1, 0, 0, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"packages ecosystem/name@version", ONE_RULE("{packages: [\"Debian/netcat-openbsd@1.219-1\"]}"), "app", 0, 1, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"netcat-openbsd 1.219-1"}, "log4j", NULL},
    {"packages wrong ecosystem", ONE_RULE("{packages: [\"npm/requests\"]}"), "app", 0, 1, 0, 0, -1, 1, 0,
     SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"packages by cataloger type", ONE_RULE("{packages: [\"python/requests\"]}"), "app", 0, 1, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"requests 2.0"}, NULL, NULL},
    {"packages from findings without inventory", ONE_RULE("{packages: [zlib]}"), "app", 0x1f, 0, 0, 0, -1, 1, 0,
     SC_DECISION_DENY, "r1", {"listed package zlib 1.2.13"}, NULL, NULL},
    // repositories
    {"rule does not apply to other repositories",
     "rules:\n  - name: lib\n    repositories: [\"library/*\"]\n    deny: {severity: low}\n", "library/a/b", 0x1f,
     0, 0, 0, -1, 1, 0, SC_DECISION_ALLOW, NULL, {"allowed: no policy rule applies to library/a/b"}, NULL, NULL},
    {"rule applies with team/**/api",
     "rules:\n  - name: api\n    repositories: [\"team/**/api\"]\n    deny: {severity: low}\n", "team/x/y/api", 1u << 4,
     0, 0, 0, -1, 1, 0, SC_DECISION_DENY, "api", {"api", "CVE-2024-0005 (openssl 3.0.1 -> 3.0.2)"}, NULL, NULL},
    // exceptions
    {"exception by alias",
     ONE_RULE("{severity: high}") "exceptions:\n  - vulnerability: CVE-2023-4911\n    expires: 2026-06-30\n    reason: no setuid\n",
     "app", 1u << 0, 0, 0, 0, -1, 1, 0, SC_DECISION_ALLOW, NULL, {"1 exception applied"}, NULL,
     "{\"kind\":\"exception\",\"vulnerability\":\"CVE-2023-4911\",\"reason\":\"no setuid\",\"expires\":\"2026-06-30\"}"},
    {"exception leaves other findings",
     ONE_RULE("{severity: high}") "exceptions:\n  - vulnerability: DSA-5514-1\n    reason: ok\n",
     "app", 1u << 0 | 1u << 1, 0, 0, 0, -1, 1, 0, SC_DECISION_DENY, "r1", {"CVE-2024-0002"}, "glibc", "\"kind\":\"exception\""},
    {"exception for another package does not apply",
     ONE_RULE("{severity: high}") "exceptions:\n  - vulnerability: CVE-2023-4911\n    package: eglibc\n    reason: ok\n",
     "app", 1u << 0, 0, 0, 0, -1, 1, 0, SC_DECISION_DENY, "r1", {"glibc"}, NULL, NULL},
    {"exception by ecosystem/package",
     ONE_RULE("{severity: high}") "exceptions:\n  - vulnerability: CVE-2023-4911\n    package: Debian/glibc@2.36-9\n    reason: ok\n",
     "app", 1u << 0, 0, 0, 0, -1, 1, 0, SC_DECISION_ALLOW, NULL, {"1 exception applied"}, NULL, NULL},
    {"exception glob matches",
     ONE_RULE("{severity: high}") "exceptions:\n  - vulnerability: CVE-2024-0002\n    repositories: [\"legacy/**\"]\n    reason: ok\n",
     "legacy/old/app", 1u << 1, 0, 0, 0, -1, 1, 0, SC_DECISION_ALLOW, NULL, {"allowed"}, NULL, NULL},
    {"exception glob does not match",
     ONE_RULE("{severity: high}") "exceptions:\n  - vulnerability: CVE-2024-0002\n    repositories: [\"legacy/**\"]\n    reason: ok\n",
     "current/app", 1u << 1, 0, 0, 0, -1, 1, 0, SC_DECISION_DENY, "r1", {"CVE-2024-0002"}, NULL, NULL},
    {"expired exception no longer applies",
     ONE_RULE("{severity: high}") "exceptions:\n  - vulnerability: CVE-2024-0002\n    expires: 2025-12-31\n    reason: ok\n",
     "app", 1u << 1, 0, 0, 0, -1, 1, 0, SC_DECISION_DENY, "r1",
     {"the exception for CVE-2024-0002 expired on 2025-12-31"}, NULL, NULL},
    {"exception does not hide secrets",
     "rules:\n  - name: r1\n    deny: {severity: high, secrets: true}\n"
     "exceptions:\n  - vulnerability: CVE-2024-0002\n    reason: ok\n",
     "app", 1u << 1, 0, 1, 0, -1, 1, 0, SC_DECISION_DENY, "r1", {"1 secret"}, "CVE-2024-0002", NULL},
    // audit mode, warn, several rules
    {"audit mode turns deny into warn", "mode: audit\n" ONE_RULE("{severity: critical}"), "app", 1u << 1, 0, 0, 0, -1, 1, 0,
     SC_DECISION_WARN, "r1", {"audit mode", "would be denied", "r1"}, NULL, "\"action\":\"deny\""},
    {"warn condition",
     "rules:\n  - name: w\n    warn: {severity: medium}\n", "app", 1u << 2, 0, 0, 0, -1, 1, 0,
     SC_DECISION_WARN, "w", {"warning from policy rule \"w\"", "CVE-2024-0003 (curl 7.88 -> 7.88.1-10)"}, NULL,
     "\"action\":\"warn\""},
    {"strictest rule wins, order does not matter",
     "rules:\n  - name: lenient\n    repositories: [\"team/**\"]\n    warn: {severity: low}\n"
     "  - name: strict\n    deny: {severity: critical}\n",
     "team/app", 0x1f, 0, 0, 0, -1, 1, 0, SC_DECISION_DENY, "strict",
     {"denied by policy rule \"strict\"", "1 critical"}, NULL, "\"rule\":\"lenient\""},
    {"two deny rules: first in file order is named",
     "rules:\n  - name: one\n    deny: {root: true}\n  - name: two\n    deny: {severity: low}\n",
     "app", 0x1f, 0, 0, 1, -1, 1, 0, SC_DECISION_DENY, "one", {"\"one\" and 1 other rule", "runs as root", "5 vulnerabilities"},
     NULL, NULL},
    {"top five only",
     ONE_RULE("{severity: low, unknown_severity: low}"), "app", 0x1f, 0, 0, 0, -1, 1, 0, SC_DECISION_DENY, "r1",
     {"5 vulnerabilities (1 critical, 1 high, 1 medium, 1 low, 1 unknown)",
      "To accept a vulnerability, add to the policy's exceptions: {vulnerability: CVE-2024-0002, "
      "repositories: [\"app\"], expires: 2026-01-31"}, " more", NULL},
    // unscanned / scan failure
    {"unscanned: scan -> deny when asked", ONE_RULE("{root: true}"), "app", 0, 0, 0, 0, -1, 0, 0,
     SC_DECISION_DENY, NULL, {"has not been scanned", "unscanned: scan"}, NULL, "\"kind\":\"unscanned\""},
    {"unscanned: allow", "unscanned: allow\n" ONE_RULE("{root: true}"), "app", 0, 0, 0, 1, -1, 0, 0,
     SC_DECISION_ALLOW, NULL, {"has not been scanned"}, NULL, "\"action\":\"allow\""},
    {"scan failed, on_error deny", ONE_RULE("{root: true}"), "app", 0, 0, 0, 0, -1, 1, 1,
     SC_DECISION_DENY, NULL, {"on_error: deny"}, NULL, "\"kind\":\"scan_error\""},
    {"scan failed, on_error allow", "on_error: allow\n" ONE_RULE("{root: true}"), "app", 0, 0, 0, 1, -1, 1, 1,
     SC_DECISION_DENY, "r1", {"runs as root", "partial data"}, NULL, NULL},
    {"audit mode unscanned", "mode: audit\nunscanned: deny\n", "app", 0, 0, 0, 0, -1, 0, 0,
     SC_DECISION_WARN, NULL, {"audit mode, not blocked", "unscanned: deny"}, NULL, NULL},
};

static void test_evaluate(void) {
  for (size_t i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
    const eval_case *c = &eval_cases[i];
    sc_finding fs[8];
    size_t n = 0;
    for (size_t k = 0; k < sizeof(F) / sizeof(F[0]); k++)
      if (c->findings & (1u << k)) fs[n++] = F[k];
    sc_image_facts f = {.repository = c->repo, .findings = fs, .nfindings = n,
                        .packages = c->pkgs ? PKGS : NULL, .npackages = c->pkgs ? 3 : 0,
                        .secrets = c->secrets ? SECRETS : NULL, .nsecrets = c->secrets ? 1 : 0,
                        .runs_as_root = c->root, .created = c->created, .scanned = c->scanned,
                        .scan_failed = c->failed};
    sc_policy *p = load(c->yaml);
    CHECK(p != NULL, "%s: policy loads", c->what);
    if (!p) continue;
    sc_verdict v;
    CHECK_INT(sc_policy_evaluate(p, &f, NOW, &v), 0, "%s: evaluate", c->what);
    CHECK_STR(sc_decision_name(v.decision), sc_decision_name(c->want), "%s: decision", c->what);
    CHECK_STR(v.rule, c->want_rule, "%s: rule", c->what);
    for (int k = 0; k < 3 && c->msg_has[k]; k++) {
      int ok = v.message && strstr(v.message, c->msg_has[k]);
      CHECK(ok, "%s: message has '%s'", c->what, c->msg_has[k]);
      if (!ok) printf("#   message: %s\n", v.message ? v.message : "(null)");
    }
    if (c->msg_not) CHECK(v.message && !strstr(v.message, c->msg_not), "%s: message lacks '%s'", c->what, c->msg_not);
    json_error_t je;
    json_t *j = v.reasons_json ? json_loads(v.reasons_json, 0, &je) : NULL;
    CHECK(j && json_is_array(j), "%s: reasons_json is a JSON array", c->what);
    json_decref(j);
    if (c->json_has) {
      int ok = v.reasons_json && strstr(v.reasons_json, c->json_has);
      CHECK(ok, "%s: reasons_json has %s", c->what, c->json_has);
      if (!ok) printf("#   json: %s\n", v.reasons_json ? v.reasons_json : "(null)");
    }
    sc_verdict_free(&v);
    sc_policy_free(p);
  }
}

// An expired exception stops applying the day after its date; a valid one
// applies; the evaluator uses the `now` it is given.
static void test_expiry(void) {
  sc_policy *p = load(ONE_RULE("{severity: critical}")
                      "exceptions:\n  - vulnerability: CVE-2024-0002\n    expires: 2026-03-01\n    reason: ok\n");
  CHECK(p != NULL, "expiry policy loads");
  if (!p) return;
  sc_image_facts f = {.repository = "app", .findings = &F[1], .nfindings = 1, .scanned = 1, .runs_as_root = -1};
  static const struct {
    int64_t now;
    sc_decision want;
  } t[] = {
      {NOW, SC_DECISION_ALLOW},                           // 2026-01-01
      {1772409599, SC_DECISION_ALLOW},                    // 2026-03-01T23:59:59Z
      {1772409600, SC_DECISION_DENY},                     // 2026-03-02T00:00:00Z
      {1772409600 + 400 * DAY, SC_DECISION_DENY},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_verdict v;
    sc_policy_evaluate(p, &f, t[i].now, &v);
    CHECK_STR(sc_decision_name(v.decision), sc_decision_name(t[i].want), "expiry at %lld", (long long)t[i].now);
    sc_verdict_free(&v);
  }

  char *w = NULL;
  CHECK_INT(sc_policy_check_expiring(p, NOW, 30, &w), 0, "check_expiring: 59 days left, window 30");
  free(w);
  w = NULL;
  CHECK_INT(sc_policy_check_expiring(p, NOW, 60, &w), 1, "check_expiring: window 60");
  CHECK(w && strstr(w, "t.yaml:7:14: exception for CVE-2024-0002 expires on 2026-03-01 (in 59 days)"),
        "check_expiring: message with position");
  free(w);
  w = NULL;
  CHECK_INT(sc_policy_check_expiring(p, 1772409600, 30, &w), 1, "check_expiring: expired");
  CHECK(w && strstr(w, "expired on 2026-03-01"), "check_expiring: expired message");
  free(w);
  w = NULL;
  CHECK_INT(sc_policy_check_expiring(p, 1772409599, 0, &w), 1, "check_expiring: last day, window 0");
  CHECK(w && strstr(w, "expires today (2026-03-01 is its last day)"), "check_expiring: last day message");
  free(w);
  sc_policy_free(p);
}

// Hostile finding data: control characters and invalid UTF-8 never reach
// the message or the JSON raw, and a flood of findings is capped.
static void test_hostile_facts(void) {
  sc_policy *p = load(ONE_RULE("{severity: low}"));
  if (!p) return;
  enum { N = 3000 };
  sc_finding *fs = calloc(N, sizeof(*fs));
  for (size_t i = 0; i < N; i++)
    fs[i] = (sc_finding){.id = "CVE-\x1b[31m\xff", .package = "p\nkg", .version = "1", .severity = SC_SEV_HIGH,
                         .score = -1};
  sc_image_facts f = {.repository = "app", .findings = fs, .nfindings = N, .scanned = 1};
  sc_verdict v;
  CHECK_INT(sc_policy_evaluate(p, &f, NOW, &v), 0, "hostile: evaluate");
  CHECK_INT(v.decision, SC_DECISION_DENY, "hostile: denied");
  CHECK(v.message && !strchr(v.message, '\x1b') && !strchr(v.message, '\n') && !strchr(v.message, '\xff'),
        "hostile: message is clean");
  CHECK(v.message && strlen(v.message) < SC_VERDICT_MAX_MESSAGE, "hostile: message capped");
  CHECK(v.message && strstr(v.message, "3000 vulnerabilities"), "hostile: all findings counted");
  json_t *j = v.reasons_json ? json_loads(v.reasons_json, 0, NULL) : NULL;
  CHECK(j && json_array_size(j) == SC_VERDICT_MAX_REASONS + 1, "hostile: reasons capped");
  json_t *last = json_array_get(j, json_array_size(j) - 1);
  CHECK(last && json_integer_value(json_object_get(last, "omitted")) == N - SC_VERDICT_MAX_REASONS,
        "hostile: omitted count");
  json_decref(j);
  sc_verdict_free(&v);
  free(fs);
  CHECK_INT(sc_policy_evaluate(NULL, &f, NOW, &v), SC_ERR_ARG, "NULL policy: SC_ERR_ARG");
  CHECK_INT(sc_policy_evaluate(p, NULL, NOW, &v), SC_ERR_ARG, "NULL facts: SC_ERR_ARG");
  sc_policy_free(p);
}

// stale_base_days: an image whose base was superseded N or more days ago.
#define BASE_OLD "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define BASE_NEW "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static sc_image_facts stale_facts(int stale, int64_t secs) {
  sc_image_facts f = {.repository = "team/app", .reference = "1", .scanned = 1, .runs_as_root = -1,
                      .created = -1, .stale_base = stale, .stale_base_secs = secs,
                      .stale_base_ref = "base:12", .stale_base_digest = BASE_OLD, .stale_base_now = BASE_NEW};
  return f;
}

// Decision of `yaml` for facts f (the verdict kept in *v when v is not NULL).
static sc_decision decide(const char *yaml, const sc_image_facts *f, sc_verdict *v) {
  sc_verdict tmp;
  sc_policy *p = load(yaml);
  if (!v) v = &tmp;
  memset(v, 0, sizeof(*v));
  if (!p) return (sc_decision)-1;
  int rc = sc_policy_evaluate(p, f, NOW, v);
  sc_policy_free(p);
  sc_decision d = rc ? (sc_decision)-1 : v->decision;
  if (v == &tmp) sc_verdict_free(v);
  return d;
}

static void test_stale_base(void) {
  sc_policy *p = load(ONE_RULE("{stale_base_days: 0}"));
  CHECK(p != NULL, "stale_base_days: 0 alone is a valid condition");
  CHECK_INT(sc_policy_uses_stale_base(p), 1, "uses_stale_base: deny");
  sc_policy_free(p);
  p = load("rules:\n  - name: w\n    warn: {stale_base_days: 30}\n  - name: d\n    deny: {root: true}\n");
  CHECK_INT(sc_policy_uses_stale_base(p), 1, "uses_stale_base: warn of the first rule");
  sc_policy_free(p);
  p = load(ONE_RULE("{severity: high, max_age_days: 3}"));
  CHECK_INT(sc_policy_uses_stale_base(p), 0, "uses_stale_base: not without the key");
  sc_policy_free(p);
  CHECK_INT(sc_policy_uses_stale_base(NULL), 0, "uses_stale_base: NULL");

  // The boundary: N or more whole days (0 = any superseded base).
  sc_image_facts f = stale_facts(1, 0);
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 0}"), &f, NULL), SC_DECISION_DENY,
            "0 days: superseded just now is denied");
  f = stale_facts(1, 3 * DAY - 1);
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 3}"), &f, NULL), SC_DECISION_ALLOW,
            "3 days: one second short is allowed");
  f = stale_facts(1, 3 * DAY);
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 3}"), &f, NULL), SC_DECISION_DENY, "3 days: exactly 3 days is denied");
  // Not stale (no known base, or a current one): never blocks, whatever the seconds say.
  f = stale_facts(0, 400 * DAY);
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 0}"), &f, NULL), SC_DECISION_ALLOW, "fact unset: allowed");
  sc_image_facts zero = {.repository = "team/app", .scanned = 1};
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 0}"), &zero, NULL), SC_DECISION_ALLOW,
            "a zeroed facts struct is not stale");

  // Time alone will change the verdict: changes_at says when (the gate's
  // cache must not keep an allow past it).
  sc_verdict cv;
  f = stale_facts(1, 3 * DAY - 100);
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 3}"), &f, &cv), SC_DECISION_ALLOW, "100 s short: allowed");
  CHECK(cv.changes_at == NOW + 100, "changes_at: when the base reaches 3 days (%lld)", (long long)cv.changes_at);
  sc_verdict_free(&cv);
  f = stale_facts(1, 3 * DAY);
  decide(ONE_RULE("{stale_base_days: 3}"), &f, &cv);
  CHECK(cv.changes_at == 0, "already denied: no change ahead");
  sc_verdict_free(&cv);
  sc_image_facts aged = {.repository = "team/app", .scanned = 1, .runs_as_root = -1, .created = NOW - 2 * DAY};
  CHECK_INT(decide(ONE_RULE("{max_age_days: 3}"), &aged, &cv), SC_DECISION_ALLOW, "2 days old, max 3: allowed");
  CHECK(cv.changes_at == NOW + DAY + 1, "changes_at: when it gets older than 3 days");
  sc_verdict_free(&cv);
  f = stale_facts(0, 0);
  decide(ONE_RULE("{stale_base_days: 3}"), &f, &cv);
  CHECK(cv.changes_at == 0, "no stale base: nothing changes with time");
  sc_verdict_free(&cv);

  // Deny: the message names the base, its digests and what to do; the reason carries them.
  sc_verdict v;
  f = stale_facts(1, 5 * DAY + 7);
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 2}"), &f, &v), SC_DECISION_DENY, "deny: decision");
  CHECK_STR(v.rule, "r1", "deny: rule");
  int has = v.message && strstr(v.message, "denied by policy rule \"r1\" for team/app:1: its base image base:12 ("
                                           BASE_OLD ") was superseded 5 days ago (stale_base_days: 2): rebuild the "
                                           "image on the new base:12 (" BASE_NEW ") and push it again");
  CHECK(has, "deny: message");
  if (!has) printf("#   message: %s\n", v.message ? v.message : "(null)");
  json_t *j = v.reasons_json ? json_loads(v.reasons_json, 0, NULL) : NULL;
  json_t *r = json_array_get(j, 0);
  CHECK_INT(json_array_size(j), 1, "deny: one reason");
  CHECK_STR(json_string_value(json_object_get(r, "kind")), "stale_base", "reason: kind");
  CHECK_STR(json_string_value(json_object_get(r, "action")), "deny", "reason: action");
  CHECK_STR(json_string_value(json_object_get(r, "rule")), "r1", "reason: rule");
  CHECK_STR(json_string_value(json_object_get(r, "base")), "base:12", "reason: base");
  CHECK_STR(json_string_value(json_object_get(r, "base_digest")), BASE_OLD, "reason: base_digest");
  CHECK_STR(json_string_value(json_object_get(r, "new_digest")), BASE_NEW, "reason: new_digest");
  CHECK_INT(json_integer_value(json_object_get(r, "superseded_days")), 5, "reason: superseded_days");
  CHECK_INT(json_integer_value(json_object_get(r, "stale_base_days")), 2, "reason: stale_base_days");
  json_decref(j);
  sc_verdict_free(&v);

  // Warn only: the pull passes with the warning.
  f = stale_facts(1, 1 * DAY);
  CHECK_INT(decide("rules:\n  - name: fresh\n    warn: {stale_base_days: 1}\n", &f, &v), SC_DECISION_WARN,
            "warn: decision");
  CHECK(v.message && strstr(v.message, "warning from policy rule \"fresh\"") &&
            strstr(v.message, "was superseded 1 day ago (stale_base_days: 1)"),
        "warn: message (singular day)");
  CHECK(v.reasons_json && strstr(v.reasons_json, "\"kind\":\"stale_base\",\"action\":\"warn\""), "warn: reason");
  sc_verdict_free(&v);
  // deny at 30, warn at 0: a base superseded 2 days ago warns.
  f = stale_facts(1, 2 * DAY);
  CHECK_INT(decide("rules:\n  - name: r\n    deny: {stale_base_days: 30}\n    warn: {stale_base_days: 0}\n", &f, NULL),
            SC_DECISION_WARN, "deny 30 / warn 0: 2 days warns");
  f = stale_facts(1, 31 * DAY);
  CHECK_INT(decide("rules:\n  - name: r\n    deny: {stale_base_days: 30}\n    warn: {stale_base_days: 0}\n", &f, NULL),
            SC_DECISION_DENY, "deny 30 / warn 0: 31 days denies");

  // Other facts still count; an exception never hides a stale base; audit mode only warns.
  f = stale_facts(1, 0);
  f.findings = &F[1];
  f.nfindings = 1;
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 0}") "exceptions:\n  - vulnerability: CVE-2024-0002\n    reason: ok\n",
                   &f, &v), SC_DECISION_DENY, "an exception does not hide a stale base");
  CHECK(v.message && !strstr(v.message, "CVE-2024-0002") && strstr(v.message, "base:12"),
        "only the base is named (the finding is not what the rule denies)");
  sc_verdict_free(&v);
  CHECK_INT(decide("rules:\n  - name: r\n    deny: {severity: critical, stale_base_days: 0}\n", &f, &v),
            SC_DECISION_DENY, "severity and stale base together");
  CHECK(v.message && strstr(v.message, "1 vulnerability (1 critical)") && strstr(v.message, "; its base image base:12"),
        "both named in the message");
  sc_verdict_free(&v);
  CHECK_INT(decide("mode: audit\n" ONE_RULE("{stale_base_days: 0}"), &f, &v), SC_DECISION_WARN, "audit: warn");
  CHECK(v.message && strstr(v.message, "would be denied") && strstr(v.message, "base:12"), "audit: message");
  sc_verdict_free(&v);
  // Rules scoped to other repositories do not apply.
  CHECK_INT(decide("rules:\n  - name: r\n    repositories: [\"other/**\"]\n    deny: {stale_base_days: 0}\n", &f, NULL),
            SC_DECISION_ALLOW, "rule for other repositories: allowed");

  // A base known only by digest (never tagged): named by its digest.
  f = stale_facts(1, 0);
  f.stale_base_ref = NULL;
  f.stale_base_now = NULL;
  CHECK_INT(decide(ONE_RULE("{stale_base_days: 0}"), &f, &v), SC_DECISION_DENY, "untagged base: denied");
  CHECK(v.message && strstr(v.message, "its base image " BASE_OLD " was superseded 0 days ago") &&
            strstr(v.message, "rebuild the image on the new base and push it again"),
        "untagged base: message");
  CHECK(v.reasons_json && strstr(v.reasons_json, "\"base\":null"), "untagged base: base is null in the reason");
  sc_verdict_free(&v);
}

int main(void) {
  test_parse_errors();
  test_shipped_policy();
  test_accessors();
  test_evaluate();
  test_expiry();
  test_hostile_facts();
  test_stale_base();
  return tap_done();
}
