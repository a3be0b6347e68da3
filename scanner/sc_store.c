/* sc_store.c - SQLite store: schema migrations, layers, images, tags. */
#include "sc_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_config.h"

struct sc_store {
  sqlite3 *db;
  int version;
};

/* Migrations, applied in order; migration i brings the schema to version
 * i+1.  Append-only: never edit a step that has shipped, add a new one
 * (vulnerabilities, findings, decisions come in later steps). */
static const char *const migrations[] = {
    /* 1: layers, images, tags */
    "CREATE TABLE layers ("
    " digest TEXT PRIMARY KEY, diff_id TEXT, compression TEXT, size INTEGER,"
    " uncompressed_size INTEGER, entries INTEGER,"
    " status TEXT NOT NULL CHECK (status IN ('ok','failed','partial')), error TEXT,"
    " scanned_at INTEGER NOT NULL, os_id TEXT, os_version_id TEXT, os_path TEXT);"
    "CREATE TABLE layer_packages ("
    " layer TEXT NOT NULL REFERENCES layers(digest) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " type TEXT, ecosystem TEXT, name TEXT, version TEXT, source_name TEXT,"
    " source_version TEXT, path TEXT, purl TEXT, PRIMARY KEY (layer, seq));"
    "CREATE INDEX layer_packages_name ON layer_packages(name);"
    "CREATE TABLE layer_secrets ("
    " layer TEXT NOT NULL REFERENCES layers(digest) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " path TEXT, rule TEXT, line INTEGER, PRIMARY KEY (layer, seq));"
    /* kind: cataloged | whiteout | opaque | note (what a re-merge needs) */
    "CREATE TABLE layer_paths ("
    " layer TEXT NOT NULL REFERENCES layers(digest) ON DELETE CASCADE, kind TEXT NOT NULL,"
    " seq INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (layer, kind, seq));"
    "CREATE TABLE images ("
    " digest TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('image','index')),"
    " media_type TEXT, config_digest TEXT, config_json TEXT, created INTEGER,"
    " runs_as_root INTEGER, user TEXT, os TEXT, architecture TEXT, variant TEXT,"
    " stored_at INTEGER NOT NULL);"
    "CREATE TABLE image_layers ("
    " image TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    " layer TEXT NOT NULL, media_type TEXT, size INTEGER, PRIMARY KEY (image, idx));"
    "CREATE INDEX image_layers_layer ON image_layers(layer);"
    "CREATE TABLE image_children ("
    " index_digest TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL, child TEXT NOT NULL, media_type TEXT, platform TEXT,"
    " PRIMARY KEY (index_digest, idx));"
    "CREATE TABLE tags ("
    " repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (repo, tag));"
    "CREATE TABLE repo_images ("
    " repo TEXT NOT NULL, digest TEXT NOT NULL, pushed_at INTEGER NOT NULL,"
    " PRIMARY KEY (repo, digest));",
    /* 2: vulnerability data (sc_osv) and per-image findings (sc_match).
     * vulns.sev_own/score_own come from the record itself; severity/score
     * are the effective values (own, else borrowed through an alias).
     * vuln_affected.ranges is compact JSON: [["E"|"S", "i0", "f1.2", ...]]
     * (event kind letter i/f/l/m + version).  vuln_aliases holds every
     * alias plus the id itself, so "shares an alias" is one self-join. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
    "INSERT INTO meta VALUES ('vulndb_generation', 0);"
    "CREATE TABLE vuln_sources ("
    " name TEXT PRIMARY KEY, imported_at INTEGER NOT NULL, added INTEGER, updated INTEGER,"
    " unchanged INTEGER, withdrawn INTEGER, malformed INTEGER);"
    "CREATE TABLE vulns ("
    " id TEXT PRIMARY KEY, modified TEXT NOT NULL, aliases TEXT, sev_own INTEGER NOT NULL,"
    " score_own REAL NOT NULL, severity INTEGER NOT NULL, score REAL NOT NULL, source TEXT);"
    "CREATE TABLE vuln_aliases ("
    " vuln TEXT NOT NULL REFERENCES vulns(id) ON DELETE CASCADE, alias TEXT NOT NULL,"
    " PRIMARY KEY (vuln, alias));"
    "CREATE INDEX vuln_aliases_alias ON vuln_aliases(alias);"
    "CREATE TABLE vuln_affected ("
    " vuln TEXT NOT NULL REFERENCES vulns(id) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " ecosystem TEXT NOT NULL, name TEXT NOT NULL, severity INTEGER NOT NULL,"
    " ranges TEXT, versions TEXT, PRIMARY KEY (vuln, seq));"
    "CREATE INDEX vuln_affected_pkg ON vuln_affected(ecosystem, name);"
    "CREATE TABLE findings ("
    " image TEXT NOT NULL, seq INTEGER NOT NULL, vuln TEXT NOT NULL, aliases TEXT,"
    " package TEXT, version TEXT, fixed TEXT, severity INTEGER, score REAL, ecosystem TEXT,"
    " layer TEXT, purl TEXT, generation INTEGER NOT NULL, PRIMARY KEY (image, seq));"
    "CREATE TABLE matched_images ("
    " image TEXT PRIMARY KEY, generation INTEGER NOT NULL, matched_at INTEGER NOT NULL);",
    /* 3: findings clustered by image (WITHOUT ROWID: one b-tree, half the
     * writes of a re-match) and a hash of each image's findings so that a
     * re-match rewrites only the images whose findings changed.  Findings
     * are derived data: dropping them makes every image match again. */
    "DROP TABLE findings;"
    "CREATE TABLE findings ("
    " image TEXT NOT NULL, seq INTEGER NOT NULL, vuln TEXT NOT NULL, aliases TEXT,"
    " package TEXT, version TEXT, fixed TEXT, severity INTEGER, score REAL, ecosystem TEXT,"
    " layer TEXT, purl TEXT, generation INTEGER NOT NULL, PRIMARY KEY (image, seq)) WITHOUT ROWID;"
    "DELETE FROM matched_images;"
    "ALTER TABLE matched_images ADD COLUMN fhash INTEGER;",
    /* 4: findings per (layer, OS) instead of per image.  A package's
     * findings depend only on the package and the image's OS, so each
     * layer's set is stored once (one JSON row: [[seq, name, version,
     * ecosystem, purl, [[vuln, fixed, severity, score], ...]], ...]) and
     * shared by every image on that layer; an image row names its OS key
     * and the [[layer idx, package seq], ...] an upper layer hides.  The
     * view `findings` expands them with the old columns. */
    "DROP TABLE findings;"
    "DELETE FROM matched_images;"
    "ALTER TABLE matched_images ADD COLUMN os TEXT;"
    "ALTER TABLE matched_images ADD COLUMN hidden TEXT;"
    "CREATE TABLE layer_findings ("
    " layer TEXT NOT NULL, os TEXT NOT NULL, generation INTEGER NOT NULL, fhash INTEGER NOT NULL,"
    " nfindings INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (layer, os));"
    "CREATE VIEW findings AS SELECT m.image AS image,"
    " il.idx * 1048576 + p.key * 1024 + h.key AS seq, json_extract(h.value, '$[0]') AS vuln,"
    " NULL AS aliases, json_extract(p.value, '$[1]') AS package,"
    " json_extract(p.value, '$[2]') AS version, json_extract(h.value, '$[1]') AS fixed,"
    " json_extract(h.value, '$[2]') AS severity, json_extract(h.value, '$[3]') AS score,"
    " json_extract(p.value, '$[3]') AS ecosystem, il.layer AS layer,"
    " json_extract(p.value, '$[4]') AS purl, m.generation AS generation"
    " FROM matched_images m JOIN image_layers il ON il.image = m.image"
    " JOIN layer_findings lf ON lf.layer = il.layer AND lf.os = m.os"
    " JOIN json_each(lf.data) p JOIN json_each(p.value, '$[5]') h"
    " WHERE NOT EXISTS (SELECT 1 FROM json_each(m.hidden) x WHERE json_extract(x.value, '$[0]') = il.idx"
    " AND json_extract(x.value, '$[1]') = json_extract(p.value, '$[0]'));",
    /* 5: whether a finding was matched by caution.  A version the
     * comparator cannot parse is counted as affected (sc_match), and
     * `customs report` and the gate, which read stored findings, must be
     * able to say so: a stored hit gains a 5th item, 1 when matched by
     * caution (absent otherwise, so older sets still read as sure).  Sets
     * stored before this step may hold such findings without the mark: they
     * are derived data, so they are dropped and every image matches again
     * on its next read or re-match.  The view `findings` gains `unsure`. */
    "DELETE FROM layer_findings;"
    "DELETE FROM matched_images;"
    "DROP VIEW findings;"
    "CREATE VIEW findings AS SELECT m.image AS image,"
    " il.idx * 1048576 + p.key * 1024 + h.key AS seq, json_extract(h.value, '$[0]') AS vuln,"
    " NULL AS aliases, json_extract(p.value, '$[1]') AS package,"
    " json_extract(p.value, '$[2]') AS version, json_extract(h.value, '$[1]') AS fixed,"
    " json_extract(h.value, '$[2]') AS severity, json_extract(h.value, '$[3]') AS score,"
    " json_extract(p.value, '$[3]') AS ecosystem, il.layer AS layer,"
    " json_extract(p.value, '$[4]') AS purl, m.generation AS generation,"
    " coalesce(json_extract(h.value, '$[4]'), 0) != 0 AS unsure"
    " FROM matched_images m JOIN image_layers il ON il.image = m.image"
    " JOIN layer_findings lf ON lf.layer = il.layer AND lf.os = m.os"
    " JOIN json_each(lf.data) p JOIN json_each(p.value, '$[5]') h"
    " WHERE NOT EXISTS (SELECT 1 FROM json_each(m.hidden) x WHERE json_extract(x.value, '$[0]') = il.idx"
    " AND json_extract(x.value, '$[1]') = json_extract(p.value, '$[0]'));",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int exec(sc_store *st, const char *sql) {
  return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : SC_ERR_DB;
}

