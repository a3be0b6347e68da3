/* sc_cat_php.c - PHP packages installed by Composer: the
 * vendor/composer/installed.json that `composer install` writes.  Composer 1
 * writes a top-level array of packages; Composer 2 an object
 * {"packages": [...], "dev": bool, "dev-package-names": [...]}.  Each
 * package gives "name" (vendor/name) and "version" as the package's tag
 * ("v7.4.0" or "7.4.0"); OSV's Packagist records use the tag without the
 * leading v, so that is what is reported.  Dev requirements (phpunit, ...)
 * are installed files too and are reported like the others: the inventory
 * has no field to mark them.
 *
 * Hostile input: bounded as sc_cat_dotnet.c is (whole-file cap, the parse
 * tree charged to the memory budget, jansson's 2048-level nesting limit).
 * Owner: scanner.  Thread: any (no state).  Errors: SC_ERR_*. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

#define INSTALLED_JSON_MAX_BYTES (32u << 20) /* ~2 KiB a package: room for 10,000+ */
#define INSTALLED_JSON_TREE_FACTOR 8u        /* see DEPS_JSON_TREE_FACTOR */

static int php_match(const char *path, int64_t size, mode_t mode) {
  (void)mode;
  static const char leaf[] = "vendor/composer/installed.json";
  size_t n = strlen(path), m = sizeof(leaf) - 1;
  if (size < 0 || size > (int64_t)INSTALLED_JSON_MAX_BYTES || n < m) return 0;
  return strcmp(path + n - m, leaf) == 0 && (n == m || path[n - m - 1] == '/');
}

/* One package object: needs a "vendor/name" and a version. */
static int php_add(sc_inventory *inv, const char *path, json_t *pkg) {
  const char *name = json_string_value(json_object_get(pkg, "name"));
  const char *ver = json_string_value(json_object_get(pkg, "version"));
  if (!name || !ver) return 0;
  const char *slash = strchr(name, '/');
  if (!slash || slash == name || !slash[1] || strchr(slash + 1, '/')) return 0;
  if ((ver[0] == 'v' || ver[0] == 'V') && ver[1] >= '0' && ver[1] <= '9') ver++;
  if (!*ver) return 0;
  sc_package p = {"composer", "Packagist", (char *)name, (char *)ver, NULL, NULL, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}

static int php_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  char *buf;
  size_t len;
  size_t cap = lim->max_file_read < INSTALLED_JSON_MAX_BYTES ? lim->max_file_read : INSTALLED_JSON_MAX_BYTES;
  int rv = sc_read_all_b(r, cap, lim->budget, &buf, &len);
  if (rv) return rv;
  if (sc_budget_mem(lim->budget, (uint64_t)len * (INSTALLED_JSON_TREE_FACTOR + 1))) {
    free(buf);
    return SC_ERR_LIMIT;
  }
  json_error_t err;
  json_t *root = json_loadb(buf, len, 0, &err);
  free(buf);
  if (!root) return SC_ERR_FORMAT;
  /* Composer 1: the array itself; Composer 2: its "packages" */
  json_t *pkgs = json_is_array(root) ? root : json_object_get(root, "packages");
  if (!json_is_array(pkgs)) {
    json_decref(root);
    return SC_ERR_FORMAT;
  }
  size_t i;
  json_t *pkg;
  rv = 0;
  json_array_foreach(pkgs, i, pkg) {
    if (json_is_object(pkg) && (rv = php_add(inv, path, pkg)) != 0) break;
  }
  json_decref(root);
  return rv;
}

const sc_cataloger sc_cat_php = {"php", php_match, php_scan};
