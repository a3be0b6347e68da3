/* sc_store_referrers.c - OCI referrers in SQLite (table `referrers`,
 * migration 9): one row per (repository, subject, referrer manifest).
 * What the rows mean is in sc_store_referrers.h; rendering them as the
 * referrers API's image index is in sc_referrers.c.
 * Owner: store.  Thread: the handle's.  Errors: see sc_store_referrers.h. */
#include "sc_store_referrers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_image.h"
#define SC_STORE_SHORT_NAMES /* prep, bind_text, step_done (sc_store_int.h) */
#include "sc_store_int.h"

static const char *origin_name(int origin) { return origin == SC_REF_CUSTOMS ? "customs" : "client"; }

int sc_store_put_referrer(sc_store *st, const char *repo, const char *subject, const sc_referrer *r) {
  if (!st || !repo || !*repo || !sc_digest_valid(subject, 1) || !r || !sc_digest_valid(r->digest, 1) ||
      !r->media_type || r->size < 0)
    return SC_ERR_ARG;
  /* annotations over the cap are dropped, not cut: a cut JSON object is not JSON */
  const char *annot = r->annotations && strlen(r->annotations) <= SC_REFERRER_ANNOT_MAX_BYTES ? r->annotations : NULL;
  /* a referrer pushed again keeps its place in the list (created_at) */
  static const char sql[] =
      "INSERT INTO referrers (repo, subject, digest, media_type, artifact_type, size, annotations, origin, created_at)"
      /* the time from C when none is given, not strftime('%s','now'): both dialects */
      " VALUES (?,?,?,?,?,?,?,?,?)"
      " ON CONFLICT (repo, subject, digest) DO UPDATE SET media_type = excluded.media_type,"
      " artifact_type = excluded.artifact_type, size = excluded.size, annotations = excluded.annotations,"
      " origin = excluded.origin";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s) return SC_ERR_DB;
  if (bind_text(s, 1, repo) || bind_text(s, 2, subject) || bind_text(s, 3, r->digest) ||
      bind_text(s, 4, r->media_type) || bind_text(s, 5, r->artifact_type && *r->artifact_type ? r->artifact_type : NULL) ||
      sc_db_bind_int64(s, 6, r->size) || bind_text(s, 7, annot) || bind_text(s, 8, origin_name(r->origin)) ||
      sc_db_bind_int64(s, 9, r->created_at > 0 ? r->created_at : (int64_t)time(NULL))) {
    sc_db_reset(s);
    return SC_ERR_DB;
  }
  return step_done(s);
}

int sc_store_delete_referrer(sc_store *st, const char *repo, const char *subject, const char *digest) {
  if (!st || !repo || !subject || !digest) return SC_ERR_ARG;
  static const char sql[] = "DELETE FROM referrers WHERE repo = ? AND subject = ? AND digest = ?";
  sc_db_stmt *s = sc_store_stmt(st, sql);
  if (!s) return SC_ERR_DB;
  if (bind_text(s, 1, repo) || bind_text(s, 2, subject) || bind_text(s, 3, digest)) {
    sc_db_reset(s);
    return SC_ERR_DB;
  }
  return step_done(s);
}

int sc_store_forget_referrer(sc_store *st, const char *repo, const char *digest) {
  if (!st || !repo || !digest) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "DELETE FROM referrers WHERE repo = ? AND digest = ?", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, repo) || bind_text(s, 2, digest) || step_done(s) ? SC_ERR_DB : 0;
  sc_db_finalize(s);
  return rv;
}

int sc_store_each_referrer(sc_store *st, const char *repo, const char *subject, const char *artifact_type,
                           int (*cb)(void *arg, const sc_referrer *r), void *arg) {
  static const char all[] =
      "SELECT digest, media_type, artifact_type, annotations, size, origin, created_at FROM referrers"
      " WHERE repo = ?1 AND subject = ?2 ORDER BY created_at, digest LIMIT 10000";
  static const char typed[] =
      "SELECT digest, media_type, artifact_type, annotations, size, origin, created_at FROM referrers"
      " WHERE repo = ?1 AND subject = ?2 AND artifact_type = ?3 ORDER BY created_at, digest LIMIT 10000";
  _Static_assert(SC_REFERRERS_MAX == 10000, "the LIMITs above");
  if (!st || !repo || !subject || !cb) return SC_ERR_ARG;
  /* its own statement: the callback runs while it steps (sc_store_int.h) */
  sc_db_stmt *s;
  if (prep(st, artifact_type ? typed : all, &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, repo) || bind_text(s, 2, subject) || (artifact_type && bind_text(s, 3, artifact_type))
               ? SC_ERR_DB
               : 0;
  while (rv == 0) {
    int rc = sc_db_step(s);
    if (rc == SC_DB_DONE) break;
    if (rc != SC_DB_ROW) {
      rv = SC_ERR_DB;
      break;
    }
    const char *origin = sc_db_column_text(s, 5);
    sc_referrer r = {
        .digest = sc_db_column_text(s, 0),
        .media_type = sc_db_column_text(s, 1),
        .artifact_type = sc_db_column_text(s, 2),
        .annotations = sc_db_column_text(s, 3),
        .size = sc_db_column_int64(s, 4),
        .origin = origin && !strcmp(origin, "customs") ? SC_REF_CUSTOMS : SC_REF_CLIENT,
        .created_at = sc_db_column_int64(s, 6),
    };
    if (!r.digest || !r.media_type) {
      rv = SC_ERR_NOMEM; /* the only way sc_db_column_text fails on a NOT NULL column */
      break;
    }
    rv = cb(arg, &r);
  }
  if (rv == SC_ERR_DB) snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
  sc_db_finalize(s);
  return rv;
}
