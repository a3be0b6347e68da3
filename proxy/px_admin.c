/* px_admin.c - the admin listener (see px_admin.h): a libevent evhttp
 * server on the proxy's loop, bounded (request head PX_ADMIN_MAX_HEADERS_BYTES,
 * body PX_ADMIN_MAX_BODY_BYTES, idle PX_ADMIN_TIMEOUT_S), serving GET and
 * HEAD only.  Here: start and stop, the bearer check, the security headers
 * of every answer, routing, /healthz, /metrics and the dashboard's files.
 * /readyz is in px_admin_ready.c, the JSON API in px_admin_api.c.
 *
 * The token is read once at start; only its SHA-256 is kept and it is never
 * logged.  Without a token (loopback only) the Host header must be an
 * address literal, "localhost" or the listen host, so that a web page
 * cannot reach the API through DNS rebinding.
 * Owner: ctx->admin.  Thread: the loop.  Errors: px_admin_start returns 0,
 * SC_ERR_INVALID (bad or refused address, bad token file), SC_ERR_IO (cannot
 * bind), SC_ERR_NOMEM. */
#include "px_admin_int.h"
#include "px_dash.h"
#include "px_log.h"
#include "px_metrics.h"
#include "sc_buf.h"
#include <float.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define PX_ADMIN_METRICS_MAX_BYTES (8u << 20) /* the Prometheus text of one scrape */

/* JSON and text answers load nothing; the dashboard loads only its own files. */
#define CSP_NONE "default-src 'none'; frame-ancestors 'none'"
#define CSP_DASH "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

static void security_headers(struct evhttp_request *req, int dashboard) {
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
  evhttp_add_header(h, "Cache-Control", "no-store");
  evhttp_add_header(h, "X-Frame-Options", "DENY");
  evhttp_add_header(h, "Referrer-Policy", "no-referrer");
  evhttp_add_header(h, "Content-Security-Policy", dashboard ? CSP_DASH : CSP_NONE);
}

static void reply(struct evhttp_request *req, int status, const char *type, const void *body, size_t len,
                  int dashboard) {
  struct evbuffer *b = evbuffer_new();
  const char *reason = status == 200   ? "OK"
                       : status == 400 ? "Bad Request"
                       : status == 401 ? "Unauthorized"
                       : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed"
                       : status == 421 ? "Misdirected Request"
                       : status == 503 ? "Service Unavailable"
                                       : "Internal Server Error";
  security_headers(req, dashboard);
  if (type) evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
  if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
    /* libevent 2.1 would send the body of a HEAD answer: the length only */
    char cl[24];
    snprintf(cl, sizeof(cl), "%zu", len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", cl);
  } else if (b && len) {
    evbuffer_add(b, body, len);
  }
  evhttp_send_reply(req, status, reason, b);
  if (b) evbuffer_free(b);
}

void px_admin_reply(struct evhttp_request *req, int status, const char *type, const char *body, size_t len) {
  reply(req, status, type, body, len, 0);
}

void px_admin_reply_json(struct evhttp_request *req, int status, json_t *doc) {
  char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(DBL_DIG)) : NULL; /* 8.1 stays 8.1 */
  json_decref(doc);
  if (!s) {
    static const char oom[] = "{\"error\":\"out of memory\"}\n";
    reply(req, 500, "application/json", oom, sizeof(oom) - 1, 0);
    return;
  }
  size_t n = strlen(s);
  s[n] = '\n'; /* json_dumps's NUL: the answer ends with a newline */
  reply(req, status, "application/json", s, n + 1, 0);
  free(s);
}

void px_admin_reply_error(struct evhttp_request *req, int status, const char *msg) {
  px_admin_reply_json(req, status, json_pack("{s:s}", "error", msg));
}

static void serve_metrics(px_admin *a, struct evhttp_request *req) {
  sc_buf b;
  sc_buf_init(&b, PX_ADMIN_METRICS_MAX_BYTES);
  if (px_metrics_render(a->ctx, &b) != 0) {
    sc_buf_free(&b);
    px_admin_reply_error(req, 500, "metrics could not be rendered");
    return;
  }
  reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.s ? b.s : "", b.len, 0);
  sc_buf_free(&b);
}

static void serve_dash(struct evhttp_request *req, const char *path) {
  const px_dash_asset *as = px_dash_find(path);
  if (!as) {
    px_admin_reply_error(req, 404, "not found");
    return;
  }
  reply(req, 200, as->content_type, as->data, as->len, 1);
}

