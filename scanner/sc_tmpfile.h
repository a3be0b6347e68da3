/* sc_tmpfile.h - temporary files in a directory the caller names (the
 * configured scan.spool_dir), never in TMPDIR behind the operator's back:
 * spool files hold whole layers, and the operator sized spool_dir for them.
 *
 * Files are created O_RDWR | O_CLOEXEC (a scan thread's fd must not leak
 * into a child process) with mode 0600 (layers of private images).
 * sc_tmpfile_open gives a file without a name: with O_TMPFILE it never had
 * one, otherwise it is unlinked at once, so it vanishes with its last fd
 * whatever happens to the process.  sc_tmpfile_named is for the consumers
 * that must open the file by name (SQLite opens a path); the caller unlinks.
 * Owner: scanner (shared helper); the caller owns the returned fd (and the
 * named file).  Thread: any (no shared state).
 * Errors: SC_ERR_ARG (NULL or empty dir or prefix: errno EINVAL; a name that
 * does not fit SC_TMPFILE_PATH_MAX or the caller's buffer: ENAMETOOLONG),
 * SC_ERR_IO (the system refused; errno says why).  An empty dir is an error,
 * never a silent fallback to TMPDIR. */
#ifndef CUSTOMS_SC_TMPFILE_H
#define CUSTOMS_SC_TMPFILE_H
#include <stddef.h>

#include "sc_err.h"

#define SC_TMPFILE_PATH_MAX 4096 /* bytes of a temp file's path, NUL included */
/* scan.spool_dir, `customs scan --spool-dir` and sc_limits.spool_dir when
 * nobody names one: a disk-backed directory (not a tmpfs /tmp) */
#define SC_SPOOL_DIR_DEFAULT "/var/tmp"

/* An unnamed temp file in dir; `prefix` names the fallback's short-lived
 * file ("customs-spool") so a leftover after a crash says whose it is.
 * Returns the fd (at offset 0) or a negative SC_ERR_*. */
int sc_tmpfile_open(const char *dir, const char *prefix);

/* A named temp file "DIR/PREFIX-XXXXXX[SUFFIX]"; its path is written to
 * path (cap bytes).  suffix may be NULL ("" ) or an extension (".zip") for
 * tools that go by it.  Returns the fd or a negative SC_ERR_*; on error
 * nothing is left on disk and path is "". */
int sc_tmpfile_named(const char *dir, const char *prefix, const char *suffix, char *path, size_t cap);

#endif
