/* test_image.c - manifest parsing and digests (sc_image). */
#include <stdlib.h>
#include <string.h>

#include "sc_image.h"
#include "tap.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

typedef struct {
  const char *name, *json, *ctype;
  int rv, kind;
  const char *media_type, *config;
  size_t nlayers, nchildren;
  const char *first;      /* first layer or child digest */
  const char *platform;   /* first child's platform string */
} mcase;

static const mcase cases[] = {
    {"OCI image manifest",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"mediaType\":"
     "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1 "\",\"size\":10},"
     "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2
     "\",\"size\":5},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D3
     "\",\"size\":6}]}",
     NULL, 0, SC_MANIFEST_IMAGE, SC_MT_OCI_MANIFEST, D1, 2, 0, D2, NULL},
    {"Docker schema2 manifest",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":"
     "\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D3 "\",\"size\":1},"
     "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" D1
     "\",\"size\":7}]}",
     NULL, 0, SC_MANIFEST_IMAGE, SC_MT_DOCKER_MANIFEST, D3, 1, 0, D1, NULL},
    {"OCI manifest without mediaType (shape)",
     "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[]}", NULL, 0,
     SC_MANIFEST_IMAGE, SC_MT_OCI_MANIFEST, D1, 0, 0, NULL, NULL},
    {"media type from Content-Type",
     "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D2 "\"},\"layers\":[{\"digest\":\"" D3 "\"}]}",
     SC_MT_DOCKER_MANIFEST "; charset=utf-8", 0, SC_MANIFEST_IMAGE, SC_MT_DOCKER_MANIFEST, D2, 1, 0, D3,
     NULL},
    {"OCI index",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":["
     "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":3,"
     "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
     "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":3,"
     "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
     NULL, 0, SC_MANIFEST_INDEX, SC_MT_OCI_INDEX, NULL, 0, 2, D1, "linux/arm64/v8"},
    {"Docker manifest list",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_DOCKER_LIST "\",\"manifests\":["
     "{\"mediaType\":\"" SC_MT_DOCKER_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":3,"
     "\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}}]}",
     NULL, 0, SC_MANIFEST_INDEX, SC_MT_DOCKER_LIST, NULL, 0, 1, D3, "windows/amd64"},
    {"schema 1 unsupported", "{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, SC_ERR_UNSUPP, 0, NULL,
     NULL, 0, 0, NULL, NULL},
    {"unknown media type",
     "{\"schemaVersion\":2,\"mediaType\":\"application/x-nope\",\"layers\":[]}", NULL, SC_ERR_UNSUPP,
     0, NULL, NULL, 0, 0, NULL, NULL},
    {"not JSON", "{\"schemaVersion\":2,", NULL, SC_ERR_FORMAT, 0, NULL, NULL, 0, 0, NULL, NULL},
    {"not an object", "[1,2]", NULL, SC_ERR_FORMAT, 0, NULL, NULL, 0, 0, NULL, NULL},
    {"layers not an array",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
     "\"},\"layers\":{}}",
     NULL, SC_ERR_FORMAT, 0, NULL, NULL, 0, 0, NULL, NULL},
    {"layer without digest",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
     "\"},\"layers\":[{\"size\":3}]}",
     NULL, SC_ERR_FORMAT, 0, NULL, NULL, 0, 0, NULL, NULL},
    {"digest with a path in it",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":"
     "\"sha256:../../etc/passwd\"},\"layers\":[]}",
     NULL, SC_ERR_FORMAT, 0, NULL, NULL, 0, 0, NULL, NULL},
    {"negative size",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
     "\",\"size\":-4},\"layers\":[]}",
     NULL, SC_ERR_FORMAT, 0, NULL, NULL, 0, 0, NULL, NULL},
    {"platform not an object",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":[{\"digest\":\"" D1
     "\",\"platform\":\"linux\"}]}",
     NULL, SC_ERR_FORMAT, 0, NULL, NULL, 0, 0, NULL, NULL},
    {"duplicate keys", "{\"schemaVersion\":2,\"schemaVersion\":2}", NULL, SC_ERR_FORMAT, 0, NULL, NULL,
     0, 0, NULL, NULL},
};

