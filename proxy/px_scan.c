/* px_scan.c - scan job lifecycle (see px_scan.h): creating jobs and
 * handing them to a pool, feeding a stream job's queue, completion on the
 * loop thread (waiters), the registry of jobs (ctx->jobs) and its pruning,
 * and starting/stopping the scanner.  The bytes live in px_jobq.c, the
 * threads in px_scanpool.c, the work in px_scanwork.c.
 *
 * Ownership: jobs are reference counted (px_scan_int.h) and freed on the
 * loop thread only.  The prune timer and the spool accounting every job's
 * queue shares are the context's (ctx->scan_prune_ev, ctx->spool).
 * Thread: the loop thread, except px_job_ref/unref (atomic) and the state
 * queries (the queue's mutex).
 * Errors: SC_ERR_* (sc_err.h); a job's failure is its break reason. */
#include "px_headers.h"
#include "px_log.h"
#include "px_scan_int.h"
#include "px_xchg.h"
#include "sc_time.h"
#include "net_http.h"
#include "sc_image.h"
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STALL_MS (120 * 1000)     /* an upload that sends nothing for this long is abandoned */
#define RATE_GRACE_MS (60 * 1000) /* scan.min_rate_bytes applies after this much of an upload */
#define KEEP_DONE_MS (10 * 60 * 1000)      /* finished jobs stay findable for manifests that follow */
#define KEEP_ANY_MS (24 * 3600 * 1000)     /* no job is kept longer */
#define PRUNE_EVERY_S 30
#define MIN_LAYER_WORKERS 8
#define MANIFEST_WORKERS 2
/* an upload whose next request (PATCH or PUT) does not reach this replica
 * within this long after the previous one ended is given up: behind a
 * round-robin balancer it went to another replica, and the job would hold a
 * worker until STALL_MS; clients send the next request at once */
#define PX_JOB_GAP_MS 10000
#define PX_JOB_HOLD_STALL_MS 1000 /* a held upload whose scanner took nothing for this long spills instead */

/* ---- references ---- */

static void job_free(px_job *j) {
  while (j->waiters) {
    px_job_waiter *w = j->waiters;
    j->waiters = w->next;
    free(w);
  }
  px_jobq_destroy(&j->q);
  if (j->done_ev) event_free(j->done_ev);
  if (j->drain_ev) event_free(j->drain_ev);
  if (j->stall_ev) event_free(j->stall_ev);
  if (j->gap_ev) event_free(j->gap_ev);
  free(j->auth);
  free(j->body);
  free(j->deps); /* emptied by release_deps while the job lived */
  free(j);
}

void px_job_ref(px_job *j) { __atomic_add_fetch(&j->refs, 1, __ATOMIC_SEQ_CST); }

void px_job_unref(px_job *j) {
  if (j && __atomic_sub_fetch(&j->refs, 1, __ATOMIC_SEQ_CST) == 0) job_free(j);
}

/* Drops the worker's reference once the worker has finished with the job. */
static void drop_worker_ref_if_done(px_job *j) {
  if (j->worker_ref && px_jobq_state_of(&j->q) != PX_JOBQ_OPEN) {
    j->worker_ref = 0;
    px_job_unref(j);
  }
}

/* ---- completion (loop thread) ---- */

static void done_cb(evutil_socket_t fd, short what, void *arg) {
  px_job *j = arg;
  (void)fd;
  (void)what;
  px_job_ref(j); /* waiters may drop the last registry reference */
  px_streamclaim_job_done(j);
  if (j->kind == PX_JOBKIND_STREAM && j->claimed[0] && px_job_state_of(j) == PX_JOB_DONE &&
      strcmp(j->res.digest, j->claimed) != 0) {
    /* what customs saw is not the blob the client named: the result is kept
     * only under the digest of the bytes seen, so nothing refers to it; a
     * manifest naming the claimed digest gets that blob fetched and scanned */
    px_warn("upload to %s: bytes seen hash to %s, the client says %s: scan result not used", j->repo, j->res.digest,
            j->claimed);
  }
  while (j->waiters) {
    px_job_waiter *w = j->waiters;
    j->waiters = w->next;
    w->cb(j, w->arg);
    free(w);
  }
  drop_worker_ref_if_done(j);
  px_job_unref(j);
}

/* ---- registry (loop thread) ---- */

