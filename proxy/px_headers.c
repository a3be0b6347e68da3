/* px_headers.c - bounded header lists, validation and hop-by-hop rules. */
#include "px_headers.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void px_headers_init(px_headers *h) { memset(h, 0, sizeof(*h)); }

void px_headers_free(px_headers *h) {
  for (size_t i = 0; i < h->n; i++) {
    free(h->f[i].name);
    free(h->f[i].value);
  }
  h->n = 0;
  h->bytes = 0;
}

static char *dup_lower(const char *s, size_t len, int lower) {
  char *d = malloc(len + 1);
  if (!d) return NULL;
  for (size_t i = 0; i < len; i++) d[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
  d[len] = 0;
  return d;
}

int px_headers_add(px_headers *h, const char *name, size_t namelen, const char *value, size_t valuelen) {
  px_header *f;
  if (h->n >= PX_HDR_MAX_FIELDS || h->bytes + namelen + valuelen > PX_HDR_MAX_BYTES) return SC_ERR_LIMIT;
  f = &h->f[h->n];
  f->name = dup_lower(name, namelen, 1);
  f->value = dup_lower(value, valuelen, 0);
  if (!f->name || !f->value) {
    free(f->name);
    free(f->value);
    return SC_ERR_NOMEM;
  }
  f->namelen = namelen;
  f->valuelen = valuelen;
  h->bytes += namelen + valuelen;
  h->n++;
  return 0;
}

int px_headers_append_last(px_headers *h, int to_name, const char *s, size_t len) {
  px_header *f;
  char **p;
  size_t *plen;
  char *n;
  if (h->n == 0) return SC_ERR_STATE;
  if (h->bytes + len > PX_HDR_MAX_BYTES) return SC_ERR_LIMIT;
  f = &h->f[h->n - 1];
  p = to_name ? &f->name : &f->value;
  plen = to_name ? &f->namelen : &f->valuelen;
  n = realloc(*p, *plen + len + 1);
  if (!n) return SC_ERR_NOMEM;
  for (size_t i = 0; i < len; i++) n[*plen + i] = to_name ? (char)tolower((unsigned char)s[i]) : s[i];
  *plen += len;
  n[*plen] = 0;
  *p = n;
  h->bytes += len;
  return 0;
}

const char *px_headers_get(const px_headers *h, const char *name) {
  for (size_t i = 0; i < h->n; i++)
    if (strcmp(h->f[i].name, name) == 0) return h->f[i].value;
  return NULL;
}

void px_headers_del(px_headers *h, const char *name) {
  size_t j = 0;
  for (size_t i = 0; i < h->n; i++) {
    if (strcmp(h->f[i].name, name) == 0) {
      h->bytes -= h->f[i].namelen + h->f[i].valuelen;
      free(h->f[i].name);
      free(h->f[i].value);
      continue;
    }
    h->f[j++] = h->f[i];
  }
  h->n = j;
}

int px_headers_set(px_headers *h, const char *name, const char *value) {
  px_headers_del(h, name);
  return px_headers_add(h, name, strlen(name), value, strlen(value));
}

/* "299 customs \"": what precedes the quoted text of a Warning field */
#define WARNING_HEAD "299 customs \""

int px_headers_set_warning(px_headers *h, const char *prefix, const char *text) {
  char warn[sizeof(WARNING_HEAD) + PX_WARNING_PREFIX_MAX_BYTES + PX_WARNING_TEXT_MAX_BYTES + 2];
  size_t plen = prefix ? strlen(prefix) : 0, tlen = text ? strlen(text) : 0;
  if (plen > PX_WARNING_PREFIX_MAX_BYTES) plen = PX_WARNING_PREFIX_MAX_BYTES;
  if (tlen > PX_WARNING_TEXT_MAX_BYTES) tlen = PX_WARNING_TEXT_MAX_BYTES;
  snprintf(warn, sizeof(warn), WARNING_HEAD "%.*s%.*s\"", (int)plen, prefix ? prefix : "", (int)tlen,
           text ? text : "");
  size_t n = strlen(warn);
  /* the quoted part, without the closing quote */
  for (size_t i = sizeof(WARNING_HEAD) - 1; i + 1 < n; i++)
    if (warn[i] == '"' || warn[i] == '\\' || (unsigned char)warn[i] < 0x20) warn[i] = ' ';
  return px_headers_set(h, "warning", warn);
}

static int is_tchar(unsigned char c) {
  /* c != 0 first: strchr finds the terminator, which made NUL a "tchar" */
  return c != 0 && (isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int px_header_check(const char *name, size_t namelen, const char *value, size_t valuelen) {
  if (namelen == 0) return SC_ERR_INVALID;
  for (size_t i = 0; i < namelen; i++) {
    /* HTTP/2 pseudo-header names start with ':' and are checked by nghttp2. */
    if (i == 0 && name[0] == ':') continue;
    if (!is_tchar((unsigned char)name[i])) return SC_ERR_INVALID;
  }
  for (size_t i = 0; i < valuelen; i++) {
    unsigned char c = (unsigned char)value[i];
    if (c == '\r' || c == '\n' || c == 0) return SC_ERR_INVALID;
  }
  return 0;
}

int px_list_has_token(const char *list, const char *token) {
  size_t tl = strlen(token);
  const char *p = list;
  if (!list) return 0;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    const char *s = p;
    while (*p && *p != ',') p++;
    const char *e = p;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0) return 1;
  }
  return 0;
}

int px_header_is_hop(const char *name, const char *connection) {
  static const char *const hop[] = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                                    "transfer-encoding", "upgrade", "proxy-authenticate",
                                    "proxy-authorization", "http2-settings", NULL};
  for (size_t i = 0; hop[i]; i++)
    if (strcmp(name, hop[i]) == 0) return 1;
  return connection && px_list_has_token(connection, name);
}

const char *px_connection_protected(const px_headers *h) {
  static const char *const protected_fields[] = {
      "authorization", "accept", "content-type", "content-length", "content-range", "content-encoding",
      "range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range",
      "host", "expect", "docker-content-digest", NULL};
  for (size_t i = 0; i < h->n; i++) {
    if (strcmp(h->f[i].name, "connection") != 0) continue;
    for (size_t k = 0; protected_fields[k]; k++)
      if (px_list_has_token(h->f[i].value, protected_fields[k])) return protected_fields[k];
  }
  return NULL;
}
