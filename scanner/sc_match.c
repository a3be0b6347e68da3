/* sc_match.c - matching inventories against the vulnerability data, and
 * keeping stored images' findings current (see sc_match.h).  No SQL: the
 * store is reached through sc_store.h (layers, images), sc_vulndata.h and
 * sc_findings.h.
 * Owner: matching.  Thread: the store handle's.  Errors: see sc_match.h. */
#include "sc_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_arena.h"
#include "sc_findings.h"
#include "sc_hash.h"
#include "sc_osv.h"
#include "sc_range.h"
#include "sc_strmap.h"
#include "sc_version.h"

/* ---- one package ------------------------------------------------------- */

/* lower of two fixed versions under scheme (either may be NULL) */
static const char *lower_fixed(sc_vscheme s, const char *a, const char *b) {
  int c;
  if (!a) return b;
  if (!b) return a;
  return sc_version_cmp(s, a, b, &c) == 0 && c > 0 ? b : a;
}

/* Affected entries of (eco, name) that affect version; out->v allocated
 * with malloc (NULL when none). */
static int match_pkg(const sc_vulndb *db, const char *eco, const char *name, const char *version, sc_hits *out) {
  out->v = NULL;
  out->n = 0;
  const sc_vuln_affected *first = sc_vulndb_lookup(db, eco, name);
  if (!first) return 0;
  sc_vscheme eco_s = sc_vscheme_for_ecosystem(eco);
  const char *ver = sc_osv_normalize_version(eco, version);
  size_t cap = 0;
  for (const sc_vuln_affected *a = first; a; a = a->next) {
    int affected = 0, sure = 0, unparsed = 0;
    const char *fixed = NULL, *any_fixed = NULL;
    for (size_t i = 0; i < a->nversions && !affected; i++)
      affected = sure = !strcmp(a->versions[i], version) || !strcmp(a->versions[i], ver);
    for (size_t r = 0; r < a->nranges; r++) {
      sc_vscheme s = a->rsemver[r] ? SC_VS_SEMVER : eco_s;
      const sc_event *ev = a->ev + a->rstart[r];
      size_t nev = a->rstart[r + 1] - a->rstart[r];
      int in = 0;
      const char *f = sc_range_fixed_for(s, ev, nev, ver);
      any_fixed = lower_fixed(s, any_fixed, f);
      int rc = sc_range_affected(s, ev, nev, ver, &in);
      /* A version (installed or in the range) the comparator cannot parse
       * says nothing about the range: count it affected rather than let an
       * odd version string hide a vulnerability.  The hit is marked so the
       * finding carries a note. */
      if (rc == SC_ERR_FORMAT || rc == SC_ERR_LIMIT) {
        unparsed = 1;
      } else if (rc || !in) {
        continue;
      } else {
        sure = 1;
      }
      affected = 1;
      fixed = lower_fixed(s, fixed, f);
    }
    if (!affected) continue;
    int unsure = unparsed && !sure;
    if (!fixed) fixed = any_fixed;
    /* one hit per vulnerability: several affected entries merge */
    size_t k;
    for (k = 0; k < out->n && out->v[k].v != a->v; k++) {}
    if (k < out->n) {
      out->v[k].unsure = out->v[k].unsure && unsure; /* a sure match wins */
      out->v[k].fixed = lower_fixed(eco_s, out->v[k].fixed[0] ? out->v[k].fixed : NULL, fixed);
      if (!out->v[k].fixed) out->v[k].fixed = "";
      continue;
    }
    if (out->n == cap) {
      cap = cap ? cap * 2 : 4;
      sc_hit *nv = realloc(out->v, cap * sizeof(*nv));
      if (!nv) {
        free(out->v);
        out->v = NULL;
        out->n = 0;
        return SC_ERR_NOMEM;
      }
      out->v = nv;
    }
    sc_hit *h = &out->v[out->n++];
    h->v = a->v;
    h->fixed = fixed ? fixed : "";
    /* a per-package text severity beats the record's unless it has a CVSS score */
    int use_aff = a->sev != SC_SEV_UNKNOWN && a->v->score_own < 0;
    h->sev = use_aff ? a->sev : a->v->sev;
    h->score = a->v->score;
    h->unsure = unsure;
  }
  return 0;
}

