/* px_jobq.c - a scan job's byte queue: memory chunks, then a spill file
 * (see px_jobq.h).
 *
 * Ownership: the queue owns its chunks, its spill fd and its share of the
 * px_spool (spill_acct), given back when the reader catches up, at close and
 * at destroy.  Thread: one producer, one reader; state under q->mu, except
 * bytes_in (producer only) and spool->bytes (atomic, shared by queues).
 * Errors: SC_ERR_* from push (px_headers.h), SC_ERR_IO from pull. */
#include "px_jobq.h"
#include "sc_err.h"
#include "sc_inventory.h" /* SC_ERR_* */
#include "sc_tmpfile.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_JOB "spool cap reached (scan.spool_max_bytes)"
#define CAP_TOTAL "spool total cap reached (scan.spool_total_max_bytes)"

struct px_jobq_chunk {
  px_jobq_chunk *next;
  size_t len, off;
  unsigned char data[];
};

int px_jobq_init(px_jobq *q, const px_jobq_limits *lim) {
  memset(q, 0, sizeof(*q));
  q->lim = *lim;
  q->spill_fd = -1;
  if (pthread_mutex_init(&q->mu, NULL) != 0) return SC_ERR_NOMEM;
  if (pthread_cond_init(&q->cv, NULL) != 0) {
    pthread_mutex_destroy(&q->mu);
    return SC_ERR_NOMEM;
  }
  return 0;
}

/* Gives the queue's spill bytes back to the spool (q->mu held, or the queue
 * is being destroyed). */
static void spill_unaccount(px_jobq *q) {
  if (q->spill_acct) __atomic_sub_fetch(&q->lim.spool->bytes, q->spill_acct, __ATOMIC_SEQ_CST);
  q->spill_acct = 0;
}

static void drop_chunks(px_jobq *q) {
  while (q->head) {
    px_jobq_chunk *c = q->head;
    q->head = c->next;
    free(c);
  }
  q->tail = NULL;
  q->mem_bytes = 0;
}

void px_jobq_destroy(px_jobq *q) {
  spill_unaccount(q);
  drop_chunks(q);
  if (q->spill_fd >= 0) close(q->spill_fd);
  q->spill_fd = -1;
  free(q->sbuf);
  q->sbuf = NULL;
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
}

/* ---- producer ---- */

static int mem_append(px_jobq *q, const void *data, size_t len) {
  px_jobq_chunk *c = malloc(sizeof(*c) + len);
  if (!c) return SC_ERR_NOMEM;
  c->next = NULL;
  c->len = len;
  c->off = 0;
  memcpy(c->data, data, len);
  if (q->tail) q->tail->next = c;
  else q->head = c;
  q->tail = c;
  q->mem_bytes += len;
  return 0;
}

/* Appends to the spill file (opened on first use); the spool budget is
 * already taken by the caller. */
static int spill_append(px_jobq *q, const void *data, size_t len) {
  if (q->spill_fd < 0) {
    int fd = sc_tmpfile_open(q->lim.spool_dir, "customs-spool"); /* unnamed: gone with the process */
    if (fd < 0) {
      q->io_errno = errno;
      return SC_ERR_IO;
    }
    q->spill_fd = fd;
  }
  const unsigned char *p = data;
  size_t left = len;
  uint64_t off = q->spill_wr;
  while (left > 0) {
    ssize_t w = pwrite(q->spill_fd, p, left, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      q->io_errno = w < 0 ? errno : EIO;
      return SC_ERR_IO;
    }
    p += w;
    off += (uint64_t)w;
    left -= (size_t)w;
  }
  q->spill_wr = off;
  q->spilling = 1;
  return 0;
}

/* Whether bytes past memory may be held for the reader (q->mu held). */
static int may_hold(const px_jobq *q, size_t len) {
  return q->lim.on_drain && q->reader_seen && !q->no_hold && !q->spilling &&
         q->mem_bytes + len <= PX_JOBQ_HOLD_FACTOR * q->lim.mem_max_bytes;
}

