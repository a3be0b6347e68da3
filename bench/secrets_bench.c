/* secrets_bench.c - the secrets cataloger before and after, on real files.
 *
 * Usage: secrets_bench [-r ROUNDS] [-v] DIR...
 * Loads every regular file under each DIR that the new cataloger would be
 * offered (its match(), with paths relative to DIR) into memory, then runs
 * both catalogers over all of them, ROUNDS times, interleaved (old, new,
 * new, old, ...).  Prints each one's median throughput (MB of files offered
 * per CPU second of this thread), and checks that the new cataloger reports
 * exactly the old one's findings for the historical rules; -v lists the
 * findings of the newer rules (to read for false positives).
 *
 * The old cataloger is HEAD's scanner/sc_cat_secrets.c compiled with
 * -Dsc_cat_secrets=sc_cat_secrets_old (bench/secrets_bench.sh does it).
 * Exit status: 0, or 1 when the findings differ.  Single-threaded. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sc_catalog.h"

extern const sc_cataloger sc_cat_secrets_old;

#define SB_TOTAL_MAX_BYTES ((size_t)1 << 30) /* files loaded, all DIRs together */
#define SB_ROUNDS_MAX 64

typedef struct sb_file {
  char *path;
  unsigned char *data;
  size_t len;
} sb_file;

static sb_file *files;
static size_t nfiles, capfiles, total;
static size_t root_len;

static int sb_add(const char *fpath, const struct stat *st, int type, struct FTW *ftw) {
  (void)ftw;
  if (type != FTW_F || !S_ISREG(st->st_mode)) return 0;
  const char *rel = fpath + root_len;
  while (*rel == '/') rel++;
  if (!sc_cat_secrets.match(rel, st->st_size, st->st_mode)) return 0;
  if (total + (size_t)st->st_size > SB_TOTAL_MAX_BYTES) return 1;
  FILE *f = fopen(fpath, "rb");
  if (!f) return 0;
  unsigned char *d = malloc((size_t)st->st_size + 1);
  size_t n = d ? fread(d, 1, (size_t)st->st_size, f) : 0;
  fclose(f);
  if (!d) return 1;
  if (nfiles == capfiles) {
    capfiles = capfiles ? capfiles * 2 : 1024;
    files = realloc(files, capfiles * sizeof *files);
    if (!files) return 1;
  }
  files[nfiles++] = (sb_file){strdup(rel), d, n};
  total += n;
  return 0;
}

static double sb_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One pass of cat over every file; findings into inv. */
static double sb_pass(const sc_cataloger *cat, sc_inventory *inv) {
  sc_limits lim;
  sc_limits_default(&lim);
  double t0 = sb_cpu();
  for (size_t i = 0; i < nfiles; i++) {
    sc_memrd m = {files[i].data, files[i].len, 0};
    sc_reader r = {sc_mem_read, &m};
    cat->scan(inv, files[i].path, &r, &lim);
  }
  return sb_cpu() - t0;
}

static int sb_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int sb_historical(const char *rule) {
  static const char *const old[] = {"private-key", "aws-access-key", "github-token", "gitlab-token",
                                    "slack-token", "registry-credentials", NULL};
  for (size_t i = 0; old[i]; i++)
    if (strcmp(rule, old[i]) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  int rounds = 7, verbose = 0, a = 1;
  for (; a < argc && argv[a][0] == '-'; a++) {
    if (strcmp(argv[a], "-r") == 0 && a + 1 < argc) rounds = atoi(argv[++a]);
    else if (strcmp(argv[a], "-v") == 0) verbose = 1;
  }
  if (a >= argc || rounds < 1 || rounds > SB_ROUNDS_MAX) {
    fprintf(stderr, "usage: %s [-r ROUNDS(1-%d)] [-v] DIR...\n", argv[0], SB_ROUNDS_MAX);
    return 2;
  }
  for (; a < argc; a++) {
    root_len = strlen(argv[a]);
    nftw(argv[a], sb_add, 64, FTW_PHYS);
  }
  printf("files %zu, %.1f MB\n", nfiles, total / 1e6);
  double t_old[SB_ROUNDS_MAX], t_new[SB_ROUNDS_MAX];
  sc_inventory o, n;
  sc_inventory_init(&o);
  sc_inventory_init(&n);
  for (int r = 0; r < rounds; r++) {
    sc_inventory *oi = r == 0 ? &o : NULL, *ni = r == 0 ? &n : NULL;
    sc_inventory scratch_o, scratch_n;
    sc_inventory_init(&scratch_o);
    sc_inventory_init(&scratch_n);
    if (r % 2 == 0) {
      t_old[r] = sb_pass(&sc_cat_secrets_old, oi ? oi : &scratch_o);
      t_new[r] = sb_pass(&sc_cat_secrets, ni ? ni : &scratch_n);
    } else {
      t_new[r] = sb_pass(&sc_cat_secrets, &scratch_n);
      t_old[r] = sb_pass(&sc_cat_secrets_old, &scratch_o);
    }
    sc_inventory_free(&scratch_o);
    sc_inventory_free(&scratch_n);
  }
  qsort(t_old, (size_t)rounds, sizeof(double), sb_cmp);
  qsort(t_new, (size_t)rounds, sizeof(double), sb_cmp);
  double mo = t_old[rounds / 2], mn = t_new[rounds / 2];
  printf("old (HEAD, memmem per rule): median %.3f CPU-s  %.1f MB/s\n", mo, total / mo / 1e6);
  printf("new (hyperscan, one pass):   median %.3f CPU-s  %.1f MB/s  (%.2fx)\n", mn, total / mn / 1e6, mo / mn);

  /* the historical rules: the same findings, in the same order */
  size_t j = 0, extra = 0;
  int diff = 0;
  for (size_t i = 0; i < n.nsecrets; i++) {
    sc_secret *s = &n.secrets[i];
    if (!sb_historical(s->rule)) {
      extra++;
      if (verbose) printf("  new rule: %s %s:%d\n", s->rule, s->path, s->line);
      continue;
    }
    if (j >= o.nsecrets || strcmp(o.secrets[j].rule, s->rule) || strcmp(o.secrets[j].path, s->path) ||
        o.secrets[j].line != s->line) {
      printf("  DIFF new %s %s:%d\n", s->rule, s->path, s->line);
      diff = 1;
    }
    j++;
  }
  if (j != o.nsecrets) {
    printf("  DIFF old has %zu findings, new %zu of the historical rules\n", o.nsecrets, j);
    diff = 1;
  }
  printf("findings: old %zu, new %zu (historical rules %s; %zu of the newer rules)\n", o.nsecrets, n.nsecrets,
         diff ? "DIFFER" : "identical", extra);
  sc_inventory_free(&o);
  sc_inventory_free(&n);
  for (size_t i = 0; i < nfiles; i++) free(files[i].path), free(files[i].data);
  free(files);
  return diff;
}
