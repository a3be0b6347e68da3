/* sc_rpm_bdb.c - rpm's BerkeleyDB hash Packages file, read page by page
 * with every offset checked (format and bounds: sc_rpm_bdb.h).
 * Owner: scanner.  Thread: any.  Errors: SC_ERR_* with a reason in why. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_rpm_bdb.h"

#define BDB_HASH_MAGIC 0x061561u
#define BDB_META_BYTES 36 /* through last_pgno */
#define BDB_PAGE_HDR 26   /* SIZEOF_PAGE: lsn .. type */
#define BDB_MIN_PAGE 512
#define BDB_MAX_PAGE 65536
#define BDB_MIN_VERSION 7 /* hash format of Berkeley DB 3.x */
#define BDB_MAX_VERSION 10
#define BDB_META_CHKSUM 0x01 /* metaflags: pages carry checksums (rpm never sets it) */

enum { P_HASH_UNSORTED = 2, P_OVERFLOW = 7, P_HASHMETA = 8, P_HASH = 13 };
enum { H_KEYDATA = 1, H_OFFPAGE = 3 };
#define HOFFPAGE_BYTES 12 /* type, pad[3], pgno, tlen */

typedef struct bdb {
  int fd;
  int be;                 /* pages are big-endian */
  uint32_t psize, npages; /* pages we may read: 0 .. npages-1 */
  uint64_t read_left;     /* bytes pread may still read */
  uint64_t blob_left;     /* blob bytes the overflow chains may still yield */
  unsigned char *page, *ov, *blob;
  size_t blobcap;
  sc_budget *bud;
  char *why;
  size_t whycap;
} bdb;

