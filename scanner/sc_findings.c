/* sc_findings.c - findings persistence (see sc_findings.h):
 * tables layer_findings and matched_images, read through image_layers,
 * layers and vulns.  A set is one JSON row:
 *   [[seq, name, version, ecosystem, purl, [[vuln, fixed, severity, score(, 1)], ...]], ...]
 * where the 5th item of a hit, 1, marks a finding matched by caution
 * (schema 5; absent otherwise, so older sets still read as sure), and an
 * image's hidden packages are [[layer idx, package seq], ...].  The view
 * `findings` (migrations 4, 5) expands them for people with sqlite3.
 * Owner: store.  Thread: the handle's.  Errors: see sc_findings.h. */
#include "sc_findings.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_store_int.h"

/* Upserts (both dialects), here and in SQL_PUT_IMG: layer_findings and
 * matched_images have no dependent rows, triggers or rowid readers, so
 * OR REPLACE's delete and insert did nothing more.  PostgreSQL types the
 * bound JSON text as the JSONB column. */
static const char SQL_PUT_SET[] =
    "INSERT INTO layer_findings (layer, os, generation, fhash, nfindings, data) VALUES (?,?,?,?,?,?)"
    " ON CONFLICT (layer, os) DO UPDATE SET generation = excluded.generation, fhash = excluded.fhash,"
    " nfindings = excluded.nfindings, data = excluded.data";
static const char SQL_KEEP_SET[] = "UPDATE layer_findings SET generation = ? WHERE layer = ? AND os = ?";
static const char SQL_PUT_IMG[] =
    "INSERT INTO matched_images (image, generation, matched_at, fhash, os, hidden) VALUES (?,?,?,?,?,?)"
    " ON CONFLICT (image) DO UPDATE SET generation = excluded.generation, matched_at = excluded.matched_at,"
    " fhash = excluded.fhash, os = excluded.os, hidden = excluded.hidden";
static const char SQL_IMG_ROW[] = "SELECT generation, os, hidden FROM matched_images WHERE image = ?";
static const char SQL_IMG_SETS[] =
    "SELECT il.idx, il.layer, l.digest IS NOT NULL, lf.data FROM image_layers il"
    " LEFT JOIN layers l ON l.digest = il.layer"
    " LEFT JOIN layer_findings lf ON lf.layer = il.layer AND lf.os = ?2"
    " WHERE il.image = ?1 ORDER BY il.idx";
static const char SQL_ALIASES[] = "SELECT aliases FROM vulns WHERE id = ?";

/* ---- encoding ----------------------------------------------------------- */

/* The handle's encoding buffer, emptied (its memory kept across sets). */
static sc_buf *enc_start(sc_store *st) {
  sc_buf *b = &st->enc;
  if (!b->max) sc_buf_init(b, SC_FINDINGS_SET_MAX_BYTES);
  b->len = 0;
  b->full = b->oom = 0;
  if (b->s) b->s[0] = '\0';
  return b;
}

static void put(sc_buf *b, const char *s, size_t n) { sc_buf_add(b, s, n); /* sticky: checked at the end */ }

static void put_int(sc_buf *b, const char *fmt, long long i) {
  char t[32];
  int n = snprintf(t, sizeof(t), fmt, i);
  put(b, t, (size_t)n);
}

/* JSON string; bytes >= 0x80 go through as they are (SQLite stores text). */
static void put_str(sc_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  put(b, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    put(b, run, (size_t)(s - run));
    char e[6] = {'\\', (char)ch, 0};
    if (ch < 0x20) {
      memcpy(e, "\\u00", 4);
      e[4] = hex[ch >> 4];
      e[5] = hex[ch & 15];
      put(b, e, 6);
    } else {
      put(b, e, 2);
    }
    run = s + 1;
  }
  put(b, run, (size_t)(s - run));
  put(b, "\"", 1);
}

static void put_num(sc_buf *b, double d) {
  char t[40];
  int n = snprintf(t, sizeof(t), "%.17g", d == d && d < 1e300 && d > -1e300 ? d : -1.0);
  put(b, t, (size_t)n);
}

