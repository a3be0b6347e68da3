/* sc_store_replica.c - replica heartbeats, layer claims and the verdict
 * epoch (migration 13), on both backends: every statement is portable
 * (ON CONFLICT upserts, numbered parameters, times bound from C).  What
 * the rows mean is in sc_store_replica.h.
 * Owner: store.  Thread: the handle's.  Errors: see sc_store_replica.h. */
#include "sc_store_replica.h"

#include <stdio.h>
#include <string.h>

#include "sc_image.h"
#define SC_STORE_SHORT_NAMES /* bind_text, step_done, copy_col (sc_store_int.h) */
#include "sc_store_int.h"

/* the connection's error, kept for sc_store_errmsg; returns SC_ERR_DB */
static int db_fail(sc_store *st) {
  snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
  return SC_ERR_DB;
}

/* steps statement s (parameters bound by the caller), which returns no
 * rows; 0 or SC_ERR_DB */
static int run(sc_store *st, sc_db_stmt *s) { return step_done(s) ? db_fail(st) : 0; }

/* After a refused claim or lease: who holds key (sql selects the replica
 * by it), copied into holder (may be NULL); SC_ERR_STATE, or SC_ERR_DB.  A
 * row released between the two statements leaves holder empty: the caller
 * asks again. */
static int held_by(sc_store *st, const char *sql, const char *key, char *holder, size_t cap) {
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s || bind_text(s, 1, key)) return db_fail(st);
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW && holder) copy_col(s, 0, holder, cap);
  sc_db_reset(s);
  return rc == SC_DB_ROW || rc == SC_DB_DONE ? SC_ERR_STATE : db_fail(st);
}

int sc_replica_beat(sc_store *st, const char *id, const char *host, int64_t pid, const char *version,
                    int64_t started_at, int64_t now) {
  if (!st || !id || !*id || !host || !version) return SC_ERR_ARG;
  static const char up[] =
      "INSERT INTO replicas (id, host, pid, version, started_at, seen_at) VALUES (?,?,?,?,?,?)"
      " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at";
  static const char gone[] = "DELETE FROM replicas WHERE seen_at < ?";
  sc_db_stmt *s = sc_store_stmt(st, up);
  if (!s) return db_fail(st);
  if (bind_text(s, 1, id) || bind_text(s, 2, host) || sc_db_bind_int64(s, 3, pid) || bind_text(s, 4, version) ||
      sc_db_bind_int64(s, 5, started_at) || sc_db_bind_int64(s, 6, now) || run(st, s))
    return db_fail(st);
  if (!(s = sc_store_stmt(st, gone)) || sc_db_bind_int64(s, 1, now - SC_REPLICA_FORGET_MS)) return db_fail(st);
  return run(st, s);
}

int sc_replica_leave(sc_store *st, const char *id) {
  if (!st || !id) return SC_ERR_ARG;
  static const char claims[] = "DELETE FROM layer_claims WHERE replica = ?";
  static const char leases[] = "DELETE FROM leases WHERE replica = ?";
  static const char row[] = "DELETE FROM replicas WHERE id = ?";
  sc_db_stmt *s = sc_store_stmt(st, claims);
  if (!s || bind_text(s, 1, id) || run(st, s)) return db_fail(st);
  if (!(s = sc_store_stmt(st, leases)) || bind_text(s, 1, id) || run(st, s)) return db_fail(st);
  if (!(s = sc_store_stmt(st, row)) || bind_text(s, 1, id)) return db_fail(st);
  return run(st, s);
}

int sc_replica_each(sc_store *st, int (*cb)(void *arg, const sc_replica_row *r), void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  sc_db_stmt *s = NULL;
  if (sc_store_prep(st,
                    "SELECT id, host, pid, version, started_at, seen_at FROM replicas"
                    " ORDER BY seen_at DESC, id",
                    &s))
    return db_fail(st);
  int rc, rv = 0;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    sc_replica_row r = {.id = sc_db_column_text(s, 0),
                        .host = sc_db_column_text(s, 1),
                        .pid = sc_db_column_int64(s, 2),
                        .version = sc_db_column_text(s, 3),
                        .started_at = sc_db_column_int64(s, 4),
                        .seen_at = sc_db_column_int64(s, 5)};
    rv = cb(arg, &r);
  }
  if (!rv && rc != SC_DB_DONE) rv = db_fail(st);
  sc_db_finalize(s);
  return rv;
}

