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
    {"empty mediaType is absent (Go zero value)",
     "{\"schemaVersion\":2,\"mediaType\":\"\",\"manifests\":[]}", NULL, 0, SC_MANIFEST_INDEX, SC_MT_OCI_INDEX,
     NULL, 0, 0, NULL, NULL},
    {"Content-Type compared case-insensitively",
     "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":[]}",
     " Application/VND.oci.image.index.v1+json ; charset=utf-8", 0, SC_MANIFEST_INDEX, SC_MT_OCI_INDEX, NULL, 0, 0,
     NULL, NULL},
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

/* ---- Go's reading (issue 8, item 2) ---- */

#define LAYER_MT "application/vnd.docker.image.rootfs.diff.tar.gzip"
/* docker push of a two-layer image (docker 24), digests replaced. */
static const char DOCKER_V2[] =
    "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"" SC_MT_DOCKER_MANIFEST "\",\n   \"config\": {\n"
    "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n      \"size\": 1472,\n"
    "      \"digest\": \"" D1 "\"\n   },\n   \"layers\": [\n      {\n         \"mediaType\": \"" LAYER_MT "\",\n"
    "         \"size\": 3397879,\n         \"digest\": \"" D2 "\"\n      },\n      {\n"
    "         \"mediaType\": \"" LAYER_MT "\",\n         \"size\": 112,\n         \"digest\": \"" D3 "\"\n"
    "      }\n   ]\n}";
/* buildkit OCI manifest with annotations whose keys differ only in case
 * (a map: exact keys, both kept), and an OCI 1.1 subject. */
