/* sc_db_pg.c - sc_db over PostgreSQL (libpq), for replicas sharing one
 * database.
 *
 * A statement is translated (`?` to `$n`, sc_db_text.c), prepared once on
 * its connection under a generated name (PQprepare, "sc_<n>") and run with
 * text parameters (PQsendQueryPrepared).  Rows arrive in single-row mode:
 * each is its own PGresult, freed at the next step, so a SELECT of any size
 * holds one row of client memory.  The connection carries one statement's
 * rows at a time (`active`); when anything else needs the connection, the
 * active statement's remaining rows are queued in memory ("spilled", see
 * sc_db.h) and it keeps stepping from the queue.  A reset mid-stream
 * cancels an autocommit SELECT (its rows are unwanted and a cancel aborts
 * nothing else) and drains anything else row by row (cancelling a
 * statement inside a transaction block would abort the transaction, and
 * an INSERT ... RETURNING must not lose its writes).
 * Server NOTICEs and WARNINGs (e.g. "relation already exists, skipping"
 * from an idempotent schema step) never reach stderr: a notice processor
 * keeps the last one, cut to PG_NOTICE_BYTES, in the connection (for a
 * debugger; nothing reads it), and the rest are dropped.
 * A lost connection (a restart, a failover, a terminated session) is
 * found before a command is sent when the server said so while the
 * connection sat idle (sc_db_pg_link.c), or by the command that fails with
 * it; what happens then (reconnect, one resend, SC_DB_ERETRY inside a
 * transaction) is sc_db.h's "Lost connections".  Every statement keeps
 * its translated text and the session generation it was prepared in, and
 * is prepared again under the same name when the session changed.
 * Owner: sc_db.  Thread: the connection's.  Errors: sc_db.h, with the
 * server's SQLSTATE kept; a lock timeout (55P03) is SC_DB_ERETRY as
 * SQLite's busy is. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc_db_int.h"
#include "sc_db_pg_link.h"

#define PG_CONNINFO_NUM_BYTES 24 /* a number as a conninfo value or parameter */
#define PG_DOUBLE_TEXT_BYTES 40  /* "%.17g" of any double */
#define PG_OPTIONS_BYTES 64      /* "-c statement_timeout=N" */
#define PG_STMT_NAME_BYTES 24    /* "sc_<counter>" */
#define PG_CANCEL_ERR_BYTES 256  /* PQcancel's error buffer */
#define PG_RESET_READ_ROWS 64    /* rows a reset reads from the buffer before it cancels */
#define PG_NOTICE_BYTES 256      /* the last server notice kept, cut beyond */
#define PG_LOCK_TIMEOUT_STATE "55P03" /* lock_not_available: lock_timeout expired */
#define PG_LOST_STATE "08006"         /* connection_failure: the session is gone */
#define PG_LOST_COMMIT_STATE "08007"  /* transaction_resolution_unknown: gone during COMMIT */
#define PG_UNREACHABLE_STATE "08001"  /* sqlclient_unable_to_establish_sqlconnection */
#define PG_SET_SQL_BYTES 64           /* "SET lock_timeout = N" */

typedef struct pg_stmt pg_stmt;

typedef struct {
  sc_db base;
  sc_db_pg_link link; /* the PGconn, and what it takes to get it back */
  unsigned next_name;
  pg_stmt *active; /* whose rows are on the wire, NULL when none */
  int64_t changes;
  char last_notice[PG_NOTICE_BYTES]; /* see the header: kept, never printed */
} pg_db;

/* A spilled row, packed in one allocation (a single-row PGresult costs
 * about 3 KiB whatever its size: 100,000 of them would be 300 MB). */
typedef struct pg_row {
  struct pg_row *next;
  int n;
  char *v[]; /* n values (NULL: SQL NULL), their text after them */
} pg_row;

enum { ST_IDLE, ST_STREAM, ST_SPILLED, ST_DONE };

