/* sc_layer_pipe.c - pull -> hash -> inflate -> chunks for the tar walk.
 *
 * See sc_layer_pipe.h for the two threads and who does what.  Why this
 * split: inflate cannot be parallelised, so the producer does as little
 * else as it can; the pulls (a read(2) copy for a file) and the compressed
 * SHA-256 go to the side with time to spare, which depends on the layer
 * (a layer of big text files keeps the catalogers, so the walker, busy).
 *
 * Rings: slots flow one way as rd, rd+1, ... (mod the ring size); count =
 * published and not yet released.  Input slots are filled and published by
 * whichever side pulls, read and released by the producer; output slots are
 * filled by the producer and released by the walker (including the one lent
 * to libarchive).  Memory: ISLOTS x IN_BUF + SLOTS x (HIST + CHUNK), about
 * 3.2 MiB, plus the decompressor; an uncompressed layer needs one IN_BUF.
 * Wake-ups are batched: a side sleeps only when it has nothing to do, and
 * is woken when there is a batch for it (WAKE_SLOTS output slots), or when
 * the other side itself is about to sleep or has finished; a signal is sent
 * only to a side that is asleep, so a steady stream costs no futex calls.
 * Liveness: the walker sleeps only when no output is ready and it cannot
 * pull (input ring full, the producer pulling, or the stream ended), so the
 * producer then has input or is getting it, and works; the producer sleeps
 * only while the walker pulls (woken when it publishes) or on a full output
 * ring (then the walker has WAKE_SLOTS or more slots and was woken).
 * Failures: the producer's are recorded in its perr and merged when the
 * walker reaches the point of the stream where they happened (the end of
 * the output), so the first failure reported is the one a sequential scan
 * would see; a pull failure travels with the input slot it ends, and the
 * producer records it only when it has used the bytes before it. */
#include "sc_layer_pipe.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

#define IN_BUF (256u << 10)       /* compressed bytes per input slot (one pull) */
#define ISLOTS 4                  /* input slots: pulled and hashed, not yet inflated */
#define CHUNK (512u << 10)        /* uncompressed bytes per output slot */
#define SLOTS 4                   /* output slots: one lent to libarchive, the rest queued */
#define WAKE_SLOTS 2              /* a sleeping walker is woken when this many are ready */
#define HIST (32u << 10)          /* deflate window kept before the write position */
#define OUT_MIN (64u << 10)       /* hand a slot over when less room than this is left */
#define GZ_HDR_WANT 4096u         /* compressed bytes contiguous before a gzip header is parsed */
#define PRIME_BYTES 6             /* bytes that identify the compression */
#define RATIO_GRACE (64ull << 20) /* the ratio guard starts after this much output */

enum { C_NONE, C_GZIP, C_ZSTD };
enum { D_RUN, D_DONE, D_FAIL };
enum { LAST_NO, LAST_EOF, LAST_ERR }; /* how the stream goes on after an input slot */

typedef struct perr {
  int status;
  char error[256];
} perr;

struct sc_lpipe_ring {
  pthread_mutex_t mu;
  pthread_cond_t to_cons, to_prod;
  int cwait, pwait;   /* that side sleeps on its condition variable */
  unsigned char *buf[SLOTS]; /* HIST + CHUNK each */
  size_t off[SLOTS], len[SLOTS];
  unsigned rd, count;
  unsigned char *ibuf[ISLOTS];
  size_t ilen[ISLOTS];
  int ilast[ISLOTS];
  char pull_msg[256]; /* the failure of the pull that ends the input */
  unsigned ird, icount;
  int pulling;        /* a thread is pulling (one at a time, in stream order) */
  int in_end;         /* the pull that ended the stream (or failed) is published */
  int udone;          /* no more output slots; term is the producer's state then */
  int idrop;          /* the producer reads no more input: the walker only hashes */
  int term_dstate, term_nomem;
  perr term;
  atomic_int stop;    /* the walker gave up (out of memory) */
};

