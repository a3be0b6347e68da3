/* test_intercept.c - customs' interception (px_intercept.c), h2o-style:
 * the module is #included; its pure parts are called directly and its
 * answers are observed through a fake front end on a real px_xchg.
 * Covers upload range handling (range_start), Bearer token parsing for the
 * HEAD rule (px_gate_token_can_push, linked from px_gate.c), the 403 a
 * denied pull gets (JSON body, Warning header that cannot break out of its
 * quotes, the upstream let go through px_upstream_detach), the ops table,
 * the hook states' names, and that a context without a scanner leaves every
 * request to the plain proxy.
 *
 * Ownership: everything is the test's.  Thread: one (the loop's). */
#include "../../proxy/px_intercept.c"
#include "../../proxy/px_pullgate.c"
#include "tap.h"
#include <event2/event.h>

/* base64url without padding, as registries' JWTs are written */
static void b64url(const char *in, char *out) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(in), o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? (unsigned char)in[i + 2] : 0);
    out[o++] = a[v >> 18 & 63];
    out[o++] = a[v >> 12 & 63];
    if (i + 1 < n) out[o++] = a[v >> 6 & 63];
    if (i + 2 < n) out[o++] = a[v & 63];
  }
  out[o] = 0;
}

static const char *bearer(const char *payload_json) {
  static char h[4096];
  char p[3000];
  b64url(payload_json, p);
  snprintf(h, sizeof(h), "Bearer eyJhbGciOiJSUzI1NiJ9.%s.c2ln", p);
  return h;
}

static void test_range_start(void) {
  CHECK_INT(range_start(NULL), -1, "no Content-Range: unknown");
  CHECK_INT(range_start("0-99"), 0, "start-end as docker sends it");
  CHECK_INT(range_start("1048576-2097151"), 1048576, "a later chunk");
  CHECK_INT(range_start("bytes 5-9"), 5, "'bytes ' prefix (RFC 9110 form)");
  CHECK_INT(range_start("bytes=7-"), 7, "'bytes=' prefix, open end");
  CHECK_INT(range_start("abc"), -1, "not a number");
  CHECK_INT(range_start("-5"), -1, "no start");
  CHECK_INT(range_start("5"), -1, "no dash");
  CHECK_INT(range_start("5 -9"), -1, "junk between start and dash");
  CHECK_INT(range_start("-1-2"), -1, "a negative start");
  CHECK_INT(range_start("bytes */100"), -1, "an unsatisfied-range form");
}