struct pg_stmt {
  sc_db_stmt base;
  char name[PG_STMT_NAME_BYTES];
  int nparams, ncols, state;
  int cancelable; /* a SELECT: cancelling it loses nothing */
  int in_block;   /* sent inside a transaction block */
  char *text;     /* the translated SQL, to prepare again on a new session */
  unsigned gen;   /* the session (link.gen) it is prepared in */
  char **vals;    /* nparams text values (NULL: SQL NULL) */
  PGresult *row;  /* the current row, streamed ... */
  pg_row *prow;   /* ... or spilled */
  pg_row *qhead, *qtail; /* spilled rows */
  PGresult *end;  /* spilled: the final result (status or error) */
};

#define PDB(d) ((pg_db *)(d))
#define PST(s) ((pg_stmt *)(s))

/* Records the error of result r (or of the connection when r is NULL). */
static int pg_err(sc_db *db, const PGresult *r) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(PDB(db)->link.c);
  if (!msg || !*msg) msg = PQerrorMessage(PDB(db)->link.c);
  /* lock_timeout (sc_db_busy_timeout) expired: another writer holds the
   * lock, the same meaning as SQLite's busy, so the same class: the caller
   * rolls back (PostgreSQL has aborted a transaction it ran in) and retries */
  sc_db_errclass_t cls = sc_db_class_of_sqlstate(state);
  if (state && !strcmp(state, PG_LOCK_TIMEOUT_STATE)) cls = SC_DB_ERETRY;
  return sc_db_set_error(db, cls, state, "%s", msg && *msg ? msg : "unknown error");
}

/* libpq's default notice processor prints to stderr: keep the last notice
 * instead (bounded), so a daemon's log only has what customs writes. */
static void on_notice(void *arg, const char *msg) {
  pg_db *db = arg;
  snprintf(db->last_notice, sizeof(db->last_notice), "%s", msg ? msg : "");
}

/* The rows affected by a finished command: INSERT/UPDATE/DELETE/MERGE only,
 * as sqlite3_changes (a SELECT leaves the count as it was). */
static void note_changes(pg_db *db, PGresult *r) {
  const char *tag = PQcmdStatus(r);
  if (strncmp(tag, "INSERT", 6) && strncmp(tag, "UPDATE", 6) && strncmp(tag, "DELETE", 6) && strncmp(tag, "MERGE", 5))
    return;
  int64_t n = 0;
  sc_db_parse_int64(PQcmdTuples(r), &n);
  db->changes = n;
}

static void drain(PGconn *c) {
  PGresult *r;
  while ((r = PQgetResult(c))) PQclear(r);
}

/* A copy of the single-row result r, packed (NULL when out of memory). */
static pg_row *pack(const PGresult *r) {
  int n = PQnfields(r);
  size_t bytes = sizeof(pg_row) + (size_t)n * sizeof(char *);
  for (int i = 0; i < n; i++)
    if (!PQgetisnull(r, 0, i)) bytes += (size_t)PQgetlength(r, 0, i) + 1;
  pg_row *row = malloc(bytes);
  if (!row) return NULL;
  row->next = NULL;
  row->n = n;
  char *p = (char *)&row->v[n];
  for (int i = 0; i < n; i++) {
    if (PQgetisnull(r, 0, i)) {
      row->v[i] = NULL;
      continue;
    }
    size_t len = (size_t)PQgetlength(r, 0, i);
    row->v[i] = memcpy(p, PQgetvalue(r, 0, i), len + 1);
    p += len + 1;
  }
  return row;
}

/* Moves the rest of the active statement's results off the wire into its
 * queue, freeing the connection for another command. */
