/* sc_store_admin.c - the admin API's reads (see sc_store_admin.h), over the
 * tables repo_images, tags, images (migration 1) and decisions (6).
 * Owner: store.  Thread: the handle's.  Errors: SC_ERR_ARG, SC_ERR_DB, or a
 * callback's value. */
#include "sc_store_admin.h"

#include <stdio.h>
#include <string.h>

#include "sc_store_int.h"

/* "" and NULL both mean "no filter": bound as SQL NULL. */
static int bind_opt(sc_db_stmt *s, int i, const char *v) {
  return sc_store_bind_text(s, i, v && v[0] ? v : NULL);
}

static const char *col_text(sc_db_stmt *s, int i) { return sc_db_column_text(s, i); }

/* Runs a one-row, one-integer query whose parameters are already bound. */
static int one_int(sc_db_stmt *s, int64_t *out) {
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) {
    *out = sc_db_column_int64(s, 0);
    return 0;
  }
  return SC_ERR_DB;
}

int sc_store_admin_ping(sc_store *st) {
  sc_db_stmt *s;
  int64_t v;
  if (!st) return SC_ERR_ARG;
  /* reads a page of the file: an unreadable or vanished database fails here */
  if (sc_store_prep(st, "SELECT count(*) FROM schema_version", &s)) return SC_ERR_DB;
  int rv = one_int(s, &v);
  sc_db_finalize(s);
  return rv;
}

static const char SQL_REPO_NAMES[] = "(SELECT repo FROM repo_images UNION SELECT repo FROM tags)";

int sc_store_admin_counts(sc_store *st, int64_t *repositories, int64_t *images) {
  sc_db_stmt *s;
  int rv;
  if (!st || !repositories || !images) return SC_ERR_ARG;
  if (sc_store_prep(st,
                    /* the alias: PostgreSQL (before 16) needs one on a subquery in FROM */
                    "SELECT (SELECT count(*) FROM (SELECT repo FROM repo_images UNION SELECT repo FROM tags) r),"
                    " (SELECT count(*) FROM repo_images ri JOIN images i ON i.digest = ri.digest)",
                    &s))
    return SC_ERR_DB;
  rv = sc_db_step(s) == SC_DB_ROW ? 0 : SC_ERR_DB;
  if (!rv) {
    *repositories = sc_db_column_int64(s, 0);
    *images = sc_db_column_int64(s, 1);
  }
  sc_db_finalize(s);
  return rv;
}

