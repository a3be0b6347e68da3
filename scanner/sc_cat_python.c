/* sc_cat_python.c - installed Python distributions: *.dist-info/METADATA,
 * *.egg-info/PKG-INFO and single-file *.egg-info (RFC 822 style headers). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

#define META_MAX (1u << 20) /* headers come first; the long description may follow */

static int ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n > m && strcmp(s + n - m, suf) == 0;
}

static int py_match(const char *path, int64_t size, mode_t mode) {
  (void)size;
  (void)mode;
  return ends_with(path, ".dist-info/METADATA") || ends_with(path, ".egg-info/PKG-INFO") ||
         ends_with(path, ".egg-info");
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
