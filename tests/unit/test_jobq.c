/* test_jobq.c - the scan job byte queue (proxy/px_jobq.c) in isolation:
 * memory up to the cap, then the spill file; the per-queue and the total
 * spill caps; bytes read back in push order across memory and spill (also
 * with a concurrent reader); break and end-of-stream semantics; holding
 * bytes for a reader that pulls (backlog, on_drain at half, unhold); the
 * same through peek/consume.
 * Spill files go to a fresh directory under /tmp, removed at the end. */
#include "../../proxy/px_jobq.c"
#include "tap.h"
#include <dirent.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#define SMALL_MEM 1000 /* bytes in memory before spilling, for the cap tests */

static char spool_dir[64];

static px_jobq_limits limits(px_spool *sp, size_t mem, uint64_t spill) {
  return (px_jobq_limits){.spool_dir = spool_dir, .mem_max_bytes = mem, .spill_max_bytes = spill, .spool = sp};
}

static void fill(unsigned char *b, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) b[i] = (unsigned char)((i * 31u + seed) & 0xff);
}

/* Entries in the spool directory (spill files must have no name). */
static int dir_entries(void) {
  DIR *d = opendir(spool_dir);
  int n = 0;
  struct dirent *e;
  if (!d) return -1;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

/* Pulls until the end or an error; returns bytes read or the error. */
static long long drain(px_jobq *q, unsigned char *out, size_t cap) {
  size_t got = 0;
  for (;;) {
    ssize_t r = px_jobq_pull(q, out + got, cap - got < 8192 ? cap - got : 8192);
    if (r < 0) return r;
    if (r == 0) return (long long)got;
    got += (size_t)r;
    if (got == cap) return (long long)got;
  }
}

static void test_memory_only(void) {
  px_spool sp = {.max_bytes = 1 << 20};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, PX_JOBQ_MEM_MAX_BYTES, 1 << 20);
  unsigned char in[3000], out[4000];
  fill(in, sizeof(in), 1);
  CHECK_INT(px_jobq_init(&q, &lim), 0, "memory: init");
  CHECK_INT(px_jobq_push(&q, in, 0), 0, "memory: empty push accepted");
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "memory: push 1");
  CHECK_INT(px_jobq_push(&q, in + 1000, 2000), 0, "memory: push 2");
  CHECK_INT(px_jobq_bytes(&q), 3000, "memory: bytes counted (empty push not)");
  CHECK(q.spill_fd < 0 && !q.spilling, "memory: below the cap nothing spills");
  CHECK_INT(px_spool_bytes(&sp), 0, "memory: no spool budget used");
  px_jobq_eof(&q);
  CHECK_INT(px_jobq_push(&q, in, 10), SC_ERR_STATE, "memory: push after eof refused");
  CHECK_INT(drain(&q, out, sizeof(out)), 3000, "memory: all bytes read back, then 0 at eof");
  CHECK(memcmp(in, out, 3000) == 0, "memory: bytes in push order");
  CHECK_INT(px_jobq_pull(&q, out, 10), 0, "memory: eof again");
  CHECK_INT(px_jobq_state_of(&q), PX_JOBQ_OPEN, "memory: open until closed");
  CHECK(px_jobq_why(&q) == NULL, "memory: no break reason");
  px_jobq_close(&q);
  CHECK_INT(px_jobq_state_of(&q), PX_JOBQ_DONE, "memory: closed whole = done");
  px_jobq_destroy(&q);
}