/* ---- inventories ------------------------------------------------------------ */

static int is_os_type(const char *t) {
  return t && (!strcmp(t, "deb") || !strcmp(t, "apk") || !strcmp(t, "rpm"));
}

/* What a package is looked up as: (eco, name, version) after normalisation. */
static int lookup_key(const sc_package *p, char *eco, size_t ecap, char *name, size_t ncap,
                      const char **version) {
  if (!p->ecosystem || !p->name || !p->version) return -1;
  const char *n = p->name, *v = p->version;
  if (is_os_type(p->type)) {
    if (p->source_name && *p->source_name) n = p->source_name;
    if (p->source_version && *p->source_version) v = p->source_version;
  }
  if (sc_osv_normalize_ecosystem(p->ecosystem, eco, ecap) || sc_osv_normalize_name(eco, n, name, ncap))
    return -1;
  *version = v;
  return 0;
}

/* memo: "eco\x1fname\x1fversion" -> sc_hits (a match run's cache) */
typedef struct memo {
  sc_strmap m;
  sc_arena arena;
} memo;

static void memo_free(memo *mm) {
  for (size_t i = 0; mm->m.s && i <= mm->m.mask; i++)
    if (mm->m.s[i].key && mm->m.s[i].val) {
      sc_hits *h = mm->m.s[i].val;
      free(h->v);
    }
  sc_strmap_free(&mm->m);
  sc_arena_free(&mm->arena);
  memset(mm, 0, sizeof(*mm));
}

/* The hits of one package version; without a memo, computed into tmp. */
static int match_cached(const sc_vulndb *db, memo *mm, const char *eco, const char *name,
                        const char *version, sc_hits *tmp, const sc_hits **res) {
  if (!mm) {
    int rv = match_pkg(db, eco, name, version, tmp);
    *res = tmp;
    return rv;
  }
  char kbuf[2 * SC_OSV_MAX_NAME + SC_VERSION_MAX + 16], *key = kbuf;
  /* an oversized version gets a heap key: memoised hits must outlive the call */
  size_t need = strlen(eco) + strlen(name) + strlen(version) + 4;
  if (need > sizeof(kbuf) && !(key = malloc(need))) return SC_ERR_NOMEM;
  size_t kl = sc_strmap_key(key, need > sizeof(kbuf) ? need : sizeof(kbuf), eco, name, version);
  uint64_t h = sc_fnv1a(key, kl);
  int rv = kl ? 0 : SC_ERR_LIMIT;
  sc_strmap_slot *sl = NULL;
  if (!rv && sc_strmap_reserve(&mm->m)) rv = SC_ERR_NOMEM;
  if (!rv) sl = sc_strmap_find(&mm->m, key, h);
  if (!rv && !sl->key) {
    sc_hits *hv = sc_arena_alloc(&mm->arena, sizeof(*hv));
    if (!hv || !(sl->key = sc_arena_strdup(&mm->arena, key))) rv = SC_ERR_NOMEM;
    else if ((rv = match_pkg(db, eco, name, version, hv))) sl->key = NULL;
    else {
      sl->h = h;
      sl->val = hv;
      mm->m.n++;
    }
  }
  if (key != kbuf) free(key);
  if (!rv) *res = sl->val;
  return rv;
}

static int add_hit(sc_finding_list *out, const sc_hit *x, const char *eco, const char *name, const char *version,
                   const char *layer, const char *purl) {
  const sc_vuln *v = x->v;
  sc_finding f = {v->id, v->aliases, v->naliases, eco, name, version, x->fixed, x->sev, x->score};
  return sc_finding_list_add(out, &f, layer, purl, x->unsure);
}

