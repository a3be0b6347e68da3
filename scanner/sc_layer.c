/* sc_layer.c - streaming layer scan: pull -> hash -> inflate -> tar walk.
 *
 * Two threads per scan, so decompression overlaps the tar walk (as in
 * `igzip -dc | tar -t`):
 *  - the producer (a thread started here) is the only caller of pull after
 *    the first bytes: it pulls into a ring of input slots, inflates them
 *    into a ring of output slots and enforces the size and ratio guards;
 *  - the calling thread hashes both streams (the inflater is the slower
 *    side) and feeds the output to libarchive and the catalogers.
 * Each side records its own failures; the producer's are merged when the
 * consumer reaches the point of the stream where they happened, so the first
 * failure reported is the same as in a sequential scan.  Memory: ISLOTS x
 * IN_BUF, SLOTS x (HIST + CHUNK), the decompressor state, and at most
 * max_file_read for an entry that several catalogers want (a bigger one is
 * spooled to an unlinked temp file and replayed to each).  Each cataloger
 * runs under an sc_budget (CPU, memory, nested inflation): over it, the
 * layer fails "budget: <cataloger>: <what>" and the walk stops.  Paths,
 * hard links, symlinks, whiteouts and that spool follow containerd's
 * unpacking: sc_layer_paths.c ("what the runtime sees"). */
#include "sc_layer.h"
#include "sc_layer_paths.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

#define IN_BUF (256u << 10)       /* compressed bytes per input slot */
#define ISLOTS 4                  /* input slots: pulled, not yet hashed */
#define CHUNK (256u << 10)        /* uncompressed bytes per ring slot */
#define SLOTS 4                   /* ring slots: one lent to libarchive, the rest queued */
#define HIST (32u << 10)          /* deflate window kept before the write position */
#define OUT_MIN (64u << 10)       /* hand a slot over when less room than this is left */
#define GZ_HDR_WANT 4096u         /* compressed bytes buffered before a gzip header is parsed */
#define RATIO_GRACE (64ull << 20) /* the ratio guard starts after this much output */
#define MAX_CATS SC_LAYER_MAX_CATS /* catalogers (bits of a uint32_t mask) */
#define MAX_NOTES 64              /* notes one layer may add */

enum { C_NONE, C_GZIP, C_ZSTD };
enum { D_RUN, D_DONE, D_FAIL };

typedef struct perr {
  int status;
  char error[256];
} perr;

/* Both rings work alike: slots flow producer -> consumer as rd, rd+1, ...
 * (mod the ring size); count = published and not yet released (for the
 * output ring, including the slot lent to libarchive).  The producer fills
 * slot (rd + count) and may move to the next one once count < size.
 * Input slot i holds pulled bytes [ifrom[i], ilen[i]) not hashed yet (bytes
 * before ifrom were carried over from the previous slot).
 * udone: no more output slots; term is the producer's state at that point.
 * done: the producer has finished (no more input slots either). */
typedef struct ring {
  pthread_mutex_t mu;
  pthread_cond_t to_cons, to_prod;
  unsigned char *buf[SLOTS]; /* HIST + CHUNK each */
  size_t off[SLOTS], len[SLOTS]; /* data at buf + off */
  unsigned rd, count;
  unsigned char *ibuf[ISLOTS];
  size_t ifrom[ISLOTS], ilen[ISLOTS];
  unsigned ird, icount;
  int udone, done, term_dstate, term_nomem;
  perr term;
  atomic_int stop; /* consumer gave up (out of memory): stop pulling */
} ring;

/* Producer state: owned by the producer thread once it runs (by the calling
 * thread before it starts and after it is joined). */
typedef struct prod {
  sc_pull_fn pull;
  void *ctx;
  const sc_limits *lim;
  ring *rg;
  unsigned char *in; /* input slot iw */
  size_t in_len, in_off, in_from; /* pulled, consumed, first byte not yet hashed */
  unsigned iw;
  int in_eof, pull_err, nomem;
  int comp, dstate;
  int between;       /* gzip: a member ended, the next may follow */
  int gz_fresh;      /* gzip: member header not yet given to the inflater */
  int stalls;        /* steps in a row that neither consumed nor produced */
  size_t zlast;      /* zstd: last hint (0 = at a frame boundary) */
  uint64_t consumed; /* compressed bytes fed to the decompressor */
  uint64_t csize, usize;
  unsigned wr;       /* slot being filled */
  unsigned char *win; /* its buffer */
  size_t wbase, wpos; /* its data starts at wbase, ends at wpos */
#ifdef HAVE_ISAL
  struct inflate_state *isal;
#else
  z_stream z;
  int z_init;
#endif
  ZSTD_DStream *zs;
  perr err; /* first producer failure */
} prod;