static void test_token(void) {
  int bearer_seen = -1;
  CHECK_INT(px_gate_token_can_push(NULL, "team/app", &bearer_seen), 0, "no Authorization: no push");
  CHECK_INT(bearer_seen, 0, "and no bearer");
  CHECK_INT(px_gate_token_can_push("Basic dXNlcjpwYXNz", "team/app", &bearer_seen), 0, "basic auth: cannot tell");
  CHECK_INT(bearer_seen, 0, "basic is not a bearer");
  const char *push = bearer("{\"access\":[{\"type\":\"repository\",\"name\":\"team/app\",\"actions\":[\"pull\",\"push\"]}]}");
  CHECK_INT(px_gate_token_can_push(push, "team/app", &bearer_seen), 1, "push granted on the repository");
  CHECK_INT(bearer_seen, 1, "a bearer token");
  CHECK_INT(px_gate_token_can_push(push, "team/other", &bearer_seen), 0, "not on another repository");
  const char *pull = bearer("{\"access\":[{\"type\":\"repository\",\"name\":\"team/app\",\"actions\":[\"pull\"]}]}");
  CHECK_INT(px_gate_token_can_push(pull, "team/app", &bearer_seen), 0, "pull only: no push");
  const char *star = bearer("{\"access\":[{\"type\":\"repository\",\"name\":\"*\",\"actions\":[\"*\"]}]}");
  CHECK_INT(px_gate_token_can_push(star, "any/repo", &bearer_seen), 1, "wildcard name and action");
  const char *reg = bearer("{\"access\":[{\"type\":\"registry\",\"name\":\"team/app\",\"actions\":[\"push\"]}]}");
  CHECK_INT(px_gate_token_can_push(reg, "team/app", &bearer_seen), 0, "only type repository counts");
  const char *many = bearer("{\"access\":[{\"type\":\"repository\",\"name\":\"a\",\"actions\":[\"pull\"]},"
                            "{\"type\":\"repository\",\"name\":\"team/app\",\"actions\":[\"push\"]}]}");
  CHECK_INT(px_gate_token_can_push(many, "team/app", &bearer_seen), 1, "the matching entry among several");
  CHECK_INT(px_gate_token_can_push("Bearer opaque-token", "team/app", &bearer_seen), 0, "an opaque token: no push");
  CHECK_INT(bearer_seen, 1, "but it is a bearer (the HEAD rule then denies)");
  CHECK_INT(px_gate_token_can_push("Bearer a.!!!.c", "team/app", &bearer_seen), 0, "bad base64: no push");
  CHECK_INT(px_gate_token_can_push(bearer("not json"), "team/app", &bearer_seen), 0, "not JSON: no push");
  CHECK_INT(px_gate_token_can_push("bearer " "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "team/app", &bearer_seen), 0,
            "an empty claim set: no push");
  CHECK_INT(bearer_seen, 1, "the scheme is matched without case");
}

/* ---- a real exchange with a fake front, for the answers ---- */

typedef struct front {
  int heads, datas, status;
  char body[2048];
} front;

static void f_response(px_xchg *x) {
  front *f = x->front;
  f->heads++;
  f->status = x->resp_status;
}
static void f_data(px_xchg *x) {
  front *f = x->front;
  f->datas++;
  int n = evbuffer_remove(x->resp_body, f->body, sizeof(f->body) - 1);
  f->body[n > 0 ? n : 0] = 0;
}
static void f_nop(px_xchg *x) { (void)x; }
static const px_front_ops fops = {f_response, f_data, f_nop, f_nop};

static px_ctx ctx;
static px_config cfg;

static px_xchg *new_x(front *f, const char *method, const char *path) {
  px_xchg *x = px_xchg_new(&ctx, &fops, f);
  memset(f, 0, sizeof(*f));
  snprintf(x->method, sizeof(x->method), "%s", method);
  x->path = strdup(path);
  px_route_parse(x->path, &x->route);
  return x;
}

static void test_gate_deny(void) {
  front f;
  px_xchg *x = new_x(&f, "GET", "/v2/team/app/manifests/1.0");
  x->held = 1;
  x->resp_limit = SC_MANIFEST_MAX_BYTES;
  px_pull_deny(x, "critical \"CVE\"\r\nInjected: yes", "no-critical", "[{\"id\":\"CVE-1\"}]", "sha256:abc");
  CHECK_INT(f.heads, 1, "the client gets one head");
  CHECK_INT(f.status, 403, "403");
  CHECK_INT(x->held, 0, "the exchange is no longer held");
  CHECK_INT(x->resp_limit, 0, "and its buffer limit is back to the watermark");
  CHECK(x->up == NULL, "no upstream connection stays linked");
  const char *w = px_headers_get(&x->resp, "warning");
  CHECK(w && !strncmp(w, "299 customs \"", 13) && w[strlen(w) - 1] == '"', "Warning: 299 customs \"...\"");
  CHECK(w && !strchr(w + 13, '\r') && !strchr(w + 13, '\n') && strchr(w + 13, '"') == w + strlen(w) - 1,
        "the reason cannot close the quotes or start a line: %s", w ? w : "");
  CHECK_STR(px_headers_get(&x->resp, "x-customs-verdict"), "deny", "x-customs-verdict: deny");
  json_t *j = json_loads(f.body, 0, NULL);
  json_t *e = j ? json_array_get(json_object_get(j, "errors"), 0) : NULL;
  CHECK_STR(e ? json_string_value(json_object_get(e, "code")) : NULL, "DENIED", "registry error code DENIED");
  json_t *det = e ? json_object_get(e, "detail") : NULL;
  CHECK_STR(det ? json_string_value(json_object_get(det, "digest")) : NULL, "sha256:abc", "detail names the digest");
  CHECK_STR(det ? json_string_value(json_object_get(det, "repository")) : NULL, "team/app", "and the repository");
  CHECK_STR(det ? json_string_value(json_object_get(det, "rule")) : NULL, "no-critical", "and the rule");
  CHECK(det && json_is_array(json_object_get(det, "reasons")), "with the reasons as JSON");
  json_decref(j);
  px_xchg_free(x);

  /* HEAD: no body, the Warning carries the reason */
  x = new_x(&f, "HEAD", "/v2/team/app/manifests/1.0");
  px_pull_deny(x, "denied", NULL, NULL, NULL);
  CHECK_INT(f.status, 403, "HEAD is denied with 403 too");
  CHECK_STR(f.body, "", "without a body");
  CHECK_STR(px_headers_get(&x->resp, "warning"), "299 customs \"denied\"", "the reason is in Warning");
  px_xchg_free(x);
}

static void test_ops(void) {
  const px_intercept_ops *o = &px_intercept_customs;
  CHECK(o->request && o->req_body && o->req_end && o->req_complete && o->response_head && o->resp_body &&
            o->response_done && o->free,
        "every op of customs' interception is set");
  /* without a scanner customs' interception is a plain proxy */
  front f;
  px_xchg *x = new_x(&f, "PATCH", "/v2/team/app/blobs/uploads/u1?_state=s");
  x->req_has_body = 1;
  CHECK_INT(o->request(x), PX_REQ_PROCEED, "no scanner: every request proceeds");
  CHECK(x->hook == NULL, "and no hook state is made");
  CHECK_INT(o->response_head(x), PX_HOOK_PASS, "a response without hook state passes");
  CHECK_INT(o->response_done(x), PX_HOOK_PASS, "and its end too");
  o->free(x);
  px_xchg_free(x);
  CHECK_STR(px_hook_state_name(PX_HK_PASSING), "passing", "state names for the debug log");
  CHECK_STR(px_hook_state_name(PX_HK_GATE_SCAN), "gate-scan", "gate-scan");
  CHECK_STR(px_hook_state_name(PX_HK_DONE), "done", "done");
  CHECK_STR(px_hook_state_name((px_hook_state)99), "?", "an unknown state is not a crash");
}

int main(void) {
  px_config_defaults(&cfg);
  memset(&ctx, 0, sizeof(ctx));
  ctx.cfg = &cfg;
  ctx.base = event_base_new();
  ctx.intercept = &px_intercept_customs;
  px_log_set_level(PX_LOG_ERROR);
  test_range_start();
  test_token();
  test_gate_deny();
  test_ops();
  event_base_loop(ctx.base, EVLOOP_NONBLOCK);
  CHECK_INT(ctx.nxchg, 0, "every exchange was freed");
  event_base_free(ctx.base);
  return tap_done();
}