int sc_store_admin_repositories(sc_store *st, const char *q, int64_t offset, size_t limit, int64_t *total,
                                int (*cb)(void *arg, const char *name, int64_t images, int64_t tags), void *arg) {
  /* SQLITE-ONLY: instr; PostgreSQL's text has strpos (a LIKE would read %
   * and _ in q) and says ?1's type, which `?1 IS NULL` alone leaves open */
  static const char where_lite[] = " r WHERE (?1 IS NULL OR instr(lower(r.repo), lower(?1)) > 0)";
  static const char where_pg[] = " r WHERE (CAST(?1 AS TEXT) IS NULL OR strpos(lower(r.repo), lower(?1)) > 0)";
  char sql[512];
  sc_db_stmt *s;
  int rv = 0, rc;
  if (!st || !cb || limit > SC_STORE_ADMIN_MAX_ROWS || offset < 0) return SC_ERR_ARG;
  int pg = sc_db_dialect(st->db) == SC_DB_PG;
  const char *where = pg ? where_pg : where_lite;
  if (total) {
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s%s", SQL_REPO_NAMES, where);
    if (sc_store_prep(st, sql, &s)) return SC_ERR_DB;
    rv = bind_opt(s, 1, q) ? SC_ERR_DB : one_int(s, total);
    sc_db_finalize(s);
    if (rv) return rv;
  }
  snprintf(sql, sizeof(sql),
           "SELECT r.repo, (SELECT count(*) FROM repo_images WHERE repo = r.repo),"
           " (SELECT count(*) FROM tags WHERE repo = r.repo) FROM %s%s ORDER BY r.repo%s LIMIT ?2 OFFSET ?3",
           SQL_REPO_NAMES, where, pg ? " COLLATE \"C\"" : "");
  if (sc_store_prep(st, sql, &s)) return SC_ERR_DB;
  if (bind_opt(s, 1, q) || sc_db_bind_int64(s, 2, (int64_t)limit) || sc_db_bind_int64(s, 3, offset)) {
    sc_db_finalize(s);
    return SC_ERR_DB;
  }
  while ((rc = sc_db_step(s)) == SC_DB_ROW)
    if ((rv = cb(arg, col_text(s, 0), sc_db_column_int64(s, 1), sc_db_column_int64(s, 2))) != 0) break;
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

/* ?1 repository, ?2 q.  SQLITE-ONLY: instr (see sc_store_admin_repositories) */
#define IMAGES_FROM                                                                                                 \
  " FROM repo_images ri JOIN images i ON i.digest = ri.digest"                                                     \
  " WHERE (?1 IS NULL OR ri.repo = ?1) AND (?2 IS NULL OR instr(lower(ri.repo), lower(?2)) > 0"                     \
  " OR instr(ri.digest, lower(?2)) > 0 OR EXISTS (SELECT 1 FROM tags t WHERE t.repo = ri.repo"                     \
  " AND t.digest = ri.digest AND instr(lower(t.tag), lower(?2)) > 0))"
/* PostgreSQL: strpos for instr, and the parameters' type said (as above) */
#define IMAGES_FROM_PG                                                                                              \
  " FROM repo_images ri JOIN images i ON i.digest = ri.digest"                                                     \
  " WHERE (CAST(?1 AS TEXT) IS NULL OR ri.repo = ?1) AND (CAST(?2 AS TEXT) IS NULL"                                \
  " OR strpos(lower(ri.repo), lower(?2)) > 0 OR strpos(ri.digest, lower(?2)) > 0"                                 \
  " OR EXISTS (SELECT 1 FROM tags t WHERE t.repo = ri.repo"                                                        \
  " AND t.digest = ri.digest AND strpos(lower(t.tag), lower(?2)) > 0))"

static const char SQL_IMAGES[] = "SELECT ri.repo, ri.digest, i.kind, ri.pushed_at,"
                                 " (SELECT t.tag FROM tags t WHERE t.repo = ri.repo AND t.digest = ri.digest"
                                 " ORDER BY t.updated_at DESC, t.tag LIMIT 1)" IMAGES_FROM
                                 /* SQLITE-ONLY: rowid (insertion order breaks ties) */
                                 " ORDER BY ri.pushed_at DESC, ri.rowid DESC LIMIT ?3 OFFSET ?4";
/* PostgreSQL has no rowid: ctid, the row's place in the table, stands for
 * insertion order (repo_images rows are only inserted, never updated:
 * sc_store_images.c), which it keeps until a deletion's space is reused */
static const char SQL_IMAGES_PG[] = "SELECT ri.repo, ri.digest, i.kind, ri.pushed_at,"
                                    " (SELECT t.tag FROM tags t WHERE t.repo = ri.repo AND t.digest = ri.digest"
                                    " ORDER BY t.updated_at DESC, t.tag COLLATE \"C\" LIMIT 1)" IMAGES_FROM_PG
                                    " ORDER BY ri.pushed_at DESC, ri.ctid DESC LIMIT ?3 OFFSET ?4";

int sc_store_admin_images(sc_store *st, const sc_store_admin_image_filter *f, int64_t offset, size_t limit,
                          int64_t *total, int (*cb)(void *arg, const sc_store_admin_image *img), void *arg) {
  sc_db_stmt *s;
  int rv = 0, rc;
  const char *repo = f ? f->repository : NULL, *q = f ? f->q : NULL;
  if (!st || !cb || limit > SC_STORE_ADMIN_MAX_ROWS || offset < 0) return SC_ERR_ARG;
  int pg = sc_db_dialect(st->db) == SC_DB_PG;
  if (total) {
    if (sc_store_prep(st, pg ? "SELECT count(*)" IMAGES_FROM_PG : "SELECT count(*)" IMAGES_FROM, &s))
      return SC_ERR_DB;
    rv = bind_opt(s, 1, repo) || bind_opt(s, 2, q) ? SC_ERR_DB : one_int(s, total);
    sc_db_finalize(s);
    if (rv) return rv;
  }
  if (sc_store_prep(st, pg ? SQL_IMAGES_PG : SQL_IMAGES, &s)) return SC_ERR_DB;
  if (bind_opt(s, 1, repo) || bind_opt(s, 2, q) || sc_db_bind_int64(s, 3, (int64_t)limit) ||
      sc_db_bind_int64(s, 4, offset)) {
    sc_db_finalize(s);
    return SC_ERR_DB;
  }
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    const char *kind = col_text(s, 2);
    sc_store_admin_image img = {col_text(s, 0), col_text(s, 4), col_text(s, 1),
                                kind && !strcmp(kind, "index") ? SC_MANIFEST_INDEX : SC_MANIFEST_IMAGE,
                                sc_db_column_int64(s, 3)};
    if ((rv = cb(arg, &img)) != 0) break;
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

int sc_store_admin_decisions(sc_store *st, const char *repository, const char *verdict, int64_t before, size_t limit,
                             int (*cb)(void *arg, const sc_store_admin_decision *d), void *arg) {
  sc_db_stmt *s;
  int rv = 0, rc;
  if (!st || !cb || limit > SC_STORE_ADMIN_MAX_ROWS || before < 0) return SC_ERR_ARG;
  /* the primary key walks newest first; the repository index helps a filter */
  if (sc_store_prep(st,
                    "SELECT id, at, client, repository, reference, digest, method, verdict, rule, user_agent"
                    " FROM decisions WHERE (?1 = 0 OR id < ?1) AND (CAST(?2 AS TEXT) IS NULL OR repository = ?2)"
                    " AND (CAST(?3 AS TEXT) IS NULL OR verdict = ?3) ORDER BY id DESC LIMIT ?4",
                    &s))
    return SC_ERR_DB;
  if (sc_db_bind_int64(s, 1, before) || bind_opt(s, 2, repository) || bind_opt(s, 3, verdict) ||
      sc_db_bind_int64(s, 4, (int64_t)limit)) {
    sc_db_finalize(s);
    return SC_ERR_DB;
  }
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    sc_store_admin_decision d = {sc_db_column_int64(s, 0), sc_db_column_int64(s, 1), col_text(s, 2),
                                 col_text(s, 3), col_text(s, 4), col_text(s, 5), col_text(s, 6),
                                 col_text(s, 7), col_text(s, 8), col_text(s, 9)};
    if ((rv = cb(arg, &d)) != 0) break;
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}
