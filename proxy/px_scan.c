/* px_scan.c - scan jobs and the worker pool (see px_scan.h).
 *
 * Threads: the event loop creates jobs, pushes bytes and waits for results;
 * workers pull bytes and scan.  A job's byte queue and flags are guarded by
 * its mutex; its waiter list, registry links and event belong to the loop
 * thread.  Jobs are freed on the loop thread only. */
#include "px_scan.h"
#include "px_headers.h"
#include "px_log.h"
#include "sc_catalog.h"
#include "sc_config.h"
#include "sc_image.h"
#include "sc_layer.h"
#include "sc_store.h"
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOB_MEM_CAP (4 * 1024 * 1024) /* bytes queued in memory before spilling */
#define READ_BATCH (64 * 1024)         /* the worker wakes for this much, or the end */
#define MAX_WORKERS 64
#define STALL_MS (120 * 1000) /* an upload that sends nothing for this long is abandoned */
#define RATE_GRACE_MS (60 * 1000) /* scan.min_rate_bytes applies after this much of an upload */

/* Bytes in all jobs' spill files together (scan.spool_total_max_bytes):
 * changed under each job's mutex, read and written atomically. */
static uint64_t spool_total;

enum { JOB_STREAM, JOB_FETCH, JOB_MANIFEST };

typedef struct chunk {
  struct chunk *next;
  size_t len, off;
  unsigned char data[];
} chunk;

typedef struct waiter {
  struct waiter *next;
  px_job_cb cb;
  void *arg;
} waiter;

struct px_job {
  px_ctx *ctx;
  int refs;                 /* atomic */
  int kind;
  char repo[256];
  char upload_id[160];
  char want_digest[160];    /* fetch jobs */
  char *auth;               /* fetch/manifest jobs: Authorization value */
  char tag[160];            /* manifest jobs */
  char ctype[160];
  char *body;
  size_t bodylen;
  int64_t created_ms;
  int64_t last_push_ms;     /* a stream that stalls holds a worker: broken after STALL_MS */
  /* byte queue, guarded by mu */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  chunk *head, *tail;
  size_t mem_bytes;
  int spill_fd;
  uint64_t spill_wr, spill_rd;
  uint64_t spill_acct;      /* this job's share of spool_total */
  int spilling;
  uint64_t bytes_in;
  int eof, broken, done;
  int reader_waiting;       /* the worker sleeps on cv: only then is a wake-up needed */
  char why[256];
  sc_layer_result res;
  /* loop thread */
  struct event *done_ev;
  int worker_ref;           /* the worker's reference, dropped in done_cb */
  waiter *waiters;
  struct px_job *next;      /* ctx->jobs */
  int registered;
  struct px_job *qnext;     /* pool queue (pool mutex) */
};

typedef struct px_scanpool {
  px_ctx *ctx;
  pthread_t th[MAX_WORKERS];
  int nth;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  px_job *qhead, *qtail;
  int stop;
} px_scanpool;

/* ---- references ---- */

/* Gives the job's spill bytes back to the global budget (j->mu held, or the
 * job is being freed). */
static void spill_unaccount(px_job *j) {
  if (j->spill_acct) __atomic_sub_fetch(&spool_total, j->spill_acct, __ATOMIC_SEQ_CST);
  j->spill_acct = 0;
}

static void job_free(px_job *j) {
  spill_unaccount(j);
  while (j->head) {
    chunk *c = j->head;
    j->head = c->next;
    free(c);
  }
  while (j->waiters) {
    waiter *w = j->waiters;
    j->waiters = w->next;
    free(w);
  }
  if (j->spill_fd >= 0) close(j->spill_fd);
  if (j->done_ev) event_free(j->done_ev);
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->cv);
  free(j->auth);
  free(j->body);
  free(j);
}

void px_job_ref(px_job *j) { __atomic_add_fetch(&j->refs, 1, __ATOMIC_SEQ_CST); }

