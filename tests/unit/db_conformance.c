/* db_conformance.c - the sc_db promises (sc_db.h), asserted against one
 * live database: the same program runs against SQLite and PostgreSQL
 * (tests/integration/test_db_backend.sh), so both backends keep the same
 * behaviour.  A check program, not a unit test: it needs a database.
 *
 * Usage: db_conformance URL [BAD_URL SECRET]
 *   URL      the database to test (an empty one: tables are created)
 *   BAD_URL  a URL of the same server with a wrong password SECRET: opening
 *            it must fail with a message that does not contain SECRET.
 *        db_conformance --reconnect PG_URL SECRET
 *   PostgreSQL only: a lost connection (sc_db.h, "Lost connections"), with
 *   the server terminated, restarted, stopped and started again under the
 *   program's feet through the shell commands in $DBC_PG_RESTART,
 *   $DBC_PG_STOP and $DBC_PG_START (db_reconnect.c); SECRET, the URL's
 *   password, must be in no message.
 * Prints TAP; "# rss_growth_kib N rows M" lines give the streaming cost. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sc_db.h"
#include "tap.h"

#define BIG_ROWS 100000        /* rows of the streamed SELECT */
#define BIG_PAD_BYTES 200      /* text per big row: 20 MB in all */
#define BIG_RSS_MAX_KIB 8192   /* a streamed SELECT stays under this growth */
#define SPILL_RSS_MAX_KIB 49152 /* a spilled one: its 20 MB of text, packed */
#define ERR_BYTES 512
#define BUSY_MS 200            /* the second writer's busy timeout in busy() */
#define BUSY_SLACK_S 3.0       /* it must give up within BUSY_MS plus this */

static const char *url;

/* current resident set (VmRSS), KiB; -1 when unknown */
static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, "VmRSS:", 6)) v = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return v;
}

static long maxrss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sc_db *open_db(int busy_ms) {
  char err[ERR_BYTES];
  sc_db_opts o = {.busy_ms = busy_ms};
  sc_db *db = NULL;
  if (sc_db_open(url, &o, &db, err, sizeof(err))) printf("# open: %s\n", err);
  return db;
}

/* one-row query returning its first column as an integer (-1 on error) */
static int64_t scalar(sc_db *db, const char *sql) {
  sc_db_stmt *s;
  if (sc_db_prepare(db, sql, 0, &s)) return printf("# %s: %s\n", sql, sc_db_errmsg(db)), -1;
  int64_t v = sc_db_step(s) == SC_DB_ROW ? sc_db_column_int64(s, 0) : -1;
  sc_db_finalize(s);
  return v;
}

static const char *QUOTES = "it's \"quoted\" ? -- not a comment /* nor this */ $$ nor $$";
static const char *UTF8 = "na\xc3\xafve \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80";
static char binish[160];

