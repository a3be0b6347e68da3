/* memreader.h - an sc_reader over memory for cataloger tests, handing out
 * at most `chunk` bytes per call so that what a cataloger looks for
 * straddles read boundaries. */
#ifndef CUSTOMS_TEST_MEMREADER_H
#define CUSTOMS_TEST_MEMREADER_H
#include <string.h>
#include <sys/types.h>

typedef struct memrd {
  const unsigned char *p;
  size_t len, pos, chunk;
} memrd;

static inline ssize_t mem_read(void *ctx, void *buf, size_t len) {
  memrd *m = ctx;
  size_t n = m->len - m->pos;
  if (n > len) n = len;
  if (n > m->chunk) n = m->chunk;
  memcpy(buf, m->p + m->pos, n);
  m->pos += n;
  return (ssize_t)n;
}
#endif
