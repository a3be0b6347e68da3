/* net_http_int.h - what net_http.c (transfers, redirects) and
 * net_http_token.c (the registry token flow) share; nothing outside net/
 * includes it (unit tests do).
 *
 * Ownership: a net_http owns its curl handle, its copies of the options'
 * strings (the password wiped on free) and its token cache.
 * Thread: one thread at a time per net_http (net_http.h).
 * Errors: SC_ERR_* as in net_http.h. */
#ifndef CUSTOMS_NET_HTTP_INT_H
#define CUSTOMS_NET_HTTP_INT_H
#include "net_http.h"
#include <curl/curl.h>

#define ORIGIN_MAX 600           /* "scheme://host:port" */
#define HDR_LINE_MAX 8400        /* "Authorization: " + a token */
#define MEM_INITIAL_BYTES 16384  /* first allocation of a memory body */
#define NET_HTTP_NO_POST_MAX 4   /* realms remembered as GET-only (the oldest forgotten first) */

typedef struct tok {
  char origin[ORIGIN_MAX];
  char *scope;
  char *value;                   /* "Bearer <token>" */
  int64_t expires_s;
  uint64_t stamp;                /* insertion order, to evict the oldest */
} tok;

struct net_http {
  CURL *c;
  char *ca_file, *username, *password;
  net_http_grant grant;
  int insecure;
  long connect_timeout_ms, idle_timeout_s;
  tok toks[NET_HTTP_TOKEN_CACHE_MAX];
  uint64_t stamp;
  int64_t (*now_s)(void);        /* the clock of the token cache (a test replaces it) */
  char realm_no_post[NET_HTTP_NO_POST_MAX][ORIGIN_MAX]; /* realm origins that answered a POST grant 404/405 */
  unsigned nrealm_no_post;
};

/* "scheme://host:port" of an absolute http(s) URL, lower-cased; -1 if not one. */
int net_http_origin_of(const char *url, char *out, size_t cap);
void net_http_tok_clear(tok *t);
/* 0 when rq has a URL and a body cap, else SC_ERR_ARG with rs->error set (rs zeroed first). */
int net_http_check_req(const net_http_req *rq, net_http_resp *rs);
/* A GET following redirects; auth goes to the request URL's origin only.
 * total_ms > 0 caps the whole transfer. */
int net_http_get_follow(net_http *h, const net_http_req *rq, const char *auth, net_http_resp *rs, long total_ms);

/* One attempt of a registry request with the Authorization value auth
 * (NULL: none); the token flow calls it once or twice. */
typedef int (*net_http_attempt_fn)(net_http *h, void *arg, const char *auth, net_http_resp *rs);
/* The registry token flow around attempt (net_http_token.c). */
int net_http_registry_flow(net_http *h, const char *url, const char *rscope, net_http_attempt_fn attempt, void *arg,
                           net_http_resp *rs);
#endif
