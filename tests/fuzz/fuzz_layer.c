/* fuzz_layer.c - libFuzzer target: one layer blob scanned from memory
 * (sc_layer_scan: gzip / zstd / plain detection, the tar walk with
 * libarchive, whiteouts, path cleaning, and every built-in cataloger on the
 * files it offers).  The pull callback hands out chunks of varying size so
 * that headers and file bodies straddle reads, as they do on the network.
 *
 * Checks beyond the sanitizers: sc_layer.h promises that the digest is the
 * sha256 of every byte pulled and that the compressed size is the input size,
 * whatever the content (a failed scan still hashes the whole stream).
 * Owner: fuzz.  Single-threaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_image.h"
#include "sc_layer.h"

/* Caps far below the daemon's defaults so that one input stays cheap;
 * the code paths are the same. */
#define FUZZ_LAYER_MAX_ENTRIES 4096
#define FUZZ_LAYER_MAX_TOTAL_BYTES (32ull << 20)
#define FUZZ_LAYER_MAX_FILE_READ (1u << 20)
#define FUZZ_LAYER_MAX_SECRET_FILE (256u << 10)

typedef struct pullrd {
  const uint8_t *p;
  size_t len, pos;
  unsigned seed;
} pullrd;

static ssize_t pull(void *ctx, void *buf, size_t len) {
  pullrd *m = ctx;
  size_t n = m->len - m->pos;
  m->seed = m->seed * 1103515245u + 12345u;
  size_t chunk = 1 + (m->seed >> 16) % 9000; /* 1 .. 9000 bytes: a tar block and more */
  if (n > len) n = len;
  if (n > chunk) n = chunk;
  memcpy(buf, m->p + m->pos, n);
  m->pos += n;
  return (ssize_t)n;
}

static unsigned char *lent;
static size_t lentn;
static ssize_t peek(void *ctx, const void **p) {
  pullrd *m = ctx;
  if (lent) abort();
  size_t n = m->len - m->pos;
  m->seed = m->seed * 1103515245u + 12345u;
  size_t chunk = 1 + (m->seed >> 16) % 9000;
  if (n > chunk) n = chunk;
  if (n == 0) return 0;
  lent = malloc(n);
  memcpy(lent, m->p + m->pos, n);
  lentn = n;
  *p = lent;
  return (ssize_t)n;
}
static void consume(void *ctx, size_t n) {
  pullrd *m = ctx;
  if (!lent || n > lentn) abort();
  free(lent);
  lent = NULL;
  m->pos += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_limits lim;
  sc_inventory inv;
  sc_layer_result res;
  char want[72];
  pullrd m = {data, size, 0, (unsigned)size};

  sc_limits_default(&lim);
  lim.max_entries = FUZZ_LAYER_MAX_ENTRIES;
  lim.max_total_bytes = FUZZ_LAYER_MAX_TOTAL_BYTES;
  lim.max_file_read = FUZZ_LAYER_MAX_FILE_READ;
  lim.max_secret_file = FUZZ_LAYER_MAX_SECRET_FILE;
  sc_inventory_init(&inv);
  memset(&res, 0, sizeof res);
  /* odd sizes go through the by-reference source (sc_layer_scan_ref) */
  int rc = (size & 1) ? sc_layer_scan_ref(peek, consume, &m, &lim, &inv, &res)
                     : sc_layer_scan(pull, &m, &lim, &inv, &res);
  if (lent) abort();
  if (rc == 0) {
    if (sc_digest_sha256(data, size, want) != 0) abort();
    if (strcmp(res.digest, want) != 0 || res.compressed_size != size || m.pos != size) {
      fprintf(stderr, "layer: digest %s size %llu pulled %zu, want %s size %zu\n", res.digest,
              (unsigned long long)res.compressed_size, m.pos, want, size);
      abort();
    }
    if (!memchr(res.error, 0, sizeof res.error) || !memchr(res.compression, 0, sizeof res.compression)) abort();
    (void)sc_inventory_finish(&inv);
  }
  sc_inventory_free(&inv);
  return 0;
}
