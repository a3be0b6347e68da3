/* px_h2.c - HTTP/2 front.
 *
 * Flow control is manual (NGHTTP2_OPT_NO_AUTO_WINDOW_UPDATE): request DATA
 * is credited back to the client with nghttp2_session_consume() only once
 * the upstream connection has taken the bytes, so a fast client cannot fill
 * customs' memory when the registry is slow.  nghttp2_session_mem_send() is
 * called from one place (h2_flush), never from inside nghttp2 callbacks or
 * the upstream parser: other code schedules a flush.
 *
 * Ownership: front.  Thread: loop thread.  Lifetime: exchanges are freed in
 * on_stream_close and sess_free, which run from h2_flush / h2_read / the
 * bufferevent callbacks, never inside a px_front_ops callback (those only
 * submit frames and schedule a flush; see px_xchg.h).
 *
 * Limits: a client may open at most PX_H2_MAX_CONCURRENT_STREAMS streams at
 * once per connection (SETTINGS_MAX_CONCURRENT_STREAMS; nghttp2 resets
 * streams over it); all connections together share the upstream admission
 * cap of px_upstream.h. */
#include "px_h2.h"
#include "px_bev.h"
#include "px_log.h"
#include "px_xchg.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Concurrent streams per client connection. */
#define PX_H2_MAX_CONCURRENT_STREAMS 128

typedef struct px_h2_sess h2_sess; /* listed in ctx->h2_sessions */

typedef struct h2_stream {
  h2_sess *s;
  int32_t id;
  px_xchg *x;
  size_t unconsumed;     /* DATA bytes received but not yet credited */
  int started;
  int request_ended;
  struct h2_stream *prev, *next; /* the session's streams, freed with it */
} h2_stream;

struct px_h2_sess {
  px_ctx *ctx;
  struct bufferevent *bev;
  nghttp2_session *ng;
  struct event *flush_ev;
  int tls;
  char peer[64];
  int in_flush;
  int goaway_sent;
  h2_stream *streams;
  h2_sess *next;         /* list of sessions, for drain */
};

static int h2_flush(h2_sess *s);
static void sess_free(h2_sess *s);

static void schedule_flush(h2_sess *s) { event_active(s->flush_ev, 0, 0); }

/* ---- front ops ---- */

static ssize_t data_read_cb(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *flags, nghttp2_data_source *src, void *user) {
  h2_stream *st = src->ptr;
  px_xchg *x = st->x;
  (void)ng;
  (void)stream_id;
  (void)user;
  if (!x) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  int n = evbuffer_remove(x->resp_body, buf, length);
  if (n < 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  if (n > 0) px_xchg_resp_consumed(x);
  if (x->resp_done && evbuffer_get_length(x->resp_body) == 0) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return n;
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return n;
}

static void op_on_response(px_xchg *x) {
  h2_stream *st = x->front;
  nghttp2_nv nva[PX_HDR_MAX_FIELDS + 1];
  char status[8];
  size_t n = 0;
  snprintf(status, sizeof(status), "%d", x->resp_status);
  nva[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status, 7, strlen(status), NGHTTP2_NV_FLAG_NONE};
  for (size_t i = 0; i < x->resp.n && n < PX_HDR_MAX_FIELDS + 1; i++) {
    const px_header *f = &x->resp.f[i];
    if (f->name[0] == ':' || px_header_is_hop(f->name, NULL)) continue;
    if (!strcmp(f->name, "content-length") && x->resp_has_body && x->resp_cl < 0) continue;
    nva[n++] = (nghttp2_nv){(uint8_t *)f->name, (uint8_t *)f->value, f->namelen, f->valuelen,
                            NGHTTP2_NV_FLAG_NONE};
  }
  nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read_cb};
  if (nghttp2_submit_response(st->s->ng, st->id, nva, n, x->resp_has_body ? &prd : NULL) != 0)
    nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
  schedule_flush(st->s);
}

static void op_on_resp_data(px_xchg *x) {
  h2_stream *st = x->front;
  if (x->resp_has_body) nghttp2_session_resume_data(st->s->ng, st->id);
  schedule_flush(st->s);
}

static void credit(h2_stream *st) {
  if (st->unconsumed) {
    nghttp2_session_consume(st->s->ng, st->id, st->unconsumed);
    st->unconsumed = 0;
    schedule_flush(st->s);
  }
}

static void op_on_req_drained(px_xchg *x) {
  h2_stream *st = x->front;
  if (px_xchg_req_pending(x) < st->s->ctx->cfg->watermark) credit(st);
}

static void op_on_abort(px_xchg *x) {
  h2_stream *st = x->front;
  nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
  schedule_flush(st->s);
}

