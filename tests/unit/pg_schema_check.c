/* pg_schema_check.c - the PostgreSQL schema (scanner/sc_store_schema_pg.c)
 * against a live PostgreSQL database and the real SQLite schema.  A check
 * program, not a unit test: it needs a server, which
 * tests/integration/test_pg_schema.sh starts (pglib.sh).
 *
 * Usage:
 *   pg_schema_check key                 prints the advisory lock key
 *   pg_schema_check apply PG_URL        applies; prints "applied N version V"
 *   pg_schema_check compare PG_URL SQLITE_PATH
 *       creates a SQLite store at SQLITE_PATH with sc_store_open (the real
 *       migrations), applies the PG schema (a no-op if done), and prints TAP:
 *       same versions, tables, views, columns (names, mapped types, NOT
 *       NULL), primary keys, identity columns, indexes and triggers; the same
 *       sample rows give the same `findings` on both; the vex_documents
 *       triggers bump the generation the same way; CHECKs refuse the same.
 *   pg_schema_check store PG_URL        (a fresh database) prints TAP:
 *       sc_store_open on the URL applies the schema (sc_store.c migrate()
 *       on PostgreSQL) and reports the latest version; a second open is a
 *       no-op (schema_version rows and their applied_at unchanged).
 * Owner: tests.  Errors: exit 1 on any failed check or error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_db.h"
#include "sc_db_listen.h"
#include "sc_store.h"
#include "sc_store_schema_pg.h"
#include "tap.h"

#define NAME_BYTES 64      /* a table, column or type name */
#define RELS_MAX 64        /* tables and views of the schema */
#define COLS_MAX 32        /* columns of one table */
#define NAMES_MAX 128      /* indexes or triggers */
#define ROWS_MAX 64        /* rows of the sample findings */
#define FINDINGS_COLS 14   /* columns of the view `findings` */
#define ERR_BYTES 512
#define VALUE_BYTES 256    /* one value of a findings row, as text */

typedef struct {
  char name[NAME_BYTES], type[NAME_BYTES];
  int pk, notnull, identity;
} col;

typedef struct {
  char name[NAME_BYTES], kind[NAME_BYTES];
  col cols[COLS_MAX];
  int ncols;
} rel;

static sc_db *open_url(const char *url) {
  char err[ERR_BYTES];
  sc_db *db = NULL;
  if (sc_db_open(url, NULL, &db, err, sizeof(err))) printf("# open %s: %s\n", url, err);
  return db;
}

/* rows of sql (optionally one text argument): the first ncols columns as
 * text into out[row][col]; returns the row count, -1 on error */
static int rows(sc_db *db, const char *sql, const char *arg, int ncols, char (*out)[COLS_MAX][NAME_BYTES],
                int max) {
  sc_db_stmt *s = NULL;
  int n = 0, rc;
  if (sc_db_prepare(db, sql, 0, &s) || (arg && sc_db_bind_text(s, 1, arg))) {
    printf("# %s: %s\n", sql, sc_db_errmsg(db));
    sc_db_finalize(s);
    return -1;
  }
  while ((rc = sc_db_step(s)) == SC_DB_ROW && n < max) {
    for (int c = 0; c < ncols; c++) {
      const char *t = sc_db_column_text(s, c);
      snprintf(out[n][c], NAME_BYTES, "%s", t ? t : "");
    }
    n++;
  }
  if (rc < 0) printf("# %s: %s\n", sql, sc_db_errmsg(db));
  sc_db_finalize(s);
  return rc < 0 ? -1 : n;
}

static char (*grid(void))[COLS_MAX][NAME_BYTES] { return calloc(NAMES_MAX, sizeof(char[COLS_MAX][NAME_BYTES])); }

static int64_t int1(sc_db *db, const char *sql) {
  sc_db_stmt *s = NULL;
  int64_t v = -1;
  if (!sc_db_prepare(db, sql, 0, &s) && sc_db_step(s) == SC_DB_ROW) v = sc_db_column_int64(s, 0);
  else printf("# %s: %s\n", sql, sc_db_errmsg(db));
  sc_db_finalize(s);
  return v;
}

/* ---- schema introspection ------------------------------------------------ */

static const char LITE_RELS[] =
    "SELECT name, type FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%'"
    " ORDER BY name";
static const char LITE_COLS[] =
    "SELECT name, upper(type), pk, \"notnull\", 0 FROM pragma_table_info(?) ORDER BY cid";
