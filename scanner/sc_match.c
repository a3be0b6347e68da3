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
  int unsure;        /* a version did not parse: affected by caution, not by comparison */
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
    h->unsure = unsure;
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
  free(l->flags);
  sc_strlist_free(&l->notes);
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
  uint8_t *fl = realloc(l->flags, nc);
  if (fl) l->flags = fl;
  if (!v || !la || !pu || !fl) return SC_ERR_NOMEM;
  l->cap = nc;
  return 0;
}

/* Counts a finding matched by caution and says which (see
 * sc_finding_list.unsure). */
static int note_unsure(sc_finding_list *l, const char *eco, const char *pkg, const char *version, const char *id) {
  l->unsure++;
  if (l->notes.n >= SC_MATCH_MAX_NOTES) return 0;
  char buf[SC_VERSION_MAX + 2 * SC_OSV_MAX_NAME + 128];
  snprintf(buf, sizeof(buf), "%s %s %s: version not comparable (%s): counted as affected by %s", eco ? eco : "",
           pkg ? pkg : "", version ? version : "", sc_vscheme_name(sc_vscheme_for_ecosystem(eco)), id);
  return sc_strlist_add(&l->notes, buf);
}

/* Appends one finding; every string is copied into the list's arena.
 * unsure: matched by caution (SC_FINDING_UNSURE, counted and noted). */
