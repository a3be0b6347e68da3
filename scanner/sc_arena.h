/* sc_arena.h - many small allocations freed at once (a bump allocator).
 *
 * Memory comes from chunks of SC_ARENA_CHUNK_BYTES (larger requests get a
 * chunk of their own) and is only given back by sc_arena_free, all at once:
 * for data built once and dropped whole (the loaded vulnerability data, a
 * finding list's strings, a matcher run's keys).
 * Ownership: the arena owns every block it hands out.  A zeroed struct is an
 * empty arena.  Thread: none of its own; one arena is used by one thread at
 * a time (a finished arena may be read by many).
 * Errors: allocation functions return NULL when malloc fails. */
#ifndef CUSTOMS_SC_ARENA_H
#define CUSTOMS_SC_ARENA_H
#include <stddef.h>

#define SC_ARENA_CHUNK_BYTES 65536 /* bytes of a regular chunk */

struct sc_arena_chunk;
typedef struct sc_arena {
  struct sc_arena_chunk *head; /* newest chunk first */
} sc_arena;

/* n bytes aligned to 8, uninitialised. */
void *sc_arena_alloc(sc_arena *a, size_t n);
/* A copy of s ("" when s is NULL). */
char *sc_arena_strdup(sc_arena *a, const char *s);
/* Frees every chunk; the arena is empty again. */
void sc_arena_free(sc_arena *a);
#endif
