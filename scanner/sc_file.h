/* sc_file.h - bounded whole-file reads.
 * sc_read_file: a regular file of at most cap bytes into a malloc'd,
 * NUL-terminated buffer.  Returns 0, SC_ERR_IO (missing, unreadable, not a
 * regular file), SC_ERR_LIMIT (larger than cap) or SC_ERR_NOMEM.
 * sc_read_secret: the first line of a secret file (a password, a token,
 * a webhook key) into out; -1 when the file is unreadable, the line empty
 * or longer than cap - 1.  The read buffer is wiped. */
#ifndef CUSTOMS_SC_FILE_H
#define CUSTOMS_SC_FILE_H
#include <stddef.h>
int sc_read_file(const char *path, size_t cap, char **out, size_t *len);
#define SC_SECRET_MAX_BYTES 4096 /* a secret file's first line */
int sc_read_secret(const char *path, char *out, size_t cap);
#endif
