/* sc_store_schema_pg.h - the store's schema in the PostgreSQL dialect, and
 * the function that brings a PostgreSQL database to it through sc_db.
 *
 * The SQLite schema is sc_store.c's migrations[] (12 steps); this is the
 * same schema for a shared PostgreSQL database, numbered the same way so
 * that `schema_version` reads the same on either backend (max(version) = 12
 * after step 12).  What differs and why is in sc_store_schema_pg.c's header
 * (types: BIGINT, DOUBLE PRECISION, identity columns, jsonb for the two
 * columns the `findings` view expands; triggers in plpgsql).
 *
 * Note for SQL written against this schema: images."user" must be quoted
 * (USER is a reserved word in PostgreSQL: unquoted, `SELECT user` is the
 * session's role, not the column); quoting works in SQLite too.
 *
 * Owner: store.  Thread: the connection's (one thread at a time).
 * Errors: 0, SC_ERR_ARG (NULL, not a PostgreSQL connection, called inside a
 * transaction), SC_ERR_DB (err says why; the database is left as it was:
 * every pending step runs in one transaction, rolled back on failure). */
#ifndef CUSTOMS_SC_STORE_SCHEMA_PG_H
#define CUSTOMS_SC_STORE_SCHEMA_PG_H
#include <stddef.h>

#include "sc_db.h"

/* The schema version these steps reach: must equal the SQLite step count
 * (tests/unit/pg_schema_check.c asserts it against a real SQLite store). */
#define SC_STORE_SCHEMA_PG_VERSION 13
/* pg_advisory_xact_lock key serializing appliers ("customsS" in ASCII):
 * fixed, so every replica of every version takes the same lock. */
/* The LISTEN/NOTIFY channel of step 13's triggers (replicas wait on it). */
#define SC_STORE_NOTIFY_CHANNEL "customs"
#define SC_STORE_SCHEMA_PG_LOCK_KEY 0x637573746f6d7353LL

/* Applies the steps the database lacks, all in one transaction under the
 * advisory lock: a second replica starting at the same time waits for the
 * first to commit, then finds the schema current and applies nothing.  A
 * database at SC_STORE_SCHEMA_PG_VERSION or later is left untouched (a newer
 * customs may have migrated it further, as with SQLite).  The wait for the
 * lock is bounded by the connection's statement_timeout (sc_db_opts).  *version (may be
 * NULL) is the version afterwards, *applied (may be NULL) how many steps
 * this call applied.  err (errlen bytes, may be NULL) says why on error. */
int sc_store_schema_pg_apply(sc_db *db, int *version, int *applied, char *err, size_t errlen);

/* The SQL of step v (1-based; "" when the step has nothing to do in
 * PostgreSQL), NULL when v is out of range.  For tests and `db status`. */
const char *sc_store_schema_pg_step(int v);
#endif
