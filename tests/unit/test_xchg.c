/* test_xchg.c - the exchange (px_xchg.c) alone, h2o-style: the module is
 * #included and driven with a fake front end (px_front_ops recording every
 * call), a stub upstream (px_upstream_* / px_upconn_* below record what
 * would go to the registry) and a fake interception (px_intercept_ops with
 * scripted answers).  Covers the upstream request head (hop-by-hop fields,
 * fields named by Connection, conditional fields on manifest reads, the
 * added Accept, X-Forwarded-*), response filtering and the Location
 * rewrite, held requests, and the hold/release ordering, including a local
 * answer while held and a free while held (immediate and deferred).
 *
 * Ownership: everything is the test's.  Thread: one (the loop's). */
#include "../../proxy/px_xchg.c"
#include "tap.h"
#include <event2/buffer.h>
#include <event2/event.h>

/* ---- stub upstream: what px_xchg sends, and how it lets go ---- */

struct px_upconn {
  struct evbuffer *out; /* request bytes "written to the registry" */
  int attached, detached, last_reusable, request_done, resumed;
};
static struct px_upconn up_stub;
static int attach_rc; /* what the next px_upstream_attach returns */
static int admit_rc;  /* what the next px_upstream_admit returns */

int px_upstream_admit(px_ctx *ctx, px_xchg *x) {
  (void)ctx;
  if (admit_rc == 1) x->queued = 1;
  return admit_rc;
}
void px_upstream_dequeue(px_xchg *x) { x->queued = 0; }
int px_upstream_attach(px_ctx *ctx, px_xchg *x) {
  (void)ctx;
  if (attach_rc < 0) return attach_rc;
  x->up = &up_stub;
  up_stub.attached++;
  return 0;
}
void px_upstream_detach(px_xchg *x, int reusable) {
  if (!x->up) return;
  x->up = NULL;
  up_stub.detached++;
  up_stub.last_reusable = reusable;
}
int px_upconn_write(px_upconn *up, const void *data, size_t len) { return evbuffer_add(up->out, data, len); }
int px_upconn_write_chunk(px_upconn *up, const void *data, size_t len) {
  return evbuffer_add_printf(up->out, "%zx\r\n", len) < 0 || evbuffer_add(up->out, data, len) < 0 ||
                 evbuffer_add(up->out, "\r\n", 2) < 0
             ? SC_ERR_NOMEM
             : 0;
}
void px_upconn_request_done(px_upconn *up) { up->request_done++; }
size_t px_upconn_pending(const px_upconn *up) { return evbuffer_get_length(up->out); }
void px_upconn_resume(px_upconn *up) { up->resumed++; }
static int drained_checks;
void px_server_check_drained(px_ctx *ctx) {
  (void)ctx;
  drained_checks++;
}

/* The request bytes sent so far, as a string (drains the stub). */
static char sent[16384];
static const char *take_sent(void) {
  size_t n = evbuffer_get_length(up_stub.out);
  if (n >= sizeof(sent)) n = sizeof(sent) - 1;
  evbuffer_remove(up_stub.out, sent, n);
  sent[n] = 0;
  evbuffer_drain(up_stub.out, evbuffer_get_length(up_stub.out));
  return sent;
}

/* ---- fake front: records the order of its callbacks ---- */

typedef struct front {
  char log[64];        /* H head, D data, R drained, A abort */
  int status_at_head;  /* x->resp_status when the head was given */
  char body[4096];     /* body bytes taken at each D */
  size_t bodylen;
  int free_in_head;    /* calls px_xchg_free from inside on_response (against the rule) */
} front;

static void logc(char *log, char c) {
  size_t n = strlen(log);
  if (n + 1 < 64) log[n] = c, log[n + 1] = 0;
}

static void f_response(px_xchg *x) {
  front *f = x->front;
  logc(f->log, 'H');
  f->status_at_head = x->resp_status;
  if (f->free_in_head) px_xchg_free(x);
}
static void f_data(px_xchg *x) {
  front *f = x->front;
  logc(f->log, 'D');
  int n = evbuffer_remove(x->resp_body, f->body + f->bodylen, sizeof(f->body) - 1 - f->bodylen);
  if (n > 0) f->bodylen += (size_t)n;
  f->body[f->bodylen] = 0;
}
static void f_drained(px_xchg *x) { logc(((front *)x->front)->log, 'R'); }
static void f_abort(px_xchg *x) { logc(((front *)x->front)->log, 'A'); }
static const px_front_ops fops = {f_response, f_data, f_drained, f_abort};

