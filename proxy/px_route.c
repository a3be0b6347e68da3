/* px_route.c - request target decoding, normalisation and registry route
 * classification (see px_route.h for the decisions and why). */
#include "px_route.h"
#include "px_headers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static int ascii_alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+ */
int px_valid_repo(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 255) return 0;
  const char *p = s;
  for (;;) {
    if (!lower_alnum(*p)) return 0;
    while (lower_alnum(*p)) p++;
    while (*p == '.' || *p == '_' || *p == '-') {
      if (*p == '.') p++;
      else if (*p == '_') { p++; if (*p == '_') p++; }
      else while (*p == '-') p++;
      if (!lower_alnum(*p)) return 0;
      while (lower_alnum(*p)) p++;
    }
    if (*p == 0) return 1;
    if (*p != '/') return 0;
    p++;
  }
}

/* Go's \w is ASCII only: [0-9A-Za-z_] (isalnum would follow the locale). */
int px_valid_tag(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128) return 0;
  if (!(ascii_alnum(s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++)
    if (!(ascii_alnum(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-')) return 0;
  return 1;
}

int px_valid_digest(const char *s) {
  const char *colon = strchr(s, ':');
  if (!colon || colon == s || strlen(colon + 1) < 32 || strlen(s) > 150) return 0;
  for (const char *p = s; p < colon; p++)
    if (!(lower_alnum(*p) || *p == '+' || *p == '.' || *p == '_' || *p == '-')) return 0;
  for (const char *p = colon + 1; *p; p++)
    if (!(ascii_alnum(*p) || *p == '=' || *p == '_' || *p == '-')) return 0;
  if (strncmp(s, "sha256:", 7) == 0) {
    if (strlen(s) != 7 + 64) return 0;
    for (const char *p = s + 7; *p; p++)
      if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  }
  return 1;
}

static int valid_upload_id(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!(ascii_alnum(*s) || *s == '-' || *s == '_' || *s == '.' || *s == '=')) return 0;
  return 1;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int px_path_unescape(const char *s, size_t n, char *out, size_t *outlen) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) return SC_ERR_INVALID;
      out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = 0;
  *outlen = o;
  return 0;
}

/* Go's path.Clean for a rooted path (the lexical rules: drop empty and "."
 * elements, ".." removes the previous element and cannot climb above "/"),
 * then mux's cleanPath puts a trailing slash back. */
void px_path_clean(const char *p, char *out) {
  size_t n = strlen(p), r = 0, w = 1;
  if (n == 0 || p[0] != '/') {
    /* mux prefixes "/" to a relative path */
    char *tmp = malloc(n + 2);
    if (!tmp) { strcpy(out, "/"); return; }
    tmp[0] = '/';
    memcpy(tmp + 1, p, n + 1);
    px_path_clean(tmp, out);
    free(tmp);
    return;
  }
  out[0] = '/';
  r = 1;
  while (r < n) {
    if (p[r] == '/') {
      r++;
    } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
      r++;
    } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
      r += 2;
      if (w > 1) {
        w--;
        while (w > 1 && out[w] != '/') w--;
      }
    } else {
      if (w != 1) out[w++] = '/';
      while (r < n && p[r] != '/') out[w++] = p[r++];
    }
  }
  if (p[n - 1] == '/' && w != 1) out[w++] = '/';
  out[w] = 0;
}

/* Go's url.QueryUnescape of n bytes into out (cap bytes); -1 on a bad escape. */
static int query_unescape(const char *s, size_t n, char *out, size_t cap, size_t *outlen) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (c == '%') {
      if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) return -1;
      c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (o + 1 < cap) out[o] = (char)c;
    o++;
  }
  if (cap) out[o < cap ? o : cap - 1] = 0;
  *outlen = o;
  return 0;
}

/* Value of query parameter `name` as Go's URL.Query().Get / FormValue sees
 * it: the first pair whose unescaped key is `name`; pairs holding ';' or a
 * bad escape are skipped as Go skips them.  A value that does not fit, or
 * holds a control byte, is dropped (left empty). */
