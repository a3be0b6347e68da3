/* fuzz_cat_os.c - libFuzzer target: the os cataloger on an os-release file
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_os
#define FUZZ_CAT_PATH "etc/os-release"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