/* Producer state: owned by the producer thread while it runs. */
struct sc_lpipe_prod {
  sc_lpipe *pipe; /* its pulls, when the walker is busy */
  const sc_limits *lim;
  sc_lpipe_ring *rg;
  /* the bytes the decompressor reads: an input slot, or the staging buffer
   * when a gzip header straddles slots */
  const unsigned char *in;
  size_t in_len, in_off;
  int in_pbuf;
  unsigned char pbuf[GZ_HDR_WANT];
  /* the cursor in the input slots: slot ird, bytes [coff, clen) not taken */
  const unsigned char *cdata;
  size_t clen, coff;
  int clast, cheld;
  int in_eof, pull_err, nomem;
  int comp, dstate;
  int between;       /* gzip: a member ended, the next may follow */
  int gz_fresh;      /* gzip: member header not yet given to the inflater */
  int stalls;        /* steps in a row that neither consumed nor produced */
  size_t zlast;      /* zstd: last hint (0 = at a frame boundary) */
  uint64_t consumed; /* compressed bytes fed to the decompressor */
  uint64_t usize;
  unsigned wr;       /* slot being filled */
  unsigned char *win;
  size_t wbase, wpos;
#ifdef HAVE_ISAL
  struct inflate_state isal;
#else
  z_stream z;
  int z_init;
#endif
  ZSTD_DStream *zs;
  perr err; /* first producer failure */
  pthread_t th;
};

static void vrecord(perr *e, int status, const char *fmt, va_list ap) {
  if (e->status) return; /* the first failure is the one reported */
  e->status = status;
  vsnprintf(e->error, sizeof(e->error), fmt, ap);
}

/* Records a failure in res unless it has one. */
static void rfail(sc_layer_result *res, int status, const char *fmt, ...) {
  if (res->status) return;
  perr e = {0, ""};
  va_list ap;
  va_start(ap, fmt);
  vrecord(&e, status, fmt, ap);
  va_end(ap);
  res->status = e.status;
  memcpy(res->error, e.error, sizeof(res->error));
}

static void pfail(sc_lpipe_prod *P, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrecord(&P->err, status, fmt, ap);
  va_end(ap);
}

/* ---- producer: input ------------------------------------------------------- */

static void pull_locked(sc_lpipe *p);

/* Releases the cursor's slot and moves to the next one, sleeping until the
 * walker has pulled it.  0, or -1 when the walker gave up. */
static int adv(sc_lpipe_prod *P) {
  sc_lpipe_ring *R = P->rg;
  pthread_mutex_lock(&R->mu);
  if (P->cheld) {
    R->ird = (R->ird + 1) % ISLOTS;
    R->icount--;
    P->cheld = 0;
  }
  while (R->icount == 0 && !atomic_load(&R->stop) && !R->in_end) {
    if (!R->pulling) { /* the walker is busy: pull for ourselves */
      pull_locked(P->pipe);
      continue;
    }
    R->pwait = 1;
    pthread_cond_wait(&R->to_prod, &R->mu);
    R->pwait = 0;
  }
  if (atomic_load(&R->stop) || R->icount == 0) { /* (in_end with nothing left cannot happen:
                                                    the last slot says so and is never passed) */
    pthread_mutex_unlock(&R->mu);
    return -1;
  }
  unsigned i = R->ird;
  P->cdata = R->ibuf[i];
  P->clen = R->ilen[i];
  P->clast = R->ilast[i];
  P->coff = 0;
  P->cheld = 1;
  pthread_mutex_unlock(&R->mu);
  return 0;
}

/* Makes the cursor point at unread bytes: 1, 0 at the end of the stream,
 * -1 on a pull failure (recorded now: every byte before it was used) or
 * when the walker gave up. */
static int more(sc_lpipe_prod *P) {
  while (P->coff == P->clen) {
    if (P->clast == LAST_EOF) return P->in_eof = 1, 0;
    if (P->clast == LAST_ERR) {
      if (!P->pull_err) pfail(P, SC_ERR_IO, "%s", P->rg->pull_msg);
      P->pull_err = 1;
      return -1;
    }
    if (adv(P) < 0) return -1;
  }
  return 1;
}

