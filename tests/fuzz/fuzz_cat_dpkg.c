/* fuzz_cat_dpkg.c - libFuzzer target: the dpkg cataloger on a dpkg status file
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_dpkg
#define FUZZ_CAT_PATH "var/lib/dpkg/status"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