static void prune(px_ctx *ctx) {
  int64_t now = px_now_ms();
  px_job **pp = &ctx->jobs;
  while (*pp) {
    px_job *j = *pp;
    int finished = px_jobq_state_of(&j->q) != PX_JOBQ_OPEN;
    int streaming = !finished && j->kind == PX_JOBKIND_STREAM;
    int64_t age = now - j->created_ms;
    /* finished jobs are kept a while for manifests that follow the upload;
     * a stream that stalls is abandoned (its worker is needed elsewhere; the
     * layer is fetched when a manifest names it) */
    if (streaming && now - j->last_push_ms > STALL_MS) px_job_break(j, "upload stalled");
    /* a slow drip would hold a scanner thread for as long as it likes */
    if (streaming && age > RATE_GRACE_MS &&
        (double)px_jobq_bytes(&j->q) * 1000.0 / (double)age < (double)ctx->cfg->scan_min_rate)
      px_job_break(j, "upload too slow to scan in-stream (scan.min_rate_bytes)");
    if (streaming && ctx->cfg->scan_max_stream_s > 0 && age > (int64_t)ctx->cfg->scan_max_stream_s * 1000)
      px_job_break(j, "upload still streaming after scan.max_stream");
    if ((finished && age > KEEP_DONE_MS) || age > KEEP_ANY_MS) {
      *pp = j->next;
      j->registered = 0;
      if (!finished) px_job_break(j, "abandoned");
      px_job_unref(j);
      continue;
    }
    pp = &j->next;
  }
}

static void prune_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  prune(arg);
}

px_job *px_jobs_find_upload(px_ctx *ctx, const char *upload_id) {
  for (px_job *j = ctx->jobs; j; j = j->next)
    if (j->kind == PX_JOBKIND_STREAM && !strcmp(j->upload_id, upload_id)) return j;
  return NULL;
}

void px_jobs_forget_upload(px_ctx *ctx, px_job *j) {
  j->upload_id[0] = 0; /* stays findable by digest until pruned */
  (void)ctx;
}

void px_jobs_claim(px_ctx *ctx, px_job *j, const char *digest) {
  (void)ctx;
  snprintf(j->claimed, sizeof(j->claimed), "%s", digest);
  px_streamclaim_take(j); /* other replicas wait for this scan, not fetch the layer */
}

px_job *px_jobs_find_running(px_ctx *ctx, const char *digest) {
  for (px_job *j = ctx->jobs; j; j = j->next) {
    const char *d = j->kind == PX_JOBKIND_STREAM ? j->claimed : j->kind == PX_JOBKIND_FETCH ? j->want_digest : "";
    if (d[0] && !strcmp(d, digest) && px_jobq_state_of(&j->q) == PX_JOBQ_OPEN) return j;
  }
  return NULL;
}

/* ---- holding an upload for its scanner (loop thread) ---- */

/* Reader's thread: the backlog is gone; the loop resumes the pusher. */
static void drain_notify(void *arg) {
  px_job *j = arg;
  event_active(j->drain_ev, 0, 0);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg) {
  px_job *j = arg;
  (void)fd;
  (void)what;
  if (j->stall_ev) evtimer_del(j->stall_ev);
  if (j->pusher) px_xchg_req_drained(j->pusher);
}

static void arm_stall(px_job *j) {
  struct timeval tv = sc_ms_to_timeval(PX_JOB_HOLD_STALL_MS);
  j->stall_mark = px_jobq_progress(&j->q);
  evtimer_add(j->stall_ev, &tv);
}

static void stall_cb(evutil_socket_t fd, short what, void *arg) {
  px_job *j = arg;
  (void)fd;
  (void)what;
  if (px_jobq_backlog(&j->q) == 0) return;
  if (px_jobq_progress(&j->q) != j->stall_mark) {
    arm_stall(j); /* slow but moving: keep holding */
    return;
  }
  px_warn("scan repo=%s upload=%s: the scanner took nothing for %d ms: spilling instead of holding the upload",
          j->repo, j->upload_id[0] ? j->upload_id : "-", PX_JOB_HOLD_STALL_MS);
  px_jobq_unhold(&j->q);
  if (j->pusher) px_xchg_req_drained(j->pusher);
}

