/* sc_store.c - the store: connection (sc_db: SQLite, or PostgreSQL by
 * URL), schema migrations (SQLite's here, every table of every store
 * module; PostgreSQL's in sc_store_schema_pg.c, applied by migrate()),
 * transactions, statement cache and the helpers of the store modules.
 * Layers: sc_store_layers.c; images, tags and the gate's blob question:
 * sc_store_images.c.
 * Owner: store.  Thread: the handle's.  Errors: see sc_store.h. */
#include "sc_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#define SC_STORE_SHORT_NAMES /* exec, prep, ... (sc_store_int.h) */
#include "sc_store_int.h"
#include "sc_store_schema_pg.h"

/* Migrations, applied in order; migration i brings the schema to version
 * i+1.  Append-only: never edit a step that has shipped, add a new one.
 * Every table of every store module (sc_vulnstore, sc_findings,
 * sc_decisions) is created here and nowhere else. */
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
    /* 6: the pull gate's decisions log (sc_decisions).  The gate used to
     * create this table itself at start-up, outside the migrations, so the
     * store did not own its schema; the table and index are unchanged.  IF
     * NOT EXISTS: every database a proxy has served already has them. */
    "CREATE TABLE IF NOT EXISTS decisions(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, client TEXT,"
    " repository TEXT, reference TEXT, digest TEXT, method TEXT, verdict TEXT NOT NULL, rule TEXT,"
    " user_agent TEXT);"
    "CREATE INDEX IF NOT EXISTS decisions_repo ON decisions(repository, at);",
    /* 7: image lineage and events (sc_store_lineage, sc_events).  A base
     * is found by its layer chain (the OCI chain IDs of the config's
     * diff_ids, which survive recompression), so every image manifest's
     * chain is kept, local ones and those of watched upstream tags (origin
     * 'watch'), with the base annotations it names.  chain_children holds
     * index membership for both (a watched index is never in `images`).
     * tag_history is every move of a tag (seq orders moves made in the same
     * second); `tags` stays the current state of local tags, `watched` of
     * watched ones.  Events and their webhook deliveries are recorded
     * before they are sent, so a delivery survives a restart; the body of
     * a delivery is stored as sent (the signature is computed at send time
     * from the configured secret, which is never stored). */
    "CREATE TABLE chain_images ("
    " digest TEXT PRIMARY KEY, origin TEXT NOT NULL CHECK (origin IN ('local','watch')),"
    " platform TEXT, nlayers INTEGER NOT NULL, top_chain TEXT NOT NULL, base_name TEXT,"
    " base_digest TEXT, recorded_at INTEGER NOT NULL);"
    "CREATE INDEX chain_images_top ON chain_images(top_chain);"
    "CREATE INDEX chain_images_base ON chain_images(base_digest);"
    "CREATE TABLE chain_layers ("
    " image TEXT NOT NULL REFERENCES chain_images(digest) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    " diff_id TEXT NOT NULL, chain_id TEXT NOT NULL, PRIMARY KEY (image, idx)) WITHOUT ROWID;"
    "CREATE INDEX chain_layers_chain ON chain_layers(chain_id, idx);"
    "CREATE TABLE chain_children ("
    " parent TEXT NOT NULL, child TEXT NOT NULL, platform TEXT, PRIMARY KEY (parent, child)) WITHOUT ROWID;"
    "CREATE INDEX chain_children_child ON chain_children(child);"
    "CREATE TABLE tag_history ("
    " seq INTEGER PRIMARY KEY, origin TEXT NOT NULL CHECK (origin IN ('local','watch')),"
    " repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, prev TEXT, at INTEGER NOT NULL);"
    "CREATE INDEX tag_history_tag ON tag_history(origin, repo, tag, seq);"
    "CREATE INDEX tag_history_digest ON tag_history(digest);"
    "CREATE TABLE watched ("
    " repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT, checked_at INTEGER, error TEXT,"
    " PRIMARY KEY (repo, tag));"
    "CREATE TABLE events ("
    " id TEXT PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, payload TEXT NOT NULL);"
    "CREATE INDEX events_at ON events(at);"
    "CREATE TABLE deliveries ("
    " id INTEGER PRIMARY KEY, event TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
    " hook TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pending','delivered','failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_status INTEGER,"
    " last_error TEXT, created_at INTEGER NOT NULL, delivered_at INTEGER);"
    "CREATE INDEX deliveries_due ON deliveries(status, next_at);"
    "CREATE INDEX deliveries_event ON deliveries(event);",
    /* 8: layers by diff_id.  A watched upstream base is known only by its
     * chain (diff_ids); what it fixes is computed from the layers stored
     * for those diff_ids (sc_store_layer_by_diff_id), looked up per layer
     * of every base that moves.  IF NOT EXISTS: a database rolled back to
     * an older version by hand (tests do) keeps its index. */
    "CREATE INDEX IF NOT EXISTS layers_diff_id ON layers(diff_id);",
    /* 9: OCI referrers (sc_store_referrers) and the annotations customs
     * pushes (sc_annotations).  `referrers` lists every manifest with a
     * `subject` that passed through customs (pushed by clients: signatures,
     * attestations, VEX) or that customs pushed itself (origin 'customs'),
     * per repository, so that GET /v2/<name>/referrers/<digest> is answered
     * even in front of registries without the API; `annotations` is the
     * state of customs' own SBOM and vulnerability report per image:
     * pending (with retries and the last error, so failures are visible),
     * pushed (with the artifact's digest and the hash of its content: a
     * changed report replaces it), failed. */
    "CREATE TABLE referrers ("
    " repo TEXT NOT NULL, subject TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL,"
    " artifact_type TEXT, size INTEGER NOT NULL, annotations TEXT,"
    " origin TEXT NOT NULL CHECK (origin IN ('client','customs')), created_at INTEGER NOT NULL,"
    " PRIMARY KEY (repo, subject, digest)) WITHOUT ROWID;"
    "CREATE TABLE annotations ("
    " repo TEXT NOT NULL, image TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('sbom','vulnerabilities')),"
    " status TEXT NOT NULL CHECK (status IN ('pending','pushed','failed')), manifest TEXT, content_hash TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (repo, image, kind));"
    "CREATE INDEX annotations_due ON annotations(status, next_at);",
    /* 10: the validators (ETag, Last-Modified) of each downloaded data
     * source, so that a refresh fetches an OSV export again only when it
     * changed (a conditional GET answered 304), across restarts too.  Kept
     * only once the download was imported: a failed import asks again. */
    "CREATE TABLE source_validators ("
    " url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, checked_at INTEGER NOT NULL) WITHOUT ROWID;",
    /* 11: OpenVEX documents attached to images as referrers (artifactType
     * or config/layer mediaType application/vnd.openvex+json), fetched from
     * the upstream when their manifest passes through customs, kept per
     * repository and subject so that the judge reads them without a
     * round-trip (sc_store_vex.c).  doc is the document as fetched (bounded),
     * NULL with error set when it could not be fetched or parsed: the
     * failure stays visible in explain instead of silently not applying. */
    "CREATE TABLE vex_documents ("
    " repo TEXT NOT NULL, subject TEXT NOT NULL, digest TEXT NOT NULL, blob TEXT,"
    " doc TEXT, error TEXT, fetched_at INTEGER NOT NULL,"
    " PRIMARY KEY (repo, subject, digest)) WITHOUT ROWID;"
    /* a generation bumped by every change of vex_documents: the proxy's
     * verdict cache (px_gate.c) compares it, so a VEX referrer stored or
     * forgotten changes the next verdict at once, whoever wrote it */
    "CREATE TABLE IF NOT EXISTS vex_generation (id INTEGER PRIMARY KEY CHECK (id = 1), gen INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO vex_generation VALUES (1, 0);"
    "CREATE TRIGGER vex_documents_ins AFTER INSERT ON vex_documents BEGIN"
    " UPDATE vex_generation SET gen = gen + 1; END;"
    "CREATE TRIGGER vex_documents_upd AFTER UPDATE ON vex_documents BEGIN"
    " UPDATE vex_generation SET gen = gen + 1; END;"
    "CREATE TRIGGER vex_documents_del AFTER DELETE ON vex_documents BEGIN"
    " UPDATE vex_generation SET gen = gen + 1; END;"
    /* a referrer forgotten (its manifest deleted through customs,
     * sc_store_forget_referrer) takes its document with it */
    "CREATE TRIGGER referrers_vex_gone AFTER DELETE ON referrers BEGIN"
    " DELETE FROM vex_documents WHERE repo = old.repo AND subject = old.subject AND digest = old.digest; END;",
    /* 12: severity from CVE-keyed score sources (sc_store_severity.c).
     * cve_scores holds one CVSS score per CVE id, from NVD CVE 2.0 feeds
     * (the chosen metric's vector, its score, the severity the score
     * rates, who scored it and which feed brought it); a record without
     * its own severity borrows the highest of the CVEs among its aliases
     * (sc_vulnstore BORROW).  vuln_ratings keeps a distribution's own word
     * on a record (Debian urgency, Ubuntu priority) beside the score: it is
     * shown, never used as the severity.  Records stored before this step
     * were imported without their `upstream` CVE ids and ratings: their
     * modified time is cleared so that the next import of every source
     * parses them again, and the download validators with it so that the
     * next refresh fetches every source whole instead of a 304. */
    "CREATE TABLE cve_scores ("
    " cve TEXT PRIMARY KEY, vector TEXT, score REAL NOT NULL, severity INTEGER NOT NULL,"
    " scored_by TEXT, feed TEXT) WITHOUT ROWID;"
    "CREATE TABLE vuln_ratings ("
    " vuln TEXT NOT NULL REFERENCES vulns(id) ON DELETE CASCADE, kind TEXT NOT NULL,"
    " rating TEXT NOT NULL, PRIMARY KEY (vuln, kind)) WITHOUT ROWID;"
    "UPDATE vulns SET modified = '';"
    "DELETE FROM source_validators;",
    /* 13: replicas sharing one database (PostgreSQL; SQLite has one).
     * Every running customs beats in `replicas` (times in ms); a layer
     * fetched for scanning is claimed in `layer_claims` first, so that two
     * replicas never scan it at the same time and a manifest on another
     * replica waits for that result instead; a claim whose replica stopped
     * beating is taken over.  `verdict_epoch` moves when something other
     * than the vulnerability data or VEX changes verdicts (a base tag
     * moved): every replica's verdict cache compares it.  `leases`: see
     * below. */
    "CREATE TABLE replicas ("
    " id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,"
    " started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE layer_claims ("
    " digest TEXT PRIMARY KEY, replica TEXT NOT NULL, claimed_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE verdict_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL);"
    "INSERT INTO verdict_epoch VALUES (1, 0);"
    /* periodic work done by one replica for all (the OSV refresh, the
     * watched tags, the catalog sync): held until `until` (ms) by a live
     * replica, renewed each round */
    "CREATE TABLE leases (name TEXT PRIMARY KEY, replica TEXT NOT NULL, until INTEGER NOT NULL) WITHOUT ROWID;",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- helpers shared by the store modules (sc_store_int.h) ------------- */

