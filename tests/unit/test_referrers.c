/* test_referrers.c - OCI 1.1 referrers: the store rows
 * (sc_store_referrers.c), what a pushed manifest gives (sc_image.c:
 * subject, artifactType, annotations; sc_referrers_record), the image index
 * served for GET /v2/<name>/referrers/<digest> with its artifactType filter
 * (sc_referrers_render), and the ?artifactType= reading of the proxy
 * (px_referrers_query, #included with its module).
 * Ownership: everything is the test's.  Thread: one. */
#include "../../proxy/px_referrers.c"
#include "sc_referrers.h"
#include "sc_store.h"
#include "tap.h"
#include <jansson.h>

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static const char *SUBJ = D("a");
static const char *SIG1 = D("1");
static const char *SIG2 = D("2");
static const char *SBOM = D("3");

typedef struct seen {
  int n;
  char digests[8][80];
  char types[8][80];
  int origin[8];
  int64_t created[8];
} seen;

static int collect(void *arg, const sc_referrer *r) {
  seen *s = arg;
  if (s->n < 8) {
    snprintf(s->digests[s->n], 80, "%s", r->digest);
    snprintf(s->types[s->n], 80, "%s", r->artifact_type ? r->artifact_type : "(null)");
    s->origin[s->n] = r->origin;
    s->created[s->n] = r->created_at;
  }
  s->n++;
  return 0;
}

static int stop_at_first(void *arg, const sc_referrer *r) {
  (void)r;
  (*(int *)arg)++;
  return 42;
}