static int match_inv(const sc_vulndb *db, memo *mm, const sc_inventory *inv,
                     const char *const *pkg_layer, sc_finding_list *out) {
  char eco[SC_OSV_MAX_NAME], name[SC_OSV_MAX_NAME];
  for (size_t i = 0; i < inv->npkgs; i++) {
    const sc_package *p = &inv->pkgs[i];
    const char *version;
    if (lookup_key(p, eco, sizeof(eco), name, sizeof(name), &version)) continue;
    sc_hits tmp = {0};
    const sc_hits *h;
    int rv = match_cached(db, mm, eco, name, version, &tmp, &h);
    for (size_t k = 0; !rv && k < h->n; k++)
      rv = add_hit(out, &h->v[k], p->ecosystem, p->name, p->version, pkg_layer ? pkg_layer[i] : "", p->purl);
    free(tmp.v);
    if (rv) return rv;
  }
  return 0;
}

int sc_match_inventory(const sc_vulndb *db, const sc_inventory *inv, const char *const *pkg_layer,
                       sc_finding_list *out) {
  if (!db || !inv || !out) return SC_ERR_ARG;
  int rv = match_inv(db, NULL, inv, pkg_layer, out);
  return rv ? rv : sc_finding_list_sort(out);
}

/* ---- images in the store ---------------------------------------------------- *
 * Findings are stored per (layer, OS key): a package's findings depend only
 * on the package and the OS the image ends up with, so the 10,000 images on
 * 50 base layers share 50 stored sets.  An image row adds its OS key and the
 * packages its upper layers hide (sc_inventory_mask: the rules of
 * sc_inventory_merge, applied by reference). */

#define MAX_IMAGE_LAYERS 4096

typedef struct lset {
  struct lset *next;
  const char *os;            /* OS key (ctx arena) */
  sc_fset_pkg *p;            /* packages with findings; strings: ctx arena or the layer's */
  size_t n, nfindings;
  int64_t hash;
  int stored;                /* written (or confirmed) in this run */
} lset;

typedef struct lent {
  sc_inventory inv;          /* packages, OS and the paths that hide lower content */
  sc_inventory_mask *mask;   /* NULL: hides nothing */
  int loaded, found;         /* found 0: layer not stored */
  long refs;                 /* images still to use it; freed at 0 (re-match only) */
  lset *sets;
} lent;

typedef struct ctx {
  sc_store *st;
  const sc_vulndb *db;
  sc_vulndb *lazy;           /* db when it loads pairs as layers need them */
  memo mm;
  sc_strmap layers;          /* digest -> lent */
  sc_strmap old;             /* "layer\x1fos" -> boxed stored hash (re-match) */
  int counted;               /* layers' refs come from count_refs */
  sc_arena keys;
  uint64_t *hid;             /* store_image: hidden packages of one image */
  size_t hidcap;
  int64_t gen;
  long long now;
  sc_match_stats stats;
} ctx;

/* One image being matched. */
typedef struct iview {
  size_t nl;
  char **dig;
  lent **ents;
  lset **sets;               /* per layer, NULL when not stored */
  uint8_t **hid;             /* per layer: hidden flags per package, NULL when none */
  char *oskey;
  const sc_osinfo *os;
} iview;

static uint64_t mix(uint64_t h, const char *s) {
  s = s ? s : "";
  return sc_fnv1a(s, strlen(s) + 1) ^ (h * SC_FNV_PRIME);
}

static void set_free(lset *s) {
  while (s) {
    lset *n = s->next;
    free(s->p);
    free(s);
    s = n;
  }
}

static void lent_free(lent *e) {
  if (!e) return;
  sc_inventory_free(&e->inv);
  sc_inventory_mask_free(e->mask);
  set_free(e->sets);
  free(e);
}

static sc_strmap_slot *slot_of(sc_strmap *m, const char *digest, int add, sc_arena *a) {
  char key[160];
  size_t kl = sc_strmap_key(key, sizeof(key), digest, NULL, NULL);
  if (!kl || (add && sc_strmap_reserve(m))) return NULL;
  uint64_t h = sc_fnv1a(key, kl);
  sc_strmap_slot *sl = sc_strmap_find(m, key, h);
  if (!sl || sl->key || !add) return sl && sl->key ? sl : NULL;
  if (!(sl->key = sc_arena_strdup(a, key))) return NULL;
  sl->h = h;
  sl->val = NULL;
  m->n++;
  return sl;
}

