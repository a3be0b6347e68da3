/* px_bev.h - the settings every proxied connection's bufferevent gets,
 * written once for the three places that open one (the HTTP/1.1 front, the
 * HTTP/2 front and the upstream client), and timeouts given in milliseconds.
 *
 * Why these settings: libevent moves 16 KiB per read or write call by
 * default, and bulk bodies (layers) want far more; and a connection must
 * stop reading once `watermark` bytes wait in its input, so that a fast
 * sender cannot fill memory while the other side is slow (backpressure).
 * HTTP/2 input is bounded by the stream and connection windows instead, so
 * the h2 front leaves its read watermark open.
 *
 * Ownership: the caller owns the bufferevent.  Thread: loop thread.
 * Errors: none (libevent's setters do not fail for valid arguments). */
#ifndef CUSTOMS_PX_BEV_H
#define CUSTOMS_PX_BEV_H
#include <stddef.h>
#include <stdint.h>

struct bufferevent;

typedef enum px_bev_kind {
  /* HTTP/1.1, client or upstream: input capped at the watermark, the write
   * callback (refill) fires when the output falls to half of it */
  PX_BEV_H1,
  /* HTTP/2 client: input bounded by the h2 windows, not here; the write
   * callback fires when the output falls to the watermark */
  PX_BEV_H2,
} px_bev_kind;

/* Sets the per-call transfer size and the watermarks (limits.buffer_bytes). */
void px_bev_tune(struct bufferevent *bev, size_t watermark, px_bev_kind kind);

/* libevent 2.1 reads at most 4 KiB per readiness event of a socket
 * (evbuffer_read's EVBUFFER_MAX_READ, whatever max_single_read says), so a
 * bulk body costs a loop turn, a parse, a write and two epoll_ctl per 4 KiB.
 * Called first in a read callback, this appends what else waits on the
 * socket, up to `room` bytes, to the input in one readv.  Plain sockets
 * only (a TLS bufferevent reads through OpenSSL: nothing is done).  Returns
 * the bytes added (0: none, or end of stream / an error, which the
 * bufferevent sees itself on its next read). */
size_t px_bev_read_more(struct bufferevent *bev, size_t room);

/* Read and write timeouts in milliseconds; a negative value sets none for
 * that direction (0 fires at once, as libevent does with a zero timeval). */
void px_bev_timeouts_ms(struct bufferevent *bev, int64_t read_ms, int64_t write_ms);

#endif
