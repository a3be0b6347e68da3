/* sc_db_listen.h - waiting for PostgreSQL notifications (LISTEN/NOTIFY).
 *
 * A listener is its own connection, apart from the store's: it sits in
 * LISTEN between waits, which a connection that runs statements cannot.
 * It reconnects by itself after a lost connection, at most once per
 * SC_DB_LISTEN_RECONNECT_MS, and LISTENs again; notifications sent while
 * it was away are lost, so a caller treats every wake-up (and a timeout)
 * as "look again" and polls anyway.  A SQLite database has no
 * notifications: sc_db_listen_open gives no listener, and the caller only
 * polls.
 *
 * Ownership: the caller owns the listener (sc_db_listen_close).
 * Thread: one thread at a time per listener.
 * Errors: SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_IO (connection; err says why,
 * password redacted). */
#ifndef CUSTOMS_SC_DB_LISTEN_H
#define CUSTOMS_SC_DB_LISTEN_H
#include <stddef.h>

#define SC_DB_LISTEN_RECONNECT_MS 1000    /* between attempts while the server is away */
#define SC_DB_LISTEN_PAYLOAD_BYTES 256    /* a notification's payload, cut beyond */

typedef struct sc_db_listener sc_db_listener;

/* Connects to url and LISTENs on channel.  A url that is not PostgreSQL's:
 * 0 with *out NULL.  A server that cannot be reached: SC_ERR_IO (err). */
int sc_db_listen_open(const char *url, const char *channel, sc_db_listener **out, char *err, size_t errlen);
/* Waits at most timeout_ms: 1 with the payload of one notification copied
 * into payload (cap bytes; may be NULL), 0 on timeout, SC_ERR_IO when the
 * connection is lost or cannot be made again (after waiting out the rest
 * of timeout_ms, so a caller's loop never spins). */
int sc_db_listen_wait(sc_db_listener *l, int timeout_ms, char *payload, size_t cap);
void sc_db_listen_close(sc_db_listener *l);
#endif
