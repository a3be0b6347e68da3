/* px_h1.c - HTTP/1.1 front: one exchange at a time per connection (the
 * parser is paused after each request until its response is complete, which
 * also serialises pipelined requests).
 *
 * Ownership: front.  Thread: loop thread.  Lifetime: the exchange is freed
 * only from this file's own loop callbacks (read, write, event, resume),
 * never inside a px_front_ops callback: px_xchg and the interception may
 * still be using it further up the stack (see px_xchg.h).
 *
 * State: a connection is in one h1_state at a time (reading a request, paused
 * mid-body by backpressure, waiting for a response, closing), plus H1_F_*
 * condition bits for the message and the connection (haproxy's h1c/h1s
 * style); h1_describe() prints both for debug logs.
 * Errors: a malformed request gets a 400 and the connection closes. */
#include "px_h1.h"
#include "px_bev.h"
#include "px_log.h"
#include "px_xchg.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of a request target (origin-form path and query). */
#define H1_MAX_URL 8192

/* What the connection is doing. */
typedef enum h1_state {
  H1_S_READING = 0,  /* the parser runs: a request head or body, or waiting for the next request */
  H1_S_BODY_PAUSED,  /* parser paused mid-body: the upstream has not taken the bytes yet */
  H1_S_WAIT_RESP,    /* the request is read; parser paused until its response is complete */
  H1_S_CLOSING       /* flushing what is queued, then freed */
} h1_state;

/* Conditions of the current message and of the connection (h1_conn.flags). */
#define H1_F_URL_TOO_LONG   0x0001u /* request target over H1_MAX_URL: 414 */
#define H1_F_HDR_LAST_VALUE 0x0002u /* parser: the last piece was a value (a new name starts a field) */
#define H1_F_HDR_ERROR      0x0004u /* header fields over the caps: 431 */
#define H1_F_RESP_CHUNKED   0x0008u /* the response goes out chunked */
#define H1_F_RESP_FINAL     0x0010u /* the end of the response is written (or abandoned) */
#define H1_F_CLOSE_AFTER    0x0020u /* close once the current response is written */
#define H1_F_HTTP10         0x0040u /* the request was HTTP/1.0 */
#define H1_F_IN_PARSE       0x0080u /* inside http_parser_execute: exchanges complete afterwards */

typedef struct h1_conn {
  px_ctx *ctx;
  struct bufferevent *bev;
  http_parser parser;
  int tls;
  char peer[64];
  px_xchg *x;
  struct event *resume_ev;
  char url[H1_MAX_URL];
  size_t urllen;
  h1_state state;
  unsigned flags;         /* H1_F_* */
} h1_conn;

static const char *h1_state_name(h1_state s) {
  switch (s) {
  case H1_S_READING: return "reading";
  case H1_S_BODY_PAUSED: return "body-paused";
  case H1_S_WAIT_RESP: return "wait-response";
  case H1_S_CLOSING: return "closing";
  }
  return "?";
}

/* "state=wait-response flags=close_after|http10", for debug logs. */
static void h1_describe(const h1_conn *c, char *buf, size_t cap) {
  static const struct { unsigned bit; const char *name; } names[] = {
      {H1_F_URL_TOO_LONG, "url_too_long"}, {H1_F_HDR_LAST_VALUE, "hdr_last_value"},
      {H1_F_HDR_ERROR, "hdr_error"},       {H1_F_RESP_CHUNKED, "resp_chunked"},
      {H1_F_RESP_FINAL, "resp_final"},     {H1_F_CLOSE_AFTER, "close_after"},
      {H1_F_HTTP10, "http10"},             {H1_F_IN_PARSE, "in_parse"},
  };
  size_t o = (size_t)snprintf(buf, cap, "state=%s flags=", h1_state_name(c->state));
  int first = 1;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && o < cap; i++) {
    if (!(c->flags & names[i].bit)) continue;
    o += (size_t)snprintf(buf + o, cap - o, "%s%s", first ? "" : "|", names[i].name);
    first = 0;
  }
  if (first && o < cap) snprintf(buf + o, cap - o, "-");
}

static int has(const h1_conn *c, unsigned f) { return (c->flags & f) != 0; }

static void h1_read(struct bufferevent *bev, void *arg);
static void h1_write(struct bufferevent *bev, void *arg);
static void h1_event(struct bufferevent *bev, short what, void *arg);
static void h1_pump(h1_conn *c);

