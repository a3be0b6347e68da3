/* fuzz_cat.h - the body shared by the per-cataloger libFuzzer targets
 * (fuzz_cat_<name>.c define FUZZ_CAT, FUZZ_CAT_PATH and FUZZ_CAT_MODE, then
 * include this).  The input is the content of one file at FUZZ_CAT_PATH,
 * handed to the cataloger through a reader that returns chunks of varying
 * size, as the layer walker does.  One binary per cataloger, rather than one
 * that dispatches on a first byte, so that each seed corpus holds real files
 * (a dpkg status, an rpmdb.sqlite, a jar) and each cataloger gets its own
 * time budget and its own coverage figure.
 * Owner: fuzz.  Single-threaded. */
#ifndef CUSTOMS_FUZZ_CAT_H
#define CUSTOMS_FUZZ_CAT_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sc_catalog.h"

#define FUZZ_CAT_MAX_FILE_READ (1u << 20) /* below the 16 MiB default: cheaper, same paths */

typedef struct catrd {
  const uint8_t *p;
  size_t len, pos;
  unsigned seed;
} catrd;

static ssize_t cat_read(void *ctx, void *buf, size_t len) {
  catrd *m = ctx;
  size_t n = m->len - m->pos;
  m->seed = m->seed * 1103515245u + 12345u;
  size_t chunk = 1 + (m->seed >> 16) % 5000;
  if (n > len) n = len;
  if (n > chunk) n = chunk;
  memcpy(buf, m->p + m->pos, n);
  m->pos += n;
  return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_limits lim;
  sc_inventory inv;
  catrd m = {data, size, 0, (unsigned)size};
  sc_reader r = {cat_read, &m};
  sc_limits_default(&lim);
  lim.max_file_read = FUZZ_CAT_MAX_FILE_READ;
  /* the walker only calls scan when match says yes: the harness must too */
  if (!FUZZ_CAT.match(FUZZ_CAT_PATH, (int64_t)size, FUZZ_CAT_MODE)) return 0;
  sc_inventory_init(&inv);
  int rc = FUZZ_CAT.scan(&inv, FUZZ_CAT_PATH, &r, &lim);
  if (rc > 0 || rc < SC_ERR_NOTFOUND) abort(); /* 0 or an SC_ERR_* */
  for (size_t i = 0; i < inv.npkgs; i++)
    if (!inv.pkgs[i].name || !inv.pkgs[i].version || !inv.pkgs[i].type) abort();
  (void)sc_inventory_finish(&inv);
  sc_inventory_free(&inv);
  return 0;
}
#endif
