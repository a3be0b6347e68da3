/* test_annotate.c - customs' own annotations: the documents
 * (sc_annotate: the CycloneDX SBOM, the vulnerability report, their OCI
 * artifact manifests, the referrers tag-schema index) and their state in
 * the store (sc_annotations, table `annotations`).
 *
 * Documents: shapes (what the OCI image spec and the distribution spec ask
 * of an artifact manifest and an index), digests recomputed here from the
 * bytes, determinism (same content and time: same bytes), and the content
 * hash (unchanged by time and data generation, changed by a finding).
 * Store: queueing, due jobs, retries with their error, pushes, failures,
 * re-queueing, the sweep's paging and replacement. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_annotate.h"
#include "sc_annotations.h"
#include "sc_image.h"
#include "sc_store.h"
#include "tap.h"

#define SUBJECT "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define T0 1798761600 /* 2027-01-01T00:00:00Z */

static void add_pkg(sc_inventory *inv, const char *type, const char *eco, const char *name, const char *ver) {
  sc_package p = {(char *)type, (char *)eco, (char *)name, (char *)ver, NULL, NULL, (char *)"x", NULL};
  sc_inventory_add_package(inv, &p);
}

static void make_inv(sc_inventory *inv) {
  sc_inventory_init(inv);
  sc_inventory_set_os(inv, "debian", "12", "etc/os-release");
  add_pkg(inv, "deb", NULL, "libssl3", "3.0.11-1~deb12u2");
  add_pkg(inv, "python", "PyPI", "requests", "2.19.0");
  add_pkg(inv, "npm", "npm", "left-pad", "1.1.0");
  sc_inventory_finish(inv);
}

static void make_findings(sc_finding_list *fl, const char *fixed) {
  static const char *const aliases[] = {"GHSA-xxxx-yyyy-zzzz"};
  sc_finding_list_init(fl);
  sc_finding f = {"CVE-2099-0001", aliases, 1, "Debian:12", "libssl3", "3.0.11-1~deb12u2", fixed, 4, 9.8};
  sc_finding_list_add(fl, &f, "sha256:aa", "pkg:deb/debian/libssl3@3.0.11-1~deb12u2", 0);
  sc_finding g = {"CVE-2099-0002", NULL, 0, "PyPI", "requests", "2.19.0", "", 2, -1};
  sc_finding_list_add(fl, &g, "sha256:bb", "pkg:pypi/requests@2.19.0", 1);
  sc_finding_list_sort(fl);
}

static json_t *load(const char *s, size_t n) { return json_loadb(s, n, 0, NULL); }
static const char *gs(json_t *o, const char *path1, const char *path2) {
  json_t *v = json_object_get(o, path1);
  if (path2) v = json_object_get(v, path2);
  return json_string_value(v);
}