/* What sc_store_load_layer loads, minus secrets and notes (not findings). */
static int load_layer(ctx *c, const char *digest, lent *e) {
  int rv = sc_store_load_layer_contents(c->st, digest, &e->inv);
  c->stats.layers_loaded++;
  if (rv == SC_ERR_NOTFOUND) return 0;
  if (rv) return rv;
  e->found = 1;
  return sc_inventory_mask_new(&e->inv, &e->mask);
}

/* The layer's entry, loaded when load is set. */
static int get_layer(ctx *c, const char *digest, int load, lent **out) {
  sc_strmap_slot *sl = slot_of(&c->layers, digest, 1, &c->keys);
  if (!sl) return SC_ERR_NOMEM;
  if (!sl->val) {
    lent *e = calloc(1, sizeof(*e));
    if (!e) return SC_ERR_NOMEM;
    sc_inventory_init(&e->inv);
    e->refs = 1;
    sl->val = e;
  }
  lent *e = sl->val;
  if (load && !e->loaded) {
    e->loaded = 1;
    int rv = load_layer(c, digest, e);
    if (rv) return rv;
  }
  *out = e;
  return 0;
}

static int on_layer_use(void *arg, const char *layer, int64_t n) {
  ctx *c = arg;
  lent *e;
  int rv = get_layer(c, layer, 0, &e);
  if (!rv) e->refs = (long)n;
  return rv;
}

/* Layer refcounts for the whole run: a shared layer is loaded once. */
static int count_refs(ctx *c) {
  int rv = sc_store_each_layer_use(c->st, on_layer_use, c);
  c->counted = 1;
  return rv;
}

static void layer_release(ctx *c, const char *digest) {
  sc_strmap_slot *sl = slot_of(&c->layers, digest, 0, NULL);
  if (!c->counted || !sl || !sl->val) return;
  lent *e = sl->val;
  if (--e->refs > 0) return;
  lent_free(e);
  sl->val = NULL;
}

/* OS key: both fields, NULL kept apart from "" (purls tell them apart);
 * caller frees. */
static int os_key(const sc_osinfo *os, char **out) {
  const char *id = os ? os->id : NULL, *v = os ? os->version_id : NULL;
  int n = asprintf(out, "%s%zu:%s/%s%zu:%s", id ? "+" : "-", id ? strlen(id) : 0, id ? id : "", v ? "+" : "-",
                   v ? strlen(v) : 0, v ? v : "");
  if (n >= 0) return 0;
  *out = NULL;
  return SC_ERR_NOMEM;
}

/* Loads into a lazy db the (ecosystem, name) pairs of a layer's packages
 * under the image's OS ecosystem (eco, may be NULL), as make_set will look
 * them up: one batch per layer. */
static int need_layer(ctx *c, const lent *e, const char *eco) {
  if (!c->lazy || !e->inv.npkgs) return 0;
  sc_vulndb_pkg *want = malloc(e->inv.npkgs * sizeof(*want));
  sc_arena a = {0};
  size_t n = 0;
  int rv = want ? 0 : SC_ERR_NOMEM;
  for (size_t k = 0; !rv && k < e->inv.npkgs; k++) {
    sc_package q = e->inv.pkgs[k];
    char en[SC_OSV_MAX_NAME], nn[SC_OSV_MAX_NAME];
    const char *version;
    if (!q.ecosystem && eco && is_os_type(q.type)) q.ecosystem = (char *)eco;
    if (lookup_key(&q, en, sizeof(en), nn, sizeof(nn), &version)) continue;
    if (!(want[n].ecosystem = sc_arena_strdup(&a, en)) || !(want[n].name = sc_arena_strdup(&a, nn)))
      rv = SC_ERR_NOMEM;
    n++;
  }
  if (!rv) rv = sc_vulndb_add(c->lazy, c->st, want, n);
  free(want);
  sc_arena_free(&a);
  return rv;
}

