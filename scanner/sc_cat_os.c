/* sc_cat_os.c - the distribution: os-release, with alpine-release and
 * debian_version as fallbacks when a layer has no os-release. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

#define OS_FILE_MAX (64u << 10)

static int is_os_release(const char *p) {
  return p && (strcmp(p, "etc/os-release") == 0 || strcmp(p, "usr/lib/os-release") == 0);
}

static int os_match(const char *path, int64_t size, mode_t mode) {
  (void)size;
  (void)mode;
  return is_os_release(path) || strcmp(path, "etc/alpine-release") == 0 ||
         strcmp(path, "etc/debian_version") == 0;
}

/* Unquotes an os-release value in place (shell-like: "..." with \ escapes, '...'). */
static char *unquote(char *v) {
  size_t n = strlen(v);
  while (n && isspace((unsigned char)v[n - 1])) v[--n] = '\0';
  if (n >= 1 && (v[0] == '"' || v[0] == '\'')) {
    char q = v[0], *w = v;
    for (char *r = v + 1; *r && *r != q; r++) {
      if (q == '"' && *r == '\\' && r[1]) r++;
      *w++ = *r;
    }
    *w = '\0';
  }
  return v;
}

static int os_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  (void)lim;
  /* etc/os-release wins over usr/lib/os-release; any os-release over fallbacks */
  if (is_os_release(inv->os.path) &&
      (!is_os_release(path) || strcmp(inv->os.path, "etc/os-release") == 0))
    return 0;
  char *buf;
  size_t len;
  int rv = sc_read_all(r, OS_FILE_MAX, &buf, &len);
  if (rv) return rv;
  if (memchr(buf, '\0', len)) {
    free(buf);
    return SC_ERR_FORMAT;
  }
  char *id = NULL, *ver = NULL, *save = NULL;
  if (is_os_release(path)) {
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      while (isspace((unsigned char)*line)) line++;
      if (strncmp(line, "ID=", 3) == 0) id = unquote(line + 3);
      else if (strncmp(line, "VERSION_ID=", 11) == 0) ver = unquote(line + 11);
    }
  } else {
    char *line = strtok_r(buf, "\n", &save);
    if (line) ver = unquote(line);
    /* debian_version of Ubuntu says "bookworm/sid": not a Debian release */
    if (ver && !isdigit((unsigned char)ver[0])) ver = NULL;
    id = strcmp(path, "etc/alpine-release") == 0 ? "alpine" : "debian";
  }
  rv = 0;
  if (id && *id) rv = sc_inventory_set_os(inv, id, ver && *ver ? ver : NULL, path);
  free(buf);
  return rv;
}

const sc_cataloger sc_cat_os = {"os", os_match, os_scan};
