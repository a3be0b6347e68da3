/* sc_rpm_ndb.c - rpm's NDB Packages.db read slot by slot, every blob
 * checked against its slot, its head and its tail (format and bounds:
 * sc_rpm_ndb.h).  Owner: scanner.  Thread: any.
 * Errors: SC_ERR_* with a reason in why. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_rpm_ndb.h"

#define NDB_MAGIC 0x506d7052u      /* "RpmP" */
#define NDB_SLOT_MAGIC 0x746f6c53u /* "Slot" */
#define NDB_HEAD_MAGIC 0x53626c42u /* "BlbS" */
#define NDB_TAIL_MAGIC 0x45626c42u /* "BlbE" */
#define NDB_VERSION 0
#define NDB_HDR_BYTES 32
#define NDB_PAGE 4096
#define NDB_SLOT 16
#define NDB_BLK 16
#define NDB_HEAD 16
#define NDB_TAIL 12

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int sc_rpm_ndb_sniff(const unsigned char *p, size_t n) {
  return n >= 8 && le32(p) == NDB_MAGIC;
}

static int say(char *why, size_t cap, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int say(char *why, size_t cap, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (why && cap) vsnprintf(why, cap, fmt, ap);
  va_end(ap);
  return err;
}

/* Reads exactly n bytes at off: 0, 1 when the file is shorter, SC_ERR_IO. */
static int pread_all(int fd, void *buf, size_t n, uint64_t off) {
  for (size_t got = 0; got < n;) {
    ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return SC_ERR_IO;
    if (r == 0) return 1;
    got += (size_t)r;
  }
  return 0;
}

typedef struct blobbuf {
  unsigned char *p;
  size_t cap;
} blobbuf;

/* Reads the blob of one slot into bb: 0, 1 when it does not check out
 * (skipped), or an SC_ERR_* that stops the read. */
static int read_blob(int fd, sc_budget *bud, uint32_t pkgidx, uint32_t blkoff, uint32_t blkcnt, blobbuf *bb,
                     uint32_t *len) {
  unsigned char h[NDB_HEAD], t[NDB_TAIL];
  uint64_t off = (uint64_t)blkoff * NDB_BLK, span = (uint64_t)blkcnt * NDB_BLK;
  if (span < NDB_HEAD + NDB_TAIL) return 1;
  int rv = pread_all(fd, h, sizeof(h), off);
  if (rv) return rv < 0 ? rv : 1;
  uint32_t n = le32(h + 12);
  if (le32(h) != NDB_HEAD_MAGIC || le32(h + 4) != pkgidx) return 1;
  if (blkcnt != ((uint64_t)NDB_HEAD + n + NDB_TAIL + NDB_BLK - 1) / NDB_BLK) return 1;
  if (n > SC_RPM_BLOB_MAX_BYTES) return SC_ERR_LIMIT;
  if (n > bb->cap) {
    size_t cap = bb->cap ? bb->cap : 65536;
    while (cap < n) cap *= 2;
    if (sc_budget_mem(bud, cap)) return SC_ERR_LIMIT;
    unsigned char *p = realloc(bb->p, cap);
    if (!p) return SC_ERR_NOMEM;
    bb->p = p;
    bb->cap = cap;
  }
  if ((rv = pread_all(fd, bb->p, n, off + NDB_HEAD))) return rv < 0 ? rv : 1;
  if ((rv = pread_all(fd, t, sizeof(t), off + span - NDB_TAIL))) return rv < 0 ? rv : 1;
  /* the tail's adler32 (over head, blob and padding) is not checked: rpm
   * checks it only before it writes, and lists a package whatever it says */
  if (le32(t + 8) != NDB_TAIL_MAGIC || le32(t + 4) != n) return 1;
  *len = n;
  return 0;
}

int sc_rpm_ndb_read(int fd, uint64_t size, sc_budget *bud, sc_rpm_blob_fn fn, void *ctx, uint32_t *bad, char *why,
                    size_t cap) {
  unsigned char hdr[NDB_HDR_BYTES];
  *bad = 0;
  if (why && cap) why[0] = '\0';
  int rv = size >= NDB_PAGE ? pread_all(fd, hdr, sizeof(hdr), 0) : 1;
  if (rv < 0) return say(why, cap, rv, "cannot read the header");
  if (rv || le32(hdr) != NDB_MAGIC) return say(why, cap, SC_ERR_FORMAT, "not an NDB package database");
  if (le32(hdr + 4) != NDB_VERSION) return say(why, cap, SC_ERR_FORMAT, "NDB version %u not supported", le32(hdr + 4));
  uint32_t slotnpages = le32(hdr + 12);
  if (slotnpages == 0 || (uint64_t)slotnpages * NDB_PAGE > size)
    return say(why, cap, SC_ERR_FORMAT, "%u slot pages in a file of %llu bytes", slotnpages, (unsigned long long)size);
  uint64_t minblk = (uint64_t)slotnpages * (NDB_PAGE / NDB_BLK), fileblks = size / NDB_BLK;
  uint64_t blob_left = size; /* blobs do not overlap: together at most the file */
  unsigned char *page = malloc(NDB_PAGE);
  blobbuf bb = {NULL, 0};
  uint32_t nhdr = 0;
  rv = page ? 0 : SC_ERR_NOMEM;
  for (uint32_t pg = 0; rv == 0 && pg < slotnpages; pg++) {
    if ((rv = sc_budget_check(bud))) {
      say(why, cap, rv, "over budget");
      break;
    }
    int r = pread_all(fd, page, NDB_PAGE, (uint64_t)pg * NDB_PAGE);
    if (r) {
      rv = say(why, cap, r < 0 ? r : SC_ERR_FORMAT, "slot page %u unreadable", pg);
      break;
    }
    for (uint32_t o = pg ? 0 : NDB_HDR_BYTES; rv == 0 && o < NDB_PAGE; o += NDB_SLOT) {
      const unsigned char *s = page + o;
      if (le32(s) != NDB_SLOT_MAGIC) {
        rv = say(why, cap, SC_ERR_FORMAT, "bad slot at byte %llu", (unsigned long long)pg * NDB_PAGE + o);
        break;
      }
      uint32_t pkgidx = le32(s + 4), blkoff = le32(s + 8), blkcnt = le32(s + 12), len = 0;
      if (blkoff == 0) continue; /* free slot */
      if (!pkgidx || !blkcnt || blkoff < minblk || (uint64_t)blkoff + blkcnt > fileblks) {
        (*bad)++;
        continue;
      }
      if ((uint64_t)blkcnt * NDB_BLK > blob_left) {
        rv = say(why, cap, SC_ERR_LIMIT, "blobs add up to more than the file");
        break;
      }
      blob_left -= (uint64_t)blkcnt * NDB_BLK;
      if ((rv = sc_budget_check(bud))) {
        say(why, cap, rv, "over budget");
        break;
      }
      int r2 = read_blob(fd, bud, pkgidx, blkoff, blkcnt, &bb, &len);
      if (r2 == 1) {
        (*bad)++;
        continue;
      }
      if (r2) {
        rv = say(why, cap, r2, r2 == SC_ERR_LIMIT ? "a header over %u bytes or over the memory budget" : "read error%.0u",
                 (unsigned)SC_RPM_BLOB_MAX_BYTES);
        break;
      }
      if (++nhdr > SC_RPM_MAX_HEADERS) {
        rv = say(why, cap, SC_ERR_LIMIT, "more than %u headers", SC_RPM_MAX_HEADERS);
        break;
      }
      rv = fn(ctx, bb.p, len);
    }
  }
  free(page);
  free(bb.p);
  return rv;
}
