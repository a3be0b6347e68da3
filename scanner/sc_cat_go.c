/* sc_cat_go.c - modules compiled into Go binaries (runtime/debug.BuildInfo).
 *
 * The linker writes a ".go.buildinfo" blob: the 14-byte magic
 * "\xff Go buildinf:", a 32-byte header (byte 14 pointer size, byte 15
 * flags) and, since Go 1.18 (flags & 2), two uvarint-length-prefixed strings
 * right after the header: the toolchain version and the module info (the
 * `go version -m` text between two 16-byte sentinels).  The blob is 16-byte
 * aligned in the file.  We stream through the binary with a small window
 * that carries the last bytes over reads, so any binary size costs a fixed
 * amount of memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sc_catalog.h"

#define GO_MAGIC      "\xff Go buildinf:"
#define GO_MAGIC_LEN  14
#define GO_HDR_LEN    32
#define GO_ALIGN      16
#define GO_CHUNK      (64 * 1024)
#define GO_MAX_VERS   256              /* "go1.21.5 X:boringcrypto" fits */
#define GO_MAX_MOD    (4 * 1024 * 1024) /* module info of huge binaries is < 100 KiB */
#define GO_FLAG_INLINE 2

static const char *const go_bin_dirs[] = {
  "bin/", "sbin/", "usr/bin/", "usr/sbin/", "usr/local/bin/", "usr/local/sbin/",
  "usr/libexec/", "usr/local/libexec/", NULL};

static int go_match(const char *path, int64_t size, mode_t mode) {
  if ((mode & S_IFMT) && !S_ISREG(mode)) return 0;
  if (size < GO_HDR_LEN + 64) return 0; /* cannot hold an ELF header and the blob */
  if (mode & 0111) return 1;
  for (size_t i = 0; go_bin_dirs[i]; i++)
    if (strncmp(path, go_bin_dirs[i], strlen(go_bin_dirs[i])) == 0) return 1;
  return 0;
}

/* The blob being assembled once the magic is found: grows on demand. */
typedef struct go_blob {
  sc_reader *r;
  unsigned char *b;
  size_t len, cap, max;
} go_blob;

/* Makes b->len >= want.  Returns 0, SC_ERR_FORMAT at a premature end,
 * SC_ERR_LIMIT past b->max, SC_ERR_NOMEM or the reader's error. */
static int go_need(go_blob *b, size_t want) {
  if (want > b->max) return SC_ERR_LIMIT;
  if (want > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < want) nc *= 2;
    if (nc > b->max) nc = b->max;
    unsigned char *nb = realloc(b->b, nc);
    if (!nb) return SC_ERR_NOMEM;
    b->b = nb;
    b->cap = nc;
  }
  while (b->len < want) {
    ssize_t got = sc_read(b->r, b->b + b->len, b->cap - b->len);
    if (got < 0) return (int)got;
    if (got == 0) return SC_ERR_FORMAT;
    b->len += (size_t)got;
  }
  return 0;
}

/* Reads a uvarint-prefixed string at *pos; sets *soff and *slen (offsets into the
 * blob, valid across go_need since they are offsets). */
static int go_string(go_blob *b, size_t *pos, size_t maxlen, size_t *soff, size_t *slen) {
  uint64_t v = 0;
  for (int i = 0;; i++) {
    if (i == 10) return SC_ERR_FORMAT;
    int rc = go_need(b, *pos + 1);
    if (rc) return rc;
    unsigned char c = b->b[(*pos)++];
    v |= (uint64_t)(c & 0x7f) << (7 * i);
    if (!(c & 0x80)) break;
  }
  if (v > maxlen) return SC_ERR_LIMIT;
  int rc = go_need(b, *pos + (size_t)v);
  if (rc) return rc;
  *soff = *pos;
  *slen = (size_t)v;
  *pos += (size_t)v;
  return 0;
}

static int go_add(sc_inventory *inv, const char *path, const char *name, const char *version) {
  if (!name || !*name || !version || !*version || strcmp(version, "(devel)") == 0) return 0;
  sc_package p = {0};
  p.type = "go";
  p.ecosystem = "Go";
  p.name = (char *)name;
  p.version = (char *)version;
  p.path = (char *)path;
  return sc_inventory_add_package(inv, &p);
}

/* Splits a tab-separated line in place; returns the number of fields. */
static int go_fields(char *line, char **f, int max) {
  int n = 0;
  while (n < max) {
    f[n++] = line;
    char *t = strchr(line, '\t');
    if (!t) break;
    *t = '\0';
    line = t + 1;
  }
  return n;
}

/* Parses the module info text (sentinels already removed, NUL-terminated,
 * modified in place).  A "=>" line replaces the dep right before it, so a dep
 * is only added when the next line shows it was not replaced. */
