/* net_http.c - the outbound HTTP client (see net_http.h).
 *
 * Redirects are followed here, hop by hop, with CURLOPT_FOLLOWLOCATION off:
 * curl strips a custom Authorization header on a cross-host redirect only in
 * recent versions and only by its own notion of "host"; following by hand
 * makes the rule visible and testable (same origin or no credentials).
 * Thread: a net_http is used by one thread at a time; nothing global but
 * curl's own initialisation. */
#include "net_http_int.h"
#include "sc_inventory.h" /* SC_ERR_* */

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* One transfer's state, shared by the callbacks. */
typedef struct xfer {
  const net_http_req *rq;
  net_http_resp *rs;
  long status;                   /* of the response being received */
  size_t alloc;                  /* memory mode: bytes allocated for rs->body */
  int over, werr;                /* cap exceeded; errno of a failed write */
  int trim;                      /* POST: bytes past the cap are dropped, not an error */
} xfer;

static int64_t real_now_s(void) { return (int64_t)time(NULL); }

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_rc;
static void global_init_once(void) { g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : SC_ERR_NOMEM; }

int net_http_global_init(void) {
  pthread_once(&g_once, global_init_once);
  return g_init_rc;
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

int net_http_new(const net_http_opts *o, net_http **out) {
  net_http_opts none = {0};
  net_http *h;
  *out = NULL;
  if (net_http_global_init()) return SC_ERR_NOMEM;
  if (!o) o = &none;
  if (!(h = calloc(1, sizeof(*h)))) return SC_ERR_NOMEM;
  h->c = curl_easy_init();
  h->ca_file = dup_or_null(o->ca_file);
  h->username = dup_or_null(o->username);
  h->password = o->password ? strdup(o->password) : NULL;
  h->insecure = o->insecure;
  h->grant = o->grant;
  h->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : NET_HTTP_CONNECT_TIMEOUT_MS;
  h->idle_timeout_s = o->idle_timeout_s > 0 ? o->idle_timeout_s : NET_HTTP_IDLE_TIMEOUT_S;
  h->now_s = real_now_s;
  if (!h->c || (o->ca_file && *o->ca_file && !h->ca_file) || (o->username && *o->username && !h->username) ||
      (o->password && !h->password)) {
    net_http_free(h);
    return SC_ERR_NOMEM;
  }
  *out = h;
  return 0;
}

void net_http_tok_clear(tok *t) {
  free(t->scope);
  if (t->value) explicit_bzero(t->value, strlen(t->value));
  free(t->value);
  memset(t, 0, sizeof(*t));
}

void net_http_free(net_http *h) {
  if (!h) return;
  for (int i = 0; i < NET_HTTP_TOKEN_CACHE_MAX; i++) net_http_tok_clear(&h->toks[i]);
  if (h->c) curl_easy_cleanup(h->c);
  free(h->ca_file);
  free(h->username);
  if (h->password) explicit_bzero(h->password, strlen(h->password));
  free(h->password);
  free(h);
}

void net_http_resp_free(net_http_resp *r) {
  free(r->body);
  r->body = NULL;
  r->len = 0;
}

/* ---- origins ------------------------------------------------------------- */

/* "scheme://host:port" of an absolute http(s) URL, lower-cased; -1 if not one. */
int net_http_origin_of(const char *url, char *out, size_t cap) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int rv = -1;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
      (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https")) &&
      (size_t)snprintf(out, cap, "%s://%s:%s", scheme, host, port) < cap) {
    for (char *p = out; *p; p++)
      if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    rv = 0;
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return rv;
}

int net_http_same_origin(const char *a, const char *b) {
  char oa[ORIGIN_MAX], ob[ORIGIN_MAX];
  return net_http_origin_of(a, oa, sizeof(oa)) == 0 && net_http_origin_of(b, ob, sizeof(ob)) == 0 && !strcmp(oa, ob);
}

/* ---- one hop --------------------------------------------------------------- */

static void hdr_copy(char *dst, size_t cap, const char *v, size_t n) {
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  while (n && (*v == ' ' || *v == '\t')) v++, n--;
  if (n >= cap) n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud) {
  xfer *x = ud;
  net_http_resp *rs = x->rs;
  size_t n = sz * nm;
  static const struct {
    const char *name;
    size_t off, cap;
  } H[] = {
      {"content-type:", offsetof(net_http_resp, content_type), sizeof(((net_http_resp *)0)->content_type)},
      {"docker-content-digest:", offsetof(net_http_resp, docker_digest), sizeof(((net_http_resp *)0)->docker_digest)},
      {"www-authenticate:", offsetof(net_http_resp, www_authenticate),
       sizeof(((net_http_resp *)0)->www_authenticate)},
      {"location:", offsetof(net_http_resp, location), sizeof(((net_http_resp *)0)->location)},
      {"oci-subject:", offsetof(net_http_resp, oci_subject), sizeof(((net_http_resp *)0)->oci_subject)},
      {"link:", offsetof(net_http_resp, link), sizeof(((net_http_resp *)0)->link)},
      {"etag:", offsetof(net_http_resp, etag), sizeof(((net_http_resp *)0)->etag)},
      {"last-modified:", offsetof(net_http_resp, last_modified), sizeof(((net_http_resp *)0)->last_modified)},
  };
  if (n > 5 && !strncmp(p, "HTTP/", 5)) { /* a new response (a 100, a redirect, the answer) */
    const char *sp = memchr(p, ' ', n);
    x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    rs->content_type[0] = rs->docker_digest[0] = rs->www_authenticate[0] = 0;
    rs->location[0] = rs->oci_subject[0] = rs->link[0] = rs->etag[0] = rs->last_modified[0] = 0;
    rs->content_length = -1;
    return n;
  }
  if (n > 15 && !strncasecmp(p, "content-length:", 15)) {
    char v[32];
    hdr_copy(v, sizeof(v), p + 15, n - 15);
    char *end;
    long long cl = strtoll(v, &end, 10);
    rs->content_length = end != v && !*end && cl >= 0 ? (int64_t)cl : -1;
  }
  for (size_t i = 0; i < sizeof(H) / sizeof(H[0]); i++) {
    size_t hl = strlen(H[i].name);
    if (n > hl && !strncasecmp(p, H[i].name, hl)) hdr_copy((char *)rs + H[i].off, H[i].cap, p + hl, n - hl);
  }
  return n;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud) {
  xfer *x = ud;
  net_http_resp *rs = x->rs;
  size_t n = sz * nm;
  if (x->status < 200 || x->status > 299) return n; /* an error or redirect body: dropped */
  if (rs->bytes + n > x->rq->max_bytes) {
    if (x->trim) return n; /* a POST answer: its status is what counts (the transfer has a deadline) */
    x->over = 1;
    return 0; /* aborts the transfer */
  }
  if (x->rq->fd >= 0) {
    for (size_t off = 0; off < n;) {
      ssize_t w = write(x->rq->fd, p + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        x->werr = w < 0 ? errno : EIO;
        return 0;
      }
      off += (size_t)w;
    }
  } else {
    if (rs->len + n + 1 > x->alloc) {
      size_t want = x->alloc ? x->alloc : MEM_INITIAL_BYTES;
      while (want < rs->len + n + 1) want *= 2;
      char *nb = realloc(rs->body, want);
      if (!nb) return 0;
      rs->body = nb;
      x->alloc = want;
    }
    memcpy(rs->body + rs->len, p, n);
    rs->len += n;
    rs->body[rs->len] = 0;
  }
  rs->bytes += n;
  return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  xfer *x = ud;
  (void)dt, (void)dn, (void)ut, (void)un;
  return x->rq->abort_flag && __atomic_load_n(x->rq->abort_flag, __ATOMIC_SEQ_CST);
}

/* A POST's body and extra headers (net_http_post), or a registry send's
 * method and body (net_http_registry_send); NULL for a GET. */
typedef struct post_body {
  const void *data;
  size_t len;
  const char *content_type;
  const char *const *headers;
  size_t nheaders;
  const char *method;          /* NULL: POST (a webhook) */
} post_body;

/* Whether a send of this method carries a body (PUT, POST, PATCH). */
static int method_has_body(const char *m) { return !m || !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH"); }

/* GETs (or, with pb, POSTs) url once (no redirect followed).  On a
 * redirect, *next gets the absolute target (curl_free it).  total_ms:
 * whole-transfer cap, 0 = none. */
static int hop(net_http *h, const char *url, const char *auth, const net_http_req *rq, net_http_resp *rs,
               long total_ms, const post_body *pb, char **next) {
  struct curl_slist *hl = NULL, *t;
  char line[HDR_LINE_MAX];
  xfer x = {rq, rs, 0, 0, 0, 0, pb != NULL};
  int rv = 0;
  const char *verb = pb ? (pb->method ? pb->method : "POST") : "GET", *shown = url;
  char org[ORIGIN_MAX];
  int body = pb && method_has_body(pb->method);
  /* a webhook URL may hold a secret in its path or query: errors name its
   * origin only; any other URL its path without the query (an upload's
   * signed _state, a blob store's signature) */
  if (pb && !pb->method && net_http_origin_of(url, org, sizeof(org)) == 0) shown = org;
  else if ((!pb || pb->method) && (size_t)snprintf(org, sizeof(org), "%.*s", (int)strcspn(url, "?"), url) < sizeof(org))
    shown = org;
  *next = NULL;
  if (pb) {
    /* "Expect: 100-continue" would hold a body over 1 KiB for a second
     * waiting on receivers that never send 100 */
    if (!(t = curl_slist_append(hl, "Expect:"))) goto nomem;
    hl = t;
    if (body) {
      snprintf(line, sizeof(line), "Content-Type: %s", pb->content_type ? pb->content_type : "application/json");
      if (!(t = curl_slist_append(hl, line))) goto nomem;
      hl = t;
    }
    for (size_t i = 0; i < pb->nheaders; i++) {
      if (!pb->headers[i] || strpbrk(pb->headers[i], "\r\n")) {
        snprintf(rs->error, sizeof(rs->error), "bad request header");
        curl_slist_free_all(hl);
        return SC_ERR_ARG;
      }
      if (!(t = curl_slist_append(hl, pb->headers[i]))) goto nomem;
      hl = t;
    }
  }
  if (rq->accept) {
    snprintf(line, sizeof(line), "Accept: %s", rq->accept);
    if (!(t = curl_slist_append(hl, line))) goto nomem;
    hl = t;
  }
  /* validators come from an earlier answer of the same URL: one line each */
  const char *cond[2][2] = {{"If-None-Match", rq->if_none_match}, {"If-Modified-Since", rq->if_modified_since}};
  for (int i = 0; i < 2 && !pb; i++) {
    if (!cond[i][1] || !*cond[i][1] || strpbrk(cond[i][1], "\r\n")) continue;
    snprintf(line, sizeof(line), "%s: %s", cond[i][0], cond[i][1]);
    if (!(t = curl_slist_append(hl, line))) goto nomem;
    hl = t;
  }
  if (auth) {
    if ((size_t)snprintf(line, sizeof(line), "Authorization: %s", auth) >= sizeof(line)) {
      snprintf(rs->error, sizeof(rs->error), "Authorization value too long");
      return SC_ERR_ARG;
    }
    t = curl_slist_append(hl, line);
    explicit_bzero(line, sizeof(line));
    if (!t) goto nomem;
    hl = t;
  }
  CURL *c = h->c;
  curl_easy_reset(c); /* keeps the connection cache */
  curl_easy_setopt(c, CURLOPT_URL, url);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, pb->len ? pb->data : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)pb->len);
    if (pb->method && strcmp(pb->method, "POST")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, pb->method);
  } else if (pb && !strcmp(pb->method, "HEAD")) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (pb && strcmp(pb->method, "GET")) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, pb->method);
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* see the top of the file */
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(c, CURLOPT_USERAGENT, NET_HTTP_USER_AGENT);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->idle_timeout_s);
  if (total_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
  if (h->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
  if (h->insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  if (rq->abort_flag) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
  }
  CURLcode cr = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hl); /* the list held the credentials: wipe is best effort (curl copies) */
  rs->status = 0;
  if (cr == CURLE_OK) {
    char *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
    if (rs->status == 301 || rs->status == 302 || rs->status == 303 || rs->status == 307 || rs->status == 308) {
      if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc && !(*next = strdup(loc)))
        return SC_ERR_NOMEM;
    }
  } else if (x.over) {
    snprintf(rs->error, sizeof(rs->error), "%s %.200s: body larger than %llu bytes", verb, shown,
             (unsigned long long)rq->max_bytes);
    rv = SC_ERR_LIMIT;
  } else if (x.werr) {
    snprintf(rs->error, sizeof(rs->error), "%s %.200s: writing the body: %s", verb, shown, strerror(x.werr));
    rv = SC_ERR_IO;
  } else {
    snprintf(rs->error, sizeof(rs->error), "%s %.200s: %s", verb, shown,
             cr == CURLE_ABORTED_BY_CALLBACK ? "stopped" : curl_easy_strerror(cr));
    rv = cr == CURLE_WRITE_ERROR && !x.werr ? SC_ERR_NOMEM : SC_ERR_IO;
  }
  return rv;