int sc_layer_claim(sc_store *st, const char *digest, const char *id, int64_t now, char *holder, size_t cap) {
  if (holder && cap) holder[0] = '\0';
  if (!st || !id || !*id || !sc_digest_valid(digest, 1)) return SC_ERR_ARG;
  /* one statement: a new claim, a renewal of our own, or a takeover from
   * a replica that stopped beating; another live replica's claim is left
   * alone (the DO UPDATE's WHERE is false: no row changes) */
  static const char take[] =
      "INSERT INTO layer_claims (digest, replica, claimed_at) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (digest) DO UPDATE SET replica = excluded.replica, claimed_at = excluded.claimed_at"
      " WHERE layer_claims.replica = excluded.replica OR NOT EXISTS ("
      "  SELECT 1 FROM replicas r WHERE r.id = layer_claims.replica AND r.seen_at >= ?4)";
  static const char who[] = "SELECT replica FROM layer_claims WHERE digest = ?";
  sc_db_stmt *s = sc_store_stmt(st, take);
  if (!s || bind_text(s, 1, digest) || bind_text(s, 2, id) || sc_db_bind_int64(s, 3, now) ||
      sc_db_bind_int64(s, 4, now - SC_REPLICA_STALE_MS) || run(st, s))
    return db_fail(st);
  if (sc_db_changes(st->db) == 1) return 0;
  return held_by(st, who, digest, holder, cap);
}

int sc_layer_release(sc_store *st, const char *digest, const char *id) {
  if (!st || !id || !digest) return SC_ERR_ARG;
  static const char sql[] = "DELETE FROM layer_claims WHERE digest = ? AND replica = ?";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s || bind_text(s, 1, digest) || bind_text(s, 2, id)) return db_fail(st);
  return run(st, s);
}

int sc_lease_take(sc_store *st, const char *name, const char *id, int64_t now, int64_t hold_ms, char *holder,
                  size_t cap) {
  if (holder && cap) holder[0] = '\0';
  if (!st || !name || !*name || !id || !*id || hold_ms <= 0) return SC_ERR_ARG;
  /* as sc_layer_claim, with an expiry: the holder renews it each round */
  static const char take[] =
      "INSERT INTO leases (name, replica, until) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (name) DO UPDATE SET replica = excluded.replica, until = excluded.until"
      " WHERE leases.replica = excluded.replica OR leases.until < ?4 OR NOT EXISTS ("
      "  SELECT 1 FROM replicas r WHERE r.id = leases.replica AND r.seen_at >= ?5)";
  static const char who[] = "SELECT replica FROM leases WHERE name = ?";
  sc_db_stmt *s = sc_store_stmt(st, take);
  if (!s || bind_text(s, 1, name) || bind_text(s, 2, id) || sc_db_bind_int64(s, 3, now + hold_ms) ||
      sc_db_bind_int64(s, 4, now) || sc_db_bind_int64(s, 5, now - SC_REPLICA_STALE_MS) || run(st, s))
    return db_fail(st);
  if (sc_db_changes(st->db) == 1) return 0;
  return held_by(st, who, name, holder, cap);
}

int sc_verdict_epoch(sc_store *st, int64_t *epoch) {
  if (!st || !epoch) return SC_ERR_ARG;
  static const char sql[] = "SELECT epoch FROM verdict_epoch WHERE id = 1";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s) return db_fail(st);
  int rc = sc_db_step(s);
  *epoch = rc == SC_DB_ROW ? sc_db_column_int64(s, 0) : 0;
  if (rc != SC_DB_ROW) db_fail(st);
  sc_db_reset(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

int sc_verdict_epoch_bump(sc_store *st) {
  if (!st) return SC_ERR_ARG;
  static const char sql[] = "UPDATE verdict_epoch SET epoch = epoch + 1 WHERE id = 1";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  return s ? run(st, s) : db_fail(st);
}
