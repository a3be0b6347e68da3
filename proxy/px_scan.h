/* px_scan.h - scan jobs and the scanner thread pool.
 *
 * A job scans one layer, either from the bytes of an upload as they pass
 * through the proxy (stream job) or by fetching the blob from the upstream
 * (fetch job).  The event loop pushes upload bytes into the job without ever
 * waiting: they go to a small memory queue, and to a spill file in
 * scan.spool_dir when the scanner falls behind; past scan.spool_max_bytes the
 * job gives up (the layer is fetched and scanned later instead).  Workers
 * pull the bytes, scan them with sc_layer_scan, and store the result.
 * Completion is reported on the loop thread through px_job_wait callbacks.
 *
 * Modules: px_scan.c (job lifecycle, registry, start/stop), px_jobq.c (the
 * byte queue and spill), px_scanpool.c (threads), px_scanwork.c (layer scan,
 * manifest processing), px_fetch.c (blob fetches); px_scan_int.h joins them.
 * Ownership: jobs are reference counted (px_job_ref/unref); the caller of
 * px_job_new_* gets no reference of its own (take one to keep the job).
 * Thread: the loop thread, except px_job_ref/unref and px_job_state_of.
 *
 * Errors: SC_ERR_NOMEM, SC_ERR_IO (spill file), SC_ERR_LIMIT (spill cap;
 * the job is then broken), SC_ERR_STATE (job already finished/broken). */
#ifndef CUSTOMS_PX_SCAN_H
#define CUSTOMS_PX_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include "px_server.h"

struct px_xchg;
typedef struct px_job px_job;
typedef void (*px_job_cb)(px_job *job, void *arg);

typedef enum px_job_state {
  PX_JOB_RUNNING = 0,
  PX_JOB_DONE,      /* scanned; px_job_scan_status() says whether the content scanned cleanly */
  PX_JOB_BROKEN     /* bytes missing or out of order: nothing usable */
} px_job_state;

int px_scan_start(px_ctx *ctx);
void px_scan_stop(px_ctx *ctx);
/* Jobs queued for a worker now, in both pools (jobs running, and manifest
 * jobs still waiting for their layers, are not counted).  Loop thread. */
unsigned px_scan_queue_depth(px_ctx *ctx);

/* A stream job for an upload session (loop thread).  It takes a worker
 * with its first bytes (px_job_push), its end or its breaking. */
px_job *px_job_new_stream(px_ctx *ctx, const char *repo, const char *upload_id);
/* A fetch job: the worker downloads repo's blob `digest` from the upstream with
 * the given Authorization header value (may be NULL), then scans it. */
px_job *px_job_new_fetch(px_ctx *ctx, const char *repo, const char *digest, const char *authorization);
/* A manifest job: records a pushed manifest (and tag) once the upstream
 * accepted it, fetches its config, scans the layers the store does not
 * have yet (fetching them with the pusher's Authorization), so that the
 * image's inventory exists when the push returns.  Layers whose scan is
 * still running (an upload claimed under that digest, a fetch) are waited
 * for first, on the loop: the job reaches a worker once they are finished,
 * and only what they did not store is fetched.  Takes a copy of body. */
px_job *px_job_new_manifest(px_ctx *ctx, const char *repo, const char *tag, const char *digest,
                            const char *content_type, const void *body, size_t len,
                            const char *authorization);
int px_job_push(px_job *j, const void *data, size_t len);
/* The exchange whose request body feeds stream job j (NULL: none now).
 * While the job's queue holds a backlog for its scanner (px_job_backlog),
 * the front pauses that request; px_xchg_req_drained resumes it once the
 * scanner caught up, or once the scanner made no progress for
 * PX_JOB_HOLD_STALL_MS (the queue then spills instead). */
void px_job_set_pusher(px_job *j, struct px_xchg *x);
void px_job_drop_pusher(px_job *j, struct px_xchg *x); /* if x is the pusher */
size_t px_job_backlog(px_job *j);
void px_job_finish(px_job *j);                 /* end of the blob's bytes */
void px_job_break(px_job *j, const char *why); /* abandon: bytes missing */
uint64_t px_job_bytes(const px_job *j);
px_job_state px_job_state_of(const px_job *j);
/* After DONE: the digest computed over the bytes, and the scan status (0 = clean). */
const char *px_job_digest(const px_job *j);
int px_job_scan_status(const px_job *j);
const char *px_job_error(const px_job *j);
/* Calls cb(job, arg) on the loop thread once the job is DONE or BROKEN
 * (right away, deferred, if it already is).  px_job_unwait cancels. */
int px_job_wait(px_job *j, px_job_cb cb, void *arg);
void px_job_unwait(px_job *j, void *arg);
void px_job_ref(px_job *j);
void px_job_unref(px_job *j);

/* Upload sessions being watched, by upload id (loop thread). */
px_job *px_jobs_find_upload(px_ctx *ctx, const char *upload_id);
void px_jobs_forget_upload(px_ctx *ctx, px_job *j);
/* The upload's final PUT was accepted for `digest`: a manifest naming that
 * digest waits for this job instead of fetching the blob again.  The
 * scan's result still counts only if the bytes seen hash to it. */
void px_jobs_claim(px_ctx *ctx, px_job *j, const char *digest);
/* A still-running layer job for a blob digest (a claimed upload or a
 * fetch), if any. */
px_job *px_jobs_find_running(px_ctx *ctx, const char *digest);
#endif
