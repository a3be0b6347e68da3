/* sc_osv.h - OSV vulnerability records (schema 1.x) into the store.
 *
 * Sources: a .zip as OSV publishes them (every entry one JSON record, read
 * streaming with libarchive, at most SC_OSV_MAX_RECORD bytes each), a
 * directory (recursively, *.json), or a single .json file.  Each file is
 * imported in one transaction: a zip that turns out truncated or corrupt
 * imports nothing.  Records are upserted by id: a `modified` equal to or
 * older than the stored one is skipped cheaply ("unchanged"); a `withdrawn`
 * record removes the id.  A malformed record is counted and skipped.
 *
 * Severity of a record: a CVSS vector from severity[] (CVSS_V3 preferred,
 * then CVSS_V4, then CVSS_V2) scored with sc_cvss, else the text of
 * database_specific.severity; affected[].ecosystem_specific.severity is kept
 * per affected package.  A record without any severity borrows the highest
 * one of a record sharing an id or alias with it (Debian CVE records borrow
 * from GHSA/NVD ones); this is recomputed at the end of every import.
 *
 * NVD CVE 2.0 feeds (sc_nvd.h) import through the same calls: a .json file,
 * a gzip-compressed one (told by its magic bytes, whatever its name) or a
 * zip entry whose first bytes say "format": "NVD_CVE" is streamed (bounded
 * memory, a ~100 MB year feed is never held whole) into CVE scores
 * (sc_store_severity.h); its counts go to the same stats (added, updated,
 * unchanged: scores; withdrawn: CVEs whose score the feed dropped;
 * scores: CVEs with a score read).  A record's `upstream` ids join its
 * aliases in the store (it borrows their CVE scores), and its vendor
 * rating (Ubuntu priority: severity[] of type "Ubuntu"; Debian urgency:
 * affected[].ecosystem_specific.urgency) is kept beside its score.
 *
 * Every file that changes something bumps the data generation (table meta,
 * key vulndb_generation) in its own transaction.  Ranges of type ECOSYSTEM
 * and SEMVER are kept (GIT is ignored), plus explicit versions lists.
 * Package names are stored normalised (sc_osv_normalize_name) and
 * ecosystems without Ubuntu's ":LTS" suffix (sc_osv_normalize_ecosystem).
 *
 * Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_IO (cannot read), SC_ERR_FORMAT
 * (archive corrupt or truncated, or an NVD feed broken outside an entry;
 * nothing imported from it), SC_ERR_UNSUPP (an NVD feed not of version 2.x), SC_ERR_LIMIT (a
 * zip entry or JSON file over the cap), SC_ERR_DB.  The store handle's
 * thread rules apply. */
#ifndef CUSTOMS_SC_OSV_H
#define CUSTOMS_SC_OSV_H
#include <stddef.h>
#include <stdint.h>

#include "sc_store.h"

#define SC_OSV_MAX_RECORD (8u * 1024 * 1024) /* bytes in one JSON record */
#define SC_OSV_MAX_AFFECTED 10000            /* affected[] entries per record */
#define SC_OSV_MAX_EVENTS 10000              /* events per range, versions per list */
#define SC_OSV_MAX_NAME 1024                 /* id, ecosystem, package name bytes */
#define SC_OSV_MAX_DEPTH 32                  /* directory recursion */

typedef struct sc_osv_stats {
  uint64_t added, updated, unchanged, withdrawn, malformed;
  uint64_t scores; /* CVE scores read from NVD feeds (0 for OSV data) */
} sc_osv_stats;

/* Imports one path (zip, directory or .json); adds the counts to *stats
 * (which may be NULL).  A path is one source and one transaction (a
 * directory too: its files are malformed-or-not one by one, but a read
 * error rolls the whole directory back).  Records the path in vuln_sources
 * and recomputes borrowed severities.  Does not re-match findings: callers
 * run sc_match_rematch_all once after their imports. */
int sc_osv_import_path(sc_store *st, const char *path, sc_osv_stats *stats);

/* Progress of a long import: called every SC_OSV_PROGRESS_DOCS documents
 * with the counts so far (this path only) and the JSON bytes read. */
#define SC_OSV_PROGRESS_DOCS 512
typedef void (*sc_osv_progress_fn)(void *arg, const sc_osv_stats *so_far, uint64_t bytes);
/* sc_osv_import_path with a progress callback (fn may be NULL). */
int sc_osv_import_path_ex(sc_store *st, const char *path, sc_osv_stats *stats, sc_osv_progress_fn fn, void *arg);

/* sc_osv_import_path of a downloaded copy, recorded in vuln_sources under
 * name (the URL it came from) instead of the spool file's path, so that
 * `db status` names what an operator configured. */
int sc_osv_import_source(sc_store *st, const char *path, const char *name, sc_osv_stats *stats);

/* Imports one JSON record (or a JSON array of records) from memory, in one
 * transaction named `source` in vuln_sources. */
int sc_osv_import_buffer(sc_store *st, const char *source, const char *json, size_t len,
                         sc_osv_stats *stats);

/* Name as stored for lookup: PyPI PEP 503 (lowercase, runs of -_. -> -);
 * NuGet, Packagist lowercase; everything else unchanged.  SC_ERR_LIMIT when
 * it does not fit in cap. */
int sc_osv_normalize_name(const char *ecosystem, const char *name, char *out, size_t cap);

/* Ecosystem as stored: "Ubuntu:22.04:LTS" -> "Ubuntu:22.04"; others as is.
 * SC_ERR_LIMIT when it does not fit. */
int sc_osv_normalize_ecosystem(const char *ecosystem, char *out, size_t cap);

/* Version as compared: Go "v1.2.3" and toolchain "go1.21.5" -> "1.2.3" /
 * "1.21.5" (ecosystem "Go" only); others unchanged.  Returns a pointer into v. */
const char *sc_osv_normalize_version(const char *ecosystem, const char *v);
#endif
