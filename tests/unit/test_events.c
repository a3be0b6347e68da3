/* test_events.c - the outbox (sc_events) against a real store: an event
 * and its deliveries are recorded together; due deliveries come out by
 * next_at; attempts are recorded (delivered, retried, failed); webhooks no
 * longer configured are failed; the pending cap and pruning keep the
 * tables bounded; and a reopened file database still has what was pending
 * (a restart). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_events.h"
#include "sc_store.h"
#include "sc_store_int.h" /* white box: count rows */
#include "tap.h"

static long long n_rows(sc_store *st, const char *sql) {
  sc_db_stmt *s;
  long long n = -1;
  if (sc_db_prepare(st->db, sql, 0, &s)) return -2;
  if (sc_db_step(s) == SC_DB_ROW) n = sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return n;
}

static const sc_delivery_new TWO[] = {
    {"generic http://127.0.0.1:1/a", "http://127.0.0.1:1/a", "{\"id\":\"e1\"}"},
    {"github http://127.0.0.1:1/b", "http://127.0.0.1:1/b", "{\"event_type\":\"customs-x\"}"},
};

static void test_record_due_attempt(void) {
  sc_store *st;
  CHECK(sc_store_open(":memory:", &st) == 0, "open :memory:");
  CHECK(sc_events_record(st, "e1", "scan-completed", 1000, "{\"id\":\"e1\"}", TWO, 2) == 0, "record e1 + 2");
  CHECK(sc_events_record(st, "e1", "scan-completed", 1000, "{}", TWO, 1) == SC_ERR_DB, "same id refused");
  int64_t nd = -1, ne = -1;
  sc_events_count(st, -1, &nd, &ne);
  CHECK(nd == 2 && ne == 1, "the refused record wrote nothing (%lld deliveries, %lld events)", (long long)nd,
        (long long)ne);
  char *json = NULL;
  CHECK(sc_events_get(st, "e1", &json) == 0 && json && !strcmp(json, "{\"id\":\"e1\"}"), "event JSON stored");
  free(json);
  CHECK(sc_events_get(st, "nope", &json) == SC_ERR_NOTFOUND, "unknown event: NOTFOUND");

  sc_delivery_list due = {0};
  CHECK(sc_events_due(st, 999, 10, &due) == 0 && due.n == 0, "nothing due before its time");
  CHECK(sc_events_due(st, 1000, 10, &due) == 0 && due.n == 2, "both due at their time");
  CHECK(due.n == 2 && !strcmp(due.v[0].event, "e1") && !strcmp(due.v[0].type, "scan-completed") &&
            !strcmp(due.v[1].body, TWO[1].body) && !strcmp(due.v[1].hook, TWO[1].hook) &&
            due.v[0].status == SC_DELIVERY_PENDING && due.v[0].attempts == 0,
        "delivery rows carry event, type, hook, body");
  int64_t id0 = due.n ? due.v[0].id : 0, id1 = due.n > 1 ? due.v[1].id : 0;
  sc_delivery_list_free(&due);

  CHECK(sc_events_attempted(st, id0, SC_DELIVERY_DELIVERED, 200, NULL, 1001, 1001) == 0, "first delivered");
  CHECK(sc_events_attempted(st, id0, SC_DELIVERY_DELIVERED, 200, NULL, 1002, 1002) == SC_ERR_NOTFOUND,
        "a delivered row is not attempted again");
  CHECK(sc_events_attempted(st, id1, SC_DELIVERY_PENDING, 503, "HTTP 503", 1001, 1003) == 0, "second retried");
  CHECK(sc_events_due(st, 1002, 10, &due) == 0 && due.n == 0, "the retry is not due before next_at");
  sc_delivery_list_free(&due);
  int64_t next = 0;
  int any = 0;
  CHECK(sc_events_next_due(st, &next, &any) == 0 && any && next == 1003, "next due at 1003");
  CHECK(sc_events_due(st, 1003, 10, &due) == 0 && due.n == 1 && due.v[0].attempts == 1 &&
            due.v[0].last_status == 503 && due.v[0].last_error && !strcmp(due.v[0].last_error, "HTTP 503"),
        "the retry is due at next_at with its attempt recorded");
  sc_delivery_list_free(&due);
  CHECK(sc_events_attempted(st, id1, SC_DELIVERY_FAILED, 0, "connection refused", 1004, 1004) == 0, "failed");
  sc_delivery_list l = {0};
  CHECK(sc_events_list(st, "e1", 10, &l) == 0 && l.n == 2, "list the event's deliveries");
  CHECK(l.n == 2 && l.v[0].status == SC_DELIVERY_DELIVERED && l.v[0].delivered_at == 1001 && l.v[0].attempts == 1 &&
            l.v[1].status == SC_DELIVERY_FAILED && l.v[1].attempts == 2 && l.v[1].last_status == 0,
        "statuses, attempts and times as recorded");
  sc_delivery_list_free(&l);
  CHECK(sc_events_next_due(st, &next, &any) == 0 && !any, "nothing pending");
  sc_store_close(st);
}

