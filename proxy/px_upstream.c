/* px_upstream.c - upstream HTTP/1.1 connections and the process-wide
 * admission cap (see px_upstream.h).  The exchange <-> connection link is
 * made by link_xchg() and broken by unlink_xchg(), nowhere else.
 * Ownership: front.  Thread: loop thread.  Errors: see px_upstream.h. */
#include "px_upstream.h"
#include "px_bev.h"
#include "px_log.h"
#include "px_metrics.h"
#include "px_xchg.h"
#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#define UP_IDLE_TIMEOUT_MS 30000 /* an idle keep-alive connection is closed after this */

struct px_upconn {
  px_ctx *ctx;
  struct bufferevent *bev;
  http_parser parser;
  struct px_xchg *x;         /* NULL while idle; see link_xchg/unlink_xchg */
  struct px_upconn *next;    /* idle list */
  struct event *resume_ev;
  px_upconn_state state;
  px_upconn_fate fate;       /* a release decided inside up_read */
  int reused;
  int paused;                /* parser paused by backpressure */
  int in_read;               /* inside up_read: defer release */
  int hdr_last_value;
  int interim;               /* current message is a 1xx */
  int head_request;
  int req_done;
  int msg_done;
  int counted;               /* holds one of the PX_UPSTREAM_MAX_INFLIGHT slots */
  int in_body;               /* a Content-Length body is being read (move_body) */
  int timed;                 /* the answer's head was timed (customs_upstream_latency_seconds) */
  double t_sent;             /* monotonic seconds: the request went out (its end, once written) */
};

#define UP_MOVE_MIN_BYTES 4096 /* move_body moves at least this much at a time */

/* Monotonic seconds, for the upstream latency (px_now_ms is too coarse for
 * the 5 ms bucket). */
static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the link (the only writers of x->up and up->x) ---- */

static void link_xchg(px_upconn *up, px_xchg *x) {
  up->x = x;
  x->up = up;
}

/* Returns the exchange that was bound, if any. */
static px_xchg *unlink_xchg(px_upconn *up) {
  px_xchg *x = up->x;
  if (x) x->up = NULL;
  up->x = NULL;
  return x;
}

/* ---- admission (ctx->upq) ---- */

static void dispatch_cb(evutil_socket_t fd, short what, void *arg) {
  px_upstream_queue *U = &((px_ctx *)arg)->upq;
  (void)fd;
  (void)what;
  while (U->inflight < PX_UPSTREAM_MAX_INFLIGHT && U->head) {
    px_xchg *x = U->head;
    px_upstream_dequeue(x);
    px_xchg_upstream_admitted(x); /* binds a connection (inflight++) or answers */
  }
}

int px_upstream_admit(px_ctx *ctx, px_xchg *x) {
  px_upstream_queue *U = &ctx->upq;
  if (U->inflight < PX_UPSTREAM_MAX_INFLIGHT && !U->head) return 0;
  if (U->nqueued >= PX_UPSTREAM_MAX_QUEUED) return SC_ERR_LIMIT;
  if (!U->dispatch_ev) U->dispatch_ev = event_new(ctx->base, -1, 0, dispatch_cb, ctx);
  if (!U->dispatch_ev) return SC_ERR_LIMIT;
  x->q_next = NULL;
  x->q_prev = U->tail;
  if (U->tail) U->tail->q_next = x;
  else U->head = x;
  U->tail = x;
  x->queued = 1;
  U->nqueued++;
  return 1;
}

void px_upstream_dequeue(px_xchg *x) {
  px_upstream_queue *U = &x->ctx->upq;
  if (!x->queued) return;
  if (x->q_prev) x->q_prev->q_next = x->q_next;
  else U->head = x->q_next;
  if (x->q_next) x->q_next->q_prev = x->q_prev;
  else U->tail = x->q_prev;
  x->q_prev = x->q_next = NULL;
  x->queued = 0;
  U->nqueued--;
}

unsigned px_upstream_inflight(const px_ctx *ctx) { return ctx->upq.inflight; }
unsigned px_upstream_queued(const px_ctx *ctx) { return ctx->upq.nqueued; }

/* A slot is given back; queued exchanges go on from a fresh loop callback
 * (never inside the release, whose caller may be deep in an exchange). */
