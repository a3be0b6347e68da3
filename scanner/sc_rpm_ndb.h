/* sc_rpm_ndb.h - a bounded, read-only reader of rpm's NDB package database
 * (Packages.db, rpm >= 4.16 on SUSE and some RHEL-family builds), written
 * from the on-disk format of rpm's lib/backend/ndb/rpmpkg.c.
 *
 * Format, all little-endian:
 *   header (32 bytes): "RpmP" magic, version@4 (0), generation@8,
 *     slotnpages@12, nextpkgidx@16.
 *   slots: the first slotnpages 4096-byte pages, 16-byte slots from byte 32:
 *     "Slot" magic, pkgidx@4, blkoff@8 (0 = free), blkcnt@12; blocks are
 *     16 bytes.
 *   blob at blkoff*16: head "BlbS" magic, pkgidx@4, timestamp@8, bloblen@12;
 *     bloblen bytes (an rpm header blob, sc_rpm_header.h); zero padding; tail
 *     at the end of its blkcnt blocks: adler32@0 (of head, blob and padding),
 *     bloblen@4, "BlbE" magic@8.
 *   blkcnt must be (16 + bloblen + 12 + 15) / 16.
 *
 * Bounds: slot pages at most the file; every blob inside the file and past
 * the slot pages; bloblen at most SC_RPM_BLOB_MAX_BYTES (charged to the
 * budget's memory); blob bytes in all at most the file size (blobs may not
 * overlap in a real database); headers at most SC_RPM_MAX_HEADERS; the CPU
 * budget checked on every slot page and blob.  A blob whose head or tail
 * does not agree with its slot is skipped and counted in *bad; like rpm
 * when it reads, the checksum is not verified.
 * Owner: scanner (the rpm cataloger).  Thread: any.
 * Errors: SC_ERR_FORMAT (why says so), SC_ERR_LIMIT, SC_ERR_IO, SC_ERR_NOMEM
 * or the callback's error. */
#ifndef CUSTOMS_SC_RPM_NDB_H
#define CUSTOMS_SC_RPM_NDB_H
#include <stddef.h>
#include <stdint.h>

#include "sc_budget.h"
#include "sc_rpm_header.h"

int sc_rpm_ndb_read(int fd, uint64_t size, sc_budget *bud, sc_rpm_blob_fn fn, void *ctx, uint32_t *bad, char *why,
                    size_t cap);

/* Nonzero when p (n bytes) starts like an NDB Packages.db. */
int sc_rpm_ndb_sniff(const unsigned char *p, size_t n);

#endif
