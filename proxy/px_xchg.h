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
 * response is complete or the client went away; nothing else frees it.
 *
 * Lifetime rule (why: a local answer can be given deep inside a call chain,
 * e.g. px_xchg_upstream_done -> px_intercept_response_done -> gate_deny ->
 * px_xchg_respond_local, and every caller on that stack still uses x):
 *   - fronts never free an exchange from inside a px_front_ops callback;
 *     they defer completion to their own event (px_h1.c, px_h2.c);
 *   - as a second line, px_xchg_free() called while any px_xchg_* function
 *     is on the stack (x->busy > 0) only marks the exchange dying and frees
 *     it from a fresh event-loop callback; a dying exchange calls no front
 *     op and no interception hook any more.
 *
 * Interception: the exchange calls ctx->intercept (px_intercept_ops below;
 * NULL = plain proxy) at each step.
 *
 * Requests the interception must judge before they go upstream
 * (PX_REQ_WAIT, PX_REQ_WAIT_BODY) wait in the exchange: body bytes are kept
 * in x->req_held, at most PX_XCHG_HELD_MAX_BYTES, until px_xchg_proceed()
 * or a local answer.
 *
 * Query strings may carry secrets (upload _state, tokens): logs use
 * px_xchg_logpath(), never x->path. */
#ifndef CUSTOMS_PX_XCHG_H
#define CUSTOMS_PX_XCHG_H
#include <stddef.h>
#include <stdint.h>
#include "px_headers.h"
#include "px_route.h"
#include "px_server.h"

struct evbuffer;
struct event;
typedef struct px_xchg px_xchg;

/* Request body bytes kept while the interception judges the request (a
 * manifest PUT is checked whole; its own cap, 4 MiB, is enforced by the
 * interception, which must see an oversized one to refuse it). */
#define PX_XCHG_HELD_MAX_BYTES (8u * 1024 * 1024)
/* Bytes of the redacted path kept for log lines. */
#define PX_XCHG_LOGPATH_BYTES 300

typedef struct px_front_ops {
  void (*on_response)(px_xchg *x);    /* head ready: resp_status, resp, resp_has_body, resp_cl */
  void (*on_resp_data)(px_xchg *x);   /* body bytes appended to resp_body, or resp_done set */
  void (*on_req_drained)(px_xchg *x); /* upstream took request bytes: reading may resume */
  void (*on_abort)(px_xchg *x);       /* failed after the head was given: reset the client side */
} px_front_ops;

/* What the interception says about a request, after routing and before it
 * goes upstream:
 *   PX_REQ_PROCEED    send it upstream now;
 *   PX_REQ_ANSWERED   customs answered it locally;
 *   PX_REQ_WAIT       a verdict is being computed off the loop: the exchange
 *                     keeps the request (and any body bytes, bounded) until
 *                     the interception calls px_xchg_proceed() or answers;
 *   PX_REQ_WAIT_BODY  the same, and once the whole body is in the exchange
 *                     it calls ops->req_complete() (manifest PUTs are
 *                     checked whole before the registry sees them). */
typedef enum px_req_rc { PX_REQ_PROCEED = 0, PX_REQ_ANSWERED, PX_REQ_WAIT, PX_REQ_WAIT_BODY } px_req_rc;

/* What the interception did with a response (or a complete request body):
 *   PX_HOOK_PASS      nothing: the exchange goes on as a plain proxy would;
 *   PX_HOOK_HOLD      it holds the response back until px_xchg_release()
 *                     (or a local answer);
 *   PX_HOOK_ANSWERED  customs answered instead (the upstream was let go; the
 *                     exchange may be dying: the caller must not use it
 *                     beyond what the lifetime rule above allows). */
typedef enum px_hook_rc { PX_HOOK_PASS = 0, PX_HOOK_HOLD, PX_HOOK_ANSWERED } px_hook_rc;

/* The interception (scanner, pull gate), plugged in through the context as
 * the fronts are through px_front_ops.  ctx->intercept == NULL is the plain
 * proxy.  Every hook runs on the loop thread inside a px_xchg_* frame, so x
 * stays valid for the whole call whatever the hook does. */
