/* sc_tmpfile.c - temp files in a given directory; see sc_tmpfile.h.
 * Owner: scanner (shared helper).  Thread: any.  Errors: SC_ERR_ARG,
 * SC_ERR_IO with errno set. */
#include "sc_tmpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMPFILE_MODE 0600 /* owner only: spool files hold private layers */

/* "DIR/PREFIX-XXXXXX" + suffix into out; 0 or SC_ERR_ARG (errno EINVAL or
 * ENAMETOOLONG, so that a caller's strerror(errno) says something true). */
static int make_template(const char *dir, const char *prefix, const char *suffix, char *out, size_t cap) {
  if (!dir || !*dir || !prefix || !*prefix || !out || !cap) {
    errno = EINVAL;
    return SC_ERR_ARG;
  }
  int n = snprintf(out, cap, "%s/%s-XXXXXX%s", dir, prefix, suffix ? suffix : "");
  if (n < 0 || (size_t)n >= cap || (size_t)n >= SC_TMPFILE_PATH_MAX) {
    out[0] = '\0';
    errno = ENAMETOOLONG;
    return SC_ERR_ARG;
  }
  return 0;
}

int sc_tmpfile_open(const char *dir, const char *prefix) {
  char path[SC_TMPFILE_PATH_MAX];
  int rc = make_template(dir, prefix, NULL, path, sizeof(path));
  if (rc) return rc;
#ifdef O_TMPFILE
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, TMPFILE_MODE);
  if (fd >= 0) return fd;
  /* EISDIR/EOPNOTSUPP: this file system (or kernel) has no O_TMPFILE, fall
   * back to a named file; anything else (ENOENT, EACCES) fails there too and
   * leaves its own errno. */
#endif
  int fd2 = mkostemp(path, O_CLOEXEC); /* mkostemp creates with mode 0600 */
  if (fd2 < 0) return SC_ERR_IO;
  unlink(path);
  return fd2;
}

int sc_tmpfile_named(const char *dir, const char *prefix, const char *suffix, char *path, size_t cap) {
  int rc = make_template(dir, prefix, suffix, path, cap);
  if (rc) return rc;
  int fd = mkostemps(path, suffix ? (int)strlen(suffix) : 0, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    path[0] = '\0';
    errno = e;
    return SC_ERR_IO;
  }
  return fd;
}
