/* sc_cat_apk.c - Alpine packages: lib/apk/db/installed ("P:", "V:", "o:"). */
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

static int apk_match(const char *path, int64_t size, mode_t mode) {
  (void)size;
  (void)mode;
  return strcmp(path, "lib/apk/db/installed") == 0;
}

static int emit(sc_inventory *inv, const char *path, char *name, char *ver, char *origin) {
  if (!name || !*name || !ver || !*ver) return 0;
  sc_package p = {"apk", NULL, name, ver, origin && *origin ? origin : NULL, NULL, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}

static int apk_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  char *buf;
  size_t len;
  int rv = sc_read_all(r, lim->max_file_read, &buf, &len);
  if (rv) return rv;
  char *name = NULL, *ver = NULL, *origin = NULL;
  char *p = buf, *end = buf + len;
  char *line;
  while (rv == 0 && (line = sc_next_line(&p, end)) != NULL) {
    if (line[0] == '\0') {
      rv = emit(inv, path, name, ver, origin);
      name = ver = origin = NULL;
      continue;
    }
    if (line[1] != ':') continue; /* line[0] is set: line[1] is at worst the NUL */
    if (line[0] == 'P') name = line + 2;
    else if (line[0] == 'V') ver = line + 2;
    else if (line[0] == 'o') origin = line + 2;
  }
  if (rv == 0) rv = emit(inv, path, name, ver, origin);
  free(buf);
  return rv;
}

const sc_cataloger sc_cat_apk = {"apk", apk_match, apk_scan};