static void test_cases(void) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const mcase *c = &cases[i];
    sc_manifest m;
    int rv = sc_manifest_parse(c->json, strlen(c->json), c->ctype, &m);
    CHECK_INT(rv, c->rv, "%s: result", c->name);
    if (rv == 0) {
      CHECK_INT(m.kind, c->kind, "%s: kind", c->name);
      CHECK_STR(m.media_type, c->media_type, "%s: media type", c->name);
      CHECK_STR(m.config_digest, c->config, "%s: config digest", c->name);
      CHECK_INT(m.nlayers, c->nlayers, "%s: layers", c->name);
      CHECK_INT(m.nchildren, c->nchildren, "%s: children", c->name);
      const char *first = m.nlayers ? m.layers[0].digest : m.nchildren ? m.children[0].digest : NULL;
      CHECK_STR(first, c->first, "%s: first descriptor", c->name);
      if (c->platform) {
        char p[64];
        sc_platform_str(&m.children[0].platform, p, sizeof(p));
        CHECK_STR(p, c->platform, "%s: platform", c->name);
      }
    }
    sc_manifest_free(&m);
  }
}

static void test_pick_and_sizes(void) {
  const char *json = cases[4].json;
  sc_manifest m;
  CHECK_INT(sc_manifest_parse(json, strlen(json), NULL, &m), 0, "index parses");
  CHECK_INT(sc_manifest_pick(&m, "linux", "amd64", NULL), 1, "pick linux/amd64 -> second child");
  CHECK_INT(sc_manifest_pick(&m, "linux", "arm64", "v8"), 0, "pick linux/arm64/v8");
  CHECK_INT(sc_manifest_pick(&m, "linux", "s390x", NULL), -1, "no s390x child");
  CHECK_INT(m.children[1].size, 3, "child size");
  sc_manifest_free(&m);

  json = cases[0].json;
  CHECK_INT(sc_manifest_parse(json, strlen(json), NULL, &m), 0, "image parses");
  CHECK_INT(m.layers[1].size, 6, "layer size");
  CHECK_STR(m.layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd", "layer media type");
  CHECK_INT(sc_manifest_pick(&m, "linux", "amd64", NULL), -1, "pick on an image is -1");
  sc_manifest_free(&m);

  /* the size cap applies before parsing */
  size_t big = SC_MANIFEST_MAX_BYTES + 1;
  char *buf = malloc(big);
  if (buf) {
    memset(buf, ' ', big);
    buf[0] = '{';
    buf[big - 1] = '}';
    CHECK_INT(sc_manifest_parse(buf, big, NULL, &m), SC_ERR_LIMIT, "over 4 MiB refused");
    sc_manifest_free(&m);
    free(buf);
  }
  CHECK_INT(sc_manifest_parse(NULL, 0, NULL, &m), SC_ERR_ARG, "NULL input");
  sc_manifest_free(&m);
}

static void test_digest(void) {
  char d[72], d2[72];
  /* sha256 of the empty string is a published constant (FIPS 180-2) */
  CHECK_INT(sc_digest_sha256("", 0, d), 0, "digest of empty input");
  CHECK_STR(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256 of empty input");
  sc_digest_sha256("abc", 3, d);
  sc_digest_sha256("abd", 3, d2);
  CHECK(strcmp(d, d2) != 0, "different input, different digest");
  CHECK(sc_digest_valid(d, 0), "own output is a valid digest");
  static const struct { const char *s; int lenient, want; } v[] = {
      {D1, 0, 1},
      {"sha256:ABC", 0, 0},
      {"sha256:" "111111111111111111111111111111111111111111111111111111111111111", 0, 0},
      {"sha512:abcd", 0, 0},
      {"sha512:abcd", 1, 1},
      {"sha256:../x", 1, 0},
      {":abc", 1, 0},
      {"nocolon", 1, 0},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
    CHECK_INT(sc_digest_valid(v[i].s, v[i].lenient), v[i].want, "digest_valid('%s', %d)", v[i].s,
              v[i].lenient);
}

int main(void) {
  test_cases();
  test_pick_and_sizes();
  test_digest();
  return tap_done();
}