/* ---- fake interception: scripted answers, recorded calls ---- */

static char ilog[64];  /* q request, b req_body, e req_end, c req_complete, h head, d body, n done, f free */
static px_req_rc i_req_rc;
static px_hook_rc i_head_rc;
static int i_answer_in_head; /* response_head answers 403 itself, as the pull gate does */
static char i_complete_body[256];

static px_req_rc i_request(px_xchg *x) {
  (void)x;
  logc(ilog, 'q');
  return i_req_rc;
}
static void i_req_body(px_xchg *x, const void *d, size_t n) {
  (void)x, (void)d, (void)n;
  logc(ilog, 'b');
}
static void i_req_end(px_xchg *x) {
  (void)x;
  logc(ilog, 'e');
}
static px_hook_rc i_req_complete(px_xchg *x, const void *body, size_t len) {
  logc(ilog, 'c');
  snprintf(i_complete_body, sizeof(i_complete_body), "%.*s", (int)len, (const char *)body);
  px_xchg_proceed(x);
  return PX_HOOK_PASS;
}
static px_hook_rc i_response_head(px_xchg *x) {
  logc(ilog, 'h');
  if (i_answer_in_head) {
    px_upstream_detach(x, 0);
    x->held = 0;
    px_xchg_respond_error(x, 403, "DENIED", "denied by policy");
    return PX_HOOK_ANSWERED;
  }
  return i_head_rc;
}
static void i_resp_body(px_xchg *x, const void *d, size_t n) {
  (void)x, (void)d, (void)n;
  logc(ilog, 'd');
}
static px_hook_rc i_response_done(px_xchg *x) {
  (void)x;
  logc(ilog, 'n');
  return PX_HOOK_PASS;
}
static void i_free(px_xchg *x) {
  (void)x;
  logc(ilog, 'f');
}
static size_t ibacklog; /* what the fake interception says it has not passed on */
static size_t i_req_backlog(const px_xchg *x) {
  (void)x;
  return ibacklog;
}
static const px_intercept_ops iops = {i_request,       i_req_body,    i_req_end,       i_req_complete,
                                      i_response_head, i_resp_body,   i_response_done, i_free,
                                      i_req_backlog};

/* ---- helpers ---- */

static px_ctx ctx;
static px_config cfg;

static void reset(void) {
  memset(ilog, 0, sizeof(ilog));
  i_req_rc = PX_REQ_PROCEED;
  i_head_rc = PX_HOOK_PASS;
  i_answer_in_head = 0;
  attach_rc = 0;
  admit_rc = 0;
  up_stub.attached = up_stub.detached = up_stub.request_done = up_stub.resumed = 0;
  up_stub.last_reusable = -1;
  evbuffer_drain(up_stub.out, evbuffer_get_length(up_stub.out));
}

static void hdr(px_headers *h, const char *n, const char *v) { px_headers_add(h, n, strlen(n), v, strlen(v)); }

static px_xchg *req(front *f, const char *method, const char *path) {
  px_xchg *x = px_xchg_new(&ctx, &fops, f);
  memset(f, 0, sizeof(*f));
  snprintf(x->method, sizeof(x->method), "%s", method);
  x->path = strdup(path);
  x->authority = strdup("registry.example:5443");
  x->proto = "h1";
  snprintf(x->peer, sizeof(x->peer), "10.0.0.7:4242");
  return x;
}

/* Runs the loop's pending callbacks (deferred frees). */
static void run_loop(void) { event_base_loop(ctx.base, EVLOOP_NONBLOCK); }

/* A response head from the upstream, as px_upstream.c would deliver it. */
static void up_head(px_xchg *x, int status, const char *const *fields) {
  for (size_t i = 0; fields && fields[i]; i += 2) hdr(&x->resp, fields[i], fields[i + 1]);
  px_xchg_upstream_head(x, status, !strcmp(x->method, "HEAD"));
}

static void up_body(px_xchg *x, const char *s) {
  evbuffer_add(x->resp_body, s, strlen(s));
  x->resp_bytes += strlen(s);
  px_xchg_upstream_body(x, s, strlen(s));
}

/* ---- the upstream request head: header sanitising ---- */

