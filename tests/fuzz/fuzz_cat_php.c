/* fuzz_cat_php.c - libFuzzer target: the Composer cataloger on
 * vendor/composer/installed.json (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_php
#define FUZZ_CAT_PATH "var/www/vendor/composer/installed.json"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
