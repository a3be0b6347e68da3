/* sc_cat_rust.c - Rust crates: the Cargo.lock of applications, and binaries
 * built with `cargo auditable` (their .dep-v0 section: sc_rust_audit.c).
 *
 * Cargo.lock is TOML, but only the subset Cargo writes (lock format versions
 * 1, 2 and 3, and 4): `[[package]]` tables of `key = "string"` lines and
 * multi-line string arrays, `[metadata]` (v1 checksums), `[root]` (early
 * v1) and `[[patch.unused]]` tables, comments and `version = N`.  A strict
 * line reader of that subset, not a TOML parser: anything else is a format
 * error.  Only packages whose source is crates.io (its git or sparse index)
 * are crates.io packages; path, git and other registries' crates are not,
 * and their names may collide with crates.io's.
 * Owner: scanner.  Thread: any (no state).  Errors: SC_ERR_* (a file over its
 * cap: SC_ERR_LIMIT; not what Cargo writes: SC_ERR_FORMAT). */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sc_catalog.h"
#include "sc_rust_audit.h"

#define RUST_LOCK_MAX_BYTES (8u << 20)     /* Cargo.lock; 1000 crates take ~150 KiB */
#define RUST_BIN_MIN_BYTES 64              /* an ELF64 header */
#define RUST_BIN_MAX_BYTES (1ull << 30)    /* binaries streamed for .dep-v0 */
#define RUST_LOCK_MAX_STR 1024             /* a name, version or source string */

static const char *const crates_io_sources[] = {
  "registry+https://github.com/rust-lang/crates.io-index",
  "sparse+https://index.crates.io/",
  NULL};

int sc_rust_add_crate(sc_inventory *inv, const char *path, const char *name, const char *version) {
  sc_package p = {0};
  p.type = SC_RUST_TYPE;
  p.ecosystem = SC_RUST_ECOSYSTEM;
  p.name = (char *)name;
  p.version = (char *)version;
  p.path = (char *)path;
  return sc_inventory_add_package(inv, &p);
}

static int is_lock(const char *path) {
  const char *b = strrchr(path, '/');
  return strcmp(b ? b + 1 : path, "Cargo.lock") == 0;
}

static int is_shared_object(const char *path) {
  const char *b = strrchr(path, '/');
  const char *so = strstr(b ? b : path, ".so");
  return so && (so[3] == '\0' || so[3] == '.');
}

static int rust_match(const char *path, int64_t size, mode_t mode) {
  if ((mode & S_IFMT) && !S_ISREG(mode)) return 0;
  if (is_lock(path)) return size <= (int64_t)RUST_LOCK_MAX_BYTES;
  if (size < RUST_BIN_MIN_BYTES || (uint64_t)size > RUST_BIN_MAX_BYTES) return 0;
  return (mode & 0111) || is_shared_object(path);
}

/* ---- Cargo.lock -------------------------------------------------------------- */

typedef struct lockpkg {
  char *name, *version, *source;
  int bad; /* a string Cargo would not write (escapes, control bytes) */
} lockpkg;

/* A basic string without escapes at *s ("..."): NUL-terminated in place,
 * *s advanced past it.  NULL when it is not one. */
static char *lock_string(char **s) {
  char *p = *s;
  if (*p != '"') return NULL;
  char *q = ++p;
  while (*q && *q != '"') {
    if (*q == '\\' || (unsigned char)*q < 0x20) return NULL;
    q++;
  }
  if (*q != '"' || q - p > RUST_LOCK_MAX_STR) return NULL;
  *q = '\0';
  *s = q + 1;
  return p;
}

static int crates_io(const char *src) {
  for (size_t i = 0; crates_io_sources[i]; i++)
    if (strcmp(src, crates_io_sources[i]) == 0) return 1;
  return 0;
}

static int lock_flush(sc_inventory *inv, const char *path, lockpkg *p, size_t *bad) {
  int rc = 0;
  if (p->bad || (p->source && (!p->name || !p->version))) (*bad)++;
  else if (p->source && crates_io(p->source)) rc = sc_rust_add_crate(inv, path, p->name, p->version);
  memset(p, 0, sizeof *p);
  return rc;
}

