/* fuzz_cat_rpm.c - libFuzzer target: the rpm cataloger on an rpmdb.sqlite (an untrusted SQLite file)
 * (body in fuzz_cat.h).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_rpm
#define FUZZ_CAT_PATH "var/lib/rpm/rpmdb.sqlite"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