static void types(sc_db *db) {
  for (int i = 1; i < 128; i++) binish[i - 1] = (char)i; /* every byte but NUL below 0x80 */
  CHECK(!sc_db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n BIGINT,"
                        " x DOUBLE PRECISION, flag BOOLEAN, note TEXT);"
                        "CREATE TABLE big (i BIGINT PRIMARY KEY, pad TEXT NOT NULL)"),
        "exec: two CREATE TABLEs in one text (%s)", sc_db_errmsg(db));
  sc_db_stmt *ins;
  CHECK(!sc_db_prepare(db, "INSERT INTO t (id, name, n, x, flag, note) VALUES (?, ?, ?, ?, ?, ?)",
                       SC_DB_PREP_PERSISTENT, &ins),
        "prepare insert (%s)", sc_db_errmsg(db));
  struct {
    int64_t id;
    const char *name;
    int64_t n;
    double x;
    int flag;
    const char *note;
  } rows[] = {{1, QUOTES, INT64_MAX, 3.141592653589793, 1, "a"},
              {2, UTF8, INT64_MIN, -1e300, 0, NULL},
              {3, binish, 0, 0.1, 1, "c"},
              {4, "", -1, 5e-324, 0, "d"}};
  int okall = 1;
  for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
    int rc = sc_db_bind_int64(ins, 1, rows[r].id) | sc_db_bind_text(ins, 2, rows[r].name) |
             sc_db_bind_int64(ins, 3, rows[r].n) | sc_db_bind_double(ins, 4, rows[r].x) |
             sc_db_bind_int64(ins, 5, rows[r].flag) |
             (rows[r].note ? sc_db_bind_text(ins, 6, rows[r].note) : sc_db_bind_null(ins, 6));
    int st = sc_db_step(ins);
    if (rc || st != SC_DB_DONE) printf("# insert %zu: %s\n", r, sc_db_errmsg(db)), okall = 0;
    if (sc_db_changes(db) != 1) okall = 0;
    sc_db_reset(ins);
  }
  CHECK(okall, "4 inserts with text/int64/double/boolean/NULL binds, changes() 1 each");
  CHECK(sc_db_bind_int64(ins, 7, 1) == SC_ERR_ARG, "bind index beyond the placeholders: SC_ERR_ARG");
  CHECK(sc_db_bind_text(ins, 0, "x") == SC_ERR_ARG, "bind index 0: SC_ERR_ARG");
  sc_db_finalize(ins);

  sc_db_stmt *s;
  CHECK(!sc_db_prepare(db, "SELECT id, name, n, x, flag, note FROM t WHERE id >= ?1 ORDER BY id", 0, &s),
        "prepare select");
  CHECK_INT(sc_db_column_count(s), 6, "column count known before the first step");
  sc_db_bind_int64(s, 1, 1);
  int n = 0, same = 1;
  while (sc_db_step(s) == SC_DB_ROW) {
    size_t r = (size_t)n++;
    const char *name = sc_db_column_text(s, 1), *note = sc_db_column_text(s, 5);
    if (sc_db_column_int64(s, 0) != rows[r].id || !name || strcmp(name, rows[r].name) ||
        sc_db_column_int64(s, 2) != rows[r].n || sc_db_column_double(s, 3) != rows[r].x ||
        sc_db_column_int64(s, 4) != rows[r].flag || (rows[r].note ? !note || strcmp(note, rows[r].note) : !!note) ||
        sc_db_column_is_null(s, 5) != !rows[r].note) {
      printf("# row %zu differs: name '%s' note '%s' n %" PRId64 " x %.17g flag %" PRId64 "\n", r, name ? name : "(null)",
             note ? note : "(null)", sc_db_column_int64(s, 2), sc_db_column_double(s, 3), sc_db_column_int64(s, 4));
      same = 0;
    }
  }
  CHECK(n == 4 && same, "read back: quotes, UTF-8, bytes 1..127, INT64 limits, exact doubles, 1/0 booleans, NULL "
                        "(%d rows)", n);
  CHECK(sc_db_column_text(s, 1) == NULL, "no row after the end: column text NULL");
  /* a step after the end runs the statement again with its bindings */
  CHECK(sc_db_step(s) == SC_DB_ROW && sc_db_column_int64(s, 0) == 1, "step after done re-runs (same binding)");
  sc_db_reset(s);
  CHECK(sc_db_step(s) == SC_DB_DONE, "after reset the binding is cleared: id >= NULL matches nothing");
  sc_db_finalize(s);

  CHECK(!sc_db_prepare(db, "UPDATE t SET note = ? WHERE id <= ?", 0, &s), "prepare update");
  sc_db_bind_text(s, 1, "u");
  sc_db_bind_int64(s, 2, 3);
  CHECK(sc_db_step(s) == SC_DB_DONE && sc_db_changes(db) == 3, "changes(): 3 rows updated");
  sc_db_finalize(s);
  CHECK(scalar(db, "SELECT count(*) FROM t") == 4 && sc_db_changes(db) == 3, "a SELECT leaves changes() as it was");
  CHECK(!sc_db_exec(db, "DELETE FROM t WHERE id = 4") && sc_db_changes(db) == 1, "exec DELETE: changes() 1");
  CHECK(!sc_db_exec(db, "INSERT INTO t (id, name) VALUES (4, 'four')"), "re-insert row 4");

  /* strict numbers: a text that is not a number fails the next step */
  CHECK(!sc_db_prepare(db, "SELECT name FROM t WHERE id = 4", 0, &s), "prepare text select");
  CHECK(sc_db_step(s) == SC_DB_ROW && sc_db_column_int64(s, 0) == 0, "text 'four' read as int64 gives 0 ...");
  CHECK(sc_db_step(s) == SC_ERR_DB && strstr(sc_db_errmsg(db), "not an integer"), "... and the next step fails: %s",
        sc_db_errmsg(db));
  sc_db_finalize(s);
}

