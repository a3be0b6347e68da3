/* sc_vulndata.h - the vulnerability data in memory, as matching reads it.
 *
 * sc_vulndb_load reads every record and affected package through
 * sc_vulnstore (any backend) into one arena: records by id, affected
 * entries chained per (ecosystem, normalised name), ranges decoded into
 * sc_range events.  sc_vulndb_load_for and sc_vulndb_add read only the
 * (ecosystem, name) pairs asked for, through the store's index, so that a
 * match costs what the image has, not what the data holds; a lookup of a
 * pair gives the same chain, in the same order, either way.  Records are
 * shared: one sc_vuln per id, whatever pairs brought it.
 * Ownership: the db owns everything it hands out (sc_vuln, sc_vuln_affected
 * and their strings) until sc_vulndb_free.
 * Thread: loading (and sc_vulndb_add) uses the store handle's thread; a db
 * that is not being added to may be read by any number of threads.
 * Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_DB; after a failed
 * sc_vulndb_add the db may hold part of a pair: free it. */
#ifndef CUSTOMS_SC_VULNDATA_H
#define CUSTOMS_SC_VULNDATA_H
#include <stddef.h>
#include <stdint.h>

#include "sc_range.h"
#include "sc_store.h"
#include "sc_vulnstore.h" /* sc_vulnstore_pkg */

/* One record. */
typedef struct sc_vuln {
  const char *id;
  const char **aliases;
  size_t naliases;
  int sev;               /* effective severity (SC_SEV_*) */
  double score, score_own; /* effective and own CVSS score, -1 none */
} sc_vuln;

/* One affected package of a record. */
typedef struct sc_vuln_affected {
  const sc_vuln *v;
  int sev;               /* affected[].ecosystem_specific.severity */
  sc_event *ev;          /* all ranges' events, range r at ev[rstart[r]..rstart[r+1]) */
  uint32_t *rstart;
  char *rsemver;         /* per range: 1 = SEMVER */
  size_t nranges;
  const char **versions; /* explicit versions */
  size_t nversions;
  const struct sc_vuln_affected *next; /* same (ecosystem, name) */
} sc_vuln_affected;

typedef struct sc_vulndb sc_vulndb;

/* One (ecosystem, name) pair to load, both as stored (normalised:
 * sc_osv_normalize_ecosystem, sc_osv_normalize_name). */
typedef sc_vulnstore_pkg sc_vulndb_pkg;

/* Loads every affected package of the store's vulnerability data. */
int sc_vulndb_load(sc_store *st, sc_vulndb **out);
/* Loads the affected packages of pkgs[0..n) only (n may be 0: an empty db
 * to add to).  Lookups of other pairs find nothing until they are added. */
int sc_vulndb_load_for(sc_store *st, const sc_vulndb_pkg *pkgs, size_t n, sc_vulndb **out);
/* Adds the pairs of pkgs[0..n) that db has not loaded yet (none for a db
 * from sc_vulndb_load, which has them all). */
int sc_vulndb_add(sc_vulndb *db, sc_store *st, const sc_vulndb_pkg *pkgs, size_t n);
void sc_vulndb_free(sc_vulndb *db);
/* Number of (vulnerability, affected package) entries loaded. */
size_t sc_vulndb_size(const sc_vulndb *db);
/* The affected entries of (ecosystem, normalised name), chained by next;
 * NULL when none. */
const sc_vuln_affected *sc_vulndb_lookup(const sc_vulndb *db, const char *ecosystem, const char *name);

/* The data generation (0 before the first import). */
int sc_vulndb_generation(sc_store *st, int64_t *gen);
#endif
