/* sc_store_lineage.c - image lineage (tables chain_images,
 * chain_layers, chain_children, tag_history, watched): chains, index
 * membership, tag moves and watched tags.  What the rows mean is in
 * sc_store_lineage.h; the questions asked of them are in sc_lineage.c.
 * Owner: store.  Thread: the handle's.  Errors: see sc_store_lineage.h. */
#include "sc_store_lineage.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_image.h"
#define SC_STORE_SHORT_NAMES /* exec, prep, ... (sc_store_int.h) */
#include "sc_store_int.h"

const char *sc_origin_name(int origin) { return origin == SC_ORIGIN_WATCH ? "watch" : "local"; }

int sc_chain_ids(const char *const *diff_ids, size_t n, char (*out)[72]) {
  if (n && (!diff_ids || !out)) return SC_ERR_ARG;
  for (size_t i = 0; i < n; i++) {
    if (!sc_digest_valid(diff_ids[i], 0)) return SC_ERR_ARG;
    if (i == 0) {
      snprintf(out[0], 72, "%s", diff_ids[0]);
      continue;
    }
    /* OCI image spec: ChainID(L0|..|Ln) = Digest(ChainID(L0|..|Ln-1) + " " + DiffID(Ln)) */
    char buf[160];
    int len = snprintf(buf, sizeof(buf), "%s %s", out[i - 1], diff_ids[i]);
    if (len < 0 || (size_t)len >= sizeof(buf) || sc_digest_sha256(buf, (size_t)len, out[i]) != 0)
      return SC_ERR_NOMEM;
  }
  return 0;
}

/* A savepoint makes a write all-or-nothing both alone and inside the
 * caller's transaction (sc_store_put_manifest_ex).  A SAVEPOINT outside a
 * transaction opens one in SQLite; PostgreSQL accepts SAVEPOINT only
 * inside a transaction block, so there a write outside one gets its own
 * transaction (*own).  Inside one, both dialects take the same savepoint
 * (PostgreSQL's ROLLBACK TO also clears a failed statement). */
static int sp_begin(sc_store *st, int *own) {
  *own = sc_db_dialect(st->db) == SC_DB_PG && !sc_db_in_transaction(st->db);
  if (*own) return sc_store_begin(st);
  return exec(st, "SAVEPOINT lineage");
}
static int sp_end(sc_store *st, int own, int rv) {
  if (own) {
    if (!rv && sc_db_commit(st->db)) rv = SC_ERR_DB;
    return rv ? rollback(st, rv) : 0;
  }
  if (rv) {
    if (sc_db_errclass(st->db) != SC_DB_EOK)
      snprintf(st->err, sizeof(st->err), "%s", sc_db_errmsg(st->db));
    exec(st, "ROLLBACK TO lineage");
  }
  exec(st, "RELEASE lineage");
  return rv;
}

int sc_store_put_chain(sc_store *st, const char *digest, int origin, const char *platform,
                       const char *const *diff_ids, size_t n, const char *base_name, const char *base_digest) {
  if (!st || !digest || !sc_digest_valid(digest, 0) || (n && !diff_ids)) return SC_ERR_ARG;
  if (n > SC_LINEAGE_MAX_LAYERS) return SC_ERR_LIMIT;
  char (*ids)[72] = n ? calloc(n, sizeof(*ids)) : NULL;
  if (n && !ids) return SC_ERR_NOMEM;
  int rv = sc_chain_ids(diff_ids, n, ids);
  if (rv) {
    free(ids);
    return rv;
  }
  int own;
  if (sp_begin(st, &own)) {
    free(ids);
    return SC_ERR_DB;
  }
  sc_db_stmt *s = NULL;
  rv = SC_ERR_DB;
  if (origin == SC_ORIGIN_WATCH) {
    /* an image also pushed through customs stays local */
    int local = 0;
    if (prep(st, "SELECT 1 FROM chain_images WHERE digest = ? AND origin = 'local'", &s) || bind_text(s, 1, digest))
      goto out;
    int rc = sc_db_step(s);
    if (rc == SC_DB_ROW) local = 1;
    else if (rc != SC_DB_DONE) goto out;
    sc_db_finalize(s);
    s = NULL;
    if (local) {
      rv = 0;
      goto out;
    }
  }
  if (prep(st, "DELETE FROM chain_images WHERE digest = ?", &s) || bind_text(s, 1, digest) || step_done(s)) goto out;
  sc_db_finalize(s);
  if (prep(st,
           "INSERT INTO chain_images (digest, origin, platform, nlayers, top_chain, base_name, base_digest,"
           /* the time from C, not strftime('%s','now'): both dialects */
           " recorded_at) VALUES (?,?,?,?,?,?,?,?)",
           &s) ||
      bind_text(s, 1, digest) || bind_text(s, 2, sc_origin_name(origin)) ||
      bind_text(s, 3, platform && platform[0] ? platform : NULL) || sc_db_bind_int64(s, 4, (int64_t)n) ||
      bind_text(s, 5, n ? ids[n - 1] : "") || bind_text(s, 6, base_name) || bind_text(s, 7, base_digest) ||
      sc_db_bind_int64(s, 8, (int64_t)time(NULL)) || step_done(s))
    goto out;
  sc_db_finalize(s);
  if (prep(st, "INSERT INTO chain_layers (image, idx, diff_id, chain_id) VALUES (?,?,?,?)", &s)) goto out;
  for (size_t i = 0; i < n; i++)
    if (bind_text(s, 1, digest) || sc_db_bind_int64(s, 2, (int64_t)i) || bind_text(s, 3, diff_ids[i]) ||
        bind_text(s, 4, ids[i]) || step_done(s))
      goto out;
  rv = 0;
out:
  sc_db_finalize(s);
  free(ids);
  return sp_end(st, own, rv);
}

