/* sc_osv.c - OSV import (see sc_osv.h): parses records and writes them
 * through sc_vulnstore (no SQL here).  A record's text is first checked by
 * sc_jsonscan, which finds its top-level keys without a tree: an unchanged
 * record is then settled from id and modified alone, another is parsed
 * from its needed keys only; text the scan does not vouch for goes through
 * jansson's full parse, which decides as before.  A file (or zip entry)
 * whose first bytes say it is an NVD CVE 2.0 feed is streamed through
 * sc_nvd into CVE scores (sc_store_severity) instead.
 * Owner: scanner.  Thread: the store handle's.  Errors: see sc_osv.h. */
#include "sc_osv.h"
#include "sc_jsonscan.h"
#include "sc_nvd.h"
#include "sc_store_severity.h"
#include "sc_vulnstore.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sc_cvss.h"

/* ---- normalisation ---------------------------------------------------- */

int sc_osv_normalize_name(const char *eco, const char *name, char *out, size_t cap) {
  if (!name || !out || !cap) return SC_ERR_ARG;
  size_t n = 0, len = strlen(name);
  if (len >= cap) return SC_ERR_LIMIT;
  if (eco && !strcmp(eco, "PyPI")) {
    int sep = 0;
    for (const char *p = name; *p; p++) {
      if (*p == '-' || *p == '_' || *p == '.') {
        sep = 1;
        continue;
      }
      if (sep && n) out[n++] = '-';
      sep = 0;
      out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = 0;
    return 0;
  }
  int lower = eco && (!strcmp(eco, "NuGet") || !strcmp(eco, "Packagist"));
  for (size_t i = 0; i < len; i++) out[i] = lower ? (char)tolower((unsigned char)name[i]) : name[i];
  out[len] = 0;
  return 0;
}

int sc_osv_normalize_ecosystem(const char *eco, char *out, size_t cap) {
  if (!eco || !out || !cap) return SC_ERR_ARG;
  size_t len = strlen(eco);
  if (len >= cap) return SC_ERR_LIMIT;
  memcpy(out, eco, len + 1);
  /* Ubuntu:22.04:LTS and Ubuntu:22.04 name the same release */
  if (!strncmp(out, "Ubuntu:", 7) && len > 11 && !strcmp(out + len - 4, ":LTS")) out[len - 4] = 0;
  return 0;
}

const char *sc_osv_normalize_version(const char *eco, const char *v) {
  if (!v || !eco || strcmp(eco, "Go")) return v;
  if (v[0] == 'v' && isdigit((unsigned char)v[1])) return v + 1;
  if (v[0] == 'g' && v[1] == 'o' && isdigit((unsigned char)v[2])) return v + 2;
  return v;
}

/* ---- one record -------------------------------------------------------- */

typedef struct imp {
  sc_store *st;
  sc_osv_stats s;
  sc_osv_progress_fn progress; /* optional (sc_osv_import_path_ex) */
  void *progress_arg;
  uint64_t docs, bytes;        /* documents and JSON bytes read so far */
  char *buf;                   /* a document's text, reused (import_stream) */
  size_t cap;
} imp;

static const char *jstr_cap(const json_t *o, const char *k, size_t cap) {
  const char *s = json_string_value(json_object_get(o, k));
  return s && *s && strlen(s) < cap ? s : NULL;
}

/* Own severity of a record: CVSS (V3, V4, V2 in that order) else text. */
static int record_severity(const json_t *r, int *sev, double *score) {
  static const char *const pref[] = {"CVSS_V3", "CVSS_V4", "CVSS_V2"};
  const json_t *arr = json_object_get(r, "severity");
  *sev = SC_SEV_UNKNOWN;
  *score = -1;
  if (arr && !json_is_array(arr)) return SC_ERR_FORMAT;
  for (size_t p = 0; p < 3; p++) {
    for (size_t i = 0; i < json_array_size(arr); i++) {
      const json_t *e = json_array_get(arr, i);
      const char *t = json_string_value(json_object_get(e, "type"));
      const char *v = json_string_value(json_object_get(e, "score"));
      double sc;
      sc_severity sv;
      if (!t || !v || strcmp(t, pref[p]) || sc_cvss_score(v, &sc, &sv)) continue;
      *sev = sv;
      *score = sc;
      return 0;
    }
  }
  const char *txt = json_string_value(json_object_get(json_object_get(r, "database_specific"), "severity"));
  *sev = sc_severity_from_text(txt);
  return 0;
}

static const char *event_letter(const char *key) {
  if (!strcmp(key, "introduced")) return "i";
  if (!strcmp(key, "fixed")) return "f";
  if (!strcmp(key, "last_affected")) return "l";
  if (!strcmp(key, "limit")) return "m";
  return NULL;
}

/* ---- JSON text of stored values ------------------------------------------
 * The stored ranges/versions/aliases texts are what json_dumps(JSON_COMPACT)
 * wrote before (the interface of sc_vulnstore.h): built here directly, as
 * building a jansson array only to serialise it cost a tree per affected
 * package.  Escaping as jansson 2.14's dump_string without
 * JSON_ENSURE_ASCII: \" \\ \b \f \n \r \t, other bytes below 0x20 as
 * \u00XX (upper-case hex), every other byte (UTF-8 too) as is. */

typedef struct jtxt {
  char *s;
  size_t n, cap;
  int oom;
} jtxt;

#define JTXT_MIN_BYTES 256 /* first allocation of a text */

static void jt_put(jtxt *t, const char *p, size_t n) {
  if (t->oom) return;
  if (t->n + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : JTXT_MIN_BYTES;
    while (cap < t->n + n + 1) cap *= 2;
    char *ns = realloc(t->s, cap);
    if (!ns) {
      t->oom = 1;
      return;
    }
    t->s = ns;
    t->cap = cap;
  }
  memcpy(t->s + t->n, p, n);
  t->n += n;
  t->s[t->n] = 0;
}

/* a JSON string: quote, prefix (plain ASCII), escaped v, quote */
static void jt_str(jtxt *t, const char *prefix, const char *v) {
  jt_put(t, "\"", 1);
  jt_put(t, prefix, strlen(prefix));
  const char *run = v;
  for (const char *p = v;; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    jt_put(t, run, (size_t)(p - run));
    if (!ch) break;
    char esc[8];
    switch (ch) {
    case '"': jt_put(t, "\\\"", 2); break;
    case '\\': jt_put(t, "\\\\", 2); break;
    case '\b': jt_put(t, "\\b", 2); break;
    case '\f': jt_put(t, "\\f", 2); break;
    case '\n': jt_put(t, "\\n", 2); break;
    case '\r': jt_put(t, "\\r", 2); break;
    case '\t': jt_put(t, "\\t", 2); break;
    default:
      snprintf(esc, sizeof(esc), "\\u%04X", ch);
      jt_put(t, esc, 6);
    }
    run = p + 1;
  }
  jt_put(t, "\"", 1);
}

/* ["a","b"] of n strings; NULL when out of memory */
static char *jt_strings(const char *const *v, size_t n) {
  jtxt t = {0};
  jt_put(&t, "[", 1);
  for (size_t i = 0; i < n; i++) {
    if (i) jt_put(&t, ",", 1);
    jt_str(&t, "", v[i]);
  }
  jt_put(&t, "]", 1);
  if (t.oom) {
    free(t.s);
    return NULL;
  }
  return t.s;
}

/* ranges of one affected entry -> [["E"|"S","i0","f1.2",...],...]; NULL
 * *out when none is usable.  SC_ERR_FORMAT on a structural error. */
static int encode_ranges(const json_t *ranges, char **out) {
  *out = NULL;
  if (!ranges) return 0;
  if (!json_is_array(ranges)) return SC_ERR_FORMAT;
  jtxt t = {0};
  size_t used = 0;
  jt_put(&t, "[", 1);
  for (size_t i = 0; i < json_array_size(ranges); i++) {
    const json_t *r = json_array_get(ranges, i);
    const char *type = json_string_value(json_object_get(r, "type"));
    const json_t *evs = json_object_get(r, "events");
    if (!json_is_object(r) || !type || !json_is_array(evs) || json_array_size(evs) > SC_OSV_MAX_EVENTS)
      goto bad;
    if (strcmp(type, "ECOSYSTEM") && strcmp(type, "SEMVER")) continue; /* GIT: commits, not versions */
    jt_put(&t, used ? ",[" : "[", used ? 2 : 1);
    used++;
    jt_put(&t, type[0] == 'E' ? "\"E\"" : "\"S\"", 3);
    for (size_t k = 0; k < json_array_size(evs); k++) {
      const json_t *e = json_array_get(evs, k);
      const char *key;
      json_t *val;
      if (!json_is_object(e) || json_object_size(e) != 1) goto bad;
      json_object_foreach((json_t *)e, key, val) {
        const char *l = event_letter(key), *v = json_string_value(val);
        if (!l || !v || !*v || strlen(v) > 512) goto bad;
        jt_put(&t, ",", 1);
        jt_str(&t, l, v);
      }
    }
    jt_put(&t, "]", 1);
  }
  jt_put(&t, "]", 1);
  if (t.oom) {
    free(t.s);
    return SC_ERR_NOMEM;
  }
  if (used) *out = t.s;
  else free(t.s);
  return 0;
bad:
  free(t.s);
  return SC_ERR_FORMAT;
}

/* purl "pkg:TYPE/[NS/]NAME[@V]" -> OSV ecosystem and name (npm scope and
 * Maven group kept: "@s/n", "g:a"). */
static int from_purl(const char *purl, char *eco, size_t ecap, char *name, size_t ncap) {
  static const char *const map[][2] = {{"pypi", "PyPI"},     {"npm", "npm"},         {"golang", "Go"},
                                       {"maven", "Maven"},   {"cargo", "crates.io"}, {"gem", "RubyGems"},
                                       {"composer", "Packagist"}, {"nuget", "NuGet"}};
  if (!purl || strncmp(purl, "pkg:", 4)) return -1;
  const char *t = purl + 4, *sl = strchr(t, '/');
  if (!sl) return -1;
  size_t i;
  for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
    if (strlen(map[i][0]) == (size_t)(sl - t) && !strncmp(t, map[i][0], (size_t)(sl - t))) break;
  if (i == sizeof(map) / sizeof(map[0])) return -1;
  snprintf(eco, ecap, "%s", map[i][1]);
  size_t n = 0;
  for (const char *p = sl + 1; *p && *p != '@' && *p != '?' && *p != '#' && n + 1 < ncap; p++) {
    if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
      char hx[3] = {p[1], p[2], 0};
      name[n++] = (char)strtol(hx, NULL, 16);
      p += 2;
    } else {
      name[n++] = (*p == '/' && !strcmp(eco, "Maven")) ? ':' : *p;
    }
  }
  name[n] = 0;
  return n ? 0 : -1;
}

