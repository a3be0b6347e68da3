/* sc_cat_rpm.c - RPM packages from the three rpm database backends:
 *   SQLite rpmdb.sqlite (rpm >= 4.16: Fedora, RHEL 9, Rocky/Alma 9; and
 *     usr/share/rpm of rpm-ostree and bootc images), opened read-only by
 *     SQLite under the guards below;
 *   BerkeleyDB hash Packages (RHEL/CentOS 7-8, Amazon Linux 2), read by our
 *     own bounded reader (sc_rpm_bdb.c), never by a database engine;
 *   NDB Packages.db (SUSE, some rpm >= 4.16 builds), sc_rpm_ndb.c.
 * Each entry is copied to a private temp file in the spool directory; every
 * package is an rpm header blob (sc_rpm_header.c).  The file is hostile
 * input.  Runs in the layer walker's thread; errors are SC_ERR_*, and a
 * database it cannot trust or read fails the layer through the reader's
 * budget: skipping it would hide every package of the image. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sc_catalog.h"
#include "sc_rpm_bdb.h"
#include "sc_rpm_header.h"
#include "sc_rpm_ndb.h"
#include "sc_tmpfile.h"

#define RPMDB_MAX SC_RPM_DB_MAX_BYTES /* on disk, not in memory */
#define RPM_SNIFF_BYTES 36           /* enough for either magic */

static const char *const sqlite_paths[] = {"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite",
                                           "usr/share/rpm/rpmdb.sqlite", NULL};
static const char *const bdb_paths[] = {"var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages",
                                        "usr/share/rpm/Packages", NULL};
static const char *const ndb_paths[] = {"var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db", NULL};

static int in(const char *const *list, const char *p) {
  for (; *list; list++)
    if (strcmp(*list, p) == 0) return 1;
  return 0;
}

static int rpm_match(const char *path, int64_t size, mode_t mode) {
  (void)size;
  (void)mode;
  return in(sqlite_paths, path) || in(bdb_paths, path) || in(ndb_paths, path);
}

/* Copies the entry to fd, at most RPMDB_MAX bytes.  With sqlite set, turns
 * a WAL database into a rollback-journal one so the private copy opens
 * read-only without -wal/-shm files. */
static int copy_out(sc_reader *r, int fd, int sqlite) {
  char buf[65536];
  uint64_t total = 0;
  for (;;) {
    ssize_t n = sc_read(r, buf, sizeof(buf));
    if (n < 0) return (int)n;
    if (n == 0) return 0;
    for (uint64_t k = 18; sqlite && k <= 19; k++) /* header: write/read format versions */
      if (k >= total && k < total + (uint64_t)n && buf[k - total] == 2) buf[k - total] = 1;
    total += (uint64_t)n;
    if (total > RPMDB_MAX) return SC_ERR_LIMIT;
    for (ssize_t w = 0; w < n;) {
      ssize_t m = write(fd, buf + w, (size_t)(n - w));
      if (m < 0 && errno == EINTR) continue;
      if (m <= 0) return SC_ERR_IO;
      w += m;
    }
  }
}

/* ---- the database is the attacker's: open it as such ----------------------
 * A crafted rpmdb.sqlite can make Packages a view (WITH RECURSIVE that never
 * ends), a virtual table, or give it generated columns that call functions;
 * its schema can hold triggers and huge expressions.  So: DEFENSIVE on,
 * trusted_schema off, no triggers, views or extensions, no ATTACH, tight
 * sqlite3_limit caps, a small page cache, an authorizer that allows only
 * plain reads (no recursion, no functions), a check in sqlite_schema that
 * Packages is a plain table without generated columns, and a progress
 * handler that stops any statement over its VM steps, wall time, the
 * cataloger's CPU budget or memory budget. */