static const char PG_RELS[] =
    "SELECT relname, CASE relkind WHEN 'v' THEN 'view' ELSE 'table' END FROM pg_class"
    " WHERE relnamespace = CAST(current_schema() AS regnamespace) AND relkind IN ('r','v') ORDER BY relname";
static const char PG_COLS[] =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
    " coalesce((SELECT k.n FROM pg_index i, unnest(CAST(i.indkey AS int2[])) WITH ORDINALITY AS k(att, n)"
    "  WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum), 0),"
    " CASE WHEN a.attnotnull THEN 1 ELSE 0 END, CASE WHEN a.attidentity <> '' THEN 1 ELSE 0 END"
    " FROM pg_attribute a WHERE a.attrelid = to_regclass(CAST(? AS TEXT)) AND a.attnum > 0"
    " AND NOT a.attisdropped ORDER BY a.attnum";

static int load_schema(sc_db *db, const char *rels_sql, const char *cols_sql, rel *out) {
  char(*g)[COLS_MAX][NAME_BYTES] = grid();
  int n = g ? rows(db, rels_sql, NULL, 2, g, RELS_MAX) : -1;
  for (int i = 0; i < n; i++) {
    snprintf(out[i].name, NAME_BYTES, "%s", g[i][0]);
    snprintf(out[i].kind, NAME_BYTES, "%s", g[i][1]);
  }
  for (int i = 0; i < n; i++) {
    int k = rows(db, cols_sql, out[i].name, 5, g, COLS_MAX);
    if (k < 0) {
      n = -1;
      break;
    }
    out[i].ncols = k;
    for (int c = 0; c < k; c++) {
      col *x = &out[i].cols[c];
      snprintf(x->name, NAME_BYTES, "%s", g[c][0]);
      snprintf(x->type, NAME_BYTES, "%s", g[c][1]);
      x->pk = atoi(g[c][2]);
      x->notnull = atoi(g[c][3]);
      x->identity = atoi(g[c][4]);
    }
  }
  free(g);
  return n;
}

/* The type mapping (sc_store_schema_pg.c's header), as a table:
 * columns that differ from the affinity rule, then the rule. */
static const struct {
  const char *rel, *col, *pg;
} special[] = {
    {"layer_findings", "data", "jsonb"}, {"matched_images", "hidden", "jsonb"}, {"meta", "value", "bigint"},
    /* the view's expression columns: SQLite declares no type for them */
    {"findings", "seq", "bigint"},       {"findings", "vuln", "text"},          {"findings", "aliases", "text"},
    {"findings", "package", "text"},     {"findings", "version", "text"},       {"findings", "fixed", "text"},
    {"findings", "severity", "bigint"},  {"findings", "score", "double precision"},
    {"findings", "ecosystem", "text"},   {"findings", "purl", "text"},          {"findings", "unsure", "integer"},
};
static const struct {
  const char *rel, *col;
} identities[] = {{"decisions", "id"}, {"deliveries", "id"}, {"tag_history", "seq"}};

static const char *pg_type_for(const char *relname, const col *c) {
  for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
    if (!strcmp(special[i].rel, relname) && !strcmp(special[i].col, c->name)) return special[i].pg;
  if (!strcmp(c->type, "INTEGER")) return "bigint";
  if (!strcmp(c->type, "TEXT")) return "text";
  if (!strcmp(c->type, "REAL")) return "double precision";
  return NULL; /* an affinity without a mapping: a new SQLite step needs one */
}

static int wants_identity(const char *relname, const char *colname) {
  for (size_t i = 0; i < sizeof(identities) / sizeof(identities[0]); i++)
    if (!strcmp(identities[i].rel, relname) && !strcmp(identities[i].col, colname)) return 1;
  return 0;
}

static const rel *find_rel(const rel *v, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(v[i].name, name)) return &v[i];
  return NULL;
}

