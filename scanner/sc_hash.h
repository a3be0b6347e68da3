/* sc_hash.h - 64-bit FNV-1a, the one non-cryptographic hash of the project.
 *
 * For hash tables and change detection only: it is fast and good enough for
 * keys we make ourselves, but an attacker who picks keys can make them
 * collide, so anything keyed by untrusted input must cap its chain lengths
 * or its table size, and nothing may use it for integrity (digests are
 * SHA-256).  Values are stored (finding-set hashes in the database), so the
 * constants and the order of mixing must never change.  The offset basis is
 * the project's historical 1469598103934665603, the standard FNV basis
 * 14695981039346656037 less its last digit: every copy this header replaces
 * (inventory, matcher, layer paths, gate) uses it, and the database holds
 * hashes made with it.  Any non-zero basis serves; the prime does the mixing.
 *
 * sc_fnv1a_mix folds one whole 64-bit word in a single step (h ^ v) * prime,
 * as the matcher does for integers and sub-hashes; it is not the same as
 * hashing the word's eight bytes.
 * Owner: scanner (shared helper).  Thread: pure functions, any thread.
 * Errors: none. */
#ifndef CUSTOMS_SC_HASH_H
#define CUSTOMS_SC_HASH_H
#include <stddef.h>
#include <stdint.h>

#define SC_FNV_OFFSET 1469598103934665603ull /* offset basis (see above: not the standard one) */
#define SC_FNV_PRIME 1099511628211ull         /* FNV-1a 64-bit prime */

/* Continues hash h over n bytes. */
static inline uint64_t sc_fnv1a_more(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * SC_FNV_PRIME;
  return h;
}

/* Hash of n bytes. */
static inline uint64_t sc_fnv1a(const void *p, size_t n) { return sc_fnv1a_more(SC_FNV_OFFSET, p, n); }

/* Hash of a NUL-terminated string (the NUL is not hashed). */
static inline uint64_t sc_fnv1a_str(const char *s) {
  uint64_t h = SC_FNV_OFFSET;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * SC_FNV_PRIME;
  return h;
}

/* Folds one 64-bit value into h in one step. */
static inline uint64_t sc_fnv1a_mix(uint64_t h, uint64_t v) { return (h ^ v) * SC_FNV_PRIME; }

#endif
