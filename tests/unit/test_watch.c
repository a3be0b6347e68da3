/* test_watch.c - watched upstream base tags (px_watch.c, #included): the
 * entry parser (good and malformed entries, Docker Hub shorthand), and
 * the checks of an entry driven against a fake registry (a table of URL ->
 * answer behind the watch_io GET function) with a real store in a
 * temporary file: first sighting, a check that did not move (one GET), a
 * move with the base-image-updated payload naming the local image built on
 * the base and not an unrelated one, tag history, a registry that is down
 * (error recorded, digest kept) and its recovery, digest mismatches, an
 * index with two platforms and an attestation, and a shutdown abort that
 * records nothing.
 *
 * Ownership: everything is the test's.  Thread: one. */
#include "../../proxy/px_watch.c"
#include "sc_lineage.h"
#include "tap.h"
#include <unistd.h>

/* ---- the parser ---- */

static void good(const char *entry, const char *base_url, const char *path, const char *tag, const char *repo) {
  px_watch_ref r;
  char err[256] = "";
  int rc = px_watch_parse_ref(entry, &r, err, sizeof(err));
  CHECK_INT(rc, 0, "'%s' parses%s%s", entry, err[0] ? ": " : "", err);
  if (rc) return;
  CHECK_STR(r.base_url, base_url, "'%s': API at %s", entry, base_url);
  CHECK_STR(r.path, path, "'%s': repository %s", entry, path);
  CHECK_STR(r.tag, tag, "'%s': tag %s", entry, tag);
  CHECK_STR(r.repo, repo, "'%s': recorded as %s", entry, repo);
}

static void bad(const char *entry, const char *why_has) {
  px_watch_ref r;
  char err[256] = "";
  int rc = px_watch_parse_ref(entry, &r, err, sizeof(err));
  CHECK(rc == -1 && strstr(err, why_has), "'%s' refused (%s)", entry, err);
}

static void test_parser(void) {
  good("http://127.0.0.1:5000/base:12", "http://127.0.0.1:5000", "base", "12", "127.0.0.1:5000/base");
  good("https://reg.example.com/team/base:v1", "https://reg.example.com", "team/base", "v1", "reg.example.com/team/base");
  good("reg.example.com/team/base:v1", "https://reg.example.com", "team/base", "v1", "reg.example.com/team/base");
  good("debian:12", "https://registry-1.docker.io", "library/debian", "12", "docker.io/library/debian");
  good("debian", "https://registry-1.docker.io", "library/debian", "latest", "docker.io/library/debian");
  good("docker.io/nginx:1.25", "https://registry-1.docker.io", "library/nginx", "1.25", "docker.io/library/nginx");
  good("bitnami/redis:7.2", "https://registry-1.docker.io", "bitnami/redis", "7.2", "docker.io/bitnami/redis");
  good("mcr.microsoft.com/dotnet/runtime:8.0", "https://mcr.microsoft.com", "dotnet/runtime", "8.0",
       "mcr.microsoft.com/dotnet/runtime");
  good("localhost:5000/team/app", "https://localhost:5000", "team/app", "latest", "localhost:5000/team/app");
  good("http://localhost/x:1", "http://localhost", "x", "1", "localhost/x");
  good("ghcr.io/a/b-c__d.e:V1.2_3-rc", "https://ghcr.io", "a/b-c__d.e", "V1.2_3-rc", "ghcr.io/a/b-c__d.e");
  good("https://[::1]:5000/base:1", "https://[::1]:5000", "base", "1", "[::1]:5000/base");

  bad("", "empty");
  bad("ftp://reg.io/x:1", "http:// and https://");
  bad("debian@sha256:0000000000000000000000000000000000000000000000000000000000000000", "digest");
  bad("reg.io/x:1@sha256:00", "digest");
  bad("Debian:12", "bad repository");
  bad("reg.io/Team/base:1", "bad repository");
  bad("reg.io/base:", "bad tag");
  bad("reg.io/base:-x", "bad tag");
  bad("reg.io/base:a/b", "bad tag");
  bad("reg.io:0/x:1", "bad registry");
  bad("reg.io:99999/x:1", "bad registry");
  bad("reg.io:/x:1", "bad registry");
  bad("http://debian:12", "explicit registry");
  bad("reg.io//x:1", "bad repository");
  bad("reg.io/x-:1", "bad repository");
  bad("reg.io/x/:1", "bad repository");
  bad("reg.io/", "bad repository");
  bad("reg.io/a b:1", "white space");
  bad("reg_io.x/a:1", "bad registry");
  char longtag[200];
  memset(longtag, 0, sizeof(longtag));
  memcpy(longtag, "reg.io/x:", 9);
  memset(longtag + 9, 't', 129);
  bad(longtag, "bad tag");
}

