/* sc_vulndata.c - vulnerability data loaded into memory (see sc_vulndata.h).
 * Reads through sc_vulnstore only: no SQL here.
 * Owner: matching.  Thread: the store handle's while loading.
 * Errors: SC_ERR_NOMEM, SC_ERR_DB. */
#include "sc_vulndata.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sc_arena.h"
#include "sc_hash.h"
#include "sc_osv.h" /* SC_OSV_MAX_NAME */
#include "sc_strmap.h"
#include "sc_vulnstore.h"

#define KEY_BYTES (2 * SC_OSV_MAX_NAME + 8) /* "eco\x1fname\x1e" */

struct sc_vulndb {
  sc_arena arena;
  sc_strmap pkgs;       /* "eco\x1fname" -> sc_vuln_affected list; a pair
                         * looked up without rows has its key and NULL */
  sc_strmap ids;        /* "id" -> sc_vuln: one per record, shared */
  size_t entries;
  int complete;         /* sc_vulndb_load: every pair is loaded */
};

void sc_vulndb_free(sc_vulndb *db) {
  if (!db) return;
  sc_arena_free(&db->arena);
  sc_strmap_free(&db->pkgs);
  sc_strmap_free(&db->ids);
  free(db);
}

size_t sc_vulndb_size(const sc_vulndb *db) { return db ? db->entries : 0; }

int sc_vulndb_generation(sc_store *st, int64_t *gen) { return sc_vulnstore_generation(st, gen); }

const sc_vuln_affected *sc_vulndb_lookup(const sc_vulndb *db, const char *eco, const char *name) {
  char key[KEY_BYTES];
  size_t kl = sc_strmap_key(key, sizeof(key), eco, name, NULL);
  if (!kl) return NULL;
  sc_strmap_slot *sl = sc_strmap_find(&db->pkgs, key, sc_fnv1a(key, kl));
  return sl && sl->key ? sl->val : NULL;
}

static const char **json_strs(sc_arena *a, const json_t *arr, size_t *n) {
  *n = 0;
  size_t cnt = json_array_size(arr);
  const char **v = sc_arena_alloc(a, (cnt ? cnt : 1) * sizeof(char *));
  for (size_t i = 0; v && i < cnt; i++) {
    const char *s = json_string_value(json_array_get(arr, i));
    if (s && !(v[(*n)++] = sc_arena_strdup(a, s))) return NULL;
  }
  return v;
}

static sc_event_kind kind_of(char c) {
  return c == 'i' ? SC_EV_INTRODUCED : c == 'f' ? SC_EV_FIXED : c == 'l' ? SC_EV_LAST_AFFECTED : SC_EV_LIMIT;
}