static void spill(pg_db *db) {
  pg_stmt *a = db->active;
  if (!a) return;
  PGresult *r;
  while ((r = PQgetResult(db->link.c))) {
    int is_row = PQresultStatus(r) == PGRES_SINGLE_TUPLE;
    pg_row *n = is_row ? pack(r) : NULL;
    if (n) {
      *(a->qtail ? &a->qtail->next : &a->qhead) = n;
      a->qtail = n;
      PQclear(r);
    } else if (!a->end && !is_row) {
      a->end = r;
    } else {
      /* out of memory for the queue: the statement must not look complete */
      PQclear(r);
      if (!a->end) a->end = PQmakeEmptyPGresult(db->link.c, PGRES_FATAL_ERROR);
    }
  }
  a->state = ST_SPILLED;
  db->active = NULL;
}

static void free_queue(pg_stmt *s) {
  for (pg_row *n = s->qhead, *next; n; n = next) {
    next = n->next;
    free(n);
  }
  s->qhead = s->qtail = NULL;
  PQclear(s->end);
  s->end = NULL;
}

/* Ends the statement's run: nothing of it stays on the wire or queued. */
static void finish(pg_db *db, pg_stmt *s) {
  if (s->state == ST_STREAM) {
    drain(db->link.c);
    db->active = NULL;
  }
  free_queue(s);
  s->state = ST_DONE;
}

static void pg_close(sc_db *db) {
  PQfinish(PDB(db)->link.c);
  free(db);
}

/* Inside a transaction block, as the live connection says (a streaming
 * statement sent inside one counts). */
static int live_tx(pg_db *db) {
  PGTransactionStatusType t = PQtransactionStatus(db->link.c);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || (t == PQTRANS_ACTIVE && db->active && db->active->in_block);
}

/* Remembers whether a transaction is open while the connection is alive:
 * once it is closed libpq no longer knows, and a transaction the caller
 * opened must not be forgotten (its statements would run outside it). */
static void note_tx(pg_db *db) {
  if (sc_db_pg_link_alive(&db->link)) db->link.last_tx = live_tx(db);
}

static int pg_in_tx(sc_db *bdb) {
  pg_db *db = PDB(bdb);
  if (db->link.tx_lost) return 1;
  return sc_db_pg_link_alive(&db->link) ? live_tx(db) : db->link.last_tx;
}

static int lost_tx_error(pg_db *db) {
  return sc_db_set_error(&db->base, SC_DB_ERETRY, PG_LOST_STATE,
                         "connection lost inside a transaction (it is gone): roll back, then run it again");
}