static const px_front_ops h2_ops = {op_on_response, op_on_resp_data, op_on_req_drained, op_on_abort};

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
  h2_sess *s = user;
  h2_stream *st;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  st = calloc(1, sizeof(*st));
  if (!st) return NGHTTP2_ERR_CALLBACK_FAILURE;
  st->s = s;
  st->id = frame->hd.stream_id;
  st->x = px_xchg_new(s->ctx, &h2_ops, st);
  if (!st->x) {
    free(st);
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  st->x->proto = "h2";
  st->x->tls = s->tls;
  snprintf(st->x->peer, sizeof(st->x->peer), "%s", s->peer);
  nghttp2_session_set_stream_user_data(ng, st->id, st);
  st->next = s->streams;
  if (s->streams) s->streams->prev = st;
  s->streams = st;
  return 0;
}

static void stream_free(h2_stream *st) {
  h2_sess *s = st->s;
  if (st->prev) st->prev->next = st->next;
  else s->streams = st->next;
  if (st->next) st->next->prev = st->prev;
  if (st->x) px_xchg_free(st->x);
  free(st);
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
  h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
  px_xchg *x;
  (void)flags;
  (void)user;
  if (!st || st->started || frame->hd.type != NGHTTP2_HEADERS) return 0; /* trailers ignored */
  x = st->x;
  /* nghttp2 already refuses invalid names/values; checked again for defence in depth */
  if (px_header_check((const char *)name, namelen, (const char *)value, valuelen))
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
  if (namelen == 7 && !memcmp(name, ":method", 7)) {
    if (valuelen >= sizeof(x->method)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    memcpy(x->method, value, valuelen);
    x->method[valuelen] = 0;
  } else if (namelen == 5 && !memcmp(name, ":path", 5)) {
    free(x->path);
    x->path = strndup((const char *)value, valuelen);
  } else if (namelen == 10 && !memcmp(name, ":authority", 10)) {
    free(x->authority);
    x->authority = strndup((const char *)value, valuelen);
  } else if (name[0] == ':') {
    /* :scheme is implied by the connection */
  } else if (namelen == 4 && !memcmp(name, "host", 4)) {
    if (!x->authority) x->authority = strndup((const char *)value, valuelen);
  } else if (px_headers_add(&x->req, (const char *)name, namelen, (const char *)value, valuelen)) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

static void start_stream(h2_stream *st, int end_stream) {
  px_xchg *x = st->x;
  const char *cl = px_headers_get(&x->req, "content-length");
  st->started = 1;
  x->req_has_body = !end_stream;
  x->req_cl = -1;
  if (cl && !end_stream) {
    char *end;
    long long v = strtoll(cl, &end, 10);
    if (*end || v < 0) {
      px_xchg_respond_error(x, 400, "UNSUPPORTED", "bad content-length");
      return;
    }
    x->req_cl = v;
    if (v == 0) x->req_has_body = 0;
  }
  px_xchg_start(x);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user) {
  h2_stream *st;
  (void)user;
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
  if (!st) return 0;
  int end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS && !st->started) {
    start_stream(st, end);
    if (end) st->request_ended = 1;
    return 0;
  }
  if (end && !st->request_ended) {
    st->request_ended = 1;
    if (px_xchg_req_end(st->x) < 0) {
      nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
    }
  }
  return 0;
}

static int on_data_chunk_recv(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data,
                              size_t len, void *user) {
  h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
  (void)flags;
  (void)user;
  if (!st) {
    nghttp2_session_consume_connection(ng, len);
    return 0;
  }
  if (px_xchg_req_body(st->x, data, len) < 0) {
    /* more bytes than content-length: no smuggling through the h1 upstream */
    nghttp2_session_consume(ng, stream_id, len);
    nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_PROTOCOL_ERROR);
    return 0;
  }
  st->unconsumed += len;
  /* pending counts bytes held while the request waits (judgement, upstream slot) */
  if (px_xchg_req_pending(st->x) < st->s->ctx->cfg->watermark) credit(st);
  return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *user) {
  h2_stream *st = nghttp2_session_get_stream_user_data(ng, stream_id);
  (void)user;
  if (!st) return 0;
  if (st->unconsumed) nghttp2_session_consume_connection(ng, st->unconsumed);
  if (st->x) {
    if (error_code != NGHTTP2_NO_ERROR || !st->x->resp_done) st->x->aborted = 1;
    if (!st->x->resp_status && error_code) st->x->resp_status = 499;
  }
  nghttp2_session_set_stream_user_data(ng, stream_id, NULL);
  stream_free(st);
  return 0;
}

/* ---- I/O ---- */