static int prep(sc_store *st, const char *sql, sqlite3_stmt **s) {
  return sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK ? 0 : SC_ERR_DB;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v) {
  int rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
  return rc == SQLITE_OK ? 0 : SC_ERR_DB;
}

/* Runs a fully bound statement that returns no rows, then resets it. */
static int step_done(sqlite3_stmt *s) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return rc == SQLITE_DONE ? 0 : SC_ERR_DB;
}

static char *col_dup(sqlite3_stmt *s, int i, int *err) {
  const unsigned char *t = sqlite3_column_text(s, i);
  if (!t) return NULL;
  char *d = strdup((const char *)t);
  if (!d) *err = SC_ERR_NOMEM;
  return d;
}

static void copy_col(sqlite3_stmt *s, int i, char *out, size_t cap) {
  const unsigned char *t = sqlite3_column_text(s, i);
  snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static int read_version(sc_store *st, int *v) {
  sqlite3_stmt *s;
  *v = 0;
  if (prep(st, "SELECT max(version) FROM schema_version", &s)) return SC_ERR_DB;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) *v = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : SC_ERR_DB;
}

static int migrate(sc_store *st) {
  if (exec(st, "CREATE TABLE IF NOT EXISTS schema_version ("
               " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"))
    return SC_ERR_DB;
  for (;;) {
    int v;
    /* IMMEDIATE: a concurrent opener waits (busy_timeout) instead of
     * applying the same step twice; the version is re-read under the lock. */
    if (exec(st, "BEGIN IMMEDIATE")) return SC_ERR_DB;
    if (read_version(st, &v)) goto fail;
    if (v >= NMIGRATIONS) {
      st->version = v;
      return exec(st, "COMMIT");
    }
    if (exec(st, migrations[v])) goto fail;
    char sql[128];
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, %lld)", v + 1,
             (long long)time(NULL));
    if (exec(st, sql) || exec(st, "COMMIT")) goto fail;
  }