static void compare_rel(const rel *l, const rel *p) {
  CHECK_STR(p->kind, l->kind, "%s: a %s on both", l->name, l->kind);
  int same = l->ncols == p->ncols;
  for (int c = 0; same && c < l->ncols; c++) same = !strcmp(l->cols[c].name, p->cols[c].name);
  CHECK(same, "%s: the same %d column names in the same order (pg has %d)", l->name, l->ncols, p->ncols);
  if (!same) return;
  int types = 1, pks = 1, notnull = 1, ident = 1, npk = 0;
  for (int c = 0; c < l->ncols; c++) npk += l->cols[c].pk > 0;
  for (int c = 0; c < l->ncols; c++) {
    const col *a = &l->cols[c], *b = &p->cols[c];
    const char *want = pg_type_for(l->name, a);
    if (!want || strcmp(want, b->type)) {
      types = 0;
      printf("#   %s.%s: sqlite '%s' -> pg '%s', want '%s'\n", l->name, a->name, a->type, b->type,
             want ? want : "(no mapping)");
    }
    if (a->pk != b->pk) pks = 0;
    /* PostgreSQL makes every key column NOT NULL; SQLite only rowid keys */
    if (!a->pk && a->notnull != b->notnull) {
      notnull = 0;
      printf("#   %s.%s: notnull sqlite %d pg %d\n", l->name, a->name, a->notnull, b->notnull);
    }
    int wi = wants_identity(l->name, a->name);
    /* identity only where SQLite has a rowid alias: INTEGER, the sole key */
    if (b->identity != wi || (wi && (strcmp(a->type, "INTEGER") || a->pk != 1 || npk != 1))) {
      ident = 0;
      printf("#   %s.%s: identity %d, want %d (sqlite %s pk %d of %d)\n", l->name, a->name, b->identity, wi,
             a->type, a->pk, npk);
    }
  }
  CHECK(types, "%s: pg types follow the mapping", l->name);
  CHECK(pks, "%s: the same primary key (%d columns)", l->name, npk);
  CHECK(notnull, "%s: the same NOT NULL columns", l->name);
  CHECK(ident, "%s: identity exactly where SQLite has an implicit rowid key", l->name);
}

/* the same set of names from both (index or trigger names) */
static void compare_names(sc_db *lite, const char *lsql, sc_db *pg, const char *psql, const char *what) {
  char(*a)[COLS_MAX][NAME_BYTES] = grid(), (*b)[COLS_MAX][NAME_BYTES] = grid();
  int na = a ? rows(lite, lsql, NULL, 1, a, NAMES_MAX) : -1, nb = b ? rows(pg, psql, NULL, 1, b, NAMES_MAX) : -1;
  int same = na > 0 && na == nb;
  for (int i = 0; same && i < na; i++) same = !strcmp(a[i][0], b[i][0]);
  CHECK(same, "the same %d %s on both (pg: %d)", na, what, nb);
  for (int i = 0; !same && i < (na > nb ? na : nb); i++)
    printf("#   %s | %s\n", i < na ? a[i][0] : "-", i < nb ? b[i][0] : "-");
  free(a);
  free(b);
}

static void compare_schema(sc_db *lite, sc_db *pg) {
  rel *l = calloc(RELS_MAX, sizeof(rel)), *p = calloc(RELS_MAX, sizeof(rel));
  int nl = l ? load_schema(lite, LITE_RELS, LITE_COLS, l) : -1;
  int np = p ? load_schema(pg, PG_RELS, PG_COLS, p) : -1;
  CHECK(nl > 20 && nl == np, "the same number of tables and views (sqlite %d, pg %d)", nl, np);
  for (int i = 0; i < nl; i++) {
    const rel *q = find_rel(p, np, l[i].name);
    CHECK(q != NULL, "%s %s exists in pg", l[i].kind, l[i].name);
    if (q) compare_rel(&l[i], q);
  }
  for (int i = 0; i < np; i++)
    if (!find_rel(l, nl, p[i].name)) CHECK(0, "pg %s %s exists in sqlite", p[i].kind, p[i].name);
  free(l);
  free(p);
  compare_names(lite,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
                " ORDER BY name",
                pg,
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname NOT LIKE '%\\_pkey' ORDER BY indexname",
                "indexes (besides primary keys)");
  compare_names(lite, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name", pg,
                /* step 13's NOTIFY triggers are PostgreSQL's own (SQLite has no
                 * LISTEN): check_notify tests them */
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname NOT LIKE '%\\_notify'"
                " ORDER BY tgname",
                "triggers");
}

/* Step 13's triggers notify a listener (sc_db_listen) at commit: a stored
 * layer, a released claim; nothing for a rolled-back insert. */
