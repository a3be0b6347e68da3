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
 * Ownership: front.  Thread: loop thread.
 * Errors: px_upconn_acquire returns 0, PX_ERR_IO (socket/TLS setup failed)
 * or PX_ERR_NOMEM; later failures arrive through px_xchg_upstream_failed. */
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

/* 0: go now (px_upconn_acquire); 1: queued; PX_ERR_LIMIT: queue full. */
int px_upstream_admit(px_ctx *ctx, struct px_xchg *x);
/* Removes a queued exchange (it is being freed or answered). */
void px_upstream_dequeue(struct px_xchg *x);
/* Requests bound to upstream connections now, and waiting (for tests/logs). */
unsigned px_upstream_inflight(void);
unsigned px_upstream_queued(void);

/* Binds an idle pooled connection, or a new one, to x (x->up is set). */
int px_upconn_acquire(px_ctx *ctx, struct px_xchg *x);
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
/* Unbinds from the exchange: back to the pool when `reusable`, else closed. */
void px_upconn_release(px_upconn *up, int reusable);
/* Whether the connection came from the pool (a failure may be retried). */
int px_upconn_reused(const px_upconn *up);
/* Closes every idle connection (shutdown). */
void px_upstream_close_idle(px_ctx *ctx);
#endif
