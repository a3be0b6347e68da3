/* px_upstream.h - HTTP/1.1 client connections to the upstream registry,
 * with a keep-alive pool.  Responses are parsed with http-parser; the parser
 * is paused whenever the exchange's response buffer is above the watermark,
 * and reading from the socket stops with it (backpressure).
 *
 * Errors: px_upconn_acquire returns 0, PX_ERR_IO (socket/TLS setup failed)
 * or PX_ERR_NOMEM; later failures arrive through px_xchg_upstream_failed. */
#ifndef CUSTOMS_PX_UPSTREAM_H
#define CUSTOMS_PX_UPSTREAM_H
#include <stddef.h>
#include "px_server.h"

struct px_xchg;
struct evbuffer;
typedef struct px_upconn px_upconn;

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