nomem:
  curl_slist_free_all(hl);
  return SC_ERR_NOMEM;
}

/* Follows redirects; auth goes to the request URL's origin only. */
int net_http_get_follow(net_http *h, const net_http_req *rq, const char *auth, net_http_resp *rs, long total_ms) {
  char *url = strdup(rq->url), *next = NULL;
  int rv = 0;
  if (!url) return SC_ERR_NOMEM;
  for (int hops = 0;; hops++) {
    const char *a = auth && net_http_same_origin(rq->url, url) ? auth : NULL;
    rv = hop(h, url, a, rq, rs, total_ms, NULL, &next);
    snprintf(rs->final_url, sizeof(rs->final_url), "%s", url);
    if (rv || !next) break;
    if (hops >= NET_HTTP_MAX_REDIRECTS) {
      snprintf(rs->error, sizeof(rs->error), "GET %.*s: more than %d redirects", (int)strcspn(rq->url, "?"), rq->url,
               NET_HTTP_MAX_REDIRECTS);
      rv = SC_ERR_IO;
      break;
    }
    char o[ORIGIN_MAX];
    if (net_http_origin_of(next, o, sizeof(o)) < 0) {
      snprintf(rs->error, sizeof(rs->error), "GET %.*s: redirect to a non-http(s) location", (int)strcspn(url, "?"), url);
      rv = SC_ERR_IO;
      break;
    }
    free(url);
    url = next;
    next = NULL;
  }
  free(next);
  free(url);
  if (!rv && (rs->status < 200 || rs->status > 299))
    snprintf(rs->error, sizeof(rs->error), "GET %.*s: HTTP %ld", (int)(strcspn(rs->final_url, "?") < 200 ? strcspn(rs->final_url, "?") : 200),
             rs->final_url, rs->status);
  return rv;
}

