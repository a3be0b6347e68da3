/* tap.h - minimal TAP producer for the unit tests.
 * Each CHECK prints one "ok N - desc" / "not ok N - desc" line; tap_done()
 * prints the plan and returns the exit status (0 when everything passed). */
#ifndef CUSTOMS_TAP_H
#define CUSTOMS_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    int tap_ok_ = (cond) ? 1 : 0;                                          \
    tap_n++;                                                               \
    if (!tap_ok_) tap_failed++;                                            \
    printf("%sok %d - ", tap_ok_ ? "" : "not ", tap_n);                    \
    printf(__VA_ARGS__);                                                   \
    printf("\n");                                                          \
    if (!tap_ok_) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
  } while (0)

#define CHECK_STR(got, want, ...)                                          \
  do {                                                                     \
    const char *g_ = (got), *w_ = (want);                                  \
    int eq_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                 \
    CHECK(eq_, __VA_ARGS__);                                               \
    if (!eq_) printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
  } while (0)

#define CHECK_INT(got, want, ...)                                          \
  do {                                                                     \
    long long g_ = (long long)(got), w_ = (long long)(want);               \
    CHECK(g_ == w_, __VA_ARGS__);                                          \
    if (g_ != w_) printf("#   got %lld, want %lld\n", g_, w_);             \
  } while (0)

static inline int tap_done(void) {
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}
#endif