/* ---- a fake registry ---- */

#define MAX_ROUTES 32
typedef struct route {
  char url[512];
  long status;
  char *body;
  char ctype[128];
  char dcd[80]; /* Docker-Content-Digest, "" none */
} route;
static route routes[MAX_ROUTES];
static int nroutes, ngets, down;
static char last_accept[512];

static void serve(const char *url, long status, const char *body, const char *ctype, const char *dcd) {
  route *r = NULL;
  for (int i = 0; i < nroutes; i++)
    if (!strcmp(routes[i].url, url)) r = &routes[i];
  if (!r) r = &routes[nroutes++];
  free(r->body);
  snprintf(r->url, sizeof(r->url), "%s", url);
  r->status = status;
  r->body = body ? strdup(body) : NULL;
  snprintf(r->ctype, sizeof(r->ctype), "%s", ctype ? ctype : "");
  snprintf(r->dcd, sizeof(r->dcd), "%s", dcd ? dcd : "");
}

static int fake_get(void *arg, const net_http_req *rq, net_http_resp *rs) {
  (void)arg;
  ngets++;
  if (rq->accept) snprintf(last_accept, sizeof(last_accept), "%s", rq->accept);
  if (down) {
    snprintf(rs->error, sizeof(rs->error), "connect to %s: Connection refused", rq->url);
    return SC_ERR_IO;
  }
  for (int i = 0; i < nroutes; i++) {
    if (strcmp(routes[i].url, rq->url)) continue;
    rs->status = routes[i].status;
    snprintf(rs->content_type, sizeof(rs->content_type), "%s", routes[i].ctype);
    snprintf(rs->docker_digest, sizeof(rs->docker_digest), "%s", routes[i].dcd);
    if (routes[i].status == 200 && routes[i].body) {
      if (strlen(routes[i].body) > rq->max_bytes) return SC_ERR_LIMIT;
      rs->body = strdup(routes[i].body);
      rs->len = strlen(routes[i].body);
    }
    return 0;
  }
  rs->status = 404;
  return 0;
}

/* ---- images ---- */

#define BASE_URL "http://reg.test:5000"
static char dbpath[256];

static void hexid(char out[72], char c) {
  memcpy(out, "sha256:", 7);
  memset(out + 7, c, 64);
  out[71] = 0;
}

/* Config JSON over the given diff_ids (each hex digit d -> sha256:<d x 64>). */
static char *config_json(const char *letters, const char *arch, const char *variant) {
  char *s = malloc(4096), id[72];
  size_t o = (size_t)snprintf(s, 4096, "{\"architecture\":\"%s\",\"os\":\"linux\",%s%s%s\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[",
                              arch, variant ? "\"variant\":\"" : "", variant ? variant : "", variant ? "\"," : "");
  for (const char *l = letters; *l; l++) {
    hexid(id, *l);
    o += (size_t)snprintf(s + o, 4096 - o, "%s\"%s\"", l == letters ? "" : ",", id);
  }
  snprintf(s + o, 4096 - o, "]}}");
  return s;
}

/* An image over letters: config served as a blob of path, manifest JSON
 * returned (digest in mdig, not served). */