static int go_modinfo(sc_inventory *inv, const char *path, char *mod) {
  char *dep_name = NULL, *dep_vers = NULL;
  int rc = 0;
  for (char *line = mod; line && !rc;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    char *f[4] = {0};
    int n = go_fields(line, f, 4);
    if (n >= 2 && strcmp(f[0], "=>") == 0) {
      /* A replacement by a local directory has no version: the module's code
       * is not the published one, so neither name nor version can be trusted. */
      if (dep_name) {
        dep_name = n >= 3 && *f[2] ? f[1] : NULL;
        dep_vers = n >= 3 ? f[2] : NULL;
      }
    } else {
      if (dep_name) rc = go_add(inv, path, dep_name, dep_vers);
      dep_name = dep_vers = NULL;
      if (n >= 3 && strcmp(f[0], "mod") == 0) {
        if (!rc) rc = go_add(inv, path, f[1], f[2]);
      } else if (n >= 3 && strcmp(f[0], "dep") == 0) {
        dep_name = f[1];
        dep_vers = f[2];
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  if (!rc && dep_name) rc = go_add(inv, path, dep_name, dep_vers);
  return rc;
}

static int go_note(sc_inventory *inv, const char *what, const char *path) {
  char msg[512];
  snprintf(msg, sizeof msg, "go: %s: %s", what, path);
  return sc_strlist_add(&inv->notes, msg);
}

/* Parses the blob whose first bytes (the magic) are in b. */
static int go_parse(sc_inventory *inv, const char *path, go_blob *b, const sc_limits *lim) {
  int rc = go_need(b, GO_HDR_LEN);
  if (rc) return rc;
  unsigned char ptrsize = b->b[GO_MAGIC_LEN], flags = b->b[GO_MAGIC_LEN + 1];
  if (!(flags & GO_FLAG_INLINE)) {
    if (ptrsize != 4 && ptrsize != 8) return SC_ERR_FORMAT;
    return go_note(inv, "pre-1.18 build info not supported", path);
  }
  size_t pos = GO_HDR_LEN, voff, vlen, moff, mlen;
  size_t modmax = lim && lim->max_file_read && lim->max_file_read < GO_MAX_MOD ? lim->max_file_read : GO_MAX_MOD;
  if ((rc = go_string(b, &pos, GO_MAX_VERS, &voff, &vlen))) return rc;
  if ((rc = go_string(b, &pos, modmax, &moff, &mlen))) return rc;

  char vers[GO_MAX_VERS + 1];
  memcpy(vers, b->b + voff, vlen);
  vers[vlen] = '\0';
  if (vlen == 0 || strlen(vers) != vlen) return SC_ERR_FORMAT;
  if ((rc = go_add(inv, path, "stdlib", vers))) return rc;

  /* debug/buildinfo's rule: the text is framed by 16-byte sentinels and ends
   * with a newline; anything else means "no module info". */
  if (mlen < 33 || b->b[moff + mlen - 17] != '\n') return 0;
  size_t tlen = mlen - 32;
  char *mod = malloc(tlen + 1);
  if (!mod) return SC_ERR_NOMEM;
  memcpy(mod, b->b + moff + 16, tlen);
  mod[tlen] = '\0';
  rc = go_modinfo(inv, path, mod);
  free(mod);
  return rc;
}

static int go_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  unsigned char *buf = malloc(GO_CHUNK);
  if (!buf) return SC_ERR_NOMEM;
  size_t keep = 0;   /* bytes carried over at buf[0] */
  uint64_t off = 0;  /* file offset of buf[0] */
  int rc = 0, first = 1;
  for (;;) {
    ssize_t got = sc_read(r, buf + keep, GO_CHUNK - keep);
    if (got < 0) { rc = (int)got; break; }
    size_t n = keep + (size_t)got;
    if (first) {
      if (n < 4 && got > 0) { keep = n; continue; }
      if (n < 4 || memcmp(buf, "\x7f" "ELF", 4) != 0) break; /* not ELF: nothing to do */
      first = 0;
    }
    if (got == 0) break; /* end of file: no build info */
    /* The magic sits at a 16-byte aligned file offset. */
    size_t i = (size_t)((GO_ALIGN - off % GO_ALIGN) % GO_ALIGN);
    for (; i + GO_MAGIC_LEN <= n; i += GO_ALIGN)
      if (buf[i] == 0xff && memcmp(buf + i, GO_MAGIC, GO_MAGIC_LEN) == 0) break;
    if (i + GO_MAGIC_LEN <= n) {
      size_t have = n - i, cap0 = have > 4096 ? have : 4096;
      go_blob b = {r, malloc(cap0), have, cap0, GO_MAX_MOD + GO_MAX_VERS + GO_HDR_LEN + 32};
      if (!b.b) { rc = SC_ERR_NOMEM; break; }
      memcpy(b.b, buf + i, have);
      rc = go_parse(inv, path, &b, lim);
      free(b.b);
      break;
    }
    keep = n < GO_MAGIC_LEN - 1 ? n : GO_MAGIC_LEN - 1;
    memmove(buf, buf + n - keep, keep);
    off += n - keep;
  }
  free(buf);
  return rc;
}

const sc_cataloger sc_cat_go = {"go", go_match, go_scan};
