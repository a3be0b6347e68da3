/* sc_lineage.c - bases, downstream images, staleness and fixes, from the
 * chains and tag history of the store (rules in sc_lineage.h).
 * Owner: scanner.  Thread: the store handle's.  Errors: as sc_store.h;
 * JSON builders return NULL when out of memory. */
#include "sc_lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_cvss.h"
#include "sc_match.h"
#include "sc_arena.h"
#include "sc_hash.h"
#include "sc_strmap.h"

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

/* ---- a set of strings (digests, "repo:tag") ---- */

typedef struct strset {
  sc_strmap m;
  sc_arena a;
} strset;

static void set_free(strset *s) {
  sc_strmap_free(&s->m);
  sc_arena_free(&s->a);
  memset(s, 0, sizeof(*s));
}

static int set_has(const strset *s, const char *k) {
  sc_strmap_slot *sl = s->m.s ? sc_strmap_find(&s->m, k, sc_fnv1a_str(k)) : NULL;
  return sl && sl->key;
}

/* 1 when k was added, 0 when it was there, SC_ERR_NOMEM. */
static int set_add(strset *s, const char *k) {
  if (set_has(s, k)) return 0;
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
  strset seen_img;        /* images already expanded */
  strset seen_tag;        /* "repo\x1ftag" already reported */
  const strset *skip;     /* images not to report (built on the new base too) */
  int (*cb)(void *, const char *, const char *, const char *);
  void *arg;
  size_t count;
  const char *img;        /* while reporting: the digest the tags point at */
} down;

