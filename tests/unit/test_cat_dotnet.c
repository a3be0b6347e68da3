/* test_cat_dotnet.c - the .NET cataloger (sc_cat_dotnet.c) on *.deps.json.
 * The .NET SDK is not in Debian, so tests/fixtures/dotnet/MyApp.deps.json is
 * written by hand, byte for byte to the published runtime/deps schema
 * (runtimeTarget, compilationOptions, targets, libraries with "package",
 * "project" and "reference" entries; the sha512 values are placeholders,
 * nothing reads them).  Also: hostile files (deep nesting, wrong types, over
 * the caps, over the memory budget) and the scan rate on a 20 MB file,
 * printed as a TAP comment ("# dotnet: ... MB/s").
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

static int scan_buf(sc_inventory *inv, const char *path, const char *buf, size_t len, size_t chunk,
                    const sc_limits *lim) {
  memrd m = {(const unsigned char *)buf, len, 0, chunk};
  sc_reader r = {mem_read, &m};
  return sc_cat_dotnet.scan(inv, path, &r, lim);
}

static int scan_str(sc_inventory *inv, const char *s) {
  sc_limits lim;
  sc_limits_default(&lim);
  return scan_buf(inv, "app/x.deps.json", s, strlen(s), 3, &lim);
}

static void test_match(void) {
  mode_t m = S_IFREG | 0644;
  CHECK(sc_cat_dotnet.match("app/MyApp.deps.json", 4000, m), "app/MyApp.deps.json is matched");
  CHECK(sc_cat_dotnet.match("MyApp.deps.json", 4000, m), "a deps.json at the root is matched");
  CHECK(!sc_cat_dotnet.match("app/.deps.json", 4000, m), "a bare .deps.json is not");
  CHECK(!sc_cat_dotnet.match("app/MyApp.deps.json.bak", 4000, m), "a .bak copy is not");
  CHECK(!sc_cat_dotnet.match("app/MyApp.runtimeconfig.json", 400, m), "runtimeconfig.json is not");
  CHECK(!sc_cat_dotnet.match("app/MyApp.deps.json", 64ll << 20, m), "a 64 MiB deps.json is not asked for");
}

static void test_fixture(void) {
  size_t len;
  char *buf = slurp("tests/fixtures/dotnet/MyApp.deps.json", &len);
  CHECK(buf != NULL, "fixture MyApp.deps.json read");
  if (!buf) return;
  sc_limits lim;
  sc_limits_default(&lim);
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(scan_buf(&inv, "app/MyApp.deps.json", buf, len, 7, &lim), 0, "fixture scans");
  CHECK_INT(inv.npkgs, 2, "two NuGet packages (project and reference entries skipped)");
  if (inv.npkgs == 2) {
    CHECK_STR(inv.pkgs[0].name, "Newtonsoft.Json", "first name");
    CHECK_STR(inv.pkgs[0].version, "12.0.1", "first version");
    CHECK_STR(inv.pkgs[0].ecosystem, "NuGet", "OSV ecosystem NuGet");
    CHECK_STR(inv.pkgs[0].type, "nuget", "type nuget");
    CHECK_STR(inv.pkgs[0].path, "app/MyApp.deps.json", "path of the deps.json");
    CHECK_STR(inv.pkgs[1].name, "System.Text.Encodings.Web", "second name");
    CHECK_STR(inv.pkgs[1].version, "4.5.0", "second version");
  }
  for (size_t i = 0; i < inv.npkgs; i++)
    CHECK(strcmp(inv.pkgs[i].name, "MyApp") && strcmp(inv.pkgs[i].name, "MyApp.Core") &&
              strcmp(inv.pkgs[i].name, "Legacy.Interop"),
          "no project or reference entry: %s", inv.pkgs[i].name);
  sc_inventory_free(&inv);
  /* the same bytes a byte at a time: the result does not depend on chunking */
  sc_inventory_init(&inv);
  CHECK_INT(scan_buf(&inv, "app/MyApp.deps.json", buf, len, 1, &lim), 0, "fixture scans 1 byte a read");
  CHECK_INT(inv.npkgs, 2, "same two packages");
  sc_inventory_free(&inv);
  /* over the walker's max_file_read: refused, nothing half-read */
  lim.max_file_read = len - 1;
  sc_inventory_init(&inv);
  CHECK_INT(scan_buf(&inv, "app/MyApp.deps.json", buf, len, 4096, &lim), SC_ERR_LIMIT, "over max_file_read: LIMIT");
  CHECK_INT(inv.npkgs, 0, "nothing added");
  sc_inventory_free(&inv);
  /* the parse tree is charged to the memory budget before parsing */
  sc_limits_default(&lim);
  sc_budget b;
  sc_budget_init(&b, "dotnet", 0, (uint64_t)len * 4, NULL, 0);
  lim.budget = &b;
  sc_inventory_init(&inv);
  CHECK_INT(scan_buf(&inv, "app/MyApp.deps.json", buf, len, 4096, &lim), SC_ERR_LIMIT, "tree over the memory budget: LIMIT");
  CHECK_INT(inv.npkgs, 0, "nothing added over budget");
  sc_inventory_free(&inv);
  free(buf);
}

