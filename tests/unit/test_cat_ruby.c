/* test_cat_ruby.c - the RubyGems cataloger (scanner/sc_cat_ruby.c).
 *
 * Real gemspecs, copied unchanged from Debian 12 (bookworm) packages into
 * tests/fixtures/ruby/:
 *   rack-2.2.22.gemspec    ruby-rack 2.2.22-0+deb12u2 (usr/share/rubygems-integration/all/specifications/)
 *   rake-13.0.6.gemspec    rake 13.0.6-3 (same directory)
 *   webrick-1.8.1.gemspec  ruby-webrick 1.8.1-1 (same directory)
 *   json-2.6.1.gemspec     libruby3.1 3.1.2-0+deb12u1 (usr/lib/ruby/gems/3.1.0/specifications/default/;
 *                          its "# stub:" line holds NUL bytes, as RubyGems writes them)
 *   rdoc-6.4.1.1.gemspec   libruby3.1 (same directory; a four-part version)
 *   rexml-3.2.5.gemspec    libruby3.1 (usr/lib/ruby/gems/3.1.0/specifications/, a bundled gem)
 * tests/fixtures/ruby/Gemfile.lock is written by hand in Bundler's published
 * lockfile format (GIT, PATH and GEM sources, platform variants, PLATFORMS,
 * DEPENDENCIES, BUNDLED WITH), as `bundle lock` 2.3 writes it.
 * The other inputs are built here, each aimed at one rule of the parser.
 * Every input is fed through a reader handing out 1, 7 or 4096 bytes per call.
 * Owner: ruby.  Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"
#include "memreader.h"
#include "../../scanner/sc_catalog.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define FIX_MAX_BYTES (1u << 20)

static const size_t chunks[] = {1, 7, 4096};
#define NCHUNKS (sizeof chunks / sizeof chunks[0])

static char *slurp(const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/fixtures/ruby/%s", SRCDIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *b = malloc(FIX_MAX_BYTES);
  *len = b ? fread(b, 1, FIX_MAX_BYTES, f) : 0;
  fclose(f);
  return b;
}

/* Runs the cataloger on len bytes at path; rc is its return. */
static int run(sc_inventory *inv, const char *path, const void *p, size_t len, size_t chunk,
               const sc_limits *lim) {
  memrd m = {p, len, 0, chunk};
  sc_reader r = {mem_read, &m};
  sc_inventory_init(inv);
  if (!sc_cat_ruby.match(path, (int64_t)len, S_IFREG | 0644)) return 1;
  return sc_cat_ruby.scan(inv, path, &r, lim);
}

static const sc_package *find(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (strcmp(inv->pkgs[i].name, name) == 0) return &inv->pkgs[i];
  return NULL;
}

static void test_match(void) {
  static const char *const yes[] = {
      "usr/lib/ruby/gems/3.1.0/specifications/rexml-3.2.5.gemspec",
      "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
      "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
      "var/lib/gems/3.1.0/specifications/nokogiri-1.13.0-x86_64-linux.gemspec",
      "usr/local/bundle/specifications/puma-6.4.0.gemspec",
      "specifications/default/x-1.gemspec",
      "Gemfile.lock",
      "srv/app/Gemfile.lock",
      "srv/app/gems.locked",
  };
  static const char *const no[] = {
      "srv/app/shopfront.gemspec",                                   /* a source tree's own gemspec */
      "usr/lib/ruby/gems/3.1.0/gems/rack-2.2.22/rack.gemspec",       /* inside the unpacked gem */
      "usr/lib/ruby/gems/3.1.0/specifications/.gemspec",
      "usr/lib/ruby/gems/3.1.0/myspecifications/rack-2.2.22.gemspec",
      "usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.22.gemspec.bak",
      "usr/lib/ruby/gems/3.1.0/default/rack-2.2.22.gemspec",
      "rack-2.2.22.gemspec",
      "srv/app/Gemfile",
      "srv/app/Gemfile.lock.orig",
      "srv/app/XGemfile.lock",
  };
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    CHECK(sc_cat_ruby.match(yes[i], 100, S_IFREG | 0644), "match %s", yes[i]);
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    CHECK(!sc_cat_ruby.match(no[i], 100, S_IFREG | 0644), "no match %s", no[i]);
}