/* Decodes the ranges JSON (sc_vulnstore.h) into a->ev / rstart / rsemver. */
static int load_ranges(sc_arena *ar, sc_vuln_affected *a, const char *txt) {
  json_t *r = txt ? json_loads(txt, 0, NULL) : NULL;
  size_t nr = json_array_size(r), nev = 0;
  for (size_t i = 0; i < nr; i++) {
    size_t k = json_array_size(json_array_get(r, i));
    nev += k ? k - 1 : 0;
  }
  a->ev = sc_arena_alloc(ar, (nev ? nev : 1) * sizeof(sc_event));
  a->rstart = sc_arena_alloc(ar, (nr + 1) * sizeof(uint32_t));
  a->rsemver = sc_arena_alloc(ar, nr ? nr : 1);
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
      if (!(a->ev[e].version = sc_arena_strdup(ar, s + 1))) {
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

/* The slot of key in m, added (key copied into the arena, val NULL) when
 * absent; NULL when out of memory. */
static sc_strmap_slot *slot_add(sc_vulndb *db, sc_strmap *m, const char *key, size_t kl) {
  if (sc_strmap_reserve(m)) return NULL;
  uint64_t h = sc_fnv1a(key, kl);
  sc_strmap_slot *sl = sc_strmap_find(m, key, h);
  if (!sl->key) {
    if (!(sl->key = sc_arena_strdup(&db->arena, key))) return NULL;
    sl->h = h;
    sl->val = NULL;
    m->n++;
  }
  return sl;
}

static int on_record(void *arg, const char *id, const char *al, int sev, double score, double score_own) {
  sc_vulndb *db = arg;
  char key[KEY_BYTES];
  size_t kl = id ? sc_strmap_key(key, sizeof(key), id, NULL, NULL) : 0;
  if (!kl) return SC_ERR_NOMEM;
  sc_strmap_slot *sl = slot_add(db, &db->ids, key, kl);
  if (!sl) return SC_ERR_NOMEM;
  if (sl->val) return 0; /* already loaded (a partial load meets a record once per row) */
  sc_vuln *v = sc_arena_alloc(&db->arena, sizeof(*v));
  if (!v || !(v->id = sc_arena_strdup(&db->arena, id))) return SC_ERR_NOMEM;
  json_t *aj = al ? json_loads(al, 0, NULL) : NULL;
  v->aliases = json_strs(&db->arena, aj, &v->naliases);
  json_decref(aj);
  if (!v->aliases) return SC_ERR_NOMEM;
  v->sev = sev;
  v->score = score;
  v->score_own = score_own;
  sl->val = v;
  return 0;
}

static int on_affected(void *arg, const char *id, const char *eco, const char *name, int sev, const char *ranges,
                       const char *versions) {
  sc_vulndb *db = arg;
  char key[KEY_BYTES];
  size_t kl = sc_strmap_key(key, sizeof(key), id, NULL, NULL);
  if (!kl || !eco || !name) return 0;
  sc_strmap_slot *vs = sc_strmap_find(&db->ids, key, sc_fnv1a(key, kl));
  if (!vs || !vs->key || !vs->val) return 0; /* affected rows of a record that is not loaded */
  sc_vuln_affected *a = sc_arena_alloc(&db->arena, sizeof(*a));
  if (!a) return SC_ERR_NOMEM;
  memset(a, 0, sizeof(*a));
  a->v = vs->val;
  a->sev = sev;
  int rv = load_ranges(&db->arena, a, ranges);
  if (rv) return rv;
  json_t *vj = versions ? json_loads(versions, 0, NULL) : NULL;
  a->versions = json_strs(&db->arena, vj, &a->nversions);
  json_decref(vj);
  if (!a->versions) return SC_ERR_NOMEM;
  if (!(kl = sc_strmap_key(key, sizeof(key), eco, name, NULL))) return 0;
  sc_strmap_slot *sl = slot_add(db, &db->pkgs, key, kl);
  if (!sl) return SC_ERR_NOMEM;
  /* rows come in stored order: the chain is newest first, either load */
  a->next = sl->val;
  sl->val = a;
  db->entries++;
  return 0;
}

int sc_vulndb_load(sc_store *st, sc_vulndb **out) {
  if (!st || !out) return SC_ERR_ARG;
  *out = NULL;
  sc_vulndb *db = calloc(1, sizeof(*db));
  if (!db) return SC_ERR_NOMEM;
  db->complete = 1;
  int rv = sc_vulnstore_each_record(st, on_record, db);
  if (!rv) rv = sc_vulnstore_each_affected(st, on_affected, db);
  /* every record is in; the id map only served the affected rows */
  sc_strmap_free(&db->ids);
  if (rv) sc_vulndb_free(db);
  else *out = db;
  return rv;
}

int sc_vulndb_add(sc_vulndb *db, sc_store *st, const sc_vulndb_pkg *pkgs, size_t n) {
  if (!db || !st || (n && !pkgs)) return SC_ERR_ARG;
  if (db->complete || !n) return 0;
  sc_vulndb_pkg *want = malloc(n * sizeof(*want));
  if (!want) return SC_ERR_NOMEM;
  size_t nw = 0;
  int rv = 0;
  for (size_t i = 0; !rv && i < n; i++) {
    char key[KEY_BYTES];
    size_t kl = pkgs[i].ecosystem && pkgs[i].name
                    ? sc_strmap_key(key, sizeof(key), pkgs[i].ecosystem, pkgs[i].name, NULL)
                    : 0;
    if (!kl) continue; /* sc_vulndb_lookup cannot ask for it either */
    sc_strmap_slot *sl = db->pkgs.s ? sc_strmap_find(&db->pkgs, key, sc_fnv1a(key, kl)) : NULL;
    if (sl && sl->key) continue; /* loaded already, or twice in pkgs */
    /* marked as loaded before the rows come: a pair without rows stays so */
    if (!slot_add(db, &db->pkgs, key, kl)) rv = SC_ERR_NOMEM;
    else want[nw++] = pkgs[i];
  }
  if (!rv) rv = sc_vulnstore_each_affected_of(st, want, nw, on_record, on_affected, db);
  free(want);
  return rv;
}

int sc_vulndb_load_for(sc_store *st, const sc_vulndb_pkg *pkgs, size_t n, sc_vulndb **out) {
  if (!st || !out || (n && !pkgs)) return SC_ERR_ARG;
  *out = NULL;
  sc_vulndb *db = calloc(1, sizeof(*db));
  if (!db) return SC_ERR_NOMEM;
  int rv = sc_vulndb_add(db, st, pkgs, n);
  if (rv) sc_vulndb_free(db);
  else *out = db;
  return rv;
}
