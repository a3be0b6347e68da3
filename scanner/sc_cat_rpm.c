/* sc_cat_rpm.c - RPM packages from the SQLite rpmdb (rpm >= 4.16: Fedora,
 * RHEL 9, Rocky/Alma 9).  The entry is copied to a private temp file and
 * opened read-only; each Packages.blob is an rpm header:
 *   be32 index_count, be32 data_len, index_count * {be32 tag, type, offset, count}, data.
 * BerkeleyDB (Packages) and NDB (Packages.db) databases are only noted.
 * The SQLite file is hostile input: see "open it as such" below.  Runs in
 * the layer walker's thread; errors are SC_ERR_*, and a database it cannot
 * trust or read fails the layer through the reader's budget. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sc_catalog.h"
#include "sc_tmpfile.h"

#define RPMDB_MAX (512ull << 20) /* on disk, not in memory */
#define HDR_MAX_INDEX 100000u

enum { TAG_NAME = 1000, TAG_VERSION = 1001, TAG_RELEASE = 1002, TAG_EPOCH = 1003, TAG_SOURCERPM = 1044 };
enum { T_INT32 = 4, T_STRING = 6 };

static const char *const sqlite_paths[] = {"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite", NULL};
static const char *const bdb_paths[] = {"var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages", NULL};
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

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct rpmhdr {
  const char *name, *version, *release, *sourcerpm;
  int has_epoch;
  uint32_t epoch;
} rpmhdr;

/* Parses the tags we need from one header blob; 0 or SC_ERR_FORMAT. */
static int parse_header(const unsigned char *b, size_t n, rpmhdr *h) {
  memset(h, 0, sizeof(*h));
  if (n < 8) return SC_ERR_FORMAT;
  uint32_t il = be32(b), dl = be32(b + 4);
  if (il == 0 || il > HDR_MAX_INDEX || (uint64_t)il * 16 + dl + 8 > n) return SC_ERR_FORMAT;
  const unsigned char *idx = b + 8, *data = idx + (size_t)il * 16;
  for (uint32_t i = 0; i < il; i++) {
    const unsigned char *e = idx + (size_t)i * 16;
    uint32_t tag = be32(e), type = be32(e + 4), off = be32(e + 8), cnt = be32(e + 12);
    if (off >= dl) continue;
    if (type == T_STRING && cnt == 1) {
      const char *s = (const char *)data + off;
      if (!memchr(s, '\0', dl - off)) continue; /* unterminated: ignore */
      if (tag == TAG_NAME) h->name = s;
      else if (tag == TAG_VERSION) h->version = s;
      else if (tag == TAG_RELEASE) h->release = s;
      else if (tag == TAG_SOURCERPM) h->sourcerpm = s;
    } else if (type == T_INT32 && tag == TAG_EPOCH && cnt >= 1 && (uint64_t)off + 4 <= dl) {
      h->has_epoch = 1;
      h->epoch = be32(data + off);
    }
  }
  return h->name && h->version ? 0 : SC_ERR_FORMAT;
}

#define SRPM_MAX 512

/* "bash-5.1.8-6.el9.src.rpm" -> name "bash", version "5.1.8-6.el9";
 * name and ver hold SRPM_MAX bytes; both empty when srpm does not parse. */
static void split_srpm(const char *srpm, char *name, char *ver) {
  name[0] = ver[0] = '\0';
  size_t n = strlen(srpm);
  char tmp[SRPM_MAX];
  if (n >= sizeof(tmp)) return;
  memcpy(tmp, srpm, n + 1);
  char *dot = strstr(tmp, ".src.rpm");
  if (!dot) dot = strstr(tmp, ".nosrc.rpm");
  if (dot) *dot = '\0';
  char *rel = strrchr(tmp, '-');
  if (!rel) return;
  *rel = '\0';
  char *v = strrchr(tmp, '-');
  if (!v) return;
  *v = '\0';
  /* each part is shorter than tmp: no truncation possible */
  memcpy(name, tmp, strlen(tmp) + 1);
  size_t vl = strlen(v + 1), rl = strlen(rel + 1);
  memcpy(ver, v + 1, vl);
  ver[vl] = '-';
  memcpy(ver + vl + 1, rel + 1, rl + 1);
}

static int add_header(sc_inventory *inv, const char *path, const rpmhdr *h) {
  if (strcmp(h->name, "gpg-pubkey") == 0) return 0; /* imported keys, not software */
  char ver[1024], sname[SRPM_MAX], sver[SRPM_MAX];
  if (h->has_epoch && h->epoch)
    snprintf(ver, sizeof(ver), "%u:%s%s%s", h->epoch, h->version, h->release ? "-" : "", h->release ? h->release : "");
  else
    snprintf(ver, sizeof(ver), "%s%s%s", h->version, h->release ? "-" : "", h->release ? h->release : "");
  split_srpm(h->sourcerpm ? h->sourcerpm : "", sname, sver);
  sc_package p = {"rpm", NULL, (char *)h->name, ver, sname[0] ? sname : NULL,
                  sver[0] ? sver : NULL, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}

/* Copies the entry to fd; turns a WAL database into a rollback-journal one so
 * the private copy opens read-only without -wal/-shm files. */
static int copy_out(sc_reader *r, int fd) {
  char buf[65536];
  uint64_t total = 0;
  for (;;) {
    ssize_t n = sc_read(r, buf, sizeof(buf));
    if (n < 0) return (int)n;
    if (n == 0) return 0;
    for (uint64_t k = 18; k <= 19; k++) /* header: write/read format versions */
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
    rpmhdr h;
    if (!b || n <= 0 || parse_header(b, (size_t)n, &h)) {
      bad++;
      continue;
    }
    rv = add_header(inv, path, &h);
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
  int rv = copy_out(r, fd);
  close(fd);
  if (rv == SC_ERR_LIMIT && !sc_budget_hit(bud))
    rv = sc_budget_refuse(bud, rv, "%s: database over %llu bytes", path, (unsigned long long)RPMDB_MAX);
  else if (rv == 0)
    rv = read_rpmdb(inv, path, tmpl, bud, RPM_SQL_MAX_STEPS, RPM_SQL_MAX_MS);
  unlink(tmpl);
  return rv;
}

static int rpm_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  if (in(sqlite_paths, path))
    return scan_sqlite(inv, path, r, lim ? lim->spool_dir : NULL, lim ? lim->budget : NULL);
  const char *what = in(bdb_paths, path) ? "BerkeleyDB" : "NDB";
  char note[256];
  snprintf(note, sizeof(note), "rpm: %s database not supported (%s)", what, path);
  return sc_strlist_add(&inv->notes, note);
}

const sc_cataloger sc_cat_rpm = {"rpm", rpm_match, rpm_scan};
