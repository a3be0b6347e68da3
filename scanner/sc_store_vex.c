/* sc_store_vex.c - VEX referrer documents in SQLite (table vex_documents
 * and its generation counter vex_generation, migration 11).  What the rows
 * mean is in sc_store_vex.h; fetching them is proxy/px_vexref.c, applying
 * them sc_judge.c.
 * Owner: store.  Thread: the handle's.  Errors: see sc_store_vex.h. */
#include "sc_store_vex.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sc_image.h"
#define SC_STORE_SHORT_NAMES /* prep, bind_text, step_done (sc_store_int.h) */
#include "sc_store_int.h"

int sc_store_vex_put(sc_store *st, const char *repo, const char *subject, const char *digest, const char *blob,
                     const char *doc, const char *error) {
  char cut[SC_VEXREF_ERR_MAX_BYTES];
  if (!st || !repo || !*repo || !sc_digest_valid(subject, 1) || !sc_digest_valid(digest, 1) || !doc == !error)
    return SC_ERR_ARG;
  if (error) snprintf(cut, sizeof(cut), "%s", error);
  static const char sql[] =
      "INSERT INTO vex_documents (repo, subject, digest, blob, doc, error, fetched_at)"
      /* the time from C, not strftime('%s','now'): both dialects */
      " VALUES (?,?,?,?,?,?,?)"
      " ON CONFLICT (repo, subject, digest) DO UPDATE SET blob = excluded.blob, doc = excluded.doc,"
      " error = excluded.error, fetched_at = excluded.fetched_at";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s) return SC_ERR_DB;
  if (bind_text(s, 1, repo) || bind_text(s, 2, subject) || bind_text(s, 3, digest) || bind_text(s, 4, blob) ||
      bind_text(s, 5, doc) || bind_text(s, 6, error ? cut : NULL) || sc_db_bind_int64(s, 7, (int64_t)time(NULL))) {
    sc_db_reset(s);
    return SC_ERR_DB;
  }
  return step_done(s);
}

int sc_store_vex_forget(sc_store *st, const char *repo, const char *digest) {
  if (!st || !repo || !digest) return SC_ERR_ARG;
  static const char sql[] = "DELETE FROM vex_documents WHERE repo = ? AND digest = ?";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s) return SC_ERR_DB;
  if (bind_text(s, 1, repo) || bind_text(s, 2, digest)) {
    sc_db_reset(s);
    return SC_ERR_DB;
  }
  return step_done(s);
}

int sc_store_vex_each(sc_store *st, const char *repo, const char *subject, int (*cb)(void *arg, const sc_vexref *r),
                      void *arg) {
  static const char sql[] = "SELECT digest, blob, doc, error, fetched_at FROM vex_documents"
                            " WHERE repo = ?1 AND subject = ?2 ORDER BY fetched_at, digest LIMIT 100";
  _Static_assert(SC_VEXREF_MAX_DOCS == 100, "the LIMIT above");
  if (!st || !repo || !subject || !cb) return SC_ERR_ARG;
  /* its own statement: the callback runs while it steps (sc_store_int.h) */
  sc_db_stmt *s;
  if (prep(st, sql, &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, repo) || bind_text(s, 2, subject) ? SC_ERR_DB : 0;
  while (rv == 0) {
    int rc = sc_db_step(s);
    if (rc == SC_DB_DONE) break;
    if (rc != SC_DB_ROW) {
      rv = SC_ERR_DB;
      break;
    }
    sc_vexref r = {
        .digest = sc_db_column_text(s, 0),
        .blob = sc_db_column_text(s, 1),
        .doc = sc_db_column_text(s, 2),
        .error = sc_db_column_text(s, 3),
        .fetched_at = sc_db_column_int64(s, 4),
    };
    if (!r.digest) {
      rv = SC_ERR_NOMEM; /* the only way sc_db_column_text fails on a NOT NULL column */
      break;
    }
    if (!r.doc && !r.error) r.error = "no document stored"; /* a row written by hand: never applied silently */
    rv = cb(arg, &r);
  }
  if (rv == SC_ERR_DB) snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
  sc_db_finalize(s);
  return rv;
}

int sc_store_vex_generation(sc_store *st, int64_t *gen) {
  if (!st || !gen) return SC_ERR_ARG;
  static const char sql[] = "SELECT gen FROM vex_generation WHERE id = 1";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s) return SC_ERR_DB;
  int rc = sc_db_step(s);
  *gen = rc == SC_DB_ROW ? sc_db_column_int64(s, 0) : 0;
  /* read on to the end of the one-row result (no round trip), so that the
   * reset has nothing to discard: on PostgreSQL a reset mid-result may
   * cancel the query, a new connection to the server on every verdict */
  if (rc == SC_DB_ROW && sc_db_step(s) != SC_DB_DONE) rc = SC_ERR_DB;
  if (rc != SC_DB_ROW) snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
  sc_db_reset(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}
