/* test_osv.c - OSV import: ranges, versions, withdrawn, aliases, severity
 * (CVSS, text, per package, borrowed), malformed records, idempotence,
 * zips (good and truncated, built here with libarchive's writer); the light
 * JSON scan, the directly written stored texts, unchanged records settled
 * without a full parse. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sc_cvss.h"
#include "sc_jsonscan.h"
#include "sc_osv.h"
#include "sc_store.h"
#include "sc_store_int.h" /* white box: the tests read the SQLite tables */
#include "tap.h"

static sc_store *st;

/* first column of the first row as text ("" none), into a static buffer */
static const char *q(const char *sql) {
  static char buf[4096];
  sc_db_stmt *s;
  buf[0] = 0;
  if (sc_db_prepare(st->db, sql, 0, &s)) return "(sql error)";
  if (sc_db_step(s) == SC_DB_ROW && sc_db_column_text(s, 0))
    snprintf(buf, sizeof(buf), "%s", sc_db_column_text(s, 0));
  sc_db_finalize(s);
  return buf;
}

static int imp(const char *json, sc_osv_stats *s) {
  memset(s, 0, sizeof(*s));
  return sc_osv_import_buffer(st, "test", json, strlen(json), s);
}

static const char *REC_GO =
    "{\"id\":\"GO-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"CVE-2024-1\",\"GHSA-aaaa\"],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Go\",\"name\":\"golang.org/x/net\"},"
    "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"0.23.0\"}]},"
    "{\"type\":\"GIT\",\"repo\":\"x\",\"events\":[{\"introduced\":\"abc\"}]}]},"
    "{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"Foo_Bar.baz\"},\"versions\":[\"1.0\",\"1.1\"]},"
    "{\"package\":{\"ecosystem\":\"Ubuntu:22.04:LTS\",\"name\":\"openssl\"},"
    "\"ecosystem_specific\":{\"severity\":\"low\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"last_affected\":\"3.0.2\"},"
    "{\"limit\":\"4.0\"}]}]}],"
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}]}";

static void test_parse(void) {
  sc_osv_stats s;
  CHECK_INT(imp(REC_GO, &s), 0, "import a record");
  CHECK_INT(s.added, 1, "counted as added");
  CHECK_STR(q("SELECT count(*) FROM vuln_affected WHERE vuln='GO-1'"), "3", "three affected entries");
  CHECK_STR(q("SELECT ranges FROM vuln_affected WHERE vuln='GO-1' AND ecosystem='Go'"),
            "[[\"S\",\"i0\",\"f0.23.0\"]]", "SEMVER range kept, GIT range dropped");
  CHECK_STR(q("SELECT name FROM vuln_affected WHERE vuln='GO-1' AND ecosystem='PyPI'"), "foo-bar-baz",
            "PyPI name stored PEP 503 normalised");
  CHECK_STR(q("SELECT versions FROM vuln_affected WHERE ecosystem='PyPI'"), "[\"1.0\",\"1.1\"]",
            "explicit versions list kept");
  CHECK_STR(q("SELECT ranges FROM vuln_affected WHERE ecosystem='Ubuntu:22.04'"),
            "[[\"E\",\"i0\",\"l3.0.2\",\"m4.0\"]]", "Ubuntu LTS suffix dropped; last_affected and limit kept");
  CHECK_STR(q("SELECT severity FROM vuln_affected WHERE ecosystem='Ubuntu:22.04'"), "1",
            "per-package severity text (low)");
  CHECK_STR(q("SELECT aliases FROM vulns WHERE id='GO-1'"), "[\"CVE-2024-1\",\"GHSA-aaaa\"]", "aliases");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='GO-1'"), "4 9.8",
            "CVSS v3.1 vector scored: critical 9.8");
}