static int list_add(sc_finding_list *l, const char *id, const char *const *aliases, size_t nal,
                    const char *eco, const char *pkg, const char *version, const char *fixed, int sev,
                    double score, const char *layer, const char *purl, int unsure) {
  int rv = list_grow(l);
  if (rv) return rv;
  l->flags[l->n] = unsure ? SC_FINDING_UNSURE : 0;
  if (unsure && (rv = note_unsure(l, eco, pkg, version, id))) return rv;
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
  uint8_t *fl = malloc(l->n);
  int rv = SC_ERR_NOMEM;
  if (r && v && la && pu && fl) {
    for (size_t i = 0; i < l->n; i++) r[i] = (sortref){l, i};
    qsort(r, l->n, sizeof(*r), cmp_ref);
    for (size_t i = 0; i < l->n; i++) {
      v[i] = l->v[r[i].i];
      la[i] = l->layer[r[i].i];
      pu[i] = l->purl[r[i].i];
      fl[i] = l->flags[r[i].i];
    }
    memcpy(l->v, v, l->n * sizeof(*v));
    memcpy(l->layer, la, l->n * sizeof(char *));
    memcpy(l->purl, pu, l->n * sizeof(char *));
    memcpy(l->flags, fl, l->n);
    rv = 0;
  }
  free(r);
  free(v);
  free(la);
  free(pu);
  free(fl);
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
  char kbuf[2 * SC_OSV_MAX_NAME + SC_VERSION_MAX + 16], *key = kbuf;
  /* an oversized version gets a heap key: memoised hits must outlive the call */
  size_t need = strlen(eco) + strlen(name) + strlen(version) + 4;
  if (need > sizeof(kbuf) && !(key = malloc(need))) return SC_ERR_NOMEM;
  size_t kl = mkkey(key, need > sizeof(kbuf) ? need : sizeof(kbuf), eco, name, version);
  uint64_t h = fnv(key, kl);
  int rv = kl ? 0 : SC_ERR_LIMIT;
  hslot *sl = NULL;
  if (!rv && hmap_grow(&mm->m)) rv = SC_ERR_NOMEM;
  if (!rv) sl = hmap_find(&mm->m, (hkey){key, kl}, h);
  if (!rv && !sl->key) {
    hits *hv = arena_alloc(&mm->arena, sizeof(*hv));
    if (!hv || !(sl->key = arena_str(&mm->arena, key))) rv = SC_ERR_NOMEM;
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
                    p->purl, h->v[k].unsure);
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

/* ---- images in the store ---------------------------------------------------- *
 * Findings are stored per (layer, OS key): a package's findings depend only
 * on the package and the OS the image ends up with, so the 10,000 images on
 * 50 base layers share 50 stored sets.  An image row adds its OS key and the
 * packages its upper layers hide (sc_inventory_mask: the rules of
 * sc_inventory_merge, applied by reference). */

#define SET_MAX_BYTES (64u << 20) /* one layer's stored findings */
#define MAX_IMAGE_LAYERS 4096

/* One package of a layer with findings under one OS. */
typedef struct lpkg {
  uint32_t seq;              /* index in the layer */
  const char *eco, *purl;    /* ctx arena or the layer's strings */
  const hits *h;             /* memo-owned */
} lpkg;

typedef struct lset {
  struct lset *next;
  const char *os;            /* OS key (ctx arena) */
  lpkg *p;
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

typedef struct sbuf {
  char *p;
  size_t n, cap;
  int err;
} sbuf;

typedef struct ctx {
  sc_store *st;
  const sc_vulndb *db;
  memo mm;
  hmap layers;               /* digest -> lent */
  hmap old;                  /* "layer\x1fos" -> boxed stored fhash (re-match) */
  int counted;               /* layers' refs come from count_refs */
  struct sc_match_arena keys;
  sqlite3_stmt *q_layers, *q_os, *q_pkgs, *q_paths, *put_set, *bump_set, *put_img;
  sbuf js;
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

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->err) return;
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->n + n + 1) nc *= 2;
    char *np = nc <= SET_MAX_BYTES ? realloc(b->p, nc) : NULL;
    if (!np) {
      b->err = nc <= SET_MAX_BYTES ? SC_ERR_NOMEM : SC_ERR_LIMIT;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_fmt(sbuf *b, const char *fmt, long long i) {
  char t[32];
  int n = snprintf(t, sizeof(t), fmt, i);
  sb_put(b, t, (size_t)n);
}

/* JSON string; bytes >= 0x80 go through as they are (SQLite stores text). */
static void sb_str(sbuf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  sb_put(b, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    sb_put(b, run, (size_t)(s - run));
    char e[6] = {'\\', (char)ch, 0};
    if (ch < 0x20) {
      memcpy(e, "\\u00", 4);
      e[4] = hex[ch >> 4];
      e[5] = hex[ch & 15];
      sb_put(b, e, 6);
    } else {
      sb_put(b, e, 2);
    }
    run = s + 1;
  }
  sb_put(b, run, (size_t)(s - run));
  sb_put(b, "\"", 1);
}

static void sb_num(sbuf *b, double d) {
  char t[40];
  int n = snprintf(t, sizeof(t), "%.17g", d == d && d < 1e300 && d > -1e300 ? d : -1.0);
  sb_put(b, t, (size_t)n);
}

static uint64_t mix(uint64_t h, const char *s) {
  return fnv(s ? s : "", strlen(s ? s : "") + 1) ^ (h * 1099511628211ull);
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

static hslot *slot_of(hmap *m, const char *digest, int add, struct sc_match_arena *a) {
  char key[160];
  size_t kl = mkkey(key, sizeof(key), digest, NULL, NULL);
  if (!kl || (add && hmap_grow(m))) return NULL;
  uint64_t h = fnv(key, kl);
  hslot *sl = hmap_find(m, (hkey){key, kl}, h);
  if (!sl || sl->key || !add) return sl && sl->key ? sl : NULL;
  if (!(sl->key = arena_str(a, key))) return NULL;
  sl->h = h;
  sl->val = NULL;
  m->n++;
  return sl;
}

/* Steps q (bound with digest) and hands each row to row(). */
static int rows(sqlite3_stmt *q, const char *digest, int (*row)(sqlite3_stmt *, sc_inventory *),
                sc_inventory *inv) {
  int rv = sqlite3_bind_text(q, 1, digest, -1, SQLITE_TRANSIENT) ? SC_ERR_DB : 0, rc = SQLITE_DONE;
  size_t n = 0;
  while (!rv && (rc = sqlite3_step(q)) == SQLITE_ROW)
    rv = ++n > SC_STORE_MAX_ROWS ? SC_ERR_LIMIT : row(q, inv);
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_reset(q);
  return rv;
}

#define T(q, i) ((const char *)sqlite3_column_text(q, i))
static int row_pkg(sqlite3_stmt *q, sc_inventory *inv) {
  sc_package p = {(char *)T(q, 0), (char *)T(q, 1), (char *)T(q, 2), (char *)T(q, 3),
                  (char *)T(q, 4), (char *)T(q, 5), (char *)T(q, 6), (char *)T(q, 7)};
  return sc_inventory_add_package(inv, &p);
}

static int row_path(sqlite3_stmt *q, sc_inventory *inv) {
  const char *k = T(q, 0), *p = T(q, 1);
  if (!k || !p) return 0;
  sc_strlist *l = !strcmp(k, "cataloged") ? &inv->cataloged
                  : !strcmp(k, "whiteout") ? &inv->whiteouts
                  : !strcmp(k, "opaque")   ? &inv->opaque
                                           : NULL;
  return l ? sc_strlist_add(l, p) : 0;
}

/* What sc_store_load_layer loads, minus secrets and notes (not findings). */
static int load_layer(ctx *c, const char *digest, lent *e) {
  sqlite3_stmt *q = c->q_os;
  int rv = sqlite3_bind_text(q, 1, digest, -1, SQLITE_TRANSIENT) ? SC_ERR_DB : 0;
  int rc = rv ? SQLITE_ERROR : sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    e->found = 1;
    if (T(q, 0) || T(q, 1)) rv = sc_inventory_set_os(&e->inv, T(q, 0), T(q, 1), T(q, 2));
  } else if (rc != SQLITE_DONE) {
    rv = SC_ERR_DB;
  }
  sqlite3_reset(q);
  c->stats.layers_loaded++;
  if (rv || !e->found) return rv;
  if ((rv = rows(c->q_pkgs, digest, row_pkg, &e->inv)) || (rv = rows(c->q_paths, digest, row_path, &e->inv)))
    return rv;
  return sc_inventory_mask_new(&e->inv, &e->mask);
}
#undef T

/* The layer's entry, loaded when load is set. */
static int get_layer(ctx *c, const char *digest, int load, lent **out) {
  hslot *sl = slot_of(&c->layers, digest, 1, &c->keys);
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

/* Layer refcounts for the whole run: a shared layer is loaded once. */
static int count_refs(ctx *c) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(sc_store_db(c->st),
                         "SELECT il.layer, count(*) FROM image_layers il JOIN images i"
                         " ON i.digest = il.image AND i.kind = 'image' GROUP BY il.layer",
                         -1, &s, NULL) != SQLITE_OK)
    return SC_ERR_DB;
  int rc, rv = 0;
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *d = (const char *)sqlite3_column_text(s, 0);
    lent *e;
    if (d && !(rv = get_layer(c, d, 0, &e))) e->refs = (long)sqlite3_column_int64(s, 1);
  }
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_finalize(s);
  c->counted = 1;
  return rv;
}