typedef struct px_intercept_ops {
  px_req_rc (*request)(px_xchg *x);                           /* routed, before upstream */
  void (*req_body)(px_xchg *x, const void *data, size_t len); /* bytes as they go upstream */
  void (*req_end)(px_xchg *x);                                /* the end went upstream */
  /* the whole body of a PX_REQ_WAIT_BODY request: the hook answers
   * (PX_HOOK_ANSWERED) or calls px_xchg_proceed() (PX_HOOK_PASS) */
  px_hook_rc (*req_complete)(px_xchg *x, const void *body, size_t len);
  px_hook_rc (*response_head)(px_xchg *x);                    /* PASS, HOLD or ANSWERED */
  void (*resp_body)(px_xchg *x, const void *data, size_t len);/* bytes as they arrive */
  /* every body byte is in x->resp_body: PX_HOOK_ANSWERED when customs
   * answered instead; PX_HOOK_PASS otherwise (a held response stays held) */
  px_hook_rc (*response_done)(px_xchg *x);
  void (*free)(px_xchg *x);                                   /* the exchange ends (any outcome) */
  /* request bytes the interception took but could not pass on yet (a scan
   * behind its upload): counted in px_xchg_req_pending, so the front pauses
   * the client; the interception calls px_xchg_req_drained when it fell.
   * NULL: none. */
  size_t (*req_backlog)(const px_xchg *x);
} px_intercept_ops;

/* Why a request has not gone upstream yet (x->req_wait). */
typedef enum px_xchg_wait {
  PX_WAIT_NONE = 0,  /* not waiting: it went upstream, or was answered */
  PX_WAIT_VERDICT,   /* the interception judges it (PX_REQ_WAIT) */
  PX_WAIT_BODY,      /* the interception wants the whole body first (PX_REQ_WAIT_BODY) */
  PX_WAIT_UPSTREAM   /* queued for an upstream slot (px_upstream.h) */
} px_xchg_wait;

/* Debug names ("none", "verdict", ...). */
const char *px_xchg_wait_name(px_xchg_wait w);

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
  int req_end_sent;          /* the end of the request went upstream */
  px_xchg_wait req_wait;     /* why the request has not gone upstream yet */
  struct evbuffer *req_held; /* body bytes that arrived while it was held */
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
  /* upstream: x->up is written only by px_upstream_attach/px_upstream_detach
   * and the connection's own failure paths, all in px_upstream.c */
  struct px_upconn *up;
  int up_retried;
  int queued;                /* waiting for an upstream slot */
  px_xchg *q_prev, *q_next;  /* the admission queue (px_upstream.c) */
  int64_t t_start, t_up_start, t_up_head, t_up_end;
  /* interception state, owned by ctx->intercept (freed by its free hook) */
  void *hook;
  /* lifetime (see the rule above) */
  int busy;                  /* px_xchg_* frames on the stack */
  int dying;                 /* px_xchg_free was called: free once unwound */
  struct event *free_ev;
  char logpath[PX_XCHG_LOGPATH_BYTES];
};

px_xchg *px_xchg_new(px_ctx *ctx, const px_front_ops *ops, void *front);
/* Validates the request and sends its head upstream (or answers locally).
 * Returns 0; errors become local responses (400, 502), never a failure of
 * the front. */
int px_xchg_start(px_xchg *x);
/* Request body bytes, in order.  Returns 0, or SC_ERR_INVALID when they
 * exceed the declared content-length (the exchange is then failed). */
int px_xchg_req_body(px_xchg *x, const void *data, size_t len);
/* End of the request body.  SC_ERR_INVALID when fewer bytes than declared arrived. */
int px_xchg_req_end(px_xchg *x);
/* Request bytes accepted but not yet written upstream. */
size_t px_xchg_req_pending(const px_xchg *x);
/* Request bytes were taken (upstream or interception): the front may read on. */
void px_xchg_req_drained(px_xchg *x);
/* The front took bytes from resp_body; lets the upstream read again. */
void px_xchg_resp_consumed(px_xchg *x);
/* Answers the request from customs itself with a registry-style JSON error. */
void px_xchg_respond_error(px_xchg *x, int status, const char *code, const char *message);
/* Answers with a complete response (headers + body) from customs itself. */
void px_xchg_respond_local(px_xchg *x, int status, px_headers *h, const char *body, size_t len);
/* A request the interception held (PX_REQ_WAIT*) goes upstream now, with
 * the body bytes held so far.  No-op unless the exchange waits. */
void px_xchg_proceed(px_xchg *x);
/* The request target with the query replaced by "?<redacted>", for logs. */
const char *px_xchg_logpath(px_xchg *x);
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
/* A queued request got its upstream slot (fresh loop callback). */
void px_xchg_upstream_admitted(px_xchg *x);

const char *px_status_reason(int status);
#endif
