/* fuzz_version.c - libFuzzer target: version comparators of every scheme
 * (sc_version_cmp, sc_version_valid) and OSV range evaluation
 * (sc_range_affected, sc_range_fixed_for).
 *
 * Input lines: 1) an OSV ecosystem ("Debian:12", "PyPI", "Maven", ...),
 * which picks the scheme; 2) version a; 3) version b; then events, one a
 * line, "i:<v>" introduced, "f:<v>" fixed, "l:<v>" last_affected,
 * "m:<v>" limit.
 *
 * Properties checked beyond the sanitizers: a comparison that succeeds is
 * reflexive (cmp(a,a) = 0) and antisymmetric (sign cmp(a,b) = -sign
 * cmp(b,a)), whatever the scheme; Maven's documented non-transitivity does
 * not break either.  A fixed version reported for `a` must be one of the
 * events.
 * Owner: fuzz.  Single-threaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_inventory.h"
#include "sc_range.h"
#include "sc_version.h"

#define FUZZ_VERSION_MAX_EVENTS 64

static int sign(int x) { return (x > 0) - (x < 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1), *lines[3 + FUZZ_VERSION_MAX_EVENTS];
  size_t nl = 0;
  sc_event ev[FUZZ_VERSION_MAX_EVENTS];
  size_t nev = 0;
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  for (char *p = buf; p && nl < sizeof lines / sizeof lines[0];) {
    lines[nl++] = p;
    p = strchr(p, '\n');
    if (p) *p++ = 0;
  }
  if (nl < 3) { free(buf); return 0; }
  sc_vscheme s = sc_vscheme_for_ecosystem(lines[0]);
  const char *a = lines[1], *b = lines[2];
  (void)sc_vscheme_name(s);

  int ab = 0, ba = 0, aa = 1;
  int rab = sc_version_cmp(s, a, b, &ab);
  int rba = sc_version_cmp(s, b, a, &ba);
  if (rab == 0 && rba == 0 && sign(ab) != -sign(ba)) {
    fprintf(stderr, "version: %s: cmp(\"%s\",\"%s\") = %d but cmp(b,a) = %d\n", sc_vscheme_name(s), a, b, ab, ba);
    abort();
  }
  if (sc_version_cmp(s, a, a, &aa) == 0 && aa != 0) {
    fprintf(stderr, "version: %s: cmp(\"%s\", itself) = %d\n", sc_vscheme_name(s), a, aa);
    abort();
  }
  if ((rab == 0) != (sc_version_valid(s, a) == 0 && sc_version_valid(s, b) == 0)) {
    fprintf(stderr, "version: %s: cmp(\"%s\",\"%s\") -> %d disagrees with valid()\n", sc_vscheme_name(s), a, b, rab);
    abort();
  }

  for (size_t i = 3; i < nl && nev < FUZZ_VERSION_MAX_EVENTS; i++) {
    const char *l = lines[i];
    if (strlen(l) < 2 || l[1] != ':') continue;
    sc_event_kind k = l[0] == 'i' ? SC_EV_INTRODUCED : l[0] == 'f' ? SC_EV_FIXED
                      : l[0] == 'l' ? SC_EV_LAST_AFFECTED : SC_EV_LIMIT;
    ev[nev].kind = k;
    ev[nev].version = l + 2;
    nev++;
  }
  int affected = 0;
  (void)sc_range_affected(s, ev, nev, a, &affected);
  if (affected != 0 && affected != 1) abort();
  const char *fix = sc_range_fixed_for(s, ev, nev, a);
  if (fix) {
    size_t i;
    for (i = 0; i < nev; i++)
      if (ev[i].version == fix && ev[i].kind == SC_EV_FIXED) break;
    if (i == nev) abort(); /* documented: a pointer into ev */
  }
  free(buf);
  return 0;
}