static void test_spill_order(void) {
  px_spool sp = {.max_bytes = 1 << 20};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, SMALL_MEM, 1 << 20);
  unsigned char in[5000], out[6000];
  fill(in, sizeof(in), 7);
  px_jobq_init(&q, &lim);
  CHECK_INT(px_jobq_push(&q, in, 600), 0, "spill: first 600 bytes");
  CHECK(q.spill_fd < 0 && q.mem_bytes == 600, "spill: under the memory cap stays in memory");
  CHECK_INT(px_jobq_push(&q, in + 600, 600), 0, "spill: 600 more pass the memory cap");
  CHECK(q.spilling && q.spill_fd >= 0 && q.spill_wr == 600, "spill: they went to the spill file");
  CHECK_INT(px_spool_bytes(&sp), 600, "spill: spool accounts the spilled bytes");
  CHECK_INT(px_jobq_push(&q, in + 1200, 100), 0, "spill: a small push while spilling");
  CHECK(q.mem_bytes == 600 && q.spill_wr == 700, "spill: stays in the file until the reader catches up");
  CHECK_INT(px_spool_bytes(&sp), 700, "spill: spool grows with it");
  CHECK_INT(dir_entries(), 0, "spill: the spill file has no name in spool_dir");
  /* the reader takes memory first, then the file, in push order */
  CHECK_INT(drain(&q, out, 1300), 1300, "spill: 1300 bytes read back");
  CHECK(memcmp(in, out, 1300) == 0, "spill: memory then spill bytes, in push order");
  CHECK(!q.spilling && q.spill_wr == 0 && q.spill_rd == 0, "spill: caught up, back to memory");
  CHECK_INT(px_spool_bytes(&sp), 0, "spill: spool budget given back on catching up");
  CHECK_INT(px_jobq_push(&q, in + 1300, 500), 0, "spill: next push");
  CHECK(q.mem_bytes == 500 && !q.spilling, "spill: memory again after catching up");
  px_jobq_eof(&q);
  CHECK_INT(drain(&q, out + 1300, 1000), 500, "spill: rest read at eof");
  CHECK(memcmp(in, out, 1800) == 0, "spill: the whole stream in order");
  px_jobq_close(&q);
  px_jobq_destroy(&q);
}

static void test_job_cap(void) {
  px_spool sp = {.max_bytes = 1 << 20};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, SMALL_MEM, 1000);
  unsigned char in[4000], out[16];
  fill(in, sizeof(in), 3);
  px_jobq_init(&q, &lim);
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "job cap: memory full");
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "job cap: spill exactly at the cap");
  CHECK_INT(px_jobq_push(&q, in, 1), SC_ERR_LIMIT, "job cap: one byte past it refused");
  CHECK_INT(px_jobq_bytes(&q), 2000, "job cap: refused bytes not counted");
  CHECK_STR(px_jobq_why(&q), "spool cap reached", "job cap: broken with a reason");
  CHECK(strstr(px_jobq_cap_hit(&q), "scan.spool_max_bytes") != NULL, "job cap: names the per-upload key");
  CHECK_INT(px_spool_bytes(&sp), 1000, "job cap: spool keeps what was spilled");
  CHECK_INT(px_jobq_push(&q, in, 1), SC_ERR_STATE, "job cap: broken queue refuses pushes");
  CHECK_INT(px_jobq_pull(&q, out, sizeof(out)), SC_ERR_IO, "job cap: reader sees the break");
  px_jobq_close(&q);
  CHECK_INT(px_jobq_state_of(&q), PX_JOBQ_BROKEN, "job cap: closed broken");
  CHECK_INT(px_spool_bytes(&sp), 0, "job cap: close gives the spool back");
  CHECK(q.head == NULL && q.mem_bytes == 0, "job cap: close drops queued bytes");
  px_jobq_destroy(&q);
}

