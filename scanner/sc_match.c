/* sc_match.c - matching inventories against the OSV data (see sc_match.h). */
#include "sc_match.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_cvss.h"
#include "sc_osv.h"
#include "sc_range.h"
#include "sc_version.h"

/* ---- arena: many small strings freed at once ---------------------------- */

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  char data[];
} chunk;

struct sc_match_arena {
  chunk *head;
};

static void *arena_alloc(struct sc_match_arena *a, size_t n) {
  n = (n + 7) & ~(size_t)7;
  if (!a->head || a->head->cap - a->head->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    chunk *c = malloc(sizeof(chunk) + cap);
    if (!c) return NULL;
    c->next = a->head;
    c->used = 0;
    c->cap = cap;
    a->head = c;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += n;
  return p;
}

static char *arena_str(struct sc_match_arena *a, const char *s) {
  if (!s) s = "";
  size_t n = strlen(s) + 1;
  char *d = arena_alloc(a, n);
  if (d) memcpy(d, s, n);
  return d;
}

static void arena_free(struct sc_match_arena *a) {
  if (!a) return;
  for (chunk *c = a->head, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  a->head = NULL;
}

/* ---- hash map with string keys (values are pointers) --------------------- */

typedef struct hslot {
  const char *key; /* NULL = empty */
  uint64_t h;
  void *val;
} hslot;

typedef struct hmap {
  hslot *s;
  size_t n, mask;
} hmap;

static uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

/* keys are whole strings (mkkey); h = fnv(key, its length) */
typedef struct {
  const char *k;
  size_t len;
} hkey;

static hslot *hmap_find(const hmap *m, hkey k, uint64_t h) {
  if (!m->s) return NULL;
  for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
    hslot *s = &m->s[i];
    if (!s->key) return s;
    if (s->h == h && !strcmp(s->key, k.k)) return s;
  }
}

static int hmap_grow(hmap *m) {
  if (m->s && (m->n + 1) * 2 <= m->mask + 1) return 0;
  size_t cap = m->s ? (m->mask + 1) * 2 : 1024;
  hslot *ns = calloc(cap, sizeof(*ns));
  if (!ns) return SC_ERR_NOMEM;
  for (size_t i = 0; m->s && i <= m->mask; i++) {
    if (!m->s[i].key) continue;
    size_t j = m->s[i].h & (cap - 1);
    while (ns[j].key) j = (j + 1) & (cap - 1);
    ns[j] = m->s[i];
  }
  free(m->s);
  m->s = ns;
  m->mask = cap - 1;
  return 0;
}

/* Builds "a\x1fb\x1fc\x1e" keys: the terminator makes prefix keys distinct. */
static size_t mkkey(char *out, size_t cap, const char *a, const char *b, const char *c) {
  int n = snprintf(out, cap, "%s\x1f%s%s%s\x1e", a ? a : "", b ? b : "", c ? "\x1f" : "", c ? c : "");
  return n > 0 && (size_t)n < cap ? (size_t)n - 1 : 0; /* length without the terminator */
}

/* ---- the in-memory vulnerability data ------------------------------------ */

typedef struct vinfo {
  const char *id;
  const char **aliases;
  size_t naliases;
  int sev;
  double score, score_own;
} vinfo;

typedef struct vaff {
  const vinfo *v;
  int sev;              /* affected[].ecosystem_specific.severity */
  sc_event *ev;         /* all ranges' events, range r at ev[rstart[r]..rstart[r+1]) */
  uint32_t *rstart;
  char *rsemver;        /* per range: 1 = SEMVER */
  size_t nranges;
  const char **versions;
  size_t nversions;
  struct vaff *next;
} vaff;

struct sc_vulndb {
  struct sc_match_arena arena;
  hmap pkgs;            /* "eco\x1fname" -> vaff list */
  size_t entries;
};

void sc_vulndb_free(sc_vulndb *db) {
  if (!db) return;
  arena_free(&db->arena);
  free(db->pkgs.s);
  free(db);
}

size_t sc_vulndb_size(const sc_vulndb *db) { return db ? db->entries : 0; }

int sc_vulndb_generation(sc_store *st, int64_t *gen) {
  if (!st || !gen) return SC_ERR_ARG;
  *gen = 0;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(sc_store_db(st), "SELECT value FROM meta WHERE key = 'vulndb_generation'", -1,
                         &s, NULL) != SQLITE_OK)
    return SC_ERR_DB;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) *gen = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SC_ERR_DB;
}

static const char **json_strs(struct sc_match_arena *a, const json_t *arr, size_t *n) {
  *n = 0;
  size_t cnt = json_array_size(arr);
  const char **v = arena_alloc(a, (cnt ? cnt : 1) * sizeof(char *));
  for (size_t i = 0; v && i < cnt; i++) {
    const char *s = json_string_value(json_array_get(arr, i));
    if (s && !(v[(*n)++] = arena_str(a, s))) return NULL;
  }
  return v;
}

static sc_event_kind kind_of(char c) {
  return c == 'i' ? SC_EV_INTRODUCED : c == 'f' ? SC_EV_FIXED : c == 'l' ? SC_EV_LAST_AFFECTED : SC_EV_LIMIT;
}

