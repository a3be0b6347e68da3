/* px_dbq.c - database threads for the loop (see px_dbq.h).
 *
 * The queue is ctx->dbq (made by px_dbq_start, freed by px_dbq_stop).  A
 * task lives in two lists: the run queue (guarded by q->mu, popped by the
 * DB threads) and the loop's list of live tasks (loop thread only), so that
 * px_dbq_stop can free tasks whose completion event never ran. */
#include "px_dbq.h"
#include "px_headers.h"
#include "px_log.h"
#include "px_metrics.h"
#include "sc_store.h"
#include "sc_vulndata.h"
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct px_dbtask {
  px_dbq *q;                /* its queue (outlives the task) */
  px_dbq_fn fn;
  px_dbq_done done;
  px_dbq_free free_arg;
  void *arg;
  int cancelled;            /* loop thread */
  struct event *ev;         /* completion, activated by the DB thread */
  px_dbtask *qnext;         /* run queue (q->mu) */
  px_dbtask *prev, *next;   /* live list (loop thread) */
};

struct px_dbq {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th[PX_DBQ_THREADS];
  int nth;
  px_dbtask *qhead, *qtail;
  int queued;
  int stop;
  px_dbtask *live;          /* loop thread */
  int nlive;
};

static void task_free(px_dbtask *t) {
  px_dbq *q = t->q;
  if (t->prev) t->prev->next = t->next;
  else q->live = t->next;
  if (t->next) t->next->prev = t->prev;
  q->nlive--;
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
  px_dbq *q = ctx->dbq;
  sc_store *st = NULL;
  if (sc_store_open(ctx->cfg->db, &st) != 0) {
    px_error("database thread: cannot open %s%s%s", px_config_db_shown(ctx->cfg), st ? ": " : "", st ? sc_store_errmsg(st) : "");
    if (st) sc_store_close(st);
    st = NULL; /* tasks still run and report the failure (fail closed) */
  }
  int64_t gen; /* the data generation at start, for the metrics (later: px_gate, px_refresh) */
  if (st && sc_vulndb_generation(st, &gen) == 0) px_metrics_vulndb_generation(ctx, gen);
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (!q->qhead && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
    if (!q->qhead) break; /* stopping, queue empty */
    px_dbtask *t = q->qhead;
    q->qhead = t->qnext;
    if (!q->qhead) q->qtail = NULL;
    q->queued--;
    pthread_mutex_unlock(&q->mu);
    t->fn(st, t->arg);
    event_active(t->ev, 0, 0); /* the last touch of t on this thread */
    pthread_mutex_lock(&q->mu);
  }
  pthread_mutex_unlock(&q->mu);
  if (st) sc_store_close(st);
  return NULL;
}

int px_dbq_start(px_ctx *ctx) {
  px_dbq *q = calloc(1, sizeof(*q));
  if (!q) return SC_ERR_NOMEM;
  q->mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  q->cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
  ctx->dbq = q; /* before the threads: they read it */
  for (int i = 0; i < PX_DBQ_THREADS; i++) {
    if (pthread_create(&q->th[i], NULL, db_thread, ctx) != 0) break;
    q->nth++;
  }
  return q->nth ? 0 : SC_ERR_NOMEM;
}

void px_dbq_stop(px_ctx *ctx) {
  px_dbq *q = ctx->dbq;
  if (!q) return;
  pthread_mutex_lock(&q->mu);
  q->stop = 1;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
  for (int i = 0; i < q->nth; i++) pthread_join(q->th[i], NULL);
  q->nth = 0;
  /* every task ran; the loop no longer dispatches their completion */
  while (q->live) {
    q->live->cancelled = 1;
    task_free(q->live);
  }
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q);
  ctx->dbq = NULL; /* px_dbq_submit refuses from now on */
}

px_dbtask *px_dbq_submit(px_ctx *ctx, px_dbq_fn fn, px_dbq_done done, px_dbq_free free_arg, void *arg) {
  px_dbq *q = ctx->dbq;
  px_dbtask *t;
  if (!q || !q->nth || q->stop) goto fail;
  if (!(t = calloc(1, sizeof(*t)))) goto fail;
  t->q = q;
  t->ev = event_new(ctx->base, -1, 0, on_done, t);
  if (!t->ev) {
    free(t);
    goto fail;
  }
  t->fn = fn;
  t->done = done;
  t->free_arg = free_arg;
  t->arg = arg;
  t->next = q->live;
  if (q->live) q->live->prev = t;
  q->live = t;
  q->nlive++;
  pthread_mutex_lock(&q->mu);
  if (q->queued >= PX_DBQ_MAX_QUEUED) {
    pthread_mutex_unlock(&q->mu);
    t->free_arg = NULL; /* the caller keeps arg on failure */
    task_free(t);
    return NULL;
  }
  if (q->qtail) q->qtail->qnext = t;
  else q->qhead = t;
  q->qtail = t;
  q->queued++;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
  return t;
fail:
  return NULL;
}

void px_dbq_cancel(px_dbtask *t) {
  if (t) t->cancelled = 1;
}

int px_dbq_pending(px_ctx *ctx) {
  return ctx->dbq ? ctx->dbq->nlive : 0;
}
