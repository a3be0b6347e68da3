/* sc_cat_python.c - installed Python distributions: *.dist-info/METADATA,
 * *.egg-info/PKG-INFO, single-file *.egg-info and unzipped eggs'
 * *.egg/EGG-INFO/PKG-INFO (RFC 822 style headers).
 *
 * Not a package: the interpreter's own record of itself, which CPython's
 * "make install" writes as lib/pythonX.Y/lib-dynload/Python-X.Y[.Z][-pyX.Y].egg-info
 * ("Name: Python"): no PyPI project is named so, and reporting it would
 * match advisories of some other "python" project against the interpreter.
 * Owner: scanner (python cataloger).  Runs in the layer walker's thread;
 * errors are SC_ERR_*. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

#define META_MAX (1u << 20) /* headers come first; the long description may follow */

static int ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n > m && strcmp(s + n - m, suf) == 0;
}

/* "Python-<digit>...egg-info" as the last or next-to-last path element
 * (the single file, or the directory holding PKG-INFO). */
static int py_interpreter(const char *path) {
  const char *end = path + strlen(path), *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strcmp(base, "PKG-INFO") == 0 && base > path) {
    end = base - 1;
    const char *b = end;
    while (b > path && b[-1] != '/') b--;
    base = b;
  }
  static const char pre[] = "Python-", suf[] = ".egg-info";
  size_t n = (size_t)(end - base);
  return n > sizeof pre - 1 + sizeof suf - 1 && strncmp(base, pre, sizeof pre - 1) == 0 &&
         isdigit((unsigned char)base[sizeof pre - 1]) && strncmp(end - (sizeof suf - 1), suf, sizeof suf - 1) == 0;
}

static int py_match(const char *path, int64_t size, mode_t mode) {
  (void)size;
  (void)mode;
  int meta = ends_with(path, ".dist-info/METADATA") || ends_with(path, ".egg-info/PKG-INFO") ||
             ends_with(path, ".egg-info") || ends_with(path, ".egg/EGG-INFO/PKG-INFO");
  return meta && !py_interpreter(path);
}

static int py_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  char *buf;
  size_t len;
  size_t cap = lim->max_file_read < META_MAX ? lim->max_file_read : META_MAX;
  int rv = sc_read_all(r, cap, &buf, &len);
  if (rv) return rv;
  char *name = NULL, *ver = NULL;
  char *p = buf, *end = buf + len;
  char *line;
  while ((line = sc_next_line(&p, end)) != NULL) {
    if (line[0] == '\0') break; /* end of headers */
    if (line[0] == ' ' || line[0] == '\t') continue;
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = '\0';
    if (!name && strcasecmp(line, "Name") == 0) name = sc_trim(colon + 1);
    else if (!ver && strcasecmp(line, "Version") == 0) ver = sc_trim(colon + 1);
  }
  rv = 0;
  if (name && *name && ver && *ver) {
    sc_package pk = {"python", "PyPI", name, ver, NULL, NULL, (char *)path, NULL};
    rv = sc_inventory_add_package(inv, &pk);
  }
  free(buf);
  return rv;
}

const sc_cataloger sc_cat_python = {"python", py_match, py_scan};
