/* sc_vulnstore.h - vulnerability records in the store: what the OSV import
 * writes, what the matcher loads, what `customs db status` counts.
 *
 * A record: id, modified (RFC 3339 text, compared as text), its aliases,
 * its own severity (SC_SEV_*) and CVSS score (-1 none), and its affected
 * packages.  Its effective severity and score are its own, else borrowed
 * from a record sharing an id or alias (recomputed by
 * sc_vulnstore_finish_import).  The data generation counts imports that
 * changed something; findings computed at an older generation are stale.
 *
 * JSON value formats (part of the interface; a backend stores them as it
 * likes but hands them back as written):
 *   aliases:  ["GHSA-...", "CVE-..."]  (compact, without the record's id)
 *   ranges:   [["E"|"S", "i0", "f1.2", "l1.3", "m2"], ...]  per range: its
 *             type (Ecosystem or Semver) then its events, each a kind letter
 *             (introduced, fixed, last_affected, limit) and a version
 *   versions: ["1.0", "1.1"]
 * Package names are stored normalised (sc_osv_normalize_name).
 *
 * Import: inside sc_vulnstore_import_begin / sc_store_write_end (one
 * transaction per source; writes outside one fail: the import notes there
 * which aliases it touched, so that finish_import recomputes only the
 * borrowed severities that can have changed),
 * sc_vulnstore_state per record, then sc_vulnstore_delete and/or
 * sc_vulnstore_put_record + put_alias + put_affected, and
 * sc_vulnstore_finish_import once before the commit.
 * Owner: store (sc_vulnstore.c, SQLite and PostgreSQL through sc_db).  Thread: the handle's.
 * Errors: 0, SC_ERR_ARG, SC_ERR_DB, SC_ERR_NOMEM; iterations return the
 * first non-zero value of their callback, which must not use st. */
#ifndef CUSTOMS_SC_VULNSTORE_H
#define CUSTOMS_SC_VULNSTORE_H
#include <stddef.h>
#include <stdint.h>

#include "sc_store.h"

/* Page cache of an import transaction.  The default (2 MiB) makes a large
 * source spill and re-read its index pages through the WAL (a third of an
 * import's time at 200,000 records); the bulk writers' 128 MiB would put
 * the import's memory over its budget (128 MiB peak for the full OSV
 * export).  Restored when the transaction ends. */
#define SC_VULNSTORE_IMPORT_CACHE_KIB 32768

/* Begins an import's write transaction (sc_store_write_begin, bulk) with a
 * page cache of SC_VULNSTORE_IMPORT_CACHE_KIB; end it with
 * sc_store_write_end. */
int sc_vulnstore_import_begin(sc_store *st);

/* How a record stands against the stored one (sc_vulnstore_state). */
enum { SC_VULN_ABSENT = 0, SC_VULN_OLDER = 1, SC_VULN_CURRENT = 2 };

/* One import source and the counts of its last run. */
typedef struct sc_vulnsource {
  const char *name;
  int64_t imported_at; /* unix seconds */
  uint64_t added, updated, unchanged, withdrawn, malformed;
} sc_vulnsource;

/* *state: SC_VULN_ABSENT (no record id), SC_VULN_OLDER (stored modified
 * sorts before modified), SC_VULN_CURRENT (stored as new or newer). */
int sc_vulnstore_state(sc_store *st, const char *id, const char *modified, int *state);
/* Removes record id with its aliases and affected packages; *removed
 * (may be NULL) says whether it existed. */
int sc_vulnstore_delete(sc_store *st, const char *id, int *removed);
/* Adds record id (not stored yet): its own severity and score are also its
 * effective ones until finish_import; the id is an alias of itself. */
int sc_vulnstore_put_record(sc_store *st, const char *id, const char *modified, const char *aliases_json,
                            int severity, double score, const char *source);
int sc_vulnstore_put_alias(sc_store *st, const char *id, const char *alias);
/* Affected package seq of record id; ranges/versions JSON may be NULL. */
int sc_vulnstore_put_affected(sc_store *st, const char *id, int64_t seq, const char *ecosystem,
                              const char *name, int severity, const char *ranges_json,
                              const char *versions_json);
/* End of an import run: when changed, recomputes borrowed severities and
 * moves the generation on; records the source and its counts, and the time
 * of the last import. */
int sc_vulnstore_finish_import(sc_store *st, const sc_vulnsource *src, int changed);

/* ---- reading ---- */

/* The data generation (0 before the first import). */
int sc_vulnstore_generation(sc_store *st, int64_t *gen);
/* Every record: id, aliases JSON (may be NULL), effective severity and
 * score, own score. */
int sc_vulnstore_each_record(sc_store *st,
                             int (*cb)(void *arg, const char *id, const char *aliases_json, int severity,
                                       double score, double score_own),
                             void *arg);
/* Every affected package: record id, ecosystem, name, its severity, ranges
 * and versions JSON (either may be NULL); any field may be NULL when stored
 * so. */
int sc_vulnstore_each_affected(sc_store *st,
                               int (*cb)(void *arg, const char *id, const char *ecosystem, const char *name,
                                         int severity, const char *ranges_json, const char *versions_json),
                               void *arg);

/* One (ecosystem, normalised name) pair to look up. */
typedef struct sc_vulnstore_pkg {
  const char *ecosystem, *name;
} sc_vulnstore_pkg;

/* The affected packages of the given pairs only, through the store's
 * (ecosystem, name) index: for each pair in turn, each of its affected rows
 * in the order they were stored (as sc_vulnstore_each_affected gives them),
 * rec with the row's record first (again for every row: a record affecting
 * several rows is handed over as often), then aff.  A matcher's cost then
 * follows the packages it looks up, not the size of the data. */
int sc_vulnstore_each_affected_of(sc_store *st, const sc_vulnstore_pkg *pkgs, size_t n,
                                  int (*rec)(void *arg, const char *id, const char *aliases_json, int severity,
                                             double score, double score_own),
                                  int (*aff)(void *arg, const char *id, const char *ecosystem, const char *name,
                                             int severity, const char *ranges_json, const char *versions_json),
                                  void *arg);

/* ---- status ---- */

/* Unix time of the last import (0: never), number of records. */
int sc_vulnstore_last_import(sc_store *st, int64_t *t);
int sc_vulnstore_count(sc_store *st, int64_t *records);
/* Whether any vulnerability record is stored (cheap, unlike a count). */
int sc_vulnstore_any(sc_store *st, int *any);
/* The validators of a downloaded source (url) kept by the last import that
 * used it: etag and last_modified ("" when the server sent none).  0, or
 * SC_ERR_NOTFOUND (never imported: download it whole). */
int sc_vulnstore_validators(sc_store *st, const char *url, char *etag, size_t etag_cap, char *last_modified,
                            size_t lm_cap);
/* Records them after url was imported (replacing the earlier ones). */
int sc_vulnstore_put_validators(sc_store *st, const char *url, const char *etag, const char *last_modified,
                                int64_t now);
/* Sources, oldest import first. */
int sc_vulnstore_each_source(sc_store *st, int (*cb)(void *arg, const sc_vulnsource *src), void *arg);
/* Records per ecosystem (a record counts once per ecosystem it affects),
 * by ecosystem name. */
int sc_vulnstore_each_ecosystem(sc_store *st, int (*cb)(void *arg, const char *ecosystem, int64_t records),
                                void *arg);
#endif
