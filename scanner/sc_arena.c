/* sc_arena.c - bump allocator (see sc_arena.h).
 * Owner: scanner (shared helper).  Thread: caller's.  Errors: NULL on OOM. */
#include "sc_arena.h"

#include <stdlib.h>
#include <string.h>

struct sc_arena_chunk {
  struct sc_arena_chunk *next;
  size_t used, cap;
  _Alignas(8) char data[];
};

void *sc_arena_alloc(sc_arena *a, size_t n) {
  n = (n + 7) & ~(size_t)7;
  if (!a->head || a->head->cap - a->head->used < n) {
    size_t cap = n > SC_ARENA_CHUNK_BYTES ? n : SC_ARENA_CHUNK_BYTES;
    struct sc_arena_chunk *c = malloc(sizeof(*c) + cap);
    if (!c) return NULL;
    c->next = a->head;
    c->used = 0;
    c->cap = cap;
    a->head = c;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += n;
  return p;
}

char *sc_arena_strdup(sc_arena *a, const char *s) {
  if (!s) s = "";
  size_t n = strlen(s) + 1;
  char *d = sc_arena_alloc(a, n);
  if (d) memcpy(d, s, n);
  return d;
}

void sc_arena_free(sc_arena *a) {
  if (!a) return;
  for (struct sc_arena_chunk *c = a->head, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  a->head = NULL;
}