/* Decodes the stored ranges JSON into a->ev / rstart / rsemver. */
static int load_ranges(struct sc_match_arena *ar, vaff *a, const char *txt) {
  json_t *r = txt ? json_loads(txt, 0, NULL) : NULL;
  size_t nr = json_array_size(r), nev = 0;
  for (size_t i = 0; i < nr; i++) {
    size_t k = json_array_size(json_array_get(r, i));
    nev += k ? k - 1 : 0;
  }
  a->ev = arena_alloc(ar, (nev ? nev : 1) * sizeof(sc_event));
  a->rstart = arena_alloc(ar, (nr + 1) * sizeof(uint32_t));
  a->rsemver = arena_alloc(ar, nr ? nr : 1);
  if (!a->ev || !a->rstart || !a->rsemver) {
    json_decref(r);
    return SC_ERR_NOMEM;
  }
  size_t e = 0;
  a->nranges = 0;
  for (size_t i = 0; i < nr; i++) {
    const json_t *rg = json_array_get(r, i);
    const char *t = json_string_value(json_array_get(rg, 0));
    a->rstart[a->nranges] = (uint32_t)e;
    a->rsemver[a->nranges] = t && t[0] == 'S';
    for (size_t k = 1; k < json_array_size(rg); k++) {
      const char *s = json_string_value(json_array_get(rg, k));
      if (!s || !s[0] || !s[1]) continue;
      a->ev[e].kind = kind_of(s[0]);
      if (!(a->ev[e].version = arena_str(ar, s + 1))) {
        json_decref(r);
        return SC_ERR_NOMEM;
      }
      e++;
    }
    a->nranges++;
  }
  a->rstart[a->nranges] = (uint32_t)e;
  json_decref(r);
  return 0;
}

int sc_vulndb_load(sc_store *st, sc_vulndb **out) {
  if (!st || !out) return SC_ERR_ARG;
  *out = NULL;
  sc_vulndb *db = calloc(1, sizeof(*db));
  if (!db) return SC_ERR_NOMEM;
  hmap ids = {0};
  sqlite3_stmt *s = NULL;
  sqlite3 *sq = sc_store_db(st);
  int rv = SC_ERR_DB, rc;
  char key[2 * SC_OSV_MAX_NAME + 8];
  if (sqlite3_prepare_v2(sq, "SELECT id, aliases, severity, score, score_own FROM vulns", -1, &s, NULL))
    goto out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vinfo *v = arena_alloc(&db->arena, sizeof(*v));
    const char *id = (const char *)sqlite3_column_text(s, 0);
    size_t kl = mkkey(key, sizeof(key), id, NULL, NULL);
    rv = SC_ERR_NOMEM;
    if (!v || !id || !kl || !(v->id = arena_str(&db->arena, id)) || hmap_grow(&ids)) goto out;
    const char *al = (const char *)sqlite3_column_text(s, 1);
    json_t *aj = al ? json_loads(al, 0, NULL) : NULL;
    v->aliases = json_strs(&db->arena, aj, &v->naliases);
    json_decref(aj);
    if (!v->aliases) goto out;
    v->sev = sqlite3_column_int(s, 2);
    v->score = sqlite3_column_double(s, 3);
    v->score_own = sqlite3_column_double(s, 4);
    uint64_t h = fnv(key, kl);
    hslot *sl = hmap_find(&ids, (hkey){key, kl}, h);
    if (!sl->key) {
      if (!(sl->key = arena_str(&db->arena, key))) goto out;
      sl->h = h;
      ids.n++;
    }
    sl->val = v;
  }
  rv = SC_ERR_DB;
  if (rc != SQLITE_DONE) goto out;
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(sq, "SELECT vuln, ecosystem, name, severity, ranges, versions FROM vuln_affected",
                         -1, &s, NULL))
    goto out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(s, 0);
    const char *eco = (const char *)sqlite3_column_text(s, 1), *name = (const char *)sqlite3_column_text(s, 2);
    size_t kl = mkkey(key, sizeof(key), id, NULL, NULL);
    if (!kl || !eco || !name) continue;
    hslot *vs = hmap_find(&ids, (hkey){key, kl}, fnv(key, kl));
    if (!vs || !vs->key) continue;
    rv = SC_ERR_NOMEM;
    vaff *a = arena_alloc(&db->arena, sizeof(*a));
    if (!a) goto out;
    memset(a, 0, sizeof(*a));
    a->v = vs->val;
    a->sev = sqlite3_column_int(s, 3);
    if ((rv = load_ranges(&db->arena, a, (const char *)sqlite3_column_text(s, 4)))) goto out;
    const char *vt = (const char *)sqlite3_column_text(s, 5);
    json_t *vj = vt ? json_loads(vt, 0, NULL) : NULL;
    a->versions = json_strs(&db->arena, vj, &a->nversions);
    json_decref(vj);
    rv = SC_ERR_NOMEM;
    if (!a->versions) goto out;
    if (!(kl = mkkey(key, sizeof(key), eco, name, NULL))) continue;
    if (hmap_grow(&db->pkgs)) goto out;
    uint64_t h = fnv(key, kl);
    hslot *sl = hmap_find(&db->pkgs, (hkey){key, kl}, h);
    if (!sl->key) {
      if (!(sl->key = arena_str(&db->arena, key))) goto out;
      sl->h = h;
      db->pkgs.n++;
    }
    a->next = sl->val;
    sl->val = a;
    db->entries++;
  }
  rv = rc == SQLITE_DONE ? 0 : SC_ERR_DB;
out:
  sqlite3_finalize(s);
  free(ids.s);
  if (rv) sc_vulndb_free(db);
  else *out = db;
  return rv;
}

