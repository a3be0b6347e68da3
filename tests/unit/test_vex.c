// test_vex.c - OpenVEX: package URLs, document validation, and the policy
// suppressing findings before its rules (image digest, package purl,
// subcomponents, aliases, status, expiry, repository scope, load errors).
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../scanner/sc_policy.h"
#include "../../scanner/sc_vex.h"
#include "tap.h"

#define NOW ((int64_t)1767225600) // 2026-01-01T00:00:00Z
#define DIG "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define OTHER "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define HEAD "{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"@id\": \"https://example.test/vex-1\", " \
             "\"author\": \"t\", \"timestamp\": \"2026-01-01T00:00:00Z\", \"version\": 1, \"statements\": ["

static char dir[256];

static void put(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *fp = fopen(path, "w");
  if (!fp) abort();
  fputs(text, fp);
  fclose(fp);
}

// The policy file (in dir) denying critical findings, with `vex`.
static int load_policy(const char *vex_yaml, sc_policy **p, char **err) {
  char yaml[2048], path[512];
  snprintf(yaml, sizeof(yaml),
           "rules:\n  - name: no-critical\n    deny: {severity: critical, vulnerabilities: [CVE-2099-0001]}\n%s",
           vex_yaml);
  put("policy.yaml", yaml);
  snprintf(path, sizeof(path), "%s/policy.yaml", dir);
  return sc_policy_load(path, p, err);
}

static const char *const aliases[] = {"GHSA-aaaa-bbbb-cccc"};
static const sc_finding crit = {.id = "CVE-2099-0001", .aliases = aliases, .naliases = 1,
                                .ecosystem = "Debian:12", .package = "openssl", .version = "3.0.11-1~deb12u2",
                                .fixed_version = "", .severity = SC_SEV_CRITICAL, .score = 9.8};

// The decision for the image DIG in repo with one statement `stmt`;
// *msg/*reasons get the verdict's texts when not NULL.
static int judge_with(const char *stmt, const char *repo, char **msg, char **reasons) {
  char doc[4096];
  sc_policy *p = NULL;
  char *err = NULL;
  sc_verdict v;
  snprintf(doc, sizeof(doc), HEAD "%s]}", stmt);
  put("vex.json", doc);
  if (load_policy("vex: [vex.json]\n", &p, &err) != 0) {
    printf("# load failed: %s\n", err ? err : "?");
    free(err);
    return -1;
  }
  sc_image_facts f = {.repository = repo, .digest = DIG, .findings = &crit, .nfindings = 1, .scanned = 1,
                      .runs_as_root = -1};
  int d = sc_policy_evaluate(p, &f, NOW, &v) == 0 ? (int)v.decision : -1;
  if (msg) *msg = v.message ? strdup(v.message) : NULL;
  if (reasons) *reasons = v.reasons_json ? strdup(v.reasons_json) : NULL;
  sc_verdict_free(&v);
  sc_policy_free(p);
  return d;
}

