/* fuzz_cat_python.c - libFuzzer target: the python cataloger on a dist-info METADATA file
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_python
#define FUZZ_CAT_PATH "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
