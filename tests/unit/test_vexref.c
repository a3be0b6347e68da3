/* test_vexref.c - VEX referrers: which manifests are VEX referrers and
 * which blob holds the document (px_vexref_pick, #included with its
 * module), the store rows and their generation (sc_store_vex.c, migration
 * 11, with the trigger that forgets a document with its referrer), the
 * policy key vex_referrers (parse, scope), and a verdict naming the
 * referrer a statement came from and the referrers that were not applied.
 * Ownership: everything is the test's.  Thread: one. */
#include "../../proxy/px_vexref.c"
#include "sc_policy.h"
#include "sc_store_referrers.h"
#include "tap.h"
#include <stdlib.h>
#include <string.h>

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define SUBJ D("a")
#define REF1 D("1")
#define REF2 D("2")
#define BLOB D("b")
#define CFG D("c")
#define VEXMT "application/vnd.openvex+json"
#define EMPTYMT "application/vnd.oci.empty.v1+json"
#define NOW ((int64_t)1767225600) /* 2026-01-01 */

/* An OCI manifest: artifactType at ("" none), config media type cmt,
 * layers "MT1|MT2" (digests BLOB, then REF2...), size of each, subject. */
static int manifest(sc_manifest *m, const char *at, const char *cmt, const char *layers, long size, int subject) {
  char buf[4096], ls[2048] = "";
  const char *digs[] = {BLOB, REF2, REF1};
  size_t n = 0;
  char copy[512];
  snprintf(copy, sizeof(copy), "%s", layers);
  for (char *save = NULL, *t = strtok_r(copy, "|", &save); t && n < 3; t = strtok_r(NULL, "|", &save), n++)
    snprintf(ls + strlen(ls), sizeof(ls) - strlen(ls), "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%ld}",
             n ? "," : "", t, digs[n], size);
  snprintf(buf, sizeof(buf),
           "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"%s%s%s,"
           "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":2},\"layers\":[%s]%s}",
           at[0] ? ",\"artifactType\":\"" : "", at, at[0] ? "\"" : "", cmt, CFG, ls,
           subject ? ",\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" SUBJ
                     "\",\"size\":100}"
                   : "");
  return sc_manifest_parse(buf, strlen(buf), NULL, m);
}

/* pick on a manifest built as above: the kind, the blob in *blob ("" none). */
static int pick(const char *at, const char *cmt, const char *layers, long size, int subject, char *blob, char *why) {
  sc_manifest m;
  const char *b = NULL;
  int64_t sz;
  int k = -1;
  blob[0] = why[0] = '\0';
  if (manifest(&m, at, cmt, layers, size, subject) == 0) {
    k = (int)px_vexref_pick(&m, &b, &sz, why, 256);
    snprintf(blob, 80, "%s", b ? b : "");
  }
  sc_manifest_free(&m);
  return k;
}