static void on_request(struct evhttp_request *req, void *arg) {
  px_admin *a = arg;
  enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
  const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
  const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
  struct evkeyvalq *in = evhttp_request_get_input_headers(req);
  if (!path || !*path) path = "/";
  px_debug("admin %s %s", cmd == EVHTTP_REQ_HEAD ? "HEAD" : cmd == EVHTTP_REQ_GET ? "GET" : "other", path);
  if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
    px_admin_reply_error(req, 405, "only GET and HEAD are served");
    return;
  }
  if (!strcmp(path, "/healthz")) { /* liveness: no token, no Host check (probes use any name) */
    reply(req, 200, "text/plain; charset=utf-8", "ok\n", 3, 0);
    return;
  }
  /* the dashboard's own files hold no data (everything comes from /api,
   * which needs the token): a browser opening the page cannot send an
   * Authorization header, and the page asks for the token itself */
  if (a->has_token && strncmp(path, "/api/", 5) && px_dash_find(path)) {
    serve_dash(req, path);
    return;
  }
  if (a->has_token) {
    if (!px_admin_bearer_ok(evhttp_find_header(in, "Authorization"), a->token_sha)) {
      evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"customs-admin\"");
      px_admin_reply_error(req, 401, "a valid admin token is required (Authorization: Bearer TOKEN)");
      return;
    }
  } else if (!px_admin_host_ok(evhttp_find_header(in, "Host"), a->host)) {
    px_admin_reply_error(req, 421, "Host must name this listener (an address, localhost or the listen host)");
    return;
  }
  if (!strcmp(path, "/readyz")) px_admin_readyz(a, req);
  else if (!strcmp(path, "/metrics")) serve_metrics(a, req);
  else if (!strncmp(path, "/api/", 5)) px_admin_api(a, req, path, query);
  else serve_dash(req, path); /* "/v2/..." and every other path: 404 unless a dashboard file */
}

int px_admin_start(px_ctx *ctx) {
  px_config *cfg = ctx->cfg;
  px_admin *a;
  char token[PX_ADMIN_MAX_TOKEN_BYTES + 2];
  int port, rc;
  if (!cfg->admin_listen[0]) return 0;
  if (!(a = calloc(1, sizeof(*a)))) return SC_ERR_NOMEM;
  a->ctx = ctx;
  ctx->admin = a;
  if (px_split_hostport(cfg->admin_listen, a->host, sizeof(a->host), &port) != 0) {
    px_error("admin.listen %s: expected ADDR:PORT", cfg->admin_listen);
    return SC_ERR_INVALID;
  }
  if (cfg->admin_token_file[0]) {
    rc = px_admin_read_token(cfg->admin_token_file, token, sizeof(token));
    if (rc != 0) {
      px_error("admin.token_file %s: %s", cfg->admin_token_file,
               rc == SC_ERR_IO ? "cannot be read" : "its first line must hold the token (1 to 1024 bytes)");
      explicit_bzero(token, sizeof(token));
      return SC_ERR_INVALID;
    }
    SHA256((const unsigned char *)token, strlen(token), a->token_sha);
    explicit_bzero(token, sizeof(token));
    a->has_token = 1;
  } else if (!px_admin_is_loopback(a->host)) {
    px_error("admin.listen %s is not a loopback address: set admin.token_file (a bearer token) to serve it there",
             cfg->admin_listen);
    return SC_ERR_INVALID;
  }
  if (!(a->http = evhttp_new(ctx->base))) return SC_ERR_NOMEM;
  evhttp_set_max_headers_size(a->http, PX_ADMIN_MAX_HEADERS_BYTES);
  evhttp_set_max_body_size(a->http, PX_ADMIN_MAX_BODY_BYTES);
  evhttp_set_timeout(a->http, PX_ADMIN_TIMEOUT_S);
  /* every method reaches on_request, which answers 405 (evhttp says 501) */
  evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                          EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
                                          EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
  evhttp_set_gencb(a->http, on_request, a);
  if ((rc = px_admin_ready_init(a)) != 0) return rc;
  a->sock = evhttp_bind_socket_with_handle(a->http, a->host[0] ? a->host : "0.0.0.0", (ev_uint16_t)port);
  if (!a->sock) {
    px_error("admin listener: cannot listen on %s", cfg->admin_listen);
    return SC_ERR_IO;
  }
  a->port = port;
  if (!port) { /* port 0: the kernel's choice (tests) */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(a->sock), (struct sockaddr *)&ss, &sl) == 0)
      a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
  }
  px_info("admin listener on %s (port %d, %s)", cfg->admin_listen, a->port,
          a->has_token ? "bearer token required" : "loopback, no token");
  return 0;
}

void px_admin_stop(px_ctx *ctx) {
  px_admin *a = ctx->admin;
  if (!a) return;
  /* requests waiting for database tasks or the probe are dropped before
   * evhttp_free frees them with their connections */
  px_admin_api_stop(a);
  px_admin_ready_stop(a);
  if (a->http) evhttp_free(a->http);
  free(a);
  ctx->admin = NULL;
}