int px_jobq_push(px_jobq *q, const void *data, size_t len) {
  int rc = 0;
  if (len == 0) return 0;
  pthread_mutex_lock(&q->mu);
  if (q->broken || q->eof || q->closed) {
    rc = SC_ERR_STATE;
  } else if (!q->spilling && q->mem_bytes + len <= q->lim.mem_max_bytes) {
    rc = mem_append(q, data, len);
  } else if (may_hold(q, len)) {
    /* the reader is behind but pulling: keep the bytes, ask for a pause */
    rc = mem_append(q, data, len);
    if (rc == 0) q->full = 1;
  } else if (q->spill_wr + len > q->lim.spill_max_bytes) {
    rc = SC_ERR_LIMIT;
    q->cap_hit = CAP_JOB;
  } else if (__atomic_add_fetch(&q->lim.spool->bytes, len, __ATOMIC_SEQ_CST) > q->lim.spool->max_bytes) {
    __atomic_sub_fetch(&q->lim.spool->bytes, len, __ATOMIC_SEQ_CST);
    rc = SC_ERR_LIMIT;
    q->cap_hit = CAP_TOTAL;
    snprintf(q->why, sizeof(q->why), "%s", CAP_TOTAL);
  } else {
    /* the scanner is behind: spill, never slow the upload down */
    q->spill_acct += len;
    rc = spill_append(q, data, len);
  }
  if (rc == 0) {
    q->bytes_in += len;
  } else if (rc != SC_ERR_STATE) {
    q->broken = 1;
    if (!q->why[0])
      snprintf(q->why, sizeof(q->why), "%s", rc == SC_ERR_LIMIT ? "spool cap reached" : "spool write failed");
  }
  /* waking the reader for every small DATA frame costs more than the scan */
  if (q->reader_waiting && (q->mem_bytes >= PX_JOBQ_READ_BATCH_BYTES || q->spilling || q->broken))
    pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

void px_jobq_eof(px_jobq *q) {
  pthread_mutex_lock(&q->mu);
  q->eof = 1;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

/* ---- reader ---- */

/* Clears a reported backlog (q->mu held); 1 when on_drain is owed. */
static int drained(px_jobq *q) {
  if (!q->full) return 0;
  q->full = 0;
  return q->lim.on_drain != NULL;
}

static void notify_drain(px_jobq *q, int owed) {
  if (owed) q->lim.on_drain(q->lim.drain_arg);
}

/* As many queued chunks as fit (q->mu held): one lock round trip for many pushes. */
static size_t mem_take(px_jobq *q, void *buf, size_t len) {
  size_t got = 0;
  while (q->head && got < len) {
    px_jobq_chunk *c = q->head;
    size_t n = c->len - c->off < len - got ? c->len - c->off : len - got;
    memcpy((char *)buf + got, c->data + c->off, n);
    got += n;
    c->off += n;
    q->mem_bytes -= n;
    if (c->off == c->len) {
      q->head = c->next;
      if (!q->head) q->tail = NULL;
      free(c);
    }
  }
  return got;
}

/* Reads up to len spilled bytes, oldest first (q->mu held; dropped around
 * the read: the producer only appends past spill_wr).  Bytes read, or
 * SC_ERR_IO with the queue broken. */
static ssize_t spill_read(px_jobq *q, void *buf, size_t len) {
  uint64_t off = q->spill_rd;
  size_t n = q->spill_wr - off < len ? (size_t)(q->spill_wr - off) : len;
  pthread_mutex_unlock(&q->mu);
  ssize_t r = pread(q->spill_fd, buf, n, (off_t)off);
  pthread_mutex_lock(&q->mu);
  if (r <= 0) {
    q->broken = 1;
    snprintf(q->why, sizeof(q->why), "spool read failed");
    return SC_ERR_IO;
  }
  q->spill_rd += (uint64_t)r;
  q->pulled += (uint64_t)r;
  if (q->spill_rd == q->spill_wr) { /* caught up: back to memory */
    q->spill_rd = q->spill_wr = 0;
    q->spilling = 0;
    spill_unaccount(q);
  }
  return r;
}

/* What the reader can take next (wait_readable). */
enum { RD_END = 0, RD_MEM, RD_SPILL, RD_SBUF };

/* Waits (q->mu held) until the reader has something: spill bytes read ahead
 * by px_jobq_peek (RD_SBUF; they are older than any chunk queued after the
 * spill caught up), a batch of memory chunks (RD_MEM; while spilling, the
 * chunks queued before the spill began come before every byte in the
 * file), spilled bytes (RD_SPILL), or the end (RD_END).  SC_ERR_IO once
 * the queue is broken. */
static int wait_readable(px_jobq *q) {
  for (;;) {
    if (q->broken) return SC_ERR_IO;
    q->reader_seen = 1;
    if (q->sb_off < q->sb_len) return RD_SBUF;
    if (q->head && (q->mem_bytes >= PX_JOBQ_READ_BATCH_BYTES || q->eof || q->spilling)) return RD_MEM;
    if (q->spill_rd < q->spill_wr) return RD_SPILL;
    if (q->eof) return RD_END;
    q->reader_waiting = 1;
    pthread_cond_wait(&q->cv, &q->mu);
    q->reader_waiting = 0;
  }
}

/* Memory bytes were taken (q->mu held): 1 when on_drain is owed, i.e. the
 * queue is down to half (one pause/resume per half queue, not per take). */
static int took_memory(px_jobq *q, size_t n) {
  q->pulled += n;
  return q->mem_bytes <= q->lim.mem_max_bytes / 2 ? drained(q) : 0;
}

ssize_t px_jobq_pull(void *arg, void *buf, size_t len) {
  px_jobq *q = arg;
  pthread_mutex_lock(&q->mu);
  int k = wait_readable(q); /* never RD_SBUF: pull and peek are not mixed */
  ssize_t r = k;
  int owed = 0;
  if (k == RD_MEM) {
    size_t got = mem_take(q, buf, len);
    owed = took_memory(q, got);
    r = (ssize_t)got;
  } else if (k == RD_SPILL) {
    r = spill_read(q, buf, len);
  }
  pthread_mutex_unlock(&q->mu);
  notify_drain(q, owed);
  return r;
}

/* Reads the next spill bytes into sbuf (q->mu held, dropped around the
 * read).  Bytes read, or SC_ERR_IO / SC_ERR_NOMEM with the queue broken. */
static ssize_t spill_fill(px_jobq *q) {
  if (!q->sbuf && !(q->sbuf = malloc(PX_JOBQ_PEEK_SPILL_BYTES))) {
    q->broken = 1;
    snprintf(q->why, sizeof(q->why), "out of memory reading the spool");
    return SC_ERR_NOMEM;
  }
  ssize_t r = spill_read(q, q->sbuf, PX_JOBQ_PEEK_SPILL_BYTES);
  q->sb_off = 0;
  q->sb_len = r > 0 ? (size_t)r : 0;
  return r;
}

ssize_t px_jobq_peek(void *arg, const void **p) {
  px_jobq *q = arg;
  ssize_t n;
  pthread_mutex_lock(&q->mu);
  int k = wait_readable(q);
  while (k == RD_SPILL) k = spill_fill(q) < 0 ? SC_ERR_IO : wait_readable(q);
  if (k == RD_SBUF) {
    q->peek_from_spill = 1;
    *p = q->sbuf + q->sb_off;
    n = (ssize_t)(q->sb_len - q->sb_off);
  } else if (k == RD_MEM) {
    q->peek_from_spill = 0;
    *p = q->head->data + q->head->off;
    n = (ssize_t)(q->head->len - q->head->off);
  } else {
    n = k; /* 0 at the end, SC_ERR_IO */
  }
  pthread_mutex_unlock(&q->mu);
  return n;
}

void px_jobq_consume(void *arg, size_t n) {
  px_jobq *q = arg;
  int owed = 0;
  pthread_mutex_lock(&q->mu);
  if (q->peek_from_spill) {
    q->sb_off += n <= q->sb_len - q->sb_off ? n : q->sb_len - q->sb_off;
  } else if (q->head) {
    px_jobq_chunk *c = q->head;
    if (n > c->len - c->off) n = c->len - c->off;
    c->off += n;
    q->mem_bytes -= n;
    if (c->off == c->len) {
      q->head = c->next;
      if (!q->head) q->tail = NULL;
      free(c);
    }
    owed = took_memory(q, n); /* spill bytes are counted when read (spill_read) */
  }
  pthread_mutex_unlock(&q->mu);
  notify_drain(q, owed);
}

void px_jobq_close(px_jobq *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  drop_chunks(q); /* bytes of a broken stream */
  spill_unaccount(q);
  int owed = drained(q); /* nobody will take the rest: the source must not wait */
  pthread_mutex_unlock(&q->mu);
  notify_drain(q, owed);
}

/* ---- either side ---- */

int px_jobq_break(px_jobq *q, const char *why) {
  int broke = 0;
  pthread_mutex_lock(&q->mu);
  if (!q->closed && !q->broken) {
    q->broken = broke = 1;
    snprintf(q->why, sizeof(q->why), "%s", why);
  }
  int owed = drained(q);
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
  notify_drain(q, owed);
  return broke;
}

px_jobq_state px_jobq_state_of(px_jobq *q) {
  pthread_mutex_lock(&q->mu);
  px_jobq_state s = !q->closed ? PX_JOBQ_OPEN : q->broken ? PX_JOBQ_BROKEN : PX_JOBQ_DONE;
  pthread_mutex_unlock(&q->mu);
  return s;
}

const char *px_jobq_why(px_jobq *q) {
  pthread_mutex_lock(&q->mu);
  const char *w = q->broken ? q->why : NULL;
  pthread_mutex_unlock(&q->mu);
  return w;
}

size_t px_jobq_backlog(px_jobq *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->full ? q->mem_bytes : 0;
  pthread_mutex_unlock(&q->mu);
  return n;
}

uint64_t px_jobq_progress(px_jobq *q) {
  pthread_mutex_lock(&q->mu);
  uint64_t n = q->pulled;
  pthread_mutex_unlock(&q->mu);
  return n;
}

void px_jobq_unhold(px_jobq *q) {
  pthread_mutex_lock(&q->mu);
  q->no_hold = 1;
  q->full = 0;
  pthread_mutex_unlock(&q->mu);
}

uint64_t px_jobq_bytes(const px_jobq *q) { return q->bytes_in; }
int px_jobq_errno(const px_jobq *q) { return q->io_errno; }
const char *px_jobq_cap_hit(const px_jobq *q) { return q->cap_hit ? q->cap_hit : CAP_JOB; }
uint64_t px_spool_bytes(const px_spool *s) { return __atomic_load_n(&s->bytes, __ATOMIC_SEQ_CST); }
