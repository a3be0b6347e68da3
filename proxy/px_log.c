/* px_log.c - timestamped log lines on stderr, written with one write(2) so
 * lines from worker threads never interleave. */
#include "px_log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_level = PX_LOG_INFO;

void px_log_set_level(int level) { log_level = level; }
int px_log_level(void) { return log_level; }

void px_log(int level, const char *fmt, ...) {
  static const char *names[] = {"error", "warn", "info", "debug"};
  char line[4096];
  struct timespec ts;
  struct tm tm;
  size_t n;
  va_list ap;
  int w;

  if (level > log_level) return;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
  w = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ", ts.tv_nsec / 1000000L, names[level]);
  if (w > 0) n += (size_t)w;
  va_start(ap, fmt);
  w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
  va_end(ap);
  if (w < 0) return;
  n += (size_t)w;
  if (n >= sizeof(line) - 1) n = sizeof(line) - 2; /* truncated: keep the newline */
  line[n++] = '\n';
  if (write(STDERR_FILENO, line, n) < 0) { /* nothing better to do */ }
}

int64_t px_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
