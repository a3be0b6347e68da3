/* sc_decisions.h - the pull gate's decisions log in the store: one row per
 * verdict the proxy gave (who asked for what, and what it got), kept for
 * audit and purged after the configured retention.
 *
 * Append-only from the caller's view: rows are added in batches and only
 * removed by age.  The table is created by the store's migrations.
 * Owner: store (sc_decisions.c, SQLite and PostgreSQL through sc_db).  Thread: the handle's;
 * the proxy calls these on its database threads (px_dbq).
 * Errors: 0, SC_ERR_ARG, SC_ERR_DB (text in sc_store_errmsg). */
#ifndef CUSTOMS_SC_DECISIONS_H
#define CUSTOMS_SC_DECISIONS_H
#include <stddef.h>
#include <stdint.h>

#include "sc_store.h"

typedef struct sc_decision_row {
  int64_t at; /* unix seconds */
  const char *client, *repository, *reference, *digest, *method;
  const char *verdict;    /* "allow" | "warn" | "deny" | "unscanned" (required) */
  const char *rule;       /* NULL: none */
  const char *user_agent;
} sc_decision_row;

/* Appends the n decisions in one transaction.  A row the database refuses
 * is skipped (a log must not lose the batch for one row); SC_ERR_DB when
 * the transaction cannot start or commit (nothing is recorded then). */
int sc_decisions_append(sc_store *st, const sc_decision_row *batch, size_t n);
/* Removes the decisions made before unix time t. */
int sc_decisions_purge_before(sc_store *st, int64_t t);

/* One image that was asked for since a time (`customs policy replay`):
 * the decisions on (repository, digest) folded into one row.  The strings
 * belong to the store and live only during the callback. */
typedef struct sc_decision_image {
  const char *repository;   /* "" when none was recorded */
  const char *digest;       /* "" when the gate never learned one */
  const char *last_verdict; /* verdict of the newest of these decisions */
  const char *last_rule;    /* its rule, NULL: none */
  int64_t count;            /* decisions on this image since the time */
  int64_t last_at;          /* unix seconds of the newest */
} sc_decision_image;

/* Calls cb for each distinct (repository, digest) with decisions made at
 * or after unix time since, ordered by repository then digest; a non-zero
 * return from cb stops the walk and is returned. */
int sc_decisions_images_since(sc_store *st, int64_t since, int (*cb)(void *arg, const sc_decision_image *d),
                              void *arg);
#endif
