/* px_xchg.c - protocol-independent exchange logic (see px_xchg.h):
 * request validation and rewriting, upstream request head, response header
 * filtering and Location rewriting, local error answers, the access log.
 * The interception is reached only through ctx->intercept (NULL: this file
 * is the whole plain proxy).
 * Ownership: front.  Thread: loop thread.  Errors become local answers. */
#include "px_xchg.h"
#include "px_authrealm.h"
#include "px_log.h"
#include "px_metrics.h"
#include "px_upstream.h"
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- lifetime (see px_xchg.h) ---- */

static void really_free(px_xchg *x);

static void deferred_free_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  really_free(arg);
}

static void enter(px_xchg *x) { x->busy++; }

static void leave(px_xchg *x) {
  if (--x->busy > 0 || !x->dying || x->free_ev) return;
  /* freed from a fresh loop callback: the caller of the outermost px_xchg
   * function may still look at x when we return */
  x->free_ev = event_new(x->ctx->base, -1, 0, deferred_free_cb, x);
  if (x->free_ev) event_active(x->free_ev, 0, 0);
  else px_error("req=%llu: cannot defer the free of an exchange: leaked", (unsigned long long)x->id);
}

static void give_head(px_xchg *x) {
  if (!x->dying) x->ops->on_response(x);
}

static void give_data(px_xchg *x) {
  if (!x->dying) x->ops->on_resp_data(x);
}

/* ---- interception hooks: ctx->intercept, or the plain proxy's answer ---- */

static px_req_rc hook_request(px_xchg *x) {
  const px_intercept_ops *i = x->ctx->intercept;
  return i ? i->request(x) : PX_REQ_PROCEED;
}

static void hook_req_body(px_xchg *x, const void *data, size_t len) {
  const px_intercept_ops *i = x->ctx->intercept;
  if (i) i->req_body(x, data, len);
}

static void hook_req_end(px_xchg *x) {
  const px_intercept_ops *i = x->ctx->intercept;
  if (i) i->req_end(x);
}

static px_hook_rc hook_response_head(px_xchg *x) {
  const px_intercept_ops *i = x->ctx->intercept;
  return i ? i->response_head(x) : PX_HOOK_PASS;
}

static void hook_resp_body(px_xchg *x, const void *data, size_t len) {
  const px_intercept_ops *i = x->ctx->intercept;
  if (i) i->resp_body(x, data, len);
}

static px_hook_rc hook_response_done(px_xchg *x) {
  const px_intercept_ops *i = x->ctx->intercept;
  return i ? i->response_done(x) : PX_HOOK_PASS;
}

static void hook_free(px_xchg *x) {
  const px_intercept_ops *i = x->ctx->intercept;
  if (i) i->free(x);
}

const char *px_xchg_wait_name(px_xchg_wait w) {
  switch (w) {
  case PX_WAIT_NONE: return "none";
  case PX_WAIT_VERDICT: return "verdict";
  case PX_WAIT_BODY: return "body";
  case PX_WAIT_UPSTREAM: return "upstream";
  }
  return "?";
}

static void stop_waiting(px_xchg *x) {
  x->req_wait = PX_WAIT_NONE;
  if (x->req_held) {
    evbuffer_free(x->req_held);
    x->req_held = NULL;
  }
}