/* The Debian gemspecs: one package each, from the body, whatever the chunking. */
static void test_debian_gemspecs(const sc_limits *lim) {
  static const struct {
    const char *file, *dir, *name, *ver;
  } fx[] = {
      {"rack-2.2.22.gemspec", "usr/share/rubygems-integration/all/specifications/", "rack", "2.2.22"},
      {"rake-13.0.6.gemspec", "usr/share/rubygems-integration/all/specifications/", "rake", "13.0.6"},
      {"webrick-1.8.1.gemspec", "usr/share/rubygems-integration/all/specifications/", "webrick", "1.8.1"},
      {"json-2.6.1.gemspec", "usr/lib/ruby/gems/3.1.0/specifications/default/", "json", "2.6.1"},
      {"rdoc-6.4.1.1.gemspec", "usr/lib/ruby/gems/3.1.0/specifications/default/", "rdoc", "6.4.1.1"},
      {"rexml-3.2.5.gemspec", "usr/lib/ruby/gems/3.1.0/specifications/", "rexml", "3.2.5"},
  };
  for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
    size_t len;
    char *b = slurp(fx[i].file, &len);
    CHECK(b && len > 500, "fixture %s read", fx[i].file);
    if (!b) continue;
    char path[512], body_path[512];
    snprintf(path, sizeof path, "%s%s", fx[i].dir, fx[i].file);
    for (size_t c = 0; c < NCHUNKS; c++) {
      sc_inventory inv;
      CHECK_INT(run(&inv, path, b, len, chunks[c], lim), 0, "%s chunk %zu: scan ok", fx[i].file, chunks[c]);
      CHECK_INT(inv.npkgs, 1, "%s chunk %zu: one package", fx[i].file, chunks[c]);
      if (inv.npkgs == 1) {
        const sc_package *p = &inv.pkgs[0];
        CHECK_STR(p->name, fx[i].name, "%s: name", fx[i].file);
        CHECK_STR(p->version, fx[i].ver, "%s: version", fx[i].file);
        CHECK_STR(p->type, "gem", "%s: type", fx[i].file);
        CHECK_STR(p->ecosystem, "RubyGems", "%s: ecosystem", fx[i].file);
        CHECK_STR(p->path, path, "%s: path", fx[i].file);
        if (c == 0) {
          CHECK_INT(sc_inventory_finish(&inv), 0, "%s: finish", fx[i].file);
          char want[256];
          snprintf(want, sizeof want, "pkg:gem/%s@%s", fx[i].name, fx[i].ver);
          CHECK_STR(inv.pkgs[0].purl, want, "%s: purl", fx[i].file);
        }
      }
      sc_inventory_free(&inv);
    }
    /* the body, not the file name, decides: the same bytes under another name */
    snprintf(body_path, sizeof body_path, "%s%s-99.0.gemspec", fx[i].dir, fx[i].name);
    sc_inventory inv;
    CHECK_INT(run(&inv, body_path, b, len, 4096, lim), 0, "%s renamed: scan ok", fx[i].file);
    CHECK(inv.npkgs == 1 && strcmp(inv.pkgs[0].version, fx[i].ver) == 0, "%s renamed: version from the body",
          fx[i].file);
    sc_inventory_free(&inv);
    free(b);
  }
}