static void query_param(const char *q, const char *name, char *out, size_t cap) {
  out[0] = 0;
  while (q && *q) {
    const char *e = strchr(q, '&');
    size_t len = e ? (size_t)(e - q) : strlen(q);
    const char *eq = memchr(q, '=', len);
    size_t kl = eq ? (size_t)(eq - q) : len;
    char key[64];
    size_t klen, vlen;
    if (!memchr(q, ';', len) && kl < sizeof(key) && query_unescape(q, kl, key, sizeof(key), &klen) == 0 &&
        klen == strlen(name) && !memcmp(key, name, klen)) {
      const char *v = eq ? eq + 1 : q + len;
      size_t vl = eq ? len - kl - 1 : 0;
      if (query_unescape(v, vl, out, cap, &vlen) == 0) {
        int bad = vlen >= cap;
        for (size_t i = 0; !bad && i < vlen; i++)
          if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) bad = 1;
        if (bad) out[0] = 0;
        return;
      }
    }
    q = e ? e + 1 : NULL;
  }
}

/* Splits rest at the LAST occurrence of marker: the parts after a marker
 * never hold '/', so the registry's regexps can only split there too. */
static int suffix_split(const char *rest, const char *marker, char *repo, size_t repocap, const char **after,
                        size_t *repolen) {
  const char *m = NULL, *p = rest;
  size_t ml = strlen(marker);
  while ((p = strstr(p, marker)) != NULL) { m = p; p++; }
  if (!m) return 0;
  size_t rl = (size_t)(m - rest);
  *repolen = rl;
  if (rl >= repocap) rl = repocap - 1; /* too long to be valid: kept truncated for the message */
  memcpy(repo, rest, rl);
  repo[rl] = 0;
  *after = m + ml;
  return 1;
}

static int fail(px_route *r, px_route_err e, const char *bad) {
  r->err = e;
  /* the offending part is kept truncated: it is only for the message */
  size_t n = bad ? strlen(bad) : 0;
  if (n >= sizeof(r->bad)) n = sizeof(r->bad) - 1;
  if (n) memcpy(r->bad, bad, n);
  r->bad[n] = 0;
  return SC_ERR_INVALID;
}

/* One registry route: REPO <marker> PART.  Returns 1 when it matched (r
 * filled), 0 when the marker is absent, -1 when aimed at but invalid (the
 * first error found is kept in r). */
static int try_route(const char *rest, const char *marker, px_route_kind kind, px_route *r, px_route *last_err) {
  px_route t;
  const char *after;
  size_t rl;
  memset(&t, 0, sizeof(t));
  t.kind = kind;
  if (!suffix_split(rest, marker, t.repo, sizeof(t.repo), &after, &rl)) return 0;
  int repo_ok = rl < sizeof(t.repo) && px_valid_repo(t.repo);
  px_route_err e = PX_RE_NONE;
  const char *bad = NULL;
  switch (kind) {
  case PX_R_TAGS:
  case PX_R_UPLOAD_START:
    if (*after) return 0; /* the marker ends these routes */
    break;
  case PX_R_MANIFEST:
    t.ref_is_digest = strchr(after, ':') != NULL;
    if (strlen(after) >= sizeof(t.ref)) e = t.ref_is_digest ? PX_RE_DIGEST : PX_RE_TAG, bad = after;
    else if (t.ref_is_digest ? !px_valid_digest(after) : !px_valid_tag(after))
      e = t.ref_is_digest ? PX_RE_DIGEST : PX_RE_TAG, bad = after;
    break;
  case PX_R_BLOB:
  case PX_R_REFERRERS:
    t.ref_is_digest = 1;
    if (strlen(after) >= sizeof(t.ref) || !px_valid_digest(after)) e = PX_RE_DIGEST, bad = after;
    break;
  case PX_R_UPLOAD:
    if (!*after) return 0; /* that is the upload start route */
    if (strlen(after) >= sizeof(t.ref) || !valid_upload_id(after)) e = PX_RE_UPLOAD_ID, bad = after;
    break;
  default:
    return 0;
  }
  if (!repo_ok) e = PX_RE_NAME, bad = t.repo; /* the name is the first part a client gets wrong */
  if (e != PX_RE_NONE) {
    /* the last route aimed at wins: later routes have the longer markers
     * ("/blobs/uploads/" after "/blobs/"), so the more specific error */
    *last_err = t;
    fail(last_err, e, bad);
    return -1;
  }
  snprintf(t.ref, sizeof(t.ref), "%s", after);
  r->kind = t.kind;
  r->ref_is_digest = t.ref_is_digest;
  memcpy(r->repo, t.repo, sizeof(r->repo));
  memcpy(r->ref, t.ref, sizeof(r->ref));
  return 1;
}

