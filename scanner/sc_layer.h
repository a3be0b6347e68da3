/* sc_layer.h - streaming scan of one layer blob.
 *
 * The compressed bytes are pulled from a callback, hashed, inflated (gzip via
 * ISA-L or zlib, zstd) on a second thread the scan starts and joins, walked
 * as a tar with libarchive, and every regular file a cataloger wants is
 * handed to it; pulls, the walk and the catalogers run in the calling
 * thread, with memory bounded whatever the layer size.  Thread-safe: no
 * globals. */
#ifndef CUSTOMS_SC_LAYER_H
#define CUSTOMS_SC_LAYER_H
#include <stdint.h>
#include <sys/types.h>

#include "sc_catalog.h"
#include "sc_inventory.h"

/* Pulls up to len compressed bytes into buf: bytes read, 0 = end, <0 = error. */
typedef ssize_t (*sc_pull_fn)(void *ctx, void *buf, size_t len);

typedef struct sc_layer_result {
  char digest[72];      /* "sha256:<hex>" of the bytes as pulled (compressed) */
  char diff_id[72];     /* "sha256:<hex>" of the uncompressed tar; "" when the
                           stream could not be decompressed to its end */
  char compression[8];  /* "gzip" | "zstd" | "none" */
  uint64_t compressed_size, uncompressed_size, entries;
  int status;           /* 0, or SC_ERR_* when the scan failed */
  char error[256];      /* human-readable reason when status != 0 */
} sc_layer_result;

/* Scans one layer into inv (which the caller has initialised).
 *
 * Content failures (corrupt gzip/zstd/tar: SC_ERR_FORMAT; size, ratio or
 * entry caps: SC_ERR_LIMIT) are reported in res->status/res->error; the rest
 * of the stream is still pulled and hashed so res->digest is always the
 * digest of the whole stream, and the call returns 0.
 *
 * Returns 0, SC_ERR_IO when pull fails (res->status is SC_ERR_IO too),
 * SC_ERR_NOMEM, or SC_ERR_ARG. */
int sc_layer_scan(sc_pull_fn pull, void *ctx, const sc_limits *lim, sc_inventory *inv,
                  sc_layer_result *res);

/* A source that already holds the bytes in memory (an upload queue):
 * peek sets *p to the next bytes not yet consumed and returns how many
 * (>0; it may block until there are some), 0 at the end, <0 on error; they
 * stay valid and unchanged until consume(ctx, n) drops the first n of them
 * (n <= the count peek returned).  Each peek is followed by one consume
 * before the next peek. */
typedef ssize_t (*sc_peek_fn)(void *ctx, const void **p);
typedef void (*sc_consume_fn)(void *ctx, size_t n);

/* Same as sc_layer_scan (same results, failures and memory bounds), reading
 * through peek/consume: an uncompressed layer is hashed and walked in the
 * source's own buffers (no copy); a compressed one is copied once, into the
 * inflater's input, as with pull. */
int sc_layer_scan_ref(sc_peek_fn peek, sc_consume_fn consume, void *ctx, const sc_limits *lim,
                      sc_inventory *inv, sc_layer_result *res);

/* Same, reading the layer from fd until end of file. */
int sc_layer_scan_fd(int fd, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res);
#endif