static int say(bdb *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(bdb *d, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (d->why && d->whycap) vsnprintf(d->why, d->whycap, fmt, ap);
  va_end(ap);
  return err;
}

static uint32_t rd32(const bdb *d, const unsigned char *p) {
  return d->be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t rd16(const bdb *d, const unsigned char *p) {
  return d->be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int sc_rpm_bdb_sniff(const unsigned char *p, size_t n) {
  return n >= BDB_META_BYTES && (le32(p + 12) == BDB_HASH_MAGIC || be32(p + 12) == BDB_HASH_MAGIC);
}

/* Reads page pgno (< npages) into buf: 0 or SC_ERR_*. */
static int read_page(bdb *d, uint32_t pgno, unsigned char *buf) {
  if (pgno >= d->npages) return say(d, SC_ERR_FORMAT, "page %u past the last page %u", pgno, d->npages - 1);
  if (d->read_left < d->psize) return say(d, SC_ERR_LIMIT, "read more than %d times the file", SC_RPM_BDB_READ_FACTOR);
  d->read_left -= d->psize;
  int rv = sc_budget_check(d->bud);
  if (rv) return say(d, rv, "over budget");
  size_t got = 0;
  while (got < d->psize) {
    ssize_t n = pread(d->fd, buf + got, d->psize - got, (off_t)pgno * d->psize + (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return say(d, SC_ERR_IO, "read: %s", strerror(errno));
    if (n == 0) return say(d, SC_ERR_FORMAT, "page %u truncated", pgno);
    got += (size_t)n;
  }
  return 0;
}

/* Collects the overflow chain from pgno, tlen bytes, into d->blob.
 * Returns 0, 1 when the chain is broken (the item is skipped), or an
 * SC_ERR_* that stops the read. */
static int read_chain(bdb *d, uint32_t pgno, uint32_t tlen) {
  if (tlen == 0) return 1;
  if (tlen > SC_RPM_BLOB_MAX_BYTES)
    return say(d, SC_ERR_LIMIT, "a header of %u bytes, over %u", tlen, (unsigned)SC_RPM_BLOB_MAX_BYTES);
  if (tlen > d->blob_left) return say(d, SC_ERR_LIMIT, "overflow items add up to more than the file");
  if (tlen > d->blobcap) {
    size_t cap = d->blobcap ? d->blobcap : 65536;
    while (cap < tlen) cap *= 2;
    if (sc_budget_mem(d->bud, cap + 2ull * d->psize)) return say(d, SC_ERR_LIMIT, "over the memory budget");
    unsigned char *nb = realloc(d->blob, cap);
    if (!nb) return SC_ERR_NOMEM;
    d->blob = nb;
    d->blobcap = cap;
  }
  d->blob_left -= tlen;
  uint32_t got = 0;
  for (uint32_t steps = 0; got < tlen; steps++) {
    if (steps >= d->npages || pgno == 0 || pgno >= d->npages) return 1; /* a loop, or off the file */
    int rv = read_page(d, pgno, d->ov);
    if (rv) return rv;
    uint32_t len = rd16(d, d->ov + 22);
    if (d->ov[25] != P_OVERFLOW || len == 0 || len > d->psize - BDB_PAGE_HDR || len > tlen - got) return 1;
    memcpy(d->blob + got, d->ov + BDB_PAGE_HDR, len);
    got += len;
    pgno = rd32(d, d->ov + 16);
  }
  return 0;
}

/* Item i of the hash page in d->page: [*off, *end), checked; 0 or -1. */
static int item(bdb *d, uint32_t entries, uint32_t i, uint32_t *off, uint32_t *end) {
  const unsigned char *inp = d->page + BDB_PAGE_HDR;
  *off = rd16(d, inp + 2 * i);
  *end = i ? rd16(d, inp + 2 * (i - 1)) : d->psize;
  return *off >= BDB_PAGE_HDR + 2 * entries && *off < *end && *end <= d->psize ? 0 : -1;
}

/* One hash page: every key/data pair's data to fn. */
static int hash_page(bdb *d, sc_rpm_blob_fn fn, void *ctx, uint32_t *nhdr, uint32_t *bad) {
  uint32_t entries = rd16(d, d->page + 20);
  if (BDB_PAGE_HDR + 2ull * entries > d->psize) {
    (*bad)++;
    return 0;
  }
  for (uint32_t i = 0; i + 1 < entries; i += 2) {
    uint32_t ko, ke, vo, ve;
    if (item(d, entries, i, &ko, &ke) || item(d, entries, i + 1, &vo, &ve)) {
      (*bad)++;
      continue;
    }
    const unsigned char *k = d->page + ko, *v = d->page + vo;
    if (k[0] == H_KEYDATA && ke - ko == 5 && rd32(d, k + 1) == 0) continue; /* key 0: rpm's counter */
    const unsigned char *blob;
    size_t len;
    if (v[0] == H_KEYDATA) {
      blob = v + 1;
      len = ve - vo - 1;
    } else if (v[0] == H_OFFPAGE && ve - vo >= HOFFPAGE_BYTES) {
      int rv = read_chain(d, rd32(d, v + 4), rd32(d, v + 8));
      if (rv < 0) return rv;
      if (rv > 0) {
        (*bad)++;
        continue;
      }
      blob = d->blob;
      len = rd32(d, v + 8);
    } else { /* duplicates: rpm never stores them */
      (*bad)++;
      continue;
    }
    if (++*nhdr > SC_RPM_MAX_HEADERS) return say(d, SC_ERR_LIMIT, "more than %u headers", SC_RPM_MAX_HEADERS);
    int rv = fn(ctx, blob, len);
    if (rv) return rv;
  }
  return 0;
}

int sc_rpm_bdb_read(int fd, uint64_t size, sc_budget *bud, sc_rpm_blob_fn fn, void *ctx, uint32_t *bad, char *why,
                    size_t cap) {
  bdb d = {fd, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, bud, why, cap};
  unsigned char meta[BDB_META_BYTES];
  *bad = 0;
  if (why && cap) why[0] = '\0';
  if (size < BDB_MIN_PAGE) return say(&d, SC_ERR_FORMAT, "not a BerkeleyDB file (%llu bytes)", (unsigned long long)size);
  for (size_t got = 0; got < sizeof(meta);) {
    ssize_t n = pread(fd, meta + got, sizeof(meta) - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return say(&d, SC_ERR_IO, "cannot read the metadata page");
    got += (size_t)n;
  }
  if (le32(meta + 12) == BDB_HASH_MAGIC) d.be = 0;
  else if (be32(meta + 12) == BDB_HASH_MAGIC) d.be = 1;
  else return say(&d, SC_ERR_FORMAT, "not a BerkeleyDB hash database (magic %08x)", le32(meta + 12));
  uint32_t version = rd32(&d, meta + 16), last = rd32(&d, meta + 32);
  d.psize = rd32(&d, meta + 20);
  if (version < BDB_MIN_VERSION || version > BDB_MAX_VERSION)
    return say(&d, SC_ERR_FORMAT, "BerkeleyDB hash version %u not supported", version);
  if (d.psize < BDB_MIN_PAGE || d.psize > BDB_MAX_PAGE || (d.psize & (d.psize - 1)))
    return say(&d, SC_ERR_FORMAT, "bad page size %u", d.psize);
  if (meta[25] != P_HASHMETA) return say(&d, SC_ERR_FORMAT, "metadata page of type %u", meta[25]);
  if (meta[24] != 0) return say(&d, SC_ERR_FORMAT, "encrypted BerkeleyDB database");
  if (meta[26] & BDB_META_CHKSUM) return say(&d, SC_ERR_FORMAT, "checksummed BerkeleyDB pages not supported");
  uint64_t on_disk = size / d.psize;
  d.npages = (uint64_t)last + 1 < on_disk ? last + 1 : (uint32_t)on_disk;
  d.read_left = SC_RPM_BDB_READ_FACTOR * size;
  d.blob_left = size;
  if (sc_budget_mem(bud, 2ull * d.psize)) return say(&d, SC_ERR_LIMIT, "over the memory budget");
  d.page = malloc(d.psize);
  d.ov = malloc(d.psize);
  int rv = d.page && d.ov ? 0 : SC_ERR_NOMEM;
  uint32_t nhdr = 0;
  for (uint32_t p = 1; rv == 0 && p < d.npages; p++) {
    if ((rv = read_page(&d, p, d.page))) break;
    if (d.page[25] == P_HASH || d.page[25] == P_HASH_UNSORTED) rv = hash_page(&d, fn, ctx, &nhdr, bad);
  }
  free(d.page);
  free(d.ov);
  free(d.blob);
  return rv;
}