#define RPM_SQL_MAX_MS 10000                /* wall time for all statements on one rpmdb */
#define RPM_SQL_MAX_STEPS 500000000ull      /* VM instructions for all statements */
#define RPM_SQL_PROGRESS_OPS 1000           /* VM instructions between progress checks */
#define RPM_SQL_CACHE_KIB 2048              /* page cache */
#define RPM_SQL_MAX_VALUE_BYTES (16 << 20)  /* longest string or blob (one header) */
#define RPM_SQL_MAX_SQL_BYTES 100000        /* longest statement, schema included */

typedef struct sqlguard {
  sqlite3 *db;
  sc_budget *budget;
  uint64_t max_steps, steps, max_ns, start_ns;
  char why[192]; /* set when the handler stopped a statement */
} sqlguard;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int progress(void *ctx) {
  sqlguard *g = ctx;
  g->steps += RPM_SQL_PROGRESS_OPS;
  if (g->steps > g->max_steps) {
    snprintf(g->why, sizeof(g->why), "sqlite over %llu VM steps", (unsigned long long)g->max_steps);
    return 1;
  }
  if (mono_ns() - g->start_ns > g->max_ns) {
    snprintf(g->why, sizeof(g->why), "sqlite over %llu ms", (unsigned long long)(g->max_ns / 1000000));
    return 1;
  }
  int cur = 0, hi = 0;
  sqlite3_int64 held = 0;
  static const int ops[] = {SQLITE_DBSTATUS_CACHE_USED, SQLITE_DBSTATUS_SCHEMA_USED, SQLITE_DBSTATUS_STMT_USED};
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
    if (sqlite3_db_status(g->db, ops[i], &cur, &hi, 0) == SQLITE_OK) held += cur;
  if (sc_budget_check(g->budget) || sc_budget_mem(g->budget, (uint64_t)held)) {
    snprintf(g->why, sizeof(g->why), "%s", g->budget->what);
    return 1;
  }
  return 0;
}

/* Plain reads only: no recursion, no function calls, no pragma but
 * table_xinfo, no ATTACH or anything that writes. */
static int authorize(void *ctx, int action, const char *a1, const char *a2, const char *db, const char *trig) {
  (void)ctx;
  (void)a2;
  (void)db;
  (void)trig;
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
      return SQLITE_OK;
    case SQLITE_PRAGMA:
      return a1 && strcmp(a1, "table_xinfo") == 0 ? SQLITE_OK : SQLITE_DENY;
    default:
      return SQLITE_DENY;
  }
}

static const struct { int id, val; } sql_caps[] = {
    {SQLITE_LIMIT_LENGTH, RPM_SQL_MAX_VALUE_BYTES},
    {SQLITE_LIMIT_SQL_LENGTH, RPM_SQL_MAX_SQL_BYTES},
    {SQLITE_LIMIT_COLUMN, 64},
    {SQLITE_LIMIT_EXPR_DEPTH, 32},
    {SQLITE_LIMIT_COMPOUND_SELECT, 2},
    {SQLITE_LIMIT_VDBE_OP, 5000},
    {SQLITE_LIMIT_FUNCTION_ARG, 4},
    {SQLITE_LIMIT_ATTACHED, 0},
    {SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 64},
    {SQLITE_LIMIT_VARIABLE_NUMBER, 4},
    {SQLITE_LIMIT_TRIGGER_DEPTH, 1},
    {SQLITE_LIMIT_WORKER_THREADS, 0},
};