int net_http_check_req(const net_http_req *rq, net_http_resp *rs) {
  memset(rs, 0, sizeof(*rs));
  if (!rq || !rq->url || !rq->max_bytes) {
    snprintf(rs->error, sizeof(rs->error), "bad request (no URL or no body cap)");
    return SC_ERR_ARG;
  }
  return 0;
}

int net_http_get(net_http *h, const net_http_req *rq, net_http_resp *rs) {
  int rv = net_http_check_req(rq, rs);
  return rv ? rv : net_http_get_follow(h, rq, rq->authorization, rs, 0);
}

/* ---- registry sends (PUT, POST, HEAD, DELETE) -------------------------------- */

typedef struct send_ctx {
  const net_http_send_req *sr;
  net_http_req rq;
  post_body pb;
} send_ctx;

static int send_attempt(net_http *h, void *arg, const char *auth, net_http_resp *rs) {
  send_ctx *sc = arg;
  char *next = NULL;
  memset(rs, 0, sizeof(*rs));
  rs->content_length = -1;
  int rv = hop(h, sc->sr->url, auth, &sc->rq, rs, sc->sr->timeout_ms, &sc->pb, &next);
  free(next); /* not followed: a redirect's status is the answer */
  snprintf(rs->final_url, sizeof(rs->final_url), "%s", sc->sr->url);
  if (!rv && (rs->status < 200 || rs->status > 299))
    snprintf(rs->error, sizeof(rs->error), "%s %.*s: HTTP %ld", sc->sr->method, (int)strcspn(sc->sr->url, "?"),
             sc->sr->url, rs->status);
  return rv;
}

