/* sc_decisions.c - decisions log, table decisions (migration 6):
 * appended by the pull gate, purged by age, folded per image for replay.
 * Owner: store.  Thread: the handle's.  Errors: SC_ERR_DB, SC_ERR_ARG. */
#include "sc_decisions.h"

#include "sc_store_int.h"

static const char SQL_INS[] =
    "INSERT INTO decisions(at, client, repository, reference, digest, method, verdict, rule, user_agent)"
    " VALUES (?,?,?,?,?,?,?,?,?)";

int sc_decisions_append(sc_store *st, const sc_decision_row *batch, size_t n) {
  if (!st || (n && !batch)) return SC_ERR_ARG;
  int rv = sc_store_write_begin(st, 0);
  if (rv) return rv;
  sc_db_stmt *ins = sc_store_stmt(st, SQL_INS);
  /* A refused row ends a PostgreSQL transaction (SQLite undoes that
   * statement only): there each row gets a savepoint to go back to. */
  const int pg = sc_db_dialect(st->db) == SC_DB_PG;
  for (size_t i = 0; ins && i < n; i++) {
    if (pg && sc_store_exec(st, "SAVEPOINT decision")) break;
    const sc_decision_row *d = &batch[i];
    sc_db_bind_int64(ins, 1, d->at);
    sc_store_bind_text(ins, 2, d->client);
    sc_store_bind_text(ins, 3, d->repository);
    sc_store_bind_text(ins, 4, d->reference);
    sc_store_bind_text(ins, 5, d->digest);
    sc_store_bind_text(ins, 6, d->method);
    sc_store_bind_text(ins, 7, d->verdict);
    sc_store_bind_text(ins, 8, d->rule);
    sc_store_bind_text(ins, 9, d->user_agent);
    int refused = sc_store_step_done(ins); /* a refused row is skipped, see the header */
    if (pg && refused && sc_store_exec(st, "ROLLBACK TO decision")) break;
    if (pg && sc_store_exec(st, "RELEASE decision")) break;
  }
  return sc_store_write_end(st, 1);
}

int sc_decisions_purge_before(sc_store *st, int64_t t) {
  if (!st) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, "DELETE FROM decisions WHERE at < ?", &s)) return SC_ERR_DB;
  int rv = sc_db_bind_int64(s, 1, t) || sc_store_step_done(s) ? SC_ERR_DB : 0;
  sc_db_finalize(s);
  return rv;
}

/* The bare verdict, rule and at columns come from the row holding max(id)
 * (SQLite's documented rule for a query with one min/max aggregate): the
 * newest decision, as ids grow with insertion. */
static const char SQL_IMAGES_SINCE[] =
    "SELECT coalesce(repository, ''), coalesce(digest, ''), verdict, rule, at, max(id), count(*)"
    " FROM decisions WHERE at >= ?1 GROUP BY coalesce(repository, ''), coalesce(digest, '')"
    " ORDER BY 1, 2";
/* SQLITE-ONLY above: PostgreSQL has no bare columns beside an aggregate,
 * so its text picks the newest row per image with a window, and orders by
 * bytes as SQLite's BINARY collation does. */
static const char SQL_IMAGES_SINCE_PG[] =
    "SELECT r, d, verdict, rule, at, id, n FROM ("
    " SELECT coalesce(repository, '') AS r, coalesce(digest, '') AS d, verdict, rule, at, id,"
    " count(*) OVER w AS n, row_number() OVER (w ORDER BY id DESC) AS k"
    " FROM decisions WHERE at >= ?1"
    " WINDOW w AS (PARTITION BY coalesce(repository, ''), coalesce(digest, ''))) AS x"
    " WHERE k = 1 ORDER BY r COLLATE \"C\", d COLLATE \"C\"";

int sc_decisions_images_since(sc_store *st, int64_t since, int (*cb)(void *arg, const sc_decision_image *d),
                              void *arg) {
  sc_db_stmt *s;
  int rv = 0, rc;
  if (!st || !cb) return SC_ERR_ARG;
  /* its own statement: the callback may use the store (sc_store_int.h) */
  if (sc_store_prep(st, sc_db_dialect(st->db) == SC_DB_PG ? SQL_IMAGES_SINCE_PG : SQL_IMAGES_SINCE, &s))
    return SC_ERR_DB;
  if (sc_db_bind_int64(s, 1, since)) {
    sc_db_finalize(s);
    return SC_ERR_DB;
  }
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    sc_decision_image d = {sc_db_column_text(s, 0), sc_db_column_text(s, 1),
                           sc_db_column_text(s, 2), sc_db_column_text(s, 3),
                           sc_db_column_int64(s, 6), sc_db_column_int64(s, 4)};
    if (!d.repository || !d.digest || !d.last_verdict) {
      rv = SC_ERR_NOMEM; /* sc_db_column_text of a non-NULL value fails only so */
      break;
    }
    if ((rv = cb(arg, &d)) != 0) break;
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}
