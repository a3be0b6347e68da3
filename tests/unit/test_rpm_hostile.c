/* test_rpm_hostile.c - an attacker's rpmdb.sqlite and the cataloger budgets.
 *
 * Builds SQLite files (a recursive view, a virtual table, generated columns,
 * many rows), puts them in layer tars built in memory and scans them with
 * sc_layer_scan: every hostile database fails the layer promptly with a
 * reason, none pins the thread.  The guard of sc_cat_rpm.c (included: its
 * statics are under test) is driven directly for the VM-step, wall-time and
 * authorizer caps; sc_budget is checked on its own.  The spooled copy of
 * the database is watched through the cataloger's RPM_SPOOLED hook: it lands
 * in sc_limits.spool_dir, never in TMPDIR, and no spool dir fails the layer
 * with a reason. */
#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What the rpm cataloger's hook saw: the spooled copy's path, whether it was
 * a regular file then, and how many entries its directory held. */
static char spooled[4096];
static int n_spooled, spooled_was_file, spooled_dir_entries;
static int count_entries(const char *d);
static void on_spooled(const char *path) {
  struct stat st;
  n_spooled++;
  snprintf(spooled, sizeof(spooled), "%s", path);
  spooled_was_file = stat(path, &st) == 0 && S_ISREG(st.st_mode);
  char d[4096];
  snprintf(d, sizeof(d), "%s", path);
  char *slash = strrchr(d, '/');
  if (slash) *slash = '\0';
  spooled_dir_entries = count_entries(d);
}
#define RPM_SPOOLED(path) on_spooled(path)

#include "../../scanner/sc_cat_rpm.c"
#include "../../scanner/sc_layer.h"
#include "tap.h"

static char dir[] = "/tmp/customs-test-rpmh-XXXXXX";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An rpm header blob with NAME and VERSION. */
static size_t header(unsigned char *b, const char *name, const char *ver) {
  size_t nl = strlen(name) + 1, vl = strlen(ver) + 1;
  unsigned char idx[32];
  uint32_t v[8] = {1000, 6, 0, 1, 1001, 6, (uint32_t)nl, 1};
  for (int i = 0; i < 8; i++)
    for (int k = 0; k < 4; k++) idx[i * 4 + k] = (unsigned char)(v[i] >> (24 - 8 * k));
  uint32_t il = 2, dl = (uint32_t)(nl + vl);
  for (int k = 0; k < 4; k++) b[k] = (unsigned char)(il >> (24 - 8 * k)), b[4 + k] = (unsigned char)(dl >> (24 - 8 * k));
  memcpy(b + 8, idx, 32);
  memcpy(b + 40, name, nl);
  memcpy(b + 40 + nl, ver, vl);
  return 40 + nl + vl;
}

/* Creates dir/name with sql run on it, plus `rows` package rows when the
 * schema has a Packages table to insert into.  Returns the path. */
