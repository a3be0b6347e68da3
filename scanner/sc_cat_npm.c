/* sc_cat_npm.c - installed npm packages: the package.json directly inside
 * node_modules/<name>/ or node_modules/@scope/<name>/ (at any nesting); other
 * package.json files (an app's own, test fixtures) are not installed packages. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

#define PKG_JSON_MAX (4u << 20)

/* Length of the component ending just before s[end] (s[end] is '/' or the start). */
static size_t comp_before(const char *s, size_t end, size_t *start) {
  size_t b = end;
  while (b > 0 && s[b - 1] != '/') b--;
  *start = b;
  return end - b;
}

static int is_nm(const char *s, size_t start, size_t len) {
  return len == 12 && strncmp(s + start, "node_modules", 12) == 0;
}

static int npm_match(const char *path, int64_t size, mode_t mode) {
  (void)mode;
  if (size > (int64_t)PKG_JSON_MAX) return 0;
  size_t n = strlen(path);
  static const char leaf[] = "/package.json";
  if (n < sizeof(leaf) || strcmp(path + n - (sizeof(leaf) - 1), leaf) != 0) return 0;
  size_t e = n - (sizeof(leaf) - 1), b;
  size_t len = comp_before(path, e, &b); /* <name> */
  if (len == 0 || path[b] == '.' || path[b] == '@' || b == 0) return 0;
  size_t b2, len2 = comp_before(path, b - 1, &b2);
  if (is_nm(path, b2, len2)) return 1;
  if (len2 < 2 || path[b2] != '@' || b2 == 0) return 0; /* @scope */
  size_t b3, len3 = comp_before(path, b2 - 1, &b3);
  return is_nm(path, b3, len3);
}

static int npm_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  char *buf;
  size_t len;
  size_t cap = lim->max_file_read < PKG_JSON_MAX ? lim->max_file_read : PKG_JSON_MAX;
  int rv = sc_read_all(r, cap, &buf, &len);
  if (rv) return rv;
  json_error_t err;
  json_t *root = json_loadb(buf, len, 0, &err);
  free(buf);
  if (!root) return SC_ERR_FORMAT;
  rv = 0;
  const char *name = json_string_value(json_object_get(root, "name"));
  const char *ver = json_string_value(json_object_get(root, "version"));
  if (json_is_object(root) && name && *name && ver && *ver) {
    sc_package p = {"npm", "npm", (char *)name, (char *)ver, NULL, NULL, (char *)path, NULL};
    rv = sc_inventory_add_package(inv, &p);
  } else if (!json_is_object(root)) {
    rv = SC_ERR_FORMAT;
  }
  json_decref(root);
  return rv;
}

const sc_cataloger sc_cat_npm = {"npm", npm_match, npm_scan};
