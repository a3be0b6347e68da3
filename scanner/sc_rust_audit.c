/* sc_rust_audit.c - the .dep-v0 section of `cargo auditable` binaries.
 *
 * The layer walker hands us a forward-only stream, and linkers put the
 * section header table at the END of the file, after the section's bytes.
 * So we cannot look the section up first and read it second.  Instead:
 *  1. the ELF header (first bytes) says where the section table is;
 *  2. while streaming towards it we look for the start of a zlib stream whose
 *     first inflated bytes are `{"packages":[` (cargo-auditable's JSON); each
 *     such candidate is inflated as it streams by (capped) and remembered
 *     with its file offset;
 *  3. the section table, and the last RUST_TAIL_BYTES before it (where
 *     linkers and objcopy put the section-name table), are kept as they pass;
 *  4. at the table, only a candidate sitting exactly at the offset of the
 *     section named ".dep-v0" counts: a JSON blob elsewhere (test data in
 *     .rodata) is not the binary's dependency list.  A .dep-v0 placed after
 *     the table is read directly when the stream gets there.
 * Memory: one read buffer, the captured table and tail, and inflated JSON of
 * at most RUST_DEP_MAX_JSON_BYTES for all candidates together.
 * Owner: scanner.  Thread: any (no state).  Errors: SC_ERR_*; a zlib bomb or
 * a .dep-v0 that does not decode is a note. */
#include "sc_rust_audit.h"
#include "sc_elf.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define RUST_CHUNK_BYTES (64u * 1024)         /* one read from the stream */
#define RUST_PEEK_BYTES 1024                  /* compressed bytes a candidate needs to prove itself
                                                 (a dynamic Huffman header is ~100) */
#define RUST_TAIL_BYTES (64u * 1024)          /* kept before the section table for .shstrtab */
#define RUST_SHTAB_MAX_BYTES (1u << 20)       /* 16384 ELF64 section headers */
#define RUST_SHSTRTAB_MAX_BYTES (1u << 20)    /* a section-name table read after the table */
#define RUST_DEP_MAX_ZBYTES (1u << 20)        /* compressed .dep-v0; real ones are a few KiB */
#define RUST_DEP_MAX_JSON_BYTES (4u << 20)    /* inflated JSON, all candidates; ~150 B a crate */
#define RUST_MAX_CANDIDATES 4                 /* remembered zlib JSON blobs per binary */

static const char dep_magic[] = "{\"packages\":[";
#define DEP_MAGIC_LEN (sizeof(dep_magic) - 1)

typedef struct cand {
  uint64_t off, zlen; /* file offset of the zlib stream; its compressed bytes */
  char *json;
  size_t jlen, jcap;
  int refused; /* inflated past the cap, or compressed past RUST_DEP_MAX_ZBYTES */
} cand;

typedef struct aud {
  sc_reader *r;
  sc_inventory *inv;
  const char *path;
  sc_budget *bud;
  sc_elf e;
  unsigned char *buf; /* file bytes [base, base + len) */
  size_t len;
  uint64_t base;
  int eof;
  z_stream zs;
  int zok;
  uint64_t spos;      /* next offset to look for a candidate at */
  uint64_t zpos;      /* active: next offset to feed to inflate */
  int active;
  cand cur;
  cand c[RUST_MAX_CANDIDATES];
  int nc;
  size_t json_left;   /* of the JSON cap */
  unsigned char *cap; /* bytes [cap_from, cap_to): tail and section table */
  uint64_t cap_from, cap_to;
} aud;

__attribute__((format(printf, 2, 3))) static int note(aud *a, const char *fmt, ...) {
  char what[160], msg[640];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "rust: %s: %s", what, a->path);
  return sc_strlist_add(&a->inv->notes, msg) ? SC_ERR_NOMEM : 0;
}

/* Copies the part of the freshly read bytes [from, to) that falls in the
 * capture window. */
