/* sc_db.h - a backend-neutral SQL statement API: one connection to SQLite
 * (embedded) or PostgreSQL (libpq, for replicas), the same calls for both.
 *
 * The store modules (sc_store_int.h) talk through this layer, so that one
 * set of modules serves either database.  A module that needs a dialect-specific text picks it
 * with sc_db_dialect() (e.g. `INSERT OR IGNORE` vs `ON CONFLICT DO NOTHING`).
 *
 * Opening: sc_db_open(url) with `sqlite:PATH` or a plain path (":memory:"
 * works) for SQLite, `postgres://...` or `postgresql://...` handed to libpq
 * (connect_timeout, application_name=customs, statement_timeout and
 * client_encoding=UTF8 are set unless the URL sets them).  Any other
 * `scheme://` is SC_ERR_ARG.
 *
 * SQL: `?` and `?NNN` placeholders as in SQLite (a plain `?` takes the
 * highest number so far plus one; `?1` used twice is one value).  For
 * PostgreSQL they become `$n` outside quoted strings, quoted identifiers,
 * dollar-quoted strings and comments; `??` is a literal `?` (PostgreSQL's
 * jsonb operators), so it only belongs in a PG-dialect text.  Every value
 * is sent as text and typed by the server from its context: an int64 bound
 * to a boolean column is "0"/"1", which PostgreSQL accepts; a value whose
 * type the server cannot infer (`SELECT ?`) is written CAST(? AS TEXT).  No
 * last-insert-rowid: write `INSERT ... RETURNING id` (both dialects).
 *
 * Statements: prepared once (PostgreSQL: PQprepare under a generated name,
 * per connection), then bind (1-based), step, read columns (0-based), reset,
 * and step again.  sc_db_step returns SC_DB_ROW, SC_DB_DONE or a negative
 * SC_ERR_*.  PostgreSQL rows are streamed one at a time (single-row mode):
 * a SELECT of any size costs one row of client memory.  Only one statement
 * per connection can have rows on the wire: when another statement (or
 * exec, prepare, begin ...) needs the connection while one is streaming,
 * the rest of the streaming one's rows are read into memory first and it
 * carries on from there ("spilled").  Nested loops thus work on both
 * backends, but an outer loop over a huge result with inner statements
 * costs the outer result's memory on PostgreSQL (its text plus about 16
 * bytes a row and 8 a column): iterate the big one innermost, or page it
 * (ORDER BY key, LIMIT n, WHERE key > last).
 * Resetting or finalizing a statement mid-iteration discards its remaining
 * rows (PostgreSQL: an autocommit SELECT is cancelled, anything else is
 * drained row by row so that a transaction it runs in is not aborted), and
 * the connection is ready for the next statement.  A step after SC_DB_DONE
 * runs the statement again with the same bindings (SQLite's auto-reset).
 *
 * Lifetimes: a column's text is valid until the next step, reset or
 * finalize of its statement (SQLite: also until a column_* call converts
 * the same column to another type).  Bound text is copied at bind time.
 *
 * Transactions: sc_db_begin is SQLite's `BEGIN IMMEDIATE` (take the write
 * lock now, waiting busy_ms) and PostgreSQL's `BEGIN ISOLATION LEVEL
 * SERIALIZABLE`: the store was written for SQLite's one writer at a time,
 * and serializable gives that meaning on a shared server.  Either way a
 * conflict is an error of class SC_DB_ERETRY (SQLite busy/locked, SQLSTATE
 * 40001 serialization_failure, 40P01 deadlock_detected, 55P03
 * lock_not_available: the busy timeout ran out), at any statement
 * or at commit: the caller rolls back and runs the whole transaction again.
 * A uniqueness violation (SQLite UNIQUE/PRIMARY KEY constraint, SQLSTATE
 * 23505) is class SC_DB_EUNIQUE: the store treats it as a conflict.
 * A failed statement ends a PostgreSQL transaction (only ROLLBACK works
 * after it, and sc_db_commit then fails with SQLSTATE 25P02 instead of
 * rolling back quietly), while SQLite undoes that statement only: a store
 * function rolls back on any failure inside a transaction (as
 * sc_store_rollback_rv does), and an "insert, else update" is written
 * `INSERT ... ON CONFLICT` (both dialects), not as a caught violation.
 * sc_db_rollback outside a transaction does nothing and returns 0.
 *
 * Lost connections (PostgreSQL restarted, failed over, or the session
 * terminated): nothing needs a restart.  Before each command the backend
 * reads, without waiting, what the server sent while the connection sat
 * idle, so a connection already closed is known before anything is sent.
 *   - Outside a transaction, a call that finds the connection closed
 *     reconnects first (same conninfo, so the same connect_timeout,
 *     application_name, statement_timeout, client_encoding; and the
 *     lock_timeout sc_db_busy_timeout set), then runs its command: it
 *     succeeds as if nothing happened.  Statements prepared before keep
 *     working: their next step prepares them again on the new session.
 *   - A command whose send libpq refused on a connection that turned out
 *     closed (nothing reached the server) is sent again once after a
 *     reconnect, outside a transaction only.  A command that was sent and
 *     then lost its connection is never sent again (it may have run): it
 *     fails with SQLSTATE 08006, "connection lost, reconnected (outcome
 *     unknown)" (or "..., server unreachable ..."), class SC_DB_EOTHER
 *     (SC_DB_ERETRY for sc_db_begin, which has nothing to lose), and that
 *     call makes the reconnect attempt so the next one finds it done.
 *   - Inside a transaction, the transaction is gone with the session: the
 *     call fails with class SC_DB_ERETRY (SQLSTATE 08006; 08007 when it
 *     was the COMMIT, whose outcome is then unknown), sc_db_in_transaction
 *     stays nonzero, every call but sc_db_rollback fails the same way,
 *     and sc_db_rollback succeeds locally; the caller then runs the
 *     transaction again, which reconnects.  No reconnect happens inside a
 *     transaction, so statements never silently run outside the one their
 *     caller opened.
 *   - Reconnecting is bounded: at most one attempt per call, none sooner
 *     than SC_DB_PG_RECONNECT_MS after the end of a failed one, each
 *     blocking at most connect_timeout (a hung server).  Meanwhile calls fail at once with SQLSTATE 08001,
 *     "server unreachable ...", class SC_DB_EOTHER.
 * The password never appears in these messages.  SQLite has no connection
 * to lose.
 *
 * Errors: every int function returns 0 (or SC_DB_ROW/SC_DB_DONE for step),
 * SC_ERR_DB (the message in sc_db_errmsg, its class in sc_db_errclass and
 * SQLSTATE in sc_db_sqlstate), SC_ERR_NOMEM, SC_ERR_ARG (NULL, index out of
 * range, unknown URL scheme).  A column read that cannot be converted
 * (PostgreSQL text "abc" or "1.5" read with sc_db_column_int64) gives 0 and
 * makes the statement's next step fail with SC_ERR_DB: nothing is silently
 * misread.  Messages are bounded (SC_DB_ERR_BYTES) and never contain the
 * password of the URL (URLs in them are redacted: sc_db_url_redact).
 *
 * Ownership: sc_db_open hands out the connection (sc_db_close), prepare a
 * statement (sc_db_finalize, before closing its connection).  Thread: a
 * connection and its statements are used by one thread at a time; open one
 * per thread (the store's rule).
 *
 * Mapping from sc_store_int.h (the conversion is mechanical):
 *   sqlite3 *db / sqlite3_stmt *      -> sc_db * / sc_db_stmt *
 *   sqlite3_prepare_v2(db, sql, ...)  -> sc_db_prepare(db, sql, 0, &s)
 *   sqlite3_prepare_v3(.., PERSISTENT)-> sc_db_prepare(db, sql, SC_DB_PREP_PERSISTENT, &s)
 *   sc_store_stmt cache               -> unchanged (entries hold sc_db_stmt *, keyed by
 *                                        the SQL text's address; sqlite3_reset -> sc_db_reset)
 *   sqlite3_bind_text(.., TRANSIENT), sc_store_bind_text -> sc_db_bind_text (NULL = SQL NULL)
 *   sqlite3_bind_text(s, i, v, len, ..) -> sc_db_bind_textn (v need not end in a NUL)
 *   sqlite3_bind_int/int64/double/null -> sc_db_bind_int64/int64/double/null
 *   sqlite3_step == SQLITE_ROW / DONE -> sc_db_step == SC_DB_ROW / SC_DB_DONE (< 0: error)
 *   sc_store_step_done(s)             -> rc = sc_db_step(s); sc_db_reset(s); rc == SC_DB_DONE ? 0 : rc
 *   sqlite3_reset + clear_bindings    -> sc_db_reset (always clears: rebind every value)
 *   sqlite3_finalize                  -> sc_db_finalize
 *   sqlite3_column_text/int/int64/double -> sc_db_column_text/int64/int64/double
 *   sqlite3_column_type == SQLITE_NULL -> sc_db_column_is_null;  column_count -> sc_db_column_count
 *   sqlite3_busy_timeout              -> sc_db_busy_timeout (PostgreSQL: lock_timeout)
 *   col_dup / col_copy                -> the same bodies over sc_db_column_text
 *   sqlite3_exec(db, sql, 0, 0, 0)    -> sc_db_exec (several statements, no rows, no binds)
 *   "BEGIN IMMEDIATE"/"COMMIT"/"ROLLBACK" -> sc_db_begin/sc_db_commit/sc_db_rollback
 *   sqlite3_get_autocommit == 0       -> sc_db_in_transaction
 *   sqlite3_changes                   -> sc_db_changes
 *   sqlite3_errmsg / errcode          -> sc_db_errmsg / sc_db_errclass (+ sc_db_sqlstate)
 *   PRAGMAs, WAL, json_each, WITHOUT ROWID, INSERT OR ... -> only when
 *                                        sc_db_dialect(db) == SC_DB_SQLITE, a PG text otherwise */