static void test_sbom(void) {
  sc_inventory inv;
  make_inv(&inv);
  sc_report_input ri = {.image = "team/app@" SUBJECT, .repository = "team/app", .digest = SUBJECT, .inv = &inv};
  sc_annot_input in = {.report = &ri, .repository = "team/app", .digest = SUBJECT, .created = T0,
                       .subject = {SC_MT_OCI_MANIFEST, SUBJECT, 1234}};
  sc_annot_doc a, b, c;
  CHECK_INT(sc_annot_build(SC_ANNOT_SBOM, &in, &a), 0, "sbom built");
  CHECK_INT(sc_annot_build(SC_ANNOT_SBOM, &in, &b), 0, "sbom built again");
  CHECK(a.blob_len == b.blob_len && !memcmp(a.blob, b.blob, a.blob_len), "same content, same time: same blob bytes");
  CHECK(a.manifest_len == b.manifest_len && !memcmp(a.manifest, b.manifest, a.manifest_len),
        "same manifest bytes");
  CHECK_STR(a.manifest_digest, b.manifest_digest, "same manifest digest");
  in.created = T0 + 3600;
  CHECK_INT(sc_annot_build(SC_ANNOT_SBOM, &in, &c), 0, "sbom an hour later");
  CHECK(strcmp(a.blob_digest, c.blob_digest) != 0, "another time: another blob (timestamp)");
  CHECK_STR(a.content_hash, c.content_hash, "... but the same content hash");
  char h[SC_ANNOT_DIGEST_BYTES];
  CHECK(sc_annot_content_hash(SC_ANNOT_SBOM, &in, h) == 0 && !strcmp(h, a.content_hash),
        "sc_annot_content_hash agrees with the build");

  char d[SC_ANNOT_DIGEST_BYTES];
  sc_digest_sha256(a.blob, a.blob_len, d);
  CHECK_STR(a.blob_digest, d, "blob digest is the sha256 of its bytes");
  sc_digest_sha256(a.manifest, a.manifest_len, d);
  CHECK_STR(a.manifest_digest, d, "manifest digest is the sha256 of its bytes");

  json_t *bom = load(a.blob, a.blob_len);
  CHECK(bom != NULL, "sbom is JSON");
  CHECK_STR(gs(bom, "bomFormat", NULL), "CycloneDX", "bomFormat");
  CHECK_STR(gs(bom, "specVersion", NULL), "1.5", "specVersion 1.5");
  CHECK_STR(gs(bom, "metadata", "timestamp"), "2027-01-01T00:00:00Z", "timestamp = created");
  const char *serial = gs(bom, "serialNumber", NULL);
  CHECK(serial && !strncmp(serial, "urn:uuid:", 9) && strlen(serial) == 45 && serial[23] == '8',
        "serialNumber is a urn:uuid (version 8, from the content): %s", serial ? serial : "(none)");
  CHECK(json_object_get(bom, "vulnerabilities") == NULL, "the SBOM lists no vulnerabilities (the report does)");
  int names = 0;
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(bom, "components"), i, e) {
    const char *n = gs(e, "name", NULL);
    if (n && (!strcmp(n, "libssl3") || !strcmp(n, "requests") || !strcmp(n, "left-pad"))) names++;
  }
  CHECK_INT(names, 3, "components name libssl3, requests, left-pad");
  json_decref(bom);

  json_t *m = load(a.manifest, a.manifest_len);
  CHECK(json_integer_value(json_object_get(m, "schemaVersion")) == 2, "schemaVersion 2");
  CHECK_STR(gs(m, "mediaType", NULL), SC_ANNOT_MANIFEST_TYPE, "OCI image manifest media type");
  CHECK_STR(gs(m, "artifactType", NULL), "application/vnd.cyclonedx+json", "artifactType CycloneDX");
  CHECK_STR(gs(m, "config", "mediaType"), "application/vnd.oci.empty.v1+json", "config: the empty descriptor");
  sc_digest_sha256("{}", 2, d);
  CHECK_STR(gs(m, "config", "digest"), d, "config digest = sha256 of {}");
  CHECK(json_integer_value(json_object_get(json_object_get(m, "config"), "size")) == 2, "config size 2");
  json_t *l0 = json_array_get(json_object_get(m, "layers"), 0);
  CHECK(json_array_size(json_object_get(m, "layers")) == 1, "one layer");
  CHECK_STR(gs(l0, "digest", NULL), a.blob_digest, "layer = the document");
  CHECK(json_integer_value(json_object_get(l0, "size")) == (json_int_t)a.blob_len, "layer size");
  CHECK_STR(gs(l0, "mediaType", NULL), "application/vnd.cyclonedx+json", "layer media type");
  CHECK_STR(gs(m, "subject", "digest"), SUBJECT, "subject digest");
  CHECK_STR(gs(m, "subject", "mediaType"), SC_MT_OCI_MANIFEST, "subject media type");
  CHECK(json_integer_value(json_object_get(json_object_get(m, "subject"), "size")) == 1234, "subject size");
  CHECK_STR(gs(m, "annotations", "org.opencontainers.image.created"), "2027-01-01T00:00:00Z", "created annotation");
  CHECK_STR(gs(m, "annotations", "io.customs.annotation"), "sbom", "kind annotation");
  json_decref(m);

  char *desc = sc_annot_descriptor(&a);
  json_t *dj = desc ? load(desc, strlen(desc)) : NULL;
  CHECK_STR(gs(dj, "digest", NULL), a.manifest_digest, "descriptor digest");
  CHECK(json_integer_value(json_object_get(dj, "size")) == (json_int_t)a.manifest_len, "descriptor size");
  CHECK_STR(gs(dj, "artifactType", NULL), SC_ANNOT_SBOM_TYPE, "descriptor artifactType");
  CHECK_STR(gs(dj, "annotations", "io.customs.annotation"), "sbom", "descriptor annotations");
  json_decref(dj);
  free(desc);

  sc_annot_input bad = in;
  bad.subject.digest = NULL;
  sc_annot_doc z;
  CHECK_INT(sc_annot_build(SC_ANNOT_SBOM, &bad, &z), SC_ERR_ARG, "no subject: refused");
  sc_annot_doc_free(&z);
  sc_annot_doc_free(&a);
  sc_annot_doc_free(&b);
  sc_annot_doc_free(&c);
  sc_inventory_free(&inv);
}