static void test_severity_sources(void) {
  sc_osv_stats s;
  CHECK_INT(imp("{\"id\":\"GHSA-t1\",\"modified\":\"2024-01-01T00:00:00Z\",\"database_specific\":"
                "{\"severity\":\"MODERATE\"},\"affected\":[]}",
                &s),
            0, "text severity record");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='GHSA-t1'"), "2 -1.0",
            "database_specific MODERATE -> medium, no score");
  /* a Debian CVE record without severity borrows from GO-1 via CVE-2024-1 */
  CHECK_INT(imp("{\"id\":\"DEBIAN-CVE-2024-1\",\"modified\":\"2024-01-02T00:00:00Z\",\"aliases\":"
                "[\"CVE-2024-1\"],\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"x\"},"
                "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}",
                &s),
            0, "severity-less record");
  CHECK_STR(q("SELECT sev_own || ' ' || severity || ' ' || score FROM vulns WHERE id='DEBIAN-CVE-2024-1'"),
            "0 4 9.8", "borrows critical 9.8 through the shared alias");
  /* a record whose id is another's alias borrows too */
  CHECK_INT(imp("{\"id\":\"GHSA-aaaa\",\"modified\":\"2024-01-02T00:00:00Z\",\"affected\":[]}", &s), 0,
            "record named by an alias");
  CHECK_STR(q("SELECT severity FROM vulns WHERE id='GHSA-aaaa'"), "4", "borrows through its id");
  CHECK_INT(imp("{\"id\":\"V2-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"severity\":[{\"type\":"
                "\"CVSS_V2\",\"score\":\"AV:N/AC:L/Au:N/C:P/I:P/A:P\"}]}",
                &s),
            0, "CVSS v2 record");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='V2-1'"), "3 7.5", "v2 scored high 7.5");
}

/* An import recomputes only the borrowed severities that can change (the
 * records sharing an alias with one it added, replaced or removed): across
 * separate imports, the result is the one a full recomputation gives. */
static void test_borrow_across_imports(void) {
#define BR(id, mod, al, sev) \
  "{\"id\":\"" id "\",\"modified\":\"" mod "\",\"aliases\":[" al "]" sev ",\"affected\":[]}"
#define HIGH ",\"database_specific\":{\"severity\":\"HIGH\"}"
#define LOW ",\"database_specific\":{\"severity\":\"LOW\"}"
#define SEV_OF(id) q("SELECT severity FROM vulns WHERE id='" id "'")
  sc_osv_stats s;
  CHECK_INT(imp(BR("B-BORROWER", "2024-01-01T00:00:00Z", "\"CVE-B-1\"", ""), &s), 0, "borrow: a record without severity");
  CHECK_STR(SEV_OF("B-BORROWER"), "0", "borrow: nothing to borrow yet");
  CHECK_INT(imp(BR("B-LENDER", "2024-01-01T00:00:00Z", "\"CVE-B-1\"", HIGH), &s), 0, "borrow: a lender, later import");
  CHECK_STR(SEV_OF("B-BORROWER"), "3", "borrow: an earlier record borrows from a later one");
  CHECK_INT(imp(BR("B-OTHER", "2024-01-01T00:00:00Z", "\"CVE-B-9\"", LOW), &s), 0, "borrow: an unrelated import");
  CHECK_STR(SEV_OF("B-BORROWER"), "3", "borrow: ... leaves it borrowed");
  CHECK_INT(imp(BR("B-LENDER", "2024-02-01T00:00:00Z", "\"CVE-B-1\"", LOW), &s), 0, "borrow: the lender updated");
  CHECK_STR(SEV_OF("B-BORROWER"), "1", "borrow: follows the lender's new severity");
  CHECK_INT(imp(BR("B-LENDER", "2024-03-01T00:00:00Z", "\"CVE-B-2\"", LOW), &s), 0, "borrow: the lender drops the alias");
  CHECK_STR(SEV_OF("B-BORROWER"), "0", "borrow: back to its own (none) when no longer shared");
  CHECK_INT(imp(BR("B-LENDER", "2024-04-01T00:00:00Z", "\"CVE-B-1\"", HIGH), &s), 0, "borrow: shared again");
  CHECK_STR(SEV_OF("B-BORROWER"), "3", "borrow: borrowed again");
  CHECK_INT(imp("{\"id\":\"B-LENDER\",\"modified\":\"2024-05-01T00:00:00Z\",\"withdrawn\":\"2024-05-01T00:00:00Z\"}", &s),
            0, "borrow: the lender withdrawn");
  CHECK_STR(SEV_OF("B-BORROWER"), "0", "borrow: a withdrawn lender lends nothing");
  /* the stored values equal a recomputation from scratch */
  CHECK_STR(q("SELECT count(*) FROM vulns v WHERE v.severity <> coalesce((SELECT w.sev_own FROM vuln_aliases a"
              " JOIN vuln_aliases b ON b.alias = a.alias AND b.vuln <> a.vuln JOIN vulns w ON w.id = b.vuln"
              " WHERE a.vuln = v.id AND w.sev_own <> 0 AND v.sev_own = 0"
              " ORDER BY w.sev_own DESC, w.score_own DESC, w.id LIMIT 1), v.sev_own)"),
            "0", "borrow: every stored severity as a full recomputation gives it");
#undef BR
#undef HIGH
#undef LOW
#undef SEV_OF
}