/* Opens path read-only with every guard above in place; SC_ERR_DB. */
static int open_untrusted(const char *path, sqlguard *g, sqlite3 **out) {
  char uri[4200];
  sqlite3 *db = NULL;
  *out = NULL;
  if ((size_t)snprintf(uri, sizeof(uri), "file:%s?immutable=1", path) >= sizeof(uri)) return SC_ERR_LIMIT;
  if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return SC_ERR_DB;
  }
  static const struct { int op, on; } cfg[] = {
      {SQLITE_DBCONFIG_DEFENSIVE, 1},           {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
      {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0}, {SQLITE_DBCONFIG_ENABLE_TRIGGER, 0},
      {SQLITE_DBCONFIG_ENABLE_VIEW, 0},
  };
  int rc = sqlite3_extended_result_codes(db, 1);
  for (size_t i = 0; rc == SQLITE_OK && i < sizeof(cfg) / sizeof(cfg[0]); i++) {
    int now = -1;
    rc = sqlite3_db_config(db, cfg[i].op, cfg[i].on, &now);
    if (rc == SQLITE_OK && now != cfg[i].on) rc = SQLITE_ERROR; /* never run unguarded */
  }
  for (size_t i = 0; i < sizeof(sql_caps) / sizeof(sql_caps[0]); i++) sqlite3_limit(db, sql_caps[i].id, sql_caps[i].val);
  g->db = db;
  g->start_ns = mono_ns();
  sqlite3_progress_handler(db, RPM_SQL_PROGRESS_OPS, progress, g);
  char pragmas[160];
  snprintf(pragmas, sizeof(pragmas),
           "PRAGMA trusted_schema=OFF; PRAGMA cache_size=-%d; PRAGMA mmap_size=0; PRAGMA query_only=ON;",
           RPM_SQL_CACHE_KIB);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_set_authorizer(db, authorize, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return SC_ERR_DB;
  }
  *out = db;
  return 0;
}

/* Fails (SC_ERR_FORMAT, reason in why) unless the schema has exactly one
 * object named Packages, a plain table whose columns are all stored. */
static int check_schema(sqlite3 *db, char *why, size_t cap) {
  sqlite3_stmt *st = NULL;
  int rc, n = 0, bad = 0;
  if (sqlite3_prepare_v2(db, "SELECT type, sql FROM sqlite_schema WHERE name = 'Packages' COLLATE NOCASE", -1, &st,
                         NULL) != SQLITE_OK) {
    snprintf(why, cap, "unreadable schema: %s", sqlite3_errmsg(db));
    return SC_ERR_DB;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *type = (const char *)sqlite3_column_text(st, 0), *sql = (const char *)sqlite3_column_text(st, 1);
    n++;
    if (!type || strcmp(type, "table") != 0) {
      snprintf(why, cap, "Packages is a %s, not a table", type ? type : "(null)");
      bad = 1;
    } else if (sql) {
      while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r') sql++;
      if (strncasecmp(sql, "CREATE", 6) != 0 || !strcasestr(sql, "TABLE") ||
          strncasecmp(sql + 6 + strspn(sql + 6, " \t\r\n"), "VIRTUAL", 7) == 0) {
        snprintf(why, cap, "Packages is a virtual table");
        bad = 1;
      }
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    snprintf(why, cap, "unreadable schema: %s", sqlite3_errmsg(db));
    return SC_ERR_DB;
  }
  if (bad) return SC_ERR_FORMAT;
  if (n != 1) {
    snprintf(why, cap, "no Packages table");
    return SC_ERR_FORMAT;
  }
  /* hidden: 0 stored, 1 hidden (virtual tables), 2/3 generated */
  if (sqlite3_prepare_v2(db, "PRAGMA table_xinfo(Packages)", -1, &st, NULL) != SQLITE_OK) {
    snprintf(why, cap, "unreadable table: %s", sqlite3_errmsg(db));
    return SC_ERR_DB;
  }
  int has_blob = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 1);
    if (sqlite3_column_int(st, 6) != 0) bad = 1; /* cid, name, type, notnull, dflt, pk, hidden */
    if (name && strcasecmp(name, "blob") == 0) has_blob = 1;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    snprintf(why, cap, "unreadable table: %s", sqlite3_errmsg(db));
    return SC_ERR_DB;
  }
  if (bad) snprintf(why, cap, "Packages has generated or hidden columns");
  else if (!has_blob) snprintf(why, cap, "Packages has no blob column");
  return bad || !has_blob ? SC_ERR_FORMAT : 0;
}

