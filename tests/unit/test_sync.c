/* test_sync.c - the background sync (px_sync.c, px_sync_walk.c,
 * px_sync_link.c and px_sync_rate.c, #included): Link headers (next among
 * several, quoted and bare rel, relative and absolute targets, another origin refused); the
 * token bucket on a fake clock (rate, burst, no second over rate + burst,
 * a sleep cut by shutdown); and rounds driven against a fake registry (a
 * table of URL -> answer behind the sync_io functions) and a fake scanner
 * that records what it is asked, with a real store in a temporary file:
 * catalog and tags pages through Link and through `last=`, a Link to
 * another origin not followed, bad names skipped, a tag HEAD without a
 * digest, an index whose children are scanned before it, a digest
 * mismatch, an oversized manifest and a manifest Go clients read
 * differently refused, tags of a known digest recorded without a scan, a
 * second round that scans nothing, an image whose layer failed retried the
 * next round, every request paced, and a shutdown in the middle of a round.
 *
 * Ownership: everything is the test's.  Thread: one. */
#include "../../proxy/px_sync_rate.c"
#include "../../proxy/px_sync_link.c"
#include "../../proxy/px_sync_walk.c"
#include "../../proxy/px_sync.c"
#include "tap.h"
#include <unistd.h>

#define ORIGIN "http://reg.test:5000"

/* ---- Link headers ---- */

static void link_is(const char *link, const char *want) {
  char out[512] = "x";
  int rc = px_sync_next_url(link, ORIGIN, out, sizeof(out));
  if (want) {
    CHECK(rc == 0 && !strcmp(out, want), "Link '%s' -> %s (got %d '%s')", link, want, rc, out);
  } else {
    CHECK(rc == -1 && out[0] == 0, "Link '%s' not followed (got %d '%s')", link, rc, out);
  }
}

static void test_link(void) {
  link_is("</v2/_catalog?last=b&n=100>; rel=\"next\"", ORIGIN "/v2/_catalog?last=b&n=100");
  link_is("</v2/x/tags/list?last=t&n=100>;rel=next", ORIGIN "/v2/x/tags/list?last=t&n=100");
  link_is("</v2/a?p=1>; rel=\"prev\", </v2/a?p=3>; rel=\"next\"", ORIGIN "/v2/a?p=3");
  link_is("</v2/a?p=3>; title=\"a, b; c\"; REL=\"first Next\"", ORIGIN "/v2/a?p=3");
  link_is("<http://REG.test:5000/v2/_catalog?last=z>; rel=\"next\"", "http://REG.test:5000/v2/_catalog?last=z");
  link_is("<http://reg.test/v2/_catalog?last=z>; rel=\"next\"", NULL);       /* another port */
  link_is("<https://reg.test:5000/v2/_catalog?last=z>; rel=\"next\"", NULL); /* another scheme */
  link_is("<http://evil.test:5000/v2/_catalog>; rel=\"next\"", NULL);
  link_is("<//evil.test/v2/_catalog>; rel=\"next\"", NULL);
  link_is("<v2/_catalog?last=z>; rel=\"next\"", NULL);
  link_is("</v2/a b>; rel=\"next\"", NULL);
  link_is("</v2/a?p=1>; rel=\"prev\"", NULL);
  link_is("</v2/a?p=1>; rel=\"nextpage\"", NULL);
  link_is("", NULL);
  link_is("garbage", NULL);
  link_is("</v2/a", NULL);
  char longlink[4096];
  memset(longlink, 'a', sizeof(longlink));
  memcpy(longlink, "</v2/", 5);
  snprintf(longlink + 3000, sizeof(longlink) - 3000, ">; rel=\"next\"");
  link_is(longlink, NULL); /* longer than out */
}

/* ---- the token bucket on a fake clock ---- */

static int64_t fake_ms;
static int fake_stop;       /* the sleeps report a stop */
static int fake_stop_after; /* > 0: fake_stop is set once this many requests were made */
static int64_t slept_ms;

static int64_t fake_now(void *arg) {
  (void)arg;
  return fake_ms;
}

static int fake_sleep(void *arg, int64_t ms) {
  (void)arg;
  if (fake_stop) return 1;
  fake_ms += ms;
  slept_ms += ms;
  return 0;
}

