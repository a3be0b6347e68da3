/* sc_annotations.c - customs' own annotation pushes in SQLite, table
 * `annotations` (migration 9).  See sc_annotations.h.
 * Statements are prepared per call (sc_store_prep): these run a few times a
 * second at most, and the handle's statement cache is kept for hot loops.
 * Owner: store.  Thread: the handle's.  Errors: see the header. */
#include "sc_annotations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_store_int.h"

static const char *const STATUS[] = {"pending", "pushed", "failed"};

const char *sc_annot_status_name(sc_annot_status s) { return (unsigned)s < 3 ? STATUS[s] : "failed"; }

static sc_annot_status status_of(const char *s) {
  for (int i = 0; i < 3; i++)
    if (s && !strcmp(s, STATUS[i])) return (sc_annot_status)i;
  return SC_ANNOT_FAILED;
}

void sc_annot_list_free(sc_annot_list *l) {
  if (!l) return;
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

int sc_annotations_enqueue(sc_store *st, const char *repo, const char *image, int64_t now) {
  if (!st || !repo || !image || strlen(repo) >= SC_ANNOT_REPO_MAX || strlen(image) >= SC_ANNOT_DIGEST_BYTES)
    return SC_ERR_ARG;
  sc_db_stmt *s;
  int rv = sc_store_write_begin(st, 0);
  if (rv) return rv;
  if (sc_store_prep(st,
                    "INSERT INTO annotations(repo, image, kind, status, attempts, next_at, updated_at)"
                    " VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4)"
                    " ON CONFLICT(repo, image, kind) DO UPDATE SET status = 'pending', attempts = 0,"
                    /* the table named: PostgreSQL finds a bare status ambiguous beside excluded's */
                    " next_at = excluded.next_at, updated_at = excluded.updated_at"
                    " WHERE annotations.status = 'failed'",
                    &s))
    return sc_store_rollback_rv(st, SC_ERR_DB);
  for (int k = 0; k < SC_ANNOT_NKINDS && !rv; k++) {
    sc_store_bind_text(s, 1, repo);
    sc_store_bind_text(s, 2, image);
    sc_store_bind_text(s, 3, sc_annot_kind_name((sc_annot_kind)k));
    sc_db_bind_int64(s, 4, now);
    rv = sc_store_step_done(s);
  }
  sc_db_finalize(s);
  return rv ? sc_store_rollback_rv(st, rv) : sc_store_write_end(st, 1);
}

#define ROW_COLS                                                                                                 \
  "SELECT repo, image, kind, status, manifest, content_hash, attempts, next_at, updated_at, last_error"       \
  " FROM annotations "

/* Appends the rows of s (ROW_COLS) to out, at most max; with cb, hands each
 * row to it instead. */
static int read_rows(sc_db_stmt *s, size_t max, sc_annot_list *out, int (*cb)(void *, const sc_annot_job *),
                     void *arg) {
  int rc, rv = 0;
  size_t seen = 0;
  sc_annot_job one;
  while (seen < max && (rc = sc_db_step(s)) == SC_DB_ROW) {
    sc_annot_job *j = &one;
    if (!cb) {
      sc_annot_job *nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
      if (!nv) return SC_ERR_NOMEM;
      out->v = nv;
      j = &out->v[out->n++];
    }
    memset(j, 0, sizeof(*j));
    sc_store_col_copy(s, 0, j->repo, sizeof(j->repo));
    sc_store_col_copy(s, 1, j->image, sizeof(j->image));
    int k = sc_annot_kind_parse(sc_db_column_text(s, 2));
    j->kind = k < 0 ? SC_ANNOT_SBOM : (sc_annot_kind)k;
    j->status = status_of(sc_db_column_text(s, 3));
    sc_store_col_copy(s, 4, j->manifest, sizeof(j->manifest));
    sc_store_col_copy(s, 5, j->content_hash, sizeof(j->content_hash));
    j->attempts = (int)sc_db_column_int64(s, 6);
    j->next_at = sc_db_column_int64(s, 7);
    j->updated_at = sc_db_column_int64(s, 8);
    sc_store_col_copy(s, 9, j->last_error, sizeof(j->last_error));
    seen++;
    if (cb && (rv = cb(arg, j))) return rv;
  }
  if (seen < max && rc != SC_DB_DONE) return SC_ERR_DB;
  return 0;
}

int sc_annotations_due(sc_store *st, int64_t now, size_t max, sc_annot_list *out) {
  if (!st || !out) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, ROW_COLS "WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, repo, image, kind", &s))
    return SC_ERR_DB;
  sc_db_bind_int64(s, 1, now);
  int rv = read_rows(s, max, out, NULL, NULL);
  sc_db_finalize(s);
  return rv;
}