/* The findings of one layer's packages under the image's OS. */
static int make_set(ctx *c, const lent *e, const char *key, const sc_osinfo *os, lset **out) {
  static const sc_osinfo none = {0};
  lset *s = calloc(1, sizeof(*s));
  char *eco = os ? sc_os_ecosystem(os->id, os->version_id) : NULL;
  const char *eco_a = NULL;
  char en[SC_OSV_MAX_NAME], nn[SC_OSV_MAX_NAME];
  size_t cap = 0;
  int rv = s && (s->os = sc_arena_strdup(&c->keys, key)) ? 0 : SC_ERR_NOMEM;
  if (!rv) rv = need_layer(c, e, eco);
  uint64_t h = SC_FNV_OFFSET;
  for (size_t k = 0; !rv && k < e->inv.npkgs; k++) {
    const sc_package *p = &e->inv.pkgs[k];
    sc_package q = *p;
    if (!q.ecosystem && eco && is_os_type(q.type)) {
      if (!eco_a && !(eco_a = sc_arena_strdup(&c->keys, eco))) rv = SC_ERR_NOMEM;
      q.ecosystem = (char *)eco_a;
    }
    const char *version;
    const sc_hits *hv;
    if (rv || lookup_key(&q, en, sizeof(en), nn, sizeof(nn), &version)) continue;
    if ((rv = match_cached(c->db, &c->mm, en, nn, version, NULL, &hv)) || !hv->n) continue;
    if (s->n == cap) {
      cap = cap ? cap * 2 : 16;
      sc_fset_pkg *np = realloc(s->p, cap * sizeof(*np));
      if (!np) {
        rv = SC_ERR_NOMEM;
        break;
      }
      s->p = np;
    }
    char *purl = sc_package_purl(p, os ? os : &none);
    const char *pa = purl ? sc_arena_strdup(&c->keys, purl) : NULL;
    free(purl);
    if (!pa) {
      rv = SC_ERR_NOMEM;
      break;
    }
    s->p[s->n++] = (sc_fset_pkg){(uint32_t)k, p->name, p->version, q.ecosystem, pa, hv};
    s->nfindings += hv->n;
    /* the set's content hash: stored, so its mixing must never change */
    h = mix(mix(mix(mix(h ^ k, p->name), p->version), q.ecosystem), pa);
    for (size_t i = 0; i < hv->n; i++) {
      h = mix(mix(h, hv->v[i].v->id), hv->v[i].fixed);
      h = sc_fnv1a_mix(h, (uint64_t)(hv->v[i].sev + 2));
      h = sc_fnv1a_mix(h, (uint64_t)(int64_t)(hv->v[i].score * 100));
      /* only when set: sets without such a hit keep their pre-schema-5 hash */
      if (hv->v[i].unsure) h = sc_fnv1a_mix(h, 0x75);
    }
  }
  free(eco);
  if (rv) {
    set_free(s);
    return rv;
  }
  s->hash = (int64_t)(h >> 1);
  *out = s;
  return 0;
}

/* Writes a set unless this run did already; an unchanged stored set only
 * moves to the current generation. */
static int store_set(ctx *c, const char *digest, lset *s) {
  if (s->stored) return 0;
  char key[800];
  size_t kl = sc_strmap_key(key, sizeof(key), digest, s->os, NULL);
  sc_strmap_slot *o = kl && c->old.s ? sc_strmap_find(&c->old, key, sc_fnv1a(key, kl)) : NULL;
  int rv;
  if (o && o->key && *(int64_t *)o->val == s->hash) rv = sc_findings_keep_set(c->st, digest, s->os, c->gen);
  else rv = sc_findings_put_set(c->st, digest, s->os, c->gen, s->hash, s->p, s->n, s->nfindings);
  s->stored = !rv;
  return rv;
}

static void iview_free(ctx *c, iview *v) {
  for (size_t i = 0; i < v->nl; i++) {
    if (v->ents && v->ents[i]) layer_release(c, v->dig[i]);
    free(v->dig[i]);
    if (v->hid) free(v->hid[i]);
  }
  free(v->dig);
  free(v->ents);
  free(v->sets);
  free(v->hid);
  free(v->oskey);
  memset(v, 0, sizeof(*v));
}