static void test_pick(void) {
  char blob[80], why[256];
  CHECK_INT(pick(VEXMT, EMPTYMT, "application/vnd.example.any", 500, 1, blob, why), PX_VEXREF_BLOB,
            "artifactType openvex, one layer of another type: a VEX referrer");
  CHECK_STR(blob, BLOB, "its only layer is the document");
  CHECK_INT(pick("", VEXMT, "application/json", 500, 1, blob, why), PX_VEXREF_BLOB,
            "no artifactType, config media type openvex: a VEX referrer");
  CHECK_INT(pick("application/vnd.example.sig", EMPTYMT, VEXMT, 500, 1, blob, why), PX_VEXREF_BLOB,
            "single layer typed openvex: a VEX referrer");
  CHECK_INT(pick(VEXMT, EMPTYMT, "application/vnd.example.sig|" VEXMT, 500, 1, blob, why), PX_VEXREF_BLOB,
            "two layers, one typed openvex: a VEX referrer");
  CHECK_STR(blob, REF2, "the layer typed openvex is the document");
  CHECK_INT(pick("Application/VND.OpenVEX+JSON; charset=utf-8", EMPTYMT, "x", 10, 1, blob, why), PX_VEXREF_BLOB,
            "media type compared without case and parameters");
  CHECK_INT(pick("application/vnd.openvex+jsonx", EMPTYMT, "x", 10, 1, blob, why), PX_VEXREF_NONE,
            "a longer media type is not openvex");
  CHECK_INT(pick(VEXMT, EMPTYMT, "application/vnd.example.any", 500, 0, blob, why), PX_VEXREF_NONE,
            "without a subject: not a referrer, nothing to do");
  CHECK_INT(pick("application/vnd.example.sig", EMPTYMT, "application/vnd.example.sig.v1", 500, 1, blob, why),
            PX_VEXREF_NONE, "a signature referrer: not VEX");
  CHECK_INT(pick("", "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip", 500, 1,
                 blob, why),
            PX_VEXREF_NONE, "an image with a subject: not VEX");
  CHECK_INT(pick(VEXMT, EMPTYMT, VEXMT "|" VEXMT, 500, 1, blob, why), PX_VEXREF_BAD, "two layers typed openvex: bad");
  CHECK(strstr(why, "ambiguous") != NULL, "saying it is ambiguous (%s)", why);
  CHECK_INT(pick(VEXMT, EMPTYMT, "a/b|c/d", 500, 1, blob, why), PX_VEXREF_BAD,
            "two untyped layers: bad (which one is the document?)");
  CHECK(strstr(why, "none of its 2 layers") != NULL, "saying none is typed (%s)", why);
  CHECK_INT(pick(VEXMT, EMPTYMT, VEXMT, SC_VEXREF_MAX_BYTES + 1L, 1, blob, why), PX_VEXREF_BAD,
            "a VEX blob over the limit: bad, not fetched");
  CHECK(strstr(why, "over the limit of 1048576") != NULL, "saying the limit (%s)", why);
  CHECK_INT(pick(VEXMT, EMPTYMT, VEXMT, SC_VEXREF_MAX_BYTES, 1, blob, why), PX_VEXREF_BLOB,
            "a VEX blob of exactly the limit: fetched");
  /* no layers at all: the config typed openvex is the document */
  const char *cfgonly = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        "\"config\":{\"mediaType\":\"" VEXMT "\",\"digest\":\"" CFG "\",\"size\":300},\"layers\":[],"
                        "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" SUBJ
                        "\",\"size\":100}}";
  sc_manifest m;
  const char *b = NULL;
  int64_t sz;
  CHECK_INT(sc_manifest_parse(cfgonly, strlen(cfgonly), NULL, &m), 0, "config-only artifact parsed");
  CHECK_INT(px_vexref_pick(&m, &b, &sz, why, sizeof(why)), PX_VEXREF_BLOB, "no layers, config typed openvex: VEX");
  CHECK_STR(b ? b : "", CFG, "the config blob is the document");
  sc_manifest_free(&m);
}

typedef struct seen {
  int n;
  char digest[4][80], what[4][200];
} seen;

static int collect(void *arg, const sc_vexref *r) {
  seen *s = arg;
  if (s->n < 4) {
    snprintf(s->digest[s->n], 80, "%s", r->digest);
    snprintf(s->what[s->n], 200, "%s", r->doc ? r->doc : r->error);
  }
  s->n++;
  return 0;
}

