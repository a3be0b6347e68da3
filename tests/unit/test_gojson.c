/* test_gojson.c - Go encoding/json key semantics (sc_gojson): the fold,
 * duplicate keys, struct/map aware checks, and image configs read that way
 * (sc_config_check).  Expected folds come from Go's documentation and its
 * caseOrbit table (unicode/tables.go), not from the table under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_config.h"
#include "sc_gojson.h"
#include "sc_image.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_fold_rune(void) {
  static const struct {
    uint32_t r, want;
  } t[] = {
      {'a', 'A'},       {'Z', 'Z'},       {'1', '1'},       {'_', '_'},       {'.', '.'},
      {0x017F, 'S'},    /* LATIN SMALL LETTER LONG S: orbit S s ſ */
      {0x212A, 'K'},    /* KELVIN SIGN: orbit K k K */
      {0x00B5, 0x00B5}, /* MICRO SIGN: orbit µ Μ μ, smallest is µ */
      {0x039C, 0x00B5}, {0x03BC, 0x00B5},
      {0x0130, 0x0130}, /* dotted capital I: alone in Go (caseOrbit) */
      {0x0131, 0x0131}, /* dotless i: alone too */
      {0x00DF, 0x00DF}, {0x1E9E, 0x00DF}, /* ß and capital sharp s */
      {0x212B, 0x00C5}, {0x00E5, 0x00C5}, /* ANGSTROM SIGN, å -> Å */
      {0x01C5, 0x01C4}, {0x01C6, 0x01C4}, /* Dž dž -> DŽ */
      {0x00FF, 0x00FF}, {0x0178, 0x00FF}, /* Ÿ -> ÿ (smaller) */
      {0x03B8, 0x0398}, {0x03D1, 0x0398}, {0x03F4, 0x0398}, /* theta orbit */
      {0xAB70, 0x13A0}, /* Cherokee small letter folds to capital */
      {0x10428, 0x10400}, /* Deseret */
      {0xFFFD, 0xFFFD}, {0x4E2D, 0x4E2D},
  };
  for (size_t i = 0; i < N(t); i++)
    CHECK_INT(sc_gojson_fold_rune(t[i].r), t[i].want, "fold_rune(U+%04X)", (unsigned)t[i].r);

  /* Orbit invariants over every rune: the result is in the orbit's
   * smallest position, so folding is idempotent and never grows; and only
   * two non-ASCII runes reach ASCII. */
  unsigned bad_idem = 0, bad_grow = 0, to_ascii = 0;
  for (uint32_t r = 0; r <= 0x10FFFF; r++) {
    uint32_t f = sc_gojson_fold_rune(r);
    if (sc_gojson_fold_rune(f) != f) bad_idem++;
    if (f > r) bad_grow++;
    if (r >= 0x80 && f < 0x80) to_ascii++;
  }
  CHECK_INT(bad_idem, 0, "fold is idempotent on every rune");
  CHECK_INT(bad_grow, 0, "fold never picks a larger rune");
  CHECK_INT(to_ascii, 2, "only U+017F and U+212A fold into ASCII");
}

static void test_fold_string(void) {
  char out[64];
  CHECK_INT(sc_gojson_fold("layers", 6, out, sizeof out), 6, "fold length");
  CHECK_STR(out, "LAYERS", "fold layers");
  sc_gojson_fold("\xc5\xbf" "chemaVersion", 14, out, sizeof out);
  CHECK_STR(out, "SCHEMAVERSION", "fold \\u017fchemaVersion");
  sc_gojson_fold("Healthchec\xe2\x84\xaa", 13, out, sizeof out);
  CHECK_STR(out, "HEALTHCHECK", "fold Kelvin");
  sc_gojson_fold("os.version", 10, out, sizeof out);
  CHECK_STR(out, "OS.VERSION", "punctuation kept");
  sc_gojson_fold("\xce\xbc\xce\x9c", 4, out, sizeof out); /* μΜ -> µµ */
  CHECK_STR(out, "\xc2\xb5\xc2\xb5", "Greek mu folds to micro sign");
  sc_gojson_fold("a\xff" "b", 3, out, sizeof out); /* Go: invalid byte is U+FFFD */
  CHECK_STR(out, "A\xef\xbf\xbd" "B", "invalid UTF-8 folds to U+FFFD");
  sc_gojson_fold("\xe0\x80\xaf", 3, out, sizeof out); /* overlong '/' */
  CHECK_STR(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "overlong is three U+FFFD");
  char small[4];
  CHECK_INT(sc_gojson_fold("abcdef", 6, small, sizeof small), 6, "truncated fold reports full length");
  CHECK_STR(small, "ABC", "truncated fold is terminated");
}