/* The upload's next request did not come (to this replica): the scan
 * cannot finish; its worker is freed and the layer is fetched and scanned
 * when a manifest names it. */
static void gap_cb(evutil_socket_t fd, short what, void *arg) {
  px_job *j = arg;
  (void)fd;
  (void)what;
  if (j->pusher || j->input_done || px_jobq_state_of(&j->q) != PX_JOBQ_OPEN) return;
  px_info("scan repo=%s upload=%s: no request continued the upload for %d ms (its next request went to another "
          "replica?): the layer is fetched and scanned when a manifest names it",
          j->repo, j->upload_id[0] ? j->upload_id : "-", PX_JOB_GAP_MS);
  px_job_break(j, "the upload did not continue here");
}

void px_job_set_pusher(px_job *j, px_xchg *x) {
  j->pusher = x;
  if (j->gap_ev) evtimer_del(j->gap_ev);
}

void px_job_drop_pusher(px_job *j, px_xchg *x) {
  if (j->pusher != x) return;
  j->pusher = NULL;
  if (j->stall_ev) evtimer_del(j->stall_ev);
  /* between two requests of one upload: the next one is expected at once */
  if (j->gap_ev && !j->input_done && px_jobq_state_of(&j->q) == PX_JOBQ_OPEN) {
    struct timeval tv = sc_ms_to_timeval(PX_JOB_GAP_MS);
    evtimer_add(j->gap_ev, &tv);
  }
}

size_t px_job_backlog(px_job *j) {
  size_t n = px_jobq_backlog(&j->q);
  if (n && j->stall_ev && !evtimer_pending(j->stall_ev, NULL)) arm_stall(j);
  return n;
}

/* ---- creation (loop thread) ---- */