/* Sets the lock_timeout of sc_db_busy_timeout again on a new session. */
static int apply_busy(pg_db *db) {
  if (!db->link.busy_pending) return 0;
  char sql[PG_SET_SQL_BYTES];
  snprintf(sql, sizeof(sql), "SET lock_timeout = %d", db->link.busy_ms);
  PGresult *r = PQexec(db->link.c, sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_err(&db->base, r);
  PQclear(r);
  if (!rc) db->link.busy_pending = 0;
  return rc;
}

/* This call's reconnect attempt, session settings included; on failure
 * the error is recorded ("connection lost, server unreachable ..."). */
static int relink(pg_db *db) {
  char why[SC_DB_ERR_BYTES];
  if (sc_db_pg_link_reconnect(&db->link, why, sizeof(why)))
    return sc_db_set_error(&db->base, SC_DB_EOTHER, PG_UNREACHABLE_STATE, "connection lost, %s", why);
  return apply_busy(db);
}

/* Readies the connection for the command of a new call: the streaming
 * statement's rows are moved aside, and a connection the server closed
 * while it sat idle is found now, before anything is sent, then opened
 * again (outside a transaction) or reported (inside one: the transaction
 * is gone, SC_DB_ERETRY).  0 or SC_ERR_DB. */
static int pg_enter(pg_db *db) {
  sc_db_pg_link *l = &db->link;
  spill(db);
  if (l->tx_lost) return lost_tx_error(db);
  note_tx(db);
  sc_db_pg_link_probe(l);
  if (!sc_db_pg_link_alive(l)) {
    if (l->last_tx) {
      l->tx_lost = 1;
      return lost_tx_error(db);
    }
    return relink(db);
  }
  return apply_busy(db);
}

enum { KIND_PLAIN, KIND_BEGIN, KIND_COMMIT };

/* After a command that was sent failed (its error recorded): when the
 * connection died with it, say so and classify it (sc_db.h, "Lost
 * connections"); outside a transaction, make this call's reconnect
 * attempt now, so the next call finds a live session (or fails fast). */
static int pg_fail(pg_db *db, int rc, int in_tx, int kind) {
  sc_db_pg_link *l = &db->link;
  if (rc != SC_ERR_DB || sc_db_pg_link_alive(l)) return rc;
  char orig[SC_DB_ERR_BYTES];
  snprintf(orig, sizeof(orig), "%s", db->base.err);
  if (in_tx) {
    l->tx_lost = 1;
    return sc_db_set_error(&db->base, SC_DB_ERETRY, kind == KIND_COMMIT ? PG_LOST_COMMIT_STATE : PG_LOST_STATE,
                           "connection lost inside a transaction%s: roll back, then run it again: %s",
                           kind == KIND_COMMIT ? " during COMMIT (outcome unknown)" : "", orig);
  }
  l->last_tx = 0;
  char how[SC_DB_ERR_BYTES];
  if (sc_db_pg_link_reconnect(l, how, sizeof(how)) == 0 && apply_busy(db))
    snprintf(how, sizeof(how), "reconnected, but lock_timeout not set again: %.160s", db->base.err);
  return sc_db_set_error(&db->base, kind == KIND_BEGIN ? SC_DB_ERETRY : SC_DB_EOTHER, PG_LOST_STATE,
                         "connection lost, %s%s: %s", how, kind == KIND_BEGIN ? "" : " (outcome unknown)", orig);
}

/* sql starts with the keyword w (case-insensitive, after blanks) */
static int starts_word(const char *sql, const char *w) {
  sql += strspn(sql, " \t\r\n");
  size_t n = strlen(w);
  return !strncasecmp(sql, w, n) && !((sql[n] >= 'A' && sql[n] <= 'Z') || (sql[n] >= 'a' && sql[n] <= 'z') ||
                                       sql[n] == '_' || (sql[n] >= '0' && sql[n] <= '9'));
}

/* a ROLLBACK of the whole transaction, not ROLLBACK TO a savepoint */
static int whole_rollback(const char *sql) {
  if (!starts_word(sql, "ROLLBACK")) return 0;
  for (const char *p = sql; *p; p++)
    if (p > sql && strchr(" \t\r\n", p[-1]) && starts_word(p, "TO")) return 0;
  return 1;
}

static int pg_exec(sc_db *bdb, const char *sql) {
  pg_db *db = PDB(bdb);
  sc_db_pg_link *l = &db->link;
  sc_db_pg_link_new_call(l);
  if (whole_rollback(sql) && (l->tx_lost || !sc_db_pg_link_alive(l))) {
    /* the session is gone, and its transaction with it: nothing is left
     * to undo, and the rollback that callers rely on succeeds */
    spill(db);
    l->tx_lost = l->last_tx = 0;
    return 0;
  }
  int rc = pg_enter(db);
  if (rc) return rc;
  int in_tx = l->last_tx;
  int kind = starts_word(sql, "BEGIN") ? KIND_BEGIN : starts_word(sql, "COMMIT") ? KIND_COMMIT : KIND_PLAIN;
  PGresult *r = PQexec(l->c, sql);
  /* no result and a closed connection: libpq refused to send, the server
   * saw nothing, so it is sent once more on a new session (outside a
   * transaction only: inside one the rest of it is gone) */
  if (!r && !in_tx && !sc_db_pg_link_alive(l)) {
    if ((rc = relink(db))) return rc;
    r = PQexec(l->c, sql);
  }
  ExecStatusType st = PQresultStatus(r);
  if ((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) && !strcmp(PQcmdStatus(r), "ROLLBACK") &&
      kind == KIND_COMMIT)
    /* COMMIT of an aborted transaction "succeeds" as a ROLLBACK: say so */
    rc = sc_db_set_error(bdb, SC_DB_EOTHER, "25P02", "COMMIT rolled back: the transaction had failed");
  else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
    note_changes(db, r);
  else
    rc = pg_fail(db, r ? pg_err(bdb, r) : pg_err(bdb, NULL), in_tx, kind);
  PQclear(r);
  note_tx(db);
  return rc;
}

/* SQLite's busy timeout has no session-wide PostgreSQL twin: the nearest is
 * lock_timeout, how long a statement waits for a row or table lock before
 * failing (55P03).  ms <= 0 is 1 ms: PostgreSQL's 0 would mean no limit.
 * Remembered, to be set again on a new session after a reconnect. */
static int pg_busy(sc_db *bdb, int ms) {
  pg_db *db = PDB(bdb);
  db->link.busy_ms = ms > 0 ? ms : 1;
  db->link.busy_set = 1;
  char sql[PG_SET_SQL_BYTES];
  snprintf(sql, sizeof(sql), "SET lock_timeout = %d", db->link.busy_ms);
  return pg_exec(bdb, sql);
}

static int64_t pg_changes(sc_db *db) { return PDB(db)->changes; }

/* The first keyword of sql is SELECT (after blanks and comments are not
 * looked through: a statement that starts otherwise is simply drained). */
static int starts_select(const char *sql) {
  sql += strspn(sql, " \t\r\n(");
  return !strncasecmp(sql, "SELECT", 6);
}

static void free_stmt(pg_stmt *s) {
  if (s->vals)
    for (int i = 0; i < s->nparams; i++) free(s->vals[i]);
  free(s->vals);
  free(s->text);
  free(s);
}

/* Prepares s on the current session under its name, and learns its column
 * count (sqlite3_column_count's promise: known before any row). */
static int prepare_on_server(pg_db *db, pg_stmt *s) {
  PGresult *r = PQprepare(db->link.c, s->name, s->text, s->nparams, NULL);
  int rc = 0;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    rc = pg_err(&db->base, r);
    PQclear(r);
    return rc;
  }
  PQclear(r);
  r = PQdescribePrepared(db->link.c, s->name);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    rc = pg_err(&db->base, r);
    PQclear(r);
    if (sc_db_pg_link_alive(&db->link)) {
      char sql[PG_STMT_NAME_BYTES + 16];
      snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
      PQclear(PQexec(db->link.c, sql));
    }
    return rc;
  }
  s->ncols = PQnfields(r);
  PQclear(r);
  s->gen = db->link.gen;
  return 0;
}

