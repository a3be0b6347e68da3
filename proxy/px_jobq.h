/* px_jobq.h - a scan job's byte queue: memory first, then a spill file.
 *
 * The event loop pushes the bytes of an upload as they pass through the
 * proxy and must never wait for the scanner.  Bytes go to a list of memory
 * chunks (up to lim.mem_max_bytes); once the scanner falls behind that far
 * they go to an unnamed spill file in lim.spool_dir (sc_tmpfile_open), and
 * they keep going there until the reader has caught up with the file.  The
 * spill is capped twice: per queue (lim.spill_max_bytes, scan.spool_max_bytes)
 * and over every queue that shares one px_spool (scan.spool_total_max_bytes).
 * A push past either cap, or a failed spill write, breaks the queue: the
 * reader gets SC_ERR_IO and the layer is fetched and scanned later instead.
 * The reader (a scan worker) pulls bytes in order with px_jobq_pull, which
 * has the sc_pull_fn shape sc_layer_scan wants, or, without a copy, with
 * px_jobq_peek / px_jobq_consume (sc_layer_scan_ref's shape): a pointer
 * into the queued chunk, or into the queue's spill read buffer.
 *
 * Holding instead of spilling: once a reader is pulling, bytes past
 * lim.mem_max_bytes stay in memory (up to twice that) and the queue reports
 * a backlog (px_jobq_backlog): the loop stops reading the client until the
 * reader has taken the queue down to half, which it announces through
 * lim.on_drain.  A scan slower than the wire then slows the upload a little
 * (the manifest PUT waits for the scan anyway) instead of costing a write
 * and a read of every byte through the spill file.  A reader that makes no
 * progress (px_jobq_progress) is given up on with px_jobq_unhold: from then
 * on the queue spills as before, so a stuck scan never stalls an upload.
 *
 * Ownership: the caller embeds the px_jobq (px_job does) and calls
 * px_jobq_init / px_jobq_destroy; the queue owns its chunks, its spill fd and
 * its share of the px_spool.  lim.spool_dir and lim.spool are borrowed and
 * must outlive the queue.
 * Thread: one producer (the loop thread: push, eof), one reader (a worker:
 * pull, close); break and the state queries from either.  Everything but
 * the byte count is guarded by the queue's mutex; px_spool.bytes is atomic.
 * Errors: px_jobq_push returns SC_ERR_STATE (already broken or ended),
 * SC_ERR_NOMEM, SC_ERR_LIMIT (a spill cap), SC_ERR_IO (spill file; errno in
 * px_jobq_errno); every error but SC_ERR_STATE breaks the queue.
 * px_jobq_pull returns SC_ERR_IO once the queue is broken (sc_pull_fn). */
#ifndef CUSTOMS_PX_JOBQ_H
#define CUSTOMS_PX_JOBQ_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PX_JOBQ_MEM_MAX_BYTES (4 * 1024 * 1024) /* bytes queued in memory before spilling */
#define PX_JOBQ_READ_BATCH_BYTES (64 * 1024)    /* the reader wakes for this much, or the end */
#define PX_JOBQ_WHY_MAX 256                     /* bytes of the break reason, NUL included */
#define PX_JOBQ_HOLD_FACTOR 2                   /* held bytes: at most this times mem_max_bytes */
#define PX_JOBQ_PEEK_SPILL_BYTES (256 * 1024)   /* the spill read buffer of px_jobq_peek */

/* Spill bytes of every queue that shares it (scan.spool_total_max_bytes). */
typedef struct px_spool {
  uint64_t max_bytes; /* cap on bytes, set before any queue uses it */
  uint64_t bytes;     /* in all spill files now; atomic */
} px_spool;

typedef struct px_jobq_limits {
  const char *spool_dir;    /* where spill files go (scan.spool_dir) */
  size_t mem_max_bytes;     /* memory before spilling: PX_JOBQ_MEM_MAX_BYTES */
  uint64_t spill_max_bytes; /* this queue's spill (scan.spool_max_bytes) */
  px_spool *spool;          /* shared accounting and its cap */
  /* Called by the reader's thread, without the queue's lock, when a
   * reported backlog is gone (taken down to half, broken or closed).  NULL:
   * the queue never holds, it spills as soon as memory is full. */
  void (*on_drain)(void *arg);
  void *drain_arg;
} px_jobq_limits;

typedef enum px_jobq_state {
  PX_JOBQ_OPEN = 0,    /* the reader has not closed it */
  PX_JOBQ_DONE,        /* closed, never broken */
  PX_JOBQ_BROKEN       /* closed after a break: its bytes are not usable */
} px_jobq_state;