static void h1_free(h1_conn *c) {
  px_ctx *ctx = c->ctx;
  if (px_log_level() >= PX_LOG_DEBUG) {
    char d[200];
    h1_describe(c, d, sizeof(d));
    px_debug("client=%s h1 connection freed: %s", c->peer, d);
  }
  if (c->x) {
    c->x->aborted = !c->x->resp_done || !c->x->req_done;
    px_xchg_free(c->x);
  }
  if (c->resume_ev) event_free(c->resume_ev);
  if (c->bev) bufferevent_free(c->bev);
  free(c);
  px_server_client_closed(ctx);
}

/* Closes after what is queued has been written. */
static void h1_close_soon(h1_conn *c) {
  c->state = H1_S_CLOSING;
  bufferevent_disable(c->bev, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) event_active(c->resume_ev, 0, 0);
}

/* ---- front ops ---- */

static void op_on_response(px_xchg *x) {
  h1_conn *c = x->front;
  struct evbuffer *out = bufferevent_get_output(c->bev);
  int st = x->resp_status;
  evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", st, px_status_reason(st));
  for (size_t i = 0; i < x->resp.n; i++) {
    const px_header *f = &x->resp.f[i];
    if (!strcmp(f->name, "content-length") && x->resp_has_body && x->resp_cl < 0) continue;
    evbuffer_add_printf(out, "%s: %s\r\n", f->name, f->value);
  }
  c->flags &= ~(H1_F_RESP_CHUNKED | H1_F_RESP_FINAL);
  if (x->resp_has_body && x->resp_cl < 0) {
    if (has(c, H1_F_HTTP10)) c->flags |= H1_F_CLOSE_AFTER; /* close-delimited */
    else {
      c->flags |= H1_F_RESP_CHUNKED;
      evbuffer_add_printf(out, "transfer-encoding: chunked\r\n");
    }
  }
  if (!x->req_done) c->flags |= H1_F_CLOSE_AFTER; /* answered before the body ended: don't resync */
  if (c->ctx->draining) c->flags |= H1_F_CLOSE_AFTER;
  if (has(c, H1_F_CLOSE_AFTER)) evbuffer_add_printf(out, "connection: close\r\n");
  evbuffer_add(out, "\r\n", 2);
}

static int h1_move(h1_conn *c);

/* Inside an exchange callback: bytes move now, the end waits for resume_ev. */
static void op_on_resp_data(px_xchg *x) {
  h1_conn *c = x->front;
  if (h1_move(c)) event_active(c->resume_ev, 0, 0);
}

static void op_on_req_drained(px_xchg *x) {
  h1_conn *c = x->front;
  if (c->state == H1_S_BODY_PAUSED && px_xchg_req_pending(x) < c->ctx->cfg->watermark) {
    c->state = H1_S_READING;
    http_parser_pause(&c->parser, 0);
    bufferevent_enable(c->bev, EV_READ);
    event_active(c->resume_ev, 0, 0);
  }
}

static void op_on_abort(px_xchg *x) {
  h1_conn *c = x->front;
  /* The head is out: the only honest signal left is closing the connection. */
  c->flags |= H1_F_CLOSE_AFTER | H1_F_RESP_FINAL;
  h1_close_soon(c);
}

static const px_front_ops h1_ops = {op_on_response, op_on_resp_data, op_on_req_drained, op_on_abort};

/* Moves response bytes to the client while its output is below the
 * watermark.  Returns 1 when the response is complete (h1_pump ends it). */
static int h1_move(h1_conn *c) {
  px_xchg *x = c->x;
  struct evbuffer *out = bufferevent_get_output(c->bev);
  size_t wm = c->ctx->cfg->watermark;
  if (!x || !x->resp_head_given || has(c, H1_F_RESP_FINAL)) return 0;
  while (evbuffer_get_length(x->resp_body) > 0 && evbuffer_get_length(out) < wm) {
    size_t n = evbuffer_get_length(x->resp_body);
    if (n > wm) n = wm;
    if (has(c, H1_F_RESP_CHUNKED)) evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_remove_buffer(x->resp_body, out, n);
    if (has(c, H1_F_RESP_CHUNKED)) evbuffer_add(out, "\r\n", 2);
  }
  px_xchg_resp_consumed(x);
  return x->resp_done && evbuffer_get_length(x->resp_body) == 0;
}

/* Top of the stack only (loop callbacks): moves bytes and ends a complete
 * response, freeing the exchange. */
static void h1_pump(h1_conn *c) {
  px_xchg *x = c->x;
  struct evbuffer *out = bufferevent_get_output(c->bev);
  if (!h1_move(c) || has(c, H1_F_IN_PARSE)) return;
  if (has(c, H1_F_RESP_CHUNKED)) evbuffer_add(out, "0\r\n\r\n", 5);
  c->flags |= H1_F_RESP_FINAL;
  if (!x->req_done) c->flags |= H1_F_CLOSE_AFTER;
  c->x = NULL;
  px_xchg_free(x);
  if (has(c, H1_F_CLOSE_AFTER)) {
    h1_close_soon(c);
    return;
  }
  /* next request on this connection */
  if (c->state != H1_S_CLOSING) c->state = H1_S_READING;
  http_parser_pause(&c->parser, 0);
  event_active(c->resume_ev, 0, 0);
}