/* prepare_on_server after pg_enter, once more after a reconnect when the
 * connection was lost during it outside a transaction: a PREPARE changes
 * nothing, so even one the server received is safe to send again. */
static int prepare_retrying(pg_db *db, pg_stmt *s) {
  int in_tx = db->link.last_tx;
  int rc = prepare_on_server(db, s);
  if (rc == SC_ERR_DB && !in_tx && !sc_db_pg_link_alive(&db->link)) {
    if ((rc = relink(db))) return rc;
    rc = prepare_on_server(db, s);
  }
  if (rc) rc = pg_fail(db, rc, in_tx, KIND_PLAIN);
  note_tx(db);
  return rc;
}

static int pg_prepare(sc_db *bdb, const char *sql, unsigned flags, sc_db_stmt **out) {
  (void)flags; /* every PostgreSQL statement lives until finalized */
  pg_db *db = PDB(bdb);
  sc_db_pg_link_new_call(&db->link);
  char *text;
  int n, rc = sc_db_pg_translate(sql, &text, &n);
  if (rc == SC_ERR_ARG) return sc_db_set_error(bdb, SC_DB_EOTHER, "42P02", "bad placeholder (?0 or beyond ?%d)",
                                               SC_DB_PARAMS_MAX);
  if (rc) return rc;
  pg_stmt *s = calloc(1, sizeof(*s));
  if (!s || (n && !(s->vals = calloc((size_t)n, sizeof(char *))))) {
    free(text);
    free(s);
    return SC_ERR_NOMEM;
  }
  s->base.db = bdb;
  s->nparams = n;
  s->text = text;
  s->cancelable = starts_select(text);
  snprintf(s->name, sizeof(s->name), "sc_%u", db->next_name++);
  if ((rc = pg_enter(db)) || (rc = prepare_retrying(db, s))) {
    free_stmt(s);
    return rc;
  }
  s->state = ST_IDLE;
  *out = &s->base;
  return 0;
}

