/* sc_lineage.c - the base of an image and whether it is stale, from the
 * chains and tag history of the store (rules in sc_lineage.h).  What is
 * built on an image: sc_lineage_down.c; what a newer base fixes:
 * sc_lineage_fixes.c; JSON: sc_lineage_json.c.
 * Owner: scanner.  Thread: the store handle's.  Errors: as sc_store.h. */
#include "sc_lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tags a digest had ---- */

/* One tag as it concerns a digest. */
typedef struct tag_ref {
  int origin;
  char repo[512], tag[256];
  char index[72];          /* the tag was on this index, "" when on the digest */
} tag_ref;

/* What the tag history says of one digest (and of the indexes holding it).
 * A digest is superseded as soon as one tag that named it points elsewhere
 * (a floating tag such as base:12 moved on; a dated tag that still pins it
 * does not make it current): the base image someone named has a newer
 * version since then. */
typedef struct tag_info {
  sc_store *st;
  int tagged;              /* some tag pointed at it */
  int current;             /* cur: a tag that points at it now */
  tag_ref cur;
  int stale;               /* moved: a tag that pointed at it and points elsewhere now */
  tag_ref moved;
  int64_t superseded_at;   /* when that tag left it (the earliest such tag) */
  const char *via;         /* while iterating: the index being looked at, NULL for the digest */
} tag_info;

static void set_ref(tag_ref *r, const tag_info *ti, int origin, const char *repo, const char *tag) {
  r->origin = origin;
  snprintf(r->repo, sizeof(r->repo), "%s", repo);
  snprintf(r->tag, sizeof(r->tag), "%s", tag);
  snprintf(r->index, sizeof(r->index), "%s", ti->via ? ti->via : "");
}

static int note_move(void *arg, const sc_tag_move *m) {
  tag_info *ti = arg;
  char now[72] = "";
  int rv = sc_store_tag_current(ti->st, m->origin, m->repo, m->tag, now);
  if (rv && rv != SC_ERR_NOTFOUND) return rv;
  ti->tagged = 1;
  if (!strcmp(now, m->digest)) { /* this tag points here now (maybe again) */
    if (!ti->current) set_ref(&ti->cur, ti, m->origin, m->repo, m->tag);
    ti->current = 1;
    return 0;
  }
  /* rows come oldest first: a later row of the same tag is its last stay
   * here; among tags, the earliest departure counts */
  int64_t left = m->until ? m->until : m->at;
  int same = ti->stale && ti->moved.origin == m->origin && !strcmp(ti->moved.repo, m->repo) &&
             !strcmp(ti->moved.tag, m->tag);
  if (!ti->stale || (same ? left > ti->superseded_at : left < ti->superseded_at)) {
    set_ref(&ti->moved, ti, m->origin, m->repo, m->tag);
    ti->superseded_at = left;
    ti->stale = 1;
  }
  return 0;
}

/* Tags set before history was kept are only in `tags`. */
static int note_current(void *arg, const char *repo, const char *tag) {
  tag_info *ti = arg;
  ti->tagged = 1;
  if (!ti->current) set_ref(&ti->cur, ti, SC_ORIGIN_LOCAL, repo, tag);
  ti->current = 1;
  return 0;
}

static int tags_of_parent(void *arg, const char *parent) {
  tag_info *ti = arg;
  ti->via = parent;
  int rv = sc_store_tags_of_digest(ti->st, parent, note_move, ti);
  if (!rv) rv = sc_store_current_tags(ti->st, parent, note_current, ti);
  ti->via = NULL;
  return rv;
}

static int tag_info_of(sc_store *st, const char *digest, tag_info *ti) {
  memset(ti, 0, sizeof(*ti));
  ti->st = st;
  int rv = sc_store_tags_of_digest(st, digest, note_move, ti);
  if (!rv) rv = sc_store_current_tags(st, digest, note_current, ti);
  if (!rv) rv = sc_store_chain_parents(st, digest, tags_of_parent, ti);
  return rv;
}

/* ---- the base of an image ---- */

typedef struct pick {
  sc_store *st;
  const char *self;
  char best[72];
  size_t best_n;
  int best_tagged;
  int rv;
} pick;

static int consider(void *arg, const char *digest, size_t n) {
  pick *p = arg;
  if (!strcmp(digest, p->self)) return 0;
  tag_info ti;
  if ((p->rv = tag_info_of(p->st, digest, &ti))) return p->rv;
  /* walking down from the longest prefix: the first tagged one wins; an
   * untagged one only when no tagged one exists at any depth */
  if (p->best[0] && (p->best_tagged || !ti.tagged)) return 0;
  snprintf(p->best, sizeof(p->best), "%s", digest);
  p->best_n = n;
  p->best_tagged = ti.tagged;
  return 0;
}

/* The child of index (recorded) that is a proper prefix of img, else the
 * one for img's platform. */
typedef struct child_pick {
  sc_store *st;
  const sc_chain *img;
  char prefix[72], same[72];
  size_t prefix_n;
} child_pick;

static int is_prefix(const sc_chain *base, const sc_chain *img) {
  return base->n > 0 && base->n < img->n && !strcmp(base->chain_ids[base->n - 1], img->chain_ids[base->n - 1]);
}

static int consider_child(void *arg, const char *child, const char *platform) {
  child_pick *cp = arg;
  sc_chain c;
  int rv = sc_store_get_chain(cp->st, child, &c);
  if (rv == 0 && is_prefix(&c, cp->img) && !cp->prefix[0]) {
    snprintf(cp->prefix, sizeof(cp->prefix), "%s", child);
    cp->prefix_n = c.n;
  }
  if (rv == 0 && !cp->same[0] && platform && cp->img->platform[0] && !strcmp(platform, cp->img->platform))
    snprintf(cp->same, sizeof(cp->same), "%s", child);
  sc_chain_free(&c);
  return rv == SC_ERR_NOTFOUND || rv == SC_ERR_FORMAT ? 0 : rv;
}