#ifndef CUSTOMS_SC_DB_H
#define CUSTOMS_SC_DB_H
#include <stddef.h>
#include <stdint.h>

#include "sc_err.h"

#define SC_DB_ERR_BYTES 256                 /* kept error text, cut beyond */
#define SC_DB_URL_BYTES 1024                /* a redacted URL in a message */
#define SC_DB_PG_CONNECT_TIMEOUT_S 5        /* libpq connect_timeout default */
#define SC_DB_PG_STATEMENT_TIMEOUT_MS 60000 /* statement_timeout default (0: none) */
#define SC_DB_PG_RECONNECT_MS 1000          /* least time from a failed reconnect attempt's end to the next */
#define SC_DB_SQLITE_BUSY_MS 10000          /* SQLite busy timeout default */
#define SC_DB_PARAMS_MAX 32766              /* placeholders of one statement */
#define SC_DB_TEXT_MAX_BYTES 0x7fffffffu    /* one bound text (SQLite's int length) */
#define SC_DB_APPLICATION_NAME "customs"    /* pg_stat_activity.application_name */
/* The advisory lock key every PostgreSQL write transaction (sc_db_begin)
 * holds: "customs" in ASCII, so pg_locks shows whose it is. */
#define SC_DB_PG_WRITER_LOCK_KEY "27995161429503347"