void px_job_unref(px_job *j) {
  if (j && __atomic_sub_fetch(&j->refs, 1, __ATOMIC_SEQ_CST) == 0) job_free(j);
}

/* ---- completion (loop thread) ---- */

static void done_cb(evutil_socket_t fd, short what, void *arg) {
  px_job *j = arg;
  (void)fd;
  (void)what;
  px_job_ref(j); /* waiters may drop the last registry reference */
  while (j->waiters) {
    waiter *w = j->waiters;
    j->waiters = w->next;
    w->cb(j, w->arg);
    free(w);
  }
  if (j->worker_ref) {
    pthread_mutex_lock(&j->mu);
    int finished = j->done;
    pthread_mutex_unlock(&j->mu);
    if (finished) {
      j->worker_ref = 0;
      px_job_unref(j);
    }
  }
  px_job_unref(j);
}

/* ---- pool ---- */

static void enqueue(px_scanpool *pool, px_job *j) {
  pthread_mutex_lock(&pool->mu);
  j->qnext = NULL;
  if (pool->qtail) pool->qtail->qnext = j;
  else pool->qhead = j;
  pool->qtail = j;
  pthread_cond_signal(&pool->cv);
  pthread_mutex_unlock(&pool->mu);
}

static void prune(px_ctx *ctx) {
  int64_t now = px_now_ms();
  px_job **pp = &ctx->jobs;
  while (*pp) {
    px_job *j = *pp;
    pthread_mutex_lock(&j->mu);
    int finished = j->done;
    pthread_mutex_unlock(&j->mu);
    /* finished jobs are kept a while for manifests that follow the upload;
     * a stream that stalls is abandoned (its worker is needed elsewhere; the
     * layer is fetched when a manifest names it) */
    int stalled = !finished && j->kind == JOB_STREAM && now - j->last_push_ms > STALL_MS;
    if (stalled) px_job_break(j, "upload stalled");
    /* a slow drip would hold a scanner thread for as long as it likes */
    int64_t age = now - j->created_ms;
    if (!finished && j->kind == JOB_STREAM && age > RATE_GRACE_MS &&
        (double)j->bytes_in * 1000.0 / (double)age < (double)ctx->cfg->scan_min_rate)
      px_job_break(j, "upload too slow to scan in-stream (scan.min_rate_bytes)");
    if (!finished && j->kind == JOB_STREAM && ctx->cfg->scan_max_stream_s > 0 &&
        age > (int64_t)ctx->cfg->scan_max_stream_s * 1000)
      px_job_break(j, "upload still streaming after scan.max_stream");
    if ((finished && now - j->created_ms > 10 * 60 * 1000) || now - j->created_ms > 24 * 3600 * 1000) {
      *pp = j->next;
      j->registered = 0;
      if (!finished) px_job_break(j, "abandoned");
      px_job_unref(j);
      continue;
    }
    pp = &j->next;
  }
}

static px_job *job_new(px_ctx *ctx, int kind, const char *repo) {
  px_job *j;
  if (!ctx->scan) return NULL;
  j = calloc(1, sizeof(*j));
  if (!j) return NULL;
  j->ctx = ctx;
  j->kind = kind;
  j->spill_fd = -1;
  j->created_ms = px_now_ms();
  j->last_push_ms = j->created_ms;
  snprintf(j->repo, sizeof(j->repo), "%s", repo);
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, NULL);
  j->done_ev = event_new(ctx->base, -1, 0, done_cb, j);
  if (!j->done_ev) {
    job_free(j);
    return NULL;
  }
  prune(ctx);
  j->refs = 2; /* registry + worker */
  j->worker_ref = 1;
  j->registered = 1;
  j->next = ctx->jobs;
  ctx->jobs = j;
  return j;
}

px_job *px_job_new_stream(px_ctx *ctx, const char *repo, const char *upload_id) {
  px_job *j = job_new(ctx, JOB_STREAM, repo);
  if (!j) return NULL;
  snprintf(j->upload_id, sizeof(j->upload_id), "%s", upload_id ? upload_id : "");
  enqueue(ctx->scan, j);
  return j;
}