static const char OCI_ANNOTATED[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"artifactType\":\"application/x-test\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1 "\",\"size\":2},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2 "\","
    "\"size\":9,\"annotations\":{\"org.opencontainers.image.title\":\"a\",\"org.opencontainers.image.Title\":\"b\"},"
    "\"urls\":[\"https://example.invalid/x\"]}],\"subject\":{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\","
    "\"digest\":\"" D3 "\",\"size\":7},\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\","
    "\"Org.Opencontainers.Image.Created\":\"x\",\"LAYERS\":\"not a field: a map key\"}}";
/* Multi-platform index as docker buildx pushes it, with an attestation
 * manifest, os.version/os.features and annotations. */
static const char OCI_INDEX[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":1,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0.17763.5329\","
    "\"os.features\":[\"win32k\"]}},"
    "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":2,"
    "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
    "{\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":3,"
    "\"annotations\":{\"vnd.docker.reference.digest\":\"" D2 "\",\"vnd.docker.reference.type\":"
    "\"attestation-manifest\"},\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}],"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}";

static void test_real_world(void) {
  static const struct {
    const char *name, *json, *ctype;
    int kind;
    size_t n;
  } t[] = {
      {"docker schema2", DOCKER_V2, SC_MT_DOCKER_MANIFEST, SC_MANIFEST_IMAGE, 2},
      {"OCI with annotations and subject", OCI_ANNOTATED, SC_MT_OCI_MANIFEST, SC_MANIFEST_IMAGE, 1},
      {"buildx OCI index", OCI_INDEX, SC_MT_OCI_INDEX, SC_MANIFEST_INDEX, 3},
      {"buildx OCI index, application/json", OCI_INDEX, "application/json", SC_MANIFEST_INDEX, 3},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    char why[256] = "";
    sc_manifest m;
    CHECK_INT(sc_manifest_check(t[i].json, strlen(t[i].json), t[i].ctype, why, sizeof why), 0, "%s: check (%s)",
              t[i].name, why);
    CHECK_INT(sc_manifest_parse(t[i].json, strlen(t[i].json), t[i].ctype, &m), 0, "%s: parse", t[i].name);
    CHECK_INT(m.kind, t[i].kind, "%s: kind", t[i].name);
    CHECK_INT(m.kind == SC_MANIFEST_IMAGE ? m.nlayers : m.nchildren, t[i].n, "%s: descriptors", t[i].name);
    sc_manifest_free(&m);
  }
  sc_manifest m;
  sc_manifest_parse(OCI_INDEX, strlen(OCI_INDEX), NULL, &m);
  CHECK_INT(sc_manifest_pick(&m, "linux", "arm", "v7"), 1, "index: pick linux/arm/v7");
  sc_manifest_free(&m);
}

/* A copy of base with the nth (0-based) occurrence of the quoted string
 * "from" replaced by "to" (quoted); NULL when there is none. */
static char *swap_key(const char *base, const char *from, const char *to, int nth) {
  char qf[64], *out;
  snprintf(qf, sizeof qf, "\"%s\"", from);
  const char *at = strstr(base, qf);
  while (at && nth-- > 0) at = strstr(at + 1, qf);
  if (!at || !(out = malloc(strlen(base) + strlen(to) + 3))) return NULL;
  sprintf(out, "%.*s\"%s\"%s", (int)(at - base), base, to, at + strlen(qf));
  return out;
}

static void test_case_variants(void) {
  /* Each member customs reads, renamed so that Go still reads it. */
  static const struct {
    const char *doc, *from, *to;
    int nth;
    const char *where;
  } v[] = {
      {DOCKER_V2, "schemaVersion", "SchemaVersion", 0, "$"},
      {DOCKER_V2, "schemaVersion", "\xc5\xbf" "chemaVersion", 0, "$"},
      {DOCKER_V2, "mediaType", "MEDIATYPE", 0, "$"},
      {DOCKER_V2, "mediaType", "mediatype", 0, "$"},
      {DOCKER_V2, "config", "Config", 0, "$"},
      {DOCKER_V2, "layers", "LAYERS", 0, "$"},
      {DOCKER_V2, "layers", "Layers", 0, "$"},
      {DOCKER_V2, "layers", "layer\xc5\xbf", 0, "$"},
      {DOCKER_V2, "mediaType", "MediaType", 1, "$.config"},
      {DOCKER_V2, "digest", "Digest", 0, "$.config"},
      {DOCKER_V2, "size", "SIZE", 0, "$.config"},
      {DOCKER_V2, "digest", "DIGEST", 1, "$.layers[0]"},
      {DOCKER_V2, "digest", "dige\xc5\xbft", 2, "$.layers[1]"},
      {DOCKER_V2, "size", "\xc5\xbfize", 2, "$.layers[1]"},
      {DOCKER_V2, "mediaType", "mediaTYPE", 3, "$.layers[1]"},
      {OCI_INDEX, "manifests", "Manifests", 0, "$"},
      {OCI_INDEX, "manifests", "manife\xc5\xbfts", 0, "$"},
      {OCI_INDEX, "digest", "Digest", 1, "$.manifests[1]"},
      {OCI_INDEX, "platform", "Platform", 0, "$.manifests[0]"},
      {OCI_INDEX, "os", "OS", 1, "$.manifests[1].platform"},
      {OCI_INDEX, "os", "o\xc5\xbf", 1, "$.manifests[1].platform"},
      {OCI_INDEX, "architecture", "Architecture", 0, "$.manifests[0].platform"},
      {OCI_INDEX, "variant", "VARIANT", 0, "$.manifests[1].platform"},
      {OCI_INDEX, "os.version", "OS.VERSION", 0, "$.manifests[0].platform"},
      {OCI_ANNOTATED, "annotations", "Annotations", 1, "$"},
      {OCI_ANNOTATED, "subject", "Subject", 0, "$"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char *doc = swap_key(v[i].doc, v[i].from, v[i].to, v[i].nth), why[256] = "", want[128];
    CHECK(doc != NULL, "variant %zu built", i);
    if (!doc) continue;
    sc_manifest m;
    int rc = sc_manifest_check(doc, strlen(doc), NULL, why, sizeof why);
    CHECK_INT(rc, SC_ERR_FORMAT, "%s #%d -> variant %zu refused", v[i].from, v[i].nth, i);
    snprintf(want, sizeof want, " at %s folds to \"%s\" (Go clients read it case-insensitively)", v[i].where,
             v[i].from);
    CHECK(strstr(why, want) != NULL, "variant %zu reason: %s", i, why);
    CHECK_INT(sc_manifest_parse(doc, strlen(doc), NULL, &m), SC_ERR_FORMAT, "variant %zu: parse refuses", i);
    sc_manifest_free(&m);
    free(doc);
  }

  /* The attack: the exact key with a harmless value, a variant
   * after it with what clients pull. */
  char why[256];
  const char *atk = "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
                    "\"},\"layers\":[{\"digest\":\"" D2 "\"}],\"LAYERS\":[{\"digest\":\"" D3 "\"}]}";
  CHECK_INT(sc_manifest_check(atk, strlen(atk), NULL, why, sizeof why), SC_ERR_FORMAT, "layers + LAYERS refused");
  CHECK_STR(why, "key \"LAYERS\" at $ folds to \"layers\" (Go clients read it case-insensitively)",
            "layers + LAYERS reason");
}

static void test_structure(void) {
  static const struct {
    const char *name, *json, *ctype;
    int rc;
    const char *why; /* substring */
  } t[] = {
      {"image carrying manifests",
       "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
       "\"},\"layers\":[],\"manifests\":[{\"digest\":\"" D2 "\"}]}",
       NULL, SC_ERR_FORMAT, "image manifest carries \"manifests\""},
      {"shape-inferred document with layers and manifests",
       "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", NULL, SC_ERR_FORMAT, "index carries \"layers\""},
      {"index carrying layers",
       "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":[],\"layers\":[]}", NULL,
       SC_ERR_FORMAT, "index carries \"layers\""},
      {"index carrying config",
       "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_DOCKER_LIST "\",\"manifests\":[],\"config\":{}}", NULL,
       SC_ERR_FORMAT, "index carries \"config\""},
      {"mediaType contradicts Content-Type",
       "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
       "\"},\"layers\":[]}",
       SC_MT_OCI_INDEX, SC_ERR_FORMAT, "contradicts Content-Type"},
      {"docker vs OCI media type",
       "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
       "\"},\"layers\":[]}",
       SC_MT_DOCKER_MANIFEST "; charset=utf-8", SC_ERR_FORMAT, "contradicts Content-Type"},
      {"Content-Type index, document shaped as image",
       "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[]}", SC_MT_OCI_INDEX,
       SC_ERR_FORMAT, "index carries"},
      {"layer is a string",
       "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
       "\"},\"layers\":[\"" D2 "\"]}",
       NULL, SC_ERR_FORMAT, "descriptor $.layers[0] is not a JSON object"},
      {"config is null",
       "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_MANIFEST "\",\"config\":null,\"layers\":[]}", NULL,
       SC_ERR_FORMAT, "descriptor $.config is not a JSON object"},
      {"child is null", "{\"schemaVersion\":2,\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":[null]}", NULL,
       SC_ERR_FORMAT, "descriptor $.manifests[0] is not a JSON object"},
      {"schemaVersion missing", "{\"mediaType\":\"" SC_MT_OCI_INDEX "\",\"manifests\":[]}", NULL, SC_ERR_FORMAT,
       "schemaVersion is missing"},
      {"schemaVersion 3", "{\"schemaVersion\":3,\"manifests\":[]}", NULL, SC_ERR_FORMAT, "not 2"},
      {"schemaVersion string", "{\"schemaVersion\":\"2\",\"manifests\":[]}", NULL, SC_ERR_FORMAT, "not 2"},
      {"schemaVersion 2.0", "{\"schemaVersion\":2.0,\"manifests\":[]}", NULL, SC_ERR_FORMAT, "not 2"},
      {"schema 1", "{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, SC_ERR_UNSUPP, "schema 1"},
      {"duplicate deep in a platform",
       "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\",\"platform\":{\"os\":\"linux\",\"os\":\"x\"}}]}",
       NULL, SC_ERR_FORMAT, "duplicate object key"},
      {"duplicate in layer annotations",
       "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"digest\":\"" D2
       "\",\"annotations\":{\"a\":\"1\",\"a\":\"2\"}}]}",
       NULL, SC_ERR_FORMAT, "duplicate object key"},
      {"two unknown top-level keys folding together", "{\"schemaVersion\":2,\"manifests\":[],\"x\":1,\"X\":2}",
       NULL, SC_ERR_FORMAT, "keys \"x\" and \"X\" at $ fold to the same name"},
      {"Kelvin in an unknown key is fine", "{\"schemaVersion\":2,\"manifests\":[],\"\xe2\x84\xaaind\":1}", NULL,
       0, ""},
      {"unknown mediaType", "{\"schemaVersion\":2,\"mediaType\":\"application/x-\\u017f\",\"layers\":[]}", NULL,
       SC_ERR_UNSUPP, "mediaType \"application/x-\\u017f\" is not"},
      {"not JSON", "{\"schemaVersion\":2,", NULL, SC_ERR_FORMAT, "not valid JSON"},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    char why[256] = "unset";
    sc_manifest m;
    int rc = sc_manifest_check(t[i].json, strlen(t[i].json), t[i].ctype, why, sizeof why);
    CHECK_INT(rc, t[i].rc, "%s: check result", t[i].name);
    CHECK(rc ? strstr(why, t[i].why) != NULL : why[0] == '\0', "%s: reason (%s)", t[i].name, why);
    CHECK_INT(sc_manifest_parse(t[i].json, strlen(t[i].json), t[i].ctype, &m), t[i].rc, "%s: parse agrees",
              t[i].name);
    sc_manifest_free(&m);
  }
  char why[64];
  CHECK_INT(sc_manifest_check(NULL, 0, NULL, why, sizeof why), SC_ERR_ARG, "check NULL");
  CHECK_STR(why, "no manifest", "check NULL reason");
  CHECK_INT(sc_manifest_check(DOCKER_V2, strlen(DOCKER_V2), NULL, NULL, 0), 0, "why may be NULL");
  char tiny[8];
  CHECK_INT(sc_manifest_check("{\"LAYERS\":1}", 12, NULL, tiny, sizeof tiny), SC_ERR_FORMAT, "tiny why buffer");
  CHECK_INT(strlen(tiny), sizeof tiny - 1, "tiny why truncated, terminated");
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

/* The base image annotations (lineage): kept when well-formed, else not. */
static void test_base_annotations(void) {
  const char *fmt =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
      "\"sha256:1111111111111111111111111111111111111111111111111111111111111111\",\"size\":2},"
      "\"layers\":[],\"annotations\":{%s}}";
  char doc[2048];
  sc_manifest m;
  snprintf(doc, sizeof(doc), fmt,
           "\"org.opencontainers.image.base.name\":\"docker.io/library/debian:12\","
           "\"org.opencontainers.image.base.digest\":"
           "\"sha256:2222222222222222222222222222222222222222222222222222222222222222\",\"x\":\"y\"");
  CHECK_INT(sc_manifest_parse(doc, strlen(doc), NULL, &m), 0, "manifest with base annotations");
  CHECK(m.base_name && !strcmp(m.base_name, "docker.io/library/debian:12"), "base name kept");
  CHECK(m.base_digest && !strcmp(m.base_digest, "sha256:2222222222222222222222222222222222222222222222222222222222222222"),
        "base digest kept");
  sc_manifest_free(&m);
  snprintf(doc, sizeof(doc), fmt,
           "\"org.opencontainers.image.base.digest\":\"sha256:short\",\"org.opencontainers.image.base.name\":\"\"");
  CHECK_INT(sc_manifest_parse(doc, strlen(doc), NULL, &m), 0, "manifest with malformed base annotations");
  CHECK(!m.base_name && !m.base_digest, "a malformed digest and an empty name are not kept");
  sc_manifest_free(&m);
}

int main(void) {
  test_base_annotations();
  test_cases();
  test_pick_and_sizes();
  test_real_world();
  test_case_variants();
  test_structure();
  test_digest();
  return tap_done();
}
