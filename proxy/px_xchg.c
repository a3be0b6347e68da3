/* px_xchg.c - protocol-independent exchange logic (see px_xchg.h):
 * request validation and rewriting, upstream request head, response header
 * filtering and Location rewriting, local error answers, the access log. */
#include "px_xchg.h"
#include "px_intercept.h"
#include "px_log.h"
#include "px_upstream.h"
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

px_xchg *px_xchg_new(px_ctx *ctx, const px_front_ops *ops, void *front) {
  px_xchg *x = calloc(1, sizeof(*x));
  if (!x) return NULL;
  x->resp_body = evbuffer_new();
  if (!x->resp_body) {
    free(x);
    return NULL;
  }
  x->ctx = ctx;
  x->ops = ops;
  x->front = front;
  x->id = ++ctx->next_id;
  x->req_cl = -1;
  x->resp_cl = -1;
  x->t_start = px_now_ms();
  px_headers_init(&x->req);
  px_headers_init(&x->resp);
  ctx->nxchg++;
  return x;
}

const char *px_status_reason(int s) {
  switch (s) {
  case 100: return "Continue";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 416: return "Range Not Satisfiable";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Unknown";
  }
}

/* JSON string escaping into a bounded buffer. */
static void json_escape(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; *s && o + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    else out[o++] = (char)c;
  }
  out[o] = 0;
}

void px_xchg_respond_local(px_xchg *x, int status, px_headers *h, const char *body, size_t len) {
  char cl[32];
  px_headers_free(&x->resp);
  if (h) {
    x->resp = *h; /* takes ownership */
    px_headers_init(h);
  }
  snprintf(cl, sizeof(cl), "%zu", len);
  px_headers_set(&x->resp, "content-length", cl);
  px_headers_set(&x->resp, "docker-distribution-api-version", "registry/2.0");
  x->resp_status = status;
  x->resp_cl = (int64_t)len;
  x->resp_has_body = strcmp(x->method, "HEAD") != 0 && status >= 200 && status != 204 && status != 304;
  evbuffer_drain(x->resp_body, evbuffer_get_length(x->resp_body));
  if (x->resp_has_body) evbuffer_add(x->resp_body, body, len);
  x->resp_bytes = x->resp_has_body ? len : 0;
  x->resp_done = 1;
  x->resp_head_given = 1;
  x->ops->on_response(x);
  x->ops->on_resp_data(x);
}

void px_xchg_respond_error(px_xchg *x, int status, const char *code, const char *message) {
  char esc[1024], body[1400];
  px_headers h;
  px_headers_init(&h);
  json_escape(esc, sizeof(esc), message);
  int n = snprintf(body, sizeof(body), "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\",\"detail\":null}]}\n", code, esc);
  px_headers_set(&h, "content-type", "application/json; charset=utf-8");
  px_xchg_respond_local(x, status, &h, body, (size_t)n);
}

/* ---- request ---- */

static int send_head(px_xchg *x) {
  px_ctx *ctx = x->ctx;
  struct evbuffer *b = evbuffer_new();
  const char *conn = px_headers_get(&x->req, "connection");
  const char *xff = px_headers_get(&x->req, "x-forwarded-for");
  int rc = 0;
  if (!b) return PX_ERR_NOMEM;
  evbuffer_add_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", x->method, x->path, ctx->up_hosthdr);
  for (size_t i = 0; i < x->req.n; i++) {
    const px_header *f = &x->req.f[i];
    if (f->name[0] == ':' || px_header_is_hop(f->name, conn)) continue;
    if (!strcmp(f->name, "host") || !strcmp(f->name, "content-length") || !strcmp(f->name, "expect") ||
        !strcmp(f->name, "x-forwarded-proto") || !strcmp(f->name, "x-forwarded-host") ||
        !strcmp(f->name, "x-forwarded-for"))
      continue;
    evbuffer_add_printf(b, "%s: %s\r\n", f->name, f->value);
  }
  if (x->authority) evbuffer_add_printf(b, "X-Forwarded-Host: %s\r\n", x->authority);
  evbuffer_add_printf(b, "X-Forwarded-Proto: %s\r\n", x->tls ? "https" : "http");
  evbuffer_add_printf(b, "X-Forwarded-For: %s%s%s\r\n", xff ? xff : "", xff ? ", " : "", x->peer);
  if (x->req_has_body) {
    if (x->req_cl >= 0) evbuffer_add_printf(b, "Content-Length: %lld\r\n", (long long)x->req_cl);
    else evbuffer_add_printf(b, "Transfer-Encoding: chunked\r\n");
  } else if (!strcmp(x->method, "POST") || !strcmp(x->method, "PUT") || !strcmp(x->method, "PATCH")) {
    evbuffer_add_printf(b, "Content-Length: 0\r\n");
  }
  evbuffer_add(b, "\r\n", 2);
  size_t len = evbuffer_get_length(b);
  unsigned char *p = evbuffer_pullup(b, -1);
  if (!p || px_upconn_write(x->up, p, len) < 0) rc = PX_ERR_NOMEM;
  evbuffer_free(b);
  return rc;
}