static char *image(const char *path, const char *letters, const char *arch, const char *variant, char mdig[72]) {
  char *cfg = config_json(letters, arch, variant), cdig[72], url[512], lid[72];
  sc_digest_sha256(cfg, strlen(cfg), cdig);
  snprintf(url, sizeof(url), BASE_URL "/v2/%s/blobs/%s", path, cdig);
  serve(url, 200, cfg, "application/octet-stream", NULL);
  char *m = malloc(8192);
  size_t o = (size_t)snprintf(m, 8192,
                              "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"mediaType\":"
                              "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[",
                              cdig, strlen(cfg));
  for (const char *l = letters; *l; l++) {
    hexid(lid, "0123456789abcdef"[(strchr("0123456789abcdef", *l) - "0123456789abcdef" + 8) % 16]); /* compressed != diff_id */
    o += (size_t)snprintf(m + o, 8192 - o, "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                                           "\"digest\":\"%s\",\"size\":100}", l == letters ? "" : ",", lid);
  }
  snprintf(m + o, 8192 - o, "]}");
  free(cfg);
  sc_digest_sha256(m, strlen(m), mdig);
  return m;
}

/* Serves manifest body under tag (with Docker-Content-Digest) and by digest. */
static void serve_manifest(const char *path, const char *tag, const char *body, const char *ctype) {
  char url[512], d[72];
  sc_digest_sha256(body, strlen(body), d);
  if (tag) {
    snprintf(url, sizeof(url), BASE_URL "/v2/%s/manifests/%s", path, tag);
    serve(url, 200, body, ctype, d);
  }
  snprintf(url, sizeof(url), BASE_URL "/v2/%s/manifests/%s", path, d);
  serve(url, 200, body, ctype, d);
}

/* ---- store readers ---- */

static char w_digest[72], w_error[256];
static int64_t w_checked;
static int w_rows;
static int watch_row(void *arg, const sc_watch_row *r) {
  (void)arg;
  w_rows++;
  snprintf(w_digest, sizeof(w_digest), "%s", r->digest ? r->digest : "");
  snprintf(w_error, sizeof(w_error), "%s", r->error ? r->error : "");
  w_checked = r->checked_at;
  return 0;
}
static void read_watch(sc_store *st) {
  w_rows = 0;
  w_digest[0] = w_error[0] = 0;
  CHECK_INT(sc_store_watch_each(st, watch_row, NULL), 0, "watched tags listed");
}

static int nmoves;
static char move_prev[72];
static int history_row(void *arg, const sc_tag_move *m) {
  (void)arg;
  if (nmoves++ == 0) snprintf(move_prev, sizeof(move_prev), "%s", m->prev ? m->prev : "");
  return 0;
}

static int nchildren;
static char child_platforms[256];
static int child_row(void *arg, const char *child, const char *platform) {
  (void)arg, (void)child;
  nchildren++;
  size_t o = strlen(child_platforms);
  snprintf(child_platforms + o, sizeof(child_platforms) - o, "%s%s", o ? " " : "", platform ? platform : "");
  return 0;
}

/* Records a local image (as a push through customs does) under repo:tag. */
static void push_local(sc_store *st, const char *repo, const char *tag, const char *letters, char mdig[72]) {
  char *cfg = config_json(letters, "amd64", NULL), *m = image("unused", letters, "amd64", NULL, mdig);
  sc_manifest man;
  memset(&man, 0, sizeof(man));
  CHECK_INT(sc_manifest_parse(m, strlen(m), SC_MT_OCI_MANIFEST, &man), 0, "local %s:%s parses", repo, tag);
  CHECK_INT(sc_store_put_manifest_ex(st, repo, tag, mdig, &man, cfg, strlen(cfg), NULL), 0,
            "local %s:%s recorded", repo, tag);
  sc_manifest_free(&man);
  free(cfg);
  free(m);
}

/* What px_lineage_tag_moved announces for a move of r: the payload when it
 * names local images, NULL otherwise. */
