/* sc_events.h - the outbox of events and their webhook deliveries, in the
 * store (tables events and deliveries, migration 7).
 *
 * An event is recorded together with one delivery per webhook that wants
 * it, in one transaction, before anything is sent: a delivery survives a
 * restart.  A delivery is "pending" (next_at says when it may be tried),
 * then "delivered" or "failed"; every attempt bumps `attempts` and keeps the
 * last HTTP status and error.  The body is stored as it will be sent; the
 * signature is not (it is made at send time from the configured secret,
 * which is never stored).  `hook` is the webhook's key (format and URL): a
 * delivery whose webhook is no longer configured can be failed by key.
 *
 * Bounded: sc_events_record fails the oldest pending deliveries beyond
 * SC_EVENTS_MAX_PENDING (a dead receiver cannot grow the table without
 * end), and sc_events_prune deletes finished deliveries and events older
 * than a cut-off (the proxy keeps SC_EVENTS_KEEP_DAYS).
 *
 * Owner: store (sc_events.c, SQLite and PostgreSQL through sc_db).  Thread: the handle's.
 * Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_DB (sc_store_errmsg),
 * SC_ERR_NOTFOUND where stated. */
#ifndef CUSTOMS_SC_EVENTS_H
#define CUSTOMS_SC_EVENTS_H
#include <stddef.h>
#include <stdint.h>

#include "sc_store.h"

#define SC_EVENTS_KEEP_DAYS 30          /* finished deliveries and their events are kept this long */
#define SC_EVENTS_MAX_PENDING 10000     /* pending deliveries; the oldest beyond it are failed */
#define SC_EVENTS_ERROR_MAX_BYTES 500   /* last_error is cut to this */
#define SC_EVENTS_ID_BYTES 64           /* an event id and its NUL, with room */
#define SC_EVENTS_OVERFLOW_ERROR "dropped: more pending deliveries than the outbox holds"

/* One delivery to record: the webhook's key, its URL and the body. */
typedef struct sc_delivery_new {
  const char *hook, *url, *body;
} sc_delivery_new;

typedef enum sc_delivery_status {
  SC_DELIVERY_PENDING = 0,
  SC_DELIVERY_DELIVERED,
  SC_DELIVERY_FAILED,
} sc_delivery_status;

typedef struct sc_delivery {
  int64_t id;
  char event[SC_EVENTS_ID_BYTES]; /* the event's id */
  char type[64];                  /* the event's type */
  char *hook, *url, *body;        /* malloc'd */
  char *last_error;               /* NULL: none */
  sc_delivery_status status;
  int attempts;
  long last_status;               /* HTTP status of the last attempt, 0: none */
  int64_t next_at, created_at, delivered_at; /* unix seconds; delivered_at 0: not delivered */
} sc_delivery;

typedef struct sc_delivery_list {
  sc_delivery *v;
  size_t n;
} sc_delivery_list;

void sc_delivery_list_free(sc_delivery_list *l);
const char *sc_delivery_status_name(sc_delivery_status s); /* "pending" | "delivered" | "failed" */

/* Records event id (type, unix time at, event_json: the whole event) and
 * its n deliveries (pending, due at `at`), in one transaction; then fails
 * the oldest pending deliveries beyond SC_EVENTS_MAX_PENDING.  An id
 * already recorded is SC_ERR_DB (nothing is written). */
int sc_events_record(sc_store *st, const char *id, const char *type, int64_t at, const char *event_json,
                     const sc_delivery_new *d, size_t n);

/* The stored JSON of event id (malloc'd).  SC_ERR_NOTFOUND. */
int sc_events_get(sc_store *st, const char *id, char **json);

/* Appends to out (zeroed by the caller) the pending deliveries due at
 * `now` (next_at <= now), earliest first, at most max. */
int sc_events_due(sc_store *st, int64_t now, size_t max, sc_delivery_list *out);

/* The earliest next_at of a pending delivery; *any = 0 when none. */
int sc_events_next_due(sc_store *st, int64_t *next_at, int *any);

/* Takes pending delivery id for one attempt: moves its next_at from
 * seen_next_at (what sc_events_due read) to lease_until, so that another
 * replica sharing the database does not attempt it too; if this one dies
 * during the attempt, the delivery is due again at lease_until.  0, or
 * SC_ERR_STATE when another replica took it first (or it is no longer
 * pending). */
int sc_events_take(sc_store *st, int64_t id, int64_t seen_next_at, int64_t lease_until);

/* Records an attempt of delivery id made at `now`: status DELIVERED,
 * FAILED, or PENDING with the next attempt at next_at.  http_status 0: no
 * answer; error NULL: none (cut to SC_EVENTS_ERROR_MAX_BYTES).
 * SC_ERR_NOTFOUND when the delivery is not pending. */
int sc_events_attempted(sc_store *st, int64_t id, sc_delivery_status status, long http_status, const char *error,
                        int64_t now, int64_t next_at);

/* Fails every pending delivery whose hook is not one of keys[0..n) (those
 * webhooks are no longer configured), with error.  *nfailed (may be NULL)
 * gets how many. */
int sc_events_fail_unconfigured(sc_store *st, const char *const *keys, size_t n, const char *error, int64_t now,
                                int64_t *nfailed);

/* Deliveries of event id (NULL: all), oldest first, at most max. */
int sc_events_list(sc_store *st, const char *event_id, size_t max, sc_delivery_list *out);

/* Deliveries with status (-1: any), newest first, at most max: what
 * `customs events` shows. */
int sc_events_recent(sc_store *st, int status, size_t max, sc_delivery_list *out);

/* Number of deliveries with status (-1: any), and of events. */
int sc_events_count(sc_store *st, int status, int64_t *ndeliveries, int64_t *nevents);

/* Deletes delivered and failed deliveries created before `before`, then
 * the events recorded before it that have no pending delivery left. */
int sc_events_prune(sc_store *st, int64_t before);
#endif
