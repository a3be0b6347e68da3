/* sc_nvd.c - the NVD CVE 2.0 feed reader of sc_nvd.h: a byte-level walk of
 * the top-level object (strings and nesting only: what is not copied out
 * is not validated beyond its structure), one entry at a time handed to
 * jansson.
 * Owner: scanner.  Thread: any.  Errors: see sc_nvd.h. */
#include "sc_nvd.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sc_err.h"
#include "sc_jsonscan.h"

#define NVD_KEY_BYTES 64 /* top-level keys and the short values read ("format", "version") */

/* ---- reader ------------------------------------------------------------ */

typedef struct rdr {
  const char *p; /* current chunk: head, then buf */
  size_t n, i;
  int in_head;
  char *buf;
  sc_nvd_read_fn rd;
  void *rarg;
  int err; /* the reader's error, kept */
  int eof;
} rdr;

static int refill(rdr *r) {
  if (r->eof || r->err) return 0;
  if (!r->rd) {
    r->eof = 1;
    return 0;
  }
  if (!r->buf && !(r->buf = malloc(SC_NVD_READ_BYTES))) {
    r->err = SC_ERR_NOMEM;
    return 0;
  }
  size_t got = 0;
  int rv = r->rd(r->rarg, r->buf, SC_NVD_READ_BYTES, &got);
  if (rv) {
    r->err = rv;
    return 0;
  }
  if (!got) {
    r->eof = 1;
    return 0;
  }
  r->p = r->buf;
  r->n = got;
  r->i = 0;
  r->in_head = 0;
  return 1;
}

static inline int peek(rdr *r) {
  if (r->i == r->n && !refill(r)) return -1;
  return (unsigned char)r->p[r->i];
}

static inline int get(rdr *r) {
  int c = peek(r);
  if (c >= 0) r->i++;
  return c;
}

static void skip_ws(rdr *r) {
  int c;
  while ((c = peek(r)) == ' ' || c == '\n' || c == '\r' || c == '\t') r->i++;
}

/* The error of an unexpected end or byte: the reader's own, else format. */
static int fail(const rdr *r) { return r->err ? r->err : SC_ERR_FORMAT; }

/* ---- copying a value out ----------------------------------------------- */

typedef struct capbuf {
  char *p;
  size_t n, cap, max;
  int over; /* longer than max: the rest was consumed, not kept */
  int oom;
} capbuf;

/* Appends p[0..n) (and a NUL after it) to c; past max, c is marked over. */
static void put_n(capbuf *c, const char *p, size_t n) {
  if (!c || c->over || c->oom || !n) return;
  if (c->n + n + 1 > c->cap) {
    if (c->n + n + 1 > c->max) {
      c->over = 1;
      return;
    }
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->n + n + 1) cap *= 2;
    if (cap > c->max) cap = c->max;
    char *np = realloc(c->p, cap);
    if (!np) {
      c->oom = 1;
      return;
    }
    c->p = np;
    c->cap = cap;
  }
  memcpy(c->p + c->n, p, n);
  c->n += n;
  c->p[c->n] = 0;
}

static inline void put(capbuf *c, int ch) {
  char b = (char)ch;
  put_n(c, &b, 1);
}

/* The run of bytes at the reader's position up to (not including) the
 * first one that matters (in a string: quote or backslash; else also the
 * brackets), or the chunk's end: copied into c and consumed.  Runs are what
 * make a 100 MB feed cheap to walk, not byte calls. */
static void run_until(rdr *r, capbuf *c, int in_string) {
  const char *s = r->p + r->i, *e = r->p + r->n, *q = s;
  if (in_string)
    while (q < e && *q != '"' && *q != '\\') q++;
  else
    while (q < e && *q != '"' && *q != '{' && *q != '}' && *q != '[' && *q != ']') q++;
  put_n(c, s, (size_t)(q - s));
  r->i += (size_t)(q - s);
}

/* After an opening quote: the rest of the string, escapes skipped over. */
static int string_rest(rdr *r, capbuf *c) {
  for (;;) {
    if (peek(r) < 0) return fail(r);
    run_until(r, c, 1);
    if (r->i == r->n) continue; /* the chunk ended inside the string */
    int ch = get(r);
    put(c, ch);
    if (ch == '"') return 0;
    if ((ch = get(r)) < 0) return fail(r); /* the escaped byte */
    put(c, ch);
  }
}

/* Consumes one value (copied into c when c is not NULL).  Only strings and
 * nesting are followed: a copied value is checked by jansson later, a
 * skipped one needs no more. */
static int value(rdr *r, capbuf *c) {
  skip_ws(r);
  int ch = get(r);
  if (ch < 0) return fail(r);
  put(c, ch);
  if (ch == '"') return string_rest(r, c);
  if (ch == '{' || ch == '[') {
    size_t depth = 1;
    while (depth) {
      if (peek(r) < 0) return fail(r);
      run_until(r, c, 0);
      if (r->i == r->n) continue;
      ch = get(r);
      put(c, ch);
      if (ch == '"') {
        int rv = string_rest(r, c);
        if (rv) return rv;
      } else if (ch == '{' || ch == '[') {
        depth++;
      } else if (ch == '}' || ch == ']') {
        depth--;
      }
    }
    return 0;
  }
  if (ch == ',' || ch == ']' || ch == '}' || ch == ':') return SC_ERR_FORMAT;
  while ((ch = peek(r)) >= 0 && !strchr(",]} \t\r\n", ch)) {
    put(c, ch);
    r->i++;
  }
  return r->err;
}

