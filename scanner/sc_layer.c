/* sc_layer.c - streaming layer scan: the tar walk and the catalogers.
 *
 * The bytes come from sc_layer_pipe.c (pull, both SHA-256s, inflate on a
 * producer thread); here the uncompressed stream is walked with libarchive
 * and every regular file a cataloger wants is handed to it, in the calling
 * thread.  Memory: the pipeline's rings (sc_layer_pipe.c), the
 * decompressor state, and at most max_file_read for an entry that several
 * catalogers want (a bigger one is spooled to an unlinked temp file and
 * replayed to each).  Each cataloger runs under an sc_budget (CPU, memory,
 * nested inflation): over it, the layer fails "budget: <cataloger>: <what>"
 * and the walk stops.  Paths, hard links, symlinks, whiteouts and that
 * spool follow containerd's unpacking: sc_layer_paths.c ("what the runtime
 * sees").  Errors: see sc_layer.h; the first failure of the layer is the one
 * in res. */
#include "sc_layer.h"
#include "sc_layer_paths.h"
#include "sc_layer_pipe.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CATS SC_LAYER_MAX_CATS /* catalogers (bits of a uint32_t mask) */
#define MAX_NOTES 64              /* notes one layer may add */

/* The walk's state (the calling thread). */
typedef struct layer {
  const sc_limits *lim;
  sc_inventory *inv;
  sc_layer_result *res;
  sc_lpipe pipe;
  int nomem;
  int notes;
  int stop;     /* the layer failed in a way that ends the walk (budget, links) */
  sc_budget bud[MAX_CATS]; /* per cataloger, for the whole layer */
  uint64_t nested_left;    /* bytes nested archives may still inflate, all catalogers */
  sc_lpaths lp;            /* names, links, the spool (sc_layer_paths.c) */
} layer;

static void fail(layer *L, int status, const char *fmt, ...) {
  if (L->res->status) return; /* the first failure is the one reported */
  va_list ap;
  va_start(ap, fmt);
  L->res->status = status;
  vsnprintf(L->res->error, sizeof(L->res->error), fmt, ap);
  va_end(ap);
}

static void note(layer *L, const char *fmt, ...) {
  if (L->notes >= MAX_NOTES) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (++L->notes == MAX_NOTES) snprintf(buf, sizeof(buf), "layer: further notes suppressed");
  if (sc_strlist_add(&L->inv->notes, buf) == SC_ERR_NOMEM) L->nomem = 1;
}

/* ---- the uncompressed stream for libarchive ------------------------------- */

/* Chunks are the pipeline's own buffers: libarchive reads tar headers and
 * skips unwanted entries in place, and copies only what a cataloger reads. */
static la_ssize_t la_read(struct archive *a, void *ud, const void **buf) {
  layer *L = ud;
  ssize_t n = sc_lpipe_take(&L->pipe, buf);
  if (n < 0) {
    archive_set_error(a, EIO, "%s", L->res->error[0] ? L->res->error : "read failed");
    return -1;
  }
  return n;
}

/* ---- readers handed to catalogers ---------------------------------------- */

static ssize_t ar_read(void *ctx, void *buf, size_t len) {
  la_ssize_t n = archive_read_data((struct archive *)ctx, buf, len);
  return n < 0 ? SC_ERR_FORMAT : (ssize_t)n;
}

/* ---- budgets ---------------------------------------------------------------- */

/* The reader handed to a cataloger: the entry's reader behind a budget check,
 * so a cataloger over its CPU budget gets SC_ERR_LIMIT on its next read. */
typedef struct catrd {
  sc_reader inner;
  sc_budget *b;
} catrd;

static ssize_t cat_read(void *ctx, void *buf, size_t len) {
  catrd *c = ctx;
  if (sc_budget_check(c->b)) return SC_ERR_LIMIT;
  return sc_read(&c->inner, buf, len);
}

