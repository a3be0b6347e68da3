/* fuzz_cat_rust.c - libFuzzer target: the rust cataloger on an executable
 * (ELF with a cargo-auditable .dep-v0 section; body in fuzz_cat.h).
 * Cargo.lock has its own target, fuzz_cat_rust_lock.c.  Owner: fuzz. */
#define FUZZ_CAT sc_cat_rust
#define FUZZ_CAT_PATH "usr/local/bin/app"
#define FUZZ_CAT_MODE (S_IFREG | 0755)
#include "fuzz_cat.h"
