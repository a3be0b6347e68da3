/* sc_layer_pipe.h - the byte pipeline of one layer scan: pull, hash,
 * inflate, hand uncompressed chunks to the tar walk (internal to sc_layer.c).
 *
 * Two threads for a compressed layer, so that decompression (the slowest
 * stage, like `igzip -dc` in `igzip -dc | tar -t`) has a core to itself:
 *  - the producer (a thread started by sc_lpipe_open) inflates input slots
 *    into a ring of output slots and enforces the size and ratio guards;
 *  - the walker (the calling thread) takes the uncompressed chunks, hashes
 *    them and walks them.
 * Pulling the compressed bytes (and hashing them, while they are hot in the
 * puller's cache) goes to whichever side is idle: the walker pulls ahead
 * when it has nothing to walk; the producer pulls for itself when it finds
 * no input (the walker is busy with catalogers).
 * An uncompressed layer needs no producer: the walker pulls straight into
 * the buffer it hands to libarchive (no copy, no hand-off).
 *
 * Ownership: an sc_lpipe lives in the caller's frame for one scan; open
 * allocates, sc_lpipe_free frees (also after a failed open).
 * Thread: every function here is called from the walker thread only.
 * Errors: failures are written to res (status and error, the first one wins,
 * in stream order as a sequential scan would see them); *nomem is set when
 * out of memory. */
#ifndef CUSTOMS_SC_LAYER_PIPE_H
#define CUSTOMS_SC_LAYER_PIPE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sc_catalog.h"
#include "sc_layer.h"

typedef struct sc_lpipe_ring sc_lpipe_ring;
typedef struct sc_lpipe_prod sc_lpipe_prod;

/* Where the compressed bytes come from: pull, or peek + consume. */
typedef struct sc_lsrc {
  sc_pull_fn pull;
  sc_peek_fn peek;
  sc_consume_fn consume;
  void *ctx;
} sc_lsrc;

typedef struct sc_lpipe {
  /* private */
  sc_lsrc src;
  const sc_limits *lim;
  sc_layer_result *res;
  int *nomem;
  sc_lpipe_ring *rg;
  sc_lpipe_prod *pr;
  int comp, threaded, walkable;
  int term, term_rv;          /* the end of the uncompressed stream was reached */
  int holding;                /* output slot rd is lent to libarchive */
  int in_eof, pull_err;       /* the walker's pulls */
  char pull_msg[256];
  uint64_t csize, usize;      /* pulled; uncompressed (no producer) */
  unsigned char *direct;      /* no producer: the buffer lent to libarchive */
  size_t dlen;                /* primed bytes in it not yet handed out */
  size_t lent;                /* peek: bytes of the source lent to libarchive */
  void *hc, *hu;              /* EVP_MD_CTX: compressed, uncompressed */
} sc_lpipe;

/* Allocates the buffers, pulls the first bytes, picks the decompressor
 * (xz / bzip2: SC_ERR_UNSUPP in res, nothing to walk) and starts the
 * producer.  0, or SC_ERR_NOMEM (then sc_lpipe_free; nothing else). */
int sc_lpipe_open(sc_lpipe *p, const sc_lsrc *src, const sc_limits *lim, sc_layer_result *res, int *nomem);

/* Nonzero when there is a stream to walk (sc_lpipe_take). */
static inline int sc_lpipe_walkable(const sc_lpipe *p) { return p->walkable; }

/* Next chunk of the uncompressed stream, valid until the next call: bytes
 * (>0), 0 at its end, -1 on failure (the failure is then in res). */
ssize_t sc_lpipe_take(sc_lpipe *p, const void **out);

/* After the walk: the rest of both streams is hashed (unless out of
 * memory), the producer joined, and res filled (digest, diff_id, sizes,
 * compression).  Returns 0, SC_ERR_IO when a pull failed, SC_ERR_NOMEM. */
int sc_lpipe_close(sc_lpipe *p);

void sc_lpipe_free(sc_lpipe *p);
#endif
