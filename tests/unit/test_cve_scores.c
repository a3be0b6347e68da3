/* test_cve_scores.c - severity of OS findings from CVE-keyed scores: the
 * NVD CVE 2.0 feed reader (sc_nvd: sniffing, metric choice, hostile input:
 * truncated at every byte, wrong types, huge strings, missing metrics,
 * entries over the cap, a reader giving one byte at a time), and the store
 * side through the import (sc_osv, sc_store_severity): feeds plain, .gz and
 * zipped; scores lent to Debian/Ubuntu records through aliases and
 * upstream ids in either import order, taken back when the feed drops them;
 * own scores kept; OSV CVE records lending too; vendor ratings kept; the
 * generation moved; a truncated feed importing nothing. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_err.h"
#include "sc_nvd.h"
#include "sc_osv.h"
#include "sc_store.h"
#include "sc_store_int.h" /* white box: the tests read the SQLite tables */
#include "sc_store_severity.h"
#include "sc_vulnstore.h"
#include "tap.h"

static sc_store *st;
static char dir[] = "/tmp/test_cve_scores.XXXXXX";

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

/* ---- the reader ---------------------------------------------------------- */

#define V31_CRIT "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"   /* 9.8 critical */
#define V31_MED "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"    /* 4.2 medium */
#define V30_HIGH "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"   /* 7.5 high */
#define V2_HIGH "AV:N/AC:L/Au:N/C:P/I:P/A:P"                      /* 7.5 high (v2) */

static const char *FEED =
    "{\"resultsPerPage\":5,\"startIndex\":0,\"totalResults\":5,\"format\":\"NVD_CVE\",\"version\":\"2.0\","
    "\"timestamp\":\"2024-01-01T00:00:00.000\",\"vulnerabilities\":["
    /* Secondary first: the Primary one is chosen */
    "{\"cve\":{\"id\":\"CVE-2099-0001\",\"descriptions\":[{\"lang\":\"en\",\"value\":\"a \\\"quoted\\\" ]} text\"}],"
    "\"metrics\":{\"cvssMetricV31\":[{\"source\":\"cna@example.org\",\"type\":\"Secondary\",\"cvssData\":"
    "{\"version\":\"3.1\",\"vectorString\":\"" V31_MED "\",\"baseScore\":4.2}},"
    "{\"source\":\"nvd@nist.gov\",\"type\":\"Primary\",\"cvssData\":{\"version\":\"3.1\",\"vectorString\":\""
    V31_CRIT "\",\"baseScore\":9.8,\"baseSeverity\":\"CRITICAL\"}}],"
    "\"cvssMetricV2\":[{\"source\":\"nvd@nist.gov\",\"type\":\"Primary\",\"cvssData\":{\"version\":\"2.0\","
    "\"vectorString\":\"" V2_HIGH "\",\"baseScore\":7.5},\"baseSeverity\":\"HIGH\"}]}}},"
    /* v3.0 from a CNA beats NVD's v2 */
    "{\"cve\":{\"id\":\"CVE-2099-0002\",\"metrics\":{\"cvssMetricV30\":[{\"source\":\"cna@example.org\","
    "\"type\":\"Secondary\",\"cvssData\":{\"version\":\"3.0\",\"vectorString\":\"" V30_HIGH "\",\"baseScore\":7.5}}],"
    "\"cvssMetricV2\":[{\"source\":\"nvd@nist.gov\",\"type\":\"Primary\",\"cvssData\":{\"version\":\"2.0\","
    "\"vectorString\":\"AV:L/AC:H/Au:M/C:N/I:N/A:P\",\"baseScore\":1.0}}]}}},"
    /* v2 only */
    "{\"cve\":{\"id\":\"CVE-2099-0003\",\"metrics\":{\"cvssMetricV2\":[{\"source\":\"nvd@nist.gov\","
    "\"type\":\"Primary\",\"cvssData\":{\"version\":\"2.0\",\"vectorString\":\"" V2_HIGH "\",\"baseScore\":7.5}}]}}},"
    /* no metrics at all (awaiting analysis) */
    "{\"cve\":{\"id\":\"CVE-2099-0004\",\"vulnStatus\":\"Awaiting Analysis\",\"metrics\":{}}},"
    /* no usable vector: baseScore decides */
    "{\"cve\":{\"id\":\"CVE-2099-0005\",\"metrics\":{\"cvssMetricV31\":[{\"source\":\"nvd@nist.gov\","
    "\"type\":\"Primary\",\"cvssData\":{\"vectorString\":\"CVSS:3.1/garbage\",\"baseScore\":6.1}}]}}}"
    "]}";