static void unique_and_tx(sc_db *db) {
  int rc = sc_db_exec(db, "INSERT INTO t (id, name) VALUES (10, 'four')");
  CHECK(rc == SC_ERR_DB && sc_db_errclass(db) == SC_DB_EUNIQUE && !strcmp(sc_db_sqlstate(db), "23505"),
        "duplicate name: unique violation, SQLSTATE 23505 (%s)", sc_db_errmsg(db));
  sc_db_stmt *s;
  sc_db_prepare(db, "INSERT INTO t (id, name) VALUES (?, ?)", 0, &s);
  sc_db_bind_int64(s, 1, 1);
  sc_db_bind_text(s, 2, "fresh");
  CHECK(sc_db_step(s) == SC_ERR_DB && sc_db_errclass(db) == SC_DB_EUNIQUE, "duplicate primary key through a "
                                                                           "statement: unique violation too");
  sc_db_finalize(s);

  CHECK(!sc_db_in_transaction(db), "autocommit outside a transaction");
  CHECK(!sc_db_begin(db) && sc_db_in_transaction(db), "begin");
  CHECK(!sc_db_exec(db, "INSERT INTO t (id, name) VALUES (20, 'rolled back')"), "insert in the transaction");
  CHECK(scalar(db, "SELECT count(*) FROM t WHERE id = 20") == 1, "visible inside it");
  CHECK(!sc_db_rollback(db) && !sc_db_in_transaction(db), "rollback");
  CHECK(scalar(db, "SELECT count(*) FROM t WHERE id = 20") == 0, "gone after rollback");

  sc_db *other = open_db(50);
  CHECK(other != NULL, "second connection");
  /* busy_ms is SQLite's; PostgreSQL's BEGIN waits for the writer lock up
   * to lock_timeout, which only sc_db_busy_timeout sets */
  CHECK(!sc_db_busy_timeout(other, 50), "second connection: busy timeout 50 ms");
  CHECK(!sc_db_begin(db) && !sc_db_exec(db, "INSERT INTO t (id, name) VALUES (21, 'kept')"), "begin, insert");
  CHECK(scalar(other, "SELECT count(*) FROM t WHERE id = 21") == 0, "not visible to another connection before commit");
  CHECK(!sc_db_commit(db), "commit");
  CHECK(scalar(other, "SELECT count(*) FROM t WHERE id = 21") == 1, "visible to another connection after commit");

  /* a failed statement inside a transaction, then rollback: error kept */
  sc_db_begin(db);
  sc_db_exec(db, "INSERT INTO t (id, name) VALUES (22, 'four')");
  CHECK(!sc_db_rollback(db) && sc_db_errclass(db) == SC_DB_EUNIQUE, "rollback keeps the failure's error class");

  /* a failure inside a transaction: PostgreSQL has aborted it, and its
   * COMMIT must say so; SQLite undid the one statement and commits the rest */
  CHECK(!sc_db_begin(db) && !sc_db_exec(db, "INSERT INTO t (id, name) VALUES (23, 'before failure')") &&
            sc_db_exec(db, "INSERT INTO t (id, name) VALUES (24, 'four')") == SC_ERR_DB,
        "a unique violation inside a transaction");
  int crc = sc_db_commit(db);
  if (sc_db_dialect(db) == SC_DB_PG)
    CHECK(crc == SC_ERR_DB && !strcmp(sc_db_sqlstate(db), "25P02") &&
              scalar(db, "SELECT count(*) FROM t WHERE id = 23") == 0,
          "pg: its COMMIT fails (25P02), nothing of it stays (%s)", sc_db_errmsg(db));
  else
    CHECK(crc == 0 && scalar(db, "SELECT count(*) FROM t WHERE id = 23") == 1,
          "sqlite: its COMMIT keeps the statements that succeeded");
  CHECK(!sc_db_in_transaction(db) && !sc_db_rollback(db), "no transaction left; rollback outside one is a no-op");

  /* write conflict: A and B both write; one of them must be told to retry
   * (SQLite: B's BEGIN IMMEDIATE is busy; PostgreSQL: serializable write
   * skew, 40001 at B's write or commit), and the other commits */
  sc_db *a = db, *b = other;
  int a_rc = sc_db_begin(a), b_rc = sc_db_begin(b), a_fail = 0, b_fail = 0;
  if (b_rc) b_fail = sc_db_errclass(b);
  const char *steps[][2] = {{"SELECT count(*) FROM t WHERE note = 'x'", "SELECT count(*) FROM t WHERE note = 'y'"},
                            {"INSERT INTO t (id, name, note) VALUES (30, 'a30', 'y')",
                             "INSERT INTO t (id, name, note) VALUES (31, 'b31', 'x')"}};
  for (int i = 0; i < 2; i++) {
    if (!a_fail && !a_rc && sc_db_exec(a, steps[i][0])) a_fail = sc_db_errclass(a);
    if (!b_fail && sc_db_exec(b, steps[i][1])) b_fail = sc_db_errclass(b);
  }
  if (!a_fail && sc_db_commit(a)) a_fail = sc_db_errclass(a);
  if (!b_fail && sc_db_commit(b)) b_fail = sc_db_errclass(b);
  printf("# conflict: A %d, B %d (B: %s)\n", a_fail, b_fail, sc_db_errmsg(b));
  CHECK((a_fail == SC_DB_ERETRY) + (b_fail == SC_DB_ERETRY) == 1 && !(a_fail && b_fail),
        "conflicting writers: exactly one is told to retry (SC_DB_ERETRY), the other commits");
  if (a_fail) sc_db_rollback(a);
  if (b_fail) sc_db_rollback(b);
  CHECK(!sc_db_in_transaction(a) && !sc_db_in_transaction(b), "both out of their transactions");
  CHECK(scalar(b, "SELECT count(*) FROM t WHERE id IN (30, 31)") == 1, "exactly one writer's row is there");
  CHECK(!sc_db_begin(b) && !sc_db_exec(b, "INSERT INTO t (id, name) VALUES (32, 'retry')") && !sc_db_commit(b),
        "the retried transaction goes through");
  sc_db_close(other);
}