static void test_store(void) {
  sc_store *st = NULL;
  int64_t g0 = -1, g1 = -1, g2 = -1, g3 = -1;
  seen s;
  CHECK_INT(sc_store_open(":memory:", &st), 0, "open (migrations up to 11)");
  CHECK_INT(sc_store_vex_generation(st, &g0), 0, "generation readable");
  CHECK_INT(sc_store_vex_put(st, "team/app", SUBJ, REF1, BLOB, "{\"doc\":1}", NULL), 0, "put a document");
  CHECK_INT(sc_store_vex_generation(st, &g1), 0, "generation again");
  CHECK(g1 != g0, "a stored document changes the generation (%lld -> %lld)", (long long)g0, (long long)g1);
  CHECK_INT(sc_store_vex_put(st, "team/app", SUBJ, REF2, NULL, NULL, "not valid JSON"), 0, "put an error row");
  CHECK_INT(sc_store_vex_put(st, "team/app", SUBJ, REF2, NULL, "{}", "both"), SC_ERR_ARG, "doc and error: refused");
  CHECK_INT(sc_store_vex_put(st, "team/app", SUBJ, REF2, NULL, NULL, NULL), SC_ERR_ARG, "neither: refused");
  CHECK_INT(sc_store_vex_put(st, "team/app", "latest", REF2, NULL, "{}", NULL), SC_ERR_ARG, "bad subject: refused");
  CHECK_INT(sc_store_vex_put(st, "other/app", SUBJ, REF1, BLOB, "{\"doc\":\"other\"}", NULL), 0,
            "the same referrer in another repository");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_vex_each(st, "team/app", SUBJ, collect, &s), 0, "each");
  CHECK_INT(s.n, 2, "two rows for the subject in team/app (not other/app's)");
  CHECK(!strcmp(s.digest[0], REF1) && !strcmp(s.what[0], "{\"doc\":1}"), "the document (%s)", s.what[0]);
  CHECK(!strcmp(s.digest[1], REF2) && !strcmp(s.what[1], "not valid JSON"), "the error row (%s)", s.what[1]);
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_vex_each(st, "team/app", D("f"), collect, &s), 0, "each for another subject");
  CHECK_INT(s.n, 0, "nothing for another subject");
  /* replaced: the error row becomes a document */
  CHECK_INT(sc_store_vex_put(st, "team/app", SUBJ, REF2, BLOB, "{\"doc\":2}", NULL), 0, "replace the error row");
  memset(&s, 0, sizeof(s));
  sc_store_vex_each(st, "team/app", SUBJ, collect, &s);
  CHECK(s.n == 2 && !strcmp(s.what[1], "{\"doc\":2}"), "replaced in place (%d rows, %s)", s.n, s.what[1]);
  /* the referrer deleted through customs: its document goes with it */
  sc_referrer r = {.digest = REF1, .media_type = SC_MT_OCI_MANIFEST, .artifact_type = VEXMT, .size = 300};
  CHECK_INT(sc_store_put_referrer(st, "team/app", SUBJ, &r), 0, "the referrer row");
  sc_store_vex_generation(st, &g2);
  CHECK_INT(sc_store_forget_referrer(st, "team/app", REF1), 0, "forget the referrer (its manifest deleted)");
  sc_store_vex_generation(st, &g3);
  CHECK(g3 != g2, "the generation changed");
  memset(&s, 0, sizeof(s));
  sc_store_vex_each(st, "team/app", SUBJ, collect, &s);
  CHECK(s.n == 1 && !strcmp(s.digest[0], REF2), "its document is forgotten, the other stays (%d)", s.n);
  memset(&s, 0, sizeof(s));
  sc_store_vex_each(st, "other/app", SUBJ, collect, &s);
  CHECK_INT(s.n, 1, "the same digest in another repository stays");
  CHECK_INT(sc_store_vex_forget(st, "team/app", REF2), 0, "sc_store_vex_forget");
  memset(&s, 0, sizeof(s));
  sc_store_vex_each(st, "team/app", SUBJ, collect, &s);
  CHECK_INT(s.n, 0, "gone");
  sc_store_close(st);
}

static sc_policy *policy(const char *extra, char **err) {
  char yaml[1024];
  sc_policy *p = NULL;
  snprintf(yaml, sizeof(yaml), "rules:\n  - name: no-critical\n    deny: {severity: critical}\n%s", extra);
  *err = NULL;
  sc_policy_load_mem("policy.yaml", yaml, strlen(yaml), &p, err);
  if (*err && strchr(*err, '\n')) *strchr(*err, '\n') = '\0'; /* one TAP line */
  return p;
}

