/* sc_err.h - customs' one error space (nghttp2 style).
 *
 * Every module, scanner/, net/, proxy/ and cmd/ alike, returns 0 or one of
 * these negative codes, spelled SC_ERR_* everywhere (there are no aliases),
 * so a code means the same thing wherever it travels.  customs_strerror() gives
 * the text, customs_err_name() the symbol, and customs_err_fatal() says
 * whether the process cannot go on after it (nothing is retried or served
 * as usual after a fatal error: nghttp2's "fatal threshold").
 *
 * Ownership: constants and static strings only.  Thread: any. */
#ifndef CUSTOMS_SC_ERR_H
#define CUSTOMS_SC_ERR_H

#define SC_ERR_NOMEM    -1  /* allocation failed (fatal) */
#define SC_ERR_IO       -2  /* read or write failed */
#define SC_ERR_FORMAT   -3  /* malformed input (corrupt gzip/tar/json/...) */
#define SC_ERR_LIMIT    -4  /* a cap was exceeded (size, entries, ratio, budget) */
#define SC_ERR_DIGEST   -5  /* content does not match the expected digest */
#define SC_ERR_UNSUPP   -6  /* format recognised but not supported */
#define SC_ERR_DB       -7  /* database failure */
#define SC_ERR_ARG      -8  /* bad argument */
#define SC_ERR_NOTFOUND -9  /* no such layer/image/tag/record */
#define SC_ERR_INVALID  -10 /* a request or value that breaks a protocol or grammar rule */
#define SC_ERR_STATE    -11 /* the object is in a state that does not allow the call */
#define SC_ERR_LAST     -11 /* the lowest code in use */

/* Text of a code ("success" for 0, "unknown error" outside the space). */
const char *customs_strerror(int rc);
/* "SC_ERR_IO" etc. ("OK" for 0). */
const char *customs_err_name(int rc);
/* Nonzero when the process cannot carry on normally after rc. */
int customs_err_fatal(int rc);
#include <stddef.h>
/* A one-line reason into err (cut at errlen: a long message is shortened,
 * not refused); returns -1, so that `return sc_errf(...)` fails a call. */
int sc_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
