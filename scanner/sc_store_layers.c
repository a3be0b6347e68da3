/* sc_store_layers.c - layers in SQLite: one row per scanned layer with its
 * inventory (tables layers, layer_packages, layer_secrets, layer_paths).
 * Owner: store.  Thread: the handle's.  Errors: see sc_store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_store.h"
#define SC_STORE_SHORT_NAMES /* exec, prep, ... (sc_store_int.h) */
#include "sc_store_int.h"

static int put_paths(sc_db_stmt *s, const char *digest, const char *kind, const sc_strlist *l) {
  for (size_t i = 0; i < l->n; i++) {
    if (bind_text(s, 1, digest) || bind_text(s, 2, kind) ||
        sc_db_bind_int64(s, 3, (int64_t)i) || bind_text(s, 4, l->v[i]) ||
        step_done(s))
      return SC_ERR_DB;
  }
  return 0;
}

static const char *status_name(const sc_layer_result *res) {
  if (!res || res->status == 0) return "ok";
  return res->status == SC_ERR_IO ? "partial" : "failed";
}

int sc_store_put_layer(sc_store *st, const char *digest, const sc_layer_result *res,
                       const sc_inventory *inv) {
  if (!st || !digest || !inv || !sc_digest_valid(digest, 1)) return SC_ERR_ARG;
  sc_db_stmt *s = NULL, *p = NULL, *x = NULL, *w = NULL, *d = NULL;
  int rv = SC_ERR_DB;
  if (sc_store_begin(st)) return SC_ERR_DB;
  /* explicit delete: children go by cascade, then a fresh row */
  if (prep(st, "DELETE FROM layers WHERE digest = ?", &d) || bind_text(d, 1, digest) || step_done(d))
    goto out;
  if (prep(st,
           "INSERT INTO layers (digest, diff_id, compression, size, uncompressed_size, entries,"
           " status, error, scanned_at, os_id, os_version_id, os_path)"
           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
           &s))
    goto out;
  const char *err = res && res->status && res->error[0] ? res->error : NULL;
  if (bind_text(s, 1, digest) || bind_text(s, 2, res && res->diff_id[0] ? res->diff_id : NULL) ||
      bind_text(s, 3, res && res->compression[0] ? res->compression : NULL) ||
      sc_db_bind_int64(s, 4, res ? (int64_t)res->compressed_size : 0) ||
      sc_db_bind_int64(s, 5, res ? (int64_t)res->uncompressed_size : 0) ||
      sc_db_bind_int64(s, 6, res ? (int64_t)res->entries : 0) ||
      bind_text(s, 7, status_name(res)) || bind_text(s, 8, err) ||
      sc_db_bind_int64(s, 9, (int64_t)time(NULL)) || bind_text(s, 10, inv->os.id) ||
      bind_text(s, 11, inv->os.version_id) || bind_text(s, 12, inv->os.path) || step_done(s))
    goto out;
  if (prep(st,
           "INSERT INTO layer_packages (layer, seq, type, ecosystem, name, version, source_name,"
           " source_version, path, purl) VALUES (?,?,?,?,?,?,?,?,?,?)",
           &p))
    goto out;
  for (size_t i = 0; i < inv->npkgs; i++) {
    const sc_package *k = &inv->pkgs[i];
    if (bind_text(p, 1, digest) || sc_db_bind_int64(p, 2, (int64_t)i) ||
        bind_text(p, 3, k->type) || bind_text(p, 4, k->ecosystem) || bind_text(p, 5, k->name) ||
        bind_text(p, 6, k->version) || bind_text(p, 7, k->source_name) ||
        bind_text(p, 8, k->source_version) || bind_text(p, 9, k->path) ||
        bind_text(p, 10, k->purl) || step_done(p))
      goto out;
  }
  if (prep(st, "INSERT INTO layer_secrets (layer, seq, path, rule, line) VALUES (?,?,?,?,?)", &x))
    goto out;
  for (size_t i = 0; i < inv->nsecrets; i++) {
    const sc_secret *k = &inv->secrets[i];
    if (bind_text(x, 1, digest) || sc_db_bind_int64(x, 2, (int64_t)i) ||
        bind_text(x, 3, k->path) || bind_text(x, 4, k->rule) || sc_db_bind_int64(x, 5, k->line) ||
        step_done(x))
      goto out;
  }
  if (prep(st, "INSERT INTO layer_paths (layer, kind, seq, path) VALUES (?,?,?,?)", &w) ||
      put_paths(w, digest, "cataloged", &inv->cataloged) ||
      put_paths(w, digest, "whiteout", &inv->whiteouts) ||
      put_paths(w, digest, "opaque", &inv->opaque) || put_paths(w, digest, "note", &inv->notes))
    goto out;
  rv = exec(st, "COMMIT");
out:
  sc_db_finalize(d);
  sc_db_finalize(s);
  sc_db_finalize(p);
  sc_db_finalize(x);
  sc_db_finalize(w);
  return rv ? rollback(st, rv) : 0;
}

int sc_store_layer_status(sc_store *st, const char *digest, char status[16]) {
  if (!st || !digest || !status) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "SELECT status FROM layers WHERE digest = ?", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest);
  if (!rv) {
    int rc = sc_db_step(s);
    if (rc == SC_DB_ROW) copy_col(s, 0, status, 16);
    else rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sc_db_finalize(s);
  return rv;
}

