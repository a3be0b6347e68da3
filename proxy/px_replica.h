/* px_replica.h - this customs as one replica among several sharing a
 * database (sc_store_replica.h says what the rows mean).
 *
 * px_replica_start gives the process an identity ("host/pid/random"),
 * beats once (before any worker claims a layer) and starts a thread that
 * beats every SC_REPLICA_BEAT_MS and, on PostgreSQL, LISTENs for the
 * store's notifications (a layer result stored, a claim released), waking
 * every worker waiting in px_replica_claim_layer.  Workers also poll every
 * PX_CLAIM_POLL_MS: a notification lost to a reconnect, or SQLite (one
 * replica, no notifications), costs at most that.
 *
 * A fetch-scan of a layer (a manifest's layer no replica scanned, a
 * scan-on-pull) first claims the layer: when another live replica holds
 * the claim, the worker waits for that replica's result through the
 * database, at most wait_ms, instead of fetching and scanning it again.
 * Uploads scanned in-stream are not claimed: their digest is known only at
 * the upload's last request, when the bytes have already passed.
 *
 * Ownership: ctx->replica (NULL: not started; every call then degrades to
 * "claimed" without the database).  Thread: start/stop on the main thread
 * before/after the workers; the rest from any worker with its own store.
 * Errors: px_replica_start returns SC_ERR_NOMEM or SC_ERR_DB (the first
 * beat failed: the database is unusable). */
#ifndef CUSTOMS_PX_REPLICA_H
#define CUSTOMS_PX_REPLICA_H
#include <stddef.h>
#include "px_server.h"

#define PX_CLAIM_POLL_MS 100 /* a waiting worker looks at the database at least this often */
#define PX_REPLICA_SLICE_MS 200 /* the thread's longest wait: how late it sees px_replica_stop */

struct sc_store;

typedef enum {
  PX_CLAIM_MINE = 0, /* scan it, then px_replica_release_layer */
  PX_CLAIM_STORED,   /* another replica stored its result: nothing to do */
  PX_CLAIM_BUSY,     /* another live replica still scans it after wait_ms */
  PX_CLAIM_NODB,     /* the database failed: scan it anyway (a double scan beats none) */
} px_claim;

int px_replica_start(px_ctx *ctx);
void px_replica_stop(px_ctx *ctx); /* leaves: its row and claims are deleted */
const char *px_replica_id(const px_ctx *ctx); /* "" before px_replica_start */
/* "mine", "stored", "busy", "nodb" (logs, tests). */
const char *px_claim_name(px_claim c);

/* Claims layer digest for a fetch-scan by this replica (see above);
 * holder (cap bytes) names the other replica for PX_CLAIM_BUSY. */
px_claim px_replica_claim_layer(px_ctx *ctx, struct sc_store *st, const char *digest, int wait_ms, char *holder,
                                size_t cap);
void px_replica_release_layer(px_ctx *ctx, struct sc_store *st, const char *digest);

/* Periodic work that one replica does for all (the OSV refresh, watched
 * tags, the catalog sync): 1 when this replica should do this round of
 * `name` (it now holds the lease for hold_ms), 0 when another live replica
 * does (named in holder, cap bytes).  With SQLite, or a database error
 * (said), always 1: a round done twice beats one not done.  A replica that
 * got 0 asks again after at most PX_REPLICA_STANDBY_MS, so it takes over
 * soon after the holder stops. */
#define PX_REPLICA_STANDBY_MS 15000
int px_replica_lease(px_ctx *ctx, struct sc_store *st, const char *name, int64_t hold_ms, char *holder, size_t cap);
#endif