static void test_unconfigured(void) {
  sc_store *st;
  sc_store_open(":memory:", &st);
  sc_events_record(st, "e1", "pull-denied", 10, "{}", TWO, 2);
  const char *keys[] = {TWO[1].hook};
  int64_t nf = -1;
  CHECK(sc_events_fail_unconfigured(st, keys, 1, "gone", 11, &nf) == 0 && nf == 1, "one hook gone: 1 failed");
  sc_delivery_list l = {0};
  sc_events_list(st, NULL, 10, &l);
  CHECK(l.n == 2 && l.v[0].status == SC_DELIVERY_FAILED && l.v[0].last_error && !strcmp(l.v[0].last_error, "gone") &&
            l.v[1].status == SC_DELIVERY_PENDING,
        "the unconfigured hook's delivery failed with the error, the other stays pending");
  sc_delivery_list_free(&l);
  CHECK(sc_events_fail_unconfigured(st, NULL, 0, NULL, 12, &nf) == 0 && nf == 1, "no hooks: the rest failed");
  sc_store_close(st);
}

static void test_cap_and_prune(void) {
  sc_store *st;
  sc_store_open(":memory:", &st);
  char id[32];
  /* fill to the cap, then one more event of two deliveries */
  sc_store_write_begin(st, 1);
  for (int i = 0; i < SC_EVENTS_MAX_PENDING; i++) {
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO events VALUES ('f%d','scan-completed',5,'{}');"
             "INSERT INTO deliveries(event,hook,url,body,status,next_at,created_at)"
             " VALUES ('f%d','h','u','b','pending',5,5)",
             i, i);
    sc_store_exec(st, sql);
  }
  sc_store_write_end(st, 1);
  CHECK(n_rows(st, "SELECT count(*) FROM deliveries WHERE status='pending'") == SC_EVENTS_MAX_PENDING, "at the cap");
  CHECK(sc_events_record(st, "new", "scan-completed", 6, "{}", TWO, 2) == 0, "record past the cap");
  CHECK(n_rows(st, "SELECT count(*) FROM deliveries WHERE status='pending'") == SC_EVENTS_MAX_PENDING,
        "pending stays at the cap");
  CHECK(n_rows(st, "SELECT count(*) FROM deliveries WHERE status='failed' AND event IN ('f0','f1')"
                   " AND last_error='" SC_EVENTS_OVERFLOW_ERROR "'") == 2,
        "the two oldest were failed as overflow");
  CHECK(n_rows(st, "SELECT count(*) FROM deliveries WHERE event='new' AND status='pending'") == 2,
        "the new ones are pending");

  /* prune: finished rows before the cut-off go, pending ones and their events stay */
  sc_store_exec(st, "UPDATE deliveries SET status='delivered' WHERE event IN ('f2','f3')");
  snprintf(id, sizeof(id), "late");
  sc_events_record(st, id, "pull-denied", 100, "{}", TWO, 1);
  sc_events_attempted(st, (int64_t)n_rows(st, "SELECT id FROM deliveries WHERE event='late'"), SC_DELIVERY_DELIVERED,
                      200, NULL, 100, 100);
  CHECK(sc_events_prune(st, 50) == 0, "prune before 50");
  CHECK(n_rows(st, "SELECT count(*) FROM deliveries WHERE event IN ('f0','f1','f2','f3')") == 0,
        "finished deliveries before the cut-off deleted");
  CHECK(n_rows(st, "SELECT count(*) FROM events WHERE id IN ('f0','f1','f2','f3')") == 0,
        "their events deleted");
  CHECK(n_rows(st, "SELECT count(*) FROM events WHERE id='f4'") == 1 &&
            n_rows(st, "SELECT count(*) FROM deliveries WHERE event='f4' AND status='pending'") == 1,
        "an old event with a pending delivery is kept");
  CHECK(n_rows(st, "SELECT count(*) FROM deliveries WHERE event='late'") == 1, "a recent delivered one is kept");
  CHECK(sc_events_prune(st, 101) == 0 && n_rows(st, "SELECT count(*) FROM events WHERE id='late'") == 0,
        "and goes once older than the cut-off");
  sc_store_close(st);
}

static void test_restart(void) {
  char path[] = "/tmp/test_events_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  sc_store *st;
  CHECK(sc_store_open(path, &st) == 0, "open a file database");
  sc_events_record(st, "r1", "base-image-updated", 20, "{\"id\":\"r1\"}", TWO, 2);
  sc_delivery_list due = {0};
  sc_events_due(st, 20, 10, &due);
  if (due.n) sc_events_attempted(st, due.v[0].id, SC_DELIVERY_PENDING, 503, "HTTP 503", 21, 22);
  sc_delivery_list_free(&due);
  sc_store_close(st); /* the process ends */
  CHECK(sc_store_open(path, &st) == 0, "reopen it");
  CHECK(sc_events_due(st, 22, 10, &due) == 0 && due.n == 2, "both deliveries are pending after the reopen");
  CHECK(due.n == 2 && due.v[0].attempts + due.v[1].attempts == 1 && !strcmp(due.v[0].event, "r1") &&
            !strcmp(due.v[0].type, "base-image-updated"),
        "with their attempts and event");
  sc_delivery_list_free(&due);
  sc_store_close(st);
  unlink(path);
  char wal[64];
  snprintf(wal, sizeof(wal), "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof(wal), "%s-shm", path);
  unlink(wal);
}

int main(void) {
  test_record_due_attempt();
  test_unconfigured();
  test_cap_and_prune();
  test_restart();
  return tap_done();
}