/* Makes at least `want` contiguous compressed bytes available at in+in_off
 * (fewer only at the end of the stream): 1 = some, 0 = end of stream, -1 =
 * pull failure or stop.  Callers ask for a whole gzip header at once: ISA-L
 * 2.30 misreads a header split over several isal_inflate calls; such a
 * header is gathered in pbuf (a few KiB, once per gzip member). */
static int fill_in(sc_lpipe_prod *P, size_t want) {
  size_t have = P->in_len - P->in_off;
  if (have >= want) return 1;
  if (!P->in_pbuf) P->coff = P->in_off; /* in is the cursor's slot */
  if (have == 0) {
    P->in_pbuf = 0;
    int r = more(P);
    if (r <= 0) return r;
    P->in = P->cdata;
    P->in_len = P->clen;
    P->in_off = P->coff;
    have = P->in_len - P->in_off;
    if (have >= want) return 1;
  }
  /* 0 < have < want: gather into pbuf */
  if (!P->in_pbuf) {
    memcpy(P->pbuf, P->in + P->in_off, have);
    P->coff = P->clen;
  } else {
    memmove(P->pbuf, P->in + P->in_off, have);
  }
  P->in = P->pbuf;
  P->in_pbuf = 1;
  P->in_off = 0;
  P->in_len = have;
  while (P->in_len < want) {
    int r = more(P);
    if (r < 0) return -1;
    if (r == 0) break;
    size_t k = want - P->in_len;
    if (k > P->clen - P->coff) k = P->clen - P->coff;
    memcpy(P->pbuf + P->in_len, P->cdata + P->coff, k);
    P->in_len += k;
    P->coff += k;
  }
  return 1;
}

/* ---- producer: decompression ----------------------------------------------- */

/* Accounts n produced uncompressed bytes: totals, bomb guard. */
static int account(sc_lpipe_prod *P, size_t n) {
  P->usize += n;
  if (P->usize > P->lim->max_total_bytes) {
    pfail(P, SC_ERR_LIMIT, "layer exceeds %llu uncompressed bytes", (unsigned long long)P->lim->max_total_bytes);
    P->dstate = D_FAIL;
    return -1;
  }
  uint64_t c = P->consumed ? P->consumed : 1;
  if (P->usize > RATIO_GRACE && P->lim->max_ratio && P->usize / c > P->lim->max_ratio) {
    pfail(P, SC_ERR_LIMIT, "compression ratio above %llu after %llu bytes (decompression bomb?)",
          (unsigned long long)P->lim->max_ratio, (unsigned long long)P->usize);
    P->dstate = D_FAIL;
    return -1;
  }
  return 0;
}

static void dfail(sc_lpipe_prod *P, const char *what) {
  pfail(P, SC_ERR_FORMAT, "%s at byte %llu", what, (unsigned long long)P->consumed);
  P->dstate = D_FAIL;
}

#ifdef HAVE_ISAL
static int gz_reset(sc_lpipe_prod *P) {
  P->gz_fresh = 1;
  /* isal_inflate_init leaves some fields (hist_bits) alone: start from zero */
  memset(&P->isal, 0, sizeof(P->isal));
  isal_inflate_init(&P->isal);
  P->isal.crc_flag = ISAL_GZIP;
  return 0;
}