/* ---- http-parser callbacks (request) ---- */

static int on_message_begin(http_parser *p) {
  h1_conn *c = p->data;
  c->urllen = 0;
  c->flags &= ~(H1_F_URL_TOO_LONG | H1_F_HDR_LAST_VALUE | H1_F_HDR_ERROR);
  c->x = px_xchg_new(c->ctx, &h1_ops, c);
  if (!c->x) return -1;
  c->x->proto = "h1";
  c->x->tls = c->tls;
  snprintf(c->x->peer, sizeof(c->x->peer), "%s", c->peer);
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t len) {
  h1_conn *c = p->data;
  if (c->urllen + len >= H1_MAX_URL) {
    c->flags |= H1_F_URL_TOO_LONG;
    return 0;
  }
  memcpy(c->url + c->urllen, at, len);
  c->urllen += len;
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  h1_conn *c = p->data;
  int rc;
  if (has(c, H1_F_HDR_LAST_VALUE) || c->x->req.n == 0) rc = px_headers_add(&c->x->req, at, len, "", 0);
  else rc = px_headers_append_last(&c->x->req, 1, at, len);
  c->flags &= ~H1_F_HDR_LAST_VALUE;
  if (rc) c->flags |= H1_F_HDR_ERROR;
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  h1_conn *c = p->data;
  c->flags |= H1_F_HDR_LAST_VALUE;
  if (!has(c, H1_F_HDR_ERROR) && px_headers_append_last(&c->x->req, 0, at, len)) c->flags |= H1_F_HDR_ERROR;
  return 0;
}

static int on_headers_complete(http_parser *p) {
  h1_conn *c = p->data;
  px_xchg *x = c->x;
  const char *te, *cl, *host, *expect;

  if (p->http_major == 1 && p->http_minor == 0) c->flags |= H1_F_HTTP10;
  else c->flags &= ~H1_F_HTTP10;
  if (!http_should_keep_alive(p)) c->flags |= H1_F_CLOSE_AFTER;
  snprintf(x->method, sizeof(x->method), "%s", http_method_str(p->method));
  c->url[c->urllen] = 0;
  x->path = strdup(c->url);
  host = px_headers_get(&x->req, "host");
  x->authority = host ? strdup(host) : NULL;
  te = px_headers_get(&x->req, "transfer-encoding");
  cl = px_headers_get(&x->req, "content-length");
  expect = px_headers_get(&x->req, "expect");
  x->req_has_body = (p->flags & F_CHUNKED) || (cl && p->content_length > 0);
  x->req_cl = (p->flags & F_CHUNKED) ? -1 : (cl ? (int64_t)p->content_length : 0);
  if (!x->req_has_body) x->req_cl = -1;
  if (has(c, H1_F_URL_TOO_LONG)) px_xchg_respond_error(x, 414, "UNSUPPORTED", "request target too long");
  else if (has(c, H1_F_HDR_ERROR)) px_xchg_respond_error(x, 431, "UNSUPPORTED", "request header fields too large");
  else if (te && cl) px_xchg_respond_error(x, 400, "UNSUPPORTED", "both Transfer-Encoding and Content-Length");
  else if (te && !(p->flags & F_CHUNKED)) px_xchg_respond_error(x, 501, "UNSUPPORTED", "unsupported transfer-coding");
  else if (!x->path || (!host && !has(c, H1_F_HTTP10))) px_xchg_respond_error(x, 400, "UNSUPPORTED", "missing Host");
  else {
    if (expect && !strcasecmp(expect, "100-continue") && x->req_has_body)
      evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
    px_xchg_start(x);
  }
  if (x->resp_done && x->req_has_body) c->flags |= H1_F_CLOSE_AFTER; /* refused: don't read the body */
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  h1_conn *c = p->data;
  px_xchg *x = c->x;
  if (!x) return 0;
  if (px_xchg_req_body(x, at, len) < 0) return -1;
  if (px_xchg_req_pending(x) >= c->ctx->cfg->watermark) {
    if (c->state == H1_S_READING) c->state = H1_S_BODY_PAUSED;
    http_parser_pause(p, 1);
  }
  return 0;
}

static int on_message_complete(http_parser *p) {
  h1_conn *c = p->data;
  px_xchg *x = c->x;
  if (c->state != H1_S_CLOSING) c->state = H1_S_WAIT_RESP;
  http_parser_pause(p, 1);
  if (x && px_xchg_req_end(x) < 0) return -1;
  return 0;
}

