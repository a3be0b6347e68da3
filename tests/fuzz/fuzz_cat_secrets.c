/* fuzz_cat_secrets.c - libFuzzer target: the secrets cataloger on a text file searched for keys and tokens
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_secrets
#define FUZZ_CAT_PATH "app/config/settings.env"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
