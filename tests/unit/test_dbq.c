/* test_dbq.c - the database threads (px_dbq): tasks run off the loop
 * thread with their own connection, completions come back on the loop
 * thread in the loop's own dispatch, a cancelled task skips its callback but
 * is still freed, and stop completes what was queued.  Includes the module
 * under test, h2o-style, and drives it with a real libevent loop. */
#include "../../proxy/px_dbq.c"
#include "tap.h"
#include <event2/thread.h>
#include <unistd.h>

typedef struct probe {
  pthread_t loop_thread, ran_on;
  int had_store, ran, done, freed;
  int *freed_count;
  int sleep_ms;
} probe;

static int freed_total;

static void fn(sc_store *st, void *arg) {
  probe *p = arg;
  p->ran_on = pthread_self();
  /* a working connection answers a real query (a broken one says SC_ERR_DB) */
  int kind;
  p->had_store = st != NULL &&
                 sc_store_image_kind(st, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                                     &kind) == SC_ERR_NOTFOUND;
  if (p->sleep_ms) usleep((useconds_t)p->sleep_ms * 1000);
  p->ran = 1;
}

static void done(void *arg) {
  probe *p = arg;
  p->done = pthread_equal(pthread_self(), p->loop_thread) ? 1 : -1;
}

static void release(void *arg) {
  probe *p = arg;
  p->freed = 1;
  freed_total++;
}

static void stop_loop(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  event_base_loopexit(arg, NULL);
}

int main(void) {
  char dir[] = "/tmp/test_dbq.XXXXXX";
  px_config cfg;
  px_ctx ctx;
  probe a = {0}, b = {0}, c = {0}, d = {0};
  struct timeval tv = {0, 300000};
  if (!mkdtemp(dir)) return 1;
  memset(&cfg, 0, sizeof(cfg));
  memset(&ctx, 0, sizeof(ctx));
  snprintf(cfg.db, sizeof(cfg.db), "%s/db.sqlite", dir);
  ctx.cfg = &cfg;
  evthread_use_pthreads();
  ctx.base = event_base_new();
  {
    /* the schema exists before the threads open it, as in the daemon */
    sc_store *st = NULL;
    CHECK(sc_store_open(cfg.db, &st) == 0, "database created");
    sc_store_close(st);
  }
  CHECK(px_dbq_start(&ctx) == 0, "threads start");
  a.loop_thread = b.loop_thread = c.loop_thread = d.loop_thread = pthread_self();
  b.sleep_ms = 100; /* a slow task does not hold back the other thread's */
  CHECK(px_dbq_submit(&ctx, fn, done, release, &a) != NULL, "task a queued");
  px_dbtask *tb = px_dbq_submit(&ctx, fn, done, release, &b);
  CHECK(tb != NULL, "task b queued");
  px_dbtask *tc = px_dbq_submit(&ctx, fn, done, release, &c);
  px_dbq_cancel(tc);
  CHECK(!a.done && !b.done, "no completion before the loop runs");
  CHECK_INT(px_dbq_pending(&ctx), 3, "three tasks live");
  struct event *t = evtimer_new(ctx.base, stop_loop, ctx.base);
  evtimer_add(t, &tv);
  event_base_dispatch(ctx.base);
  CHECK(a.ran && b.ran && c.ran, "every task ran");
  CHECK(!pthread_equal(a.ran_on, pthread_self()), "tasks run off the loop thread");
  CHECK(a.had_store && b.had_store, "each database thread has its own connection");
  CHECK_INT(a.done, 1, "completion on the loop thread");
  CHECK_INT(b.done, 1, "slow task completed on the loop thread");
  CHECK_INT(c.done, 0, "cancelled task: no completion callback");
  CHECK(a.freed && b.freed && c.freed, "every task freed");
  CHECK_INT(px_dbq_pending(&ctx), 0, "nothing live");
  /* stop: queued work still runs (the last decisions must be written) */
  d.sleep_ms = 50;
  CHECK(px_dbq_submit(&ctx, fn, done, release, &d) != NULL, "task d queued");
  px_dbq_stop(&ctx);
  CHECK(d.ran, "stop runs queued tasks");
  CHECK_INT(d.done, 0, "stop does not call completions");
  CHECK(d.freed, "stop frees them");
  CHECK(px_dbq_submit(&ctx, fn, done, release, &a) == NULL, "no submissions after stop");
  CHECK_INT(freed_total, 4, "free_arg called once per accepted task");
  event_free(t);
  event_base_free(ctx.base);
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return tap_done();
}