/* The image the base.digest annotation names, when recorded. */
static int by_annotation(sc_store *st, const sc_chain *img, char out[72], size_t *n) {
  sc_chain c;
  out[0] = '\0';
  int rv = sc_store_get_chain(st, img->base_digest, &c);
  if (rv == 0) {
    if (c.n < img->n) {
      snprintf(out, 72, "%s", img->base_digest);
      *n = c.n;
    }
    sc_chain_free(&c);
    return 0;
  }
  sc_chain_free(&c);
  if (rv != SC_ERR_NOTFOUND && rv != SC_ERR_FORMAT) return rv;
  child_pick cp;
  memset(&cp, 0, sizeof(cp));
  cp.st = st;
  cp.img = img;
  if ((rv = sc_store_chain_children(st, img->base_digest, consider_child, &cp))) return rv;
  if (cp.prefix[0]) {
    snprintf(out, 72, "%s", cp.prefix);
    *n = cp.prefix_n;
  } else if (cp.same[0]) {
    sc_chain s;
    if (sc_store_get_chain(st, cp.same, &s) == 0 && s.n < img->n) {
      snprintf(out, 72, "%s", cp.same);
      *n = s.n;
    }
    sc_chain_free(&s);
  }
  return 0;
}

void sc_lineage_base_free(sc_lineage_base *b) {
  if (!b) return;
  free(b->repo);
  free(b->tag);
  memset(b, 0, sizeof(*b));
}

static int fill_base(sc_store *st, const char *digest, size_t n, int how, sc_lineage_base *out) {
  sc_chain c;
  tag_info ti;
  int rv = sc_store_get_chain(st, digest, &c);
  if (rv == 0) out->origin = c.origin;
  sc_chain_free(&c);
  if (rv && rv != SC_ERR_NOTFOUND) return rv;
  snprintf(out->digest, sizeof(out->digest), "%s", digest);
  out->how = how;
  out->nlayers = n;
  if ((rv = tag_info_of(st, digest, &ti))) return rv;
  if (!ti.tagged) return 0;
  const tag_ref *r = ti.stale ? &ti.moved : &ti.cur;
  snprintf(out->index, sizeof(out->index), "%s", r->index);
  if (!(out->repo = strdup(r->repo)) || !(out->tag = strdup(r->tag))) return SC_ERR_NOMEM;
  if (ti.stale) {
    out->stale = 1;
    out->superseded_at = ti.superseded_at;
    if (sc_store_tag_current(st, r->origin, r->repo, r->tag, out->now_digest) != 0) out->now_digest[0] = '\0';
  }
  return 0;
}

int sc_lineage_base_of(sc_store *st, const char *digest, sc_lineage_base *out, int *found) {
  if (!out || !found) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  *found = 0;
  if (!st || !digest) return SC_ERR_ARG;
  sc_chain img;
  int rv = sc_store_get_chain(st, digest, &img);
  if (rv == SC_ERR_NOTFOUND || rv == SC_ERR_FORMAT || (rv == 0 && img.n < 2)) {
    sc_chain_free(&img);
    return 0;
  }
  if (rv) goto out;
  char base[72] = "";
  size_t n = 0;
  int how = SC_BASE_BY_ANNOTATION;
  if (img.base_digest && (rv = by_annotation(st, &img, base, &n))) goto out;
  if (!base[0]) {
    pick p;
    memset(&p, 0, sizeof(p));
    p.st = st;
    p.self = digest;
    how = SC_BASE_BY_CHAIN;
    for (size_t i = img.n - 1; i-- > 0 && !(p.best[0] && p.best_tagged);)
      if ((rv = sc_store_chain_images_with_top(st, img.chain_ids[i], consider, &p))) goto out;
    snprintf(base, sizeof(base), "%s", p.best);
    n = p.best_n;
  }
  if (base[0]) {
    if ((rv = fill_base(st, base, n, how, out))) goto out;
    *found = 1;
  }
out:
  sc_chain_free(&img);
  if (rv) sc_lineage_base_free(out);
  return rv;
}

int sc_lineage_chain(sc_store *st, const char *digest, sc_lineage_base *out, size_t max, size_t *n) {
  if (!n || (max && !out)) return SC_ERR_ARG;
  *n = 0;
  if (max > SC_LINEAGE_MAX_DEPTH) max = SC_LINEAGE_MAX_DEPTH;
  const char *cur = digest;
  while (*n < max) {
    int found, rv = sc_lineage_base_of(st, cur, &out[*n], &found);
    if (rv) return rv;
    if (!found) break;
    for (size_t i = 0; i < *n; i++) /* a loop of annotations: stop */
      if (!strcmp(out[i].digest, out[*n].digest)) {
        sc_lineage_base_free(&out[*n]);
        return 0;
      }
    cur = out[(*n)++].digest;
  }
  return 0;
}

int sc_lineage_stale_seconds(sc_store *st, const char *digest, int64_t now, int64_t *secs) {
  if (!secs) return SC_ERR_ARG;
  *secs = -1;
  sc_lineage_base b;
  int found, rv = sc_lineage_base_of(st, digest, &b, &found);
  if (!rv && found && b.stale) *secs = now > b.superseded_at ? now - b.superseded_at : 0;
  sc_lineage_base_free(&b);
  return rv;
}