/* Loads the layers of a view whose digests (v->dig, v->nl) are set,
 * decides its OS, hidden packages and sets: an image's stack, or an ad-hoc
 * one (sc_match_layers). */
static int compute_view(ctx *c, iview *v) {
  size_t nl = v->nl;
  int rv = 0;
  if (nl && (!(v->ents = calloc(nl, sizeof(*v->ents))) || !(v->sets = calloc(nl, sizeof(*v->sets))) ||
             !(v->hid = calloc(nl, sizeof(*v->hid)))))
    rv = SC_ERR_NOMEM;
  size_t top = 0; /* 1 + highest layer that hides anything */
  const sc_osinfo *os = NULL;
  for (size_t i = 0; !rv && i < nl; i++) {
    if ((rv = get_layer(c, v->dig[i], 1, &v->ents[i])) || !v->ents[i]->found) continue;
    const lent *e = v->ents[i];
    if (e->mask) top = i + 1;
    /* the OS as sc_inventory_merge leaves it */
    if (os && os->path && sc_inventory_mask_hides(e->mask, os->path)) os = NULL;
    if (sc_inventory_os_replaces(os ? os->path : NULL, &e->inv.os)) os = &e->inv.os;
  }
  v->os = os;
  if (!rv) rv = os_key(os, &v->oskey);
  /* a package is gone when any layer above hides its path */
  for (size_t i = 0; !rv && i + 1 < top; i++) {
    const lent *e = v->ents[i];
    for (size_t k = 0; e->found && k < e->inv.npkgs; k++) {
      const char *path = e->inv.pkgs[k].path;
      size_t j = i + 1;
      while (j < top && !(v->ents[j]->found && sc_inventory_mask_hides(v->ents[j]->mask, path))) j++;
      if (j == top) continue;
      if (!v->hid[i] && !(v->hid[i] = calloc(e->inv.npkgs, 1))) {
        rv = SC_ERR_NOMEM;
        break;
      }
      v->hid[i][k] = 1;
      c->stats.packages--;
    }
  }
  for (size_t i = 0; !rv && i < nl; i++) {
    lent *e = v->ents[i];
    if (!e->found) continue;
    lset *s = e->sets;
    while (s && strcmp(s->os, v->oskey)) s = s->next;
    if (!s && !(rv = make_set(c, e, v->oskey, os, &s))) {
      s->next = e->sets;
      e->sets = s;
    }
    v->sets[i] = s;
    c->stats.packages += e->inv.npkgs;
  }
  return rv;
}

/* The view of a stored image: its layers, bottom first. */
static int compute_image(ctx *c, const char *digest, iview *v) {
  memset(v, 0, sizeof(*v));
  sc_strlist dig = {0};
  int rv = sc_store_image_layers(c->st, digest, MAX_IMAGE_LAYERS, &dig);
  v->dig = dig.v; /* the view owns the digests from here on */
  v->nl = dig.n;
  return rv ? rv : compute_view(c, v);
}

/* Writes the image's sets and its row; counts its findings. */
static int store_image(ctx *c, const char *digest, iview *v) {
  int rv = 0;
  uint64_t h = SC_FNV_OFFSET;
  size_t nf = 0, nh = 0;
  for (size_t i = 0; !rv && i < v->nl; i++) {
    if (!v->sets[i]) continue;
    rv = store_set(c, v->dig[i], v->sets[i]);
    h = sc_fnv1a_mix(h, (uint64_t)v->sets[i]->hash);
    for (size_t k = 0; k < v->sets[i]->n; k++)
      if (!v->hid[i] || !v->hid[i][v->sets[i]->p[k].seq]) nf += v->sets[i]->p[k].h->n;
  }
  if (rv) return rv;
  for (size_t i = 0; i < v->nl; i++)
    for (size_t k = 0; v->hid[i] && k < v->ents[i]->inv.npkgs; k++)
      if (v->hid[i][k]) {
        if (nh == c->hidcap) {
          size_t nc = c->hidcap ? c->hidcap * 2 : 64;
          uint64_t *n = realloc(c->hid, nc * sizeof(*n));
          if (!n) return SC_ERR_NOMEM;
          c->hid = n;
          c->hidcap = nc;
        }
        c->hid[nh++] = (uint64_t)i << 32 | k;
        h = sc_fnv1a_mix(h, (uint64_t)i << 32 ^ k);
      }
  rv = sc_findings_put_image(c->st, digest, c->gen, c->now, (int64_t)(h >> 1), v->oskey, c->hid, nh);
  c->stats.images++;
  c->stats.findings += nf;
  return rv;
}