int sc_store_exec(sc_store *st, const char *sql) { return sc_db_exec(st->db, sql) ? SC_ERR_DB : 0; }

int sc_store_begin(sc_store *st) { return sc_db_begin(st->db) ? SC_ERR_DB : 0; }

int sc_store_prep(sc_store *st, const char *sql, sc_db_stmt **s) {
  return sc_db_prepare(st->db, sql, 0, s) ? SC_ERR_DB : 0;
}

int sc_store_bind_text(sc_db_stmt *s, int i, const char *v) { return sc_db_bind_text(s, i, v) ? SC_ERR_DB : 0; }

int sc_store_step_done(sc_db_stmt *s) {
  int rc = sc_db_step(s);
  sc_db_reset(s); /* also clears the bindings */
  return rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

sc_db_stmt *sc_store_stmt(sc_store *st, const char *sql) {
  for (size_t i = 0; i < st->nstmt; i++)
    if (st->stmt[i].sql == sql) {
      sc_db_reset(st->stmt[i].s);
      return st->stmt[i].s;
    }
  if (st->nstmt == SC_STORE_STMT_CACHE) return NULL; /* a new caller: raise the cap */
  sc_db_stmt *s;
  if (sc_db_prepare(st->db, sql, SC_DB_PREP_PERSISTENT, &s)) return NULL;
  st->stmt[st->nstmt].sql = sql;
  st->stmt[st->nstmt++].s = s;
  return s;
}

int sc_store_rollback_rv(sc_store *st, int rv) {
  if (sc_db_errclass(st->db) != SC_DB_EOK) snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
  /* only when one is open (a failed COMMIT may have ended it): sc_db_rollback
   * does nothing otherwise */
  sc_db_rollback(st->db);
  return rv;
}

char *sc_store_col_dup(sc_db_stmt *s, int i, int *err) {
  const char *t = sc_db_column_text(s, i);
  if (!t) return NULL;
  char *d = strdup(t);
  if (!d) *err = SC_ERR_NOMEM;
  return d;
}

void sc_store_col_copy(sc_db_stmt *s, int i, char *out, size_t cap) {
  const char *t = sc_db_column_text(s, i);
  snprintf(out, cap, "%s", t ? t : "");
}

static int read_version(sc_store *st, int *v) {
  sc_db_stmt *s;
  *v = 0;
  if (prep(st, "SELECT max(version) FROM schema_version", &s)) return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) *v = (int)sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

static int migrate(sc_store *st) {
  if (sc_db_dialect(st->db) == SC_DB_PG) {
    /* PostgreSQL: its own dialect of the same steps, numbered the same
     * (sc_store_schema_pg.h), applied in one transaction under an advisory
     * lock so that replicas starting together apply them once */
    int v = 0;
    if (sc_store_schema_pg_apply(st->db, &v, NULL, st->err, sizeof(st->err))) return SC_ERR_DB;
    st->version = v;
    return 0;
  }
  if (exec(st, "CREATE TABLE IF NOT EXISTS schema_version ("
               " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"))
    return SC_ERR_DB;
  for (;;) {
    int v;
    /* sc_db_begin (SQLite: BEGIN IMMEDIATE): a concurrent opener waits
     * (busy timeout) instead of applying the same step twice; the version
     * is re-read under the lock. */
    if (sc_store_begin(st)) return SC_ERR_DB;
    if (read_version(st, &v)) goto fail;
    if (v >= NMIGRATIONS) {
      st->version = v;
      return exec(st, "COMMIT");
    }
    /* SQLITE-ONLY: migrations[] is SQLite's schema (WITHOUT ROWID,
     * json_each, triggers, INSERT OR IGNORE); PostgreSQL gets its own */
    if (exec(st, migrations[v])) goto fail;
    char sql[128];
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, %lld)", v + 1,
             (long long)time(NULL));
    if (exec(st, sql) || exec(st, "COMMIT")) goto fail;
  }
