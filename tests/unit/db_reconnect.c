/* db_reconnect.c - the lost-connection checks of db_conformance.c
 * (sc_db.h, "Lost connections"), against a real PostgreSQL that goes away
 * under the program's feet: its session terminated (pg_terminate_backend
 * from a second connection, idle and in flight, outside and inside a
 * transaction), the server restarted (pg_ctl restart -m fast), stopped and
 * started again (the shell commands $DBC_PG_RESTART, $DBC_PG_STOP,
 * $DBC_PG_START).  The same sc_db_stmt objects, prepared once at the
 * start, are used throughout.  While the server is down, its port is
 * also held by a socket that never answers ($DBC_PG_PORT): a hung server,
 * where only connect_timeout ends a reconnect.  Prints
 * "# restart_first_call_s", "# down_first_call_s", "# down_calls ...",
 * "# hung_server_call_s", "# recover_after_start_s".
 * #included by db_conformance.c (one TAP counter); uses its open_db,
 * scalar, now_s and url.  Errors: TAP failures. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define RC_GONE_WAIT_S 5.0      /* a terminated backend leaves pg_stat_activity within this */
#define RC_FIN_SETTLE_MS 200    /* then its socket's close reaches us */
#define RC_SLEEP_S 3            /* the statement killed in flight runs this long ... */
#define RC_KILL_AFTER_MS 300    /* ... and is killed after this */
#define RC_DOWN_BURST 40        /* calls made back to back while the server is stopped ... */
#define RC_DOWN_SPACED 50       /* ... then this many, RC_POLL_MS apart (longer than SC_DB_PG_RECONNECT_MS) */
#define RC_RECOVER_MAX_S 10.0   /* after a start, a call succeeds within this (asserted tighter) */
#define RC_POLL_MS 50           /* between calls while waiting */
#define RC_BUSY_MS 300          /* the lock_timeout set once, kept across sessions */
#define RC_MSG_BYTES 512
#define RC_HUNG_CONNECT_S 2     /* connect_timeout of the connection facing the hung server (libpq's least) */
#define RC_HUNG_SLACK_S 1.5     /* its call ends within connect_timeout plus this */
#define RC_FAST_S 0.1           /* a call refused by the reconnect interval takes less than this */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* one value of a one-row statement s (reset after), -1 on error */
static int64_t rc_value(sc_db_stmt *s) {
  int64_t v = sc_db_step(s) == SC_DB_ROW ? sc_db_column_int64(s, 0) : -1;
  sc_db_reset(s);
  return v;
}

/* ins (k, v): 0 or the step's error */
static int rc_insert(sc_db_stmt *ins, int64_t k) {
  sc_db_bind_int64(ins, 1, k);
  sc_db_bind_text(ins, 2, "v");
  int rc = sc_db_step(ins);
  sc_db_reset(ins);
  return rc == SC_DB_DONE ? 0 : rc;
}

/* Terminates backend pid from a connection of its own and waits until it
 * is gone; 1 when it is. */
static int rc_terminate(int64_t pid) {
  sc_db *k = open_db(0);
  if (!k) return 0;
  char sql[128];
  snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%" PRId64 ")", pid);
  int ok = scalar(k, sql) == 1;
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %" PRId64, pid);
  double t0 = now_s();
  while (ok && scalar(k, sql) != 0 && now_s() - t0 < RC_GONE_WAIT_S) sleep_ms(RC_POLL_MS);
  ok = ok && scalar(k, sql) == 0;
  sc_db_close(k);
  sleep_ms(RC_FIN_SETTLE_MS);
  return ok;
}

/* Runs sql on db while a child process terminates backend pid
 * RC_KILL_AFTER_MS into it; the exec's result, *killed whether the child
 * did its part. */
