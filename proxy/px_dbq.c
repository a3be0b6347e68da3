/* px_dbq.c - database threads for the loop (see px_dbq.h).
 *
 * A task lives in two lists: the run queue (guarded by Q.mu, popped by the
 * DB threads) and the loop's list of live tasks (loop thread only), so that
 * px_dbq_stop can free tasks whose completion event never ran. */
#include "px_dbq.h"
#include "px_headers.h"
#include "px_log.h"
#include "sc_store.h"
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct px_dbtask {
  px_dbq_fn fn;
  px_dbq_done done;
  px_dbq_free free_arg;
  void *arg;
  int cancelled;            /* loop thread */
  struct event *ev;         /* completion, activated by the DB thread */
  px_dbtask *qnext;         /* run queue (Q.mu) */
  px_dbtask *prev, *next;   /* live list (loop thread) */
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th[PX_DBQ_THREADS];
  int nth;
  px_dbtask *qhead, *qtail;
  int queued;
  int stop;
  px_dbtask *live;          /* loop thread */
  int nlive;
  px_ctx *ctx;
} Q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void task_free(px_dbtask *t) {
  if (t->prev) t->prev->next = t->next;
  else Q.live = t->next;
  if (t->next) t->next->prev = t->prev;
  Q.nlive--;
  if (t->free_arg) t->free_arg(t->arg);
  if (t->ev) event_free(t->ev);
  free(t);
}

static void on_done(evutil_socket_t fd, short what, void *arg) {
  px_dbtask *t = arg;
  (void)fd;
  (void)what;
  if (!t->cancelled && t->done) t->done(t->arg);
  task_free(t);
}

static void *db_thread(void *arg) {
  px_ctx *ctx = arg;
  sc_store *st = NULL;
  if (sc_store_open(ctx->cfg->db, &st) != 0) {
    px_error("database thread: cannot open %s%s%s", ctx->cfg->db, st ? ": " : "", st ? sc_store_errmsg(st) : "");
    if (st) sc_store_close(st);
    st = NULL; /* tasks still run and report the failure (fail closed) */
  }
  pthread_mutex_lock(&Q.mu);
  for (;;) {
    while (!Q.qhead && !Q.stop) pthread_cond_wait(&Q.cv, &Q.mu);
    if (!Q.qhead) break; /* stopping, queue empty */
    px_dbtask *t = Q.qhead;
    Q.qhead = t->qnext;
    if (!Q.qhead) Q.qtail = NULL;
    Q.queued--;
    pthread_mutex_unlock(&Q.mu);
    t->fn(st, t->arg);
    event_active(t->ev, 0, 0); /* the last touch of t on this thread */
    pthread_mutex_lock(&Q.mu);
  }
  pthread_mutex_unlock(&Q.mu);
  if (st) sc_store_close(st);
  return NULL;
}

int px_dbq_start(px_ctx *ctx) {
  Q.ctx = ctx;
  Q.stop = 0;
  for (int i = 0; i < PX_DBQ_THREADS; i++) {
    if (pthread_create(&Q.th[i], NULL, db_thread, ctx) != 0) break;
    Q.nth++;
  }
  return Q.nth ? 0 : PX_ERR_NOMEM;
}

void px_dbq_stop(px_ctx *ctx) {
  (void)ctx;
  pthread_mutex_lock(&Q.mu);
  Q.stop = 1;
  pthread_cond_broadcast(&Q.cv);
  pthread_mutex_unlock(&Q.mu);
  for (int i = 0; i < Q.nth; i++) pthread_join(Q.th[i], NULL);
  Q.nth = 0;
  /* every task ran; the loop no longer dispatches their completion */
  while (Q.live) {
    Q.live->cancelled = 1;
    task_free(Q.live);
  }
}

px_dbtask *px_dbq_submit(px_ctx *ctx, px_dbq_fn fn, px_dbq_done done, px_dbq_free free_arg, void *arg) {
  px_dbtask *t;
  if (!Q.nth || Q.stop) goto fail;
  if (!(t = calloc(1, sizeof(*t)))) goto fail;
  t->ev = event_new(ctx->base, -1, 0, on_done, t);
  if (!t->ev) {
    free(t);
    goto fail;
  }
  t->fn = fn;
  t->done = done;
  t->free_arg = free_arg;
  t->arg = arg;
  t->next = Q.live;
  if (Q.live) Q.live->prev = t;
  Q.live = t;
  Q.nlive++;
  pthread_mutex_lock(&Q.mu);
  if (Q.queued >= PX_DBQ_MAX_QUEUED) {
    pthread_mutex_unlock(&Q.mu);
    t->free_arg = NULL; /* the caller keeps arg on failure */
    task_free(t);
    return NULL;
  }
  if (Q.qtail) Q.qtail->qnext = t;
  else Q.qhead = t;
  Q.qtail = t;
  Q.queued++;
  pthread_cond_signal(&Q.cv);
  pthread_mutex_unlock(&Q.mu);
  return t;
fail:
  return NULL;
}

void px_dbq_cancel(px_dbtask *t) {
  if (t) t->cancelled = 1;
}

int px_dbq_pending(px_ctx *ctx) {
  (void)ctx;
  return Q.nlive;
}