int net_http_registry_send(net_http *h, const net_http_send_req *sr, net_http_resp *rs) {
  memset(rs, 0, sizeof(*rs));
  rs->content_length = -1;
  if (!h || !sr || !sr->url || !sr->method || (sr->len && !sr->body) ||
      (strcmp(sr->method, "PUT") && strcmp(sr->method, "POST") && strcmp(sr->method, "PATCH") &&
       strcmp(sr->method, "HEAD") && strcmp(sr->method, "DELETE") && strcmp(sr->method, "GET"))) {
    snprintf(rs->error, sizeof(rs->error), "bad registry request");
    return SC_ERR_ARG;
  }
  send_ctx sc = {sr,
                 {.url = sr->url, .accept = sr->accept, .fd = -1,
                  .max_bytes = sr->max_bytes ? sr->max_bytes : NET_HTTP_POST_ANSWER_MAX_BYTES,
                  .abort_flag = sr->abort_flag},
                 {sr->body, sr->len, sr->content_type ? sr->content_type : "application/octet-stream", NULL, 0,
                  sr->method}};
  /* a GET answer over the cap is an error, as for net_http_get; other
   * methods' answers are only looked at for their status and headers */
  if (sr->anonymous) return send_attempt(h, &sc, NULL, rs);
  return net_http_registry_flow(h, sr->url, sr->scope, send_attempt, &sc, rs);
}