/* ---- one package ------------------------------------------------------- */

typedef struct hit {
  const vinfo *v;
  const char *fixed; /* points into the vulndb arena, or "" */
  int sev;
  double score;
} hit;

typedef struct hits {
  hit *v;
  size_t n;
} hits;

/* lower of two fixed versions under scheme (either may be NULL) */
static const char *lower_fixed(sc_vscheme s, const char *a, const char *b) {
  int c;
  if (!a) return b;
  if (!b) return a;
  return sc_version_cmp(s, a, b, &c) == 0 && c > 0 ? b : a;
}

/* Affected entries of (eco, name) that affect version; *out allocated with
 * malloc (NULL when none). */
static int match_pkg(const sc_vulndb *db, const char *eco, const char *name, const char *version,
                     hits *out) {
  out->v = NULL;
  out->n = 0;
  char key[2 * SC_OSV_MAX_NAME + 8];
  size_t kl = mkkey(key, sizeof(key), eco, name, NULL);
  if (!kl) return 0;
  hslot *sl = hmap_find(&db->pkgs, (hkey){key, kl}, fnv(key, kl));
  if (!sl || !sl->key) return 0;
  sc_vscheme eco_s = sc_vscheme_for_ecosystem(eco);
  const char *ver = sc_osv_normalize_version(eco, version);
  size_t cap = 0;
  for (const vaff *a = sl->val; a; a = a->next) {
    int affected = 0;
    const char *fixed = NULL, *any_fixed = NULL;
    for (size_t i = 0; i < a->nversions && !affected; i++)
      affected = !strcmp(a->versions[i], version) || !strcmp(a->versions[i], ver);
    for (size_t r = 0; r < a->nranges; r++) {
      sc_vscheme s = a->rsemver[r] ? SC_VS_SEMVER : eco_s;
      const sc_event *ev = a->ev + a->rstart[r];
      size_t nev = a->rstart[r + 1] - a->rstart[r];
      int in = 0;
      const char *f = sc_range_fixed_for(s, ev, nev, ver);
      any_fixed = lower_fixed(s, any_fixed, f);
      if (sc_range_affected(s, ev, nev, ver, &in) || !in) continue;
      affected = 1;
      fixed = lower_fixed(s, fixed, f);
    }
    if (!affected) continue;
    if (!fixed) fixed = any_fixed;
    /* one hit per vulnerability: several affected entries merge */
    size_t k;
    for (k = 0; k < out->n && out->v[k].v != a->v; k++) {}
    if (k < out->n) {
      out->v[k].fixed = lower_fixed(eco_s, out->v[k].fixed[0] ? out->v[k].fixed : NULL, fixed);
      if (!out->v[k].fixed) out->v[k].fixed = "";
      continue;
    }
    if (out->n == cap) {
      cap = cap ? cap * 2 : 4;
      hit *nv = realloc(out->v, cap * sizeof(*nv));
      if (!nv) {
        free(out->v);
        out->v = NULL;
        out->n = 0;
        return SC_ERR_NOMEM;
      }
      out->v = nv;
    }
    hit *h = &out->v[out->n++];
    h->v = a->v;
    h->fixed = fixed ? fixed : "";
    /* a per-package text severity beats the record's unless it has a CVSS score */
    int use_aff = a->sev != SC_SEV_UNKNOWN && a->v->score_own < 0;
    h->sev = use_aff ? a->sev : a->v->sev;
    h->score = a->v->score;
  }
  return 0;
}

/* ---- finding lists -------------------------------------------------------- */

void sc_finding_list_init(sc_finding_list *l) {
  if (l) memset(l, 0, sizeof(*l));
}

void sc_finding_list_free(sc_finding_list *l) {
  if (!l) return;
  free(l->v);
  free(l->layer);
  free(l->purl);
  if (l->arena) arena_free(l->arena);
  free(l->arena);
  memset(l, 0, sizeof(*l));
}

static int list_grow(sc_finding_list *l) {
  if (!l->arena && !(l->arena = calloc(1, sizeof(*l->arena)))) return SC_ERR_NOMEM;
  if (l->n < l->cap) return 0;
  if (l->n >= SC_MATCH_MAX_FINDINGS) return SC_ERR_LIMIT;
  size_t nc = l->cap ? l->cap * 2 : 16;
  sc_finding *v = realloc(l->v, nc * sizeof(*v));
  if (v) l->v = v;
  const char **la = realloc(l->layer, nc * sizeof(char *));
  if (la) l->layer = la;
  const char **pu = realloc(l->purl, nc * sizeof(char *));
  if (pu) l->purl = pu;
  if (!v || !la || !pu) return SC_ERR_NOMEM;
  l->cap = nc;
  return 0;
}