#define SC_DB_ROW 1  /* sc_db_step: a row is ready */
#define SC_DB_DONE 0 /* sc_db_step: no more rows (the statement ran to its end) */

#define SC_DB_PREP_PERSISTENT 1u /* kept for the connection's life (statement caches) */

typedef struct sc_db sc_db;
typedef struct sc_db_stmt sc_db_stmt;

typedef enum { SC_DB_SQLITE = 1, SC_DB_PG = 2 } sc_db_dialect_t;

/* What kind of failure the last error was, so the store can retry it or
 * call it a conflict without parsing messages. */
typedef enum {
  SC_DB_EOK = 0,  /* no error */
  SC_DB_EUNIQUE,  /* uniqueness violation (23505): a conflict */
  SC_DB_ERETRY,   /* serialization failure (40001), deadlock (40P01), lock timeout (55P03), SQLite busy: run again */
  SC_DB_EOTHER,   /* anything else */
} sc_db_errclass_t;

typedef struct {
  int connect_timeout_s;    /* PG; 0: SC_DB_PG_CONNECT_TIMEOUT_S */
  int statement_timeout_ms; /* PG; 0: SC_DB_PG_STATEMENT_TIMEOUT_MS, < 0: none */
  int busy_ms;              /* SQLite; 0: SC_DB_SQLITE_BUSY_MS, < 0: none */
} sc_db_opts;

