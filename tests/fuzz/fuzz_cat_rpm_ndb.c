/* fuzz_cat_rpm_ndb.c - libFuzzer target: the rpm cataloger on an NDB Packages.db (sc_rpm_ndb.c), an untrusted
 * file read page by page at random offsets (body in fuzz_cat.h).  The seed corpus is
 * tests/fixtures/rpm's database; the reader sniffs the magic, so inputs
 * mutated into the other kind reach the other reader too.  Owner: rpmdb. */
#define FUZZ_CAT sc_cat_rpm
#define FUZZ_CAT_PATH "var/lib/rpm/Packages.db"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
