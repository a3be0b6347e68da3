/* test_authrealm.c - upstream.proxy_auth (proxy/px_authrealm.c): which
 * WWW-Authenticate challenges get their realm moved to customs' address
 * (a Bearer realm on the upstream's origin, quoted or not, with the path and
 * query kept, service and scope untouched) and which pass as they are
 * (another origin, another port, a Basic challenge, a realm with a
 * backslash, a result over the cap, a Host that is not a host); and the
 * apply step on a fake exchange (401 only, the configured URL over the
 * Host, proxy_auth off). */
#include "../../proxy/px_authrealm.c"
#include "tap.h"
#include <stdlib.h>

#define UP "https://reg.azurecr.io"
#define BASE "http://127.0.0.1:5000"

static void test_rewrite(void) {
  char out[PX_AUTHREALM_MAX_BYTES];
  CHECK_INT(px_authrealm_rewrite("Bearer realm=\"https://reg.azurecr.io/oauth2/token\",service=\"reg.azurecr.io\","
                                 "scope=\"repository:app:pull\"",
                                 UP, BASE, out, sizeof(out)),
            1, "ACR's realm on the upstream's origin: rewritten");
  CHECK_STR(out,
            "Bearer realm=\"http://127.0.0.1:5000/oauth2/token\",service=\"reg.azurecr.io\","
            "scope=\"repository:app:pull\"",
            "origin replaced, path kept, service and scope untouched");
  CHECK_INT(px_authrealm_rewrite("Bearer realm=https://REG.azurecr.io:443/service/token?x=1,service=s", UP, BASE, out,
                                 sizeof(out)),
            1, "unquoted realm, explicit default port, upper-case host: same origin");
  CHECK_STR(out, "Bearer realm=http://127.0.0.1:5000/service/token?x=1,service=s", "query kept, unquoted kept");
  CHECK_INT(px_authrealm_rewrite("bearer service=\"s\", realm=\"https://reg.azurecr.io/oauth2/token\"", UP, BASE, out,
                                 sizeof(out)),
            1, "scheme case-insensitive, realm not first");
  CHECK_STR(out, "bearer service=\"s\", realm=\"http://127.0.0.1:5000/oauth2/token\"", "only the realm changes");
  CHECK_INT(px_authrealm_rewrite("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"", UP,
                                 BASE, out, sizeof(out)),
            0, "a realm on another host passes as it is");
  CHECK_INT(px_authrealm_rewrite("Bearer realm=\"https://reg.azurecr.io:8443/oauth2/token\"", UP, BASE, out,
                                 sizeof(out)),
            0, "same host, another port: another origin, unchanged");
  CHECK_INT(px_authrealm_rewrite("Bearer realm=\"http://reg.azurecr.io/oauth2/token\"", UP, BASE, out, sizeof(out)),
            0, "same host, another scheme: unchanged");
  CHECK_INT(px_authrealm_rewrite("Basic realm=\"https://reg.azurecr.io/\"", UP, BASE, out, sizeof(out)), 0,
            "a Basic challenge is not a token realm");
  CHECK_INT(px_authrealm_rewrite("Bearer service=\"s\"", UP, BASE, out, sizeof(out)), 0, "no realm: unchanged");
  CHECK_INT(px_authrealm_rewrite("Bearer xrealm=\"https://reg.azurecr.io/t\"", UP, BASE, out, sizeof(out)), 0,
            "a parameter that only ends in realm is not the realm");
  CHECK_INT(px_authrealm_rewrite("Bearer realm=\"https://reg.azurecr.io/t\\\"x\"", UP, BASE, out, sizeof(out)), -1,
            "a backslash in the realm: not rewritten (escapes are not guessed)");
  CHECK(px_authrealm_rewrite("Bearer realm=\"https://reg.azurecr.io/oauth2/token", UP, BASE, out, sizeof(out)) != 1,
        "an unterminated quote: not rewritten");
  CHECK_INT(px_authrealm_rewrite("Bearer realm=\"https://reg.azurecr.io/oauth2/token\"", UP, BASE, out, 20), -1,
            "over the cap: not rewritten");
  CHECK(px_authrealm_host_ok("127.0.0.1:5000") && px_authrealm_host_ok("[::1]:443") &&
            px_authrealm_host_ok("registry.example.com"),
        "host_ok: names, v4 and v6 with ports");
  CHECK(!px_authrealm_host_ok("a\"b") && !px_authrealm_host_ok("a b") && !px_authrealm_host_ok("a,b") &&
            !px_authrealm_host_ok("a/b") && !px_authrealm_host_ok("") && !px_authrealm_host_ok(NULL),
        "host_ok: quotes, spaces, commas, slashes and empty refused");
}

static px_config cfg;
static px_ctx ctx;

static px_xchg *fake(int status, const char *authority, const char *challenge) {
  px_xchg *x = calloc(1, sizeof(*x));
  x->ctx = &ctx;
  x->resp_status = status;
  x->authority = authority ? strdup(authority) : NULL;
  px_headers_init(&x->resp);
  px_headers_set(&x->resp, "www-authenticate", challenge);
  return x;
}

static void unfake(px_xchg *x) {
  px_headers_free(&x->resp);
  free(x->authority);
  free(x);
}

static void test_apply(void) {
  const char *ch = "Bearer realm=\"https://reg.azurecr.io/oauth2/token\",service=\"reg.azurecr.io\"";
  px_config_defaults(&cfg);
  ctx.cfg = &cfg;
  snprintf(ctx.up_origin, sizeof(ctx.up_origin), "%s", UP);
  px_xchg *x = fake(401, "customs.local:5000", ch);
  px_authrealm_apply(x);
  CHECK_STR(px_headers_get(&x->resp, "www-authenticate"), ch, "proxy_auth off: the challenge passes as it is");
  cfg.proxy_auth = 1;
  px_authrealm_apply(x);
  CHECK_STR(px_headers_get(&x->resp, "www-authenticate"),
            "Bearer realm=\"http://customs.local:5000/oauth2/token\",service=\"reg.azurecr.io\"",
            "proxy_auth: the realm names the Host the client used");
  unfake(x);
  x = fake(401, "customs.local:5000", ch);
  x->tls = 1;
  snprintf(cfg.proxy_auth_url, sizeof(cfg.proxy_auth_url), "https://registry.example.com/");
  px_authrealm_apply(x);
  CHECK_STR(px_headers_get(&x->resp, "www-authenticate"),
            "Bearer realm=\"https://registry.example.com/oauth2/token\",service=\"reg.azurecr.io\"",
            "proxy_auth_url wins over the Host (its trailing slash dropped)");
  unfake(x);
  cfg.proxy_auth_url[0] = 0;
  x = fake(401, "evil\",x=\"y", ch);
  px_authrealm_apply(x);
  CHECK_STR(px_headers_get(&x->resp, "www-authenticate"), ch, "a Host with a quote: the challenge is not rewritten");
  unfake(x);
  x = fake(200, "customs.local:5000", ch);
  px_authrealm_apply(x);
  CHECK_STR(px_headers_get(&x->resp, "www-authenticate"), ch, "only a 401 is rewritten");
  unfake(x);
}

int main(void) {
  test_rewrite();
  test_apply();
  return tap_done();
}
