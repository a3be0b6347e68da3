/* px_authrealm.c - token realms on the upstream's origin pointed at
 * customs (see px_authrealm.h).
 * Ownership: nothing kept.  Thread: loop thread for px_authrealm_apply.
 * Errors: anything doubtful leaves the challenge as the registry sent it. */
#include "px_authrealm.h"
#include "net_http.h"
#include "px_headers.h"
#include "px_log.h"
#include "px_xchg.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define REALM_MAX_BYTES 2048 /* a realm URL looked at */

int px_authrealm_host_ok(const char *s) {
  if (!s || !*s || strlen(s) > 255) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr(".-_:[]", *p)))
      return 0;
  return 1;
}

/* The realm parameter of the Bearer challenge: [*vs, *ve) is its value
 * (without quotes).  -1 when absent. */
static int find_realm(const char *ch, const char **vs, const char **ve) {
  if (strncasecmp(ch, "Bearer ", 7) != 0) return -1;
  for (const char *p = ch + 7; (p = strcasestr(p, "realm=")) != NULL; p++) {
    if (!(p[-1] == ' ' || p[-1] == ',')) continue;
    const char *v = p + 6;
    if (*v == '"') {
      *vs = v + 1;
      *ve = strchr(v + 1, '"');
    } else {
      *vs = v;
      *ve = v + strcspn(v, ", ");
    }
    return *ve ? 0 : -1;
  }
  return -1;
}

int px_authrealm_rewrite(const char *ch, const char *up_origin, const char *base, char *out, size_t cap) {
  const char *vs, *ve;
  char realm[REALM_MAX_BYTES];
  if (!ch || find_realm(ch, &vs, &ve) != 0) return 0;
  size_t rl = (size_t)(ve - vs);
  if (rl >= sizeof(realm)) return -1;
  memcpy(realm, vs, rl);
  realm[rl] = 0;
  if (memchr(realm, '\\', rl)) return -1;
  if (!net_http_same_origin(realm, up_origin)) return 0;
  /* path and query of the realm: past "scheme://authority" */
  const char *rest = strstr(realm, "://");
  rest = rest ? rest + 3 + strcspn(rest + 3, "/?") : realm + rl;
  int quoted = vs > ch && vs[-1] == '"';
  int n = snprintf(out, cap, "%.*s%s%s%s%s%s", (int)(vs - ch - quoted), ch, quoted ? "\"" : "", base, rest,
                   quoted ? "\"" : "", ve + quoted);
  return n < 0 || (size_t)n >= cap ? -1 : 1;
}

/* customs' address as this client reached it, into base; -1 when unknown. */
static int customs_base(const px_xchg *x, char *base, size_t cap) {
  const char *u = x->ctx->cfg->proxy_auth_url;
  if (u[0]) {
    size_t n = strlen(u);
    while (n && u[n - 1] == '/') n--;
    return (size_t)snprintf(base, cap, "%.*s", (int)n, u) < cap ? 0 : -1;
  }
  if (!px_authrealm_host_ok(x->authority)) return -1;
  return (size_t)snprintf(base, cap, "%s://%s", x->tls ? "https" : "http", x->authority) < cap ? 0 : -1;
}

void px_authrealm_apply(px_xchg *x) {
  char base[PX_PATH_MAX], out[PX_AUTHREALM_MAX_BYTES];
  if (!x->ctx->cfg->proxy_auth || x->resp_status != 401) return;
  for (size_t i = 0; i < x->resp.n; i++) {
    px_header *f = &x->resp.f[i];
    if (strcmp(f->name, "www-authenticate") != 0) continue;
    if (customs_base(x, base, sizeof(base)) != 0) {
      px_debug("req=%llu proxy_auth: no usable Host: the token realm is passed as it is", (unsigned long long)x->id);
      return;
    }
    int rc = px_authrealm_rewrite(f->value, x->ctx->up_origin, base, out, sizeof(out));
    if (rc < 0) px_warn("req=%llu proxy_auth: a token realm customs cannot rewrite safely passes as it is",
                        (unsigned long long)x->id);
    if (rc != 1) continue;
    char *v = strdup(out);
    if (!v) continue;
    x->resp.bytes += strlen(v) - f->valuelen;
    free(f->value);
    f->value = v;
    f->valuelen = strlen(v);
  }
}