static void test_hostile(void) {
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(scan_str(&inv, "[]"), SC_ERR_FORMAT, "top-level array: FORMAT");
  CHECK_INT(scan_str(&inv, "{\"libraries\": []}"), SC_ERR_FORMAT, "libraries not an object: FORMAT");
  CHECK_INT(scan_str(&inv, "{\"libraries\": {\"A/1\": {\"type\": \"package\"}"), SC_ERR_FORMAT, "cut short: FORMAT");
  CHECK_INT(scan_str(&inv, "{\"targets\": {}}"), 0, "no libraries: no packages, no error");
  CHECK_INT(scan_str(&inv,
                     "{\"libraries\": {\"NoSlash\": {\"type\": \"package\"}, \"A/1/2\": {\"type\": \"package\"},"
                     " \"/1.0\": {\"type\": \"package\"}, \"B/\": {\"type\": \"package\"},"
                     " \"C/1.0\": {\"type\": 7}, \"D/1.0\": \"package\", \"E/2.0\": {\"type\": \"package\"}}}"),
            0, "odd keys and values are skipped");
  CHECK_INT(inv.npkgs, 1, "only the well-formed E/2.0 is kept");
  if (inv.npkgs == 1) CHECK_STR(inv.pkgs[0].name, "E", "E kept");
  sc_inventory_free(&inv);
  /* the quick path (sc_jsonscan, "libraries" parsed alone) and the full
   * parse (an escaped top-level key or an exponent makes sc_jsonscan unsure)
   * agree */
  static const char *const twins[][2] = {
      {"{\"targets\": {}, \"libraries\": {\"F/1.0\": {\"type\": \"package\"}}}",
       "{\"t\\u0061rgets\": {}, \"libraries\": {\"F/1.0\": {\"type\": \"package\"}}}"},
      {"{\"libraries\": null}", "{\"libraries\": null, \"n\": 1e5}"},
      {"{\"libraries\": {}, \"libraries\": {\"G/2\": {\"type\": \"package\"}}}",
       "{\"libraries\": {}, \"libraries\": {\"G/2\": {\"type\": \"package\"}}, \"n\": 1E1}"},
  };
  for (size_t i = 0; i < sizeof(twins) / sizeof(twins[0]); i++) {
    sc_inventory a, b;
    sc_inventory_init(&a);
    sc_inventory_init(&b);
    int ra = scan_str(&a, twins[i][0]), rb = scan_str(&b, twins[i][1]);
    CHECK(ra == rb && a.npkgs == b.npkgs && (a.npkgs == 0 || !strcmp(a.pkgs[0].name, b.pkgs[0].name)),
          "quick and full parse agree (%zu): rc %d/%d, %zu/%zu packages", i, ra, rb, a.npkgs, b.npkgs);
    sc_inventory_free(&a);
    sc_inventory_free(&b);
  }
  /* 1 MiB of '[' inside libraries: jansson's depth limit, not the stack, stops it */
  size_t depth = 1u << 20;
  char *deep = malloc(depth + 64);
  size_t n = (size_t)sprintf(deep, "{\"libraries\": {\"A/1\": ");
  memset(deep + n, '[', depth);
  deep[n + depth] = '\0';
  sc_inventory_init(&inv);
  CHECK_INT(scan_str(&inv, deep), SC_ERR_FORMAT, "1 Mi nesting levels: FORMAT, no stack overflow");
  sc_inventory_free(&inv);
  free(deep);
}

