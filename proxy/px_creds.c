/* px_creds.c - customs' own identity at the upstream (see px_creds.h).
 * Ownership: px_creds values belong to their callers.  Thread: any.
 * Errors: -1 with err naming the key or file, never the secret. */
#include "px_creds.h"
#include "sc_file.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

int px_creds_grant(const char *name, net_http_grant *out) {
  static const struct {
    const char *name;
    net_http_grant g;
  } G[] = {{"basic", NET_HTTP_GRANT_BASIC},
           {"password", NET_HTTP_GRANT_PASSWORD},
           {"refresh_token", NET_HTTP_GRANT_REFRESH_TOKEN}};
  for (size_t i = 0; i < sizeof(G) / sizeof(G[0]); i++)
    if (!strcmp(name, G[i].name)) return *out = G[i].g, 0;
  return -1;
}

int px_creds_load(const px_config *c, px_creds *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (px_creds_grant(c->upstream_token_grant, &out->grant) != 0) {
    snprintf(err, errlen, "upstream.token_grant: expected basic, password or refresh_token, got '%.40s'",
             c->upstream_token_grant);
    return -1;
  }
  if (!c->upstream_username[0]) return 0;
  if (strlen(c->upstream_username) >= sizeof(out->username) || strchr(c->upstream_username, ':')) {
    snprintf(err, errlen, "upstream.username: at most %zu bytes and no ':'", sizeof(out->username) - 1);
    return -1;
  }
  snprintf(out->username, sizeof(out->username), "%s", c->upstream_username);
  if (c->upstream_password_file[0]) {
    if (sc_read_secret(c->upstream_password_file, out->password, sizeof(out->password)) != 0) {
      snprintf(err, errlen, "upstream.password_file: cannot read a password from '%.200s'",
               c->upstream_password_file);
      px_creds_wipe(out);
      return -1;
    }
  } else if (c->upstream_password[0]) {
    snprintf(out->password, sizeof(out->password), "%s", c->upstream_password);
  } else {
    snprintf(err, errlen, "upstream.username is set without upstream.password or upstream.password_file");
    px_creds_wipe(out);
    return -1;
  }
  out->set = 1;
  return 0;
}

int px_creds_check(const px_config *c, char *err, size_t errlen) {
  px_creds cr;
  int rv = px_creds_load(c, &cr, err, errlen);
  px_creds_wipe(&cr);
  if (rv) return rv;
  const char *u = c->proxy_auth_url;
  if (u[0] && strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) {
    snprintf(err, errlen, "upstream.proxy_auth_url: expected an http:// or https:// URL");
    return -1;
  }
  for (const char *p = u; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == ',' || (unsigned char)*p >= 0x7f) {
      snprintf(err, errlen, "upstream.proxy_auth_url: no spaces, quotes, commas or control bytes");
      return -1;
    }
  return 0;
}

void px_creds_apply(const px_creds *cr, net_http_opts *o) {
  if (!cr->set) return;
  o->username = cr->username;
  o->password = cr->password;
  o->grant = cr->grant;
}

void px_creds_wipe(px_creds *cr) { explicit_bzero(cr, sizeof(*cr)); }