/* ---- one entry ----------------------------------------------------------- */

static int valid_id(const char *id) {
  if (!id || strncmp(id, "CVE-", 4) || strlen(id) >= SC_NVD_MAX_ID || !id[4]) return 0;
  for (const char *p = id + 4; *p; p++)
    if (!((*p >= '0' && *p <= '9') || *p == '-')) return 0;
  return 1;
}

static int is_primary(const json_t *m) {
  const char *t = json_string_value(json_object_get(m, "type"));
  const char *s = json_string_value(json_object_get(m, "source"));
  return (t && !strcmp(t, "Primary")) || (s && !strcmp(s, "nvd@nist.gov"));
}

/* The score of one metric into out; 1 when usable. */
static int metric_of(const json_t *m, int version, sc_nvd_cve *out) {
  const json_t *d = json_object_get(m, "cvssData");
  if (!json_is_object(d)) return 0;
  const char *vec = json_string_value(json_object_get(d, "vectorString"));
  double sc;
  sc_severity sv;
  out->vector[0] = 0;
  if (vec && strlen(vec) <= SC_CVSS_MAX && !sc_cvss_score(vec, &sc, &sv)) {
    memcpy(out->vector, vec, strlen(vec) + 1);
  } else {
    const json_t *b = json_object_get(d, "baseScore");
    if (!json_is_number(b)) return 0;
    sc = json_number_value(b);
    if (!(sc >= 0 && sc <= 10)) return 0;
    sv = sc_severity_from_score(sc);
    if (version == 20 && sv == SC_SEV_CRITICAL) sv = SC_SEV_HIGH; /* NVD's v2 scale has no critical */
    if (sc == 0) sv = SC_SEV_NONE;
  }
  const char *src = json_string_value(json_object_get(m, "source"));
  out->scored_by[0] = 0;
  if (src && strlen(src) < sizeof(out->scored_by)) memcpy(out->scored_by, src, strlen(src) + 1);
  out->score = sc;
  out->severity = sv;
  out->version = version;
  return 1;
}

/* The score of a CVE from its metrics object (NULL or not an object: none). */
static void pick(const json_t *metrics, sc_nvd_cve *out) {
  static const struct {
    const char *key;
    int version;
  } order[] = {{"cvssMetricV31", 31}, {"cvssMetricV30", 30}, {"cvssMetricV40", 40}, {"cvssMetricV2", 20}};
  int found = 0;
  for (size_t o = 0; !found && o < sizeof(order) / sizeof(order[0]); o++) {
    const json_t *arr = json_object_get(metrics, order[o].key);
    for (int pass = 0; !found && pass < 2; pass++)
      for (size_t i = 0; !found && i < json_array_size(arr); i++) {
        const json_t *m = json_array_get(arr, i);
        if (is_primary(m) == !pass) found = metric_of(m, order[o].version, out);
      }
  }
  if (!found) {
    out->score = -1;
    out->severity = SC_SEV_UNKNOWN;
    out->version = 0;
    out->vector[0] = out->scored_by[0] = 0;
  }
}

/* The light way: sc_jsonscan finds cve.id and cve.metrics without a tree of
 * the entry (descriptions, references and configurations are most of a
 * feed's bytes); only metrics is parsed.  0 when it cannot vouch for the
 * text (then the full parse decides, as sc_jsonscan.h promises the same
 * values); 1 done (*rv set). */
static int entry_light(const char *json, size_t len, sc_nvd_cve *out, int *rv) {
  static const char *const top_keys[] = {"cve"}, *const cve_keys[] = {"id", "metrics"};
  sc_jspan top, ck[2];
  const char *id;
  size_t n;
  if (!sc_jsonscan_object(json, len, top_keys, 1, &top) || !top.n ||
      !sc_jsonscan_object(top.p, top.n, cve_keys, 2, ck) || !ck[0].n || !sc_jsonscan_plain_string(ck[0], &id, &n))
    return 0;
  if (n < 5 || n >= SC_NVD_MAX_ID) {
    *rv = SC_ERR_FORMAT;
    return 1;
  }
  memcpy(out->id, id, n);
  out->id[n] = 0;
  if (!valid_id(out->id)) {
    *rv = SC_ERR_FORMAT;
    return 1;
  }
  json_t *metrics = ck[1].n ? json_loadb(ck[1].p, ck[1].n, JSON_DECODE_ANY, NULL) : NULL;
  pick(metrics, out);
  json_decref(metrics);
  *rv = 0;
  return 1;
}

