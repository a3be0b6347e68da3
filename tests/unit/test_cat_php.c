/* test_cat_php.c - the Composer cataloger (sc_cat_php.c) on
 * vendor/composer/installed.json.  tests/fixtures/php/installed2.json is
 * real: Debian 12's composer 2.5.5 wrote it (make_installed2.sh beside it
 * says how: a path repository of local stand-in packages, no network).
 * installed1.json, the Composer 1 format (a top-level array), is written by
 * hand to that published format (Composer 1 is not in Debian 12).  Also:
 * hostile files and the scan rate on a 20 MB file ("# php: ... MB/s").
 * Owner: scanner tests.  Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "tap.h"
#include "memreader.h"
#include "../../scanner/sc_catalog.h"

#define BENCH_BYTES (20u << 20) /* the "large fixture" of the issue: 20 MB */
#define IJ "app/vendor/composer/installed.json"

static char *slurp(const char *rel, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", SRCDIR, rel);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *b = malloc(1 << 20);
  *len = fread(b, 1, 1 << 20, f);
  fclose(f);
  return b;
}

static int scan_buf(sc_inventory *inv, const char *buf, size_t len, size_t chunk, const sc_limits *lim) {
  memrd m = {(const unsigned char *)buf, len, 0, chunk};
  sc_reader r = {mem_read, &m};
  return sc_cat_php.scan(inv, IJ, &r, lim);
}

static int scan_str(sc_inventory *inv, const char *s) {
  sc_limits lim;
  sc_limits_default(&lim);
  return scan_buf(inv, s, strlen(s), 5, &lim);
}

static void test_match(void) {
  mode_t m = S_IFREG | 0644;
  CHECK(sc_cat_php.match(IJ, 4000, m), "app/vendor/composer/installed.json is matched");
  CHECK(sc_cat_php.match("vendor/composer/installed.json", 4000, m), "at the root too");
  CHECK(!sc_cat_php.match("app/myvendor/composer/installed.json", 4000, m), "myvendor/ is not vendor/");
  CHECK(!sc_cat_php.match("app/vendor/composer/installed.php", 4000, m), "installed.php is not");
  CHECK(!sc_cat_php.match("app/composer.lock", 4000, m), "composer.lock is not (not installed)");
  CHECK(!sc_cat_php.match(IJ, 64ll << 20, m), "a 64 MiB installed.json is not asked for");
}

static void check_pkg(const sc_inventory *inv, size_t i, const char *name, const char *ver) {
  if (i >= inv->npkgs) {
    CHECK(0, "package %zu present", i);
    return;
  }
  CHECK_STR(inv->pkgs[i].name, name, "package %zu name", i);
  CHECK_STR(inv->pkgs[i].version, ver, "package %zu version", i);
  CHECK_STR(inv->pkgs[i].ecosystem, "Packagist", "package %zu ecosystem Packagist", i);
  CHECK_STR(inv->pkgs[i].type, "composer", "package %zu type composer", i);
  CHECK_STR(inv->pkgs[i].path, IJ, "package %zu path", i);
}

static void test_fixtures(void) {
  size_t len;
  sc_limits lim;
  sc_limits_default(&lim);
  sc_inventory inv;
  char *buf = slurp("tests/fixtures/php/installed2.json", &len);
  CHECK(buf != NULL, "fixture installed2.json read");
  if (buf) {
    sc_inventory_init(&inv);
    CHECK_INT(scan_buf(&inv, buf, len, 7, &lim), 0, "Composer 2 installed.json scans");
    CHECK_INT(inv.npkgs, 3, "three packages, the dev one (phpunit) included");
    check_pkg(&inv, 0, "guzzlehttp/guzzle", "7.4.0");
    check_pkg(&inv, 1, "phpunit/phpunit", "9.5.10");
    check_pkg(&inv, 2, "symfony/http-kernel", "5.4.0"); /* "v5.4.0": the v is dropped */
    sc_inventory_free(&inv);
    lim.max_file_read = len - 1;
    sc_inventory_init(&inv);
    CHECK_INT(scan_buf(&inv, buf, len, 4096, &lim), SC_ERR_LIMIT, "over max_file_read: LIMIT");
    CHECK_INT(inv.npkgs, 0, "nothing added");
    sc_inventory_free(&inv);
    sc_limits_default(&lim);
    sc_budget b;
    sc_budget_init(&b, "php", 0, (uint64_t)len * 4, NULL, 0);
    lim.budget = &b;
    sc_inventory_init(&inv);
    CHECK_INT(scan_buf(&inv, buf, len, 4096, &lim), SC_ERR_LIMIT, "tree over the memory budget: LIMIT");
    sc_inventory_free(&inv);
    sc_limits_default(&lim);
    free(buf);
  }
  buf = slurp("tests/fixtures/php/installed1.json", &len);
  CHECK(buf != NULL, "fixture installed1.json read");
  if (buf) {
    sc_inventory_init(&inv);
    CHECK_INT(scan_buf(&inv, buf, len, 1, &lim), 0, "Composer 1 installed.json scans (1 byte a read)");
    CHECK_INT(inv.npkgs, 3, "three packages");
    check_pkg(&inv, 0, "monolog/monolog", "1.25.1");
    check_pkg(&inv, 1, "psr/log", "1.1.0");
    check_pkg(&inv, 2, "acme/tools", "dev-master"); /* a branch: reported as installed */
    sc_inventory_free(&inv);
    free(buf);
  }
}

