/* sc_db_sqlite.c - sc_db over SQLite: a thin mapping of sc_db_ops onto
 * sqlite3_* (the embedded default).  Placeholders are SQLite's own, so the
 * SQL goes through untouched.  The connection is opened read-write,
 * created if missing, with the busy timeout; journal mode, foreign keys
 * and other PRAGMAs stay the store's business (dialect-specific SQL).
 * Owner: sc_db.  Thread: the connection's.  Errors: sc_db.h (busy/locked is
 * SC_DB_ERETRY "40001", a UNIQUE or PRIMARY KEY constraint SC_DB_EUNIQUE
 * "23505"). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "sc_db_int.h"

typedef struct {
  sc_db base;
  sqlite3 *h;
} lite_db;

typedef struct {
  sc_db_stmt base;
  sqlite3_stmt *s;
} lite_stmt;

#define LDB(d) ((lite_db *)(d))
#define LST(s) ((lite_stmt *)(s))

/* Records the connection's error (rc: the failing call's result). */
static int lite_err(sc_db *db, int rc) {
  sqlite3 *h = LDB(db)->h;
  int ext = sqlite3_extended_errcode(h);
  if ((rc & 0xff) == SQLITE_NOMEM) {
    sc_db_set_error(db, SC_DB_EOTHER, "53200", "out of memory");
    return SC_ERR_NOMEM;
  }
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
    return sc_db_set_error(db, SC_DB_EUNIQUE, "23505", "%s", sqlite3_errmsg(h));
  if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
    return sc_db_set_error(db, SC_DB_ERETRY, "40001", "%s", sqlite3_errmsg(h));
  return sc_db_set_error(db, SC_DB_EOTHER, "", "%s", sqlite3_errmsg(h));
}

static void lite_close(sc_db *db) {
  sqlite3_close_v2(LDB(db)->h);
  free(db);
}