/* sc_db_bind_textn and sc_db_column_is_null: a length cut, NULL, empty
 * text and 0 are each what they say */
static void textn_and_null(sc_db *db) {
  CHECK(!sc_db_exec(db, "CREATE TABLE tn (k INTEGER PRIMARY KEY, v TEXT, n BIGINT)"), "create tn (%s)",
        sc_db_errmsg(db));
  sc_db_stmt *s;
  CHECK(!sc_db_prepare(db, "INSERT INTO tn (k, v, n) VALUES (?, ?, ?)", 0, &s), "prepare tn insert");
  static const char buf[] = "abcdefXYZ"; /* only "abcdef" is bound: no NUL after it */
  CHECK(!sc_db_bind_int64(s, 1, 1) && !sc_db_bind_textn(s, 2, buf, 6) && !sc_db_bind_null(s, 3) &&
            sc_db_step(s) == SC_DB_DONE,
        "textn: 6 of 9 bytes bound, inserted (%s)", sc_db_errmsg(db));
  sc_db_reset(s);
  CHECK(!sc_db_bind_int64(s, 1, 2) && !sc_db_bind_textn(s, 2, NULL, 3) && !sc_db_bind_int64(s, 3, 0) &&
            sc_db_step(s) == SC_DB_DONE,
        "textn: NULL pointer (length 3) inserted");
  sc_db_reset(s);
  CHECK(!sc_db_bind_int64(s, 1, 3) && !sc_db_bind_textn(s, 2, buf, 0) && !sc_db_bind_textn(s, 3, "7", 1) &&
            sc_db_step(s) == SC_DB_DONE,
        "textn: length 0 inserted; a number as text into BIGINT");
  sc_db_reset(s);
  CHECK(sc_db_bind_textn(s, 4, buf, 2) == SC_ERR_ARG, "textn index beyond the placeholders: SC_ERR_ARG");
  CHECK(sc_db_bind_textn(s, 0, buf, 2) == SC_ERR_ARG, "textn index 0: SC_ERR_ARG");
  CHECK(sc_db_bind_textn(s, 4, NULL, 0) == SC_ERR_ARG, "textn NULL at an index beyond: SC_ERR_ARG");
  /* checked before any byte is read: buf is not that long */
  CHECK(sc_db_bind_textn(s, 2, buf, (size_t)SC_DB_TEXT_MAX_BYTES + 1) == SC_ERR_LIMIT,
        "textn over SC_DB_TEXT_MAX_BYTES: SC_ERR_LIMIT");
  CHECK(sc_db_bind_textn(NULL, 1, buf, 1) == SC_ERR_ARG, "textn on no statement: SC_ERR_ARG");
  sc_db_finalize(s);

  CHECK(!sc_db_prepare(db, "SELECT v, n FROM tn ORDER BY k", 0, &s), "prepare tn select");
  const char *v;
  CHECK(sc_db_step(s) == SC_DB_ROW && (v = sc_db_column_text(s, 0)) && !strcmp(v, "abcdef"),
        "textn: the first len bytes only");
  CHECK(!sc_db_column_is_null(s, 0) && sc_db_column_is_null(s, 1), "row 1: text not NULL, bound NULL is NULL");
  CHECK(sc_db_step(s) == SC_DB_ROW && sc_db_column_is_null(s, 0) && !sc_db_column_text(s, 0),
        "row 2: textn NULL is SQL NULL");
  CHECK(!sc_db_column_is_null(s, 1) && sc_db_column_int64(s, 1) == 0, "row 2: 0 is not NULL");
  CHECK(sc_db_step(s) == SC_DB_ROW && (v = sc_db_column_text(s, 0)) && !*v && !sc_db_column_is_null(s, 0),
        "row 3: empty text is not NULL");
  CHECK(sc_db_column_int64(s, 1) == 7, "row 3: textn \"7\" stored as the number 7");
  CHECK(sc_db_step(s) == SC_DB_DONE, "3 rows");
  sc_db_finalize(s);
}

