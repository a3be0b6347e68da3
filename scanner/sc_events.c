/* sc_events.c - events and webhook deliveries in SQLite, tables events and
 * deliveries (migration 7).  See sc_events.h.
 * Owner: store.  Thread: the handle's.  Errors: see the header. */
#include "sc_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_store_int.h"

static const char *const STATUS[] = {"pending", "delivered", "failed"};

const char *sc_delivery_status_name(sc_delivery_status s) { return (unsigned)s < 3 ? STATUS[s] : "failed"; }

static sc_delivery_status status_of(const char *s) {
  for (int i = 0; i < 3; i++)
    if (s && !strcmp(s, STATUS[i])) return (sc_delivery_status)i;
  return SC_DELIVERY_FAILED;
}

void sc_delivery_list_free(sc_delivery_list *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].hook);
    free(l->v[i].url);
    free(l->v[i].body);
    free(l->v[i].last_error);
  }
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

static const char SQL_INS_EVENT[] = "INSERT INTO events(id, type, at, payload) VALUES (?,?,?,?)";
static const char SQL_INS_DELIVERY[] =
    "INSERT INTO deliveries(event, hook, url, body, status, attempts, next_at, created_at)"
    " VALUES (?,?,?,?,'pending',0,?,?)";
/* the oldest pending rows past the cap: `?` is how many to keep */
static const char SQL_OVERFLOW[] =
    "UPDATE deliveries SET status='failed', last_error='" SC_EVENTS_OVERFLOW_ERROR "'"
    " WHERE id IN (SELECT id FROM deliveries WHERE status='pending' ORDER BY id DESC LIMIT -1 OFFSET ?)";
/* SQLITE-ONLY above: SQLite needs a LIMIT before OFFSET (-1: none), which
 * PostgreSQL refuses; its text has the OFFSET alone */
static const char SQL_OVERFLOW_PG[] =
    "UPDATE deliveries SET status='failed', last_error='" SC_EVENTS_OVERFLOW_ERROR "'"
    " WHERE id IN (SELECT id FROM deliveries WHERE status='pending' ORDER BY id DESC OFFSET ?)";

int sc_events_record(sc_store *st, const char *id, const char *type, int64_t at, const char *event_json,
                     const sc_delivery_new *d, size_t n) {
  if (!st || !id || !type || !event_json || (n && !d)) return SC_ERR_ARG;
  int rv = sc_store_write_begin(st, 0);
  if (rv) return rv;
  sc_db_stmt *s = sc_store_stmt(st, SQL_INS_EVENT);
  if (!s) return sc_store_rollback_rv(st, SC_ERR_DB);
  sc_store_bind_text(s, 1, id);
  sc_store_bind_text(s, 2, type);
  sc_db_bind_int64(s, 3, at);
  sc_store_bind_text(s, 4, event_json);
  if (sc_store_step_done(s)) return sc_store_rollback_rv(st, SC_ERR_DB);
  for (size_t i = 0; i < n; i++) {
    if (!d[i].hook || !d[i].url || !d[i].body) return sc_store_rollback_rv(st, SC_ERR_ARG);
    if (!(s = sc_store_stmt(st, SQL_INS_DELIVERY))) return sc_store_rollback_rv(st, SC_ERR_DB);
    sc_store_bind_text(s, 1, id);
    sc_store_bind_text(s, 2, d[i].hook);
    sc_store_bind_text(s, 3, d[i].url);
    sc_store_bind_text(s, 4, d[i].body);
    sc_db_bind_int64(s, 5, at);
    sc_db_bind_int64(s, 6, at);
    if (sc_store_step_done(s)) return sc_store_rollback_rv(st, SC_ERR_DB);
  }
  if (n) {
    if (!(s = sc_store_stmt(st, sc_db_dialect(st->db) == SC_DB_PG ? SQL_OVERFLOW_PG : SQL_OVERFLOW)))
      return sc_store_rollback_rv(st, SC_ERR_DB);
    sc_db_bind_int64(s, 1, SC_EVENTS_MAX_PENDING);
    if (sc_store_step_done(s)) return sc_store_rollback_rv(st, SC_ERR_DB);
  }
  return sc_store_write_end(st, 1);
}

