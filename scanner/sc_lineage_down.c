/* sc_lineage_down.c - what is built on an image: the images whose chain
 * extends its own or that name it by annotation, directly or not, reported
 * by their current tags (sc_lineage_downstream); and the set of strings the
 * lineage modules share.
 * Owner: scanner.  Thread: the store handle's.  Errors: as sc_store.h. */
#include "sc_lineage.h"
#include "sc_lineage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_hash.h"

/* ---- a set of strings (digests, "repo:tag") ---- */

void sc_lin_set_free(sc_lin_set *s) {
  sc_strmap_free(&s->m);
  sc_arena_free(&s->a);
  memset(s, 0, sizeof(*s));
}

int sc_lin_set_has(const sc_lin_set *s, const char *k) {
  sc_strmap_slot *sl = s->m.s ? sc_strmap_find(&s->m, k, sc_fnv1a_str(k)) : NULL;
  return sl && sl->key;
}

int sc_lin_set_add(sc_lin_set *s, const char *k) {
  if (sc_lin_set_has(s, k)) return 0;
  if (sc_strmap_reserve(&s->m)) return SC_ERR_NOMEM;
  uint64_t h = sc_fnv1a_str(k);
  sc_strmap_slot *sl = sc_strmap_find(&s->m, k, h);
  char *copy = sc_arena_strdup(&s->a, k);
  if (!sl || !copy) return SC_ERR_NOMEM;
  sl->key = copy;
  sl->h = h;
  sl->val = copy;
  s->m.n++;
  return 1;
}

/* ---- what is built on an image ---- */

typedef struct down {
  sc_store *st;
  sc_lin_set seen_img;        /* images already expanded */
  sc_lin_set seen_tag;        /* "repo\x1ftag" already reported */
  const sc_lin_set *skip;     /* images not to report (built on the new base too) */
  int (*cb)(void *, const char *, const char *, const char *);
  void *arg;
  size_t count;
  const char *img;        /* while reporting: the digest the tags point at */
} down;

static int report_tag(void *arg, const char *repo, const char *tag) {
  down *d = arg;
  char key[1024];
  if (!sc_strmap_key(key, sizeof(key), repo, tag, NULL)) return 0;
  int added = sc_lin_set_add(&d->seen_tag, key);
  if (added <= 0) return added;
  if (d->count >= SC_LINEAGE_MAX_DOWNSTREAM) return SC_ERR_LIMIT;
  d->count++;
  return d->cb(d->arg, repo, tag, d->img);
}

static int report_parent(void *arg, const char *parent) {
  down *d = arg;
  const char *img = d->img;
  d->img = parent;
  int rv = sc_store_current_tags(d->st, parent, report_tag, d);
  d->img = img;
  return rv;
}

static int expand(down *d, const char *digest);

static int found_image(void *arg, const char *digest, size_t n) {
  (void)n;
  down *d = arg;
  int added = sc_lin_set_add(&d->seen_img, digest);
  if (added <= 0) return added;
  if (!d->skip || !sc_lin_set_has(d->skip, digest)) {
    d->img = digest;
    int rv = sc_store_current_tags(d->st, digest, report_tag, d);
    if (!rv) rv = sc_store_chain_parents(d->st, digest, report_parent, d);
    if (rv) return rv;
  }
  /* what is built on this one, by chain or by annotation */
  return expand(d, digest);
}

static int annotated(void *arg, const char *digest) { return found_image(arg, digest, 0); }

/* Reports the images built on digest: those whose chain extends its own,
 * and those that name it (or an index holding it) as their base. */
static int expand(down *d, const char *digest) {
  sc_chain c;
  int rv = sc_store_get_chain(d->st, digest, &c);
  if (rv == 0 && c.n > 0) rv = sc_store_chain_images_above(d->st, c.chain_ids[c.n - 1], c.n - 1, found_image, d);
  else if (rv == SC_ERR_NOTFOUND || rv == SC_ERR_FORMAT) rv = 0;
  sc_chain_free(&c);
  if (!rv) rv = sc_store_chain_images_annotated(d->st, digest, annotated, d);
  return rv;
}

static int expand_child(void *arg, const char *child, const char *platform) {
  (void)platform;
  down *d = arg;
  int added = sc_lin_set_add(&d->seen_img, child);
  return added <= 0 ? added : expand(d, child);
}

int sc_lin_downstream(sc_store *st, const char *digest, const sc_lin_set *skip,
                      int (*cb)(void *, const char *, const char *, const char *), void *arg) {
  down d;
  memset(&d, 0, sizeof(d));
  d.st = st;
  d.skip = skip;
  d.cb = cb;
  d.arg = arg;
  int rv = sc_lin_set_add(&d.seen_img, digest) < 0 ? SC_ERR_NOMEM : 0;
  if (!rv) rv = expand(&d, digest);
  if (!rv) rv = sc_store_chain_children(st, digest, expand_child, &d);
  sc_lin_set_free(&d.seen_img);
  sc_lin_set_free(&d.seen_tag);
  return rv;
}

int sc_lineage_downstream(sc_store *st, const char *digest,
                          int (*cb)(void *arg, const char *repo, const char *tag, const char *digest), void *arg) {
  if (!st || !digest || !cb) return SC_ERR_ARG;
  return sc_lin_downstream(st, digest, NULL, cb, arg);
}

static int collect(void *arg, const char *repo, const char *tag, const char *digest) {
  (void)arg, (void)repo, (void)tag, (void)digest;
  return 0;
}

int sc_lin_built_on(sc_store *st, const char *digest, sc_lin_set *out) {
  down d;
  memset(&d, 0, sizeof(d));
  d.st = st;
  d.cb = collect;
  int rv = sc_lin_set_add(&d.seen_img, digest) < 0 ? SC_ERR_NOMEM : 0;
  if (!rv) rv = expand(&d, digest);
  if (!rv) rv = sc_store_chain_children(st, digest, expand_child, &d);
  sc_lin_set_free(&d.seen_tag);
  *out = d.seen_img; /* every image reached, digest and its children included */
  return rv;
}