static void test_quote(void) {
  char q[256] = "";
  sc_gojson_quote("\xc5\xbf" "ize", 5, q, sizeof q);
  CHECK_STR(q, "\"\\u017fize\"", "non-ASCII quoted as \\u");
  q[0] = '\0';
  sc_gojson_quote("a\"b\\\n", 5, q, sizeof q);
  CHECK_STR(q, "\"a\\\"b\\\\\\u000a\"", "quote, backslash, control");
  q[0] = '\0';
  char longkey[200];
  memset(longkey, 'x', sizeof longkey);
  sc_gojson_quote(longkey, sizeof longkey, q, sizeof q);
  CHECK_INT(strlen(q), SC_GOJSON_SHOW_KEY_BYTES + 5, "long key cut with ...");
  char tiny[6] = "";
  sc_gojson_quote("abcdefgh", 8, tiny, sizeof tiny);
  CHECK_INT(strlen(tiny), 5, "quote respects cap");
}

static void test_load(void) {
  static const struct {
    const char *desc, *json;
    int rc;
    const char *why; /* substring */
  } t[] = {
      {"plain", "{\"a\":{\"b\":[1,{\"c\":2}]}}", 0, ""},
      {"top duplicate", "{\"a\":1,\"a\":2}", SC_ERR_FORMAT, "duplicate"},
      {"duplicate 6 deep", "{\"a\":[{\"b\":{\"c\":[[{\"d\":{\"e\":1,\"e\":1}}]]}}]}", SC_ERR_FORMAT,
       "Go clients keep only the last"},
      {"duplicate via escape", "{\"x\":[{\"la\\u0079ers\":1,\"layers\":2}]}", SC_ERR_FORMAT, "duplicate"},
      {"NUL in key", "{\"a\\u0000\":1}", SC_ERR_FORMAT, "not valid JSON"},
      {"lone surrogate", "{\"\\ud800\":1}", SC_ERR_FORMAT, "not valid JSON"},
      {"invalid UTF-8", "{\"\xc0\xaf\":1}", SC_ERR_FORMAT, "not valid JSON"},
      {"trailing garbage", "{} x", SC_ERR_FORMAT, "not valid JSON"},
      {"case variants are not duplicates to jansson", "{\"a\":1,\"A\":2}", 0, ""},
  };
  for (size_t i = 0; i < N(t); i++) {
    json_t *doc = NULL;
    char why[256] = "unset";
    int rc = sc_gojson_load(t[i].json, strlen(t[i].json), &doc, why, sizeof why);
    CHECK_INT(rc, t[i].rc, "load %s", t[i].desc);
    CHECK(rc ? doc == NULL && strstr(why, t[i].why) != NULL : doc != NULL, "load %s: result and reason (%s)",
          t[i].desc, rc ? why : "ok");
    json_decref(doc);
  }
  json_t *doc;
  CHECK_INT(sc_gojson_load(NULL, 0, &doc, NULL, 0), SC_ERR_ARG, "load NULL");
}

/* A small type tree: {name, kind, meta{...} map, items[] of {id, Kind},
 * blob opaque}. */
static const sc_gojson_type t_map = {SC_GJ_MAP, NULL, NULL};
static const sc_gojson_field t_item_fields[] = {{"id", NULL}, {"kind", NULL}, {NULL, NULL}};
static const sc_gojson_type t_item = {SC_GJ_STRUCT, t_item_fields, NULL};
static const sc_gojson_type t_items = {SC_GJ_ARRAY, NULL, &t_item};
static const sc_gojson_type t_items_map = {SC_GJ_MAP, NULL, &t_item};
static const sc_gojson_field t_top_fields[] = {{"name", NULL},        {"meta", &t_map}, {"items", &t_items},
                                               {"byname", &t_items_map}, {"os.version", NULL}, {NULL, NULL}};
