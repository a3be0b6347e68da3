/* px_xchg.h - one proxied exchange: a client request and its upstream
 * request/response, independent of the client's protocol (HTTP/1.1 or 2).
 *
 * The front (px_h1.c, px_h2.c) parses the client's request, fills the
 * request fields, calls px_xchg_start(), feeds the body with
 * px_xchg_req_body()/px_xchg_req_end(), and is told through px_front_ops
 * when the response head and body bytes are available.  Body bytes sit in
 * x->resp_body, which the front drains at its own pace; the upstream
 * connection stops reading while that buffer is above the watermark, and the
 * front stops reading the client while px_xchg_req_pending() is.  So memory
 * per exchange is bounded by a few watermarks whatever the body size.
 *
 * The front owns the exchange and frees it with px_xchg_free() when the
 * response is complete or the client went away; nothing else frees it. */
#ifndef CUSTOMS_PX_XCHG_H
#define CUSTOMS_PX_XCHG_H
#include <stddef.h>
#include <stdint.h>
#include "px_headers.h"
#include "px_route.h"
#include "px_server.h"

struct evbuffer;
typedef struct px_xchg px_xchg;

typedef struct px_front_ops {
  void (*on_response)(px_xchg *x);    /* head ready: resp_status, resp, resp_has_body, resp_cl */
  void (*on_resp_data)(px_xchg *x);   /* body bytes appended to resp_body, or resp_done set */
  void (*on_req_drained)(px_xchg *x); /* upstream took request bytes: reading may resume */
  void (*on_abort)(px_xchg *x);       /* failed after the head was given: reset the client side */
} px_front_ops;

struct px_xchg {
  px_ctx *ctx;
  const px_front_ops *ops;
  void *front;
  uint64_t id;
  /* request, filled by the front before px_xchg_start */
  char method[16];
  char *path;                /* origin-form target, as received (path and query) */
  char *authority;           /* Host / :authority */
  int tls;                   /* client connection is TLS */
  const char *proto;         /* "h1" or "h2" */
  char peer[64];             /* client address, for logs and X-Forwarded-For */
  px_headers req;
  int req_has_body;
  int64_t req_cl;            /* -1: unknown (chunked / h2 without content-length) */
  uint64_t req_bytes;
  int req_done;
  px_route route;
  /* response */
  int resp_status;
  px_headers resp;
  int resp_has_body;
  int64_t resp_cl;           /* -1: unknown */
  int resp_head_given;       /* ops->on_response was called */
  int held;                  /* interception holds the response back */
  size_t resp_limit;         /* response bytes buffered before the upstream pauses (0 = watermark) */
  int resp_done;             /* every body byte is in resp_body */
  struct evbuffer *resp_body;
  uint64_t resp_bytes;
  int aborted;
  /* upstream */
  struct px_upconn *up;
  int up_retried;
  int64_t t_start, t_up_start, t_up_head, t_up_end;
  /* interception state owned by px_hooks (scanner, policy) */
  void *hook;
};

px_xchg *px_xchg_new(px_ctx *ctx, const px_front_ops *ops, void *front);
/* Validates the request and sends its head upstream (or answers locally).
 * Returns 0; errors become local responses (400, 502), never a failure of
 * the front. */
int px_xchg_start(px_xchg *x);
/* Request body bytes, in order.  Returns 0, or PX_ERR_INVALID when they
 * exceed the declared content-length (the exchange is then failed). */
int px_xchg_req_body(px_xchg *x, const void *data, size_t len);
/* End of the request body.  PX_ERR_INVALID when fewer bytes than declared arrived. */
int px_xchg_req_end(px_xchg *x);
/* Request bytes accepted but not yet written upstream. */
size_t px_xchg_req_pending(const px_xchg *x);
/* The front took bytes from resp_body; lets the upstream read again. */
void px_xchg_resp_consumed(px_xchg *x);
/* Answers the request from customs itself with a registry-style JSON error. */
void px_xchg_respond_error(px_xchg *x, int status, const char *code, const char *message);
/* Answers with a complete response (headers + body) from customs itself. */
void px_xchg_respond_local(px_xchg *x, int status, px_headers *h, const char *body, size_t len);
/* Gives a held response to the front, with an extra header (may be NULL). */
void px_xchg_release(px_xchg *x, const char *hname, const char *hvalue);
/* Logs the access line, releases the upstream connection, frees. */
void px_xchg_free(px_xchg *x);

/* Called by px_upstream.c. */
void px_xchg_upstream_head(px_xchg *x, int status, int head_request);
void px_xchg_upstream_body(px_xchg *x, const void *data, size_t len);
void px_xchg_upstream_done(px_xchg *x);
void px_xchg_upstream_failed(px_xchg *x, int timeout, const char *why);
void px_xchg_upstream_drained(px_xchg *x);

const char *px_status_reason(int status);
#endif
