/* sc_err.c - texts of the one error space (see sc_err.h). */
#include "sc_err.h"
#include <stdarg.h>
#include <stdio.h>

static const struct {
  const char *name, *text;
  int fatal;
} errs[] = {
    /*  0 */ {"OK", "success", 0},
    /* -1 */ {"SC_ERR_NOMEM", "out of memory", 1},
    /* -2 */ {"SC_ERR_IO", "input/output error", 0},
    /* -3 */ {"SC_ERR_FORMAT", "malformed input", 0},
    /* -4 */ {"SC_ERR_LIMIT", "limit exceeded", 0},
    /* -5 */ {"SC_ERR_DIGEST", "content does not match its digest", 0},
    /* -6 */ {"SC_ERR_UNSUPP", "format not supported", 0},
    /* -7 */ {"SC_ERR_DB", "database failure", 0},
    /* -8 */ {"SC_ERR_ARG", "invalid argument", 0},
    /* -9 */ {"SC_ERR_NOTFOUND", "not found", 0},
    /* -10 */ {"SC_ERR_INVALID", "invalid request", 0},
    /* -11 */ {"SC_ERR_STATE", "operation not allowed in this state", 0},
};

static int idx(int rc) { return rc <= 0 && rc >= SC_ERR_LAST ? -rc : -1; }

const char *customs_strerror(int rc) { return idx(rc) >= 0 ? errs[idx(rc)].text : "unknown error"; }

const char *customs_err_name(int rc) { return idx(rc) >= 0 ? errs[idx(rc)].name : "SC_ERR_UNKNOWN"; }

int customs_err_fatal(int rc) { return idx(rc) >= 0 ? errs[idx(rc)].fatal : 0; }

int sc_errf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}