static void test_upsert_withdrawn_malformed(void) {
  sc_osv_stats s;
  int64_t g0 = atoll(q("SELECT value FROM meta WHERE key='vulndb_generation'"));
  CHECK_INT(imp(REC_GO, &s), 0, "re-import");
  CHECK(s.unchanged == 1 && s.added == 0 && s.updated == 0, "re-import: unchanged");
  CHECK_INT(atoll(q("SELECT value FROM meta WHERE key='vulndb_generation'")), g0,
            "unchanged import does not bump the generation");
  char *newer = strdup(REC_GO);
  memcpy(strstr(newer, "2024-01-01"), "2024-02-01", 10);
  char *p = strstr(newer, "0.23.0");
  memcpy(p, "0.24.0", 6);
  CHECK_INT(imp(newer, &s), 0, "newer modified");
  CHECK_INT(s.updated, 1, "counted as updated");
  CHECK_STR(q("SELECT ranges FROM vuln_affected WHERE vuln='GO-1' AND ecosystem='Go'"),
            "[[\"S\",\"i0\",\"f0.24.0\"]]", "update replaced the ranges");
  CHECK_INT(atoll(q("SELECT value FROM meta WHERE key='vulndb_generation'")), g0 + 1, "generation bumped");
  free(newer);
  CHECK_INT(imp("{\"id\":\"GO-1\",\"modified\":\"2024-03-01T00:00:00Z\",\"withdrawn\":\"2024-03-01T00:00:00Z\"}",
                &s),
            0, "withdrawn");
  CHECK_INT(s.withdrawn, 1, "counted as withdrawn");
  CHECK_STR(q("SELECT count(*) FROM vulns WHERE id='GO-1'"), "0", "withdrawn record removed");
  CHECK_STR(q("SELECT count(*) FROM vuln_affected WHERE vuln='GO-1'"), "0", "with its affected rows");
  static const char *const bad[] = {
      "{not json",
      "{\"modified\":\"2024-01-01T00:00:00Z\"}",
      "{\"id\":\"M-1\"}",
      "{\"id\":\"M-2\",\"modified\":\"x\",\"affected\":{}}",
      "{\"id\":\"M-3\",\"modified\":\"x\",\"affected\":[{\"package\":{\"ecosystem\":\"Go\",\"name\":\"a\"},"
      "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"fixed\":5}]}]}]}",
      "[1, 2]",
  };
  static const int nbad[] = {1, 1, 1, 1, 1, 2};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK_INT(imp(bad[i], &s), 0, "malformed %zu does not abort", i);
    CHECK_INT(s.malformed, nbad[i], "malformed %zu counted", i);
  }
  CHECK_STR(q("SELECT count(*) FROM vulns WHERE id LIKE 'M-%'"), "0", "no malformed record stored");
}

