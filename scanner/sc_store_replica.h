/* sc_store_replica.h - what replicas sharing one database agree on
 * (migration 13): who is running (`replicas`, a heartbeat per process),
 * which layer fetch-scans are in progress where (`layer_claims`), which
 * replica does the periodic work for all (`leases`), and the verdict
 * epoch (`verdict_epoch`) that every replica's verdict cache compares.  With SQLite there is one replica and the same calls simply
 * succeed; with PostgreSQL they are how several customs behind a load
 * balancer avoid scanning a layer twice at the same time, wait for each
 * other's results, and drop cached verdicts together.
 *
 * Liveness: a replica is live while its seen_at is at most
 * SC_REPLICA_STALE_MS old; the caller beats every SC_REPLICA_BEAT_MS.  A
 * claim held by a replica that is not live (killed, partitioned) is taken
 * over by the next claimer, so a dead replica blocks nobody for longer
 * than SC_REPLICA_STALE_MS.
 *
 * Times are milliseconds since the epoch, passed in by the caller (tests
 * drive the clock).  Every call is one autocommit statement: atomic on both
 * backends without holding the writer lock of sc_store_begin.
 *
 * Owner: store (sc_store_replica.c).  Thread: the handle's.
 * Errors: 0, SC_ERR_ARG, SC_ERR_DB (sc_store_errmsg); sc_layer_claim also
 * SC_ERR_STATE (held by another live replica). */
#ifndef CUSTOMS_SC_STORE_REPLICA_H
#define CUSTOMS_SC_STORE_REPLICA_H
#include <stddef.h>
#include <stdint.h>
#include "sc_store.h"

#define SC_REPLICA_BEAT_MS 1000     /* a running replica refreshes its row this often */
#define SC_REPLICA_STALE_MS 5000    /* a row older than this is a replica that stopped */
#define SC_REPLICA_FORGET_MS 86400000LL /* rows of stopped replicas are deleted after a day */
#define SC_REPLICA_ID_BYTES 128     /* "host/pid/random" */

typedef struct sc_replica_row {
  const char *id, *host, *version;
  int64_t pid, started_at, seen_at;
} sc_replica_row;

/* Records that replica id is alive at now (inserting its row on the first
 * beat), and forgets replicas not seen for SC_REPLICA_FORGET_MS. */
int sc_replica_beat(sc_store *st, const char *id, const char *host, int64_t pid, const char *version,
                    int64_t started_at, int64_t now);
/* Replica id stops: its row and its claims go (a clean shutdown). */
int sc_replica_leave(sc_store *st, const char *id);
/* cb for every replica row, most recently seen first; stops at cb's first
 * non-zero return, which is returned.  cb must not use st. */
int sc_replica_each(sc_store *st, int (*cb)(void *arg, const sc_replica_row *r), void *arg);

/* Claims layer digest for replica id at now: 0 when id holds it now (new,
 * already its own, or taken over from a replica not live at now);
 * SC_ERR_STATE when another live replica holds it, its id copied into
 * holder (cap bytes; may be NULL). */
int sc_layer_claim(sc_store *st, const char *digest, const char *id, int64_t now, char *holder, size_t cap);
/* Releases id's claim on digest (nothing when it holds none). */
int sc_layer_release(sc_store *st, const char *digest, const char *id);

/* Takes (or renews) lease name for replica id from now until now +
 * hold_ms: 0 when id holds it now (free, its own, expired, or held by a
 * replica not live); SC_ERR_STATE when another live replica holds it
 * unexpired, its id copied into holder (cap bytes; may be NULL).  A lease
 * goes with its replica's sc_replica_leave. */
int sc_lease_take(sc_store *st, const char *name, const char *id, int64_t now, int64_t hold_ms, char *holder,
                  size_t cap);

/* The verdict epoch, and moving it (every replica's cached verdicts then
 * become stale at their next lookup). */
int sc_verdict_epoch(sc_store *st, int64_t *epoch);
int sc_verdict_epoch_bump(sc_store *st);
#endif