/* Appends one finding; every string is copied into the list's arena. */
static int list_add(sc_finding_list *l, const char *id, const char *const *aliases, size_t nal,
                    const char *eco, const char *pkg, const char *version, const char *fixed, int sev,
                    double score, const char *layer, const char *purl) {
  int rv = list_grow(l);
  if (rv) return rv;
  if (l->borrow) { /* re-match: strings outlive the list (vulndb, inventory) */
    sc_finding *f = &l->v[l->n];
    *f = (sc_finding){id, aliases, nal, eco ? eco : "", pkg ? pkg : "", version ? version : "",
                      fixed ? fixed : "", sev, score};
    l->layer[l->n] = layer ? layer : "";
    l->purl[l->n] = purl ? purl : "";
    l->n++;
    return 0;
  }
  struct sc_match_arena *a = l->arena;
  sc_finding *f = &l->v[l->n];
  const char **al = arena_alloc(a, (nal ? nal : 1) * sizeof(char *));
  if (!al) return SC_ERR_NOMEM;
  for (size_t i = 0; i < nal; i++)
    if (!(al[i] = arena_str(a, aliases[i]))) return SC_ERR_NOMEM;
  f->id = arena_str(a, id);
  f->aliases = al;
  f->naliases = nal;
  f->ecosystem = arena_str(a, eco);
  f->package = arena_str(a, pkg);
  f->version = arena_str(a, version);
  f->fixed_version = arena_str(a, fixed);
  f->severity = sev;
  f->score = score;
  l->layer[l->n] = arena_str(a, layer);
  l->purl[l->n] = arena_str(a, purl);
  if (!f->id || !f->ecosystem || !f->package || !f->version || !f->fixed_version || !l->layer[l->n] ||
      !l->purl[l->n])
    return SC_ERR_NOMEM;
  l->n++;
  return 0;
}

/* severity rank for sorting: critical first, none/unknown last */
static int sev_rank(int s) { return s >= SC_SEV_LOW && s <= SC_SEV_CRITICAL ? s : s == SC_SEV_NONE ? -1 : -2; }

typedef struct sortref {
  const sc_finding_list *l;
  size_t i;
} sortref;

static int cmp_ref(const void *a, const void *b) {
  const sortref *x = a, *y = b;
  const sc_finding *f = &x->l->v[x->i], *g = &y->l->v[y->i];
  int d = sev_rank(g->severity) - sev_rank(f->severity);
  if (d) return d;
  if ((d = strcmp(f->id, g->id))) return d;
  if ((d = strcmp(f->package, g->package))) return d;
  return x->i < y->i ? -1 : x->i > y->i;
}

