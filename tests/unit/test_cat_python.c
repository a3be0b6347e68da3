/* test_cat_python.c - the python cataloger's paths (dist-info, egg-info,
 * unzipped eggs) and the interpreter's own Python-X.Y.egg-info, which is not
 * a package: tests/fixtures/python/Python-2.7.18-py2.7.egg-info is the file
 * CPython 2.7.18's "make install" wrote into lib-dynload (copied from a
 * pyenv build).  Owner: scanner (python cataloger).  TAP output. */
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
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_match(void) {
  static const struct {
    const char *path;
    int want;
  } t[] = {
      {"usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", 1},
      {"usr/lib/python3/dist-packages/six-1.16.0.egg-info", 1},
      {"usr/lib/python3/dist-packages/foo-1.0.egg-info/PKG-INFO", 1},
      /* unzipped eggs (easy_install, setup.py install) */
      {"usr/local/lib/python3.11/site-packages/PyYAML-5.3.1-py3.11-linux-x86_64.egg/EGG-INFO/PKG-INFO", 1},
      {"opt/app/eggs/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO", 1},
      {"opt/app/eggs/six-1.16.0-py3.11.egg/EGG-INFO/requires.txt", 0},
      {"opt/app/eggs/six-1.16.0-py3.11.egg/PKG-INFO", 0},
      {"usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/RECORD", 0},
      /* the interpreter itself, file and directory forms */
      {"usr/local/lib/python3.11/lib-dynload/Python-3.11.egg-info", 0},
      {"usr/lib/python2.7/lib-dynload/Python-2.7.18-py2.7.egg-info", 0},
      {"usr/local/lib/python3.12/lib-dynload/Python-3.12.1.egg-info/PKG-INFO", 0},
      {"Python-3.11.egg-info", 0},
      /* names that only look alike are packages */
      {"usr/lib/python3/dist-packages/Python-dateutil.egg-info", 1},
      {"usr/lib/python3/dist-packages/python_dateutil-2.8.2.dist-info/METADATA", 1},
      {"usr/lib/python3/dist-packages/pythonX-1.0.egg-info", 1},
  };
  for (size_t i = 0; i < N(t); i++)
    CHECK_INT(!!sc_cat_python.match(t[i].path, 100, S_IFREG | 0644), t[i].want, "match %s", t[i].path);
}

static int scan_text(sc_inventory *inv, const char *path, const char *text, size_t chunk) {
  memrd m = {(const unsigned char *)text, strlen(text), 0, chunk};
  sc_reader r = {mem_read, &m};
  sc_limits lim;
  sc_limits_default(&lim);
  return sc_cat_python.scan(inv, path, &r, &lim);
}

static void test_egg(void) {
  static const char pkg_info[] =
      "Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3.1\nSummary: YAML parser and emitter for Python\n"
      "Home-page: https://pyyaml.org/\n\nlong description\nVersion: 9.9.9\n";
  const char *path = "usr/local/lib/python3.11/site-packages/PyYAML-5.3.1-py3.11-linux-x86_64.egg/EGG-INFO/PKG-INFO";
  static const size_t chunks[] = {1, 7, 4096};
  for (size_t c = 0; c < N(chunks); c++) {
    sc_inventory inv;
    sc_inventory_init(&inv);
    CHECK_INT(scan_text(&inv, path, pkg_info, chunks[c]), 0, "egg (chunk %zu): rc", chunks[c]);
    CHECK_INT(inv.npkgs, 1, "egg (chunk %zu): one package", chunks[c]);
    if (inv.npkgs == 1) {
      CHECK_STR(inv.pkgs[0].name, "PyYAML", "egg: name");
      CHECK_STR(inv.pkgs[0].version, "5.3.1", "egg: version from the headers, not the body");
      CHECK_STR(inv.pkgs[0].ecosystem, "PyPI", "egg: ecosystem");
      CHECK_STR(inv.pkgs[0].path, path, "egg: path");
    }
    sc_inventory_free(&inv);
  }
}

/* The real interpreter record: the walker never offers it (match says no);
 * its content alone would have named a package "Python". */
static void test_interpreter_fixture(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/tests/fixtures/python/Python-2.7.18-py2.7.egg-info", SRCDIR);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL, "fixture readable");
  if (!f) return;
  static char text[8192];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  CHECK(strstr(text, "\nName: Python\n") != NULL, "fixture names itself Python");
  const char *lpath = "usr/local/lib/python2.7/lib-dynload/Python-2.7.18-py2.7.egg-info";
  CHECK_INT(!!sc_cat_python.match(lpath, (int64_t)n, S_IFREG | 0644), 0, "interpreter record not matched");
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(scan_text(&inv, "usr/lib/python2.7/dist-packages/x.egg-info", text, 64), 0, "same bytes elsewhere: rc");
  CHECK_INT(inv.npkgs, 1, "same bytes under another name would be a package (so match is what excludes it)");
  sc_inventory_free(&inv);
}

int main(void) {
  test_match();
  test_egg();
  test_interpreter_fixture();
  CHECK_STR(sc_cat_python.name, "python", "cataloger name");
  return tap_done();
}
