/* sc_db_pg_link.c - a PostgreSQL connection found closed, and opened again
 * (see sc_db_pg_link.h; the caller's rules are in sc_db.h, "Lost
 * connections").  Reconnecting is bounded twice: one attempt per call, and
 * SC_DB_PG_RECONNECT_MS from a failed attempt to the next, so a caller
 * looping over a dead server costs one refused connect a second, not a
 * busy loop of them.
 * Owner: the embedding pg_db.  Thread: the connection's.  Errors: texts
 * only (sc_db_pg_link_reconnect's `why`), password scrubbed. */
#include "sc_db_pg_link.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sc_db_int.h"

#define PG_PROBE_READS_MAX 4 /* idle reads per probe: a FATAL message, then the end of the stream */

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sc_db_pg_link_new_call(sc_db_pg_link *l) { l->tried = 0; }

int sc_db_pg_link_alive(const sc_db_pg_link *l) { return PQstatus(l->c) == CONNECTION_OK; }

void sc_db_pg_link_probe(sc_db_pg_link *l) {
  if (!sc_db_pg_link_alive(l)) return;
  int fd = PQsocket(l->c);
  if (fd < 0) return;
  /* an idle connection has nothing to read unless the server spoke first:
   * a notification, a parameter change, or (what we look for) a FATAL
   * message followed by the end of the stream, which libpq turns into
   * CONNECTION_BAD when it reads it */
  for (int i = 0; i < PG_PROBE_READS_MAX; i++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) return;
    if (!PQconsumeInput(l->c) || !sc_db_pg_link_alive(l)) return;
  }
}

int sc_db_pg_link_reconnect(sc_db_pg_link *l, char *why, size_t cap) {
  int64_t now = mono_ms();
  if (l->tried) {
    snprintf(why, cap, "server unreachable (tried once in this call)");
    return SC_ERR_DB;
  }
  if (l->last_try_ms && now - l->last_try_ms < SC_DB_PG_RECONNECT_MS) {
    snprintf(why, cap, "server unreachable (last attempt failed %lld ms ago, next after %d ms)",
             (long long)(now - l->last_try_ms), SC_DB_PG_RECONNECT_MS);
    return SC_ERR_DB;
  }
  l->tried = 1;
  l->last_try_ms = now;
  PQreset(l->c);
  if (!sc_db_pg_link_alive(l)) {
    /* counted from its end: an attempt that waited connect_timeout (a hung
     * server) must not let the very next call wait that long again */
    l->last_try_ms = mono_ms();
    snprintf(why, cap, "server unreachable: %s", PQerrorMessage(l->c));
    /* libpq does not repeat the password; make sure of it */
    const char *pw = PQpass(l->c);
    if (pw) sc_db_scrub(why, cap, pw);
    for (char *p = why; *p; p++)
      if (*p == '\n' || *p == '\t') *p = ' ';
    for (size_t n = strlen(why); n && why[n - 1] == ' ';) why[--n] = '\0';
    return SC_ERR_DB;
  }
  /* a new session: no prepared statement, no transaction, lock_timeout
   * back to the server's default until the caller sets it again */
  l->gen++;
  l->reconnects++;
  /* the interval is between failed attempts: a session lost again soon
   * after a good reconnect gets its one attempt at once */
  l->last_try_ms = 0;
  l->last_tx = 0;
  l->tx_lost = 0;
  l->busy_pending = l->busy_set;
  snprintf(why, cap, "reconnected");
  return 0;
}
