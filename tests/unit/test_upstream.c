/* test_upstream.c - upstream connections (px_upstream.c), h2o-style: the
 * module is #included and driven against a registry stub served in-process
 * on a 127.0.0.1 loopback socket by the same libevent loop, with the
 * exchange's callbacks (px_xchg_upstream_*) recorded by fakes.  Covers the
 * one owner of the exchange <-> connection link, the connection states
 * (connecting, active, idle) and a release's fate decided while the parser
 * is on the stack, keep-alive reuse, Connection: close, backpressure
 * (pause at the watermark, resume), a registry closing mid-body, and the
 * admission queue.
 *
 * Ownership: everything is the test's.  Thread: one (the loop's). */
#include "../../proxy/px_upstream.c"
#include "tap.h"
#include <signal.h>
#include <arpa/inet.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <unistd.h>

/* ---- fake exchange side: what px_upstream reports ---- */

static int n_head, n_body, n_done, n_failed, n_admitted, last_status;
static char failed_why[256];
static int detach_in_done;        /* px_upstream_detach from inside the done callback */
static px_upconn_fate fate_in_done; /* the fate recorded while the parser was on the stack */
static int up_null_when_failed;

void px_xchg_upstream_head(px_xchg *x, int status, int head_request) {
  (void)x, (void)head_request;
  n_head++;
  last_status = status;
}
void px_xchg_upstream_body(px_xchg *x, const void *data, size_t len) {
  (void)x, (void)data, (void)len;
  n_body++;
}
void px_xchg_upstream_done(px_xchg *x) {
  n_done++;
  x->resp_done = 1;
  if (detach_in_done) {
    px_upconn *up = x->up;
    px_upstream_detach(x, 1);
    fate_in_done = up->fate;
  }
}
void px_xchg_upstream_failed(px_xchg *x, int timeout, const char *why) {
  (void)timeout;
  n_failed++;
  up_null_when_failed = x->up == NULL;
  snprintf(failed_why, sizeof(failed_why), "%s", why);
}
void px_xchg_upstream_drained(px_xchg *x) { (void)x; }
void px_xchg_upstream_admitted(px_xchg *x) {
  (void)x;
  n_admitted++;
}

/* ---- registry stub on 127.0.0.1: one scripted answer per request ---- */

static const char *srv_answer;  /* written whole when a request head arrives */
static int srv_close_after;     /* close the connection after the answer */
static int srv_accepts;         /* connections accepted */
#define SRV_MAX_CONNS 16
static struct bufferevent *srv_conns[SRV_MAX_CONNS]; /* open server sides, freed at the end */

static void srv_close(struct bufferevent *bev) {
  for (int i = 0; i < SRV_MAX_CONNS; i++)
    if (srv_conns[i] == bev) srv_conns[i] = NULL;
  bufferevent_free(bev);
}