static void uncount(px_upconn *up) {
  px_upstream_queue *U = &up->ctx->upq;
  if (!up->counted) return;
  up->counted = 0;
  U->inflight--;
  if (U->head && U->dispatch_ev) event_active(U->dispatch_ev, 0, 0);
}

/* ---- state ---- */

px_upconn_state px_upconn_state_of(const px_upconn *up) { return up->state; }

const char *px_upconn_state_name(px_upconn_state s) {
  switch (s) {
  case PX_UP_CONNECTING: return "connecting";
  case PX_UP_ACTIVE: return "active";
  case PX_UP_IDLE: return "idle";
  }
  return "?";
}

const char *px_upconn_fate_name(px_upconn_fate f) {
  switch (f) {
  case PX_UP_FATE_NONE: return "none";
  case PX_UP_FATE_POOL: return "pool";
  case PX_UP_FATE_CLOSE: return "close";
  }
  return "?";
}

void px_upconn_describe(const px_upconn *up, char *buf, size_t cap) {
  snprintf(buf, cap, "state=%s fate=%s flags=%s%s%s%s%s%s%s", px_upconn_state_name(up->state),
           px_upconn_fate_name(up->fate), up->reused ? "reused," : "", up->paused ? "paused," : "",
           up->in_read ? "in_read," : "", up->head_request ? "head," : "", up->req_done ? "req_done," : "",
           up->msg_done ? "msg_done," : "", up->counted ? "counted," : "");
}

static void up_read(struct bufferevent *bev, void *arg);
static void up_write(struct bufferevent *bev, void *arg);
static void up_event(struct bufferevent *bev, short what, void *arg);
static void up_destroy(px_upconn *up);

static void set_timeouts(px_upconn *up, int connect_phase) {
  px_config *c = up->ctx->cfg;
  int wms = connect_phase ? c->connect_timeout_ms : c->upstream_timeout_ms;
  /* No read timeout until the request is complete: a slow upload is not an
   * unresponsive registry. */
  px_bev_timeouts_ms(up->bev, up->req_done ? c->upstream_timeout_ms : -1, wms);
}

/* ---- http-parser callbacks (response) ---- */

static int resp_full(px_upconn *up) {
  size_t lim = up->x->resp_limit ? up->x->resp_limit : up->ctx->cfg->watermark;
  return evbuffer_get_length(up->x->resp_body) >= lim;
}

/* The middle of a Content-Length body, moved from the socket's input to
 * x->resp_body by whole evbuffer chains instead of being copied through
 * on_body: a pulled layer is the proxy's biggest copy otherwise.  The
 * parser is kept in step through its public content_length (what is left
 * of the body) and always gets the body's last byte itself, so it ends the
 * message as usual.  Returns 1 when bytes were moved, 0 when the parser
 * should run, -1 when the exchange went away. */
static int move_body(px_upconn *up, struct evbuffer *in) {
  if (!up->in_body || up->parser.content_length <= 1) return 0;
  size_t avail = evbuffer_get_length(in), lim = up->x->resp_limit ? up->x->resp_limit : up->ctx->cfg->watermark;
  size_t have = evbuffer_get_length(up->x->resp_body);
  uint64_t take = up->parser.content_length - 1;
  if (have >= lim) return 0; /* the parser pauses (on_body) */
  if (take > avail) take = avail;
  if (take > lim - have) take = lim - have;
  if (take < UP_MOVE_MIN_BYTES && take < avail) return 0;
  if (take == 0) return 0;
  if (evbuffer_remove_buffer(in, up->x->resp_body, (size_t)take) != (int)take) return -1;
  up->parser.content_length -= take;
  up->x->resp_bytes += take;
  /* the interception sees the bytes as on_body would show them */
  struct evbuffer_ptr pos;
  struct evbuffer_iovec v[16];
  size_t off = have, left = (size_t)take;
  while (left > 0 && up->x) {
    if (evbuffer_ptr_set(up->x->resp_body, &pos, off, EVBUFFER_PTR_SET) < 0) return -1;
    int n = evbuffer_peek(up->x->resp_body, (ev_ssize_t)left, &pos, v, 16);
    if (n <= 0) return -1;
    for (int i = 0; i < n && i < 16 && left > 0 && up->x; i++) {
      size_t k = v[i].iov_len < left ? v[i].iov_len : left;
      px_xchg_upstream_body(up->x, v[i].iov_base, k);
      off += k;
      left -= k;
    }
  }
  if (!up->x) return -1;
  if (resp_full(up)) {
    up->paused = 1;
    http_parser_pause(&up->parser, 1);
  }
  return 1;
}