static int list_sort(sc_finding_list *l) {
  if (l->n < 2) return 0;
  sortref *r = malloc(l->n * sizeof(*r));
  sc_finding *v = malloc(l->n * sizeof(*v));
  const char **la = malloc(l->n * sizeof(char *)), **pu = malloc(l->n * sizeof(char *));
  int rv = SC_ERR_NOMEM;
  if (r && v && la && pu) {
    for (size_t i = 0; i < l->n; i++) r[i] = (sortref){l, i};
    qsort(r, l->n, sizeof(*r), cmp_ref);
    for (size_t i = 0; i < l->n; i++) {
      v[i] = l->v[r[i].i];
      la[i] = l->layer[r[i].i];
      pu[i] = l->purl[r[i].i];
    }
    memcpy(l->v, v, l->n * sizeof(*v));
    memcpy(l->layer, la, l->n * sizeof(char *));
    memcpy(l->purl, pu, l->n * sizeof(char *));
    rv = 0;
  }
  free(r);
  free(v);
  free(la);
  free(pu);
  return rv;
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

/* memo: "eco\x1fname\x1fversion" -> hits (NULL for cache owner = per call) */
typedef struct memo {
  hmap m;
  struct sc_match_arena arena;
} memo;

static void memo_free(memo *mm) {
  for (size_t i = 0; mm->m.s && i <= mm->m.mask; i++)
    if (mm->m.s[i].key && mm->m.s[i].val) {
      hits *h = mm->m.s[i].val;
      free(h->v);
    }
  free(mm->m.s);
  arena_free(&mm->arena);
  memset(mm, 0, sizeof(*mm));
}

static int match_cached(const sc_vulndb *db, memo *mm, const char *eco, const char *name,
                        const char *version, hits *tmp, const hits **res) {
  if (!mm) {
    int rv = match_pkg(db, eco, name, version, tmp);
    *res = tmp;
    return rv;
  }
  char key[2 * SC_OSV_MAX_NAME + SC_VERSION_MAX + 16];
  size_t kl = mkkey(key, sizeof(key), eco, name, version);
  if (!kl) {
    *res = tmp;
    return match_pkg(db, eco, name, version, tmp);
  }
  uint64_t h = fnv(key, kl);
  if (hmap_grow(&mm->m)) return SC_ERR_NOMEM;
  hslot *sl = hmap_find(&mm->m, (hkey){key, kl}, h);
  if (!sl->key) {
    hits *hv = arena_alloc(&mm->arena, sizeof(*hv));
    if (!hv || !(sl->key = arena_str(&mm->arena, key))) return SC_ERR_NOMEM;
    int rv = match_pkg(db, eco, name, version, hv);
    if (rv) {
      sl->key = NULL;
      return rv;
    }
    sl->h = h;
    sl->val = hv;
    mm->m.n++;
  }
  *res = sl->val;
  return 0;
}

static int match_inv(const sc_vulndb *db, memo *mm, const sc_inventory *inv,
                     const char *const *pkg_layer, sc_finding_list *out) {
  char eco[SC_OSV_MAX_NAME], name[SC_OSV_MAX_NAME];
  for (size_t i = 0; i < inv->npkgs; i++) {
    const sc_package *p = &inv->pkgs[i];
    const char *version;
    if (lookup_key(p, eco, sizeof(eco), name, sizeof(name), &version)) continue;
    hits tmp = {0};
    const hits *h;
    int rv = match_cached(db, mm, eco, name, version, &tmp, &h);
    for (size_t k = 0; !rv && k < h->n; k++) {
      const vinfo *v = h->v[k].v;
      rv = list_add(out, v->id, v->aliases, v->naliases, p->ecosystem, p->name, p->version,
                    h->v[k].fixed, h->v[k].sev, h->v[k].score, pkg_layer ? pkg_layer[i] : "",
                    p->purl);
    }
    free(tmp.v);
    if (rv) return rv;
  }
  return 0;
}

int sc_match_inventory(const sc_vulndb *db, const sc_inventory *inv, const char *const *pkg_layer,
                       sc_finding_list *out) {
  if (!db || !inv || !out) return SC_ERR_ARG;
  int rv = match_inv(db, NULL, inv, pkg_layer, out);
  return rv ? rv : list_sort(out);
}

/* ---- images in the store ---------------------------------------------------- */

typedef struct lcache_ent {
  sc_inventory inv;
  int found;       /* 0: layer not stored */
  long refs;       /* images still to use it; freed at 0 */
} lcache_ent;

typedef struct ctx {
  sc_store *st;
  const sc_vulndb *db;
  memo *mm;
  hmap layers;     /* digest -> lcache_ent (only with refcounts) */
  struct sc_match_arena keys;
  sqlite3_stmt *q_layers, *ins, *ins_m, *upd_m, *del_f;
  hmap old;        /* re-match: image -> stored findings hash (boxed) */
  int64_t gen;
  sc_match_stats stats;
} ctx;

static int str_eq(const char *a, const char *b) { return (a ? strcmp(a, b ? b : "") : !(b && *b)) == 0; }

static int same_pkg(const sc_package *a, const sc_package *b) {
  return str_eq(a->name, b->name) && str_eq(a->version, b->version) && str_eq(a->path, b->path);
}

static int load_layer(ctx *c, const char *digest, lcache_ent **out, int *owned) {
  char key[128];
  size_t kl = mkkey(key, sizeof(key), digest, NULL, NULL);
  hslot *sl = kl && c->layers.s ? hmap_find(&c->layers, (hkey){key, kl}, fnv(key, kl)) : NULL;
  *owned = 0;
  if (sl && sl->key && sl->val) {
    *out = sl->val;
    return 0;
  }
  lcache_ent *e = calloc(1, sizeof(*e));
  if (!e) return SC_ERR_NOMEM;
  sc_inventory_init(&e->inv);
  int rv = sc_store_load_layer(c->st, digest, &e->inv);
  c->stats.layers_loaded++;
  if (rv == SC_ERR_NOTFOUND) rv = 0;
  else if (!rv) e->found = 1;
  if (rv) {
    sc_inventory_free(&e->inv);
    free(e);
    return rv;
  }
  if (sl && sl->key) {
    e->refs = (long)(intptr_t)0;
    sl->val = e;
  } else {
    *owned = 1;
  }
  *out = e;
  return 0;
}

static void layer_release(ctx *c, const char *digest, lcache_ent *e, int owned) {
  if (!owned) {
    if (--e->refs > 0) return;
    char key[128];
    size_t kl = mkkey(key, sizeof(key), digest, NULL, NULL);
    hslot *sl = hmap_find(&c->layers, (hkey){key, kl}, fnv(key, kl));
    if (sl && sl->key) sl->val = NULL;
  }
  sc_inventory_free(&e->inv);
  free(e);
}

/* Layer refcounts for the whole run: a shared layer is loaded once. */
static int count_refs(ctx *c, hmap *refs) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(sc_store_db(c->st),
                         "SELECT il.layer, count(*) FROM image_layers il JOIN images i"
                         " ON i.digest = il.image AND i.kind = 'image' GROUP BY il.layer",
                         -1, &s, NULL) != SQLITE_OK)
    return SC_ERR_DB;
  int rc, rv = 0;
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    char key[128];
    size_t kl = mkkey(key, sizeof(key), (const char *)sqlite3_column_text(s, 0), NULL, NULL);
    if (!kl) continue;
    if (hmap_grow(&c->layers)) rv = SC_ERR_NOMEM;
    uint64_t h = fnv(key, kl);
    hslot *sl = rv ? NULL : hmap_find(&c->layers, (hkey){key, kl}, h);
    if (sl && !sl->key) {
      if (!(sl->key = arena_str(&c->keys, key))) rv = SC_ERR_NOMEM;
      sl->h = h;
      sl->val = NULL;
      c->layers.n++;
    }
    if (!rv && hmap_grow(refs)) rv = SC_ERR_NOMEM;
    hslot *rs = rv ? NULL : hmap_find(refs, (hkey){key, kl}, h);
    if (rs && !rs->key) {
      rs->key = sl->key;
      rs->h = h;
      rs->val = (void *)(intptr_t)sqlite3_column_int64(s, 1);
      refs->n++;
    }
  }
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_finalize(s);
  return rv;
}

/* Merges the image's layers, attributes packages to layers, matches. */
static int store_findings(ctx *c, const char *digest, const sc_finding_list *l);

