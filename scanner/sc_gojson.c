/* sc_gojson.c - Go encoding/json key semantics over jansson documents (see
 * sc_gojson.h): duplicate keys, Go's case fold, struct/map aware checks.
 * Thread: any (no global state).  Errors: SC_ERR_FORMAT with a reason. */
#include "sc_gojson.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unicode simple case folding orbits, folded to their smallest rune, for
 * runes >= 0x80 that do not fold to themselves: rune r in [lo, hi] with
 * (r - lo) % stride == 0 folds to r + delta.  Generated from Unicode 14.0
 * CaseFolding (statuses C and S; U+0130 and U+0131 excluded as in Go's
 * caseOrbit) by grouping runes by simple fold target and taking each group's
 * minimum; 1431 runes.  Sorted by lo, ranges do not overlap. */
typedef struct {
  uint32_t lo, hi;
  uint8_t stride;
  int32_t delta;
} gj_fold_range;

static const gj_fold_range gj_fold_table[] = {
  {0xE0, 0xF6, 1, -32}, {0xF8, 0xFE, 1, -32}, {0x101, 0x12F, 2, -1}, {0x133, 0x137, 2, -1},
  {0x13A, 0x148, 2, -1}, {0x14B, 0x177, 2, -1}, {0x178, 0x178, 1, -121}, {0x17A, 0x17E, 2, -1},
  {0x17F, 0x17F, 1, -300}, {0x183, 0x185, 2, -1}, {0x188, 0x188, 1, -1}, {0x18C, 0x18C, 1, -1},
  {0x192, 0x192, 1, -1}, {0x199, 0x199, 1, -1}, {0x1A1, 0x1A5, 2, -1}, {0x1A8, 0x1A8, 1, -1},
  {0x1AD, 0x1AD, 1, -1}, {0x1B0, 0x1B0, 1, -1}, {0x1B4, 0x1B6, 2, -1}, {0x1B9, 0x1B9, 1, -1},
  {0x1BD, 0x1BD, 1, -1}, {0x1C5, 0x1C5, 1, -1}, {0x1C6, 0x1C6, 1, -2}, {0x1C8, 0x1C8, 1, -1},
  {0x1C9, 0x1C9, 1, -2}, {0x1CB, 0x1CB, 1, -1}, {0x1CC, 0x1CC, 1, -2}, {0x1CE, 0x1DC, 2, -1},
  {0x1DD, 0x1DD, 1, -79}, {0x1DF, 0x1EF, 2, -1}, {0x1F2, 0x1F2, 1, -1}, {0x1F3, 0x1F3, 1, -2},
  {0x1F5, 0x1F5, 1, -1}, {0x1F6, 0x1F6, 1, -97}, {0x1F7, 0x1F7, 1, -56}, {0x1F9, 0x21F, 2, -1},
  {0x220, 0x220, 1, -130}, {0x223, 0x233, 2, -1}, {0x23C, 0x23C, 1, -1}, {0x23D, 0x23D, 1, -163},
  {0x242, 0x242, 1, -1}, {0x243, 0x243, 1, -195}, {0x247, 0x24F, 2, -1}, {0x253, 0x253, 1, -210},
  {0x254, 0x254, 1, -206}, {0x256, 0x257, 1, -205}, {0x259, 0x259, 1, -202}, {0x25B, 0x25B, 1, -203},
  {0x260, 0x260, 1, -205}, {0x263, 0x263, 1, -207}, {0x268, 0x268, 1, -209}, {0x269, 0x269, 1, -211},
  {0x26F, 0x26F, 1, -211}, {0x272, 0x272, 1, -213}, {0x275, 0x275, 1, -214}, {0x280, 0x280, 1, -218},
  {0x283, 0x283, 1, -218}, {0x288, 0x288, 1, -218}, {0x289, 0x289, 1, -69}, {0x28A, 0x28B, 1, -217},
  {0x28C, 0x28C, 1, -71}, {0x292, 0x292, 1, -219}, {0x371, 0x373, 2, -1}, {0x377, 0x377, 1, -1},
  {0x399, 0x399, 1, -84}, {0x39C, 0x39C, 1, -743}, {0x3AC, 0x3AC, 1, -38}, {0x3AD, 0x3AF, 1, -37},
  {0x3B1, 0x3B8, 1, -32}, {0x3B9, 0x3B9, 1, -116}, {0x3BA, 0x3BB, 1, -32}, {0x3BC, 0x3BC, 1, -775},
  {0x3BD, 0x3C1, 1, -32}, {0x3C2, 0x3C2, 1, -31}, {0x3C3, 0x3CB, 1, -32}, {0x3CC, 0x3CC, 1, -64},
  {0x3CD, 0x3CE, 1, -63}, {0x3D0, 0x3D0, 1, -62}, {0x3D1, 0x3D1, 1, -57}, {0x3D5, 0x3D5, 1, -47},
  {0x3D6, 0x3D6, 1, -54}, {0x3D7, 0x3D7, 1, -8}, {0x3D9, 0x3EF, 2, -1}, {0x3F0, 0x3F0, 1, -86},
  {0x3F1, 0x3F1, 1, -80}, {0x3F3, 0x3F3, 1, -116}, {0x3F4, 0x3F4, 1, -92}, {0x3F5, 0x3F5, 1, -96},
  {0x3F8, 0x3F8, 1, -1}, {0x3F9, 0x3F9, 1, -7}, {0x3FB, 0x3FB, 1, -1}, {0x3FD, 0x3FF, 1, -130},
  {0x430, 0x44F, 1, -32}, {0x450, 0x45F, 1, -80}, {0x461, 0x481, 2, -1}, {0x48B, 0x4BF, 2, -1},
  {0x4C2, 0x4CE, 2, -1}, {0x4CF, 0x4CF, 1, -15}, {0x4D1, 0x52F, 2, -1}, {0x561, 0x586, 1, -48},
  {0x13F8, 0x13FD, 1, -8}, {0x1C80, 0x1C80, 1, -6254}, {0x1C81, 0x1C81, 1, -6253}, {0x1C82, 0x1C82, 1, -6244},
  {0x1C83, 0x1C84, 1, -6242}, {0x1C85, 0x1C85, 1, -6243}, {0x1C86, 0x1C86, 1, -6236},
  {0x1C87, 0x1C87, 1, -6181}, {0x1C90, 0x1CBA, 1, -3008}, {0x1CBD, 0x1CBF, 1, -3008}, {0x1E01, 0x1E95, 2, -1},
  {0x1E9B, 0x1E9B, 1, -59}, {0x1E9E, 0x1E9E, 1, -7615}, {0x1EA1, 0x1EFF, 2, -1}, {0x1F08, 0x1F0F, 1, -8},
  {0x1F18, 0x1F1D, 1, -8}, {0x1F28, 0x1F2F, 1, -8}, {0x1F38, 0x1F3F, 1, -8}, {0x1F48, 0x1F4D, 1, -8},
  {0x1F59, 0x1F5F, 2, -8}, {0x1F68, 0x1F6F, 1, -8}, {0x1F88, 0x1F8F, 1, -8}, {0x1F98, 0x1F9F, 1, -8},
  {0x1FA8, 0x1FAF, 1, -8}, {0x1FB8, 0x1FB9, 1, -8}, {0x1FBA, 0x1FBB, 1, -74}, {0x1FBC, 0x1FBC, 1, -9},
  {0x1FBE, 0x1FBE, 1, -7289}, {0x1FC8, 0x1FCB, 1, -86}, {0x1FCC, 0x1FCC, 1, -9}, {0x1FD3, 0x1FD3, 1, -7235},
  {0x1FD8, 0x1FD9, 1, -8}, {0x1FDA, 0x1FDB, 1, -100}, {0x1FE3, 0x1FE3, 1, -7219}, {0x1FE8, 0x1FE9, 1, -8},
  {0x1FEA, 0x1FEB, 1, -112}, {0x1FEC, 0x1FEC, 1, -7}, {0x1FF8, 0x1FF9, 1, -128}, {0x1FFA, 0x1FFB, 1, -126},
  {0x1FFC, 0x1FFC, 1, -9}, {0x2126, 0x2126, 1, -7549}, {0x212A, 0x212A, 1, -8415}, {0x212B, 0x212B, 1, -8294},
  {0x214E, 0x214E, 1, -28}, {0x2170, 0x217F, 1, -16}, {0x2184, 0x2184, 1, -1}, {0x24D0, 0x24E9, 1, -26},
  {0x2C30, 0x2C5F, 1, -48}, {0x2C61, 0x2C61, 1, -1}, {0x2C62, 0x2C62, 1, -10743}, {0x2C63, 0x2C63, 1, -3814},
  {0x2C64, 0x2C64, 1, -10727}, {0x2C65, 0x2C65, 1, -10795}, {0x2C66, 0x2C66, 1, -10792},
  {0x2C68, 0x2C6C, 2, -1}, {0x2C6D, 0x2C6D, 1, -10780}, {0x2C6E, 0x2C6E, 1, -10749},
  {0x2C6F, 0x2C6F, 1, -10783}, {0x2C70, 0x2C70, 1, -10782}, {0x2C73, 0x2C73, 1, -1}, {0x2C76, 0x2C76, 1, -1},
  {0x2C7E, 0x2C7F, 1, -10815}, {0x2C81, 0x2CE3, 2, -1}, {0x2CEC, 0x2CEE, 2, -1}, {0x2CF3, 0x2CF3, 1, -1},
  {0x2D00, 0x2D25, 1, -7264}, {0x2D27, 0x2D27, 1, -7264}, {0x2D2D, 0x2D2D, 1, -7264}, {0xA641, 0xA649, 2, -1},
  {0xA64A, 0xA64A, 1, -35266}, {0xA64B, 0xA64B, 1, -35267}, {0xA64D, 0xA66D, 2, -1}, {0xA681, 0xA69B, 2, -1},
  {0xA723, 0xA72F, 2, -1}, {0xA733, 0xA76F, 2, -1}, {0xA77A, 0xA77C, 2, -1}, {0xA77D, 0xA77D, 1, -35332},
  {0xA77F, 0xA787, 2, -1}, {0xA78C, 0xA78C, 1, -1}, {0xA78D, 0xA78D, 1, -42280}, {0xA791, 0xA793, 2, -1},
  {0xA797, 0xA7A9, 2, -1}, {0xA7AA, 0xA7AA, 1, -42308}, {0xA7AB, 0xA7AB, 1, -42319},
  {0xA7AC, 0xA7AC, 1, -42315}, {0xA7AD, 0xA7AD, 1, -42305}, {0xA7AE, 0xA7AE, 1, -42308},
  {0xA7B0, 0xA7B0, 1, -42258}, {0xA7B1, 0xA7B1, 1, -42282}, {0xA7B2, 0xA7B2, 1, -42261},
  {0xA7B5, 0xA7C3, 2, -1}, {0xA7C4, 0xA7C4, 1, -48}, {0xA7C5, 0xA7C5, 1, -42307}, {0xA7C6, 0xA7C6, 1, -35384},
  {0xA7C8, 0xA7CA, 2, -1}, {0xA7D1, 0xA7D1, 1, -1}, {0xA7D7, 0xA7D9, 2, -1}, {0xA7F6, 0xA7F6, 1, -1},
  {0xAB53, 0xAB53, 1, -928}, {0xAB70, 0xABBF, 1, -38864}, {0xFB06, 0xFB06, 1, -1}, {0xFF41, 0xFF5A, 1, -32},
  {0x10428, 0x1044F, 1, -40}, {0x104D8, 0x104FB, 1, -40}, {0x10597, 0x105A1, 1, -39},
  {0x105A3, 0x105B1, 1, -39}, {0x105B3, 0x105B9, 1, -39}, {0x105BB, 0x105BC, 1, -39},
  {0x10CC0, 0x10CF2, 1, -64}, {0x118C0, 0x118DF, 1, -32}, {0x16E60, 0x16E7F, 1, -32},
  {0x1E922, 0x1E943, 1, -34},
};