static const http_parser_settings h1_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- bufferevent ---- */

static void bad_request(h1_conn *c, const char *why) {
  struct evbuffer *out = bufferevent_get_output(c->bev);
  char body[512];
  int n = snprintf(body, sizeof(body), "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"malformed HTTP/1.1 request: %s\",\"detail\":null}]}\n", why);
  px_warn("client=%s malformed request: %s", c->peer, why);
  if (c->x && c->x->resp_head_given) {
    /* response already under way: just drop the connection */
  } else {
    evbuffer_add_printf(out, "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s", n, body);
  }
  if (c->x) {
    c->x->resp_status = c->x->resp_status ? c->x->resp_status : 400;
    c->x->aborted = 1;
    px_xchg_free(c->x);
    c->x = NULL;
  }
  c->flags |= H1_F_RESP_FINAL;
  h1_close_soon(c);
}

static void h1_read(struct bufferevent *bev, void *arg) {
  h1_conn *c = arg;
  struct evbuffer *in = bufferevent_get_input(bev);
  if (c->state == H1_S_CLOSING) {
    evbuffer_drain(in, evbuffer_get_length(in));
    return;
  }
  size_t wm = c->ctx->cfg->watermark, have = evbuffer_get_length(in);
  if (c->state == H1_S_READING && have < wm) px_bev_read_more(bev, wm - have);
  while (evbuffer_get_length(in) > 0 && c->state == H1_S_READING) {
    struct evbuffer_iovec v;
    if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) break;
    c->flags |= H1_F_IN_PARSE;
    size_t n = http_parser_execute(&c->parser, &h1_settings, v.iov_base, v.iov_len);
    c->flags &= ~H1_F_IN_PARSE;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    evbuffer_drain(in, n);
    if (e == HPE_PAUSED) {
      if (c->state == H1_S_BODY_PAUSED) bufferevent_disable(bev, EV_READ);
      break;
    }
    if (e != HPE_OK) {
      bad_request(c, http_errno_description(e));
      return;
    }
  }
  /* an answer produced while parsing (local errors) completes now */
  if (c->x && c->x->resp_done) {
    h1_pump(c);
    if (c->state == H1_S_CLOSING || !c->x) return;
  }
  /* While a response is pending, stop reading (pipelined requests wait in the kernel). */
  if (c->state == H1_S_WAIT_RESP && c->x) bufferevent_disable(bev, EV_READ);
  else if (c->state != H1_S_BODY_PAUSED && c->state != H1_S_CLOSING) bufferevent_enable(bev, EV_READ);
}

static void h1_write(struct bufferevent *bev, void *arg) {
  h1_conn *c = arg;
  if (c->state == H1_S_CLOSING) {
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) h1_free(c);
    return;
  }
  h1_pump(c);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg) {
  h1_conn *c = arg;
  (void)fd;
  (void)what;
  if (c->state == H1_S_CLOSING) {
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) h1_free(c);
    return;
  }
  h1_read(c->bev, c);
}

static void h1_event(struct bufferevent *bev, short what, void *arg) {
  h1_conn *c = arg;
  (void)bev;
  if (what & BEV_EVENT_EOF && c->state != H1_S_CLOSING && c->x == NULL) {
    h1_free(c); /* clean close between requests */
    return;
  }
  if (c->x && !(c->x->resp_done && c->x->req_done))
    px_info("client=%s closed the connection during %s %s", c->peer, c->x->method, px_xchg_logpath(c->x));
  h1_free(c);
}

int px_h1_start(px_ctx *ctx, struct bufferevent *bev, int tls, const char *peer) {
  h1_conn *c = calloc(1, sizeof(*c));
  if (!c) {
    bufferevent_free(bev);
    return SC_ERR_NOMEM;
  }
  c->ctx = ctx;
  c->bev = bev;
  c->tls = tls;
  snprintf(c->peer, sizeof(c->peer), "%s", peer);
  c->resume_ev = event_new(ctx->base, -1, 0, resume_cb, c);
  if (!c->resume_ev) {
    bufferevent_free(bev);
    free(c);
    return SC_ERR_NOMEM;
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  px_bev_timeouts_ms(bev, ctx->cfg->client_timeout_ms, ctx->cfg->client_timeout_ms);
  px_bev_tune(bev, ctx->cfg->watermark, PX_BEV_H1);
  bufferevent_setcb(bev, h1_read, h1_write, h1_event, c);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  /* bytes already read while sniffing the protocol */
  if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) event_active(c->resume_ev, 0, 0);
  return 0;
}