static void check_notify(const char *pg_url, sc_db *pg) {
  sc_db_listener *l = NULL;
  char err[ERR_BYTES], payload[SC_DB_LISTEN_PAYLOAD_BYTES];
  int rc = sc_db_listen_open(pg_url, SC_STORE_NOTIFY_CHANNEL, &l, err, sizeof(err));
  CHECK(rc == 0 && l, "listener connected (%s)", rc ? err : "ok");
  if (!l) return;
  CHECK(sc_db_listen_wait(l, 50, payload, sizeof(payload)) == 0, "nothing pending at first");
  CHECK(sc_db_exec(pg, "BEGIN; INSERT INTO layers (digest, status, scanned_at) VALUES ('sha256:notify0', 'ok', 1);"
                       " ROLLBACK") == 0,
        "a rolled-back layer insert");
  CHECK(sc_db_listen_wait(l, 200, payload, sizeof(payload)) == 0, "no notification for a rollback");
  CHECK(sc_db_exec(pg, "INSERT INTO layers (digest, status, scanned_at) VALUES ('sha256:notify1', 'ok', 1)") == 0,
        "a layer stored");
  rc = sc_db_listen_wait(l, 5000, payload, sizeof(payload));
  CHECK(rc == 1 && !strcmp(payload, "layer sha256:notify1"), "notified: '%s' (rc %d)", payload, rc);
  CHECK(sc_db_exec(pg, "INSERT INTO layer_claims VALUES ('sha256:notify2', 'r1', 1);"
                       " DELETE FROM layer_claims WHERE digest = 'sha256:notify2'") == 0,
        "a claim taken and released");
  rc = sc_db_listen_wait(l, 5000, payload, sizeof(payload));
  CHECK(rc == 1 && !strcmp(payload, "unclaimed sha256:notify2"), "notified: '%s' (rc %d)", payload, rc);
  sc_db_exec(pg, "DELETE FROM layers WHERE digest = 'sha256:notify1'");
  sc_db_listen_close(l);
}

/* ---- the same rows, the same findings ------------------------------------ */

static const char L1[] = "sha256:1111", L2[] = "sha256:2222", DEB[] = "debian:12", ALP[] = "alpine:3.19";
/* [[seq, name, version, ecosystem, purl, [[vuln, fixed, severity, score(, unsure)], ...]], ...] */
static const char SET_L1_DEB[] =
    "[[0,\"libc\",\"2.36\",\"Debian:12\",\"pkg:deb/debian/libc@2.36\","
    "[[\"CVE-2026-0001\",\"2.37\",3,7.5],[\"CVE-2026-0002\",\"\",2,5,1]]],"
    "[1,\"zlib\",\"1.2\",\"Debian:12\",\"pkg:deb/debian/zlib@1.2\",[[\"CVE-2026-0003\",\"1.3\",4,9.8000000000000007]]],"
    "[2,\"bash\",\"5.2\",\"Debian:12\",\"pkg:deb/debian/bash@5.2\",[]]]";
static const char SET_L2_DEB[] =
    "[[0,\"openssl\",\"3.0\",\"Debian:12\",\"pkg:deb/debian/openssl@3.0\",[[\"CVE-2026-0004\",\"3.1\",1,0,0]]],"
    "[5,\"curl\",\"7.88\",\"Debian:12\",\"pkg:deb/debian/curl@7.88\","
    "[[\"CVE-2026-0005\",\"\",4,10,1],[\"CVE-2026-0006\",\"8.0\",0,-1]]]]";
static const char SET_L1_ALP[] =
    "[[0,\"musl\",\"1.2\",\"Alpine:v3.19\",\"pkg:apk/alpine/musl@1.2\",[[\"CVE-2026-0007\",\"1.3\",2,4.3]]]]";

static int run(sc_db *db, const char *sql, const char *const *t, const int64_t *iv, int n) {
  sc_db_stmt *s = NULL;
  int rc = sc_db_prepare(db, sql, 0, &s);
  for (int i = 0; !rc && i < n; i++)
    rc = t[i] ? sc_db_bind_text(s, i + 1, t[i]) : iv[i] == INT64_MIN ? sc_db_bind_null(s, i + 1)
                                                                      : sc_db_bind_int64(s, i + 1, iv[i]);
  if (!rc) rc = sc_db_step(s) == SC_DB_DONE ? 0 : SC_ERR_DB;
  if (rc) printf("# %s: %s\n", sql, sc_db_errmsg(db));
  sc_db_finalize(s);
  return rc;
}

