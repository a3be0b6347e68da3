/* sc_db_int.h - what the two sc_db backends share: the operations table
 * each implements (sc_db_sqlite.c, sc_db_pg.c), the common head of their
 * connection and statement structs, and the pure text helpers (sc_db_text.c:
 * placeholder translation, URL redaction, strict number parsing).
 * Included by sc_db*.c and their unit tests only.
 * Owner: the sc_db files.  Thread: the connection's.  Errors: sc_db.h. */
#ifndef CUSTOMS_SC_DB_INT_H
#define CUSTOMS_SC_DB_INT_H
#include "sc_db.h"

struct sc_db_ops {
  void (*close)(sc_db *db);
  int (*exec)(sc_db *db, const char *sql);
  int (*in_transaction)(sc_db *db);
  int (*busy_timeout)(sc_db *db, int ms);
  int64_t (*changes)(sc_db *db);
  int (*prepare)(sc_db *db, const char *sql, unsigned flags, sc_db_stmt **out);
  int (*bind)(sc_db_stmt *s, int i, const char *text); /* PG: text form; NULL = SQL NULL */
  int (*bind_textn)(sc_db_stmt *s, int i, const char *text, size_t len); /* text not NULL */
  int (*bind_int64)(sc_db_stmt *s, int i, int64_t v);
  int (*bind_double)(sc_db_stmt *s, int i, double v);
  int (*step)(sc_db_stmt *s);
  void (*reset)(sc_db_stmt *s);
  void (*finalize)(sc_db_stmt *s);
  int (*column_count)(sc_db_stmt *s);
  const char *(*column_text)(sc_db_stmt *s, int i); /* NULL for SQL NULL or no row */
  int (*column_is_null)(sc_db_stmt *s, int i);      /* NULL: column_text == NULL */
  int64_t (*column_int64)(sc_db_stmt *s, int i);    /* NULL when it parses text */
  double (*column_double)(sc_db_stmt *s, int i);    /* NULL when it parses text */
  const char *begin_sql;
};

struct sc_db {
  const struct sc_db_ops *ops;
  sc_db_dialect_t dialect;
  sc_db_errclass_t errclass;
  char sqlstate[6];
  char err[SC_DB_ERR_BYTES];
};

struct sc_db_stmt {
  sc_db *db;
  int bad_column; /* a column read failed to convert: the next step fails */
};

/* Records an error on db (message cut to SC_DB_ERR_BYTES); returns SC_ERR_DB. */
int sc_db_set_error(sc_db *db, sc_db_errclass_t cls, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sc_db_clear_error(sc_db *db);
/* The class of a SQLSTATE (NULL or "" is SC_DB_EOTHER). */
sc_db_errclass_t sc_db_class_of_sqlstate(const char *sqlstate);

/* Backends, called by sc_db_open with the URL's path or the libpq URL. */
int sc_db_sqlite_open(const char *path, const sc_db_opts *o, sc_db **out, char *err, size_t errlen);
int sc_db_pg_open(const char *url, const sc_db_opts *o, sc_db **out, char *err, size_t errlen);

/* sc_db_text.c.  Translates SQLite placeholders (`?`, `?NNN`) in sql to
 * PostgreSQL's `$n` (see sc_db.h); *out is malloc'd, *nparams the highest
 * number used.  SC_ERR_NOMEM, SC_ERR_ARG (more than SC_DB_PARAMS_MAX, or
 * `?0`). */
int sc_db_pg_translate(const char *sql, char **out, int *nparams);
/* Strict decimal int64 ("-12"; no space, sign only '-' or '+', no
 * overflow), or PostgreSQL's booleans "t"/"f" as 1/0; 0 or SC_ERR_FORMAT. */
int sc_db_parse_int64(const char *s, int64_t *out);
/* Strict double (all of s; "NaN", "Infinity" too); 0 or SC_ERR_FORMAT. */
int sc_db_parse_double(const char *s, double *out);
/* Column i's text t (NULL reads 0) as an int64 / a double, parsed as
 * strictly as above (sc_db.c): a value that does not parse reads 0, sets
 * s->bad_column and records why on s's connection, so the next step fails
 * on either backend instead of a wrong number passing silently. */
int64_t sc_db_text_int64(sc_db_stmt *s, int i, const char *t);
double sc_db_text_double(sc_db_stmt *s, int i, const char *t);
/* The password of a URL, percent-decoded, into out ("" when none). */
void sc_db_url_password(const char *url, char *out, size_t cap);
/* Replaces every occurrence of secret (when non-empty) in msg (cap bytes)
 * by "***", in place, cutting the result to cap. */
void sc_db_scrub(char *msg, size_t cap, const char *secret);
#endif