static void test_request_head(void) {
  front f;
  reset();
  ctx.intercept = NULL; /* the plain proxy */
  px_xchg *x = req(&f, "GET", "/v2/team/app/manifests/1.0");
  hdr(&x->req, "Connection", "keep-alive, x-trace");
  hdr(&x->req, "X-Trace", "t1");
  hdr(&x->req, "Keep-Alive", "timeout=5");
  hdr(&x->req, "TE", "trailers");
  hdr(&x->req, "Upgrade", "h2c");
  hdr(&x->req, "Proxy-Authorization", "Basic eDp5");
  hdr(&x->req, "If-None-Match", "\"sha256:abc\"");
  hdr(&x->req, "If-Modified-Since", "Mon, 01 Jan 2024 00:00:00 GMT");
  hdr(&x->req, "Range", "bytes=0-10");
  hdr(&x->req, "If-Range", "\"x\"");
  hdr(&x->req, "Accept", "application/vnd.oci.image.manifest.v1+json");
  hdr(&x->req, "Authorization", "Bearer tok");
  hdr(&x->req, "X-Forwarded-For", "192.0.2.1");
  hdr(&x->req, "X-Forwarded-Proto", "gopher");
  hdr(&x->req, "Host", "registry.example:5443");
  hdr(&x->req, "User-Agent", "skopeo/1");
  px_xchg_start(x);
  const char *s = take_sent();
  CHECK(!strncmp(s, "GET /v2/team/app/manifests/1.0 HTTP/1.1\r\nHost: upstream.test:5000\r\n", 67),
        "request line and the upstream's Host first");
  CHECK(!strstr(s, "x-trace"), "a field named by Connection is dropped");
  CHECK(!strstr(s, "connection:") && !strstr(s, "keep-alive") && !strstr(s, "te:") && !strstr(s, "upgrade") &&
            !strstr(s, "proxy-authorization"),
        "hop-by-hop fields are dropped");
  CHECK(!strstr(s, "if-none-match") && !strstr(s, "if-modified-since") && !strstr(s, "range:") &&
            !strstr(s, "if-range"),
        "conditional and range fields are dropped on a manifest GET");
  CHECK(strstr(s, "accept: application/vnd.oci.image.manifest.v1+json\r\n") != NULL, "the client's Accept is kept");
  CHECK(strstr(s, "Accept: application/vnd.docker.distribution.manifest.v2+json, "
                  "application/vnd.docker.distribution.manifest.list.v2+json, "
                  "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json\r\n") != NULL,
        "every judgeable manifest type is added to Accept");
  CHECK(strstr(s, "authorization: Bearer tok\r\n") != NULL, "Authorization passes");
  CHECK(strstr(s, "user-agent: skopeo/1\r\n") != NULL, "end-to-end fields pass");
  CHECK(!strstr(s, "gopher") && strstr(s, "X-Forwarded-Proto: http\r\n") != NULL,
        "X-Forwarded-Proto is customs' own, not the client's");
  CHECK(strstr(s, "X-Forwarded-For: 192.0.2.1, 10.0.0.7:4242\r\n") != NULL, "X-Forwarded-For is appended to");
  CHECK(strstr(s, "X-Forwarded-Host: registry.example:5443\r\n") != NULL, "X-Forwarded-Host is the client's authority");
  CHECK(strstr(s, "host: registry") == NULL, "the client's Host does not go upstream");
  CHECK(!strstr(s, "Content-Length") && !strstr(s, "Transfer-Encoding"), "no body framing on a GET");
  CHECK(!strcmp(s + strlen(s) - 4, "\r\n\r\n"), "the head ends with an empty line");
  CHECK_INT(up_stub.request_done, 1, "a bodyless request is complete upstream at once");
  px_xchg_free(x);

  /* a blob GET keeps its conditional and range fields: only manifests are judged whole */
  reset();
  x = req(&f, "GET", "/v2/team/app/blobs/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  hdr(&x->req, "Range", "bytes=0-10");
  hdr(&x->req, "If-None-Match", "\"e\"");
  px_xchg_start(x);
  s = take_sent();
  CHECK(strstr(s, "range: bytes=0-10\r\n") && strstr(s, "if-none-match: \"e\"\r\n"),
        "Range and If-None-Match pass on a blob GET");
  CHECK(!strstr(s, "Accept: application/vnd.docker"), "no Accept is added outside manifest reads");
  px_xchg_free(x);

  /* a PUT without a body says so; a chunked body is framed as such */
  reset();
  x = req(&f, "PUT", "/v2/team/app/blobs/uploads/u1?_state=s&digest=sha256%3Aab");
  px_xchg_start(x);
  CHECK(strstr(take_sent(), "Content-Length: 0\r\n") != NULL, "a bodyless PUT sends Content-Length: 0");
  px_xchg_free(x);
  reset();
  x = req(&f, "PATCH", "/v2/team/app/blobs/uploads/u1?_state=s");
  x->req_has_body = 1;
  x->req_cl = -1;
  px_xchg_start(x);
  CHECK(strstr(take_sent(), "Transfer-Encoding: chunked\r\n") != NULL, "an unknown-length body goes chunked");
  px_xchg_req_body(x, "abc", 3);
  px_xchg_req_end(x);
  CHECK_STR(take_sent(), "3\r\nabc\r\n0\r\n\r\n", "chunks and the last chunk follow the head");
  px_xchg_free(x);

  /* refusals before anything goes upstream */
  reset();
  x = req(&f, "GET", "/v2/team/app/manifests/1.0");
  hdr(&x->req, "Connection", "authorization");
  hdr(&x->req, "Authorization", "Bearer t");
  px_xchg_start(x);
  CHECK_INT(x->resp_status, 400, "Connection naming Authorization is refused");
  CHECK_INT(up_stub.attached, 0, "and nothing went upstream");
  px_xchg_free(x);
  reset();
  x = req(&f, "POST", "/v2/team/app/blobs/uploads/?digest=sha256%3Aab");
  hdr(&x->req, "Content-Type", "application/x-www-form-urlencoded");
  px_xchg_start(x);
  CHECK_INT(x->resp_status, 400, "a form body on an upload route is refused");
  px_xchg_free(x);
}

/* ---- the response head: hop-by-hop fields and Location ---- */

#define STATE "_state=Ab%2Bc%2F%3D%3D&x=1"

static const char *location_after(int tls, const char *loc) {
  static char got[512];
  front f;
  reset();
  px_xchg *x = req(&f, "POST", "/v2/team/app/blobs/uploads/");
  x->tls = tls;
  px_xchg_start(x);
  const char *fields[] = {"Location", loc, NULL};
  up_head(x, 202, fields);
  snprintf(got, sizeof(got), "%s", px_headers_get(&x->resp, "location") ? px_headers_get(&x->resp, "location") : "");
  px_xchg_free(x);
  return got;
}

static void test_response_head(void) {
  ctx.intercept = NULL;
  CHECK_STR(location_after(0, "http://upstream.test:5000/v2/team/app/blobs/uploads/u1?" STATE),
            "http://registry.example:5443/v2/team/app/blobs/uploads/u1?" STATE,
            "Location on the upstream origin points at the client's address, path and _state byte-exact");
  CHECK_STR(location_after(1, "http://upstream.test:5000/v2/a/blobs/uploads/u2?" STATE),
            "https://registry.example:5443/v2/a/blobs/uploads/u2?" STATE, "a TLS client gets https");
  CHECK_STR(location_after(0, "HTTP://UPSTREAM.TEST:5000/v2/x"), "http://registry.example:5443/v2/x",
            "the origin is compared without case");
  CHECK_STR(location_after(0, "http://upstream.test:5000"), "http://registry.example:5443", "a bare origin");
  CHECK_STR(location_after(0, "http://other.test:5000/v2/a?" STATE), "http://other.test:5000/v2/a?" STATE,
            "a Location on another host is left alone");
  CHECK_STR(location_after(0, "http://upstream.test:50001/v2/a"), "http://upstream.test:50001/v2/a",
            "a longer port is another origin");
  CHECK_STR(location_after(0, "http://upstream.test:5000.evil/v2/a"), "http://upstream.test:5000.evil/v2/a",
            "a host that only starts like the origin is left alone");
  CHECK_STR(location_after(0, "/v2/team/app/blobs/uploads/u3?" STATE), "/v2/team/app/blobs/uploads/u3?" STATE,
            "a relative Location is left alone");

  front f;
  reset();
  px_xchg *x = req(&f, "GET", "/v2/team/app/tags/list");
  px_xchg_start(x);
  const char *fields[] = {"Connection", "x-private", "X-Private", "1", "Keep-Alive", "timeout=3",
                          "Transfer-Encoding", "chunked", "Content-Length", "99", "Content-Type",
                          "application/json", NULL};
  up_head(x, 200, fields);
  CHECK(!px_headers_get(&x->resp, "x-private"), "a response field named by Connection is dropped");
  CHECK(!px_headers_get(&x->resp, "connection") && !px_headers_get(&x->resp, "keep-alive") &&
            !px_headers_get(&x->resp, "transfer-encoding"),
        "response hop-by-hop fields are dropped");
  CHECK(!px_headers_get(&x->resp, "content-length"), "Content-Length beside Transfer-Encoding is dropped");
  CHECK_INT(x->resp_cl, -1, "the length is unknown then");
  CHECK_STR(px_headers_get(&x->resp, "content-type"), "application/json", "end-to-end fields stay");
  CHECK_STR(f.log, "H", "a plain proxy gives the head at once");
  up_body(x, "{}");
  px_xchg_upstream_done(x);
  CHECK_STR(f.log, "HDD", "then each body piece and the end");
  CHECK_STR(f.body, "{}", "the body arrives whole");
  px_xchg_free(x);
  CHECK_INT(up_stub.last_reusable, 1, "a complete exchange gives its connection back for reuse");
}

/* ---- hold/release ordering ---- */

static void test_hold_release(void) {
  front f;
  ctx.intercept = &iops;

  /* held: nothing reaches the front until the release; head before body */
  reset();
  i_head_rc = PX_HOOK_HOLD;
  px_xchg *x = req(&f, "PUT", "/v2/team/app/blobs/uploads/u1?_state=s&digest=sha256%3Aab");
  px_xchg_start(x);
  up_head(x, 201, NULL);
  CHECK_INT(x->held, 1, "the head is held");
  CHECK_STR(f.log, "", "a held head is not given to the front");
  up_body(x, "body");
  CHECK_STR(f.log, "", "nor its body");
  px_xchg_upstream_done(x);
  CHECK_STR(f.log, "", "nor its end");
  CHECK_STR(ilog, "qehdn", "the interception saw request, end, head, body, done in order");
  px_xchg_release(x, "x-customs-scan", "done");
  CHECK_STR(f.log, "HD", "the release gives the head, then the body");
  CHECK_STR(px_headers_get(&x->resp, "x-customs-scan"), "done", "with the release's header");
  CHECK_STR(f.body, "body", "and the body held meanwhile");
  px_xchg_release(x, "x-customs-scan", "again");
  CHECK_STR(f.log, "HD", "a second release does nothing");
  px_xchg_free(x);
  CHECK_STR(ilog, "qehdnf", "the interception is told of the end");

  /* released before the body: the body follows on its own */
  reset();
  i_head_rc = PX_HOOK_HOLD;
  x = req(&f, "GET", "/v2/team/app/manifests/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  px_xchg_start(x);
  up_head(x, 200, NULL);
  px_xchg_release(x, NULL, NULL);
  CHECK_STR(f.log, "H", "released early: the head alone");
  up_body(x, "abc");
  px_xchg_upstream_done(x);
  CHECK_STR(f.log, "HDD", "the body and the end follow");
  px_xchg_free(x);

  /* a local answer while held replaces the upstream's response */
  reset();
  i_head_rc = PX_HOOK_HOLD;
  x = req(&f, "GET", "/v2/team/app/manifests/1");
  px_xchg_start(x);
  up_head(x, 200, NULL);
  up_body(x, "the upstream's manifest");
  x->held = 0; /* as gate_deny does */
  px_xchg_respond_error(x, 403, "DENIED", "no");
  CHECK_STR(f.log, "HD", "the local answer is given whole");
  CHECK_INT(f.status_at_head, 403, "with its own status");
  CHECK(strstr(f.body, "\"DENIED\"") && !strstr(f.body, "upstream's"), "and its own body, not the held one");
  CHECK(px_headers_get(&x->resp, "date") != NULL, "a local answer carries Date");
  px_xchg_free(x);

  /* the interception answers inside response_head (the pull gate's deny) */
  reset();
  i_answer_in_head = 1;
  x = req(&f, "GET", "/v2/team/app/manifests/1");
  px_xchg_start(x);
  up_head(x, 200, NULL);
  CHECK_STR(f.log, "HD", "only customs' answer reaches the front");
  CHECK_INT(f.status_at_head, 403, "403");
  CHECK_INT(up_stub.detached, 1, "the upstream connection was let go");
  CHECK(x->up == NULL, "the exchange no longer points at it");
  px_xchg_free(x);

  /* the front goes away while the response is held: freed at once, connection closed */
  reset();
  i_head_rc = PX_HOOK_HOLD;
  x = req(&f, "GET", "/v2/team/app/manifests/1");
  px_xchg_start(x);
  up_head(x, 200, NULL);
  int before = ctx.nxchg;
  px_xchg_free(x);
  CHECK_INT(ctx.nxchg, before - 1, "a free outside any px_xchg frame is immediate");
  CHECK(strchr(ilog, 'f') != NULL, "the interception's state is freed with it");
  CHECK_INT(up_stub.last_reusable, 0, "an unfinished response does not go back to the pool");

  /* freed from inside a callback while answering a held exchange: deferred */
  reset();
  i_head_rc = PX_HOOK_HOLD;
  x = req(&f, "GET", "/v2/team/app/manifests/1");
  px_xchg_start(x);
  up_head(x, 200, NULL);
  f.free_in_head = 1;
  before = ctx.nxchg;
  px_xchg_respond_error(x, 403, "DENIED", "no");
  CHECK_STR(f.log, "H", "a dying exchange calls no further front op");
  CHECK(strchr(ilog, 'f') == NULL, "the free waits while px_xchg is on the stack");
  CHECK_INT(ctx.nxchg, before, "the exchange still exists");
  run_loop();
  CHECK(strchr(ilog, 'f') != NULL, "it is freed from a fresh loop callback");
  CHECK_INT(ctx.nxchg, before - 1, "and counted out");

  /* upstream fails after the held head: the client gets an error, not a reset */
  reset();
  i_head_rc = PX_HOOK_HOLD;
  x = req(&f, "GET", "/v2/team/app/manifests/1");
  px_xchg_start(x);
  up_head(x, 200, NULL);
  x->up = NULL; /* px_upstream.c unlinks before it reports */
  px_xchg_upstream_failed(x, 1, "upstream timed out");
  CHECK_STR(f.log, "HD", "a held exchange whose upstream failed is answered");
  CHECK_INT(f.status_at_head, 504, "504 on a timeout");
  px_xchg_free(x);

  /* after the head was given, a failure can only abort */
  reset();
  x = req(&f, "GET", "/v2/team/app/manifests/1");
  px_xchg_start(x);
  up_head(x, 200, NULL);
  x->up = NULL;
  px_xchg_upstream_failed(x, 0, "upstream closed the connection");
  CHECK_STR(f.log, "HA", "the front is told to abort");
  CHECK_INT(x->aborted, 1, "and the exchange is marked aborted");
  px_xchg_free(x);
}

/* ---- requests held by the interception ---- */

static void test_request_wait(void) {
  front f;
  ctx.intercept = &iops;

  reset();
  i_req_rc = PX_REQ_WAIT;
  px_xchg *x = req(&f, "PATCH", "/v2/team/app/blobs/uploads/u1?_state=s");
  x->req_has_body = 1;
  x->req_cl = 6;
  px_xchg_start(x);
  CHECK_INT(x->req_wait, PX_WAIT_VERDICT, "the request waits for a verdict");
  CHECK_INT(up_stub.attached, 0, "nothing goes upstream meanwhile");
  px_xchg_req_body(x, "abc", 3);
  CHECK_INT(px_xchg_req_pending(x), 3, "held body bytes count as pending (the front stops reading)");
  px_xchg_proceed(x);
  CHECK_INT(up_stub.attached, 1, "proceed sends it upstream");
  CHECK_STR(px_xchg_wait_name(x->req_wait), "none", "and it waits no more");
  const char *s = take_sent();
  CHECK(strstr(s, "Content-Length: 6\r\n\r\nabc") != NULL, "head, then the held bytes");
  px_xchg_req_body(x, "def", 3);
  px_xchg_req_end(x);
  CHECK_STR(take_sent(), "def", "later bytes follow directly");
  CHECK_STR(ilog, "qbbe", "the interception saw every body piece once, then the end");
  px_xchg_free(x);

  /* a scan behind its upload: the interception's backlog counts as pending,
   * so the front stops reading; px_xchg_req_drained wakes the front */
  reset();
  x = req(&f, "PATCH", "/v2/team/app/blobs/uploads/u2?_state=s");
  x->req_has_body = 1;
  x->req_cl = 6;
  px_xchg_start(x);
  size_t base = px_xchg_req_pending(x);
  ibacklog = 5u << 20;
  CHECK_INT(px_xchg_req_pending(x), base + (5u << 20), "the interception's backlog counts as pending");
  CHECK(strchr(f.log, 'R') == NULL, "the front has not been told to read on");
  ibacklog = 0;
  px_xchg_req_drained(x);
  CHECK_INT(px_xchg_req_pending(x), base, "backlog gone");
  CHECK(strchr(f.log, 'R') != NULL, "px_xchg_req_drained tells the front to read on");
  px_xchg_req_body(x, "abcdef", 6);
  px_xchg_req_end(x);
  px_xchg_free(x);

  /* a body the interception wants whole */
  reset();
  i_req_rc = PX_REQ_WAIT_BODY;
  x = req(&f, "PUT", "/v2/team/app/manifests/1");
  x->req_has_body = 1;
  x->req_cl = 4;
  px_xchg_start(x);
  px_xchg_req_body(x, "{", 1);
  px_xchg_req_body(x, "\"\"}", 3);
  CHECK_STR(ilog, "q", "no judgement before the whole body");
  px_xchg_req_end(x);
  CHECK_STR(i_complete_body, "{\"\"}", "req_complete gets the whole body");
  CHECK(strstr(take_sent(), "Content-Length: 4\r\n\r\n{\"\"}") != NULL, "then it goes upstream whole");
  CHECK_INT(up_stub.request_done, 1, "and complete");
  px_xchg_free(x);

  /* over the held cap: 413, never an unbounded buffer */
  reset();
  i_req_rc = PX_REQ_WAIT;
  x = req(&f, "PATCH", "/v2/team/app/blobs/uploads/u1?_state=s");
  x->req_has_body = 1;
  x->req_cl = -1;
  px_xchg_start(x);
  static char big[PX_XCHG_HELD_MAX_BYTES / 4];
  int rc = 0;
  for (int i = 0; i < 5 && !x->resp_done; i++) rc |= px_xchg_req_body(x, big, sizeof(big));
  CHECK_INT(rc, 0, "the overflow is answered, not a front failure");
  CHECK_INT(x->resp_status, 413, "over PX_XCHG_HELD_MAX_BYTES held: 413");
  CHECK(x->req_held == NULL, "the held bytes are let go");
  px_xchg_free(x);

  /* the interception answers: nothing goes upstream, the upstream is never contacted */
  reset();
  i_req_rc = PX_REQ_WAIT;
  x = req(&f, "GET", "/v2/team/app/blobs/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  px_xchg_start(x);
  px_xchg_respond_error(x, 403, "DENIED", "blob of a denied image");
  px_xchg_proceed(x);
  CHECK_INT(up_stub.attached, 0, "a proceed after an answer is ignored");
  px_xchg_free(x);

  /* upstream cannot be reached: 502 */
  reset();
  ctx.intercept = NULL;
  attach_rc = SC_ERR_IO;
  x = req(&f, "GET", "/v2/");
  px_xchg_start(x);
  CHECK_INT(f.status_at_head, 502, "no upstream connection: 502");
  px_xchg_free(x);
}

static void test_logpath(void) {
  front f;
  px_xchg *x = req(&f, "PATCH", "/v2/a/blobs/uploads/u1?_state=SECRET\"x");
  CHECK_STR(px_xchg_logpath(x), "/v2/a/blobs/uploads/u1?<redacted>", "the query never reaches the log");
  px_xchg_free(x);
  x = req(&f, "GET", "/v2/a\x01\"b");
  CHECK_STR(px_xchg_logpath(x), "/v2/a??b", "control bytes and quotes cannot forge log fields");
  px_xchg_free(x);
}

int main(void) {
  px_config_defaults(&cfg);
  memset(&ctx, 0, sizeof(ctx));
  ctx.cfg = &cfg;
  ctx.base = event_base_new();
  snprintf(ctx.up_hosthdr, sizeof(ctx.up_hosthdr), "upstream.test:5000");
  snprintf(ctx.up_origin, sizeof(ctx.up_origin), "http://upstream.test:5000");
  up_stub.out = evbuffer_new();
  px_log_set_level(PX_LOG_ERROR);
  test_request_head();
  test_response_head();
  test_hold_release();
  test_request_wait();
  test_logpath();
  run_loop();
  CHECK_INT(ctx.nxchg, 0, "every exchange was freed");
  evbuffer_free(up_stub.out);
  event_base_free(ctx.base);
  return tap_done();
}