int sc_events_get(sc_store *st, const char *id, char **json) {
  if (!st || !id || !json) return SC_ERR_ARG;
  *json = NULL;
  sc_db_stmt *s;
  if (sc_store_prep(st, "SELECT payload FROM events WHERE id = ?", &s)) return SC_ERR_DB;
  sc_store_bind_text(s, 1, id);
  int rc = sc_db_step(s), rv = 0;
  if (rc == SC_DB_ROW) *json = sc_store_col_dup(s, 0, &rv);
  else rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

#define DELIVERY_COLS                                                                                         \
  "SELECT d.id, d.event, e.type, d.hook, d.url, d.body, d.status, d.attempts, d.next_at, d.last_status,"      \
  " d.last_error, d.created_at, d.delivered_at FROM deliveries d JOIN events e ON e.id = d.event "

/* Appends the rows of s (DELIVERY_COLS) to out, at most max. */
static int read_deliveries(sc_db_stmt *s, size_t max, sc_delivery_list *out) {
  int rc, rv = 0;
  while (out->n < max && (rc = sc_db_step(s)) == SC_DB_ROW) {
    sc_delivery *nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
    if (!nv) return SC_ERR_NOMEM;
    out->v = nv;
    sc_delivery *d = &out->v[out->n++];
    memset(d, 0, sizeof(*d));
    d->id = sc_db_column_int64(s, 0);
    sc_store_col_copy(s, 1, d->event, sizeof(d->event));
    sc_store_col_copy(s, 2, d->type, sizeof(d->type));
    d->hook = sc_store_col_dup(s, 3, &rv);
    d->url = sc_store_col_dup(s, 4, &rv);
    d->body = sc_store_col_dup(s, 5, &rv);
    d->status = status_of(sc_db_column_text(s, 6));
    d->attempts = (int)sc_db_column_int64(s, 7);
    d->next_at = sc_db_column_int64(s, 8);
    d->last_status = (long)sc_db_column_int64(s, 9);
    d->last_error = sc_store_col_dup(s, 10, &rv);
    d->created_at = sc_db_column_int64(s, 11);
    d->delivered_at = sc_db_column_int64(s, 12);
    if (rv) return rv;
    if (!d->hook || !d->url || !d->body) return SC_ERR_NOMEM; /* NOT NULL columns */
  }
  if (out->n < max && rc != SC_DB_DONE) return SC_ERR_DB;
  return 0;
}

int sc_events_due(sc_store *st, int64_t now, size_t max, sc_delivery_list *out) {
  if (!st || !out) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, DELIVERY_COLS "WHERE d.status = 'pending' AND d.next_at <= ? ORDER BY d.next_at, d.id", &s))
    return SC_ERR_DB;
  sc_db_bind_int64(s, 1, now);
  int rv = read_deliveries(s, max, out);
  sc_db_finalize(s);
  return rv;
}

int sc_events_next_due(sc_store *st, int64_t *next_at, int *any) {
  if (!st || !next_at || !any) return SC_ERR_ARG;
  sc_db_stmt *s;
  *any = 0;
  if (sc_store_prep(st, "SELECT min(next_at) FROM deliveries WHERE status = 'pending'", &s)) return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW && !sc_db_column_is_null(s, 0)) {
    *any = 1;
    *next_at = sc_db_column_int64(s, 0);
  }
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

int sc_events_take(sc_store *st, int64_t id, int64_t seen_next_at, int64_t lease_until) {
  if (!st) return SC_ERR_ARG;
  sc_db_stmt *s;
  /* compare and set: of two replicas that read the same row, one changes it */
  if (sc_store_prep(st, "UPDATE deliveries SET next_at = ? WHERE id = ? AND status = 'pending' AND next_at = ?", &s))
    return SC_ERR_DB;
  sc_db_bind_int64(s, 1, lease_until);
  sc_db_bind_int64(s, 2, id);
  sc_db_bind_int64(s, 3, seen_next_at);
  int rc = sc_db_step(s);
  sc_db_finalize(s);
  if (rc != SC_DB_DONE) return SC_ERR_DB;
  return sc_db_changes(st->db) == 1 ? 0 : SC_ERR_STATE;
}

int sc_events_attempted(sc_store *st, int64_t id, sc_delivery_status status, long http_status, const char *error,
                        int64_t now, int64_t next_at) {
  if (!st || (unsigned)status > SC_DELIVERY_FAILED) return SC_ERR_ARG;
  char err[SC_EVENTS_ERROR_MAX_BYTES + 1];
  if (error) snprintf(err, sizeof(err), "%s", error);
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?,"
                    " next_at = ?, delivered_at = ? WHERE id = ? AND status = 'pending'",
                    &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, sc_delivery_status_name(status));
  if (http_status) sc_db_bind_int64(s, 2, http_status);
  sc_store_bind_text(s, 3, error ? err : NULL);
  sc_db_bind_int64(s, 4, status == SC_DELIVERY_PENDING ? next_at : now);
  if (status == SC_DELIVERY_DELIVERED) sc_db_bind_int64(s, 5, now);
  sc_db_bind_int64(s, 6, id);
  int rc = sc_db_step(s);
  sc_db_finalize(s);
  if (rc != SC_DB_DONE) return SC_ERR_DB;
  return sc_db_changes(st->db) == 1 ? 0 : SC_ERR_NOTFOUND;
}