/* At most `most` of the n times t[] (ascending) in any window of 1000 ms. */
static int window_max(const int64_t *t, size_t n) {
  int most = 0;
  for (size_t i = 0; i < n; i++) {
    int c = 0;
    for (size_t j = i; j < n && t[j] < t[i] + 1000; j++) c++;
    if (c > most) most = c;
  }
  return most;
}

static void test_bucket(void) {
  px_sync_clock clk = {.now_ms = fake_now, .sleep_ms = fake_sleep};
  px_sync_bucket b;
  int64_t t[100];
  fake_ms = 1000000;
  px_sync_bucket_init(&b, 5, 1, &clk);
  for (int i = 0; i < 100; i++) {
    if (px_sync_bucket_take(&b) != 0) break;
    t[i] = fake_ms;
    fake_ms += 3; /* the request itself takes a little time */
  }
  CHECK_INT(b.taken, 100, "100 tokens handed out");
  int64_t span = t[99] - t[0];
  CHECK(span >= 99 * 200 - 99 && span <= 99 * 200 + 99 * 4, "5 a second, burst 1: 100 requests over %lld ms", (long long)span);
  CHECK(window_max(t, 100) <= 5 + 1, "no second holds more than rate + burst (%d)", window_max(t, 100));

  /* burst 4 after an idle spell: 4 at once, then paced */
  fake_ms += 60000;
  px_sync_bucket_init(&b, 10, 4, &clk);
  int64_t t0 = fake_ms;
  for (int i = 0; i < 4; i++) px_sync_bucket_take(&b);
  CHECK_INT(fake_ms - t0, 0, "a full bucket lets its burst through at once");
  for (int i = 0; i < 10; i++) {
    px_sync_bucket_take(&b);
    t[i] = fake_ms;
  }
  CHECK(fake_ms - t0 >= 999 && fake_ms - t0 <= 1011, "then 10 a second (%lld ms for 10)", (long long)(fake_ms - t0));

  /* clamps */
  px_sync_bucket_init(&b, 0, 0, &clk);
  CHECK(b.rate == 1.0 && b.burst == 1.0, "rate and burst at least 1");
  px_sync_bucket_init(&b, PX_SYNC_MAX_RPS * 10, 1, &clk);
  CHECK(b.rate == (double)PX_SYNC_MAX_RPS, "rate at most PX_SYNC_MAX_RPS");

  /* shutdown cuts a wait short */
  px_sync_bucket_init(&b, 1, 1, &clk);
  CHECK_INT(px_sync_bucket_take(&b), 0, "the first token is there");
  fake_stop = 1;
  CHECK_INT(px_sync_bucket_take(&b), -1, "a wait cut by shutdown gives no token");
  fake_stop = 0;
  CHECK_INT(b.taken, 1, "and is not counted");
}

/* ---- a fake registry ---- */

#define MAX_ROUTES 512
typedef struct route {
  char url[600];
  long status;
  char *body;
  char ctype[128];
  char dcd[80];   /* Docker-Content-Digest, "" none */
  char link[600]; /* Link, "" none */
  int head_nodcd; /* HEAD answers without Docker-Content-Digest */
} route;
static route routes[MAX_ROUTES];
static int nroutes, ngets, nheads, nrequests, evil_asked;
static int64_t req_at[4096];

static route *serve(const char *url, long status, const char *body, const char *ctype, const char *dcd, const char *link) {
  route *r = NULL;
  for (int i = 0; i < nroutes; i++)
    if (!strcmp(routes[i].url, url)) r = &routes[i];
  if (!r) r = &routes[nroutes++];
  free(r->body);
  memset(r, 0, sizeof(*r));
  snprintf(r->url, sizeof(r->url), "%s", url);
  r->status = status;
  r->body = body ? strdup(body) : NULL;
  snprintf(r->ctype, sizeof(r->ctype), "%s", ctype ? ctype : "");
  snprintf(r->dcd, sizeof(r->dcd), "%s", dcd ? dcd : "");
  snprintf(r->link, sizeof(r->link), "%s", link ? link : "");
  return r;
}

static route *find(const char *url) {
  for (int i = 0; i < nroutes; i++)
    if (!strcmp(routes[i].url, url)) return &routes[i];
  return NULL;
}