uint32_t sc_gojson_fold_rune(uint32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') ? r - ('a' - 'A') : r;
  size_t lo = 0, hi = sizeof gj_fold_table / sizeof gj_fold_table[0];
  while (lo < hi) { /* first range with hi >= r */
    size_t m = lo + (hi - lo) / 2;
    if (gj_fold_table[m].hi < r) lo = m + 1;
    else hi = m;
  }
  if (lo < sizeof gj_fold_table / sizeof gj_fold_table[0]) {
    const gj_fold_range *e = &gj_fold_table[lo];
    if (r >= e->lo && (r - e->lo) % e->stride == 0) return (uint32_t)((int32_t)r + e->delta);
  }
  return r;
}

/* Go's utf8.DecodeRune: invalid, overlong, surrogate or out-of-range
 * sequences are U+FFFD of width 1. */
static uint32_t gj_decode(const unsigned char *p, size_t n, size_t *w) {
  uint32_t r, min;
  size_t need;
  *w = 1;
  if (p[0] < 0x80) return p[0];
  if ((p[0] & 0xe0) == 0xc0) need = 2, r = p[0] & 0x1f, min = 0x80;
  else if ((p[0] & 0xf0) == 0xe0) need = 3, r = p[0] & 0x0f, min = 0x800;
  else if ((p[0] & 0xf8) == 0xf0) need = 4, r = p[0] & 0x07, min = 0x10000;
  else return 0xfffd;
  if (n < need) return 0xfffd;
  for (size_t i = 1; i < need; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0xfffd;
    r = (r << 6) | (p[i] & 0x3f);
  }
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return 0xfffd;
  *w = need;
  return r;
}