int sc_annotations_next_due(sc_store *st, int64_t *next_at, int *any) {
  if (!st || !next_at || !any) return SC_ERR_ARG;
  sc_db_stmt *s;
  *any = 0;
  if (sc_store_prep(st, "SELECT min(next_at) FROM annotations WHERE status = 'pending'", &s)) return SC_ERR_DB;
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW && !sc_db_column_is_null(s, 0)) {
    *any = 1;
    *next_at = sc_db_column_int64(s, 0);
  }
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

int sc_annotations_take(sc_store *st, const char *repo, const char *image, sc_annot_kind kind, int64_t seen_next_at,
                        int64_t lease_until) {
  if (!st || !repo || !image || (unsigned)kind >= SC_ANNOT_NKINDS) return SC_ERR_ARG;
  sc_db_stmt *s;
  /* compare and set: of two replicas that read the same row, one changes it */
  if (sc_store_prep(st,
                    "UPDATE annotations SET next_at = ?1 WHERE repo = ?2 AND image = ?3 AND kind = ?4"
                    " AND status = 'pending' AND next_at = ?5",
                    &s))
    return SC_ERR_DB;
  sc_db_bind_int64(s, 1, lease_until);
  sc_store_bind_text(s, 2, repo);
  sc_store_bind_text(s, 3, image);
  sc_store_bind_text(s, 4, sc_annot_kind_name(kind));
  sc_db_bind_int64(s, 5, seen_next_at);
  int rc = sc_db_step(s);
  sc_db_finalize(s);
  if (rc != SC_DB_DONE) return SC_ERR_DB;
  return sc_db_changes(st->db) == 1 ? 0 : SC_ERR_STATE;
}