/* Binds the first len bytes of v (v NULL: SQL NULL), copied. */
static int set_valn(sc_db_stmt *bs, int i, const char *v, size_t len) {
  pg_stmt *s = PST(bs);
  if (i < 1 || i > s->nparams) {
    sc_db_set_error(bs->db, SC_DB_EOTHER, "", "bind index %d out of range (1..%d)", i, s->nparams);
    return SC_ERR_ARG;
  }
  char *d = NULL;
  if (v && !(d = strndup(v, len))) return SC_ERR_NOMEM;
  free(s->vals[i - 1]);
  s->vals[i - 1] = d;
  return 0;
}

static int set_val(sc_db_stmt *bs, int i, const char *v) { return set_valn(bs, i, v, v ? strlen(v) : 0); }
static int pg_bind(sc_db_stmt *s, int i, const char *v) { return set_val(s, i, v); }
static int pg_bind_textn(sc_db_stmt *s, int i, const char *v, size_t len) { return set_valn(s, i, v, len); }

static int pg_bind_int64(sc_db_stmt *s, int i, int64_t v) {
  char t[PG_CONNINFO_NUM_BYTES];
  snprintf(t, sizeof(t), "%lld", (long long)v);
  return set_val(s, i, t);
}

static int pg_bind_double(sc_db_stmt *s, int i, double v) {
  char t[PG_DOUBLE_TEXT_BYTES];
  snprintf(t, sizeof(t), "%.17g", v); /* round-trips every double */
  return set_val(s, i, t);
}

/* Starts a run of s: on a new session, s is prepared there first (its
 * next step after a reconnect); a send libpq refused on a connection found
 * closed reached nothing, so it is made once more after a reconnect,
 * outside a transaction. */
static int send_query(pg_db *db, pg_stmt *s) {
  sc_db_pg_link *l = &db->link;
  int rc = pg_enter(db);
  if (rc) return rc;
  int in_tx = l->last_tx;
  for (int attempt = 0;; attempt++) {
    if (s->gen != l->gen && (rc = prepare_retrying(db, s))) return rc;
    PGTransactionStatusType t = PQtransactionStatus(l->c);
    s->in_block = t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
    if (PQsendQueryPrepared(l->c, s->name, s->nparams, (const char *const *)s->vals, NULL, NULL, 0)) break;
    if (attempt == 0 && !in_tx && !sc_db_pg_link_alive(l)) {
      if ((rc = relink(db))) return rc;
      continue;
    }
    return pg_fail(db, pg_err(&db->base, NULL), in_tx, KIND_PLAIN);
  }
  if (!PQsetSingleRowMode(l->c)) {
    drain(l->c);
    return sc_db_set_error(&db->base, SC_DB_EOTHER, "", "cannot stream rows (single-row mode refused)");
  }
  s->state = ST_STREAM;
  db->active = s;
  note_tx(db);
  return 0;
}

/* Forgets the row the caller was reading (its column texts die with it). */
static void drop_row(pg_stmt *s) {
  PQclear(s->row);
  s->row = NULL;
  free(s->prow);
  s->prow = NULL;
}