static const char *mkdb(const char *name, const char *sql, int rows) {
  static char path[8][512];
  static int k;
  char *p = path[k++ % 8];
  snprintf(p, 512, "%s/%s", dir, name);
  unlink(p);
  sqlite3 *db;
  sqlite3_open(p, &db);
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fprintf(stderr, "# %s: %s\n", name, err);
  sqlite3_free(err);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  sqlite3_stmt *st = NULL;
  if (rows && sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1, &st, NULL) == SQLITE_OK) {
    for (int i = 0; i < rows; i++) {
      unsigned char b[256];
      char pn[32];
      snprintf(pn, sizeof(pn), "pkg%d", i);
      size_t n = header(b, pn, "1.0");
      sqlite3_bind_blob(st, 1, b, (int)n, SQLITE_TRANSIENT);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  return p;
}

typedef struct mbuf {
  unsigned char *p;
  size_t n, off;
} mbuf;

/* Scans a layer holding the file `db` at `at` (mode perm) in memory. */
static void scan_db(const char *db, const char *at, mode_t perm, const sc_limits *lim, sc_inventory *inv,
                    sc_layer_result *res, double *secs) {
  FILE *f = fopen(db, "rb");
  fseek(f, 0, SEEK_END);
  size_t n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc(n);
  if (fread(data, 1, n, f) != n) n = 0;
  fclose(f);
  mbuf m = {malloc(n + (1u << 20)), 0, 0};
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_none(a);
  archive_write_open_memory(a, m.p, n + (1u << 20), &m.n);
  struct archive_entry *ae = archive_entry_new();
  archive_entry_set_pathname(ae, at);
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_entry_set_perm(ae, perm);
  archive_entry_set_size(ae, (la_int64_t)n);
  archive_write_header(a, ae);
  archive_write_data(a, data, n);
  archive_entry_free(ae);
  archive_write_close(a);
  archive_write_free(a);
  free(data);
  sc_inventory_init(inv);
  double t0 = now_s();
  sc_memrd r = {m.p, m.n, 0};
  sc_layer_scan(sc_mem_read, &r, lim, inv, res);
  *secs = now_s() - t0;
  free(m.p);
}

static const char rpm_schema[] =
    "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);"
    "CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, "
    "PRIMARY KEY(key, hnum, idx)) WITHOUT ROWID;";

static void test_hostile_schemas(void) {
  static const struct { const char *what, *sql, *err; } t[] = {
      {"recursive view",
       "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
       "SELECT zeroblob(16) AS blob FROM c WHERE x < 0;",
       "rpm: var/lib/rpm/rpmdb.sqlite: Packages is a view, not a table"},
      {"virtual table", "CREATE VIRTUAL TABLE Packages USING fts4(blob);", "Packages is a virtual table"},
      {"generated column", "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, x BLOB, blob BLOB AS (x || x));",
       "Packages has generated or hidden columns"},
      {"no Packages", "CREATE TABLE Other (blob BLOB);", "no Packages table"},
      {"lower-case view", "CREATE TABLE t(blob); CREATE VIEW packages AS SELECT blob FROM t;", "Packages is a view"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    const char *db = mkdb("h.sqlite", t[i].sql, 0);
    sc_limits lim;
    sc_limits_default(&lim);
    sc_inventory inv;
    sc_layer_result res;
    double secs;
    scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0644, &lim, &inv, &res, &secs);
    CHECK(res.status != 0, "%s: layer failed", t[i].what);
    CHECK(strstr(res.error, t[i].err) != NULL, "%s: says why (%s)", t[i].what, res.error);
    CHECK(secs < 2.0, "%s: promptly (%.3f s)", t[i].what, secs);
    if (i == 0) printf("# recursive-view layer failed in %.1f ms\n", secs * 1000);
    sc_inventory_free(&inv);
  }
  /* the real schema still reads, and a big executable rpmdb reaches rpm as
   * well as go (spooled, over max_file_read) */
  const char *db = mkdb("ok.sqlite", rpm_schema, 300);
  for (int big = 0; big < 2; big++) {
    sc_limits lim;
    sc_limits_default(&lim);
    if (big) lim.max_file_read = 4096;
    sc_inventory inv;
    sc_layer_result res;
    double secs;
    scan_db(db, "var/lib/rpm/rpmdb.sqlite", big ? 0755 : 0644, &lim, &inv, &res, &secs);
    CHECK_INT(res.status, 0, "valid rpmdb%s: ok (%s)", big ? " (executable, over max_file_read)" : "", res.error);
    CHECK_INT(inv.npkgs, 300, "valid rpmdb%s: all packages", big ? " (executable, over max_file_read)" : "");
    sc_inventory_free(&inv);
  }
}

static void test_budgets_through_layer(void) {
  const char *db = mkdb("many.sqlite", rpm_schema, 60000);
  sc_limits lim;
  sc_limits_default(&lim);
  lim.cat_cpu_ms = 1;
  sc_inventory inv;
  sc_layer_result res;
  double secs;
  scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0644, &lim, &inv, &res, &secs);
  CHECK_INT(res.status, SC_ERR_LIMIT, "cpu budget: layer fails (%s)", res.error);
  CHECK(strstr(res.error, "budget: rpm: cpu time over 1 ms") != NULL, "cpu budget: says so (%s)", res.error);
  sc_inventory_free(&inv);

  sc_limits_default(&lim);
  lim.cat_mem_bytes = 64 << 10;
  scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0644, &lim, &inv, &res, &secs);
  CHECK_INT(res.status, SC_ERR_LIMIT, "memory budget: layer fails (%s)", res.error);
  CHECK(strstr(res.error, "budget: rpm: memory over 65536 bytes") != NULL, "memory budget: says so (%s)", res.error);
  sc_inventory_free(&inv);

  sc_limits_default(&lim);
  scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0644, &lim, &inv, &res, &secs);
  CHECK(res.status == 0 && inv.npkgs == 60000, "default budgets: 60000 packages read (%s, %.0f ms)", res.error, secs * 1000);
  sc_inventory_free(&inv);
}