/* Writes a zip of n records to path; returns its size. */
static long write_zip(const char *path, int n, int base) {
  struct archive *a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open_filename(a, path);
  for (int i = 0; i < n; i++) {
    char name[64], rec[512];
    snprintf(name, sizeof(name), "Z-%d.json", base + i);
    snprintf(rec, sizeof(rec),
             "{\"id\":\"Z-%d\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":"
             "{\"ecosystem\":\"npm\",\"name\":\"@scope/pkg%d\"},\"ranges\":[{\"type\":\"SEMVER\","
             "\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.0.%d\"}]}]}]}",
             base + i, i, i);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(rec));
    archive_write_header(a, e);
    archive_write_data(a, rec, strlen(rec));
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fclose(f);
  return sz;
}

static void test_zip(void) {
  char dir[] = "/tmp/test_osv.XXXXXX", zp[256], tp[256];
  if (!mkdtemp(dir)) return;
  snprintf(zp, sizeof(zp), "%s/npm.zip", dir);
  snprintf(tp, sizeof(tp), "%s/trunc.zip", dir);
  write_zip(zp, 50, 0);
  sc_osv_stats s = {0};
  char cache0[64];
  snprintf(cache0, sizeof(cache0), "%s", q("PRAGMA cache_size"));
  CHECK_INT(sc_osv_import_path(st, zp, &s), 0, "zip import");
  CHECK_INT(s.added, 50, "50 records from the zip");
  /* an import runs with its own page cache (SC_VULNSTORE_IMPORT_CACHE_KIB)
   * and gives the connection its own back */
  CHECK_STR(q("PRAGMA cache_size"), cache0, "page cache size restored after an import");
  CHECK_STR(q("SELECT name FROM vuln_affected WHERE vuln='Z-7'"), "@scope/pkg7", "npm scoped name as is");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_osv_import_path(st, zp, &s), 0, "zip re-import");
  CHECK(s.unchanged == 50 && s.added == 0, "zip re-import changes nothing");
  long sz = write_zip(tp, 50, 1000);
  if (truncate(tp, sz / 2) != 0) sz = 0;
  memset(&s, 0, sizeof(s));
  int rv = sc_osv_import_path(st, tp, &s);
  CHECK(rv == SC_ERR_FORMAT, "truncated zip is an error (%d)", rv);
  CHECK_STR(q("SELECT count(*) FROM vulns WHERE id LIKE 'Z-1%' AND length(id) = 6"), "0",
            "truncated zip imported nothing");
  CHECK_STR(q("SELECT count(*) FROM vuln_sources WHERE name LIKE '%trunc.zip'"), "0",
            "and is not recorded as a source");
  CHECK_STR(q("PRAGMA cache_size"), cache0, "page cache size restored after a failed import");
  /* a directory of JSON files, recursively */
  char sub[300], f1[400];
  snprintf(sub, sizeof(sub), "%s/d/e", dir);
  char cmd[700];
  snprintf(cmd, sizeof(cmd), "mkdir -p %s", sub);
  if (system(cmd) != 0) return;
  snprintf(f1, sizeof(f1), "%s/D-1.json", sub);
  FILE *f = fopen(f1, "w");
  fputs("{\"id\":\"D-1\",\"modified\":\"2024-01-01T00:00:00Z\"}", f);
  fclose(f);
  snprintf(f1, sizeof(f1), "%s/d/bad.json", dir);
  f = fopen(f1, "w");
  fputs("{oops", f);
  fclose(f);
  snprintf(f1, sizeof(f1), "%s/d", dir);
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_osv_import_path(st, f1, &s), 0, "directory import");
  CHECK(s.added == 1 && s.malformed == 1, "directory: one added, one malformed");
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0) return;
}