static int image(sc_db *db, const char *digest, const char *os, const char *hidden, const char *const *layers,
                 int nl) {
  const char *t1[] = {digest};
  int rc = run(db, "INSERT INTO images (digest, kind, stored_at) VALUES (?, 'image', 1700000000)", t1, NULL, 1);
  for (int i = 0; !rc && i < nl; i++) {
    const char *t[] = {digest, NULL, layers[i]};
    const int64_t v[] = {0, i, 0};
    rc = run(db, "INSERT INTO image_layers (image, idx, layer) VALUES (?, ?, ?)", t, v, 3);
  }
  const char *t[] = {digest, NULL, NULL, NULL, os, hidden};
  const int64_t v[] = {0, 7, 1700000001, -5000000000LL, 0, INT64_MIN};
  return rc ? rc
            : run(db,
                  "INSERT INTO matched_images (image, generation, matched_at, fhash, os, hidden)"
                  " VALUES (?, ?, ?, ?, ?, ?)",
                  t, v, 6);
}

static int put_set(sc_db *db, const char *layer, const char *os, const char *data) {
  const char *t[] = {layer, os, NULL, NULL, NULL, data};
  const int64_t v[] = {0, 0, 7, INT64_C(-9000000000000000000), 2, 0};
  return run(db,
             "INSERT INTO layer_findings (layer, os, generation, fhash, nfindings, data) VALUES (?, ?, ?, ?, ?, ?)",
             t, v, 6);
}

static int sample(sc_db *db) {
  const char *a[] = {L1, L2}, *b[] = {L2, L1}, *c[] = {L1};
  /* A hides zlib (layer 0, seq 1) and curl (layer 1, seq 5); [1,9] hides
   * nothing.  B hides nothing, C has an empty list, D's OS has no sets. */
  return put_set(db, L1, DEB, SET_L1_DEB) || put_set(db, L2, DEB, SET_L2_DEB) || put_set(db, L1, ALP, SET_L1_ALP) ||
         image(db, "sha256:aaaa", DEB, "[[0,1],[1,5],[1,9]]", a, 2) || image(db, "sha256:bbbb", DEB, NULL, b, 2) ||
         image(db, "sha256:cccc", ALP, "[]", c, 1) || image(db, "sha256:dddd", "none:0", NULL, c, 1);
}

typedef struct {
  char v[FINDINGS_COLS][VALUE_BYTES];
  int null[FINDINGS_COLS];
} frow;

static int findings(sc_db *db, frow *out, int *ncols) {
  sc_db_stmt *s = NULL;
  int n = 0, rc;
  *ncols = -1;
  if (sc_db_prepare(db, "SELECT * FROM findings ORDER BY image, seq", 0, &s)) return -1;
  while ((rc = sc_db_step(s)) == SC_DB_ROW && n < ROWS_MAX) {
    *ncols = sc_db_column_count(s);
    for (int c = 0; c < FINDINGS_COLS && c < *ncols; c++) {
      const char *t = sc_db_column_text(s, c);
      out[n].null[c] = t == NULL;
      snprintf(out[n].v[c], VALUE_BYTES, "%s", t ? t : "");
    }
    n++;
  }
  if (rc < 0) printf("# findings: %s\n", sc_db_errmsg(db));
  sc_db_finalize(s);
  return rc < 0 ? -1 : n;
}

enum {
  F_IMAGE, F_SEQ, F_VULN, F_ALIASES, F_PKG, F_VER, F_FIXED,
  F_SEV, F_SCORE, F_ECO, F_LAYER, F_PURL, F_GEN, F_UNSURE
};