int sc_nvd_entry(const char *json, size_t len, sc_nvd_cve *out) {
  if (!json || !out) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  out->score = -1;
  out->severity = SC_SEV_UNKNOWN;
  int rv;
  if (entry_light(json, len, out, &rv)) return rv;
  memset(out, 0, sizeof(*out));
  out->score = -1;
  out->severity = SC_SEV_UNKNOWN;
  json_t *doc = json_loadb(json, len, 0, NULL);
  const json_t *cve = json_object_get(doc, "cve");
  const char *cid = json_string_value(json_object_get(cve, "id"));
  if (!valid_id(cid)) {
    json_decref(doc);
    return SC_ERR_FORMAT;
  }
  memcpy(out->id, cid, strlen(cid) + 1);
  pick(json_object_get(cve, "metrics"), out);
  json_decref(doc);
  return 0;
}

/* ---- the feed ------------------------------------------------------------ */

/* Walks vulnerabilities[]: each entry copied out and handed on. */
static int entries(rdr *r, sc_nvd_cve_fn cb, void *arg, uint64_t *malformed) {
  skip_ws(r);
  if (get(r) != '[') return fail(r);
  skip_ws(r);
  if (peek(r) == ']') {
    r->i++;
    return 0;
  }
  capbuf item = {.max = SC_NVD_MAX_ITEM_BYTES};
  int rv = 0;
  for (;;) {
    item.n = 0;
    item.over = 0;
    if ((rv = value(r, &item))) break;
    if (item.oom) {
      rv = SC_ERR_NOMEM;
      break;
    }
    sc_nvd_cve cv;
    if (item.over || sc_nvd_entry(item.p, item.n, &cv)) {
      if (malformed) (*malformed)++;
    } else if ((rv = cb(arg, &cv))) {
      break;
    }
    skip_ws(r);
    int ch = get(r);
    if (ch == ',') continue;
    if (ch != ']') rv = fail(r);
    break;
  }
  free(item.p);
  return rv;
}

/* The top-level object.  sniff: stop at "format" (1: it says NVD_CVE) or
 * before anything else that would decide (0). */
static int walk(rdr *r, int sniff, sc_nvd_cve_fn cb, void *arg, uint64_t *malformed) {
  char kb[NVD_KEY_BYTES], vb[NVD_KEY_BYTES];
  int is_nvd = 0, seen = 0;
  skip_ws(r);
  if (get(r) != '{') return sniff ? 0 : fail(r);
  skip_ws(r);
  if (peek(r) == '}') return sniff ? 0 : SC_ERR_FORMAT;
  for (;;) {
    capbuf k = {.p = kb, .cap = sizeof(kb), .max = sizeof(kb)};
    skip_ws(r);
    if (peek(r) != '"') return sniff ? 0 : fail(r);
    int rv = value(r, &k);
    if (rv) return sniff ? 0 : rv;
    skip_ws(r);
    if (get(r) != ':') return sniff ? 0 : fail(r);
    int is_format = !k.over && !strcmp(kb, "\"format\""), is_version = !k.over && !strcmp(kb, "\"version\"");
    if (is_format || is_version) {
      capbuf v = {.p = vb, .cap = sizeof(vb), .max = sizeof(vb)};
      if ((rv = value(r, &v))) return sniff ? 0 : rv;
      if (is_format) {
        is_nvd = !v.over && !strcmp(vb, "\"NVD_CVE\"");
        if (sniff) return is_nvd;
        if (!is_nvd) return SC_ERR_FORMAT;
      } else if (!sniff && (v.over || strncmp(vb, "\"2.", 3))) {
        return SC_ERR_UNSUPP;
      }
    } else if (!k.over && !strcmp(kb, "\"vulnerabilities\"")) {
      if (sniff || !is_nvd) return sniff ? 0 : SC_ERR_FORMAT;
      if ((rv = entries(r, cb, arg, malformed))) return rv;
      seen = 1;
    } else if ((rv = value(r, NULL))) {
      return sniff ? 0 : rv;
    }
    skip_ws(r);
    int ch = get(r);
    if (ch == ',') continue;
    if (ch == '}') break;
    return sniff ? 0 : fail(r);
  }
  if (sniff) return 0;
  skip_ws(r);
  if (peek(r) >= 0) return SC_ERR_FORMAT; /* something after the object */
  if (r->err) return r->err;
  return seen ? 0 : SC_ERR_FORMAT;
}

int sc_nvd_sniff(const char *head, size_t n) {
  if (!head) return 0;
  rdr r = {.p = head, .n = n, .in_head = 1};
  return walk(&r, 1, NULL, NULL, NULL) == 1;
}

int sc_nvd_parse(const char *head, size_t head_len, sc_nvd_read_fn rd, void *rarg, sc_nvd_cve_fn cb, void *arg,
                 uint64_t *malformed) {
  if (!cb || (head_len && !head)) return SC_ERR_ARG;
  rdr r = {.p = head ? head : "", .n = head_len, .in_head = 1, .rd = rd, .rarg = rarg};
  int rv = walk(&r, 0, cb, arg, malformed);
  free(r.buf);
  return rv;
}