static void test_total_cap(void) {
  px_spool sp = {.max_bytes = 1500};
  px_jobq a, b;
  px_jobq_limits lim = limits(&sp, SMALL_MEM, 1 << 20);
  unsigned char in[2000];
  fill(in, sizeof(in), 5);
  px_jobq_init(&a, &lim);
  px_jobq_init(&b, &lim);
  px_jobq_push(&a, in, 1000);
  px_jobq_push(&b, in, 1000);
  CHECK_INT(px_jobq_push(&a, in, 1000), 0, "total: a spills 1000");
  CHECK_INT(px_jobq_push(&b, in, 400), 0, "total: b spills 400 (1400 of 1500)");
  CHECK_INT(px_spool_bytes(&sp), 1400, "total: both queues on one spool");
  CHECK_INT(px_jobq_push(&b, in, 200), SC_ERR_LIMIT, "total: b's next 200 would pass the total");
  CHECK_INT(px_spool_bytes(&sp), 1400, "total: the refused bytes are not kept on the spool");
  CHECK(strstr(px_jobq_why(&b), "scan.spool_total_max_bytes") != NULL, "total: reason names the total key");
  CHECK_STR(px_jobq_cap_hit(&b), px_jobq_why(&b), "total: the warning says the same");
  CHECK(px_jobq_why(&a) == NULL, "total: a is untouched");
  CHECK_INT(px_jobq_push(&a, in, 100), 0, "total: a may still spill within the total (1500)");
  CHECK_INT(px_jobq_push(&a, in, 1), SC_ERR_LIMIT, "total: and not one byte more");
  px_jobq_destroy(&b);
  CHECK_INT(px_spool_bytes(&sp), 1100, "total: destroying b gives back its 400");
  px_jobq_destroy(&a);
  CHECK_INT(px_spool_bytes(&sp), 0, "total: destroying a gives back the rest");
}

static void test_spill_failure(void) {
  px_spool sp = {.max_bytes = 1 << 20};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, SMALL_MEM, 1 << 20);
  lim.spool_dir = "/nonexistent-customs-spool";
  unsigned char in[2000];
  fill(in, sizeof(in), 9);
  px_jobq_init(&q, &lim);
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "spill failure: memory works without the directory");
  CHECK_INT(px_jobq_push(&q, in, 10), SC_ERR_IO, "spill failure: cannot open the spill file");
  CHECK_INT(px_jobq_errno(&q), ENOENT, "spill failure: errno kept for the warning");
  CHECK_STR(px_jobq_why(&q), "spool write failed", "spill failure: reason");
  px_jobq_destroy(&q);
  CHECK_INT(px_spool_bytes(&sp), 0, "spill failure: no spool budget left behind");
}

/* ---- a reader thread ---- */

typedef struct reader {
  px_jobq *q;
  unsigned char *out;
  size_t cap;
  long long got;
  atomic_int returned; /* pull calls that returned */
  int single;          /* 1: one pull only */
} reader;