static void capture(aud *a, uint64_t from, uint64_t to) {
  uint64_t lo = from > a->cap_from ? from : a->cap_from, hi = to < a->cap_to ? to : a->cap_to;
  if (lo < hi) memcpy(a->cap + (lo - a->cap_from), a->buf + (lo - a->base), (size_t)(hi - lo));
}

/* Drops the bytes before `keep` and reads until the buffer is full or the
 * stream ends.  0 or the reader's error. */
static int refill(aud *a, uint64_t keep) {
  if (keep < a->base) keep = a->base;
  if (keep > a->base + a->len) keep = a->base + a->len;
  size_t drop = (size_t)(keep - a->base);
  memmove(a->buf, a->buf + drop, a->len - drop);
  a->len -= drop;
  a->base = keep;
  while (!a->eof && a->len < RUST_CHUNK_BYTES) {
    ssize_t got = sc_read(a->r, a->buf + a->len, RUST_CHUNK_BYTES - a->len);
    if (got < 0) return (int)got;
    if (got == 0) { a->eof = 1; break; }
    uint64_t at = a->base + a->len;
    a->len += (size_t)got;
    capture(a, at, at + (uint64_t)got);
  }
  return 0;
}

/* Appends inflated bytes to c->json, growing within a->json_left. */
static int inflate_into(aud *a, cand *c, const unsigned char *in, size_t n, size_t *used, int *done) {
  a->zs.next_in = (unsigned char *)in;
  a->zs.avail_in = (uInt)n;
  *done = 0;
  while (a->zs.avail_in || !*done) {
    if (c->jlen == c->jcap) {
      size_t nc = c->jcap ? c->jcap * 2 : 4096;
      if (nc > a->json_left) nc = a->json_left; /* json_left: before this candidate */
      if (nc <= c->jcap) { c->refused = 1; break; }
      if (sc_budget_mem(a->bud, nc)) return SC_ERR_LIMIT;
      char *nb = realloc(c->json, nc + 1);
      if (!nb) return SC_ERR_NOMEM;
      c->json = nb;
      c->jcap = nc;
    }
    a->zs.next_out = (unsigned char *)c->json + c->jlen;
    a->zs.avail_out = (uInt)(c->jcap - c->jlen);
    int zr = inflate(&a->zs, Z_NO_FLUSH);
    c->jlen = c->jcap - a->zs.avail_out;
    if (zr == Z_STREAM_END) { *done = 1; break; }
    if (zr == Z_BUF_ERROR && a->zs.avail_out) break; /* needs more input */
    if (zr != Z_OK && zr != Z_BUF_ERROR) { *done = -1; break; }
  }
  *used = n - a->zs.avail_in;
  return 0;
}

/* Whether a zlib stream starting at buf[i] (n bytes there) inflates to the
 * JSON's first bytes. */
static int looks_like_dep(aud *a, const unsigned char *p, size_t n) {
  if (((unsigned)p[0] << 8 | p[1]) % 31 != 0 || (p[1] & 0x20)) return 0; /* FCHECK, no FDICT */
  unsigned char out[DEP_MAGIC_LEN];
  if (inflateReset(&a->zs) != Z_OK) return 0;
  a->zs.next_in = (unsigned char *)p;
  a->zs.avail_in = (uInt)(n < RUST_PEEK_BYTES ? n : RUST_PEEK_BYTES);
  a->zs.next_out = out;
  a->zs.avail_out = sizeof out;
  int zr = inflate(&a->zs, Z_SYNC_FLUSH);
  return (zr == Z_OK || zr == Z_STREAM_END || zr == Z_BUF_ERROR) && a->zs.avail_out == 0 &&
         memcmp(out, dep_magic, DEP_MAGIC_LEN) == 0;
}

static int finish_cand(aud *a, uint64_t end) {
  cand *c = &a->cur;
  c->zlen = end - c->off;
  a->active = 0;
  a->spos = end;
  if (a->nc == RUST_MAX_CANDIDATES) { free(c->json); memset(c, 0, sizeof *c); return 0; }
  a->json_left -= c->jlen;
  a->c[a->nc++] = *c;
  memset(c, 0, sizeof *c);
  return 0;
}

