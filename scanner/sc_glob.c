/* sc_glob.c - repository-name globs; see sc_glob.h for the syntax. */
#include "sc_glob.h"

#include <stdio.h>
#include <string.h>

#include "sc_inventory.h"

#define MAX_SEGS (SC_GLOB_MAX / 2 + 2)

typedef struct seg {
  const char *s;
  size_t n;
} seg;

/* Splits s (length len) at "/" into at most MAX_SEGS segments; "" has none. */
static size_t split(const char *s, size_t len, seg *out) {
  size_t n = 0, start = 0;
  if (len == 0) return 0;
  for (size_t i = 0; i <= len && n < MAX_SEGS; i++) {
    if (i == len || s[i] == '/') {
      out[n].s = s + start;
      out[n].n = i - start;
      n++;
      start = i + 1;
    }
  }
  return n;
}

static int is_dstar(const seg *g) { return g->n == 2 && g->s[0] == '*' && g->s[1] == '*'; }

/* One segment against one segment: '*' any run, '?' one char.  Greedy with
 * a single backtrack point, which is enough because '*' is the only
 * variable-length token. */
static int seg_match(const seg *p, const seg *t) {
  size_t pi = 0, ti = 0, star_p = (size_t)-1, star_t = 0;
  while (ti < t->n) {
    if (pi < p->n && p->s[pi] == '*') {
      star_p = pi++;
      star_t = ti;
    } else if (pi < p->n && (p->s[pi] == '?' || p->s[pi] == t->s[ti])) {
      pi++;
      ti++;
    } else if (star_p != (size_t)-1) {
      pi = star_p + 1;
      ti = ++star_t;
    } else {
      return 0;
    }
  }
  while (pi < p->n && p->s[pi] == '*') pi++;
  return pi == p->n;
}

int sc_glob_match(const char *pattern, const char *name) {
  seg ps[MAX_SEGS], ns[MAX_SEGS];
  size_t pl, nl, np, nn, pi = 0, ni = 0, star_p = (size_t)-1, star_n = 0;
  if (!pattern || !name) return 0;
  pl = strlen(pattern);
  nl = strlen(name);
  if (pl == 0 || pl > SC_GLOB_MAX || nl > SC_GLOB_MAX) return 0;
  if (sc_glob_check(pattern, NULL, 0) != 0) return 0;
  /* Real repository names have no empty segments; "*" must not match one. */
  if (nl && (name[0] == '/' || name[nl - 1] == '/' || strstr(name, "//"))) return 0;
  np = split(pattern, pl, ps);
  nn = split(name, nl, ns);
  /* Same algorithm one level up: "**" is the star, segments are tokens. */
  while (ni < nn) {
    if (pi < np && is_dstar(&ps[pi])) {
      star_p = pi++;
      star_n = ni;
    } else if (pi < np && seg_match(&ps[pi], &ns[ni])) {
      pi++;
      ni++;
    } else if (star_p != (size_t)-1) {
      pi = star_p + 1;
      ni = ++star_n;
    } else {
      return 0;
    }
  }
  while (pi < np && is_dstar(&ps[pi])) pi++;
  return pi == np;
}

int sc_glob_check(const char *pattern, char *msg, size_t msglen) {
  size_t len, i;
  char tmp[96];
  if (msg && msglen) msg[0] = '\0';
  if (!pattern || !*pattern) {
    snprintf(tmp, sizeof(tmp), "empty repository pattern");
    goto bad;
  }
  len = strlen(pattern);
  if (len > SC_GLOB_MAX) {
    snprintf(tmp, sizeof(tmp), "repository pattern longer than %d characters", SC_GLOB_MAX);
    goto bad;
  }
  if (pattern[0] == '/' || pattern[len - 1] == '/') {
    snprintf(tmp, sizeof(tmp), "repository pattern must not start or end with '/'");
    goto bad;
  }
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)pattern[i];
    if (c == '/' && pattern[i + 1] == '/') {
      snprintf(tmp, sizeof(tmp), "empty path segment ('//') in repository pattern");
      goto bad;
    }
    if (c == '*' && pattern[i + 1] == '*') {
      int seg_start = i == 0 || pattern[i - 1] == '/';
      char after = pattern[i + 2];
      if (after == '*') {
        snprintf(tmp, sizeof(tmp), "'***' in repository pattern (use '*' or '**')");
        goto bad;
      }
      if (!seg_start || (after != '\0' && after != '/')) {
        snprintf(tmp, sizeof(tmp), "'**' must be a whole path segment (like 'team/**/api')");
        goto bad;
      }
      i++;
      continue;
    }
    if (c >= 'A' && c <= 'Z') {
      snprintf(tmp, sizeof(tmp), "uppercase '%c' in repository pattern (repository names are lowercase)", c);
      goto bad;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-' || c == '/' || c == '*' || c == '?')) {
      if (c >= 0x20 && c < 0x7f)
        snprintf(tmp, sizeof(tmp), "character '%c' not allowed in repository pattern", c);
      else
        snprintf(tmp, sizeof(tmp), "byte 0x%02x not allowed in repository pattern", c);
      goto bad;
    }
  }
  return 0;
bad:
  if (msg && msglen) snprintf(msg, msglen, "%s", tmp);
  return SC_ERR_FORMAT;
}