const char *px_xchg_logpath(px_xchg *x) {
  if (!x->logpath[0]) {
    const char *p = x->path ? x->path : "-";
    const char *q = strchr(p, '?');
    size_t n = q ? (size_t)(q - p) : strlen(p);
    if (n > sizeof(x->logpath) - 14) n = sizeof(x->logpath) - 14;
    snprintf(x->logpath, sizeof(x->logpath), "%.*s%s", (int)n, p, q ? "?<redacted>" : "");
    /* the log is line-oriented: nothing that could forge a line or a field */
    for (char *c = x->logpath; *c; c++)
      if ((unsigned char)*c < 0x21 || (unsigned char)*c >= 0x7f || *c == '"') *c = '?';
  }
  return x->logpath;
}

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
  if (x->dying) {
    if (h) px_headers_free(h);
    return;
  }
  enter(x);
  stop_waiting(x);
  px_upstream_dequeue(x);
  px_headers_free(&x->resp);
  if (h) {
    x->resp = *h; /* takes ownership */
    px_headers_init(h);
  }
  snprintf(cl, sizeof(cl), "%zu", len);
  px_headers_set(&x->resp, "content-length", cl);
  px_headers_set(&x->resp, "docker-distribution-api-version", "registry/2.0");
  {
    /* as the registry's own answers carry it (RFC 9110 IMF-fixdate) */
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
      px_headers_set(&x->resp, "date", date);
  }
  x->resp_status = status;
  x->resp_cl = (int64_t)len;
  x->resp_has_body = strcmp(x->method, "HEAD") != 0 && status >= 200 && status != 204 && status != 304;
  evbuffer_drain(x->resp_body, evbuffer_get_length(x->resp_body));
  if (x->resp_has_body) evbuffer_add(x->resp_body, body, len);
  x->resp_bytes = x->resp_has_body ? len : 0;
  x->resp_done = 1;
  x->resp_head_given = 1;
  give_head(x);
  give_data(x);
  leave(x);
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

/* Manifest types customs can judge.  A manifest GET/HEAD upstream always
 * accepts all of them, so distribution never converts a schema2 manifest to
 * schema1 (a document customs cannot judge) for a client that did not ask. */
static const char *const manifest_types =
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/* Conditional and partial fields dropped from manifest GET/HEAD: the gate
 * judges whole documents, and a denied manifest must never come back as a
 * 304 (the client keeps its cached copy) or a 206 past the gate. */
static int conditional_field(const char *name) {
  static const char *const f[] = {"if-none-match", "if-modified-since", "if-match", "if-unmodified-since",
                                  "if-range", "range", NULL};
  for (size_t i = 0; f[i]; i++)
    if (!strcmp(name, f[i])) return 1;
  return 0;
}

/* Go's Request.FormValue (used by distribution for ?digest=, ?mount=,
 * ?from=) also reads form bodies of PUT/POST/PATCH: on upload routes such a
 * body could name a digest customs never saw in the query. */
static int form_body(const px_xchg *x) {
  const char *ct = px_headers_get(&x->req, "content-type");
  if (!ct || (x->route.kind != PX_R_UPLOAD && x->route.kind != PX_R_UPLOAD_START)) return 0;
  while (*ct == ' ' || *ct == '\t') ct++;
  return !strncasecmp(ct, "application/x-www-form-urlencoded", 33) || !strncasecmp(ct, "multipart/", 10);
}

static int send_head(px_xchg *x) {
  px_ctx *ctx = x->ctx;
  struct evbuffer *b = evbuffer_new();
  const char *conn = px_headers_get(&x->req, "connection");
  const char *xff = px_headers_get(&x->req, "x-forwarded-for");
  int manifest_read = x->route.kind == PX_R_MANIFEST && (!strcmp(x->method, "GET") || !strcmp(x->method, "HEAD"));
  int rc = 0;
  if (!b) return SC_ERR_NOMEM;
  evbuffer_add_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", x->method, x->path, ctx->up_hosthdr);
  for (size_t i = 0; i < x->req.n; i++) {
    const px_header *f = &x->req.f[i];
    if (f->name[0] == ':' || px_header_is_hop(f->name, conn)) continue;
    if (!strcmp(f->name, "host") || !strcmp(f->name, "content-length") || !strcmp(f->name, "expect") ||
        !strcmp(f->name, "x-forwarded-proto") || !strcmp(f->name, "x-forwarded-host") ||
        !strcmp(f->name, "x-forwarded-for"))
      continue;
    if (manifest_read && conditional_field(f->name)) continue;
    evbuffer_add_printf(b, "%s: %s\r\n", f->name, f->value);
  }
  /* Go joins repeated Accept fields: this one adds to the client's types */
  if (manifest_read) evbuffer_add_printf(b, "Accept: %s\r\n", manifest_types);
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
  if (!p || px_upconn_write(x->up, p, len) < 0) rc = SC_ERR_NOMEM;
  evbuffer_free(b);
  return rc;
}