/* The image's findings as an owned list, sorted. */
static int emit_image(const iview *v, sc_finding_list *out) {
  int rv = 0;
  for (size_t i = 0; !rv && i < v->nl; i++) {
    const lset *s = v->sets[i];
    for (size_t k = 0; s && !rv && k < s->n; k++) {
      const sc_fset_pkg *lp = &s->p[k];
      if (v->hid[i] && v->hid[i][lp->seq]) continue;
      for (size_t j = 0; !rv && j < lp->h->n; j++)
        rv = add_hit(out, &lp->h->v[j], lp->eco, lp->name, lp->version, v->dig[i], lp->purl);
    }
  }
  return rv ? rv : sc_finding_list_sort(out);
}

static int on_old_hash(void *arg, const char *layer, const char *os, int64_t hash) {
  ctx *c = arg;
  char key[800];
  size_t kl = sc_strmap_key(key, sizeof(key), layer, os, NULL);
  if (!kl) return 0;
  if (sc_strmap_reserve(&c->old)) return SC_ERR_NOMEM;
  uint64_t h = sc_fnv1a(key, kl);
  sc_strmap_slot *sl = sc_strmap_find(&c->old, key, h);
  int64_t *box = sc_arena_alloc(&c->keys, sizeof(int64_t));
  if (!box || (!sl->key && !(sl->key = sc_arena_strdup(&c->keys, key)))) return SC_ERR_NOMEM;
  *box = hash;
  if (!sl->val) c->old.n++;
  sl->h = h;
  sl->val = box;
  return 0;
}

static int ctx_open(ctx *c, sc_store *st) {
  memset(c, 0, sizeof(*c));
  c->st = st;
  c->now = (long long)time(NULL);
  return sc_vulndb_generation(st, &c->gen) ? SC_ERR_DB : 0;
}

static void ctx_close(ctx *c) {
  sc_strmap_free(&c->old);
  for (size_t i = 0; c->layers.s && i <= c->layers.mask; i++) lent_free(c->layers.s[i].val);
  sc_strmap_free(&c->layers);
  memo_free(&c->mm);
  free(c->hid);
  sc_arena_free(&c->keys);
}

/* 0 for a stored image manifest, SC_ERR_UNSUPP for an index, SC_ERR_NOTFOUND. */
static int image_kind(sc_store *st, const char *digest) {
  int kind, rv = sc_store_image_kind(st, digest, &kind);
  return rv ? rv : kind == SC_MANIFEST_INDEX ? SC_ERR_UNSUPP : 0;
}

int sc_match_store_image(sc_store *st, const char *digest, sc_finding_list *out) {
  if (!st || !digest) return SC_ERR_ARG;
  int rv = image_kind(st, digest);
  if (rv) return rv;
  sc_finding_list tmp;
  sc_finding_list_init(&tmp);
  sc_finding_list *l = out ? out : &tmp;
  sc_vulndb *db = NULL;
  ctx c;
  iview v;
  memset(&v, 0, sizeof(v));
  /* only the pairs the image's packages look up (make_set), through the
   * store's index: the cost follows the image, not the data */
  if ((rv = ctx_open(&c, st)) || (rv = sc_vulndb_load_for(st, NULL, 0, &db))) goto out;
  c.db = c.lazy = db;
  l->generation = c.gen;
  if ((rv = compute_image(&c, digest, &v)) || (rv = emit_image(&v, l))) goto out;
  /* storing is best effort for a reader: a locked or read-only database
   * still gets its answer */
  if (sc_store_write_begin(st, 0) == 0) sc_store_write_end(st, !store_image(&c, digest, &v));
out:
  iview_free(&c, &v);
  ctx_close(&c);
  sc_vulndb_free(db);
  sc_finding_list_free(&tmp);
  return rv;
}