typedef struct aff {
  char eco[SC_OSV_MAX_NAME], name[SC_OSV_MAX_NAME];
  int sev;
  char *ranges, *versions; /* JSON text or NULL */
} aff;

static void affs_free(aff *a, size_t n) {
  for (size_t i = 0; a && i < n; i++) {
    free(a[i].ranges);
    free(a[i].versions);
  }
  free(a);
}

/* Validates and encodes affected[]; *out NULL with *n 0 when none usable. */
static int parse_affected(const json_t *arr, aff **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!arr) return 0;
  if (!json_is_array(arr) || json_array_size(arr) > SC_OSV_MAX_AFFECTED) return SC_ERR_FORMAT;
  aff *v = calloc(json_array_size(arr) + 1, sizeof(*v));
  if (!v) return SC_ERR_NOMEM;
  int rv = 0;
  for (size_t i = 0; i < json_array_size(arr); i++) {
    const json_t *a = json_array_get(arr, i), *pkg = json_object_get(a, "package");
    if (!json_is_object(a) || (pkg && !json_is_object(pkg))) {
      rv = SC_ERR_FORMAT;
      break;
    }
    const char *eco = jstr_cap(pkg, "ecosystem", SC_OSV_MAX_NAME), *name = jstr_cap(pkg, "name", SC_OSV_MAX_NAME);
    char peco[64], pname[SC_OSV_MAX_NAME];
    if ((!eco || !name) && !from_purl(jstr_cap(pkg, "purl", SC_OSV_MAX_NAME), peco, sizeof(peco), pname, sizeof(pname))) {
      eco = peco;
      name = pname;
    }
    if (!eco || !name) continue; /* nothing to match on */
    aff *x = &v[*n];
    if (sc_osv_normalize_ecosystem(eco, x->eco, sizeof(x->eco)) ||
        sc_osv_normalize_name(x->eco, name, x->name, sizeof(x->name)))
      continue;
    char *ranges = NULL;
    if ((rv = encode_ranges(json_object_get(a, "ranges"), &ranges))) break;
    const json_t *vers = json_object_get(a, "versions");
    size_t nv = json_array_size(vers);
    if (vers && (!json_is_array(vers) || nv > SC_OSV_MAX_EVENTS)) {
      free(ranges);
      rv = SC_ERR_FORMAT;
      break;
    }
    const char **vs = nv ? malloc(nv * sizeof(*vs)) : NULL;
    if (nv && !vs) rv = SC_ERR_NOMEM;
    for (size_t k = 0; !rv && k < nv; k++)
      if (!(vs[k] = json_string_value(json_array_get(vers, k)))) rv = SC_ERR_FORMAT;
    if (rv || (!ranges && !nv)) {
      free(ranges);
      free(vs);
      if (rv) break;
      continue;
    }
    x->sev = sc_severity_from_text(
        json_string_value(json_object_get(json_object_get(a, "ecosystem_specific"), "severity")));
    x->ranges = ranges;
    x->versions = nv ? jt_strings(vs, nv) : NULL;
    free(vs);
    (*n)++;
    if (nv && !x->versions) {
      rv = SC_ERR_NOMEM;
      break;
    }
  }
  if (rv) {
    affs_free(v, *n);
    *n = 0;
    return rv;
  }
  *out = v;
  return 0;
}