static void test_normalize(void) {
  static const struct {
    const char *eco, *in, *want;
  } t[] = {
      {"PyPI", "Django", "django"},          {"PyPI", "zope.interface", "zope-interface"},
      {"PyPI", "a__b--c..d", "a-b-c-d"},     {"npm", "@Scope/Pkg", "@Scope/Pkg"},
      {"Go", "github.com/A/B", "github.com/A/B"}, {"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
      {"Maven", "org.x:y", "org.x:y"},
  };
  char out[64];
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    CHECK_INT(sc_osv_normalize_name(t[i].eco, t[i].in, out, sizeof(out)), 0, "normalize %s", t[i].in);
    CHECK_STR(out, t[i].want, "%s %s", t[i].eco, t[i].in);
  }
  CHECK_INT(sc_osv_normalize_name("PyPI", "x", out, 1), SC_ERR_LIMIT, "too small buffer");
  CHECK_STR(sc_osv_normalize_version("Go", "v1.2.3"), "1.2.3", "Go v prefix");
  CHECK_STR(sc_osv_normalize_version("Go", "go1.21.5"), "1.21.5", "Go toolchain prefix");
  CHECK_STR(sc_osv_normalize_version("npm", "v1.2.3"), "v1.2.3", "only Go is touched");
  CHECK_INT(sc_osv_normalize_ecosystem("Ubuntu:20.04:LTS", out, sizeof(out)), 0, "ubuntu");
  CHECK_STR(out, "Ubuntu:20.04", "LTS suffix dropped");
  sc_osv_normalize_ecosystem("Alpine:v3.19", out, sizeof(out));
  CHECK_STR(out, "Alpine:v3.19", "Alpine unchanged");
}

/* The light scan (sc_jsonscan) vouches only for what jansson accepts, and
 * hands back the last value of a duplicated key, as jansson keeps. */