static void test_store(void) {
  sc_store *st = NULL;
  CHECK_INT(sc_store_open(":memory:", &st), 0, "open");
  sc_referrer r1 = {.digest = SIG1, .media_type = SC_MT_OCI_MANIFEST, .artifact_type = "application/vnd.example.sig",
                    .size = 500, .origin = SC_REF_CLIENT, .created_at = 100};
  sc_referrer r2 = {.digest = SBOM, .media_type = SC_MT_OCI_MANIFEST, .artifact_type = "application/vnd.cyclonedx+json",
                    .annotations = "{\"org.opencontainers.image.created\":\"2026-01-01T00:00:00Z\"}", .size = 700,
                    .origin = SC_REF_CUSTOMS, .created_at = 200};
  sc_referrer r3 = {.digest = SIG2, .media_type = SC_MT_OCI_MANIFEST, .artifact_type = "application/vnd.example.sig",
                    .size = 501, .origin = SC_REF_CLIENT, .created_at = 300};
  CHECK_INT(sc_store_put_referrer(st, "team/app", SUBJ, &r3), 0, "put a signature (newest)");
  CHECK_INT(sc_store_put_referrer(st, "team/app", SUBJ, &r1), 0, "put a signature (oldest)");
  CHECK_INT(sc_store_put_referrer(st, "team/app", SUBJ, &r2), 0, "put customs' SBOM");
  CHECK_INT(sc_store_put_referrer(st, "other/app", SUBJ, &r1), 0, "the same referrer in another repository");

  seen s = {0};
  CHECK_INT(sc_store_each_referrer(st, "team/app", SUBJ, NULL, collect, &s), 0, "list all");
  CHECK_INT(s.n, 3, "three referrers of the subject in team/app");
  CHECK_STR(s.digests[0], SIG1, "oldest first");
  CHECK_STR(s.digests[1], SBOM, "then the SBOM");
  CHECK_STR(s.digests[2], SIG2, "newest last");
  CHECK_INT(s.origin[1], SC_REF_CUSTOMS, "origin customs kept");
  CHECK_INT(s.origin[0], SC_REF_CLIENT, "origin client kept");

  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_each_referrer(st, "team/app", SUBJ, "application/vnd.example.sig", collect, &s), 0, "filter");
  CHECK_INT(s.n, 2, "artifactType filter keeps the two signatures");
  CHECK_STR(s.types[0], "application/vnd.example.sig", "of that type");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_each_referrer(st, "team/app", SUBJ, "application/vnd.none", collect, &s), 0, "filter, no match");
  CHECK_INT(s.n, 0, "a type nobody pushed lists nothing");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_each_referrer(st, "team/app", SIG1, NULL, collect, &s), 0, "another subject");
  CHECK_INT(s.n, 0, "referrers are per subject");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_each_referrer(st, "nobody/else", SUBJ, NULL, collect, &s), 0, "another repository");
  CHECK_INT(s.n, 0, "referrers are per repository (no leak across repositories)");

  /* pushed again: replaced, keeps its place */
  sc_referrer r1b = r1;
  r1b.size = 999;
  r1b.created_at = 0;
  r1b.artifact_type = "application/vnd.example.sig.v2";
  CHECK_INT(sc_store_put_referrer(st, "team/app", SUBJ, &r1b), 0, "push the first signature again");
  memset(&s, 0, sizeof(s));
  sc_store_each_referrer(st, "team/app", SUBJ, NULL, collect, &s);
  CHECK_INT(s.n, 3, "replaced, not added");
  CHECK_STR(s.digests[0], SIG1, "and still first");
  CHECK_STR(s.types[0], "application/vnd.example.sig.v2", "with its new artifactType");
  CHECK_INT(s.created[0], 100, "created_at kept");

  int calls = 0;
  CHECK_INT(sc_store_each_referrer(st, "team/app", SUBJ, NULL, stop_at_first, &calls), 42,
            "the callback's non-zero value ends the iteration");
  CHECK_INT(calls, 1, "after one call");

  CHECK_INT(sc_store_delete_referrer(st, "team/app", SUBJ, SBOM), 0, "delete the SBOM");
  memset(&s, 0, sizeof(s));
  sc_store_each_referrer(st, "team/app", SUBJ, NULL, collect, &s);
  CHECK_INT(s.n, 2, "two left");
  memset(&s, 0, sizeof(s));
  sc_store_each_referrer(st, "other/app", SUBJ, NULL, collect, &s);
  CHECK_INT(s.n, 1, "the other repository's row untouched");
  CHECK_INT(sc_store_forget_referrer(st, "team/app", SIG1), 0, "forget a deleted referrer by its digest");
  memset(&s, 0, sizeof(s));
  sc_store_each_referrer(st, "team/app", SUBJ, NULL, collect, &s);
  CHECK_INT(s.n, 1, "one left in team/app");
  memset(&s, 0, sizeof(s));
  sc_store_each_referrer(st, "other/app", SUBJ, NULL, collect, &s);
  CHECK_INT(s.n, 1, "forgetting is per repository: other/app keeps the same digest");
  CHECK_INT(sc_store_forget_referrer(st, "team/app", SIG1), 0, "forgetting twice is harmless");

  sc_referrer bad = r1;
  bad.digest = "sha256:xyz";
  CHECK_INT(sc_store_put_referrer(st, "team/app", SUBJ, &bad), SC_ERR_ARG, "a malformed referrer digest is refused");
  CHECK_INT(sc_store_put_referrer(st, "team/app", "latest", &r1), SC_ERR_ARG, "a subject that is not a digest");
  CHECK_INT(sc_store_put_referrer(st, "", SUBJ, &r1), SC_ERR_ARG, "no repository");
  bad = r1;
  bad.media_type = NULL;
  CHECK_INT(sc_store_put_referrer(st, "team/app", SUBJ, &bad), SC_ERR_ARG, "no media type");
  CHECK_INT(sc_store_each_referrer(st, "team/app", SUBJ, NULL, NULL, NULL), SC_ERR_ARG, "no callback");

  /* annotations over the cap are dropped whole */
  size_t big = SC_REFERRER_ANNOT_MAX_BYTES + 10;
  char *huge = malloc(big + 1);
  memset(huge, 'x', big);
  memcpy(huge, "{\"k\":\"", 6);
  memcpy(huge + big - 2, "\"}", 2);
  huge[big] = 0;
  sc_referrer rb = r3;
  rb.digest = D("4");
  rb.annotations = huge;
  CHECK_INT(sc_store_put_referrer(st, "team/app", SIG1, &rb), 0, "annotations over the cap: recorded");
  sc_referrers_index idx;
  CHECK_INT(sc_referrers_render(st, "team/app", SIG1, NULL, &idx), 0, "render it");
  CHECK(idx.json && !strstr(idx.json, "annotations"), "without its annotations");
  free(idx.json);
  free(huge);
  sc_store_close(st);
}