fail:
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return SC_ERR_DB;
}

int sc_store_open(const char *path, sc_store **out) {
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!path) return SC_ERR_ARG;
  sc_store *st = calloc(1, sizeof(*st));
  if (!st) return SC_ERR_NOMEM;
  int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_close(st->db);
    free(st);
    return rc == SQLITE_NOMEM ? SC_ERR_NOMEM : SC_ERR_DB;
  }
  sqlite3_busy_timeout(st->db, 10000);
  /* journal_mode returns a row: run it through exec, ignore the result
   * (":memory:" stays "memory") */
  if (exec(st, "PRAGMA journal_mode=WAL") || exec(st, "PRAGMA foreign_keys=ON") ||
      exec(st, "PRAGMA synchronous=NORMAL") || migrate(st)) {
    sc_store_close(st);
    return SC_ERR_DB;
  }
  *out = st;
  return 0;
}

void sc_store_close(sc_store *st) {
  if (!st) return;
  sqlite3_close(st->db);
  free(st);
}

const char *sc_store_errmsg(sc_store *st) { return st ? sqlite3_errmsg(st->db) : "no store"; }
struct sqlite3 *sc_store_db(sc_store *st) { return st ? st->db : NULL; }
int sc_store_schema_version(sc_store *st) { return st ? st->version : 0; }