/* Consumer state (the calling thread). */
typedef struct layer {
  const sc_limits *lim;
  sc_inventory *inv;
  sc_layer_result *res;
  ring *rg;
  int comp, nomem;
  int holding;  /* slot rd is lent to libarchive */
  int term;     /* the producer's end was reached: term_rv from now on */
  int term_rv;
  EVP_MD_CTX *hc, *hu; /* compressed, uncompressed */
  int notes;
  int stop;     /* the layer failed in a way that ends the walk (budget, links) */
  sc_budget bud[MAX_CATS]; /* per cataloger, for the whole layer */
  uint64_t nested_left;    /* bytes nested archives may still inflate, all catalogers */
  sc_lpaths lp;            /* names, links, the spool (sc_layer_paths.c) */
} layer;

static void vrecord(perr *e, int status, const char *fmt, va_list ap) {
  if (e->status) return; /* the first failure is the one reported */
  e->status = status;
  vsnprintf(e->error, sizeof(e->error), fmt, ap);
}

static void fail(layer *L, int status, const char *fmt, ...) {
  if (L->res->status) return;
  perr e = {0, ""};
  va_list ap;
  va_start(ap, fmt);
  vrecord(&e, status, fmt, ap);
  va_end(ap);
  L->res->status = e.status;
  memcpy(L->res->error, e.error, sizeof(L->res->error));
}

static void pfail(prod *P, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrecord(&P->err, status, fmt, ap);
  va_end(ap);
}

static void note(layer *L, const char *fmt, ...) {
  if (L->notes >= MAX_NOTES) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (++L->notes == MAX_NOTES) snprintf(buf, sizeof(buf), "layer: further notes suppressed");
  if (sc_strlist_add(&L->inv->notes, buf) == SC_ERR_NOMEM) L->nomem = 1;
}

/* ---- producer: pull, hash, inflate ----------------------------------------- */

/* Pulls until at least want bytes are buffered or the stream ends. */
static int prime(prod *P, size_t want) {
  while (P->in_len - P->in_off < want && !P->in_eof) {
    ssize_t n = P->pull(P->ctx, P->in + P->in_len, IN_BUF - P->in_len);
    if (n < 0) {
      P->pull_err = 1;
      pfail(P, SC_ERR_IO, "reading the layer failed at byte %llu", (unsigned long long)P->csize);
      return -1;
    }
    if (n == 0) P->in_eof = 1;
    if ((size_t)n > IN_BUF - P->in_len) n = (ssize_t)(IN_BUF - P->in_len);
    P->csize += (uint64_t)n;
    P->in_len += (size_t)n;
  }
  return 0;
}

/* Hands the pulled bytes of the input slot to the consumer for hashing. */
static void publish_in(prod *P) {
  ring *R = P->rg;
  if (P->in_from == P->in_len) return;
  pthread_mutex_lock(&R->mu);
  R->ifrom[P->iw] = P->in_from;
  R->ilen[P->iw] = P->in_len;
  R->icount++;
  pthread_cond_signal(&R->to_cons);
  pthread_mutex_unlock(&R->mu);
  P->in_from = P->in_len;
}

/* Moves the unconsumed input to the start of a free input slot: the next
 * one once the consumer has hashed enough, or this one when it holds
 * nothing unhashed.  -1 when the consumer gave up. */
static int next_in(prod *P) {
  ring *R = P->rg;
  size_t have = P->in_len - P->in_off;
  const unsigned char *left = P->in + P->in_off;
  if (P->in_from < P->in_len) {
    publish_in(P);
    P->iw = (P->iw + 1) % ISLOTS;
    pthread_mutex_lock(&R->mu);
    while (R->icount >= ISLOTS && !atomic_load(&R->stop)) pthread_cond_wait(&R->to_prod, &R->mu);
    pthread_mutex_unlock(&R->mu);
    if (atomic_load(&R->stop)) return -1;
    P->in = R->ibuf[P->iw];
    memcpy(P->in, left, have);
  } else {
    memmove(P->in, left, have);
  }
  P->in_len = P->in_from = have; /* carried over: already hashed */
  P->in_off = 0;
  return 0;
}