static void test_guard(void) {
  const char *db = mkdb("guard.sqlite", rpm_schema, 2000);
  sc_inventory inv;
  sc_inventory_init(&inv);
  sc_budget b;
  sc_budget_init(&b, "rpm", 0, 0, NULL, 0);
  CHECK_INT(read_rpmdb(&inv, "var/lib/rpm/rpmdb.sqlite", db, &b, 5000, 10000), SC_ERR_LIMIT, "VM step cap stops a read");
  CHECK(b.hit == SC_BUDGET_SPENT && strstr(b.what, "sqlite over 5000 VM steps"), "step cap: reason (%s)", b.what);
  sc_inventory_free(&inv);

  /* a cross join of 2000^3 rows: only the wall-time cap ends it */
  sqlguard g = {NULL, NULL, ~0ull, 0, 200ull * 1000000, 0, ""};
  sqlite3 *h = NULL;
  CHECK_INT(open_untrusted(db, &g, &h), 0, "guarded open");
  sqlite3_stmt *st = NULL;
  double t0 = now_s();
  int rc = sqlite3_prepare_v2(h, "SELECT a.blob FROM Packages a, Packages b, Packages c", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
  }
  double secs = now_s() - t0;
  CHECK_INT(rc, SQLITE_INTERRUPT, "wall-time cap interrupts the statement");
  CHECK(strstr(g.why, "sqlite over 200 ms") != NULL && secs < 1.5, "wall-time cap: %s after %.3f s", g.why, secs);
  sqlite3_finalize(st);
  static const char *const denied[] = {
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c",
      "SELECT count(*) FROM Packages",
      "ATTACH DATABASE ':memory:' AS x",
      "PRAGMA writable_schema=ON",
      "SELECT load_extension('x')",
      "CREATE TEMP VIEW v AS SELECT 1",
  };
  for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
    st = NULL;
    CHECK(sqlite3_prepare_v2(h, denied[i], -1, &st, NULL) != SQLITE_OK, "refused: %s", denied[i]);
    sqlite3_finalize(st);
  }
  int on = -1;
  sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, -1, &on);
  CHECK_INT(on, 1, "defensive on");
  sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, -1, &on);
  CHECK_INT(on, 0, "trusted schema off");
  CHECK_INT(sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, -1), 0, "no attached databases");
  CHECK_INT(sqlite3_limit(h, SQLITE_LIMIT_LENGTH, -1), RPM_SQL_MAX_VALUE_BYTES, "value length capped");
  sqlite3_close(h);
}

static void test_budget_unit(void) {
  uint64_t left = 1000;
  sc_budget b;
  sc_budget_init(&b, "java", 0, 4096, &left, 1000);
  CHECK_INT(sc_budget_inflate(&b, 600), 0, "inflate within");
  CHECK_INT(sc_budget_inflate(&b, 400), 0, "inflate to the byte");
  CHECK_INT(sc_budget_inflate(&b, 1), SC_ERR_LIMIT, "inflate over");
  CHECK(sc_budget_hit(&b) == SC_BUDGET_SPENT && strstr(b.what, "over 1000 bytes"), "inflate reason (%s)", b.what);
  CHECK_INT(sc_budget_check(&b), SC_ERR_LIMIT, "spent stays spent");
  sc_budget_init(&b, "x", 0, 4096, NULL, 0);
  CHECK_INT(sc_budget_mem(&b, 4096), 0, "memory at the cap");
  CHECK_INT(sc_budget_mem(&b, 4097), SC_ERR_LIMIT, "memory over the cap");
  sc_budget_init(&b, "x", 5, 0, NULL, 0);
  sc_budget_enter(&b);
  volatile uint64_t spin = 0;
  double t0 = now_s();
  while (!sc_budget_check(&b) && now_s() - t0 < 5) spin++;
  sc_budget_leave(&b);
  CHECK(b.hit == SC_BUDGET_SPENT && now_s() - t0 < 1, "cpu budget ends a busy loop (%s)", b.what);
  CHECK_INT(sc_budget_check(NULL) | sc_budget_mem(NULL, ~0ull) | sc_budget_inflate(NULL, ~0ull), 0, "NULL budget: no limits");
  CHECK_INT(sc_budget_refuse(NULL, SC_ERR_DB, "x"), SC_ERR_DB, "refuse without a budget keeps the error");
}