/* Returns 1 when the session was freed. */
static int h2_flush(h2_sess *s) {
  struct evbuffer *out = bufferevent_get_output(s->bev);
  size_t cap = s->ctx->cfg->watermark * 4;
  if (s->in_flush) return 0;
  s->in_flush = 1;
  while (evbuffer_get_length(out) < cap) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(s->ng, &data);
    if (n < 0) {
      px_warn("client=%s h2 send: %s", s->peer, nghttp2_strerror((int)n));
      s->in_flush = 0;
      sess_free(s);
      return 1;
    }
    if (n == 0) break;
    evbuffer_add(out, data, (size_t)n);
  }
  s->in_flush = 0;
  if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng) &&
      evbuffer_get_length(out) == 0) {
    sess_free(s);
    return 1;
  }
  return 0;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  h2_flush(arg);
}

static void h2_read(struct bufferevent *bev, void *arg) {
  h2_sess *s = arg;
  struct evbuffer *in = bufferevent_get_input(bev);
  size_t wm = s->ctx->cfg->watermark, have = evbuffer_get_length(in);
  /* the peer's DATA is bounded by our windows, so this cannot overfill */
  if (have < wm) px_bev_read_more(bev, wm - have);
  while (evbuffer_get_length(in) > 0) {
    struct evbuffer_iovec v;
    if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) break;
    ssize_t n = nghttp2_session_mem_recv(s->ng, v.iov_base, v.iov_len);
    if (n < 0) {
      px_warn("client=%s h2 protocol error: %s", s->peer, nghttp2_strerror((int)n));
      /* nghttp2 queued a GOAWAY for most errors: send it, then close */
      if (!h2_flush(s)) sess_free(s);
      return;
    }
    evbuffer_drain(in, (size_t)n);
  }
  h2_flush(s);
}

static void h2_write(struct bufferevent *bev, void *arg) {
  h2_sess *s = arg;
  (void)bev;
  h2_flush(s);
}

static void h2_event(struct bufferevent *bev, short what, void *arg) {
  h2_sess *s = arg;
  (void)bev;
  (void)what;
  sess_free(s);
}

static void sess_free(h2_sess *s) {
  px_ctx *ctx = s->ctx;
  h2_sess **pp = &ctx->h2_sessions;
  while (*pp && *pp != s) pp = &(*pp)->next;
  if (*pp) *pp = s->next;
  while (s->streams) {
    if (s->streams->x) s->streams->x->aborted = !s->streams->x->resp_done;
    stream_free(s->streams);
  }
  if (s->ng) nghttp2_session_del(s->ng);
  if (s->flush_ev) event_free(s->flush_ev);
  if (s->bev) bufferevent_free(s->bev);
  free(s);
  px_server_client_closed(ctx);
}

int px_h2_start(px_ctx *ctx, struct bufferevent *bev, int tls, const char *peer) {
  h2_sess *s = calloc(1, sizeof(*s));
  nghttp2_session_callbacks *cbs = NULL;
  nghttp2_option *opt = NULL;
  if (!s) goto fail;
  s->ctx = ctx;
  s->bev = bev;
  s->tls = tls;
  snprintf(s->peer, sizeof(s->peer), "%s", peer);
  s->flush_ev = event_new(ctx->base, -1, 0, flush_cb, s);
  if (!s->flush_ev) goto fail;
  if (nghttp2_session_callbacks_new(&cbs) || nghttp2_option_new(&opt)) goto fail;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  if (nghttp2_session_server_new2(&s->ng, cbs, s, opt)) goto fail;
  nghttp2_session_callbacks_del(cbs);
  nghttp2_option_del(opt);
  cbs = NULL;
  opt = NULL;
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, PX_H2_MAX_CONCURRENT_STREAMS},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, ctx->cfg->h2_window},
  };
  nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 2);
  /* connection window: room for a few streams' windows */
  uint64_t conn_window = (uint64_t)ctx->cfg->h2_window * 4;
  if (conn_window > NGHTTP2_MAX_WINDOW_SIZE) conn_window = NGHTTP2_MAX_WINDOW_SIZE;
  nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, (int32_t)conn_window);
  s->next = ctx->h2_sessions;
  ctx->h2_sessions = s;
  px_bev_timeouts_ms(bev, ctx->cfg->client_timeout_ms, -1);
  px_bev_tune(bev, ctx->cfg->watermark, PX_BEV_H2);
  bufferevent_setcb(bev, h2_read, h2_write, h2_event, s);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  if (ctx->draining) {
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
    s->goaway_sent = 1;
  }
  if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) h2_read(bev, s);
  else h2_flush(s);
  return 0;
fail:
  if (cbs) nghttp2_session_callbacks_del(cbs);
  if (opt) nghttp2_option_del(opt);
  if (s) {
    if (s->flush_ev) event_free(s->flush_ev);
    free(s);
  }
  bufferevent_free(bev);
  px_server_client_closed(ctx);
  return SC_ERR_NOMEM;
}

void px_h2_drain_all(px_ctx *ctx) {
  for (h2_sess *s = ctx->h2_sessions; s; s = s->next) {
    if (s->goaway_sent) continue;
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
    s->goaway_sent = 1;
    schedule_flush(s);
  }
}
