/* cmd_db.c - `customs db import [--db PATH] FILE|DIR...` (OSV .zip, directory
 * or .json, and NVD CVE 2.0 feeds, plain, .gz or zipped; files that fail are
 * named and the others still imported; after an import that changed
 * anything every stored image is re-matched) and `customs db status [--db
 * PATH]` (with the CVE scores loaded and the findings still without a
 * severity).  Exit: 0, or 1 on error. */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_store_replica.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sc_events.h"
#include "sc_findings.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_store.h"
#include "sc_store_lineage.h"
#include "sc_store_severity.h"
#include "sc_vulnstore.h"

static const struct option db_opts[] = {{"db", required_argument, NULL, 'd'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};

static void usage(FILE *f) {
  fprintf(f, "usage: customs db import [--db PATH] FILE|DIR...\n"
             "       customs db status [--db PATH]\n");
}

/* What a failed import means to the operator: a malformed archive is
 * refused whole, which customs_strerror() cannot know. */
static const char *import_errstr(int rv) {
  return rv == SC_ERR_FORMAT ? "corrupt or truncated archive, nothing imported from it" : customs_strerror(rv);
}

/* On a terminal, one line rewritten in place while a file imports; logs
 * and pipes get only the line-oriented summary (isatty decides). */
#define PROGRESS_MIN_MS 200 /* redraws at most this often */
typedef struct progress {
  const char *name;
  int64_t last_ms;
  int drawn;
} progress;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void import_progress(void *arg, const sc_osv_stats *s, uint64_t bytes) {
  progress *p = arg;
  int64_t now = mono_ms();
  if (p->drawn && now - p->last_ms < PROGRESS_MIN_MS) return;
  p->last_ms = now;
  p->drawn = 1;
  fprintf(stderr, "\r\033[K%s: %llu records, %.1f MiB read (%llu added, %llu updated)", p->name,
          (unsigned long long)(s->added + s->updated + s->unchanged + s->withdrawn + s->malformed),
          (double)bytes / (1024.0 * 1024.0), (unsigned long long)s->added, (unsigned long long)s->updated);
  fflush(stderr);
}

static int db_import(sc_store *st, int argc, char **argv) {
  /* libarchive converts every zip entry's DOS time through localtime(),
   * and glibc without TZ stats /etc/localtime on each call: 2 syscalls per
   * record, ~4% of an import.  The import prints and stores no local
   * time (status uses gmtime; SQLite's 'now' is UTC), so UTC is safe. */
  setenv("TZ", "UTC", 1);
  tzset();
  int failed = 0;
  uint64_t changed = 0;
  for (int i = 0; i < argc; i++) {
    sc_osv_stats s = {0};
    progress pg = {argv[i], 0, 0};
    int rv = sc_osv_import_path_ex(st, argv[i], &s, isatty(STDERR_FILENO) ? import_progress : NULL, &pg);
    if (pg.drawn) fprintf(stderr, "\r\033[K"); /* the summary line replaces it */
    if (rv) {
      fprintf(stderr, "customs db import: %s: %s%s%s\n", argv[i], import_errstr(rv),
              rv == SC_ERR_DB ? ": " : "", rv == SC_ERR_DB ? sc_store_errmsg(st) : "");
      failed = 1;
      continue;
    }
    printf("%s: %llu added, %llu updated, %llu unchanged, %llu withdrawn, %llu malformed", argv[i],
           (unsigned long long)s.added, (unsigned long long)s.updated, (unsigned long long)s.unchanged,
           (unsigned long long)s.withdrawn, (unsigned long long)s.malformed);
    /* an NVD feed: its counts are of CVE scores, not records */
    if (s.scores) printf(" (NVD feed: %llu CVE scores)", (unsigned long long)s.scores);
    printf("\n");
    changed += s.added + s.updated + s.withdrawn;
  }
  int64_t gen = 0;
  sc_vulndb_generation(st, &gen);
  if (changed) {
    sc_match_stats ms;
    int rv = sc_match_rematch_all(st, &ms);
    if (rv) {
      fprintf(stderr, "customs db import: re-matching stored images failed: %s\n",
              rv == SC_ERR_DB ? sc_store_errmsg(st) : import_errstr(rv));
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

static int print_source(void *arg, const sc_vulnsource *v) {
  char ts[CMD_TIME_BYTES];
  (void)arg;
  cmd_fmt_time(v->imported_at, ts);
  printf("  %s  imported %s  (last run: %lld added, %lld updated, %lld unchanged, %lld withdrawn,"
         " %lld malformed)\n",
         v->name, ts, (long long)v->added, (long long)v->updated, (long long)v->unchanged, (long long)v->withdrawn,
         (long long)v->malformed);
  return 0;
}

static int print_ecosystem(void *arg, const char *eco, int64_t n) {
  (void)arg;
  printf("  %-20s %lld\n", eco, (long long)n);
  return 0;
}

static int print_watch(void *arg, const sc_watch_row *r) {
  char ts[CMD_TIME_BYTES];
  (void)arg;
  cmd_fmt_time(r->checked_at, ts);
  printf("  %s:%s  %s  checked %s%s%s\n", r->repo, r->tag, r->digest ? r->digest : "(never resolved)", ts,
         r->error ? "  error: " : "", r->error ? r->error : "");
  return 0;
}

static int print_replica(void *arg, const sc_replica_row *r) {
  char started[CMD_TIME_BYTES], seen[CMD_TIME_BYTES];
  (void)arg;
  cmd_fmt_time(r->started_at / 1000, started);
  cmd_fmt_time(r->seen_at / 1000, seen);
  int64_t age = (int64_t)time(NULL) * 1000 - r->seen_at;
  printf("  %s  %s  pid %lld  version %s  started %s  seen %s%s\n", r->id, r->host, (long long)r->pid, r->version,
         started, seen, age > SC_REPLICA_STALE_MS ? "  (stopped beating)" : "");
  return 0;
}

static int db_status(sc_store *st, const char *path) {
  int64_t gen = 0, last = 0, records, images, current, findings;
  if (sc_vulndb_generation(st, &gen)) return 1;
  sc_vulnstore_last_import(st, &last); /* 0 ("never") when unreadable */
  char ts[CMD_TIME_BYTES];
  cmd_fmt_time(last, ts);
  printf("database:    %s\ngeneration:  %lld\nlast import: %s\n", cmd_db_shown(path), (long long)gen, ts);
  if (sc_vulnstore_count(st, &records) == 0) {
    printf("records:     %lld\n", (long long)records);
    int64_t scores = 0;
    if (sc_sev_count_cve_scores(st, &scores) == 0) printf("cve scores:  %lld\n", (long long)scores);
    /* not a quiet zero: every image would pass the vulnerability rules */
    if (records == 0)
      printf("WARNING:     no vulnerability data: vulnerability rules match nothing until OSV data is imported\n"
             "             (customs db import FILE..., or db.sources in customs.yaml)\n");
  }
  printf("\nsources:\n");
  if (sc_vulnstore_each_source(st, print_source, NULL)) return 1;
  printf("\nrecords per ecosystem:\n");
  if (sc_vulnstore_each_ecosystem(st, print_ecosystem, NULL)) return 1;
  if (sc_findings_counts(st, gen, &images, &current, &findings) == 0)
    printf("\nimages matched: %lld (%lld at this generation), findings: %lld\n", (long long)images,
           (long long)current, (long long)findings);
  /* Debian/Ubuntu records often carry no score: such findings can never be
   * denied for severity until a CVE score source lends them one */
  int64_t unrated = 0, stored = 0;
  if (sc_sev_count_unrated_findings(st, &unrated, &stored) == 0) {
    printf("findings without severity: %lld of %lld\n", (long long)unrated, (long long)stored);
    if (unrated)
      printf("             (severity rules cannot match them: import CVE scores, e.g. NVD CVE 2.0 feeds,\n"
             "             with customs db import or db.sources)\n");
  }
  int64_t pending = 0, delivered = 0, failed = 0, events = 0;
  if (sc_events_count(st, SC_DELIVERY_PENDING, &pending, &events) == 0 &&
      sc_events_count(st, SC_DELIVERY_DELIVERED, &delivered, NULL) == 0 &&
      sc_events_count(st, SC_DELIVERY_FAILED, &failed, NULL) == 0)
    printf("\nevents: %lld recorded; webhook deliveries: %lld pending, %lld delivered, %lld failed"
           " (customs events)\n", (long long)events, (long long)pending, (long long)delivered, (long long)failed);
  printf("\nwatched base tags:\n");
  if (sc_store_watch_each(st, print_watch, NULL)) return 1;
  /* who shares this database (one with SQLite): a replica that stopped
   * beating no longer holds claims, and shows as such */
  printf("\nreplicas:\n");
  if (sc_replica_each(st, print_replica, NULL)) return 1;
  fflush(stdout);
  return 0;
}

int cmd_db(int argc, char **argv) {
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
    fprintf(stderr, "customs db: cannot open database %s\n", cmd_db_shown(path));
    return 1;
  }
  int code = is_import ? db_import(st, rest, files) : db_status(st, path);
  sc_store_close(st);
  return code;
}