static const sc_gojson_type t_top = {SC_GJ_STRUCT, t_top_fields, NULL};

static void test_check(void) {
  static const struct {
    const char *desc, *json;
    int rc;
    const char *why; /* exact reason, or NULL when accepted */
  } t[] = {
      {"exact names", "{\"name\":1,\"meta\":{},\"items\":[{\"id\":1,\"kind\":2}],\"os.version\":\"x\"}", 0, NULL},
      {"upper-case variant", "{\"NAME\":1}", SC_ERR_FORMAT,
       "key \"NAME\" at $ folds to \"name\" (Go clients read it case-insensitively)"},
      {"variant after the exact key", "{\"name\":1,\"Name\":2}", SC_ERR_FORMAT,
       "key \"Name\" at $ folds to \"name\" (Go clients read it case-insensitively)"},
      {"Kelvin in an array element", "{\"items\":[{\"id\":1},{\"id\":2,\"\xe2\x84\xaaind\":3}]}", SC_ERR_FORMAT,
       "key \"\\u212aind\" at $.items[1] folds to \"kind\" (Go clients read it case-insensitively)"},
      {"long s", "{\"\xc5\xbf" "ame\":1}", 0, NULL}, /* "ſame" is SAME, not NAME */
      {"long s variant", "{\"items\":[],\"itemſ\":[]}", SC_ERR_FORMAT,
       "key \"item\\u017f\" at $ folds to \"items\" (Go clients read it case-insensitively)"},
      {"dotted name variant", "{\"OS.Version\":1}", SC_ERR_FORMAT,
       "key \"OS.Version\" at $ folds to \"os.version\" (Go clients read it case-insensitively)"},
      {"two unknown keys that fold together", "{\"extra\":1,\"EXTRA\":2}", SC_ERR_FORMAT,
       "keys \"extra\" and \"EXTRA\" at $ fold to the same name (Go clients keep only the last)"},
      {"map keys differing in case are fine", "{\"meta\":{\"Owner\":\"a\",\"owner\":\"b\",\"OWNER\":\"c\"}}", 0, NULL},
      {"map values of struct type are checked",
       "{\"byname\":{\"a.b\":{\"ID\":1}}}", SC_ERR_FORMAT,
       "key \"ID\" at $.byname[\"a.b\"] folds to \"id\" (Go clients read it case-insensitively)"},
      {"opaque member not checked", "{\"other\":{\"x\":1,\"X\":2}}", 0, NULL},
      {"wrong JSON type left to the parser", "{\"items\":{\"ID\":1,\"id\":2}}", 0, NULL},
      {"non-ASCII keys folding together", "{\"\xc3\xa9t\xc3\xa9\":1,\"\xc3\x89T\xc3\x89\":2}", SC_ERR_FORMAT,
       "keys \"\\u00e9t\\u00e9\" and \"\\u00c9T\\u00c9\" at $ fold to the same name (Go clients keep only the "
       "last)"},
      {"dotless i is not i", "{\"\xc4\xb1tems\":1,\"items\":[]}", 0, NULL},
  };
  for (size_t i = 0; i < N(t); i++) {
    json_t *doc = NULL;
    char why[256] = "";
    CHECK_INT(sc_gojson_load(t[i].json, strlen(t[i].json), &doc, why, sizeof why), 0, "check %s: loads", t[i].desc);
    int rc = sc_gojson_check(doc, &t_top, why, sizeof why);
    CHECK_INT(rc, t[i].rc, "check %s: result", t[i].desc);
    if (t[i].why) CHECK_STR(why, t[i].why, "check %s: reason", t[i].desc);
    json_decref(doc);
  }
  CHECK_INT(sc_gojson_check(NULL, &t_top, NULL, 0), SC_ERR_ARG, "check NULL doc");
}

/* Every struct in the manifest and config type trees: field names are
 * ASCII and no two fold together (else an exact key would be refused). */
