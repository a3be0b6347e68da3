/* sc_buf.c - capped growable buffer; see sc_buf.h for the contract.
 * Owner: scanner (shared helper).  Thread: caller's.  Errors: SC_ERR_LIMIT,
 * SC_ERR_NOMEM, both sticky in the buffer. */
#include "sc_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_buf_init(sc_buf *b, size_t max_bytes) {
  memset(b, 0, sizeof(*b));
  b->max = max_bytes;
}

void sc_buf_reset(sc_buf *b) {
  size_t max = b->max;
  free(b->s);
  sc_buf_init(b, max);
}

void sc_buf_free(sc_buf *b) {
  free(b->s);
  sc_buf_init(b, 0);
}

int sc_buf_err(const sc_buf *b) {
  return b->oom ? SC_ERR_NOMEM : b->full ? SC_ERR_LIMIT : 0;
}

/* Makes room for n more bytes and the NUL; refuses (sticky) past the cap. */
static int reserve(sc_buf *b, size_t n) {
  if (b->oom || b->full) return sc_buf_err(b);
  if (n >= b->max || b->len + n + 1 > b->max) { /* first test: no overflow below */
    b->full = 1;
    return SC_ERR_LIMIT;
  }
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : SC_BUF_MIN_ALLOC;
    while (nc < b->len + n + 1) nc *= 2;
    if (nc > b->max) nc = b->max;
    char *t = realloc(b->s, nc);
    if (!t) {
      b->oom = 1;
      return SC_ERR_NOMEM;
    }
    b->s = t;
    b->cap = nc;
  }
  return 0;
}

int sc_buf_add(sc_buf *b, const void *p, size_t n) {
  int rc = reserve(b, n);
  if (rc) return rc;
  if (n) memcpy(b->s + b->len, p, n);
  b->len += n;
  b->s[b->len] = '\0';
  return 0;
}

int sc_buf_addstr(sc_buf *b, const char *s) { return sc_buf_add(b, s, strlen(s)); }

int sc_buf_vprintf(sc_buf *b, const char *fmt, va_list ap) {
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  if (n < 0) return b->oom || b->full ? sc_buf_err(b) : SC_ERR_LIMIT; /* EOVERFLOW: over INT_MAX */
  int rc = reserve(b, (size_t)n);
  if (rc) return rc;
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return 0;
}

int sc_buf_printf(sc_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = sc_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

size_t sc_utf8_len(const unsigned char *s, size_t avail) {
  size_t n;
  unsigned c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3;
  else if (c >= 0xf0 && c <= 0xf4) n = 4;
  else return 0;
  if (avail < n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  /* overlong 3-byte forms, UTF-16 surrogates, overlong 4-byte forms, > U+10FFFF */
  if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))) return 0;
  if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))) return 0;
  return n;
}

int sc_buf_add_clean(sc_buf *b, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "?");
  size_t left = strlen((const char *)p);
  while (left && !b->full && !b->oom) {
    size_t n = sc_utf8_len(p, left);
    if (n == 0 || (n == 1 && (p[0] < 0x20 || p[0] == 0x7f))) {
      sc_buf_add(b, "?", 1);
      n = n ? n : 1;
    } else {
      sc_buf_add(b, p, n);
    }
    p += n;
    left -= n;
  }
  return sc_buf_err(b);
}

int sc_buf_mark_cut(sc_buf *b, const char *mark) {
  if (b->oom) return SC_ERR_NOMEM;
  if (!b->full) return 0;
  size_t n = strlen(mark);
  b->full = 0;
  b->max += n;
  return sc_buf_add(b, mark, n) == SC_ERR_NOMEM ? SC_ERR_NOMEM : 0;
}

const char *sc_buf_str(const sc_buf *b) { return b->s ? b->s : ""; }

char *sc_buf_take(sc_buf *b) {
  char *s = b->s;
  b->s = NULL;
  sc_buf_reset(b);
  return s;
}
