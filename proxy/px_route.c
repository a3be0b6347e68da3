/* px_route.c - registry URL classification (see px_route.h). */
#include "px_route.h"
#include "px_headers.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

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

int px_valid_tag(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128) return 0;
  if (!(isalnum((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-')) return 0;
  return 1;
}

int px_valid_digest(const char *s) {
  const char *colon = strchr(s, ':');
  if (!colon || colon == s || strlen(colon + 1) < 32 || strlen(s) > 150) return 0;
  for (const char *p = s; p < colon; p++)
    if (!(lower_alnum(*p) || *p == '+' || *p == '.' || *p == '_' || *p == '-')) return 0;
  for (const char *p = colon + 1; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '=' || *p == '_' || *p == '-')) return 0;
  if (strncmp(s, "sha256:", 7) == 0) {
    if (strlen(s) != 7 + 64) return 0;
    for (const char *p = s + 7; *p; p++)
      if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  }
  return 1;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Copies the value of query parameter `name`, percent-decoded (clients send
 * digest=sha256%3A...); a value that decodes to a control byte is dropped. */
static void query_param(const char *q, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  out[0] = 0;
  while (q && *q) {
    if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
      const char *v = q + nl + 1, *e = strchr(v, '&');
      size_t len = e ? (size_t)(e - v) : strlen(v), o = 0;
      for (size_t i = 0; i < len && o + 1 < cap; i++) {
        int c = (unsigned char)v[i];
        if (c == '%' && i + 2 < len + 0 + 1 && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
          c = hexval(v[i + 1]) * 16 + hexval(v[i + 2]);
          i += 2;
        } else if (c == '+') {
          c = ' ';
        }
        if (c < 0x20 || c == 0x7f) {
          out[0] = 0;
          return;
        }
        out[o++] = (char)c;
      }
      out[o] = 0;
      return;
    }
    q = strchr(q, '&');
    if (q) q++;
  }
}

static int suffix_split(const char *rest, const char *marker, char *repo, size_t repocap, const char **after) {
  /* The repository name may contain '/', so find the last occurrence of the marker. */
  const char *m = NULL, *p = rest;
  size_t ml = strlen(marker);
  while ((p = strstr(p, marker)) != NULL) { m = p; p++; }
  if (!m || m == rest) return 0;
  size_t rl = (size_t)(m - rest);
  if (rl >= repocap) return 0;
  memcpy(repo, rest, rl);
  repo[rl] = 0;
  *after = m + ml;
  return 1;
}

int px_route_parse(const char *target, px_route *r) {
  char path[2048];
  const char *q = strchr(target, '?'), *after;
  size_t plen = q ? (size_t)(q - target) : strlen(target);

  memset(r, 0, sizeof(*r));
  if (strncmp(target, "/v2", 3) != 0 || (target[3] != '/' && target[3] != 0 && target[3] != '?')) {
    r->kind = PX_R_OTHER;
    return 0;
  }
  if (plen >= sizeof(path)) return PX_ERR_INVALID;
  memcpy(path, target, plen);
  path[plen] = 0;
  if (strchr(path, '%') || strchr(path, '\\') || strstr(path, "//") || strstr(path, "/./") ||
      strstr(path, "/../") || (plen >= 2 && !strcmp(path + plen - 2, "/.")) ||
      (plen >= 3 && !strcmp(path + plen - 3, "/..")))
    return PX_ERR_INVALID;
  if (q) {
    query_param(q + 1, "digest", r->q_digest, sizeof(r->q_digest));
    query_param(q + 1, "mount", r->q_mount, sizeof(r->q_mount));
    query_param(q + 1, "from", r->q_from, sizeof(r->q_from));
  }
  if (!strcmp(path, "/v2") || !strcmp(path, "/v2/")) { r->kind = PX_R_BASE; return 0; }
  if (!strcmp(path, "/v2/_catalog")) { r->kind = PX_R_CATALOG; return 0; }
  const char *rest = path + 4;
  if (suffix_split(rest, "/manifests/", r->repo, sizeof(r->repo), &after)) {
    if (!px_valid_repo(r->repo)) return PX_ERR_INVALID;
    if (strlen(after) >= sizeof(r->ref)) return PX_ERR_INVALID;
    snprintf(r->ref, sizeof(r->ref), "%s", after);
    r->ref_is_digest = strchr(after, ':') != NULL;
    if (r->ref_is_digest ? !px_valid_digest(after) : !px_valid_tag(after)) return PX_ERR_INVALID;
    r->kind = PX_R_MANIFEST;
    return 0;
  }
  if (suffix_split(rest, "/blobs/uploads/", r->repo, sizeof(r->repo), &after) ||
      (suffix_split(rest, "/blobs/uploads", r->repo, sizeof(r->repo), &after) && *after == 0)) {
    if (!px_valid_repo(r->repo)) return PX_ERR_INVALID;
    if (*after == 0) { r->kind = PX_R_UPLOAD_START; return 0; }
    if (strlen(after) >= sizeof(r->ref) || strchr(after, '/')) return PX_ERR_INVALID;
    snprintf(r->ref, sizeof(r->ref), "%s", after);
    r->kind = PX_R_UPLOAD;
    return 0;
  }
  if (suffix_split(rest, "/blobs/", r->repo, sizeof(r->repo), &after)) {
    if (!px_valid_repo(r->repo) || !px_valid_digest(after)) return PX_ERR_INVALID;
    snprintf(r->ref, sizeof(r->ref), "%s", after);
    r->ref_is_digest = 1;
    r->kind = PX_R_BLOB;
    return 0;
  }
  if (suffix_split(rest, "/tags/list", r->repo, sizeof(r->repo), &after) && *after == 0) {
    if (!px_valid_repo(r->repo)) return PX_ERR_INVALID;
    r->kind = PX_R_TAGS;
    return 0;
  }
  if (suffix_split(rest, "/referrers/", r->repo, sizeof(r->repo), &after)) {
    if (!px_valid_repo(r->repo) || !px_valid_digest(after)) return PX_ERR_INVALID;
    snprintf(r->ref, sizeof(r->ref), "%s", after);
    r->kind = PX_R_REFERRERS;
    return 0;
  }
  r->kind = PX_R_V2_OTHER;
  return 0;
}

const char *px_route_kind_name(px_route_kind k) {
  static const char *const names[] = {"other", "base", "catalog", "tags", "manifest",
                                      "blob", "upload-start", "upload", "referrers", "v2-other"};
  return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