static void *reader_main(void *arg) {
  reader *r = arg;
  if (r->single) {
    r->got = px_jobq_pull(r->q, r->out, r->cap);
    atomic_fetch_add(&r->returned, 1);
    return NULL;
  }
  r->got = drain(r->q, r->out, r->cap);
  atomic_fetch_add(&r->returned, 1);
  return NULL;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void test_wakeups(void) {
  px_spool sp = {.max_bytes = 1 << 20};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, PX_JOBQ_MEM_MAX_BYTES, 1 << 20);
  static unsigned char in[PX_JOBQ_READ_BATCH_BYTES], out[PX_JOBQ_READ_BATCH_BYTES];
  pthread_t th;
  fill(in, sizeof(in), 11);

  /* a small push does not wake the reader; a batch does */
  px_jobq_init(&q, &lim);
  reader r = {.q = &q, .out = out, .cap = sizeof(out), .single = 1};
  pthread_create(&th, NULL, reader_main, &r);
  px_jobq_push(&q, in, 10);
  sleep_ms(100);
  CHECK_INT(atomic_load(&r.returned), 0, "wake: 10 bytes leave the reader waiting for a batch");
  px_jobq_push(&q, in + 10, PX_JOBQ_READ_BATCH_BYTES - 10);
  pthread_join(th, NULL);
  CHECK_INT(r.got, PX_JOBQ_READ_BATCH_BYTES, "wake: a batch is read in one pull");
  CHECK(memcmp(in, out, sizeof(in)) == 0, "wake: batch bytes in order");

  /* eof wakes the reader with what is left */
  r = (reader){.q = &q, .out = out, .cap = sizeof(out), .single = 1};
  pthread_create(&th, NULL, reader_main, &r);
  px_jobq_push(&q, in, 5);
  sleep_ms(20);
  px_jobq_eof(&q);
  pthread_join(th, NULL);
  CHECK_INT(r.got, 5, "wake: eof delivers the short tail");
  px_jobq_close(&q);
  px_jobq_destroy(&q);

  /* a break wakes a waiting reader with an error; later breaks keep the first reason */
  px_jobq_init(&q, &lim);
  r = (reader){.q = &q, .out = out, .cap = sizeof(out), .single = 1};
  pthread_create(&th, NULL, reader_main, &r);
  px_jobq_push(&q, in, 100);
  sleep_ms(20);
  CHECK_INT(px_jobq_break(&q, "upload stalled"), 1, "break: breaks an open queue");
  pthread_join(th, NULL);
  CHECK_INT(r.got, SC_ERR_IO, "break: waiting reader gets SC_ERR_IO");
  CHECK_INT(px_jobq_break(&q, "second"), 0, "break: a second break does nothing");
  CHECK_STR(px_jobq_why(&q), "upload stalled", "break: first reason kept");
  CHECK_INT(px_jobq_push(&q, in, 1), SC_ERR_STATE, "break: push refused after a break");
  CHECK_INT(px_jobq_state_of(&q), PX_JOBQ_OPEN, "break: open until the reader closes");
  px_jobq_close(&q);
  CHECK_INT(px_jobq_state_of(&q), PX_JOBQ_BROKEN, "break: closed broken");
  px_jobq_destroy(&q);

  /* after close, a break changes nothing: a finished job stays done */
  px_jobq_init(&q, &lim);
  px_jobq_eof(&q);
  px_jobq_close(&q);
  CHECK_INT(px_jobq_break(&q, "late"), 0, "break: after close it does nothing");
  CHECK_INT(px_jobq_state_of(&q), PX_JOBQ_DONE, "break: closed queue stays done");
  CHECK(px_jobq_why(&q) == NULL, "break: no reason on a done queue");
  px_jobq_destroy(&q);
}

/* 8 MiB in uneven pushes through a 64 KiB memory cap while a reader pulls:
 * the stream alternates between memory and spill and must come out whole. */
static void test_concurrent(void) {
  enum { TOTAL = 8 << 20 };
  px_spool sp = {.max_bytes = TOTAL};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, 64 << 10, TOTAL);
  unsigned char *in = malloc(TOTAL), *out = malloc(TOTAL);
  pthread_t th;
  fill(in, TOTAL, 13);
  px_jobq_init(&q, &lim);
  reader r = {.q = &q, .out = out, .cap = TOTAL};
  pthread_create(&th, NULL, reader_main, &r);
  size_t off = 0, step = 1;
  int fails = 0;
  while (off < TOTAL) {
    size_t n = step < TOTAL - off ? step : TOTAL - off;
    if (px_jobq_push(&q, in + off, n) != 0) fails++;
    off += n;
    step = step * 7 % 40009 + 1; /* 1 byte to ~40 KB */
  }
  px_jobq_eof(&q);
  pthread_join(th, NULL);
  CHECK_INT(fails, 0, "concurrent: every push accepted");
  CHECK_INT(r.got, TOTAL, "concurrent: every byte read");
  CHECK(memcmp(in, out, TOTAL) == 0, "concurrent: in push order across memory and spill");
  CHECK_INT(px_jobq_bytes(&q), TOTAL, "concurrent: byte count");
  px_jobq_close(&q);
  CHECK_INT(px_spool_bytes(&sp), 0, "concurrent: spool back to 0");
  px_jobq_destroy(&q);
  free(in);
  free(out);
}

static int drains;
static void count_drain(void *arg) {
  (void)arg;
  drains++;
}