static const char *ARTIFACT =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"artifactType\":\"application/vnd.example.sig\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D("e") "\",\"size\":2},"
    "\"layers\":[{\"mediaType\":\"application/octet-stream\",\"digest\":\"" D("f") "\",\"size\":9}],"
    "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D("a") "\",\"size\":1234},"
    "\"annotations\":{\"org.example.signed-by\":\"ci\",\"a\":\"1\"}}";

static void test_manifest_fields(void) {
  sc_manifest m;
  char subject[160] = "junk", why[200];
  CHECK_INT(sc_manifest_parse(ARTIFACT, strlen(ARTIFACT), NULL, &m), 0, "an artifact manifest with a subject parses");
  CHECK_STR(m.subject, SUBJ, "its subject digest is kept");
  CHECK_STR(m.artifact_type, "application/vnd.example.sig", "its artifactType");
  CHECK_STR(m.annotations, "{\"a\":\"1\",\"org.example.signed-by\":\"ci\"}", "its annotations, compact JSON");
  sc_manifest_free(&m);
  CHECK_INT(sc_manifest_check_ex(ARTIFACT, strlen(ARTIFACT), SC_MT_OCI_MANIFEST, why, sizeof(why), subject,
                                 sizeof(subject)),
            0, "check_ex accepts it");
  CHECK_STR(subject, SUBJ, "and gives the subject (for OCI-Subject)");
  char small[20] = "junk";
  sc_manifest_check_ex(ARTIFACT, strlen(ARTIFACT), NULL, why, sizeof(why), small, sizeof(small));
  CHECK_STR(small, "", "a subject that does not fit is not given cut");

  const char *plain = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D("c")
                      "\",\"size\":2},\"layers\":[],\"annotations\":{\"x\":\"y\"}}";
  CHECK_INT(sc_manifest_parse(plain, strlen(plain), NULL, &m), 0, "an image without a subject");
  CHECK(m.subject == NULL && m.artifact_type == NULL && m.annotations == NULL, "keeps none of the three");
  sc_manifest_free(&m);
  strcpy(subject, "junk");
  sc_manifest_check_ex(plain, strlen(plain), NULL, why, sizeof(why), subject, sizeof(subject));
  CHECK_STR(subject, "", "check_ex: no subject");

  const char *badsubj = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D("e")
                        "\",\"size\":2},\"layers\":[],\"subject\":{\"digest\":\"sha256:nothex\"}}";
  CHECK_INT(sc_manifest_parse(badsubj, strlen(badsubj), NULL, &m), 0, "a malformed subject digest: still parses");
  CHECK(m.subject == NULL, "but names no subject");
  sc_manifest_free(&m);

  const char *nonstr = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                       "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D("e")
                       "\",\"size\":2},\"layers\":[],\"subject\":{\"digest\":\"" D("a")
                       "\"},\"annotations\":{\"n\":5}}";
  CHECK_INT(sc_manifest_parse(nonstr, strlen(nonstr), NULL, &m), 0, "annotations that are not a string map");
  CHECK(m.subject && m.annotations == NULL, "subject kept, annotations not");
  sc_manifest_free(&m);

  const char *folded = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                       "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D("e")
                       "\",\"size\":2},\"layers\":[],\"Subject\":{\"digest\":\"" D("a") "\"}}";
  strcpy(subject, "junk");
  CHECK(sc_manifest_check_ex(folded, strlen(folded), NULL, why, sizeof(why), subject, sizeof(subject)) != 0,
        "\"Subject\" (case-folded key) is still refused");
  CHECK_STR(subject, "", "and gives no subject");

  const char *index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                      "\"artifactType\":\"application/vnd.example.bundle\",\"manifests\":[],"
                      "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D("a")
                      "\",\"size\":1}}";
  CHECK_INT(sc_manifest_parse(index, strlen(index), NULL, &m), 0, "an index with a subject");
  CHECK_STR(m.subject, SUBJ, "its subject");
  sc_manifest_free(&m);
}

