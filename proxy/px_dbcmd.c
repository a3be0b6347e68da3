/* px_dbcmd.c - `customs db import` and `customs db status`. */
#include "px_dbcmd.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sc_match.h"
#include "sc_osv.h"
#include "sc_store.h"

static const struct option db_opts[] = {{"db", required_argument, NULL, 'd'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};

static void usage(FILE *f) {
  fprintf(f, "usage: customs db import [--db PATH] FILE|DIR...\n"
             "       customs db status [--db PATH]\n");
}

static const char *errname(int rv) {
  switch (rv) {
  case SC_ERR_NOMEM: return "out of memory";
  case SC_ERR_IO: return "cannot read";
  case SC_ERR_FORMAT: return "corrupt or truncated archive, nothing imported from it";
  case SC_ERR_LIMIT: return "size limit exceeded";
  case SC_ERR_DB: return "database error";
  default: return "error";
  }
}

static void fmt_time(long long t, char *out, size_t cap) {
  struct tm tm;
  time_t tt = (time_t)t;
  out[0] = 0;
  if (t > 0 && gmtime_r(&tt, &tm)) strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
  else snprintf(out, cap, "never");
}

static int db_import(sc_store *st, int argc, char **argv) {
  int failed = 0;
  uint64_t changed = 0;
  for (int i = 0; i < argc; i++) {
    sc_osv_stats s = {0};
    int rv = sc_osv_import_path(st, argv[i], &s);
    if (rv) {
      fprintf(stderr, "customs db import: %s: %s%s%s\n", argv[i], errname(rv),
              rv == SC_ERR_DB ? ": " : "", rv == SC_ERR_DB ? sc_store_errmsg(st) : "");
      failed = 1;
      continue;
    }
    printf("%s: %llu added, %llu updated, %llu unchanged, %llu withdrawn, %llu malformed\n", argv[i],
           (unsigned long long)s.added, (unsigned long long)s.updated, (unsigned long long)s.unchanged,
           (unsigned long long)s.withdrawn, (unsigned long long)s.malformed);
    changed += s.added + s.updated + s.withdrawn;
  }
  int64_t gen = 0;
  sc_vulndb_generation(st, &gen);
  if (changed) {
    sc_match_stats ms;
    int rv = sc_match_rematch_all(st, &ms);
    if (rv) {
      fprintf(stderr, "customs db import: re-matching stored images failed: %s\n",
              rv == SC_ERR_DB ? sc_store_errmsg(st) : errname(rv));
      return 1;
    }
    printf("generation %lld: re-matched %zu images, %zu findings\n", (long long)gen, ms.images,
           ms.findings);
  } else {
    printf("generation %lld: nothing changed\n", (long long)gen);
  }
  fflush(stdout);
  return failed;
}

static int db_status(sc_store *st, const char *path) {
  sqlite3 *db = sc_store_db(st);
  sqlite3_stmt *s;
  int64_t gen = 0;
  long long last = 0;
  if (sc_vulndb_generation(st, &gen)) return 1;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'last_import'", -1, &s, NULL) == SQLITE_OK) {
    if (sqlite3_step(s) == SQLITE_ROW) last = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  char ts[40];
  fmt_time(last, ts, sizeof(ts));
  printf("database:    %s\ngeneration:  %lld\nlast import: %s\n", path, (long long)gen, ts);
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM vulns", -1, &s, NULL) == SQLITE_OK) {
    if (sqlite3_step(s) == SQLITE_ROW) printf("records:     %lld\n", (long long)sqlite3_column_int64(s, 0));
    sqlite3_finalize(s);
  }
  printf("\nsources:\n");
  if (sqlite3_prepare_v2(db,
                         "SELECT name, imported_at, added, updated, unchanged, withdrawn, malformed"
                         " FROM vuln_sources ORDER BY imported_at, name",
                         -1, &s, NULL) != SQLITE_OK)
    return 1;
  while (sqlite3_step(s) == SQLITE_ROW) {
    fmt_time(sqlite3_column_int64(s, 1), ts, sizeof(ts));
    printf("  %s  imported %s  (last run: %lld added, %lld updated, %lld unchanged, %lld withdrawn,"
           " %lld malformed)\n",
           (const char *)sqlite3_column_text(s, 0), ts, (long long)sqlite3_column_int64(s, 2),
           (long long)sqlite3_column_int64(s, 3), (long long)sqlite3_column_int64(s, 4),
           (long long)sqlite3_column_int64(s, 5), (long long)sqlite3_column_int64(s, 6));
  }
  sqlite3_finalize(s);
  printf("\nrecords per ecosystem:\n");
  if (sqlite3_prepare_v2(db,
                         "SELECT ecosystem, count(DISTINCT vuln) FROM vuln_affected GROUP BY ecosystem"
                         " ORDER BY ecosystem",
                         -1, &s, NULL) != SQLITE_OK)
    return 1;
  while (sqlite3_step(s) == SQLITE_ROW)
    printf("  %-20s %lld\n", (const char *)sqlite3_column_text(s, 0), (long long)sqlite3_column_int64(s, 1));
  sqlite3_finalize(s);
  if (sqlite3_prepare_v2(db,
                         "SELECT (SELECT count(*) FROM matched_images),"
                         " (SELECT count(*) FROM matched_images WHERE generation = ?),"
                         " (SELECT count(*) FROM findings)",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, gen);
    if (sqlite3_step(s) == SQLITE_ROW)
      printf("\nimages matched: %lld (%lld at this generation), findings: %lld\n",
             (long long)sqlite3_column_int64(s, 0), (long long)sqlite3_column_int64(s, 1),
             (long long)sqlite3_column_int64(s, 2));
    sqlite3_finalize(s);
  }
  fflush(stdout);
  return 0;
}

int px_cmd_db(int argc, char **argv) {
  const char *path = "customs.db";
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
    usage(stdout);
    return 0;
  }
  int is_import = !strcmp(sub, "import"), is_status = !strcmp(sub, "status");
  if (!is_import && !is_status) {
    fprintf(stderr, "customs db: unknown subcommand '%s'\n", sub);
    usage(stderr);
    return 1;
  }
  int c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "d:h", db_opts, NULL)) != -1) {
    switch (c) {
    case 'd': path = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 1;
    }
  }
  int rest = argc - 1 - optind;
  char **files = argv + 1 + optind;
  if ((is_import && rest < 1) || (is_status && rest != 0)) {
    usage(stderr);
    return 1;
  }
  sc_store *st;
  if (sc_store_open(path, &st)) {
    fprintf(stderr, "customs db: cannot open database %s\n", path);
    return 1;
  }
  int code = is_import ? db_import(st, rest, files) : db_status(st, path);
  sc_store_close(st);
  return code;
}
