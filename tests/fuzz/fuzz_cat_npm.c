/* fuzz_cat_npm.c - libFuzzer target: the npm cataloger on a package.json under node_modules
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_npm
#define FUZZ_CAT_PATH "app/node_modules/left-pad/package.json"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