/* sc_db_busy_timeout: a second writer waits about that long for the lock
 * the first holds, then fails with SC_DB_ERETRY (SQLite busy, reported
 * 40001; PostgreSQL lock_timeout, 55P03), and succeeds once it is free */
static void busy(sc_db *db) {
  sc_db *other = open_db(0);
  CHECK(other != NULL, "busy: second connection");
  if (!other) return;
  CHECK(!sc_db_busy_timeout(other, BUSY_MS), "busy_timeout %d ms (%s)", BUSY_MS, sc_db_errmsg(other));
  CHECK(!sc_db_begin(db) && !sc_db_exec(db, "UPDATE tn SET n = 5 WHERE k = 1"), "first writer holds the lock");
  double t0 = now_s();
  int rc = sc_db_exec(other, "UPDATE tn SET n = 6 WHERE k = 1");
  double dt = now_s() - t0;
  const char *want = sc_db_dialect(db) == SC_DB_PG ? "55P03" : "40001";
  printf("# second writer: rc %d class %d sqlstate %s after %.3f s: %s\n", rc, sc_db_errclass(other),
         sc_db_sqlstate(other), dt, sc_db_errmsg(other));
  CHECK(rc == SC_ERR_DB && sc_db_errclass(other) == SC_DB_ERETRY && !strcmp(sc_db_sqlstate(other), want),
        "second writer fails with SC_DB_ERETRY, SQLSTATE %s", want);
  CHECK(dt >= BUSY_MS / 1000.0 * 0.9 && dt < BUSY_MS / 1000.0 + BUSY_SLACK_S,
        "it waited about the timeout: %.3f s (%d ms .. + %.1f s)", dt, BUSY_MS, BUSY_SLACK_S);
  CHECK(!sc_db_in_transaction(other), "the failed writer is left outside any transaction");
  CHECK(!sc_db_rollback(db), "first writer rolls back");
  CHECK(!sc_db_exec(other, "UPDATE tn SET n = 6 WHERE k = 1") && sc_db_changes(other) == 1,
        "then the second writer goes through (%s)", sc_db_errmsg(other));
  CHECK(scalar(db, "SELECT n FROM tn WHERE k = 1") == 6, "its write is there");
  sc_db_close(other);
}

