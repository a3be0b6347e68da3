/* px_sync_link.c - the next page of a registry list (catalog, tags):
 * the rel="next" target of a Link header value (RFC 8288: several links,
 * quoted or bare parameters, rel a space-separated list), resolved against
 * the upstream's origin, and refused when it leads anywhere else (another
 * scheme, host or port; a protocol-relative "//host"; control characters).
 * See px_sync_next_url in px_sync_int.h.
 * Ownership: the caller's buffers.  Thread: any.  Errors: -1 with out "". */
#include "px_sync_int.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Whether the parameters [p, end) of one link value say rel="next" (rel is
 * a space-separated list, compared case-insensitively). */
static int rel_is_next(const char *p, const char *end) {
  while (p < end) {
    while (p < end && (*p == ';' || *p == ' ' || *p == '\t')) p++;
    const char *name = p;
    while (p < end && *p != '=' && *p != ';') p++;
    size_t nlen = (size_t)(p - name);
    while (nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t')) nlen--;
    if (p >= end || *p != '=') continue;
    p++;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    const char *v = p, *vend;
    if (p < end && *p == '"') {
      v = ++p;
      while (p < end && *p != '"') p++;
      vend = p;
      if (p < end) p++;
    } else {
      while (p < end && *p != ';') p++;
      vend = p;
      while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) vend--;
    }
    if (nlen != 3 || strncasecmp(name, "rel", 3)) continue;
    for (const char *t = v; t < vend;) {
      while (t < vend && *t == ' ') t++;
      const char *te = t;
      while (te < vend && *te != ' ') te++;
      if (te - t == 4 && !strncasecmp(t, "next", 4)) return 1;
      t = te;
    }
  }
  return 0;
}

/* The target [t, t + n) resolved against origin into out. */
static int resolve_link(const char *t, size_t n, const char *origin, char *out, size_t cap) {
  if (n == 0) return -1;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f || t[i] == '"' || t[i] == '<' || t[i] == '>') return -1;
  if (t[0] == '/' && (n < 2 || t[1] != '/')) { /* a path on the upstream ("//host/..." is another origin) */
    if (strlen(origin) + n + 1 > cap) return -1;
    snprintf(out, cap, "%s%.*s", origin, (int)n, t);
    return 0;
  }
  if ((n > 7 && !strncasecmp(t, "http://", 7)) || (n > 8 && !strncasecmp(t, "https://", 8))) {
    if (n + 1 > cap) return -1;
    snprintf(out, cap, "%.*s", (int)n, t);
    return net_http_same_origin(out, origin) ? 0 : -1; /* never another host, port or scheme */
  }
  return -1; /* a relative path without '/': registries do not send one */
}

int px_sync_next_url(const char *link, const char *origin, char *out, size_t cap) {
  if (!link || !origin || !out || cap == 0) return -1;
  out[0] = 0;
  for (const char *p = link; *p;) {
    const char *lt = strchr(p, '<');
    if (!lt) return -1;
    const char *gt = strchr(lt + 1, '>');
    if (!gt) return -1;
    const char *end = gt + 1;
    for (int quoted = 0; *end && (quoted || *end != ','); end++)
      if (*end == '"') quoted = !quoted;
    if (rel_is_next(gt + 1, end)) {
      if (resolve_link(lt + 1, (size_t)(gt - lt - 1), origin, out, cap) == 0) return 0;
      out[0] = 0;
      return -1;
    }
    p = *end ? end + 1 : end;
  }
  return -1;
}
