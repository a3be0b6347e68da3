/* sc_store_severity.c - CVE scores and vendor ratings (see
 * sc_store_severity.h): tables cve_scores and vuln_ratings (migration 12),
 * and the import's temp.vuln_touched (sc_vulnstore.c) for the CVE ids
 * whose scores changed.
 * Owner: store.  Thread: the handle's.  Errors: SC_ERR_DB, SC_ERR_ARG. */
#include "sc_store_severity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_arena.h"
#include "sc_findlist.h"
#include "sc_store_int.h"

static const char SQL_GET[] = "SELECT vector, score, severity, scored_by FROM cve_scores WHERE cve = ?";
static const char SQL_PUT[] =
    "INSERT INTO cve_scores (cve, vector, score, severity, scored_by, feed) VALUES (?,?,?,?,?,?)"
    " ON CONFLICT(cve) DO UPDATE SET vector = excluded.vector, score = excluded.score,"
    " severity = excluded.severity, scored_by = excluded.scored_by, feed = excluded.feed";
static const char SQL_DEL[] = "DELETE FROM cve_scores WHERE cve = ?";
/* the records naming this CVE re-derive their borrowed severity */
/* SQLITE-ONLY: INSERT OR IGNORE into the temp schema (sc_vulnstore.c): a
 * temp table has no portable name, so PostgreSQL's text names pg_temp */
static const char SQL_TOUCH[] = "INSERT OR IGNORE INTO temp.vuln_touched (alias) VALUES (?)";
static const char SQL_TOUCH_PG[] = "INSERT INTO pg_temp.vuln_touched (alias) VALUES (?) ON CONFLICT DO NOTHING";
/* an upsert (both dialects): vuln_ratings has no dependent rows, triggers
 * or rowid readers, so OR REPLACE's delete changed nothing more */
static const char SQL_RATING[] = "INSERT INTO vuln_ratings (vuln, kind, rating) VALUES (?,?,?)"
                                 " ON CONFLICT (vuln, kind) DO UPDATE SET rating = excluded.rating";

static int same_text(const char *a, const char *b) {
  if (!a || !b) return !a && !b;
  return !strcmp((const char *)a, b);
}

static int touch(sc_store *st, const char *cve) {
  sc_db_stmt *t = sc_store_stmt(st, sc_db_dialect(st->db) == SC_DB_PG ? SQL_TOUCH_PG : SQL_TOUCH);
  return !t || sc_store_bind_text(t, 1, cve) || sc_store_step_done(t) ? SC_ERR_DB : 0;
}

int sc_sev_put_cve_score(sc_store *st, const sc_cve_score *s, const char *feed, int *outcome) {
  if (!st || !s || !s->cve || !outcome) return SC_ERR_ARG;
  sc_db_stmt *g = sc_store_stmt(st, SQL_GET);
  if (!g || sc_store_bind_text(g, 1, s->cve)) return SC_ERR_DB;
  int rc = sc_db_step(g);
  *outcome = SC_SEV_PUT_ADDED;
  if (rc == SC_DB_ROW) {
    /* scores are compared as stored (REAL): a feed giving the same value
     * again is "unchanged", and nothing needs re-deriving */
    int same = same_text(sc_db_column_text(g, 0), s->vector) && sc_db_column_double(g, 1) == s->score &&
               (int)sc_db_column_int64(g, 2) == s->severity && same_text(sc_db_column_text(g, 3), s->scored_by);
    *outcome = same ? SC_SEV_PUT_UNCHANGED : SC_SEV_PUT_UPDATED;
  }
  sc_db_reset(g);
  if (rc != SC_DB_ROW && rc != SC_DB_DONE) return SC_ERR_DB;
  if (*outcome == SC_SEV_PUT_UNCHANGED) return 0;
  sc_db_stmt *p = sc_store_stmt(st, SQL_PUT);
  if (!p || sc_store_bind_text(p, 1, s->cve) || sc_store_bind_text(p, 2, s->vector) ||
      sc_db_bind_double(p, 3, s->score) || sc_db_bind_int64(p, 4, s->severity) ||
      sc_store_bind_text(p, 5, s->scored_by) || sc_store_bind_text(p, 6, feed) || sc_store_step_done(p))
    return SC_ERR_DB;
  return touch(st, s->cve);
}

