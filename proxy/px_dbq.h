/* px_dbq.h - the database threads: every SQLite read or write that a
 * request needs (verdicts, blob gating, the decisions log) runs here, never
 * on the event loop, so a busy database (an import holding the write lock,
 * a long re-match) delays only the requests that need it: `GET /v2/`, uploads
 * and everything else keep flowing.
 *
 * Ownership and threads: px_dbq_submit is called on the loop thread; fn runs
 * on one of PX_DBQ_THREADS threads, each with its own sc_store connection;
 * done and free_arg run on the loop thread afterwards.  arg belongs to the
 * task from submit until free_arg: fn may use it, but must not touch
 * loop-owned state (exchanges, hooks).  px_dbq_cancel (loop thread) makes the
 * task skip `done` (its requester went away); fn may still run, and
 * free_arg is always called.
 *
 * Errors: px_dbq_start returns 0 or SC_ERR_NOMEM / SC_ERR_IO (no database
 * connection could be opened); px_dbq_submit returns NULL when out of memory
 * or after px_dbq_stop (the caller applies its on_error rule). */
#ifndef CUSTOMS_PX_DBQ_H
#define CUSTOMS_PX_DBQ_H
#include "px_server.h"

#define PX_DBQ_THREADS 2          /* one can wait on a lock while the other answers */
#define PX_DBQ_MAX_QUEUED 100000  /* tasks waiting; past this submit fails (fail closed) */

struct sc_store;
typedef struct px_dbtask px_dbtask;
/* The queue and its threads, ctx->dbq: made by px_dbq_start, freed by
 * px_dbq_stop; opaque outside px_dbq.c. */
typedef struct px_dbq px_dbq;
typedef void (*px_dbq_fn)(struct sc_store *st, void *arg); /* DB thread; st may be NULL (no connection) */
typedef void (*px_dbq_done)(void *arg);                    /* loop thread */
typedef void (*px_dbq_free)(void *arg);                    /* loop thread, always */

int px_dbq_start(px_ctx *ctx);
/* Runs the queued tasks to the end (their `done` is not called), joins. */
void px_dbq_stop(px_ctx *ctx);
px_dbtask *px_dbq_submit(px_ctx *ctx, px_dbq_fn fn, px_dbq_done done, px_dbq_free free_arg, void *arg);
void px_dbq_cancel(px_dbtask *t);
/* Tasks submitted and not yet completed on the loop (for tests and stats). */
int px_dbq_pending(px_ctx *ctx);
#endif
