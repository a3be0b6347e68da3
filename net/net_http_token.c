/* net_http_token.c - the registry token flow of the outbound HTTP client
 * (see net_http.h): the challenge, the token request in the client's grant,
 * the token cache per (origin, scope), and the one retry.
 *
 * Why the grants: the Docker CLI asks a realm with GET and Basic
 * credentials, which every registry's token server takes (ACR, Docker Hub,
 * Harbor, distribution's); containerd POSTs an OAuth2 form first
 * (grant_type=password) and falls back to the GET on 404/405; a refresh
 * token (ACR's, from /oauth2/exchange or `az acr login --expose-token`) can
 * only be POSTed (grant_type=refresh_token).
 *
 * Secrets: the Basic value, the form body and the token answer are wiped
 * after use; errors name the realm's origin, never a credential or a token.
 * Ownership: tokens live in h->toks (freed by net_http_tok_clear).
 * Thread: the net_http's thread.  Errors: SC_ERR_* as in net_http.h. */
#include "net_http_int.h"
#include "sc_inventory.h" /* SC_ERR_* */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_FORM_MAX_BYTES 8192 /* the OAuth2 form of a POST grant */

int net_http_auth_param(const char *ch, const char *key, char *out, size_t cap) {
  size_t kl = strlen(key);
  for (const char *p = ch; (p = strcasestr(p, key)) != NULL; p++) {
    if (!(p == ch || p[-1] == ' ' || p[-1] == ',') || p[kl] != '=') continue;
    const char *v = p + kl + 1, *e;
    if (*v == '"') e = strchr(++v, '"');
    else e = v + strcspn(v, ", ");
    if (!e || (size_t)(e - v) >= cap) return -1;
    memcpy(out, v, (size_t)(e - v));
    out[e - v] = 0;
    return 0;
  }
  return -1;
}

static tok *tok_find(net_http *h, const char *origin, const char *scope) {
  int64_t now = h->now_s();
  for (int i = 0; i < NET_HTTP_TOKEN_CACHE_MAX; i++) {
    tok *t = &h->toks[i];
    if (!t->value || strcmp(t->origin, origin) || strcmp(t->scope, scope)) continue;
    if (t->expires_s <= now) {
      net_http_tok_clear(t);
      return NULL;
    }
    return t;
  }
  return NULL;
}

static int tok_put(net_http *h, const char *origin, const char *scope, const char *value, int64_t expires) {
  tok *slot = NULL;
  for (int i = 0; i < NET_HTTP_TOKEN_CACHE_MAX && !slot; i++)
    if (h->toks[i].value && !strcmp(h->toks[i].origin, origin) && !strcmp(h->toks[i].scope, scope)) slot = &h->toks[i];
  for (int i = 0; i < NET_HTTP_TOKEN_CACHE_MAX && !slot; i++)
    if (!h->toks[i].value) slot = &h->toks[i];
  if (!slot) { /* full: the oldest goes */
    slot = &h->toks[0];
    for (int i = 1; i < NET_HTTP_TOKEN_CACHE_MAX; i++)
      if (h->toks[i].stamp < slot->stamp) slot = &h->toks[i];
  }
  net_http_tok_clear(slot);
  snprintf(slot->origin, sizeof(slot->origin), "%s", origin);
  slot->scope = strdup(scope);
  slot->value = strdup(value);
  slot->expires_s = expires;
  slot->stamp = ++h->stamp;
  if (!slot->scope || !slot->value) {
    net_http_tok_clear(slot);
    return SC_ERR_NOMEM;
  }
  return 0;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* "Basic base64(user:password)" into out; -1 when it does not fit. */
static int basic_value(const char *user, const char *pass, char *out, size_t cap) {
  char raw[1024];
  int n = snprintf(raw, sizeof(raw), "%s:%s", user, pass ? pass : "");
  size_t o = 6;
  if (n < 0 || (size_t)n >= sizeof(raw) || cap < 6 + ((size_t)n + 2) / 3 * 4 + 1) return -1;
  memcpy(out, "Basic ", 6);
  for (int i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)raw[i] << 16 | (i + 1 < n ? (unsigned char)raw[i + 1] << 8 : 0) |
                 (i + 2 < n ? (unsigned char)raw[i + 2] : 0);
    out[o++] = B64[v >> 18 & 63];
    out[o++] = B64[v >> 12 & 63];
    out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? B64[v & 63] : '=';
  }
  out[o] = 0;
  explicit_bzero(raw, sizeof(raw));
  return 0;
}