static void count_request(const char *url) {
  if (nrequests < 4096) req_at[nrequests] = fake_ms;
  nrequests++;
  if (strstr(url, "evil")) evil_asked++;
  if (fake_stop_after && nrequests >= fake_stop_after) fake_stop = 1;
  fake_ms += 7; /* a request takes a while */
}

static int t_get(void *arg, const net_http_req *rq, net_http_resp *rs, char *link, size_t linkcap) {
  (void)arg;
  ngets++;
  count_request(rq->url);
  link[0] = 0;
  route *r = find(rq->url);
  if (!r) {
    rs->status = 404;
    return 0;
  }
  rs->status = r->status;
  snprintf(rs->content_type, sizeof(rs->content_type), "%s", r->ctype);
  snprintf(rs->docker_digest, sizeof(rs->docker_digest), "%s", r->dcd);
  snprintf(link, linkcap, "%s", r->link);
  if (r->status == 200 && r->body) {
    if (strlen(r->body) > rq->max_bytes) return SC_ERR_LIMIT;
    rs->body = strdup(r->body);
    rs->len = strlen(r->body);
  }
  return 0;
}

static int t_head(void *arg, const char *url, const char *accept, const char *scope, net_http_resp *rs) {
  (void)arg, (void)accept, (void)scope;
  nheads++;
  count_request(url);
  route *r = find(url);
  rs->status = r ? r->status : 404;
  if (r && !r->head_nodcd) snprintf(rs->docker_digest, sizeof(rs->docker_digest), "%s", r->dcd);
  return 0;
}

/* ---- a fake scanner over a real store ---- */

static sc_store *store;
static char scans[64][300]; /* "repo tag digest" of each scan, in order */
static int nscans, ntagged;
static char fail_digest[72]; /* this image's layer "fails" fail_left times */
static int fail_left;

static int t_scan(void *arg, const char *repo, const char *tag, const char *digest, const char *ctype,
                  const char *body, size_t len, char *err, size_t errlen) {
  (void)arg;
  sc_manifest m;
  char prev[72];
  if (nscans < 64) snprintf(scans[nscans], sizeof(scans[0]), "%s %s %s", repo, tag ? tag : "-", digest);
  nscans++;
  if (sc_manifest_parse(body, len, ctype[0] ? ctype : NULL, &m) != 0) {
    sc_manifest_free(&m);
    snprintf(err, errlen, "manifest not understood");
    return SC_ERR_FORMAT;
  }
  int rc = sc_store_put_manifest_ex(store, repo, tag, digest, &m, NULL, 0, prev);
  int fail = !strcmp(digest, fail_digest) && fail_left > 0;
  for (size_t i = 0; rc == 0 && !fail && i < m.nlayers; i++) {
    sc_layer_result res;
    sc_inventory inv;
    memset(&res, 0, sizeof(res));
    snprintf(res.digest, sizeof(res.digest), "%s", m.layers[i].digest);
    snprintf(res.compression, sizeof(res.compression), "gzip");
    sc_inventory_init(&inv);
    rc = sc_store_put_layer(store, res.digest, &res, &inv);
    sc_inventory_free(&inv);
  }
  sc_manifest_free(&m);
  if (fail) {
    fail_left--;
    snprintf(err, errlen, "some layers could not be scanned");
    return SC_ERR_IO;
  }
  return rc;
}

static int t_record_tag(void *arg, sc_store *st, const char *repo, const char *tag, const char *digest) {
  (void)arg;
  ntagged++;
  return sc_store_put_tag(st, repo, tag, digest, NULL);
}

/* ---- images ---- */

static void hexid(char out[72], int n) {
  snprintf(out, 72, "sha256:%064x", n);
}

/* An image manifest over one layer (numbered n), its digest in d. */
static char *image_json(int n, char d[72]) {
  char cfg[72], layer[72], *m = malloc(1024);
  hexid(cfg, 1000 + n);
  hexid(layer, 2000 + n);
  snprintf(m, 1024,
           "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"mediaType\":"
           "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":10},\"layers\":[{\"mediaType\":"
           "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":100}]}",
           cfg, layer);
  sc_digest_sha256(m, strlen(m), d);
  return m;
}

