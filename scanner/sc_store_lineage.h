/* sc_store_lineage.h - image lineage in the store: layer chains, index
 * membership, every move of a tag, and watched upstream tags.
 *
 * A chain is what an image's filesystem is made of: the config's diff_ids
 * (digests of the uncompressed layers) and their chain IDs (OCI image spec:
 * ChainID(L0) = DiffID(L0), ChainID(L0..n) = SHA-256 of "ChainID(L0..n-1)
 * DiffID(Ln)"), which survive recompression: an image B is built on A when
 * A's whole chain is a proper prefix of B's.  Chains are recorded for local
 * images (sc_store_put_manifest does it from the config) and for watched
 * upstream images (origin SC_ORIGIN_WATCH: never pushed through customs,
 * known only by their manifests and configs).
 *
 * Tag history: one row per move of a tag to a new digest, with its time and
 * the digest it left.  Local tags move in sc_store_put_manifest_ex; watched
 * tags in sc_store_watch_set.  Repositories of watched tags are written
 * "host[:port]/path" and never mix with local ones (origin is part of every
 * key).
 *
 * Owner: store (sc_store_lineage.c, SQLite and PostgreSQL through sc_db).  Thread: the
 * handle's.  Errors: as sc_store.h (0, SC_ERR_ARG, SC_ERR_DB, SC_ERR_NOMEM,
 * SC_ERR_NOTFOUND where stated, SC_ERR_LIMIT past SC_LINEAGE_MAX_ROWS or
 * SC_LINEAGE_MAX_LAYERS); iterations return the first non-zero value of
 * their callback, which must not use st unless stated. */
#ifndef CUSTOMS_SC_STORE_LINEAGE_H
#define CUSTOMS_SC_STORE_LINEAGE_H
#include <stddef.h>
#include <stdint.h>
#include "sc_store.h"

#define SC_LINEAGE_MAX_LAYERS 1000  /* layers of one recorded chain (Docker allows 127) */
#define SC_LINEAGE_MAX_ROWS 10000   /* images or history rows one query hands out */
#define SC_LINEAGE_PLATFORM_MAX 64  /* "os/arch[/variant]" */

enum { SC_ORIGIN_LOCAL = 0, SC_ORIGIN_WATCH = 1 };
/* "local" | "watch" */
const char *sc_origin_name(int origin);

/* The chain IDs of n diff_ids ("sha256:<64 hex>" each): out[i] gets chain
 * i.  SC_ERR_ARG when a diff_id is not a sha256 digest. */
int sc_chain_ids(const char *const *diff_ids, size_t n, char (*out)[72]);

typedef struct sc_chain {
  char digest[72];         /* the image manifest */
  int origin;              /* SC_ORIGIN_* */
  char platform[SC_LINEAGE_PLATFORM_MAX]; /* from the config, "" unknown */
  size_t n;                /* layers */
  char (*diff_ids)[72];    /* n of each, bottom first */
  char (*chain_ids)[72];
  char *base_name;         /* org.opencontainers.image.base.name, NULL when absent */
  char *base_digest;       /* org.opencontainers.image.base.digest, NULL when absent */
  int64_t recorded_at;
} sc_chain;

/* Records (replacing) the chain of image manifest digest.  n may be 0 (an
 * image with no layers: recorded, never anyone's base).  base_* may be
 * NULL.  A local chain is never replaced by a watched one (the same image
 * pushed through customs and watched upstream stays local). */
int sc_store_put_chain(sc_store *st, const char *digest, int origin, const char *platform,
                       const char *const *diff_ids, size_t n, const char *base_name, const char *base_digest);
/* Records that index parent holds image child for platform. */
int sc_store_put_chain_child(sc_store *st, const char *parent, const char *child, const char *platform);
/* Loads a recorded chain; free with sc_chain_free (also after an error).
 * SC_ERR_NOTFOUND. */
int sc_store_get_chain(sc_store *st, const char *digest, sc_chain *out);
void sc_chain_free(sc_chain *c);

