/* test_route.c - one view of the request target: decoding and cleaning as
 * Go net/http + gorilla/mux do, registry route classification, refusals
 * with the distribution error of the part that is wrong, methods. */
#include "px_route.h"
#include "px_headers.h"
#include "../unit/tap.h"
#include <stdlib.h>

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
  const char *target;
  int rc;
  px_route_kind kind;
  const char *repo, *ref;
} cases[] = {
    {"/v2/", 0, PX_R_BASE, "", ""},
    {"/v2", 0, PX_R_BASE, "", ""},
    {"/v2/_catalog?n=1", 0, PX_R_CATALOG, "", ""},
    {"/v2/library/alpine/manifests/3.19", 0, PX_R_MANIFEST, "library/alpine", "3.19"},
    {"/v2/a/manifests/sha256:" D64, 0, PX_R_MANIFEST, "a", "sha256:" D64},
    {"/v2/team/app/blobs/sha256:" D64, 0, PX_R_BLOB, "team/app", "sha256:" D64},
    {"/v2/team/app/blobs/uploads/", 0, PX_R_UPLOAD_START, "team/app", ""},
    {"/v2/team/app/blobs/uploads/3f1c-uuid?_state=abc%3D%3D", 0, PX_R_UPLOAD, "team/app", "3f1c-uuid"},
    {"/v2/x/tags/list?n=10", 0, PX_R_TAGS, "x", ""},
    {"/v2/x/blobs/uploads/u1?_state=a%3D&digest=sha256%3Aab", 0, PX_R_UPLOAD, "x", "u1"},
    {"/v2/a/b-c/d__e/manifests/latest", 0, PX_R_MANIFEST, "a/b-c/d__e", "latest"},
    /* a repository literally named "manifests" is not confused */
    {"/v2/manifests/manifests/v1", 0, PX_R_MANIFEST, "manifests", "v1"},
    /* the registry's blob route matches where the manifest route cannot */
    {"/v2/a/manifests/x/blobs/sha256:" D64, 0, PX_R_BLOB, "a/manifests/x", "sha256:" D64},
    {"/v2/a/blobs/uploads/x/manifests/v1", 0, PX_R_MANIFEST, "a/blobs/uploads/x", "v1"},
    {"/v2/a/b", 0, PX_R_V2_OTHER, "", ""},
    {"/healthz", 0, PX_R_OTHER, "", ""},
    {"/v2x/foo", 0, PX_R_OTHER, "", ""},
    {"/V2/team/bad/manifests/latest", 0, PX_R_OTHER, "", ""}, /* mux is case-sensitive: 404 */
    {"/%41bc", 0, PX_R_OTHER, "", ""},                        /* decodes outside /v2: passes */
    {"/v2/team/bad/manifests/latest?x=1&y", 0, PX_R_MANIFEST, "team/bad", "latest"},
    /* refused */
    {"/v2/library/alpine/manifests/%33.19", -1, PX_R_OTHER, "", ""},
    {"/v2/library/%61lpine/manifests/3.19", -1, PX_R_OTHER, "", ""},
    {"/v2/library//alpine/manifests/3.19", -1, PX_R_OTHER, "", ""},
    {"/v2/library/./alpine/manifests/3.19", -1, PX_R_OTHER, "", ""},
    {"/v2/evil/../library/alpine/manifests/3.19", -1, PX_R_OTHER, "", ""},
    {"/v2/Library/alpine/manifests/3.19", -1, PX_R_OTHER, "", ""},
    {"/v2/a/manifests/-bad", -1, PX_R_OTHER, "", ""},
    {"/v2/a/manifests/sha256:zz", -1, PX_R_OTHER, "", ""},
    {"/v2/a\\b/manifests/x", -1, PX_R_OTHER, "", ""},
    {"/%762/team/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"/v%32/team/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"/v2%2Fteam/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"/v2/team%2fbad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"/x/..%2Fv2/team/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"/x/../v2/team/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"//v2/team/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"/./v2/team/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/latest/", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/latest/.", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/latest%00", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/lat%zzest", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/latest%", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/latest%4", -1, PX_R_OTHER, "", ""},
    {"/anything%zz", -1, PX_R_OTHER, "", ""}, /* Go answers 400 for every invalid escape */
    {"/v2/team/bad/manifests/latest#x", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/latest;x", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/lat\xc3\xa9st", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/manifests/latest x", -1, PX_R_OTHER, "", ""},
    {"http://127.0.0.1/v2/team/bad/manifests/latest", -1, PX_R_OTHER, "", ""},
    {"*", -1, PX_R_OTHER, "", ""},
    {"", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/blobs/uploads/b@d", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/tags/list/", -1, PX_R_OTHER, "", ""},
    {"/v2/team/bad/blobs/uploads", -1, PX_R_OTHER, "", ""},
};

/* refusal: target, method -> err, status, code, text the message must hold */
static const struct {
  const char *target, *method;
  px_route_err err;
  int status;
  const char *code, *names;
} refusals[] = {
    {"/v2/team/bad/manifests/.INVALID_MANIFEST_NAME", "GET", PX_RE_TAG, 404, "MANIFEST_UNKNOWN", ".INVALID_MANIFEST_NAME"},
    {"/v2/team/bad/manifests/.INVALID_MANIFEST_NAME", "HEAD", PX_RE_TAG, 404, "MANIFEST_UNKNOWN", "tag"},
    {"/v2/team/bad/manifests/.INVALID_MANIFEST_NAME", "DELETE", PX_RE_TAG, 404, "MANIFEST_UNKNOWN", "tag"},
    {"/v2/team/bad/manifests/.bad", "PUT", PX_RE_TAG, 400, "MANIFEST_INVALID", "tag \".bad\""},
    {"/v2/team/bad/manifests/sha256:abc", "GET", PX_RE_DIGEST, 404, "MANIFEST_UNKNOWN", "sha256:abc"},
    {"/v2/team/bad/manifests/sha256:abc", "PUT", PX_RE_DIGEST, 400, "DIGEST_INVALID", "digest"},
    {"/v2/team/bad/manifests/sha256:abc", "DELETE", PX_RE_DIGEST, 400, "DIGEST_INVALID", "digest"},
    {"/v2/team/bad/blobs/sha256:abc", "GET", PX_RE_DIGEST, 400, "DIGEST_INVALID", "sha256:abc"},
    {"/v2/team/bad/blobs/sha256:abc", "DELETE", PX_RE_DIGEST, 400, "DIGEST_INVALID", "digest"},
    {"/v2/Team/bad/manifests/latest", "GET", PX_RE_NAME, 400, "NAME_INVALID", "repository name \"Team/bad\""},
    {"/v2/Team/bad/blobs/uploads/", "POST", PX_RE_NAME, 400, "NAME_INVALID", "Team/bad"},
    {"/v2/team/bad/blobs/uploads/b@d", "PATCH", PX_RE_UPLOAD_ID, 404, "BLOB_UPLOAD_UNKNOWN", "b@d"},
    {"/v2/team/bad/referrers/nope", "GET", PX_RE_DIGEST, 400, "DIGEST_INVALID", "nope"},
    {"/v2/team/bad/manifests/lat%41st", "GET", PX_RE_NONCANONICAL, 400, "UNSUPPORTED", "canonical"},
    {"/v2/team/bad/manifests/lat%zzst", "GET", PX_RE_ESCAPE, 400, "UNSUPPORTED", "percent-escape"},
    {"http://h/v2/", "GET", PX_RE_FORM, 400, "UNSUPPORTED", "origin-form"},
};

int main(void) {
  px_route r;
  char msg[400];
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int rc = px_route_parse(cases[i].target, &r);
    CHECK_INT(rc < 0 ? -1 : 0, cases[i].rc, "parse rc %s", cases[i].target);
    if (rc < 0) CHECK(r.err != PX_RE_NONE, "refusal says why: %s", cases[i].target);
    if (rc < 0 || cases[i].rc < 0) continue;
    CHECK_INT(r.kind, cases[i].kind, "kind %s", cases[i].target);
    CHECK_STR(r.repo, cases[i].repo, "repo %s", cases[i].target);
    CHECK_STR(r.ref, cases[i].ref, "ref %s", cases[i].target);
  }

  /* every byte of the path percent-encoded, upper and lower hex: a /v2 path
   * the registry would decode is never judged on its raw form */
  const char *canon = "/v2/team/bad/manifests/latest";
  size_t n = strlen(canon), bypass = 0;
  for (size_t i = 0; i < n; i++)
    for (int lower = 0; lower < 2; lower++) {
      char t[128];
      snprintf(t, sizeof(t), lower ? "%.*s%%%02x%s" : "%.*s%%%02X%s", (int)i, canon, (unsigned char)canon[i],
               canon + i + 1);
      if (px_route_parse(t, &r) == 0) {
        bypass++;
        printf("# judged as %s: %s\n", px_route_kind_name(r.kind), t);
      }
    }
  CHECK_INT(bypass, 0, "none of the %zu single-byte encodings of %s is accepted", 2 * n, canon);

  for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
    int status = 0;
    const char *code = NULL;
    int rc = px_route_parse(refusals[i].target, &r);
    if (rc == 0) rc = px_route_check_method(&r, refusals[i].method);
    CHECK(rc < 0, "%s %s refused", refusals[i].method, refusals[i].target);
    CHECK_INT(r.err, refusals[i].err, "%s %s: error %s", refusals[i].method, refusals[i].target,
              px_route_strerror(r.err));
    px_route_refusal(&r, refusals[i].method, &status, &code);
    CHECK_INT(status, refusals[i].status, "%s %s: status", refusals[i].method, refusals[i].target);
    CHECK_STR(code, refusals[i].code, "%s %s: code", refusals[i].method, refusals[i].target);
    px_route_message(&r, msg, sizeof(msg));
    CHECK(strstr(msg, refusals[i].names) != NULL, "message names the part: %s", msg);
  }

  /* methods: exact upper case on /v2, anything elsewhere */
  static const char *const good[] = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"};
  static const char *const bad[] = {"get", "GeT", "head", "TRACE", "CONNECT", "PROPFIND", "GET ", ""};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    px_route_parse("/v2/team/bad/manifests/latest", &r);
    CHECK_INT(px_route_check_method(&r, good[i]), 0, "method %s allowed", good[i]);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int status;
    const char *code;
    px_route_parse("/v2/team/bad/manifests/latest", &r);
    CHECK(px_route_check_method(&r, bad[i]) < 0, "method '%s' refused on /v2", bad[i]);
    px_route_refusal(&r, bad[i], &status, &code);
    CHECK_INT(status, 405, "method '%s': 405", bad[i]);
  }
  px_route_parse("/v2/", &r);
  CHECK(px_route_check_method(&r, "get") < 0, "lowercase method refused on /v2/ too");
  px_route_parse("/metrics", &r);
  CHECK_INT(px_route_check_method(&r, "get"), 0, "methods are not judged outside /v2");

  /* query parameters as Go's url.ParseQuery reads them */
  px_route_parse("/v2/a/blobs/uploads/?digest=sha256:abc&mount=sha256:def&from=b/c", &r);
  CHECK_STR(r.q_digest, "sha256:abc", "digest query");
  CHECK_STR(r.q_mount, "sha256:def", "mount query");
  CHECK_STR(r.q_from, "b/c", "from query");
  px_route_parse("/v2/x/blobs/uploads/u1?_state=a%3D&digest=sha256%3Aab", &r);
  CHECK_STR(r.q_digest, "sha256:ab", "digest query is percent-decoded");
  px_route_parse("/v2/x/blobs/uploads/u1?digest=sha256%0Aab", &r);
  CHECK_STR(r.q_digest, "", "a digest decoding to a control byte is dropped");
  px_route_parse("/v2/x/blobs/uploads/u1?dig%65st=sha256:aa", &r);
  CHECK_STR(r.q_digest, "sha256:aa", "the key is percent-decoded too (Go does)");
  px_route_parse("/v2/x/blobs/uploads/u1?digest=sha256:first&digest=sha256:second", &r);
  CHECK_STR(r.q_digest, "sha256:first", "the first occurrence wins (FormValue)");
  px_route_parse("/v2/x/blobs/uploads/u1?digest=sha256:a;x=1&digest=sha256:b", &r);
  CHECK_STR(r.q_digest, "sha256:b", "a pair holding ';' is skipped as Go skips it");
  px_route_parse("/v2/x/blobs/uploads/u1?digest=%zz&digest=sha256:c", &r);
  CHECK_STR(r.q_digest, "sha256:c", "a pair with a bad escape is skipped");
  px_route_parse("/v2/x/blobs/uploads/u1?from=a+b", &r);
  CHECK_STR(r.q_from, "a b", "'+' is a space in a query");

  /* gorilla/mux cleanPath = path.Clean + trailing slash kept */
  static const struct { const char *in, *out; } clean[] = {
      {"/", "/"},           {"//", "/"},        {"/a//b", "/a/b"},   {"/a/./b/", "/a/b/"},
      {"/a/../../b", "/b"}, {"/..", "/"},       {"/a/b/..", "/a"},   {"/a/b/../", "/a/"},
      {"a/b", "/a/b"},      {"", "/"},          {"/./", "/"},        {"/a/...", "/a/..."},
  };
  for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
    char out[64];
    px_path_clean(clean[i].in, out);
    CHECK_STR(out, clean[i].out, "clean '%s'", clean[i].in);
  }
  char dec[64];
  size_t dl;
  CHECK_INT(px_path_unescape("/a%2Fb%2f", 9, dec, &dl), 0, "unescape");
  CHECK_STR(dec, "/a/b/", "unescape %%2F and %%2f");
  CHECK_INT(px_path_unescape("/a%2", 4, dec, &dl), SC_ERR_INVALID, "truncated escape is an error");
  CHECK_INT(px_path_unescape("/a%g0", 5, dec, &dl), SC_ERR_INVALID, "non-hex escape is an error");

  CHECK(px_valid_tag("v1.0-rc_1"), "tag grammar accepts");
  CHECK(!px_valid_tag(".hidden"), "tag grammar refuses leading dot");
  CHECK(!px_valid_tag("caf\xc3\xa9"), "tag grammar is ASCII only");
  CHECK(!px_valid_repo("a/"), "repo grammar refuses trailing slash");
  char longrepo[400];
  memset(longrepo, 'a', sizeof(longrepo));
  memcpy(longrepo, "/v2/", 4);
  snprintf(longrepo + 300, sizeof(longrepo) - 300, "/manifests/latest");
  CHECK(px_route_parse(longrepo, &r) < 0 && r.err == PX_RE_NAME, "a repository name over 255 bytes is refused");
  return tap_done();
}