/* store: write the findings before the inventory behind borrowed strings goes */
static int compute_image(ctx *c, const char *digest, const hmap *refs, sc_finding_list *out, int store) {
  char **dig = NULL;
  lcache_ent **ents = NULL;
  int *owned = NULL;
  size_t nl = 0, cap = 0;
  const char **pl = NULL;
  sc_inventory img;
  sc_inventory_init(&img);
  int rv = 0, rc;
  sqlite3_stmt *q = c->q_layers;
  if (sqlite3_bind_text(q, 1, digest, -1, SQLITE_TRANSIENT) != SQLITE_OK) return SC_ERR_DB;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (nl == cap) {
      cap = cap ? cap * 2 : 8;
      char **nd = realloc(dig, cap * sizeof(char *));
      if (nd) dig = nd;
      lcache_ent **ne = realloc(ents, cap * sizeof(*ne));
      if (ne) ents = ne;
      int *no = realloc(owned, cap * sizeof(int));
      if (no) owned = no;
      if (!nd || !ne || !no || nl >= 4096) {
        rv = nd && ne && no ? SC_ERR_LIMIT : SC_ERR_NOMEM;
        break;
      }
    }
    const char *d = (const char *)sqlite3_column_text(q, 0);
    if (!(dig[nl] = strdup(d ? d : ""))) {
      rv = SC_ERR_NOMEM;
      break;
    }
    ents[nl] = NULL;
    nl++;
  }
  if (!rv && rc != SQLITE_ROW && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_reset(q);
  for (size_t i = 0; !rv && i < nl; i++) {
    if ((rv = load_layer(c, dig[i], &ents[i], &owned[i]))) break;
    if (!owned[i] && !ents[i]->refs) {
      /* first use in this run: take the image count */
      char key[128];
      size_t kl = mkkey(key, sizeof(key), dig[i], NULL, NULL);
      hslot *rs = refs && refs->s ? hmap_find(refs, (hkey){key, kl}, fnv(key, kl)) : NULL;
      ents[i]->refs = rs && rs->key ? (long)(intptr_t)rs->val : 1;
    }
    if (ents[i]->found) rv = sc_inventory_merge(&img, &ents[i]->inv);
  }
  if (!rv) rv = sc_inventory_finish(&img);
  /* merged packages keep layer order: walk the layers alongside */
  if (!rv && img.npkgs && !(pl = calloc(img.npkgs, sizeof(char *)))) rv = SC_ERR_NOMEM;
  size_t L = 0, k = 0;
  for (size_t i = 0; !rv && i < img.npkgs; i++) {
    pl[i] = "";
    size_t L0 = L, k0 = k;
    for (; L < nl; L++, k = 0) {
      const sc_inventory *li = &ents[L]->inv;
      for (; ents[L]->found && k < li->npkgs && !same_pkg(&li->pkgs[k], &img.pkgs[i]); k++) {}
      if (ents[L]->found && k < li->npkgs) break;
    }
    if (L < nl) {
      pl[i] = dig[L];
      k++;
    } else {
      L = L0, k = k0; /* not found (cannot happen): leave "" */
    }
  }
  c->stats.packages += img.npkgs;
  if (!rv) rv = match_inv(c->db, c->mm, &img, pl, out);
  if (!rv) rv = list_sort(out);
  if (!rv && store) rv = store_findings(c, digest, out);
  for (size_t i = 0; i < nl; i++) {
    if (ents && ents[i]) layer_release(c, dig[i], ents[i], owned[i]);
    free(dig[i]);
  }
  free(dig);
  free(ents);
  free(owned);
  free(pl);
  sc_inventory_free(&img);
  return rv;
}

/* Hash of everything a finding row holds: an image whose findings did not
 * change keeps its rows (a re-match then only moves its generation). */
static int64_t list_hash(const sc_finding_list *l) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < l->n; i++) {
    const sc_finding *f = &l->v[i];
    const char *parts[] = {f->id, f->package, f->version, f->fixed_version, f->ecosystem, l->layer[i],
                           l->purl[i]};
    for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
      h = fnv(parts[k], strlen(parts[k]) + 1) ^ (h * 1099511628211ull);
    h = (h ^ (uint64_t)(f->severity + 2)) * 1099511628211ull;
    h = (h ^ (uint64_t)(int64_t)(f->score * 10)) * 1099511628211ull;
  }
  return (int64_t)(h >> 1);
}

