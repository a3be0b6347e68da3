/* sc_db_listen.c - a LISTEN connection (see sc_db_listen.h).
 * Owner: the caller's listener.  Thread: one at a time.
 * Errors: see sc_db_listen.h. */
#include "sc_db_listen.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_db.h"
#include "sc_err.h"

#define LISTEN_CHANNEL_BYTES 64

struct sc_db_listener {
  PGconn *c;                          /* NULL while away */
  char *url;
  char channel[LISTEN_CHANNEL_BYTES];
  int64_t last_try_ms;                /* the last connection attempt */
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  if (ms <= 0) return;
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* (Re)connects and LISTENs; 0 or SC_ERR_IO with err filled. */
static int connect_listen(sc_db_listener *l, char *err, size_t errlen) {
  char ct[16], red[SC_DB_URL_BYTES];
  snprintf(ct, sizeof(ct), "%d", SC_DB_PG_CONNECT_TIMEOUT_S);
  const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
  const char *vals[] = {l->url, ct, SC_DB_APPLICATION_NAME "-listen", NULL};
  l->last_try_ms = now_ms();
  l->c = PQconnectdbParams(keys, vals, 1); /* dbname is the URL: expanded */
  if (!l->c || PQstatus(l->c) != CONNECTION_OK) {
    if (err && errlen)
      snprintf(err, errlen, "LISTEN connection to %s: %s", sc_db_url_redact(l->url, red, sizeof(red)),
               l->c ? PQerrorMessage(l->c) : "out of memory");
    PQfinish(l->c);
    l->c = NULL;
    return SC_ERR_IO;
  }
  char *id = PQescapeIdentifier(l->c, l->channel, strlen(l->channel));
  char sql[LISTEN_CHANNEL_BYTES * 2 + 16];
  snprintf(sql, sizeof(sql), "LISTEN %s", id ? id : "\"\"");
  PQfreemem(id);
  PGresult *r = PQexec(l->c, sql);
  int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok && err && errlen) snprintf(err, errlen, "LISTEN %s: %s", l->channel, PQerrorMessage(l->c));
  PQclear(r);
  if (!ok) {
    PQfinish(l->c);
    l->c = NULL;
    return SC_ERR_IO;
  }
  return 0;
}

int sc_db_listen_open(const char *url, const char *channel, sc_db_listener **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!url || !channel || strlen(channel) >= LISTEN_CHANNEL_BYTES) return SC_ERR_ARG;
  if (!sc_db_url_is_pg(url)) return 0; /* SQLite: nothing to listen to */
  sc_db_listener *l = calloc(1, sizeof(*l));
  if (!l || !(l->url = strdup(url))) {
    free(l);
    return SC_ERR_NOMEM;
  }
  snprintf(l->channel, sizeof(l->channel), "%s", channel);
  if (connect_listen(l, err, errlen)) {
    sc_db_listen_close(l);
    return SC_ERR_IO;
  }
  *out = l;
  return 0;
}

/* One notification already received, if any: 1 and payload copied. */
static int take(sc_db_listener *l, char *payload, size_t cap) {
  PGnotify *n = PQnotifies(l->c);
  if (!n) return 0;
  if (payload && cap) snprintf(payload, cap, "%s", n->extra ? n->extra : "");
  PQfreemem(n);
  return 1;
}

static void lost(sc_db_listener *l) {
  PQfinish(l->c);
  l->c = NULL;
}

int sc_db_listen_wait(sc_db_listener *l, int timeout_ms, char *payload, size_t cap) {
  if (payload && cap) payload[0] = '\0';
  if (!l) return SC_ERR_ARG;
  int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
  if (!l->c) {
    /* away: one attempt per SC_DB_LISTEN_RECONNECT_MS, and the caller's
     * wait is served either way (no spinning while the server is down) */
    if (now_ms() - l->last_try_ms < SC_DB_LISTEN_RECONNECT_MS || connect_listen(l, NULL, 0)) {
      sleep_ms((int)(deadline - now_ms()));
      return SC_ERR_IO;
    }
  }
  if (take(l, payload, cap)) return 1;
  for (;;) {
    int left = (int)(deadline - now_ms());
    if (left < 0) left = 0;
    struct pollfd p = {.fd = PQsocket(l->c), .events = POLLIN};
    if (p.fd < 0) {
      lost(l);
      sleep_ms(left);
      return SC_ERR_IO;
    }
    int n = poll(&p, 1, left);
    if (n == 0) return 0;
    if (n < 0) continue; /* EINTR: the deadline still holds */
    if (!PQconsumeInput(l->c) || PQstatus(l->c) != CONNECTION_OK) {
      lost(l);
      sleep_ms((int)(deadline - now_ms()));
      return SC_ERR_IO;
    }
    if (take(l, payload, cap)) return 1;
    if (now_ms() >= deadline) return 0;
  }
}

void sc_db_listen_close(sc_db_listener *l) {
  if (!l) return;
  PQfinish(l->c);
  free(l->url);
  free(l);
}