/* The next result of a statement with no spilled row left. */
static PGresult *next_result(pg_db *db, pg_stmt *s) {
  if (s->state == ST_STREAM) return PQgetResult(db->link.c);
  PGresult *r = s->end;
  s->end = NULL;
  return r;
}

static int pg_step(sc_db_stmt *bs) {
  pg_stmt *s = PST(bs);
  pg_db *db = PDB(bs->db);
  sc_db_pg_link_new_call(&db->link);
  drop_row(s);
  if (s->state == ST_DONE) s->state = ST_IDLE; /* run again, same bindings (SQLite's auto-reset) */
  if (s->state == ST_IDLE) {
    int rc = send_query(db, s);
    if (rc) return rc;
  }
  if (s->state == ST_SPILLED && s->qhead) {
    s->prow = s->qhead;
    if (!(s->qhead = s->prow->next)) s->qtail = NULL;
    return SC_DB_ROW;
  }
  PGresult *r = next_result(db, s);
  int rc;
  switch (r ? PQresultStatus(r) : PGRES_FATAL_ERROR) {
  case PGRES_SINGLE_TUPLE:
    s->row = r;
    return SC_DB_ROW;
  case PGRES_TUPLES_OK:
  case PGRES_COMMAND_OK:
    note_changes(db, r);
    rc = SC_DB_DONE;
    break;
  default:
    rc = pg_err(bs->db, r);
    break;
  }
  PQclear(r);
  finish(db, s);
  if (rc < 0) rc = pg_fail(db, rc, s->in_block, KIND_PLAIN);
  note_tx(db);
  return rc;
}

/* Nonzero when the rest of the streaming result has already arrived and
 * was read (no round trip): after a one-row lookup its end is in libpq's
 * buffer, and a cancel would cost a new connection to the server (the
 * postmaster forks for it) for nothing.  Reads at most PG_RESET_READ_ROWS
 * buffered rows; past them, or when the server is still sending, 0. */
static int rest_arrived(PGconn *c) {
  if (!PQconsumeInput(c)) return 0;
  for (int n = 0; n <= PG_RESET_READ_ROWS && !PQisBusy(c); n++) {
    PGresult *r = PQgetResult(c);
    if (!r) return 1;
    PQclear(r);
  }
  return 0;
}

static void pg_reset(sc_db_stmt *bs) {
  pg_stmt *s = PST(bs);
  pg_db *db = PDB(bs->db);
  drop_row(s);
  if (s->state == ST_STREAM && s->cancelable && !s->in_block && !rest_arrived(db->link.c)) {
    /* the server stops producing rows; the drain below then ends quickly
     * (its "canceling statement" error is expected and dropped) */
    PGcancel *k = PQgetCancel(db->link.c);
    char eb[PG_CANCEL_ERR_BYTES];
    if (k) {
      PQcancel(k, eb, sizeof(eb));
      PQfreeCancel(k);
    }
  }
  if (s->state != ST_IDLE) finish(db, s);
  s->state = ST_IDLE;
  for (int i = 0; i < s->nparams; i++) {
    free(s->vals[i]);
    s->vals[i] = NULL;
  }
}

static void pg_finalize(sc_db_stmt *bs) {
  pg_stmt *s = PST(bs);
  pg_db *db = PDB(bs->db);
  pg_reset(bs);
  spill(db); /* another statement may be streaming */
  char sql[PG_STMT_NAME_BYTES + 16];
  snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
  /* fails inside an aborted transaction: the statement then lives on the
   * server until the connection closes (harmless, never reused by name);
   * not prepared on this session, or no session: nothing to free there */
  if (s->gen == db->link.gen && sc_db_pg_link_alive(&db->link)) PQclear(PQexec(db->link.c, sql));
  free_stmt(s);
}

static int pg_column_count(sc_db_stmt *s) { return PST(s)->ncols; }