/* Serves body under repo by digest, and under tag (when not NULL). */
static void serve_manifest(const char *repo, const char *tag, const char *body, const char *ctype) {
  char url[600], d[72];
  sc_digest_sha256(body, strlen(body), d);
  snprintf(url, sizeof(url), ORIGIN "/v2/%s/manifests/%s", repo, d);
  serve(url, 200, body, ctype, d, NULL);
  if (tag) {
    snprintf(url, sizeof(url), ORIGIN "/v2/%s/manifests/%s", repo, tag);
    serve(url, 200, body, ctype, d, NULL);
  }
}

static int scanned(const char *repo, const char *tag, const char *digest) {
  char want[300];
  snprintf(want, sizeof(want), "%s %s %s", repo, tag ? tag : "-", digest);
  int n = 0;
  for (int i = 0; i < nscans && i < 64; i++)
    if (!strcmp(scans[i], want)) n++;
  return n;
}

static int scan_pos(const char *digest) {
  for (int i = 0; i < nscans && i < 64; i++)
    if (strstr(scans[i], digest)) return i;
  return -1;
}

static char *tags_json(const char *name, int from, int to, const char *extra) {
  char *s = malloc(8192);
  size_t o = (size_t)snprintf(s, 8192, "{\"name\":\"%s\",\"tags\":[", name);
  for (int i = from; i < to; i++) o += (size_t)snprintf(s + o, 8192 - o, "%s\"t%03d\"", i == from ? "" : ",", i);
  snprintf(s + o, 8192 - o, "%s%s]}", extra && to > from ? "," : "", extra ? extra : "");
  return s;
}

static void reset_counts(void) {
  ngets = nheads = nrequests = nscans = ntagged = evil_asked = 0;
}

