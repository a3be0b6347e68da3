/* fuzz_nvd.c - libFuzzer target: NVD CVE 2.0 feeds (sc_nvd): the sniff, the
 * streaming walk of the top-level object (input handed over in chunks of a
 * size taken from its first byte, so that chunk edges fall everywhere) and
 * each entry's metric choice; checks that what is handed over is sane (an
 * id "CVE-...", a score in 0..10 or -1 with a severity to match).
 * Owner: fuzz.  Single-threaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_nvd.h"

typedef struct chunks {
  const uint8_t *p;
  size_t n, i, step;
} chunks;

static int rd(void *arg, char *buf, size_t cap, size_t *got) {
  chunks *c = arg;
  size_t k = c->n - c->i;
  if (k > c->step) k = c->step;
  if (k > cap) k = cap;
  memcpy(buf, c->p + c->i, k);
  c->i += k;
  *got = k;
  return 0;
}

static int check(void *arg, const sc_nvd_cve *cv) {
  (void)arg;
  if (strncmp(cv->id, "CVE-", 4) || memchr(cv->id, 0, sizeof(cv->id)) == NULL) abort();
  if (cv->score != -1 && !(cv->score >= 0 && cv->score <= 10)) abort();
  if (cv->score == -1 && cv->severity != SC_SEV_UNKNOWN) abort();
  if (cv->score >= 0 && (cv->severity < SC_SEV_NONE || cv->severity > SC_SEV_CRITICAL)) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t mal = 0;
  (void)sc_nvd_sniff((const char *)data, size);
  /* the first bytes as the sniffed head, the rest through the reader */
  size_t head = size < SC_NVD_SNIFF_BYTES ? size : SC_NVD_SNIFF_BYTES;
  chunks c = {data + head, size - head, 0, size ? (size_t)data[0] % 64 + 1 : 1};
  (void)sc_nvd_parse((const char *)data, head, rd, &c, check, NULL, &mal);
  sc_nvd_cve cv;
  if (sc_nvd_entry((const char *)data, size, &cv) == 0) (void)check(NULL, &cv);
  return 0;
}