static int lite_exec(sc_db *db, const char *sql) {
  int rc = sqlite3_exec(LDB(db)->h, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : lite_err(db, rc);
}

static int lite_busy(sc_db *db, int ms) {
  int rc = sqlite3_busy_timeout(LDB(db)->h, ms > 0 ? ms : 0);
  return rc == SQLITE_OK ? 0 : lite_err(db, rc);
}

static int lite_in_tx(sc_db *db) { return !sqlite3_get_autocommit(LDB(db)->h); }
static int64_t lite_changes(sc_db *db) { return sqlite3_changes64(LDB(db)->h); }

static int lite_prepare(sc_db *db, const char *sql, unsigned flags, sc_db_stmt **out) {
  lite_stmt *st = calloc(1, sizeof(*st));
  if (!st) return SC_ERR_NOMEM;
  st->base.db = db;
  int rc = sqlite3_prepare_v3(LDB(db)->h, sql, -1, (flags & SC_DB_PREP_PERSISTENT) ? SQLITE_PREPARE_PERSISTENT : 0,
                              &st->s, NULL);
  if (rc != SQLITE_OK || !st->s) {
    rc = rc != SQLITE_OK ? lite_err(db, rc) : sc_db_set_error(db, SC_DB_EOTHER, "", "no statement in the SQL text");
    sqlite3_finalize(st->s);
    free(st);
    return rc;
  }
  *out = &st->base;
  return 0;
}

/* an index outside the statement's placeholders is the caller's mistake
 * (SC_ERR_ARG, as on PostgreSQL), not a database failure */
static int lite_bind_rc(sc_db_stmt *s, int rc) {
  if (rc == SQLITE_RANGE) {
    sc_db_set_error(s->db, SC_DB_EOTHER, "", "bind index out of range");
    return SC_ERR_ARG;
  }
  return rc == SQLITE_OK ? 0 : lite_err(s->db, rc);
}

static int lite_bind(sc_db_stmt *s, int i, const char *v) {
  sqlite3_stmt *q = LST(s)->s;
  return lite_bind_rc(s, v ? sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(q, i));
}
static int lite_bind_textn(sc_db_stmt *s, int i, const char *v, size_t len) {
  return lite_bind_rc(s, sqlite3_bind_text(LST(s)->s, i, v, (int)len, SQLITE_TRANSIENT));
}
static int lite_bind_int64(sc_db_stmt *s, int i, int64_t v) {
  return lite_bind_rc(s, sqlite3_bind_int64(LST(s)->s, i, v));
}
static int lite_bind_double(sc_db_stmt *s, int i, double v) {
  return lite_bind_rc(s, sqlite3_bind_double(LST(s)->s, i, v));
}

static int lite_step(sc_db_stmt *s) {
  int rc = sqlite3_step(LST(s)->s);
  if (rc == SQLITE_ROW) return SC_DB_ROW;
  if (rc == SQLITE_DONE) return SC_DB_DONE;
  return lite_err(s->db, rc);
}

static void lite_reset(sc_db_stmt *s) {
  sqlite3_reset(LST(s)->s);
  sqlite3_clear_bindings(LST(s)->s);
}

static void lite_finalize(sc_db_stmt *s) {
  sqlite3_finalize(LST(s)->s);
  free(s);
}

static int lite_column_count(sc_db_stmt *s) { return sqlite3_column_count(LST(s)->s); }
static const char *lite_column_text(sc_db_stmt *s, int i) {
  return (const char *)sqlite3_column_text(LST(s)->s, i);
}
/* by type, without converting the value to text (which would cost a
 * conversion per read of an INTEGER column) */
static int lite_column_is_null(sc_db_stmt *s, int i) { return sqlite3_column_type(LST(s)->s, i) == SQLITE_NULL; }
/* A TEXT value is parsed as strictly as PostgreSQL's (sc_db.c): "abc" read
 * as a number fails the next step on both backends, instead of reading 0
 * here only.  Numbers stored as numbers are SQLite's own. */
static int64_t lite_column_int64(sc_db_stmt *s, int i) {
  sqlite3_stmt *q = LST(s)->s;
  if (sqlite3_column_type(q, i) != SQLITE_TEXT) return sqlite3_column_int64(q, i);
  return sc_db_text_int64(s, i, (const char *)sqlite3_column_text(q, i));
}
static double lite_column_double(sc_db_stmt *s, int i) {
  sqlite3_stmt *q = LST(s)->s;
  if (sqlite3_column_type(q, i) != SQLITE_TEXT) return sqlite3_column_double(q, i);
  return sc_db_text_double(s, i, (const char *)sqlite3_column_text(q, i));
}

static const struct sc_db_ops lite_ops = {
    .close = lite_close,
    .exec = lite_exec,
    .in_transaction = lite_in_tx,
    .busy_timeout = lite_busy,
    .changes = lite_changes,
    .prepare = lite_prepare,
    .bind = lite_bind,
    .bind_textn = lite_bind_textn,
    .bind_int64 = lite_bind_int64,
    .bind_double = lite_bind_double,
    .step = lite_step,
    .reset = lite_reset,
    .finalize = lite_finalize,
    .column_count = lite_column_count,
    .column_text = lite_column_text,
    .column_is_null = lite_column_is_null,
    .column_int64 = lite_column_int64,
    .column_double = lite_column_double,
    /* take the write lock now (waiting busy_ms): the transaction cannot
     * fail half-way for a concurrent writer */
    .begin_sql = "BEGIN IMMEDIATE",
};

int sc_db_sqlite_open(const char *path, const sc_db_opts *o, sc_db **out, char *err, size_t errlen) {
  lite_db *db = calloc(1, sizeof(*db));
  if (!db) return SC_ERR_NOMEM;
  db->base.ops = &lite_ops;
  db->base.dialect = SC_DB_SQLITE;
  int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    sc_errf(err, errlen, "open %s: %s", path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
    sqlite3_close_v2(db->h);
    free(db);
    return rc == SQLITE_NOMEM ? SC_ERR_NOMEM : SC_ERR_DB;
  }
  int busy = o->busy_ms ? o->busy_ms : SC_DB_SQLITE_BUSY_MS;
  sqlite3_busy_timeout(db->h, busy > 0 ? busy : 0);
  sqlite3_extended_result_codes(db->h, 1);
  *out = &db->base;
  return 0;
}