static size_t gj_encode(uint32_t r, char b[4]) {
  if (r < 0x80) return b[0] = (char)r, 1;
  if (r < 0x800) return b[0] = (char)(0xc0 | r >> 6), b[1] = (char)(0x80 | (r & 0x3f)), 2;
  if (r < 0x10000) {
    b[0] = (char)(0xe0 | r >> 12), b[1] = (char)(0x80 | ((r >> 6) & 0x3f)), b[2] = (char)(0x80 | (r & 0x3f));
    return 3;
  }
  b[0] = (char)(0xf0 | r >> 18), b[1] = (char)(0x80 | ((r >> 12) & 0x3f));
  b[2] = (char)(0x80 | ((r >> 6) & 0x3f)), b[3] = (char)(0x80 | (r & 0x3f));
  return 4;
}

size_t sc_gojson_fold(const char *key, size_t len, char *out, size_t cap) {
  const unsigned char *p = (const unsigned char *)key;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    size_t w, n;
    char b[4];
    uint32_t r = gj_decode(p + i, len - i, &w);
    i += w;
    n = gj_encode(sc_gojson_fold_rune(r), b);
    for (size_t k = 0; k < n; k++, o++)
      if (o + 1 < cap) out[o] = b[k];
  }
  if (cap) out[o < cap ? o : cap - 1] = '\0';
  return o;
}