/* server notices (PostgreSQL: NOTICE and WARNING messages) never reach
 * stderr: fd 2 is a temporary file while statements that raise some run */
static void notices(sc_db *db) {
  FILE *tmp = tmpfile();
  int saved = dup(2);
  CHECK(tmp && saved >= 0, "capture stderr");
  if (!tmp || saved < 0) return;
  fflush(stderr);
  dup2(fileno(tmp), 2);
  int rc = sc_db_exec(db, "DROP TABLE IF EXISTS no_such_table_here");
  if (sc_db_dialect(db) == SC_DB_PG)
    rc |= sc_db_exec(db, "DO $$ BEGIN RAISE NOTICE 'conformance notice'; RAISE WARNING 'conformance warning';"
                         " END $$");
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  struct stat sb;
  long bytes = fstat(fileno(tmp), &sb) ? -1 : (long)sb.st_size;
  CHECK(rc == 0, "statements that raise notices succeed (%s)", sc_db_errmsg(db));
  CHECK(bytes == 0, "nothing written to stderr (%ld bytes)", bytes);
  fclose(tmp);
}

static const char *BIG_SQL =
    "SELECT i, pad FROM big ORDER BY i";

static void big(sc_db *db) {
  char pad[BIG_PAD_BYTES + 1];
  memset(pad, 'p', BIG_PAD_BYTES);
  pad[BIG_PAD_BYTES] = '\0';
  sc_db_stmt *s;
  char sql[256];
  snprintf(sql, sizeof(sql), "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)"
                             " INSERT INTO big (i, pad) SELECT i, CAST(? AS TEXT) FROM c", BIG_ROWS);
  CHECK(!sc_db_prepare(db, sql, 0, &s), "prepare the bulk insert (%s)", sc_db_errmsg(db));
  sc_db_bind_text(s, 1, pad);
  CHECK(sc_db_step(s) == SC_DB_DONE && sc_db_changes(db) == BIG_ROWS, "%d rows inserted (changes %" PRId64 ") %s",
        BIG_ROWS, sc_db_changes(db), sc_db_errmsg(db));
  sc_db_finalize(s);

  long before = rss_kib(), peak = before;
  double t0 = now_s();
  CHECK(!sc_db_prepare(db, BIG_SQL, 0, &s), "prepare the big select");
  int64_t n = 0, sum = 0;
  size_t bytes = 0;
  while (sc_db_step(s) == SC_DB_ROW) {
    n++;
    sum += sc_db_column_int64(s, 0);
    bytes += strlen(sc_db_column_text(s, 1));
    if (n % 5000 == 1) { /* sampled while rows are in hand: a whole-result load shows at once */
      long r = rss_kib();
      if (r > peak) peak = r;
    }
  }
  double dt = now_s() - t0;
  long growth = before < 0 ? -1 : peak - before;
  printf("# rss_growth_kib %ld rows %" PRId64 " bytes %zu seconds %.3f maxrss_kib %ld\n", growth, n, bytes, dt,
         maxrss_kib());
  CHECK(n == BIG_ROWS && sum == (int64_t)BIG_ROWS * (BIG_ROWS + 1) / 2 && bytes == (size_t)BIG_ROWS * BIG_PAD_BYTES,
        "all %d rows streamed in order", BIG_ROWS);
  CHECK(growth >= 0 && growth < BIG_RSS_MAX_KIB, "RSS grew %ld KiB for %zu bytes of rows (< %d KiB: streamed)", growth, bytes,
        BIG_RSS_MAX_KIB);

  /* reset mid-iteration, outside a transaction (PG: cancelled) ... */
  int k = 0;
  t0 = now_s();
  while (k < 10 && sc_db_step(s) == SC_DB_ROW) k++;
  sc_db_reset(s);
  double reset_s = now_s() - t0;
  CHECK(k == 10, "read 10 rows then reset");
  CHECK(scalar(db, "SELECT count(*) FROM big") == BIG_ROWS, "the connection answers the next query (%.3f s)",
        reset_s);
  CHECK(sc_db_step(s) == SC_DB_ROW && sc_db_column_int64(s, 0) == 1, "the reset statement starts over");
  /* ... and inside one (drained: the transaction must survive) */
  CHECK(!sc_db_begin(db), "begin");
  CHECK(sc_db_step(s) == SC_DB_ROW && sc_db_step(s) == SC_DB_ROW, "two rows inside the transaction");
  sc_db_reset(s);
  CHECK(!sc_db_exec(db, "INSERT INTO t (id, name) VALUES (40, 'after reset')"), "write after reset (%s)",
        sc_db_errmsg(db));
  CHECK(!sc_db_commit(db), "commit: the transaction was not aborted by the reset");
  CHECK(scalar(db, "SELECT count(*) FROM t WHERE id = 40") == 1, "its write is there");
  /* finalize mid-iteration */
  while (k-- > 5 && sc_db_step(s) == SC_DB_ROW) {
  }
  sc_db_finalize(s);
  CHECK(scalar(db, "SELECT count(*) FROM t") > 0, "finalize mid-iteration leaves the connection usable");

  /* nested statements: an inner query per outer row (PG: the outer is spilled) */
  sc_db_stmt *outer, *inner;
  sc_db_prepare(db, "SELECT i FROM big WHERE i <= 3 ORDER BY i", 0, &outer);
  sc_db_prepare(db, "SELECT count(*) FROM big WHERE i <= ?", 0, &inner);
  int64_t got = 0;
  int rows = 0;
  while (sc_db_step(outer) == SC_DB_ROW) {
    const char *txt = sc_db_column_text(outer, 0); /* held across the inner query */
    sc_db_bind_int64(inner, 1, sc_db_column_int64(outer, 0));
    if (sc_db_step(inner) == SC_DB_ROW && txt && atoi(txt) == rows + 1) got += sc_db_column_int64(inner, 0);
    sc_db_reset(inner);
    rows++;
  }
  CHECK(rows == 3 && got == 1 + 2 + 3, "nested statements: 3 outer rows, inner counts 1+2+3 (%" PRId64 ")", got);
  sc_db_finalize(inner);
  sc_db_finalize(outer);

  /* the worst case of nesting: an inner query at the first row of the big
   * SELECT (PG: the other 99,999 rows are spilled to memory, packed) */
  sc_db_prepare(db, BIG_SQL, 0, &outer);
  long sp_before = rss_kib();
  int inner_ok = sc_db_step(outer) == SC_DB_ROW && scalar(db, "SELECT count(*) FROM t") > 0;
  long sp_peak = rss_kib();
  for (n = 1; sc_db_step(outer) == SC_DB_ROW; n++)
    if (sc_db_column_int64(outer, 0) != n + 1 || strlen(sc_db_column_text(outer, 1)) != BIG_PAD_BYTES) break;
  sc_db_finalize(outer);
  long spill_kib = sp_before < 0 ? -1 : sp_peak - sp_before;
  printf("# spill_growth_kib %ld rows %" PRId64 "\n", spill_kib, n);
  CHECK(inner_ok && n == BIG_ROWS, "inner query at the first of %d rows: every row still read, in order", BIG_ROWS);
  CHECK(spill_kib >= 0 && spill_kib < SPILL_RSS_MAX_KIB, "its memory: %ld KiB (< %d KiB)", spill_kib,
        SPILL_RSS_MAX_KIB);
}