static int rollback(sc_store *st, int rv) {
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rv;
}

/* ---- layers ---------------------------------------------------------- */

static int put_paths(sqlite3_stmt *s, const char *digest, const char *kind, const sc_strlist *l) {
  for (size_t i = 0; i < l->n; i++) {
    if (bind_text(s, 1, digest) || bind_text(s, 2, kind) ||
        sqlite3_bind_int64(s, 3, (sqlite3_int64)i) != SQLITE_OK || bind_text(s, 4, l->v[i]) ||
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
  sqlite3_stmt *s = NULL, *p = NULL, *x = NULL, *w = NULL, *d = NULL;
  int rv = SC_ERR_DB;
  if (exec(st, "BEGIN IMMEDIATE")) return SC_ERR_DB;
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
      sqlite3_bind_int64(s, 4, res ? (sqlite3_int64)res->compressed_size : 0) ||
      sqlite3_bind_int64(s, 5, res ? (sqlite3_int64)res->uncompressed_size : 0) ||
      sqlite3_bind_int64(s, 6, res ? (sqlite3_int64)res->entries : 0) ||
      bind_text(s, 7, status_name(res)) || bind_text(s, 8, err) ||
      sqlite3_bind_int64(s, 9, (sqlite3_int64)time(NULL)) || bind_text(s, 10, inv->os.id) ||
      bind_text(s, 11, inv->os.version_id) || bind_text(s, 12, inv->os.path) || step_done(s))
    goto out;
  if (prep(st,
           "INSERT INTO layer_packages (layer, seq, type, ecosystem, name, version, source_name,"
           " source_version, path, purl) VALUES (?,?,?,?,?,?,?,?,?,?)",
           &p))
    goto out;
  for (size_t i = 0; i < inv->npkgs; i++) {
    const sc_package *k = &inv->pkgs[i];
    if (bind_text(p, 1, digest) || sqlite3_bind_int64(p, 2, (sqlite3_int64)i) ||
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
    if (bind_text(x, 1, digest) || sqlite3_bind_int64(x, 2, (sqlite3_int64)i) ||
        bind_text(x, 3, k->path) || bind_text(x, 4, k->rule) || sqlite3_bind_int(x, 5, k->line) ||
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
  sqlite3_finalize(d);
  sqlite3_finalize(s);
  sqlite3_finalize(p);
  sqlite3_finalize(x);
  sqlite3_finalize(w);
  return rv ? rollback(st, rv) : 0;
}

int sc_store_layer_status(sc_store *st, const char *digest, char status[16]) {
  if (!st || !digest || !status) return SC_ERR_ARG;
  sqlite3_stmt *s;
  if (prep(st, "SELECT status FROM layers WHERE digest = ?", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest);
  if (!rv) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) copy_col(s, 0, status, 16);
    else rv = rc == SQLITE_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sqlite3_finalize(s);
  return rv;
}

/* Steps a one-column-bound query; calls row(s, inv) for each row. */
static int each_row(sc_store *st, const char *sql, const char *digest,
                    int (*row)(sqlite3_stmt *, sc_inventory *), sc_inventory *inv) {
  sqlite3_stmt *s;
  if (prep(st, sql, &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest), rc, n = 0;
  while (!rv && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (++n > SC_STORE_MAX_ROWS) rv = SC_ERR_LIMIT;
    else rv = row(s, inv);
  }
  if (!rv && rc != SQLITE_DONE) rv = SC_ERR_DB;
  sqlite3_finalize(s);
  return rv;
}

static int row_pkg(sqlite3_stmt *s, sc_inventory *inv) {
#define T(i) ((const char *)sqlite3_column_text(s, i))
  sc_package p = {(char *)T(0), (char *)T(1), (char *)T(2), (char *)T(3),
                  (char *)T(4), (char *)T(5), (char *)T(6), (char *)T(7)};
  return sc_inventory_add_package(inv, &p);
}

static int row_secret(sqlite3_stmt *s, sc_inventory *inv) {
  return sc_inventory_add_secret(inv, T(0), T(1), sqlite3_column_int(s, 2));
}

static int row_path(sqlite3_stmt *s, sc_inventory *inv) {
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
  sqlite3_stmt *s;
  if (prep(st, "SELECT os_id, os_version_id, os_path FROM layers WHERE digest = ?", &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, digest);
  if (!rv) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      if (T(0) || T(1)) rv = sc_inventory_set_os(inv, T(0), T(1), T(2));
    } else {
      rv = rc == SQLITE_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
    }
  }
  sqlite3_finalize(s);
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

/* ---- images, tags ---------------------------------------------------- */

int sc_store_put_manifest(sc_store *st, const char *repo, const char *tag, const char *digest,
                          const sc_manifest *m, const char *config_json, size_t config_len) {
  if (!st || !repo || !digest || !m || !sc_digest_valid(digest, 1)) return SC_ERR_ARG;
  if (m->kind != SC_MANIFEST_IMAGE && m->kind != SC_MANIFEST_INDEX) return SC_ERR_ARG;
  sc_image_config cfg;
  int have_cfg = 0;
  memset(&cfg, 0, sizeof(cfg));
  if (config_json && sc_config_parse(config_json, config_len, &cfg) == 0) have_cfg = 1;
  sqlite3_stmt *s = NULL, *l = NULL, *c = NULL, *t = NULL, *r = NULL, *d = NULL;
  long long now = (long long)time(NULL);
  int rv = SC_ERR_DB;
  if (exec(st, "BEGIN IMMEDIATE")) {
    sc_config_free(&cfg);
    return SC_ERR_DB;
  }
  if (prep(st, "DELETE FROM images WHERE digest = ?", &d) || bind_text(d, 1, digest) || step_done(d))
    goto out;
  if (prep(st,
           "INSERT INTO images (digest, kind, media_type, config_digest, config_json, created,"
           " runs_as_root, user, os, architecture, variant, stored_at)"
           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
           &s))
    goto out;
  int cj = config_json && config_len <= SC_CONFIG_MAX_BYTES;
  if (bind_text(s, 1, digest) || bind_text(s, 2, m->kind == SC_MANIFEST_INDEX ? "index" : "image") ||
      bind_text(s, 3, m->media_type) || bind_text(s, 4, m->config_digest) ||
      (cj ? sqlite3_bind_text(s, 5, config_json, (int)config_len, SQLITE_TRANSIENT)
          : sqlite3_bind_null(s, 5)) ||
      (have_cfg && cfg.created >= 0 ? sqlite3_bind_int64(s, 6, cfg.created) : sqlite3_bind_null(s, 6)) ||
      (have_cfg ? sqlite3_bind_int(s, 7, cfg.runs_as_root) : sqlite3_bind_null(s, 7)) ||
      bind_text(s, 8, have_cfg ? cfg.user : NULL) || bind_text(s, 9, have_cfg ? cfg.os : NULL) ||
      bind_text(s, 10, have_cfg ? cfg.architecture : NULL) ||
      bind_text(s, 11, have_cfg ? cfg.variant : NULL) || sqlite3_bind_int64(s, 12, now) ||
      step_done(s))
    goto out;
  if (prep(st, "INSERT INTO image_layers (image, idx, layer, media_type, size) VALUES (?,?,?,?,?)", &l))
    goto out;
  for (size_t i = 0; i < m->nlayers; i++)
    if (bind_text(l, 1, digest) || sqlite3_bind_int64(l, 2, (sqlite3_int64)i) ||
        bind_text(l, 3, m->layers[i].digest) || bind_text(l, 4, m->layers[i].media_type) ||
        sqlite3_bind_int64(l, 5, m->layers[i].size) || step_done(l))
      goto out;
  if (prep(st,
           "INSERT INTO image_children (index_digest, idx, child, media_type, platform)"
           " VALUES (?,?,?,?,?)",
           &c))
    goto out;
  for (size_t i = 0; i < m->nchildren; i++) {
    char plat[256];
    sc_platform_str(&m->children[i].platform, plat, sizeof(plat));
    if (bind_text(c, 1, digest) || sqlite3_bind_int64(c, 2, (sqlite3_int64)i) ||
        bind_text(c, 3, m->children[i].digest) || bind_text(c, 4, m->children[i].media_type) ||
        bind_text(c, 5, plat) || step_done(c))
      goto out;
  }
  if (prep(st, "INSERT OR IGNORE INTO repo_images (repo, digest, pushed_at) VALUES (?,?,?)", &r) ||
      bind_text(r, 1, repo) || bind_text(r, 2, digest) || sqlite3_bind_int64(r, 3, now) ||
      step_done(r))
    goto out;
  if (tag && (prep(st, "INSERT OR REPLACE INTO tags (repo, tag, digest, updated_at) VALUES (?,?,?,?)", &t) ||
              bind_text(t, 1, repo) || bind_text(t, 2, tag) || bind_text(t, 3, digest) ||
              sqlite3_bind_int64(t, 4, now) || step_done(t)))
    goto out;
  rv = exec(st, "COMMIT");
out:
  sqlite3_finalize(d);
  sqlite3_finalize(s);
  sqlite3_finalize(l);
  sqlite3_finalize(c);
  sqlite3_finalize(t);
  sqlite3_finalize(r);
  sc_config_free(&cfg);
  return rv ? rollback(st, rv) : 0;
}

/* One text value from a query bound with up to two strings. */
static int query1(sc_store *st, const char *sql, const char *a, const char *b, char *out, size_t cap) {
  sqlite3_stmt *s;
  if (prep(st, sql, &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, a);
  if (!rv && b) rv = bind_text(s, 2, b);
  if (!rv) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0)) copy_col(s, 0, out, cap);
    else rv = rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sqlite3_finalize(s);
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
  sqlite3_stmt *s;
  int rv, rc;
  if (prep(st,
           "SELECT kind, media_type, config_digest, os, architecture, user, config_json,"
           " created, runs_as_root FROM images WHERE digest = ?",
           &s))
    return SC_ERR_DB;
  if ((rv = bind_text(s, 1, digest))) goto out;
  rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    rv = rc == SQLITE_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
    goto out;
  }
  snprintf(out->digest, sizeof(out->digest), "%s", digest);
  const unsigned char *k = sqlite3_column_text(s, 0);
  out->kind = k && !strcmp((const char *)k, "index") ? SC_MANIFEST_INDEX : SC_MANIFEST_IMAGE;
  out->media_type = col_dup(s, 1, &rv);
  out->config_digest = col_dup(s, 2, &rv);
  out->os = col_dup(s, 3, &rv);
  out->architecture = col_dup(s, 4, &rv);
  out->user = col_dup(s, 5, &rv);
  out->config_json = col_dup(s, 6, &rv);
  out->config_len = out->config_json ? strlen(out->config_json) : 0;
  out->created = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 7);
  out->runs_as_root = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 8);
  sqlite3_finalize(s);
  s = NULL;
  if (rv) goto out;

  size_t cap = 0;
  if ((rv = prep(st,
                 "SELECT il.layer, l.status, l.error FROM image_layers il"
                 " LEFT JOIN layers l ON l.digest = il.layer WHERE il.image = ? ORDER BY il.idx",
                 &s)) ||
      (rv = bind_text(s, 1, digest)))
    goto out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if ((rv = grow_rows((void **)&out->layers, out->nlayers, &cap, sizeof(*out->layers)))) goto out;
    sc_store_layer_row *r = &out->layers[out->nlayers++];
    memset(r, 0, sizeof(*r));
    copy_col(s, 0, r->digest, sizeof(r->digest));
    if (sqlite3_column_type(s, 1) == SQLITE_NULL) snprintf(r->status, sizeof(r->status), "missing");
    else copy_col(s, 1, r->status, sizeof(r->status));
    r->error = col_dup(s, 2, &rv);
    if (rv) goto out;
  }
  if (rc != SQLITE_DONE) {
    rv = SC_ERR_DB;
    goto out;
  }
  sqlite3_finalize(s);
  s = NULL;

  size_t ccap = 0, pcap = 0;
  if ((rv = prep(st, "SELECT child, platform FROM image_children WHERE index_digest = ? ORDER BY idx",
                 &s)) ||
      (rv = bind_text(s, 1, digest)))
    goto out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if ((rv = grow_rows((void **)&out->children, out->nchildren, &ccap, sizeof(char *))) ||
        (rv = grow_rows((void **)&out->platforms, out->nchildren, &pcap, sizeof(char *))))
      goto out;
    size_t i = out->nchildren++;
    out->children[i] = col_dup(s, 0, &rv);
    out->platforms[i] = col_dup(s, 1, &rv);
    if (rv) goto out;
  }
  if (rc != SQLITE_DONE) rv = SC_ERR_DB;
out:
  sqlite3_finalize(s);
  return rv;
}

int sc_store_index_child(sc_store *st, const char *digest, const char *os, const char *arch,
                         char child[72]) {
  if (!st || !digest || !child) return SC_ERR_ARG;
  char want[160];
  snprintf(want, sizeof(want), "%s/%s", os ? os : "%", arch ? arch : "%");
  /* exact os/arch or os/arch/variant first, then the first child */
  char like[170];
  snprintf(like, sizeof(like), "%s/%%", want);
  sqlite3_stmt *s;
  if (prep(st,
           "SELECT child FROM image_children WHERE index_digest = ?1"
           " ORDER BY (platform LIKE ?2 OR platform LIKE ?3) DESC, idx LIMIT 1",
           &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, digest);
  if (!rv) rv = bind_text(s, 2, want);
  if (!rv) rv = bind_text(s, 3, like);
  if (!rv) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) copy_col(s, 0, child, 72);
    else rv = rc == SQLITE_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  }
  sqlite3_finalize(s);
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
