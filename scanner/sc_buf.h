/* sc_buf.h - a growable byte/string buffer with a hard cap (curl's dynbuf,
 * with sticky failure instead of freeing).
 *
 * Every buffer is created with a cap: the most bytes it will ever hold,
 * counting the NUL that always follows the data, so a buffer capped at
 * `max` holds at most max - 1 bytes of text.  Untrusted input (package
 * names from image layers, YAML from users, HTTP bodies) can therefore
 * never grow one without bound.  An append that does not fit in full is
 * refused whole (nothing of it is stored) and the buffer becomes `full`; an
 * allocation failure makes it `oom`.  Both are sticky: every later append is
 * refused too, so a text is cut at one place and a caller may append a
 * whole message and check once at the end (sc_buf_err).
 *
 * Ownership: the buffer owns its memory until sc_buf_free or sc_buf_take.
 * The struct may live on the stack; zero-initialising it and setting `max`
 * (or sc_buf_init) is all the set-up it needs.
 * Thread: none of its own; one buffer is used by one thread at a time.
 * Errors: appends return 0, SC_ERR_LIMIT (over the cap, or already full) or
 * SC_ERR_NOMEM (allocation failed, or already oom). */
#ifndef CUSTOMS_SC_BUF_H
#define CUSTOMS_SC_BUF_H
#include <stdarg.h>
#include <stddef.h>

#include "sc_err.h"

#define SC_BUF_MIN_ALLOC 256 /* bytes of the first allocation (then doubling) */

typedef struct sc_buf {
  char *s;        /* NUL-terminated data, NULL until the first append */
  size_t len;     /* bytes of data, without the NUL */
  size_t cap;     /* bytes allocated */
  size_t max;     /* hard cap in bytes, NUL included */
  int full;       /* an append was refused for the cap (sticky) */
  int oom;        /* an allocation failed (sticky) */
} sc_buf;

/* Empty buffer that will hold at most max_bytes - 1 bytes of data. */
void sc_buf_init(sc_buf *b, size_t max_bytes);
/* Frees the data and empties the buffer (cap and max are kept, flags reset). */
void sc_buf_reset(sc_buf *b);
/* Frees the data; the buffer is then as after sc_buf_init(b, 0). */
void sc_buf_free(sc_buf *b);

/* Appends n bytes (which may contain NULs). */
int sc_buf_add(sc_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int sc_buf_addstr(sc_buf *b, const char *s);
/* Appends printf-formatted text; the whole formatted text or nothing. */
int sc_buf_printf(sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sc_buf_vprintf(sc_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends untrusted text so that the buffer stays valid UTF-8 without
 * control characters (what a terminal, a log line and a JSON encoder all
 * accept): control bytes (< 0x20, 0x7f) and every byte of an invalid or
 * overlong UTF-8 sequence become '?'.  NULL appends "?".  Stops at the cap
 * on a character boundary. */
int sc_buf_add_clean(sc_buf *b, const char *s);
/* When the cap has cut the text (b->full), lifts the cap by strlen(mark)
 * and appends mark ("...") so that a reader sees it was cut.  Call once,
 * after the last append.  Returns 0 or SC_ERR_NOMEM; 0 and no change when
 * the text was not cut. */
int sc_buf_mark_cut(sc_buf *b, const char *mark);

/* 0, SC_ERR_NOMEM (an allocation failed) or SC_ERR_LIMIT (an append was
 * refused for the cap); SC_ERR_NOMEM wins when both happened. */
int sc_buf_err(const sc_buf *b);
/* The data, "" when empty (never NULL); valid until the next append. */
const char *sc_buf_str(const sc_buf *b);
/* Hands the data to the caller (free() it) and empties the buffer; NULL
 * when nothing was ever appended. */
char *sc_buf_take(sc_buf *b);

/* Length of the valid UTF-8 sequence at s (1..4 bytes, `avail` bytes
 * readable), 0 when it is invalid, overlong, a surrogate or past U+10FFFF. */
size_t sc_utf8_len(const unsigned char *s, size_t avail);

#endif