/* the connection set-up each backend promises (sc_db.h) */
static void settings(sc_db *db) {
  sc_db_stmt *s;
  if (sc_db_dialect(db) == SC_DB_SQLITE) {
    CHECK(scalar(db, "PRAGMA busy_timeout") == SC_DB_SQLITE_BUSY_MS, "sqlite: busy timeout %d ms", SC_DB_SQLITE_BUSY_MS);
    return;
  }
  CHECK(!sc_db_prepare(db, "SELECT current_setting('application_name'), current_setting('statement_timeout'),"
                           " current_setting('client_encoding')", 0, &s), "pg: settings query");
  CHECK(sc_db_step(s) == SC_DB_ROW && !strcmp(sc_db_column_text(s, 0), SC_DB_APPLICATION_NAME) &&
            !strcmp(sc_db_column_text(s, 1), "1min") && !strcmp(sc_db_column_text(s, 2), "UTF8"),
        "pg: application_name %s, statement_timeout %s, client_encoding %s", sc_db_column_text(s, 0),
        sc_db_column_text(s, 1), sc_db_column_text(s, 2));
  sc_db_finalize(s);
  /* every reset/finalize above ended its query on the server too */
  CHECK(scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'customs'"
                   " AND state <> 'idle' AND pid <> pg_backend_pid()") == 0,
        "pg: no other customs session is busy on the server");
}