/* Works through the buffer: feeds an active candidate, looks for new ones. */
static int process(aud *a) {
  uint64_t end = a->base + a->len;
  for (;;) {
    if (a->active) {
      size_t used;
      int done, rc;
      if (a->zpos < a->base) a->zpos = a->base;
      rc = inflate_into(a, &a->cur, a->buf + (a->zpos - a->base), (size_t)(end - a->zpos), &used, &done);
      if (rc) return rc;
      a->zpos += used;
      if (done == -1) { /* corrupt after a good start: not a candidate after all */
        free(a->cur.json);
        a->spos = a->cur.off + 1;
        memset(&a->cur, 0, sizeof a->cur);
        a->active = 0;
        continue;
      }
      if (done == 1 || a->cur.refused || a->zpos - a->cur.off > RUST_DEP_MAX_ZBYTES) {
        if (done != 1) a->cur.refused = 1; /* over a cap: remembered, to be noted if it is .dep-v0 */
        if (a->cur.refused) { free(a->cur.json); a->cur.json = NULL; a->cur.jlen = a->cur.jcap = 0; }
        finish_cand(a, a->zpos);
        continue;
      }
      return 0; /* needs the next chunk */
    }
    uint64_t limit = a->eof ? end : (a->len > RUST_PEEK_BYTES ? end - RUST_PEEK_BYTES : a->base);
    if (a->spos < a->base) a->spos = a->base;
    while (a->spos < limit) {
      const unsigned char *p = a->buf + (a->spos - a->base);
      const unsigned char *hit = memchr(p, 0x78, (size_t)(limit - a->spos));
      if (!hit) { a->spos = limit; break; }
      a->spos = a->base + (uint64_t)(hit - a->buf);
      if (a->spos + 1 < end && looks_like_dep(a, hit, (size_t)(end - a->spos))) {
        if (inflateReset(&a->zs) != Z_OK) return SC_ERR_NOMEM;
        a->active = 1;
        a->cur.off = a->zpos = a->spos;
        break;
      }
      a->spos++;
    }
    if (!a->active) return 0;
  }
}

/* Copies n file bytes at off (>= what the buffer holds) into dst. */
static int fetch(aud *a, uint64_t off, unsigned char *dst, size_t n) {
  while (n) {
    if (off < a->base) return SC_ERR_FORMAT;
    if (off >= a->base + a->len) {
      if (a->eof) return SC_ERR_FORMAT;
      int rc = refill(a, off);
      if (rc) return rc;
      continue;
    }
    size_t have = (size_t)(a->base + a->len - off);
    if (have > n) have = n;
    memcpy(dst, a->buf + (off - a->base), have);
    dst += have;
    off += have;
    n -= have;
  }
  return 0;
}

/* The bytes of section sh: in the capture, or read from the stream ahead.
 * *owned is set when the caller must free the result. */
static int section_bytes(aud *a, const sc_elf_shdr *sh, size_t max, unsigned char **out, int *owned) {
  *owned = 0;
  if (sh->size > max) return SC_ERR_LIMIT;
  if (sh->offset >= a->cap_from && sh->offset + sh->size <= a->cap_to) {
    *out = a->cap + (sh->offset - a->cap_from);
    return 0;
  }
  if (sh->offset < a->base) return SC_ERR_FORMAT; /* already gone by */
  unsigned char *b = malloc(sh->size ? (size_t)sh->size : 1);
  if (!b) return SC_ERR_NOMEM;
  int rc = fetch(a, sh->offset, b, (size_t)sh->size);
  if (rc) { free(b); return rc; }
  *out = b;
  *owned = 1;
  return 0;
}