static int store_findings(ctx *c, const char *digest, const sc_finding_list *l) {
  int64_t fh = list_hash(l);
  int rv = 0;
  long long now = (long long)time(NULL);
  if (c->old.s) { /* re-match: unchanged findings stay, only the generation moves */
    char key[128];
    size_t kl = mkkey(key, sizeof(key), digest, NULL, NULL);
    hslot *sl = kl ? hmap_find(&c->old, (hkey){key, kl}, fnv(key, kl)) : NULL;
    if (sl && sl->key && *(int64_t *)sl->val == fh) {
      sqlite3_stmt *u = c->upd_m;
      if (sqlite3_bind_int64(u, 1, c->gen) || sqlite3_bind_int64(u, 2, now) ||
          sqlite3_bind_text(u, 3, digest, -1, SQLITE_TRANSIENT) || sqlite3_step(u) != SQLITE_DONE)
        rv = SC_ERR_DB;
      sqlite3_reset(u);
      return rv;
    }
  }
  sqlite3_stmt *s = c->del_f;
  if (sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT) || sqlite3_step(s) != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_reset(s);
  s = c->ins;
  /* aliases are not copied per finding: readers join vulns (the findings
   * are recomputed whenever the vulnerability data changes) */
  if (rv || sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT) || sqlite3_bind_int64(s, 13, c->gen))
    return SC_ERR_DB;
  for (size_t i = 0; !rv && i < l->n; i++) {
    const sc_finding *f = &l->v[i];
    if (sqlite3_bind_int64(s, 2, (sqlite3_int64)i) || sqlite3_bind_text(s, 3, f->id, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(s, 5, f->package, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(s, 6, f->version, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(s, 7, f->fixed_version, -1, SQLITE_STATIC) || sqlite3_bind_int(s, 8, f->severity) ||
        sqlite3_bind_double(s, 9, f->score) || sqlite3_bind_text(s, 10, f->ecosystem, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(s, 11, l->layer[i], -1, SQLITE_STATIC) ||
        sqlite3_bind_text(s, 12, l->purl[i], -1, SQLITE_STATIC) || sqlite3_step(s) != SQLITE_DONE)
      rv = SC_ERR_DB;
    sqlite3_reset(s);
  }
  sqlite3_clear_bindings(s);
  s = c->ins_m;
  if (!rv && (sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT) || sqlite3_bind_int64(s, 2, c->gen) ||
              sqlite3_bind_int64(s, 3, now) || sqlite3_bind_int64(s, 4, fh) || sqlite3_step(s) != SQLITE_DONE))
    rv = SC_ERR_DB;
  sqlite3_reset(s);
  return rv;
}

/* image -> fhash of what is stored now */
static int load_old_hashes(ctx *c) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(sc_store_db(c->st), "SELECT image, fhash FROM matched_images WHERE fhash IS NOT NULL",
                         -1, &s, NULL) != SQLITE_OK)
    return SC_ERR_DB;
  int rc = SQLITE_DONE, rv = hmap_grow(&c->old);
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    char key[128];
    size_t kl = mkkey(key, sizeof(key), (const char *)sqlite3_column_text(s, 0), NULL, NULL);
    if (!kl) continue;
    if (hmap_grow(&c->old)) {
      rv = SC_ERR_NOMEM;
      break;
    }
    uint64_t h = fnv(key, kl);
    hslot *sl = hmap_find(&c->old, (hkey){key, kl}, h);
    int64_t *box = arena_alloc(&c->keys, sizeof(int64_t));
    if (!box || (!sl->key && !(sl->key = arena_str(&c->keys, key)))) {
      rv = SC_ERR_NOMEM;
      break;
    }
    *box = sqlite3_column_int64(s, 1);
    if (!sl->val) c->old.n++;
    sl->h = h;
    sl->val = box;
  }
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_finalize(s);
  return rv;
}

static int ctx_open(ctx *c, sc_store *st) {
  memset(c, 0, sizeof(*c));
  c->st = st;
  sqlite3 *db = sc_store_db(st);
  if (sc_vulndb_generation(st, &c->gen) ||
      sqlite3_prepare_v2(db, "SELECT layer FROM image_layers WHERE image = ? ORDER BY idx", -1, &c->q_layers,
                         NULL) ||
      sqlite3_prepare_v2(db,
                         "INSERT INTO findings (image, seq, vuln, aliases, package, version, fixed,"
                         " severity, score, ecosystem, layer, purl, generation)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &c->ins, NULL) ||
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO matched_images (image, generation, matched_at, fhash)"
                         " VALUES (?,?,?,?)",
                         -1, &c->ins_m, NULL) ||
      sqlite3_prepare_v2(db, "UPDATE matched_images SET generation = ?, matched_at = ? WHERE image = ?", -1,
                         &c->upd_m, NULL) ||
      sqlite3_prepare_v2(db, "DELETE FROM findings WHERE image = ?", -1, &c->del_f, NULL))
    return SC_ERR_DB;
  return 0;
}

static void ctx_close(ctx *c) {
  sqlite3_finalize(c->q_layers);
  sqlite3_finalize(c->ins);
  sqlite3_finalize(c->ins_m);
  sqlite3_finalize(c->upd_m);
  sqlite3_finalize(c->del_f);
  free(c->old.s);
  for (size_t i = 0; c->layers.s && i <= c->layers.mask; i++)
    if (c->layers.s[i].val) {
      lcache_ent *e = c->layers.s[i].val;
      sc_inventory_free(&e->inv);
      free(e);
    }
  free(c->layers.s);
  arena_free(&c->keys);
}

static int image_kind(sc_store *st, const char *digest) {
  sqlite3_stmt *s;
  int rv = SC_ERR_DB;
  if (sqlite3_prepare_v2(sc_store_db(st), "SELECT kind FROM images WHERE digest = ?", -1, &s, NULL))
    return SC_ERR_DB;
  sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const char *k = (const char *)sqlite3_column_text(s, 0);
    rv = k && !strcmp(k, "index") ? SC_ERR_UNSUPP : 0;
  } else if (rc == SQLITE_DONE) {
    rv = SC_ERR_NOTFOUND;
  }
  sqlite3_finalize(s);
  return rv;
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
  sqlite3 *sq = sc_store_db(st);
  if ((rv = ctx_open(&c, st)) || (rv = sc_vulndb_load(st, &db))) goto out;
  c.db = db;
  l->generation = c.gen;
  if ((rv = compute_image(&c, digest, NULL, l, 0))) goto out;
  /* storing is best effort for a reader: a locked or read-only database
   * still gets its answer */
  if (sqlite3_exec(sq, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
    int ok = !store_findings(&c, digest, l);
    sqlite3_exec(sq, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
  }
out:
  ctx_close(&c);
  sc_vulndb_free(db);
  sc_finding_list_free(&tmp);
  return rv;
}

/* Stored findings when they exist for the current generation: 1 loaded, 0
 * absent or stale. */
static int load_stored(sc_store *st, const char *digest, int64_t gen, sc_finding_list *out) {
  sqlite3 *sq = sc_store_db(st);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(sq, "SELECT generation FROM matched_images WHERE image = ?", -1, &s, NULL))
    return SC_ERR_DB;
  sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s), fresh = rc == SQLITE_ROW && sqlite3_column_int64(s, 0) == gen;
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SC_ERR_DB;
  if (!fresh) return 0;
  if (sqlite3_prepare_v2(sq,
                         "SELECT f.vuln, v.aliases, f.package, f.version, f.fixed, f.severity, f.score,"
                         " f.ecosystem, f.layer, f.purl FROM findings f LEFT JOIN vulns v ON v.id = f.vuln"
                         " WHERE f.image = ? ORDER BY f.seq",
                         -1, &s, NULL))
    return SC_ERR_DB;
  sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT);
  int rv = 0;