static void errors(sc_db *db, const char *bad_url, const char *secret) {
  sc_db_stmt *s = (sc_db_stmt *)1;
  CHECK(sc_db_prepare(db, "SELEKT 1", 0, &s) == SC_ERR_DB && s == NULL && *sc_db_errmsg(db),
        "syntax error at prepare: %s", sc_db_errmsg(db));
  CHECK(scalar(db, "SELECT 1") == 1, "the connection is fine after it");
  char err[ERR_BYTES];
  sc_db *x = NULL;
  if (bad_url) {
    int rc = sc_db_open(bad_url, NULL, &x, err, sizeof(err));
    CHECK(rc == SC_ERR_DB && x == NULL, "wrong password: open fails");
    CHECK(strstr(err, "password authentication failed") != NULL, "the error says why: %s", err);
    CHECK(!strstr(err, secret) && strlen(err) < sizeof(err), "the error does not contain the password");
  } else {
    int rc = sc_db_open("sqlite:/nonexistent-dir/x/y.db", NULL, &x, err, sizeof(err));
    CHECK(rc == SC_ERR_DB && x == NULL && *err, "unopenable SQLite path fails: %s", err);
  }
}

#include "db_reconnect.c"

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--reconnect")) {
    url = argv[2];
    reconnect_checks(argv[3]);
    return tap_done();
  }
  if (argc < 2 || (argc != 2 && argc != 4)) {
    fprintf(stderr, "usage: db_conformance URL [BAD_URL SECRET] | --reconnect PG_URL SECRET\n");
    return 2;
  }
  url = argv[1];
  sc_db *db = open_db(0);
  CHECK(db != NULL, "open");
  if (!db) return tap_done();
  printf("# dialect %s\n", sc_db_dialect(db) == SC_DB_PG ? "pg" : "sqlite");
  types(db);
  unique_and_tx(db);
  textn_and_null(db);
  busy(db);
  notices(db);
  big(db);
  settings(db);
  errors(db, argc == 4 ? argv[2] : NULL, argc == 4 ? argv[3] : NULL);
  sc_db_close(db);
  return tap_done();
}
