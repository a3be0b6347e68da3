/* sc_findlist.c - finding lists (see sc_findlist.h).
 * Owner: matching.  Thread: caller's.  Errors: SC_ERR_NOMEM, SC_ERR_LIMIT. */
#include "sc_findlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_arena.h"
#include "sc_cvss.h"
#include "sc_osv.h"     /* SC_OSV_MAX_NAME */
#include "sc_version.h"

void sc_finding_list_init(sc_finding_list *l) {
  if (l) memset(l, 0, sizeof(*l));
}

void sc_finding_list_free(sc_finding_list *l) {
  if (!l) return;
  free(l->v);
  free(l->layer);
  free(l->purl);
  free(l->rating);
  free(l->flags);
  sc_strlist_free(&l->notes);
  if (l->arena) sc_arena_free(l->arena);
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

int sc_finding_list_add(sc_finding_list *l, const sc_finding *in, const char *layer, const char *purl, int unsure) {
  int rv = list_grow(l);
  if (rv) return rv;
  const char *eco = in->ecosystem, *pkg = in->package, *version = in->version, *fixed = in->fixed_version;
  l->flags[l->n] = unsure ? SC_FINDING_UNSURE : 0;
  if (unsure && (rv = note_unsure(l, eco, pkg, version, in->id))) return rv;
  if (l->borrow) { /* re-match: strings outlive the list (vulndb, inventory) */
    sc_finding *f = &l->v[l->n];
    *f = (sc_finding){in->id, in->aliases, in->naliases, eco ? eco : "", pkg ? pkg : "", version ? version : "",
                      fixed ? fixed : "", in->severity, in->score};
    l->layer[l->n] = layer ? layer : "";
    l->purl[l->n] = purl ? purl : "";
    l->n++;
    return 0;
  }
  sc_arena *a = l->arena;
  sc_finding *f = &l->v[l->n];
  size_t nal = in->naliases;
  const char **al = sc_arena_alloc(a, (nal ? nal : 1) * sizeof(char *));
  if (!al) return SC_ERR_NOMEM;
  for (size_t i = 0; i < nal; i++)
    if (!(al[i] = sc_arena_strdup(a, in->aliases[i]))) return SC_ERR_NOMEM;
  f->id = sc_arena_strdup(a, in->id);
  f->aliases = al;
  f->naliases = nal;
  f->ecosystem = sc_arena_strdup(a, eco);
  f->package = sc_arena_strdup(a, pkg);
  f->version = sc_arena_strdup(a, version);
  f->fixed_version = sc_arena_strdup(a, fixed);
  f->severity = in->severity;
  f->score = in->score;
  l->layer[l->n] = sc_arena_strdup(a, layer);
  l->purl[l->n] = sc_arena_strdup(a, purl);
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

int sc_finding_list_sort(sc_finding_list *l) {
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