/* The vendor's own rating of a record, kept beside its score (never its
 * severity): Ubuntu's priority is a severity[] entry of type "Ubuntu",
 * Debian's urgency an affected[].ecosystem_specific.urgency (the first one
 * that says more than "not yet assigned"). */
static void vendor_rating(const json_t *r, const char **kind, const char **rating) {
  const json_t *sev = json_object_get(r, "severity"), *affs = json_object_get(r, "affected");
  *kind = *rating = NULL;
  for (size_t i = 0; i < json_array_size(sev); i++) {
    const json_t *e = json_array_get(sev, i);
    const char *t = json_string_value(json_object_get(e, "type")), *v = jstr_cap(e, "score", SC_OSV_MAX_NAME);
    if (t && v && !strcmp(t, "Ubuntu")) {
      *kind = "Ubuntu priority";
      *rating = v;
      return;
    }
  }
  for (size_t i = 0; i < json_array_size(affs); i++) {
    const json_t *a = json_array_get(affs, i);
    const char *eco = json_string_value(json_object_get(json_object_get(a, "package"), "ecosystem"));
    const char *u = jstr_cap(json_object_get(a, "ecosystem_specific"), "urgency", SC_OSV_MAX_NAME);
    if (!eco || strncmp(eco, "Debian", 6) || !u) continue;
    if (!*rating || !strcmp(*rating, "not yet assigned")) {
      *kind = "Debian urgency";
      *rating = u;
    }
  }
}