/* Synthetic gemspecs: literal forms, what must not be read, and the file name fallback. */
static void test_gemspec_forms(const sc_limits *lim) {
  static const struct {
    const char *what, *file, *body, *name, *ver; /* name NULL: no package, SC_ERR_FORMAT */
  } cs[] = {
      {"double quotes + freeze", "a-0.0.1.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"alpha\".freeze\n  s.version = \"1.2.3\"\nend\n", "alpha", "1.2.3"},
      {"single quotes, spec var", "a-0.0.1.gemspec",
       "Gem::Specification.new do |spec|\n  spec.name    = 'beta'\n  spec.version = '2.0.0.rc1'\nend\n", "beta",
       "2.0.0.rc1"},
      {"%q{} and Gem::Version.new", "a-0.0.1.gemspec",
       "Gem::Specification.new { |g|\n g.name = %q{gamma}\n g.version = Gem::Version.new(\"3.1\") # pinned\n}\n",
       "gamma", "3.1"},
      {"%q<> %Q() and a CRLF file", "a-0.0.1.gemspec",
       "Gem::Specification.new do |s|\r\n  s.name = %q<delta>.freeze\r\n  s.version = %Q(4.0.0)\r\nend\r\n", "delta",
       "4.0.0"},
      {"another variable's fields are not the gem's", "eps-5.0.gemspec",
       "x.name = \"wrong\"\nGem::Specification.new do |s|\n  d.name = \"dep\"\n  s.name = \"eps\"\n"
       "  s.version = \"5.0\"\nend\n",
       "eps", "5.0"},
      {"interpolation is not evaluated: file name", "zeta-6.1.0.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"ze#{'ta'}\"\n  s.version = \"#{`id`}\"\nend\n", "zeta",
       "6.1.0"},
      {"a constant is not evaluated: version from file name", "eta-7.2.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"eta\"\n  s.version = Eta::VERSION\nend\n", "eta", "7.2"},
      {"computed values are not read", "theta-8.0.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"the\" + \"ta\"\n  s.version = \"9.9\".succ\nend\n", "theta",
       "8.0"},
      {"escapes are not read", "iota-1.0.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"io\\x74a\"\n  s.version = '1.\\'0'\nend\n", "iota", "1.0"},
      {"== is not an assignment", "kappa-1.1.gemspec",
       "Gem::Specification.new do |s|\n  s.name == \"nope\"\n  s.version == \"0.0\"\nend\n", "kappa", "1.1"},
      {"no block: file name", "lambda-2.2.gemspec", "s.name = \"other\"\ns.version = \"3.3\"\n", "lambda", "2.2"},
      {"platform gem file name", "nokogiri-1.13.0-x86_64-linux.gemspec", "# emptied\n", "nokogiri", "1.13.0"},
      {"platform with digits (arm64-darwin-21)", "ffi-1.15.5-arm64-darwin-21.gemspec", "", "ffi", "1.15.5"},
      {"dashed name", "net-http-0.2.0.gemspec", "garbage \x01\x02\n", "net-http", "0.2.0"},
      {"name with bad characters: file name", "mu-3.0.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"m u\"\n  s.version = \"3.0\"\nend\n", "mu", "3.0"},
      {"version that does not parse: file name", "nu-4.0.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"nu\"\n  s.version = \"latest\"\nend\n", "nu", "4.0"},
      {"body name kept, file version used", "xi-5.0.gemspec",
       "Gem::Specification.new do |s|\n  s.name = \"xi_real\"\nend\n", "xi_real", "5.0"},
      {"no name/version anywhere", "README.gemspec", "Gem::Specification.new do |s|\nend\n", NULL, NULL},
      {"file version that does not parse", "omicron-x1.gemspec", "", NULL, NULL},
      {"file version with an empty segment", "pi-1..2.gemspec", "", NULL, NULL},
      {"unterminated literal", "rho.gemspec", "Gem::Specification.new do |s|\n  s.name = \"rho\n  s.version = %q{1\n",
       NULL, NULL},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    char path[512];
    snprintf(path, sizeof path, "var/lib/gems/3.1.0/specifications/%s", cs[i].file);
    for (size_t c = 0; c < NCHUNKS; c++) {
      sc_inventory inv;
      int rc = run(&inv, path, cs[i].body, strlen(cs[i].body), chunks[c], lim);
      if (cs[i].name) {
        CHECK_INT(rc, 0, "%s (chunk %zu): scan ok", cs[i].what, chunks[c]);
        CHECK(inv.npkgs == 1 && strcmp(inv.pkgs[0].name, cs[i].name) == 0 &&
                  strcmp(inv.pkgs[0].version, cs[i].ver) == 0,
              "%s (chunk %zu): %s %s", cs[i].what, chunks[c], cs[i].name, cs[i].ver);
      } else {
        CHECK_INT(rc, SC_ERR_FORMAT, "%s (chunk %zu): SC_ERR_FORMAT", cs[i].what, chunks[c]);
        CHECK_INT(inv.npkgs, 0, "%s (chunk %zu): no package", cs[i].what, chunks[c]);
      }
      sc_inventory_free(&inv);
    }
  }
}

