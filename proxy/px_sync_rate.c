/* px_sync_rate.c - the sync's token bucket (px_sync_int.h): every request
 * the sync makes waits here for a token.  Tokens are refilled continuously
 * at `rate` a second up to `burst`; a request that finds none sleeps (on the
 * bucket's clock, which the sync thread makes interruptible by shutdown)
 * just long enough for one.  In any window of one second at most
 * rate + burst requests go out.
 * Ownership: the caller's struct.  Thread: one at a time (the sync thread).
 * Errors: px_sync_bucket_take returns -1 when told to stop. */
#include "px_sync_int.h"

void px_sync_bucket_init(px_sync_bucket *b, int rps, int burst, const px_sync_clock *clock) {
  if (rps < 1) rps = 1;
  if (rps > PX_SYNC_MAX_RPS) rps = PX_SYNC_MAX_RPS;
  if (burst < 1) burst = 1;
  b->rate = (double)rps;
  b->burst = (double)burst;
  b->tokens = b->burst;
  b->clock = *clock;
  b->last_ms = clock->now_ms(clock->arg);
  b->taken = 0;
}

/* Adds what the time since the last refill earned. */
static void refill(px_sync_bucket *b) {
  int64_t now = b->clock.now_ms(b->clock.arg);
  if (now > b->last_ms) {
    b->tokens += (double)(now - b->last_ms) * b->rate / 1000.0;
    if (b->tokens > b->burst) b->tokens = b->burst;
  }
  b->last_ms = now; /* a clock that went back earns nothing */
}

int px_sync_bucket_take(px_sync_bucket *b) {
  for (;;) {
    refill(b);
    if (b->tokens >= 1.0) {
      b->tokens -= 1.0;
      b->taken++;
      return 0;
    }
    /* whole milliseconds, rounded up: waking early would only loop */
    int64_t wait = (int64_t)((1.0 - b->tokens) * 1000.0 / b->rate) + 1;
    if (b->clock.sleep_ms(b->clock.arg, wait) != 0) return -1;
  }
}