static int connect_and_send(px_xchg *x) {
  x->t_up_start = px_now_ms();
  if (px_upconn_acquire(x->ctx, x) < 0) return PX_ERR_IO;
  if (send_head(x) < 0) return PX_ERR_NOMEM;
  if (!x->req_has_body) {
    x->req_done = 1;
    px_intercept_req_end(x);
    px_upconn_request_done(x->up);
  }
  return 0;
}

int px_xchg_start(px_xchg *x) {
  if (!x->path || x->path[0] != '/') {
    px_xchg_respond_error(x, 400, "UNSUPPORTED", "request target must be an absolute path");
    return 0;
  }
  for (const char *p = x->path; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
      px_xchg_respond_error(x, 400, "UNSUPPORTED", "request target contains control characters or spaces");
      return 0;
    }
  for (size_t i = 0; i < x->req.n; i++)
    if (px_header_check(x->req.f[i].name, x->req.f[i].namelen, x->req.f[i].value, x->req.f[i].valuelen)) {
      px_xchg_respond_error(x, 400, "UNSUPPORTED", "invalid header field");
      return 0;
    }
  if (x->authority && px_header_check("host", 4, x->authority, strlen(x->authority))) {
    px_xchg_respond_error(x, 400, "UNSUPPORTED", "invalid authority");
    return 0;
  }
  if (px_route_parse(x->path, &x->route) < 0) {
    px_xchg_respond_error(x, 400, "NAME_INVALID",
                          "malformed registry path (percent-escapes, dot segments and empty segments are refused)");
    return 0;
  }
  if (px_intercept_request(x)) return 0;
  if (x->ctx->draining && x->ctx->cfg->drain_timeout_ms == 0) {
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is shutting down");
    return 0;
  }
  if (connect_and_send(x) < 0) {
    if (x->up) px_upconn_release(x->up, 0);
    px_xchg_respond_error(x, 502, "UNAVAILABLE", "cannot reach the upstream registry");
  }
  return 0;
}

int px_xchg_req_body(px_xchg *x, const void *data, size_t len) {
  if (x->resp_done && !x->up) return 0; /* answered already (error): discard */
  x->req_bytes += len;
  if (x->req_cl >= 0 && x->req_bytes > (uint64_t)x->req_cl) return PX_ERR_INVALID;
  if (!x->up) return 0;
  px_intercept_req_body(x, data, len);
  int rc = x->req_cl >= 0 ? px_upconn_write(x->up, data, len) : px_upconn_write_chunk(x->up, data, len);
  return rc;
}

int px_xchg_req_end(px_xchg *x) {
  if (x->req_done) return 0;
  x->req_done = 1;
  if (x->req_cl >= 0 && x->req_bytes != (uint64_t)x->req_cl) return PX_ERR_INVALID;
  if (!x->up) return 0;
  px_intercept_req_end(x);
  if (x->req_has_body && x->req_cl < 0 && px_upconn_write(x->up, "0\r\n\r\n", 5) < 0) return PX_ERR_NOMEM;
  px_upconn_request_done(x->up);
  return 0;
}

size_t px_xchg_req_pending(const px_xchg *x) { return x->up ? px_upconn_pending(x->up) : 0; }

void px_xchg_resp_consumed(px_xchg *x) {
  if (x->up) px_upconn_resume(x->up);
}

/* ---- response ---- */

/* A Location pointing at the upstream is rewritten to the address the
 * client used; the rest (path and the signed query) is kept byte for byte. */
static void rewrite_location(px_xchg *x) {
  const char *loc = px_headers_get(&x->resp, "location");
  const char *origin = x->ctx->up_origin;
  size_t ol = strlen(origin);
  char *n;
  if (!loc || !x->authority || strncasecmp(loc, origin, ol) != 0) return;
  if (loc[ol] != '/' && loc[ol] != '?' && loc[ol] != 0) return;
  size_t need = strlen(loc) - ol + strlen(x->authority) + 16;
  n = malloc(need);
  if (!n) return;
  snprintf(n, need, "%s://%s%s", x->tls ? "https" : "http", x->authority, loc + ol);
  px_headers_set(&x->resp, "location", n);
  free(n);
}

