/* fuzz_cat_apk.c - libFuzzer target: the apk cataloger on an apk installed database
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_apk
#define FUZZ_CAT_PATH "lib/apk/db/installed"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