static int on_message_begin(http_parser *p) {
  px_upconn *up = p->data;
  up->in_body = 0;
  up->hdr_last_value = 0;
  up->interim = 0;
  if (up->x) px_headers_free(&up->x->resp);
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  px_upconn *up = p->data;
  int rc;
  if (!up->x) return -1;
  if (up->hdr_last_value || up->x->resp.n == 0) rc = px_headers_add(&up->x->resp, at, len, "", 0);
  else rc = px_headers_append_last(&up->x->resp, 1, at, len);
  up->hdr_last_value = 0;
  return rc ? -1 : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  px_upconn *up = p->data;
  if (!up->x || up->x->resp.n == 0) return -1;
  up->hdr_last_value = 1;
  return px_headers_append_last(&up->x->resp, 0, at, len) ? -1 : 0;
}

static int on_headers_complete(http_parser *p) {
  px_upconn *up = p->data;
  if (!up->x) return -1;
  if (p->status_code >= 100 && p->status_code < 200) {
    up->interim = 1; /* 100 Continue & co: swallowed, the final response follows */
    return 0;
  }
  if (!up->timed) {
    up->timed = 1;
    px_metrics_upstream(up->ctx, mono_s() - up->t_sent);
  }
  px_xchg_upstream_head(up->x, p->status_code, up->head_request);
  /* a body of known length is moved by chains (move_body), not copied */
  up->in_body = !up->head_request && !(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
                p->content_length > 0 && p->status_code != 204 && p->status_code != 304;
  /* Returning 1 tells http-parser that this response has no body. */
  return up->head_request ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  px_upconn *up = p->data;
  if (!up->x) return -1;
  if (evbuffer_add(up->x->resp_body, at, len) < 0) return -1;
  up->x->resp_bytes += len;
  px_xchg_upstream_body(up->x, at, len);
  if (up->x && resp_full(up)) {
    up->paused = 1;
    http_parser_pause(p, 1);
  }
  return 0;
}

static int on_message_complete(http_parser *p) {
  px_upconn *up = p->data;
  up->in_body = 0;
  if (up->interim) {
    up->interim = 0;
    return 0;
  }
  up->msg_done = 1;
  http_parser_pause(p, 1); /* nothing after this response belongs to us */
  if (up->x) px_xchg_upstream_done(up->x);
  return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- connection life ---- */

static void resume_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  up_read(((px_upconn *)arg)->bev, arg);
}

static px_upconn *up_new(px_ctx *ctx) {
  px_upconn *up = calloc(1, sizeof(*up));
  int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
  if (!up) return NULL;
  up->ctx = ctx;
  up->state = PX_UP_CONNECTING;
  if (ctx->up_tls) {
    SSL *ssl = SSL_new(ctx->client_ssl);
    if (!ssl) goto fail;
    SSL_set_tlsext_host_name(ssl, ctx->up_host);
    if (!ctx->cfg->upstream_insecure) SSL_set1_host(ssl, ctx->up_host);
    up->bev = bufferevent_openssl_socket_new(ctx->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, opts);
    if (!up->bev) {
      SSL_free(ssl);
      goto fail;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(up->bev, 1);
  } else {
    up->bev = bufferevent_socket_new(ctx->base, -1, opts);
    if (!up->bev) goto fail;
  }
  up->resume_ev = event_new(ctx->base, -1, 0, resume_cb, up);
  if (!up->resume_ev) goto fail;
  bufferevent_setcb(up->bev, up_read, up_write, up_event, up);
  px_bev_tune(up->bev, ctx->cfg->watermark, PX_BEV_H1);
  set_timeouts(up, 1);
  bufferevent_enable(up->bev, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect_hostname(up->bev, ctx->dns, AF_UNSPEC, ctx->up_host, ctx->up_port) < 0) goto fail;
  return up;
fail:
  up_destroy(up);
  return NULL;
}

static void up_destroy(px_upconn *up) {
  if (!up) return;
  uncount(up);
  if (up->resume_ev) event_free(up->resume_ev);
  if (up->bev) bufferevent_free(up->bev);
  free(up);
}

static void idle_remove(px_upconn *up) {
  px_upconn **pp = &up->ctx->idle;
  while (*pp && *pp != up) pp = &(*pp)->next;
  if (*pp) {
    *pp = up->next;
    up->ctx->nidle--;
  }
  up->state = PX_UP_ACTIVE; /* bound next, or destroyed by the caller */
  up->next = NULL;
}

int px_upstream_attach(px_ctx *ctx, struct px_xchg *x) {
  px_upconn *up = ctx->idle;
  if (up) {
    idle_remove(up);
    up->reused = 1;
  } else {
    up = up_new(ctx);
    if (!up) return SC_ERR_IO;
  }
  link_xchg(up, x);
  if (!up->counted) {
    up->counted = 1;
    ctx->upq.inflight++;
  }
  up->head_request = strcmp(x->method, "HEAD") == 0;
  up->req_done = 0;
  up->msg_done = 0;
  up->paused = 0;
  up->timed = 0;
  up->t_sent = mono_s();
  up->fate = PX_UP_FATE_NONE;
  http_parser_init(&up->parser, HTTP_RESPONSE);
  up->parser.data = up;
  if (up->state == PX_UP_ACTIVE) set_timeouts(up, 0);
  bufferevent_enable(up->bev, EV_READ | EV_WRITE);
  return 0;
}

int px_upconn_write(px_upconn *up, const void *data, size_t len) {
  return bufferevent_write(up->bev, data, len) < 0 ? SC_ERR_NOMEM : 0;
}

int px_upconn_write_chunk(px_upconn *up, const void *data, size_t len) {
  struct evbuffer *out = bufferevent_get_output(up->bev);
  if (len == 0) return 0; /* a zero chunk would end the body */
  if (evbuffer_add_printf(out, "%zx\r\n", len) < 0 || evbuffer_add(out, data, len) < 0 ||
      evbuffer_add(out, "\r\n", 2) < 0)
    return SC_ERR_NOMEM;
  return 0;
}

void px_upconn_request_done(px_upconn *up) {
  up->req_done = 1;
  /* latency counts from the request's end: an upload's body time is not the registry's */
  if (!up->timed) up->t_sent = mono_s();
  if (up->state == PX_UP_ACTIVE) set_timeouts(up, 0);
}

size_t px_upconn_pending(const px_upconn *up) { return evbuffer_get_length(bufferevent_get_output(up->bev)); }

int px_upconn_reused(const px_upconn *up) { return up->reused; }

void px_upconn_resume(px_upconn *up) {
  if (!up->paused || !up->x) return;
  if (evbuffer_get_length(up->x->resp_body) >= up->ctx->cfg->watermark / 2) return;
  up->paused = 0;
  http_parser_pause(&up->parser, 0);
  bufferevent_enable(up->bev, EV_READ);
  event_active(up->resume_ev, 0, 0); /* parse what is already buffered, outside the caller's stack */
}

static void go_idle(px_upconn *up) {
  px_ctx *ctx = up->ctx;
  if (ctx->draining || ctx->nidle >= ctx->cfg->max_idle_upstream ||
      evbuffer_get_length(bufferevent_get_input(up->bev)) > 0) {
    up_destroy(up);
    return;
  }
  up->state = PX_UP_IDLE;
  up->next = ctx->idle;
  ctx->idle = up;
  ctx->nidle++;
  /* Read stays enabled so that a close by the registry is noticed. */
  px_bev_timeouts_ms(up->bev, UP_IDLE_TIMEOUT_MS, -1);
  bufferevent_enable(up->bev, EV_READ);
}

void px_upstream_detach(struct px_xchg *x, int reusable) {
  px_upconn *up = x->up;
  if (!up) return;
  unlink_xchg(up);
  uncount(up);
  reusable = reusable && up->msg_done && up->req_done && http_should_keep_alive(&up->parser) &&
             px_upconn_pending(up) == 0;
  if (up->in_read) {
    up->fate = reusable ? PX_UP_FATE_POOL : PX_UP_FATE_CLOSE;
    return;
  }
  if (reusable) go_idle(up);
  else up_destroy(up);
}

/* ---- bufferevent callbacks ---- */

static void up_read(struct bufferevent *bev, void *arg) {
  px_upconn *up = arg;
  struct evbuffer *in = bufferevent_get_input(bev);

  if (up->state == PX_UP_IDLE) { /* unsolicited bytes or close on an idle connection */
    idle_remove(up);
    up_destroy(up);
    return;
  }
  size_t wm = up->ctx->cfg->watermark, have = evbuffer_get_length(in);
  if (up->x && !up->paused && have < wm) px_bev_read_more(bev, wm - have);
  up->in_read = 1;
  while (up->x && !up->paused && !up->msg_done && evbuffer_get_length(in) > 0) {
    int moved = move_body(up, in);
    if (moved > 0) {
      if (up->paused) {
        bufferevent_disable(bev, EV_READ);
        break;
      }
      continue;
    }
    if (moved < 0 || !up->x) break; /* the exchange let go of this connection */
    struct evbuffer_iovec v;
    if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) break;
    size_t n = http_parser_execute(&up->parser, &parser_settings, v.iov_base, v.iov_len);
    enum http_errno e = HTTP_PARSER_ERRNO(&up->parser);
    evbuffer_drain(in, n);
    if (e == HPE_PAUSED) {
      if (up->paused) bufferevent_disable(bev, EV_READ);
      break;
    }
    if (e != HPE_OK) {
      up->in_read = 0;
      px_xchg *x = unlink_xchg(up);
      up_destroy(up);
      if (x) px_xchg_upstream_failed(x, 0, http_errno_description(e));
      return;
    }
  }
  up->in_read = 0;
  if (up->fate != PX_UP_FATE_NONE) {
    px_upconn_fate fate = up->fate;
    up->fate = PX_UP_FATE_NONE;
    if (fate == PX_UP_FATE_POOL) go_idle(up);
    else up_destroy(up);
  }
}

static void up_write(struct bufferevent *bev, void *arg) {
  px_upconn *up = arg;
  (void)bev;
  if (up->x) px_xchg_upstream_drained(up->x);
}

static void up_event(struct bufferevent *bev, short what, void *arg) {
  px_upconn *up = arg;
  px_xchg *x = up->x;
  char why[256];

  if (what & BEV_EVENT_CONNECTED) {
    if (up->state == PX_UP_CONNECTING) up->state = PX_UP_ACTIVE;
    set_timeouts(up, 0);
    return;
  }
  if (up->state == PX_UP_IDLE) {
    idle_remove(up);
    up_destroy(up);
    return;
  }
  if ((what & BEV_EVENT_EOF) && x && !up->msg_done) {
    /* A close-delimited body ends here: let the parser say whether the
     * message was complete. */
    up->in_read = 1;
    http_parser_pause(&up->parser, 0);
    http_parser_execute(&up->parser, &parser_settings, NULL, 0);
    up->in_read = 0;
    if (up->msg_done) {
      unlink_xchg(up);
      up_destroy(up);
      return;
    }
    x = up->x;
  }
  if (what & BEV_EVENT_TIMEOUT) snprintf(why, sizeof(why), "upstream timed out");
  else if (what & BEV_EVENT_EOF) snprintf(why, sizeof(why), "upstream closed the connection");
  else {
    unsigned long e = bufferevent_get_openssl_error(bev);
    int err = EVUTIL_SOCKET_ERROR();
    if (e) snprintf(why, sizeof(why), "upstream TLS error: %s", ERR_reason_error_string(e));
    else if (up->state == PX_UP_CONNECTING && bufferevent_socket_get_dns_error(bev))
      snprintf(why, sizeof(why), "upstream DNS error: %s", evutil_gai_strerror(bufferevent_socket_get_dns_error(bev)));
    else snprintf(why, sizeof(why), "upstream %s: %s", up->state != PX_UP_CONNECTING ? "error" : "connect failed",
                  evutil_socket_error_to_string(err));
  }
  x = unlink_xchg(up);
  if (up->in_read) {
    up->fate = PX_UP_FATE_CLOSE;
  } else {
    up_destroy(up);
  }
  if (x) px_xchg_upstream_failed(x, (what & BEV_EVENT_TIMEOUT) != 0, why);
}

void px_upstream_close_idle(px_ctx *ctx) {
  px_upstream_queue *U = &ctx->upq;
  if (U->dispatch_ev && !U->head) {
    event_free(U->dispatch_ev);
    U->dispatch_ev = NULL;
  }
  while (ctx->idle) {
    px_upconn *up = ctx->idle;
    idle_remove(up);
    up_destroy(up);
  }
}