/* Makes at least `want` compressed bytes available (fewer only at the end of
 * the stream): 1 = some, 0 = end of stream, -1 = pull error.  Callers ask
 * for a whole gzip header at once: ISA-L 2.30 misreads a header split over
 * several isal_inflate calls. */
static int fill_in(prod *P, size_t want) {
  size_t have = P->in_len - P->in_off;
  if (have >= want) return 1;
  if (P->pull_err) return -1;
  if (!P->in_eof) {
    if (P->in_off && next_in(P) < 0) return -1;
    if (prime(P, want) < 0) return -1;
  }
  return P->in_len > P->in_off ? 1 : 0;
}

/* Accounts n produced uncompressed bytes: totals, bomb guard. */
static int account(prod *P, size_t n) {
  P->usize += n;
  if (P->usize > P->lim->max_total_bytes) {
    pfail(P, SC_ERR_LIMIT, "layer exceeds %llu uncompressed bytes", (unsigned long long)P->lim->max_total_bytes);
    P->dstate = D_FAIL;
    return -1;
  }
  uint64_t c = P->consumed ? P->consumed : 1;
  if (P->comp != C_NONE && P->usize > RATIO_GRACE && P->lim->max_ratio && P->usize / c > P->lim->max_ratio) {
    pfail(P, SC_ERR_LIMIT, "compression ratio above %llu after %llu bytes (decompression bomb?)",
          (unsigned long long)P->lim->max_ratio, (unsigned long long)P->usize);
    P->dstate = D_FAIL;
    return -1;
  }
  return 0;
}

static void dfail(prod *P, const char *what) {
  pfail(P, SC_ERR_FORMAT, "%s at byte %llu", what, (unsigned long long)P->consumed);
  P->dstate = D_FAIL;
}

#ifdef HAVE_ISAL
static int gz_reset(prod *P) {
  P->gz_fresh = 1;
  /* isal_inflate_init leaves some fields (hist_bits) alone: start from zero */
  memset(P->isal, 0, sizeof(*P->isal));
  isal_inflate_init(P->isal);
  P->isal->crc_flag = ISAL_GZIP;
  return 0;
}

/* One inflate step into the slot at wpos; sets *outn and *fin (member end). */
static int gz_step(prod *P, size_t *outn, int *fin) {
  struct inflate_state *s = P->isal;
  size_t avail = P->in_len - P->in_off, room = HIST + CHUNK - P->wpos;
  s->next_in = P->in + P->in_off;
  s->avail_in = (uint32_t)avail;
  s->next_out = P->win + P->wpos;
  s->avail_out = (uint32_t)room;
  int ret = isal_inflate(s);
  size_t used = avail - s->avail_in;
  P->in_off += used;
  P->consumed += used;
  *outn = room - s->avail_out;
  *fin = s->block_state == ISAL_BLOCK_FINISH;
  if (ret == ISAL_INCORRECT_CHECKSUM) return dfail(P, "gzip checksum mismatch"), -1;
  if (ret < 0) return dfail(P, "corrupt gzip"), -1;
  return 0;
}
#else
static int gz_reset(prod *P) {
  if (!P->z_init) {
    if (inflateInit2(&P->z, 15 + 16) != Z_OK) return SC_ERR_NOMEM;
    P->z_init = 1;
    return 0;
  }
  return inflateReset(&P->z) == Z_OK ? 0 : SC_ERR_NOMEM;
}

static int gz_step(prod *P, size_t *outn, int *fin) {
  size_t avail = P->in_len - P->in_off, room = HIST + CHUNK - P->wpos;
  P->z.next_in = P->in + P->in_off;
  P->z.avail_in = (uInt)avail;
  P->z.next_out = P->win + P->wpos;
  P->z.avail_out = (uInt)room;
  int ret = inflate(&P->z, Z_NO_FLUSH);
  size_t used = avail - P->z.avail_in;
  P->in_off += used;
  P->consumed += used;
  *outn = room - P->z.avail_out;
  *fin = ret == Z_STREAM_END;
  if (ret == Z_MEM_ERROR) return P->nomem = 1, dfail(P, "out of memory in inflate"), -1;
  if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR)
    return dfail(P, "corrupt gzip"), -1;
  return 0;
}
#endif

