/* sc_layer_paths.h - what the runtime sees of a layer: names, links, and
 * files too big to hold (internal to the layer walk, sc_layer.c).
 *
 * containerd (archive/tar.go Apply) cleans every name, resolves its parent
 * directory inside the root (fs.RootPath: symlinks followed, ".." stops at
 * the root, so "../../x" and "/x" both land at "x"), and makes a hard link to
 * RootPath(root, linkname), which may be a file of a lower layer.  The walk
 * does the same within the layer: names are cleaned and clamped to the
 * root, parents are resolved through this layer's symlinks (symlinks of
 * lower layers cannot be seen from here), a hard link is cataloged as its
 * target's content at its own path, and a symlink at a path a cataloger
 * reads must point at a path the same catalogers read.  A file over
 * max_file_read that several catalogers want is spooled to an unlinked temp
 * file and replayed to each.  Whatever cannot be brought to a cataloger
 * fails the layer; nothing is skipped silently.
 *
 * Ownership: an sc_lpaths is part of one layer walk; the walk fills the
 * public fields, sc_lpaths_init allocates the rest, sc_lpaths_free frees it
 * (also after a failed init).  Strings passed in are copied.
 * Thread: the walk's (calling) thread only; no globals but the read-only
 * cataloger table (sc_catalogers).
 * Errors: the first failure of the layer is written to res (status and
 * error, unless res already has one, as the walk does); *nomem is set when
 * out of memory and *stop when the walk must end (record budget, a
 * cataloger's spent budget during a replay). */
#ifndef CUSTOMS_SC_LAYER_PATHS_H
#define CUSTOMS_SC_LAYER_PATHS_H
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <sys/types.h>

#include "sc_catalog.h"
#include "sc_inventory.h"
#include "sc_layer.h"

#define SC_LAYER_MAX_CATS 32 /* catalogers a walk handles (bits of a uint32_t mask) */

/* Runs cataloger cat (index in sc_catalogers) on the file at path. */
typedef void (*sc_lpaths_run_fn)(void *ctx, int cat, const char *path, sc_reader *r);

typedef struct sc_lpaths {
  /* set by the walk before sc_lpaths_init */
  const sc_limits *lim;
  sc_inventory *inv;
  sc_layer_result *res;    /* failures; res->entries numbers the current entry */
  int *nomem, *stop;       /* the walk's flags */
  sc_lpaths_run_fn run;    /* a spooled file is replayed through it */
  void *run_ctx;
  /* counted for the walk's notes */
  uint64_t n_dotdot, n_abs;
  /* private */
  struct sc_frec *recs;    /* symlinks and cataloged files of this layer, by path */
  size_t rcap, rn, rbytes;
  char **syms;             /* symlinks at paths a cataloger reads, checked at the end */
  size_t nsyms, symcap;
  char *path, *scratch, *scratch2; /* pathcap bytes each */
  size_t pathcap;
} sc_lpaths;

/* Allocates the path buffers: 0, or SC_ERR_NOMEM (*nomem is set too). */
int sc_lpaths_init(sc_lpaths *p);
void sc_lpaths_free(sc_lpaths *p);

/* Catalogers (bits of sc_catalogers indices) that read a file at path with
 * this size and mode. */
uint32_t sc_lpaths_wanted(const char *path, int64_t size, mode_t mode);

/* Takes one tar entry: its name cleaned and resolved, whiteouts, hard links
 * and symlinks recorded (a hard link is cataloged here, as its target).
 * Returns 1 and sets *path (valid until the next call) for a regular file
 * whose content the caller must catalog; 0 otherwise (handled, skipped, or
 * failed). */
int sc_lpaths_entry(sc_lpaths *p, struct archive_entry *ae, const char **path);

/* Records a regular file at path that the catalogers in mask read (so that
 * hard links and symlinks to it are checked against them) and lists it as
 * cataloged.  0, or -1 when the walk must not catalog it (out of memory,
 * record budget: the flags and res say which). */
int sc_lpaths_file(sc_lpaths *p, const char *path, uint32_t mask, int64_t size, mode_t mode);

/* The current entry of a, too big to hold (or of unknown size), for every
 * cataloger in mask: spooled to an unnamed temp file in lim->spool_dir
 * (sc_tmpfile_open; none there fails the layer) and replayed to each
 * through p->run. */
void sc_lpaths_spool(sc_lpaths *p, struct archive *a, const char *path, uint32_t mask);

/* At the end of the walk (when nothing has failed): every symlink at a path
 * a cataloger reads must resolve to a path the same catalogers read. */
void sc_lpaths_finish(sc_lpaths *p);
#endif