static void test_hostile(void) {
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(scan_str(&inv, "{\"dev\": true}"), SC_ERR_FORMAT, "object without packages: FORMAT");
  CHECK_INT(scan_str(&inv, "{\"packages\": {}}"), SC_ERR_FORMAT, "packages not an array: FORMAT");
  CHECK_INT(scan_str(&inv, "\"x\""), SC_ERR_FORMAT, "a string: FORMAT");
  CHECK_INT(scan_str(&inv, "[{\"name\": \"a/b\""), SC_ERR_FORMAT, "cut short: FORMAT");
  CHECK_INT(scan_str(&inv, "{\"packages\": [], \"dev\": false, \"dev-package-names\": []}"), 0, "empty Composer 2 file");
  CHECK_INT(scan_str(&inv, "[7, \"x\", {\"name\": \"noslash\", \"version\": \"1\"}, {\"name\": \"a/b/c\", \"version\": \"1\"},"
                           " {\"name\": \"/b\", \"version\": \"1\"}, {\"name\": \"a/b\"}, {\"name\": \"a/b\", \"version\": 1},"
                           " {\"name\": \"a/b\", \"version\": \"v\"}, {\"name\": \"ok/pkg\", \"version\": \"V2.0.1\"}]"),
            0, "odd entries are skipped");
  CHECK_INT(inv.npkgs, 2, "kept: ok/pkg and a/b at version \"v\" (not a v prefix)");
  if (inv.npkgs == 2) {
    CHECK_STR(inv.pkgs[0].version, "v", "a lone v is the version itself");
    CHECK_STR(inv.pkgs[1].version, "2.0.1", "V2.0.1 gives 2.0.1");
  }
  sc_inventory_free(&inv);
  size_t depth = 1u << 20;
  char *deep = malloc(depth + 64);
  size_t n = (size_t)sprintf(deep, "{\"packages\": [");
  memset(deep + n, '{', depth);
  deep[n + depth] = '\0';
  for (size_t i = n; i < n + depth; i += 2) deep[i] = '['; /* [{[{... */
  sc_inventory_init(&inv);
  CHECK_INT(scan_str(&inv, deep), SC_ERR_FORMAT, "1 Mi nesting levels: FORMAT, no stack overflow");
  sc_inventory_free(&inv);
  free(deep);
}

/* A Composer 2 installed.json of about `bytes` bytes, packages shaped as
 * composer writes them from Packagist. */
static char *big_installed(size_t bytes, size_t *len, size_t *npkgs) {
  size_t cap = bytes + 4096, o = 0, k;
  char *b = malloc(cap);
  o += (size_t)snprintf(b + o, cap - o, "{\"packages\": [");
  for (k = 0; o + 1200 < bytes; k++)
    o += (size_t)snprintf(
        b + o, cap - o,
        "%s{\"name\": \"vendor%zu/package%zu\", \"version\": \"v%zu.%zu.0\", \"version_normalized\": \"%zu.%zu.0.0\","
        " \"source\": {\"type\": \"git\", \"url\": \"https://example.invalid/vendor%zu/package%zu.git\","
        " \"reference\": \"0123456789abcdef0123456789abcdef01234567\"},"
        " \"dist\": {\"type\": \"zip\", \"url\": \"https://example.invalid/zipball/0123456789abcdef\","
        " \"reference\": \"0123456789abcdef0123456789abcdef01234567\", \"shasum\": \"\"},"
        " \"require\": {\"php\": \">=7.2.5\", \"psr/log\": \"^1|^2|^3\"}, \"time\": \"2021-11-29T13:39:52+00:00\","
        " \"type\": \"library\", \"installation-source\": \"dist\","
        " \"autoload\": {\"psr-4\": {\"Vendor%zu\\\\Package\\\\\": \"src/\"}}, \"license\": [\"MIT\"],"
        " \"description\": \"A package of the rate fixture\", \"install-path\": \"../vendor%zu/package%zu\"}",
        k ? ", " : "", k, k, k % 9 + 1, k % 13, k % 9 + 1, k % 13, k, k, k, k, k);
  o += (size_t)snprintf(b + o, cap - o, "], \"dev\": true, \"dev-package-names\": [\"vendor0/package0\"]}");
  *len = o;
  *npkgs = k;
  return b;
}

static void test_rate(void) {
  size_t len, n;
  char *b = big_installed(BENCH_BYTES, &len, &n);
  sc_limits lim;
  sc_limits_default(&lim);
  lim.max_file_read = 32u << 20; /* the default 16 MiB would refuse a 20 MB file */
  sc_inventory inv;
  sc_inventory_init(&inv);
  struct timespec t0, t1, c0, c1; /* wall and this process's CPU: the machine may be shared */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  int rc = scan_buf(&inv, b, len, 65536, &lim);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
  CHECK_INT(rc, 0, "20 MB installed.json scans");
  CHECK_INT(inv.npkgs, n, "all %zu packages of the 20 MB installed.json", n);
  printf("# php: %.1f MB in %.3f s wall = %.1f MB/s, %.3f s CPU = %.1f MB/s (%zu packages)\n",
         (double)len / 1e6, s, (double)len / 1e6 / s, cpu, (double)len / 1e6 / cpu, n);
  sc_inventory_free(&inv);
  free(b);
}

int main(void) {
  test_match();
  test_fixtures();
  test_hostile();
  test_rate();
  return tap_done();
}