static json_t *parse_index(const sc_referrers_index *idx) {
  json_t *j = idx->json ? json_loadb(idx->json, idx->len, 0, NULL) : NULL;
  return j;
}

static void test_record_and_render(void) {
  sc_store *st = NULL;
  sc_manifest m;
  CHECK_INT(sc_store_open(":memory:", &st), 0, "open");
  CHECK_INT(sc_manifest_parse(ARTIFACT, strlen(ARTIFACT), NULL, &m), 0, "parse the artifact");
  CHECK_INT(sc_referrers_record(st, "team/app", SIG1, &m, (int64_t)strlen(ARTIFACT)), 0, "record it");
  sc_manifest_free(&m);

  /* no artifactType: the config's media type stands for it (OCI 1.1) */
  const char *cfgtyped = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                         "\"config\":{\"mediaType\":\"application/vnd.example.attestation\",\"digest\":\"" D("e")
                         "\",\"size\":2},\"layers\":[],\"subject\":{\"digest\":\"" D("a") "\"}}";
  CHECK_INT(sc_manifest_parse(cfgtyped, strlen(cfgtyped), NULL, &m), 0, "parse one without artifactType");
  CHECK_INT(sc_referrers_record(st, "team/app", SIG2, &m, 321), 0, "record it");
  sc_manifest_free(&m);

  const char *plain = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D("c")
                      "\",\"size\":2},\"layers\":[]}";
  CHECK_INT(sc_manifest_parse(plain, strlen(plain), NULL, &m), 0, "parse an image without subject");
  CHECK_INT(sc_referrers_record(st, "team/app", SBOM, &m, 10), 0, "recording it does nothing");
  sc_manifest_free(&m);

  sc_referrers_index idx;
  CHECK_INT(sc_referrers_render(st, "team/app", SUBJ, NULL, &idx), 0, "render all");
  CHECK_INT(idx.n, 2, "two referrers (the image without a subject is none)");
  CHECK_STR(idx.first, SIG1, "first is the first pushed");
  json_t *j = parse_index(&idx);
  CHECK(j != NULL, "the answer is JSON");
  CHECK_INT(json_integer_value(json_object_get(j, "schemaVersion")), 2, "schemaVersion 2");
  CHECK_STR(json_string_value(json_object_get(j, "mediaType")), SC_MT_OCI_INDEX, "an OCI image index");
  json_t *ms = json_object_get(j, "manifests");
  CHECK_INT(json_array_size(ms), 2, "two descriptors");
  json_t *d0 = json_array_get(ms, 0), *d1 = json_array_get(ms, 1);
  CHECK_STR(json_string_value(json_object_get(d0, "digest")), SIG1, "descriptor digest");
  CHECK_STR(json_string_value(json_object_get(d0, "mediaType")), SC_MT_OCI_MANIFEST, "descriptor mediaType");
  CHECK_INT(json_integer_value(json_object_get(d0, "size")), strlen(ARTIFACT), "descriptor size = manifest bytes");
  CHECK_STR(json_string_value(json_object_get(d0, "artifactType")), "application/vnd.example.sig", "artifactType");
  CHECK_STR(json_string_value(json_object_get(json_object_get(d0, "annotations"), "org.example.signed-by")), "ci",
            "annotations carried");
  CHECK_STR(json_string_value(json_object_get(d1, "artifactType")), "application/vnd.example.attestation",
            "artifactType from the config media type");
  CHECK(json_object_get(d1, "annotations") == NULL, "no annotations member when none");
  json_decref(j);
  free(idx.json);

  CHECK_INT(sc_referrers_render(st, "team/app", SUBJ, "application/vnd.example.attestation", &idx), 0, "filtered");
  j = parse_index(&idx);
  ms = json_object_get(j, "manifests");
  CHECK_INT(json_array_size(ms), 1, "one of that type");
  CHECK_STR(json_string_value(json_object_get(json_array_get(ms, 0), "digest")), SIG2, "the attestation");
  CHECK_STR(idx.first, SIG2, "first of the filtered list");
  json_decref(j);
  free(idx.json);

  CHECK_INT(sc_referrers_render(st, "team/app", SUBJ, "", &idx), 0, "an empty filter");
  CHECK_INT(idx.n, 2, "filters nothing");
  free(idx.json);

  CHECK_INT(sc_referrers_render(st, "team/app", SUBJ, "application/vnd.none", &idx), 0, "a filter no one matches");
  CHECK_INT(idx.n, 0, "nothing listed");
  CHECK_STR(idx.first, "", "no first");
  j = parse_index(&idx);
  CHECK(j && json_is_array(json_object_get(j, "manifests")) && json_array_size(json_object_get(j, "manifests")) == 0,
        "an index with an empty manifests array (not null)");
  json_decref(j);
  free(idx.json);

  CHECK_INT(sc_referrers_render(st, "other/app", SUBJ, NULL, &idx), 0, "another repository");
  CHECK_INT(idx.n, 0, "lists nothing of team/app");
  free(idx.json);

  json_t *e = json_loads(SC_REFERRERS_EMPTY_INDEX, 0, NULL);
  CHECK(e && json_integer_value(json_object_get(e, "schemaVersion")) == 2 &&
            !strcmp(json_string_value(json_object_get(e, "mediaType")), SC_MT_OCI_INDEX) &&
            json_array_size(json_object_get(e, "manifests")) == 0,
        "the empty index constant is a valid empty image index");
  json_decref(e);
  sc_store_close(st);
}

