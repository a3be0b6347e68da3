/* px_bev.c - bufferevent settings for proxied connections; see px_bev.h.
 * Ownership: none kept.  Thread: loop thread.  Errors: none. */
#include "px_bev.h"
#include "sc_time.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <errno.h>
#include <sys/uio.h>

void px_bev_tune(struct bufferevent *bev, size_t watermark, px_bev_kind kind) {
  if (kind == PX_BEV_H1) bufferevent_setwatermark(bev, EV_READ, 0, watermark);
  bufferevent_set_max_single_read(bev, watermark);
  bufferevent_set_max_single_write(bev, watermark);
  bufferevent_setwatermark(bev, EV_WRITE, kind == PX_BEV_H1 ? watermark / 2 : watermark, 0);
}

void px_bev_timeouts_ms(struct bufferevent *bev, int64_t read_ms, int64_t write_ms) {
  struct timeval rt = sc_ms_to_timeval(read_ms), wt = sc_ms_to_timeval(write_ms);
  bufferevent_set_timeouts(bev, read_ms < 0 ? NULL : &rt, write_ms < 0 ? NULL : &wt);
}

#define PX_BEV_READ_IOV 4 /* iovecs of one extra read (reserve_space may split it) */

size_t px_bev_read_more(struct bufferevent *bev, size_t room) {
  struct evbuffer *in = bufferevent_get_input(bev);
  struct evbuffer_iovec v[PX_BEV_READ_IOV];
  struct iovec iov[PX_BEV_READ_IOV];
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (room == 0 || fd < 0 || bufferevent_openssl_get_ssl(bev)) return 0;
  /* a socket bufferevent keeps its input's end frozen except in its own
   * reads: unfrozen for this one, as libevent does around evbuffer_read */
  evbuffer_unfreeze(in, 0);
  int n = evbuffer_reserve_space(in, (ev_ssize_t)room, v, PX_BEV_READ_IOV);
  if (n <= 0) {
    evbuffer_freeze(in, 0);
    return 0;
  }
  size_t want = 0;
  for (int i = 0; i < n; i++) {
    if (v[i].iov_len > room - want) v[i].iov_len = room - want;
    iov[i].iov_base = v[i].iov_base;
    iov[i].iov_len = v[i].iov_len;
    want += v[i].iov_len;
  }
  ssize_t r;
  do r = readv(fd, iov, n);
  while (r < 0 && errno == EINTR);
  size_t got = r > 0 ? (size_t)r : 0, left = got;
  for (int i = 0; i < n; i++) {
    v[i].iov_len = left < v[i].iov_len ? left : v[i].iov_len;
    left -= v[i].iov_len;
  }
  evbuffer_commit_space(in, v, n);
  evbuffer_freeze(in, 0);
  return got;
}