px_job *px_job_new_manifest(px_ctx *ctx, const char *repo, const char *tag, const char *digest,
                            const char *content_type, const void *body, size_t len,
                            const char *authorization) {
  px_job *j;
  if (!ctx->mscan) return NULL;
  j = job_new(ctx, JOB_MANIFEST, repo);
  if (!j) return NULL;
  snprintf(j->want_digest, sizeof(j->want_digest), "%s", digest);
  snprintf(j->tag, sizeof(j->tag), "%s", tag ? tag : "");
  snprintf(j->ctype, sizeof(j->ctype), "%s", content_type ? content_type : "");
  if (authorization) j->auth = strdup(authorization);
  j->body = malloc(len + 1);
  if (j->body) {
    memcpy(j->body, body, len);
    j->body[len] = 0;
    j->bodylen = len;
  }
  enqueue(ctx->mscan, j);
  return j;
}

px_job *px_job_new_fetch(px_ctx *ctx, const char *repo, const char *digest, const char *authorization) {
  px_job *j = job_new(ctx, JOB_FETCH, repo);
  if (!j) return NULL;
  snprintf(j->want_digest, sizeof(j->want_digest), "%s", digest);
  if (authorization) j->auth = strdup(authorization);
  enqueue(ctx->scan, j);
  return j;
}

/* ---- producer side (loop thread) ---- */

static int spill_open(px_job *j) {
  char path[PX_PATH_MAX + 32];
  snprintf(path, sizeof(path), "%s/customs-spool-XXXXXX", j->ctx->cfg->spool_dir);
  int fd = mkstemp(path);
  if (fd < 0) return PX_ERR_IO;
  unlink(path); /* gone with the process, whatever happens */
  j->spill_fd = fd;
  return 0;
}

