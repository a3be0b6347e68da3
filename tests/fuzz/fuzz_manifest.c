/* fuzz_manifest.c - libFuzzer target: registry manifests and indexes
 * (sc_manifest_parse under every content type, sc_manifest_pick,
 * sc_platform_str) and image configs (sc_config_parse) on the same bytes.
 *
 * Oracle (off with FUZZ_ORACLE=0): Go's encoding/json, which the registry
 * and every client use, matches object keys case-insensitively with Unicode
 * simple folding ("ſ" = s, Kelvin sign = k) and keeps the last duplicate.
 * A document that parses must therefore have no duplicate keys and no key
 * that folds to a field customs reads without being spelled exactly like it
 * (issue 8, item 2); otherwise clients could read something customs did not
 * judge, and the target aborts.  Configs are blobs, not PUT documents:
 * sc_config_parse gets only the memory-safety checks.
 * Owner: fuzz.  Single-threaded. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_config.h"
#include "sc_image.h"

static int oracle = 1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *e = getenv("FUZZ_ORACLE");
  oracle = !(e && strcmp(e, "0") == 0);
  return 0;
}

/* Key folded the way Go's encoding/json compares it with a field name:
 * ASCII case, U+017F (ſ) to 's', U+212A (Kelvin) to 'k'.  Other non-ASCII
 * bytes are kept, so they never equal an ASCII field name. */
static void go_fold(const char *k, char *out, size_t cap) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)k; *p && o + 1 < cap;) {
    if (p[0] == 0xc5 && p[1] == 0xbf) { out[o++] = 's'; p += 2; continue; }
    if (p[0] == 0xe2 && p[1] == 0x84 && p[2] == 0xaa) { out[o++] = 'k'; p += 3; continue; }
    out[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    p++;
  }
  out[o] = 0;
}

/* Does object o have a key that Go would read as one of `fields` but that is
 * not spelled exactly as customs reads it?  Returns the key or NULL. */
static const char *fold_variant(json_t *o, const char *const *fields) {
  const char *k;
  json_t *v;
  char f[128], g[128];
  if (!json_is_object(o)) return NULL;
  json_object_foreach(o, k, v) {
    go_fold(k, f, sizeof f);
    for (size_t i = 0; fields[i]; i++) {
      go_fold(fields[i], g, sizeof g);
      if (strcmp(f, g) == 0 && strcmp(k, fields[i]) != 0) return k;
    }
  }
  return NULL;
}

static const char *const top_fields[] = {"schemaVersion", "mediaType", "config", "layers", "manifests", NULL};
static const char *const desc_fields[] = {"mediaType", "digest", "size", "platform", NULL};
static const char *const plat_fields[] = {"os", "architecture", "variant", NULL};
static const char *manifest_variant(json_t *root) {
  const char *k;
  size_t i;
  json_t *d;
  if ((k = fold_variant(root, top_fields))) return k;
  if ((k = fold_variant(json_object_get(root, "config"), desc_fields))) return k;
  json_array_foreach(json_object_get(root, "layers"), i, d) if ((k = fold_variant(d, desc_fields))) return k;
  json_array_foreach(json_object_get(root, "manifests"), i, d) {
    if ((k = fold_variant(d, desc_fields))) return k;
    if ((k = fold_variant(json_object_get(d, "platform"), plat_fields))) return k;
  }
  return NULL;
}

static void verdict(const char *what, int rc, json_t *lenient, int dup, const char *(*variant)(json_t *)) {
  const char *k;
  if (!oracle || rc != 0 || !lenient) return;
  if (dup) {
    fprintf(stderr, "oracle: %s with duplicate keys accepted\n", what);
    abort();
  }
  if ((k = variant(lenient))) {
    fprintf(stderr, "oracle: %s with key \"%s\" (Go reads it as a field customs reads) accepted\n", what, k);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const ctypes[] = {NULL, SC_MT_OCI_MANIFEST, SC_MT_OCI_INDEX, SC_MT_DOCKER_MANIFEST,
                                       SC_MT_DOCKER_LIST, "application/json; charset=utf-8"};
  const char *json = (const char *)data;
  json_t *lenient = NULL, *strict;
  int dup = 0;
  if (oracle) {
    lenient = json_loadb(json, size, 0, NULL);
    strict = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
    dup = lenient && !strict;
    json_decref(strict);
  }
  for (size_t i = 0; i < sizeof ctypes / sizeof ctypes[0]; i++) {
    sc_manifest m;
    char plat[256];
    int rc = sc_manifest_parse(json, size, ctypes[i], &m);
    if (rc == 0) {
      if (m.kind == SC_MANIFEST_IMAGE) {
        if (m.nlayers > SC_MANIFEST_MAX_ITEMS || m.nchildren) abort();
        for (size_t l = 0; l < m.nlayers; l++)
          if (m.layers[l].digest && !sc_digest_valid(m.layers[l].digest, 1)) abort();
      } else if (m.kind == SC_MANIFEST_INDEX) {
        if (m.nchildren > SC_MANIFEST_MAX_ITEMS || m.nlayers) abort();
        for (size_t c = 0; c < m.nchildren; c++) sc_platform_str(&m.children[c].platform, plat, sizeof plat);
        int pick = sc_manifest_pick(&m, "linux", "amd64", NULL);
        if (pick >= (int)m.nchildren) abort();
        (void)sc_manifest_pick(&m, "linux", "arm", "v7");
      } else {
        abort(); /* parsed, but neither an image nor an index */
      }
      if (!m.media_type) abort();
      verdict("manifest", rc, lenient, dup, manifest_variant);
    }
    sc_manifest_free(&m);
  }

  sc_image_config c;
  int rc = sc_config_parse(json, size, &c);
  if (rc == 0) {
    if (!c.user) abort();
  }
  sc_config_free(&c);
  json_decref(lenient);
  return 0;
}