int sc_match_layers(sc_store *st, const char *const *layer_digests, size_t n, sc_finding_list *out) {
  if (!st || !out || (n && !layer_digests)) return SC_ERR_ARG;
  if (n > MAX_IMAGE_LAYERS) return SC_ERR_LIMIT;
  sc_vulndb *db = NULL;
  ctx c;
  iview v;
  memset(&v, 0, sizeof(v));
  int rv = ctx_open(&c, st);
  if (!rv && n && !(v.dig = calloc(n, sizeof(*v.dig)))) rv = SC_ERR_NOMEM;
  for (size_t i = 0; !rv && i < n; i++) {
    if (!layer_digests[i]) rv = SC_ERR_ARG;
    else if (!(v.dig[i] = strdup(layer_digests[i]))) rv = SC_ERR_NOMEM;
    else v.nl = i + 1; /* iview_free frees what was copied */
  }
  /* as sc_match_store_image: only the pairs the layers' packages look up */
  if (!rv) rv = sc_vulndb_load_for(st, NULL, 0, &db);
  if (!rv) {
    c.db = c.lazy = db;
    out->generation = c.gen;
    rv = compute_view(&c, &v);
  }
  for (size_t i = 0; !rv && i < v.nl; i++)
    if (!v.ents[i]->found) rv = SC_ERR_NOTFOUND; /* a stack with a hole says nothing */
  if (!rv) rv = emit_image(&v, out);
  iview_free(&c, &v);
  ctx_close(&c);
  sc_vulndb_free(db);
  return rv;
}

int sc_match_image(sc_store *st, const char *digest, sc_finding_list *out) {
  if (!st || !digest || !out) return SC_ERR_ARG;
  int64_t gen;
  int rv = sc_vulndb_generation(st, &gen);
  if (rv) return rv;
  if ((rv = image_kind(st, digest))) return rv;
  rv = sc_findings_load_image(st, digest, gen, out);
  if (rv == 1) return 0;
  if (rv < 0) return rv;
  return sc_match_store_image(st, digest, out);
}

static int on_image(void *arg, const char *digest) {
  sc_strlist *imgs = arg;
  return imgs->n >= SC_STORE_MAX_ROWS ? SC_ERR_LIMIT : sc_strlist_add(imgs, digest);
}

int sc_match_rematch_all(sc_store *st, sc_match_stats *stats) {
  if (!st) return SC_ERR_ARG;
  sc_vulndb *db = NULL;
  ctx c;
  memset(&c, 0, sizeof(c));
  sc_strlist imgs = {0};
  if (sc_store_write_begin(st, 1)) return SC_ERR_DB;
  int rv;
  /* pairs as layers need them, each once for the run: the store's images
   * rarely name more than a part of the data */
  if ((rv = ctx_open(&c, st)) || (rv = sc_vulndb_load_for(st, NULL, 0, &db))) goto out;
  c.db = c.lazy = db;
  if ((rv = count_refs(&c)) || (rv = sc_findings_each_set_hash(st, on_old_hash, &c))) goto out;
  /* images gone from the store lose their findings */
  if ((rv = sc_findings_forget_gone_images(st)) || (rv = sc_store_each_image(st, on_image, &imgs))) goto out;
  for (size_t i = 0; !rv && i < imgs.n; i++) {
    iview v;
    if (!(rv = compute_image(&c, imgs.v[i], &v))) rv = store_image(&c, imgs.v[i], &v);
    iview_free(&c, &v);
  }
  /* sets no image uses any more */
  if (!rv) rv = sc_findings_prune_sets(st, c.gen);
out:
  if (sc_store_write_end(st, !rv) && !rv) rv = SC_ERR_DB;
  sc_strlist_free(&imgs);
  ctx_close(&c);
  sc_vulndb_free(db);
  if (stats) *stats = c.stats;
  return rv;
}