int sc_store_layer_by_diff_id(sc_store *st, const char *diff_id, char digest[72]) {
  if (!st || !diff_id || !digest) return SC_ERR_ARG;
  sc_db_stmt *s;
  digest[0] = '\0';
  /* index layers_diff_id (schema 8) */
  if (prep(st, "SELECT digest FROM layers WHERE diff_id = ? AND status = 'ok' ORDER BY digest LIMIT 1", &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, diff_id);
  if (!rv) {
    int rc = sc_db_step(s);
    if (rc == SC_DB_ROW) copy_col(s, 0, digest, 72);
    else rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sc_db_finalize(s);
  return rv;
}

/* Steps a one-column-bound query; calls row(s, inv) for each row. */
static int each_row(sc_store *st, const char *sql, const char *digest,
                    int (*row)(sc_db_stmt *, sc_inventory *), sc_inventory *inv) {
  sc_db_stmt *s;
  if (prep(st, sql, &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest), rc, n = 0;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    if (++n > SC_STORE_MAX_ROWS) rv = SC_ERR_LIMIT;
    else rv = row(s, inv);
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

static int row_pkg(sc_db_stmt *s, sc_inventory *inv) {
#define T(i) (sc_db_column_text(s, i))
  sc_package p = {(char *)T(0), (char *)T(1), (char *)T(2), (char *)T(3),
                  (char *)T(4), (char *)T(5), (char *)T(6), (char *)T(7)};
  return sc_inventory_add_package(inv, &p);
}

static int row_secret(sc_db_stmt *s, sc_inventory *inv) {
  return sc_inventory_add_secret(inv, T(0), T(1), (int)sc_db_column_int64(s, 2));
}

static int row_path(sc_db_stmt *s, sc_inventory *inv) {
  const char *kind = T(0), *path = T(1);
  if (!kind || !path) return 0;
  sc_strlist *l = !strcmp(kind, "cataloged")  ? &inv->cataloged
                  : !strcmp(kind, "whiteout") ? &inv->whiteouts
                  : !strcmp(kind, "opaque")   ? &inv->opaque
                  : !strcmp(kind, "note")     ? &inv->notes
                                              : NULL;
  return l ? sc_strlist_add(l, path) : 0;
}

int sc_store_load_layer(sc_store *st, const char *digest, sc_inventory *inv) {
  if (!st || !digest || !inv) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "SELECT os_id, os_version_id, os_path FROM layers WHERE digest = ?", &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, digest);
  if (!rv) {
    int rc = sc_db_step(s);
    if (rc == SC_DB_ROW) {
      if (T(0) || T(1)) rv = sc_inventory_set_os(inv, T(0), T(1), T(2));
    } else {
      rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
    }
  }
  sc_db_finalize(s);
  if (rv) return rv;
  if ((rv = each_row(st,
                     "SELECT type, ecosystem, name, version, source_name, source_version, path,"
                     " purl FROM layer_packages WHERE layer = ? ORDER BY seq",
                     digest, row_pkg, inv)) ||
      (rv = each_row(st, "SELECT path, rule, line FROM layer_secrets WHERE layer = ? ORDER BY seq",
                     digest, row_secret, inv)) ||
      (rv = each_row(st, "SELECT kind, path FROM layer_paths WHERE layer = ? ORDER BY kind, seq",
                     digest, row_path, inv)))
    return rv;
  return 0;
}
#undef T

/* ---- what the matcher reads (hot: cached statements) ------------------- */

static const char SQL_LAYER_OS[] = "SELECT os_id, os_version_id, os_path FROM layers WHERE digest = ?";
static const char SQL_LAYER_PKGS[] =
    "SELECT type, ecosystem, name, version, source_name, source_version, path, purl"
    " FROM layer_packages WHERE layer = ? ORDER BY seq";
static const char SQL_LAYER_HIDING_PATHS[] =
    "SELECT kind, path FROM layer_paths WHERE layer = ?"
    " AND kind IN ('cataloged', 'whiteout', 'opaque') ORDER BY kind, seq";

/* Steps a cached statement bound with digest; row(s, inv) per row. */
static int cached_rows(sc_store *st, const char *sql, const char *digest,
                       int (*row)(sc_db_stmt *, sc_inventory *), sc_inventory *inv) {
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest) ? SC_ERR_DB : 0, rc = SC_DB_DONE;
  size_t n = 0;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) rv = ++n > SC_STORE_MAX_ROWS ? SC_ERR_LIMIT : row(s, inv);
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_reset(s);
  return rv;
}

int sc_store_load_layer_contents(sc_store *st, const char *digest, sc_inventory *inv) {
  if (!st || !digest || !inv) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_LAYER_OS);
  if (!s) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest) ? SC_ERR_DB : 0;
  int rc = rv ? SC_ERR_DB : sc_db_step(s);
#define T(i) (sc_db_column_text(s, i))
  if (rc == SC_DB_ROW) {
    if (T(0) || T(1)) rv = sc_inventory_set_os(inv, T(0), T(1), T(2));
  } else if (!rv) {
    rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
#undef T
  sc_db_reset(s);
  if (rv) return rv;
  /* row_path's "note" branch never runs: the query leaves notes out */
  if ((rv = cached_rows(st, SQL_LAYER_PKGS, digest, row_pkg, inv)) ||
      (rv = cached_rows(st, SQL_LAYER_HIDING_PATHS, digest, row_path, inv)))
    return rv;
  return 0;
}
