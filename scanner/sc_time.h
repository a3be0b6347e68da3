/* sc_time.h - calendar days and time conversions, without the C library's
 * time zone and locale machinery (timegm/gmtime_r/strptime depend on TZ
 * data and are not all C11).
 *
 * Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
 * calendar, UTC; the civil conversions are Howard Hinnant's exact integer
 * algorithms and hold for any year that fits an int.
 * Owner: scanner (shared helper).  Thread: pure functions, any thread.
 * Errors: sc_day_parse returns -1 for anything but a valid date. */
#ifndef CUSTOMS_SC_TIME_H
#define CUSTOMS_SC_TIME_H
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#define SC_DAY_SECONDS 86400  /* seconds in a (UTC, leap-second-free) day */
#define SC_DAY_STR_BYTES 16   /* buffer for "YYYY-MM-DD" and its NUL, with room */
#define SC_DAY_MIN_YEAR 1970  /* sc_day_parse accepts years 1970..9999 */

/* Days since 1970-01-01 of year y, month m (1..12), day d (1..31). */
int64_t sc_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse: year, month (1..12) and day (1..31) of day z. */
void sc_civil_from_days(int64_t z, int *y, int *m, int *d);
/* The day that unix time t (seconds) falls in, rounding down (also for t < 0). */
int64_t sc_day_of(int64_t t);
/* Writes day as "YYYY-MM-DD" (year modulo 10000) into out. */
void sc_day_format(int64_t day, char out[SC_DAY_STR_BYTES]);
/* Strict "YYYY-MM-DD" (exactly 10 characters, a real date, year 1970..9999)
 * -> days since the epoch; -1 when invalid. */
int64_t sc_day_parse(const char *s);

/* Milliseconds -> struct timeval for libevent timeouts; negative values
 * give a zero timeval (fire at once) instead of a negative tv_usec. */
struct timeval sc_ms_to_timeval(int64_t ms);

/* The time ms milliseconds from now on clock (CLOCK_REALTIME, or the clock
 * a condition variable was made with), normalized, for
 * pthread_cond_timedwait; ms <= 0 is now. */
struct timespec sc_deadline_ms(clockid_t clock, int64_t ms);

#endif