static int classify_v2(const char *path, px_route *r) {
  px_route last_err;
  const char *rest = path + 4;
  size_t n = strlen(path);
  memset(&last_err, 0, sizeof(last_err));
  if (!strcmp(path, "/v2") || !strcmp(path, "/v2/")) { r->kind = PX_R_BASE; return 0; }
  if (!strcmp(path, "/v2/_catalog")) { r->kind = PX_R_CATALOG; return 0; }
  /* StrictSlash: a trailing slash the route does not have is a 301 */
  if (path[n - 1] == '/' && !(n > 15 && !strcmp(path + n - 15, "/blobs/uploads/"))) {
    r->kind = PX_R_V2_OTHER;
    return fail(r, PX_RE_NONCANONICAL, "trailing slash");
  }
  /* the registry's route order */
  static const struct { const char *marker; px_route_kind kind; } routes[] = {
      {"/tags/list", PX_R_TAGS},          {"/manifests/", PX_R_MANIFEST},
      {"/blobs/", PX_R_BLOB},             {"/blobs/uploads/", PX_R_UPLOAD_START},
      {"/blobs/uploads/", PX_R_UPLOAD},   {"/referrers/", PX_R_REFERRERS},
  };
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
    if (try_route(rest, routes[i].marker, routes[i].kind, r, &last_err) == 1) return 0;
  /* "/v2/x/blobs/uploads" (no slash) is redirected to the start route */
  if (n > 14 && !strcmp(path + n - 14, "/blobs/uploads")) {
    r->kind = PX_R_UPLOAD_START;
    return fail(r, PX_RE_NONCANONICAL, "missing trailing slash");
  }
  if (last_err.err != PX_RE_NONE) {
    /* aimed at a route, with a part outside the grammar */
    r->kind = last_err.kind;
    r->err = last_err.err;
    r->ref_is_digest = last_err.ref_is_digest;
    memcpy(r->bad, last_err.bad, sizeof(r->bad));
    memcpy(r->repo, last_err.repo, sizeof(r->repo));
    return SC_ERR_INVALID;
  }
  r->kind = PX_R_V2_OTHER;
  return 0;
}

int px_route_parse(const char *target, px_route *r) {
  const char *q;
  size_t tl, plen, dlen;
  char *dec = NULL, *clean = NULL;
  int rc = 0;

  memset(r, 0, sizeof(*r));
  if (!target || target[0] != '/') return fail(r, PX_RE_FORM, target ? target : "");
  tl = strlen(target);
  if (tl > PX_ROUTE_MAX_TARGET_BYTES) return fail(r, PX_RE_TOO_LONG, "");
  for (size_t i = 0; i < tl; i++)
    if ((unsigned char)target[i] <= 0x20 || target[i] == 0x7f) return fail(r, PX_RE_CTL, "");
  q = strchr(target, '?');
  plen = q ? (size_t)(q - target) : tl;
  dec = malloc(plen + 1);
  clean = malloc(plen + 2);
  if (!dec || !clean) {
    free(dec);
    free(clean);
    return fail(r, PX_RE_TOO_LONG, "");
  }
  if (px_path_unescape(target, plen, dec, &dlen) < 0) {
    rc = fail(r, PX_RE_ESCAPE, "");
    goto out;
  }
  for (size_t i = 0; i < dlen; i++)
    if ((unsigned char)dec[i] < 0x20 || dec[i] == 0x7f) {
      rc = fail(r, PX_RE_CTL, "");
      goto out;
    }
  px_path_clean(dec, clean);
  if (strncmp(clean, "/v2", 3) != 0 || (clean[3] != '/' && clean[3] != 0)) {
    r->kind = PX_R_OTHER; /* no registry API there: passed through as it came */
    goto out;
  }
  if (strlen(clean) != plen || memcmp(clean, target, plen) != 0) {
    r->kind = PX_R_V2_OTHER;
    snprintf(r->bad, sizeof(r->bad), "%.*s", (int)(plen < 100 ? plen : 100), target);
    r->err = PX_RE_NONCANONICAL;
    rc = SC_ERR_INVALID;
    goto out;
  }
  if (q) {
    query_param(q + 1, "digest", r->q_digest, sizeof(r->q_digest));
    query_param(q + 1, "mount", r->q_mount, sizeof(r->q_mount));
    query_param(q + 1, "from", r->q_from, sizeof(r->q_from));
  }
  rc = classify_v2(clean, r);
out:
  free(dec);
  free(clean);
  return rc;
}