void sc_gojson_quote(const char *key, size_t len, char *out, size_t cap) {
  const unsigned char *p = (const unsigned char *)key;
  size_t o = strlen(out), i = 0;
  if (o >= cap) return;
#define GJ_PUT(...) (o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, __VA_ARGS__), o = o < cap ? o : cap)
  GJ_PUT("\"");
  while (i < len && i < SC_GOJSON_SHOW_KEY_BYTES) {
    size_t w;
    uint32_t r = gj_decode(p + i, len - i, &w);
    i += w;
    if (r == '"' || r == '\\') GJ_PUT("\\%c", (int)r);
    else if (r >= 0x20 && r < 0x7f) GJ_PUT("%c", (int)r);
    else if (r < 0x10000) GJ_PUT("\\u%04x", (unsigned)r);
    else GJ_PUT("\\u%04x\\u%04x", (unsigned)(0xd800 + ((r - 0x10000) >> 10)), (unsigned)(0xdc00 + (r & 0x3ff)));
  }
  GJ_PUT(i < len ? "...\"" : "\"");
#undef GJ_PUT
}

static void gj_why(char *why, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (!why || !cap) return;
  va_start(ap, fmt);
  vsnprintf(why, cap, fmt, ap);
  va_end(ap);
  for (char *c = why; *c; c++) /* one printable line */
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
}

