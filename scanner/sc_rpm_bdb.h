/* sc_rpm_bdb.h - a bounded, read-only reader of rpm's BerkeleyDB hash
 * database (var/lib/rpm/Packages of RHEL/CentOS 7-8, Amazon Linux 2),
 * written from the published on-disk format; no database engine ever opens
 * the attacker's file.
 *
 * Format (Berkeley DB 4.x/5.x hash access method, pages in the byte order of
 * the machine that wrote them, told by the magic's byte order):
 *   page 0, metadata: lsn[8] pgno@8 magic@12 (0x061561) version@16
 *     pagesize@20 encrypt_alg@24 type@25 (8) metaflags@26 free@28 last_pgno@32
 *   every other page: lsn[8] pgno@8 prev@12 next@16 entries(u16)@20
 *     hf_offset(u16)@22 level@24 type@25, then entries u16 item offsets.
 *   hash pages (type 13, old 2): items in key/data pairs, item i spans
 *     [inp[i], i ? inp[i-1] : pagesize); first byte: 1 H_KEYDATA (bytes
 *     follow), 3 H_OFFPAGE (pad[3], pgno@4, tlen@8: an overflow chain).
 *   overflow pages (type 7): hf_offset bytes of data after the 26-byte
 *     header, chained by next.
 * Each data item is an rpm header blob (sc_rpm_header.h); the key is the
 * header number, and key 0 (rpm's instance counter) is skipped.
 *
 * Bounds: pages are read with pread at offsets checked against the file
 * size; every item offset against the page; an overflow chain visits at
 * most one page per page of the file and must add up to exactly tlen; blob
 * bytes in all are at most the file's size (each byte lives on one page),
 * bytes read at most SC_RPM_BDB_READ_FACTOR times the file; headers at most
 * SC_RPM_MAX_HEADERS; one blob at most SC_RPM_BLOB_MAX_BYTES, charged to
 * the budget's memory; the CPU budget is checked on every page.
 * Owner: scanner (the rpm cataloger).  Thread: any (state on the stack).
 * Errors: SC_ERR_FORMAT (not a BerkeleyDB hash we can read, why says so),
 * SC_ERR_LIMIT (a cap or the budget), SC_ERR_IO, SC_ERR_NOMEM, or the
 * callback's error. */
#ifndef CUSTOMS_SC_RPM_BDB_H
#define CUSTOMS_SC_RPM_BDB_H
#include <stddef.h>
#include <stdint.h>

#include "sc_budget.h"
#include "sc_rpm_header.h"

#define SC_RPM_BDB_READ_FACTOR 3 /* bytes read / file size: one walk plus each overflow page once, with room */

/* Reads the database in fd (size bytes) and calls fn(ctx, blob, len) for
 * every data item.  *bad counts items it had to skip (broken overflow
 * chain, duplicate sets rpm never writes).  bud may be NULL.  On error why
 * (cap bytes) says what was wrong. */
int sc_rpm_bdb_read(int fd, uint64_t size, sc_budget *bud, sc_rpm_blob_fn fn, void *ctx, uint32_t *bad, char *why,
                    size_t cap);

/* Nonzero when the first 36 bytes of a file (p, n) look like a BerkeleyDB
 * hash metadata page. */
int sc_rpm_bdb_sniff(const unsigned char *p, size_t n);

#endif
