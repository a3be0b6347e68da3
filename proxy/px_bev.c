/* px_bev.c - bufferevent settings for proxied connections; see px_bev.h.
 * Ownership: none kept.  Thread: loop thread.  Errors: none. */
#include "px_bev.h"
#include "sc_time.h"
#include <event2/bufferevent.h>
#include <event2/event.h>

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
