/* sc_lineage_stack.c - bases known only by their recorded chains (watched
 * upstream images, never pushed through customs): the images of a recorded
 * index, the one for a platform, and the layers stored for a chain's
 * diff_ids (see sc_lineage.h).  A layer is found by its diff_id, so a base
 * whose layers came through customs inside the images built on it (same
 * uncompressed content, whatever the compression) is known without ever
 * fetching it.
 * Owner: scanner.  Thread: the store handle's.  Errors: as sc_store.h. */
#include "sc_lineage.h"

#include <stdio.h>
#include <string.h>

/* ---- the images of a digest ---- */

typedef struct kids {
  int (*cb)(void *, const char *, const char *);
  void *arg;
  size_t n;
} kids;

static int each_kid(void *arg, const char *child, const char *platform) {
  kids *k = arg;
  if (k->n >= SC_LINEAGE_MAX_CHILDREN) return 0; /* the rest of a huge index is ignored */
  k->n++;
  return k->cb(k->arg, child, platform ? platform : "");
}

int sc_lineage_images(sc_store *st, const char *digest,
                      int (*cb)(void *arg, const char *image, const char *platform), void *arg) {
  if (!st || !digest || !cb) return SC_ERR_ARG;
  sc_chain c;
  int rv = sc_store_get_chain(st, digest, &c);
  if (rv == 0) rv = cb(arg, digest, c.platform);
  sc_chain_free(&c);
  if (rv != SC_ERR_NOTFOUND) return rv;
  kids k = {cb, arg, 0};
  return sc_store_chain_children(st, digest, each_kid, &k);
}

typedef struct want {
  const char *platform;
  char out[72];
  int exact;
} want;

static int pick(void *arg, const char *image, const char *platform) {
  want *w = arg;
  if (w->exact) return 0;
  if (w->platform[0] && !strcmp(platform, w->platform)) {
    snprintf(w->out, sizeof(w->out), "%s", image);
    w->exact = 1;
  } else if (!w->platform[0] && !w->out[0]) {
    snprintf(w->out, sizeof(w->out), "%s", image);
  }
  return 0;
}

int sc_lineage_image_for(sc_store *st, const char *digest, const char *platform, char out[72]) {
  if (!out) return SC_ERR_ARG;
  out[0] = '\0';
  if (!st || !digest) return SC_ERR_ARG;
  sc_chain c;
  int rv = sc_store_get_chain(st, digest, &c);
  sc_chain_free(&c);
  if (rv == 0) { /* an image: itself, whatever its platform (a base that stopped being an index) */
    snprintf(out, 72, "%s", digest);
    return 0;
  }
  if (rv != SC_ERR_NOTFOUND) return rv;
  want w = {platform ? platform : "", "", 0};
  kids k = {pick, &w, 0};
  if ((rv = sc_store_chain_children(st, digest, each_kid, &k))) return rv;
  snprintf(out, 72, "%s", w.out);
  return 0;
}

/* ---- the layers stored for a chain ---- */

int sc_lineage_stack(sc_store *st, const char *digest, sc_strlist *out, int *known) {
  if (!known) return SC_ERR_ARG;
  *known = 0;
  if (!st || !digest || !out) return SC_ERR_ARG;
  sc_chain c;
  int rv = sc_store_get_chain(st, digest, &c);
  if (rv == SC_ERR_NOTFOUND || rv == SC_ERR_FORMAT) rv = 0;
  else if (!rv) *known = c.n > 0; /* an image without layers is no base */
  for (size_t i = 0; !rv && *known && i < c.n; i++) {
    char layer[72];
    rv = sc_store_layer_by_diff_id(st, c.diff_ids[i], layer);
    if (rv == SC_ERR_NOTFOUND) *known = 0, rv = 0;
    else if (!rv) rv = sc_strlist_add(out, layer);
  }
  sc_chain_free(&c);
  if (rv || !*known) {
    *known = 0;
    sc_strlist_free(out);
  }
  return rv;
}
