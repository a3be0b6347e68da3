/* px_log.h - one-line logging to stderr (journald/docker collect it).
 * Credentials never reach these functions: callers log only the fields
 * they choose, and px_access() takes no headers at all.
 *
 * The level is process-wide on purpose, the one piece of proxy state that
 * is not in px_ctx: the commands (`customs scan`, `db`, ...) and the
 * scanner's worker threads log without a context, and stderr is the
 * process's anyway.  Set it once at start (px_log_set_level) before any
 * thread runs; afterwards it is only read.  Thread: any. */
#ifndef CUSTOMS_PX_LOG_H
#define CUSTOMS_PX_LOG_H
#include <stdint.h>

enum { PX_LOG_ERROR = 0, PX_LOG_WARN, PX_LOG_INFO, PX_LOG_DEBUG };

void px_log_set_level(int level);
int px_log_level(void);
void px_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define px_error(...) px_log(PX_LOG_ERROR, __VA_ARGS__)
#define px_warn(...) px_log(PX_LOG_WARN, __VA_ARGS__)
#define px_info(...) px_log(PX_LOG_INFO, __VA_ARGS__)
#define px_debug(...) px_log(PX_LOG_DEBUG, __VA_ARGS__)

/* Monotonic clock in milliseconds. */
int64_t px_now_ms(void);
#endif