int sc_store_put_chain_child(sc_store *st, const char *parent, const char *child, const char *platform) {
  if (!st || !sc_digest_valid(parent, 0) || !sc_digest_valid(child, 0)) return SC_ERR_ARG;
  sc_db_stmt *s;
  /* an upsert (both dialects): chain_children has no dependent rows,
   * triggers or rowid readers, so OR REPLACE's delete changed nothing more */
  if (prep(st,
           "INSERT INTO chain_children (parent, child, platform) VALUES (?,?,?)"
           " ON CONFLICT (parent, child) DO UPDATE SET platform = excluded.platform",
           &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, parent) || bind_text(s, 2, child) || bind_text(s, 3, platform) || step_done(s)
               ? SC_ERR_DB
               : 0;
  sc_db_finalize(s);
  return rv;
}

void sc_chain_free(sc_chain *c) {
  if (!c) return;
  free(c->diff_ids);
  free(c->chain_ids);
  free(c->base_name);
  free(c->base_digest);
  memset(c, 0, sizeof(*c));
}

int sc_store_get_chain(sc_store *st, const char *digest, sc_chain *out) {
  if (!out) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  if (!st || !digest) return SC_ERR_ARG;
  sc_db_stmt *s;
  int rv = 0, rc;
  if (prep(st,
           "SELECT origin, platform, nlayers, base_name, base_digest, recorded_at FROM chain_images"
           " WHERE digest = ?",
           &s))
    return SC_ERR_DB;
  if (bind_text(s, 1, digest)) rv = SC_ERR_DB;
  else if ((rc = sc_db_step(s)) != SC_DB_ROW) rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  if (!rv) {
    char origin[16];
    copy_col(s, 0, origin, sizeof(origin));
    out->origin = !strcmp(origin, "watch") ? SC_ORIGIN_WATCH : SC_ORIGIN_LOCAL;
    snprintf(out->digest, sizeof(out->digest), "%s", digest);
    copy_col(s, 1, out->platform, sizeof(out->platform));
    int64_t n = sc_db_column_int64(s, 2);
    out->base_name = col_dup(s, 3, &rv);
    out->base_digest = col_dup(s, 4, &rv);
    out->recorded_at = sc_db_column_int64(s, 5);
    if (n < 0 || n > SC_LINEAGE_MAX_LAYERS) rv = SC_ERR_LIMIT;
    else out->n = (size_t)n;
  }
  sc_db_finalize(s);
  if (rv || !out->n) return rv;
  out->diff_ids = calloc(out->n, sizeof(*out->diff_ids));
  out->chain_ids = calloc(out->n, sizeof(*out->chain_ids));
  if (!out->diff_ids || !out->chain_ids) return SC_ERR_NOMEM;
  if (prep(st, "SELECT idx, diff_id, chain_id FROM chain_layers WHERE image = ? ORDER BY idx", &s)) return SC_ERR_DB;
  size_t got = 0;
  if (bind_text(s, 1, digest)) rv = SC_ERR_DB;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    int64_t i = sc_db_column_int64(s, 0);
    if (i < 0 || (size_t)i >= out->n) continue;
    copy_col(s, 1, out->diff_ids[i], 72);
    copy_col(s, 2, out->chain_ids[i], 72);
    got++;
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  if (!rv && got != out->n) rv = SC_ERR_FORMAT; /* rows missing: not a usable chain */
  sc_db_finalize(s);
  return rv;
}

/* Runs s (bound by the caller) and hands each row's digest and count to
 * cb; at most SC_LINEAGE_MAX_ROWS rows. */
static int each_image(sc_db_stmt *s, int (*cb)(void *, const char *, size_t), void *arg) {
  int rc, rv = 0;
  size_t rows = 0;
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    if (++rows > SC_LINEAGE_MAX_ROWS) return SC_ERR_LIMIT;
    int64_t n = sc_db_column_int64(s, 1);
    if ((rv = cb(arg, sc_db_column_text(s, 0), n < 0 ? 0 : (size_t)n))) return rv;
  }
  return rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

int sc_store_chain_images_with_top(sc_store *st, const char *top_chain,
                                   int (*cb)(void *arg, const char *digest, size_t nlayers), void *arg) {
  if (!st || !top_chain || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "SELECT digest, nlayers FROM chain_images WHERE top_chain = ? AND nlayers > 0 ORDER BY digest", &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, top_chain) ? SC_ERR_DB : each_image(s, cb, arg);
  sc_db_finalize(s);
  return rv;
}

int sc_store_chain_images_above(sc_store *st, const char *chain_id, size_t idx,
                                int (*cb)(void *arg, const char *digest, size_t nlayers), void *arg) {
  if (!st || !chain_id || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st,
           "SELECT ci.digest, ci.nlayers FROM chain_layers cl JOIN chain_images ci ON ci.digest = cl.image"
           " WHERE cl.chain_id = ? AND cl.idx = ? AND ci.nlayers > ? ORDER BY ci.nlayers, ci.digest",
           &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, chain_id) || sc_db_bind_int64(s, 2, (int64_t)idx) ||
                   sc_db_bind_int64(s, 3, (int64_t)idx + 1)
               ? SC_ERR_DB
               : each_image(s, cb, arg);
  sc_db_finalize(s);
  return rv;
}

/* Runs s (bound by the caller) and hands column 0 of each row to cb. */
static int each_text(sc_db_stmt *s, int (*cb)(void *, const char *), void *arg) {
  int rc, rv = 0;
  size_t rows = 0;
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    if (++rows > SC_LINEAGE_MAX_ROWS) return SC_ERR_LIMIT;
    if ((rv = cb(arg, sc_db_column_text(s, 0)))) return rv;
  }
  return rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

int sc_store_chain_images_annotated(sc_store *st, const char *base_digest,
                                    int (*cb)(void *arg, const char *digest), void *arg) {
  if (!st || !base_digest || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "SELECT digest FROM chain_images WHERE base_digest = ? ORDER BY digest", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, base_digest) ? SC_ERR_DB : each_text(s, cb, arg);
  sc_db_finalize(s);
  return rv;
}

/* Runs s (bound by the caller) and hands columns 0 and 1 of each row to cb. */
static int each_pair(sc_db_stmt *s, int (*cb)(void *, const char *, const char *), void *arg) {
  int rc, rv = 0;
  size_t rows = 0;
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    if (++rows > SC_LINEAGE_MAX_ROWS) return SC_ERR_LIMIT;
    if ((rv = cb(arg, sc_db_column_text(s, 0), sc_db_column_text(s, 1)))) return rv;
  }
  return rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

int sc_store_chain_children(sc_store *st, const char *parent,
                            int (*cb)(void *arg, const char *child, const char *platform), void *arg) {
  if (!st || !parent || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "SELECT child, platform FROM chain_children WHERE parent = ? ORDER BY child", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, parent) ? SC_ERR_DB : each_pair(s, cb, arg);
  sc_db_finalize(s);
  return rv;
}

int sc_store_chain_parents(sc_store *st, const char *child, int (*cb)(void *arg, const char *parent), void *arg) {
  if (!st || !child || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "SELECT parent FROM chain_children WHERE child = ? ORDER BY parent", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, child) ? SC_ERR_DB : each_text(s, cb, arg);
  sc_db_finalize(s);
  return rv;
}

/* ---- tags and their history ---- */

static int history_add(sc_store *st, int origin, const char *repo, const char *tag, const char *digest,
                       const char *prev, int64_t at) {
  sc_db_stmt *s;
  if (prep(st, "INSERT INTO tag_history (origin, repo, tag, digest, prev, at) VALUES (?,?,?,?,?,?)", &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, sc_origin_name(origin)) || bind_text(s, 2, repo) || bind_text(s, 3, tag) ||
                   bind_text(s, 4, digest) || bind_text(s, 5, prev && prev[0] ? prev : NULL) ||
                   sc_db_bind_int64(s, 6, at) || step_done(s)
               ? SC_ERR_DB
               : 0;
  sc_db_finalize(s);
  return rv;
}

/* The digest of repo:tag's newest history row, "" when none. */
static int history_last(sc_store *st, int origin, const char *repo, const char *tag, char out[72]) {
  sc_db_stmt *s;
  out[0] = '\0';
  if (prep(st,
           "SELECT digest FROM tag_history WHERE origin = ? AND repo = ? AND tag = ? ORDER BY seq DESC LIMIT 1",
           &s))
    return SC_ERR_DB;
  int rv = 0, rc;
  if (bind_text(s, 1, sc_origin_name(origin)) || bind_text(s, 2, repo) || bind_text(s, 3, tag)) rv = SC_ERR_DB;
  else if ((rc = sc_db_step(s)) == SC_DB_ROW) copy_col(s, 0, out, 72);
  else if (rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

/* Records a move to digest when known (the tag's digest before the
 * change, "" when it had none) differs; prev (may be NULL) gets known on
 * a move, "" otherwise.  A tag whose history starts here (it was set
 * before history was kept) gets its first row now. */
int sc_store_tag_moved(sc_store *st, int origin, const char *repo, const char *tag, const char *digest,
                       const char *known, int64_t at, char *prev) {
  char last[72];
  int rv;
  if (prev) prev[0] = '\0';
  if (!strcmp(known, digest)) {
    if ((rv = history_last(st, origin, repo, tag, last))) return rv;
    return last[0] ? 0 : history_add(st, origin, repo, tag, digest, NULL, at);
  }
  if ((rv = history_add(st, origin, repo, tag, digest, known, at))) return rv;
  if (prev) snprintf(prev, 72, "%s", known);
  return 0;
}

int sc_store_tag_record(sc_store *st, int origin, const char *repo, const char *tag, const char *digest,
                        int64_t at, char *prev) {
  if (prev) prev[0] = '\0';
  if (!st || !repo || !tag || !sc_digest_valid(digest, 0)) return SC_ERR_ARG;
  char last[72];
  int rv = history_last(st, origin, repo, tag, last);
  if (rv || !strcmp(last, digest)) return rv;
  if ((rv = history_add(st, origin, repo, tag, digest, last, at))) return rv;
  if (prev) snprintf(prev, 72, "%s", last);
  return 0;
}

/* Rows of tag_history with when each was left, for the two iterations. */
#define HISTORY_COLS                                                                                         \
  "SELECT h.origin, h.repo, h.tag, h.digest, h.prev, h.at, (SELECT n.at FROM tag_history n"                 \
  " WHERE n.origin = h.origin AND n.repo = h.repo AND n.tag = h.tag AND n.seq > h.seq ORDER BY n.seq LIMIT 1)" \
  " FROM tag_history h "

static int each_move(sc_db_stmt *s, size_t max, int (*cb)(void *, const sc_tag_move *), void *arg) {
  int rc, rv = 0;
  size_t rows = 0;
  if (!max || max > SC_LINEAGE_MAX_ROWS) max = SC_LINEAGE_MAX_ROWS;
  while ((rc = sc_db_step(s)) == SC_DB_ROW) {
    if (++rows > max) return 0;
    sc_tag_move m;
    m.origin = !strcmp(sc_db_column_text(s, 0), "watch") ? SC_ORIGIN_WATCH : SC_ORIGIN_LOCAL;
    m.repo = sc_db_column_text(s, 1);
    m.tag = sc_db_column_text(s, 2);
    m.digest = sc_db_column_text(s, 3);
    m.prev = sc_db_column_text(s, 4);
    m.at = sc_db_column_int64(s, 5);
    m.until = sc_db_column_is_null(s, 6) ? 0 : sc_db_column_int64(s, 6);
    if ((rv = cb(arg, &m))) return rv;
  }
  return rc == SC_DB_DONE ? 0 : SC_ERR_DB;
}

int sc_store_tag_history(sc_store *st, int origin, const char *repo, const char *tag, size_t max,
                         int (*cb)(void *arg, const sc_tag_move *m), void *arg) {
  if (!st || !repo || !tag || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, HISTORY_COLS "WHERE h.origin = ? AND h.repo = ? AND h.tag = ? ORDER BY h.seq DESC", &s))
    return SC_ERR_DB;
  int rv = bind_text(s, 1, sc_origin_name(origin)) || bind_text(s, 2, repo) || bind_text(s, 3, tag)
               ? SC_ERR_DB
               : each_move(s, max, cb, arg);
  sc_db_finalize(s);
  return rv;
}

int sc_store_tags_of_digest(sc_store *st, const char *digest, int (*cb)(void *arg, const sc_tag_move *m),
                            void *arg) {
  if (!st || !digest || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, HISTORY_COLS "WHERE h.digest = ? ORDER BY h.seq", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest) ? SC_ERR_DB : each_move(s, 0, cb, arg);
  sc_db_finalize(s);
  return rv;
}

int sc_store_current_tags(sc_store *st, const char *digest,
                          int (*cb)(void *arg, const char *repo, const char *tag), void *arg) {
  if (!st || !digest || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (prep(st, "SELECT repo, tag FROM tags WHERE digest = ? ORDER BY repo, tag", &s)) return SC_ERR_DB;
  int rv = bind_text(s, 1, digest) ? SC_ERR_DB : each_pair(s, cb, arg);
  sc_db_finalize(s);
  return rv;
}

int sc_store_tag_current(sc_store *st, int origin, const char *repo, const char *tag, char digest[72]) {
  if (!st || !repo || !tag || !digest) return SC_ERR_ARG;
  sc_db_stmt *s;
  digest[0] = '\0';
  if (prep(st,
           origin == SC_ORIGIN_WATCH ? "SELECT digest FROM watched WHERE repo = ? AND tag = ? AND digest IS NOT NULL"
                                     : "SELECT digest FROM tags WHERE repo = ? AND tag = ?",
           &s))
    return SC_ERR_DB;
  int rv = 0, rc;
  if (bind_text(s, 1, repo) || bind_text(s, 2, tag)) rv = SC_ERR_DB;
  else if ((rc = sc_db_step(s)) == SC_DB_ROW) copy_col(s, 0, digest, 72);
  else rv = rc == SC_DB_DONE ? SC_ERR_NOTFOUND : SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

/* ---- watched upstream tags ---- */

int sc_store_watch_set(sc_store *st, const char *repo, const char *tag, const char *digest, const char *error,
                       int64_t now, char prev[72]) {
  if (prev) prev[0] = '\0';
  if (!st || !repo || !tag || (digest && !sc_digest_valid(digest, 0))) return SC_ERR_ARG;
  char known[72];
  int rv = sc_store_write_begin(st, 0);
  if (rv) return rv;
  rv = sc_store_tag_current(st, SC_ORIGIN_WATCH, repo, tag, known);
  if (rv == SC_ERR_NOTFOUND) known[0] = '\0', rv = 0;
  sc_db_stmt *s = NULL;
  if (!rv && prep(st,
                  digest ? "INSERT INTO watched (repo, tag, digest, checked_at, error) VALUES (?1,?2,?3,?4,NULL)"
                           " ON CONFLICT (repo, tag) DO UPDATE SET digest = ?3, checked_at = ?4, error = NULL"
                         /* numbered without a gap: PostgreSQL cannot type an unused $n */
                         : "INSERT INTO watched (repo, tag, digest, checked_at, error) VALUES (?1,?2,NULL,?3,?4)"
                           " ON CONFLICT (repo, tag) DO UPDATE SET checked_at = ?3, error = ?4",
                  &s))
    rv = SC_ERR_DB;
  if (!rv && (bind_text(s, 1, repo) || bind_text(s, 2, tag) ||
              (digest ? bind_text(s, 3, digest) || sc_db_bind_int64(s, 4, now)
                      : sc_db_bind_int64(s, 3, now) || bind_text(s, 4, error ? error : "failed")) ||
              step_done(s)))
    rv = SC_ERR_DB;
  sc_db_finalize(s);
  if (!rv && digest) rv = sc_store_tag_moved(st, SC_ORIGIN_WATCH, repo, tag, digest, known, now, prev);
  int end = sc_store_write_end(st, rv == 0);
  if (rv && prev) prev[0] = '\0';
  return rv ? rv : end;
}

int sc_store_watch_each(sc_store *st, int (*cb)(void *arg, const sc_watch_row *r), void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  int rv = 0, rc;
  size_t rows = 0;
  if (prep(st, "SELECT repo, tag, digest, checked_at, error FROM watched ORDER BY repo, tag", &s)) return SC_ERR_DB;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    sc_watch_row r;
    if (++rows > SC_LINEAGE_MAX_ROWS) {
      rv = SC_ERR_LIMIT;
      break;
    }
    r.repo = sc_db_column_text(s, 0);
    r.tag = sc_db_column_text(s, 1);
    r.digest = sc_db_column_text(s, 2);
    r.checked_at = sc_db_column_is_null(s, 3) ? 0 : sc_db_column_int64(s, 3);
    r.error = sc_db_column_text(s, 4);
    rv = cb(arg, &r);
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}