/* cb(arg, digest, nlayers) for every recorded image whose whole chain is
 * top_chain (several digests can share one: the same layers recompressed or
 * with another config). */
int sc_store_chain_images_with_top(sc_store *st, const char *top_chain,
                                   int (*cb)(void *arg, const char *digest, size_t nlayers), void *arg);
/* cb(arg, digest, nlayers) for every recorded image with chain_id at layer
 * index idx and more than idx + 1 layers: every image built, directly or
 * not, on an image whose whole chain is chain_id.  At most
 * SC_LINEAGE_MAX_ROWS (then SC_ERR_LIMIT). */
int sc_store_chain_images_above(sc_store *st, const char *chain_id, size_t idx,
                                int (*cb)(void *arg, const char *digest, size_t nlayers), void *arg);
/* cb(arg, digest) for every recorded image whose base.digest annotation is
 * base_digest. */
int sc_store_chain_images_annotated(sc_store *st, const char *base_digest,
                                    int (*cb)(void *arg, const char *digest), void *arg);
/* cb(arg, child, platform) for the images of index parent. */
int sc_store_chain_children(sc_store *st, const char *parent,
                            int (*cb)(void *arg, const char *child, const char *platform), void *arg);
/* cb(arg, parent) for the indexes that hold child. */
int sc_store_chain_parents(sc_store *st, const char *child, int (*cb)(void *arg, const char *parent), void *arg);

/* ---- tags and their history ---- */

/* One move of a tag: it pointed at digest from `at` (unix seconds) until
 * `until` (0: it still does), having left prev (NULL: first sighting). */
typedef struct sc_tag_move {
  int origin;
  const char *repo, *tag, *digest, *prev;
  int64_t at, until;
} sc_tag_move;

/* Records that repo:tag points at digest at `at`, when its last recorded
 * digest differs (or none is recorded).  prev (72 bytes, may be NULL) gets
 * the digest the tag left, "" when it did not move or was new.  Runs inside
 * the caller's transaction when one is open. */
int sc_store_tag_record(sc_store *st, int origin, const char *repo, const char *tag, const char *digest,
                        int64_t at, char *prev);
/* cb for repo:tag's moves, newest first, at most max (0: SC_LINEAGE_MAX_ROWS). */
int sc_store_tag_history(sc_store *st, int origin, const char *repo, const char *tag, size_t max,
                         int (*cb)(void *arg, const sc_tag_move *m), void *arg);
/* cb for every move that pointed a tag (any origin) at digest, oldest
 * first, with when the tag left it (until 0: it is still there). */
int sc_store_tags_of_digest(sc_store *st, const char *digest, int (*cb)(void *arg, const sc_tag_move *m),
                            void *arg);
/* cb(arg, repo, tag) for the local tags that point at digest now. */
int sc_store_current_tags(sc_store *st, const char *digest,
                          int (*cb)(void *arg, const char *repo, const char *tag), void *arg);
/* Where repo:tag points now: local tags from `tags`, watched from
 * `watched`.  SC_ERR_NOTFOUND. */
int sc_store_tag_current(sc_store *st, int origin, const char *repo, const char *tag, char digest[72]);

/* ---- watched upstream tags ---- */

typedef struct sc_watch_row {
  const char *repo, *tag;  /* "host[:port]/path", tag */
  const char *digest;      /* NULL: never resolved */
  int64_t checked_at;      /* 0: never checked */
  const char *error;       /* last check's error, NULL when it worked */
} sc_watch_row;

/* Records one check of a watched tag, in one transaction: on success
 * (digest not NULL) the tag's digest (a move goes to tag_history, prev
 * gets the digest it left, "" when none) and error cleared; on failure
 * (digest NULL) only error and checked_at, the digest kept. */
int sc_store_watch_set(sc_store *st, const char *repo, const char *tag, const char *digest, const char *error,
                       int64_t now, char prev[72]);
/* cb for every watched tag, by repo and tag. */
int sc_store_watch_each(sc_store *st, int (*cb)(void *arg, const sc_watch_row *r), void *arg);
#endif