/* The record's upstream ids (Debian and Ubuntu name the CVE they derive
 * from there, not in aliases) join its aliases in the store, so that it
 * borrows the CVE's severity; its vendor rating is kept. */
static int put_upstream_and_ratings(sc_store *st, const char *id, const json_t *r) {
  const json_t *up = json_object_get(r, "upstream");
  for (size_t i = 0; i < json_array_size(up) && i < SC_OSV_MAX_EVENTS; i++) {
    const char *u = json_string_value(json_array_get(up, i));
    if (u && *u && strlen(u) < SC_OSV_MAX_NAME && strcmp(u, id) && sc_vulnstore_put_alias(st, id, u)) return SC_ERR_DB;
  }
  const char *kind, *rating;
  vendor_rating(r, &kind, &rating);
  return kind && sc_sev_put_rating(st, id, kind, rating) ? SC_ERR_DB : 0;
}

/* Returns 0 (counted in ctx->s), SC_ERR_FORMAT (malformed, counted by the
 * caller), SC_ERR_NOMEM or SC_ERR_DB (abort the file).  known: the record's
 * sc_vulnstore_state when the caller looked it up already (a record
 * without "withdrawn"), else -1. */
static int import_record(imp *c, const json_t *r, const char *source, int known) {
  if (!json_is_object(r)) return SC_ERR_FORMAT;
  const char *id = jstr_cap(r, "id", SC_OSV_MAX_NAME), *mod = jstr_cap(r, "modified", 64);
  if (!id || !mod) return SC_ERR_FORMAT;
  const json_t *aliases = json_object_get(r, "aliases");
  if (aliases && !json_is_array(aliases) && !json_is_null(aliases)) return SC_ERR_FORMAT;
  const json_t *wd = json_object_get(r, "withdrawn");
  if (json_is_string(wd) && *json_string_value(wd)) {
    int removed = 0;
    if (sc_vulnstore_delete(c->st, id, &removed)) return SC_ERR_DB;
    if (removed) c->s.withdrawn++;
    else c->s.unchanged++;
    return 0;
  }
  /* unchanged: the stored record is as new or newer */
  int exists = known;
  if (known < 0 && sc_vulnstore_state(c->st, id, mod, &exists)) return SC_ERR_DB;
  if (exists == SC_VULN_CURRENT) {
    c->s.unchanged++;
    return 0;
  }
  int sev;
  double score;
  aff *af = NULL;
  size_t naf = 0;
  int rv = record_severity(r, &sev, &score);
  if (!rv) rv = parse_affected(json_object_get(r, "affected"), &af, &naf);
  if (rv) return rv;
  size_t nal = 0;
  const char **al = malloc((json_array_size(aliases) + 1) * sizeof(*al));
  for (size_t i = 0; al && i < json_array_size(aliases); i++) {
    const char *a = json_string_value(json_array_get(aliases, i));
    if (a && *a && strlen(a) < SC_OSV_MAX_NAME && strcmp(a, id)) al[nal++] = a;
  }
  char *altxt = al ? jt_strings(al, nal) : NULL;
  rv = SC_ERR_DB;
  if (!altxt) {
    rv = SC_ERR_NOMEM;
    goto out;
  }
  if (exists && sc_vulnstore_delete(c->st, id, NULL)) goto out;
  if (sc_vulnstore_put_record(c->st, id, mod, altxt, sev, score, source)) goto out;
  for (size_t i = 0; i < nal; i++)
    if (sc_vulnstore_put_alias(c->st, id, al[i])) goto out;
  if (put_upstream_and_ratings(c->st, id, r)) goto out;
  for (size_t i = 0; i < naf; i++)
    if (sc_vulnstore_put_affected(c->st, id, (int64_t)i, af[i].eco, af[i].name, af[i].sev, af[i].ranges,
                                  af[i].versions))
      goto out;
  if (exists) c->s.updated++;
  else c->s.added++;
  rv = 0;
out:
  free(altxt);
  free(al);
  affs_free(af, naf);
  return rv;
}

