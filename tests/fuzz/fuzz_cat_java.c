/* fuzz_cat_java.c - libFuzzer target: the java cataloger on a jar (zip, nested jars, pom.properties, pom.xml,
 * MANIFEST.MF) (body in fuzz_cat.h), then the same bytes, as text, straight into the naming functions
 * (sc_java_names.h): inside a zip the fuzzer rarely gets a mutated manifest or pom.xml past inflate, so
 * the parsers that name jars are driven directly too.  Owner: fuzz; naming part: scanner (java cataloger). */
#define FUZZ_CAT sc_cat_java
#define FUZZ_CAT_PATH "app/lib/app-1.0.jar"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#define LLVMFuzzerTestOneInput fuzz_cat_one
#include "fuzz_cat.h"
#undef LLVMFuzzerTestOneInput

#include "sc_java_names.h"

#define FUZZ_JN_MAX_TEXT (64 * 1024) /* manifests and poms the cataloger reads are capped at 64 KiB too */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_cat_one(data, size);
  if (size > FUZZ_JN_MAX_TEXT) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char version[SC_JN_FIELD], name[SC_JN_NAME];
  sc_jn_pom_version(text, version);
  if (strlen(version) >= SC_JN_FIELD) abort();
  sc_jn_manifest m;
  memset(&m, 0, sizeof m);
  sc_jn_manifest_parse(&m, text); /* in place: last, it unfolds text */
  static const char *const paths[] = {"a/b.jar", "x/guava-31.1-jre.jar", "org.e.c_1.0.jar", "p/git.hpi", ""};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    int ok = sc_jn_select(&m, paths[i], name, version);
    if (ok && (!*name || !*version || strlen(name) >= SC_JN_NAME || strlen(version) >= SC_JN_FIELD)) abort();
  }
  /* the bundle split on every field the manifest gave, as symbolic name and as file artifact */
  sc_jn_bundle(m.impl_title, m.bundle, name);
  sc_jn_bundle(m.bundle, m.short_name, name);
  if (strlen(name) >= SC_JN_NAME) abort();
  char ga[SC_JN_NAME];
  if (sc_jn_maven_path(m.impl_title, "pom.xml", ga) && !strchr(ga, ':')) abort();
  free(text);
  return 0;
}