static void compare_findings(sc_db *lite, sc_db *pg) {
  CHECK(sample(lite) == 0, "sqlite: sample rows inserted");
  CHECK(sample(pg) == 0, "pg: sample rows inserted");
  frow *a = calloc(ROWS_MAX, sizeof(frow)), *b = calloc(ROWS_MAX, sizeof(frow));
  int ca, cb;
  int na = a ? findings(lite, a, &ca) : -1, nb = b ? findings(pg, b, &cb) : -1;
  CHECK(na == 10 && nb == na, "findings: 10 rows on both (sqlite %d, pg %d)", na, nb);
  CHECK(ca == FINDINGS_COLS && cb == ca, "findings: %d columns on both (sqlite %d, pg %d)", FINDINGS_COLS, ca, cb);
  int same = na == nb && na > 0;
  for (int r = 0; same && r < na; r++)
    for (int c = 0; c < FINDINGS_COLS; c++) {
      int eq = a[r].null[c] == b[r].null[c] &&
               (c == F_SCORE ? strtod(a[r].v[c], NULL) == strtod(b[r].v[c], NULL) : !strcmp(a[r].v[c], b[r].v[c]));
      if (!eq) {
        printf("#   row %d col %d: sqlite '%s'%s pg '%s'%s\n", r, c, a[r].v[c], a[r].null[c] ? " (null)" : "",
               b[r].v[c], b[r].null[c] ? " (null)" : "");
        same = 0;
      }
    }
  CHECK(same, "SELECT * FROM findings ORDER BY image, seq: identical on both");
  /* what the rows must be, whichever backend (read from pg) */
  int in_a = 0, hidden_in_a = 0, unsure = 0, aliases_null = 1, c_rows = 0, seq_ok = 0, score_ok = 0;
  for (int r = 0; r < nb; r++) {
    const char *img = b[r].v[F_IMAGE], *pkg = b[r].v[F_PKG];
    if (!strcmp(img, "sha256:aaaa")) {
      in_a++;
      if (!strcmp(pkg, "zlib") || !strcmp(pkg, "curl")) hidden_in_a++;
    }
    if (!strcmp(img, "sha256:cccc")) c_rows++;
    unsure += atoi(b[r].v[F_UNSURE]);
    aliases_null &= b[r].null[F_ALIASES];
    /* B: curl is package 1 of layer 0, CVE-0005 its hit 0, CVE-0006 hit 1;
     * zlib package 1 of layer 1 */
    if (!strcmp(img, "sha256:bbbb") && !strcmp(b[r].v[F_VULN], "CVE-2026-0005"))
      seq_ok += !strcmp(b[r].v[F_SEQ], "1024") && !strcmp(b[r].v[F_UNSURE], "1") && !strcmp(b[r].v[F_LAYER], L2);
    if (!strcmp(img, "sha256:bbbb") && !strcmp(b[r].v[F_VULN], "CVE-2026-0006"))
      seq_ok += !strcmp(b[r].v[F_SEQ], "1025") && !strcmp(b[r].v[F_UNSURE], "0");
    if (!strcmp(img, "sha256:bbbb") && !strcmp(b[r].v[F_VULN], "CVE-2026-0003")) {
      seq_ok += !strcmp(b[r].v[F_SEQ], "1049600") && !strcmp(b[r].v[F_SEV], "4");
      score_ok = strtod(b[r].v[F_SCORE], NULL) == 9.8;
    }
    if (!strcmp(img, "sha256:aaaa") && !strcmp(b[r].v[F_VULN], "CVE-2026-0004"))
      seq_ok += !strcmp(b[r].v[F_SEQ], "1048576") && !strcmp(b[r].v[F_UNSURE], "0") && !strcmp(b[r].v[F_GEN], "7");
  }
  CHECK(in_a == 3 && hidden_in_a == 0, "image A: 3 findings, its hidden packages excluded (%d, %d hidden)", in_a,
        hidden_in_a);
  CHECK_INT(unsure, 3, "unsure: the three hits marked 1 (not the one marked 0 nor unmarked ones)");
  CHECK_INT(seq_ok, 4, "seq = layer idx * 2^20 + package position * 2^10 + hit position; severity, generation");
  CHECK(score_ok, "score 9.8000000000000007 reads back as the double 9.8");
  CHECK_INT(c_rows, 1, "an empty hidden list hides nothing (image C)");
  CHECK(aliases_null, "aliases is NULL on every row");
  free(a);
  free(b);
}

/* ---- triggers and CHECKs ------------------------------------------------- */

#define TRIG_STEPS 6
static void vex_steps(sc_db *db, int64_t *gen) {
  static const char *const sql[TRIG_STEPS] = {
      "INSERT INTO vex_documents (repo, subject, digest, doc, fetched_at) VALUES ('r', 's', 'd1', '{}', 1)",
      "INSERT INTO vex_documents (repo, subject, digest, doc, fetched_at) VALUES ('r', 's', 'd2', '{}', 1)",
      "UPDATE vex_documents SET fetched_at = 2",
      "DELETE FROM vex_documents WHERE digest = 'd1'",
      "INSERT INTO referrers (repo, subject, digest, media_type, size, origin, created_at)"
      " VALUES ('r', 's', 'd2', 'm', 1, 'client', 1), ('r', 's', 'd3', 'm', 1, 'client', 1);"
      "DELETE FROM referrers WHERE digest = 'd2'",
      "DELETE FROM referrers WHERE digest = 'd3'",
  };
  int64_t g0 = int1(db, "SELECT gen FROM vex_generation WHERE id = 1");
  for (int i = 0; i < TRIG_STEPS; i++) {
    if (sc_db_exec(db, sql[i])) printf("# %s: %s\n", sql[i], sc_db_errmsg(db));
    gen[i] = int1(db, "SELECT gen FROM vex_generation WHERE id = 1") - g0;
  }
}

