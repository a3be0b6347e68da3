/* sc_db.c - the backend-neutral face of sc_db (sc_db.h): picks the backend
 * from the URL, checks arguments, keeps the error text and class, and
 * forwards every call to the backend's operations table (sc_db_int.h).
 * Owner: sc_db.  Thread: the connection's.  Errors: sc_db.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sc_db_int.h"

int sc_db_set_error(sc_db *db, sc_db_errclass_t cls, const char *sqlstate, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(db->err, sizeof(db->err), fmt, ap);
  va_end(ap);
  /* one line: libpq ends its messages with a newline, and adds DETAIL lines */
  size_t n = strlen(db->err);
  while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' ')) db->err[--n] = '\0';
  for (char *p = db->err; *p; p++)
    if (*p == '\n' || *p == '\t') *p = ' ';
  db->errclass = cls;
  snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", sqlstate ? sqlstate : "");
  return SC_ERR_DB;
}

void sc_db_clear_error(sc_db *db) {
  db->err[0] = '\0';
  db->sqlstate[0] = '\0';
  db->errclass = SC_DB_EOK;
}

sc_db_errclass_t sc_db_class_of_sqlstate(const char *st) {
  if (!st || !*st) return SC_DB_EOTHER;
  if (!strcmp(st, "23505")) return SC_DB_EUNIQUE;
  if (!strcmp(st, "40001") || !strcmp(st, "40P01")) return SC_DB_ERETRY;
  return SC_DB_EOTHER;
}

int sc_db_open(const char *url, const sc_db_opts *opts, sc_db **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!url || !*url) return sc_errf(err, errlen, "no database URL"), SC_ERR_ARG;
  sc_db_opts o = opts ? *opts : (sc_db_opts){0};
  if (sc_db_url_is_pg(url))
    return sc_db_pg_open(url, &o, out, err, errlen);
  if (!strncmp(url, "sqlite:", 7)) return sc_db_sqlite_open(url + 7, &o, out, err, errlen);
  if (strstr(url, "://")) {
    char red[SC_DB_URL_BYTES];
    sc_errf(err, errlen, "unknown database URL scheme: %s", sc_db_url_redact(url, red, sizeof(red)));
    return SC_ERR_ARG;
  }
  return sc_db_sqlite_open(url, &o, out, err, errlen);
}

void sc_db_close(sc_db *db) {
  if (db) db->ops->close(db);
}

int sc_db_url_is_pg(const char *url) {
  return url && (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13));
}

sc_db_dialect_t sc_db_dialect(const sc_db *db) { return db ? db->dialect : SC_DB_SQLITE; }
const char *sc_db_errmsg(const sc_db *db) { return db ? db->err : "no database"; }
sc_db_errclass_t sc_db_errclass(const sc_db *db) { return db ? db->errclass : SC_DB_EOTHER; }
const char *sc_db_sqlstate(const sc_db *db) { return db ? db->sqlstate : ""; }

int sc_db_exec(sc_db *db, const char *sql) {
  if (!db || !sql) return SC_ERR_ARG;
  sc_db_clear_error(db);
  return db->ops->exec(db, sql);
}

int sc_db_begin(sc_db *db) { return db ? sc_db_exec(db, db->ops->begin_sql) : SC_ERR_ARG; }
int sc_db_commit(sc_db *db) { return sc_db_exec(db, "COMMIT"); }

int sc_db_rollback(sc_db *db) {
  if (!db) return SC_ERR_ARG;
  /* none open (a failed COMMIT may have ended it): nothing to do, and the
   * backends differ here (SQLite fails, PostgreSQL warns) */
  if (!db->ops->in_transaction(db)) return 0;
  /* keep the error that made the caller roll back: a ROLLBACK that
   * succeeds would otherwise erase it */
  char keep[SC_DB_ERR_BYTES], state[sizeof(db->sqlstate)];
  sc_db_errclass_t cls = db->errclass;
  memcpy(keep, db->err, sizeof(keep));
  memcpy(state, db->sqlstate, sizeof(state));
  int rc = db->ops->exec(db, "ROLLBACK");
  if (!rc) {
    memcpy(db->err, keep, sizeof(keep));
    memcpy(db->sqlstate, state, sizeof(state));
    db->errclass = cls;
  }
  return rc;
}

