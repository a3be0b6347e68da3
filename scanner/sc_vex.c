/* sc_vex.c - OpenVEX documents: read (jansson, duplicate keys rejected),
 * validated against the v0.2.0 field names, and the product side of
 * matching (image digest, package URL).  See sc_vex.h for the rules.
 * Owner: scanner/policy.  Thread: parsing is per call; a document is
 * read-only afterwards.  Errors: SC_ERR_FORMAT (reason in err), SC_ERR_IO,
 * SC_ERR_LIMIT, SC_ERR_NOMEM, SC_ERR_ARG. */
#include "sc_vex.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc_err.h"
#include "sc_file.h"
#include "sc_time.h"

#define VEX_CONTEXT_PREFIX "https://openvex.dev/ns" /* every OpenVEX version's @context */
#define VEX_DIGEST_HEX 64                           /* sha256 */

static const char *const status_names[] = {"not_affected", "affected", "fixed", "under_investigation"};
static const char *const justifications[] = {
    "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist"};

const char *sc_vex_status_name(sc_vex_status s) {
  return (unsigned)s < 4 ? status_names[s] : "?";
}

/* ------------------------------------------------------------------ purl */

void sc_purl_free(sc_purl *p) {
  if (!p) return;
  free(p->type);
  free(p->ns);
  free(p->name);
  free(p->version);
  memset(p, 0, sizeof(*p));
}

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decoded copy of s[0..n), or NULL (no memory, bad escape, NUL). */
static char *pct_dup(const char *s, size_t n) {
  char *o = malloc(n + 1), *w = o;
  if (!o) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int h = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
      int l = h >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
      if (h < 0 || l < 0 || (h == 0 && l == 0)) {
        free(o);
        return NULL;
      }
      *w++ = (char)(h * 16 + l);
      i += 2;
    } else {
      *w++ = s[i];
    }
  }
  *w = '\0';
  return o;
}

int sc_purl_parse(const char *s, sc_purl *out) {
  memset(out, 0, sizeof(*out));
  if (!s || strncasecmp(s, "pkg:", 4)) return -1;
  s += 4;
  while (*s == '/') s++;
  size_t end = strcspn(s, "?#"); /* qualifiers and subpath do not name the package */
  const char *slash = memchr(s, '/', end);
  if (!slash || slash == s) return -1;
  const char *rest = slash + 1, *stop = s + end;
  const char *at = NULL;
  for (const char *q = rest; q < stop; q++)
    if (*q == '@') at = q; /* the version follows the last '@' (a name's '@' is %40) */
  const char *nend = at ? at : stop;
  while (nend > rest && nend[-1] == '/') nend--;
  const char *last = nend;
  while (last > rest && last[-1] != '/') last--;
  if (last == nend) return -1;
  if (!(out->type = strndup(s, (size_t)(slash - s)))) goto bad;
  for (char *t = out->type; *t; t++) *t = (char)tolower((unsigned char)*t);
  if (last > rest && !(out->ns = pct_dup(rest, (size_t)(last - 1 - rest)))) goto bad;
  if (!(out->name = pct_dup(last, (size_t)(nend - last)))) goto bad;
  if (at && at + 1 < stop && !(out->version = pct_dup(at + 1, (size_t)(stop - at - 1)))) goto bad;
  if (!out->name[0]) goto bad;
  return 0;
bad:
  sc_purl_free(out);
  return -1;
}

/* purl type -> OSV ecosystem family (the part of "Debian:12" before ':'). */
static const struct {
  const char *type, *eco;
} purl_ecos[] = {{"deb", "Debian"},     {"deb", "Ubuntu"},        {"apk", "Alpine"},    {"apk", "Wolfi"},
                 {"apk", "Chainguard"}, {"rpm", "Red Hat"},       {"rpm", "Rocky Linux"}, {"rpm", "AlmaLinux"},
                 {"rpm", "SUSE"},       {"rpm", "openSUSE"},      {"rpm", "Photon OS"}, {"rpm", "Mageia"},
                 {"pypi", "PyPI"},      {"npm", "npm"},           {"golang", "Go"},     {"maven", "Maven"},
                 {"gem", "RubyGems"},   {"cargo", "crates.io"},   {"nuget", "NuGet"},   {"composer", "Packagist"},
                 {"hex", "Hex"},        {"pub", "Pub"},           {"swift", "SwiftURL"}, {"cran", "CRAN"},
                 {"hackage", "Hackage"}};