static int forward_body(px_xchg *x, const void *data, size_t len) {
  hook_req_body(x, data, len);
  if (!x->up) return 0;
  return x->req_cl >= 0 ? px_upconn_write(x->up, data, len) : px_upconn_write_chunk(x->up, data, len);
}

static int forward_end(px_xchg *x) {
  if (x->req_end_sent) return 0;
  x->req_end_sent = 1;
  x->req_done = 1;
  hook_req_end(x);
  if (!x->up) return 0;
  if (x->req_has_body && x->req_cl < 0 && px_upconn_write(x->up, "0\r\n\r\n", 5) < 0) return SC_ERR_NOMEM;
  px_upconn_request_done(x->up);
  return 0;
}

static int connect_and_send(px_xchg *x) {
  x->t_up_start = px_now_ms();
  if (px_upstream_attach(x->ctx, x) < 0) return SC_ERR_IO;
  if (send_head(x) < 0) return SC_ERR_NOMEM;
  if (x->req_held && evbuffer_get_length(x->req_held) > 0) {
    /* body bytes that arrived while the interception judged the request */
    size_t len = evbuffer_get_length(x->req_held);
    unsigned char *p = evbuffer_pullup(x->req_held, -1);
    if (!p || forward_body(x, p, len) < 0) return SC_ERR_NOMEM;
  }
  stop_waiting(x);
  if (!x->req_has_body || x->req_done) return forward_end(x);
  return 0;
}

static void send_upstream(px_xchg *x) {
  if (connect_and_send(x) < 0) {
    px_upstream_detach(x, 0);
    px_xchg_respond_error(x, 502, "UNAVAILABLE", "cannot reach the upstream registry");
  }
}

static void go_upstream(px_xchg *x) {
  int a;
  if (x->ctx->draining && x->ctx->cfg->drain_timeout_ms == 0) {
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is shutting down");
    return;
  }
  a = px_upstream_admit(x->ctx, x);
  if (a < 0) {
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "too many requests in flight to the registry; retry");
    return;
  }
  if (a == 1) {
    /* queued for a slot: body bytes wait in req_held as for the interception */
    x->req_wait = PX_WAIT_UPSTREAM;
    if (!x->req_held && !(x->req_held = evbuffer_new())) {
      px_upstream_dequeue(x);
      px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is out of memory");
    }
    return;
  }
  send_upstream(x);
}

void px_xchg_upstream_admitted(px_xchg *x) {
  if (x->dying || x->resp_done) return;
  enter(x);
  x->req_wait = PX_WAIT_NONE;
  send_upstream(x);
  leave(x);
}

/* The whole body of a PX_REQ_WAIT_BODY request is here. */
static void body_complete(px_xchg *x) {
  size_t len = evbuffer_get_length(x->req_held);
  unsigned char *p = len ? evbuffer_pullup(x->req_held, -1) : (unsigned char *)"";
  if (!p) {
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is out of memory");
    return;
  }
  if (x->ctx->intercept) x->ctx->intercept->req_complete(x, p, len);
  else px_xchg_proceed(x); /* only an interception asks to wait: not reached without one */
}

static void refuse_target(px_xchg *x) {
  int status;
  const char *code;
  char msg[400];
  px_route_refusal(&x->route, x->method, &status, &code);
  px_route_message(&x->route, msg, sizeof(msg));
  px_debug("req=%llu %s %s refused %d %s: %s", (unsigned long long)x->id, x->method, px_xchg_logpath(x), status,
           code, msg);
  px_xchg_respond_error(x, status, code, msg);
}