static void test_jsonscan(void) {
  static const char *const keys[] = {"id", "modified", "affected"};
  sc_jspan sp[3];
  const char *doc = " {\"id\":\"A-1\",\"x\":[1,-2.5,true,false,null,{\"k\":\"\\u00e9\\ud83d\\ude00\\n\"}],"
                    "\"modified\":\"m1\",\"modified\":\"m2\",\"details\":\"caf\xc3\xa9\"}\n";
  CHECK_INT(sc_jsonscan_object(doc, strlen(doc), keys, 3, sp), 1, "jsonscan: a valid object vouched for");
  CHECK(sp[0].n == 5 && !memcmp(sp[0].p, "\"A-1\"", 5), "jsonscan: span of id");
  CHECK(sp[1].n == 4 && !memcmp(sp[1].p, "\"m2\"", 4), "jsonscan: the last of a duplicated key");
  CHECK_INT(sp[2].n, 0, "jsonscan: absent key has an empty span");
  const char *str;
  size_t n;
  CHECK(sc_jsonscan_plain_string(sp[0], &str, &n) && n == 3 && !memcmp(str, "A-1", 3), "jsonscan: plain string");
  sc_jspan esc = {"\"a\\nb\"", 6};
  CHECK_INT(sc_jsonscan_plain_string(esc, &str, &n), 0, "jsonscan: a string with an escape is not plain");
  static const char *const unsure[] = {
      "[{\"id\":\"a\"}]",                /* not an object */
      "{\"id\":\"a\"",                   /* cut short */
      "{\"id\":\"a\"} x",                /* trailing bytes */
      "{\"id\":\"a\",}",                 /* trailing comma */
      "{\"id\":1e5}",                    /* exponent: not vouched for */
      "{\"id\":12345678901234567890}",   /* integer overflow */
      "{\"id\":01}",                     /* leading zero */
      "{\"id\":\"\\u0000\"}",            /* NUL escape */
      "{\"\\u0069d\":\"a\"}",            /* escaped top-level key */
      "{\"id\":\"\xc3\"}",               /* UTF-8 cut short */
      "{\"id\":\"\xc0\xaf\"}",           /* overlong */
      "{\"id\":\"\xed\xa0\x80\"}",       /* UTF-8 surrogate */
      "{\"id\":\"\\ud800\"}",            /* lone high surrogate */
      "{\"id\":\"\\udc00\"}",            /* lone low surrogate */
      "{\"id\":\"a\tb\"}",               /* raw control character */
      "{\"id\":\"\\x\"}",                /* bad escape */
      "{\"id\":truex}",                  /* a longer word */
      "{\"id\":nul}",                    /* a shorter one */
      "{\"id\" \"a\"}",                  /* no colon */
      "{\"id\":[1 2]}",                  /* no comma */
      "{\"id\":\"a\"}\xc3\xa9",          /* non-ASCII outside strings */
  };
  for (size_t i = 0; i < sizeof(unsure) / sizeof(unsure[0]); i++)
    CHECK_INT(sc_jsonscan_object(unsure[i], strlen(unsure[i]), keys, 3, sp), 0, "jsonscan: not vouched for: %s",
              unsure[i]);
  char deep[2 * SC_JSONSCAN_MAX_DEPTH + 16];
  size_t d = 0;
  deep[d++] = '{', deep[d++] = '"', deep[d++] = 'x', deep[d++] = '"', deep[d++] = ':';
  for (int i = 0; i < SC_JSONSCAN_MAX_DEPTH; i++) deep[d++] = '[';
  for (int i = 0; i < SC_JSONSCAN_MAX_DEPTH; i++) deep[d++] = ']';
  deep[d++] = '}';
  CHECK_INT(sc_jsonscan_object(deep, d, keys, 3, sp), 0, "jsonscan: nesting over the limit not vouched for");
  /* every text it vouches for, jansson accepts: a sweep of one-byte edits of a valid record */
  char buf[512];
  int agree = 1;
  for (size_t pos = 0; pos < strlen(REC_GO) && pos < sizeof(buf) - 1; pos += 3) {
    static const char subst[] = "\"\\{}[]:,0 e\x01\xc3";
    for (size_t k = 0; k < sizeof(subst) - 1; k++) {
      size_t len = strlen(REC_GO) < sizeof(buf) ? strlen(REC_GO) : sizeof(buf) - 1;
      memcpy(buf, REC_GO, len);
      buf[pos] = subst[k];
      json_t *j = json_loadb(buf, len, 0, NULL);
      if (sc_jsonscan_object(buf, len, keys, 3, sp) && !j) agree = 0;
      json_decref(j);
    }
  }
  CHECK(agree, "jsonscan: never vouches for text jansson refuses (one-byte edits)");
}

/* Stored texts are written directly, as json_dumps(JSON_COMPACT) wrote
 * them: escapes included. */
static void test_stored_text_escapes(void) {
  sc_osv_stats s;
  const char *rec = "{\"id\":\"ESC-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"CVE-\\\"q\\\\\"],"
                    "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"esc\"},"
                    "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\\u0001\\t\\/x\"},"
                    "{\"fixed\":\"caf\xc3\xa9\\u007f\\b\\f\\r\\n\"}]}],\"versions\":[\"a\\\"b\",\"\\u001f\"]}]}";
  CHECK_INT(imp(rec, &s), 0, "escapes: import");
  CHECK_INT(s.added, 1, "escapes: added");
  /* what jansson's json_dumps gives for the same values */
  json_t *r = json_array(), *e = json_array(), *v = json_array(), *a = json_array();
  json_array_append_new(e, json_string("S"));
  json_array_append_new(e, json_string("i0\x01\t/x"));
  json_array_append_new(e, json_string("fcaf\xc3\xa9\x7f\b\f\r\n"));
  json_array_append_new(r, e);
  json_array_append_new(v, json_string("a\"b"));
  json_array_append_new(v, json_string("\x1f"));
  json_array_append_new(a, json_string("CVE-\"q\\"));
  char *rt = json_dumps(r, JSON_COMPACT), *vt = json_dumps(v, JSON_COMPACT), *at = json_dumps(a, JSON_COMPACT);
  CHECK_STR(q("SELECT ranges FROM vuln_affected WHERE vuln='ESC-1'"), rt, "escapes: ranges text as json_dumps");
  CHECK_STR(q("SELECT versions FROM vuln_affected WHERE vuln='ESC-1'"), vt, "escapes: versions text as json_dumps");
  CHECK_STR(q("SELECT aliases FROM vulns WHERE id='ESC-1'"), at, "escapes: aliases text as json_dumps");
  free(rt), free(vt), free(at);
  json_decref(r), json_decref(v), json_decref(a);
}