static void test_report(void) {
  sc_finding_list fl, fl2;
  make_findings(&fl, "3.0.13-1~deb12u1");
  make_findings(&fl2, "3.0.14-1~deb12u1");
  sc_annot_input in = {.repository = "team/app", .digest = SUBJECT, .findings = &fl, .generation = 3,
                       .created = T0, .subject = {SC_MT_OCI_MANIFEST, SUBJECT, 99}};
  sc_annot_doc a, b, c, e;
  CHECK_INT(sc_annot_build(SC_ANNOT_VULNS, &in, &a), 0, "report built");
  CHECK_INT(sc_annot_build(SC_ANNOT_VULNS, &in, &b), 0, "report built again");
  CHECK(a.blob_len == b.blob_len && !memcmp(a.blob, b.blob, a.blob_len) && !strcmp(a.manifest_digest, b.manifest_digest),
        "deterministic: same bytes and digests");
  in.generation = 4;
  in.created = T0 + 60;
  CHECK_INT(sc_annot_build(SC_ANNOT_VULNS, &in, &c), 0, "report at generation 4");
  CHECK(strcmp(a.blob_digest, c.blob_digest) != 0, "new generation and time: another blob");
  CHECK_STR(a.content_hash, c.content_hash, "... same findings: same content hash (nothing to push)");
  in.findings = &fl2;
  CHECK_INT(sc_annot_build(SC_ANNOT_VULNS, &in, &e), 0, "report with another fixed version");
  CHECK(strcmp(a.content_hash, e.content_hash) != 0, "a changed finding changes the content hash");
  in.findings = NULL;
  sc_annot_doc n;
  CHECK_INT(sc_annot_build(SC_ANNOT_VULNS, &in, &n), 0, "report without findings");
  CHECK(strcmp(n.content_hash, a.content_hash) != 0, "no findings: another content hash");

  json_t *r = load(a.blob, a.blob_len);
  CHECK_STR(gs(r, "mediaType", NULL), SC_ANNOT_VULNS_TYPE, "report mediaType");
  CHECK_STR(gs(r, "digest", NULL), SUBJECT, "report digest");
  CHECK_STR(gs(r, "repository", NULL), "team/app", "report repository");
  CHECK_STR(gs(r, "generated_at", NULL), "2027-01-01T00:00:00Z", "generated_at");
  CHECK(json_integer_value(json_object_get(r, "data_generation")) == 3, "data_generation");
  json_t *cnt = json_object_get(r, "counts");
  CHECK(json_integer_value(json_object_get(cnt, "critical")) == 1 && json_integer_value(json_object_get(cnt, "medium")) == 1 &&
            json_integer_value(json_object_get(cnt, "total")) == 2 && json_integer_value(json_object_get(cnt, "fixable")) == 1 &&
            json_integer_value(json_object_get(cnt, "high")) == 0,
        "counts: critical 1, medium 1, high 0, total 2, fixable 1");
  json_t *f0 = json_array_get(json_object_get(r, "findings"), 0), *f1 = json_array_get(json_object_get(r, "findings"), 1);
  CHECK_STR(gs(f0, "id", NULL), "CVE-2099-0001", "critical first");
  CHECK_STR(gs(f0, "package", NULL), "libssl3", "package");
  CHECK_STR(gs(f0, "version", NULL), "3.0.11-1~deb12u2", "version");
  CHECK_STR(gs(f0, "fixed_version", NULL), "3.0.13-1~deb12u1", "fixed_version");
  CHECK_STR(gs(f0, "severity", NULL), "critical", "severity");
  CHECK(json_real_value(json_object_get(f0, "score")) == 9.8, "score 9.8");
  CHECK(strstr(a.blob, "\"score\":9.8,") != NULL, "score printed as 9.8");
  CHECK_STR(json_string_value(json_array_get(json_object_get(f0, "aliases"), 0)), "GHSA-xxxx-yyyy-zzzz", "aliases");
  CHECK(json_is_null(json_object_get(f1, "score")), "unknown score: null");
  CHECK(json_is_false(json_object_get(f1, "version_comparable")), "an unsure finding says so");
  json_decref(r);
  json_t *m = load(a.manifest, a.manifest_len);
  CHECK_STR(gs(m, "artifactType", NULL), SC_ANNOT_VULNS_TYPE, "report manifest artifactType");
  CHECK_STR(gs(m, "annotations", "io.customs.annotation"), "vulnerabilities", "kind annotation");
  CHECK_STR(gs(m, "annotations", "io.customs.data-generation"), "3", "generation annotation");
  json_decref(m);
  sc_annot_doc_free(&a);
  sc_annot_doc_free(&b);
  sc_annot_doc_free(&c);
  sc_annot_doc_free(&e);
  sc_annot_doc_free(&n);
  sc_finding_list_free(&fl);
  sc_finding_list_free(&fl2);
}

