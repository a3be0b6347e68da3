/* px_refresh.c - scheduled OSV imports (see px_refresh.h).  Its state is
 * ctx->refresh (made by px_refresh_start, freed by px_refresh_stop). */
#include "px_refresh.h"
#include "sc_time.h"
#include "px_headers.h"
#include "px_log.h"
#include "px_metrics.h"
#include "px_replica.h"
#include "net_http.h"
#include "sc_tmpfile.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_store.h"
#include "sc_store_replica.h"
#include "sc_vulndata.h"
#include "sc_vulnstore.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_DOWNLOAD_MAX_BYTES (2ULL << 30) /* an OSV dump is far smaller; a bigger answer is refused */
#define REFRESH_ATTEMPTS 3                      /* tries of one download per refresh */
#define REFRESH_RETRY_FIRST_MS 2000             /* wait before the 2nd try; x4 before each next one */
#define REFRESH_LEASE_SLACK_S 120               /* a round's lease outlives the interval by this */

struct px_refresh {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop; /* atomic; set by px_refresh_stop */
};

static int stopping(const px_ctx *ctx) { return __atomic_load_n(&ctx->refresh->stop, __ATOMIC_SEQ_CST); }

/* Waits ms, or less when the refresh is stopped; nonzero when stopped. */
static int pause_ms(px_ctx *ctx, int64_t ms) {
  px_refresh *r = ctx->refresh;
  struct timespec until = sc_deadline_ms(CLOCK_REALTIME, ms);
  pthread_mutex_lock(&r->mu);
  while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT) {
  }
  int stop = r->stop;
  pthread_mutex_unlock(&r->mu);
  return stop;
}

#define PX_REFRESH_SOURCE_NAME_BYTES 1024 /* a source URL as recorded in vuln_sources (longer ones cut) */

/* What a download gave: a file to import, or "unchanged" (304). */
typedef struct fetched {
  char *path;               /* named spool file (caller unlinks, frees); NULL: none */
  int unchanged;            /* the server said 304 to the validators of the last import */
  char etag[256], last_modified[64]; /* the answer's validators, kept once imported */
} fetched;

/* Downloads url into a named spool file (sc_osv_import_path opens a path and
 * goes by the extension), as a conditional GET with the validators of the
 * last import of url: a 304 costs no transfer.  A connection failure, a
 * 429 or a 5xx is tried again (REFRESH_ATTEMPTS in all, backing off); a
 * failure keeps the data already imported.  px_refresh_stop aborts a
 * download in progress through stop. */
static void download(px_ctx *ctx, sc_store *st, net_http *h, const char *url, fetched *out) {
  const char *ext = strstr(url, ".zip") ? ".zip" : ".json";
  char etag[256] = "", lm[64] = "";
  net_http_resp rs;
  memset(out, 0, sizeof(*out));
  sc_vulnstore_validators(st, url, etag, sizeof(etag), lm, sizeof(lm)); /* none: a whole download */
  for (int attempt = 1; attempt <= REFRESH_ATTEMPTS && !stopping(ctx); attempt++) {
    char *path = malloc(SC_TMPFILE_PATH_MAX);
    int fd = path ? sc_tmpfile_named(ctx->cfg->spool_dir, "customs-osv", ext, path, SC_TMPFILE_PATH_MAX) : -1;
    if (fd < 0) {
      px_error("db refresh: cannot create a spool file in %s: %s", ctx->cfg->spool_dir, strerror(errno));
      free(path);
      return;
    }
    net_http_req rq = {.url = url, .fd = fd, .max_bytes = REFRESH_DOWNLOAD_MAX_BYTES,
                       .abort_flag = &ctx->refresh->stop, .if_none_match = etag, .if_modified_since = lm};
    int rv = net_http_get(h, &rq, &rs);
    if (close(fd) != 0 && !rv) {
      rv = SC_ERR_IO;
      snprintf(rs.error, sizeof(rs.error), "writing %s: %s", path, strerror(errno));
    }
    if (!rv && rs.status == 200) {
      out->path = path;
      snprintf(out->etag, sizeof(out->etag), "%s", rs.etag);
      snprintf(out->last_modified, sizeof(out->last_modified), "%s", rs.last_modified);
      px_info("db refresh: %s: downloaded %llu bytes", url, (unsigned long long)rs.bytes);
      return;
    }
    unlink(path);
    free(path);
    if (!rv && rs.status == 304) {
      out->unchanged = 1;
      px_info("db refresh: %s: unchanged since the last import (HTTP 304)", url);
      return;
    }
    int again = rv == SC_ERR_IO || rs.status == 429 || rs.status >= 500;
    if (!again || attempt == REFRESH_ATTEMPTS || stopping(ctx)) {
      px_warn("db refresh: %s: download failed (%s) after %d attempt(s): the data already imported stays", url,
              rs.error, attempt);
      return;
    }
    px_info("db refresh: %s: attempt %d failed (%s): trying again", url, attempt, rs.error);
    if (pause_ms(ctx, (int64_t)REFRESH_RETRY_FIRST_MS << (2 * (attempt - 1)))) return;
  }
}