static void start(px_xchg *x) {
  const char *conn;
  px_req_rc ir;
  if (!x->path) {
    px_xchg_respond_error(x, 400, "UNSUPPORTED", "missing request target");
    return;
  }
  if (px_route_parse(x->path, &x->route) < 0 || px_route_check_method(&x->route, x->method) < 0) {
    refuse_target(x);
    return;
  }
  for (size_t i = 0; i < x->req.n; i++)
    if (px_header_check(x->req.f[i].name, x->req.f[i].namelen, x->req.f[i].value, x->req.f[i].valuelen)) {
      px_xchg_respond_error(x, 400, "UNSUPPORTED", "invalid header field");
      return;
    }
  if (x->authority && px_header_check("host", 4, x->authority, strlen(x->authority))) {
    px_xchg_respond_error(x, 400, "UNSUPPORTED", "invalid authority");
    return;
  }
  if ((conn = px_connection_protected(&x->req)) != NULL) {
    char msg[160];
    snprintf(msg, sizeof(msg), "Connection names the end-to-end field \"%s\", which customs decides on", conn);
    px_xchg_respond_error(x, 400, "UNSUPPORTED", msg);
    return;
  }
  if (form_body(x)) {
    px_xchg_respond_error(x, 400, "UNSUPPORTED", "form bodies are not accepted on blob upload requests");
    return;
  }
  ir = hook_request(x);
  if (ir == PX_REQ_ANSWERED || x->resp_done || x->dying) return;
  if (ir == PX_REQ_WAIT || ir == PX_REQ_WAIT_BODY) {
    x->req_wait = ir == PX_REQ_WAIT ? PX_WAIT_VERDICT : PX_WAIT_BODY;
    x->req_held = evbuffer_new();
    if (!x->req_held) {
      px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is out of memory");
      return;
    }
    if (!x->req_has_body) {
      x->req_done = 1;
      if (ir == PX_REQ_WAIT_BODY) body_complete(x);
    }
    return;
  }
  go_upstream(x);
}

int px_xchg_start(px_xchg *x) {
  enter(x);
  start(x);
  leave(x);
  return 0;
}

void px_xchg_proceed(px_xchg *x) {
  if (x->dying || x->resp_done || (x->req_wait != PX_WAIT_VERDICT && x->req_wait != PX_WAIT_BODY)) return;
  enter(x);
  x->req_wait = PX_WAIT_NONE;
  go_upstream(x);
  leave(x);
}

int px_xchg_req_body(px_xchg *x, const void *data, size_t len) {
  int rc;
  if (x->dying) return 0;
  if (x->resp_done && !x->up && !x->req_wait) return 0; /* answered already (error): discard */
  x->req_bytes += len;
  if (x->req_cl >= 0 && x->req_bytes > (uint64_t)x->req_cl) return SC_ERR_INVALID;
  if (x->req_wait) {
    if (evbuffer_get_length(x->req_held) + len > PX_XCHG_HELD_MAX_BYTES) {
      char msg[120];
      snprintf(msg, sizeof(msg), "request body over %u bytes while customs judges the request",
               PX_XCHG_HELD_MAX_BYTES);
      px_xchg_respond_error(x, 413, "SIZE_INVALID", msg);
      return 0;
    }
    return evbuffer_add(x->req_held, data, len) < 0 ? SC_ERR_NOMEM : 0;
  }
  if (!x->up) return 0;
  enter(x);
  rc = forward_body(x, data, len);
  leave(x);
  return rc;
}

int px_xchg_req_end(px_xchg *x) {
  int rc = 0;
  if (x->dying || x->req_done) return 0;
  x->req_done = 1;
  if (x->req_cl >= 0 && x->req_bytes != (uint64_t)x->req_cl) return SC_ERR_INVALID;
  enter(x);
  if (x->req_wait == PX_WAIT_BODY) body_complete(x);
  else if (!x->req_wait && x->up) rc = forward_end(x);
  leave(x);
  return rc;
}

size_t px_xchg_req_pending(const px_xchg *x) {
  /* a WAIT_BODY request needs its whole body (bounded) before anything goes on */
  if ((x->req_wait == PX_WAIT_VERDICT || x->req_wait == PX_WAIT_UPSTREAM) && x->req_held)
    return evbuffer_get_length(x->req_held);
  size_t n = x->up ? px_upconn_pending(x->up) : 0;
  const px_intercept_ops *ic = x->ctx->intercept;
  if (ic && ic->req_backlog) n += ic->req_backlog(x);
  return n;
}