/* Packages from the inflated JSON; a document of another shape is a note. */
static int dep_json(aud *a, const char *json, size_t len) {
  int rc = sc_rust_audit_json(a->inv, a->path, json, len);
  if (rc == SC_ERR_FORMAT) return note(a, ".dep-v0 JSON not in cargo-auditable's format (%llu bytes)", (unsigned long long)len);
  return rc;
}

/* The .dep-v0 section sh: a candidate at its offset, or its bytes ahead. */
static int use_dep(aud *a, const sc_elf_shdr *sh) {
  for (int i = 0; i < a->nc; i++) {
    cand *c = &a->c[i];
    if (c->off != sh->offset) continue;
    if (c->refused)
      return note(a, ".dep-v0 inflates past %llu bytes: zlib bomb refused", (unsigned long long)RUST_DEP_MAX_JSON_BYTES);
    if (c->zlen > sh->size) return note(a, ".dep-v0 stream overruns its section (%llu bytes)", (unsigned long long)sh->size);
    return dep_json(a, c->json, c->jlen);
  }
  if (sh->offset < a->base) return note(a, ".dep-v0 at offset %llu is not zlib-compressed JSON", (unsigned long long)sh->offset);
  unsigned char *z;
  int owned, rc = section_bytes(a, sh, RUST_DEP_MAX_ZBYTES, &z, &owned);
  if (rc == SC_ERR_LIMIT) return note(a, ".dep-v0 of %llu compressed bytes refused (too big)", (unsigned long long)sh->size);
  if (rc) return rc == SC_ERR_FORMAT ? note(a, ".dep-v0 at offset %llu unreadable", (unsigned long long)sh->offset) : rc;
  cand c = {sh->offset, 0, NULL, 0, 0, 0};
  size_t used;
  int done;
  if (inflateReset(&a->zs) != Z_OK) rc = SC_ERR_NOMEM;
  else rc = inflate_into(a, &c, z, (size_t)sh->size, &used, &done);
  if (owned) free(z);
  if (!rc) {
    if (c.refused)
      rc = note(a, ".dep-v0 inflates past %llu bytes: zlib bomb refused", (unsigned long long)RUST_DEP_MAX_JSON_BYTES);
    else if (done != 1) rc = note(a, ".dep-v0 at offset %llu does not inflate", (unsigned long long)sh->offset);
    else rc = dep_json(a, c.json, c.jlen);
  }
  free(c.json);
  return rc;
}

/* At the end of the section table: find .dep-v0 by name. */
static int at_table(aud *a) {
  uint64_t tb = sc_elf_shtab_bytes(&a->e);
  const unsigned char *tab = a->cap + (a->e.shoff - a->cap_from);
  sc_elf_shdr strs, sh;
  if (sc_elf_shdr_at(&a->e, tab, (size_t)tb, a->e.shstrndx, &strs)) return 0; /* no names: nothing to find */
  unsigned char *names;
  int owned, rc = section_bytes(a, &strs, RUST_SHSTRTAB_MAX_BYTES, &names, &owned);
  if (rc == SC_ERR_NOMEM) return rc;
  if (rc) return a->nc ? note(a, "section names at offset %llu out of reach", (unsigned long long)strs.offset) : 0;
  rc = 0;
  int found = 0;
  for (unsigned i = 1; i < a->e.shnum && !found; i++) {
    if (sc_elf_shdr_at(&a->e, tab, (size_t)tb, i, &sh)) break;
    const char *nm = sc_elf_name(names, (size_t)strs.size, sh.name);
    if (nm && strcmp(nm, ".dep-v0") == 0) found = 1;
  }
  if (owned) free(names);
  if (!found) return 0;
  if (sh.type == SC_ELF_SHT_NOBITS || sh.size == 0) return note(a, "empty .dep-v0 section (%llu)", (unsigned long long)sh.size);
  return use_dep(a, &sh);
}