/* Lower-cased letters and digits of s[0..n) (for "Rocky Linux" ~ "rocky"). */
static void squash(const char *s, size_t n, char *out, size_t cap) {
  size_t w = 0;
  for (size_t i = 0; i < n && s[i] && w + 1 < cap; i++)
    if (isalnum((unsigned char)s[i])) out[w++] = (char)tolower((unsigned char)s[i]);
  out[w] = '\0';
}

/* PyPI names compare after PEP 503 normalisation: case, '-', '_' and '.'. */
static int pypi_eq(const char *a, const char *b) {
  for (;; a++, b++) {
    int ca = *a == '_' || *a == '.' ? '-' : tolower((unsigned char)*a);
    int cb = *b == '_' || *b == '.' ? '-' : tolower((unsigned char)*b);
    if (ca != cb) return 0;
    if (!ca) return 1;
  }
}

int sc_purl_matches_finding(const sc_purl *p, const sc_finding *fd) {
  char fam[64], ns[64], full[1024];
  const char *eco = fd->ecosystem ? fd->ecosystem : "";
  size_t famlen = strcspn(eco, ":");
  int known = 0;
  if (!p || !p->name || !fd->package) return 0;
  for (size_t i = 0; i < sizeof(purl_ecos) / sizeof(purl_ecos[0]); i++)
    if (!strcmp(p->type, purl_ecos[i].type) && strlen(purl_ecos[i].eco) == famlen &&
        !strncasecmp(eco, purl_ecos[i].eco, famlen))
      known = 1;
  if (!known) return 0;
  int os = !strcmp(p->type, "deb") || !strcmp(p->type, "apk") || !strcmp(p->type, "rpm");
  if (os || !p->ns) {
    /* OS purls: the namespace is the distribution ("debian", "rocky"), a
     * prefix of the squashed ecosystem family either way round. */
    if (os && p->ns) {
      squash(eco, famlen, fam, sizeof(fam));
      squash(p->ns, strlen(p->ns), ns, sizeof(ns));
      if (strncmp(fam, ns, strlen(ns)) && strncmp(ns, fam, strlen(fam))) return 0;
    }
    snprintf(full, sizeof(full), "%s", p->name);
  } else {
    /* the namespace is part of the ecosystem's package name */
    snprintf(full, sizeof(full), "%s%s%s", p->ns, !strcmp(p->type, "maven") ? ":" : "/", p->name);
  }
  if (!strcmp(p->type, "pypi") ? !pypi_eq(full, fd->package)
      : !strcmp(p->type, "golang") || !strcmp(p->type, "maven") || !strcmp(p->type, "composer") ||
              !strcmp(p->type, "npm") || !strcmp(p->type, "deb") || !strcmp(p->type, "apk")
          ? strcasecmp(full, fd->package) != 0
          : strcmp(full, fd->package) != 0)
    return 0;
  return !p->version || (fd->version && !strcmp(p->version, fd->version));
}

/* ------------------------------------------------------------ documents */

static void stmt_free(sc_vex_stmt *s) {
  for (size_t i = 0; i < s->nvulns; i++) free(s->vulns[i]);
  free(s->vulns);
  for (size_t i = 0; i < s->nproducts; i++) {
    sc_vex_product *p = &s->products[i];
    free(p->id);
    free(p->digest);
    sc_purl_free(&p->purl);
    for (size_t k = 0; k < p->nsubs; k++) sc_purl_free(&p->subs[k]);
    free(p->subs);
  }
  free(s->products);
  free(s->justification);
  free(s->impact);
  free(s->action);
}

void sc_vex_doc_free(sc_vex_doc *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nstmts; i++) stmt_free(&d->stmts[i]);
  free(d->stmts);
  free(d->name);
  free(d->id);
  free(d);
}

typedef struct pctx {
  char *err;
  size_t errcap;
  int nomem;
} pctx;

__attribute__((format(printf, 2, 3))) static int fail(pctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errcap, fmt, ap);
  va_end(ap);
  return -1;
}

static char *dup_or_oom(pctx *c, const char *s) {
  char *d = s ? strdup(s) : NULL;
  if (s && !d) c->nomem = 1;
  return d;
}