static void test_lockfile(const sc_limits *lim) {
  static const struct {
    const char *name, *ver;
  } want[] = {
      {"rack-protection", "4.0.0"}, {"sinatra", "4.0.0"},       {"shopfront", "0.3.1"},
      {"base64", "0.2.0"},          {"mini_portile2", "2.7.1"}, {"mustermann", "3.0.0"},
      {"nokogiri", "1.13.0"},       {"racc", "1.6.0"},          {"rack", "3.0.0"},
      {"ruby2_keywords", "0.0.5"},  {"tilt", "2.0.11"},
  };
  size_t len;
  char *b = slurp("Gemfile.lock", &len);
  CHECK(b && len > 500, "fixture Gemfile.lock read");
  if (!b) return;
  for (size_t c = 0; c < NCHUNKS; c++) {
    sc_inventory inv;
    CHECK_INT(run(&inv, "srv/shopfront/Gemfile.lock", b, len, chunks[c], lim), 0, "lock chunk %zu: scan ok",
              chunks[c]);
    CHECK_INT(inv.npkgs, sizeof want / sizeof want[0], "lock chunk %zu: exactly the locked gems", chunks[c]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
      const sc_package *p = find(&inv, want[i].name);
      CHECK(p && strcmp(p->version, want[i].ver) == 0 && strcmp(p->ecosystem, "RubyGems") == 0 &&
                strcmp(p->path, "srv/shopfront/Gemfile.lock") == 0,
            "lock chunk %zu: %s %s", chunks[c], want[i].name, want[i].ver);
    }
    CHECK_INT(inv.notes.n, 0, "lock chunk %zu: no notes", chunks[c]);
    sc_inventory_free(&inv);
  }
  free(b);

  static const char odd[] =
      "PLUGIN SOURCE\n  remote: https://example.invalid/\n  type: foo\n  specs:\n    plugin-gem (1.0.0)\n\n"
      "GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    good (1.0.0)\r\n      dep-only (>= 0)\r\n"
      "    trailing (3.0) \t\r\n    broken (1.0\r\n    noversion\r\n    (2.0)\r\n    spaced name (1.0)\r\n    badver (x.y)\r\n"
      "     five-spaces (1.0)\r\n    also_good (2.0.0.pre.1-java)\r\n\r\n"
      "DEPENDENCIES\n  good (= 1.0.0)\n    indented (9.9)\n\nBUNDLED WITH\n   2.5.6\n";
  sc_inventory inv;
  CHECK_INT(run(&inv, "app/Gemfile.lock", odd, strlen(odd), 7, lim), 0, "odd lock: scan ok");
  CHECK_INT(inv.npkgs, 3, "odd lock: three packages");
  CHECK(find(&inv, "trailing") && strcmp(find(&inv, "trailing")->version, "3.0") == 0, "odd lock: trailing blanks");
  const sc_package *g = find(&inv, "good"), *a = find(&inv, "also_good");
  CHECK(g && strcmp(g->version, "1.0.0") == 0, "odd lock: good 1.0.0 (CRLF)");
  CHECK(a && strcmp(a->version, "2.0.0.pre.1") == 0, "odd lock: platform java stripped");
  CHECK(!find(&inv, "plugin-gem") && !find(&inv, "dep-only") && !find(&inv, "indented"),
        "odd lock: plugin sources, dependencies and other sections are not packages");
  CHECK(inv.notes.n == 1 && strstr(inv.notes.v[0], "5 malformed spec lines") &&
            strstr(inv.notes.v[0], "app/Gemfile.lock"),
        "odd lock: one note counting the malformed lines");
  if (inv.notes.n) printf("#   note: %s\n", inv.notes.v[0]);
  sc_inventory_free(&inv);

  static const char bad[] = "GEM\n  specs:\n    a (\n    b)\n";
  CHECK_INT(run(&inv, "Gemfile.lock", bad, strlen(bad), 4096, lim), SC_ERR_FORMAT, "all lines malformed: format");
  CHECK_INT(inv.npkgs, 0, "all lines malformed: nothing");
  sc_inventory_free(&inv);
  CHECK_INT(run(&inv, "gems.locked", "", 0, 4096, lim), 0, "empty gems.locked: ok");
  CHECK_INT(inv.npkgs, 0, "empty gems.locked: nothing");
  sc_inventory_free(&inv);
}

