/* sc_lineage_int.h - what the lineage modules share (sc_lineage_down.c,
 * sc_lineage_fixes.c, sc_lineage_json.c): a set of strings with copied
 * keys, and the walk over what is built on an image.  Not for other
 * modules: their interface is sc_lineage.h.
 * Owner: scanner.  Thread: the caller's.  Errors: as sc_store.h. */
#ifndef CUSTOMS_SC_LINEAGE_INT_H
#define CUSTOMS_SC_LINEAGE_INT_H
#include "sc_arena.h"
#include "sc_lineage.h"
#include "sc_strmap.h"

/* A set of strings (digests, "repo\x1ftag" keys); zero it to start. */
typedef struct sc_lin_set {
  sc_strmap m;
  sc_arena a;
} sc_lin_set;

void sc_lin_set_free(sc_lin_set *s);
int sc_lin_set_has(const sc_lin_set *s, const char *k);
/* 1 when k was added (copied), 0 when it was there, SC_ERR_NOMEM. */
int sc_lin_set_add(sc_lin_set *s, const char *k);

/* Walks what is built on digest (an image, or an index and its children),
 * reporting each current tag once through cb (repo, tag, the digest it
 * points at), skipping the images in skip (may be NULL). */
int sc_lin_downstream(sc_store *st, const char *digest, const sc_lin_set *skip,
                      int (*cb)(void *arg, const char *repo, const char *tag, const char *digest), void *arg);
/* Every image built on digest, tagged or not, digest and its children
 * included, into out (zeroed by the caller; free with sc_lin_set_free). */
int sc_lin_built_on(sc_store *st, const char *digest, sc_lin_set *out);
#endif