static void test_rounds(void) {
  char dbpath[] = "/tmp/customs-test-sync-XXXXXX", dA[72], dB[72], dC[72], dD[72], dX[72], dY[72], dI[72], dBad[72];
  int fd = mkstemp(dbpath);
  close(fd);
  unlink(dbpath);
  CHECK_INT(sc_store_open(dbpath, &store), 0, "store opened");

  /* catalog: page 1 (Link, relative) -> page 2 (Link absolute on the same origin) -> page 3 whose
   * Link points at another origin (not followed) */
  serve(ORIGIN "/v2/_catalog?n=100", 200, "{\"repositories\":[\"app\",\"Bad Name\",\"base\",\"again\"]}", "application/json",
        NULL, "</v2/_catalog?last=base&n=100>; rel=\"next\"");
  serve(ORIGIN "/v2/_catalog?last=base&n=100", 200, "{\"repositories\":[\"multi\"]}", "application/json", NULL,
        "<" ORIGIN "/v2/_catalog?last=multi&n=100>; rel=\"next\"");
  serve(ORIGIN "/v2/_catalog?last=multi&n=100", 200, "{\"repositories\":[\"team/broken\"]}", "application/json",
        NULL, "<http://evil.test:5000/v2/_catalog?last=x&n=100>; rel=\"next\"");
  serve("http://evil.test:5000/v2/_catalog?last=x&n=100", 200, "{\"repositories\":[\"evil\"]}", "application/json",
        NULL, NULL);

  /* app: tags v1, v2 (same image A) on page 1, v3 (image B, HEAD without a digest) on page 2 */
  serve(ORIGIN "/v2/app/tags/list?n=100", 200, "{\"name\":\"app\",\"tags\":[\"v1\",\"v2\",\"-bad\"]}",
        "application/json", NULL, "</v2/app/tags/list?last=v2&n=100>; rel=\"next\"");
  serve(ORIGIN "/v2/app/tags/list?last=v2&n=100", 200, "{\"name\":\"app\",\"tags\":[\"v3\"]}", "application/json",
        NULL, NULL);
  char *mA = image_json(1, dA), *mB = image_json(2, dB), *mC = image_json(3, dC), *mD = image_json(4, dD);
  serve_manifest("app", "v1", mA, SC_MT_OCI_MANIFEST);
  serve_manifest("app", "v2", mA, SC_MT_OCI_MANIFEST);
  serve_manifest("app", "v3", mB, SC_MT_OCI_MANIFEST);
  find(ORIGIN "/v2/app/manifests/v3")->head_nodcd = 1;

  /* base: a full page of 100 tags and no Link (paged with last=), then t100 (image D, whose
   * layer fails once) and the tag "huge" (over SC_MANIFEST_MAX_BYTES) */
  char *tp = tags_json("base", 0, 100, NULL);
  serve(ORIGIN "/v2/base/tags/list?n=100", 200, tp, "application/json", NULL, NULL);
  free(tp);
  serve(ORIGIN "/v2/base/tags/list?n=100&last=t099", 200, "{\"name\":\"base\",\"tags\":[\"t100\",\"zhuge\"]}",
        "application/json", NULL, NULL);
  /* again: a registry that ignores last= (the same page, and one more tag): repeats not walked twice */
  tp = tags_json("again", 0, 100, NULL);
  serve(ORIGIN "/v2/again/tags/list?n=100", 200, tp, "application/json", NULL, NULL);
  free(tp);
  tp = tags_json("again", 0, 101, NULL);
  serve(ORIGIN "/v2/again/tags/list?n=100&last=t099", 200, tp, "application/json", NULL, NULL);
  free(tp);
  for (int i = 0; i <= 100; i++) {
    char t[8];
    snprintf(t, sizeof(t), "t%03d", i);
    serve_manifest("again", t, mC, SC_MT_OCI_MANIFEST);
  }
  for (int i = 0; i < 100; i++) {
    char t[8];
    snprintf(t, sizeof(t), "t%03d", i);
    serve_manifest("base", t, mC, SC_MT_OCI_MANIFEST);
  }
  serve_manifest("base", "t100", mD, SC_MT_OCI_MANIFEST);
  snprintf(fail_digest, sizeof(fail_digest), "%s", dD);
  fail_left = 1;
  size_t hugelen = SC_MANIFEST_MAX_BYTES + 10;
  char *huge = malloc(hugelen + 1);
  memset(huge, ' ', hugelen);
  huge[hugelen] = 0;
  serve_manifest("base", "zhuge", huge, SC_MT_OCI_MANIFEST);
  free(huge);

  /* multi: an index over two images X and Y */
  char *mX = image_json(5, dX), *mY = image_json(6, dY), idx[2048];
  snprintf(idx, sizeof(idx),
           "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":["
           "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
           "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}",
           dX, strlen(mX), dY, strlen(mY));
  sc_digest_sha256(idx, strlen(idx), dI);
  serve(ORIGIN "/v2/multi/tags/list?n=100", 200, "{\"name\":\"multi\",\"tags\":[\"latest\"]}", "application/json",
        NULL, NULL);
  serve_manifest("multi", "latest", idx, SC_MT_OCI_INDEX);
  serve_manifest("multi", NULL, mX, SC_MT_OCI_MANIFEST);
  serve_manifest("multi", NULL, mY, SC_MT_OCI_MANIFEST);

  /* team/broken: "lie" answers a body that is not the digest it claims; "folded" is a manifest Go
   * clients read differently (duplicate key) */
  serve(ORIGIN "/v2/team/broken/tags/list?n=100", 200, "{\"name\":\"team/broken\",\"tags\":[\"lie\",\"folded\"]}",
        "application/json", NULL, NULL);
  hexid(dBad, 777);
  serve(ORIGIN "/v2/team/broken/manifests/lie", 200, mB, SC_MT_OCI_MANIFEST, dBad, NULL);
  char url[600];
  snprintf(url, sizeof(url), ORIGIN "/v2/team/broken/manifests/%s", dBad);
  serve(url, 200, mB, SC_MT_OCI_MANIFEST, dBad, NULL);
  const char *folded = "{\"schemaVersion\":2,\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST
                       "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
                       "\"sha256:0000000000000000000000000000000000000000000000000000000000000009\",\"size\":1},\"layers\":[]}";
  char dF[72];
  sc_digest_sha256(folded, strlen(folded), dF);
  serve_manifest("team/broken", "folded", folded, SC_MT_OCI_MANIFEST);

  px_sync_clock clk = {.now_ms = fake_now, .sleep_ms = fake_sleep};
  px_sync_bucket bucket;
  fake_ms = 5000000;
  px_sync_bucket_init(&bucket, 20, 1, &clk);
  static sync_io io; /* static: the failure memory is large */
  io.get = t_get;
  io.head = t_head;
  io.scan = t_scan;
  io.record_tag = t_record_tag;
  io.abort_flag = &fake_stop;
  io.bucket = &bucket;
  io.origin = ORIGIN;
  px_sync_stats st;
  char err[256] = "", have[72] = "";

  /* ---- round 1 ---- */
  reset_counts();
  int64_t t0 = fake_ms;
  CHECK_INT(px_sync_round(store, &io, &st, err, sizeof(err)), 0, "round 1 walked (%s)", err);
  CHECK_INT(st.repositories, 5, "round 1: app, base, again, multi, team/broken (a bad name skipped, evil not followed)");
  CHECK_INT(evil_asked, 0, "the Link to another origin was not followed");
  CHECK_INT(st.tags, 3 + 102 + 101 + 1 + 2, "round 1: every tag of every page once (a bad tag, repeats skipped)");
  CHECK_INT(st.images, 3 + 102 + 101 + 1 + 2 + 2, "round 1: images = tags + index children");
  CHECK_INT(scanned("app", "v1", dA), 1, "app:v1 scanned with its tag");
  CHECK_INT(scanned("app", "v2", dA), 0, "app:v2, the same digest, not scanned again");
  CHECK_INT(scanned("app", "v3", dB), 1, "app:v3 (HEAD without a digest) fetched by tag and scanned");
  CHECK_INT(scanned("base", "t000", dC), 1, "base:t000 scanned");
  CHECK_INT(scanned("base", "t100", dD), 1, "base:t100, past the first full page (last=), scanned");
  CHECK_INT(scanned("multi", NULL, dX) + scanned("multi", NULL, dY), 2, "the index's children scanned");
  CHECK_INT(scanned("multi", "latest", dI), 1, "the index scanned with its tag");
  CHECK(scan_pos(dX) >= 0 && scan_pos(dY) >= 0 && scan_pos(dX) < scan_pos(dI) && scan_pos(dY) < scan_pos(dI),
        "children before their index");
  CHECK_INT(scanned("team/broken", "lie", dB) + scan_pos(dBad) + 1, 0, "a body that is not its digest is not scanned");
  CHECK_INT(scan_pos(dF), -1, "a manifest Go clients read differently is not scanned");
  CHECK_INT(st.scanned, 6, "round 1: A, B, C, X, Y, the index scanned");
  CHECK_INT(st.failed, 4, "round 1: D (a layer), zhuge, lie, folded failed");
  CHECK_INT(st.known, 1 + 99 + 101, "round 1: app:v2, base:t001..t099, again:t000..t100 known by digest");
  CHECK_INT(ntagged, 1 + 99 + 101, "round 1: their tags recorded without a scan");
  CHECK(sc_store_resolve(store, "again", "t100", have) == 0 && !strcmp(have, dC), "the store says again:t100 -> C");
  CHECK(sc_store_resolve(store, "app", "v2", have) == 0 && !strcmp(have, dA), "the store says app:v2 -> A");
  CHECK(sc_store_resolve(store, "base", "t057", have) == 0 && !strcmp(have, dC), "the store says base:t057 -> C");
  CHECK_INT(st.requests, nrequests, "every request of the walk took a token");
  CHECK_INT(bucket.taken, (uint64_t)nrequests, "the bucket handed out one token per request");
  CHECK(window_max(req_at, (size_t)nrequests) <= 20 + 1, "no second held more than 20 + 1 requests (%d)",
        window_max(req_at, (size_t)nrequests));
  CHECK(fake_ms - t0 >= (int64_t)(nrequests - 1) * 50, "%d requests at 20 a second took %lld ms", nrequests,
        (long long)(fake_ms - t0));
  CHECK(!st.stopped, "round 1 was not cut short");

  /* ---- round 2: nothing changed but D's layer now works ---- */
  reset_counts();
  CHECK_INT(px_sync_round(store, &io, &st, err, sizeof(err)), 0, "round 2 walked");
  CHECK_INT(nscans, 1, "round 2: one scan");
  CHECK_INT(scanned("base", "t100", dD), 1, "round 2: D, whose layer was missing, scanned again");
  CHECK_INT(st.scanned, 1, "round 2: scanned=1");
  CHECK_INT(st.failed, 3, "round 2: the three broken ones fail again");
  CHECK_INT(st.known, st.images - 4, "round 2: everything else known");
  CHECK_INT(ntagged, 0, "round 2: no tag to record");

  /* ---- round 3: nothing to do; known manifests cost a HEAD, not a GET ---- */
  reset_counts();
  CHECK_INT(px_sync_round(store, &io, &st, err, sizeof(err)), 0, "round 3 walked");
  CHECK_INT(st.scanned, 0, "round 3: scanned=0");
  CHECK_INT(nscans, 0, "round 3: the scanner was not called");
  CHECK_INT(st.known, st.images - 3, "round 3: known=images - the broken ones");
  /* GETs: 3 catalog pages + 2 + 2 + 2 + 1 + 1 tags pages + app:v3 (no digest in its HEAD) + 3 broken */
  CHECK_INT(ngets, 3 + 8 + 1 + 3, "round 3: only list pages and manifests whose HEAD was not enough were GET");
  CHECK_INT(nheads, st.tags, "round 3: one HEAD per tag");

  /* a moved tag: app:v2 now points at B (known): recorded, no scan */
  serve_manifest("app", "v2", mB, SC_MT_OCI_MANIFEST);
  reset_counts();
  CHECK_INT(px_sync_round(store, &io, &st, err, sizeof(err)), 0, "round 4 walked");
  CHECK_INT(nscans, 0, "round 4: a tag moved to a known digest is not scanned");
  CHECK(sc_store_resolve(store, "app", "v2", have) == 0 && !strcmp(have, dB), "round 4: the store says app:v2 -> B");

  /* ---- shutdown in the middle of a round ---- */
  reset_counts();
  fake_stop_after = 20;
  CHECK_INT(px_sync_round(store, &io, &st, err, sizeof(err)), 0, "a round cut by shutdown returns");
  CHECK(st.stopped, "it says it stopped");
  CHECK_INT(nrequests, 20, "no request after the stop");
  CHECK_INT(st.failed, 0, "nothing counted as failed for the stop");
  fake_stop = 0;
  fake_stop_after = 0;

  /* ---- the catalog unreadable ---- */
  serve(ORIGIN "/v2/_catalog?n=100", 401, NULL, NULL, NULL, NULL);
  reset_counts();
  err[0] = 0;
  CHECK_INT(px_sync_round(store, &io, &st, err, sizeof(err)), -1, "a catalog refused fails the round");
  CHECK(strstr(err, "401") != NULL, "and says why: %s", err);
  serve(ORIGIN "/v2/_catalog?n=100", 200, "{\"repositories\":7}", "application/json", NULL, NULL);
  CHECK_INT(px_sync_round(store, &io, &st, err, sizeof(err)), -1, "a catalog that is not the registry's JSON fails");

  /* the store call behind record_tag */
  char prev[72] = "x";
  CHECK_INT(sc_store_put_tag(store, "app", "v9", dBad, prev), SC_ERR_NOTFOUND, "sc_store_put_tag: an unknown digest is refused");
  CHECK(sc_store_resolve(store, "app", "v9", have) == SC_ERR_NOTFOUND && prev[0] == 0, "and nothing is recorded");
  CHECK_INT(sc_store_put_tag(store, "app", "v2", dA, prev), 0, "sc_store_put_tag: app:v2 back to A");
  CHECK_STR(prev, dB, "the move is recorded: app:v2 left B");
  CHECK_INT(sc_store_put_tag(store, "app", "v2", dA, prev), 0, "the same tag again");
  CHECK_STR(prev, "", "is no move");

  free(mA), free(mB), free(mC), free(mD), free(mX), free(mY);
  for (int i = 0; i < nroutes; i++) free(routes[i].body);
  sc_store_close(store);
  unlink(dbpath);
}

/* Tags of the OCI referrers tag schema are referrer indexes, not images:
 * the walk skips them (customs' own annotations among them). */
static void test_referrers_tags(void) {
  char t[80];
  snprintf(t, sizeof(t), "sha256-%064d", 7);
  CHECK(referrers_tag(t), "sha256-<64 hex> is the referrers tag schema");
  t[20] = 'G';
  CHECK(!referrers_tag(t), "not hex: an ordinary tag");
  CHECK(!referrers_tag("sha256-abc"), "too short: an ordinary tag");
  CHECK(!referrers_tag("v1") && !referrers_tag("sha512-00"), "other tags are images");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  test_link();
  test_referrers_tags();
  test_bucket();
  test_rounds();
  return tap_done();
}