/* The answer of a token realm -> "Bearer <token>" cached for (origin,
 * scope); rs is freed and wiped. */
static int keep_token(net_http *h, const char *origin, const char *scope, const char *realm_origin,
                      net_http_resp *rs, net_http_resp *why) {
  json_t *j = json_loadb(rs->body ? rs->body : "", rs->len, 0, NULL);
  const char *t = json_string_value(json_object_get(j, "token"));
  if (!t || !*t) t = json_string_value(json_object_get(j, "access_token"));
  json_int_t ttl = json_integer_value(json_object_get(j, "expires_in"));
  if (ttl < NET_HTTP_TOKEN_DEFAULT_TTL_S) ttl = NET_HTTP_TOKEN_DEFAULT_TTL_S;
  char value[HDR_LINE_MAX - 32];
  int rv = SC_ERR_IO;
  if (!t || !*t) snprintf(why->error, sizeof(why->error), "token: the answer of %.180s has no token", realm_origin);
  else if ((size_t)snprintf(value, sizeof(value), "Bearer %s", t) >= sizeof(value))
    snprintf(why->error, sizeof(why->error), "token: too long");
  else rv = tok_put(h, origin, scope, value, h->now_s() + (int64_t)ttl - NET_HTTP_TOKEN_MARGIN_S);
  explicit_bzero(value, sizeof(value));
  json_decref(j);
  if (rs->body) explicit_bzero(rs->body, rs->len);
  net_http_resp_free(rs);
  return rv;
}

static int realm_takes_post(const net_http *h, const char *realm_origin) {
  for (unsigned i = 0; i < h->nrealm_no_post && i < NET_HTTP_NO_POST_MAX; i++)
    if (!strcmp(h->realm_no_post[i], realm_origin)) return 0;
  return 1;
}

static void realm_refuses_post(net_http *h, const char *realm_origin) {
  snprintf(h->realm_no_post[h->nrealm_no_post++ % NET_HTTP_NO_POST_MAX], ORIGIN_MAX, "%s", realm_origin);
}

/* key=escaped(value) appended to the form; -1 when it does not fit. */
static int form_add(net_http *h, char *form, size_t cap, const char *key, const char *value) {
  char *e = curl_easy_escape(h->c, value, 0);
  size_t n = strlen(form);
  int w = e ? snprintf(form + n, cap - n, "%s%s=%s", n ? "&" : "", key, e) : -1;
  if (e) {
    explicit_bzero(e, strlen(e));
    curl_free(e);
  }
  return w < 0 || (size_t)w >= cap - n ? -1 : 0;
}

/* The OAuth2 POST grant (password or refresh_token): 0 with the answer in
 * rs (any status), or an SC_ERR_* (SC_ERR_ARG with why->error set). */