/* Hands the filled part of the current slot (if any) to the consumer. */
static int publish(prod *P) {
  ring *R = P->rg;
  size_t n = P->wpos - P->wbase;
  if (n == 0) return 0;
  pthread_mutex_lock(&R->mu);
  R->off[P->wr] = P->wbase;
  R->len[P->wr] = n;
  R->count++;
  pthread_cond_signal(&R->to_cons);
  pthread_mutex_unlock(&R->mu);
  return 1;
}

/* Publishes the current slot and moves to the next one once it is free.
 * The next slot starts with the last HIST bytes of this one: ISA-L resolves
 * back-references from the bytes just before next_out.  The old slot is
 * only read (by both threads) until the producer itself reuses it. */
static void next_slot(prod *P) {
  ring *R = P->rg;
  if (!publish(P)) return;
  const unsigned char *old = P->win, *hist = P->wpos >= HIST ? old + P->wpos - HIST : NULL;
  P->wr = (P->wr + 1) % SLOTS;
  pthread_mutex_lock(&R->mu);
  while (R->count >= SLOTS && !atomic_load(&R->stop)) pthread_cond_wait(&R->to_prod, &R->mu);
  pthread_mutex_unlock(&R->mu);
  P->win = R->buf[P->wr];
  if (P->comp == C_GZIP && hist) memcpy(P->win, hist, HIST);
  P->wpos = P->wbase = HIST;
}

/* One decompression step: output (if any) is appended to the current slot,
 * which is handed over when nearly full (gzip) or at once.  Steps see the
 * same input and output room as in a sequential scan, so the output is cut
 * (and the guards see it) at the same places.  Sets dstate at the end. */
static void step(prod *P) {
  size_t want = P->comp == C_GZIP && (P->between || P->gz_fresh) ? GZ_HDR_WANT : 1;
  int r = fill_in(P, want);
  if (r < 0) {
    P->dstate = D_FAIL;
    return;
  }
  size_t n = 0, off0 = P->in_off, room = HIST + CHUNK - P->wpos;
  int fin = 0;
  if (P->comp == C_NONE) {
    if (r == 0) {
      P->dstate = D_DONE;
      return;
    }
    n = P->in_len - P->in_off;
    if (n > room) n = room;
    memcpy(P->win + P->wpos, P->in + P->in_off, n);
    P->in_off += n;
    P->consumed += n;
  } else if (P->comp == C_GZIP) {
    if (P->between) {
      /* after a member: another member, or the end (trailing bytes that are
       * not a gzip header are ignored, as gzip -d does) */
      if (r == 0 || P->in[P->in_off] != 0x1f) {
        P->dstate = D_DONE;
        return;
      }
      if (gz_reset(P)) {
        P->nomem = 1;
        dfail(P, "inflate init failed");
        return;
      }
      P->between = 0;
    }
    if (gz_step(P, &n, &fin)) return;
    P->gz_fresh = 0;
    if (fin) P->between = 1;
    if (n == 0 && !fin && r == 0) {
      dfail(P, "truncated gzip");
      return;
    }
  } else {
    ZSTD_inBuffer ib = {P->in + P->in_off, P->in_len - P->in_off, 0};
    ZSTD_outBuffer ob = {P->win + P->wpos, room, 0};
    size_t ret = ZSTD_decompressStream(P->zs, &ob, &ib);
    P->in_off += ib.pos;
    P->consumed += ib.pos;
    if (ZSTD_isError(ret)) {
      char what[160];
      snprintf(what, sizeof(what), "corrupt zstd (%s)", ZSTD_getErrorName(ret));
      dfail(P, what);
      return;
    }
    n = ob.pos;
    if (ib.pos || n) P->zlast = ret;
    if (n == 0 && r == 0) {
      if (P->zlast != 0)
        dfail(P, "truncated zstd");
      else
        P->dstate = D_DONE;
      return;
    }
  }
  if (n > 0) {
    P->stalls = 0;
    if (account(P, n)) return;
    P->wpos += n;
    if (P->comp != C_GZIP || HIST + CHUNK - P->wpos < OUT_MIN) next_slot(P);
    return;
  }
  if (P->in_off == off0 && !fin && ++P->stalls > 4) dfail(P, "decompressor stalled"); /* never spin */
}