/* A re-import settles unchanged records from id and modified without a
 * full parse; what it counts must be what a full parse counted. */
static void test_unchanged_light(void) {
  sc_osv_stats s;
#define UREC(mod, tail) \
  "{\"id\":\"U-1\",\"modified\":\"" mod "\",\"aliases\":[\"CVE-U-1\"],\"affected\":[{\"package\":" \
  "{\"ecosystem\":\"PyPI\",\"name\":\"u\"},\"versions\":[\"1\"]}]" tail "}"
  CHECK_INT(imp(UREC("2024-01-01T00:00:00Z", ""), &s), 0, "light: first import");
  CHECK_INT(s.added, 1, "light: added");
  CHECK_INT(imp(UREC("2024-01-01T00:00:00Z", ",\"details\":\"x\""), &s), 0, "light: same modified");
  CHECK_INT(s.unchanged, 1, "light: unchanged");
  CHECK_INT(imp(UREC("2024-01-01T00:00:00Z", ",\"details\":[1,}"), &s), 0, "light: same modified, broken JSON");
  CHECK_INT(s.malformed, 1, "light: broken JSON is malformed, not unchanged");
  CHECK_INT(imp(UREC("2024-01-01T00:00:00Z", ",\"details\":1e400"), &s), 0, "light: number jansson refuses");
  CHECK_INT(s.malformed, 1, "light: ... malformed (the full parse decided)");
  CHECK_INT(imp(UREC("2024-01-01T00:00:00Z", ",\"details\":1e5"), &s), 0, "light: exponent (not vouched for)");
  CHECK_INT(s.unchanged, 1, "light: ... unchanged through the full parse");
  CHECK_INT(imp("{\"id\":\"U-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":\"CVE-U-1\"}", &s), 0,
            "light: same modified, aliases not an array");
  CHECK_INT(s.malformed, 1, "light: ... malformed as before");
  CHECK_INT(imp("{\"id\":\"U\\u002d1\",\"modified\":\"2024-01-01T00:00:00Z\"}", &s), 0, "light: escaped id");
  CHECK_INT(s.unchanged, 1, "light: ... same record, unchanged");
  CHECK_INT(imp(UREC("2024-02-01T00:00:00Z", ",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"v\"},"
                                             "\"versions\":[\"2\"]}]"),
                &s),
            0, "light: newer, duplicated affected key");
  CHECK_INT(s.updated, 1, "light: updated");
  CHECK_STR(q("SELECT name || ' ' || versions FROM vuln_affected WHERE vuln='U-1'"), "v [\"2\"]",
            "light: the last of a duplicated key is imported, as jansson kept it");
  CHECK_INT(imp("{\"id\":\"U-1\",\"modified\":\"2024-03-01T00:00:00Z\",\"withdrawn\":\"2024-03-01T00:00:00Z\"}", &s),
            0, "light: withdrawn");
  CHECK_INT(s.withdrawn, 1, "light: withdrawn removes");
  CHECK_STR(q("SELECT count(*) FROM vulns WHERE id='U-1'"), "0", "light: gone");
#undef UREC
}

int main(void) {
  if (sc_store_open(":memory:", &st)) {
    printf("Bail out! cannot open store\n");
    return 1;
  }
  test_parse();
  test_severity_sources();
  test_upsert_withdrawn_malformed();
  test_borrow_across_imports();
  test_zip();
  test_normalize();
  test_jsonscan();
  test_stored_text_escapes();
  test_unchanged_light();
  sc_store_close(st);
  return tap_done();
}