#define T(i) ((const char *)sqlite3_column_text(s, i))
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    json_t *aj = T(1) ? json_loads(T(1), 0, NULL) : NULL;
    size_t na = json_array_size(aj);
    const char **al = calloc(na ? na : 1, sizeof(char *));
    if (!al) rv = SC_ERR_NOMEM;
    for (size_t i = 0; al && i < na; i++) {
      al[i] = json_string_value(json_array_get(aj, i));
      if (!al[i]) al[i] = "";
    }
    if (!rv)
      rv = list_add(out, T(0) ? T(0) : "", al, na, T(7), T(2), T(3), T(4), sqlite3_column_int(s, 5),
                    sqlite3_column_double(s, 6), T(8), T(9));
    free(al);
    json_decref(aj);
  }
#undef T
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_finalize(s);
  out->generation = gen;
  return rv ? rv : 1;
}

int sc_match_image(sc_store *st, const char *digest, sc_finding_list *out) {
  if (!st || !digest || !out) return SC_ERR_ARG;
  int64_t gen;
  int rv = sc_vulndb_generation(st, &gen);
  if (rv) return rv;
  if ((rv = image_kind(st, digest))) return rv;
  rv = load_stored(st, digest, gen, out);
  if (rv == 1) return 0;
  if (rv < 0) return rv;
  return sc_match_store_image(st, digest, out);
}

int sc_match_rematch_all(sc_store *st, sc_match_stats *stats) {
  if (!st) return SC_ERR_ARG;
  sqlite3 *sq = sc_store_db(st);
  sc_vulndb *db = NULL;
  memo mm;
  memset(&mm, 0, sizeof(mm));
  hmap refs = {0};
  ctx c;
  char **imgs = NULL;
  size_t ni = 0, cap = 0;
  sqlite3_stmt *s = NULL;
  int rv, rc;
  /* one big transaction: a larger page cache keeps it from re-reading and
   * spilling pages (restored afterwards) */
  int old_cache = -2000;
  if (sqlite3_prepare_v2(sq, "PRAGMA cache_size", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    old_cache = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  s = NULL;
  sqlite3_exec(sq, "PRAGMA cache_size = -131072", NULL, NULL, NULL);
  if (sqlite3_exec(sq, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    rv = SC_ERR_DB;
    goto restore;
  }
  if ((rv = ctx_open(&c, st)) || (rv = sc_vulndb_load(st, &db))) goto out;
  c.db = db;
  c.mm = &mm;
  if ((rv = count_refs(&c, &refs))) goto out;
  rv = SC_ERR_DB;
  if ((rv = load_old_hashes(&c))) goto out;
  rv = SC_ERR_DB;
  /* images gone from the store lose their findings */
  if (sqlite3_exec(sq,
                   "DELETE FROM findings WHERE image NOT IN (SELECT digest FROM images WHERE kind = 'image');"
                   "DELETE FROM matched_images WHERE image NOT IN"
                   " (SELECT digest FROM images WHERE kind = 'image');",
                   NULL, NULL, NULL) ||
      sqlite3_prepare_v2(sq, "SELECT digest FROM images WHERE kind = 'image'", -1, &s, NULL))
    goto out;
  rv = 0;
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (ni == cap) {
      cap = cap ? cap * 2 : 256;
      char **n = ni < SC_STORE_MAX_ROWS ? realloc(imgs, cap * sizeof(char *)) : NULL;
      if (!n) {
        rv = ni < SC_STORE_MAX_ROWS ? SC_ERR_NOMEM : SC_ERR_LIMIT;
        break;
      }
      imgs = n;
    }
    if (!(imgs[ni] = strdup((const char *)sqlite3_column_text(s, 0)))) rv = SC_ERR_NOMEM;
    else ni++;
  }
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  for (size_t i = 0; !rv && i < ni; i++) {
    sc_finding_list l;
    sc_finding_list_init(&l);
    l.borrow = 1;
    rv = compute_image(&c, imgs[i], &refs, &l, 1);
    c.stats.images++;
    c.stats.findings += l.n;
    sc_finding_list_free(&l);
  }
  if (!rv && sqlite3_exec(sq, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rv = SC_ERR_DB;
out:
  if (rv) sqlite3_exec(sq, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_finalize(s);
  for (size_t i = 0; i < ni; i++) free(imgs[i]);
  free(imgs);
  free(refs.s);
  ctx_close(&c);
  memo_free(&mm);
  sc_vulndb_free(db);
  if (stats) *stats = c.stats;
restore:;
  char sql[64];
  snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d", old_cache);
  sqlite3_exec(sq, sql, NULL, NULL, NULL);
  return rv;
}
