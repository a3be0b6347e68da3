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
  sc_strmap pkgs;       /* "eco\x1fname" -> sc_vuln_affected list */
  size_t entries;
};

void sc_vulndb_free(sc_vulndb *db) {
  if (!db) return;
  sc_arena_free(&db->arena);
  sc_strmap_free(&db->pkgs);
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

typedef struct loader {
  sc_vulndb *db;
  sc_strmap ids; /* "id" -> sc_vuln */
} loader;

static int on_record(void *arg, const char *id, const char *al, int sev, double score, double score_own) {
  loader *L = arg;
  sc_vulndb *db = L->db;
  char key[KEY_BYTES];
  sc_vuln *v = sc_arena_alloc(&db->arena, sizeof(*v));
  size_t kl = sc_strmap_key(key, sizeof(key), id, NULL, NULL);
  if (!v || !id || !kl || !(v->id = sc_arena_strdup(&db->arena, id)) || sc_strmap_reserve(&L->ids))
    return SC_ERR_NOMEM;
  json_t *aj = al ? json_loads(al, 0, NULL) : NULL;
  v->aliases = json_strs(&db->arena, aj, &v->naliases);
  json_decref(aj);
  if (!v->aliases) return SC_ERR_NOMEM;
  v->sev = sev;
  v->score = score;
  v->score_own = score_own;
  uint64_t h = sc_fnv1a(key, kl);
  sc_strmap_slot *sl = sc_strmap_find(&L->ids, key, h);
  if (!sl->key) {
    if (!(sl->key = sc_arena_strdup(&db->arena, key))) return SC_ERR_NOMEM;
    sl->h = h;
    L->ids.n++;
  }
  sl->val = v;
  return 0;
}

static int on_affected(void *arg, const char *id, const char *eco, const char *name, int sev, const char *ranges,
                       const char *versions) {
  loader *L = arg;
  sc_vulndb *db = L->db;
  char key[KEY_BYTES];
  size_t kl = sc_strmap_key(key, sizeof(key), id, NULL, NULL);
  if (!kl || !eco || !name) return 0;
  sc_strmap_slot *vs = sc_strmap_find(&L->ids, key, sc_fnv1a(key, kl));
  if (!vs || !vs->key) return 0; /* affected rows of a record that is not loaded */
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
  if (sc_strmap_reserve(&db->pkgs)) return SC_ERR_NOMEM;
  uint64_t h = sc_fnv1a(key, kl);
  sc_strmap_slot *sl = sc_strmap_find(&db->pkgs, key, h);
  if (!sl->key) {
    if (!(sl->key = sc_arena_strdup(&db->arena, key))) return SC_ERR_NOMEM;
    sl->h = h;
    db->pkgs.n++;
  }
  a->next = sl->val;
  sl->val = a;
  db->entries++;
  return 0;
}

int sc_vulndb_load(sc_store *st, sc_vulndb **out) {
  if (!st || !out) return SC_ERR_ARG;
  *out = NULL;
  loader L = {calloc(1, sizeof(sc_vulndb)), {0}};
  if (!L.db) return SC_ERR_NOMEM;
  int rv = sc_vulnstore_each_record(st, on_record, &L);
  if (!rv) rv = sc_vulnstore_each_affected(st, on_affected, &L);
  sc_strmap_free(&L.ids);
  if (rv) sc_vulndb_free(L.db);
  else *out = L.db;
  return rv;
}
