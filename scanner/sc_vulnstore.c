/* sc_vulnstore.c - vulnerability records (see sc_vulnstore.h):
 * tables vulns, vuln_aliases, vuln_affected, vuln_sources and meta, and
 * per connection the temp tables of an import (vuln_touched, vuln_redo).
 * Owner: store.  Thread: the handle's.  Errors: SC_ERR_DB, SC_ERR_ARG. */
#include "sc_vulnstore.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sc_store_int.h"

static const char SQL_GET_MOD[] = "SELECT modified FROM vulns WHERE id = ?";
static const char SQL_DEL[] = "DELETE FROM vulns WHERE id = ?";
static const char SQL_INS_V[] =
    "INSERT INTO vulns (id, modified, aliases, sev_own, score_own, severity, score, source)"
    " VALUES (?,?,?,?,?,?,?,?)";
static const char SQL_INS_AL[] = "INSERT INTO vuln_aliases (vuln, alias) VALUES (?,?) ON CONFLICT DO NOTHING";
static const char SQL_INS_AF[] =
    "INSERT INTO vuln_affected (vuln, seq, ecosystem, name, severity, ranges, versions) VALUES (?,?,?,?,?,?,?)";

/* Severities borrowed through shared ids/aliases.  A record's effective
 * severity depends only on its own and on those of the records sharing an
 * alias (its id included) with it, so an import recomputes only the
 * records that share an alias with one it added, replaced or removed: the
 * aliases those touched (old ones of a removed record too) are collected in
 * temp.vuln_touched as the import goes.  Recomputing every record after
 * every source made each file of a 200,000-record import pay for all the
 * records imported before it.  Same result: the records left out have
 * neither their inputs nor their value changed.
 * CVE scores (cve_scores, sc_store_severity.c) are lent the same way: a
 * record without its own severity takes the highest of the records sharing
 * an alias with it and of the scores of the CVE ids among its aliases (its
 * id and upstream ids included); a score stored or removed touches its CVE
 * id, so either side may be imported first. */
/* SQLITE-ONLY down to BORROW_SQL: TEMP tables WITHOUT ROWID in the temp
 * schema (`temp.`), INSERT OR IGNORE; the PostgreSQL texts (the *_PG
 * below, chosen by sc_db_dialect) name the session's pg_temp schema, and
 * its FROM subquery needs an alias.  Kept in two dialects because a temp
 * table has no portable name. */
static const char TOUCH_SETUP_SQL[] =
    "CREATE TEMP TABLE IF NOT EXISTS vuln_touched (alias TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TEMP TABLE IF NOT EXISTS vuln_redo (id TEXT PRIMARY KEY) WITHOUT ROWID;"
    "DELETE FROM temp.vuln_touched; DELETE FROM temp.vuln_redo;";
static const char SQL_TOUCH[] = "INSERT OR IGNORE INTO temp.vuln_touched (alias) VALUES (?)";
static const char SQL_TOUCH_OLD[] =
    "INSERT OR IGNORE INTO temp.vuln_touched (alias) SELECT alias FROM vuln_aliases WHERE vuln = ?";
/* The borrowing, in parts both dialects share: T is the temp schema. */
/* a record in T.vuln_redo first gets its own values back */
#define BORROW_RESET(T)                                                                                          \
  "UPDATE vulns SET severity = sev_own, score = score_own"                                                      \
  " WHERE id IN (SELECT id FROM " T ".vuln_redo) AND (severity <> sev_own OR score <> score_own);"
/* what may lend to vulns.id: records sharing an alias, and its CVEs' scores */
#define BORROW_LENDERS                                                                                           \
  "UPDATE vulns SET (severity, score) = ("                                                                      \
  " SELECT sev, sc FROM ("                                                                                      \
  "  SELECT w.sev_own AS sev, w.score_own AS sc, w.id AS k FROM vuln_aliases a"                                 \
  "  JOIN vuln_aliases b ON b.alias = a.alias AND b.vuln <> a.vuln"                                             \
  "  JOIN vulns w ON w.id = b.vuln"                                                                             \
  "  WHERE a.vuln = vulns.id AND w.sev_own <> 0"                                                                \
  "  UNION ALL SELECT c.severity, c.score, c.cve FROM vuln_aliases a JOIN cve_scores c ON c.cve = a.alias"      \
  "  WHERE a.vuln = vulns.id AND c.severity <> 0)"