int sc_events_fail_unconfigured(sc_store *st, const char *const *keys, size_t n, const char *error, int64_t now,
                                int64_t *nfailed) {
  if (!st || (n && !keys)) return SC_ERR_ARG;
  if (nfailed) *nfailed = 0;
  sc_db_stmt *s;
  char **gone = NULL;
  size_t ngone = 0;
  int rc, rv = 0;
  if (sc_store_prep(st, "SELECT DISTINCT hook FROM deliveries WHERE status = 'pending'", &s)) return SC_ERR_DB;
  while ((rc = sc_db_step(s)) == SC_DB_ROW && !rv) {
    const char *h = sc_db_column_text(s, 0);
    size_t i = 0;
    while (i < n && strcmp(keys[i], h)) i++;
    if (i < n) continue;
    char **ng = realloc(gone, (ngone + 1) * sizeof(*ng));
    if (!ng || !(ng[ngone] = strdup(h))) {
      if (ng) gone = ng;
      rv = SC_ERR_NOMEM;
      break;
    }
    gone = ng;
    ngone++;
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  if (!rv && ngone && !(rv = sc_store_write_begin(st, 0))) {
    if (sc_store_prep(st,
                      "UPDATE deliveries SET status = 'failed', last_error = ?, next_at = ?"
                      " WHERE hook = ? AND status = 'pending'",
                      &s)) {
      rv = sc_store_rollback_rv(st, SC_ERR_DB);
    } else {
      for (size_t i = 0; i < ngone && !rv; i++) {
        sc_store_bind_text(s, 1, error ? error : "webhook no longer configured");
        sc_db_bind_int64(s, 2, now);
        sc_store_bind_text(s, 3, gone[i]);
        if (sc_store_step_done(s)) rv = SC_ERR_DB;
        else if (nfailed) *nfailed += sc_db_changes(st->db);
      }
      sc_db_finalize(s);
      rv = rv ? sc_store_rollback_rv(st, rv) : sc_store_write_end(st, 1);
    }
  }
  for (size_t i = 0; i < ngone; i++) free(gone[i]);
  free(gone);
  return rv;
}

int sc_events_list(sc_store *st, const char *event_id, size_t max, sc_delivery_list *out) {
  if (!st || !out) return SC_ERR_ARG;
  sc_db_stmt *s;
  /* CAST: `?1 IS NULL` alone leaves ?1's type open, which PostgreSQL refuses */
  if (sc_store_prep(st, DELIVERY_COLS "WHERE CAST(?1 AS TEXT) IS NULL OR d.event = ?1 ORDER BY d.id", &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, event_id);
  int rv = read_deliveries(s, max, out);
  sc_db_finalize(s);
  return rv;
}

int sc_events_recent(sc_store *st, int status, size_t max, sc_delivery_list *out) {
  if (!st || !out) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, DELIVERY_COLS "WHERE CAST(?1 AS TEXT) IS NULL OR d.status = ?1 ORDER BY d.id DESC", &s))
    return SC_ERR_DB;
  int rv = sc_store_bind_text(s, 1, status < 0 ? NULL : sc_delivery_status_name((sc_delivery_status)status));
  if (!rv) rv = read_deliveries(s, max, out);
  sc_db_finalize(s);
  return rv;
}

int sc_events_count(sc_store *st, int status, int64_t *ndeliveries, int64_t *nevents) {
  if (!st) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    "SELECT (SELECT count(*) FROM deliveries WHERE CAST(?1 AS TEXT) IS NULL OR status = ?1),"
                    " (SELECT count(*) FROM events)",
                    &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, status < 0 ? NULL : sc_delivery_status_name((sc_delivery_status)status));
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) {
    if (ndeliveries) *ndeliveries = sc_db_column_int64(s, 0);
    if (nevents) *nevents = sc_db_column_int64(s, 1);
  }
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

int sc_events_prune(sc_store *st, int64_t before) {
  if (!st) return SC_ERR_ARG;
  int rv = sc_store_write_begin(st, 0);
  if (rv) return rv;
  sc_db_stmt *s;
  static const char *const SQL[] = {
      "DELETE FROM deliveries WHERE status IN ('delivered','failed') AND created_at < ?",
      "DELETE FROM events WHERE at < ? AND NOT EXISTS"
      " (SELECT 1 FROM deliveries d WHERE d.event = events.id AND d.status = 'pending')",
  };
  for (int i = 0; i < 2; i++) {
    if (sc_store_prep(st, SQL[i], &s)) return sc_store_rollback_rv(st, SC_ERR_DB);
    sc_db_bind_int64(s, 1, before);
    rv = sc_store_step_done(s);
    sc_db_finalize(s);
    if (rv) return sc_store_rollback_rv(st, SC_ERR_DB);
  }
  return sc_store_write_end(st, 1);
}