/* Entries of directory d but . and ..; -1 when it cannot be read. */
static int count_entries(const char *d) {
  DIR *dh = opendir(d);
  if (!dh) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(dh));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(dh);
  return n;
}

static void test_spool_dir(void) {
  char spool[600], tmpd[600], missing[600];
  snprintf(spool, sizeof(spool), "%s/spool", dir);
  snprintf(tmpd, sizeof(tmpd), "%s/tmpdir", dir);
  snprintf(missing, sizeof(missing), "%s/no-such-dir", dir);
  mkdir(spool, 0700);
  mkdir(tmpd, 0700);
  setenv("TMPDIR", tmpd, 1); /* where the old code wrote: must stay empty */
  const char *db = mkdb("spool.sqlite", rpm_schema, 50);
  sc_limits lim;
  sc_inventory inv;
  sc_layer_result res;
  double secs;

  sc_limits_default(&lim);
  lim.spool_dir = spool;
  n_spooled = 0;
  scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0644, &lim, &inv, &res, &secs);
  CHECK(res.status == 0 && inv.npkgs == 50, "spool dir: the database is read (%s)", res.error);
  char want[700];
  snprintf(want, sizeof(want), "%s/customs-rpmdb-", spool);
  CHECK_INT(n_spooled, 1, "spool dir: one copy spooled");
  CHECK(strncmp(spooled, want, strlen(want)) == 0, "spool dir: the copy is in the spool dir (%s)", spooled);
  CHECK(spooled_was_file && spooled_dir_entries == 1, "spool dir: it was there while read (%d entries)",
        spooled_dir_entries);
  CHECK_INT(count_entries(spool), 0, "spool dir: removed after the read");
  CHECK_INT(count_entries(tmpd), 0, "spool dir: nothing written to TMPDIR");
  sc_inventory_free(&inv);

  const char *bad[] = {missing, "", NULL};
  for (int i = 0; i < 3; i++) {
    sc_limits_default(&lim);
    lim.spool_dir = bad[i];
    n_spooled = 0;
    scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0644, &lim, &inv, &res, &secs);
    CHECK(res.status != 0 && strstr(res.error, "rpm: var/lib/rpm/rpmdb.sqlite: no temp file for the database"),
          "spool dir '%s': the layer fails with the reason (%s)", bad[i] ? bad[i] : "(null)", res.error);
    CHECK(n_spooled == 0 && count_entries(tmpd) == 0, "spool dir '%s': no fallback to TMPDIR",
          bad[i] ? bad[i] : "(null)");
    sc_inventory_free(&inv);
  }
  /* a file over max_file_read wanted by two catalogers is spooled by the
   * layer walk (sc_layer_paths.c), in the same directory */
  sc_limits_default(&lim);
  lim.max_file_read = 4096;
  lim.spool_dir = missing;
  scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0755, &lim, &inv, &res, &secs);
  CHECK(res.status != 0 && strstr(res.error, "no temp file in spool dir") && strstr(res.error, missing),
        "shared spool, missing dir: the layer fails with the reason (%s)", res.error);
  CHECK_INT(count_entries(tmpd), 0, "shared spool, missing dir: nothing in TMPDIR");
  sc_inventory_free(&inv);
  lim.spool_dir = spool;
  n_spooled = 0;
  scan_db(db, "var/lib/rpm/rpmdb.sqlite", 0755, &lim, &inv, &res, &secs);
  CHECK(res.status == 0 && inv.npkgs == 50 && n_spooled == 1, "shared spool in the spool dir: read (%s)", res.error);
  CHECK(count_entries(spool) == 0 && count_entries(tmpd) == 0, "shared spool: nothing left behind");
  sc_inventory_free(&inv);
  unsetenv("TMPDIR");
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  test_budget_unit();
  test_hostile_schemas();
  test_guard();
  test_budgets_through_layer();
  test_spool_dir();
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return tap_done();
}