/* Reads the header blobs of a database file already on disk.  The guard
 * caps are parameters so that tests can make them tiny.  A database that
 * cannot be trusted or read refuses the file (the layer fails): the rpmdb
 * is the list of installed packages, skipping it would hide them. */
static int read_rpmdb(sc_inventory *inv, const char *path, const char *file, sc_budget *bud, uint64_t max_steps,
                      uint64_t max_ms) {
  sqlguard g = {NULL, bud, max_steps, 0, max_ms * 1000000ull, 0, ""};
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char why[256] = "";
  int rv = open_untrusted(file, &g, &db);
  if (rv) return sc_budget_refuse(bud, rv, "%s: cannot open the database", path);
  if ((rv = check_schema(db, why, sizeof(why)))) goto out;
  rv = SC_ERR_DB;
  if (sqlite3_prepare_v2(db, "SELECT blob FROM Packages", -1, &st, NULL) != SQLITE_OK) {
    snprintf(why, sizeof(why), "%s", sqlite3_errmsg(db));
    goto out;
  }
  int s, bad = 0;
  rv = 0;
  while (rv == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *b = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    sc_rpm_header h;
    if (!b || n <= 0 || sc_rpm_header_parse(b, (size_t)n, &h)) {
      bad++;
      continue;
    }
    rv = sc_rpm_header_add(inv, path, &h);
  }
  if (rv == 0 && s != SQLITE_DONE) {
    rv = SC_ERR_DB;
    snprintf(why, sizeof(why), "%s", sqlite3_errmsg(db));
  }
  if (rv == 0 && bad) {
    char note[256];
    snprintf(note, sizeof(note), "rpm: %s: %d unreadable package headers", path, bad);
    rv = sc_strlist_add(&inv->notes, note);
  }
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (g.why[0]) { /* the progress handler stopped it: over budget */
    if (bud && bud->hit) return SC_ERR_LIMIT; /* CPU or memory: already recorded */
    return sc_budget_fail(bud, "%s", g.why);
  }
  if (rv && rv != SC_ERR_NOMEM) return sc_budget_refuse(bud, rv, "%s: %s", path, why[0] ? why : "unreadable database");
  return rv;
}

/* Tests see the spooled copy's path while it exists by defining this before
 * they #include this file. */
#ifndef RPM_SPOOLED
#define RPM_SPOOLED(path) ((void)0)
#endif

/* SQLite opens a path, so the database is copied to a named file in the
 * spool directory (sc_limits.spool_dir) and unlinked after the read.  No
 * file there fails the layer (refused, with the reason): an rpm database
 * left unread would hide every package of the image. */
static int scan_sqlite(sc_inventory *inv, const char *path, sc_reader *r, const char *spool_dir, sc_budget *bud) {
  char tmpl[SC_TMPFILE_PATH_MAX];
  int fd = sc_tmpfile_named(spool_dir, "customs-rpmdb", NULL, tmpl, sizeof(tmpl));
  if (fd < 0)
    return sc_budget_refuse(bud, fd, "%s: no temp file for the database in spool dir '%s': %s", path,
                            spool_dir ? spool_dir : "", strerror(errno));
  RPM_SPOOLED(tmpl);
  int rv = copy_out(r, fd, 1);
  close(fd);
  if (rv == SC_ERR_LIMIT && !sc_budget_hit(bud))
    rv = sc_budget_refuse(bud, rv, "%s: database over %llu bytes", path, (unsigned long long)RPMDB_MAX);
  else if (rv == 0)
    rv = read_rpmdb(inv, path, tmpl, bud, RPM_SQL_MAX_STEPS, RPM_SQL_MAX_MS);
  unlink(tmpl);
  return rv;
}

/* Each header blob a BerkeleyDB or NDB reader finds. */
typedef struct blobctx {
  sc_inventory *inv;
  const char *path;
  uint32_t bad; /* blobs that are not headers we can use */
} blobctx;