static const char *pg_column_text(sc_db_stmt *bs, int i) {
  pg_stmt *s = PST(bs);
  if (s->prow) return i >= 0 && i < s->prow->n ? s->prow->v[i] : NULL;
  PGresult *r = s->row;
  if (!r || i < 0 || i >= PQnfields(r) || PQgetisnull(r, 0, i)) return NULL;
  return PQgetvalue(r, 0, i);
}

static const struct sc_db_ops pg_ops = {
    .close = pg_close,
    .exec = pg_exec,
    .in_transaction = pg_in_tx,
    .busy_timeout = pg_busy,
    .changes = pg_changes,
    .prepare = pg_prepare,
    .bind = pg_bind,
    .bind_textn = pg_bind_textn,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .step = pg_step,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .column_count = pg_column_count,
    .column_text = pg_column_text,
    .column_int64 = NULL, /* sc_db.c parses the text strictly */
    .column_double = NULL,
    /* SQLite's BEGIN IMMEDIATE on a shared server: one writing transaction
     * at a time across every connection of every replica, through one
     * transaction-level advisory lock (SC_DB_PG_WRITER_LOCK_KEY), released
     * by COMMIT or ROLLBACK.  The store's write transactions read, then
     * write, assuming no other writer in between; SERIALIZABLE gave that
     * too, but made concurrent layer stores fail with 40001 (a "pivot")
     * and need retries everywhere.  Waiting for the lock is bounded by
     * lock_timeout (sc_db_busy_timeout): 55P03, SC_DB_ERETRY, as SQLite's
     * busy.  Readers (autocommit) never wait for it. */
    .begin_sql = "BEGIN ISOLATION LEVEL READ COMMITTED;"
                 " SELECT pg_advisory_xact_lock(" SC_DB_PG_WRITER_LOCK_KEY ")",
};

int sc_db_pg_open(const char *url, const sc_db_opts *o, sc_db **out, char *err, size_t errlen) {
  pg_db *db = calloc(1, sizeof(*db));
  if (!db) return SC_ERR_NOMEM;
  db->base.ops = &pg_ops;
  db->base.dialect = SC_DB_PG;
  char ct[PG_CONNINFO_NUM_BYTES], opt[PG_OPTIONS_BYTES];
  int st_ms = o->statement_timeout_ms ? o->statement_timeout_ms : SC_DB_PG_STATEMENT_TIMEOUT_MS;
  snprintf(ct, sizeof(ct), "%d", o->connect_timeout_s > 0 ? o->connect_timeout_s : SC_DB_PG_CONNECT_TIMEOUT_S);
  snprintf(opt, sizeof(opt), "-c statement_timeout=%d", st_ms > 0 ? st_ms : 0);
  /* defaults first, the URL last: what the URL sets wins */
  const char *keys[] = {"connect_timeout", "application_name", "options", "client_encoding", "dbname", NULL};
  const char *vals[] = {ct, SC_DB_APPLICATION_NAME, opt, "UTF8", url, NULL};
  db->link.c = PQconnectdbParams(keys, vals, 1);
  if (!db->link.c || PQstatus(db->link.c) != CONNECTION_OK) {
    char red[SC_DB_URL_BYTES], pw[SC_DB_URL_BYTES];
    sc_db_url_redact(url, red, sizeof(red));
    sc_errf(err, errlen, "connect %s: %s", red, db->link.c ? PQerrorMessage(db->link.c) : "out of memory");
    /* libpq does not repeat the password; make sure of it */
    sc_db_url_password(url, pw, sizeof(pw));
    sc_db_scrub(err, errlen, pw);
    memset(pw, 0, sizeof(pw));
    if (err) { /* one line, without libpq's trailing newline */
      for (char *p = err; *p; p++)
        if (*p == '\n') *p = ' ';
      for (size_t n = strlen(err); n && err[n - 1] == ' ';) err[--n] = '\0';
    }
    PQfinish(db->link.c);
    free(db);
    return SC_ERR_DB;
  }
  PQsetNoticeProcessor(db->link.c, on_notice, db);
  *out = &db->base;
  return 0;
}