static json_t *moved_payload(sc_store *st, const px_watch_ref *r, const char *prev, const char *digest) {
  size_t n = 0;
  json_t *p = sc_lineage_base_updated(st, SC_ORIGIN_WATCH, r->repo, r->tag, prev, digest, &n);
  if (p && n == 0) {
    json_decref(p);
    p = NULL;
  }
  return p;
}

static int named(json_t *images, const char *repo, const char *tag, const char *digest) {
  size_t i;
  json_t *v;
  json_array_foreach(images, i, v) {
    if (!strcmp(json_string_value(json_object_get(v, "repository")) ?: "", repo) &&
        !strcmp(json_string_value(json_object_get(v, "tag")) ?: "", tag) &&
        !strcmp(json_string_value(json_object_get(v, "digest")) ?: "", digest))
      return 1;
  }
  return 0;
}

static void test_checks(void) {
  sc_store *st = NULL;
  px_watch_ref r;
  char err[WATCH_ERR_MAX], prev[72], digest[72], v1[72], v2[72], app[72], other[72];
  int abort_flag = 0;
  watch_io io = {.get = fake_get, .arg = NULL, .abort_flag = &abort_flag};
  snprintf(dbpath, sizeof(dbpath), "/tmp/test_watch.%d.db", (int)getpid());
  unlink(dbpath);
  CHECK_INT(sc_store_open(dbpath, &st), 0, "store opened");
  CHECK_INT(px_watch_parse_ref("http://reg.test:5000/base:12", &r, err, sizeof(err)), 0, "entry parsed");

  /* first sighting: digest recorded, chain recorded, no move */
  char *m1 = image("base", "ab", "amd64", NULL, v1);
  serve_manifest("base", "12", m1, SC_MT_OCI_MANIFEST);
  ngets = 0;
  CHECK_INT(watch_check(st, &io, &r, 1000, prev, digest, err, sizeof(err)), 0, "first check: seen, not moved (%s)", err);
  CHECK_STR(digest, v1, "digest is the sha256 of the manifest body");
  CHECK_INT(ngets, 2, "first check: manifest and config fetched");
  CHECK(strstr(last_accept, SC_MT_OCI_INDEX) && strstr(last_accept, SC_MT_DOCKER_LIST) &&
            strstr(last_accept, SC_MT_OCI_MANIFEST) && strstr(last_accept, SC_MT_DOCKER_MANIFEST),
        "Accept names the index and manifest types");
  read_watch(st);
  CHECK_INT(w_rows, 1, "one watched tag");
  CHECK_STR(w_digest, v1, "watched digest recorded");
  CHECK_STR(w_error, "", "no error recorded");
  CHECK_INT(w_checked, 1000, "checked_at recorded");
  sc_chain c;
  memset(&c, 0, sizeof(c));
  CHECK_INT(sc_store_get_chain(st, v1, &c), 0, "chain of the watched image recorded");
  char a[72], b[72];
  hexid(a, 'a');
  hexid(b, 'b');
  CHECK(c.origin == SC_ORIGIN_WATCH && c.n == 2 && !strcmp(c.diff_ids[0], a) && !strcmp(c.diff_ids[1], b),
        "it is a watched chain of the config's two diff_ids");
  CHECK_STR(c.platform, "linux/amd64", "platform from the config");
  sc_chain_free(&c);

  /* nothing moved: one GET, no move */
  ngets = 0;
  CHECK_INT(watch_check(st, &io, &r, 1010, prev, digest, err, sizeof(err)), 0, "second check: not moved");
  CHECK_INT(ngets, 1, "a tag that did not move costs one GET");
  CHECK_STR(prev, "", "prev empty");

  /* local images: app on base (a, b, c), other not on it (d, e) */
  push_local(st, "app", "1", "abc", app);
  push_local(st, "other", "1", "de", other);

  /* the base moves: new top layer */
  char *m2 = image("base", "af", "amd64", NULL, v2);
  serve_manifest("base", "12", m2, SC_MT_OCI_MANIFEST);
  CHECK_INT(watch_check(st, &io, &r, 1020, prev, digest, err, sizeof(err)), 1, "third check: moved (%s)", err);
  CHECK_STR(prev, v1, "prev is the old digest");
  CHECK_STR(digest, v2, "digest is the new one");
  json_t *p = moved_payload(st, &r, prev, digest);
  CHECK(p != NULL, "the move names local images");
  if (p) {
    json_t *base = json_object_get(p, "base"), *images = json_object_get(p, "images");
    CHECK_STR(json_string_value(json_object_get(base, "repository")), "reg.test:5000/base", "base repository");
    CHECK_STR(json_string_value(json_object_get(base, "tag")), "12", "base tag");
    CHECK_STR(json_string_value(json_object_get(base, "old_digest")), v1, "old digest");
    CHECK_STR(json_string_value(json_object_get(base, "new_digest")), v2, "new digest");
    CHECK(named(images, "app", "1", app), "app:1 is named");
    CHECK(!named(images, "other", "1", other), "other:1 (not built on base) is not named");
    CHECK_INT(json_array_size(images), 1, "exactly one image named");
    json_decref(p);
  }
  nmoves = 0;
  CHECK_INT(sc_store_tag_history(st, SC_ORIGIN_WATCH, "reg.test:5000/base", "12", 0, history_row, NULL), 0,
            "history read");
  CHECK_INT(nmoves, 2, "history: first sighting and one move");
  CHECK_STR(move_prev, v1, "newest move left v1");

  /* a move that names nothing: no payload */
  char v3[72];
  char *m3 = image("base", "78", "amd64", NULL, v3);
  serve_manifest("base", "12", m3, SC_MT_OCI_MANIFEST);
  CHECK_INT(watch_check(st, &io, &r, 1030, prev, digest, err, sizeof(err)), 1, "moved to an unrelated image");
  p = moved_payload(st, &r, prev, digest);
  CHECK(p == NULL, "no local image on the left base: no event");
  json_decref(p);

  /* registry down: error recorded, digest kept; then recovery */
  down = 1;
  CHECK_INT(watch_check(st, &io, &r, 1040, prev, digest, err, sizeof(err)), -1, "check fails when down");
  CHECK(strstr(err, "Connection refused") != NULL, "the error says why (%s)", err);
  read_watch(st);
  CHECK_STR(w_digest, v3, "the last digest stays");
  CHECK(strstr(w_error, "Connection refused") != NULL, "the error is recorded (%s)", w_error);
  CHECK_INT(w_checked, 1040, "checked_at of the failed check");
  down = 0;
  CHECK_INT(watch_check(st, &io, &r, 1050, prev, digest, err, sizeof(err)), 0, "back up: works, no move");
  read_watch(st);
  CHECK_STR(w_error, "", "error cleared after recovery");

  /* shutdown abort: nothing recorded */
  down = 1;
  abort_flag = 1;
  CHECK_INT(watch_check(st, &io, &r, 1060, prev, digest, err, sizeof(err)), -1, "aborted check fails");
  read_watch(st);
  CHECK(w_checked == 1050 && !w_error[0], "an aborted check records nothing");
  down = 0;
  abort_flag = 0;

  /* a lying registry: Docker-Content-Digest differs from the body */
  char url[512];
  snprintf(url, sizeof(url), BASE_URL "/v2/base/manifests/12");
  serve(url, 200, m1, SC_MT_OCI_MANIFEST, v2);
  CHECK_INT(watch_check(st, &io, &r, 1070, prev, digest, err, sizeof(err)), -1, "digest mismatch refused");
  CHECK(strstr(err, "not") != NULL, "mismatch explained (%s)", err);
  read_watch(st);
  CHECK_STR(w_digest, v3, "digest kept after a mismatch");

  /* unknown tag */
  serve(url, 404, NULL, NULL, NULL);
  CHECK_INT(watch_check(st, &io, &r, 1080, prev, digest, err, sizeof(err)), -1, "404 fails");
  CHECK(strstr(err, "HTTP 404") != NULL, "404 explained (%s)", err);

  /* a config blob that does not match its digest */
  px_watch_ref r2;
  CHECK_INT(px_watch_parse_ref("http://reg.test:5000/bad:1", &r2, err, sizeof(err)), 0, "second entry");
  char vb[72], cdig[72];
  char *mb = image("bad", "56", "amd64", NULL, vb);
  json_t *mj = json_loads(mb, 0, NULL);
  snprintf(cdig, sizeof(cdig), "%s", json_string_value(json_object_get(json_object_get(mj, "config"), "digest")));
  json_decref(mj);
  snprintf(url, sizeof(url), BASE_URL "/v2/bad/blobs/%s", cdig);
  serve(url, 200, "{\"os\":\"linux\"}", NULL, NULL);
  serve_manifest("bad", "1", mb, SC_MT_OCI_MANIFEST);
  CHECK_INT(watch_check(st, &io, &r2, 1090, prev, digest, err, sizeof(err)), -1, "config digest mismatch fails");
  memset(&c, 0, sizeof(c));
  CHECK_INT(sc_store_get_chain(st, vb, &c), SC_ERR_NOTFOUND, "no chain recorded from a bad config");
  sc_chain_free(&c);

  /* an index: two platforms and an attestation */
  px_watch_ref r3;
  CHECK_INT(px_watch_parse_ref("http://reg.test:5000/multi:1", &r3, err, sizeof(err)), 0, "index entry");
  char ca[72], cb[72], idx[72];
  char *ma = image("multi", "ab", "amd64", NULL, ca), *mb2 = image("multi", "34", "arm64", "v8", cb);
  serve_manifest("multi", NULL, ma, SC_MT_OCI_MANIFEST);
  serve_manifest("multi", NULL, mb2, SC_MT_OCI_MANIFEST);
  char ib[4096];
  snprintf(ib, sizeof(ib),
           "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":["
           "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
           "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
           "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"sha256:%064d\",\"size\":10,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}",
           ca, strlen(ma), cb, strlen(mb2), 7);
  serve_manifest("multi", "1", ib, SC_MT_OCI_INDEX);
  sc_digest_sha256(ib, strlen(ib), idx);
  ngets = 0;
  CHECK_INT(watch_check(st, &io, &r3, 1100, prev, digest, err, sizeof(err)), 0, "index resolved (%s)", err);
  CHECK_STR(digest, idx, "the tag's digest is the index");
  CHECK_INT(ngets, 3, "index, arm64 manifest and config fetched (amd64 child is the base image: chain known)");
  nchildren = 0;
  child_platforms[0] = 0;
  CHECK_INT(sc_store_chain_children(st, idx, child_row, NULL), 0, "children listed");
  CHECK_INT(nchildren, 2, "two children recorded, the attestation skipped");
  CHECK(strstr(child_platforms, "linux/amd64") && strstr(child_platforms, "linux/arm64/v8"),
        "children platforms (%s)", child_platforms);
  memset(&c, 0, sizeof(c));
  CHECK_INT(sc_store_get_chain(st, cb, &c), 0, "arm64 child chain recorded");
  CHECK_STR(c.platform, "linux/arm64/v8", "arm64 child platform with variant");
  sc_chain_free(&c);

  free(m1), free(m2), free(m3), free(mb), free(ma), free(mb2);
  for (int i = 0; i < nroutes; i++) free(routes[i].body);
  sc_store_close(st);
  unlink(dbpath);
  char side[300];
  snprintf(side, sizeof(side), "%s-wal", dbpath);
  unlink(side);
  snprintf(side, sizeof(side), "%s-shm", dbpath);
  unlink(side);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0); /* TAP lines and the module's log lines stay in order */
  test_parser();
  test_checks();
  return tap_done();
}