static void test_policy_key(void) {
  char *err;
  sc_policy *p = policy("", &err);
  CHECK(p && !sc_policy_trusts_vex_referrers(p, "team/app"), "default: VEX referrers are not trusted");
  sc_policy_free(p);
  p = policy("vex_referrers: false\n", &err);
  CHECK(p && !sc_policy_trusts_vex_referrers(p, "team/app"), "false: not trusted");
  sc_policy_free(p);
  p = policy("vex_referrers: true\n", &err);
  CHECK(p && sc_policy_trusts_vex_referrers(p, "team/app") && sc_policy_trusts_vex_referrers(p, "x"),
        "true: trusted in every repository");
  sc_policy_free(p);
  p = policy("vex_referrers: [\"team/**\", release]\n", &err);
  CHECK(p && sc_policy_trusts_vex_referrers(p, "team/app") && sc_policy_trusts_vex_referrers(p, "release") &&
            !sc_policy_trusts_vex_referrers(p, "other/app"),
        "a list of globs: trusted where one matches, not elsewhere");
  sc_policy_free(p);
  p = policy("vex_referrers: yes please\n", &err);
  CHECK(!p && err && strstr(err, "policy.yaml:4:") && strstr(err, "vex_referrers"), "a bad value: refused (%s)",
        err ? err : "");
  free(err);
  p = policy("vex_referrers: []\n", &err);
  CHECK(!p && err && strstr(err, "vex_referrers is empty"), "an empty list: refused (%s)", err ? err : "");
  free(err);
  p = policy("vex_referrers: [\"team/[\"]\n", &err);
  CHECK(!p && err && strstr(err, "bad repository pattern"), "a bad glob: refused (%s)", err ? err : "");
  free(err);
  p = policy("vex_referrers: {repositories: [x]}\n", &err);
  CHECK(!p && err && strstr(err, "true, false or a list"), "a mapping: refused (%s)", err ? err : "");
  free(err);
}

/* The evaluator with a referrer's document (as sc_judge.c names it) and
 * a referrer that was not applied. */
static void test_verdict(void) {
  char *err, verr[SC_VEX_ERR_BYTES];
  const char *img = D("a");
  const char *doc_json = "{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"statements\": ["
                         "{\"vulnerability\": {\"name\": \"CVE-2099-0001\"}, \"products\": [{\"@id\": \"" SUBJ "\"}],"
                         " \"status\": \"not_affected\", \"justification\": \"vulnerable_code_not_present\"}]}";
  sc_vex_doc *doc = NULL;
  CHECK_INT(sc_vex_parse("referrer " REF1, doc_json, strlen(doc_json), &doc, verr, sizeof(verr)), 0, "doc parsed");
  sc_policy *p = policy("vex_referrers: true\n", &err);
  sc_finding fd = {.id = "CVE-2099-0001", .ecosystem = "Debian:12", .package = "libssl3", .version = "3.0.11-1",
                   .severity = SC_SEV_CRITICAL, .score = 9.8};
  const sc_vex_doc *docs[] = {doc};
  const char *errs[] = {REF2 ": not a valid OpenVEX document: not valid JSON: line 1 column 1"};
  sc_image_facts f = {.repository = "team/app", .digest = img, .findings = &fd, .nfindings = 1, .runs_as_root = -1,
                      .scanned = 1};
  sc_verdict v;
  CHECK_INT(sc_policy_evaluate(p, &f, NOW, &v), 0, "evaluate without the referrer");
  CHECK_INT(v.decision, SC_DECISION_DENY, "denied");
  sc_verdict_free(&v);
  f.vex_docs = docs;
  f.nvex_docs = 1;
  f.vex_errors = errs;
  f.nvex_errors = 1;
  CHECK_INT(sc_policy_evaluate(p, &f, NOW, &v), 0, "evaluate with it");
  CHECK_INT(v.decision, SC_DECISION_ALLOW, "allowed: the referrer's not_affected statement covers the finding");
  CHECK(v.message && strstr(v.message, "suppressed by VEX: CVE-2099-0001 (referrer " REF1
                                       ", vulnerable_code_not_present)"),
        "the message names the referrer digest and the justification (%s)", v.message);
  CHECK(v.message && strstr(v.message, "1 VEX referrer not applied: " REF2 ": not a valid OpenVEX"),
        "and the referrer that was not applied");
  CHECK(v.reasons_json && strstr(v.reasons_json, "\"document\":\"referrer " REF1 "\"") &&
            strstr(v.reasons_json, "\"kind\":\"vex_error\""),
        "the reasons too (%s)", v.reasons_json);
  sc_verdict_free(&v);
  sc_policy_free(p);
  sc_vex_doc_free(doc);
}

int main(void) {
  test_pick();
  test_store();
  test_policy_key();
  test_verdict();
  return tap_done();
}
