/* px_admin_query.c - the admin listener's pure helpers (see
 * px_admin_int.h): query parameters, paging, the bearer check, loopback
 * addresses, the token file.  No state, no I/O but the token file.
 * Owner: the caller's structs.  Thread: any.  Errors: SC_ERR_INVALID with a
 * reason, SC_ERR_IO. */
#include "px_admin_int.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sys/queue.h> /* TAILQ_*, before keyvalq_struct.h */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void px_admin_query_free(px_admin_query *q) {
  for (int i = 0; i < q->n; i++) {
    free(q->name[i]);
    free(q->value[i]);
  }
  memset(q, 0, sizeof(*q));
}

static int allowed_name(const char *name, const char *const *allowed) {
  for (; allowed && *allowed; allowed++)
    if (!strcmp(name, *allowed)) return 1;
  return 0;
}

int px_admin_query_parse(const char *query, const char *const *allowed, px_admin_query *q, char *err, size_t errlen) {
  struct evkeyvalq kv;
  struct evkeyval *e;
  int rv = 0;
  memset(q, 0, sizeof(*q));
  if (!query || !*query) return 0;
  if (strlen(query) > PX_ADMIN_MAX_QUERY_BYTES) {
    snprintf(err, errlen, "query string over %d bytes", PX_ADMIN_MAX_QUERY_BYTES);
    return SC_ERR_INVALID;
  }
  TAILQ_INIT(&kv);
  if (evhttp_parse_query_str(query, &kv) != 0) {
    snprintf(err, errlen, "malformed query string");
    evhttp_clear_headers(&kv);
    return SC_ERR_INVALID;
  }
  TAILQ_FOREACH(e, &kv, next) {
    size_t vlen = strlen(e->value);
    if (!allowed_name(e->key, allowed)) {
      snprintf(err, errlen, "unknown parameter \"%.64s\"", e->key);
      rv = SC_ERR_INVALID;
    } else if (px_admin_query_get(q, e->key)) {
      snprintf(err, errlen, "parameter \"%s\" given twice", e->key);
      rv = SC_ERR_INVALID;
    } else if (vlen > PX_ADMIN_MAX_PARAM_BYTES) {
      snprintf(err, errlen, "parameter \"%s\" over %d bytes", e->key, PX_ADMIN_MAX_PARAM_BYTES);
      rv = SC_ERR_INVALID;
    } else if (q->n >= PX_ADMIN_MAX_PARAMS) {
      snprintf(err, errlen, "more than %d parameters", PX_ADMIN_MAX_PARAMS);
      rv = SC_ERR_INVALID;
    } else {
      for (size_t i = 0; i < vlen && !rv; i++)
        if ((unsigned char)e->value[i] < 0x20 || e->value[i] == 0x7f) {
          snprintf(err, errlen, "parameter \"%s\" holds a control character", e->key);
          rv = SC_ERR_INVALID;
        }
      if (!rv) {
        q->name[q->n] = strdup(e->key);
        q->value[q->n] = strdup(e->value);
        q->n++;
        if (!q->name[q->n - 1] || !q->value[q->n - 1]) {
          snprintf(err, errlen, "out of memory");
          rv = SC_ERR_INVALID;
        }
      }
    }
    if (rv) break;
  }
  evhttp_clear_headers(&kv);
  if (rv) px_admin_query_free(q);
  return rv;
}

const char *px_admin_query_get(const px_admin_query *q, const char *name) {
  for (int i = 0; i < q->n; i++)
    if (q->name[i] && !strcmp(q->name[i], name)) return q->value[i];
  return NULL;
}

