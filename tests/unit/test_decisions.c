/* test_decisions.c - the decisions log (sc_decisions): a batch is appended
 * in one transaction with every field, purged by age, and the table comes
 * from the store's migrations, also over a database whose table the gate
 * created before it was a migration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_decisions.h"
#include "sc_store.h"
#include "sc_store_int.h" /* white box: read the table back */
#include "tap.h"

static long long n_rows(sc_store *st, const char *sql) {
  sc_db_stmt *s;
  long long n = -1;
  if (sc_db_prepare(st->db, sql, 0, &s)) return -2;
  if (sc_db_step(s) == SC_DB_ROW) n = sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return n;
}

static const char *text(sc_store *st, const char *sql) {
  static char buf[256];
  sc_db_stmt *s;
  snprintf(buf, sizeof(buf), "(none)");
  if (sc_db_prepare(st->db, sql, 0, &s)) return "(sql error)";
  if (sc_db_step(s) == SC_DB_ROW)
    snprintf(buf, sizeof(buf), "%s", sc_db_column_text(s, 0) ? sc_db_column_text(s, 0) : "NULL");
  sc_db_finalize(s);
  return buf;
}

static void test_append_purge(void) {
  sc_store *st;
  CHECK_INT(sc_store_open(":memory:", &st), 0, "open");
  CHECK_INT(n_rows(st, "SELECT count(*) FROM decisions"), 0, "decisions table exists, empty");
  sc_decision_row rows[3] = {
      {100, "127.0.0.1", "shop/app", "v1", "sha256:aa", "GET", "deny", "no-critical", "skopeo/1.0"},
      {200, "127.0.0.1", "shop/app", "v2", "sha256:bb", "HEAD", "allow", NULL, "curl/8"},
      {300, "::1", "team/x", "latest", "", "GET", "unscanned", NULL, ""},
  };
  CHECK_INT(sc_decisions_append(st, rows, 3), 0, "append a batch");
  CHECK_INT(n_rows(st, "SELECT count(*) FROM decisions"), 3, "three rows");
  CHECK_STR(text(st, "SELECT repository || ' ' || reference || ' ' || digest || ' ' || method || ' ' || verdict"
                     " || ' ' || rule || ' ' || user_agent || ' ' || client FROM decisions WHERE at = 100"),
            "shop/app v1 sha256:aa GET deny no-critical skopeo/1.0 127.0.0.1", "every field stored");
  CHECK_STR(text(st, "SELECT rule FROM decisions WHERE at = 200"), "NULL", "no rule: NULL");
  CHECK_INT(n_rows(st, "SELECT count(*) FROM decisions WHERE repository = 'shop/app' AND verdict = 'deny'"), 1,
            "the gate test's question");
  CHECK_INT(sc_decisions_append(st, rows, 0), 0, "an empty batch");
  CHECK_INT(sc_decisions_append(NULL, rows, 1), SC_ERR_ARG, "no store");
  CHECK_INT(sc_decisions_purge_before(st, 200), 0, "purge before 200");
  CHECK_INT(n_rows(st, "SELECT count(*) FROM decisions"), 2, "the older one gone");
  CHECK_INT(n_rows(st, "SELECT min(at) FROM decisions"), 200, "the one at the limit kept");
  /* a batch that cannot start records nothing and says why */
  sc_store *other;
  char path[] = "/tmp/test_decisions.XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  CHECK_INT(sc_store_open(path, &other), 0, "open a file database");
  sc_store *second;
  CHECK_INT(sc_store_open(path, &second), 0, "a second connection");
  CHECK_INT(sc_db_busy_timeout(second->db, 50), 0, "a short busy timeout");
  CHECK_INT(sc_store_write_begin(other, 0), 0, "the first holds the write lock");
  CHECK_INT(sc_decisions_append(second, rows, 1), SC_ERR_DB, "the second cannot write meanwhile");
  CHECK(strstr(sc_store_errmsg(second), "locked") != NULL, "and says why (%s)", sc_store_errmsg(second));
  CHECK_INT(sc_store_write_end(other, 0), 0, "the first rolls back");
  CHECK_INT(sc_decisions_append(second, rows, 1), 0, "then the second can");
  CHECK_INT(n_rows(other, "SELECT count(*) FROM decisions"), 1, "one row, seen by the other connection");
  sc_store_close(second);
  sc_store_close(other);
  sc_store_close(st);
  unlink(path);
  char wal[64];
  snprintf(wal, sizeof(wal), "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof(wal), "%s-shm", path);
  unlink(wal);
}

/* Before migration 6 the gate created the table itself: such a database
 * migrates with its rows kept. */
static void test_old_gate_table(void) {
  char path[] = "/tmp/test_decisions_old.XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  sc_store *st;
  CHECK_INT(sc_store_open(path, &st), 0, "open");
  int latest = sc_store_schema_version(st);
  CHECK(latest >= 6, "schema has the decisions step (%d)", latest);
  /* back to schema 5 with the table as the gate made it, holding a row */
  CHECK_INT(sc_db_exec(st->db,
                         "DROP TABLE decisions; DELETE FROM schema_version WHERE version >= 6;"
                         /* and the tables of the steps after 6 (lineage, events) */
                         "DROP TABLE deliveries; DROP TABLE events; DROP TABLE watched; DROP TABLE tag_history;"
                         "DROP TABLE chain_children; DROP TABLE chain_layers; DROP TABLE chain_images;"
                         "DROP TABLE referrers; DROP TABLE annotations; DROP TABLE source_validators; DROP TABLE vex_documents;"
                         "DROP TABLE cve_scores; DROP TABLE vuln_ratings;"
                         "DROP TABLE replicas; DROP TABLE layer_claims; DROP TABLE verdict_epoch; DROP TABLE leases;"
                         "CREATE TABLE IF NOT EXISTS decisions(id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
                         " client TEXT, repository TEXT, reference TEXT, digest TEXT, method TEXT,"
                         " verdict TEXT NOT NULL, rule TEXT, user_agent TEXT);"
                         "CREATE INDEX IF NOT EXISTS decisions_repo ON decisions(repository, at);"
                         "INSERT INTO decisions(at, verdict) VALUES (42, 'deny');"),
            0, "a schema-5 database with the gate's table");
  sc_store_close(st);
  CHECK_INT(sc_store_open(path, &st), 0, "reopen: migrates");
  CHECK_INT(sc_store_schema_version(st), latest, "at the latest schema");
  CHECK_INT(n_rows(st, "SELECT count(*) FROM decisions WHERE at = 42"), 1, "the old row kept");
  sc_store_close(st);
  unlink(path);
}

int main(void) {
  test_append_purge();
  test_old_gate_table();
  return tap_done();
}