static void *producer(void *arg) {
  prod *P = arg;
  ring *R = P->rg;
  P->wr = 0;
  P->win = R->buf[0];
  P->wpos = P->wbase = P->comp == C_GZIP ? 0 : HIST; /* no history before the first byte */
  while (P->dstate == D_RUN && !atomic_load(&R->stop)) step(P);
  if (P->dstate == D_RUN) P->dstate = D_FAIL; /* stopped */
  publish(P);
  pthread_mutex_lock(&R->mu);
  R->udone = 1;
  R->term_dstate = P->dstate;
  R->term_nomem = P->nomem;
  R->term = P->err;
  pthread_cond_signal(&R->to_cons);
  pthread_mutex_unlock(&R->mu);
  /* the rest of the compressed stream, so the digest covers it */
  while (!atomic_load(&R->stop) && fill_in(P, 1) > 0) P->in_off = P->in_len;
  publish_in(P);
  pthread_mutex_lock(&R->mu);
  R->done = 1;
  pthread_cond_signal(&R->to_cons);
  pthread_mutex_unlock(&R->mu);
  return NULL;
}

/* ---- consumer: chunks for libarchive --------------------------------------- */

/* Hashes and releases the published input slots (called locked). */
static void hash_in(layer *L) {
  ring *R = L->rg;
  while (R->icount) {
    unsigned i = R->ird;
    pthread_mutex_unlock(&R->mu);
    EVP_DigestUpdate(L->hc, R->ibuf[i] + R->ifrom[i], R->ilen[i] - R->ifrom[i]);
    pthread_mutex_lock(&R->mu);
    R->ird = (i + 1) % ISLOTS;
    R->icount--;
    pthread_cond_signal(&R->to_prod);
  }
}

/* Next chunk of the uncompressed stream: bytes (>0), 0 at its end, -1 on
 * failure (the producer's failure is then in res).  Hashes the compressed
 * bytes pulled meanwhile. */
static ssize_t take(layer *L, const void **out) {
  ring *R = L->rg;
  if (L->term) return L->term_rv;
  pthread_mutex_lock(&R->mu);
  if (L->holding) {
    L->holding = 0;
    R->rd = (R->rd + 1) % SLOTS;
    R->count--;
    pthread_cond_signal(&R->to_prod);
  }
  for (;;) {
    hash_in(L);
    if (R->count || R->udone) break;
    pthread_cond_wait(&R->to_cons, &R->mu);
  }
  if (R->count == 0) {
    perr t = R->term;
    int ds = R->term_dstate, nm = R->term_nomem;
    pthread_mutex_unlock(&R->mu);
    L->term = 1;
    L->term_rv = ds == D_DONE ? 0 : -1;
    if (t.status) fail(L, t.status, "%s", t.error);
    if (nm) L->nomem = 1;
    return L->term_rv;
  }
  unsigned char *p = R->buf[R->rd] + R->off[R->rd];
  size_t n = R->len[R->rd];
  pthread_mutex_unlock(&R->mu);
  L->holding = 1;
  if (L->comp != C_NONE) EVP_DigestUpdate(L->hu, p, n);
  *out = p;
  return (ssize_t)n;
}

/* Hashes the input slots until the producer has finished. */
static void hash_rest(layer *L) {
  ring *R = L->rg;
  pthread_mutex_lock(&R->mu);
  for (;;) {
    hash_in(L);
    if (R->done) break;
    pthread_cond_wait(&R->to_cons, &R->mu);
  }
  pthread_mutex_unlock(&R->mu);
}

static la_ssize_t la_read(struct archive *a, void *ud, const void **buf) {
  layer *L = ud;
  ssize_t n = take(L, buf);
  if (n < 0) {
    archive_set_error(a, EIO, "%s", L->res->error[0] ? L->res->error : "read failed");
    return -1;
  }
  return n;
}

/* ---- readers handed to catalogers ---------------------------------------- */

