/* sc_cat_dotnet.c - .NET applications' NuGet packages: the `*.deps.json`
 * file the SDK writes next to every framework-dependent or self-contained
 * application (runtime/deps schema).  Its top-level "libraries" object maps
 * "Name/Version" to {"type": "package" | "project" | "reference" | ...};
 * only "package" entries came from NuGet and can match NuGet advisories (a
 * "project" is the app's own code, a "reference" a loose assembly).
 *
 * Hostile input: the file is read whole up to DEPS_JSON_MAX_BYTES (and the
 * walker's max_file_read), its parse tree is charged to the cataloger's
 * memory budget before parsing, and jansson's parser stops at
 * JSON_PARSER_MAX_DEPTH (2048) nesting levels, so a deeply nested file
 * fails with SC_ERR_FORMAT instead of exhausting the stack.
 * Speed: "targets" is about half of a deps.json and not needed, so the
 * file is first checked by sc_jsonscan (no tree) and only the "libraries"
 * value is parsed into a tree; when sc_jsonscan is not sure (deep nesting,
 * escaped keys, exponents) the whole file is parsed, which decides.
 * Owner: scanner.  Thread: any (no state).  Errors: SC_ERR_* (format,
 * limit, nomem, or the reader's). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"
#include "sc_jsonscan.h"

#define DEPS_JSON_MAX_BYTES (32u << 20) /* real ones are KBs; 32 MiB leaves room for monorepos */
/* jansson's tree of a JSON text, per byte of text, as charged to the memory
 * budget: an estimate (small tokens cost ~50 bytes of objects each). */
#define DEPS_JSON_TREE_FACTOR 8u
#define NUGET_NAME_MAX 512 /* NuGet ids are at most 100 characters; versions shorter */

static int dn_match(const char *path, int64_t size, mode_t mode) {
  (void)mode;
  static const char suf[] = ".deps.json";
  size_t n = strlen(path), m = sizeof(suf) - 1;
  if (size < 0 || size > (int64_t)DEPS_JSON_MAX_BYTES || n <= m) return 0;
  if (strcmp(path + n - m, suf) != 0) return 0;
  return path[n - m - 1] != '/'; /* "x/.deps.json" names no application */
}

/* Adds the package "Name/Version" of one "libraries" entry. */
static int dn_add(sc_inventory *inv, const char *path, const char *key, json_t *lib) {
  const char *type = json_string_value(json_object_get(lib, "type"));
  if (!type || strcmp(type, "package") != 0) return 0;
  const char *slash = strchr(key, '/');
  size_t klen = strlen(key);
  if (!slash || slash == key || !slash[1] || strchr(slash + 1, '/') || klen >= NUGET_NAME_MAX) return 0;
  char name[NUGET_NAME_MAX];
  memcpy(name, key, (size_t)(slash - key));
  name[slash - key] = '\0';
  sc_package p = {"nuget", "NuGet", name, (char *)slash + 1, NULL, NULL, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}

static int dn_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  char *buf;
  size_t len;
  size_t cap = lim->max_file_read < DEPS_JSON_MAX_BYTES ? lim->max_file_read : DEPS_JSON_MAX_BYTES;
  int rv = sc_read_all_b(r, cap, lim->budget, &buf, &len);
  if (rv) return rv;
  if (sc_budget_mem(lim->budget, (uint64_t)len * (DEPS_JSON_TREE_FACTOR + 1))) {
    free(buf);
    return SC_ERR_LIMIT;
  }
  json_error_t err;
  static const char *const keys[] = {"libraries"};
  sc_jspan span;
  json_t *root, *libs;
  if (sc_jsonscan_object(buf, len, keys, 1, &span)) { /* a valid object: parse its "libraries" only */
    root = span.n ? json_loadb(span.p, span.n, JSON_DECODE_ANY, &err) : json_object();
    libs = span.n ? root : NULL;
    if (root && libs && !json_is_object(libs)) libs = json_null(); /* refused below */
  } else {
    root = json_loadb(buf, len, 0, &err);
    libs = json_object_get(root, "libraries");
    if (root && !json_is_object(root)) libs = json_null();
  }
  free(buf);
  if (!root) return SC_ERR_FORMAT;
  if (libs && !json_is_object(libs)) {
    json_decref(root);
    return SC_ERR_FORMAT;
  }
  const char *key;
  json_t *lib;
  rv = 0;
  json_object_foreach(libs, key, lib) {
    if (json_is_object(lib) && (rv = dn_add(inv, path, key, lib)) != 0) break;
  }
  json_decref(root);
  return rv;
}

const sc_cataloger sc_cat_dotnet = {"dotnet", dn_match, dn_scan};