/* ... applied to the records of T.vuln_redo without their own that have a lender; T emptied */
#define BORROW_APPLY(T)                                                                                          \
  " WHERE id IN (SELECT id FROM " T ".vuln_redo) AND sev_own = 0 AND (EXISTS (SELECT 1 FROM vuln_aliases a"     \
  " JOIN vuln_aliases b ON b.alias = a.alias AND b.vuln <> a.vuln"                                              \
  " JOIN vulns w ON w.id = b.vuln WHERE a.vuln = vulns.id AND w.sev_own <> 0)"                                  \
  " OR EXISTS (SELECT 1 FROM vuln_aliases a JOIN cve_scores c ON c.cve = a.alias"                               \
  " WHERE a.vuln = vulns.id AND c.severity <> 0));"                                                             \
  "DELETE FROM " T ".vuln_touched; DELETE FROM " T ".vuln_redo;"
static const char BORROW_SQL[] =
    "INSERT OR IGNORE INTO temp.vuln_redo (id) SELECT a.vuln FROM temp.vuln_touched t"
    " JOIN vuln_aliases a ON a.alias = t.alias;" BORROW_RESET("temp") BORROW_LENDERS
    " ORDER BY sev DESC, sc DESC, k LIMIT 1)" BORROW_APPLY("temp");
/* PostgreSQL: the same, over pg_temp (IF NOT EXISTS sends a NOTICE when the
 * table exists, which sc_db never prints) */
static const char TOUCH_SETUP_SQL_PG[] =
    "CREATE TEMP TABLE IF NOT EXISTS vuln_touched (alias TEXT PRIMARY KEY);"
    "CREATE TEMP TABLE IF NOT EXISTS vuln_redo (id TEXT PRIMARY KEY);"
    "DELETE FROM pg_temp.vuln_touched; DELETE FROM pg_temp.vuln_redo;";
static const char SQL_TOUCH_PG[] = "INSERT INTO pg_temp.vuln_touched (alias) VALUES (?) ON CONFLICT DO NOTHING";
static const char SQL_TOUCH_OLD_PG[] =
    "INSERT INTO pg_temp.vuln_touched (alias) SELECT alias FROM vuln_aliases WHERE vuln = ?"
    " ON CONFLICT DO NOTHING";
static const char BORROW_SQL_PG[] =
    "INSERT INTO pg_temp.vuln_redo (id) SELECT DISTINCT a.vuln FROM pg_temp.vuln_touched t"
    " JOIN vuln_aliases a ON a.alias = t.alias ON CONFLICT DO NOTHING;" BORROW_RESET("pg_temp") BORROW_LENDERS
    " AS lent ORDER BY sev DESC, sc DESC, k COLLATE \"C\" LIMIT 1)" /* SQLite's byte order of k */
    BORROW_APPLY("pg_temp");

#define bind_text sc_store_bind_text
#define PG(st) (sc_db_dialect((st)->db) == SC_DB_PG)

int sc_vulnstore_import_begin(sc_store *st) {
  if (!st) return SC_ERR_ARG;
  /* bulk: the store saves the connection's cache size and restores it at
   * sc_store_write_end; the size is then set to the import's own */
  int rv = sc_store_write_begin(st, 1);
  if (rv) return rv;
  char sql[64];
  /* SQLITE-ONLY: the page cache PRAGMA (PostgreSQL has no per-connection equivalent) */
  snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", SC_VULNSTORE_IMPORT_CACHE_KIB);
  if ((!PG(st) && sc_store_exec(st, sql)) || sc_store_exec(st, PG(st) ? TOUCH_SETUP_SQL_PG : TOUCH_SETUP_SQL)) {
    sc_store_write_end(st, 0);
    return SC_ERR_DB;
  }
  return 0;
}

int sc_vulnstore_state(sc_store *st, const char *id, const char *modified, int *state) {
  if (!st || !id || !modified || !state) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_GET_MOD);
  *state = SC_VULN_ABSENT;
  if (!s || bind_text(s, 1, id)) return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) {
    const char *old = sc_db_column_text(s, 0);
    *state = old && strcmp(old, modified) >= 0 ? SC_VULN_CURRENT : SC_VULN_OLDER;
  }
  sc_db_reset(s);
  return rc == SC_DB_ROW || rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

