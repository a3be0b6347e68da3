/* sc_store_images.c - images, tags and repositories (tables
 * images, image_layers, image_children, tags, repo_images), what the
 * matcher reads of them, and the pull gate's blob question.
 * Owner: store.  Thread: the handle's.  Errors: see sc_store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_config.h"
#include "sc_store.h"
#define SC_STORE_SHORT_NAMES /* exec, prep, ... (sc_store_int.h) */
#include "sc_store_int.h"
#include "sc_store_lineage.h"

static int query1(sc_store *st, const char *sql, const char *a, const char *b, char *out, size_t cap);

int sc_store_put_manifest(sc_store *st, const char *repo, const char *tag, const char *digest,
                          const sc_manifest *m, const char *config_json, size_t config_len) {
  return sc_store_put_manifest_ex(st, repo, tag, digest, m, config_json, config_len, NULL);
}

/* The lineage rows of a stored manifest (inside put_manifest's
 * transaction): an image's chain from its config, an index's children.  A
 * config whose diff_ids are not digests leaves the image without a chain
 * (it is nobody's base and has none); only database failures fail. */
static int put_lineage(sc_store *st, const char *digest, const sc_manifest *m, const sc_image_config *cfg) {
  int rv = 0;
  if (m->kind == SC_MANIFEST_IMAGE && cfg) {
    sc_platform p = {cfg->os, cfg->architecture, cfg->variant};
    char plat[SC_LINEAGE_PLATFORM_MAX] = "";
    if (cfg->os || cfg->architecture) sc_platform_str(&p, plat, sizeof(plat));
    rv = sc_store_put_chain(st, digest, SC_ORIGIN_LOCAL, plat, (const char *const *)cfg->diff_ids, cfg->ndiff_ids,
                            m->base_name, m->base_digest);
    if (rv == SC_ERR_ARG || rv == SC_ERR_LIMIT) rv = 0;
  }
  for (size_t i = 0; !rv && m->kind == SC_MANIFEST_INDEX && i < m->nchildren; i++) {
    char plat[SC_LINEAGE_PLATFORM_MAX];
    sc_platform_str(&m->children[i].platform, plat, sizeof(plat));
    rv = sc_store_put_chain_child(st, digest, m->children[i].digest, plat);
    if (rv == SC_ERR_ARG) rv = 0; /* a child digest of another algorithm */
  }
  return rv;
}

/* Inside a write transaction: repo holds digest, and tag (NULL: none)
 * points at it, with a move recorded in the tag history (prev, may be NULL,
 * gets the digest it left).  0 or SC_ERR_DB. */
static int put_repo_tag(sc_store *st, const char *repo, const char *tag, const char *digest, long long now,
                        char *prev) {
  sc_db_stmt *r = NULL, *t = NULL;
  int rv = SC_ERR_DB;
  /* both dialects; a row kept keeps its rowid (sc_store_admin.c orders by it) */
  if (prep(st, "INSERT INTO repo_images (repo, digest, pushed_at) VALUES (?,?,?) ON CONFLICT DO NOTHING", &r) ||
      bind_text(r, 1, repo) || bind_text(r, 2, digest) || sc_db_bind_int64(r, 3, now) || step_done(r))
    goto out;
  char known[72] = "";
  if (tag) {
    int k = query1(st, "SELECT digest FROM tags WHERE repo = ? AND tag = ?", repo, tag, known, sizeof(known));
    if (k != 0 && k != SC_ERR_NOTFOUND) goto out;
  }
  /* an upsert (both dialects), not OR REPLACE's delete and insert: tags has
   * no dependent rows, triggers or rowid readers, so the result is the same */
  if (tag && (prep(st,
                   "INSERT INTO tags (repo, tag, digest, updated_at) VALUES (?,?,?,?)"
                   " ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest,"
                   " updated_at = excluded.updated_at",
                   &t) ||
              bind_text(t, 1, repo) || bind_text(t, 2, tag) || bind_text(t, 3, digest) ||
              sc_db_bind_int64(t, 4, now) || step_done(t)))
    goto out;
  if (tag && sc_digest_valid(digest, 0) && sc_store_tag_moved(st, SC_ORIGIN_LOCAL, repo, tag, digest, known, now, prev))
    goto out;
  rv = 0;
out:
  sc_db_finalize(r);
  sc_db_finalize(t);
  return rv;
}