fail:
  sc_db_rollback(st->db);
  return SC_ERR_DB;
}

/* SQLITE-ONLY: the connection settings of a SQLite file.  journal_mode
 * returns a row: run it through exec, ignore the result (":memory:" stays
 * "memory"). */
static int sqlite_setup(sc_store *st) {
  if (sc_db_dialect(st->db) != SC_DB_SQLITE) return 0;
  if (exec(st, "PRAGMA journal_mode=WAL") || exec(st, "PRAGMA foreign_keys=ON") ||
      exec(st, "PRAGMA synchronous=NORMAL"))
    return SC_ERR_DB;
  return 0;
}

int sc_store_open(const char *path, sc_store **out) {
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!path) return SC_ERR_ARG;
  sc_store *st = calloc(1, sizeof(*st));
  if (!st) return SC_ERR_NOMEM;
  /* path: a file (or "sqlite:FILE", ":memory:"), or a postgres:// URL */
  sc_db_opts o = {.busy_ms = SC_STORE_BUSY_MS};
  int rc = sc_db_open(path, &o, &st->db, st->err, sizeof(st->err));
  if (rc) {
    free(st);
    return rc == SC_ERR_NOMEM ? SC_ERR_NOMEM : rc == SC_ERR_ARG ? SC_ERR_ARG : SC_ERR_DB;
  }
  /* PostgreSQL: the same wait for another writer as SQLite's busy timeout
   * (lock_timeout: the writer lock of sc_db_begin), instead of the whole
   * statement_timeout (sc_db_opts.busy_ms is SQLite's only) */
  if (sc_db_dialect(st->db) == SC_DB_PG && sc_db_busy_timeout(st->db, SC_STORE_BUSY_MS)) {
    snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
    sc_db_close(st->db);
    free(st);
    return SC_ERR_DB;
  }
  /* Switching a new database to WAL takes a lock that SQLite does not wait
   * for through the busy handler: several connections opening the same new
   * file at once can see a busy error (SC_DB_ERETRY) here, so the setup is
   * retried.  A failed migration is not (its ROLLBACK was its answer). */
  for (int attempt = 0;; attempt++) {
    int m = 0;
    if (!sqlite_setup(st) && !(m = migrate(st))) break;
    if (m || sc_db_errclass(st->db) != SC_DB_ERETRY || attempt >= SC_STORE_OPEN_RETRIES) {
      sc_store_close(st);
      return SC_ERR_DB;
    }
    usleep(SC_STORE_OPEN_RETRY_MS * 1000);
  }
  *out = st;
  return 0;
}