/* The top-level keys import_record reads: all it needs of a record. */
enum { K_ID, K_MODIFIED, K_ALIASES, K_WITHDRAWN, K_SEVERITY, K_DBSPECIFIC, K_AFFECTED, K_UPSTREAM, K_COUNT };
static const char *const REC_KEYS[K_COUNT] = {"id",       "modified",          "aliases",  "withdrawn",
                                              "severity", "database_specific", "affected", "upstream"};

/* A plain (escape-free) string span of 1..cap-1 bytes into out. */
static int span_str(sc_jspan sp, char *out, size_t cap) {
  const char *s;
  size_t n;
  if (!sc_jsonscan_plain_string(sp, &s, &n) || !n || n >= cap) return 0;
  memcpy(out, s, n);
  out[n] = 0;
  return 1;
}

/* A record that sc_jsonscan vouched for.  An unchanged record (a
 * re-import's common case) is settled from id and modified alone, with the
 * checks import_record makes before its own lookup; any other is imported
 * from a tree of its needed keys only (details, references: never built).
 * *done 0: not handled (a key's value did not parse), parse in full. */
static int import_scanned(imp *c, const sc_jspan *sp, const char *source, int *done) {
  char id[SC_OSV_MAX_NAME], mod[64];
  int state = -1;
  const sc_jspan *al = &sp[K_ALIASES];
  *done = 1;
  if (!sp[K_WITHDRAWN].n && span_str(sp[K_ID], id, sizeof(id)) && span_str(sp[K_MODIFIED], mod, sizeof(mod)) &&
      (!al->n || al->p[0] == '[' || al->p[0] == 'n')) {
    if (sc_vulnstore_state(c->st, id, mod, &state)) return SC_ERR_DB;
    if (state == SC_VULN_CURRENT) {
      c->s.unchanged++;
      return 0;
    }
  }
  json_t *r = json_object();
  if (!r) return SC_ERR_NOMEM;
  for (size_t k = 0; k < K_COUNT; k++) {
    if (!sp[k].n) continue;
    json_t *v = json_loadb(sp[k].p, sp[k].n, JSON_DECODE_ANY, NULL);
    if (!v || json_object_set_new(r, REC_KEYS[k], v)) {
      json_decref(r);
      *done = 0;
      return 0;
    }
  }
  int rv = import_record(c, r, source, state);
  json_decref(r);
  return rv;
}