int sc_store_put_manifest_ex(sc_store *st, const char *repo, const char *tag, const char *digest,
                             const sc_manifest *m, const char *config_json, size_t config_len, char *prev) {
  if (prev) prev[0] = '\0';
  if (!st || !repo || !digest || !m || !sc_digest_valid(digest, 1)) return SC_ERR_ARG;
  if (m->kind != SC_MANIFEST_IMAGE && m->kind != SC_MANIFEST_INDEX) return SC_ERR_ARG;
  sc_image_config cfg;
  int have_cfg = 0;
  memset(&cfg, 0, sizeof(cfg));
  if (config_json && sc_config_parse(config_json, config_len, &cfg) == 0) have_cfg = 1;
  sc_db_stmt *s = NULL, *l = NULL, *c = NULL, *d = NULL;
  long long now = (long long)time(NULL);
  int rv = SC_ERR_DB;
  if (sc_store_begin(st)) {
    sc_config_free(&cfg);
    return SC_ERR_DB;
  }
  if (prep(st, "DELETE FROM images WHERE digest = ?", &d) || bind_text(d, 1, digest) || step_done(d))
    goto out;
  if (prep(st,
           "INSERT INTO images (digest, kind, media_type, config_digest, config_json, created,"
           " runs_as_root, \"user\", os, architecture, variant, stored_at)" /* USER is reserved in PostgreSQL */
           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
           &s))
    goto out;
  int cj = config_json && config_len <= SC_CONFIG_MAX_BYTES;
  if (bind_text(s, 1, digest) || bind_text(s, 2, m->kind == SC_MANIFEST_INDEX ? "index" : "image") ||
      bind_text(s, 3, m->media_type) || bind_text(s, 4, m->config_digest) ||
      (cj ? sc_db_bind_textn(s, 5, config_json, config_len)
          : sc_db_bind_null(s, 5)) ||
      (have_cfg && cfg.created >= 0 ? sc_db_bind_int64(s, 6, cfg.created) : sc_db_bind_null(s, 6)) ||
      (have_cfg ? sc_db_bind_int64(s, 7, cfg.runs_as_root) : sc_db_bind_null(s, 7)) ||
      bind_text(s, 8, have_cfg ? cfg.user : NULL) || bind_text(s, 9, have_cfg ? cfg.os : NULL) ||
      bind_text(s, 10, have_cfg ? cfg.architecture : NULL) ||
      bind_text(s, 11, have_cfg ? cfg.variant : NULL) || sc_db_bind_int64(s, 12, now) ||
      step_done(s))
    goto out;
  if (prep(st, "INSERT INTO image_layers (image, idx, layer, media_type, size) VALUES (?,?,?,?,?)", &l))
    goto out;
  for (size_t i = 0; i < m->nlayers; i++)
    if (bind_text(l, 1, digest) || sc_db_bind_int64(l, 2, (int64_t)i) ||
        bind_text(l, 3, m->layers[i].digest) || bind_text(l, 4, m->layers[i].media_type) ||
        sc_db_bind_int64(l, 5, m->layers[i].size) || step_done(l))
      goto out;
  if (prep(st,
           "INSERT INTO image_children (index_digest, idx, child, media_type, platform)"
           " VALUES (?,?,?,?,?)",
           &c))
    goto out;
  for (size_t i = 0; i < m->nchildren; i++) {
    char plat[256];
    sc_platform_str(&m->children[i].platform, plat, sizeof(plat));
    if (bind_text(c, 1, digest) || sc_db_bind_int64(c, 2, (int64_t)i) ||
        bind_text(c, 3, m->children[i].digest) || bind_text(c, 4, m->children[i].media_type) ||
        bind_text(c, 5, plat) || step_done(c))
      goto out;
  }
  if (put_repo_tag(st, repo, tag, digest, now, prev)) goto out;
  if (sc_digest_valid(digest, 0) && put_lineage(st, digest, m, have_cfg ? &cfg : NULL)) goto out;
  rv = exec(st, "COMMIT");
out:
  sc_db_finalize(d);
  sc_db_finalize(s);
  sc_db_finalize(l);
  sc_db_finalize(c);
  sc_config_free(&cfg);
  if (rv && prev) prev[0] = '\0';
  return rv ? rollback(st, rv) : 0;
}