static size_t n_entries(const char *idx, const char *digest) {
  json_t *j = load(idx, strlen(idx));
  size_t i, n = 0;
  json_t *e;
  json_array_foreach(json_object_get(j, "manifests"), i, e) if (!digest || !strcmp(gs(e, "digest", NULL), digest)) n++;
  json_decref(j);
  return n;
}

static void test_index(void) {
  char tag[80], *idx = NULL, *idx2 = NULL, *idx3 = NULL, *idx4 = NULL;
  size_t n;
  CHECK(sc_annot_tag(SUBJECT, tag, sizeof(tag)) == 0 && !strcmp(tag, "sha256-1111111111111111111111111111111111111111111111111111111111111111"),
        "tag schema tag: sha256-<hex>");
  CHECK(sc_annot_tag("md5:abc", tag, sizeof(tag)) < 0, "a digest that is not sha256: no tag");
  const char *A = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:aa\",\"size\":1,"
                  "\"artifactType\":\"application/vnd.cyclonedx+json\"}";
  const char *B = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:bb\",\"size\":2}";
  const char *C = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:cc\",\"size\":3}";
  CHECK_INT(sc_annot_index_update(NULL, 0, A, NULL, &idx, &n), 0, "a new index");
  json_t *j = load(idx, n);
  CHECK_STR(gs(j, "mediaType", NULL), SC_ANNOT_INDEX_TYPE, "index media type");
  CHECK(json_integer_value(json_object_get(j, "schemaVersion")) == 2, "index schemaVersion 2");
  json_decref(j);
  CHECK(n_entries(idx, NULL) == 1 && n_entries(idx, "sha256:aa") == 1, "one entry: A");
  CHECK_INT(sc_annot_index_update(idx, strlen(idx), B, NULL, &idx2, &n), 0, "B added");
  CHECK(n_entries(idx2, NULL) == 2 && n_entries(idx2, "sha256:aa") == 1, "A kept, B added");
  CHECK_INT(sc_annot_index_update(idx2, strlen(idx2), B, NULL, &idx3, &n), 0, "B again");
  CHECK(n_entries(idx3, NULL) == 2, "no duplicate");
  CHECK_INT(sc_annot_index_update(idx3, strlen(idx3), C, "sha256:bb", &idx4, &n), 0, "C replaces B");
  CHECK(n_entries(idx4, NULL) == 2 && n_entries(idx4, "sha256:bb") == 0 && n_entries(idx4, "sha256:cc") == 1 &&
            n_entries(idx4, "sha256:aa") == 1,
        "B gone, C in, A (someone else's) kept");
  char *x = NULL;
  CHECK_INT(sc_annot_index_update("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}",
                                  80, A, NULL, &x, &n),
            SC_ERR_FORMAT, "a tag that holds a manifest, not an index: refused");
  CHECK(x == NULL, "nothing made");
  free(idx);
  free(idx2);
  free(idx3);
  free(idx4);
  CHECK_INT(sc_annot_kind_parse("vulnerabilities"), SC_ANNOT_VULNS, "kind names");
  CHECK_INT(sc_annot_kind_parse("nope"), -1, "unknown kind");
}

static int collect(void *arg, const sc_annot_job *j) {
  sc_annot_list *l = arg;
  sc_annot_job *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
  if (!nv) return -1;
  l->v = nv;
  l->v[l->n++] = *j;
  return 0;
}