static ssize_t err_read(void *ctx, void *buf, size_t len) {
  (void)ctx, (void)buf, (void)len;
  return SC_ERR_IO;
}

static void test_limits(void) {
  sc_limits lim;
  sc_limits_default(&lim);
  lim.max_file_read = 512;
  size_t len;
  char *b = slurp("rack-2.2.22.gemspec", &len);
  sc_inventory inv;
  const char *path = "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec";
  CHECK_INT(run(&inv, path, b, len, 4096, &lim), 0, "gemspec over the cap: ok");
  CHECK(inv.npkgs == 1 && strcmp(inv.pkgs[0].name, "rack") == 0 && strcmp(inv.pkgs[0].version, "2.2.22") == 0,
        "gemspec over the cap: named from its file name");
  CHECK(inv.notes.n == 1 && strstr(inv.notes.v[0], "size cap"), "gemspec over the cap: a note says so");
  sc_inventory_free(&inv);
  CHECK_INT(run(&inv, "usr/local/bundle/specifications/huge.gemspec", b, len, 4096, &lim), SC_ERR_LIMIT,
            "gemspec over the cap, no file name version: SC_ERR_LIMIT");
  CHECK_INT(inv.npkgs, 0, "gemspec over the cap, no file name version: nothing");
  sc_inventory_free(&inv);
  free(b);
  b = slurp("Gemfile.lock", &len);
  CHECK_INT(run(&inv, "app/Gemfile.lock", b, len, 4096, &lim), SC_ERR_LIMIT, "lock over the cap: SC_ERR_LIMIT");
  CHECK_INT(inv.npkgs, 0, "lock over the cap: nothing");
  sc_inventory_free(&inv);
  free(b);

  /* a 2 MiB name: read, refused by the field cap, never copied */
  size_t big = 2u << 20;
  char *h = malloc(big + 128);
  strcpy(h, "GEM\n  specs:\n    ");
  size_t n = strlen(h);
  memset(h + n, 'a', big);
  strcpy(h + n + big, " (1.0)\n    ok (1.0)\n");
  CHECK_INT(run(&inv, "Gemfile.lock", h, strlen(h), 1 << 20, NULL), 0, "2 MiB gem name: ok");
  CHECK(inv.npkgs == 1 && strcmp(inv.pkgs[0].name, "ok") == 0, "2 MiB gem name: skipped, the next line read");
  sc_inventory_free(&inv);
  free(h);

  sc_reader r = {err_read, NULL};
  sc_inventory_init(&inv);
  CHECK_INT(sc_cat_ruby.scan(&inv, "Gemfile.lock", &r, &lim), SC_ERR_IO, "lock: reader error passed back");
  CHECK_INT(sc_cat_ruby.scan(&inv, "specifications/a-1.gemspec", &r, &lim), SC_ERR_IO,
            "gemspec: reader error passed back");
  CHECK_INT(inv.npkgs, 0, "reader error: nothing");
  sc_inventory_free(&inv);
}

int main(void) {
  sc_limits lim;
  sc_limits_default(&lim);
  test_match();
  test_debian_gemspecs(&lim);
  test_gemspec_forms(&lim);
  test_lockfile(&lim);
  test_limits();
  CHECK_STR(sc_cat_ruby.name, "ruby", "cataloger name");
  return tap_done();
}