int sc_store_put_tag(sc_store *st, const char *repo, const char *tag, const char *digest, char *prev) {
  char have[72];
  if (prev) prev[0] = '\0';
  if (!st || !repo || !tag || !digest || !sc_digest_valid(digest, 1)) return SC_ERR_ARG;
  if (sc_store_begin(st)) return SC_ERR_DB;
  int rv = query1(st, "SELECT digest FROM images WHERE digest = ?", digest, NULL, have, sizeof(have));
  if (!rv) rv = put_repo_tag(st, repo, tag, digest, (long long)time(NULL), prev);
  if (!rv) rv = exec(st, "COMMIT");
  if (rv && prev) prev[0] = '\0';
  return rv ? rollback(st, rv) : 0;
}

/* One text value from a query bound with up to two strings. */
static int query1(sc_store *st, const char *sql, const char *a, const char *b, char *out, size_t cap) {
  sc_db_stmt *s;
  if (prep(st, sql, &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, a);
  if (!rv && b) rv = bind_text(s, 2, b);
  if (!rv) {
    int rc = sc_db_step(s);
    if (rc == SC_DB_ROW && sc_db_column_text(s, 0)) copy_col(s, 0, out, cap);
    else rv = rc == SC_DB_ROW || rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sc_db_finalize(s);
  return rv;
}

int sc_store_resolve(sc_store *st, const char *repo, const char *ref, char digest[72]) {
  if (!st || !repo || !ref || !digest) return SC_ERR_ARG;
  if (strchr(ref, ':')) {
    if (!sc_digest_valid(ref, 1) || strlen(ref) >= 72) return SC_ERR_NOTFOUND;
    return query1(st, "SELECT digest FROM images WHERE digest = ?", ref, NULL, digest, 72);
  }
  return query1(st, "SELECT digest FROM tags WHERE repo = ? AND tag = ?", repo, ref, digest, 72);
}

void sc_store_image_free(sc_store_image *img) {
  if (!img) return;
  free(img->media_type);
  free(img->config_digest);
  free(img->os);
  free(img->architecture);
  free(img->user);
  free(img->config_json);
  for (size_t i = 0; i < img->nlayers; i++) free(img->layers[i].error);
  free(img->layers);
  for (size_t i = 0; i < img->nchildren; i++) {
    free(img->children[i]);
    free(img->platforms[i]);
  }
  free(img->children);
  free(img->platforms);
  memset(img, 0, sizeof(*img));
}

static int grow_rows(void **arr, size_t n, size_t *cap, size_t sz) {
  if (n < *cap) return 0;
  if (n >= SC_STORE_MAX_ROWS) return SC_ERR_LIMIT;
  size_t nc = *cap ? *cap * 2 : 16;
  void *p = realloc(*arr, nc * sz);
  if (!p) return SC_ERR_NOMEM;
  *arr = p;
  *cap = nc;
  return 0;
}

int sc_store_get_image(sc_store *st, const char *digest, sc_store_image *out) {
  if (!out) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  if (!st || !digest) return SC_ERR_ARG;
  sc_db_stmt *s;
  int rv, rc;
  if (prep(st,
           "SELECT kind, media_type, config_digest, os, architecture, \"user\", config_json,"
           " created, runs_as_root FROM images WHERE digest = ?",
           &s))
    return SC_ERR_DB;
  if ((rv = bind_text(s, 1, digest))) goto out;
  rc = sc_db_step(s);
  if (rc != SC_DB_ROW) {
    rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
    goto out;
  }
  snprintf(out->digest, sizeof(out->digest), "%s", digest);
  const char *k = sc_db_column_text(s, 0);
  out->kind = k && !strcmp(k, "index") ? SC_MANIFEST_INDEX : SC_MANIFEST_IMAGE;
  out->media_type = col_dup(s, 1, &rv);
  out->config_digest = col_dup(s, 2, &rv);
  out->os = col_dup(s, 3, &rv);
  out->architecture = col_dup(s, 4, &rv);
  out->user = col_dup(s, 5, &rv);
  out->config_json = col_dup(s, 6, &rv);
  out->config_len = out->config_json ? strlen(out->config_json) : 0;
  out->created = sc_db_column_is_null(s, 7) ? -1 : sc_db_column_int64(s, 7);
  out->runs_as_root = sc_db_column_is_null(s, 8) ? -1 : (int)sc_db_column_int64(s, 8);
  sc_db_finalize(s);
  s = NULL;
  if (rv) goto out;

  size_t cap = 0;
  if ((rv = prep(st,
                 "SELECT il.layer, l.status, l.error FROM image_layers il"
                 " LEFT JOIN layers l ON l.digest = il.layer WHERE il.image = ? ORDER BY il.idx",
                 &s)) ||
      (rv = bind_text(s, 1, digest)))
    goto out;
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    if ((rv = grow_rows((void **)&out->layers, out->nlayers, &cap, sizeof(*out->layers)))) goto out;
    sc_store_layer_row *r = &out->layers[out->nlayers++];
    memset(r, 0, sizeof(*r));
    copy_col(s, 0, r->digest, sizeof(r->digest));
    if (sc_db_column_is_null(s, 1)) snprintf(r->status, sizeof(r->status), "missing");
    else copy_col(s, 1, r->status, sizeof(r->status));
    r->error = col_dup(s, 2, &rv);
    if (rv) goto out;
  }
  if (rc != SC_DB_DONE) {
    rv = SC_ERR_DB;
    goto out;
  }
  sc_db_finalize(s);
  s = NULL;

  size_t ccap = 0, pcap = 0;
  if ((rv = prep(st, "SELECT child, platform FROM image_children WHERE index_digest = ? ORDER BY idx",
                 &s)) ||
      (rv = bind_text(s, 1, digest)))
    goto out;
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    if ((rv = grow_rows((void **)&out->children, out->nchildren, &ccap, sizeof(char *))) ||
        (rv = grow_rows((void **)&out->platforms, out->nchildren, &pcap, sizeof(char *))))
      goto out;
    size_t i = out->nchildren++;
    out->children[i] = col_dup(s, 0, &rv);
    out->platforms[i] = col_dup(s, 1, &rv);
    if (rv) goto out;
  }
  if (rc != SC_DB_DONE) rv = SC_ERR_DB;
out:
  sc_db_finalize(s);
  return rv;
}