static int rc_killed_during(sc_db *db, int64_t pid, const char *sql, int *killed) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    sleep_ms(RC_KILL_AFTER_MS);
    _exit(rc_terminate(pid) ? 0 : 1);
  }
  int rc = child < 0 ? SC_ERR_IO : sc_db_exec(db, sql);
  int st = 0;
  *killed = child > 0 && waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  return rc;
}

/* the session settings sc_db promises, as the server reports them */
static int rc_settings_ok(sc_db_stmt *set, char *got, size_t cap) {
  int ok = sc_db_step(set) == SC_DB_ROW;
  const char *lt = ok ? sc_db_column_text(set, 0) : NULL, *st = ok ? sc_db_column_text(set, 1) : NULL,
             *an = ok ? sc_db_column_text(set, 2) : NULL;
  snprintf(got, cap, "lock_timeout %s, statement_timeout %s, application_name %s", lt ? lt : "?", st ? st : "?",
           an ? an : "?");
  char want_lt[32];
  snprintf(want_lt, sizeof(want_lt), "%dms", RC_BUSY_MS);
  ok = ok && lt && st && an && !strcmp(lt, want_lt) && !strcmp(st, "1min") && !strcmp(an, SC_DB_APPLICATION_NAME);
  sc_db_reset(set);
  return ok;
}

static int rc_run(const char *what, const char *cmd) {
  double t0 = now_s();
  int rc = system(cmd);
  printf("# %s: exit %d after %.3f s\n", what, rc, now_s() - t0);
  return rc == 0;
}

/* the calls made while the server is down: each must fail, at once,
 * saying the server is unreachable, without the password */
static void rc_down(sc_db *db, sc_db_stmt *pid_s, sc_db_stmt *ins, const char *secret) {
  double t0 = now_s();
  int rc = sc_db_step(pid_s);
  double first = now_s() - t0;
  char msg[RC_MSG_BYTES];
  snprintf(msg, sizeof(msg), "%s", sc_db_errmsg(db));
  sc_db_reset(pid_s);
  printf("# down_first_call_s %.6f\n", first);
  CHECK(rc == SC_ERR_DB && strstr(msg, "server unreachable") && !strcmp(sc_db_sqlstate(db), "08001"),
        "server down: a call fails, 08001: %s", msg);
  CHECK(!strstr(msg, secret), "the message does not contain the password");
  CHECK(first < SC_DB_PG_CONNECT_TIMEOUT_S, "it fails within connect_timeout: %.6f s (< %d s)", first,
        SC_DB_PG_CONNECT_TIMEOUT_S);

  /* every kind of call, over and over, first back to back (no reconnect
   * attempt may come of it: the last failed one is too recent), then
   * spaced out (about one attempt per SC_DB_PG_RECONNECT_MS, never more):
   * failures, never a crash or a hang */
  int failed = 0, attempts[2] = {0, 0}, leaked = 0, in_tx = 0;
  double worst = 0, span[2] = {0, 0};
  for (int phase = 0; phase < 2; phase++) {
    int n = phase ? RC_DOWN_SPACED : RC_DOWN_BURST;
    t0 = now_s();
    for (int i = 0; i < n; i++) {
      if (phase) sleep_ms(RC_POLL_MS);
      double c0 = now_s();
      sc_db_stmt *tmp = NULL;
      switch (i % 5) {
      case 0: rc = rc_value(pid_s) < 0 ? SC_ERR_DB : 0; break;
      case 1: rc = rc_insert(ins, 1000 + i); break;
      case 2: rc = sc_db_exec(db, "SELECT 1"); break;
      case 3:
        rc = sc_db_prepare(db, "SELECT 2", 0, &tmp);
        sc_db_finalize(tmp);
        break;
      default:
        rc = sc_db_begin(db);
        in_tx += sc_db_in_transaction(db);
        if (sc_db_rollback(db)) rc = 0; /* a rollback that fails counts as a wrong answer */
        break;
      }
      double dt = now_s() - c0;
      if (dt > worst) worst = dt;
      if (rc == SC_ERR_DB && strstr(sc_db_errmsg(db), "server unreachable")) failed++;
      if (strstr(sc_db_errmsg(db), "server unreachable: ")) attempts[phase]++; /* this call tried to connect */
      if (strstr(sc_db_errmsg(db), secret)) leaked++;
    }
    span[phase] = now_s() - t0;
  }
  /* at most one attempt per SC_DB_PG_RECONNECT_MS (and one at the start of
   * the series); at least one for every whole interval but the first */
  int max_spaced = (int)(span[1] * 1000 / SC_DB_PG_RECONNECT_MS) + 1;
  int min_spaced = (int)(span[1] * 1000 / SC_DB_PG_RECONNECT_MS) - 1;
  printf("# down_calls burst %d in %.6f s (%d connect attempts), spaced %d in %.3f s (%d attempts), worst call %.6f s\n",
         RC_DOWN_BURST, span[0], attempts[0], RC_DOWN_SPACED, span[1], attempts[1], worst);
  CHECK(failed == RC_DOWN_BURST + RC_DOWN_SPACED && !in_tx,
        "%d calls of every kind (step, exec, prepare, begin+rollback) fail, none left in a transaction (%d failed)",
        RC_DOWN_BURST + RC_DOWN_SPACED, failed);
  CHECK(worst < SC_DB_PG_CONNECT_TIMEOUT_S, "each within connect_timeout (worst %.6f s)", worst);
  CHECK(attempts[0] == 0 && span[0] * 1000 < SC_DB_PG_RECONNECT_MS,
        "no busy loop: %d back-to-back calls made no connect attempt (%.6f s)", RC_DOWN_BURST, span[0]);
  CHECK(attempts[1] <= max_spaced && attempts[1] >= (min_spaced > 1 ? min_spaced : 1),
        "spaced calls: %d connect attempts in %.3f s (%d..%d: one per %d ms)", attempts[1], span[1],
        min_spaced > 1 ? min_spaced : 1, max_spaced, SC_DB_PG_RECONNECT_MS);
  CHECK(!leaked, "no message contains the password");
}