int sc_vulnstore_delete(sc_store *st, const char *id, int *removed) {
  if (!st || !id) return SC_ERR_ARG;
  /* its aliases (id included) before they go: the records sharing them
   * may have borrowed its severity */
  sc_db_stmt *t = sc_store_stmt(st, PG(st) ? SQL_TOUCH_OLD_PG : SQL_TOUCH_OLD);
  if (!t || bind_text(t, 1, id) || sc_store_step_done(t)) return SC_ERR_DB;
  sc_db_stmt *s = sc_store_stmt(st, SQL_DEL);
  if (!s || bind_text(s, 1, id) || sc_store_step_done(s)) return SC_ERR_DB;
  if (removed) *removed = sc_db_changes(st->db) > 0; /* cascaded rows are not counted */
  return 0;
}

int sc_vulnstore_put_record(sc_store *st, const char *id, const char *modified, const char *aliases_json,
                            int severity, double score, const char *source) {
  if (!st || !id || !modified) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_INS_V);
  if (!s || bind_text(s, 1, id) || bind_text(s, 2, modified) || bind_text(s, 3, aliases_json) ||
      sc_db_bind_int64(s, 4, severity) || sc_db_bind_double(s, 5, score) || sc_db_bind_int64(s, 6, severity) ||
      sc_db_bind_double(s, 7, score) || bind_text(s, 8, source) || sc_store_step_done(s))
    return SC_ERR_DB;
  /* the id itself is a key too: records listing it as an alias share it */
  return sc_vulnstore_put_alias(st, id, id);
}

int sc_vulnstore_put_alias(sc_store *st, const char *id, const char *alias) {
  if (!st || !id || !alias) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_INS_AL);
  if (!s || bind_text(s, 1, id) || bind_text(s, 2, alias) || sc_store_step_done(s)) return SC_ERR_DB;
  sc_db_stmt *t = sc_store_stmt(st, PG(st) ? SQL_TOUCH_PG : SQL_TOUCH);
  return !t || bind_text(t, 1, alias) || sc_store_step_done(t) ? SC_ERR_DB : 0;
}

int sc_vulnstore_put_affected(sc_store *st, const char *id, int64_t seq, const char *ecosystem,
                              const char *name, int severity, const char *ranges_json,
                              const char *versions_json) {
  if (!st || !id) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_INS_AF);
  if (!s || bind_text(s, 1, id) || sc_db_bind_int64(s, 2, seq) || bind_text(s, 3, ecosystem) ||
      bind_text(s, 4, name) || sc_db_bind_int64(s, 5, severity) || bind_text(s, 6, ranges_json) ||
      bind_text(s, 7, versions_json) || sc_store_step_done(s))
    return SC_ERR_DB;
  return 0;
}