/* Says loudly that no vulnerability data is loaded: every image would pass
 * the vulnerability conditions of the policy for lack of data, not merit. */
static void warn_if_empty(sc_store *st, const char *when) {
  int64_t n = 0;
  if (sc_vulnstore_count(st, &n) == 0 && n == 0)
    px_warn("NO VULNERABILITY DATA LOADED (%s): vulnerability rules cannot match anything; list OSV exports "
            "under db.sources or run `customs db import`",
            when);
}

/* How long a round's lease lasts: until the next round, with room for the
 * round itself (renewed before each source, so a long import keeps it). */
static int64_t refresh_hold_ms(const px_ctx *ctx) {
  int64_t s = ctx->cfg->db_refresh_s > 0 ? ctx->cfg->db_refresh_s : 600;
  return (s + REFRESH_LEASE_SLACK_S) * 1000;
}

static void refresh_once(px_ctx *ctx, sc_store *st, net_http *h) {
  sc_osv_stats total = {0};
  int imported = 0;
  int64_t t0 = px_now_ms();
  for (int i = 0; i < ctx->cfg->ndb_sources && !__atomic_load_n(&ctx->refresh->stop, __ATOMIC_SEQ_CST); i++) {
    const char *src = ctx->cfg->db_sources[i];
    fetched f = {0};
    px_replica_lease(ctx, st, "refresh", refresh_hold_ms(ctx), NULL, 0); /* renewed: still ours */
    sc_osv_stats s = {0};
    int remote = !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
    if (remote) {
      if (h) download(ctx, st, h, src, &f);
      if (!f.path) continue; /* unchanged, or failed (said) */
    }
    /* a download is recorded under its URL (without a query, which may be
     * a signature), not under the spool file's throw-away name */
    char name[PX_REFRESH_SOURCE_NAME_BYTES];
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(src, "?"), src);
    int rc = f.path ? sc_osv_import_source(st, f.path, name, &s) : sc_osv_import_path(st, src, &s);
    if (f.path) {
      unlink(f.path);
      free(f.path);
    }
    if (rc != 0) {
      px_warn("db refresh: %s: import failed (%d): nothing from it was kept", src, rc);
      continue;
    }
    if (remote && sc_vulnstore_put_validators(st, src, f.etag, f.last_modified, (int64_t)time(NULL)) != 0)
      px_warn("db refresh: %s: cannot keep its validators: the next refresh downloads it whole", src);
    imported++;
    total.added += s.added;
    total.updated += s.updated;
    total.unchanged += s.unchanged;
    total.withdrawn += s.withdrawn;
    total.malformed += s.malformed;
  }
  if (!imported) {
    warn_if_empty(st, "after a refresh that imported nothing");
    return;
  }
  int64_t gen;
  if (sc_vulndb_generation(st, &gen) == 0) px_metrics_vulndb_generation(ctx, gen);
  if (total.added || total.updated || total.withdrawn) {
    sc_match_stats ms;
    memset(&ms, 0, sizeof(ms));
    if (sc_match_rematch_all(st, &ms) != 0) px_error("db refresh: re-matching failed: %s", sc_store_errmsg(st));
  }
  px_info("db refresh: %d source(s): %llu added, %llu updated, %llu unchanged, %llu withdrawn, %llu malformed, %lld ms",
          imported, (unsigned long long)total.added, (unsigned long long)total.updated,
          (unsigned long long)total.unchanged, (unsigned long long)total.withdrawn,
          (unsigned long long)total.malformed, (long long)(px_now_ms() - t0));
}