/* Holding: a pulling reader gets the bytes past memory held (no spill, a
 * backlog reported), on_drain once it took the queue to half; without a
 * reader, after unhold, or past the hold cap, bytes spill as before. */
static void test_hold(void) {
  px_spool sp = {.max_bytes = 1 << 20};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, SMALL_MEM, 1 << 20);
  unsigned char in[8000], out[8000];
  fill(in, sizeof in, 7);
  lim.on_drain = count_drain;
  drains = 0;
  CHECK_INT(px_jobq_init(&q, &lim), 0, "hold: init");
  /* no reader yet: past memory the bytes spill (a queued job must not stall an upload) */
  CHECK_INT(px_jobq_push(&q, in, 800), 0, "hold: push into memory");
  CHECK_INT(px_jobq_push(&q, in + 800, 400), 0, "hold: push past memory, no reader yet");
  CHECK(q.spill_fd >= 0 && q.spilling, "hold: without a reader the bytes spill");
  CHECK_INT(px_jobq_backlog(&q), 0, "hold: and no backlog is reported");
  CHECK_INT(drain(&q, out, 1200), 1200, "hold: the reader takes memory and spill");
  CHECK(memcmp(in, out, 1200) == 0, "hold: in order");
  CHECK(!q.spilling, "hold: the reader caught up: back to memory");
  /* the reader has pulled: now bytes past memory are held */
  CHECK_INT(px_jobq_push(&q, in + 1200, 900), 0, "hold: push into memory again");
  CHECK_INT(px_jobq_push(&q, in + 2100, 600), 0, "hold: push past memory with a reader");
  CHECK(!q.spilling && q.spill_wr == 0, "hold: nothing spilled");
  CHECK_INT(px_jobq_backlog(&q), 1500, "hold: the backlog is every byte in memory");
  CHECK_INT(px_jobq_push(&q, in + 2700, 400), 0, "hold: a late push (the front's overshoot)");
  CHECK_INT(px_jobq_backlog(&q), 1900, "hold: still held, under twice the memory cap");
  CHECK_INT(px_jobq_push(&q, in + 3100, 200), 0, "hold: a push past twice the cap");
  CHECK(q.spilling, "hold: past the hold cap the bytes spill");
  uint64_t before = px_jobq_progress(&q);
  ssize_t r = px_jobq_pull(&q, out + 1200, 1000);
  CHECK_INT(r, 1000, "hold: pull 1000");
  CHECK_INT(px_jobq_progress(&q), before + 1000, "hold: progress counts pulled bytes");
  CHECK_INT(drains, 0, "hold: 900 bytes left in memory: no drain yet (half is 500)");
  CHECK_INT(px_jobq_pull(&q, out + 2200, 500), 500, "hold: pull 500");
  CHECK_INT(drains, 1, "hold: at half, on_drain is called once");
  CHECK_INT(px_jobq_backlog(&q), 0, "hold: and the backlog is gone");
  CHECK_INT(drain(&q, out + 2700, 600), 600, "hold: the rest (memory, then spill)");
  CHECK(memcmp(in, out, 3300) == 0, "hold: every byte in push order across hold and spill");
  CHECK_INT(drains, 1, "hold: no second on_drain without a backlog");
  /* a stuck reader: unhold, then later bytes spill and no drain is owed */
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "unhold: fill memory");
  CHECK_INT(px_jobq_push(&q, in, 500), 0, "unhold: held");
  CHECK_INT(px_jobq_backlog(&q) > 0, 1, "unhold: a backlog");
  px_jobq_unhold(&q);
  CHECK_INT(px_jobq_backlog(&q), 0, "unhold: no backlog after unhold");
  CHECK_INT(px_jobq_push(&q, in, 100), 0, "unhold: the next push is accepted");
  CHECK(q.spilling, "unhold: and spilled");
  /* a backlog and a break: the source must not wait for a reader that is gone */
  px_jobq_close(&q);
  px_jobq_destroy(&q);

  drains = 0;
  CHECK_INT(px_jobq_init(&q, &lim), 0, "break: init");
  q.reader_seen = 1; /* as after a first pull (a pull of less than a batch would block) */
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "break: fill");
  CHECK_INT(px_jobq_push(&q, in, 300), 0, "break: held");
  CHECK_INT(px_jobq_backlog(&q) > 0, 1, "break: backlog");
  px_jobq_break(&q, "test");
  CHECK_INT(drains, 1, "break: a break clears the backlog with on_drain");
  px_jobq_close(&q);
  CHECK_INT(px_jobq_push(&q, in, 10), SC_ERR_STATE, "break: push after close refused");
  px_jobq_destroy(&q);

  drains = 0;
  CHECK_INT(px_jobq_init(&q, &lim), 0, "close: init");
  q.reader_seen = 1;
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "close: fill");
  CHECK_INT(px_jobq_push(&q, in, 300), 0, "close: held");
  px_jobq_close(&q); /* a reader that stops early (scan error) */
  CHECK_INT(drains, 1, "close: the reader's close clears the backlog with on_drain");
  CHECK_INT(px_jobq_backlog(&q), 0, "close: no backlog");
  CHECK_INT(px_jobq_push(&q, in, 10), SC_ERR_STATE, "close: bytes after the reader left are refused");
  CHECK_INT(px_spool_bytes(&sp), 0, "hold: spool back to 0");
  px_jobq_destroy(&q);
}