int sc_sev_del_cve_score(sc_store *st, const char *cve, int *removed) {
  if (!st || !cve) return SC_ERR_ARG;
  sc_db_stmt *d = sc_store_stmt(st, SQL_DEL);
  if (!d || sc_store_bind_text(d, 1, cve) || sc_store_step_done(d)) return SC_ERR_DB;
  int gone = sc_db_changes(st->db) > 0;
  if (removed) *removed = gone;
  return gone ? touch(st, cve) : 0;
}

int sc_sev_put_rating(sc_store *st, const char *id, const char *kind, const char *rating) {
  if (!st || !id || !kind || !rating) return SC_ERR_ARG;
  sc_db_stmt *s = sc_store_stmt(st, SQL_RATING);
  if (!s || sc_store_bind_text(s, 1, id) || sc_store_bind_text(s, 2, kind) || sc_store_bind_text(s, 3, rating) ||
      sc_store_step_done(s))
    return SC_ERR_DB;
  return 0;
}

/* One integer of a query without parameters. */
static int count_of(sc_store *st, const char *sql, int64_t *n) {
  sc_db_stmt *s;
  *n = 0;
  if (sc_store_prep(st, sql, &s)) return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) *n = sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

int sc_sev_count_cve_scores(sc_store *st, int64_t *n) {
  if (!st || !n) return SC_ERR_ARG;
  return count_of(st, "SELECT count(*) FROM cve_scores", n);
}

int sc_sev_count_unrated_findings(sc_store *st, int64_t *unrated, int64_t *total) {
  if (!st || !unrated || !total) return SC_ERR_ARG;
  sc_db_stmt *s;
  *unrated = *total = 0;
  /* severity 0 is SC_SEV_UNKNOWN (-1, scored 0.0, is a severity) */
  if (sc_store_prep(st, "SELECT coalesce(sum(CASE WHEN coalesce(severity, 0) = 0 THEN 1 ELSE 0 END), 0), count(*)"
                    " FROM findings", &s))
    return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) {
    *unrated = sc_db_column_int64(s, 0);
    *total = sc_db_column_int64(s, 1);
  }
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

int sc_sev_rating_of(sc_store *st, const char *id, char *out, size_t cap) {
  if (!st || !id || !out || !cap) return SC_ERR_ARG;
  out[0] = 0;
  sc_db_stmt *s;
  if (sc_store_prep(st, "SELECT kind, rating FROM vuln_ratings WHERE vuln = ? ORDER BY kind LIMIT 1", &s))
    return SC_ERR_DB;
  sc_db_bind_text(s, 1, id);
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW)
    snprintf(out, cap, "%s: %s", sc_db_column_text(s, 0), sc_db_column_text(s, 1));
  sc_db_finalize(s);
  return rc == SC_DB_ROW || rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

int sc_sev_cve_score_of(sc_store *st, const char *cve, double *score, int *severity, char *vector, size_t vcap) {
  if (!st || !cve || !score || !severity) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, SQL_GET, &s)) return SC_ERR_DB;
  sc_db_bind_text(s, 1, cve);
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) {
    if (vector && vcap) sc_store_col_copy(s, 0, vector, vcap);
    *score = sc_db_column_double(s, 1);
    *severity = (int)sc_db_column_int64(s, 2);
  }
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
}

int sc_sev_rate_findings(sc_store *st, sc_finding_list *l) {
  if (!st || !l) return SC_ERR_ARG;
  free(l->rating);
  l->rating = NULL;
  if (!l->n) return 0;
  if (!l->arena && !(l->arena = calloc(1, sizeof(*l->arena)))) return SC_ERR_NOMEM;
  if (!(l->rating = calloc(l->n, sizeof(*l->rating)))) return SC_ERR_NOMEM;
  for (size_t i = 0; i < l->n; i++) {
    char r[160];
    int rv = sc_sev_rating_of(st, l->v[i].id, r, sizeof(r));
    if (rv) return rv;
    if (!(l->rating[i] = r[0] ? sc_arena_strdup(l->arena, r) : "")) return SC_ERR_NOMEM;
  }
  return 0;
}