static int struct_fields_ok(const sc_gojson_type *t, int depth, int *nstructs) {
  if (!t || depth > SC_GOJSON_MAX_DEPTH) return t == NULL;
  if (t->kind != SC_GJ_STRUCT) return struct_fields_ok(t->elem, depth + 1, nstructs);
  (*nstructs)++;
  for (const sc_gojson_field *a = t->fields; a->name; a++) {
    char fa[64], fb[64];
    for (const char *c = a->name; *c; c++)
      if ((unsigned char)*c >= 0x80) return 0;
    sc_gojson_fold(a->name, strlen(a->name), fa, sizeof fa);
    for (const sc_gojson_field *b = a + 1; b->name; b++) {
      sc_gojson_fold(b->name, strlen(b->name), fb, sizeof fb);
      if (strcmp(fa, fb) == 0) return 0;
    }
    if (!struct_fields_ok(a->type, depth + 1, nstructs)) return 0;
  }
  return 1;
}

static void test_type_trees(void) {
  int n = 0;
  CHECK(struct_fields_ok(sc_manifest_gotype(), 0, &n), "manifest type tree: distinct ASCII field names");
  CHECK_INT(n, 9, "manifest structs walked (top; config, layers[], manifests[], subject with platform each)");
  n = 0;
  CHECK(struct_fields_ok(sc_config_gotype(), 0, &n), "config type tree: distinct ASCII field names");
  CHECK(n >= 5, "config structs walked (%d)", n);
}

/* docker build (classic builder) config, trimmed, with case-variant label
 * keys (a map: fine). */
static const char DOCKER_CONFIG[] =
    "{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"app\","
    "\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,\"ExposedPorts\":{\"80/tcp\":{}},"
    "\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"PATH=/usr/bin\",\"API_TOKEN=x\"],"
    "\"Cmd\":[\"nginx\"],\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":30000000000},"
    "\"ArgsEscaped\":true,\"Image\":\"sha256:ab\",\"Volumes\":{\"/data\":{}},\"WorkingDir\":\"/\","
    "\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{\"Maintainer\":\"a\",\"maintainer\":\"b\"},"
    "\"StopSignal\":\"SIGQUIT\"},\"container\":\"3a5f\",\"container_config\":{\"Hostname\":\"3a5f\","
    "\"User\":\"\",\"Env\":[\"PATH=/usr/bin\"],\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) \",\"CMD [\\\"nginx\\\"]\"],"
    "\"Labels\":{}},\"created\":\"2023-11-21T17:14:32Z\",\"docker_version\":\"20.10.23\","
    "\"history\":[{\"created\":\"2023-11-20T00:00:00Z\",\"created_by\":\"ADD file:abc in /\"},"
    "{\"created\":\"2023-11-21T00:00:00Z\",\"created_by\":\"CMD [\\\"nginx\\\"]\",\"empty_layer\":true}],"
    "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
    "\"sha256:1111111111111111111111111111111111111111111111111111111111111111\"]}}";

/* Replaces the first occurrence of `from` (with its quotes) in base. */
static char *swap_key(const char *base, const char *from, const char *to) {
  char qf[64], *out;
  snprintf(qf, sizeof qf, "\"%s\"", from);
  const char *at = strstr(base, qf);
  if (!at || !(out = malloc(strlen(base) + strlen(to) + 3))) return NULL;
  sprintf(out, "%.*s\"%s\"%s", (int)(at - base), base, to, at + strlen(qf));
  return out;
}