int sc_store_index_child(sc_store *st, const char *digest, const char *os, const char *arch,
                         char child[72]) {
  if (!st || !digest || !child) return SC_ERR_ARG;
  char want[160];
  snprintf(want, sizeof(want), "%s/%s", os ? os : "%", arch ? arch : "%");
  /* exact os/arch or os/arch/variant first, then the first child; lower()
   * on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not */
  char like[170];
  snprintf(like, sizeof(like), "%s/%%", want);
  sc_db_stmt *s;
  if (prep(st,
           "SELECT child FROM image_children WHERE index_digest = ?1"
           " ORDER BY (lower(platform) LIKE lower(?2) OR lower(platform) LIKE lower(?3)) DESC, idx LIMIT 1",
           &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, digest);
  if (!rv) rv = bind_text(s, 2, want);
  if (!rv) rv = bind_text(s, 3, like);
  if (!rv) {
    int rc = sc_db_step(s);
    if (rc == SC_DB_ROW) copy_col(s, 0, child, 72);
    else rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sc_db_finalize(s);
  return rv;
}

int sc_store_image_inventory(sc_store *st, const char *digest, sc_inventory *out) {
  if (!st || !digest || !out) return SC_ERR_ARG;
  sc_store_image img;
  int rv = sc_store_get_image(st, digest, &img);
  if (!rv && img.kind == SC_MANIFEST_INDEX) rv = SC_ERR_UNSUPP;
  for (size_t i = 0; !rv && i < img.nlayers; i++) {
    sc_inventory layer;
    sc_inventory_init(&layer);
    rv = sc_store_load_layer(st, img.layers[i].digest, &layer);
    if (rv == SC_ERR_NOTFOUND) rv = 0; /* missing: reported by sc_store_missing_layers */
    else if (!rv) rv = sc_inventory_merge(out, &layer);
    sc_inventory_free(&layer);
  }
  if (!rv) rv = sc_inventory_finish(out);
  sc_store_image_free(&img);
  return rv;
}

int sc_store_missing_layers(sc_store *st, const char *digest, sc_strlist *out) {
  if (!st || !digest || !out) return SC_ERR_ARG;
  sc_store_image img;
  int rv = sc_store_get_image(st, digest, &img);
  for (size_t i = 0; !rv && i < img.nlayers; i++)
    if (strcmp(img.layers[i].status, "ok") != 0 && !sc_strlist_has(out, img.layers[i].digest))
      rv = sc_strlist_add(out, img.layers[i].digest);
  sc_store_image_free(&img);
  return rv;
}


/* ---- what the matcher reads ------------------------------------------- */

static const char SQL_IMAGE_KIND[] = "SELECT kind FROM images WHERE digest = ?";
static const char SQL_IMAGE_LAYERS[] = "SELECT layer FROM image_layers WHERE image = ? ORDER BY idx";
int sc_store_image_kind(sc_store *st, const char *digest, int *kind) {
  if (!st || !digest || !kind) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_IMAGE_KIND);
  if (!s) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest) ? SC_ERR_DB : 0;
  int rc = rv ? SC_ERR_DB : sc_db_step(s);
  if (rc == SC_DB_ROW) {
    const char *k = sc_db_column_text(s, 0);
    *kind = k && !strcmp(k, "index") ? SC_MANIFEST_INDEX : SC_MANIFEST_IMAGE;
  } else if (!rv) {
    rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sc_db_reset(s);
  return rv;
}

int sc_store_image_layers(sc_store *st, const char *digest, size_t max, sc_strlist *out) {
  if (!st || !digest || !out) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_IMAGE_LAYERS);
  if (!s) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest) ? SC_ERR_DB : 0, rc = SC_DB_DONE;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    const char *d = sc_db_column_text(s, 0);
    rv = out->n >= max ? SC_ERR_LIMIT : sc_strlist_add(out, d ? d : "");
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_reset(s);
  return rv;
}