static int post_grant(net_http *h, const char *realm, const char *service, const char *scope, net_http_resp *rs,
                      net_http_resp *why) {
  char form[TOKEN_FORM_MAX_BYTES] = "";
  int refresh = h->grant == NET_HTTP_GRANT_REFRESH_TOKEN;
  int bad = form_add(h, form, sizeof(form), "grant_type", refresh ? "refresh_token" : "password") ||
            form_add(h, form, sizeof(form), "service", service) ||
            (*scope && form_add(h, form, sizeof(form), "scope", scope)) ||
            form_add(h, form, sizeof(form), "client_id", NET_HTTP_CLIENT_ID) ||
            (refresh ? form_add(h, form, sizeof(form), "refresh_token", h->password ? h->password : "")
                     : form_add(h, form, sizeof(form), "username", h->username) ||
                           form_add(h, form, sizeof(form), "password", h->password ? h->password : ""));
  int rv = SC_ERR_ARG;
  if (bad) {
    snprintf(why->error, sizeof(why->error), "token: the credentials do not fit a form of %d bytes",
             TOKEN_FORM_MAX_BYTES);
  } else {
    net_http_post_req pr = {.url = realm, .body = form, .len = strlen(form),
                            .content_type = "application/x-www-form-urlencoded", .accept = "application/json",
                            .timeout_ms = NET_HTTP_TOKEN_TIMEOUT_MS, .max_bytes = NET_HTTP_TOKEN_MAX_BYTES};
    rv = net_http_post(h, &pr, rs);
  }
  explicit_bzero(form, sizeof(form));
  return rv;
}

/* GET realm?service&scope, with Basic credentials when the client has
 * them: 0 with the answer in rs (any status), or an SC_ERR_* (SC_ERR_ARG
 * with why->error set). */
static int get_grant(net_http *h, const char *realm, const char *service, const char *scope, net_http_resp *rs,
                     net_http_resp *why) {
  char url[3072], basic[1500];
  char *es = curl_easy_escape(h->c, service, 0), *ec = curl_easy_escape(h->c, scope, 0);
  int n = es && ec ? snprintf(url, sizeof(url), "%s%sservice=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", es,
                              *scope ? "&scope=" : "", ec)
                   : -1;
  curl_free(es);
  curl_free(ec);
  if (n < 0 || (size_t)n >= sizeof(url)) return SC_ERR_NOMEM;
  if (h->username && basic_value(h->username, h->password, basic, sizeof(basic)) < 0) {
    snprintf(why->error, sizeof(why->error), "token: the credentials are too long for a Basic header");
    return SC_ERR_ARG;
  }
  net_http_req rq = {.url = url, .accept = "application/json", .authorization = h->username ? basic : NULL,
                     .fd = -1, .max_bytes = NET_HTTP_TOKEN_MAX_BYTES};
  int rv = net_http_get_follow(h, &rq, rq.authorization, rs, NET_HTTP_TOKEN_TIMEOUT_MS);
  explicit_bzero(basic, sizeof(basic));
  return rv;
}

/* Answers a Bearer challenge: a token from the realm in the client's grant,
 * cached for (origin, scope). */
static int fetch_token(net_http *h, const char *origin, const char *challenge, const char *scope,
                       net_http_resp *why) {
  char realm[1024], service[256] = "", realm_origin[ORIGIN_MAX];
  net_http_resp rs;
  if (net_http_auth_param(challenge, "realm", realm, sizeof(realm)) < 0 ||
      net_http_origin_of(realm, realm_origin, sizeof(realm_origin)) < 0) {
    snprintf(why->error, sizeof(why->error), "Bearer challenge without an http(s) realm");
    return SC_ERR_IO;
  }
  net_http_auth_param(challenge, "service", service, sizeof(service));
  memset(&rs, 0, sizeof(rs));
  int rv, posted = 0;
  if (h->username && h->grant != NET_HTTP_GRANT_BASIC && realm_takes_post(h, realm_origin)) {
    posted = 1;
    rv = post_grant(h, realm, service, scope, &rs, why);
    if (!rv && (rs.status == 404 || rs.status == 405)) { /* a GET-only token server */
      realm_refuses_post(h, realm_origin);
      net_http_resp_free(&rs);
      memset(&rs, 0, sizeof(rs));
      posted = 0;
    }
  }
  if (!posted) rv = get_grant(h, realm, service, scope, &rs, why);
  if (rv || rs.status != 200) {
    if (rv == SC_ERR_ARG) {
      /* post_grant or get_grant said why */
    } else if (rv) {
      snprintf(why->error, sizeof(why->error), "token: %s %.180s: no answer", posted ? "POST" : "GET", realm_origin);
    } else {
      snprintf(why->error, sizeof(why->error), "token: %s %.180s: HTTP %ld%s", posted ? "POST" : "GET", realm_origin,
               rs.status, rs.status == 401 || rs.status == 403 ? " (credentials refused)" : "");
    }
    if (rs.body) explicit_bzero(rs.body, rs.len);
    net_http_resp_free(&rs);
    return rv ? rv : SC_ERR_IO;
  }
  return keep_token(h, origin, scope, realm_origin, &rs, why);
}