static void test_store(void) {
  sc_store *st;
  sc_annot_list l = {0};
  int64_t n = -1, next = 0;
  int any = 0;
  CHECK(sc_store_open(":memory:", &st) == 0, "open :memory:");
  CHECK_INT(sc_annotations_enqueue(st, "team/app", SUBJECT, 1000), 0, "enqueue");
  CHECK(sc_annotations_count(st, SC_ANNOT_PENDING, &n) == 0 && n == 2, "two pending rows (sbom, vulnerabilities)");
  CHECK(sc_annotations_next_due(st, &next, &any) == 0 && any && next == 1000, "next due 1000");
  CHECK(sc_annotations_due(st, 999, 10, &l) == 0 && l.n == 0, "nothing due before");
  CHECK(sc_annotations_due(st, 1000, 10, &l) == 0 && l.n == 2, "both due");
  CHECK(l.n == 2 && l.v[0].kind != l.v[1].kind && !strcmp(l.v[0].repo, "team/app") && !strcmp(l.v[0].image, SUBJECT),
        "rows name repo, image and both kinds");
  sc_annot_list_free(&l);

  char longerr[2000];
  memset(longerr, 'e', sizeof(longerr) - 1);
  longerr[sizeof(longerr) - 1] = 0;
  CHECK_INT(sc_annotations_attempted(st, "team/app", SUBJECT, SC_ANNOT_SBOM, SC_ANNOT_PENDING, NULL, NULL,
                                     "POST /v2/team/app/blobs/uploads/: Connection refused", 1001, 1003),
            0, "a failed attempt, retry at 1003");
  CHECK(sc_annotations_due(st, 1002, 10, &l) == 0 && l.n == 1 && l.v[0].kind == SC_ANNOT_VULNS,
        "the retried job waits for its time");
  sc_annot_list_free(&l);
  CHECK(sc_annotations_list(st, "team/app", SUBJECT, &l) == 0 && l.n == 2, "list: both rows");
  const sc_annot_job *sb = l.n == 2 ? (l.v[0].kind == SC_ANNOT_SBOM ? &l.v[0] : &l.v[1]) : NULL;
  CHECK(sb && sb->attempts == 1 && sb->next_at == 1003 && strstr(sb->last_error, "Connection refused") &&
            sb->status == SC_ANNOT_PENDING,
        "the row shows the attempt and its error");
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_attempted(st, "team/app", SUBJECT, SC_ANNOT_SBOM, SC_ANNOT_PENDING, NULL, NULL, longerr,
                                     1003, 1007),
            0, "second failure, long error");
  CHECK(sc_annotations_list(st, NULL, SUBJECT, &l) == 0 && l.n == 2, "list in any repository");
  sb = l.n == 2 ? (l.v[0].kind == SC_ANNOT_SBOM ? &l.v[0] : &l.v[1]) : NULL;
  CHECK(sb && sb->attempts == 2 && strlen(sb->last_error) == SC_ANNOT_ERROR_MAX_BYTES, "error cut to %d bytes",
        SC_ANNOT_ERROR_MAX_BYTES);
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_attempted(st, "team/app", SUBJECT, SC_ANNOT_SBOM, SC_ANNOT_PUSHED, "sha256:m1", "sha256:h1",
                                     NULL, 1008, 0),
            0, "pushed");
  CHECK(sc_annotations_list(st, "team/app", SUBJECT, &l) == 0 && l.n == 2, "list");
  sb = l.n == 2 ? (l.v[0].kind == SC_ANNOT_SBOM ? &l.v[0] : &l.v[1]) : NULL;
  CHECK(sb && sb->status == SC_ANNOT_PUSHED && !strcmp(sb->manifest, "sha256:m1") &&
            !strcmp(sb->content_hash, "sha256:h1") && sb->attempts == 0 && !sb->last_error[0],
        "pushed: artifact and hash kept, error cleared");
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_attempted(st, "team/app", SUBJECT, SC_ANNOT_SBOM, SC_ANNOT_PENDING, NULL, NULL, "x", 1, 2),
            SC_ERR_NOTFOUND, "an attempt on a row that is not pending: refused");
  CHECK_INT(sc_annotations_attempted(st, "team/app", SUBJECT, SC_ANNOT_VULNS, SC_ANNOT_FAILED, NULL, NULL,
                                     "given up", 1009, 0),
            0, "report failed");
  CHECK(sc_annotations_count(st, SC_ANNOT_FAILED, &n) == 0 && n == 1, "one failed");
  CHECK_INT(sc_annotations_enqueue(st, "team/app", SUBJECT, 2000), 0, "the image pushed again");
  CHECK(sc_annotations_due(st, 2000, 10, &l) == 0 && l.n == 1 && l.v[0].kind == SC_ANNOT_VULNS && l.v[0].attempts == 0,
        "the failed one is pending again (attempts 0); the pushed one is left alone");
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_attempted(st, "team/app", SUBJECT, SC_ANNOT_VULNS, SC_ANNOT_PUSHED, "sha256:r1",
                                     "sha256:rh1", NULL, 2001, 0),
            0, "report pushed");

  /* the sweep: pushed reports page by page, in (repo, image) order */
  char img[80];
  for (int i = 0; i < 5; i++) {
    snprintf(img, sizeof(img), "sha256:%064d", i);
    sc_annotations_enqueue(st, "team/other", img, 3000);
    sc_annotations_attempted(st, "team/other", img, SC_ANNOT_VULNS, SC_ANNOT_PUSHED, "sha256:m", "sha256:h", NULL,
                             3001, 0);
  }
  sc_annot_list page = {0};
  CHECK(sc_annotations_each_pushed(st, SC_ANNOT_VULNS, "", "", 4, collect, &page) == 0 && page.n == 4,
        "first page: 4 rows");
  CHECK(page.n == 4 && !strcmp(page.v[0].repo, "team/app") && !strcmp(page.v[1].repo, "team/other"), "ordered");
  char lr[SC_ANNOT_REPO_MAX], li[SC_ANNOT_DIGEST_BYTES];
  snprintf(lr, sizeof(lr), "%s", page.n ? page.v[page.n - 1].repo : "");
  snprintf(li, sizeof(li), "%s", page.n ? page.v[page.n - 1].image : "");
  sc_annot_list_free(&page);
  CHECK(sc_annotations_each_pushed(st, SC_ANNOT_VULNS, lr, li, 4, collect, &page) == 0 && page.n == 2,
        "second page: the other 2");
  sc_annot_list_free(&page);
  CHECK(sc_annotations_each_pushed(st, SC_ANNOT_SBOM, "", "", 100, collect, &page) == 0 && page.n == 1,
        "SBOMs pushed: 1 (the others are still pending)");
  sc_annot_list_free(&page);
  CHECK_INT(sc_annotations_replace(st, "team/app", SUBJECT, SC_ANNOT_VULNS, 4000), 0, "report out of date: replace");
  CHECK(sc_annotations_due(st, 4000, 100, &l) == 0, "due");
  const sc_annot_job *rep = NULL;
  for (size_t i = 0; i < l.n; i++)
    if (!strcmp(l.v[i].repo, "team/app") && l.v[i].kind == SC_ANNOT_VULNS) rep = &l.v[i];
  CHECK(rep && !strcmp(rep->manifest, "sha256:r1") && !strcmp(rep->content_hash, "sha256:rh1"),
        "the replacement names the artifact it replaces");
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_replace(st, "team/app", SUBJECT, SC_ANNOT_VULNS, 4001), SC_ERR_NOTFOUND,
            "replace of a row that is not pushed: refused");
  CHECK_INT(sc_annotations_attempted(st, "team/app", SUBJECT, SC_ANNOT_VULNS, SC_ANNOT_PUSHED, "sha256:r2",
                                     "sha256:rh2", NULL, 4002, 0),
            0, "replacement pushed");
  CHECK(sc_annotations_list(st, "team/app", SUBJECT, &l) == 0, "list");
  rep = NULL;
  for (size_t i = 0; i < l.n; i++)
    if (l.v[i].kind == SC_ANNOT_VULNS) rep = &l.v[i];
  CHECK(rep && !strcmp(rep->manifest, "sha256:r2"), "the new artifact replaced the old in the row");
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_enqueue(st, NULL, SUBJECT, 1), SC_ERR_ARG, "no repo: refused");
  sc_store_close(st);
}

int main(void) {
  test_sbom();
  test_report();
  test_index();
  test_store();
  return tap_done();
}