static ssize_t ar_read(void *ctx, void *buf, size_t len) {
  la_ssize_t n = archive_read_data((struct archive *)ctx, buf, len);
  return n < 0 ? SC_ERR_FORMAT : (ssize_t)n;
}

/* ---- budgets ---------------------------------------------------------------- */

/* The reader handed to a cataloger: the entry's reader behind a budget check,
 * so a cataloger over its CPU budget gets SC_ERR_LIMIT on its next read. */
typedef struct catrd {
  sc_reader inner;
  sc_budget *b;
} catrd;

static ssize_t cat_read(void *ctx, void *buf, size_t len) {
  catrd *c = ctx;
  if (sc_budget_check(c->b)) return SC_ERR_LIMIT;
  return sc_read(&c->inner, buf, len);
}

/* Runs cataloger ci on one file.  A spent or refused budget fails the layer
 * and stops the walk; any other error is a note. */
static void run_cat(layer *L, int ci, const char *path, sc_reader *r) {
  const sc_cataloger *c = sc_catalogers[ci];
  sc_budget *b = &L->bud[ci];
  sc_limits lim = *L->lim;
  lim.budget = b;
  catrd cr = {*r, b};
  sc_reader rr = {cat_read, &cr};
  sc_budget_enter(b);
  int rv = sc_budget_check(b) ? SC_ERR_LIMIT : c->scan(L->inv, path, &rr, &lim);
  sc_budget_leave(b);
  if (b->hit) {
    if (b->hit == SC_BUDGET_SPENT)
      fail(L, SC_ERR_LIMIT, "budget: %s: %s", c->name, b->what);
    else
      fail(L, SC_ERR_FORMAT, "%s: %s", c->name, b->what);
    L->stop = 1;
    return;
  }
  if (rv == SC_ERR_NOMEM) L->nomem = 1;
  if (rv && !L->res->status) note(L, "%s: %s: %s", c->name, path, customs_strerror(rv));
}

/* ---- regular files and entries ---------------------------------------------
 * Names, links, whiteouts and the spool for big files shared by several
 * catalogers are sc_layer_paths.c ("what the runtime sees"); here a regular
 * file's content is streamed or held and handed to the catalogers. */

static void run_cb(void *ctx, int ci, const char *path, sc_reader *r) { run_cat(ctx, ci, path, r); }

static void regular(layer *L, struct archive *a, const char *path, int64_t size, mode_t mode) {
  int want[MAX_CATS], nw = 0;
  uint32_t mask = sc_lpaths_wanted(path, size, mode);
  for (int i = 0; i < MAX_CATS; i++)
    if (mask & (1u << i)) want[nw++] = i;
  if (nw == 0) return;
  if (sc_lpaths_file(&L->lp, path, mask, size, mode)) return;

  if (nw == 1) { /* streamed, whatever its size */
    sc_reader r1 = {ar_read, a};
    run_cat(L, want[0], path, &r1);
    return;
  }
  if (size < 0 || (uint64_t)size > L->lim->max_file_read) return sc_lpaths_spool(&L->lp, a, path, mask);
  char *buf = NULL;
  size_t len = 0;
  sc_reader ar = {ar_read, a};
  int rv = sc_read_all(&ar, L->lim->max_file_read, &buf, &len);
  if (rv == SC_ERR_LIMIT) /* the header understated the size */
    return fail(L, SC_ERR_FORMAT, "%s: longer than its tar header says", path);
  if (rv) {
    if (rv == SC_ERR_NOMEM) L->nomem = 1;
    else fail(L, SC_ERR_FORMAT, "%s: unreadable entry: %s", path, customs_strerror(rv));
    return;
  }
  for (int i = 0; i < nw && !L->stop; i++) {
    sc_memrd m = {buf, len, 0};
    sc_reader r2 = {sc_mem_read, &m};
    run_cat(L, want[i], path, &r2);
  }
  free(buf);
}

static void entry(layer *L, struct archive *a, struct archive_entry *ae) {
  const char *path;
  if (!sc_lpaths_entry(&L->lp, ae, &path)) return;
  int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
  regular(L, a, path, size, archive_entry_mode(ae));
}