static void test_config_check(void) {
  char why[256] = "";
  sc_image_config c;
  CHECK_INT(sc_config_check(DOCKER_CONFIG, strlen(DOCKER_CONFIG), why, sizeof why), 0, "docker config accepted (%s)",
            why);
  CHECK_INT(sc_config_parse(DOCKER_CONFIG, strlen(DOCKER_CONFIG), &c), 0, "docker config parses");
  CHECK_STR(c.user, "app", "config.User read, not container_config.User");
  CHECK_INT(c.nsecret_env, 1, "config.Env read");
  CHECK_INT(c.ndiff_ids, 1, "diff_ids read");
  sc_config_free(&c);

  /* Every member customs reads, spelled so that Go still reads it. */
  static const struct {
    const char *from, *to, *where;
  } v[] = {
      {"os", "OS", "$"},
      {"os", "o\xc5\xbf", "$"},
      {"architecture", "Architecture", "$"},
      {"created", "Created", "$"},
      {"config", "Config", "$"},
      {"config", "CONFIG", "$"},
      {"rootfs", "rootFS", "$"},
      {"diff_ids", "Diff_IDs", "$.rootfs"},
      {"diff_ids", "diff_id\xc5\xbf", "$.rootfs"},
      {"User", "user", "$.config"},
      {"Env", "env", "$.config"},
      {"ExposedPorts", "exposedPorts", "$.config"},
      {"Healthcheck", "Healthchec\xe2\x84\xaa", "$.config"},
      {"docker_version", "doc\xe2\x84\xaa" "er_version", "$"},
      {"created_by", "Created_By", "$.history[0]"},
  };
  for (size_t i = 0; i < N(v); i++) {
    char *doc = swap_key(DOCKER_CONFIG, v[i].from, v[i].to);
    CHECK(doc != NULL, "config variant %zu built", i);
    if (!doc) continue;
    int rc = sc_config_check(doc, strlen(doc), why, sizeof why);
    CHECK_INT(rc, SC_ERR_FORMAT, "config key %s -> variant %zu refused", v[i].from, i);
    char want[96];
    snprintf(want, sizeof want, " at %s folds to \"%s\"", v[i].where, v[i].from);
    CHECK(strstr(why, want) != NULL, "config variant %zu reason names path and field: %s", i, why);
    CHECK_INT(sc_config_parse(doc, strlen(doc), &c), SC_ERR_FORMAT, "config variant %zu: parse refuses too", i);
    sc_config_free(&c);
    free(doc);
  }

  /* The attack shape: an exact member customs reads, and a variant after
   * it that Go keeps. */
  static const struct {
    const char *desc, *json, *why;
  } bad[] = {
      {"User then user", "{\"config\":{\"User\":\"app\",\"user\":\"root\"}}",
       "key \"user\" at $.config folds to \"User\" (Go clients read it case-insensitively)"},
      {"duplicate diff_ids", "{\"rootfs\":{\"diff_ids\":[],\"diff_ids\":[\"sha256:1\"]}}", NULL},
      {"duplicate inside history", "{\"history\":[{},{\"comment\":\"a\",\"comment\":\"b\"}]}", NULL},
      {"duplicate label (map, exact)", "{\"config\":{\"Labels\":{\"a\":\"1\",\"a\":\"2\"}}}", NULL},
      {"two unknown keys folding together", "{\"moby.x\":1,\"MOBY.X\":2}", NULL},
  };
  for (size_t i = 0; i < N(bad); i++) {
    why[0] = '\0';
    CHECK_INT(sc_config_check(bad[i].json, strlen(bad[i].json), why, sizeof why), SC_ERR_FORMAT, "config %s refused",
              bad[i].desc);
    CHECK(why[0] != '\0', "config %s: reason given (%s)", bad[i].desc, why);
    if (bad[i].why) CHECK_STR(why, bad[i].why, "config %s: reason", bad[i].desc);
  }
  static const char *const good[] = {
      "{\"config\":{\"Labels\":{\"Version\":\"1\",\"version\":\"2\",\"VERSION\":\"3\"}}}",
      "{\"config\":{\"ExposedPorts\":{\"80/tcp\":{},\"80/TCP\":{}},\"Volumes\":{\"/A\":{},\"/a\":{}}}}",
      "{\"os.version\":\"10.0.17763.1\",\"os.features\":[\"win32k\"],\"Size\":0,\"id\":\"x\",\"parent\":\"y\"}",
      "{\"moby.buildkit.buildinfo.v1\":\"e30=\",\"config\":{}}",
  };
  for (size_t i = 0; i < N(good); i++)
    CHECK_INT(sc_config_check(good[i], strlen(good[i]), why, sizeof why), 0, "config good %zu accepted (%s)", i, why);
  CHECK_INT(sc_config_check("{\"os\":7}", 8, why, sizeof why), SC_ERR_FORMAT, "wrong type refused");
  CHECK(strstr(why, "wrong type") != NULL, "wrong type reason: %s", why);
  CHECK_INT(sc_config_check(NULL, 0, why, sizeof why), SC_ERR_ARG, "NULL config");
  CHECK_INT(sc_config_check("{}", 2, NULL, 0), 0, "why may be NULL");
}

int main(void) {
  test_fold_rune();
  test_fold_string();
  test_quote();
  test_load();
  test_check();
  test_type_trees();
  test_config_check();
  return tap_done();
}
