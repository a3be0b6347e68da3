/* sc_db_text.c - the pure text work of sc_db: SQLite placeholders to
 * PostgreSQL's $n, URL password redaction and strict number parsing.  No
 * database here, so each is unit-tested alone (tests/unit/test_db_pgsql.c).
 * Owner: sc_db.  Thread: any (no state).  Errors: sc_db_int.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_db_int.h"

#define SC_DB_PARAM_TEXT_MAX 6 /* bytes of "$32766": the widest a `?` becomes */

static int ident_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static int ident_char(unsigned char c) { return ident_start(c) || isdigit(c) || c == '$'; }

/* Length of the dollar-quote tag ("$tag$" or "$$") starting at p, 0 when
 * p does not open one (`$1` is a parameter, not a tag). */
static size_t dollar_tag(const char *p) {
  const char *q = p + 1;
  if (*q != '$') {
    if (!ident_start((unsigned char)*q)) return 0;
    while (ident_start((unsigned char)*q) || isdigit((unsigned char)*q)) q++;
    if (*q != '$') return 0;
  }
  return (size_t)(q - p) + 1;
}

/* Length of the quoted or commented run starting at p (the whole of sql
 * when it is not closed: the server then reports the syntax error), 0
 * when p starts none.  `?` inside such a run is text, not a parameter. */
static size_t skip_literal(const char *sql, const char *p) {
  const char *q = p;
  unsigned char prev = p > sql ? (unsigned char)p[-1] : 0;
  if (*p == '\'' || *p == '"') {
    char quote = *p;
    /* E'...' (not the tail of an identifier such as "some'"): backslash escapes */
    int esc = quote == '\'' && (prev == 'E' || prev == 'e') && !(p - 1 > sql && ident_char((unsigned char)p[-2]));
    for (q = p + 1; *q; q++) {
      if (esc && *q == '\\' && q[1]) {
        q++;
      } else if (*q == quote) {
        if (q[1] != quote) return (size_t)(q - p) + 1;
        q++; /* doubled quote: one quote character */
      }
    }
    return (size_t)(q - p);
  }
  if (p[0] == '-' && p[1] == '-') {
    q += strcspn(q, "\n");
    return (size_t)(q - p) + (*q ? 1 : 0);
  }
  if (p[0] == '/' && p[1] == '*') { /* PostgreSQL block comments nest */
    int depth = 0;
    while (*q) {
      if (q[0] == '/' && q[1] == '*') {
        depth++;
        q += 2;
      } else if (q[0] == '*' && q[1] == '/') {
        q += 2;
        if (--depth == 0) break;
      } else {
        q++;
      }
    }
    return (size_t)(q - p);
  }
  if (*p == '$' && !(prev && ident_char(prev))) {
    size_t tl = dollar_tag(p);
    if (!tl) return 0;
    const char *end = p + tl;
    for (;;) {
      end = strchr(end, '$');
      if (!end) return strlen(p);
      if (!strncmp(end, p, tl)) return (size_t)(end - p) + tl;
      end++;
    }
  }
  return 0;
}

int sc_db_pg_translate(const char *sql, char **out, int *nparams) {
  if (!sql || !out || !nparams) return SC_ERR_ARG;
  *out = NULL;
  *nparams = 0;
  size_t n = strlen(sql);
  if (n > (SIZE_MAX - 1) / SC_DB_PARAM_TEXT_MAX) return SC_ERR_LIMIT;
  char *o = malloc(n * SC_DB_PARAM_TEXT_MAX + 1);
  if (!o) return SC_ERR_NOMEM;
  size_t k = 0;
  int maxp = 0;
  const char *p = sql;
  while (*p) {
    size_t lit = skip_literal(sql, p);
    if (lit) {
      memcpy(o + k, p, lit);
      k += lit;
      p += lit;
      continue;
    }
    if (*p != '?') {
      o[k++] = *p++;
      continue;
    }
    if (p[1] == '?') { /* `??`: a literal `?` (jsonb's ?, ?| and ?& operators) */
      o[k++] = '?';
      p += 2;
      continue;
    }
    long num;
    if (isdigit((unsigned char)p[1])) {
      num = 0;
      for (p++; isdigit((unsigned char)*p); p++)
        if ((num = num * 10 + (*p - '0')) > SC_DB_PARAMS_MAX) break;
      if (num < 1 || num > SC_DB_PARAMS_MAX) goto bad;
    } else {
      num = maxp + 1L;
      p++;
    }
    if (num > SC_DB_PARAMS_MAX) goto bad;
    if (num > maxp) maxp = (int)num;
    k += (size_t)snprintf(o + k, SC_DB_PARAM_TEXT_MAX + 1, "$%ld", num);
  }
  o[k] = '\0';
  *out = o;
  *nparams = maxp;
  return 0;
bad:
  free(o);
  return SC_ERR_ARG;
}

