/* sc_lineage.h - what an image is built on, what is built on it, and what a
 * newer base fixes: questions answered from the chains and tag history of
 * the store (sc_store_lineage.h).
 *
 * The base of an image is:
 *   1. the image its org.opencontainers.image.base.digest annotation names
 *      (for an index: its child whose chain is a prefix of this one, else
 *      its child for the same platform), when that is recorded;
 *   2. otherwise the recorded image whose whole chain is the longest proper
 *      prefix of this one among those that were ever tagged (the base
 *      someone named), else among all recorded images (the closest).
 * A base is stale (superseded) as soon as one tag that pointed at it (or at
 * an index holding it) points elsewhere: base:12 moved on, even if a dated
 * tag such as base:12-20240101 still pins the old image.  It was superseded
 * when the first such tag left it (a tag that left and came back counts
 * from its last departure; a tag that points at it again is current).
 *
 * Used by the proxy (events, the pull gate's stale_base_days fact) and by
 * `customs lineage`.
 * Owner: scanner.  Thread: the store handle's.  Errors: as sc_store.h. */
#ifndef CUSTOMS_SC_LINEAGE_H
#define CUSTOMS_SC_LINEAGE_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "sc_findlist.h"
#include "sc_store.h"
#include "sc_store_lineage.h"

#define SC_LINEAGE_MAX_DEPTH 16        /* bases followed down from one image */
#define SC_LINEAGE_MAX_DOWNSTREAM 1000 /* images one event or listing names */
#define SC_LINEAGE_MAX_FIXES 500       /* findings one event lists (all are counted) */
#define SC_LINEAGE_MAX_HISTORY 20      /* moves of a tag `customs lineage` shows */
#define SC_LINEAGE_MAX_CHILDREN 64     /* images of one index looked at (sc_lineage_images) */

enum { SC_BASE_BY_CHAIN = 0, SC_BASE_BY_ANNOTATION = 1 };

typedef struct sc_lineage_base {
  char digest[72];       /* the base image manifest */
  char index[72];        /* the tagged index that holds it, "" when none */
  int how;               /* SC_BASE_* */
  int origin;            /* SC_ORIGIN_* of the base's chain */
  size_t nlayers;
  char *repo, *tag;      /* stale: the tag that moved on; else a tag that points at it; NULL when never tagged */
  int stale;             /* a tag that named it points elsewhere now */
  int64_t superseded_at; /* stale: when that tag left it */
  char now_digest[72];   /* stale: where that tag points now, "" unknown */
} sc_lineage_base;

/* The base of image manifest digest: *found 0 when it has none (or no
 * chain is recorded for it). */
int sc_lineage_base_of(sc_store *st, const char *digest, sc_lineage_base *out, int *found);
void sc_lineage_base_free(sc_lineage_base *b);

/* The base chain: out[0] = the base of digest, out[1] its base, ... at
 * most max (<= SC_LINEAGE_MAX_DEPTH); *n set.  Free each entry. */
int sc_lineage_chain(sc_store *st, const char *digest, sc_lineage_base *out, size_t max, size_t *n);

/* cb(arg, repo, tag, digest) for each image built on digest (an image, or
 * an index: on any of its children), directly or not, that a local tag
 * points at now (the tag's digest: the image, or an index holding it),
 * each (repo, tag) once, at most SC_LINEAGE_MAX_DOWNSTREAM.  cb must not
 * use st. */
int sc_lineage_downstream(sc_store *st, const char *digest,
                          int (*cb)(void *arg, const char *repo, const char *tag, const char *digest), void *arg);

/* What moving from base old_digest to new_digest (images or indexes)
 * fixes: the findings of old that new no longer has (same vulnerability
 * and package), into out (initialised by the caller).  Stored images with
 * every layer scanned are compared as stored (an index: its first child,
 * and new's child for the same platform).  Otherwise (a watched base,
 * known only by its chain) by chains: the first image of old (itself, or
 * a child of its index) whose every diff_id has a stored layer
 * (sc_lineage_stack), against new's image for its platform, the stacks
 * matched with sc_match_layers.  *known = 0 when neither way has every
 * layer of both: out is then empty. */
int sc_lineage_fixes(sc_store *st, const char *old_digest, const char *new_digest, sc_finding_list *out,
                     int *known);

/* ---- bases known only by their chains (sc_lineage_stack.c) ---- */

/* cb(arg, image, platform) for the image manifests of digest: itself when
 * its chain is recorded, else the children recorded for the index
 * (sc_store_chain_children, by digest), at most SC_LINEAGE_MAX_CHILDREN;
 * platform "" when unknown.  cb may use st. */
int sc_lineage_images(sc_store *st, const char *digest,
                      int (*cb)(void *arg, const char *image, const char *platform), void *arg);
/* The image of digest for platform: digest itself when its chain is
 * recorded, else its index child for platform (the first one when platform
 * is "" or NULL); out "" when there is none. */
int sc_lineage_image_for(sc_store *st, const char *digest, const char *platform, char out[72]);
/* The stored layers of image digest's recorded chain, bottom first: for
 * each diff_id a layer stored "ok" with it (sc_store_layer_by_diff_id),
 * added to out (initialised and empty).  *known = 0 and out empty when no
 * chain is recorded, it has no layers, or a diff_id has no stored layer. */
int sc_lineage_stack(sc_store *st, const char *digest, sc_strlist *out, int *known);

/* For the policy: how long ago the base of image digest was superseded,
 * in seconds at `now`; -1 when it has no base or its base is current. */
int sc_lineage_stale_seconds(sc_store *st, const char *digest, int64_t now, int64_t *secs);

/* ---- JSON (events and `customs lineage --format json`) ---- */

/* [{"id", "aliases", "package", "version", "fixed", "severity", "score",
 * "ecosystem", "purl"}, ...], most severe first, at most max (0: all). */
json_t *sc_lineage_findings_json(const sc_finding_list *fl, size_t max);

/* The payload of event base-image-updated (without "id"/"type"/"at",
 * which the emitter adds):
 *   {"base": {"origin", "repository", "tag", "old_digest", "new_digest"},
 *    "images": [{"repository", "tag", "digest"}, ...],
 *    "fixes_known": bool, "fixes": [findings], "fixes_total": N}
 * NULL on error.  *nimages (may be NULL) gets the number of images named:
 * an event with none need not be sent. */
json_t *sc_lineage_base_updated(sc_store *st, int origin, const char *repo, const char *tag, const char *old_digest,
                                const char *new_digest, size_t *nimages);

/* What `customs lineage REPO:TAG` prints, as JSON:
 *   {"repository", "tag", "digest", "image", "origin",
 *    "bases": [{"digest", "index", "how", "origin", "repository", "tag",
 *    "layers", "stale", "superseded_at", "superseded_days", "new_digest",
 *    "fixes_known", "fixes", "fixes_total"}, ...],
 *    "built_on_this": [{"repository", "tag", "digest"}, ...],
 *    "history": [{"digest", "at", "until", "images_on_it": [...]}, ...]}
 * repo:ref is a local tag or image, else a watched tag ("host[:port]/path"
 * and tag) or a watched image digest.  "history" (tags only, newest first,
 * at most SC_LINEAGE_MAX_HISTORY) lists every digest the tag pointed at and,
 * for those it left, the images still built on them (not also on the
 * current one): what a rebuild has not reached yet.
 * SC_ERR_NOTFOUND when repo:ref is not recorded. */
int sc_lineage_describe(sc_store *st, const char *repo, const char *ref, int64_t now, json_t **out);
#endif