static void layer_release(ctx *c, const char *digest) {
  hslot *sl = slot_of(&c->layers, digest, 0, NULL);
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

/* The findings of one layer's packages under the image's OS. */
static int make_set(ctx *c, const lent *e, const char *key, const sc_osinfo *os, lset **out) {
  static const sc_osinfo none = {0};
  lset *s = calloc(1, sizeof(*s));
  char *eco = os ? sc_os_ecosystem(os->id, os->version_id) : NULL;
  const char *eco_a = NULL;
  char en[SC_OSV_MAX_NAME], nn[SC_OSV_MAX_NAME];
  size_t cap = 0;
  int rv = s && (s->os = arena_str(&c->keys, key)) ? 0 : SC_ERR_NOMEM;
  uint64_t h = 1469598103934665603ull;
  for (size_t k = 0; !rv && k < e->inv.npkgs; k++) {
    const sc_package *p = &e->inv.pkgs[k];
    sc_package q = *p;
    if (!q.ecosystem && eco && is_os_type(q.type)) {
      if (!eco_a && !(eco_a = arena_str(&c->keys, eco))) rv = SC_ERR_NOMEM;
      q.ecosystem = (char *)eco_a;
    }
    const char *version;
    const hits *hv;
    if (rv || lookup_key(&q, en, sizeof(en), nn, sizeof(nn), &version)) continue;
    if ((rv = match_cached(c->db, &c->mm, en, nn, version, NULL, &hv)) || !hv->n) continue;
    if (s->n == cap) {
      cap = cap ? cap * 2 : 16;
      lpkg *np = realloc(s->p, cap * sizeof(*np));
      if (!np) {
        rv = SC_ERR_NOMEM;
        break;
      }
      s->p = np;
    }
    char *purl = sc_package_purl(p, os ? os : &none);
    const char *pa = purl ? arena_str(&c->keys, purl) : NULL;
    free(purl);
    if (!pa) {
      rv = SC_ERR_NOMEM;
      break;
    }
    s->p[s->n++] = (lpkg){(uint32_t)k, q.ecosystem, pa, hv};
    s->nfindings += hv->n;
    h = mix(mix(mix(mix(h ^ k, p->name), p->version), q.ecosystem), pa);
    for (size_t i = 0; i < hv->n; i++) {
      h = mix(mix(h, hv->v[i].v->id), hv->v[i].fixed);
      h = (h ^ (uint64_t)(hv->v[i].sev + 2)) * 1099511628211ull;
      h = (h ^ (uint64_t)(int64_t)(hv->v[i].score * 100)) * 1099511628211ull;
      /* only when set: sets without such a hit keep their pre-schema-5 hash */
      if (hv->v[i].unsure) h = (h ^ 0x75) * 1099511628211ull;
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

static int set_json(sbuf *b, const lent *e, const lset *s) {
  b->n = 0;
  b->err = 0;
  sb_put(b, "[", 1);
  for (size_t i = 0; i < s->n; i++) {
    const lpkg *lp = &s->p[i];
    const sc_package *p = &e->inv.pkgs[lp->seq];
    sb_fmt(b, i ? ",[%lld," : "[%lld,", lp->seq);
    sb_str(b, p->name);
    sb_put(b, ",", 1);
    sb_str(b, p->version);
    sb_put(b, ",", 1);
    sb_str(b, lp->eco);
    sb_put(b, ",", 1);
    sb_str(b, lp->purl);
    sb_put(b, ",[", 2);
    for (size_t k = 0; k < lp->h->n; k++) {
      const hit *x = &lp->h->v[k];
      sb_put(b, k ? ",[" : "[", k ? 2 : 1);
      sb_str(b, x->v->id);
      sb_put(b, ",", 1);
      sb_str(b, x->fixed);
      sb_fmt(b, ",%lld,", x->sev);
      sb_num(b, x->score);
      if (x->unsure) sb_put(b, ",1", 2); /* 5th item only when set (schema 5) */
      sb_put(b, "]", 1);
    }
    sb_put(b, "]]", 2);
  }
  sb_put(b, "]", 1);
  return b->err;
}

/* Writes a set unless this run did already; an unchanged stored set only
 * moves to the current generation. */
static int store_set(ctx *c, const char *digest, const lent *e, lset *s) {
  if (s->stored) return 0;
  char key[800];
  size_t kl = mkkey(key, sizeof(key), digest, s->os, NULL);
  hslot *o = kl && c->old.s ? hmap_find(&c->old, (hkey){key, kl}, fnv(key, kl)) : NULL;
  int rv = 0;
  sqlite3_stmt *q;
  if (o && o->key && *(int64_t *)o->val == s->hash) {
    q = c->bump_set;
    if (sqlite3_bind_int64(q, 1, c->gen) || sqlite3_bind_text(q, 2, digest, -1, SQLITE_TRANSIENT) ||
        sqlite3_bind_text(q, 3, s->os, -1, SQLITE_STATIC) || sqlite3_step(q) != SQLITE_DONE)
      rv = SC_ERR_DB;
  } else {
    q = c->put_set;
    if ((rv = set_json(&c->js, e, s))) return rv;
    if (sqlite3_bind_text(q, 1, digest, -1, SQLITE_TRANSIENT) || sqlite3_bind_text(q, 2, s->os, -1, SQLITE_STATIC) ||
        sqlite3_bind_int64(q, 3, c->gen) || sqlite3_bind_int64(q, 4, s->hash) ||
        sqlite3_bind_int64(q, 5, (sqlite3_int64)s->nfindings) ||
        sqlite3_bind_text(q, 6, c->js.p, (int)c->js.n, SQLITE_STATIC) || sqlite3_step(q) != SQLITE_DONE)
      rv = SC_ERR_DB;
  }
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
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

/* Loads the image's layers, decides its OS, hidden packages and sets. */
static int compute_image(ctx *c, const char *digest, iview *v) {
  memset(v, 0, sizeof(*v));
  size_t cap = 0;
  int rv = 0, rc;
  sqlite3_stmt *q = c->q_layers;
  if (sqlite3_bind_text(q, 1, digest, -1, SQLITE_TRANSIENT) != SQLITE_OK) return SC_ERR_DB;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (v->nl == cap) {
      if (v->nl >= MAX_IMAGE_LAYERS) {
        rv = SC_ERR_LIMIT;
        break;
      }
      cap = cap ? cap * 2 : 8;
      char **nd = realloc(v->dig, cap * sizeof(char *));
      if (!nd) {
        rv = SC_ERR_NOMEM;
        break;
      }
      v->dig = nd;
    }
    const char *d = (const char *)sqlite3_column_text(q, 0);
    if (!(v->dig[v->nl] = strdup(d ? d : ""))) {
      rv = SC_ERR_NOMEM;
      break;
    }
    v->nl++;
  }
  if (!rv && rc != SQLITE_ROW && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_reset(q);
  size_t nl = v->nl;
  if (!rv && nl && (!(v->ents = calloc(nl, sizeof(*v->ents))) || !(v->sets = calloc(nl, sizeof(*v->sets))) ||
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

/* Writes the image's sets and its row; counts its findings. */
static int store_image(ctx *c, const char *digest, iview *v) {
  int rv = 0;
  uint64_t h = 1469598103934665603ull;
  sbuf *b = &c->js;
  size_t nf = 0;
  for (size_t i = 0; !rv && i < v->nl; i++) {
    if (!v->sets[i]) continue;
    rv = store_set(c, v->dig[i], v->ents[i], v->sets[i]);
    h = (h ^ (uint64_t)v->sets[i]->hash) * 1099511628211ull;
    for (size_t k = 0; k < v->sets[i]->n; k++)
      if (!v->hid[i] || !v->hid[i][v->sets[i]->p[k].seq]) nf += v->sets[i]->p[k].h->n;
  }
  if (rv) return rv;
  b->n = 0;
  b->err = 0;
  for (size_t i = 0; i < v->nl; i++)
    for (size_t k = 0; v->hid[i] && k < v->ents[i]->inv.npkgs; k++)
      if (v->hid[i][k]) {
        char t[48];
        int n = snprintf(t, sizeof(t), "%s[%zu,%zu]", b->n ? "," : "[", i, k);
        sb_put(b, t, (size_t)n);
        h = (h ^ (i << 32 ^ k)) * 1099511628211ull;
      }
  if (b->n) sb_put(b, "]", 1);
  if (b->err) return b->err;
  sqlite3_stmt *q = c->put_img;
  if (sqlite3_bind_text(q, 1, digest, -1, SQLITE_TRANSIENT) || sqlite3_bind_int64(q, 2, c->gen) ||
      sqlite3_bind_int64(q, 3, c->now) || sqlite3_bind_int64(q, 4, (int64_t)(h >> 1)) ||
      sqlite3_bind_text(q, 5, v->oskey, -1, SQLITE_STATIC) ||
      (b->n ? sqlite3_bind_text(q, 6, b->p, (int)b->n, SQLITE_STATIC) : sqlite3_bind_null(q, 6)) ||
      sqlite3_step(q) != SQLITE_DONE)
    rv = SC_ERR_DB;
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
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
      const lpkg *lp = &s->p[k];
      const sc_package *p = &v->ents[i]->inv.pkgs[lp->seq];
      if (v->hid[i] && v->hid[i][lp->seq]) continue;
      for (size_t j = 0; !rv && j < lp->h->n; j++) {
        const hit *x = &lp->h->v[j];
        rv = list_add(out, x->v->id, x->v->aliases, x->v->naliases, lp->eco, p->name, p->version, x->fixed,
                      x->sev, x->score, v->dig[i], lp->purl, x->unsure);
      }
    }
  }
  return rv ? rv : list_sort(out);
}

static int load_old_hashes(ctx *c) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(sc_store_db(c->st), "SELECT layer, os, fhash FROM layer_findings", -1, &s, NULL))
    return SC_ERR_DB;
  int rc = SQLITE_DONE, rv = 0;
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    char key[800];
    size_t kl = mkkey(key, sizeof(key), (const char *)sqlite3_column_text(s, 0),
                      (const char *)sqlite3_column_text(s, 1), NULL);
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
    *box = sqlite3_column_int64(s, 2);
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
  c->now = (long long)time(NULL);
  sqlite3 *db = sc_store_db(st);
  if (sc_vulndb_generation(st, &c->gen) ||
      sqlite3_prepare_v2(db, "SELECT layer FROM image_layers WHERE image = ? ORDER BY idx", -1, &c->q_layers,
                         NULL) ||
      sqlite3_prepare_v2(db, "SELECT os_id, os_version_id, os_path FROM layers WHERE digest = ?", -1, &c->q_os,
                         NULL) ||
      sqlite3_prepare_v2(db,
                         "SELECT type, ecosystem, name, version, source_name, source_version, path, purl"
                         " FROM layer_packages WHERE layer = ? ORDER BY seq",
                         -1, &c->q_pkgs, NULL) ||
      sqlite3_prepare_v2(db,
                         "SELECT kind, path FROM layer_paths WHERE layer = ?"
                         " AND kind IN ('cataloged', 'whiteout', 'opaque') ORDER BY kind, seq",
                         -1, &c->q_paths, NULL) ||
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO layer_findings (layer, os, generation, fhash, nfindings, data)"
                         " VALUES (?,?,?,?,?,?)",
                         -1, &c->put_set, NULL) ||
      sqlite3_prepare_v2(db, "UPDATE layer_findings SET generation = ? WHERE layer = ? AND os = ?", -1,
                         &c->bump_set, NULL) ||
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO matched_images (image, generation, matched_at, fhash, os, hidden)"
                         " VALUES (?,?,?,?,?,?)",
                         -1, &c->put_img, NULL))
    return SC_ERR_DB;
  return 0;
}

static void ctx_close(ctx *c) {
  sqlite3_finalize(c->q_layers);
  sqlite3_finalize(c->q_os);
  sqlite3_finalize(c->q_pkgs);
  sqlite3_finalize(c->q_paths);
  sqlite3_finalize(c->put_set);
  sqlite3_finalize(c->bump_set);
  sqlite3_finalize(c->put_img);
  free(c->old.s);
  for (size_t i = 0; c->layers.s && i <= c->layers.mask; i++) lent_free(c->layers.s[i].val);
  free(c->layers.s);
  memo_free(&c->mm);
  free(c->js.p);
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
  iview v;
  memset(&v, 0, sizeof(v));
  sqlite3 *sq = sc_store_db(st);
  if ((rv = ctx_open(&c, st)) || (rv = sc_vulndb_load(st, &db))) goto out;
  c.db = db;
  l->generation = c.gen;
  if ((rv = compute_image(&c, digest, &v)) || (rv = emit_image(&v, l))) goto out;
  /* storing is best effort for a reader: a locked or read-only database
   * still gets its answer */
  if (sqlite3_exec(sq, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
    int ok = !store_image(&c, digest, &v);
    sqlite3_exec(sq, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
  }
out:
  iview_free(&c, &v);
  ctx_close(&c);
  sc_vulndb_free(db);
  sc_finding_list_free(&tmp);
  return rv;
}

typedef struct hidset {
  uint64_t *v; /* idx << 32 | seq, sorted */
  size_t n;
} hidset;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* [[idx, seq], ...] (JSON text) -> hidset; SC_ERR_FORMAT when unreadable */
static int hid_parse(const char *txt, hidset *h) {
  json_t *j = json_loads(txt, 0, NULL);
  size_t n = json_array_size(j);
  int rv = json_is_array(j) ? 0 : SC_ERR_FORMAT;
  if (!rv && n && !(h->v = malloc(n * sizeof(uint64_t)))) rv = SC_ERR_NOMEM;
  for (size_t i = 0; !rv && i < n; i++) {
    const json_t *e = json_array_get(j, i);
    json_int_t a = json_integer_value(json_array_get(e, 0)), b = json_integer_value(json_array_get(e, 1));
    if (a < 0 || b < 0 || a > UINT32_MAX || b > UINT32_MAX) rv = SC_ERR_FORMAT;
    else h->v[h->n++] = (uint64_t)a << 32 | (uint64_t)b;
  }
  json_decref(j);
  if (h->n) qsort(h->v, h->n, sizeof(uint64_t), cmp_u64);
  return rv;
}

static int is_hidden(const hidset *h, size_t idx, json_int_t seq) {
  if (!h->n || seq < 0 || seq > UINT32_MAX || idx > UINT32_MAX) return 0;
  uint64_t k = (uint64_t)idx << 32 | (uint64_t)seq;
  return bsearch(&k, h->v, h->n, sizeof(uint64_t), cmp_u64) != NULL;
}

#define T(s, i) ((const char *)sqlite3_column_text(s, i))
/* Adds the findings of one stored layer set; SC_ERR_FORMAT when unreadable. */
static int add_set(sqlite3_stmt *al, const char *layer, size_t idx, const char *data, const hidset *hid,
                   sc_finding_list *out) {
  json_t *j = json_loads(data, 0, NULL);
  int rv = json_is_array(j) ? 0 : SC_ERR_FORMAT;
  for (size_t i = 0; !rv && i < json_array_size(j); i++) {
    const json_t *p = json_array_get(j, i), *hs = json_array_get(p, 5);
    const char *name = json_string_value(json_array_get(p, 1)), *ver = json_string_value(json_array_get(p, 2));
    const char *eco = json_string_value(json_array_get(p, 3)), *purl = json_string_value(json_array_get(p, 4));
    if (!name || !ver || !eco || !purl || !json_is_array(hs)) {
      rv = SC_ERR_FORMAT;
      break;
    }
    if (is_hidden(hid, idx, json_integer_value(json_array_get(p, 0)))) continue;
    for (size_t k = 0; !rv && k < json_array_size(hs); k++) {
      const json_t *h = json_array_get(hs, k);
      const char *id = json_string_value(json_array_get(h, 0)), *fixed = json_string_value(json_array_get(h, 1));
      /* [id, fixed, severity, score(, 1 = matched by caution)] */
      const json_t *uj = json_array_get(h, 4);
      if (!id || !fixed || (uj && !json_is_integer(uj))) {
        rv = SC_ERR_FORMAT;
        break;
      }
      int unsure = uj && json_integer_value(uj) != 0;
      json_t *aj = NULL;
      if (sqlite3_bind_text(al, 1, id, -1, SQLITE_TRANSIENT)) rv = SC_ERR_DB;
      else if (sqlite3_step(al) == SQLITE_ROW && T(al, 0)) aj = json_loads(T(al, 0), 0, NULL);
      size_t na = json_array_size(aj);
      const char **av = calloc(na ? na : 1, sizeof(char *));
      if (!av) rv = SC_ERR_NOMEM;
      for (size_t a = 0; av && a < na; a++)
        if (!(av[a] = json_string_value(json_array_get(aj, a)))) av[a] = "";
      if (!rv)
        rv = list_add(out, id, av, na, eco, name, ver, fixed, (int)json_integer_value(json_array_get(h, 2)),
                      json_number_value(json_array_get(h, 3)), layer, purl, unsure);
      free(av);
      json_decref(aj);
      sqlite3_reset(al);
    }
  }
  json_decref(j);
  return rv;
}

/* Stored findings when they exist for the current generation: 1 loaded, 0
 * absent, stale or unreadable (recomputed then). */
static int load_stored(sc_store *st, const char *digest, int64_t gen, sc_finding_list *out) {
  sqlite3 *sq = sc_store_db(st);
  sqlite3_stmt *s = NULL, *al = NULL;
  hidset hid = {0};
  char *os = NULL;
  int rv = SC_ERR_DB, rc;
  /* one read snapshot: a re-match committing meanwhile is seen whole or not */
  if (sqlite3_exec(sq, "SAVEPOINT sc_match_load", NULL, NULL, NULL) != SQLITE_OK) return SC_ERR_DB;
  if (sqlite3_prepare_v2(sq, "SELECT generation, os, hidden FROM matched_images WHERE image = ?", -1, &s, NULL))
    goto out;
  sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(s);
  int fresh = 0; /* -1: out of memory */
  if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) == gen && T(s, 1)) {
    fresh = 1;
    if (!(os = strdup(T(s, 1)))) fresh = -1;
    else if (T(s, 2) && (rv = hid_parse(T(s, 2), &hid))) fresh = rv == SC_ERR_FORMAT ? 0 : -1;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (fresh < 0) {
    rv = SC_ERR_NOMEM;
    goto out;
  }
  rv = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SC_ERR_DB;
  if (rv || !fresh) goto out;
  rv = SC_ERR_DB;
  if (sqlite3_prepare_v2(sq,
                         "SELECT il.idx, il.layer, l.digest IS NOT NULL, lf.data FROM image_layers il"
                         " LEFT JOIN layers l ON l.digest = il.layer"
                         " LEFT JOIN layer_findings lf ON lf.layer = il.layer AND lf.os = ?2"
                         " WHERE il.image = ?1 ORDER BY il.idx",
                         -1, &s, NULL) ||
      sqlite3_prepare_v2(sq, "SELECT aliases FROM vulns WHERE id = ?", -1, &al, NULL))
    goto out;
  sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, os, -1, SQLITE_TRANSIENT);
  rv = 0;
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (!sqlite3_column_int(s, 2)) continue; /* layer not stored: nothing to match */
    if (!T(s, 3)) rv = 1;                   /* stored after the match: stale */
    else rv = add_set(al, T(s, 1), (size_t)sqlite3_column_int64(s, 0), T(s, 3), &hid, out);
  }
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  if (rv == 1 || rv == SC_ERR_FORMAT) { /* recompute from the layers */
    sc_finding_list_free(out);
    sc_finding_list_init(out);
    rv = 0;
    goto out;
  }
  if (!rv) rv = list_sort(out);
  out->generation = gen;
  if (!rv) rv = 1;
out:
  sqlite3_finalize(s);
  sqlite3_finalize(al);
  sqlite3_exec(sq, "RELEASE sc_match_load", NULL, NULL, NULL);
  free(hid.v);
  free(os);
  return rv;
}
#undef T

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
  ctx c;
  memset(&c, 0, sizeof(c));
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
  if ((rv = count_refs(&c)) || (rv = load_old_hashes(&c))) goto out;
  rv = SC_ERR_DB;
  /* images gone from the store lose their findings */
  if (sqlite3_exec(sq,
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
    iview v;
    if (!(rv = compute_image(&c, imgs[i], &v))) rv = store_image(&c, imgs[i], &v);
    iview_free(&c, &v);
  }
  /* sets no image uses any more */
  sqlite3_stmt *d = NULL;
  if (!rv && (sqlite3_prepare_v2(sq, "DELETE FROM layer_findings WHERE generation != ?", -1, &d, NULL) ||
              sqlite3_bind_int64(d, 1, c.gen) || sqlite3_step(d) != SQLITE_DONE))
    rv = SC_ERR_DB;
  sqlite3_finalize(d);
  if (!rv && sqlite3_exec(sq, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rv = SC_ERR_DB;
out:
  if (rv) sqlite3_exec(sq, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_finalize(s);
  for (size_t i = 0; i < ni; i++) free(imgs[i]);
  free(imgs);
  ctx_close(&c);
  sc_vulndb_free(db);
  if (stats) *stats = c.stats;
restore:;
  char sql[64];
  snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d", old_cache);
  sqlite3_exec(sq, sql, NULL, NULL, NULL);
  return rv;
}
