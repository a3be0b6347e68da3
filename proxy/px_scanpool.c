/* px_scanpool.c - the scan worker pools: threads that take jobs from a FIFO
 * and run them (px_job_run).  customs runs two: layer scans (ctx->scan) and
 * manifest processing (ctx->mscan), so a manifest that waits for its layers
 * never takes the thread a layer needs.
 *
 * Ownership: the pool owns its threads; each thread owns a px_worker (its
 * database connection and its upstream HTTP client), made when the thread
 * starts and freed when it ends.  A queued job carries its worker reference
 * into the pool; px_scanpool_stop drops the references of jobs never run.
 * Thread: enqueue and stop on the loop thread; the FIFO is guarded by the
 * pool's mutex.  Errors: px_scanpool_new returns NULL when no thread starts. */
#include "px_log.h"
#include "px_fetch.h"
#include "px_scan_int.h"
#include "net_http.h"
#include "sc_store.h"
#include <pthread.h>
#include <stdlib.h>

struct px_scanpool {
  px_ctx *ctx;
  pthread_t th[PX_SCANPOOL_MAX_THREADS];
  int nth;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  px_job *qhead, *qtail;
  unsigned nqueued; /* jobs in the FIFO: written under mu, read atomically (px_scan_queue_depth) */
  int stop;
};

void px_scanpool_enqueue(px_scanpool *pool, px_job *j) {
  pthread_mutex_lock(&pool->mu);
  j->qnext = NULL;
  if (pool->qtail) pool->qtail->qnext = j;
  else pool->qhead = j;
  pool->qtail = j;
  __atomic_store_n(&pool->nqueued, pool->nqueued + 1, __ATOMIC_RELAXED);
  pthread_cond_signal(&pool->cv);
  pthread_mutex_unlock(&pool->mu);
}

static void *worker(void *arg) {
  px_scanpool *pool = arg;
  px_worker w = {.ctx = pool->ctx};
  if (sc_store_open(pool->ctx->cfg->db, &w.store) != 0) {
    px_error("scanner: cannot open the database %s", px_config_db_shown(pool->ctx->cfg));
    w.store = NULL;
  }
  if (px_fetch_client_new(pool->ctx->cfg, &w.http) != 0) {
    px_error("scanner: no upstream HTTP client: layers cannot be fetched");
    w.http = NULL;
  }
  for (;;) {
    pthread_mutex_lock(&pool->mu);
    while (!pool->qhead && !pool->stop) pthread_cond_wait(&pool->cv, &pool->mu);
    if (pool->stop) {
      pthread_mutex_unlock(&pool->mu);
      break;
    }
    px_job *j = pool->qhead;
    pool->qhead = j->qnext;
    if (!pool->qhead) pool->qtail = NULL;
    __atomic_store_n(&pool->nqueued, pool->nqueued - 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&pool->mu);
    px_job_run(j, &w);
  }
  net_http_free(w.http);
  if (w.store) sc_store_close(w.store);
  return NULL;
}

px_scanpool *px_scanpool_new(px_ctx *ctx, int n) {
  px_scanpool *pool = calloc(1, sizeof(*pool));
  if (!pool) return NULL;
  pool->ctx = ctx;
  pthread_mutex_init(&pool->mu, NULL);
  pthread_cond_init(&pool->cv, NULL);
  if (n > PX_SCANPOOL_MAX_THREADS) n = PX_SCANPOOL_MAX_THREADS;
  for (int i = 0; i < n; i++) {
    if (pthread_create(&pool->th[i], NULL, worker, pool) != 0) break;
    pool->nth++;
  }
  if (pool->nth == 0) {
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool);
    return NULL;
  }
  return pool;
}

int px_scanpool_threads(const px_scanpool *pool) { return pool->nth; }

static unsigned pool_queued(const px_scanpool *pool) {
  return pool ? __atomic_load_n(&pool->nqueued, __ATOMIC_RELAXED) : 0;
}

unsigned px_scan_queue_depth(px_ctx *ctx) { return pool_queued(ctx->scan) + pool_queued(ctx->mscan); }

void px_scanpool_stop(px_scanpool *pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->mu);
  pool->stop = 1;
  pthread_cond_broadcast(&pool->cv);
  pthread_mutex_unlock(&pool->mu);
  for (int i = 0; i < pool->nth; i++) pthread_join(pool->th[i], NULL);
  /* jobs still queued never ran: drop the worker references */
  while (pool->qhead) {
    px_job *j = pool->qhead;
    pool->qhead = j->qnext;
    j->worker_ref = 0;
    px_job_unref(j);
  }
  pthread_mutex_destroy(&pool->mu);
  pthread_cond_destroy(&pool->cv);
  free(pool);
}