/* One inflate step into the slot at wpos; sets *outn and *fin (member end). */
static int gz_step(sc_lpipe_prod *P, size_t *outn, int *fin) {
  struct inflate_state *s = &P->isal;
  size_t avail = P->in_len - P->in_off, room = HIST + CHUNK - P->wpos;
  s->next_in = (uint8_t *)(uintptr_t)(P->in + P->in_off); /* ISA-L does not write it */
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
static int gz_reset(sc_lpipe_prod *P) {
  if (!P->z_init) {
    if (inflateInit2(&P->z, 15 + 16) != Z_OK) return SC_ERR_NOMEM;
    P->z_init = 1;
    return 0;
  }
  return inflateReset(&P->z) == Z_OK ? 0 : SC_ERR_NOMEM;
}

static int gz_step(sc_lpipe_prod *P, size_t *outn, int *fin) {
  size_t avail = P->in_len - P->in_off, room = HIST + CHUNK - P->wpos;
  P->z.next_in = (Bytef *)(uintptr_t)(P->in + P->in_off); /* zlib does not write it */
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

/* Hands the filled part of the current slot (if any) to the walker. */
static int publish(sc_lpipe_prod *P) {
  sc_lpipe_ring *R = P->rg;
  size_t n = P->wpos - P->wbase;
  if (n == 0) return 0;
  pthread_mutex_lock(&R->mu);
  R->off[P->wr] = P->wbase;
  R->len[P->wr] = n;
  R->count++;
  if (R->cwait && R->count >= WAKE_SLOTS) pthread_cond_signal(&R->to_cons);
  pthread_mutex_unlock(&R->mu);
  return 1;
}

/* Publishes the current slot and moves to the next one once it is free.
 * The next slot starts with the last HIST bytes of this one: ISA-L resolves
 * back-references from the bytes just before next_out.  The old slot is
 * only read (by both threads) until the producer itself reuses it. */
static void next_slot(sc_lpipe_prod *P) {
  sc_lpipe_ring *R = P->rg;
  if (!publish(P)) return;
  const unsigned char *old = P->win, *hist = P->wpos >= HIST ? old + P->wpos - HIST : NULL;
  P->wr = (P->wr + 1) % SLOTS;
  pthread_mutex_lock(&R->mu);
  while (R->count >= SLOTS && !atomic_load(&R->stop)) {
    if (R->cwait) pthread_cond_signal(&R->to_cons);
    R->pwait = 1;
    pthread_cond_wait(&R->to_prod, &R->mu);
    R->pwait = 0;
  }
  pthread_mutex_unlock(&R->mu);
  P->win = R->buf[P->wr];
  if (P->comp == C_GZIP && hist) memcpy(P->win, hist, HIST);
  P->wpos = P->wbase = HIST;
}

/* One decompression step: output (if any) is appended to the current slot,
 * which is handed over when nearly full (gzip) or at once (zstd keeps its
 * own window).  Sets dstate at the end. */
static void step(sc_lpipe_prod *P) {
  size_t want = P->comp == C_GZIP && (P->between || P->gz_fresh) ? GZ_HDR_WANT : 1;
  int r = fill_in(P, want);
  if (r < 0) {
    P->dstate = D_FAIL;
    return;
  }
  size_t n = 0, off0 = P->in_off, room = HIST + CHUNK - P->wpos;
  int fin = 0;
  if (P->comp == C_GZIP) {
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
  sc_lpipe_prod *P = arg;
  sc_lpipe_ring *R = P->rg;
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
  /* the rest of the compressed stream is only hashed, by the walker */
  R->idrop = 1;
  R->icount = 0;
  if (R->cwait) pthread_cond_signal(&R->to_cons);
  pthread_mutex_unlock(&R->mu);
  return NULL;
}

/* ---- walker: pulls ---------------------------------------------------------- */

/* Next bytes of the source: a pull into buf (or a copy from a peek), or
 * with in_place and a peek source, the source's own bytes (*at; consumed
 * at the next call).  Hashed at once.  Bytes, 0 at the end, -1 on failure. */
static ssize_t src_read(sc_lpipe *p, unsigned char *buf, size_t cap, int in_place, const unsigned char **at) {
  const sc_lsrc *s = &p->src;
  const void *q = buf;
  ssize_t n;
  if (p->lent) {
    s->consume(s->ctx, p->lent);
    p->lent = 0;
  }
  n = s->peek ? s->peek(s->ctx, &q) : s->pull(s->ctx, buf, cap);
  if (n < 0) {
    p->pull_err = 1;
    snprintf(p->pull_msg, sizeof(p->pull_msg), "reading the layer failed at byte %llu",
             (unsigned long long)p->csize);
    return -1;
  }
  if (n == 0) {
    p->in_eof = 1;
    return 0;
  }
  if (s->peek && in_place) {
    p->lent = (size_t)n;
  } else {
    if ((size_t)n > cap) n = (ssize_t)cap;
    if (s->peek) {
      memcpy(buf, q, (size_t)n);
      s->consume(s->ctx, (size_t)n);
      q = buf;
    }
  }
  p->csize += (uint64_t)n;
  EVP_DigestUpdate(p->hc, q, (size_t)n);
  if (at) *at = q;
  return n;
}

static ssize_t pull_once(sc_lpipe *p, unsigned char *buf, size_t cap) { return src_read(p, buf, cap, 0, NULL); }

/* Pulls once into the next free input slot and publishes it; called
 * locked, by either thread, when no one is pulling and the stream has not
 * ended, with a free slot (or once the producer reads no more input: then
 * the bytes are only hashed).  Unlocks while pulling: the pulling flag
 * keeps pulls (and the compressed hash) one at a time and in order. */
static void pull_locked(sc_lpipe *p) {
  sc_lpipe_ring *R = p->rg;
  unsigned i = R->idrop ? 0 : (R->ird + R->icount) % ISLOTS;
  R->pulling = 1;
  pthread_mutex_unlock(&R->mu);
  ssize_t n = pull_once(p, R->ibuf[i], IN_BUF);
  pthread_mutex_lock(&R->mu);
  R->pulling = 0;
  if (p->in_eof || p->pull_err) R->in_end = 1;
  if (!R->idrop) {
    R->ilen[i] = n > 0 ? (size_t)n : 0;
    R->ilast[i] = p->in_eof ? LAST_EOF : p->pull_err ? LAST_ERR : LAST_NO;
    if (p->pull_err) memcpy(R->pull_msg, p->pull_msg, sizeof(R->pull_msg));
    R->icount++;
  }
  if (R->pwait) pthread_cond_signal(&R->to_prod);
  if (R->cwait) pthread_cond_signal(&R->to_cons);
}

/* ---- walker: chunks ------------------------------------------------------- */

static ssize_t term_at(sc_lpipe *p, int rv) {
  p->term = 1;
  p->term_rv = rv;
  return rv;
}

/* No producer: the stream is its own output. */
static ssize_t take_direct(sc_lpipe *p, const void **out) {
  const unsigned char *at = p->direct;
  ssize_t n;
  if (p->dlen) {
    n = (ssize_t)p->dlen; /* the primed bytes, already hashed */
    p->dlen = 0;
  } else {
    n = p->in_eof ? 0 : p->pull_err ? -1 : src_read(p, p->direct, IN_BUF, 1, &at);
    if (n < 0) {
      rfail(p->res, SC_ERR_IO, "%s", p->pull_msg);
      return term_at(p, -1);
    }
    if (n == 0) return term_at(p, 0);
  }
  p->usize += (uint64_t)n;
  if (p->usize > p->lim->max_total_bytes) {
    rfail(p->res, SC_ERR_LIMIT, "layer exceeds %llu uncompressed bytes", (unsigned long long)p->lim->max_total_bytes);
    return term_at(p, -1);
  }
  *out = at;
  return n;
}

ssize_t sc_lpipe_take(sc_lpipe *p, const void **out) {
  if (p->term) return p->term_rv;
  if (!p->threaded) return take_direct(p, out);
  sc_lpipe_ring *R = p->rg;
  pthread_mutex_lock(&R->mu);
  if (p->holding) {
    p->holding = 0;
    R->rd = (R->rd + 1) % SLOTS;
    R->count--;
    if (R->pwait) pthread_cond_signal(&R->to_prod);
  }
  for (;;) {
    if (R->count || R->udone) break;
    /* nothing to walk: pull ahead for the producer rather than sleep (it
     * pulls for itself when the walker is the busy side) */
    if (!R->pulling && !R->in_end && !R->idrop && R->icount < ISLOTS) {
      pull_locked(p);
      continue;
    }
    R->cwait = 1;
    pthread_cond_wait(&R->to_cons, &R->mu);
    R->cwait = 0;
  }
  if (R->count == 0) {
    perr t = R->term;
    int ds = R->term_dstate, nm = R->term_nomem;
    pthread_mutex_unlock(&R->mu);
    if (t.status) rfail(p->res, t.status, "%s", t.error);
    if (nm) *p->nomem = 1;
    return term_at(p, ds == D_DONE ? 0 : -1);
  }
  unsigned char *q = R->buf[R->rd] + R->off[R->rd];
  size_t n = R->len[R->rd];
  pthread_mutex_unlock(&R->mu);
  p->holding = 1;
  EVP_DigestUpdate(p->hu, q, n);
  *out = q;
  return (ssize_t)n;
}

/* ---- open / close ----------------------------------------------------------- */

/* Picks the decompressor from the first bytes; 0 or SC_ERR_NOMEM. */
static int detect(sc_lpipe *p, const unsigned char *m, size_t n) {
  sc_lpipe_prod *P = p->pr;
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    P->comp = C_GZIP;
    if (gz_reset(P)) return SC_ERR_NOMEM;
  } else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    P->comp = C_ZSTD;
    if (!(P->zs = ZSTD_createDStream()) || ZSTD_isError(ZSTD_initDStream(P->zs))) return SC_ERR_NOMEM;
  } else if (n >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0) {
    rfail(p->res, SC_ERR_UNSUPP, "xz-compressed layers are not supported");
    p->walkable = 0;
  } else if (n >= 3 && memcmp(m, "BZh", 3) == 0) {
    rfail(p->res, SC_ERR_UNSUPP, "bzip2-compressed layers are not supported");
    p->walkable = 0;
  }
  p->comp = P->comp;
  strcpy(p->res->compression, P->comp == C_GZIP ? "gzip" : P->comp == C_ZSTD ? "zstd" : "none");
  return 0;
}

int sc_lpipe_open(sc_lpipe *p, const sc_lsrc *src, const sc_limits *lim, sc_layer_result *res, int *nomem) {
  memset(p, 0, sizeof(*p));
  p->src = *src;
  p->lim = lim;
  p->res = res;
  p->nomem = nomem;
  sc_lpipe_ring *R = p->rg = calloc(1, sizeof(*R));
  sc_lpipe_prod *P = p->pr = calloc(1, sizeof(*P));
  if (!R || !P || !(R->ibuf[0] = malloc(IN_BUF))) return SC_ERR_NOMEM;
  if (!(p->hc = EVP_MD_CTX_new()) || !(p->hu = EVP_MD_CTX_new())) return SC_ERR_NOMEM;
  if (!EVP_DigestInit_ex(p->hc, EVP_sha256(), NULL) || !EVP_DigestInit_ex(p->hu, EVP_sha256(), NULL))
    return SC_ERR_NOMEM;
  P->lim = lim;
  P->rg = R;
  atomic_init(&R->stop, 0);

  /* the first bytes, enough to tell the compression */
  size_t have = 0;
  while (have < PRIME_BYTES && !p->in_eof) {
    ssize_t n = pull_once(p, R->ibuf[0] + have, IN_BUF - have);
    if (n < 0) return 0; /* nothing to walk; sc_lpipe_close reports it */
    have += (size_t)n;
  }
  p->walkable = 1;
  if (detect(p, R->ibuf[0], have)) return SC_ERR_NOMEM;
  if (p->comp == C_NONE) { /* no producer: slot 0 is lent to libarchive */
    p->direct = R->ibuf[0];
    p->dlen = have;
    return 0;
  }
  for (int i = 1; i < ISLOTS; i++)
    if (!(R->ibuf[i] = malloc(IN_BUF))) return SC_ERR_NOMEM;
  for (int i = 0; i < SLOTS; i++)
    if (!(R->buf[i] = malloc(HIST + CHUNK))) return SC_ERR_NOMEM;
  if (pthread_mutex_init(&R->mu, NULL)) return SC_ERR_NOMEM;
  if (pthread_cond_init(&R->to_cons, NULL)) {
    pthread_mutex_destroy(&R->mu);
    return SC_ERR_NOMEM;
  }
  if (pthread_cond_init(&R->to_prod, NULL)) {
    pthread_cond_destroy(&R->to_cons);
    pthread_mutex_destroy(&R->mu);
    return SC_ERR_NOMEM;
  }
  R->ilen[0] = have;
  R->ilast[0] = p->in_eof ? LAST_EOF : LAST_NO;
  R->in_end = p->in_eof;
  R->icount = 1;
  P->pipe = p;
  if (pthread_create(&P->th, NULL, producer, P)) {
    pthread_cond_destroy(&R->to_prod);
    pthread_cond_destroy(&R->to_cons);
    pthread_mutex_destroy(&R->mu);
    return SC_ERR_NOMEM;
  }
  p->threaded = 1;
  return 0;
}

static void hex_digest(EVP_MD_CTX *h, char *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(h, md, &n);
  strcpy(out, "sha256:");
  for (unsigned i = 0; i < n && i < 32; i++) snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

int sc_lpipe_close(sc_lpipe *p) {
  sc_lpipe_ring *R = p->rg;
  sc_lpipe_prod *P = p->pr;
  sc_layer_result *res = p->res;
  if (!*p->nomem && p->walkable) {
    /* the rest of the uncompressed stream (tar padding, or everything after
     * a tar error), so diff_id covers it */
    const void *q;
    while (sc_lpipe_take(p, &q) > 0) {
    }
  }
  if (p->threaded) {
    if (*p->nomem) {
      pthread_mutex_lock(&R->mu);
      atomic_store(&R->stop, 1);
      pthread_cond_broadcast(&R->to_prod);
      pthread_mutex_unlock(&R->mu);
    } else {
      /* the rest of the compressed stream, so the digest covers it */
      pthread_mutex_lock(&R->mu);
      for (;;) {
        while (R->pulling || (!R->idrop && R->icount >= ISLOTS)) {
          R->cwait = 1;
          pthread_cond_wait(&R->to_cons, &R->mu);
          R->cwait = 0;
        }
        if (R->in_end) break;
        pull_locked(p);
      }
      pthread_mutex_unlock(&R->mu);
    }
    pthread_join(P->th, NULL);
    p->threaded = 0;
    pthread_cond_destroy(&R->to_prod);
    pthread_cond_destroy(&R->to_cons);
    pthread_mutex_destroy(&R->mu);
  } else if (!*p->nomem) {
    const unsigned char *at;
    while (!p->in_eof && !p->pull_err && src_read(p, R->ibuf[0], IN_BUF, 1, &at) > 0) {
    }
  }
  if (p->lent) { /* the source's bytes are no longer lent */
    p->src.consume(p->src.ctx, p->lent);
    p->lent = 0;
  }
  /* the producer's failures not yet seen, then a pull failure after the end
   * of the compressed data (or before its first bytes) */
  if (P->err.status) rfail(res, P->err.status, "%s", P->err.error);
  if (P->nomem) *p->nomem = 1;
  if (p->pull_err) rfail(res, SC_ERR_IO, "%s", p->pull_msg);
  if (*p->nomem) return SC_ERR_NOMEM;

  res->compressed_size = p->csize;
  res->uncompressed_size = p->comp == C_NONE ? p->usize : P->usize;
  hex_digest(p->hc, res->digest);
  if (p->comp == C_NONE) {
    if (!p->pull_err && res->status != SC_ERR_UNSUPP) memcpy(res->diff_id, res->digest, sizeof(res->diff_id));
  } else if (P->dstate == D_DONE && !p->pull_err) {
    hex_digest(p->hu, res->diff_id);
  }
  if (p->pull_err) res->digest[0] = '\0';
  return p->pull_err ? SC_ERR_IO : 0;
}

void sc_lpipe_free(sc_lpipe *p) {
  sc_lpipe_ring *R = p->rg;
  sc_lpipe_prod *P = p->pr;
  if (P) {
#ifndef HAVE_ISAL
    if (P->z_init) inflateEnd(&P->z);
#endif
    ZSTD_freeDStream(P->zs);
    free(P);
  }
  if (R) {
    for (int i = 0; i < SLOTS; i++) free(R->buf[i]);
    for (int i = 0; i < ISLOTS; i++) free(R->ibuf[i]);
    free(R);
  }
  EVP_MD_CTX_free(p->hc);
  EVP_MD_CTX_free(p->hu);
  memset(p, 0, sizeof(*p));
}