/* Runs cataloger ci on one file.  A spent or refused budget fails the layer
 * and stops the walk; any other error is a note. */
static void run_cat(layer *L, int ci, const char *path, sc_reader *r) {
  const sc_cataloger *c = sc_catalogers[ci];
  sc_budget *b = &L->bud[ci];
  sc_limits lim = *L->lim;
  lim.budget = b;
  catrd cr = {*r, b};
  sc_reader rr = {cat_read, &cr};
  sc_budget_enter(b);
  int rv = sc_budget_check(b) ? SC_ERR_LIMIT : c->scan(L->inv, path, &rr, &lim);
  sc_budget_leave(b);
  if (b->hit) {
    if (b->hit == SC_BUDGET_SPENT)
      fail(L, SC_ERR_LIMIT, "budget: %s: %s", c->name, b->what);
    else
      fail(L, SC_ERR_FORMAT, "%s: %s", c->name, b->what);
    L->stop = 1;
    return;
  }
  if (rv == SC_ERR_NOMEM) L->nomem = 1;
  if (rv && !L->res->status) note(L, "%s: %s: %s", c->name, path, customs_strerror(rv));
}

/* ---- regular files and entries ---------------------------------------------
 * Names, links, whiteouts and the spool for big files shared by several
 * catalogers are sc_layer_paths.c ("what the runtime sees"); here a regular
 * file's content is streamed or held and handed to the catalogers. */

static void run_cb(void *ctx, int ci, const char *path, sc_reader *r) { run_cat(ctx, ci, path, r); }

static void regular(layer *L, struct archive *a, const char *path, int64_t size, mode_t mode) {
  int want[MAX_CATS], nw = 0;
  uint32_t mask = sc_lpaths_wanted(path, size, mode);
  for (int i = 0; i < MAX_CATS; i++)
    if (mask & (1u << i)) want[nw++] = i;
  if (nw == 0) return;
  if (sc_lpaths_file(&L->lp, path, mask, size, mode)) return;

  if (nw == 1) { /* streamed, whatever its size */
    sc_reader r1 = {ar_read, a};
    run_cat(L, want[0], path, &r1);
    return;
  }
  if (size < 0 || (uint64_t)size > L->lim->max_file_read) return sc_lpaths_spool(&L->lp, a, path, mask);
  char *buf = NULL;
  size_t len = 0;
  sc_reader ar = {ar_read, a};
  int rv = sc_read_all(&ar, L->lim->max_file_read, &buf, &len);
  if (rv == SC_ERR_LIMIT) /* the header understated the size */
    return fail(L, SC_ERR_FORMAT, "%s: longer than its tar header says", path);
  if (rv) {
    if (rv == SC_ERR_NOMEM) L->nomem = 1;
    else fail(L, SC_ERR_FORMAT, "%s: unreadable entry: %s", path, customs_strerror(rv));
    return;
  }
  for (int i = 0; i < nw && !L->stop; i++) {
    sc_memrd m = {buf, len, 0};
    sc_reader r2 = {sc_mem_read, &m};
    run_cat(L, want[i], path, &r2);
  }
  free(buf);
}

static void entry(layer *L, struct archive *a, struct archive_entry *ae) {
  const char *path;
  if (!sc_lpaths_entry(&L->lp, ae, &path)) return;
  int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
  regular(L, a, path, size, archive_entry_mode(ae));
}

