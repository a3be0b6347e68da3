/* net_http.h - the one outbound HTTP client of customs (libcurl).
 *
 * Every request customs makes to another server goes through here: the
 * docker:// scan target, the OSV refresh download, scan-on-pull blob fetches
 * (proxy/px_scan.c), webhook deliveries (proxy/px_events.c, POST) and
 * annotation pushes (proxy/px_annotate.c, net_http_registry_send).  One place
 * therefore decides:
 *   - the user agent: NET_HTTP_USER_AGENT ("customs/<version>");
 *   - TLS: system CAs, or the CA file of net_http_opts; verification off only
 *     with opts.insecure (tests);
 *   - redirects: followed here, not by curl (at most NET_HTTP_MAX_REDIRECTS,
 *     http/https only).  The Authorization of a request (the caller's, or a
 *     registry token) goes to the origin (scheme, host, port) of the request
 *     URL and NEVER to another origin a redirect points at: a blob 307 to
 *     object storage gets no credentials;
 *   - bodies: only a 2xx body is delivered, to memory (malloc'd, NUL-
 *     terminated) or to a file descriptor, never past req.max_bytes; the body
 *     of an error or redirect answer is dropped;
 *   - the registry token flow (net_http_registry_get, net_http_token.c): a
 *     401 with a `WWW-Authenticate: Bearer realm=..,service=..,scope=..`
 *     challenge is answered by a token request to the realm, the token is
 *     cached per (origin, scope) until its expiry, and the request is retried
 *     once.  The token request is the client's grant (net_http_grant):
 *     GET realm?service=..&scope=.. with Basic credentials when set (the
 *     Docker CLI's way), or an OAuth2 POST with grant_type=password or
 *     refresh_token (a POST refused 404/405 falls back to the GET, as
 *     containerd does).  A Basic challenge is answered with the Basic
 *     credentials, when set.  Credentials and tokens never appear in
 *     resp.error.
 *
 * Ownership: a net_http is one client, with one curl handle (connections are
 * reused) and its token cache; it belongs to one thread at a time.  Make one
 * per thread (scan worker, refresh thread, command).
 *
 * Errors (SC_ERR_* of sc_inventory.h): functions return 0 when an answer
 * arrived, whatever its status (look at resp.status), else SC_ERR_IO
 * (connection, TLS, timeout, write to the fd, redirect loop or bad Location),
 * SC_ERR_LIMIT (body over max_bytes), SC_ERR_NOMEM, SC_ERR_ARG; resp.error
 * then says what happened in one line. */
#ifndef CUSTOMS_NET_HTTP_H
#define CUSTOMS_NET_HTTP_H
#include <stddef.h>
#include <stdint.h>

#define NET_HTTP_USER_AGENT "customs/" PACKAGE_VERSION
#define NET_HTTP_MAX_REDIRECTS 5
#define NET_HTTP_CONNECT_TIMEOUT_MS 30000 /* default connect timeout */
#define NET_HTTP_IDLE_TIMEOUT_S 120       /* default: abort when no byte arrives for this long */
#define NET_HTTP_TOKEN_MAX_BYTES (1u << 20)
#define NET_HTTP_TOKEN_TIMEOUT_MS 30000   /* whole token request */
#define NET_HTTP_TOKEN_DEFAULT_TTL_S 60   /* expires_in absent or shorter (Docker token spec) */
#define NET_HTTP_TOKEN_MARGIN_S 5         /* renew this long before expiry */
#define NET_HTTP_TOKEN_CACHE_MAX 32       /* cached scopes per client; the oldest goes first */
#define NET_HTTP_BASIC_KEEP_S 3600        /* a Basic challenge answered: Basic sent up front this long (per scope) */

/* How a token is asked for when the client has credentials (anonymous: GET). */
typedef enum net_http_grant {
  NET_HTTP_GRANT_BASIC = 0,     /* GET realm with Basic username:password */
  NET_HTTP_GRANT_PASSWORD,      /* POST grant_type=password (GET when refused 404/405) */
  NET_HTTP_GRANT_REFRESH_TOKEN  /* POST grant_type=refresh_token, the password being the refresh token */
} net_http_grant;
#define NET_HTTP_CLIENT_ID "customs" /* client_id of the OAuth2 POST grants */

typedef struct net_http_opts {
  const char *ca_file;      /* PEM CA bundle; NULL or "" = the system CAs */
  int insecure;             /* 1 = skip certificate verification (testing only) */
  long connect_timeout_ms;  /* 0 = NET_HTTP_CONNECT_TIMEOUT_MS */
  long idle_timeout_s;      /* 0 = NET_HTTP_IDLE_TIMEOUT_S */
  const char *username;     /* Basic credentials for token realms and Basic */
  const char *password;     /* challenges (registry flow only); NULL = anonymous */
  net_http_grant grant;     /* how the token realm is asked (with credentials) */
} net_http_opts;

typedef struct net_http_req {
  const char *url;           /* http:// or https:// */
  const char *accept;        /* Accept header value, or NULL */
  const char *authorization; /* full value ("Bearer x", "Basic y"), sent to the URL's origin only;
                                NULL = none (registry flow: the cached or fetched token) */
  const char *scope;         /* registry flow: the token scope expected, e.g.
                                "repository:team/app:pull" (lets a cached token go out
                                with the first request); NULL = learn it from the challenge */
  int fd;                    /* >= 0: a 2xx body is written to this fd (from its current
                                offset); < 0: to resp.body */
  uint64_t max_bytes;        /* cap on the delivered body; 0 = no body wanted beyond 0 bytes */
  const int *abort_flag;     /* optional: the transfer stops when *abort_flag becomes nonzero
                                (read atomically; another thread may set it) */
  const char *if_none_match; /* optional validators of a conditional GET (a download fetched */
  const char *if_modified_since; /* before): the server may answer 304 Not Modified, no body */
} net_http_req;