static void walk(layer *L) {
  struct archive *a = archive_read_new();
  if (!a) return (void)(L->nomem = 1);
  if (sc_lpaths_init(&L->lp)) {
    archive_read_free(a);
    return;
  }
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_filter_none(a);
  if (archive_read_open(a, L, NULL, la_read, NULL) != ARCHIVE_OK) {
    fail(L, SC_ERR_FORMAT, "not a tar archive: %s", archive_error_string(a));
  } else {
    for (;;) {
      struct archive_entry *ae;
      int r = archive_read_next_header(a, &ae);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        const char *e = archive_error_string(a);
        fail(L, SC_ERR_FORMAT, "corrupt tar after %llu entries: %s",
             (unsigned long long)L->res->entries, e ? e : "unknown error");
        break;
      }
      if (++L->res->entries > L->lim->max_entries) {
        fail(L, SC_ERR_LIMIT, "more than %llu tar entries", (unsigned long long)L->lim->max_entries);
        break;
      }
      entry(L, a, ae);
      if (L->nomem || L->stop) break;
    }
    if (!L->nomem && !L->stop && !L->res->status) sc_lpaths_finish(&L->lp);
  }
  archive_read_free(a);
}

static void hex_digest(EVP_MD_CTX *h, char *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(h, md, &n);
  strcpy(out, "sha256:");
  for (unsigned i = 0; i < n && i < 32; i++) snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* Picks the decompressor from the first bytes; 0 or SC_ERR_NOMEM. */
static int detect(layer *L, prod *P) {
  const unsigned char *m = P->in;
  size_t n = P->in_len;
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    P->comp = C_GZIP;
#ifdef HAVE_ISAL
    if (!(P->isal = malloc(sizeof(*P->isal)))) return SC_ERR_NOMEM;
#endif
    if (gz_reset(P)) return SC_ERR_NOMEM;
  } else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    P->comp = C_ZSTD;
    if (!(P->zs = ZSTD_createDStream()) || ZSTD_isError(ZSTD_initDStream(P->zs))) return SC_ERR_NOMEM;
  } else if (n >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0) {
    fail(L, SC_ERR_UNSUPP, "xz-compressed layers are not supported");
    P->dstate = D_FAIL;
  } else if (n >= 3 && memcmp(m, "BZh", 3) == 0) {
    fail(L, SC_ERR_UNSUPP, "bzip2-compressed layers are not supported");
    P->dstate = D_FAIL;
  }
  L->comp = P->comp;
  strcpy(L->res->compression, P->comp == C_GZIP ? "gzip" : P->comp == C_ZSTD ? "zstd" : "none");
  return 0;
}

/* Runs the producer thread and the tar walk; returns when the producer has
 * been joined.  0, or SC_ERR_NOMEM when the thread cannot start. */
static int run(layer *L, prod *P) {
  ring *R = L->rg;
  int walk_it = P->dstate == D_RUN;
  pthread_t th;
  if (pthread_create(&th, NULL, producer, P)) return SC_ERR_NOMEM;
  if (walk_it) walk(L);
  if (!L->nomem) {
    /* the rest of the uncompressed stream (tar padding, or everything after
     * a tar error), so diff_id covers it; the producer then pulls the rest
     * of the compressed one */
    const void *p;
    while (take(L, &p) > 0) {
    }
  }
  if (L->nomem) {
    pthread_mutex_lock(&R->mu);
    atomic_store(&R->stop, 1);
    pthread_cond_broadcast(&R->to_prod);
    pthread_mutex_unlock(&R->mu);
  } else {
    hash_rest(L);
  }
  pthread_join(th, NULL);
  return 0;
}