static void test_purl(void) {
  sc_purl u;
  CHECK(sc_purl_parse("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", &u) == 0, "deb purl parses");
  CHECK_STR(u.type, "deb", "deb purl: type");
  CHECK_STR(u.ns, "debian", "deb purl: namespace");
  CHECK_STR(u.name, "openssl", "deb purl: name");
  CHECK_STR(u.version, "3.0.11-1~deb12u2", "deb purl: version without qualifiers");
  CHECK(sc_purl_matches_finding(&u, &crit), "deb purl matches the Debian:12 finding");
  sc_purl_free(&u);
  CHECK(sc_purl_parse("pkg:deb/debian/openssl@1%3A3.0.0", &u) == 0 && !strcmp(u.version, "1:3.0.0"),
        "percent-decoded version (epoch)");
  CHECK(!sc_purl_matches_finding(&u, &crit), "other version does not match");
  sc_purl_free(&u);
  CHECK(sc_purl_parse("pkg:deb/debian/openssl", &u) == 0 && !u.version, "version-less purl");
  CHECK(sc_purl_matches_finding(&u, &crit), "version-less purl matches any version");
  sc_purl_free(&u);
  CHECK(sc_purl_parse("pkg:deb/ubuntu/openssl", &u) == 0 && !sc_purl_matches_finding(&u, &crit),
        "ubuntu namespace does not match a Debian finding");
  sc_purl_free(&u);
  CHECK(sc_purl_parse("pkg:rpm/redhat/openssl", &u) == 0 && !sc_purl_matches_finding(&u, &crit),
        "rpm type does not match a Debian finding");
  sc_purl_free(&u);
  CHECK(sc_purl_parse("pkg:npm/%40types/node@20.1.0", &u) == 0 && !strcmp(u.ns, "@types") && !strcmp(u.name, "node"),
        "npm scope decoded");
  sc_finding npm = {.id = "X", .ecosystem = "npm", .package = "@types/node", .version = "20.1.0"};
  CHECK(sc_purl_matches_finding(&u, &npm), "scoped npm purl matches @types/node");
  sc_purl_free(&u);
  sc_finding py = {.id = "X", .ecosystem = "PyPI", .package = "Foo_Bar", .version = "1.0"};
  CHECK(sc_purl_parse("pkg:pypi/foo-bar@1.0", &u) == 0 && sc_purl_matches_finding(&u, &py), "PyPI names normalised");
  sc_purl_free(&u);
  sc_finding mvn = {.id = "X", .ecosystem = "Maven", .package = "org.apache.logging.log4j:log4j-core", .version = "2.14.1"};
  CHECK(sc_purl_parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", &u) == 0 && sc_purl_matches_finding(&u, &mvn),
        "maven group:artifact");
  sc_purl_free(&u);
  sc_finding go = {.id = "X", .ecosystem = "Go", .package = "github.com/x/y", .version = "v1.2.3"};
  CHECK(sc_purl_parse("pkg:golang/github.com/x/y@v1.2.3", &u) == 0 && sc_purl_matches_finding(&u, &go), "golang module path");
  sc_purl_free(&u);
  CHECK(sc_purl_parse("openssl", &u) != 0, "not a purl");
  CHECK(sc_purl_parse("pkg:deb", &u) != 0, "purl without name");
  CHECK(sc_purl_parse("pkg:deb/debian/open%2", &u) != 0, "bad percent escape");
  CHECK(sc_purl_parse("pkg:deb/debian/a%00b", &u) != 0, "NUL escape refused");
}

static void parse_err(const char *what, const char *doc, const char *want) {
  char err[SC_VEX_ERR_BYTES];
  sc_vex_doc *d = NULL;
  int rc = sc_vex_parse("v.json", doc, strlen(doc), &d, err, sizeof(err));
  CHECK(rc == SC_ERR_FORMAT && !d && strstr(err, want), "%s: rejected with '%s'", what, want);
  if (!strstr(err, want)) printf("#   got '%s'\n", err);
  sc_vex_doc_free(d);
}

#define NA_PROD "\"products\": [{\"@id\": \"" DIG "\"}]"

static void test_parse(void) {
  parse_err("duplicate key", HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"fixed\", \"status\": \"fixed\", " NA_PROD "}]}",
            "duplicate");
  parse_err("bad JSON", "{\"@context\": ", "not valid JSON: line 1");
  parse_err("not OpenVEX", "{\"@context\": \"https://example.com\", \"statements\": []}", "not an OpenVEX document");
  parse_err("unknown status", HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"notaffected\", " NA_PROD "}]}",
            "statement #1: unknown status 'notaffected'");
  parse_err("unknown justification",
            HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"not_affected\", \"justification\": \"trust_me\", " NA_PROD "}]}",
            "unknown justification 'trust_me'");
  parse_err("not_affected without why", HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"not_affected\", " NA_PROD "}]}",
            "not_affected needs a justification or an impact_statement");
  parse_err("no products", HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"fixed\"}]}", "\"products\" must be a non-empty list");
  parse_err("no vulnerability", HEAD "{\"status\": \"fixed\", " NA_PROD "}]}", "has no \"vulnerability\"");
  parse_err("bad expires",
            HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"fixed\", \"expires\": \"2026-13-01\", " NA_PROD "}]}",
            "bad date '2026-13-01' for expires");
  parse_err("bad purl", HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"fixed\", \"products\": [{\"@id\": \"pkg:deb\"}]}]}",
            "bad package URL 'pkg:deb'");

  char err[SC_VEX_ERR_BYTES];
  sc_vex_doc *d = NULL;
  const char *ok = HEAD "{\"vulnerability\": {\"@id\": \"https://nvd/CVE-1\", \"name\": \"CVE-1\", \"aliases\": [\"GHSA-x\"]}, "
                        "\"status\": \"not_affected\", \"justification\": \"component_not_present\", "
                        "\"products\": [{\"@id\": \"pkg:oci/shop@sha256%3A1111111111111111111111111111111111111111111111111111111111111111?repository_url=r\", "
                        "\"subcomponents\": [{\"@id\": \"pkg:deb/debian/openssl\"}]}]}]}";
  CHECK(sc_vex_parse("v.json", ok, strlen(ok), &d, err, sizeof(err)) == 0 && d, "a valid document parses");
  if (!d) return;
  CHECK_INT(d->nstmts, 1, "one statement");
  CHECK_INT(d->stmts[0].nvulns, 3, "name, @id and aliases are the statement's ids");
  CHECK_STR(d->stmts[0].products[0].digest, DIG, "pkg:oci version is the image digest");
  CHECK_INT(d->stmts[0].products[0].nsubs, 1, "subcomponent kept");
  CHECK_STR(d->id, "https://example.test/vex-1", "document @id");
  sc_vex_doc_free(d);
}