/* The registry token flow around attempt (see net_http.h): a cached token
 * for (origin of url, scope) goes out with the first attempt; a 401 with a
 * Bearer challenge fetches one (a Basic challenge gets the Basic
 * credentials) and the attempt is made once more. */
int net_http_registry_flow(net_http *h, const char *url, const char *rscope, net_http_attempt_fn attempt, void *arg,
                           net_http_resp *rs) {
  char origin[ORIGIN_MAX], scope[1024], basic[1500];
  int rv;
  if (net_http_origin_of(url, origin, sizeof(origin)) < 0) {
    snprintf(rs->error, sizeof(rs->error), "not an http(s) URL: %.200s", url);
    return SC_ERR_ARG;
  }
  tok *t = rscope ? tok_find(h, origin, rscope) : NULL;
  char *sent = t ? strdup(t->value) : NULL;
  if (t && !sent) return SC_ERR_NOMEM;
  rv = attempt(h, arg, sent, rs);
  if (rv || rs->status != 401) goto out;
  const char *ch = rs->www_authenticate;
  const char *auth = NULL;
  if (!strncasecmp(ch, "Bearer ", 7)) {
    if (net_http_auth_param(ch, "scope", scope, sizeof(scope)) < 0)
      snprintf(scope, sizeof(scope), "%s", rscope ? rscope : "");
    t = tok_find(h, origin, scope);
    if (!t || (sent && !strcmp(t->value, sent))) { /* none, or the one just refused */
      char chc[sizeof(rs->www_authenticate)];
      memcpy(chc, ch, sizeof(chc));
      if ((rv = fetch_token(h, origin, chc, scope, rs))) goto out;
      t = tok_find(h, origin, scope);
    }
    if (t && rscope && strcmp(rscope, scope) && (rv = tok_put(h, origin, rscope, t->value, t->expires_s)))
      goto out;
    if (t) t = tok_find(h, origin, scope); /* tok_put may have moved slots */
    auth = t ? t->value : NULL;
  } else if (!strncasecmp(ch, "Basic", 5) && h->username && !sent) {
    if (basic_value(h->username, h->password, basic, sizeof(basic)) == 0) auth = basic;
    /* kept like a token: the next request of this scope sends it up front
     * instead of drawing the same challenge again */
    if (auth && rscope && (rv = tok_put(h, origin, rscope, basic, h->now_s() + NET_HTTP_BASIC_KEEP_S))) goto out;
  }
  if (!auth) goto out; /* the 401 stands */
  free(sent);
  if (!(sent = strdup(auth))) {
    rv = SC_ERR_NOMEM;
    goto out;
  }
  explicit_bzero(basic, sizeof(basic));
  net_http_resp_free(rs);
  memset(rs, 0, sizeof(*rs)); /* nothing of the 401 reached a fd (error bodies are dropped) */
  rv = attempt(h, arg, sent, rs);
out:
  if (sent) explicit_bzero(sent, strlen(sent));
  free(sent);
  return rv;
}

static int get_attempt(net_http *h, void *arg, const char *auth, net_http_resp *rs) {
  return net_http_get_follow(h, arg, auth, rs, 0);
}

int net_http_registry_get(net_http *h, const net_http_req *rq, net_http_resp *rs) {
  int rv = net_http_check_req(rq, rs);
  return rv ? rv : net_http_registry_flow(h, rq->url, rq->scope, get_attempt, (void *)rq, rs);
}