/* Streams a query without parameters to cb(arg, text col 0, int col 1). */
static int each2(sc_store *st, const char *sql, int (*cb)(void *, const char *, int64_t), void *arg) {
  sc_db_stmt *s;
  if (prep(st, sql, &s)) return SC_ERR_DB;
  int rv = 0, rc;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    const char *t = sc_db_column_text(s, 0);
    rv = cb(arg, t ? t : "", sc_db_column_int64(s, 1));
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

typedef struct cb1 {
  int (*cb)(void *, const char *);
  void *arg;
} cb1;

static int call1(void *a, const char *t, int64_t n) {
  (void)n;
  const cb1 *c = a;
  return c->cb(c->arg, t);
}

int sc_store_each_image(sc_store *st, int (*cb)(void *arg, const char *digest), void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  cb1 c = {cb, arg};
  return each2(st, "SELECT digest, 0 FROM images WHERE kind = 'image'", call1, &c);
}

int sc_store_each_layer_use(sc_store *st, int (*cb)(void *arg, const char *layer, int64_t nimages), void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  return each2(st,
               "SELECT il.layer, count(*) FROM image_layers il JOIN images i"
               " ON i.digest = il.image AND i.kind = 'image' GROUP BY il.layer",
               cb, arg);
}
/* ---- the gate's question: which images hold a blob ----------------------- */

int sc_store_images_holding_blob(sc_store *st, const char *repo, const char *blob,
                                 int (*cb)(void *arg, const char *repo, const char *image), void *arg) {
  static const char in_repo[] =
      "SELECT DISTINCT r.repo, i.digest FROM images i JOIN repo_images r ON r.digest = i.digest "
      "WHERE r.repo = ?2 AND (i.config_digest = ?1 OR EXISTS "
      "(SELECT 1 FROM image_layers l WHERE l.image = i.digest AND l.layer = ?1)) LIMIT 1000";
  static const char anywhere[] =
      "SELECT DISTINCT r.repo, i.digest FROM images i JOIN repo_images r ON r.digest = i.digest "
      "WHERE i.config_digest = ?1 OR EXISTS "
      "(SELECT 1 FROM image_layers l WHERE l.image = i.digest AND l.layer = ?1) LIMIT 1000";
  _Static_assert(SC_STORE_BLOB_HOLDERS_MAX == 1000, "the LIMIT above");
  if (!st || !blob || !cb) return SC_ERR_ARG;
  sc_db_stmt *q;
  if (prep(st, repo ? in_repo : anywhere, &q)) return SC_ERR_DB;
  /* rows are read first and handed out after: the callback may use the
   * store (the gate judges each image) */
  sc_strlist rows = {0};
  int rv = bind_text(q, 1, blob) || (repo && bind_text(q, 2, repo)) ? SC_ERR_DB : 0, rc = SC_DB_DONE;
  while (!rv && (rc = sc_db_step(q)) == SC_DB_ROW) {
    const char *r = sc_db_column_text(q, 0), *i = sc_db_column_text(q, 1);
    if (!(rv = sc_strlist_add(&rows, r ? r : ""))) rv = sc_strlist_add(&rows, i ? i : "");
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(q);
  for (size_t k = 0; !rv && k + 1 < rows.n; k += 2) rv = cb(arg, rows.v[k], rows.v[k + 1]);
  sc_strlist_free(&rows);
  return rv;
}