struct peek_reader {
  px_jobq *q;
  unsigned char *out;
  size_t cap, got;
};
static void *peek_reader_main(void *arg) {
  struct peek_reader *r = arg;
  for (;;) {
    const void *p;
    ssize_t n = px_jobq_peek(r->q, &p);
    if (n <= 0) break;
    size_t take = (size_t)n > 5000 ? 5000 : (size_t)n; /* partial consumes too */
    if (r->got + take > r->cap) take = r->cap - r->got;
    memcpy(r->out + r->got, p, take);
    r->got += take;
    px_jobq_consume(r->q, take);
  }
  return NULL;
}

/* Peek/consume reads the same bytes in the same order as pull: memory
 * chunks, the spill (through the read buffer), memory again after the
 * spill caught up; partial consumes; holding and on_drain work the same. */
static void test_peek(void) {
  px_spool sp = {.max_bytes = 1 << 20};
  px_jobq q;
  px_jobq_limits lim = limits(&sp, SMALL_MEM, 1 << 20);
  unsigned char in[6000];
  const void *p;
  fill(in, sizeof in, 11);
  CHECK_INT(px_jobq_init(&q, &lim), 0, "peek: init");
  CHECK_INT(px_jobq_push(&q, in, 600), 0, "peek: memory");
  CHECK_INT(px_jobq_push(&q, in + 600, 700), 0, "peek: past memory: spill");
  CHECK(q.spilling, "peek: spilling");
  ssize_t n = px_jobq_peek(&q, &p);
  CHECK_INT(n, 600, "peek: the memory chunk first");
  CHECK(p && memcmp(p, in, 600) == 0, "peek: its bytes, in place");
  px_jobq_consume(&q, 100);
  n = px_jobq_peek(&q, &p);
  CHECK_INT(n, 500, "peek: a partial consume leaves the rest of the chunk");
  CHECK(memcmp(p, in + 100, 500) == 0, "peek: the rest");
  px_jobq_consume(&q, 500);
  n = px_jobq_peek(&q, &p);
  CHECK_INT(n, 700, "peek: then the spill, through the read buffer");
  CHECK(memcmp(p, in + 600, 700) == 0, "peek: spill bytes in order");
  CHECK(!q.spilling, "peek: the reader caught up with the spill");
  CHECK_INT(px_jobq_push(&q, in + 1300, 200), 0, "peek: a push after the catch-up goes to memory");
  px_jobq_consume(&q, 300);
  px_jobq_eof(&q);
  n = px_jobq_peek(&q, &p);
  CHECK_INT(n, 400, "peek: the rest of the read buffer comes before newer memory");
  CHECK(memcmp(p, in + 900, 400) == 0, "peek: in order");
  px_jobq_consume(&q, 400);
  n = px_jobq_peek(&q, &p);
  CHECK_INT(n, 200, "peek: then the newer chunk");
  CHECK(memcmp(p, in + 1300, 200) == 0, "peek: its bytes");
  px_jobq_consume(&q, 200);
  CHECK_INT(px_jobq_peek(&q, &p), 0, "peek: 0 at the end");
  px_jobq_consume(&q, 0);
  CHECK_INT(px_jobq_progress(&q), 1500, "peek: progress counts consumed bytes");
  px_jobq_close(&q);
  CHECK_INT(px_spool_bytes(&sp), 0, "peek: spool back to 0");
  px_jobq_destroy(&q);

  /* holding through peek/consume: on_drain once the queue is down to half */
  lim.on_drain = count_drain;
  drains = 0;
  CHECK_INT(px_jobq_init(&q, &lim), 0, "peek hold: init");
  q.reader_seen = 1;
  CHECK_INT(px_jobq_push(&q, in, 1000), 0, "peek hold: fill");
  CHECK_INT(px_jobq_push(&q, in + 1000, 600), 0, "peek hold: held");
  CHECK_INT(px_jobq_backlog(&q), 1600, "peek hold: backlog");
  px_jobq_eof(&q); /* less than a read batch is handed out only at the end */
  n = px_jobq_peek(&q, &p);
  px_jobq_consume(&q, (size_t)n);
  CHECK_INT(drains, 0, "peek hold: 600 left: above half, no drain");
  n = px_jobq_peek(&q, &p);
  CHECK_INT(n, 600, "peek hold: the held chunk");
  px_jobq_consume(&q, 200);
  CHECK_INT(drains, 1, "peek hold: 400 left: on_drain");
  px_jobq_break(&q, "test");
  CHECK_INT(px_jobq_peek(&q, &p), SC_ERR_IO, "peek: broken queue: SC_ERR_IO");
  px_jobq_close(&q);
  px_jobq_destroy(&q);

  /* a concurrent producer, a peeking reader, bytes through memory and spill */
  enum { TOTAL = 3 << 20 };
  unsigned char *big = malloc(TOTAL), *got = malloc(TOTAL);
  fill(big, TOTAL, 5);
  sp.max_bytes = 64 << 20;
  lim = limits(&sp, 64 * 1024, 64 << 20);
  CHECK_INT(px_jobq_init(&q, &lim), 0, "peek concurrent: init");
  pthread_t th;
  struct peek_reader pr = {&q, got, TOTAL, 0};
  pthread_create(&th, NULL, peek_reader_main, &pr);
  int fails = 0;
  for (size_t off = 0; off < TOTAL; off += 7001) {
    size_t k = TOTAL - off < 7001 ? TOTAL - off : 7001;
    fails += px_jobq_push(&q, big + off, k) != 0;
  }
  px_jobq_eof(&q);
  pthread_join(th, NULL);
  CHECK_INT(fails, 0, "peek concurrent: every push accepted");
  CHECK_INT(pr.got, TOTAL, "peek concurrent: every byte read");
  CHECK(memcmp(big, got, TOTAL) == 0, "peek concurrent: in push order");
  px_jobq_close(&q);
  px_jobq_destroy(&q);
  free(big);
  free(got);
}

int main(void) {
  snprintf(spool_dir, sizeof(spool_dir), "/tmp/test_jobq.XXXXXX");
  if (!mkdtemp(spool_dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_memory_only();
  test_spill_order();
  test_job_cap();
  test_total_cap();
  test_spill_failure();
  test_wakeups();
  test_concurrent();
  test_hold();
  test_peek();
  CHECK_INT(dir_entries(), 0, "no file left in the spool directory");
  rmdir(spool_dir);
  return tap_done();
}