static int import_doc_inner(imp *c, const char *buf, size_t len, const char *source);

/* One JSON document: a record or an array of records; progress counted. */
static int import_doc(imp *c, const char *buf, size_t len, const char *source) {
  int rv = import_doc_inner(c, buf, len, source);
  c->bytes += len;
  if (c->progress && ++c->docs % SC_OSV_PROGRESS_DOCS == 0) c->progress(c->progress_arg, &c->s, c->bytes);
  return rv;
}

static int import_doc_inner(imp *c, const char *buf, size_t len, const char *source) {
  sc_jspan sp[K_COUNT];
  int rv = 0, done = 0;
  if (sc_jsonscan_object(buf, len, REC_KEYS, K_COUNT, sp)) {
    rv = import_scanned(c, sp, source, &done);
    if (done) {
      if (rv == SC_ERR_FORMAT) {
        c->s.malformed++;
        rv = 0;
      }
      return rv;
    }
  }
  /* an array of records, or text the light scan does not vouch for:
   * jansson decides */
  json_t *doc = json_loadb(buf, len, 0, NULL);
  if (!doc) {
    c->s.malformed++;
    return 0;
  }
  if (json_is_array(doc)) {
    for (size_t i = 0; !rv && i < json_array_size(doc); i++) {
      rv = import_record(c, json_array_get(doc, i), source, -1);
      if (rv == SC_ERR_FORMAT) {
        c->s.malformed++;
        rv = 0;
      }
    }
  } else if ((rv = import_record(c, doc, source, -1)) == SC_ERR_FORMAT) {
    c->s.malformed++;
    rv = 0;
  }
  json_decref(doc);
  return rv;
}

/* ---- transactions ------------------------------------------------------ */

static int imp_begin(imp *c, sc_store *st) {
  memset(c, 0, sizeof(*c));
  c->st = st;
  return sc_vulnstore_import_begin(st);
}

/* Ends the file's transaction: commits what rv == 0 imported (with the
 * borrowed severities, generation and source row), else rolls back. */
static int imp_end(imp *c, int rv, const char *source, sc_osv_stats *stats) {
  int changed = c->s.added || c->s.updated || c->s.withdrawn;
  if (!rv) {
    sc_vulnsource src = {source, 0, c->s.added, c->s.updated, c->s.unchanged, c->s.withdrawn, c->s.malformed};
    rv = sc_vulnstore_finish_import(c->st, &src, changed);
  }
  free(c->buf);
  c->buf = NULL;
  if (sc_store_write_end(c->st, !rv) && !rv) rv = SC_ERR_DB;
  if (rv) return rv;
  if (stats) {
    stats->added += c->s.added;
    stats->updated += c->s.updated;
    stats->unchanged += c->s.unchanged;
    stats->withdrawn += c->s.withdrawn;
    stats->malformed += c->s.malformed;
    stats->scores += c->s.scores;
  }
  return 0;
}

int sc_osv_import_buffer(sc_store *st, const char *source, const char *json, size_t len,
                         sc_osv_stats *stats) {
  if (!st || !source || !json) return SC_ERR_ARG;
  if (len > SC_OSV_MAX_RECORD) return SC_ERR_LIMIT;
  imp c;
  int rv = imp_begin(&c, st);
  if (!rv) rv = import_doc(&c, json, len, source);
  return imp_end(&c, rv, source, stats);
}

/* ---- files -------------------------------------------------------------- */

/* Read size of a zip file: libarchive's reads of 64 KiB made a pread per
 * ~64 KiB of a 200 MB export. */
#define SC_OSV_ZIP_BLOCK_BYTES (1u << 20)

static int ends_json(const char *name) {
  size_t n = strlen(name);
  return n > 5 && !strcasecmp(name + n - 5, ".json");
}


/* ---- streams: one OSV document, or an NVD CVE feed --------------------- */

static int rd_fd(void *arg, char *buf, size_t cap, size_t *got) {
  ssize_t r;
  do r = read(*(int *)arg, buf, cap);
  while (r < 0 && errno == EINTR);
  if (r < 0) return SC_ERR_IO;
  *got = (size_t)r;
  return 0;
}

