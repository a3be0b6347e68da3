/* px_sync.c - the background sync's thread (see px_sync.h): its own store
 * connection and upstream client (a px_worker, so that px_scan_image runs
 * here as on a scan worker), the rate limiter's clock (sleeps that shutdown
 * cuts short), the registry requests and scans behind the walk's sync_io
 * (px_sync_walk.c), one log line a round, start and stop.
 *
 * Ownership: ctx->sync owns the thread and everything it uses; the thread
 * owns its store connection and client.  Thread: start/stop on the main
 * thread, the rest on the sync thread; `stop` is read atomically by both.
 * Errors: logged; a round that fails is tried again next interval. */
#include "px_sync.h"
#include "sc_time.h"
#include "net_http.h"
#include "px_config.h"
#include "px_fetch.h"
#include "px_gate.h"
#include "px_lineage.h"
#include "px_log.h"
#include "px_replica.h"
#include "sc_store_replica.h"
#include "px_metrics.h"
#include "px_scan_int.h"
#include "px_sync_int.h"
#include "sc_lineage.h"
#include "sc_store.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SYNC_ERR_MAX 256 /* a failed round's reason */
#define SYNC_LEASE_SLACK_MS (5 * 60 * 1000) /* a round's lease outlives the interval by this (rounds are long) */

struct px_sync {
  px_ctx *ctx;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;        /* on CLOCK_MONOTONIC: px_sync_stop wakes the sleeps */
  int stop;                 /* atomic; also the abort flag of requests */
  px_sync_bucket bucket;
  px_worker w;              /* the thread's store connection and client */
  sync_io io;
};

/* ---- the clock: sleeps that shutdown cuts short ---- */

static int64_t clock_now(void *arg) {
  (void)arg;
  return px_now_ms();
}

/* Sleeps ms milliseconds unless told to stop: 0, or 1 when stopping. */
static int clock_sleep(void *arg, int64_t ms) {
  px_sync *s = arg;
  struct timespec until = sc_deadline_ms(CLOCK_MONOTONIC, ms);
  pthread_mutex_lock(&s->mu);
  while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT) {
  }
  int stop = s->stop;
  pthread_mutex_unlock(&s->mu);
  return stop;
}

/* ---- the registry and the scanner behind sync_io ---- */

static int io_get(void *arg, const net_http_req *rq, net_http_resp *rs, char *link, size_t linkcap) {
  px_sync *s = arg;
  int rv = net_http_registry_get(s->w.http, rq, rs);
  if (linkcap) snprintf(link, linkcap, "%s", rv == 0 ? rs->link : "");
  return rv;
}

static int io_head(void *arg, const char *url, const char *accept, const char *scope, net_http_resp *rs) {
  px_sync *s = arg;
  net_http_send_req rq = {.method = "HEAD", .url = url, .accept = accept, .scope = scope, .abort_flag = &s->stop};
  return net_http_registry_send(s->w.http, &rq, rs);
}

static int io_scan(void *arg, const char *repo, const char *tag, const char *digest, const char *ctype,
                   const char *body, size_t len, char *err, size_t errlen) {
  px_sync *s = arg;
  /* no client here: customs' own credentials, else anonymous (px_fetch.h) */
  int rc = px_scan_image(s->ctx, &s->w, repo, tag, digest, ctype, body, len, NULL, err, errlen);
  /* what the gate would say of it changed (as after a scan-on-pull) */
  px_gate_invalidate(s->ctx);
  return rc;
}

static int io_record_tag(void *arg, sc_store *st, const char *repo, const char *tag, const char *digest) {
  px_sync *s = arg;
  char prev[72] = "";
  int rc = sc_store_put_tag(st, repo, tag, digest, prev);
  if (rc != 0) {
    px_error("sync %s:%s: cannot record the tag: %s", repo, tag, sc_store_errmsg(st));
    return rc;
  }
  if (prev[0]) px_lineage_tag_moved(s->ctx, st, SC_ORIGIN_LOCAL, repo, tag, prev, digest);
  return 0;
}

/* px_worker.before_fetch: each blob fetch of a scan takes a token too. */
static int worker_pace(void *arg) {
  px_sync *s = arg;
  return px_sync_bucket_take(&s->bucket);
}

/* ---- the thread ---- */