/* Opens url (see above; opts may be NULL for the defaults).  On error *out
 * is NULL and err (errlen bytes, may be NULL) says why, password redacted. */
int sc_db_open(const char *url, const sc_db_opts *opts, sc_db **out, char *err, size_t errlen);
void sc_db_close(sc_db *db);
/* Nonzero when url names a PostgreSQL database (postgres:// or
 * postgresql://); anything else is a SQLite file. */
int sc_db_url_is_pg(const char *url);
sc_db_dialect_t sc_db_dialect(const sc_db *db);

/* The last error of this connection ("" when none); valid until the next
 * call on the connection.  Class and SQLSTATE (5 chars, "" when unknown;
 * SQLite errors of class EUNIQUE/ERETRY report 23505/40001). */
const char *sc_db_errmsg(const sc_db *db);
sc_db_errclass_t sc_db_errclass(const sc_db *db);
const char *sc_db_sqlstate(const sc_db *db);

/* Runs SQL without placeholders that returns no rows (or whose rows are
 * ignored); several statements separated by ';' are allowed. */
int sc_db_exec(sc_db *db, const char *sql);
int sc_db_begin(sc_db *db);
int sc_db_commit(sc_db *db);
int sc_db_rollback(sc_db *db);
/* How long a statement waits for a lock another connection holds before
 * failing with SC_DB_ERETRY: SQLite's busy timeout (SQLSTATE reported
 * 40001), PostgreSQL's lock_timeout (SET for the session; it fails with
 * SQLSTATE 55P03, classed SC_DB_ERETRY too: both mean "another writer
 * holds it, run again"; inside a transaction PostgreSQL has aborted it, so
 * roll back first).  ms <= 0: fail at once (PostgreSQL: after 1 ms, as its
 * 0 means no limit).  PostgreSQL's server notices are never printed (the
 * backend keeps the last one, bounded, and drops the rest). */
int sc_db_busy_timeout(sc_db *db, int ms);
/* Nonzero inside a transaction (also a failed one that awaits ROLLBACK). */
int sc_db_in_transaction(sc_db *db);
/* Rows inserted, updated or deleted by the last such statement finished. */
int64_t sc_db_changes(sc_db *db);

int sc_db_prepare(sc_db *db, const char *sql, unsigned flags, sc_db_stmt **out);
int sc_db_bind_text(sc_db_stmt *s, int i, const char *v); /* NULL: SQL NULL */
/* The first len bytes of v (no NUL needed; v NULL: SQL NULL); copied.
 * SC_ERR_LIMIT beyond SC_DB_TEXT_MAX_BYTES. */
int sc_db_bind_textn(sc_db_stmt *s, int i, const char *v, size_t len);
int sc_db_bind_int64(sc_db_stmt *s, int i, int64_t v);
int sc_db_bind_double(sc_db_stmt *s, int i, double v);
int sc_db_bind_null(sc_db_stmt *s, int i);
int sc_db_step(sc_db_stmt *s);
/* Discards the remaining rows and clears every binding. */
void sc_db_reset(sc_db_stmt *s);
void sc_db_finalize(sc_db_stmt *s);

int sc_db_column_count(sc_db_stmt *s);
int sc_db_column_is_null(sc_db_stmt *s, int i);
const char *sc_db_column_text(sc_db_stmt *s, int i); /* NULL for SQL NULL */
int64_t sc_db_column_int64(sc_db_stmt *s, int i);    /* 0 for NULL; booleans 1/0 */
double sc_db_column_double(sc_db_stmt *s, int i);    /* 0 for NULL */

/* url with its password (user:PASSWORD@ and a password= parameter)
 * replaced by "***", into out (cap bytes, cut); returns out. */
char *sc_db_url_redact(const char *url, char *out, size_t cap);
#endif