int sc_vulnstore_finish_import(sc_store *st, const sc_vulnsource *src, int changed) {
  if (!st || !src || !src->name) return SC_ERR_ARG;
  /* SQLITE-ONLY: INSERT OR REPLACE, strftime('%s','now') and arithmetic on
   * the untyped meta.value (SQLite keeps the text strftime gives); the
   * PostgreSQL text writes the same values into its BIGINT meta.value */
  const int pg = PG(st);
  if (changed && (sc_store_exec(st, pg ? BORROW_SQL_PG : BORROW_SQL) ||
                  sc_store_exec(st, pg ? "UPDATE meta SET value = value + 1 WHERE key = 'vulndb_generation';"
                                         "INSERT INTO meta VALUES ('vulndb_changed',"
                                         " CAST(extract(epoch FROM now()) AS BIGINT))"
                                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value;"
                                       : "UPDATE meta SET value = value + 1 WHERE key = 'vulndb_generation';"
                                         "INSERT OR REPLACE INTO meta VALUES ('vulndb_changed', strftime('%s','now'));")))
    return SC_ERR_DB;
  sc_db_stmt *s = NULL;
  int rv = SC_ERR_DB;
  /* an upsert (both dialects): vuln_sources has no dependent rows, triggers
   * or rowid readers */
  if (!sc_store_prep(st,
                     "INSERT INTO vuln_sources (name, imported_at, added, updated,"
                     " unchanged, withdrawn, malformed) VALUES (?,?,?,?,?,?,?)"
                     " ON CONFLICT (name) DO UPDATE SET imported_at = excluded.imported_at,"
                     " added = excluded.added, updated = excluded.updated, unchanged = excluded.unchanged,"
                     " withdrawn = excluded.withdrawn, malformed = excluded.malformed",
                     &s) &&
      !bind_text(s, 1, src->name) && !sc_db_bind_int64(s, 2, (int64_t)time(NULL)) &&
      !sc_db_bind_int64(s, 3, (int64_t)src->added) && !sc_db_bind_int64(s, 4, (int64_t)src->updated) &&
      !sc_db_bind_int64(s, 5, (int64_t)src->unchanged) &&
      !sc_db_bind_int64(s, 6, (int64_t)src->withdrawn) &&
      !sc_db_bind_int64(s, 7, (int64_t)src->malformed) && !sc_store_step_done(s) &&
      !sc_store_exec(st, pg ? "INSERT INTO meta VALUES ('last_import', CAST(extract(epoch FROM now()) AS BIGINT))"
                              " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                            : "INSERT OR REPLACE INTO meta VALUES ('last_import', strftime('%s','now'))"))
    rv = 0;
  sc_db_finalize(s);
  return rv;
}

/* ---- reading ---------------------------------------------------------- */

/* One integer from a query without parameters; *out untouched without a row. */
static int int1(sc_store *st, const char *sql, int64_t *out) {
  sc_db_stmt *s;
  if (sc_store_prep(st, sql, &s)) return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) *out = sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return rc == SC_DB_ROW || rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

/* Read by every verdict (px_gate checks its cache against it): from the
 * statement cache, since on PostgreSQL a one-off statement costs three
 * round trips (prepare, execute, deallocate) instead of one. */
static const char SQL_GENERATION[] = "SELECT value FROM meta WHERE key = 'vulndb_generation'";

int sc_vulnstore_generation(sc_store *st, int64_t *gen) {
  if (!st || !gen) return SC_ERR_ARG;
  *gen = 0;
  sc_db_stmt *s = sc_store_stmt(st, SQL_GENERATION);
  if (!s) return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) *gen = sc_db_column_int64(s, 0);
  /* to the end of the one-row result, as sc_store_vex_generation does */
  if (rc == SC_DB_ROW) rc = sc_db_step(s);
  sc_db_reset(s);
  return rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

int sc_vulnstore_last_import(sc_store *st, int64_t *t) {
  if (!st || !t) return SC_ERR_ARG;
  *t = 0;
  return int1(st, "SELECT value FROM meta WHERE key = 'last_import'", t);
}

int sc_vulnstore_any(sc_store *st, int *any) {
  int64_t v = 0;
  if (!st || !any) return SC_ERR_ARG;
  int rv = int1(st, "SELECT EXISTS (SELECT 1 FROM vulns)", &v);
  *any = v != 0;
  return rv;
}

int sc_vulnstore_count(sc_store *st, int64_t *records) {
  if (!st || !records) return SC_ERR_ARG;
  *records = 0;
  return int1(st, "SELECT count(*) FROM vulns", records);
}

#define T(i) (sc_db_column_text(s, i))

int sc_vulnstore_each_record(sc_store *st,
                             int (*cb)(void *arg, const char *id, const char *aliases_json, int severity,
                                       double score, double score_own),
                             void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, "SELECT id, aliases, severity, score, score_own FROM vulns", &s)) return SC_ERR_DB;
  int rv = 0, rc;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW)
    rv = cb(arg, T(0), T(1), (int)sc_db_column_int64(s, 2), sc_db_column_double(s, 3), sc_db_column_double(s, 4));
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

int sc_vulnstore_each_affected(sc_store *st,
                               int (*cb)(void *arg, const char *id, const char *ecosystem, const char *name,
                                         int severity, const char *ranges_json, const char *versions_json),
                               void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, "SELECT vuln, ecosystem, name, severity, ranges, versions FROM vuln_affected", &s))
    return SC_ERR_DB;
  int rv = 0, rc;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW)
    rv = cb(arg, T(0), T(1), T(2), (int)sc_db_column_int64(s, 3), T(4), T(5));
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