/* An optional string member: 0 (absent or a string), -1 wrong type. */
static int opt_str(pctx *c, json_t *o, const char *key, const char *where, const char **out) {
  json_t *v = json_object_get(o, key);
  *out = NULL;
  if (!v) return 0;
  if (!json_is_string(v)) return fail(c, "%s: \"%s\" must be a string", where, key);
  *out = json_string_value(v);
  return 0;
}

static int add_vuln(pctx *c, sc_vex_stmt *s, const char *id) {
  if (!id || !id[0]) return 0;
  for (size_t i = 0; i < s->nvulns; i++)
    if (!strcasecmp(s->vulns[i], id)) return 0;
  char **t = realloc(s->vulns, (s->nvulns + 1) * sizeof(*t));
  if (!t) return c->nomem = 1, -1;
  s->vulns = t;
  if (!(t[s->nvulns] = dup_or_oom(c, id))) return -1;
  s->nvulns++;
  return 0;
}

/* "vulnerability": {"name", "@id", "aliases"} (or a bare string, v0.0.x). */
static int parse_vuln(pctx *c, json_t *v, sc_vex_stmt *s, const char *where) {
  const char *name, *id;
  json_t *al, *a;
  size_t i;
  if (json_is_string(v)) return add_vuln(c, s, json_string_value(v));
  if (!json_is_object(v)) return fail(c, "%s: \"vulnerability\" must be an object", where);
  if (opt_str(c, v, "name", where, &name) || opt_str(c, v, "@id", where, &id)) return -1;
  if (add_vuln(c, s, name) || add_vuln(c, s, id)) return -1;
  if ((al = json_object_get(v, "aliases")) && !json_is_array(al))
    return fail(c, "%s: vulnerability \"aliases\" must be a list", where);
  json_array_foreach(al, i, a) {
    if (!json_is_string(a)) return fail(c, "%s: vulnerability alias #%zu is not a string", where, i + 1);
    if (add_vuln(c, s, json_string_value(a))) return -1;
  }
  if (!s->nvulns) return fail(c, "%s: the vulnerability has no name", where);
  return 0;
}

/* "sha256:HEX" from s (bare, or after "sha256:"), lower-cased; NULL not one. */
static char *digest_of(pctx *c, const char *s) {
  if (strncasecmp(s, "sha256:", 7) == 0) s += 7;
  if (strlen(s) != VEX_DIGEST_HEX || strspn(s, "0123456789abcdefABCDEF") != VEX_DIGEST_HEX) return NULL;
  char *d = malloc(7 + VEX_DIGEST_HEX + 1);
  if (!d) return c->nomem = 1, NULL;
  memcpy(d, "sha256:", 7);
  for (size_t i = 0; i <= VEX_DIGEST_HEX; i++) d[7 + i] = (char)tolower((unsigned char)s[i]);
  return d;
}

/* One product or subcomponent: its id (string, or object with "@id",
 * "identifiers": {"purl"}, "hashes": {"sha-256"}).  Fills digest/purl. */
static int parse_component(pctx *c, json_t *v, const char *where, const char **id, char **digest, sc_purl *purl,
                           int *has_purl) {
  const char *purl_s = NULL, *hash = NULL;
  json_t *o;
  *id = NULL;
  *digest = NULL;
  *has_purl = 0;
  if (json_is_string(v)) {
    *id = json_string_value(v);
  } else if (json_is_object(v)) {
    if (opt_str(c, v, "@id", where, id)) return -1;
    if ((o = json_object_get(v, "identifiers")) && json_is_object(o) && opt_str(c, o, "purl", where, &purl_s))
      return -1;
    if ((o = json_object_get(v, "hashes")) && json_is_object(o) && opt_str(c, o, "sha-256", where, &hash))
      return -1;
  } else {
    return fail(c, "%s: a product must be an object", where);
  }
  if (!*id && !purl_s && !hash) return fail(c, "%s: a product has no \"@id\", identifiers or hashes", where);
  if (*id && !strncasecmp(*id, "pkg:", 4)) {
    if (sc_purl_parse(*id, purl) != 0) return fail(c, "%s: bad package URL '%s'", where, *id);
    *has_purl = 1;
  }
  if (!*has_purl && purl_s && sc_purl_parse(purl_s, purl) == 0) *has_purl = 1;
  else if (!*has_purl && purl_s) return fail(c, "%s: bad package URL '%s'", where, purl_s);
  if (*has_purl && !strcmp(purl->type, "oci")) {
    /* an image: its version is the manifest digest */
    if (purl->version) *digest = digest_of(c, purl->version);
    sc_purl_free(purl);
    *has_purl = 0;
  } else if (!*has_purl && *id) {
    *digest = digest_of(c, *id);
  }
  if (!*digest && hash) *digest = digest_of(c, hash);
  if (!*id) *id = purl_s ? purl_s : hash;
  return c->nomem ? -1 : 0;
}

