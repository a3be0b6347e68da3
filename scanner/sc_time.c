/* sc_time.c - calendar days and time conversions; see sc_time.h.
 * Owner: scanner (shared helper).  Thread: pure, any thread.  Errors: none
 * beyond sc_day_parse's -1. */
#include "sc_time.h"

#include <stdio.h>
#include <string.h>

#define DAYS_PER_ERA 146097 /* 400 Gregorian years */
#define EPOCH_SHIFT 719468  /* days from 0000-03-01 to 1970-01-01 */

int64_t sc_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2; /* years start in March: the leap day is the year's last */
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * DAYS_PER_ERA + (int64_t)doe - EPOCH_SHIFT;
}

void sc_civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += EPOCH_SHIFT;
  int64_t era = (z >= 0 ? z : z - (DAYS_PER_ERA - 1)) / DAYS_PER_ERA;
  unsigned doe = (unsigned)(z - era * DAYS_PER_ERA);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

int64_t sc_day_of(int64_t t) {
  return t >= 0 ? t / SC_DAY_SECONDS : -((-t + SC_DAY_SECONDS - 1) / SC_DAY_SECONDS);
}

void sc_day_format(int64_t day, char out[SC_DAY_STR_BYTES]) {
  int y, m, d;
  sc_civil_from_days(day, &y, &m, &d);
  snprintf(out, SC_DAY_STR_BYTES, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
           (unsigned)d % 100u);
}

int64_t sc_day_parse(const char *s) {
  static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return -1;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  if (y < SC_DAY_MIN_YEAR || m < 1 || m > 12 || d < 1) return -1;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[m - 1] + (m == 2 && leap)) return -1;
  return sc_days_from_civil(y, (unsigned)m, (unsigned)d);
}

struct timeval sc_ms_to_timeval(int64_t ms) {
  struct timeval tv = {0, 0};
  if (ms > 0) {
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
  }
  return tv;
}

struct timespec sc_deadline_ms(clockid_t clock, int64_t ms) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  if (ms > 0) {
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
  }
  return ts;
}