int sc_vulnstore_each_affected_of(sc_store *st, const sc_vulnstore_pkg *pkgs, size_t n,
                                  int (*rec)(void *arg, const char *id, const char *aliases_json, int severity,
                                             double score, double score_own),
                                  int (*aff)(void *arg, const char *id, const char *ecosystem, const char *name,
                                             int severity, const char *ranges_json, const char *versions_json),
                                  void *arg) {
  if (!st || !rec || !aff || (n && !pkgs)) return SC_ERR_ARG;
  if (!n) return 0;
  /* Index vuln_affected_pkg (ecosystem, name) holds the rowid: rows of one
   * pair come out in rowid order, the order of a full scan, without a sort.
   * The inner join drops rows of a record that is not stored, as the full
   * load does.  One statement for the batch (callbacks run while it steps,
   * so it is not the shared cached one). */
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    PG(st) ? "SELECT a.vuln, a.ecosystem, a.name, a.severity, a.ranges, a.versions,"
                             " v.aliases, v.severity, v.score, v.score_own"
                             " FROM vuln_affected a JOIN vulns v ON v.id = a.vuln"
                             /* no rowid: the primary key is the order */
                             " WHERE a.ecosystem = ?1 AND a.name = ?2 ORDER BY a.vuln COLLATE \"C\", a.seq"
                           : "SELECT a.vuln, a.ecosystem, a.name, a.severity, a.ranges, a.versions,"
                             " v.aliases, v.severity, v.score, v.score_own"
                             " FROM vuln_affected a JOIN vulns v ON v.id = a.vuln"
                             /* SQLITE-ONLY: rowid order (see above), kept: it needs no sort */
                             " WHERE a.ecosystem = ?1 AND a.name = ?2 ORDER BY a.rowid",
                    &s))
    return SC_ERR_DB;
  int rv = 0;
  for (size_t i = 0; !rv && i < n; i++) {
    if (!pkgs[i].ecosystem || !pkgs[i].name) continue;
    if (bind_text(s, 1, pkgs[i].ecosystem) || bind_text(s, 2, pkgs[i].name)) {
      rv = SC_ERR_DB;
      break;
    }
    int rc = SC_DB_DONE;
    while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
      rv = rec(arg, T(0), T(6), (int)sc_db_column_int64(s, 7), sc_db_column_double(s, 8), sc_db_column_double(s, 9));
      if (!rv) rv = aff(arg, T(0), T(1), T(2), (int)sc_db_column_int64(s, 3), T(4), T(5));
    }
    if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
    sc_db_reset(s);
  }
  sc_db_finalize(s);
  return rv;
}

int sc_vulnstore_each_source(sc_store *st, int (*cb)(void *arg, const sc_vulnsource *src), void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    "SELECT name, imported_at, added, updated, unchanged, withdrawn, malformed"
                    " FROM vuln_sources ORDER BY imported_at, name",
                    &s))
    return SC_ERR_DB;
  int rv = 0, rc;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    sc_vulnsource v = {T(0) ? T(0) : "", sc_db_column_int64(s, 1),
                       (uint64_t)sc_db_column_int64(s, 2), (uint64_t)sc_db_column_int64(s, 3),
                       (uint64_t)sc_db_column_int64(s, 4), (uint64_t)sc_db_column_int64(s, 5),
                       (uint64_t)sc_db_column_int64(s, 6)};
    rv = cb(arg, &v);
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

int sc_vulnstore_each_ecosystem(sc_store *st, int (*cb)(void *arg, const char *ecosystem, int64_t records),
                                void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    "SELECT ecosystem, count(DISTINCT vuln) FROM vuln_affected GROUP BY ecosystem"
                    " ORDER BY ecosystem",
                    &s))
    return SC_ERR_DB;
  int rv = 0, rc;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) rv = cb(arg, T(0) ? T(0) : "", sc_db_column_int64(s, 1));
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}
#undef T

int sc_vulnstore_validators(sc_store *st, const char *url, char *etag, size_t etag_cap, char *last_modified,
                            size_t lm_cap) {
  if (!st || !url || !etag || !last_modified || !etag_cap || !lm_cap) return SC_ERR_ARG;
  etag[0] = last_modified[0] = 0;
  sc_db_stmt *s;
  if (sc_store_prep(st, "SELECT etag, last_modified FROM source_validators WHERE url = ?", &s)) return SC_ERR_DB;
  sc_db_bind_text(s, 1, url);
  int rc = sc_db_step(s), rv = rc == SC_DB_ROW ? 0 : rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  if (rc == SC_DB_ROW) {
    const char *e = sc_db_column_text(s, 0), *l = sc_db_column_text(s, 1);
    snprintf(etag, etag_cap, "%s", e ? e : "");
    snprintf(last_modified, lm_cap, "%s", l ? l : "");
  }
  sc_db_finalize(s);
  return rv;
}

int sc_vulnstore_put_validators(sc_store *st, const char *url, const char *etag, const char *last_modified,
                                int64_t now) {
  if (!st || !url) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    "INSERT INTO source_validators (url, etag, last_modified, checked_at) VALUES (?,?,?,?) "
                    "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
                    "checked_at = excluded.checked_at",
                    &s))
    return SC_ERR_DB;
  sc_db_bind_text(s, 1, url);
  sc_db_bind_text(s, 2, etag && *etag ? etag : NULL);
  sc_db_bind_text(s, 3, last_modified && *last_modified ? last_modified : NULL);
  sc_db_bind_int64(s, 4, now);
  int rv = sc_db_step(s) == SC_DB_DONE ? 0 : SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}
