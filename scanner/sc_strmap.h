/* sc_strmap.h - open-addressing hash table from string keys to pointers.
 *
 * Linear probing over a power-of-two table that doubles at half full
 * (first table SC_STRMAP_MIN_SLOTS).  The map stores the key pointer, not a
 * copy: the caller keeps keys alive (usually in an sc_arena) as long as the
 * map.  The caller hashes the key (sc_fnv1a over its bytes), so a key built
 * once is hashed once.  Keys come from our own data (package names from
 * layers, vulnerability ids), which an attacker may choose: the table's
 * size is bounded by the callers' own row caps, not by this module.
 * Insert: sc_strmap_reserve, then sc_strmap_find; when the returned slot
 * has no key, set key, h and val and count it (m->n++).
 * Ownership: the map owns its table only.  Thread: caller's.
 * Errors: sc_strmap_reserve returns 0 or SC_ERR_NOMEM. */
#ifndef CUSTOMS_SC_STRMAP_H
#define CUSTOMS_SC_STRMAP_H
#include <stddef.h>
#include <stdint.h>

#define SC_STRMAP_MIN_SLOTS 1024 /* slots of the first table */

typedef struct sc_strmap_slot {
  const char *key; /* NULL: empty */
  uint64_t h;
  void *val;
} sc_strmap_slot;

typedef struct sc_strmap {
  sc_strmap_slot *s; /* NULL until the first reserve */
  size_t n, mask;    /* used slots; table size - 1 */
} sc_strmap;

/* The slot holding key (hash h), or the empty slot where it would go; NULL
 * when the map has no table yet. */
sc_strmap_slot *sc_strmap_find(const sc_strmap *m, const char *key, uint64_t h);
/* Makes room for one more key. */
int sc_strmap_reserve(sc_strmap *m);
/* Frees the table (not keys or values); the map is empty again. */
void sc_strmap_free(sc_strmap *m);
/* Composite key "a\x1fb\x1fc\x1e" (b, c optional; NULL a is ""): the
 * terminator keeps a key from being a prefix of another.  Returns its
 * length without the terminator (what to hash), 0 when it does not fit. */
size_t sc_strmap_key(char *out, size_t cap, const char *a, const char *b, const char *c);
#endif