int px_route_check_method(px_route *r, const char *method) {
  static const char *const ok[] = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", NULL};
  if (r->kind == PX_R_OTHER) return 0;
  for (size_t i = 0; ok[i]; i++)
    if (!strcmp(method, ok[i])) return 0;
  r->err = PX_RE_METHOD;
  snprintf(r->bad, sizeof(r->bad), "%.*s", (int)sizeof(r->bad) - 1, method);
  return SC_ERR_INVALID;
}

void px_route_refusal(const px_route *r, const char *method, int *status, const char **code) {
  int read = !strcmp(method, "GET") || !strcmp(method, "HEAD");
  *status = 400;
  *code = "UNSUPPORTED";
  switch (r->err) {
  case PX_RE_TOO_LONG: *status = 414; break;
  case PX_RE_METHOD: *status = 405; break;
  case PX_RE_NAME: *code = "NAME_INVALID"; break;
  case PX_RE_TAG:
    /* a tag that cannot exist names no manifest; pushing one is an invalid manifest */
    if (r->kind == PX_R_MANIFEST && (read || !strcmp(method, "DELETE"))) *status = 404, *code = "MANIFEST_UNKNOWN";
    else *code = "MANIFEST_INVALID";
    break;
  case PX_RE_DIGEST:
    if (r->kind == PX_R_MANIFEST && read) *status = 404, *code = "MANIFEST_UNKNOWN";
    else *code = "DIGEST_INVALID";
    break;
  case PX_RE_UPLOAD_ID: *status = 404, *code = "BLOB_UPLOAD_UNKNOWN"; break;
  default: break;
  }
}

const char *px_route_strerror(px_route_err e) {
  static const char *const s[PX_RE_COUNT] = {
      [PX_RE_NONE] = "no error",
      [PX_RE_FORM] = "the request target must be an absolute path (origin-form)",
      [PX_RE_TOO_LONG] = "request target too long",
      [PX_RE_ESCAPE] = "invalid percent-escape in the path",
      [PX_RE_CTL] = "control character, space or NUL in the request target",
      [PX_RE_NONCANONICAL] = "registry path not in canonical form (percent-escapes, empty or dot segments, "
                             "trailing slash): customs refuses what the registry would decode or redirect",
      [PX_RE_NAME] = "invalid repository name",
      [PX_RE_TAG] = "invalid tag",
      [PX_RE_DIGEST] = "invalid digest",
      [PX_RE_UPLOAD_ID] = "invalid upload id",
      [PX_RE_METHOD] = "method not allowed on the registry API",
  };
  return (unsigned)e < PX_RE_COUNT && s[e] ? s[e] : "invalid request target";
}

void px_route_message(const px_route *r, char *buf, size_t cap) {
  /* the offending part is shown with non-printable bytes as '?' */
  char bad[PX_ROUTE_BAD_BYTES];
  size_t i;
  for (i = 0; r->bad[i] && i + 1 < sizeof(bad); i++)
    bad[i] = ((unsigned char)r->bad[i] < 0x20 || (unsigned char)r->bad[i] >= 0x7f) ? '?' : r->bad[i];
  bad[i] = 0;
  switch (r->err) {
  case PX_RE_NAME:
    snprintf(buf, cap, "repository name \"%s\" is invalid: lower-case components [a-z0-9] joined by '.', '_', "
             "'__' or '-', separated by '/'", bad);
    break;
  case PX_RE_TAG:
    snprintf(buf, cap, "tag \"%s\" is invalid: a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", bad);
    break;
  case PX_RE_DIGEST:
    snprintf(buf, cap, "digest \"%s\" is invalid: algorithm:hex (sha256: 64 lower-case hex digits)", bad);
    break;
  case PX_RE_UPLOAD_ID: snprintf(buf, cap, "upload id \"%s\" is invalid", bad); break;
  case PX_RE_METHOD: snprintf(buf, cap, "method \"%s\" is not allowed on the registry API", bad); break;
  case PX_RE_NONCANONICAL:
    snprintf(buf, cap, "%s: \"%s\"", px_route_strerror(r->err), bad);
    break;
  default: snprintf(buf, cap, "%s", px_route_strerror(r->err)); break;
  }
}

const char *px_route_kind_name(px_route_kind k) {
  static const char *const names[] = {"other", "base", "catalog", "tags", "manifest",
                                      "blob", "upload-start", "upload", "referrers", "v2-other"};
  return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
