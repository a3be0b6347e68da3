/* sc_strmap.c - string-keyed hash table (see sc_strmap.h).
 * Owner: scanner (shared helper).  Thread: caller's.  Errors: SC_ERR_NOMEM. */
#include "sc_strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_err.h"

sc_strmap_slot *sc_strmap_find(const sc_strmap *m, const char *key, uint64_t h) {
  if (!m->s) return NULL;
  for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
    sc_strmap_slot *s = &m->s[i];
    if (!s->key) return s;
    if (s->h == h && !strcmp(s->key, key)) return s;
  }
}

int sc_strmap_reserve(sc_strmap *m) {
  if (m->s && (m->n + 1) * 2 <= m->mask + 1) return 0;
  size_t cap = m->s ? (m->mask + 1) * 2 : SC_STRMAP_MIN_SLOTS;
  sc_strmap_slot *ns = calloc(cap, sizeof(*ns));
  if (!ns) return SC_ERR_NOMEM;
  for (size_t i = 0; m->s && i <= m->mask; i++) {
    if (!m->s[i].key) continue;
    size_t j = m->s[i].h & (cap - 1);
    while (ns[j].key) j = (j + 1) & (cap - 1);
    ns[j] = m->s[i];
  }
  free(m->s);
  m->s = ns;
  m->mask = cap - 1;
  return 0;
}

void sc_strmap_free(sc_strmap *m) {
  free(m->s);
  memset(m, 0, sizeof(*m));
}

size_t sc_strmap_key(char *out, size_t cap, const char *a, const char *b, const char *c) {
  int n = snprintf(out, cap, "%s\x1f%s%s%s\x1e", a ? a : "", b ? b : "", c ? "\x1f" : "", c ? c : "");
  return n > 0 && (size_t)n < cap ? (size_t)n - 1 : 0;
}