static int report_tag(void *arg, const char *repo, const char *tag) {
  down *d = arg;
  char key[1024];
  if (!sc_strmap_key(key, sizeof(key), repo, tag, NULL)) return 0;
  int added = set_add(&d->seen_tag, key);
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
  int added = set_add(&d->seen_img, digest);
  if (added <= 0) return added;
  if (!d->skip || !set_has(d->skip, digest)) {
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
  int added = set_add(&d->seen_img, child);
  return added <= 0 ? added : expand(d, child);
}

/* Walks what is built on digest (an image, or an index and its children),
 * reporting current tags through cb, skipping the images in skip. */
static int downstream(sc_store *st, const char *digest, const strset *skip,
                      int (*cb)(void *, const char *, const char *, const char *), void *arg) {
  down d;
  memset(&d, 0, sizeof(d));
  d.st = st;
  d.skip = skip;
  d.cb = cb;
  d.arg = arg;
  int rv = set_add(&d.seen_img, digest) < 0 ? SC_ERR_NOMEM : 0;
  if (!rv) rv = expand(&d, digest);
  if (!rv) rv = sc_store_chain_children(st, digest, expand_child, &d);
  set_free(&d.seen_img);
  set_free(&d.seen_tag);
  return rv;
}

int sc_lineage_downstream(sc_store *st, const char *digest,
                          int (*cb)(void *arg, const char *repo, const char *tag, const char *digest), void *arg) {
  if (!st || !digest || !cb) return SC_ERR_ARG;
  return downstream(st, digest, NULL, cb, arg);
}

/* Every image built on digest, tagged or not (to skip them). */
static int collect(void *arg, const char *repo, const char *tag, const char *digest) {
  (void)arg, (void)repo, (void)tag, (void)digest;
  return 0;
}

static int built_on(sc_store *st, const char *digest, strset *out) {
  down d;
  memset(&d, 0, sizeof(d));
  d.st = st;
  d.cb = collect;
  int rv = set_add(&d.seen_img, digest) < 0 ? SC_ERR_NOMEM : 0;
  if (!rv) rv = expand(&d, digest);
  if (!rv) rv = sc_store_chain_children(st, digest, expand_child, &d);
  set_free(&d.seen_tag);
  *out = d.seen_img; /* every image reached, digest and its children included */
  return rv;
}

/* ---- what a newer base fixes ---- */

/* The image manifest to compare for digest: itself, or the child of an
 * index for platform (NULL: the first child); "" when not stored. */
typedef struct child_for {
  const char *platform;
  char out[72];
} child_for;

static int pick_child(void *arg, const char *child, const char *platform) {
  child_for *cf = arg;
  if (!cf->out[0] || (cf->platform && platform && !strcmp(cf->platform, platform)))
    snprintf(cf->out, sizeof(cf->out), "%s", child);
  return 0;
}

static int image_for(sc_store *st, const char *digest, const char *platform, char out[72]) {
  int kind;
  int rv = sc_store_image_kind(st, digest, &kind);
  out[0] = '\0';
  if (rv == SC_ERR_NOTFOUND) return 0;
  if (rv) return rv;
  if (kind == SC_MANIFEST_IMAGE) {
    snprintf(out, 72, "%s", digest);
    return 0;
  }
  child_for cf = {platform, ""};
  if ((rv = sc_store_chain_children(st, digest, pick_child, &cf))) return rv;
  snprintf(out, 72, "%s", cf.out);
  return 0;
}

/* Whether every layer of image is scanned and stored. */
static int fully_scanned(sc_store *st, const char *image, int *yes) {
  sc_strlist missing;
  memset(&missing, 0, sizeof(missing));
  int kind, rv = sc_store_image_kind(st, image, &kind);
  *yes = 0;
  if (rv == SC_ERR_NOTFOUND) return 0;
  if (!rv) rv = sc_store_missing_layers(st, image, &missing);
  if (!rv) *yes = missing.n == 0;
  sc_strlist_free(&missing);
  return rv;
}

/* out += the findings of a (the old base) that b (the new) no longer has:
 * same vulnerability and package; out sorted. */
static int subtract(const sc_finding_list *a, const sc_finding_list *b, sc_finding_list *out) {
  strset have;
  char key[1024];
  int rv = 0;
  memset(&have, 0, sizeof(have));
  for (size_t i = 0; !rv && i < b->n; i++)
    if (sc_strmap_key(key, sizeof(key), b->v[i].id, b->v[i].package, NULL) && set_add(&have, key) < 0)
      rv = SC_ERR_NOMEM;
  for (size_t i = 0; !rv && i < a->n; i++) {
    if (sc_strmap_key(key, sizeof(key), a->v[i].id, a->v[i].package, NULL) && set_has(&have, key)) continue;
    rv = sc_finding_list_add(out, &a->v[i], a->layer ? a->layer[i] : NULL, a->purl ? a->purl[i] : NULL,
                             sc_finding_unsure(a, i));
  }
  if (!rv) rv = sc_finding_list_sort(out);
  set_free(&have);
  return rv;
}

/* Both stored images, every layer scanned: *known set, a and b matched. */
static int match_stored(sc_store *st, const char *old_digest, const char *new_digest, sc_finding_list *a,
                        sc_finding_list *b, int *known) {
  char oldi[72], newi[72];
  sc_chain c;
  int ok_old = 0, ok_new = 0, rv;
  if ((rv = image_for(st, old_digest, NULL, oldi)) || !oldi[0]) return rv;
  memset(&c, 0, sizeof(c));
  if (sc_store_get_chain(st, oldi, &c) != 0) c.platform[0] = '\0';
  rv = image_for(st, new_digest, c.platform[0] ? c.platform : NULL, newi);
  sc_chain_free(&c);
  if (rv || !newi[0]) return rv;
  if ((rv = fully_scanned(st, oldi, &ok_old)) || (rv = fully_scanned(st, newi, &ok_new))) return rv;
  if (!ok_old || !ok_new) return 0;
  if (!(rv = sc_match_image(st, oldi, a)) && !(rv = sc_match_image(st, newi, b))) *known = 1;
  return rv;
}

/* The findings of the layers stored for image's chain; *known 0 when one
 * is missing. */
static int match_stack(sc_store *st, const char *image, sc_finding_list *out, int *known) {
  sc_strlist layers;
  memset(&layers, 0, sizeof(layers));
  int rv = sc_lineage_stack(st, image, &layers, known);
  if (!rv && *known) {
    rv = sc_match_layers(st, (const char *const *)layers.v, layers.n, out);
    if (rv == SC_ERR_NOTFOUND) *known = 0, rv = 0; /* a layer went away meanwhile */
  }
  sc_strlist_free(&layers);
  return rv;
}

/* By chains: the first image of old whose stack is known, and new's image
 * for its platform. */
typedef struct by_chain {
  sc_store *st;
  const char *new_digest;
  sc_finding_list *a, *b;
  int known;
} by_chain;

static int try_old(void *arg, const char *image, const char *platform) {
  by_chain *bc = arg;
  char newi[72];
  int known = 0, rv;
  if (bc->known) return 0;
  sc_finding_list_free(bc->a);
  sc_finding_list_free(bc->b);
  sc_finding_list_init(bc->a);
  sc_finding_list_init(bc->b);
  if ((rv = match_stack(bc->st, image, bc->a, &known)) || !known) return rv;
  if ((rv = sc_lineage_image_for(bc->st, bc->new_digest, platform, newi)) || !newi[0]) return rv;
  if (!(rv = match_stack(bc->st, newi, bc->b, &known))) bc->known = known;
  return rv;
}

int sc_lineage_fixes(sc_store *st, const char *old_digest, const char *new_digest, sc_finding_list *out,
                     int *known) {
  if (!st || !old_digest || !new_digest || !out || !known) return SC_ERR_ARG;
  sc_finding_list a, b;
  sc_finding_list_init(&a);
  sc_finding_list_init(&b);
  *known = 0;
  int rv = match_stored(st, old_digest, new_digest, &a, &b, known);
  if (!rv && !*known) {
    by_chain bc = {st, new_digest, &a, &b, 0};
    rv = sc_lineage_images(st, old_digest, try_old, &bc);
    *known = bc.known;
  }
  if (!rv && *known) rv = subtract(&a, &b, out);
  if (rv) *known = 0;
  sc_finding_list_free(&a);
  sc_finding_list_free(&b);
  return rv;
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

/* ---- JSON ---- */

static json_t *str_or_null(const char *s) { return s && s[0] ? json_string(s) : json_null(); }

json_t *sc_lineage_findings_json(const sc_finding_list *fl, size_t max) {
  json_t *arr = json_array();
  if (!arr || !fl) return arr;
  /* the list is kept sorted most severe first (sc_finding_list_sort) */
  for (size_t i = 0; i < fl->n && (!max || i < max); i++) {
    const sc_finding *f = &fl->v[i];
    json_t *al = json_array(), *o = json_object();
    for (size_t k = 0; al && k < f->naliases; k++) json_array_append_new(al, json_string(f->aliases[k]));
    if (!o || !al || json_object_set_new(o, "id", json_string(f->id ? f->id : "")) ||
        json_object_set_new(o, "aliases", al) || json_object_set_new(o, "package", str_or_null(f->package)) ||
        json_object_set_new(o, "version", str_or_null(f->version)) ||
        json_object_set_new(o, "fixed", str_or_null(f->fixed_version)) ||
        json_object_set_new(o, "severity", json_string(sc_severity_name((sc_severity)f->severity))) ||
        json_object_set_new(o, "score", f->score >= 0 ? json_real(f->score) : json_null()) ||
        json_object_set_new(o, "ecosystem", str_or_null(f->ecosystem)) ||
        json_object_set_new(o, "purl", str_or_null(fl->purl ? fl->purl[i] : NULL)) || json_array_append_new(arr, o)) {
      json_decref(o);
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

static int by_repo_tag(const void *a, const void *b) {
  json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  int c = strcmp(json_string_value(json_object_get(x, "repository")), json_string_value(json_object_get(y, "repository")));
  return c ? c : strcmp(json_string_value(json_object_get(x, "tag")), json_string_value(json_object_get(y, "tag")));
}

/* Sorts an array of {"repository", "tag", ...} (walk order is not stable). */
static int sort_images(json_t *arr) {
  size_t n = json_array_size(arr);
  if (n < 2) return 0;
  json_t **v = malloc(n * sizeof(*v));
  if (!v) return SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(arr, i));
  qsort(v, n, sizeof(*v), by_repo_tag);
  json_array_clear(arr);
  int rv = 0;
  for (size_t i = 0; i < n; i++)
    if (json_array_append_new(arr, v[i])) rv = SC_ERR_NOMEM;
  free(v);
  return rv;
}

static int add_image(void *arg, const char *repo, const char *tag, const char *digest) {
  json_t *o = json_pack("{s:s, s:s, s:s}", "repository", repo, "tag", tag, "digest", digest);
  return o && !json_array_append_new(arg, o) ? 0 : SC_ERR_NOMEM;
}

/* "fixes_known", "fixes" and "fixes_total" of moving from old to new, set
 * on o. */
static int set_fixes(sc_store *st, const char *old_digest, const char *new_digest, json_t *o) {
  sc_finding_list fl;
  int known = 0;
  sc_finding_list_init(&fl);
  int rv = new_digest && new_digest[0] ? sc_lineage_fixes(st, old_digest, new_digest, &fl, &known) : 0;
  json_t *fx = rv ? NULL : sc_lineage_findings_json(&fl, SC_LINEAGE_MAX_FIXES);
  if (!rv && (!fx || json_object_set_new(o, "fixes_known", json_boolean(known)) ||
              json_object_set_new(o, "fixes", fx) ||
              json_object_set_new(o, "fixes_total", known ? json_integer((json_int_t)fl.n) : json_null())))
    rv = SC_ERR_NOMEM;
  sc_finding_list_free(&fl);
  return rv;
}

json_t *sc_lineage_base_updated(sc_store *st, int origin, const char *repo, const char *tag, const char *old_digest,
                                const char *new_digest, size_t *nimages) {
  if (nimages) *nimages = 0;
  if (!st || !repo || !tag || !old_digest || !new_digest) return NULL;
  json_t *o = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}}", "base", "origin", sc_origin_name(origin), "repository",
                        repo, "tag", tag, "old_digest", old_digest, "new_digest", new_digest);
  json_t *imgs = json_array();
  strset fresh;
  int rv = !o || !imgs ? SC_ERR_NOMEM : 0;
  /* images built on the new base too (a new base on top of the old one, an
   * application already rebuilt) need no rebuild */
  memset(&fresh, 0, sizeof(fresh));
  if (!rv) rv = built_on(st, new_digest, &fresh);
  if (!rv) rv = downstream(st, old_digest, &fresh, add_image, imgs);
  if (rv == SC_ERR_LIMIT) rv = 0; /* the first SC_LINEAGE_MAX_DOWNSTREAM are named */
  set_free(&fresh);
  if (!rv) rv = sort_images(imgs);
  if (!rv && nimages) *nimages = json_array_size(imgs);
  if (!rv && json_object_set(o, "images", imgs)) rv = SC_ERR_NOMEM;
  if (!rv) rv = set_fixes(st, old_digest, new_digest, o);
  json_decref(imgs);
  if (rv) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *base_json(sc_store *st, const sc_lineage_base *b, int64_t now) {
  json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:I, s:b}", "digest", b->digest, "index", str_or_null(b->index),
                        "how", b->how == SC_BASE_BY_ANNOTATION ? "annotation" : "chain", "origin",
                        sc_origin_name(b->origin), "repository", str_or_null(b->repo), "tag", str_or_null(b->tag),
                        "layers", (json_int_t)b->nlayers, "stale", b->stale);
  if (!o) return NULL;
  int rv = 0;
  if (b->stale) {
    int64_t age = now > b->superseded_at ? now - b->superseded_at : 0;
    if (json_object_set_new(o, "superseded_at", json_integer(b->superseded_at)) ||
        json_object_set_new(o, "superseded_days", json_integer(age / 86400)) ||
        json_object_set_new(o, "new_digest", str_or_null(b->now_digest)))
      rv = SC_ERR_NOMEM;
    /* what the tag's digest now fixes against the one this image is on */
    if (!rv) rv = set_fixes(st, b->index[0] ? b->index : b->digest, b->now_digest, o);
  }
  if (rv) {
    json_decref(o);
    return NULL;
  }
  return o;
}