int px_job_push(px_job *j, const void *data, size_t len) {
  int rc = 0;
  if (len == 0) return 0;
  pthread_mutex_lock(&j->mu);
  if (j->broken || j->eof) {
    rc = PX_ERR_STATE;
  } else if (!j->spilling && j->mem_bytes + len <= JOB_MEM_CAP) {
    chunk *c = malloc(sizeof(*c) + len);
    if (!c) rc = PX_ERR_NOMEM;
    else {
      c->next = NULL;
      c->len = len;
      c->off = 0;
      memcpy(c->data, data, len);
      if (j->tail) j->tail->next = c;
      else j->head = c;
      j->tail = c;
      j->mem_bytes += len;
    }
  } else if (j->spill_wr + len > j->ctx->cfg->spool_max_bytes) {
    rc = PX_ERR_LIMIT;
  } else if (__atomic_add_fetch(&spool_total, len, __ATOMIC_SEQ_CST) > j->ctx->cfg->spool_total_max_bytes) {
    __atomic_sub_fetch(&spool_total, len, __ATOMIC_SEQ_CST);
    rc = PX_ERR_LIMIT;
    snprintf(j->why, sizeof(j->why), "spool total cap reached (scan.spool_total_max_bytes)");
  } else {
    j->spill_acct += len;
    /* the scanner is behind: spill, never slow the upload down */
    if (j->spill_fd < 0) rc = spill_open(j);
    if (rc == 0) {
      const unsigned char *p = data;
      size_t left = len;
      uint64_t off = j->spill_wr;
      while (left > 0) {
        ssize_t w = pwrite(j->spill_fd, p, left, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { rc = PX_ERR_IO; break; }
        p += w;
        off += (uint64_t)w;
        left -= (size_t)w;
      }
      if (rc == 0) {
        j->spill_wr = off;
        j->spilling = 1;
      }
    }
  }
  if (rc == 0) {
    j->bytes_in += len;
    j->last_push_ms = px_now_ms();
  }
  else if (rc != PX_ERR_STATE) {
    if (rc == PX_ERR_IO)
      px_warn("scan repo=%s upload=%s: spool write in %s failed: %s (the layer is fetched and scanned later)",
              j->repo, j->upload_id[0] ? j->upload_id : "-", j->ctx->cfg->spool_dir, strerror(errno));
    else if (rc == PX_ERR_LIMIT)
      px_warn("scan repo=%s upload=%s: %s (the layer is fetched and scanned later)", j->repo,
              j->upload_id[0] ? j->upload_id : "-", j->why[0] ? j->why : "spool cap reached (scan.spool_max_bytes)");
    j->broken = 1;
    if (!j->why[0])
      snprintf(j->why, sizeof(j->why), "%s", rc == PX_ERR_LIMIT ? "spool cap reached" : "spool write failed");
  }
  /* waking the worker for every small DATA frame costs more than the scan */
  if (j->reader_waiting && (j->mem_bytes >= READ_BATCH || j->spilling || j->broken)) pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return rc;
}

void px_job_finish(px_job *j) {
  pthread_mutex_lock(&j->mu);
  j->eof = 1;
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

void px_job_break(px_job *j, const char *why) {
  pthread_mutex_lock(&j->mu);
  if (!j->done && !j->broken) {
    j->broken = 1;
    snprintf(j->why, sizeof(j->why), "%s", why);
  }
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

uint64_t px_job_bytes(const px_job *j) { return j->bytes_in; }

px_job_state px_job_state_of(const px_job *j) {
  px_job *m = (px_job *)j;
  px_job_state s;
  pthread_mutex_lock(&m->mu);
  s = !j->done ? PX_JOB_RUNNING : j->broken ? PX_JOB_BROKEN : PX_JOB_DONE;
  pthread_mutex_unlock(&m->mu);
  return s;
}

const char *px_job_digest(const px_job *j) { return j->res.digest; }
int px_job_scan_status(const px_job *j) { return j->res.status; }
const char *px_job_error(const px_job *j) { return j->broken ? j->why : j->res.error; }

int px_job_wait(px_job *j, px_job_cb cb, void *arg) {
  waiter *w = calloc(1, sizeof(*w));
  if (!w) return PX_ERR_NOMEM;
  w->cb = cb;
  w->arg = arg;
  w->next = j->waiters;
  j->waiters = w;
  /* the caller holds a reference while it waits */
  if (px_job_state_of(j) != PX_JOB_RUNNING) event_active(j->done_ev, 0, 0);
  return 0;
}

void px_job_unwait(px_job *j, void *arg) {
  waiter **pp = &j->waiters;
  while (*pp) {
    if ((*pp)->arg == arg) {
      waiter *w = *pp;
      *pp = w->next;
      free(w);
      continue;
    }
    pp = &(*pp)->next;
  }
}

px_job *px_jobs_find_upload(px_ctx *ctx, const char *upload_id) {
  for (px_job *j = ctx->jobs; j; j = j->next)
    if (j->kind == JOB_STREAM && !strcmp(j->upload_id, upload_id)) return j;
  return NULL;
}

void px_jobs_forget_upload(px_ctx *ctx, px_job *j) {
  j->upload_id[0] = 0; /* stays findable by digest until pruned */
  (void)ctx;
}

px_job *px_jobs_find_digest(px_ctx *ctx, const char *digest) {
  for (px_job *j = ctx->jobs; j; j = j->next) {
    if (j->kind == JOB_FETCH && !strcmp(j->want_digest, digest)) return j;
    pthread_mutex_lock(&j->mu);
    int match = j->done && !j->broken && !strcmp(j->res.digest, digest);
    pthread_mutex_unlock(&j->mu);
    if (match) return j;
  }
  return NULL;
}

/* ---- consumer side (worker threads) ---- */

static ssize_t job_pull(void *arg, void *buf, size_t len) {
  px_job *j = arg;
  pthread_mutex_lock(&j->mu);
  for (;;) {
    if (j->broken) {
      pthread_mutex_unlock(&j->mu);
      return SC_ERR_IO;
    }
    if (j->head && (j->mem_bytes >= READ_BATCH || j->eof || j->spilling)) {
      /* as many queued chunks as fit: one lock round trip for many pushes */
      size_t got = 0;
      while (j->head && got < len) {
        chunk *c = j->head;
        size_t n = c->len - c->off < len - got ? c->len - c->off : len - got;
        memcpy((char *)buf + got, c->data + c->off, n);
        got += n;
        c->off += n;
        j->mem_bytes -= n;
        if (c->off == c->len) {
          j->head = c->next;
          if (!j->head) j->tail = NULL;
          free(c);
        }
      }
      pthread_mutex_unlock(&j->mu);
      return (ssize_t)got;
    }
    if (j->spill_rd < j->spill_wr) {
      uint64_t off = j->spill_rd;
      size_t n = j->spill_wr - off < len ? (size_t)(j->spill_wr - off) : len;
      pthread_mutex_unlock(&j->mu);
      ssize_t r = pread(j->spill_fd, buf, n, (off_t)off);
      pthread_mutex_lock(&j->mu);
      if (r <= 0) {
        j->broken = 1;
        snprintf(j->why, sizeof(j->why), "spool read failed");
        pthread_mutex_unlock(&j->mu);
        return SC_ERR_IO;
      }
      j->spill_rd += (uint64_t)r;
      if (j->spill_rd == j->spill_wr) { /* caught up: back to memory */
        j->spill_rd = j->spill_wr = 0;
        j->spilling = 0;
        spill_unaccount(j);
      }
      pthread_mutex_unlock(&j->mu);
      return r;
    }
    if (j->eof) {
      pthread_mutex_unlock(&j->mu);
      return 0;
    }
    j->reader_waiting = 1;
    pthread_cond_wait(&j->cv, &j->mu);
    j->reader_waiting = 0;
  }
}

static size_t fetch_write(char *p, size_t size, size_t n, void *arg) {
  int fd = *(int *)arg;
  size_t len = size * n, done = 0;
  while (done < len) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    done += (size_t)w;
  }
  return len;
}

/* Downloads repo's blob `digest` into an unlinked spool file and returns its
 * fd (at offset 0), or -1 with err set. */
static int fetch_blob(px_job *j, const char *digest, char *err, size_t errlen) {
  px_ctx *ctx = j->ctx;
  char url[PX_PATH_MAX + 600], path[PX_PATH_MAX + 32], hdr[8300];
  struct curl_slist *hl = NULL;
  long code = 0;
  CURL *c;
  CURLcode cr;
  int fd;

  snprintf(path, sizeof(path), "%s/customs-fetch-XXXXXX", ctx->cfg->spool_dir);
  fd = mkstemp(path);
  if (fd < 0) {
    snprintf(err, errlen, "cannot create a spool file: %s", strerror(errno));
    return -1;
  }
  unlink(path);
  snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", ctx->up_origin, j->repo, digest);
  c = curl_easy_init();
  if (!c) {
    close(fd);
    snprintf(err, errlen, "curl init failed");
    return -1;
  }
  if (j->auth) {
    snprintf(hdr, sizeof(hdr), "Authorization: %s", j->auth);
    hl = curl_slist_append(hl, hdr);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L); /* 307 to blob storage; auth is not sent to other hosts */
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ctx->cfg->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(ctx->cfg->upstream_timeout_ms / 1000));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "customs/0.1 (layer fetch)");
  if (ctx->cfg->upstream_ca[0]) curl_easy_setopt(c, CURLOPT_CAINFO, ctx->cfg->upstream_ca);
  if (ctx->cfg->upstream_insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  cr = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  curl_slist_free_all(hl);
  if (cr != CURLE_OK || code != 200) {
    snprintf(err, errlen, "fetching %s from the upstream: %s", digest,
             cr != CURLE_OK ? curl_easy_strerror(cr) : code == 401 || code == 403 ? "not authorized" : "HTTP error");
    close(fd);
    return -1;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

/* Marks the job finished and tells the loop (the last touch of j here). */
static void finish_job(px_job *j) {
  pthread_mutex_lock(&j->mu);
  j->done = 1;
  while (j->head) { /* bytes of a broken stream */
    chunk *c = j->head;
    j->head = c->next;
    free(c);
  }
  j->tail = NULL;
  spill_unaccount(j);
  pthread_mutex_unlock(&j->mu);
  event_active(j->done_ev, 0, 0);
}

static void fail_job(px_job *j, const char *why) {
  pthread_mutex_lock(&j->mu);
  if (!j->broken) {
    j->broken = 1;
    snprintf(j->why, sizeof(j->why), "%s", why);
  }
  pthread_mutex_unlock(&j->mu);
}

/* Scans one layer (from the job's stream, or fetched) and stores it.
 * `digest` is the expected digest for fetches, NULL for streams. */
static int scan_layer(px_job *j, const char *digest, sc_store *store, sc_layer_result *res, char *err,
                      size_t errlen) {
  sc_limits lim;
  sc_inventory inv;
  int rc, fd = -1;
  int64_t t0 = px_now_ms();

  sc_limits_default(&lim);
  sc_inventory_init(&inv);
  memset(res, 0, sizeof(*res));
  if (digest) {
    fd = fetch_blob(j, digest, err, errlen);
    if (fd < 0) {
      rc = SC_ERR_IO;
    } else {
      rc = sc_layer_scan_fd(fd, &lim, &inv, res);
      close(fd);
      if (rc == 0 && strcmp(res->digest, digest) != 0) {
        rc = SC_ERR_DIGEST;
        snprintf(err, errlen, "fetched blob does not match %s", digest);
      }
    }
  } else {
    rc = sc_layer_scan(job_pull, j, &lim, &inv, res);
    if (rc != 0) snprintf(err, errlen, "%s", res->error[0] ? res->error : "upload stream incomplete");
  }
  /* Config blobs and other artifacts are uploaded like layers: a small
   * stream that is not an archive at all is not recorded as a failed layer
   * (if a manifest lists it as a layer, it is fetched and recorded then). */
  int not_archive = !digest && res->status != 0 && res->entries == 0 && !strcmp(res->compression, "none") &&
                    res->compressed_size < SC_MANIFEST_MAX_BYTES;
  if (rc == 0 && not_archive) {
    px_debug("blob %s (%llu bytes) is not a layer archive", res->digest, (unsigned long long)res->compressed_size);
  } else if (rc == 0) {
    /* clean or not, the content was seen whole: record it (a failed scan is
     * a fact the report and the policy need) */
    if (!store || sc_store_put_layer(store, res->digest, res, &inv) != 0) {
      px_error("scan %s: cannot store the result%s%s", res->digest, store ? ": " : "",
               store ? sc_store_errmsg(store) : "");
      rc = SC_ERR_DB;
      snprintf(err, errlen, "database error");
    } else {
      px_info("scan layer=%s repo=%s via=%s bytes=%llu entries=%llu packages=%zu secrets=%zu status=%s%s%s ms=%lld",
              res->digest, j->repo, digest ? "fetch" : "upload", (unsigned long long)res->compressed_size,
              (unsigned long long)res->entries, inv.npkgs, inv.nsecrets, res->status ? "failed" : "ok",
              res->status ? ": " : "", res->status ? res->error : "", (long long)(px_now_ms() - t0));
    }
  }
  sc_inventory_free(&inv);
  return rc;
}

/* Fetches a small blob (the config) into a malloc'd buffer. */
static char *fetch_small(px_job *j, const char *digest, size_t cap, size_t *len, char *err, size_t errlen) {
  int fd = fetch_blob(j, digest, err, errlen);
  char *buf;
  ssize_t n;
  size_t got = 0;
  if (fd < 0) return NULL;
  buf = malloc(cap + 1);
  while (buf && (n = read(fd, buf + got, cap - got)) > 0) got += (size_t)n;
  close(fd);
  if (!buf) return NULL;
  if (got >= cap) {
    snprintf(err, errlen, "config blob larger than %zu bytes", cap);
    free(buf);
    return NULL;
  }
  buf[got] = 0;
  *len = got;
  return buf;
}

static void run_manifest(px_job *j, sc_store *store) {
  sc_manifest m;
  char err[256] = "", *config = NULL;
  size_t configlen = 0;
  int rc;

  if (!store || !j->body) {
    fail_job(j, "no database");
    return;
  }
  rc = sc_manifest_parse(j->body, j->bodylen, j->ctype[0] ? j->ctype : NULL, &m);
  if (rc != 0) {
    sc_manifest_free(&m);
    px_info("manifest %s@%s: not an image manifest or index we read (%d): recorded nothing", j->repo,
            j->want_digest, rc);
    fail_job(j, "manifest not understood");
    return;
  }
  if (sc_manifest_is_artifact(&m)) {
    /* An artifact (signature, SBOM, ...): no runtime unpacks it.  Its
     * blobs that are not layers are not scanned and do not count; blobs
     * typed as layers still are, so a denied layer cannot ride along. */
    size_t k = 0;
    for (size_t i = 0; i < m.nlayers; i++) {
      if (sc_media_is_layer(m.layers[i].media_type)) {
        m.layers[k++] = m.layers[i];
        continue;
      }
      free(m.layers[i].digest);
      free(m.layers[i].media_type);
    }
    px_info("manifest %s@%s: artifact (config %s): %zu of %zu blob(s) are layers", j->repo, j->want_digest,
            m.config_media_type, k, m.nlayers);
    m.nlayers = k;
  } else if (m.kind == SC_MANIFEST_IMAGE && m.config_digest) {
    config = fetch_small(j, m.config_digest, 1024 * 1024, &configlen, err, sizeof(err));
    if (!config) px_warn("manifest %s@%s: config: %s", j->repo, j->want_digest, err);
    char why[300] = "";
    if (config && sc_config_check(config, configlen, why, sizeof(why)) != 0) {
      /* Go clients would read this config differently from us (case-folded
       * or duplicate keys): the image is not recorded, so it is never
       * judged on facts a client does not see */
      px_warn("manifest %s@%s: config refused: %s", j->repo, j->want_digest, why);
      fail_job(j, "image config not readable as Go clients read it");
      free(config);
      sc_manifest_free(&m);
      return;
    }
  }
  if (sc_store_put_manifest(store, j->repo, j->tag[0] ? j->tag : NULL, j->want_digest, &m, config, configlen) != 0) {
    px_error("manifest %s@%s: cannot store: %s", j->repo, j->want_digest, sc_store_errmsg(store));
    fail_job(j, "database error");
    free(config);
    sc_manifest_free(&m);
    return;
  }
  free(config);
  /* layers the proxy did not see whole (mounted, pushed around it,
   * interrupted): fetch and scan them now */
  int missing = 0, failed = 0;
  for (size_t i = 0; i < m.nlayers; i++) {
    char status[16];
    sc_layer_result res;
    if (sc_store_layer_status(store, m.layers[i].digest, status) == 0) continue;
    missing++;
    if (scan_layer(j, m.layers[i].digest, store, &res, err, sizeof(err)) != 0) {
      failed++;
      px_warn("manifest %s@%s: layer %s: %s", j->repo, j->want_digest, m.layers[i].digest, err);
    }
  }
  px_info("image repo=%s tag=%s digest=%s kind=%s layers=%zu children=%zu fetched=%d unavailable=%d", j->repo,
          j->tag[0] ? j->tag : "-", j->want_digest, m.kind == SC_MANIFEST_INDEX ? "index" : "image", m.nlayers,
          m.nchildren, missing - failed, failed);
  if (failed) fail_job(j, "some layers could not be scanned");
  sc_manifest_free(&m);
}

static void run_job(px_scanpool *pool, px_job *j, sc_store *store) {
  char err[256] = "";
  (void)pool;
  if (j->kind == JOB_MANIFEST) {
    run_manifest(j, store);
  } else {
    sc_layer_result res;
    int rc = scan_layer(j, j->kind == JOB_FETCH ? j->want_digest : NULL, store, &res, err, sizeof(err));
    pthread_mutex_lock(&j->mu);
    j->res = res;
    pthread_mutex_unlock(&j->mu);
    if (rc != 0) {
      fail_job(j, err);
      px_info("scan repo=%s upload=%s not usable: %s", j->repo, j->upload_id[0] ? j->upload_id : "-", err);
    }
  }
  finish_job(j);
}
static void *worker(void *arg) {
  px_scanpool *pool = arg;
  sc_store *store = NULL;
  if (sc_store_open(pool->ctx->cfg->db, &store) != 0) {
    px_error("scanner: cannot open the database %s", pool->ctx->cfg->db);
    store = NULL;
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
    pthread_mutex_unlock(&pool->mu);
    run_job(pool, j, store);
  }
  if (store) sc_store_close(store);
  return NULL;
}

static px_scanpool *pool_new(px_ctx *ctx, int n) {
  px_scanpool *pool = calloc(1, sizeof(*pool));
  if (!pool) return NULL;
  pool->ctx = ctx;
  pthread_mutex_init(&pool->mu, NULL);
  pthread_cond_init(&pool->cv, NULL);
  for (int i = 0; i < n; i++) {
    if (pthread_create(&pool->th[i], NULL, worker, pool) != 0) break;
    pool->nth++;
  }
  if (pool->nth == 0) {
    free(pool);
    return NULL;
  }
  return pool;
}

static void pool_stop(px_scanpool *pool) {
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

static struct event *prune_ev;

static void prune_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  prune(arg);
}

int px_scan_start(px_ctx *ctx) {
  int n = ctx->cfg->scan_workers;
  /* Stream jobs spend most of their life waiting for the client's bytes, so
   * the pool is larger than the core count: the CPU-heavy part is bounded by
   * the cores anyway, and a few slow uploads must not make every other one
   * spill to disk while it waits for a worker. */
  if (n <= 0) n = 4 * (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 8) n = 8;
  if (n > MAX_WORKERS) n = MAX_WORKERS;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ctx->scan = pool_new(ctx, n);
  ctx->mscan = pool_new(ctx, 2);
  if (!ctx->scan || !ctx->mscan) {
    pool_stop(ctx->scan);
    pool_stop(ctx->mscan);
    ctx->scan = ctx->mscan = NULL;
    return PX_ERR_NOMEM;
  }
  px_info("scanner: %d layer worker(s), spool %s (cap %llu MiB per upload)", ctx->scan->nth, ctx->cfg->spool_dir,
          (unsigned long long)(ctx->cfg->spool_max_bytes >> 20));
  prune_ev = event_new(ctx->base, -1, EV_PERSIST, prune_cb, ctx);
  if (prune_ev) {
    struct timeval tv = {30, 0};
    event_add(prune_ev, &tv);
  }
  return 0;
}

void px_scan_stop(px_ctx *ctx) {
  if (prune_ev) {
    event_free(prune_ev);
    prune_ev = NULL;
  }
  if (!ctx->scan) return;
  /* unblock workers waiting for bytes that will never come */
  for (px_job *j = ctx->jobs; j; j = j->next) px_job_break(j, "shutting down");
  pool_stop(ctx->scan);
  pool_stop(ctx->mscan);
  ctx->scan = ctx->mscan = NULL;
  while (ctx->jobs) {
    px_job *j = ctx->jobs;
    ctx->jobs = j->next;
    if (j->worker_ref) {
      pthread_mutex_lock(&j->mu);
      int d = j->done;
      pthread_mutex_unlock(&j->mu);
      if (d) {
        j->worker_ref = 0;
        px_job_unref(j);
      }
    }
    px_job_unref(j);
  }
  curl_global_cleanup();
}