static void srv_read(struct bufferevent *bev, void *arg) {
  struct evbuffer *in = bufferevent_get_input(bev);
  (void)arg;
  struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
  if (p.pos < 0) return;
  evbuffer_drain(in, evbuffer_get_length(in));
  bufferevent_write(bev, srv_answer, strlen(srv_answer));
}
static void srv_write(struct bufferevent *bev, void *arg) {
  (void)arg;
  if (srv_close_after) srv_close(bev);
}
static void srv_event(struct bufferevent *bev, short what, void *arg) {
  (void)what, (void)arg;
  srv_close(bev);
}
static void srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg) {
  struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
  (void)sa, (void)len, (void)arg;
  for (int i = 0; i < SRV_MAX_CONNS; i++)
    if (!srv_conns[i]) {
      srv_conns[i] = bev;
      break;
    }
  srv_accepts++;
  bufferevent_setcb(bev, srv_read, srv_write, srv_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- helpers ---- */

static px_ctx ctx;
static px_config cfg;

#define WAIT_MS 3000
/* Runs the loop until cond holds (at most WAIT_MS). */
#define WAIT(cond)                                                  \
  do {                                                              \
    for (int w_ = 0; w_ < WAIT_MS && !(cond); w_++) {               \
      event_base_loop(ctx.base, EVLOOP_NONBLOCK);                   \
      if (!(cond)) usleep(1000);                                    \
    }                                                               \
  } while (0)

static px_xchg *new_x(const char *method) {
  px_xchg *x = calloc(1, sizeof(*x));
  x->ctx = &ctx;
  snprintf(x->method, sizeof(x->method), "%s", method);
  px_headers_init(&x->req);
  px_headers_init(&x->resp);
  x->resp_body = evbuffer_new();
  return x;
}
static void free_x(px_xchg *x) {
  px_headers_free(&x->resp);
  evbuffer_free(x->resp_body);
  free(x);
}
static void reset_counts(void) { n_head = n_body = n_done = n_failed = n_admitted = last_status = 0; }

static const char GET_REQ[] = "GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n";

static void send_get(px_xchg *x) {
  px_upconn_write(x->up, GET_REQ, sizeof(GET_REQ) - 1);
  px_upconn_request_done(x->up);
}

static char body_of[512];
static const char *body(px_xchg *x) {
  size_t n = evbuffer_get_length(x->resp_body);
  if (n >= sizeof(body_of)) n = sizeof(body_of) - 1;
  evbuffer_copyout(x->resp_body, body_of, n);
  body_of[n] = 0;
  return body_of;
}

int main(void) {
  struct sockaddr_in sin;
  socklen_t slen = sizeof(sin);
  char d[200];
  signal(SIGPIPE, SIG_IGN); /* a peer that went away is EPIPE, as in customs itself */

  px_config_defaults(&cfg);
  cfg.max_idle_upstream = 4;
  memset(&ctx, 0, sizeof(ctx));
  ctx.cfg = &cfg;
  ctx.base = event_base_new();
  px_log_set_level(PX_LOG_ERROR);
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct evconnlistener *l = evconnlistener_new_bind(ctx.base, srv_accept, NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
                                                     16, (struct sockaddr *)&sin, sizeof(sin));
  if (!l) {
    CHECK(0, "cannot listen on 127.0.0.1");
    return tap_done();
  }
  getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &slen);
  snprintf(ctx.up_host, sizeof(ctx.up_host), "127.0.0.1");
  ctx.up_port = ntohs(sin.sin_port);

  /* 1: a request on a fresh connection; the link is made by attach */
  srv_answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello";
  px_xchg *x = new_x("GET");
  CHECK_INT(px_upstream_attach(&ctx, x), 0, "attach opens a connection");
  px_upconn *up1 = x->up;
  CHECK(up1 != NULL && up1->x == x, "the link goes both ways");
  CHECK_STR(px_upconn_state_name(px_upconn_state_of(up1)), "connecting", "a new connection starts connecting");
  CHECK_INT(px_upstream_inflight(&ctx), 1, "it holds one admission slot");
  send_get(x);
  WAIT(n_done == 1);
  CHECK_INT(last_status, 200, "the head is parsed");
  CHECK_STR(px_headers_get(&x->resp, "x-a"), "1", "with its fields");
  CHECK_STR(body(x), "hello", "the body lands in the exchange's buffer");
  CHECK_INT(x->resp_bytes, 5, "and is counted");
  CHECK_STR(px_upconn_state_name(up1->state), "active", "connected: active");
  px_upconn_describe(up1, d, sizeof(d));
  CHECK(strstr(d, "state=active fate=none") && strstr(d, "msg_done"), "describe: %s", d);
  x->req_done = 1;
  px_upstream_detach(x, 1);
  CHECK(x->up == NULL && up1->x == NULL, "detach breaks the link both ways");
  CHECK_INT(ctx.nidle, 1, "a clean keep-alive connection goes to the pool");
  CHECK_STR(px_upconn_state_name(up1->state), "idle", "in state idle");
  CHECK_INT(px_upstream_inflight(&ctx), 0, "its slot is given back");
  px_upstream_detach(x, 1);
  CHECK_INT(ctx.nidle, 1, "a second detach is a no-op");
  free_x(x);

  /* 2: the pooled connection is reused; a detach inside the parser defers its fate */
  reset_counts();
  srv_answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  x = new_x("GET");
  px_upstream_attach(&ctx, x);
  CHECK(x->up == up1 && px_upconn_reused(x->up), "the idle connection is reused");
  CHECK_INT(ctx.nidle, 0, "and leaves the pool");
  CHECK_STR(px_upconn_state_name(up1->state), "active", "active again, no reconnect");
  detach_in_done = 1;
  send_get(x);
  WAIT(n_done == 1);
  detach_in_done = 0;
  CHECK_STR(px_upconn_fate_name(fate_in_done), "pool", "released inside the parser: fate recorded, not carried out");
  CHECK(x->up == NULL, "the exchange is unlinked at once");
  CHECK_INT(ctx.nidle, 1, "once the parser returned the connection is in the pool");
  CHECK_INT(up1->fate, PX_UP_FATE_NONE, "and the fate is cleared");
  CHECK_INT(srv_accepts, 1, "one TCP connection served both requests");
  free_x(x);

  /* 3: Connection: close is not pooled */
  reset_counts();
  srv_answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  x = new_x("GET");
  px_upstream_attach(&ctx, x);
  send_get(x);
  WAIT(n_done == 1);
  px_upstream_detach(x, 1);
  CHECK_INT(ctx.nidle, 0, "Connection: close: destroyed, not pooled");
  free_x(x);

  /* 4: backpressure: the parser pauses at the exchange's limit and resumes */
  reset_counts();
  static char big[600];
  char buf[700];
  memset(big, 'b', 512);
  big[512] = 0;
  snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Length: 512\r\n\r\n%s", big);
  srv_answer = buf;
  size_t watermark = cfg.watermark;
  cfg.watermark = 64;
  x = new_x("GET");
  x->resp_limit = 64;
  px_upstream_attach(&ctx, x);
  send_get(x);
  WAIT(x->up && x->up->paused);
  CHECK(x->up && x->up->paused, "the parser pauses at the limit");
  CHECK(evbuffer_get_length(x->resp_body) < 512 && n_done == 0, "before the whole body is buffered (%zu)",
        evbuffer_get_length(x->resp_body));
  size_t got = 0;
  for (int i = 0; i < 200 && n_done == 0; i++) {
    got += evbuffer_get_length(x->resp_body);
    evbuffer_drain(x->resp_body, evbuffer_get_length(x->resp_body));
    px_upconn_resume(x->up);
    WAIT(n_done || (x->up && x->up->paused));
  }
  got += evbuffer_get_length(x->resp_body);
  CHECK_INT(n_done, 1, "draining and resuming delivers the rest");
  CHECK_INT(got, 512, "every byte exactly once");
  px_upstream_detach(x, 0);
  free_x(x);
  cfg.watermark = watermark;

  /* 4b: a big Content-Length body moves by chains (move_body), paused and
   * resumed many times, every byte once and in order, the parser ending it */
  reset_counts();
  enum { BIG = 3 << 20 };
  char *bigbody = malloc(BIG + 100), *seen = malloc(BIG);
  int hl = snprintf(bigbody, 100, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG);
  for (int i = 0; i < BIG; i++) bigbody[hl + i] = (char)('a' + (i * 7 + i / 4093) % 26);
  bigbody[hl + BIG] = 0;
  srv_answer = bigbody;
  x = new_x("GET");
  px_upstream_attach(&ctx, x);
  send_get(x);
  size_t seen_n = 0;
  int pauses = 0;
  for (int i = 0; i < 20000 && n_done == 0; i++) {
    WAIT(n_done || (x->up && x->up->paused) || evbuffer_get_length(x->resp_body) > 0);
    if (x->up && x->up->paused) pauses++;
    size_t k = evbuffer_get_length(x->resp_body);
    if (seen_n + k > BIG) k = BIG - seen_n;
    evbuffer_remove(x->resp_body, seen + seen_n, k);
    seen_n += k;
    if (x->up && x->up->paused) px_upconn_resume(x->up);
  }
  int rest = seen_n < BIG ? evbuffer_remove(x->resp_body, seen + seen_n, BIG - seen_n) : 0;
  if (rest > 0) seen_n += (size_t)rest;
  CHECK_INT(n_done, 1, "big body: the message ends");
  CHECK_INT(seen_n, BIG, "big body: every byte once");
  CHECK(memcmp(seen, bigbody + hl, BIG) == 0, "big body: byte-exact, in order");
  CHECK(pauses > 0, "big body: backpressure paused the reads (%d times)", pauses);
  px_upstream_detach(x, 1);
  free_x(x);
  free(bigbody);
  free(seen);

  /* 5: the registry closes mid-body: the exchange is unlinked, then told */
  reset_counts();
  srv_answer = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
  srv_close_after = 1;
  x = new_x("GET");
  px_upstream_attach(&ctx, x);
  send_get(x);
  WAIT(n_failed == 1);
  srv_close_after = 0;
  CHECK_INT(n_failed, 1, "a close mid-body fails the exchange");
  CHECK(up_null_when_failed, "x->up was already NULL when it was told");
  /* EOF or RST depending on timing: both are the registry going away */
  CHECK(strstr(failed_why, "closed the connection") || strstr(failed_why, "reset"), "with the reason: %s", failed_why);
  CHECK_INT(px_upstream_inflight(&ctx), 0, "and the slot is given back");
  free_x(x);

  /* 6: admission: over the cap, FIFO queue, admitted when a slot frees */
  reset_counts();
  px_xchg *q = new_x("GET");
  ctx.upq.inflight = PX_UPSTREAM_MAX_INFLIGHT; /* as if every slot were taken */
  CHECK_INT(px_upstream_admit(&ctx, q), 1, "over the cap a request is queued");
  CHECK_INT(px_upstream_queued(&ctx), 1, "one waiting");
  px_upstream_dequeue(q);
  CHECK_INT(px_upstream_queued(&ctx), 0, "dequeue removes it (answered or freed meanwhile)");
  ctx.upq.nqueued = PX_UPSTREAM_MAX_QUEUED;
  CHECK_INT(px_upstream_admit(&ctx, q), SC_ERR_LIMIT, "a full queue refuses");
  ctx.upq.nqueued = 0;
  px_upstream_admit(&ctx, q);
  ctx.upq.inflight = PX_UPSTREAM_MAX_INFLIGHT - 1;
  srv_answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  x = new_x("GET");
  px_upstream_attach(&ctx, x); /* takes the last slot */
  CHECK_INT(px_upstream_inflight(&ctx), PX_UPSTREAM_MAX_INFLIGHT, "the last slot is taken");
  send_get(x);
  WAIT(n_done == 1);
  CHECK_INT(n_admitted, 0, "nobody is admitted while every slot is bound");
  px_upstream_detach(x, 1);
  CHECK_INT(n_admitted, 0, "a freed slot admits from a fresh callback, not inside the release");
  WAIT(n_admitted == 1);
  CHECK_INT(n_admitted, 1, "then the queued request is admitted");
  CHECK_INT(px_upstream_queued(&ctx), 0, "and leaves the queue");
  ctx.upq.inflight = 0;
  free_x(x);
  free_x(q);

  px_upstream_close_idle(&ctx);
  CHECK_INT(ctx.nidle, 0, "close_idle empties the pool");
  for (int i = 0; i < SRV_MAX_CONNS; i++)
    if (srv_conns[i]) srv_close(srv_conns[i]);
  evconnlistener_free(l);
  event_base_free(ctx.base);
  return tap_done();
}
