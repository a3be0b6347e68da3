/* px_streamclaim.c - database claims for in-stream scans (see px_replica.h).
 *
 * An upload's digest is known at its last request (px_jobs_claim), while
 * its scan may still be running.  From then until the scan ends, the layer
 * is claimed in the database for this replica, so that a manifest arriving
 * on another replica waits for this scan's result instead of fetching and
 * scanning the layer a second time.  The claim is taken and released by
 * database-thread tasks (px_dbq.h: the loop never touches the database);
 * the loop keeps the order: a release is submitted only after the claim's
 * task finished, whichever of the two ends first (job->dbclaim).
 *
 * When another live replica claimed the layer first (the same image pushed
 * through two replicas at once), this replica's in-stream scan stops: one
 * replica scans it, and a manifest here waits for that result.
 *
 * Ownership: a claim task holds a job reference; a release task owns a copy
 * of the digest and replica id.  Thread: loop, except the *_fn bodies (a
 * database thread).  Errors: logged; a claim that cannot be taken only
 * loses the wait (another replica may scan the layer too). */
#include "px_dbq.h"
#include "px_log.h"
#include "px_replica.h"
#include "px_scan_int.h"
#include "sc_store.h"
#include "sc_store_replica.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct release_task {
  char digest[PX_JOB_ID_MAX];
  char id[SC_REPLICA_ID_BYTES];
} release_task;

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void release_fn(struct sc_store *st, void *arg) {
  release_task *r = arg;
  if (st && sc_layer_release(st, r->digest, r->id) != 0)
    px_warn("layer %s: cannot release the in-stream claim: %s", r->digest, sc_store_errmsg(st));
}

static void release_free(void *arg) { free(arg); }

static void submit_release(px_job *j) {
  release_task *r = calloc(1, sizeof(*r));
  j->dbclaim = PX_DBCLAIM_NONE;
  if (!r) return; /* the claim lapses when this replica stops */
  snprintf(r->digest, sizeof(r->digest), "%s", j->claimed);
  snprintf(r->id, sizeof(r->id), "%s", j->dbclaim_id);
  if (!px_dbq_submit(j->ctx, release_fn, NULL, release_free, r)) free(r);
}

/* database thread: claims j->claimed unless a result is stored already
 * (the scan finished first: nothing for anyone to wait for) */
static void claim_fn(struct sc_store *st, void *arg) {
  px_job *j = arg;
  char status[16], holder[SC_REPLICA_ID_BYTES];
  j->dbclaim_ok = 0;
  j->dbclaim_other[0] = '\0';
  if (!st || sc_store_layer_status(st, j->claimed, status) == 0) return;
  int rc = sc_layer_claim(st, j->claimed, j->dbclaim_id, wall_ms(), holder, sizeof(holder));
  if (rc == 0) j->dbclaim_ok = 1;
  else if (rc == SC_ERR_STATE) snprintf(j->dbclaim_other, sizeof(j->dbclaim_other), "%s", holder);
  else px_warn("layer %s: cannot claim the in-stream scan: %s", j->claimed, sc_store_errmsg(st));
}

/* loop: the claim is in; released at once when the scan already ended */
static void claim_done(void *arg) {
  px_job *j = arg;
  if (!j->dbclaim_ok) {
    j->dbclaim = PX_DBCLAIM_NONE;
    /* the same bytes pushed through two replicas at once: the one that
     * claimed first scans them; this one stops, and a manifest here waits
     * for that result through the database (px_replica_claim_layer) */
    if (j->dbclaim_other[0] && px_jobq_state_of(&j->q) == PX_JOBQ_OPEN) {
      px_info("upload to %s: layer %s: replica %s is scanning the same layer; this scan stops", j->repo, j->claimed,
              j->dbclaim_other);
      px_job_break(j, "another replica scans this layer");
    }
    return;
  }
  if (px_jobq_state_of(&j->q) != PX_JOBQ_OPEN) submit_release(j);
  else j->dbclaim = PX_DBCLAIM_HELD;
}

static void claim_free(void *arg) {
  px_job *j = arg;
  if (j->dbclaim == PX_DBCLAIM_PENDING) j->dbclaim = PX_DBCLAIM_NONE; /* done was skipped (shutdown) */
  px_job_unref(j);
}

void px_streamclaim_take(px_job *j) {
  px_ctx *ctx = j->ctx;
  if (!ctx->replica || !ctx->dbq || j->dbclaim != PX_DBCLAIM_NONE || px_jobq_state_of(&j->q) != PX_JOBQ_OPEN)
    return;
  snprintf(j->dbclaim_id, sizeof(j->dbclaim_id), "%s", px_replica_id(ctx));
  j->dbclaim = PX_DBCLAIM_PENDING;
  px_job_ref(j);
  if (!px_dbq_submit(ctx, claim_fn, claim_done, claim_free, j)) {
    j->dbclaim = PX_DBCLAIM_NONE;
    px_job_unref(j);
  }
}

void px_streamclaim_job_done(px_job *j) {
  if (j->dbclaim == PX_DBCLAIM_HELD) submit_release(j);
  /* PENDING: claim_done sees the job finished and releases */
}
