/* px_upstream.h - HTTP/1.1 client connections to the upstream registry,
 * with a keep-alive pool.  Responses are parsed with http-parser; the parser
 * is paused whenever the exchange's response buffer is above the watermark,
 * and reading from the socket stops with it (backpressure).
 *
 * Admission: at most PX_UPSTREAM_MAX_INFLIGHT requests are bound to an
 * upstream connection at once, process-wide (HTTP/2 clients multiplex many
 * streams over one connection; without a cap each would open its own
 * registry connection).  Requests over the cap wait in a FIFO of at most
 * PX_UPSTREAM_MAX_QUEUED exchanges (px_upstream_admit returns 1, and
 * px_xchg_upstream_admitted is called from a fresh loop callback when a slot
 * frees); beyond that they are refused (503, the client retries).
 *
 * The link: x->up and the connection's exchange are set and cleared only
 * in px_upstream.c: px_upstream_attach() binds, px_upstream_detach() unbinds
 * (and the connection's own failure paths unbind before they report).
 *
 * States (px_upconn_state): CONNECTING (bound, TCP/TLS under way) -> ACTIVE
 * (bound, connected) -> IDLE (in the pool, no exchange) -> ACTIVE ...; a
 * connection leaves by being destroyed.  A release that happens while the
 * response parser is on the stack only records its fate (px_upconn_fate),
 * carried out when the parser returns.
 *
 * Ownership: front (the admission queue and the pool live in px_ctx).
 * Thread: loop thread.
 * Errors: px_upstream_attach returns 0, SC_ERR_IO (socket/TLS setup failed)
 * or SC_ERR_NOMEM; later failures arrive through px_xchg_upstream_failed. */
#ifndef CUSTOMS_PX_UPSTREAM_H
#define CUSTOMS_PX_UPSTREAM_H
#include <stddef.h>
#include "px_server.h"

struct px_xchg;
struct evbuffer;
typedef struct px_upconn px_upconn;

/* Requests bound to upstream connections at once (whole process). */
#define PX_UPSTREAM_MAX_INFLIGHT 256
/* Requests waiting for one of those slots; more are refused with 503. */
#define PX_UPSTREAM_MAX_QUEUED 1024

typedef enum px_upconn_state {
  PX_UP_CONNECTING = 0, /* bound to an exchange, connection not established yet */
  PX_UP_ACTIVE,         /* bound to an exchange, connected */
  PX_UP_IDLE            /* in the keep-alive pool, bound to nothing */
} px_upconn_state;

/* What a release decided while the parser was on the stack. */
typedef enum px_upconn_fate {
  PX_UP_FATE_NONE = 0, /* no release pending */
  PX_UP_FATE_POOL,     /* back to the pool once the parser returns */
  PX_UP_FATE_CLOSE     /* destroyed once the parser returns */
} px_upconn_fate;

/* 0: go now (px_upstream_attach); 1: queued; SC_ERR_LIMIT: queue full. */
int px_upstream_admit(px_ctx *ctx, struct px_xchg *x);
/* Removes a queued exchange (it is being freed or answered). */
void px_upstream_dequeue(struct px_xchg *x);
/* Requests bound to upstream connections now, and waiting (for tests/logs). */
unsigned px_upstream_inflight(const px_ctx *ctx);
unsigned px_upstream_queued(const px_ctx *ctx);

/* Binds an idle pooled connection, or a new one, to x (sets x->up). */
int px_upstream_attach(px_ctx *ctx, struct px_xchg *x);
/* Unbinds x from its connection (x->up becomes NULL): back to the pool when
 * `reusable` and the exchange ended cleanly, else closed.  No-op without one. */
void px_upstream_detach(struct px_xchg *x, int reusable);
/* Queues request bytes (head or body); they go out in order. */
int px_upconn_write(px_upconn *up, const void *data, size_t len);
/* Request body chunk with HTTP/1.1 chunked framing. */
int px_upconn_write_chunk(px_upconn *up, const void *data, size_t len);
/* The request has been queued completely (arms the response timeout). */
void px_upconn_request_done(px_upconn *up);
/* Bytes queued but not yet written to the socket. */
size_t px_upconn_pending(const px_upconn *up);
/* Lets the parser run again after the exchange drained its response buffer. */
void px_upconn_resume(px_upconn *up);
/* Whether the connection came from the pool (a failure may be retried). */
int px_upconn_reused(const px_upconn *up);
px_upconn_state px_upconn_state_of(const px_upconn *up);
/* Debug names ("connecting", "active", "idle"; "none", "pool", "close"). */
const char *px_upconn_state_name(px_upconn_state s);
const char *px_upconn_fate_name(px_upconn_fate f);
/* One line for debug logs: "state=active fate=none flags=paused,reused". */
void px_upconn_describe(const px_upconn *up, char *buf, size_t cap);
/* Closes every idle connection (shutdown). */
void px_upstream_close_idle(px_ctx *ctx);
#endif
