/* fuzz_cat_go.c - libFuzzer target: the go cataloger on an executable (ELF with Go build info)
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_go
#define FUZZ_CAT_PATH "usr/local/bin/app"
#define FUZZ_CAT_MODE (S_IFREG | 0755)
#include "fuzz_cat.h"
