/* px_refresh.c - scheduled OSV imports (see px_refresh.h). */
#include "px_refresh.h"
#include "px_headers.h"
#include "px_log.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_store.h"
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DOWNLOAD_MAX (2ULL << 30) /* an OSV dump is far smaller; a bigger answer is refused */

static struct {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int running, stop;
  px_ctx *ctx;
} R = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

typedef struct dl {
  FILE *f;
  uint64_t bytes;
} dl;

static size_t dl_write(char *p, size_t size, size_t n, void *arg) {
  dl *d = arg;
  size_t len = size * n;
  d->bytes += len;
  if (d->bytes > DOWNLOAD_MAX) return 0;
  return fwrite(p, 1, len, d->f) == len ? len : 0;
}

static int dl_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)arg;
  (void)dt;
  (void)dn;
  (void)ut;
  (void)un;
  return __atomic_load_n(&R.stop, __ATOMIC_SEQ_CST); /* nonzero aborts the transfer */
}

/* Downloads url into a spool file; returns its path (caller unlinks, frees) or NULL. */
static char *download(px_ctx *ctx, const char *url) {
  char *path = malloc(PX_PATH_MAX + 40);
  const char *ext = strstr(url, ".zip") ? ".zip" : ".json";
  dl d = {0};
  long code = 0;
  CURLcode cr;
  CURL *c;
  int fd;
  if (!path) return NULL;
  snprintf(path, PX_PATH_MAX + 40, "%s/customs-osv-XXXXXX%s", ctx->cfg->spool_dir, ext);
  fd = mkstemps(path, (int)strlen(ext));
  if (fd < 0 || !(d.f = fdopen(fd, "wb"))) {
    px_error("db refresh: cannot create a spool file: %s", strerror(errno));
    if (fd >= 0) close(fd);
    free(path);
    return NULL;
  }
  c = curl_easy_init();
  if (!c) goto fail;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, dl_progress);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "customs/0.1 (vulnerability data refresh)");
  cr = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  if (fclose(d.f) != 0) cr = CURLE_WRITE_ERROR;
  d.f = NULL;
  if (cr != CURLE_OK || code != 200) {
    px_warn("db refresh: %s: download failed (%s, HTTP %ld): the data already imported stays", url,
            curl_easy_strerror(cr), code);
    unlink(path);
    free(path);
    return NULL;
  }
  return path;
fail:
  if (d.f) fclose(d.f);
  unlink(path);
  free(path);
  return NULL;
}

static void refresh_once(px_ctx *ctx, sc_store *st) {
  sc_osv_stats total = {0};
  int imported = 0;
  int64_t t0 = px_now_ms();
  for (int i = 0; i < ctx->cfg->ndb_sources && !__atomic_load_n(&R.stop, __ATOMIC_SEQ_CST); i++) {
    const char *src = ctx->cfg->db_sources[i];
    char *tmp = NULL;
    sc_osv_stats s = {0};
    if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
      tmp = download(ctx, src);
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
  sc_store *st = NULL;
  if (sc_store_open(ctx->cfg->db, &st) != 0) {
    px_error("db refresh: cannot open the database %s", ctx->cfg->db);
    return NULL;
  }
  for (;;) {
    refresh_once(ctx, st);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ctx->cfg->db_refresh_s > 0 ? ctx->cfg->db_refresh_s : 365L * 86400;
    pthread_mutex_lock(&R.mu);
    while (!R.stop && pthread_cond_timedwait(&R.cv, &R.mu, &until) != ETIMEDOUT) {
    }
    int stop = R.stop;
    pthread_mutex_unlock(&R.mu);
    if (stop || ctx->cfg->db_refresh_s <= 0) break;
  }
  sc_store_close(st);
  return NULL;
}

int px_refresh_start(px_ctx *ctx) {
  if (ctx->cfg->ndb_sources == 0) return 0;
  R.ctx = ctx;
  R.stop = 0;
  if (pthread_create(&R.th, NULL, refresh_main, ctx) != 0) return PX_ERR_NOMEM;
  R.running = 1;
  px_info("db refresh: %d source(s), every %d s", ctx->cfg->ndb_sources, ctx->cfg->db_refresh_s);
  return 0;
}

void px_refresh_stop(px_ctx *ctx) {
  (void)ctx;
  if (!R.running) return;
  pthread_mutex_lock(&R.mu);
  __atomic_store_n(&R.stop, 1, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&R.cv);
  pthread_mutex_unlock(&R.mu);
  pthread_join(R.th, NULL);
  R.running = 0;
}