/* A deps.json of about `bytes` bytes: n packages with targets entries as
 * the SDK writes them.  Returns the buffer, *npkgs the packages in it. */
static char *big_deps(size_t bytes, size_t *len, size_t *npkgs) {
  size_t cap = bytes + 4096, o = 0, k = 0;
  char *b = malloc(cap);
  o += (size_t)snprintf(b + o, cap - o, "{\"runtimeTarget\": {\"name\": \".NETCoreApp,Version=v6.0\"},"
                                        " \"targets\": {\".NETCoreApp,Version=v6.0\": {");
  size_t half = bytes / 2;
  for (k = 0; o < half; k++)
    o += (size_t)snprintf(b + o, cap - o,
                          "%s\"Vendor.Package%zu/1.%zu.0\": {\"dependencies\": {\"Dep%zu\": \"2.0.0\"},"
                          " \"runtime\": {\"lib/net6.0/Vendor.Package%zu.dll\": {\"assemblyVersion\": \"1.0.0.0\"}}}",
                          k ? ", " : "", k, k % 50, k, k);
  o += (size_t)snprintf(b + o, cap - o, "}}, \"libraries\": {");
  size_t n = k;
  for (k = 0; k < n && o + 400 < bytes; k++)
    o += (size_t)snprintf(b + o, cap - o,
                          "%s\"Vendor.Package%zu/1.%zu.0\": {\"type\": \"package\", \"serviceable\": true,"
                          " \"sha512\": \"sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\","
                          " \"path\": \"vendor.package%zu/1.%zu.0\", \"hashPath\": \"vendor.package%zu.1.%zu.0.nupkg.sha512\"}",
                          k ? ", " : "", k, k % 50, k, k % 50, k, k % 50);
  o += (size_t)snprintf(b + o, cap - o, "}}");
  *len = o;
  *npkgs = k;
  return b;
}

static void test_rate(void) {
  size_t len, n;
  char *b = big_deps(BENCH_BYTES, &len, &n);
  sc_limits lim;
  sc_limits_default(&lim);
  lim.max_file_read = 32u << 20; /* the default 16 MiB would refuse a 20 MB file */
  sc_inventory inv;
  sc_inventory_init(&inv);
  struct timespec t0, t1, c0, c1; /* wall and this process's CPU: the machine may be shared */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  int rc = scan_buf(&inv, "app/Big.deps.json", b, len, 65536, &lim);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
  CHECK_INT(rc, 0, "20 MB deps.json scans");
  CHECK_INT(inv.npkgs, n, "all %zu packages of the 20 MB deps.json", n);
  printf("# dotnet: %.1f MB in %.3f s wall = %.1f MB/s, %.3f s CPU = %.1f MB/s (%zu packages)\n",
         (double)len / 1e6, s, (double)len / 1e6 / s, cpu, (double)len / 1e6 / cpu, n);
  sc_inventory_free(&inv);
  free(b);
}

int main(void) {
  test_match();
  test_fixture();
  test_hostile();
  test_rate();
  return tap_done();
}