#define NA(VULN, PROD) "{\"vulnerability\": {\"name\": \"" VULN "\"}, \"status\": \"not_affected\", " \
                       "\"justification\": \"vulnerable_code_not_present\", \"products\": [" PROD "]}"

static void test_suppress(void) {
  char *msg = NULL, *reasons = NULL;
  sc_policy *p = NULL;
  char *err = NULL;
  // the baseline: without VEX the critical finding is denied
  CHECK(load_policy("", &p, &err) == 0, "baseline policy loads");
  sc_image_facts f = {.repository = "shop", .digest = DIG, .findings = &crit, .nfindings = 1, .scanned = 1, .runs_as_root = -1};
  sc_verdict v;
  CHECK(sc_policy_evaluate(p, &f, NOW, &v) == 0 && v.decision == SC_DECISION_DENY, "without VEX: denied");
  sc_verdict_free(&v);
  sc_policy_free(p);
  free(err);

  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"" DIG "\"}"), "shop", &msg, &reasons), SC_DECISION_ALLOW,
            "not_affected on the image digest: allowed (deny rule and listed id do not see it)");
  CHECK(msg && strstr(msg, "1 finding suppressed by VEX: CVE-2099-0001 (vex.json, vulnerable_code_not_present)"),
        "message says suppressed by VEX (doc, justification)");
  if (msg) printf("#   message: %s\n", msg);
  json_t *r = reasons ? json_loads(reasons, 0, NULL) : NULL, *o = json_array_get(r, 0);
  CHECK_STR(json_string_value(json_object_get(o, "kind")), "vex", "reason kind vex");
  CHECK_STR(json_string_value(json_object_get(o, "justification")), "vulnerable_code_not_present", "reason: justification");
  CHECK_STR(json_string_value(json_object_get(o, "document")), "vex.json", "reason: document");
  CHECK_STR(json_string_value(json_object_get(o, "product")), DIG, "reason: product");
  json_decref(r);
  free(msg);
  free(reasons);

  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"pkg:oci/shop@" DIG "\"}"), "shop", NULL, NULL), SC_DECISION_ALLOW,
            "pkg:oci product with the digest: allowed");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"pkg:oci/shop\"}"), "shop", NULL, NULL), SC_DECISION_DENY,
            "version-less pkg:oci names no image: denied");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"" OTHER "\"}"), "shop", NULL, NULL), SC_DECISION_DENY,
            "statement for another digest: denied");
  CHECK_INT(judge_with(NA("CVE-2099-0002", "{\"@id\": \"" DIG "\"}"), "shop", NULL, NULL), SC_DECISION_DENY,
            "statement for another vulnerability: denied");
  CHECK_INT(judge_with(NA("ghsa-aaaa-bbbb-cccc", "{\"@id\": \"" DIG "\"}"), "shop", NULL, NULL), SC_DECISION_ALLOW,
            "statement naming the finding's alias: allowed");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"pkg:deb/debian/openssl@3.0.11-1~deb12u2\"}"), "shop", NULL, NULL),
            SC_DECISION_ALLOW, "package purl with the installed version: allowed");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"pkg:deb/debian/openssl@3.0.9\"}"), "shop", NULL, NULL),
            SC_DECISION_DENY, "package purl with another version: denied");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"x\", \"identifiers\": {\"purl\": \"pkg:deb/debian/openssl\"}}"), "shop",
                       NULL, NULL),
            SC_DECISION_ALLOW, "identifiers.purl: allowed");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"" DIG "\", \"subcomponents\": [{\"@id\": \"pkg:deb/debian/openssl\"}]}"),
                       "shop", NULL, NULL),
            SC_DECISION_ALLOW, "subcomponent of the image naming the package: allowed");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"" DIG "\", \"subcomponents\": [{\"@id\": \"pkg:deb/debian/zlib\"}]}"),
                       "shop", NULL, NULL),
            SC_DECISION_DENY, "subcomponent naming another package: denied");
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"" OTHER "\", \"subcomponents\": [{\"@id\": \"pkg:deb/debian/openssl\"}]}"),
                       "shop", NULL, NULL),
            SC_DECISION_DENY, "subcomponent of another image: denied");
  CHECK_INT(judge_with("{\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, \"status\": \"affected\", \"action_statement\": \"upgrade\", "
                       "\"products\": [{\"@id\": \"" DIG "\"}]}", "shop", NULL, NULL),
            SC_DECISION_DENY, "affected: denied");
  CHECK_INT(judge_with("{\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, \"status\": \"under_investigation\", "
                       "\"products\": [{\"@id\": \"" DIG "\"}]}", "shop", NULL, NULL),
            SC_DECISION_DENY, "under_investigation: denied");
  CHECK_INT(judge_with("{\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, \"status\": \"fixed\", "
                       "\"products\": [{\"@id\": \"" DIG "\"}]}", "shop", &msg, NULL),
            SC_DECISION_ALLOW, "fixed: allowed");
  CHECK(msg && strstr(msg, "(vex.json, fixed)"), "fixed without justification says fixed");
  free(msg);
  CHECK_INT(judge_with(NA("CVE-2099-0001", "{\"@id\": \"" DIG "\"}") ", {\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, "
                       "\"status\": \"affected\", \"products\": [{\"@id\": \"" DIG "\"}]}", "shop", NULL, NULL),
            SC_DECISION_DENY, "a later affected statement overrides not_affected");
  CHECK_INT(judge_with("{\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, \"status\": \"not_affected\", "
                       "\"justification\": \"component_not_present\", \"expires\": \"2025-12-31\", "
                       "\"products\": [{\"@id\": \"" DIG "\"}]}", "shop", &msg, NULL),
            SC_DECISION_DENY, "expired statement: denied");
  CHECK(msg && strstr(msg, "the VEX statement for CVE-2099-0001 in vex.json expired on 2025-12-31"), "message names the expired statement");
  free(msg);
  CHECK_INT(judge_with("{\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, \"status\": \"not_affected\", "
                       "\"justification\": \"component_not_present\", \"expires\": \"2026-01-01\", "
                       "\"products\": [{\"@id\": \"" DIG "\"}]}", "shop", NULL, NULL),
            SC_DECISION_ALLOW, "statement on its last day: allowed");
}