int sc_db_parse_int64(const char *s, int64_t *out) {
  if (!s || !out) return SC_ERR_FORMAT;
  if (!strcmp(s, "t") || !strcmp(s, "f")) {
    *out = s[0] == 't';
    return 0;
  }
  const char *p = s;
  int neg = *p == '-';
  if (*p == '-' || *p == '+') p++;
  if (!isdigit((unsigned char)*p)) return SC_ERR_FORMAT;
  uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
  for (; isdigit((unsigned char)*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (lim - d) / 10) return SC_ERR_FORMAT;
    v = v * 10 + d;
  }
  if (*p) return SC_ERR_FORMAT;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 0;
}

int sc_db_parse_double(const char *s, double *out) {
  if (!s || !out || !*s || isspace((unsigned char)*s)) return SC_ERR_FORMAT;
  char *end;
  double d = strtod(s, &end);
  if (*end) return SC_ERR_FORMAT;
  *out = d;
  return 0;
}

/* ---- URL passwords ----------------------------------------------------- */

static void app(char *out, size_t cap, size_t *k, const char *s, size_t n) {
  if (*k + 1 >= cap) return;
  if (n > cap - 1 - *k) n = cap - 1 - *k;
  memcpy(out + *k, s, n);
  *k += n;
  out[*k] = '\0';
}

/* Where the URL's userinfo password lies ([*b, *e)), 0 when none. */
static int userinfo_password(const char *url, const char **b, const char **e) {
  const char *sch = strstr(url, "://");
  if (!sch) return 0;
  const char *auth = sch + 3, *end = auth + strcspn(auth, "/?#"), *at = NULL;
  for (const char *q = auth; q < end; q++)
    if (*q == '@') at = q;
  if (!at) return 0;
  const char *colon = memchr(auth, ':', (size_t)(at - auth));
  if (!colon) return 0;
  *b = colon + 1;
  *e = at;
  return 1;
}

/* The first password= parameter of url's query ([*b, *e)), 0 when none. */
static int query_password(const char *url, const char **b, const char **e) {
  const char *q = strchr(url, '?');
  if (!q) return 0;
  const char *end = q + strcspn(q, "#");
  for (const char *par = q + 1; par < end;) {
    size_t len = strcspn(par, "&#");
    if (!strncmp(par, "password=", 9) && len >= 9) {
      *b = par + 9;
      *e = par + len;
      return 1;
    }
    par += len;
    if (*par != '&') break;
    par++;
  }
  return 0;
}

char *sc_db_url_redact(const char *url, char *out, size_t cap) {
  if (!out || !cap) return out;
  out[0] = '\0';
  if (!url) return out;
  size_t k = 0;
  const char *p = url, *b, *e;
  if (userinfo_password(url, &b, &e)) {
    app(out, cap, &k, p, (size_t)(b - p));
    app(out, cap, &k, "***", 3);
    p = e;
  }
  const char *q = strchr(p, '?');
  if (!q) {
    app(out, cap, &k, p, strlen(p));
    return out;
  }
  app(out, cap, &k, p, (size_t)(q - p) + 1);
  /* every parameter named password (libpq takes the last one) */
  for (p = q + 1; *p && *p != '#';) {
    size_t len = strcspn(p, "&#");
    if (!strncmp(p, "password=", 9) && len >= 9) {
      app(out, cap, &k, "password=***", 12);
    } else {
      app(out, cap, &k, p, len);
    }
    p += len;
    if (*p != '&') break;
    app(out, cap, &k, "&", 1);
    p++;
  }
  app(out, cap, &k, p, strlen(p));
  return out;
}

static void pct_decode(const char *b, const char *e, char *out, size_t cap) {
  size_t k = 0;
  for (const char *q = b; q < e && k + 1 < cap; q++) {
    if (*q == '%' && q + 2 < e && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
      char hex[3] = {q[1], q[2], 0};
      out[k++] = (char)strtol(hex, NULL, 16);
      q += 2;
    } else {
      out[k++] = *q;
    }
  }
  out[k] = '\0';
}

void sc_db_url_password(const char *url, char *out, size_t cap) {
  if (!out || !cap) return;
  out[0] = '\0';
  const char *b, *e;
  if (url && (userinfo_password(url, &b, &e) || query_password(url, &b, &e))) pct_decode(b, e, out, cap);
}

void sc_db_scrub(char *msg, size_t cap, const char *secret) {
  if (!msg || !cap || !secret || !*secret) return;
  size_t sl = strlen(secret), k = 0;
  char *tmp = malloc(cap);
  if (!tmp) { /* cannot rewrite it: say nothing rather than the secret */
    if (strstr(msg, secret)) snprintf(msg, cap, "(message withheld: it held a password)");
    return;
  }
  tmp[0] = '\0';
  for (const char *p = msg; *p;) {
    if (!strncmp(p, secret, sl)) {
      app(tmp, cap, &k, "***", 3);
      p += sl;
    } else {
      app(tmp, cap, &k, p++, 1);
    }
  }
  memcpy(msg, tmp, k + 1);
  free(tmp);
}