int sc_annotations_attempted(sc_store *st, const char *repo, const char *image, sc_annot_kind kind,
                             sc_annot_status status, const char *manifest, const char *content_hash,
                             const char *error, int64_t now, int64_t next_at) {
  if (!st || !repo || !image || (unsigned)kind >= SC_ANNOT_NKINDS || (unsigned)status > SC_ANNOT_FAILED ||
      (status == SC_ANNOT_PUSHED && (!manifest || !content_hash)))
    return SC_ERR_ARG;
  char err[SC_ANNOT_ERROR_MAX_BYTES + 1];
  if (error) snprintf(err, sizeof(err), "%s", error);
  sc_db_stmt *s;
  /* pushed: the new artifact replaces manifest and hash; otherwise they
   * stay (a failed replacement leaves the old artifact named) */
  if (sc_store_prep(st,
                    "UPDATE annotations SET status = ?1,"
                    " attempts = CASE WHEN ?1 = 'pushed' THEN 0 ELSE attempts + 1 END,"
                    " manifest = CASE WHEN ?1 = 'pushed' THEN ?2 ELSE manifest END,"
                    " content_hash = CASE WHEN ?1 = 'pushed' THEN ?3 ELSE content_hash END,"
                    " last_error = ?4, next_at = ?5, updated_at = ?6"
                    " WHERE repo = ?7 AND image = ?8 AND kind = ?9 AND status = 'pending'",
                    &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, sc_annot_status_name(status));
  sc_store_bind_text(s, 2, manifest);
  sc_store_bind_text(s, 3, content_hash);
  sc_store_bind_text(s, 4, status == SC_ANNOT_PUSHED || !error ? NULL : err);
  sc_db_bind_int64(s, 5, status == SC_ANNOT_PENDING ? next_at : now);
  sc_db_bind_int64(s, 6, now);
  sc_store_bind_text(s, 7, repo);
  sc_store_bind_text(s, 8, image);
  sc_store_bind_text(s, 9, sc_annot_kind_name(kind));
  int rc = sc_db_step(s);
  sc_db_finalize(s);
  if (rc != SC_DB_DONE) return SC_ERR_DB;
  return sc_db_changes(st->db) == 1 ? 0 : SC_ERR_NOTFOUND;
}

int sc_annotations_list(sc_store *st, const char *repo, const char *image, sc_annot_list *out) {
  if (!st || !image || !out) return SC_ERR_ARG;
  sc_db_stmt *s;
  /* CAST: `?1 IS NULL` alone leaves ?1's type open, which PostgreSQL refuses */
  if (sc_store_prep(st, ROW_COLS "WHERE (CAST(?1 AS TEXT) IS NULL OR repo = ?1) AND image = ?2 ORDER BY repo, kind",
                    &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, repo);
  sc_store_bind_text(s, 2, image);
  int rv = read_rows(s, SC_STORE_MAX_ROWS, out, NULL, NULL);
  sc_db_finalize(s);
  return rv;
}

int sc_annotations_recent(sc_store *st, int status, size_t max, sc_annot_list *out) {
  if (!st || !out) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, ROW_COLS "WHERE CAST(?1 AS TEXT) IS NULL OR status = ?1 ORDER BY updated_at, repo, image, kind",
                    &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, status < 0 ? NULL : sc_annot_status_name((sc_annot_status)status));
  int rv = read_rows(s, max, out, NULL, NULL);
  sc_db_finalize(s);
  return rv;
}

int sc_annotations_count(sc_store *st, int status, int64_t *n) {
  if (!st || !n) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, "SELECT count(*) FROM annotations WHERE CAST(?1 AS TEXT) IS NULL OR status = ?1", &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, status < 0 ? NULL : sc_annot_status_name((sc_annot_status)status));
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) *n = sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

int sc_annotations_each_pushed(sc_store *st, sc_annot_kind kind, const char *after_repo, const char *after_image,
                               size_t max, int (*cb)(void *arg, const sc_annot_job *job), void *arg) {
  if (!st || !cb || (unsigned)kind >= SC_ANNOT_NKINDS) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    ROW_COLS "WHERE kind = ?1 AND status = 'pushed' AND (repo, image) > (?2, ?3)"
                             " ORDER BY repo, image",
                    &s))
    return SC_ERR_DB;
  sc_store_bind_text(s, 1, sc_annot_kind_name(kind));
  sc_store_bind_text(s, 2, after_repo ? after_repo : "");
  sc_store_bind_text(s, 3, after_image ? after_image : "");
  int rv = read_rows(s, max, NULL, cb, arg);
  sc_db_finalize(s);
  return rv;
}

int sc_annotations_replace(sc_store *st, const char *repo, const char *image, sc_annot_kind kind, int64_t now) {
  if (!st || !repo || !image || (unsigned)kind >= SC_ANNOT_NKINDS) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st,
                    "UPDATE annotations SET status = 'pending', attempts = 0, next_at = ?1, updated_at = ?1,"
                    " last_error = NULL WHERE repo = ?2 AND image = ?3 AND kind = ?4 AND status = 'pushed'",
                    &s))
    return SC_ERR_DB;
  sc_db_bind_int64(s, 1, now);
  sc_store_bind_text(s, 2, repo);
  sc_store_bind_text(s, 3, image);
  sc_store_bind_text(s, 4, sc_annot_kind_name(kind));
  int rc = sc_db_step(s);
  sc_db_finalize(s);
  if (rc != SC_DB_DONE) return SC_ERR_DB;
  return sc_db_changes(st->db) == 1 ? 0 : SC_ERR_NOTFOUND;
}