static int parse_product(pctx *c, json_t *v, sc_vex_product *p, const char *where) {
  const char *id;
  json_t *subs, *sv;
  size_t i;
  if (parse_component(c, v, where, &id, &p->digest, &p->purl, &p->has_purl)) return -1;
  if (!(p->id = dup_or_oom(c, id))) return -1;
  if (!json_is_object(v) || !(subs = json_object_get(v, "subcomponents"))) return 0;
  if (!json_is_array(subs)) return fail(c, "%s: \"subcomponents\" must be a list", where);
  if (!(p->subs = calloc(json_array_size(subs) + 1, sizeof(sc_purl)))) return c->nomem = 1, -1;
  json_array_foreach(subs, i, sv) {
    char *dg = NULL;
    int has = 0;
    if (parse_component(c, sv, where, &id, &dg, &p->subs[p->nsubs], &has)) return -1;
    free(dg); /* an image inside an image names no package */
    if (has) p->nsubs++;
  }
  return 0;
}

static int parse_stmt(pctx *c, json_t *o, sc_vex_stmt *s, size_t idx) {
  char where[48];
  const char *st, *just, *impact, *action, *expires;
  json_t *prods, *pv;
  size_t i;
  snprintf(where, sizeof(where), "statement #%zu", idx + 1);
  if (!json_is_object(o)) return fail(c, "%s must be an object", where);
  if (!json_object_get(o, "vulnerability")) return fail(c, "%s has no \"vulnerability\"", where);
  if (parse_vuln(c, json_object_get(o, "vulnerability"), s, where)) return -1;
  if (opt_str(c, o, "status", where, &st)) return -1;
  if (!st) return fail(c, "%s has no \"status\"", where);
  for (i = 0; i < 4 && strcmp(st, status_names[i]); i++) {}
  if (i == 4)
    return fail(c, "%s: unknown status '%s' (not_affected, affected, fixed, under_investigation)", where, st);
  s->status = (sc_vex_status)i;
  if (opt_str(c, o, "justification", where, &just) || opt_str(c, o, "impact_statement", where, &impact) ||
      opt_str(c, o, "action_statement", where, &action) || opt_str(c, o, "expires", where, &expires))
    return -1;
  if (just) {
    for (i = 0; i < 5 && strcmp(just, justifications[i]); i++) {}
    if (i == 5) return fail(c, "%s: unknown justification '%s'", where, just);
  }
  if (s->status == SC_VEX_NOT_AFFECTED && !just && !impact)
    return fail(c, "%s: not_affected needs a justification or an impact_statement", where);
  s->justification = dup_or_oom(c, just);
  s->impact = dup_or_oom(c, impact);
  s->action = dup_or_oom(c, action);
  if (expires) {
    if ((s->expires_day = sc_day_parse(expires)) < 0)
      return fail(c, "%s: bad date '%s' for expires (expected YYYY-MM-DD)", where, expires);
    s->has_expires = 1;
  }
  prods = json_object_get(o, "products");
  if (!json_is_array(prods) || !json_array_size(prods))
    return fail(c, "%s: \"products\" must be a non-empty list", where);
  if (!(s->products = calloc(json_array_size(prods), sizeof(sc_vex_product)))) return c->nomem = 1, -1;
  json_array_foreach(prods, i, pv) {
    s->nproducts++; /* owned from here, freed with the statement */
    if (parse_product(c, pv, &s->products[i], where)) return -1;
  }
  return c->nomem ? -1 : 0;
}