/* A hung server on the stopped server's port: it takes the TCP connection
 * (the kernel's backlog) and never says a word.  A reconnect then waits
 * connect_timeout, no longer, and the next call does not wait at all. */
static void rc_hung(sc_db *h, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = fd >= 0 && !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) &&
           !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !listen(fd, 16);
  CHECK(ok, "a silent listener on the server's port %d", port);
  if (!ok) {
    if (fd >= 0) close(fd);
    return;
  }
  double t0 = now_s();
  int rc = sc_db_exec(h, "SELECT 1");
  double dt = now_s() - t0;
  printf("# hung_server_call_s %.3f (connect_timeout %d s)\n", dt, RC_HUNG_CONNECT_S);
  CHECK(rc == SC_ERR_DB && strstr(sc_db_errmsg(h), "server unreachable") && dt >= RC_HUNG_CONNECT_S * 0.9 &&
            dt < RC_HUNG_CONNECT_S + RC_HUNG_SLACK_S,
        "hung server: the call ends after connect_timeout %d s (%.3f s): %s", RC_HUNG_CONNECT_S, dt,
        sc_db_errmsg(h));
  t0 = now_s();
  rc = sc_db_exec(h, "SELECT 1");
  dt = now_s() - t0;
  CHECK(rc == SC_ERR_DB && dt < RC_FAST_S, "the next call fails at once (%.6f s), no second wait: %s", dt,
        sc_db_errmsg(h));
  close(fd);
}