int sc_gojson_load(const char *json, size_t len, json_t **out, char *why, size_t whycap) {
  json_error_t err;
  if (!out) return SC_ERR_ARG;
  *out = NULL;
  if (!json) return SC_ERR_ARG;
  /* JSON_REJECT_DUPLICATES applies to every object at every depth, and
   * compares keys after unescaping ("la\u0079ers" equals "layers"). */
  *out = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
  if (*out) return 0;
  switch (json_error_code(&err)) {
  case json_error_out_of_memory:
    gj_why(why, whycap, "out of memory parsing JSON");
    return SC_ERR_NOMEM;
  case json_error_duplicate_key:
    gj_why(why, whycap, "%s at byte %d (Go clients keep only the last)", err.text, err.position);
    return SC_ERR_FORMAT;
  default:
    gj_why(why, whycap, "not valid JSON: %s at byte %d", err.text, err.position);
    return SC_ERR_FORMAT;
  }
}

/* ---- the type-directed walk ---- */

typedef struct {
  char *why;
  size_t whycap;
  char path[SC_GOJSON_PATH_BYTES];
} gj_walk;

typedef struct {
  const char *key;
  size_t klen, pos; /* pos: place in the document, to report pairs in order */
  char *folded;
} gj_key;

/* Appends a path segment; returns the old length to restore.  A path too
 * long to show ends in "...". */
static size_t gj_push(gj_walk *w, const char *name, long index) {
  size_t old = strlen(w->path), cap = sizeof w->path - 4;
  char seg[SC_GOJSON_PATH_BYTES] = "";
  if (name) {
    int plain = *name != '\0';
    for (const char *c = name; *c; c++)
      if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
        plain = 0;
    if (plain) snprintf(seg, sizeof seg, ".%.*s", (int)(sizeof seg - 2), name);
    else {
      strcpy(seg, "[");
      sc_gojson_quote(name, strlen(name), seg, sizeof seg - 1);
      strcat(seg, "]");
    }
  } else {
    snprintf(seg, sizeof seg, "[%ld]", index);
  }
  if (old + strlen(seg) > cap) {
    if (!strstr(w->path, "...")) strcpy(w->path + (old < cap ? old : cap), "...");
  } else {
    strcat(w->path, seg);
  }
  return old;
}

static int gj_walk_value(gj_walk *w, json_t *v, const sc_gojson_type *t, int depth);

