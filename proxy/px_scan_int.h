/* px_scan_int.h - what the scan modules share and nobody else sees: the
 * px_job structure, a worker's resources, and the calls between
 *   px_scan.c      job lifecycle: creation, references, completion on the
 *                  loop, the registry of jobs, pruning, start/stop;
 *   px_scanpool.c  the worker pools (threads and their FIFO);
 *   px_scanwork.c  what a worker does with a job: scan a layer, process a
 *                  manifest (px_scan_image, which the sync thread of
 *                  px_sync.c calls too, with a px_worker of its own);
 *   px_jobq.c      a job's byte queue; px_fetch.c  blob fetches.
 *
 * Ownership: a job is reference counted (the registry ctx->jobs holds one,
 * its worker one until done_cb sees it finished, waiters and the intercept
 * hooks one each); it is freed on the loop thread only.
 * Thread: fields marked "loop" belong to the loop thread; q has its own
 * mutex; res is written by the worker before px_jobq_close and read after
 * (the queue's mutex orders the two); the rest is set at creation.
 * Errors: SC_ERR_* (sc_err.h). */
#ifndef CUSTOMS_PX_SCAN_INT_H
#define CUSTOMS_PX_SCAN_INT_H
#include "px_jobq.h"
#include "px_scan.h"
#include "sc_layer.h"
#include "sc_store_replica.h"

struct sc_store;
struct net_http;

#define PX_JOB_REPO_MAX 256  /* bytes of a repository name, NUL included */
#define PX_JOB_ID_MAX 160    /* upload id, digest, tag, content type */

enum { PX_JOBKIND_STREAM, PX_JOBKIND_FETCH, PX_JOBKIND_MANIFEST };
/* a stream job's claim in the database (px_streamclaim.c) */
enum { PX_DBCLAIM_NONE = 0, PX_DBCLAIM_PENDING, PX_DBCLAIM_HELD };

typedef struct px_job_waiter {
  struct px_job_waiter *next;
  px_job_cb cb;
  void *arg;
} px_job_waiter;

struct px_job {
  px_ctx *ctx;
  int refs;                 /* atomic */
  int kind;                 /* PX_JOBKIND_* */
  char repo[PX_JOB_REPO_MAX];
  char upload_id[PX_JOB_ID_MAX];   /* stream jobs (loop); "" once forgotten */
  char claimed[PX_JOB_ID_MAX];     /* stream jobs (loop): the digest the upload's
                                      final PUT named, once the registry took it */
  int enqueued;                    /* stream jobs (loop): handed to a worker (stream_start) */
  int dbclaim;                     /* stream jobs (loop): PX_DBCLAIM_*, px_streamclaim.c */
  int dbclaim_ok;                  /* set by the claim's database task, read by its done (loop) */
  char dbclaim_id[SC_REPLICA_ID_BYTES]; /* the replica id the claim was taken for */
  char dbclaim_other[SC_REPLICA_ID_BYTES]; /* set by the claim's task: the live replica that holds it */
  char want_digest[PX_JOB_ID_MAX]; /* fetch and manifest jobs */
  char *auth;               /* fetch/manifest jobs: Authorization value */
  char tag[PX_JOB_ID_MAX];  /* manifest jobs */
  char ctype[PX_JOB_ID_MAX];
  char *body;
  size_t bodylen;
  int64_t created_ms;
  int64_t last_push_ms;     /* loop: a stream that stalls holds a worker */
  struct px_xchg *pusher;   /* loop: the exchange teeing into a stream job, paused
                               while the queue reports a backlog */
  struct event *drain_ev;   /* stream jobs: the queue's backlog is gone (any thread) */
  struct event *stall_ev;   /* stream jobs (loop): a held backlog's reader check */
  struct event *gap_ev;     /* stream jobs (loop): the upload's next request is late (px_scan.c) */
  int input_done;           /* stream jobs (loop): px_job_finish was called */
  uint64_t stall_mark;      /* loop: the reader's progress when stall_ev was armed */
  px_jobq q;                /* the bytes (stream jobs) and every job's outcome:
                               broken with a reason, closed once the worker is done */
  sc_layer_result res;      /* layer jobs: the worker's result */
  /* loop thread */
  struct event *done_ev;
  int worker_ref;           /* the worker's reference, dropped in done_cb */
  px_job_waiter *waiters;
  struct px_job **deps;     /* manifest jobs: layer jobs still running when it was
                               made; it goes to a worker once all are finished */
  size_t ndeps, deps_left;
  struct px_job *next;      /* ctx->jobs */
  int registered;
  struct px_job *qnext;     /* pool FIFO (pool mutex) */
};

/* A worker thread's own resources, made when it starts, freed when it ends. */
typedef struct px_worker {
  px_ctx *ctx;
  struct sc_store *store;   /* NULL: the database could not be opened */
  struct net_http *http;    /* upstream client; NULL: none could be made */
  /* optional (pool workers: NULL): called before each blob fetch of
   * px_scan_image; nonzero stops the image there (the sync's rate limit,
   * which also says when customs shuts down) */
  int (*before_fetch)(void *arg);
  void *before_fetch_arg;
  const int *abort_flag;    /* optional: nonzero stops a blob transfer in flight (the sync's shutdown) */
} px_worker;

typedef struct px_scanpool px_scanpool;

#define PX_SCANPOOL_MAX_THREADS 64 /* threads of one pool */

/* px_scanpool.c */
px_scanpool *px_scanpool_new(px_ctx *ctx, int nthreads); /* NULL if no thread started */
void px_scanpool_enqueue(px_scanpool *pool, px_job *j);
/* Stops and joins the threads; jobs still queued lose their worker reference. */
void px_scanpool_stop(px_scanpool *pool);
int px_scanpool_threads(const px_scanpool *pool);

/* px_streamclaim.c (loop thread): claims a stream job's digest
 * (j->claimed) in the database for this replica while its scan runs, and
 * releases it once the job is done. */
void px_streamclaim_take(px_job *j);
void px_streamclaim_job_done(px_job *j);

/* px_scanwork.c: runs the job on the calling worker, then closes its queue
 * and wakes done_cb on the loop. */
void px_job_run(px_job *j, px_worker *w);
/* What a manifest job does, on the calling thread with w's store and HTTP
 * client: parses the manifest `body` (len bytes, Content-Type ctype, may be
 * NULL) of repo@digest, fetches and checks an image's config, records it
 * (sc_store_put_manifest_ex; tag NULL or "": by digest), records it as a
 * referrer, fetches and scans the layers the store does not have (with
 * client_auth, may be NULL), then emits scan-completed, queues the
 * annotations and announces a tag move.  0, or SC_ERR_* with a one-line
 * reason in err ("manifest not understood", "some layers could not be
 * scanned", ...); details are logged.  It does not touch the gate's verdict
 * cache (the caller does, as px_pullgate.c does after a scan-on-pull). */
int px_scan_image(px_ctx *ctx, px_worker *w, const char *repo, const char *tag, const char *digest,
                  const char *ctype, const char *body, size_t len, const char *client_auth, char *err,
                  size_t errlen);
#endif