/* One `key = value` line (t trimmed).  Returns 0, or SC_ERR_FORMAT. */
static int lock_kv(char *t, int in_pkg, lockpkg *p, int *in_array) {
  char *k = t, *key;
  if (*k == '"') {
    if (!(key = lock_string(&k))) return SC_ERR_FORMAT;
  } else {
    key = k;
    while ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '-')
      k++;
    if (k == key) return SC_ERR_FORMAT;
  }
  char *v = k;
  while (*v == ' ') v++;
  if (*v != '=') return SC_ERR_FORMAT;
  *k = '\0'; /* ends a bare key (a quoted one already ended) */
  v++;
  while (*v == ' ') v++;
  if (*v == '"') {
    char *s = lock_string(&v);
    if (!s || *sc_trim(v)) {
      if (in_pkg) p->bad = 1;
      return in_pkg ? 0 : SC_ERR_FORMAT;
    }
    if (!in_pkg) return 0;
    if (strcmp(key, "name") == 0) p->name = s;
    else if (strcmp(key, "version") == 0) p->version = s;
    else if (strcmp(key, "source") == 0) p->source = s;
    return 0;
  }
  if (strcmp(v, "[") == 0) { *in_array = 1; return 0; }
  if (*v == '[') return v[strlen(v) - 1] == ']' ? 0 : SC_ERR_FORMAT; /* one-line array */
  for (char *d = v; *d; d++) /* `version = 3`: a number */
    if (*d < '0' || *d > '9') return SC_ERR_FORMAT;
  return *v ? 0 : SC_ERR_FORMAT;
}

static int scan_lock(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  char *buf;
  size_t len;
  size_t cap = lim && lim->max_file_read && lim->max_file_read < RUST_LOCK_MAX_BYTES ? lim->max_file_read
                                                                                      : RUST_LOCK_MAX_BYTES;
  int rc = sc_read_all_b(r, cap, lim ? lim->budget : NULL, &buf, &len);
  if (rc) return rc;
  if (memchr(buf, '\0', len)) { free(buf); return SC_ERR_FORMAT; }
  lockpkg p = {0};
  int in_pkg = 0, in_array = 0;
  size_t bad = 0;
  char *cur = buf, *line;
  while (!rc && (line = sc_next_line(&cur, buf + len))) {
    char *t = sc_trim(line);
    if (!*t || *t == '#') continue;
    if (in_array) { /* ` "dep 1.0 (registry+...)",` lines, then `]` */
      if (strcmp(t, "]") == 0) in_array = 0;
      else if (*t != '"') rc = SC_ERR_FORMAT;
      continue;
    }
    if (*t == '[') {
      if (in_pkg) rc = lock_flush(inv, path, &p, &bad);
      in_pkg = strcmp(t, "[[package]]") == 0;
      size_t n = strlen(t);
      int dbl = t[1] == '[';
      if (n < (dbl ? 5u : 3u) || t[n - 1] != ']' || (dbl != (t[n - 2] == ']'))) rc = SC_ERR_FORMAT;
      continue;
    }
    rc = lock_kv(t, in_pkg, &p, &in_array);
  }
  if (!rc && in_array) rc = SC_ERR_FORMAT;
  if (!rc && in_pkg) rc = lock_flush(inv, path, &p, &bad);
  if (!rc && bad) {
    char msg[512];
    snprintf(msg, sizeof msg, "rust: %zu packages not as Cargo writes them: %s", bad, path);
    rc = sc_strlist_add(&inv->notes, msg) ? SC_ERR_NOMEM : 0;
  }
  free(buf);
  return rc;
}

static int rust_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  if (is_lock(path)) return scan_lock(inv, path, r, lim);
  return sc_rust_audit_scan(inv, path, r, lim);
}

const sc_cataloger sc_cat_rust = {"rust", rust_match, rust_scan};