static void compare_triggers(sc_db *lite, sc_db *pg) {
  int64_t gl[TRIG_STEPS], gp[TRIG_STEPS];
  /* insert, insert, update of 2 rows, delete, referrer deleted with its
   * document, referrer deleted without one */
  static const int64_t want[TRIG_STEPS] = {1, 2, 4, 5, 6, 6};
  vex_steps(lite, gl);
  vex_steps(pg, gp);
  for (int i = 0; i < TRIG_STEPS; i++)
    CHECK(gl[i] == want[i] && gp[i] == want[i], "vex generation after step %d: sqlite +%" PRId64 ", pg +%" PRId64
          ", want +%" PRId64, i + 1, gl[i], gp[i], want[i]);
  CHECK(int1(lite, "SELECT count(*) FROM vex_documents") == 0 && int1(pg, "SELECT count(*) FROM vex_documents") == 0,
        "a forgotten referrer took its document on both");
  static const char *const bad[] = {
      "INSERT INTO vex_generation VALUES (2, 0)",
      "INSERT INTO layers (digest, status, scanned_at) VALUES ('x', 'bogus', 1)",
      "INSERT INTO images (digest, kind, stored_at) VALUES ('x', 'blob', 1)",
      "INSERT INTO deliveries (event, hook, url, body, status, next_at, created_at)"
      " VALUES ('no-such-event', 'h', 'u', 'b', 'pending', 1, 1)",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rl = sc_db_exec(lite, bad[i]), rp = sc_db_exec(pg, bad[i]);
    CHECK(rl != 0 && rp != 0, "refused on both: %.60s", bad[i]);
  }
  /* identity and rowid alias both number a new row */
  const char *ins = "INSERT INTO decisions (at, verdict) VALUES (1, 'allow')";
  CHECK(!sc_db_exec(lite, ins) && !sc_db_exec(pg, ins) && !sc_db_exec(lite, ins) && !sc_db_exec(pg, ins) &&
            int1(lite, "SELECT max(id) - min(id) FROM decisions") == 1 &&
            int1(pg, "SELECT max(id) - min(id) FROM decisions") == 1,
        "decisions.id numbers new rows on both");
}

/* ---- main ---------------------------------------------------------------- */

static int do_apply(const char *url) {
  sc_db *db = open_url(url);
  char err[ERR_BYTES];
  int version = -1, applied = -1;
  int rc = db ? sc_store_schema_pg_apply(db, &version, &applied, err, sizeof(err)) : SC_ERR_DB;
  if (rc) fprintf(stderr, "apply: %d %s\n", rc, db ? err : "no connection");
  else printf("applied %d version %d\n", applied, version);
  sc_db_close(db);
  return rc ? 1 : 0;
}

static int do_compare(const char *pg_url, const char *lite_path) {
  sc_store *st = NULL;
  CHECK(sc_store_open(lite_path, &st) == 0, "sqlite store created by sc_store_open");
  sc_store_close(st);
  char lite_url[ERR_BYTES];
  snprintf(lite_url, sizeof(lite_url), "sqlite:%s", lite_path);
  sc_db *lite = open_url(lite_url), *pg = open_url(pg_url);
  if (!lite || !pg) {
    CHECK(0, "both databases open");
    sc_db_close(lite);
    sc_db_close(pg);
    return tap_done();
  }
  /* as the store's own SQLite connections (sc_store_open): REFERENCES enforced */
  CHECK(sc_db_exec(lite, "PRAGMA foreign_keys=ON") == 0, "sqlite: foreign keys on, as the store's");
  char err[ERR_BYTES];
  int version = -1, applied = -1;
  int rc = sc_store_schema_pg_apply(pg, &version, &applied, err, sizeof(err));
  CHECK(rc == 0, "pg schema applied (%s)", rc ? err : "ok");
  int64_t lv = int1(lite, "SELECT max(version) FROM schema_version");
  int64_t pv = int1(pg, "SELECT max(version) FROM schema_version");
  CHECK(lv == SC_STORE_SCHEMA_PG_VERSION && pv == lv && version == pv,
        "the same schema version: sqlite %" PRId64 ", pg %" PRId64 ", pg steps %d", lv, pv,
        SC_STORE_SCHEMA_PG_VERSION);
  CHECK(int1(pg, "SELECT count(*) FROM schema_version") == int1(lite, "SELECT count(*) FROM schema_version") &&
            int1(pg, "SELECT min(version) FROM schema_version") == 1,
        "pg schema_version lists every step 1..%d, as sqlite's", SC_STORE_SCHEMA_PG_VERSION);
  compare_schema(lite, pg);
  compare_findings(lite, pg);
  compare_triggers(lite, pg);
  check_notify(pg_url, pg);
  rc = sc_store_schema_pg_apply(pg, &version, &applied, err, sizeof(err));
  CHECK(rc == 0 && applied == 0 && version == SC_STORE_SCHEMA_PG_VERSION, "applying again does nothing");
  CHECK(sc_store_schema_pg_apply(lite, NULL, NULL, NULL, 0) == SC_ERR_ARG, "a SQLite connection is refused");
  sc_db_close(lite);
  sc_db_close(pg);
  return tap_done();
}

