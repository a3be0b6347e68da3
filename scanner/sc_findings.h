/* sc_findings.h - findings persistence: the matcher's results in the store.
 *
 * A package's findings depend only on the package and the OS of the image
 * it ends up in, so findings are stored per (layer, OS key) as a "set"
 * shared by every image on that layer, with a hash of its content (a
 * re-match rewrites only the sets whose hash changed).  An image's row
 * names the generation it was matched at, its OS key, a hash, and the
 * packages of its layers that an upper layer hides ("hidden": layer index
 * and package index pairs).  Reading an image back joins its layers' sets
 * minus the hidden packages, and gives each finding the aliases of its
 * record.  Sets and image rows are derived data: a backend may drop them at
 * any time, and every image is then matched again on its next read.
 *
 * Owner: store (sc_findings.c, SQLite and PostgreSQL through sc_db).  Thread: the handle's.
 * Errors: 0, SC_ERR_ARG, SC_ERR_DB, SC_ERR_NOMEM, SC_ERR_LIMIT (a set over
 * SC_FINDINGS_SET_MAX_BYTES encoded); iterations return the first non-zero
 * value of their callback, which must not use st. */
#ifndef CUSTOMS_SC_FINDINGS_H
#define CUSTOMS_SC_FINDINGS_H
#include <stddef.h>
#include <stdint.h>

#include "sc_findlist.h"
#include "sc_store.h"
#include "sc_vulndata.h"

#define SC_FINDINGS_SET_MAX_BYTES (64u << 20) /* one layer's stored findings, encoded */

/* One vulnerability that affects one package version. */
typedef struct sc_hit {
  const sc_vuln *v;
  const char *fixed; /* lowest fixed version above the installed one, or "" */
  int sev;
  double score;
  int unsure;        /* a version did not parse: affected by caution, not by comparison */
} sc_hit;

typedef struct sc_hits {
  sc_hit *v;
  size_t n;
} sc_hits;

/* One package of a layer with findings, as a set stores it. */
typedef struct sc_fset_pkg {
  uint32_t seq;                    /* index of the package in the layer */
  const char *name, *version, *eco, *purl;
  const sc_hits *h;
} sc_fset_pkg;

/* The image's stored findings when they are from generation gen: 1 loaded
 * into out (sorted, out->generation = gen), 0 when absent, stale (a layer
 * stored after the match) or unreadable (out is left empty: recompute). */
int sc_findings_load_image(sc_store *st, const char *image, int64_t gen, sc_finding_list *out);

/* Writes (replacing) the set of layer under os: n packages, nfindings
 * hits in all, content hash. */
int sc_findings_put_set(sc_store *st, const char *layer, const char *os, int64_t gen, int64_t hash,
                        const sc_fset_pkg *pkgs, size_t n, size_t nfindings);
/* Marks an unchanged stored set as current at gen. */
int sc_findings_keep_set(sc_store *st, const char *layer, const char *os, int64_t gen);
/* Writes (replacing) the image's row: matched at gen (unix time now), its
 * findings' hash, OS key and hidden packages (layer index << 32 | package
 * index, in increasing order; none when nhidden is 0). */
int sc_findings_put_image(sc_store *st, const char *image, int64_t gen, int64_t now, int64_t hash,
                          const char *os, const uint64_t *hidden, size_t nhidden);

/* cb for every stored set: layer, OS key, content hash. */
int sc_findings_each_set_hash(sc_store *st, int (*cb)(void *arg, const char *layer, const char *os, int64_t hash),
                              void *arg);
/* Drops the rows of images that are no longer stored as image manifests. */
int sc_findings_forget_gone_images(sc_store *st);
/* Drops the sets not written or kept at gen (no image uses them now). */
int sc_findings_prune_sets(sc_store *st, int64_t gen);

/* For `customs db status`: images with stored findings, how many of them
 * at generation gen, and their findings in all. */
int sc_findings_counts(sc_store *st, int64_t gen, int64_t *images, int64_t *images_at_gen, int64_t *findings);
#endif
