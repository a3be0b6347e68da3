/* sc_cat_dpkg.c - Debian packages: var/lib/dpkg/status and the distroless
 * var/lib/dpkg/status.d/<pkg> files (one stanza each, no Status field). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

#define STATUS_D "var/lib/dpkg/status.d/"

static int dpkg_match(const char *path, int64_t size, mode_t mode) {
  (void)size;
  (void)mode;
  if (strcmp(path, "var/lib/dpkg/status") == 0) return 1;
  if (strncmp(path, STATUS_D, sizeof(STATUS_D) - 1) != 0) return 0;
  const char *name = path + sizeof(STATUS_D) - 1;
  size_t n = strlen(name);
  return n && !strchr(name, '/') && !(n > 8 && strcmp(name + n - 8, ".md5sums") == 0);
}

typedef struct stanza {
  char *package, *version, *status, *source;
} stanza;

/* Whether the Status field says the package is installed ("install ok installed"). */
static int installed(const char *status) {
  const char *last = strrchr(status, ' ');
  return strncmp(status, "install ", 8) == 0 && last && strcmp(last + 1, "installed") == 0;
}

static int emit(sc_inventory *inv, const char *path, stanza *s, int need_status) {
  if (!s->package || !*s->package || !s->version || !*s->version) return 0;
  if (s->status ? !installed(s->status) : need_status) return 0;
  char *srcname = NULL, *srcver = NULL;
  if (s->source && *s->source) {
    /* "Source: name" or "Source: name (version)" */
    srcname = s->source;
    char *paren = strchr(srcname, '(');
    if (paren) {
      char *close = strchr(paren, ')');
      if (close) *close = '\0';
      srcver = sc_trim(paren + 1);
      *paren = '\0';
      if (!*srcver) srcver = NULL;
    }
    srcname = sc_trim(srcname);
    if (!*srcname) srcname = NULL;
  }
  sc_package p = {"deb", NULL, s->package, s->version, srcname, srcver, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}

static int dpkg_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  char *buf;
  size_t len;
  int rv = sc_read_all(r, lim->max_file_read, &buf, &len);
  if (rv) return rv;
  int need_status = strcmp(path, "var/lib/dpkg/status") == 0;
  stanza s = {0};
  char *p = buf, *end = buf + len;
  char *line;
  while (rv == 0 && (line = sc_next_line(&p, end)) != NULL) {
    if (line[0] == '\0') {
      rv = emit(inv, path, &s, need_status);
      memset(&s, 0, sizeof(s));
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') continue; /* continuation of a long field */
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = '\0';
    char *val = sc_trim(colon + 1);
    if (strcasecmp(line, "Package") == 0) s.package = val;
    else if (strcasecmp(line, "Version") == 0) s.version = val;
    else if (strcasecmp(line, "Status") == 0) s.status = val;
    else if (strcasecmp(line, "Source") == 0) s.source = val;
  }
  if (rv == 0) rv = emit(inv, path, &s, need_status);
  free(buf);
  return rv;
}

const sc_cataloger sc_cat_dpkg = {"dpkg", dpkg_match, dpkg_scan};