int px_admin_query_int(const px_admin_query *q, const char *name, int64_t def, int64_t min, int64_t max,
                       int64_t *out, char *err, size_t errlen) {
  const char *v = px_admin_query_get(q, name);
  char *end;
  long long n;
  if (!v) {
    *out = def;
    return 0;
  }
  /* digits only: no sign, blanks, hex or exponent slips through strtoll */
  for (const char *p = v; *p; p++)
    if (!isdigit((unsigned char)*p)) goto bad;
  if (!*v || strlen(v) > 18) goto bad;
  errno = 0;
  n = strtoll(v, &end, 10);
  if (errno || *end || n < min || n > max) goto bad;
  *out = n;
  return 0;
bad:
  snprintf(err, errlen, "parameter \"%s\" must be an integer from %lld to %lld", name, (long long)min,
           (long long)max);
  return SC_ERR_INVALID;
}

int px_admin_paging(const px_admin_query *q, int64_t *page, int64_t *per_page, int64_t *offset, char *err,
                    size_t errlen) {
  int rv = px_admin_query_int(q, "page", 1, 1, PX_ADMIN_MAX_PAGE, page, err, errlen);
  if (!rv) rv = px_admin_query_int(q, "per_page", PX_ADMIN_DEFAULT_PER_PAGE, 1, PX_ADMIN_MAX_PER_PAGE, per_page, err,
                                   errlen);
  if (rv) return rv;
  *offset = (*page - 1) * *per_page; /* at most 100,000 x 200: no overflow */
  return 0;
}

int px_admin_bearer_ok(const char *authorization, const unsigned char sha[32]) {
  unsigned char got[SHA256_DIGEST_LENGTH];
  const char *t;
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return 0;
  for (t = authorization + 7; *t == ' '; t++) {
  }
  size_t n = strlen(t);
  while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) n--;
  if (!n || n > PX_ADMIN_MAX_TOKEN_BYTES) return 0;
  /* hashing first makes the comparison independent of the lengths too */
  SHA256((const unsigned char *)t, n, got);
  return CRYPTO_memcmp(got, sha, SHA256_DIGEST_LENGTH) == 0;
}

int px_admin_is_loopback(const char *host) {
  struct in_addr a4;
  struct in6_addr a6;
  if (!host || !*host) return 0;
  if (!strcasecmp(host, "localhost")) return 1;
  if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host, &a6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
  return 0;
}

int px_admin_host_ok(const char *host_header, const char *listen_host) {
  char h[256];
  struct in_addr a4;
  struct in6_addr a6;
  size_t n;
  if (!host_header) return 1; /* HTTP/1.0 without Host */
  if (host_header[0] == '[') {
    const char *rb = strchr(host_header, ']');
    if (!rb || (rb[1] && rb[1] != ':')) return 0;
    n = (size_t)(rb - host_header - 1);
    if (n >= sizeof(h)) return 0;
    memcpy(h, host_header + 1, n);
    h[n] = 0;
    return inet_pton(AF_INET6, h, &a6) == 1;
  }
  const char *colon = strchr(host_header, ':');
  n = colon ? (size_t)(colon - host_header) : strlen(host_header);
  if (n >= sizeof(h)) return 0;
  memcpy(h, host_header, n);
  h[n] = 0;
  return inet_pton(AF_INET, h, &a4) == 1 || !strcasecmp(h, "localhost") ||
         (listen_host && *listen_host && !strcasecmp(h, listen_host));
}

int px_admin_read_token(const char *path, char *out, size_t cap) {
  FILE *f = fopen(path, "r");
  size_t n;
  if (!f) return SC_ERR_IO;
  if (!fgets(out, (int)cap, f)) {
    int e = ferror(f);
    fclose(f);
    out[0] = 0;
    return e ? SC_ERR_IO : SC_ERR_INVALID;
  }
  fclose(f);
  n = strlen(out);
  if (n == cap - 1 && out[n - 1] != '\n') {
    explicit_bzero(out, cap);
    return SC_ERR_INVALID; /* over the cap: refused rather than cut */
  }
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' || out[n - 1] == '\t')) out[--n] = 0;
  return n ? 0 : SC_ERR_INVALID;
}