int sc_db_busy_timeout(sc_db *db, int ms) {
  if (!db) return SC_ERR_ARG;
  sc_db_clear_error(db);
  return db->ops->busy_timeout(db, ms);
}

int sc_db_in_transaction(sc_db *db) { return db ? db->ops->in_transaction(db) : 0; }
int64_t sc_db_changes(sc_db *db) { return db ? db->ops->changes(db) : 0; }

int sc_db_prepare(sc_db *db, const char *sql, unsigned flags, sc_db_stmt **out) {
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!db || !sql) return SC_ERR_ARG;
  sc_db_clear_error(db);
  return db->ops->prepare(db, sql, flags, out);
}

int sc_db_bind_text(sc_db_stmt *s, int i, const char *v) { return s ? s->db->ops->bind(s, i, v) : SC_ERR_ARG; }
int sc_db_bind_textn(sc_db_stmt *s, int i, const char *v, size_t len) {
  if (!s) return SC_ERR_ARG;
  if (!v) return s->db->ops->bind(s, i, NULL);
  if (len > SC_DB_TEXT_MAX_BYTES) return SC_ERR_LIMIT;
  return s->db->ops->bind_textn(s, i, v, len);
}
int sc_db_bind_null(sc_db_stmt *s, int i) { return s ? s->db->ops->bind(s, i, NULL) : SC_ERR_ARG; }
int sc_db_bind_int64(sc_db_stmt *s, int i, int64_t v) { return s ? s->db->ops->bind_int64(s, i, v) : SC_ERR_ARG; }
int sc_db_bind_double(sc_db_stmt *s, int i, double v) { return s ? s->db->ops->bind_double(s, i, v) : SC_ERR_ARG; }

int sc_db_step(sc_db_stmt *s) {
  if (!s) return SC_ERR_ARG;
  if (s->bad_column) {
    /* the error text was set by the failed column read: keep it */
    s->bad_column = 0;
    s->db->ops->reset(s);
    return SC_ERR_DB;
  }
  sc_db_clear_error(s->db);
  return s->db->ops->step(s);
}

void sc_db_reset(sc_db_stmt *s) {
  if (!s) return;
  s->bad_column = 0;
  s->db->ops->reset(s);
}

void sc_db_finalize(sc_db_stmt *s) {
  if (s) s->db->ops->finalize(s);
}

int sc_db_column_count(sc_db_stmt *s) { return s ? s->db->ops->column_count(s) : 0; }
const char *sc_db_column_text(sc_db_stmt *s, int i) { return s ? s->db->ops->column_text(s, i) : NULL; }
int sc_db_column_is_null(sc_db_stmt *s, int i) {
  if (s && s->db->ops->column_is_null) return s->db->ops->column_is_null(s, i);
  return sc_db_column_text(s, i) == NULL;
}

int64_t sc_db_text_int64(sc_db_stmt *s, int i, const char *t) {
  int64_t v = 0;
  if (t && sc_db_parse_int64(t, &v)) {
    s->bad_column = 1;
    sc_db_set_error(s->db, SC_DB_EOTHER, "22P02", "column %d is not an integer: \"%.40s\"", i, t);
    return 0;
  }
  return v;
}

double sc_db_text_double(sc_db_stmt *s, int i, const char *t) {
  double v = 0;
  if (t && sc_db_parse_double(t, &v)) {
    s->bad_column = 1;
    sc_db_set_error(s->db, SC_DB_EOTHER, "22P02", "column %d is not a number: \"%.40s\"", i, t);
    return 0;
  }
  return v;
}

int64_t sc_db_column_int64(sc_db_stmt *s, int i) {
  if (!s) return 0;
  if (s->db->ops->column_int64) return s->db->ops->column_int64(s, i);
  return sc_db_text_int64(s, i, s->db->ops->column_text(s, i));
}

double sc_db_column_double(sc_db_stmt *s, int i) {
  if (!s) return 0;
  if (s->db->ops->column_double) return s->db->ops->column_double(s, i);
  return sc_db_text_double(s, i, s->db->ops->column_text(s, i));
}