typedef struct px_jobq_chunk px_jobq_chunk;

typedef struct px_jobq {
  px_jobq_limits lim;
  pthread_mutex_t mu;
  pthread_cond_t cv;        /* the reader waits here for bytes */
  px_jobq_chunk *head, *tail;
  size_t mem_bytes;
  int spill_fd;             /* -1 until the first spill */
  uint64_t spill_wr, spill_rd;
  uint64_t spill_acct;      /* this queue's share of lim.spool->bytes */
  int spilling;             /* new bytes go to the file until the reader catches up */
  uint64_t bytes_in;        /* pushed and accepted; written by the producer only */
  int eof, broken, closed;
  int reader_waiting;       /* the reader sleeps on cv: only then is a wake-up needed */
  int reader_seen;          /* the reader has pulled once: holding is worth it */
  int full;                 /* a backlog is reported: on_drain is owed */
  int no_hold;              /* px_jobq_unhold was called: spill past memory */
  uint64_t pulled;          /* bytes handed to the reader */
  /* px_jobq_peek: what the last peek handed out (reader only) */
  int peek_from_spill;      /* the bytes are in sbuf, not the head chunk */
  unsigned char *sbuf;      /* spill bytes read ahead; sb_off..sb_len not consumed */
  size_t sb_off, sb_len;
  int io_errno;             /* errno of the failed spill write */
  const char *cap_hit;      /* which cap a SC_ERR_LIMIT push hit, with its config key */
  char why[PX_JOBQ_WHY_MAX];
} px_jobq;

/* 0, or SC_ERR_NOMEM when the mutex or condition cannot be made. */
int px_jobq_init(px_jobq *q, const px_jobq_limits *lim);
/* Frees the chunks, closes the spill file, gives the spill back to the spool. */
void px_jobq_destroy(px_jobq *q);

/* Producer.  Copies data; never blocks on the reader (see holding above). */
int px_jobq_push(px_jobq *q, const void *data, size_t len);
void px_jobq_eof(px_jobq *q); /* no more bytes: the reader drains and gets 0 */

/* Reader: up to len bytes in push order, 0 at the end, SC_ERR_IO when broken;
 * blocks until a batch, the end or a break arrives.  arg is the px_jobq. */
ssize_t px_jobq_pull(void *arg, void *buf, size_t len);
/* Reader, without a copy: *p is set to the next bytes (valid until the
 * consume that follows), their count returned; 0 at the end, SC_ERR_IO
 * when broken; blocks like px_jobq_pull.  px_jobq_consume drops the first
 * n (<= the count) of them.  Each peek is followed by one consume; do not
 * mix with px_jobq_pull.  arg is the px_jobq (sc_peek_fn/sc_consume_fn). */
ssize_t px_jobq_peek(void *arg, const void **p);
void px_jobq_consume(void *arg, size_t n);
/* Reader: finished with the queue.  Drops queued bytes and the spill budget;
 * a later px_jobq_break does nothing. */
void px_jobq_close(px_jobq *q);

/* Marks the queue broken with a reason, unless it is already broken or
 * closed, and wakes the reader.  Returns 1 when this call broke it. */
int px_jobq_break(px_jobq *q, const char *why);

px_jobq_state px_jobq_state_of(px_jobq *q);
/* The break reason, or NULL while not broken (stable once set). */
const char *px_jobq_why(px_jobq *q);
/* Bytes accepted so far (producer thread). */
uint64_t px_jobq_bytes(const px_jobq *q);
/* After a failed push: errno of a SC_ERR_IO, the cap (with its config key)
 * of a SC_ERR_LIMIT. */
int px_jobq_errno(const px_jobq *q);
const char *px_jobq_cap_hit(const px_jobq *q);
/* Bytes held in memory past lim.mem_max_bytes for a reader that is
 * pulling: the producer should stop reading its source until lim.on_drain.
 * 0 when there is no backlog. */
size_t px_jobq_backlog(px_jobq *q);
/* Bytes the reader has taken so far (any thread): its progress. */
uint64_t px_jobq_progress(px_jobq *q);
/* Stops holding for good: the backlog is reported gone (no on_drain call;
 * the caller resumes its source itself) and later bytes spill. */
void px_jobq_unhold(px_jobq *q);
/* Spill bytes of every queue on the spool now. */
uint64_t px_spool_bytes(const px_spool *s);
#endif