/* "version:applied_at;" of every schema_version row, in order ("" on error) */
static void version_rows(sc_db *db, char *out, size_t cap) {
  sc_db_stmt *s;
  out[0] = '\0';
  if (sc_db_prepare(db, "SELECT version, applied_at FROM schema_version ORDER BY version", 0, &s)) return;
  size_t n = 0;
  while (sc_db_step(s) == SC_DB_ROW && n < cap) {
    int w = snprintf(out + n, cap - n, "%" PRId64 ":%s;", sc_db_column_int64(s, 0), sc_db_column_text(s, 1));
    if (w < 0) break;
    n += (size_t)w;
  }
  sc_db_finalize(s);
}

static int do_store(const char *url) {
  sc_db *db = open_url(url);
  CHECK(db != NULL, "pg: connection for inspection");
  if (!db) return tap_done();
  CHECK(int1(db, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") == 0,
        "a fresh database: no tables yet");
  sc_store *st = NULL;
  int rc = sc_store_open(url, &st);
  CHECK(rc == 0 && st, "sc_store_open(postgres URL) on a fresh database (rc %d%s%s)", rc, st ? ": " : "",
        st ? sc_store_errmsg(st) : "");
  CHECK_INT(sc_store_schema_version(st), SC_STORE_SCHEMA_PG_VERSION, "sc_store_schema_version: the latest");
  sc_store_close(st);
  char before[ERR_BYTES * 2], after[ERR_BYTES * 2];
  version_rows(db, before, sizeof(before));
  CHECK(int1(db, "SELECT count(*) FROM schema_version") == SC_STORE_SCHEMA_PG_VERSION &&
            int1(db, "SELECT count(DISTINCT version) FROM schema_version") == SC_STORE_SCHEMA_PG_VERSION,
        "schema_version lists each of the %d steps once", SC_STORE_SCHEMA_PG_VERSION);
  CHECK(int1(db, "SELECT count(*) FROM pg_views WHERE viewname = 'findings'") == 1, "the findings view exists");
  st = NULL;
  rc = sc_store_open(url, &st);
  CHECK(rc == 0 && sc_store_schema_version(st) == SC_STORE_SCHEMA_PG_VERSION,
        "a second sc_store_open succeeds, version %d", sc_store_schema_version(st));
  sc_store_close(st);
  version_rows(db, after, sizeof(after));
  CHECK(*before && !strcmp(before, after), "the second open changed nothing in schema_version (%s)", after);
  int version = -1, applied = -1;
  char err[ERR_BYTES];
  rc = sc_store_schema_pg_apply(db, &version, &applied, err, sizeof(err));
  CHECK(rc == 0 && applied == 0 && version == SC_STORE_SCHEMA_PG_VERSION, "applying after the store: nothing to do");
  sc_db_close(db);
  return tap_done();
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && !strcmp(argv[1], "key")) {
    printf("%lld\n", (long long)SC_STORE_SCHEMA_PG_LOCK_KEY);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "apply")) return do_apply(argv[2]);
  if (argc == 4 && !strcmp(argv[1], "compare")) return do_compare(argv[2], argv[3]);
  if (argc == 3 && !strcmp(argv[1], "store")) return do_store(argv[2]);
  fprintf(stderr, "usage: %s key | apply PG_URL | compare PG_URL SQLITE_PATH | store PG_URL\n", argv[0]);
  return 2;
}