int sc_vex_parse(const char *name, const char *json, size_t len, sc_vex_doc **out, char *err, size_t errcap) {
  pctx c = {err, errcap, 0};
  json_error_t je;
  json_t *root = NULL, *stmts, *so;
  const char *ctx, *id;
  sc_vex_doc *d = NULL;
  size_t i;
  int rc = SC_ERR_FORMAT;
  if (!out || !err || !errcap || (!json && len)) return SC_ERR_ARG;
  *out = NULL;
  err[0] = '\0';
  if (len > SC_VEX_MAX_BYTES) {
    fail(&c, "larger than %d bytes", SC_VEX_MAX_BYTES);
    return SC_ERR_LIMIT;
  }
  if (!(root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je))) {
    fail(&c, "not valid JSON: line %d column %d: %s", je.line, je.column, je.text);
    return SC_ERR_FORMAT;
  }
  if (!json_is_object(root)) {
    fail(&c, "not an OpenVEX document (expected a JSON object)");
    goto done;
  }
  if (opt_str(&c, root, "@context", "the document", &ctx) || opt_str(&c, root, "@id", "the document", &id)) goto done;
  if (!ctx || strncmp(ctx, VEX_CONTEXT_PREFIX, strlen(VEX_CONTEXT_PREFIX))) {
    fail(&c, "not an OpenVEX document (\"@context\" is not %s/...)", VEX_CONTEXT_PREFIX);
    goto done;
  }
  stmts = json_object_get(root, "statements");
  if (!json_is_array(stmts)) {
    fail(&c, "\"statements\" must be a list");
    goto done;
  }
  if (json_array_size(stmts) > SC_VEX_MAX_STATEMENTS) {
    fail(&c, "more than %d statements", SC_VEX_MAX_STATEMENTS);
    rc = SC_ERR_LIMIT;
    goto done;
  }
  if (!(d = calloc(1, sizeof(*d))) || !(d->name = strdup(name ? name : "vex")) ||
      !(d->stmts = calloc(json_array_size(stmts) + 1, sizeof(sc_vex_stmt)))) {
    c.nomem = 1;
    goto done;
  }
  d->id = dup_or_oom(&c, id);
  json_array_foreach(stmts, i, so) {
    d->nstmts++;
    if (parse_stmt(&c, so, &d->stmts[i], i)) goto done;
  }
  if (!c.nomem) {
    *out = d;
    d = NULL;
    rc = 0;
  }
done:
  if (c.nomem) {
    rc = SC_ERR_NOMEM;
    fail(&c, "out of memory");
  }
  sc_vex_doc_free(d);
  json_decref(root);
  return rc;
}

int sc_vex_load(const char *path, const char *name, sc_vex_doc **out, char *err, size_t errcap) {
  char ebuf[128], *buf = NULL;
  size_t len = 0;
  if (!path || !out || !err || !errcap) return SC_ERR_ARG;
  *out = NULL;
  errno = 0;
  int rc = sc_read_file(path, SC_VEX_MAX_BYTES, &buf, &len);
  if (rc == SC_ERR_IO)
    snprintf(err, errcap, "cannot read: %s", errno ? strerror_r(errno, ebuf, sizeof(ebuf)) : "not a regular file");
  else if (rc == SC_ERR_LIMIT)
    snprintf(err, errcap, "larger than %d bytes", SC_VEX_MAX_BYTES);
  else if (rc == 0)
    rc = sc_vex_parse(name ? name : path, buf, len, out, err, errcap);
  free(buf);
  return rc;
}

/* ------------------------------------------------------------- matching */

int sc_vex_stmt_covers(const sc_vex_stmt *s, const char *image_digest, const sc_finding *fd, const char **product) {
  for (size_t i = 0; i < s->nproducts; i++) {
    const sc_vex_product *p = &s->products[i];
    int image = p->digest && image_digest && !strcasecmp(p->digest, image_digest);
    int pkg = p->has_purl && sc_purl_matches_finding(&p->purl, fd);
    int hit = 0;
    if (!image && !pkg) continue;
    if (!p->nsubs) hit = 1;
    for (size_t k = 0; k < p->nsubs && !hit; k++) hit = sc_purl_matches_finding(&p->subs[k], fd);
    if (hit) {
      if (product) *product = p->id;
      return 1;
    }
  }
  return 0;
}