#define MAXC 16
typedef struct got {
  sc_nvd_cve c[MAXC];
  size_t n;
} got;

static int collect(void *arg, const sc_nvd_cve *cv) {
  got *g = arg;
  if (g->n < MAXC) g->c[g->n] = *cv;
  g->n++;
  return 0;
}

/* a reader handing out src one byte at a time */
typedef struct trickle {
  const char *p;
  size_t n, i;
} trickle;

static int rd_trickle(void *arg, char *buf, size_t cap, size_t *n) {
  trickle *t = arg;
  *n = 0;
  if (t->i < t->n && cap) {
    buf[0] = t->p[t->i++];
    *n = 1;
  }
  return 0;
}

static int parse_str(const char *s, size_t n, got *g, uint64_t *mal) {
  memset(g, 0, sizeof(*g));
  *mal = 0;
  return sc_nvd_parse(s, n, NULL, NULL, collect, g, mal);
}

static void test_parse(void) {
  got g;
  uint64_t mal;
  CHECK_INT(parse_str(FEED, strlen(FEED), &g, &mal), 0, "a feed parses");
  CHECK_INT(g.n, 5, "five CVEs");
  CHECK_INT(mal, 0, "none malformed");
  CHECK_STR(g.c[0].id, "CVE-2099-0001", "id");
  CHECK_STR(g.c[0].vector, V31_CRIT, "the Primary v3.1 metric, not the CNA's listed first");
  CHECK(g.c[0].score == 9.8 && g.c[0].severity == SC_SEV_CRITICAL, "9.8 critical (%g)", g.c[0].score);
  CHECK_STR(g.c[0].scored_by, "nvd@nist.gov", "scored by NVD");
  CHECK_INT(g.c[0].version, 31, "v3.1");
  CHECK_STR(g.c[1].vector, V30_HIGH, "v3.0 (Secondary) before NVD's v2");
  CHECK_STR(g.c[1].scored_by, "cna@example.org", "scored by the CNA");
  CHECK(g.c[2].version == 20 && g.c[2].severity == SC_SEV_HIGH && g.c[2].score == 7.5, "v2 only: 7.5 high");
  CHECK(g.c[3].score < 0 && g.c[3].severity == SC_SEV_UNKNOWN, "no metrics: no score");
  CHECK(g.c[4].score == 6.1 && g.c[4].severity == SC_SEV_MEDIUM && !g.c[4].vector[0],
        "an unscorable vector: baseScore 6.1 medium, no vector kept");

  /* the same from a reader giving one byte at a time (after an empty head) */
  trickle t = {FEED, strlen(FEED), 0};
  got g2;
  memset(&g2, 0, sizeof(g2));
  CHECK_INT(sc_nvd_parse(NULL, 0, rd_trickle, &t, collect, &g2, NULL), 0, "parsed one byte at a time");
  CHECK(g2.n == 5 && !strcmp(g2.c[0].vector, V31_CRIT) && g2.c[4].score == 6.1, "same CVEs and scores");

  /* truncated at every byte: never a success, never a crash */
  size_t len = strlen(FEED), ok = 0;
  for (size_t cut = 0; cut < len; cut++)
    if (parse_str(FEED, cut, &g, &mal) == 0) ok++;
  CHECK_INT(ok, 0, "every truncation of the feed is an error");
}

static void test_sniff(void) {
  CHECK_INT(sc_nvd_sniff(FEED, 200), 1, "a feed is told by its first bytes");
  CHECK_INT(sc_nvd_sniff(FEED, 60), 0, "not before its format key is read");
  const char *osv = "{\"id\":\"DEBIAN-CVE-2099-0001\",\"modified\":\"2024-01-01T00:00:00Z\"}";
  CHECK_INT(sc_nvd_sniff(osv, strlen(osv)), 0, "an OSV record is not a feed");
  const char *late = "{\"vulnerabilities\":[],\"format\":\"NVD_CVE\"}";
  CHECK_INT(sc_nvd_sniff(late, strlen(late)), 0, "format after the vulnerabilities: not a feed");
  const char *other = "{\"format\":\"MITRE\",\"vulnerabilities\":[]}";
  CHECK_INT(sc_nvd_sniff(other, strlen(other)), 0, "another format");
  CHECK_INT(sc_nvd_sniff("[1,2]", 5), 0, "an array");
  CHECK_INT(sc_nvd_sniff("", 0), 0, "nothing");
  CHECK_INT(sc_nvd_sniff("{\"format\":\"NVD_CVE", 17), 0, "cut inside the value");
}

