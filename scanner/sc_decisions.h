/* sc_decisions.h - the pull gate's decisions log in the store: one row per
 * verdict the proxy gave (who asked for what, and what it got), kept for
 * audit and purged after the configured retention.
 *
 * Append-only from the caller's view: rows are added in batches and only
 * removed by age.  The table is created by the store's migrations.
 * Owner: store (SQLite backend in sc_decisions.c).  Thread: the handle's;
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
#endif