static int encode_set(sc_buf *b, const sc_fset_pkg *pk, size_t n) {
  put(b, "[", 1);
  for (size_t i = 0; i < n; i++) {
    const sc_fset_pkg *p = &pk[i];
    put_int(b, i ? ",[%lld," : "[%lld,", p->seq);
    put_str(b, p->name);
    put(b, ",", 1);
    put_str(b, p->version);
    put(b, ",", 1);
    put_str(b, p->eco);
    put(b, ",", 1);
    put_str(b, p->purl);
    put(b, ",[", 2);
    for (size_t k = 0; k < p->h->n; k++) {
      const sc_hit *x = &p->h->v[k];
      put(b, k ? ",[" : "[", k ? 2 : 1);
      put_str(b, x->v->id);
      put(b, ",", 1);
      put_str(b, x->fixed);
      put_int(b, ",%lld,", x->sev);
      put_num(b, x->score);
      if (x->unsure) put(b, ",1", 2); /* 5th item only when set (schema 5) */
      put(b, "]", 1);
    }
    put(b, "]]", 2);
  }
  put(b, "]", 1);
  return sc_buf_err(b);
}

/* ---- writing -------------------------------------------------------------- */

int sc_findings_put_set(sc_store *st, const char *layer, const char *os, int64_t gen, int64_t hash,
                        const sc_fset_pkg *pkgs, size_t n, size_t nfindings) {
  if (!st || !layer || !os || (n && !pkgs)) return SC_ERR_ARG;
  sc_buf *b = enc_start(st);
  int rv = encode_set(b, pkgs, n);
  if (rv) return rv;
  sc_db_stmt *q = sc_store_stmt(st, SQL_PUT_SET);
  if (!q) return SC_ERR_DB;
  if (sc_store_bind_text(q, 1, layer) || sc_store_bind_text(q, 2, os) || sc_db_bind_int64(q, 3, gen) ||
      sc_db_bind_int64(q, 4, hash) || sc_db_bind_int64(q, 5, (int64_t)nfindings) ||
      sc_db_bind_textn(q, 6, b->s, b->len) || sc_store_step_done(q))
    rv = SC_ERR_DB;
  sc_db_reset(q);
  return rv;
}

int sc_findings_keep_set(sc_store *st, const char *layer, const char *os, int64_t gen) {
  if (!st || !layer || !os) return SC_ERR_ARG;
  sc_db_stmt *q = sc_store_stmt(st, SQL_KEEP_SET);
  if (!q || sc_db_bind_int64(q, 1, gen) || sc_store_bind_text(q, 2, layer) || sc_store_bind_text(q, 3, os) ||
      sc_store_step_done(q)) {
    if (q) sc_db_reset(q);
    return SC_ERR_DB;
  }
  return 0;
}

int sc_findings_put_image(sc_store *st, const char *image, int64_t gen, int64_t now, int64_t hash,
                          const char *os, const uint64_t *hidden, size_t nhidden) {
  if (!st || !image || !os || (nhidden && !hidden)) return SC_ERR_ARG;
  sc_buf *b = enc_start(st);
  for (size_t i = 0; i < nhidden; i++) {
    char t[48];
    int n = snprintf(t, sizeof(t), "%s[%llu,%llu]", i ? "," : "[", (unsigned long long)(hidden[i] >> 32),
                     (unsigned long long)(hidden[i] & 0xffffffffu));
    put(b, t, (size_t)n);
  }
  if (nhidden) put(b, "]", 1);
  int rv = sc_buf_err(b);
  if (rv) return rv;
  sc_db_stmt *q = sc_store_stmt(st, SQL_PUT_IMG);
  if (!q) return SC_ERR_DB;
  if (sc_store_bind_text(q, 1, image) || sc_db_bind_int64(q, 2, gen) || sc_db_bind_int64(q, 3, now) ||
      sc_db_bind_int64(q, 4, hash) || sc_store_bind_text(q, 5, os) ||
      (nhidden ? sc_db_bind_textn(q, 6, b->s, b->len) : sc_db_bind_null(q, 6)) ||
      sc_store_step_done(q))
    rv = SC_ERR_DB;
  sc_db_reset(q);
  return rv;
}

int sc_findings_each_set_hash(sc_store *st, int (*cb)(void *arg, const char *layer, const char *os, int64_t hash),
                              void *arg) {
  if (!st || !cb) return SC_ERR_ARG;
  sc_db_stmt *s;
  if (sc_store_prep(st, "SELECT layer, os, fhash FROM layer_findings", &s)) return SC_ERR_DB;
  int rc = SC_DB_DONE, rv = 0;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW)
    rv = cb(arg, sc_db_column_text(s, 0), sc_db_column_text(s, 1),
            sc_db_column_int64(s, 2));
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  sc_db_finalize(s);
  return rv;
}

int sc_findings_forget_gone_images(sc_store *st) {
  if (!st) return SC_ERR_ARG;
  return sc_store_exec(st, "DELETE FROM matched_images WHERE image NOT IN"
                           " (SELECT digest FROM images WHERE kind = 'image');");
}

