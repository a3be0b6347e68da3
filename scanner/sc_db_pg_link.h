/* sc_db_pg_link.h - the liveness of one PostgreSQL connection of sc_db_pg.c:
 * noticing that the server closed it (restart, failover,
 * pg_terminate_backend) and opening it again, at most once per call and
 * not within SC_DB_PG_RECONNECT_MS of a failed attempt, with the same
 * parameters (PQreset: the same conninfo, hence connect_timeout,
 * application_name, statement_timeout, client_encoding; the notice
 * processor stays with the PGconn), and the lock_timeout set since
 * (sc_db_busy_timeout) re-applied by the caller (`busy_pending`).  The rules for the caller (what fails,
 * what is retried) are in sc_db.h, "Lost connections".
 * Included by sc_db_pg.c only.  Owner: the pg_db that embeds it.  Thread:
 * the connection's.  Errors: texts for the caller's message, never the
 * password (libpq's texts are scrubbed of it). */
#ifndef CUSTOMS_SC_DB_PG_LINK_H
#define CUSTOMS_SC_DB_PG_LINK_H
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  PGconn *c;
  unsigned gen;        /* bumped by each reconnect: a statement prepared under another is prepared again */
  int last_tx;         /* a transaction block was open when the connection was last seen alive */
  int tx_lost;         /* it died inside one: everything fails (SC_DB_ERETRY) but ROLLBACK, which is local */
  int tried;           /* this call made its one reconnect attempt already */
  int busy_ms;         /* the last sc_db_busy_timeout value ... */
  int busy_set;        /* ... when one was set */
  int busy_pending;    /* set it again before the next command (a new session) */
  int64_t last_try_ms; /* monotonic time of the last attempt, 0: none yet */
  unsigned reconnects; /* successful ones (for a debugger; nothing reads it) */
} sc_db_pg_link;

/* A new call starts: it may make one reconnect attempt. */
void sc_db_pg_link_new_call(sc_db_pg_link *l);
/* Reads, without waiting, what the server sent while the connection was
 * idle: a FATAL message and the end of the stream (a terminated backend, a
 * server shutting down) leave it CONNECTION_BAD, so the caller knows the
 * command it is about to send would be lost.  Only when nothing is on the
 * wire (no statement streaming).  Notifications read on the way stay
 * queued in libpq. */
void sc_db_pg_link_probe(sc_db_pg_link *l);
/* Nonzero when the connection is usable as far as libpq knows. */
int sc_db_pg_link_alive(const sc_db_pg_link *l);
/* One reconnect attempt (PQreset), unless this call made one already or
 * the last failed one was less than SC_DB_PG_RECONNECT_MS ago.  0: connected again
 * (gen bumped, last_tx cleared, busy_pending set when a lock_timeout was);
 * SC_ERR_DB: why (cap bytes, one line, starting "server unreachable") in
 * why.  Blocks at most the connect_timeout of the conninfo. */
int sc_db_pg_link_reconnect(sc_db_pg_link *l, char *why, size_t cap);
#endif