static int gj_cmp_key(const void *a, const void *b) {
  const gj_key *x = a, *y = b;
  int c = strcmp(x->folded, y->folded);
  return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static void gj_free_keys(gj_key *k, size_t n) {
  for (size_t i = 0; i < n; i++) free(k[i].folded);
  free(k);
}

static int gj_struct(gj_walk *w, json_t *obj, const sc_gojson_type *t, int depth) {
  size_t n = json_object_size(obj), i = 0;
  const char *key;
  json_t *v;
  char fname[128], q1[SC_GOJSON_SHOW_KEY_BYTES * 12 + 8], q2[sizeof q1];
  gj_key *keys;
  int rc = 0;
  if (!n) return 0;
  if (!(keys = calloc(n, sizeof *keys))) return SC_ERR_NOMEM;
  json_object_foreach(obj, key, v) {
    size_t klen = strlen(key); /* sc_gojson_load refuses NUL in keys */
    gj_key *k = &keys[i];
    k->pos = i++;
    k->key = key;
    k->klen = klen;
    if (!(k->folded = malloc(3 * klen + 1))) {
      gj_free_keys(keys, n);
      return SC_ERR_NOMEM;
    }
    sc_gojson_fold(key, klen, k->folded, 3 * klen + 1);
    /* A key not spelled like a field but folding to one: Go reads it into
     * that field (and keeps the last if the exact spelling is there too). */
    const sc_gojson_field *f;
    for (f = t->fields; f && f->name; f++)
      if (strcmp(key, f->name) == 0) break;
    if (f && f->name) continue;
    for (f = t->fields; f && f->name; f++) {
      sc_gojson_fold(f->name, strlen(f->name), fname, sizeof fname);
      if (strcmp(k->folded, fname) == 0) {
        q1[0] = q2[0] = '\0';
        sc_gojson_quote(key, klen, q1, sizeof q1);
        sc_gojson_quote(f->name, strlen(f->name), q2, sizeof q2);
        gj_why(w->why, w->whycap, "key %s at %s folds to %s (Go clients read it case-insensitively)", q1,
               w->path, q2);
        gj_free_keys(keys, n);
        return SC_ERR_FORMAT;
      }
    }
  }
  /* Two keys folding to one name: Go matches both to the same field. */
  qsort(keys, n, sizeof *keys, gj_cmp_key);
  for (i = 1; i < n; i++) {
    if (strcmp(keys[i - 1].folded, keys[i].folded) != 0) continue;
    const gj_key *a = &keys[i - 1], *b = &keys[i];
    q1[0] = q2[0] = '\0';
    sc_gojson_quote(a->key, a->klen, q1, sizeof q1);
    sc_gojson_quote(b->key, b->klen, q2, sizeof q2);
    gj_why(w->why, w->whycap, "keys %s and %s at %s fold to the same name (Go clients keep only the last)", q1,
           q2, w->path);
    gj_free_keys(keys, n);
    return SC_ERR_FORMAT;
  }
  gj_free_keys(keys, n);
  for (const sc_gojson_field *f = t->fields; f && f->name && rc == 0; f++) {
    json_t *m = json_object_get(obj, f->name);
    if (!m || !f->type) continue;
    size_t old = gj_push(w, f->name, 0);
    rc = gj_walk_value(w, m, f->type, depth + 1);
    w->path[old] = '\0';
  }
  return rc;
}

/* Values of the wrong JSON type for their Go type are left alone here: Go
 * fails to decode them, and the parsers type-check every member they read. */
static int gj_walk_value(gj_walk *w, json_t *v, const sc_gojson_type *t, int depth) {
  int rc = 0;
  if (!t || t->kind == SC_GJ_OPAQUE) return 0;
  if (depth > SC_GOJSON_MAX_DEPTH) return SC_ERR_ARG; /* a type tree with a cycle */
  if (t->kind == SC_GJ_STRUCT) {
    return json_is_object(v) ? gj_struct(w, v, t, depth) : 0;
  } else if (t->kind == SC_GJ_ARRAY && json_is_array(v) && t->elem) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      size_t old = gj_push(w, NULL, (long)i);
      rc = gj_walk_value(w, e, t->elem, depth + 1);
      w->path[old] = '\0';
      if (rc) return rc;
    }
  } else if (t->kind == SC_GJ_MAP && json_is_object(v) && t->elem) {
    const char *key;
    json_t *e;
    json_object_foreach(v, key, e) { /* map keys match exactly: nothing to fold */
      size_t old = gj_push(w, key, 0);
      rc = gj_walk_value(w, e, t->elem, depth + 1);
      w->path[old] = '\0';
      if (rc) return rc;
    }
  }
  return rc;
}

int sc_gojson_check(json_t *doc, const sc_gojson_type *type, char *why, size_t whycap) {
  gj_walk w;
  if (!doc || !type) return SC_ERR_ARG;
  w.why = why;
  w.whycap = whycap;
  strcpy(w.path, "$");
  if (why && whycap) why[0] = '\0';
  return gj_walk_value(&w, doc, type, 0);
}
