/* test_route.c - registry URL classification, including the paths refused
 * because a registry would have to decode or normalise them. */
#include "px_route.h"
#include "../unit/tap.h"

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
    {"/v2/a/manifests/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0, PX_R_MANIFEST,
     "a", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    {"/v2/team/app/blobs/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0, PX_R_BLOB,
     "team/app", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    {"/v2/team/app/blobs/uploads/", 0, PX_R_UPLOAD_START, "team/app", ""},
    {"/v2/team/app/blobs/uploads/3f1c-uuid?_state=abc%3D%3D", 0, PX_R_UPLOAD, "team/app", "3f1c-uuid"},
    {"/v2/x/tags/list?n=10", 0, PX_R_TAGS, "x", ""},
    {"/v2/x/blobs/uploads/u1?_state=a%3D&digest=sha256%3Aab", 0, PX_R_UPLOAD, "x", "u1"},
    {"/v2/a/b-c/d__e/manifests/latest", 0, PX_R_MANIFEST, "a/b-c/d__e", "latest"},
    /* a repository literally named "manifests" is not confused */
    {"/v2/manifests/manifests/v1", 0, PX_R_MANIFEST, "manifests", "v1"},
    {"/healthz", 0, PX_R_OTHER, "", ""},
    {"/v2x/foo", 0, PX_R_OTHER, "", ""},
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
};

int main(void) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    px_route r;
    int rc = px_route_parse(cases[i].target, &r);
    CHECK_INT(rc < 0 ? -1 : 0, cases[i].rc, "parse rc %s", cases[i].target);
    if (rc < 0 || cases[i].rc < 0) continue;
    CHECK_INT(r.kind, cases[i].kind, "kind %s", cases[i].target);
    CHECK_STR(r.repo, cases[i].repo, "repo %s", cases[i].target);
    CHECK_STR(r.ref, cases[i].ref, "ref %s", cases[i].target);
  }
  px_route r;
  px_route_parse("/v2/a/blobs/uploads/?digest=sha256:abc&mount=sha256:def&from=b/c", &r);
  CHECK_STR(r.q_digest, "sha256:abc", "digest query");
  CHECK_STR(r.q_mount, "sha256:def", "mount query");
  CHECK_STR(r.q_from, "b/c", "from query");
  px_route_parse("/v2/x/blobs/uploads/u1?_state=a%3D&digest=sha256%3Aab", &r);
  CHECK_STR(r.q_digest, "sha256:ab", "digest query is percent-decoded");
  px_route_parse("/v2/x/blobs/uploads/u1?digest=sha256%0Aab", &r);
  CHECK_STR(r.q_digest, "", "a digest decoding to a control byte is dropped");
  CHECK(px_valid_tag("v1.0-rc_1"), "tag grammar accepts");
  CHECK(!px_valid_tag(".hidden"), "tag grammar refuses leading dot");
  CHECK(!px_valid_repo("a/"), "repo grammar refuses trailing slash");
  return tap_done();
}