int sc_lineage_describe(sc_store *st, const char *repo, const char *ref, int64_t now, json_t **out) {
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!st || !repo || !ref) return SC_ERR_ARG;
  char digest[72], image[72];
  int rv = sc_store_resolve(st, repo, ref, digest);
  if (rv) return rv;
  /* an index: the lineage of its first image (all children of one index
   * are built the same way) */
  if ((rv = image_for(st, digest, NULL, image))) return rv;
  if (!image[0]) snprintf(image, sizeof(image), "%s", digest);
  sc_lineage_base chain[SC_LINEAGE_MAX_DEPTH];
  size_t n = 0;
  if ((rv = sc_lineage_chain(st, image, chain, SC_LINEAGE_MAX_DEPTH, &n))) return rv;
  json_t *o = json_pack("{s:s, s:o, s:s, s:s}", "repository", repo, "tag", strchr(ref, ':') ? json_null() : json_string(ref),
                        "digest", digest, "image", image);
  json_t *bases = json_array(), *built = json_array();
  if (!o || !bases || !built) rv = SC_ERR_NOMEM;
  for (size_t i = 0; !rv && i < n; i++) {
    json_t *b = base_json(st, &chain[i], now);
    if (!b || json_array_append_new(bases, b)) rv = SC_ERR_NOMEM;
  }
  if (!rv) rv = sc_lineage_downstream(st, digest, add_image, built);
  if (rv == SC_ERR_LIMIT) rv = 0;
  if (!rv) rv = sort_images(built);
  if (!rv && (json_object_set(o, "bases", bases) || json_object_set(o, "built_on_this", built))) rv = SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) sc_lineage_base_free(&chain[i]);
  json_decref(bases);
  json_decref(built);
  if (rv) {
    json_decref(o);
    return rv;
  }
  *out = o;
  return 0;
}