int sc_findings_prune_sets(sc_store *st, int64_t gen) {
  if (!st) return SC_ERR_ARG;
  sc_db_stmt *d = NULL;
  int rv = sc_store_prep(st, "DELETE FROM layer_findings WHERE generation != ?", &d) ||
                   sc_db_bind_int64(d, 1, gen) || sc_db_step(d) != SC_DB_DONE
               ? SC_ERR_DB
               : 0;
  sc_db_finalize(d);
  return rv;
}

int sc_findings_counts(sc_store *st, int64_t gen, int64_t *images, int64_t *images_at_gen, int64_t *findings) {
  if (!st || !images || !images_at_gen || !findings) return SC_ERR_ARG;
  sc_db_stmt *s;
  *images = *images_at_gen = *findings = 0;
  if (sc_store_prep(st,
                    "SELECT (SELECT count(*) FROM matched_images),"
                    " (SELECT count(*) FROM matched_images WHERE generation = ?),"
                    " (SELECT count(*) FROM findings)",
                    &s))
    return SC_ERR_DB;
  sc_db_bind_int64(s, 1, gen);
  int rc = sc_db_step(s);
  if (rc == SC_DB_ROW) {
    *images = sc_db_column_int64(s, 0);
    *images_at_gen = sc_db_column_int64(s, 1);
    *findings = sc_db_column_int64(s, 2);
  }
  sc_db_finalize(s);
  return rc == SC_DB_ROW ? 0 : SC_ERR_DB;
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct hidset {
  uint64_t *v; /* idx << 32 | seq, sorted */
  size_t n;
} hidset;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* [[idx, seq], ...] (JSON text) -> hidset; SC_ERR_FORMAT when unreadable */
static int hid_parse(const char *txt, hidset *h) {
  json_t *j = json_loads(txt, 0, NULL);
  size_t n = json_array_size(j);
  int rv = json_is_array(j) ? 0 : SC_ERR_FORMAT;
  if (!rv && n && !(h->v = malloc(n * sizeof(uint64_t)))) rv = SC_ERR_NOMEM;
  for (size_t i = 0; !rv && i < n; i++) {
    const json_t *e = json_array_get(j, i);
    json_int_t a = json_integer_value(json_array_get(e, 0)), b = json_integer_value(json_array_get(e, 1));
    if (a < 0 || b < 0 || a > UINT32_MAX || b > UINT32_MAX) rv = SC_ERR_FORMAT;
    else h->v[h->n++] = (uint64_t)a << 32 | (uint64_t)b;
  }
  json_decref(j);
  if (h->n) qsort(h->v, h->n, sizeof(uint64_t), cmp_u64);
  return rv;
}

static int is_hidden(const hidset *h, size_t idx, json_int_t seq) {
  if (!h->n || seq < 0 || seq > UINT32_MAX || idx > UINT32_MAX) return 0;
  uint64_t k = (uint64_t)idx << 32 | (uint64_t)seq;
  return bsearch(&k, h->v, h->n, sizeof(uint64_t), cmp_u64) != NULL;
}

#define T(s, i) (sc_db_column_text(s, i))
/* Adds the findings of one stored layer set; SC_ERR_FORMAT when unreadable. */
static int add_set(sc_db_stmt *al, const char *layer, size_t idx, const char *data, const hidset *hid,
                   sc_finding_list *out) {
  json_t *j = json_loads(data, 0, NULL);
  int rv = json_is_array(j) ? 0 : SC_ERR_FORMAT;
  for (size_t i = 0; !rv && i < json_array_size(j); i++) {
    const json_t *p = json_array_get(j, i), *hs = json_array_get(p, 5);
    const char *name = json_string_value(json_array_get(p, 1)), *ver = json_string_value(json_array_get(p, 2));
    const char *eco = json_string_value(json_array_get(p, 3)), *purl = json_string_value(json_array_get(p, 4));
    if (!name || !ver || !eco || !purl || !json_is_array(hs)) {
      rv = SC_ERR_FORMAT;
      break;
    }
    if (is_hidden(hid, idx, json_integer_value(json_array_get(p, 0)))) continue;
    for (size_t k = 0; !rv && k < json_array_size(hs); k++) {
      const json_t *h = json_array_get(hs, k);
      const char *id = json_string_value(json_array_get(h, 0)), *fixed = json_string_value(json_array_get(h, 1));
      /* [id, fixed, severity, score(, 1 = matched by caution)] */
      const json_t *uj = json_array_get(h, 4);
      if (!id || !fixed || (uj && !json_is_integer(uj))) {
        rv = SC_ERR_FORMAT;
        break;
      }
      int unsure = uj && json_integer_value(uj) != 0;
      json_t *aj = NULL;
      if (sc_db_bind_text(al, 1, id)) rv = SC_ERR_DB;
      else if (sc_db_step(al) == SC_DB_ROW && T(al, 0)) aj = json_loads(T(al, 0), 0, NULL);
      size_t na = json_array_size(aj);
      const char **av = calloc(na ? na : 1, sizeof(char *));
      if (!av) rv = SC_ERR_NOMEM;
      for (size_t a = 0; av && a < na; a++)
        if (!(av[a] = json_string_value(json_array_get(aj, a)))) av[a] = "";
      if (!rv) {
        sc_finding f = {id, av, na, eco, name, ver, fixed, (int)json_integer_value(json_array_get(h, 2)),
                        json_number_value(json_array_get(h, 3))};
        rv = sc_finding_list_add(out, &f, layer, purl, unsure);
      }
      free(av);
      json_decref(aj);
      sc_db_reset(al);
    }
  }
  json_decref(j);
  return rv;
}

int sc_findings_load_image(sc_store *st, const char *image, int64_t gen, sc_finding_list *out) {
  if (!st || !image || !out) return SC_ERR_ARG;
  sc_db_stmt *s = NULL, *al = NULL;
  hidset hid = {0};
  char *os = NULL;
  int rv = SC_ERR_DB, rc;
  /* one read snapshot: a re-match committing meanwhile is seen whole or not.
   * SQLITE-ONLY: SAVEPOINT outside a transaction opens one in SQLite;
   * PostgreSQL accepts it only inside a transaction block, so there a
   * read outside one opens its own REPEATABLE READ (one snapshot) one. */
  const int own = sc_db_dialect(st->db) == SC_DB_PG && !sc_db_in_transaction(st->db);
  if (sc_store_exec(st, own ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "SAVEPOINT sc_match_load"))
    return SC_ERR_DB;
  if (!(s = sc_store_stmt(st, SQL_IMG_ROW))) goto out;
  sc_db_bind_text(s, 1, image);
  rc = sc_db_step(s);
  int fresh = 0; /* -1: out of memory */
  if (rc == SC_DB_ROW && sc_db_column_int64(s, 0) == gen && T(s, 1)) {
    fresh = 1;
    if (!(os = strdup(T(s, 1)))) fresh = -1;
    else if (T(s, 2) && (rv = hid_parse(T(s, 2), &hid))) fresh = rv == SC_ERR_FORMAT ? 0 : -1;
  }
  sc_db_reset(s);
  s = NULL;
  if (fresh < 0) {
    rv = SC_ERR_NOMEM;
    goto out;
  }
  rv = rc == SC_DB_ROW || rc == SC_DB_DONE ? 0 : SC_ERR_DB;
  if (rv || !fresh) goto out;
  rv = SC_ERR_DB;
  if (!(s = sc_store_stmt(st, SQL_IMG_SETS)) || !(al = sc_store_stmt(st, SQL_ALIASES))) goto out;
  sc_db_bind_text(s, 1, image);
  sc_db_bind_text(s, 2, os);
  rv = 0;
  while (!rv && (rc = sc_db_step(s)) == SC_DB_ROW) {
    if (!(int)sc_db_column_int64(s, 2)) continue; /* layer not stored: nothing to match */
    if (!T(s, 3)) rv = 1;                   /* stored after the match: stale */
    else rv = add_set(al, T(s, 1), (size_t)sc_db_column_int64(s, 0), T(s, 3), &hid, out);
  }
  if (!rv && rc != SC_DB_DONE) rv = SC_ERR_DB;
  if (rv == 1 || rv == SC_ERR_FORMAT) { /* recompute from the layers */
    sc_finding_list_free(out);
    sc_finding_list_init(out);
    rv = 0;
    goto out;
  }
  if (!rv) rv = sc_finding_list_sort(out);
  out->generation = gen;
  if (!rv) rv = 1;
out:
  if (s) sc_db_reset(s);
  if (al) sc_db_reset(al);
  if (own) {
    sc_db_rollback(st->db); /* read only: nothing to keep */
  } else if (sc_db_dialect(st->db) == SC_DB_PG && rv < 0) {
    /* a failed statement aborted the caller's PostgreSQL transaction: back
     * to the savepoint, so that the caller can carry on as in SQLite */
    sc_store_exec(st, "ROLLBACK TO sc_match_load");
    sc_store_exec(st, "RELEASE sc_match_load");
  } else {
    sc_store_exec(st, "RELEASE sc_match_load");
  }
  free(hid.v);
  free(os);
  return rv;
}
#undef T
