/* px_refresh.c - scheduled OSV imports (see px_refresh.h).  Its state is
 * ctx->refresh (made by px_refresh_start, freed by px_refresh_stop). */
#include "px_refresh.h"
#include "px_headers.h"
#include "px_log.h"
#include "px_metrics.h"
#include "net_http.h"
#include "sc_tmpfile.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_store.h"
#include "sc_vulndata.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_DOWNLOAD_MAX_BYTES (2ULL << 30) /* an OSV dump is far smaller; a bigger answer is refused */

struct px_refresh {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop; /* atomic; set by px_refresh_stop */
};

/* Downloads url into a named spool file (sc_osv_import_path opens a path and
 * goes by the extension); returns its path (caller unlinks, frees) or NULL.
 * px_refresh_stop aborts a download in progress through stop. */
static char *download(px_ctx *ctx, net_http *h, const char *url) {
  const char *ext = strstr(url, ".zip") ? ".zip" : ".json";
  char *path = malloc(SC_TMPFILE_PATH_MAX);
  net_http_resp rs;
  if (!path) return NULL;
  int fd = sc_tmpfile_named(ctx->cfg->spool_dir, "customs-osv", ext, path, SC_TMPFILE_PATH_MAX);
  if (fd < 0) {
    px_error("db refresh: cannot create a spool file in %s: %s", ctx->cfg->spool_dir, strerror(errno));
    free(path);
    return NULL;
  }
  net_http_req rq = {.url = url, .fd = fd, .max_bytes = REFRESH_DOWNLOAD_MAX_BYTES, .abort_flag = &ctx->refresh->stop};
  int rv = net_http_get(h, &rq, &rs);
  if (close(fd) != 0 && !rv) {
    rv = SC_ERR_IO;
    snprintf(rs.error, sizeof(rs.error), "writing %s: %s", path, strerror(errno));
  }
  if (rv || rs.status != 200) {
    px_warn("db refresh: %s: download failed (%s): the data already imported stays", url, rs.error);
    unlink(path);
    free(path);
    return NULL;
  }
  return path;
}

static void refresh_once(px_ctx *ctx, sc_store *st, net_http *h) {
  sc_osv_stats total = {0};
  int imported = 0;
  int64_t t0 = px_now_ms();
  for (int i = 0; i < ctx->cfg->ndb_sources && !__atomic_load_n(&ctx->refresh->stop, __ATOMIC_SEQ_CST); i++) {
    const char *src = ctx->cfg->db_sources[i];
    char *tmp = NULL;
    sc_osv_stats s = {0};
    if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
      tmp = h ? download(ctx, h, src) : NULL;
      if (!tmp) continue;
    }
    int rc = sc_osv_import_path(st, tmp ? tmp : src, &s);
    if (tmp) {
      unlink(tmp);
      free(tmp);
    }
    if (rc != 0) {
      px_warn("db refresh: %s: import failed (%d): nothing from it was kept", src, rc);
      continue;
    }
    imported++;
    total.added += s.added;
    total.updated += s.updated;
    total.unchanged += s.unchanged;
    total.withdrawn += s.withdrawn;
    total.malformed += s.malformed;
  }
  if (!imported) return;
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
    px_error("db refresh: cannot open the database %s", ctx->cfg->db);
    return NULL;
  }
  /* sources are not the upstream registry: system CAs, never insecure */
  if (net_http_new(NULL, &h) != 0) px_error("db refresh: no HTTP client: URL sources are skipped");
  for (;;) {
    refresh_once(ctx, st, h);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ctx->cfg->db_refresh_s > 0 ? ctx->cfg->db_refresh_s : 365L * 86400;
    pthread_mutex_lock(&r->mu);
    while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT) {
    }
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    if (stop || ctx->cfg->db_refresh_s <= 0) break;
  }
  net_http_free(h);
  sc_store_close(st);
  return NULL;
}

int px_refresh_start(px_ctx *ctx) {
  if (ctx->cfg->ndb_sources == 0) return 0;
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