static void test_query(void) {
  char v[PX_REFERRERS_FILTER_MAX_BYTES];
  CHECK_INT(px_referrers_query("/v2/a/referrers/x", "artifactType", v, sizeof(v)), 0, "no query");
  CHECK_INT(px_referrers_query("/v2/a/referrers/x?artifactType=application/vnd.example.sig", "artifactType", v,
                               sizeof(v)),
            1, "found");
  CHECK_STR(v, "application/vnd.example.sig", "value");
  px_referrers_query("/v2/a/referrers/x?artifactType=application%2Fvnd.example%2Bjson", "artifactType", v, sizeof(v));
  CHECK_STR(v, "application/vnd.example+json", "percent-escapes decoded");
  px_referrers_query("/v2/a/referrers/x?artifactType=a+b", "artifactType", v, sizeof(v));
  CHECK_STR(v, "a b", "'+' is a space, as Go reads a query");
  px_referrers_query("/v2/a/referrers/x?artifactType=first&artifactType=second", "artifactType", v, sizeof(v));
  CHECK_STR(v, "first", "the first occurrence wins");
  px_referrers_query("/v2/a/referrers/x?artifactType=bad%zz&artifactType=good", "artifactType", v, sizeof(v));
  CHECK_STR(v, "good", "a pair with a bad escape is skipped");
  px_referrers_query("/v2/a/referrers/x?artifactType=x;y&artifactType=z", "artifactType", v, sizeof(v));
  CHECK_STR(v, "z", "a pair with ';' is skipped");
  px_referrers_query("/v2/a/referrers/x?artifact%54ype=esc", "artifactType", v, sizeof(v));
  CHECK_STR(v, "esc", "the key is unescaped too");
  CHECK_INT(px_referrers_query("/v2/a/referrers/x?artifacttype=lower", "artifactType", v, sizeof(v)), 0,
            "keys are case-sensitive");
  CHECK_INT(px_referrers_query("/v2/a/referrers/x?artifactType", "artifactType", v, sizeof(v)), 1,
            "a key without '=' is present");
  CHECK_STR(v, "", "with an empty value");
  char longq[600];
  int o = snprintf(longq, sizeof(longq), "/v2/a/referrers/x?artifactType=");
  memset(longq + o, 'x', 300);
  longq[o + 300] = 0;
  CHECK_INT(px_referrers_query(longq, "artifactType", v, sizeof(v)), -1, "a value longer than the cap: -1");
  CHECK_STR(v, "", "and not cut");
  px_referrers_query("/v2/a/referrers/x?n=1&artifactType=%", "artifactType", v, sizeof(v));
  CHECK_STR(v, "", "a lone percent sign is a bad escape");
}

int main(void) {
  test_store();
  test_manifest_fields();
  test_record_and_render();
  test_query();
  return tap_done();
}