/* ---- POST ---------------------------------------------------------------- */

int net_http_post(net_http *h, const net_http_post_req *pr, net_http_resp *rs) {
  char *next = NULL;
  memset(rs, 0, sizeof(*rs));
  if (!h || !pr || !pr->url || (pr->len && !pr->body) || (pr->nheaders && !pr->headers)) {
    snprintf(rs->error, sizeof(rs->error), "bad POST request");
    return SC_ERR_ARG;
  }
  char o[ORIGIN_MAX];
  if (net_http_origin_of(pr->url, o, sizeof(o)) < 0) {
    snprintf(rs->error, sizeof(rs->error), "not an http(s) URL");
    return SC_ERR_ARG;
  }
  net_http_req rq = {.url = pr->url, .accept = pr->accept, .fd = -1,
                     .max_bytes = pr->max_bytes ? pr->max_bytes : NET_HTTP_POST_ANSWER_MAX_BYTES,
                     .abort_flag = pr->abort_flag};
  post_body pb = {pr->body, pr->len, pr->content_type, pr->headers, pr->nheaders, NULL};
  /* one hop: a redirect is not followed (its status is the answer), so the
   * Authorization only ever goes to the URL's own origin */
  int rv = hop(h, pr->url, pr->authorization, &rq, rs, pr->timeout_ms, &pb, &next);
  free(next);
  snprintf(rs->final_url, sizeof(rs->final_url), "%s", pr->url);
  if (!rv && (rs->status < 200 || rs->status > 299))
    snprintf(rs->error, sizeof(rs->error), "POST: HTTP %ld", rs->status);
  return rv;
}
