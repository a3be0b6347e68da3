/* sc_file.h - bounded whole-file reads.
 * sc_read_file: a regular file of at most cap bytes into a malloc'd,
 * NUL-terminated buffer.  Returns 0, SC_ERR_IO (missing, unreadable, not a
 * regular file), SC_ERR_LIMIT (larger than cap) or SC_ERR_NOMEM. */
#ifndef CUSTOMS_SC_FILE_H
#define CUSTOMS_SC_FILE_H
#include <stddef.h>
int sc_read_file(const char *path, size_t cap, char **out, size_t *len);
#endif