void sc_store_close(sc_store *st) {
  if (!st) return;
  for (size_t i = 0; i < st->nstmt; i++) sc_db_finalize(st->stmt[i].s);
  sc_db_close(st->db);
  sc_buf_free(&st->enc);
  free(st);
}

const char *sc_store_errmsg(sc_store *st) {
  if (!st) return "no store";
  const char *m = sc_db_errmsg(st->db);
  /* after a rolled-back transaction, the failure, not the rollback's "ok" */
  if (!*m && st->err[0]) return st->err;
  return *m ? m : "not an error"; /* SQLite's text for no error */
}
int sc_store_schema_version(sc_store *st) { return st ? st->version : 0; }
int sc_store_is_postgres(const sc_store *st) { return st && sc_db_dialect(st->db) == SC_DB_PG; }

/* ---- transactions ------------------------------------------------------ */

/* SQLITE-ONLY: cache_size is SQLite's page cache (bulk is 0 elsewhere). */
static void cache_restore(sc_store *st) {
  if (!st->bulk) return;
  char sql[64];
  snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d", st->old_cache);
  sc_db_exec(st->db, sql);
  st->bulk = 0;
}

int sc_store_write_begin(sc_store *st, int bulk) {
  if (!st) return SC_ERR_ARG;
  st->err[0] = '\0';
  if (bulk && sc_db_dialect(st->db) == SC_DB_SQLITE) {
    /* SQLITE-ONLY: one big transaction: a larger page cache keeps it from
     * re-reading and spilling pages */
    sc_db_stmt *s;
    st->old_cache = -2000;
    if (!sc_db_prepare(st->db, "PRAGMA cache_size", 0, &s) && sc_db_step(s) == SC_DB_ROW)
      st->old_cache = (int)sc_db_column_int64(s, 0);
    sc_db_finalize(s);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", SC_STORE_BULK_CACHE_KIB);
    sc_db_exec(st->db, sql);
    st->bulk = 1;
  }
  /* sc_db_begin (SQLite: BEGIN IMMEDIATE): take the write lock now
   * (waiting the busy timeout), so that the transaction cannot fail
   * half-way for a concurrent writer */
  if (sc_store_begin(st)) {
    snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
    cache_restore(st);
    return SC_ERR_DB;
  }
  return 0;
}

int sc_store_write_end(sc_store *st, int commit) {
  if (!st) return SC_ERR_ARG;
  int rv = 0;
  if (commit && exec(st, "COMMIT")) rv = SC_ERR_DB;
  if (!commit || rv) sc_store_rollback_rv(st, 0);
  cache_restore(st);
  return rv;
}