void px_xchg_resp_consumed(px_xchg *x) {
  if (x->up && !x->dying) px_upconn_resume(x->up);
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

  if (x->dying) {
    free(conn_copy);
    return;
  }
  enter(x);
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
  px_authrealm_apply(x); /* upstream.proxy_auth: token realms pointed at customs */
  switch (hook_response_head(x)) {
  case PX_HOOK_HOLD:
    x->held = 1;
    break;
  case PX_HOOK_ANSWERED:
    break;
  case PX_HOOK_PASS:
    if (x->dying || x->resp_head_given) break;
    x->resp_head_given = 1;
    give_head(x);
  }
  leave(x);
}

void px_xchg_release(px_xchg *x, const char *hname, const char *hvalue) {
  if (!x->held || x->dying) return;
  enter(x);
  x->held = 0;
  if (hname) px_headers_set(&x->resp, hname, hvalue);
  x->resp_head_given = 1;
  give_head(x);
  if (evbuffer_get_length(x->resp_body) > 0 || x->resp_done) give_data(x);
  leave(x);
}

void px_xchg_upstream_body(px_xchg *x, const void *data, size_t len) {
  if (x->dying) return;
  enter(x);
  hook_resp_body(x, data, len);
  if (!x->held && x->resp_head_given) give_data(x);
  leave(x);
}

void px_xchg_upstream_done(px_xchg *x) {
  if (x->dying) return;
  enter(x);
  x->t_up_end = px_now_ms();
  x->resp_done = 1;
  /* x stays valid whatever the interception does (busy): a local answer
   * given inside it has already been handed to the front */
  if (hook_response_done(x) != PX_HOOK_ANSWERED && !x->held && !x->dying) give_data(x);
  leave(x);
}

void px_xchg_req_drained(px_xchg *x) {
  if (x->dying) return;
  enter(x);
  x->ops->on_req_drained(x);
  leave(x);
}

void px_xchg_upstream_drained(px_xchg *x) { px_xchg_req_drained(x); }

void px_xchg_upstream_failed(px_xchg *x, int timeout, const char *why) {
  /* x->up is already NULL: the connection is gone. */
  if (x->dying) return;
  enter(x);
  x->t_up_end = px_now_ms();
  px_warn("req=%llu %s %s: %s", (unsigned long long)x->id, x->method, px_xchg_logpath(x), why);
  if (x->held && x->resp_done) {
    /* the whole response is here: the close does not matter */
  } else if (x->resp_head_given) {
    x->held = 0;
    x->aborted = 1;
    x->ops->on_abort(x);
  } else {
    x->held = 0;
    px_xchg_respond_error(x, timeout ? 504 : 502, "UNAVAILABLE", why);
  }
  leave(x);
}

static void really_free(px_xchg *x) {
  int64_t now = px_now_ms();
  /* the query string can carry upload state or tokens: logpath redacts it */
  px_info("access id=%llu client=%s proto=%s %s %s status=%d in=%llu out=%llu total_ms=%lld upstream_ms=%lld%s",
          (unsigned long long)x->id, x->peer, x->proto ? x->proto : "-", x->method[0] ? x->method : "-",
          px_xchg_logpath(x), x->resp_status, (unsigned long long)x->req_bytes, (unsigned long long)x->resp_bytes,
          (long long)(now - x->t_start),
          (long long)(x->t_up_start ? (x->t_up_end ? x->t_up_end : now) - x->t_up_start : 0),
          x->aborted ? " aborted" : "");
  px_metrics_request(x->ctx, x->method, x->resp_status, x->req_bytes, x->resp_bytes); /* the same figures */
  x->busy++; /* nothing below may free x again */
  px_upstream_dequeue(x);
  hook_free(x);
  px_upstream_detach(x, x->resp_done && x->req_done && !x->aborted);
  px_headers_free(&x->req);
  px_headers_free(&x->resp);
  if (x->req_held) evbuffer_free(x->req_held);
  evbuffer_free(x->resp_body);
  if (x->free_ev) event_free(x->free_ev);
  free(x->path);
  free(x->authority);
  x->ctx->nxchg--;
  px_server_check_drained(x->ctx);
  free(x);
}

void px_xchg_free(px_xchg *x) {
  if (!x || x->dying) return;
  x->dying = 1;
  if (x->busy) return; /* leave() frees it once the stack has unwound */
  really_free(x);
}