static void test_hostile(void) {
  got g;
  uint64_t mal;
  static const struct {
    const char *doc;
    int rv;
    const char *what;
  } top[] = {
      {"{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":{}}", SC_ERR_FORMAT, "vulnerabilities an object"},
      {"{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":\"x\"}", SC_ERR_FORMAT, "vulnerabilities a string"},
      {"{\"format\":\"NVD_CVE\",\"version\":\"1.1\",\"vulnerabilities\":[]}", SC_ERR_UNSUPP, "version 1.1"},
      {"{\"format\":\"NVD_CVE\",\"version\":2,\"vulnerabilities\":[]}", SC_ERR_UNSUPP, "version a number"},
      {"{\"format\":\"XYZ\",\"vulnerabilities\":[]}", SC_ERR_FORMAT, "another format"},
      {"{\"format\":\"NVD_CVE\",\"version\":\"2.0\"}", SC_ERR_FORMAT, "no vulnerabilities"},
      {"{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":[]} x", SC_ERR_FORMAT, "trailing bytes"},
      {"{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":[{}{}]}", SC_ERR_FORMAT, "no comma"},
      {"[]", SC_ERR_FORMAT, "an array"},
      {"{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":[]}", 0, "an empty feed"},
  };
  for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
    CHECK_INT(parse_str(top[i].doc, strlen(top[i].doc), &g, &mal), top[i].rv, "%s", top[i].what);

  /* entries of the wrong shape are skipped and counted, the rest read */
  const char *mixed =
      "{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":[1,\"x\",null,[],{},{\"cve\":7},"
      "{\"cve\":{\"id\":5}},{\"cve\":{\"id\":\"GHSA-1\"}},{\"cve\":{\"id\":\"CVE-2099-\\u0000\"}},"
      "{\"cve\":{\"id\":\"CVE-2099-0100\",\"metrics\":[1]}},"
      "{\"cve\":{\"id\":\"CVE-2099-0101\",\"metrics\":{\"cvssMetricV31\":{\"a\":1},\"cvssMetricV30\":[1,\"s\"],"
      "\"cvssMetricV2\":[{\"cvssData\":\"x\"},{\"cvssData\":{\"baseScore\":\"9.8\"}},"
      "{\"cvssData\":{\"baseScore\":11}},{\"cvssData\":{\"baseScore\":-1}}]}}},"
      "{\"cve\":{\"id\":\"CVE-2099-0102\",\"metrics\":{\"cvssMetricV31\":[{\"type\":\"Primary\",\"cvssData\":"
      "{\"vectorString\":\"" V31_CRIT "\"}}]}}}]}";
  CHECK_INT(parse_str(mixed, strlen(mixed), &g, &mal), 0, "a feed with hostile entries still parses");
  CHECK_INT(mal, 9, "nine entries skipped as malformed");
  CHECK_INT(g.n, 3, "three CVEs handed over");
  CHECK(g.n == 3 && g.c[0].score < 0 && g.c[1].score < 0, "metrics of wrong types: no score");
  CHECK(g.n == 3 && g.c[2].score == 9.8, "the good entry after them scored");

  /* huge strings: a 5 MiB entry is skipped whole, a 1 MiB vector is not
   * scored (baseScore used), a 1 MiB key is skipped over */
  size_t big = 5u << 20, mid = 1u << 20;
  char *doc = malloc(big + mid * 2 + 4096);
  if (!doc) return;
  char *p = doc;
  p += sprintf(p, "{\"%s", "k");
  memset(p, 'k', mid);
  p += mid;
  p += sprintf(p, "\":1,\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":["
                  "{\"cve\":{\"id\":\"CVE-2099-0200\",\"descriptions\":[{\"value\":\"");
  memset(p, 'a', big);
  p += big;
  p += sprintf(p, "\"}]}},{\"cve\":{\"id\":\"CVE-2099-0201\",\"metrics\":{\"cvssMetricV31\":[{\"cvssData\":"
                  "{\"baseScore\":7.1,\"vectorString\":\"CVSS:3.1/");
  memset(p, 'v', mid);
  p += mid;
  p += sprintf(p, "\"}}]}}}]}");
  CHECK_INT(parse_str(doc, (size_t)(p - doc), &g, &mal), 0, "huge strings parse");
  CHECK_INT(mal, 1, "the entry over SC_NVD_MAX_ITEM_BYTES is skipped");
  CHECK(g.n == 1 && !strcmp(g.c[0].id, "CVE-2099-0201") && g.c[0].score == 7.1 && !g.c[0].vector[0],
        "a vector over SC_CVSS_MAX is not kept; baseScore 7.1 is");
  free(doc);
}

/* ---- through the store ---------------------------------------------------- */

static void write_file(const char *path, const char *s, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(s, 1, n, f);
    fclose(f);
  }
}

/* s written gzip-compressed (filter_gzip over the raw format) */
static void write_gz(const char *path, const char *s) {
  struct archive *a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_raw(a);
  archive_write_open_filename(a, path);
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, s, strlen(s));
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

static void write_zip1(const char *path, const char *name, const char *s) {
  struct archive *a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open_filename(a, path);
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)strlen(s));
  archive_write_header(a, e);
  archive_write_data(a, s, strlen(s));
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

