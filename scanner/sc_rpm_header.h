/* sc_rpm_header.h - one rpm header blob (the "headerExport" form stored by
 * every rpm database backend: sqlite, BerkeleyDB, NDB) parsed into the few
 * tags an inventory needs, and added to an sc_inventory.
 *
 * Blob layout, big-endian:  be32 index_count, be32 data_len,
 * index_count * {be32 tag, be32 type, be32 offset, be32 count}, data.
 * The blob is hostile: every offset is checked against data_len, strings
 * must be NUL-terminated inside the data.
 * Owner: scanner (rpm cataloger and its database readers).  Thread: any (no
 * shared state).  Errors: SC_ERR_FORMAT (not a header we can use),
 * SC_ERR_NOMEM. */
#ifndef CUSTOMS_SC_RPM_HEADER_H
#define CUSTOMS_SC_RPM_HEADER_H
#include <stddef.h>
#include <stdint.h>

#include "sc_inventory.h"

#define SC_RPM_HDR_MAX_INDEX 100000u        /* index entries of one header (rpm's own cap is 0xffff) */
#define SC_RPM_BLOB_MAX_BYTES (32u << 20)   /* one header blob held in memory (rpm caps at 256 MiB;
                                               real ones are < 1 MiB) */
#define SC_RPM_MAX_HEADERS 200000u          /* headers read from one database */
#define SC_RPM_DB_MAX_BYTES (512ull << 20)  /* a database file on disk (spooled copy) */

typedef struct sc_rpm_header {
  const char *name, *version, *release, *arch, *sourcerpm; /* into the blob; NULL if absent */
  int has_epoch;
  uint32_t epoch;
} sc_rpm_header;

/* Parses blob b[0..n).  Pointers in *h point into b.  0, or SC_ERR_FORMAT
 * when the blob is malformed or has no name or version. */
int sc_rpm_header_parse(const unsigned char *b, size_t n, sc_rpm_header *h);

/* Adds the package of *h (found in file `path`) to inv: version is
 * [epoch:]version-release, the source package from SOURCERPM.  Skips
 * gpg-pubkey entries (imported keys, not software).  0 or SC_ERR_NOMEM. */
int sc_rpm_header_add(sc_inventory *inv, const char *path, const sc_rpm_header *h);

/* Called by the database readers with each header blob they find (b valid
 * during the call only).  Returns 0 to go on, or an SC_ERR_* that stops
 * the read and is returned by the reader. */
typedef int (*sc_rpm_blob_fn)(void *ctx, const unsigned char *b, size_t n);

#endif
