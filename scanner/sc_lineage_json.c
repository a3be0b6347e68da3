/* sc_lineage_json.c - lineage as JSON: findings, the payload of
 * base-image-updated and what `customs lineage` prints (sc_lineage.h).
 * Owner: scanner.  Thread: the store handle's.  Errors: as sc_store.h;
 * builders return NULL when out of memory. */
#include "sc_lineage.h"
#include "sc_lineage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_cvss.h"

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
  sc_lin_set fresh;
  int rv = !o || !imgs ? SC_ERR_NOMEM : 0;
  /* images built on the new base too (a new base on top of the old one, an
   * application already rebuilt) need no rebuild */
  memset(&fresh, 0, sizeof(fresh));
  if (!rv) rv = sc_lin_built_on(st, new_digest, &fresh);
  if (!rv) rv = sc_lin_downstream(st, old_digest, &fresh, add_image, imgs);
  if (rv == SC_ERR_LIMIT) rv = 0; /* the first SC_LINEAGE_MAX_DOWNSTREAM are named */
  sc_lin_set_free(&fresh);
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

/* One former digest of the tag: its stay, and the images still on it (not
 * also on the tag's current digest). */
typedef struct hist_ctx {
  sc_store *st;
  json_t *arr;
  const sc_lin_set *fresh;
  int rv;
} hist_ctx;

static int hist_row(void *arg, const sc_tag_move *m) {
  hist_ctx *h = arg;
  json_t *imgs = json_array();
  json_t *o = json_pack("{s:s, s:I, s:o}", "digest", m->digest, "at", (json_int_t)m->at, "until",
                        m->until ? json_integer(m->until) : json_null());
  int rv = !o || !imgs ? SC_ERR_NOMEM : 0;
  if (!rv && m->until) rv = sc_lin_downstream(h->st, m->digest, h->fresh, add_image, imgs);
  if (rv == SC_ERR_LIMIT) rv = 0;
  if (!rv) rv = sort_images(imgs);
  if (!rv && (json_object_set(o, "images_on_it", imgs) || json_array_append(h->arr, o))) rv = SC_ERR_NOMEM;
  json_decref(imgs);
  json_decref(o);
  return h->rv = rv;
}

/* "history" of repo:tag (newest first): every digest it pointed at, and for
 * the digests it left, the images still built on them. */
static int tag_history(sc_store *st, int origin, const char *repo, const char *tag, const char *current, json_t *o) {
  sc_lin_set fresh;
  memset(&fresh, 0, sizeof(fresh));
  hist_ctx h = {st, json_array(), &fresh, 0};
  int rv = h.arr ? sc_lin_built_on(st, current, &fresh) : SC_ERR_NOMEM;
  if (rv == SC_ERR_LIMIT) rv = 0;
  if (!rv) rv = sc_store_tag_history(st, origin, repo, tag, SC_LINEAGE_MAX_HISTORY, hist_row, &h);
  if (!rv && json_object_set(o, "history", h.arr)) rv = SC_ERR_NOMEM;
  sc_lin_set_free(&fresh);
  json_decref(h.arr);
  return rv;
}

/* repo:ref as customs knows it: a local tag or image, else a watched tag
 * (repo "host[:port]/path") or a recorded chain (a watched image). */
static int resolve(sc_store *st, const char *repo, const char *ref, char digest[72], int *origin) {
  *origin = SC_ORIGIN_LOCAL;
  int rv = sc_store_resolve(st, repo, ref, digest);
  if (rv != SC_ERR_NOTFOUND) return rv;
  if (!strchr(ref, ':')) {
    *origin = SC_ORIGIN_WATCH;
    return sc_store_tag_current(st, SC_ORIGIN_WATCH, repo, ref, digest);
  }
  char image[72];
  if ((rv = sc_lineage_image_for(st, ref, NULL, image))) return rv;
  if (!image[0]) return SC_ERR_NOTFOUND;
  snprintf(digest, 72, "%s", ref);
  *origin = SC_ORIGIN_WATCH;
  return 0;
}

int sc_lineage_describe(sc_store *st, const char *repo, const char *ref, int64_t now, json_t **out) {
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!st || !repo || !ref) return SC_ERR_ARG;
  char digest[72], image[72];
  int origin, is_tag = !strchr(ref, ':');
  int rv = resolve(st, repo, ref, digest, &origin);
  if (rv) return rv;
  /* an index: the lineage of its first image (all children of one index
   * are built the same way) */
  if ((rv = sc_lineage_image_for(st, digest, NULL, image))) return rv;
  if (!image[0]) snprintf(image, sizeof(image), "%s", digest);
  sc_lineage_base chain[SC_LINEAGE_MAX_DEPTH];
  size_t n = 0;
  if ((rv = sc_lineage_chain(st, image, chain, SC_LINEAGE_MAX_DEPTH, &n))) return rv;
  json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s}", "repository", repo, "tag", is_tag ? json_string(ref) : json_null(),
                        "digest", digest, "image", image, "origin", sc_origin_name(origin));
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
  if (!rv && is_tag) rv = tag_history(st, origin, repo, ref, digest, o);
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
