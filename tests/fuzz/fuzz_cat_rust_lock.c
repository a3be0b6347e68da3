/* fuzz_cat_rust_lock.c - libFuzzer target: the rust cataloger on a
 * Cargo.lock (body in fuzz_cat.h; binaries: fuzz_cat_rust.c).  Owner: fuzz. */
#define FUZZ_CAT sc_cat_rust
#define FUZZ_CAT_PATH "srv/app/Cargo.lock"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