int sc_rust_audit_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  aud a;
  memset(&a, 0, sizeof a);
  a.r = r;
  a.inv = inv;
  a.path = path;
  a.bud = lim ? lim->budget : NULL;
  a.json_left = RUST_DEP_MAX_JSON_BYTES;
  if (lim && lim->max_file_read && lim->max_file_read < a.json_left) a.json_left = lim->max_file_read;
  a.buf = malloc(RUST_CHUNK_BYTES);
  if (!a.buf) return SC_ERR_NOMEM;
  a.cap_from = a.cap_to = 0; /* nothing captured while reading the header */
  int rc = refill(&a, 0);
  if (rc || sc_elf_header(a.buf, a.len, &a.e) ||
      (a.e.type != SC_ELF_ET_EXEC && a.e.type != SC_ELF_ET_DYN) || !a.e.shoff || !a.e.shnum)
    goto out; /* not an ELF executable or shared object with sections */
  uint64_t tb = sc_elf_shtab_bytes(&a.e);
  if (tb > RUST_SHTAB_MAX_BYTES || a.e.shoff > UINT64_MAX - tb) goto out;
  a.cap_from = a.e.shoff > RUST_TAIL_BYTES ? a.e.shoff - RUST_TAIL_BYTES : 0;
  a.cap_to = a.e.shoff + tb;
  if (sc_budget_mem(a.bud, a.cap_to - a.cap_from + RUST_CHUNK_BYTES)) { rc = SC_ERR_LIMIT; goto out; }
  if (!(a.cap = malloc((size_t)(a.cap_to - a.cap_from)))) { rc = SC_ERR_NOMEM; goto out; }
  capture(&a, a.base, a.base + a.len); /* the bytes read for the header */
  if (inflateInit(&a.zs) != Z_OK) { rc = SC_ERR_NOMEM; goto out; }
  a.zok = 1;
  for (;;) {
    if ((rc = process(&a))) goto out;
    if (!a.active && a.spos >= a.cap_to) break;
    if (a.eof) goto out; /* the table lies past the end: truncated, nothing trustworthy */
    if ((rc = refill(&a, a.active ? a.zpos : a.spos))) goto out;
  }
  rc = at_table(&a);
out:
  for (int i = 0; i < a.nc; i++) free(a.c[i].json);
  free(a.cur.json);
  if (a.zok) inflateEnd(&a.zs);
  free(a.cap);
  free(a.buf);
  return rc;
}

/* ---- the JSON document ----------------------------------------------------- */

/* Which sources are matched as crates.io.  cargo-auditable writes
 * "crates.io" for crates.io by either index protocol, and "registry" for
 * any other registry without saying which.  In images such a registry is
 * mostly a mirror or proxy of crates.io (the same crates under the same
 * names), so "registry" is matched too: missing a vulnerable mirrored crate
 * is worse than flagging a private crate that took a crates.io name.
 * (A Cargo.lock names its registry's URL, so sc_cat_rust.c can be exact.)
 * "local" and "git" never are: their code is not the published crate's. */
static int crates_io_source(const char *s) {
  return s && (strcmp(s, "crates.io") == 0 || strcmp(s, "registry") == 0);
}

int sc_rust_audit_json(sc_inventory *inv, const char *path, const char *json, size_t len) {
  json_error_t err;
  json_t *root = json_loadb(json, len, 0, &err);
  if (!root) return SC_ERR_FORMAT;
  json_t *pk = json_object_get(root, "packages");
  int rc = json_is_array(pk) ? 0 : SC_ERR_FORMAT;
  size_t i;
  json_t *p;
  json_array_foreach(pk, i, p) {
    if (rc) break;
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *vers = json_string_value(json_object_get(p, "version"));
    const char *src = json_string_value(json_object_get(p, "source"));
    /* The root crate is the application: from "local" sources it is no
     * crates.io package (and its name may collide with one), so it is only
     * reported when it came from crates.io itself (`cargo install`). */
    if (!name || !*name || !vers || !*vers || !crates_io_source(src)) continue;
    rc = sc_rust_add_crate(inv, path, name, vers);
  }
  json_decref(root);
  return rc;
}