static void reconnect_checks(const char *secret) {
  const char *restart = getenv("DBC_PG_RESTART"), *stop = getenv("DBC_PG_STOP"), *start = getenv("DBC_PG_START");
  int port = getenv("DBC_PG_PORT") ? atoi(getenv("DBC_PG_PORT")) : 0;
  CHECK(restart && stop && start && port > 0,
        "server control given ($DBC_PG_RESTART, $DBC_PG_STOP, $DBC_PG_START, $DBC_PG_PORT)");
  sc_db *db = open_db(0), *hung = NULL;
  CHECK(db && sc_db_dialect(db) == SC_DB_PG, "open a PostgreSQL connection");
  char err[ERR_BYTES];
  sc_db_opts ho = {.connect_timeout_s = RC_HUNG_CONNECT_S};
  CHECK(!sc_db_open(url, &ho, &hung, err, sizeof(err)), "and one with connect_timeout %d s (%s)", RC_HUNG_CONNECT_S,
        err);
  if (!restart || !stop || !start || port <= 0 || !db || !hung || sc_db_dialect(db) != SC_DB_PG) {
    sc_db_close(db);
    sc_db_close(hung);
    return;
  }
  CHECK(!sc_db_busy_timeout(db, RC_BUSY_MS), "busy timeout %d ms", RC_BUSY_MS);
  CHECK(!sc_db_exec(db, "DROP TABLE IF EXISTS rc; CREATE TABLE rc (k BIGINT PRIMARY KEY, v TEXT)"), "table rc (%s)",
        sc_db_errmsg(db));
  sc_db_stmt *pid_s = NULL, *ins = NULL, *cnt = NULL, *set = NULL;
  CHECK(!sc_db_prepare(db, "SELECT pg_backend_pid()", SC_DB_PREP_PERSISTENT, &pid_s) &&
            !sc_db_prepare(db, "INSERT INTO rc (k, v) VALUES (?, ?)", SC_DB_PREP_PERSISTENT, &ins) &&
            !sc_db_prepare(db, "SELECT count(*) FROM rc", SC_DB_PREP_PERSISTENT, &cnt) &&
            !sc_db_prepare(db, "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'),"
                               " current_setting('application_name')", SC_DB_PREP_PERSISTENT, &set),
        "prepare 4 statements, used from here to the end");
  if (!pid_s || !ins || !cnt || !set) goto out;
  char got[RC_MSG_BYTES];
  int killed = 0, rc;

  /* 1. the session terminated while idle: found before sending, the call
   * reconnects and runs on the new session */
  int64_t pid0 = rc_value(pid_s);
  CHECK(rc_terminate(pid0), "pg_terminate_backend(%" PRId64 "): the idle session is gone", pid0);
  rc = rc_insert(ins, 1);
  CHECK(rc == 0, "the next statement succeeds: the loss was found before anything was sent (%s)", sc_db_errmsg(db));
  int64_t pid1 = rc_value(pid_s);
  CHECK(pid1 > 0 && pid1 != pid0, "on a new session (backend %" PRId64 ", was %" PRId64 "), the same statements",
        pid1, pid0);
  CHECK(rc_value(cnt) == 1, "the insert ran exactly once");
  CHECK(rc_settings_ok(set, got, sizeof(got)), "settings restored on the new session: %s", got);

  /* 2. terminated inside a transaction: SC_DB_ERETRY, rollback, run again */
  CHECK(!sc_db_begin(db) && !rc_insert(ins, 2), "begin, insert 2 (%s)", sc_db_errmsg(db));
  CHECK(rc_terminate(pid1), "pg_terminate_backend(%" PRId64 ") inside the transaction", pid1);
  rc = rc_insert(ins, 3);
  CHECK(rc == SC_ERR_DB && sc_db_errclass(db) == SC_DB_ERETRY && strstr(sc_db_errmsg(db), "connection lost"),
        "the next statement of the transaction fails with SC_DB_ERETRY: %s", sc_db_errmsg(db));
  CHECK(sc_db_in_transaction(db), "the caller still has a transaction to roll back");
  CHECK(sc_db_exec(db, "SELECT 1") == SC_ERR_DB && sc_db_errclass(db) == SC_DB_ERETRY &&
            sc_db_commit(db) == SC_ERR_DB && sc_db_errclass(db) == SC_DB_ERETRY,
        "until it does, nothing runs (no statement escapes to autocommit), COMMIT neither");
  CHECK(!sc_db_rollback(db) && !sc_db_in_transaction(db), "rollback succeeds on the dead connection");
  CHECK(!sc_db_begin(db) && !rc_insert(ins, 2) && !rc_insert(ins, 3) && !sc_db_commit(db),
        "the transaction runs again and commits (%s)", sc_db_errmsg(db));
  CHECK(rc_value(cnt) == 3, "3 rows");

  /* 3. killed in flight outside a transaction: not sent again (it may
   * have run), the call reconnects, the next one works */
  int64_t pid2 = rc_value(pid_s);
  double t0 = now_s();
  char sleep_sql[64];
  snprintf(sleep_sql, sizeof(sleep_sql), "SELECT pg_sleep(%d)", RC_SLEEP_S);
  rc = rc_killed_during(db, pid2, sleep_sql, &killed);
  double dt = now_s() - t0;
  CHECK(killed && rc == SC_ERR_DB && sc_db_errclass(db) == SC_DB_EOTHER && !strcmp(sc_db_sqlstate(db), "08006") &&
            strstr(sc_db_errmsg(db), "connection lost, reconnected") && strstr(sc_db_errmsg(db), "outcome unknown"),
        "a statement killed in flight fails, 08006, and its call reconnected: %s", sc_db_errmsg(db));
  CHECK(dt < RC_SLEEP_S, "it failed when killed (%.3f s), not after its %d s", dt, RC_SLEEP_S);
  t0 = now_s();
  CHECK(!rc_insert(ins, 4) && rc_value(cnt) == 4, "the next calls work at once (%.3f s)", now_s() - t0);
  /* ... and inside a transaction */
  int64_t pid3 = rc_value(pid_s);
  CHECK(pid3 > 0 && pid3 != pid2, "on a new session");
  CHECK(!sc_db_begin(db) && !rc_insert(ins, 5), "begin, insert 5");
  rc = rc_killed_during(db, pid3, sleep_sql, &killed);
  CHECK(killed && rc == SC_ERR_DB && sc_db_errclass(db) == SC_DB_ERETRY && sc_db_in_transaction(db),
        "killed in flight inside a transaction: SC_DB_ERETRY: %s", sc_db_errmsg(db));
  CHECK(!sc_db_rollback(db) && rc_value(cnt) == 4, "rollback; the transaction's insert is gone (%s)",
        sc_db_errmsg(db));
  /* ... and during its COMMIT (made slow by a deferred trigger): outcome
   * unknown, 08007, still SC_DB_ERETRY and a local rollback */
  char trig[512];
  snprintf(trig, sizeof(trig),
           "CREATE TABLE rc_slow (k BIGINT);"
           " CREATE FUNCTION rc_slow_f() RETURNS trigger LANGUAGE plpgsql AS"
           " $$ BEGIN PERFORM pg_sleep(%d); RETURN NULL; END $$;"
           " CREATE CONSTRAINT TRIGGER rc_slow_t AFTER INSERT ON rc_slow DEFERRABLE INITIALLY DEFERRED"
           " FOR EACH ROW EXECUTE FUNCTION rc_slow_f()", RC_SLEEP_S);
  CHECK(!sc_db_exec(db, trig), "a table whose COMMIT takes %d s (%s)", RC_SLEEP_S, sc_db_errmsg(db));
  int64_t pid3b = rc_value(pid_s);
  CHECK(!sc_db_begin(db) && !sc_db_exec(db, "INSERT INTO rc_slow VALUES (1)"), "begin, insert into it");
  t0 = now_s();
  rc = rc_killed_during(db, pid3b, "COMMIT", &killed);
  dt = now_s() - t0;
  CHECK(killed && rc == SC_ERR_DB && sc_db_errclass(db) == SC_DB_ERETRY && !strcmp(sc_db_sqlstate(db), "08007") &&
            strstr(sc_db_errmsg(db), "outcome unknown") && sc_db_in_transaction(db) && dt < RC_SLEEP_S,
        "killed during COMMIT (%.3f s): SC_DB_ERETRY, 08007: %s", dt, sc_db_errmsg(db));
  CHECK(!sc_db_rollback(db) && !sc_db_in_transaction(db) && rc_value(cnt) == 4 &&
            scalar(db, "SELECT count(*) FROM rc_slow") == 0,
        "rollback; the session's end aborted that COMMIT (%s)", sc_db_errmsg(db));

  /* 4. pg_ctl restart -m fast while idle */
  int64_t pid4 = rc_value(pid_s);
  CHECK(rc_run("restart", restart), "server restarted (pg_ctl restart -m fast)");
  t0 = now_s();
  rc = rc_insert(ins, 6);
  dt = now_s() - t0;
  printf("# restart_first_call_s %.3f\n", dt);
  CHECK(rc == 0, "after the restart the next statement succeeds in %.3f s (%s)", dt, sc_db_errmsg(db));
  int64_t pid5 = rc_value(pid_s);
  CHECK(pid5 > 0 && pid5 != pid4 && rc_value(cnt) == 5, "on a new session, 5 rows");
  CHECK(rc_settings_ok(set, got, sizeof(got)), "settings restored: %s", got);

  /* 5. restarted inside a transaction */
  CHECK(!sc_db_begin(db) && !rc_insert(ins, 7), "begin, insert 7");
  CHECK(rc_run("restart", restart), "server restarted inside the transaction");
  rc = rc_insert(ins, 8);
  CHECK(rc == SC_ERR_DB && sc_db_errclass(db) == SC_DB_ERETRY, "the transaction's next statement: SC_DB_ERETRY: %s",
        sc_db_errmsg(db));
  CHECK(!sc_db_rollback(db) && rc_value(cnt) == 5, "rollback, 5 rows");
  CHECK(!sc_db_begin(db) && !rc_insert(ins, 7) && !rc_insert(ins, 8) && !sc_db_commit(db) && rc_value(cnt) == 7,
        "run again: 7 rows (%s)", sc_db_errmsg(db));

  /* 6. the server stopped */
  CHECK(rc_run("stop", stop), "server stopped (pg_ctl stop -m fast)");
  rc_down(db, pid_s, ins, secret);
  rc_hung(hung, port);

  /* 7. started again: calls work, the same statements */
  CHECK(rc_run("start", start), "server started");
  t0 = now_s();
  while ((rc = rc_insert(ins, 9)) && now_s() - t0 < RC_RECOVER_MAX_S) sleep_ms(RC_POLL_MS);
  dt = now_s() - t0;
  printf("# recover_after_start_s %.3f\n", dt);
  CHECK(rc == 0 && dt < SC_DB_PG_RECONNECT_MS / 1000.0 + 1.0, "after the start a call succeeds within %.3f s "
        "(< SC_DB_PG_RECONNECT_MS + 1 s): %s", dt, sc_db_errmsg(db));
  CHECK(rc_value(cnt) == 8 && rc_value(pid_s) > 0, "the same statements work: 8 rows, nothing of the down time");
  CHECK(rc_settings_ok(set, got, sizeof(got)), "settings restored: %s", got);
  CHECK(!sc_db_begin(db) && !rc_insert(ins, 10) && !sc_db_commit(db) && rc_value(cnt) == 9,
        "a transaction commits (%s)", sc_db_errmsg(db));
out:
  sc_db_finalize(pid_s);
  sc_db_finalize(ins);
  sc_db_finalize(cnt);
  sc_db_finalize(set);
  sc_db_close(db);
  sc_db_close(hung);
}