static void walk(layer *L) {
  struct archive *a = archive_read_new();
  if (!a) return (void)(L->nomem = 1);
  if (sc_lpaths_init(&L->lp)) {
    archive_read_free(a);
    return;
  }
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_filter_none(a);
  if (archive_read_open(a, L, NULL, la_read, NULL) != ARCHIVE_OK) {
    fail(L, SC_ERR_FORMAT, "not a tar archive: %s", archive_error_string(a));
  } else {
    for (;;) {
      struct archive_entry *ae;
      int r = archive_read_next_header(a, &ae);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        const char *e = archive_error_string(a);
        fail(L, SC_ERR_FORMAT, "corrupt tar after %llu entries: %s",
             (unsigned long long)L->res->entries, e ? e : "unknown error");
        break;
      }
      if (++L->res->entries > L->lim->max_entries) {
        fail(L, SC_ERR_LIMIT, "more than %llu tar entries", (unsigned long long)L->lim->max_entries);
        break;
      }
      entry(L, a, ae);
      if (L->nomem || L->stop) break;
    }
    if (!L->nomem && !L->stop && !L->res->status) sc_lpaths_finish(&L->lp);
  }
  archive_read_free(a);
}

static int scan(const sc_lsrc *src, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res) {
  memset(res, 0, sizeof(*res));
  layer *L = calloc(1, sizeof(*L));
  if (!L) {
    res->status = SC_ERR_NOMEM;
    snprintf(res->error, sizeof(res->error), "out of memory");
    return SC_ERR_NOMEM;
  }
  L->lim = lim;
  L->inv = inv;
  L->res = res;
  L->nested_left = lim->nested_max_bytes;
  L->lp = (sc_lpaths){.lim = lim, .inv = inv, .res = res, .nomem = &L->nomem, .stop = &L->stop, .run = run_cb,
                      .run_ctx = L};
  for (int i = 0; sc_catalogers[i] && i < MAX_CATS; i++)
    sc_budget_init(&L->bud[i], sc_catalogers[i]->name, lim->cat_cpu_ms, lim->cat_mem_bytes,
                   lim->nested_max_bytes ? &L->nested_left : NULL, lim->nested_max_bytes);
  int rv = sc_lpipe_open(&L->pipe, src, lim, res, &L->nomem);
  if (rv == 0) {
    if (sc_lpipe_walkable(&L->pipe)) walk(L);
    rv = sc_lpipe_close(&L->pipe);
  }
  if (rv == 0 || rv == SC_ERR_IO) {
    if (L->lp.n_dotdot)
      note(L, "layer: %llu entries climbing above the root with \"..\" (read at the root, as containerd does)",
           (unsigned long long)L->lp.n_dotdot);
    if (L->lp.n_abs)
      note(L, "layer: %llu entries with absolute paths (read relative to the root)",
           (unsigned long long)L->lp.n_abs);
    if (L->nomem && rv == 0) rv = SC_ERR_NOMEM;
  }
  if (rv == SC_ERR_NOMEM && !res->status) {
    res->status = SC_ERR_NOMEM;
    snprintf(res->error, sizeof(res->error), "out of memory");
  }
  sc_lpipe_free(&L->pipe);
  sc_lpaths_free(&L->lp);
  free(L);
  return rv;
}

int sc_layer_scan(sc_pull_fn pull, void *ctx, const sc_limits *lim, sc_inventory *inv,
                  sc_layer_result *res) {
  if (!pull || !lim || !inv || !res) return SC_ERR_ARG;
  sc_lsrc src = {.pull = pull, .ctx = ctx};
  return scan(&src, lim, inv, res);
}

int sc_layer_scan_ref(sc_peek_fn peek, sc_consume_fn consume, void *ctx, const sc_limits *lim,
                      sc_inventory *inv, sc_layer_result *res) {
  if (!peek || !consume || !lim || !inv || !res) return SC_ERR_ARG;
  sc_lsrc src = {.peek = peek, .consume = consume, .ctx = ctx};
  return scan(&src, lim, inv, res);
}

static ssize_t fd_pull(void *ctx, void *buf, size_t len) {
  int fd = *(int *)ctx;
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0) return n;
    if (errno != EINTR) return SC_ERR_IO;
  }
}

int sc_layer_scan_fd(int fd, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res) {
  return sc_layer_scan(fd_pull, &fd, lim, inv, res);
}