typedef struct net_http_resp {
  long status;               /* final HTTP status (after redirects), 0 if none */
  char *body;                /* memory mode: malloc'd, NUL-terminated; caller frees */
  size_t len;                /* memory mode: body length */
  uint64_t bytes;            /* bytes delivered (both modes) */
  char content_type[128];
  char docker_digest[80];    /* Docker-Content-Digest */
  char www_authenticate[1024];
  char location[2048];       /* Location (as sent: may be relative) */
  char oci_subject[80];      /* OCI-Subject (a registry with the referrers API) */
  char link[1024];           /* Link (a paged _catalog or tags/list: <...>; rel="next"); cut at the cap */
  char etag[256];            /* ETag and Last-Modified of the answer: the validators of a */
  char last_modified[64];    /* later conditional GET (cut at the cap: a cut one costs a full download) */
  int64_t content_length;    /* Content-Length of the answer, -1 unknown (registry sends only) */
  char final_url[2048];      /* the URL that answered */
  char error[256];           /* set when the call fails, or status is not 2xx */
} net_http_resp;

/* One POST (net_http_post): a body and extra headers.  Not retried, no
 * redirect followed (a 3xx is the answer), so authorization only goes to
 * the URL's origin.  The answer's body (2xx only) is kept up to max_bytes;
 * bytes past it are dropped, not an error.  Errors name the URL's origin
 * only (a webhook URL may carry a secret in its path). */
#define NET_HTTP_POST_ANSWER_MAX_BYTES (64u << 10) /* default max_bytes of a POST's answer */
typedef struct net_http_post_req {
  const char *url;           /* http:// or https:// */
  const void *body;
  size_t len;
  const char *content_type;  /* NULL: application/json */
  const char *accept;        /* Accept header value, or NULL */
  const char *authorization; /* full value, or NULL */
  const char *const *headers;/* extra "Name: value" lines (no CR/LF), nheaders of them */
  size_t nheaders;
  long timeout_ms;           /* the whole attempt, connect included; 0 = no cap but the idle timeout */
  uint64_t max_bytes;        /* 0 = NET_HTTP_POST_ANSWER_MAX_BYTES */
  const int *abort_flag;     /* as net_http_req */
} net_http_post_req;

typedef struct net_http net_http;

/* Once per process, before any thread uses the module (idempotent). */
int net_http_global_init(void);
/* A client; opts is copied (strings too). */
int net_http_new(const net_http_opts *opts, net_http **out);
void net_http_free(net_http *h);
void net_http_resp_free(net_http_resp *r); /* frees body; the struct may be reused */

/* One GET, following redirects, with req.authorization (if any) sent only to
 * the request URL's origin.  No token flow. */
int net_http_get(net_http *h, const net_http_req *req, net_http_resp *resp);

/* One POST of req.body (see net_http_post_req); 0 when an answer arrived
 * (resp.status), else as above. */
int net_http_post(net_http *h, const net_http_post_req *req, net_http_resp *resp);

/* A registry GET: like net_http_get with req.authorization NULL, plus the
 * token flow above (one retry after a challenge). */
int net_http_registry_get(net_http *h, const net_http_req *req, net_http_resp *resp);

/* One registry request that is not a plain GET: a blob upload (POST, then
 * PUT of the body), a manifest PUT, a HEAD, a DELETE.  The token flow of
 * net_http_registry_get applies (scope: e.g. "repository:team/app:pull,push";
 * anonymous = 1 skips it: no credentials at all, for a URL on another origin
 * than the registry's, such as an upload Location elsewhere).  No redirect
 * is followed (a 3xx is the answer, its Location in resp.location), so
 * credentials only go to the URL's origin.  The 2xx answer's body is kept up
 * to max_bytes (0: NET_HTTP_POST_ANSWER_MAX_BYTES), bytes past it dropped;
 * resp.location, resp.oci_subject, resp.docker_digest and
 * resp.content_length carry the answer's headers.  Errors name the URL
 * without its query (an upload's signed _state). */
typedef struct net_http_send_req {
  const char *method;        /* PUT, POST, PATCH, HEAD, DELETE or GET */
  const char *url;
  const void *body;          /* PUT/POST/PATCH */
  size_t len;
  const char *content_type;  /* NULL: application/octet-stream */
  const char *accept;        /* or NULL */
  const char *scope;         /* token scope expected, or NULL */
  int anonymous;
  long timeout_ms;           /* the whole attempt; 0 = only the idle timeout */
  uint64_t max_bytes;
  const int *abort_flag;     /* as net_http_req */
} net_http_send_req;
int net_http_registry_send(net_http *h, const net_http_send_req *req, net_http_resp *resp);

/* The value of key="..." (or key=token) in a WWW-Authenticate challenge;
 * -1 when absent or longer than cap - 1. */
int net_http_auth_param(const char *challenge, const char *key, char *out, size_t cap);
/* Whether two absolute URLs have the same origin (scheme, host, port; the
 * default port of the scheme when absent).  Hosts compare case-insensitively. */
int net_http_same_origin(const char *a, const char *b);
#endif