static int on_blob(void *ctx, const unsigned char *b, size_t n) {
  blobctx *c = ctx;
  sc_rpm_header h;
  if (sc_rpm_header_parse(b, n, &h)) {
    c->bad++;
    return 0;
  }
  return sc_rpm_header_add(c->inv, c->path, &h);
}

/* Reads a BerkeleyDB or NDB database already in fd (size bytes): the kind
 * is told by its magic, not its name.  Fails the layer (refused or over
 * budget, with the reason) when it cannot be read. */
static int read_pagedb(sc_inventory *inv, const char *path, int fd, uint64_t size, sc_budget *bud) {
  unsigned char head[RPM_SNIFF_BYTES];
  char why[192] = "";
  blobctx c = {inv, path, 0};
  uint32_t bad = 0;
  int rv;
  if (size == 0) { /* rpm leaves an empty file behind after a conversion */
    char note[256];
    snprintf(note, sizeof(note), "rpm: %s: empty database", path);
    return sc_strlist_add(&inv->notes, note);
  }
  if (size < sizeof(head) || pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
    rv = sc_budget_refuse(bud, SC_ERR_FORMAT, "%s: not an rpm database (%llu bytes)", path, (unsigned long long)size);
  else if (sc_rpm_bdb_sniff(head, sizeof(head)))
    rv = sc_rpm_bdb_read(fd, size, bud, on_blob, &c, &bad, why, sizeof(why));
  else if (sc_rpm_ndb_sniff(head, sizeof(head)))
    rv = sc_rpm_ndb_read(fd, size, bud, on_blob, &c, &bad, why, sizeof(why));
  else
    rv = sc_budget_refuse(bud, SC_ERR_FORMAT, "%s: neither a BerkeleyDB hash nor an NDB database", path);
  if (rv == SC_ERR_NOMEM || sc_budget_hit(bud)) return rv;
  if (rv == SC_ERR_LIMIT) return sc_budget_fail(bud, "%s: %s", path, why[0] ? why : "over a cap");
  if (rv) return sc_budget_refuse(bud, rv, "%s: %s", path, why[0] ? why : "unreadable database");
  if (bad + c.bad) {
    char note[256];
    snprintf(note, sizeof(note), "rpm: %s: %u unreadable package headers", path, bad + c.bad);
    return sc_strlist_add(&inv->notes, note);
  }
  return 0;
}

/* BerkeleyDB and NDB pages are read at random (overflow chains, slots), so
 * the entry is spooled to an unnamed file in the spool directory first. */
static int scan_pagedb(sc_inventory *inv, const char *path, sc_reader *r, const char *spool_dir, sc_budget *bud) {
  int fd = sc_tmpfile_open(spool_dir, "customs-rpmdb");
  if (fd < 0)
    return sc_budget_refuse(bud, fd, "%s: no temp file for the database in spool dir '%s': %s", path,
                            spool_dir ? spool_dir : "", strerror(errno));
  int rv = copy_out(r, fd, 0);
  off_t size = rv ? 0 : lseek(fd, 0, SEEK_END);
  if (rv == SC_ERR_LIMIT && !sc_budget_hit(bud))
    rv = sc_budget_refuse(bud, rv, "%s: database over %llu bytes", path, (unsigned long long)RPMDB_MAX);
  else if (rv == 0 && size < 0)
    rv = sc_budget_refuse(bud, SC_ERR_IO, "%s: spooled copy: %s", path, strerror(errno));
  else if (rv == 0)
    rv = read_pagedb(inv, path, fd, (uint64_t)size, bud);
  close(fd);
  return rv;
}

static int rpm_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  const char *spool = lim ? lim->spool_dir : NULL;
  sc_budget *bud = lim ? lim->budget : NULL;
  if (in(sqlite_paths, path)) return scan_sqlite(inv, path, r, spool, bud);
  return scan_pagedb(inv, path, r, spool, bud);
}

const sc_cataloger sc_cat_rpm = {"rpm", rpm_match, rpm_scan};