int sc_layer_scan(sc_pull_fn pull, void *ctx, const sc_limits *lim, sc_inventory *inv,
                  sc_layer_result *res) {
  if (!pull || !lim || !inv || !res) return SC_ERR_ARG;
  memset(res, 0, sizeof(*res));
  ring R;
  prod P;
  layer L;
  memset(&R, 0, sizeof(R));
  memset(&P, 0, sizeof(P));
  memset(&L, 0, sizeof(L));
  P.pull = pull;
  P.ctx = ctx;
  P.lim = lim;
  P.rg = &R;
  L.lim = lim;
  L.inv = inv;
  L.res = res;
  L.rg = &R;
  L.nested_left = lim->nested_max_bytes;
  L.lp = (sc_lpaths){.lim = lim, .inv = inv, .res = res, .nomem = &L.nomem, .stop = &L.stop, .run = run_cb,
                     .run_ctx = &L};
  for (int i = 0; sc_catalogers[i] && i < MAX_CATS; i++)
    sc_budget_init(&L.bud[i], sc_catalogers[i]->name, lim->cat_cpu_ms, lim->cat_mem_bytes,
                   lim->nested_max_bytes ? &L.nested_left : NULL, lim->nested_max_bytes);
  int rv = SC_ERR_NOMEM, sync = 0;
  L.hc = EVP_MD_CTX_new();
  L.hu = EVP_MD_CTX_new();
  int have = L.hc && L.hu;
  for (int i = 0; i < SLOTS; i++) have = (R.buf[i] = malloc(HIST + CHUNK)) && have;
  for (int i = 0; i < ISLOTS; i++) have = (R.ibuf[i] = malloc(IN_BUF)) && have;
  if (!have) goto out;
  P.in = R.ibuf[0];
  if (!EVP_DigestInit_ex(L.hc, EVP_sha256(), NULL) || !EVP_DigestInit_ex(L.hu, EVP_sha256(), NULL))
    goto out;
  if (pthread_mutex_init(&R.mu, NULL)) goto out;
  if (pthread_cond_init(&R.to_cons, NULL)) {
    pthread_mutex_destroy(&R.mu);
    goto out;
  }
  if (pthread_cond_init(&R.to_prod, NULL)) {
    pthread_cond_destroy(&R.to_cons);
    pthread_mutex_destroy(&R.mu);
    goto out;
  }
  sync = 1;
  atomic_init(&R.stop, 0);

  if (prime(&P, 6) == 0) {
    if (detect(&L, &P) || run(&L, &P)) goto out;
  }
  /* the producer's failures not yet seen (pull errors after the end of the
   * compressed data, or before the first byte) */
  if (P.err.status) fail(&L, P.err.status, "%s", P.err.error);
  if (P.nomem) L.nomem = 1;
  if (L.nomem) goto out;

  res->compressed_size = P.csize;
  res->uncompressed_size = P.usize;
  hex_digest(L.hc, res->digest);
  if (P.comp == C_NONE) {
    if (!P.pull_err && res->status != SC_ERR_UNSUPP) memcpy(res->diff_id, res->digest, sizeof(res->diff_id));
  } else if (P.dstate == D_DONE && !P.pull_err) {
    hex_digest(L.hu, res->diff_id);
  }
  if (P.pull_err) res->digest[0] = '\0';
  if (L.lp.n_dotdot)
    note(&L, "layer: %llu entries climbing above the root with \"..\" (read at the root, as containerd does)",
         (unsigned long long)L.lp.n_dotdot);
  if (L.lp.n_abs)
    note(&L, "layer: %llu entries with absolute paths (read relative to the root)", (unsigned long long)L.lp.n_abs);
  rv = P.pull_err ? SC_ERR_IO : L.nomem ? SC_ERR_NOMEM : 0;
out:
  if (rv == SC_ERR_NOMEM && !res->status) {
    res->status = SC_ERR_NOMEM;
    snprintf(res->error, sizeof(res->error), "out of memory");
  }
  if (sync) {
    pthread_cond_destroy(&R.to_prod);
    pthread_cond_destroy(&R.to_cons);
    pthread_mutex_destroy(&R.mu);
  }
#ifdef HAVE_ISAL
  free(P.isal);
#else
  if (P.z_init) inflateEnd(&P.z);
#endif
  ZSTD_freeDStream(P.zs);
  EVP_MD_CTX_free(L.hc);
  EVP_MD_CTX_free(L.hu);
  for (int i = 0; i < SLOTS; i++) free(R.buf[i]);
  for (int i = 0; i < ISLOTS; i++) free(R.ibuf[i]);
  sc_lpaths_free(&L.lp);
  return rv;
}

static ssize_t fd_pull(void *ctx, void *buf, size_t len) {
  int fd = *(int *)ctx;
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0) return n;
    if (errno != EINTR) return SC_ERR_IO;
  }
}

int sc_layer_scan_fd(int fd, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res) {
  return sc_layer_scan(fd_pull, &fd, lim, inv, res);
}