static int imp_rec(const char *json) {
  sc_osv_stats s = {0};
  return sc_osv_import_buffer(st, "test", json, strlen(json), &s);
}

static int imp_path(const char *path, sc_osv_stats *s) {
  memset(s, 0, sizeof(*s));
  return sc_osv_import_path(st, path, s);
}

/* A Debian record naming its CVE as upstream, without a score */
static const char *DEB =
    "{\"id\":\"DEBIAN-CVE-2099-0001\",\"modified\":\"2024-01-01T00:00:00Z\",\"upstream\":[\"CVE-2099-0001\"],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
    "\"ecosystem_specific\":{\"urgency\":\"low\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"3.0.13-1\"}]}]}]}";
/* An Ubuntu record aliasing its CVE, with Ubuntu's priority only */
static const char *UBU =
    "{\"id\":\"UBUNTU-CVE-2099-0002\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"CVE-2099-0002\"],"
    "\"severity\":[{\"type\":\"Ubuntu\",\"score\":\"medium\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Ubuntu:22.04:LTS\",\"name\":\"curl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}";

static void test_lending(void) {
  char plain[256], gz[256], zip[256], trunc[256], later[256];
  sc_osv_stats s;
  int64_t g0 = 0, g1 = 0;
  snprintf(plain, sizeof(plain), "%s/nvd.json", dir);
  snprintf(gz, sizeof(gz), "%s/nvd.json.gz", dir);
  snprintf(zip, sizeof(zip), "%s/nvdcve-2.0-2099.json.zip", dir);
  snprintf(trunc, sizeof(trunc), "%s/trunc.json", dir);
  snprintf(later, sizeof(later), "%s/later.json.gz", dir);

  /* the Debian record first: no severity, its urgency kept */
  CHECK_INT(imp_rec(DEB), 0, "Debian record imported");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='DEBIAN-CVE-2099-0001'"), "0 -1.0",
            "no severity before any CVE score");
  char rating[128];
  CHECK_INT(sc_sev_rating_of(st, "DEBIAN-CVE-2099-0001", rating, sizeof(rating)), 0, "rating read");
  CHECK_STR(rating, "Debian urgency: low", "Debian urgency kept beside");
  sc_vulnstore_generation(st, &g0);

  /* then the feed, gzip-compressed: the upstream CVE's score is lent */
  write_gz(gz, FEED);
  CHECK_INT(imp_path(gz, &s), 0, "a .json.gz feed imports");
  CHECK(s.added == 4 && s.scores == 4 && s.unchanged == 1 && s.malformed == 0,
        "4 scores added, the unscored CVE counted unchanged (%llu %llu %llu)", (unsigned long long)s.added,
        (unsigned long long)s.scores, (unsigned long long)s.unchanged);
  CHECK_STR(q("SELECT count(*) FROM cve_scores"), "4", "four CVE scores stored");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='DEBIAN-CVE-2099-0001'"), "4 9.8",
            "the Debian record borrows CVE-2099-0001's 9.8 critical through upstream");
  CHECK_STR(q("SELECT sev_own FROM vulns WHERE id='DEBIAN-CVE-2099-0001'"), "0", "its own stays none");
  sc_vulnstore_generation(st, &g1);
  CHECK(g1 > g0, "the generation moved (%lld -> %lld)", (long long)g0, (long long)g1);

  /* re-importing the same feed, plain or zipped, changes nothing */
  write_file(plain, FEED, strlen(FEED));
  CHECK_INT(imp_path(plain, &s), 0, "a plain feed imports");
  CHECK(s.added == 0 && s.updated == 0 && s.unchanged == 5, "same scores: unchanged");
  write_zip1(zip, "nvdcve-2.0-2099.json", FEED);
  CHECK_INT(imp_path(zip, &s), 0, "a zipped feed imports");
  CHECK(s.unchanged == 5 && s.scores == 4, "zip entry read as a feed");
  int64_t g2 = 0;
  sc_vulnstore_generation(st, &g2);
  CHECK(g2 == g1, "an unchanged feed keeps the generation");

  /* the other order: the Ubuntu record after its CVE's score */
  CHECK_INT(imp_rec(UBU), 0, "Ubuntu record imported after the feed");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='UBUNTU-CVE-2099-0002'"), "3 7.5",
            "it borrows CVE-2099-0002's 7.5 high through its alias");
  CHECK_INT(sc_sev_rating_of(st, "UBUNTU-CVE-2099-0002", rating, sizeof(rating)), 0, "rating read");
  CHECK_STR(rating, "Ubuntu priority: medium", "Ubuntu priority kept beside, not used as the severity");

  /* a record with its own score keeps it */
  CHECK_INT(imp_rec("{\"id\":\"GHSA-own\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"CVE-2099-0001\"],"
                    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"" V31_MED "\"}]}"),
            0, "a record with its own CVSS");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='GHSA-own'"), "2 4.2", "own score kept");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='DEBIAN-CVE-2099-0001'"), "4 9.8",
            "the highest lender wins");

  /* OSV's converted CVE records lend as well */
  CHECK_INT(imp_rec("{\"id\":\"DEBIAN-CVE-2099-0009\",\"modified\":\"2024-01-01T00:00:00Z\","
                    "\"upstream\":[\"CVE-2099-0009\"]}"),
            0, "a Debian record of a CVE without NVD score");
  CHECK_INT(imp_rec("{\"id\":\"CVE-2099-0009\",\"modified\":\"2024-01-01T00:00:00Z\","
                    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"" V30_HIGH "\"}]}"),
            0, "OSV's CVE record with a score");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='DEBIAN-CVE-2099-0009'"), "3 7.5",
            "lent by the OSV CVE record");

  /* a truncated feed imports nothing, and says so */
  write_file(trunc, FEED, strlen(FEED) - 10);
  CHECK_INT(imp_path(trunc, &s), SC_ERR_FORMAT, "a truncated feed is an error");
  CHECK_STR(q("SELECT count(*) FROM vuln_sources WHERE name LIKE '%trunc.json'"), "0", "not recorded as a source");
  CHECK_STR(q("SELECT count(*) FROM cve_scores"), "4", "scores unchanged");

  /* a later feed drops CVE-2099-0001's metric and rescoring another */
  write_gz(later, "{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":["
                  "{\"cve\":{\"id\":\"CVE-2099-0001\",\"metrics\":{}}},"
                  "{\"cve\":{\"id\":\"CVE-2099-0002\",\"metrics\":{\"cvssMetricV31\":[{\"type\":\"Primary\","
                  "\"source\":\"nvd@nist.gov\",\"cvssData\":{\"vectorString\":\"" V31_CRIT "\"}}]}}}]}");
  CHECK_INT(imp_path(later, &s), 0, "a later feed imports");
  CHECK(s.withdrawn == 1 && s.updated == 1, "one score dropped, one changed");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='DEBIAN-CVE-2099-0001'"), "2 4.2",
            "the Debian record falls back to the remaining lender (GHSA's 4.2)");
  CHECK_STR(q("SELECT severity || ' ' || score FROM vulns WHERE id='UBUNTU-CVE-2099-0002'"), "4 9.8",
            "the Ubuntu record follows its CVE's new score");
  int64_t n = 0;
  CHECK_INT(sc_sev_count_cve_scores(st, &n), 0, "count");
  CHECK_INT(n, 3, "three scores left");
  /* the record's removal takes its rating along */
  CHECK_INT(imp_rec("{\"id\":\"UBUNTU-CVE-2099-0002\",\"modified\":\"2025-01-01T00:00:00Z\","
                    "\"withdrawn\":\"2025-01-01T00:00:00Z\"}"),
            0, "withdrawn");
  CHECK_STR(q("SELECT count(*) FROM vuln_ratings WHERE vuln='UBUNTU-CVE-2099-0002'"), "0", "rating gone with it");
  unlink(plain);
  unlink(gz);
  unlink(zip);
  unlink(trunc);
  unlink(later);
}

int main(void) {
  if (!mkdtemp(dir)) {
    printf("Bail out! no temp dir\n");
    return 1;
  }
  if (sc_store_open(":memory:", &st)) {
    printf("Bail out! cannot open store\n");
    return 1;
  }
  test_sniff();
  test_parse();
  test_hostile();
  test_lending();
  sc_store_close(st);
  rmdir(dir);
  return tap_done();
}