static void test_scope_and_errors(void) {
  sc_policy *p = NULL;
  char *err = NULL;
  sc_verdict v;
  put("vex.json", HEAD NA("CVE-2099-0001", "{\"@id\": \"" DIG "\"}") "]}");
  CHECK(load_policy("vex:\n  - file: vex.json\n    repositories: [\"team/*\"]\n", &p, &err) == 0, "scoped vex loads");
  CHECK_INT(sc_policy_vex_count(p), 1, "one VEX document");
  sc_image_facts f = {.repository = "team/app", .digest = DIG, .findings = &crit, .nfindings = 1, .scanned = 1, .runs_as_root = -1};
  CHECK(sc_policy_evaluate(p, &f, NOW, &v) == 0 && v.decision == SC_DECISION_ALLOW, "in scope: allowed");
  sc_verdict_free(&v);
  f.repository = "other/app";
  CHECK(sc_policy_evaluate(p, &f, NOW, &v) == 0 && v.decision == SC_DECISION_DENY, "out of scope: denied");
  sc_verdict_free(&v);
  sc_policy_free(p);
  free(err);

  // the image-attached hook (referrers): applied with no scope
  char e2[SC_VEX_ERR_BYTES];
  const char *doc = HEAD NA("CVE-2099-0001", "{\"@id\": \"" DIG "\"}") "]}";
  sc_vex_doc *d = NULL;
  CHECK(sc_vex_parse("referrer", doc, strlen(doc), &d, e2, sizeof(e2)) == 0, "attached document parses");
  CHECK(load_policy("", &p, &err) == 0, "policy without vex loads");
  const sc_vex_doc *docs[] = {d};
  f.vex_docs = docs;
  f.nvex_docs = 1;
  CHECK(sc_policy_evaluate(p, &f, NOW, &v) == 0 && v.decision == SC_DECISION_ALLOW && strstr(v.message, "(referrer, "),
        "facts.vex_docs suppress too");
  sc_verdict_free(&v);
  sc_policy_free(p);
  sc_vex_doc_free(d);
  free(err);

  // a purl naming the source package of the binary the finding is on
  put("vex.json", HEAD NA("CVE-2099-0001", "{\"@id\": \"pkg:deb/debian/openssl@3.0.11-1~deb12u2\"}") "]}");
  CHECK(load_policy("vex: [vex.json]\n", &p, &err) == 0, "source purl vex loads");
  sc_finding bin = crit;
  bin.package = "libssl3";
  sc_package pk = {.type = "deb", .ecosystem = "Debian:12", .name = "libssl3", .version = "3.0.11-1~deb12u2",
                   .source_name = "openssl"};
  sc_image_facts fb = {.repository = "shop", .digest = DIG, .findings = &bin, .nfindings = 1, .packages = &pk,
                       .npackages = 1, .scanned = 1, .runs_as_root = -1};
  CHECK(sc_policy_evaluate(p, &fb, NOW, &v) == 0 && v.decision == SC_DECISION_ALLOW,
        "purl of the source package (openssl) covers the binary's finding (libssl3)");
  sc_verdict_free(&v);
  pk.source_name = "zlib";
  CHECK(sc_policy_evaluate(p, &fb, NOW, &v) == 0 && v.decision == SC_DECISION_DENY, "another source: denied");
  sc_verdict_free(&v);
  sc_policy_free(p);
  free(err);

  // expiring statements are reported by check
  put("vex.json", HEAD "{\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, \"status\": \"fixed\", \"expires\": \"2026-01-05\", "
                  "\"products\": [{\"@id\": \"" DIG "\"}]}]}");
  char *warn = NULL;
  CHECK(load_policy("vex: [vex.json]\n", &p, &err) == 0, "expiring vex loads");
  CHECK(sc_policy_check_expiring(p, NOW, 14, &warn) == 1 && warn && strstr(warn, "vex vex.json statement #1 (CVE-2099-0001) expires on 2026-01-05"),
        "policy check warns of an expiring VEX statement");
  if (warn) printf("#   %s", warn);
  free(warn);
  sc_policy_free(p);
  free(err);

  // load errors: with the file and the reason, and no policy
  err = NULL;
  CHECK(load_policy("vex: [missing.json]\n", &p, &err) == SC_ERR_FORMAT && !p, "missing VEX file fails the load");
  CHECK(err && strstr(err, "policy.yaml:4:7: vex file ") && strstr(err, "/missing.json: cannot read: No such file"),
        "error names the file and the reason");
  if (err) printf("#   %s", err);
  free(err);
  char sub[300];
  snprintf(sub, sizeof(sub), "%s/adir", dir);
  mkdir(sub, 0700);
  err = NULL;
  CHECK(load_policy("vex: [adir]\n", &p, &err) == SC_ERR_FORMAT && err && strstr(err, "/adir: cannot read: not a regular file"),
        "a directory is refused");
  free(err);
  put("bad.json", HEAD "{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"maybe\", " NA_PROD "}]}");
  err = NULL;
  CHECK(load_policy("vex:\n  - bad.json\n", &p, &err) == SC_ERR_FORMAT && !p, "invalid VEX fails the load");
  CHECK(err && strstr(err, "/bad.json: statement #1: unknown status 'maybe'"), "error gives the statement and reason");
  if (err) printf("#   %s", err);
  free(err);
  err = NULL;
  CHECK(load_policy("vex: {file: vex.json}\n", &p, &err) == SC_ERR_FORMAT && err && strstr(err, "vex must be a list"),
        "vex must be a list");
  free(err);
  err = NULL;
  CHECK(load_policy("vex:\n  - {file: vex.json, repos: [x]}\n", &p, &err) == SC_ERR_FORMAT && err && strstr(err, "unknown key 'repos'"),
        "unknown key in a vex entry");
  free(err);
}

int main(void) {
  snprintf(dir, sizeof(dir), "/tmp/test_vex.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_purl();
  test_parse();
  test_suppress();
  test_scope_and_errors();
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("# could not remove %s\n", dir);
  return tap_done();
}
