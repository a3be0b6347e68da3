/* fuzz_cat_java.c - libFuzzer target: the java cataloger on a jar (zip, nested jars, pom.properties, MANIFEST.MF)
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_java
#define FUZZ_CAT_PATH "app/lib/app.jar"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