static void *sync_main(void *arg) {
  px_sync *s = arg;
  px_ctx *ctx = s->ctx;
  char err[SYNC_ERR_MAX], last_err[SYNC_ERR_MAX] = "";
  if (sc_store_open(ctx->cfg->db, &s->w.store) != 0) {
    px_error("sync: cannot open the database %s: no background sync", px_config_db_shown(ctx->cfg));
    return NULL;
  }
  if (px_fetch_client_new(ctx->cfg, &s->w.http) != 0) {
    px_error("sync: no upstream HTTP client: no background sync");
    sc_store_close(s->w.store);
    return NULL;
  }
  int64_t interval_ms = (int64_t)ctx->cfg->sync_interval_s * 1000;
  char holder[SC_REPLICA_ID_BYTES], told[SC_REPLICA_ID_BYTES] = "";
  for (;;) {
    px_sync_stats st;
    int64_t t0 = px_now_ms();
    err[0] = 0;
    /* replicas sharing PostgreSQL: one walks the catalog for all */
    if (!px_replica_lease(ctx, s->w.store, "sync", interval_ms + SYNC_LEASE_SLACK_MS, holder, sizeof(holder))) {
      if (strcmp(told, holder)) px_info("sync: replica %s walks the catalog; this one stands by", holder);
      snprintf(told, sizeof(told), "%s", holder);
      if (clock_sleep(s, interval_ms < PX_REPLICA_STANDBY_MS ? interval_ms : PX_REPLICA_STANDBY_MS)) break;
      continue;
    }
    told[0] = '\0';
    int rc = px_sync_round(s->w.store, &s->io, &st, err, sizeof(err));
    if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
      px_info("sync: stopped in the middle of a round (%zu requests, %zu images scanned)", st.requests, st.scanned);
      break;
    }
    if (rc != 0) {
      if (strcmp(err, last_err)) px_warn("sync round failed: %s", err); /* once while it stays so */
      snprintf(last_err, sizeof(last_err), "%s", err);
    } else {
      last_err[0] = 0;
      px_info("sync round: repositories=%zu tags=%zu images=%zu scanned=%zu known=%zu failed=%zu ms=%lld",
              st.repositories, st.tags, st.images, st.scanned, st.known, st.failed, (long long)(px_now_ms() - t0));
      px_metrics_sync_round(ctx, st.scanned, st.known, st.failed);
      px_debug("sync: %zu requests by the walk, %llu with blob fetches", st.requests,
               (unsigned long long)s->bucket.taken);
    }
    if (clock_sleep(s, (int64_t)ctx->cfg->sync_interval_s * 1000)) break;
  }
  net_http_free(s->w.http);
  sc_store_close(s->w.store);
  return NULL;
}

static void sync_free(px_sync *s) {
  if (!s) return;
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

int px_sync_start(px_ctx *ctx) {
  const px_config *cfg = ctx->cfg;
  if (cfg->sync_interval_s <= 0) return 0;
  int rps = cfg->sync_rps;
  if (rps <= 0 || rps > PX_SYNC_MAX_RPS) {
    px_warn("sync.requests_per_second %d: using %d", rps, rps <= 0 ? PX_SYNC_DEFAULT_RPS : PX_SYNC_MAX_RPS);
    rps = rps <= 0 ? PX_SYNC_DEFAULT_RPS : PX_SYNC_MAX_RPS;
  }
  px_sync *s = calloc(1, sizeof(*s));
  if (!s) return SC_ERR_NOMEM;
  s->ctx = ctx;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, &ca);
  pthread_condattr_destroy(&ca);
  px_sync_clock clk = {.now_ms = clock_now, .sleep_ms = clock_sleep, .arg = s};
  px_sync_bucket_init(&s->bucket, rps, PX_SYNC_BURST_REQUESTS, &clk);
  s->w = (px_worker){.ctx = ctx, .before_fetch = worker_pace, .before_fetch_arg = s, .abort_flag = &s->stop};
  s->io.get = io_get;
  s->io.head = io_head;
  s->io.scan = io_scan;
  s->io.record_tag = io_record_tag;
  s->io.arg = s;
  s->io.abort_flag = &s->stop;
  s->io.bucket = &s->bucket;
  s->io.origin = ctx->up_origin;
  if (net_http_global_init() != 0) { /* before any thread: curl's init is not thread-safe */
    sync_free(s);
    return SC_ERR_NOMEM;
  }
  ctx->sync = s; /* before the thread: stop reads it */
  if (pthread_create(&s->th, NULL, sync_main, s) != 0) {
    ctx->sync = NULL;
    sync_free(s);
    return SC_ERR_NOMEM;
  }
  px_info("sync: every %d s, at most %d requests a second to %s%s", cfg->sync_interval_s, rps, ctx->up_origin,
          cfg->upstream_username[0] ? " (with customs' own credentials)" : "");
  return 0;
}

void px_sync_stop(px_ctx *ctx) {
  px_sync *s = ctx->sync;
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  __atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->th, NULL);
  sync_free(s);
  ctx->sync = NULL;
}