static void *refresh_main(void *arg) {
  px_ctx *ctx = arg;
  px_refresh *r = ctx->refresh;
  sc_store *st = NULL;
  net_http *h = NULL;
  if (sc_store_open(ctx->cfg->db, &st) != 0) {
    px_error("db refresh: cannot open the database %s", px_config_db_shown(ctx->cfg));
    return NULL;
  }
  /* sources are not the upstream registry: system CAs, never insecure */
  if (net_http_new(NULL, &h) != 0) px_error("db refresh: no HTTP client: URL sources are skipped");
  char holder[SC_REPLICA_ID_BYTES], told[SC_REPLICA_ID_BYTES] = "";
  for (;;) {
    /* replicas sharing PostgreSQL: one refreshes the shared data for all */
    int mine = px_replica_lease(ctx, st, "refresh", refresh_hold_ms(ctx), holder, sizeof(holder));
    if (mine) {
      told[0] = '\0';
      refresh_once(ctx, st, h);
    } else if (strcmp(told, holder)) {
      px_info("db refresh: replica %s refreshes the shared database; this one stands by", holder);
      snprintf(told, sizeof(told), "%s", holder);
    }
    /* a refresh once at start (no db.refresh) is the holder's */
    if (!mine && ctx->cfg->db_refresh_s <= 0) break;
    int64_t wait_s = ctx->cfg->db_refresh_s > 0 ? ctx->cfg->db_refresh_s : 365L * 86400;
    if (!mine && wait_s > PX_REPLICA_STANDBY_MS / 1000) wait_s = PX_REPLICA_STANDBY_MS / 1000;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_s;
    pthread_mutex_lock(&r->mu);
    while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT) {
    }
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    if (stop || (mine && ctx->cfg->db_refresh_s <= 0)) break;
  }
  net_http_free(h);
  sc_store_close(st);
  return NULL;
}

int px_refresh_start(px_ctx *ctx) {
  if (ctx->cfg->ndb_sources == 0) {
    sc_store *st = NULL;
    if (sc_store_open(ctx->cfg->db, &st) == 0) warn_if_empty(st, "no db.sources configured");
    sc_store_close(st);
    return 0;
  }
  if (net_http_global_init() != 0) return SC_ERR_NOMEM; /* before any thread: curl's init is not */
  px_refresh *r = calloc(1, sizeof(*r));
  if (!r) return SC_ERR_NOMEM;
  r->mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  r->cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
  ctx->refresh = r; /* before the thread: it reads it */
  if (pthread_create(&r->th, NULL, refresh_main, ctx) != 0) {
    ctx->refresh = NULL;
    free(r);
    return SC_ERR_NOMEM;
  }
  px_info("db refresh: %d source(s), every %d s", ctx->cfg->ndb_sources, ctx->cfg->db_refresh_s);
  sc_store *st = NULL; /* a fresh install: said now, not after the first downloads */
  if (sc_store_open(ctx->cfg->db, &st) == 0) warn_if_empty(st, "the first import runs in the background");
  sc_store_close(st);
  return 0;
}

void px_refresh_stop(px_ctx *ctx) {
  px_refresh *r = ctx->refresh;
  if (!r) return;
  pthread_mutex_lock(&r->mu);
  __atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->th, NULL);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  free(r);
  ctx->refresh = NULL;
}