void px_xchg_upstream_head(px_xchg *x, int status, int head_request) {
  const char *conn = px_headers_get(&x->resp, "connection");
  const char *te = px_headers_get(&x->resp, "transfer-encoding");
  const char *cl = px_headers_get(&x->resp, "content-length");
  char *conn_copy = conn ? strdup(conn) : NULL;
  size_t j = 0;

  x->t_up_head = px_now_ms();
  x->resp_status = status;
  /* drop hop-by-hop fields, including those named by Connection */
  for (size_t i = 0; i < x->resp.n; i++) {
    px_header *f = &x->resp.f[i];
    if (px_header_is_hop(f->name, conn_copy) || (te && !strcmp(f->name, "content-length"))) {
      x->resp.bytes -= f->namelen + f->valuelen;
      free(f->name);
      free(f->value);
      continue;
    }
    x->resp.f[j++] = *f;
  }
  x->resp.n = j;
  free(conn_copy);
  x->resp_has_body = !head_request && status >= 200 && status != 204 && status != 304;
  x->resp_cl = (!te && cl) ? strtoll(cl, NULL, 10) : -1;
  rewrite_location(x);
  switch (px_intercept_response_head(x)) {
  case PX_HOOK_HOLD:
    x->held = 1;
    return;
  case PX_HOOK_ANSWERED:
    return;
  default:
    break;
  }
  x->resp_head_given = 1;
  x->ops->on_response(x);
}

void px_xchg_release(px_xchg *x, const char *hname, const char *hvalue) {
  if (!x->held) return;
  x->held = 0;
  if (hname) px_headers_set(&x->resp, hname, hvalue);
  x->resp_head_given = 1;
  x->ops->on_response(x);
  if (evbuffer_get_length(x->resp_body) > 0 || x->resp_done) x->ops->on_resp_data(x);
}

void px_xchg_upstream_body(px_xchg *x, const void *data, size_t len) {
  px_intercept_resp_body(x, data, len);
  if (!x->held) x->ops->on_resp_data(x);
}

void px_xchg_upstream_done(px_xchg *x) {
  x->t_up_end = px_now_ms();
  x->resp_done = 1;
  px_intercept_response_done(x);
  if (!x->held) x->ops->on_resp_data(x);
}

void px_xchg_upstream_drained(px_xchg *x) { x->ops->on_req_drained(x); }

void px_xchg_upstream_failed(px_xchg *x, int timeout, const char *why) {
  /* x->up is already NULL: the connection is gone. */
  x->t_up_end = px_now_ms();
  px_warn("req=%llu %s %s: %s", (unsigned long long)x->id, x->method, x->path, why);
  if (x->held && x->resp_done) return; /* the whole response is here: the close does not matter */
  x->held = 0;
  if (x->resp_head_given) {
    x->aborted = 1;
    x->ops->on_abort(x);
    return;
  }
  if (timeout) px_xchg_respond_error(x, 504, "UNAVAILABLE", why);
  else px_xchg_respond_error(x, 502, "UNAVAILABLE", why);
}

void px_xchg_free(px_xchg *x) {
  int64_t now = px_now_ms();
  char path[300];
  if (!x) return;
  /* The query string can carry upload state; the log keeps the path only. */
  snprintf(path, sizeof(path), "%s", x->path ? x->path : "-");
  char *q = strchr(path, '?');
  if (q) *q = 0;
  px_info("access id=%llu client=%s proto=%s %s %s status=%d in=%llu out=%llu total_ms=%lld upstream_ms=%lld%s",
          (unsigned long long)x->id, x->peer, x->proto ? x->proto : "-", x->method[0] ? x->method : "-", path,
          x->resp_status, (unsigned long long)x->req_bytes, (unsigned long long)x->resp_bytes,
          (long long)(now - x->t_start),
          (long long)(x->t_up_start ? (x->t_up_end ? x->t_up_end : now) - x->t_up_start : 0),
          x->aborted ? " aborted" : "");
  px_intercept_free(x);
  if (x->up) px_upconn_release(x->up, x->resp_done && x->req_done && !x->aborted);
  px_headers_free(&x->req);
  px_headers_free(&x->resp);
  evbuffer_free(x->resp_body);
  free(x->path);
  free(x->authority);
  x->ctx->nxchg--;
  px_server_check_drained(x->ctx);
  free(x);
}