/* a read error of an archive (corrupt, cut short) is a format error: the
 * whole file is refused */
static int rd_archive(void *arg, char *buf, size_t cap, size_t *got) {
  la_ssize_t r = archive_read_data(arg, buf, cap);
  if (r < 0) return SC_ERR_FORMAT;
  *got = (size_t)r;
  return 0;
}

/* An NVD feed being read: its reader (bytes counted for progress) and the
 * import it writes into. */
typedef struct feed {
  imp *c;
  const char *source;
  sc_nvd_read_fn rd;
  void *rarg;
} feed;

static int rd_feed(void *arg, char *buf, size_t cap, size_t *got) {
  feed *f = arg;
  int rv = f->rd(f->rarg, buf, cap, got);
  if (!rv) f->c->bytes += *got;
  return rv;
}

/* One CVE of a feed: its score stored (or dropped when the feed has no
 * usable metric for it any more), counted like a record. */
static int on_cve(void *arg, const sc_nvd_cve *cv) {
  feed *f = arg;
  imp *c = f->c;
  int rv;
  if (cv->score < 0) {
    int removed = 0;
    if ((rv = sc_sev_del_cve_score(c->st, cv->id, &removed))) return rv;
    if (removed) c->s.withdrawn++;
    else c->s.unchanged++;
  } else {
    sc_cve_score s = {cv->id, cv->vector[0] ? cv->vector : NULL, cv->score, cv->severity,
                      cv->scored_by[0] ? cv->scored_by : NULL};
    int out;
    if ((rv = sc_sev_put_cve_score(c->st, &s, f->source, &out))) return rv;
    if (out == SC_SEV_PUT_ADDED) c->s.added++;
    else if (out == SC_SEV_PUT_UPDATED) c->s.updated++;
    else c->s.unchanged++;
    c->s.scores++;
  }
  if (c->progress && ++c->docs % SC_OSV_PROGRESS_DOCS == 0) c->progress(c->progress_arg, &c->s, c->bytes);
  return 0;
}

/* Reads a document from rd: an NVD feed (told by its first bytes) is
 * streamed into CVE scores, anything else is one OSV document of at most
 * SC_OSV_MAX_RECORD bytes (size: its size when known, else -1; a bigger one
 * is counted malformed). */
static int import_stream(imp *c, sc_nvd_read_fn rd, void *rarg, int64_t size, const char *source) {
  size_t n = 0;
  if (!c->buf) {
    if (!(c->buf = malloc(1 << 16))) return SC_ERR_NOMEM;
    c->cap = 1 << 16;
  }
  while (n < SC_NVD_SNIFF_BYTES) {
    size_t got = 0;
    int rv = rd(rarg, c->buf + n, SC_NVD_SNIFF_BYTES - n, &got);
    if (rv) return rv;
    if (!got) break;
    n += got;
  }
  if (sc_nvd_sniff(c->buf, n)) {
    feed f = {c, source, rd, rarg};
    c->bytes += n;
    return sc_nvd_parse(c->buf, n, rd_feed, &f, on_cve, &f, &c->s.malformed);
  }
  if (size > (int64_t)SC_OSV_MAX_RECORD) {
    c->s.malformed++; /* over the cap: skipped unread */
    return 0;
  }
  for (;;) {
    if (n + 4096 > c->cap) {
      if (c->cap > SC_OSV_MAX_RECORD) {
        c->s.malformed++;
        return 0;
      }
      char *nb = realloc(c->buf, c->cap * 2);
      if (!nb) return SC_ERR_NOMEM;
      c->buf = nb;
      c->cap *= 2;
    }
    size_t got = 0;
    int rv = rd(rarg, c->buf + n, c->cap - n - 1, &got);
    if (rv) return rv;
    if (!got) break;
    n += got;
  }
  if (n > SC_OSV_MAX_RECORD) {
    c->s.malformed++;
    return 0;
  }
  return import_doc(c, c->buf, n, source);
}