static px_job *job_new(px_ctx *ctx, int kind, const char *repo) {
  px_job *j;
  if (!ctx->scan) return NULL;
  j = calloc(1, sizeof(*j));
  if (!j) return NULL;
  j->ctx = ctx;
  j->kind = kind;
  j->created_ms = px_now_ms();
  j->last_push_ms = j->created_ms;
  snprintf(j->repo, sizeof(j->repo), "%s", repo);
  px_jobq_limits lim = {.spool_dir = ctx->cfg->spool_dir,
                        .mem_max_bytes = PX_JOBQ_MEM_MAX_BYTES,
                        .spill_max_bytes = ctx->cfg->spool_max_bytes,
                        .spool = &ctx->spool};
  if (kind == PX_JOBKIND_STREAM) {
    lim.on_drain = drain_notify;
    lim.drain_arg = j;
  }
  if (px_jobq_init(&j->q, &lim) != 0) {
    free(j);
    return NULL;
  }
  j->done_ev = event_new(ctx->base, -1, 0, done_cb, j);
  if (kind == PX_JOBKIND_STREAM) {
    j->drain_ev = event_new(ctx->base, -1, 0, drain_cb, j);
    j->stall_ev = evtimer_new(ctx->base, stall_cb, j);
    j->gap_ev = evtimer_new(ctx->base, gap_cb, j);
  }
  if (!j->done_ev || (kind == PX_JOBKIND_STREAM && (!j->drain_ev || !j->stall_ev || !j->gap_ev))) {
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
  px_job *j = job_new(ctx, PX_JOBKIND_STREAM, repo);
  if (!j) return NULL;
  snprintf(j->upload_id, sizeof(j->upload_id), "%s", upload_id ? upload_id : "");
  return j; /* to a worker with its first bytes: stream_start */
}

/* A stream job reaches a worker with its first bytes, its end or its
 * breaking, not when the upload is opened: behind a round-robin balancer
 * the POST that opened it here is often followed by PATCHes that go to
 * another replica, and a job waiting for them would hold a worker (and
 * starve this replica's real in-stream scans) until the stall cut-off. */
static void stream_start(px_job *j) {
  if (j->kind != PX_JOBKIND_STREAM || j->enqueued || !j->ctx->scan) return;
  j->enqueued = 1;
  px_scanpool_enqueue(j->ctx->scan, j);
}

/* ---- manifests wait for their layers' running scans (loop thread) ---- */

static void release_deps(px_job *m) {
  for (size_t i = 0; i < m->ndeps; i++) {
    if (!m->deps[i]) continue;
    px_job_unwait(m->deps[i], m);
    px_job_unref(m->deps[i]);
  }
  free(m->deps);
  m->deps = NULL;
  m->ndeps = m->deps_left = 0;
}

static void dep_done(px_job *dep, void *arg) {
  px_job *m = arg;
  for (size_t i = 0; i < m->ndeps; i++) {
    if (m->deps[i] != dep) continue;
    m->deps[i] = NULL;
    px_job_unref(dep);
    m->deps_left--;
  }
  if (m->deps_left > 0) return;
  px_debug("manifest %s@%s: the layers' scans are finished: processing it", m->repo, m->want_digest);
  release_deps(m);
  px_scanpool_enqueue(m->ctx->mscan, m);
}

/* Makes m wait for every running scan of one of its layers.  Returns the
 * number waited for (0: enqueue now).  Without memory it waits for none:
 * the worker then fetches and scans what the store lacks, as before. */
static size_t wait_for_layers(px_job *m) {
  sc_manifest mf;
  size_t n = 0;
  if (sc_manifest_parse(m->body, m->bodylen, m->ctype[0] ? m->ctype : NULL, &mf) != 0 || mf.nlayers == 0) {
    sc_manifest_free(&mf);
    return 0;
  }
  m->deps = calloc(mf.nlayers, sizeof(*m->deps));
  for (size_t i = 0; m->deps && i < mf.nlayers; i++) {
    px_job *d = px_jobs_find_running(m->ctx, mf.layers[i].digest);
    int seen = 0;
    for (size_t k = 0; k < n; k++) seen |= m->deps[k] == d;
    if (!d || seen) continue;
    px_job_ref(d);
    if (px_job_wait(d, dep_done, m) != 0) {
      px_job_unref(d);
      continue;
    }
    m->deps[n++] = d;
  }
  sc_manifest_free(&mf);
  m->ndeps = m->deps_left = n;
  if (n == 0) release_deps(m);
  return n;
}

px_job *px_job_new_manifest(px_ctx *ctx, const char *repo, const char *tag, const char *digest,
                            const char *content_type, const void *body, size_t len,
                            const char *authorization) {
  px_job *j;
  if (!ctx->mscan) return NULL;
  j = job_new(ctx, PX_JOBKIND_MANIFEST, repo);
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
  size_t waiting = j->body ? wait_for_layers(j) : 0;
  if (waiting)
    px_debug("manifest %s@%s: waits for %zu layer scan(s) still running", repo, digest, waiting);
  else
    px_scanpool_enqueue(ctx->mscan, j);
  return j;
}

px_job *px_job_new_fetch(px_ctx *ctx, const char *repo, const char *digest, const char *authorization) {
  px_job *j = job_new(ctx, PX_JOBKIND_FETCH, repo);
  if (!j) return NULL;
  snprintf(j->want_digest, sizeof(j->want_digest), "%s", digest);
  if (authorization) j->auth = strdup(authorization);
  px_scanpool_enqueue(ctx->scan, j);
  return j;
}

/* ---- producer side (loop thread) ---- */

int px_job_push(px_job *j, const void *data, size_t len) {
  int rc = px_jobq_push(&j->q, data, len);
  if (len) stream_start(j);
  const char *up = j->upload_id[0] ? j->upload_id : "-";
  if (rc == 0 && len) j->last_push_ms = px_now_ms();
  else if (rc == SC_ERR_IO)
    px_warn("scan repo=%s upload=%s: spool write in %s failed: %s (the layer is fetched and scanned later)",
            j->repo, up, j->ctx->cfg->spool_dir, strerror(px_jobq_errno(&j->q)));
  else if (rc == SC_ERR_LIMIT)
    px_warn("scan repo=%s upload=%s: %s (the layer is fetched and scanned later)", j->repo, up,
            px_jobq_cap_hit(&j->q));
  return rc;
}

void px_job_finish(px_job *j) {
  j->input_done = 1;
  if (j->gap_ev) evtimer_del(j->gap_ev);
  px_jobq_eof(&j->q);
  stream_start(j);
}

void px_job_break(px_job *j, const char *why) {
  px_jobq_break(&j->q, why);
  stream_start(j); /* its worker finishes it at once, and wakes its waiters */
}

/* ---- results ---- */

uint64_t px_job_bytes(const px_job *j) { return px_jobq_bytes(&j->q); }

px_job_state px_job_state_of(const px_job *j) {
  px_jobq_state s = px_jobq_state_of(&((px_job *)j)->q);
  return s == PX_JOBQ_OPEN ? PX_JOB_RUNNING : s == PX_JOBQ_BROKEN ? PX_JOB_BROKEN : PX_JOB_DONE;
}

const char *px_job_digest(const px_job *j) { return j->res.digest; }
int px_job_scan_status(const px_job *j) { return j->res.status; }
const char *px_job_error(const px_job *j) {
  const char *why = px_jobq_why(&((px_job *)j)->q);
  return why ? why : j->res.error;
}

int px_job_wait(px_job *j, px_job_cb cb, void *arg) {
  px_job_waiter *w = calloc(1, sizeof(*w));
  if (!w) return SC_ERR_NOMEM;
  w->cb = cb;
  w->arg = arg;
  w->next = j->waiters;
  j->waiters = w;
  /* the caller holds a reference while it waits */
  if (px_job_state_of(j) != PX_JOB_RUNNING) event_active(j->done_ev, 0, 0);
  return 0;
}

void px_job_unwait(px_job *j, void *arg) {
  px_job_waiter **pp = &j->waiters;
  while (*pp) {
    if ((*pp)->arg == arg) {
      px_job_waiter *w = *pp;
      *pp = w->next;
      free(w);
      continue;
    }
    pp = &(*pp)->next;
  }
}

/* ---- start / stop (loop thread) ---- */

int px_scan_start(px_ctx *ctx) {
  int n = ctx->cfg->scan_workers;
  /* Stream jobs spend most of their life waiting for the client's bytes, so
   * the pool is larger than the core count: the CPU-heavy part is bounded by
   * the cores anyway, and a few slow uploads must not make every other one
   * spill to disk while it waits for a worker. */
  if (n <= 0) n = 4 * (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (n < MIN_LAYER_WORKERS) n = MIN_LAYER_WORKERS;
  if (n > PX_SCANPOOL_MAX_THREADS) n = PX_SCANPOOL_MAX_THREADS;
  ctx->spool.max_bytes = ctx->cfg->spool_total_max_bytes;
  /* before any worker thread: curl's global init is not thread-safe.  On
   * failure stream scans still work; fetches fail, worker by worker. */
  if (net_http_global_init() != 0) px_error("scanner: HTTP client init failed: layers cannot be fetched");
  ctx->scan = px_scanpool_new(ctx, n);
  ctx->mscan = px_scanpool_new(ctx, MANIFEST_WORKERS);
  if (!ctx->scan || !ctx->mscan) {
    px_scanpool_stop(ctx->scan);
    px_scanpool_stop(ctx->mscan);
    ctx->scan = ctx->mscan = NULL;
    return SC_ERR_NOMEM;
  }
  px_info("scanner: %d layer worker(s), spool %s (cap %llu MiB per upload)", px_scanpool_threads(ctx->scan),
          ctx->cfg->spool_dir, (unsigned long long)(ctx->cfg->spool_max_bytes >> 20));
  ctx->scan_prune_ev = event_new(ctx->base, -1, EV_PERSIST, prune_cb, ctx);
  if (ctx->scan_prune_ev) {
    struct timeval tv = {PRUNE_EVERY_S, 0};
    event_add(ctx->scan_prune_ev, &tv);
  }
  return 0;
}

void px_scan_stop(px_ctx *ctx) {
  if (ctx->scan_prune_ev) {
    event_free(ctx->scan_prune_ev);
    ctx->scan_prune_ev = NULL;
  }
  if (!ctx->scan) return;
  /* unblock workers waiting for bytes that will never come */
  for (px_job *j = ctx->jobs; j; j = j->next) px_job_break(j, "shutting down");
  /* manifests still waiting for layers never reach a worker: finished here */
  for (px_job *j = ctx->jobs; j; j = j->next)
    if (j->deps) {
      release_deps(j);
      px_jobq_close(&j->q);
    }
  px_scanpool_stop(ctx->scan);
  px_scanpool_stop(ctx->mscan);
  ctx->scan = ctx->mscan = NULL;
  while (ctx->jobs) {
    px_job *j = ctx->jobs;
    ctx->jobs = j->next;
    drop_worker_ref_if_done(j);
    px_job_unref(j);
  }
}