static int import_zip(imp *c, const char *path, const char *source) {
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  if (!a) return SC_ERR_NOMEM;
  /* Seekable only: the central directory at the end must be there.  The
   * streaming reader (which format_zip falls back to) takes a zip cut short
   * by a stopped download as whole, and a partial import could drop
   * records or withdrawals. */
  archive_read_support_format_zip_seekable(a);
  int rv = 0;
  if (archive_read_open_filename(a, path, SC_OSV_ZIP_BLOCK_BYTES) != ARCHIVE_OK) {
    archive_read_free(a);
    return SC_ERR_FORMAT;
  }
  while (!rv) {
    int h = archive_read_next_header(a, &e);
    if (h == ARCHIVE_EOF) break;
    if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
      rv = SC_ERR_FORMAT;
      break;
    }
    if (archive_entry_filetype(e) != AE_IFREG || !ends_json(archive_entry_pathname(e) ? archive_entry_pathname(e) : ""))
      continue;
    /* an OSV record over the cap is skipped after its first bytes; an NVD
     * feed (nvdcve-2.0-2024.json.zip) is one big entry, read as a stream */
    rv = import_stream(c, rd_archive, a, archive_entry_size_is_set(e) ? (int64_t)archive_entry_size(e) : -1, source);
  }
  archive_read_free(a);
  return rv;
}

/* A gzip-compressed document (an NVD feed as NVD publishes it, .json.gz):
 * decompressed as it is read.  A stream cut short is refused whole. */
static int import_gzip(imp *c, const char *path) {
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  if (!a) return SC_ERR_NOMEM;
  archive_read_support_filter_gzip(a);
  archive_read_support_format_raw(a);
  int rv = SC_ERR_FORMAT;
  if (archive_read_open_filename(a, path, SC_OSV_ZIP_BLOCK_BYTES) == ARCHIVE_OK &&
      archive_read_next_header(a, &e) == ARCHIVE_OK)
    rv = import_stream(c, rd_archive, a, -1, path);
  archive_read_free(a);
  return rv;
}

static int import_file(imp *c, const char *path) {
  unsigned char magic[4] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SC_ERR_IO;
  ssize_t got = read(fd, magic, sizeof(magic));
  struct stat sb;
  if (got < 0 || fstat(fd, &sb) || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return SC_ERR_IO;
  }
  if (got == 4 && magic[0] == 'P' && magic[1] == 'K' && (magic[2] == 3 || magic[2] == 5)) {
    close(fd);
    return import_zip(c, path, path);
  }
  if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    close(fd);
    return import_gzip(c, path);
  }
  int rv = import_stream(c, rd_fd, &fd, (int64_t)sb.st_size, path);
  close(fd);
  return rv;
}

/* *.json below dir, recursively; symlinks are not followed. */
static int import_dir(imp *c, const char *dir, int depth) {
  if (depth > SC_OSV_MAX_DEPTH) return SC_ERR_LIMIT;
  DIR *d = opendir(dir);
  if (!d) return SC_ERR_IO;
  struct dirent *de;
  int rv = 0;
  while (!rv && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char p[4096];
    if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p)) continue;
    struct stat sb;
    if (lstat(p, &sb)) continue;
    if (S_ISDIR(sb.st_mode)) rv = import_dir(c, p, depth + 1);
    else if (S_ISREG(sb.st_mode) && ends_json(de->d_name)) rv = import_file(c, p);
  }
  closedir(d);
  return rv;
}

/* Imports path, recorded in vuln_sources as name. */
static int import_path(sc_store *st, const char *path, const char *name, sc_osv_stats *stats, sc_osv_progress_fn fn,
                       void *arg) {
  if (!st || !path || !name) return SC_ERR_ARG;
  struct stat sb;
  if (stat(path, &sb)) return SC_ERR_IO;
  imp c;
  int rv = imp_begin(&c, st);
  c.progress = fn;
  c.progress_arg = arg;
  if (!rv) rv = S_ISDIR(sb.st_mode) ? import_dir(&c, path, 0) : import_file(&c, path);
  return imp_end(&c, rv, name, stats);
}

int sc_osv_import_path(sc_store *st, const char *path, sc_osv_stats *stats) {
  return import_path(st, path, path, stats, NULL, NULL);
}

int sc_osv_import_path_ex(sc_store *st, const char *path, sc_osv_stats *stats, sc_osv_progress_fn fn, void *arg) {
  return import_path(st, path, path, stats, fn, arg);
}

int sc_osv_import_source(sc_store *st, const char *path, const char *name, sc_osv_stats *stats) {
  return import_path(st, path, name ? name : path, stats, NULL, NULL);
}
