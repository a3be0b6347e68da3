/* sc_store_admin.h - the store's reads for the admin API (proxy/px_admin*):
 * repositories with their counts, images newest first with paging and a
 * filter, the decisions log by id, and a trivial query for readiness.
 *
 * Every listing is bounded by its caller's limit (at most
 * SC_STORE_ADMIN_MAX_ROWS rows per call) and hands rows to a callback that
 * must not use st (the statement is stepping).  Strings passed to a
 * callback are valid during the call only.
 * Owner: store (sc_store_admin.c, SQLite and PostgreSQL through sc_db).  Thread: the handle's
 * (the proxy calls these on its database threads, px_dbq).
 * Errors: 0, SC_ERR_ARG (NULL handle, limit over the cap), SC_ERR_DB
 * (sc_store_errmsg); an iteration returns the first non-zero value of its
 * callback. */
#ifndef CUSTOMS_SC_STORE_ADMIN_H
#define CUSTOMS_SC_STORE_ADMIN_H
#include <stddef.h>
#include <stdint.h>
#include "sc_store.h"

#define SC_STORE_ADMIN_MAX_ROWS 1000 /* rows one listing call may ask for */

/* A trivial query that reads the database file (readiness). */
int sc_store_admin_ping(sc_store *st);

/* Numbers of repositories (pushed to, or tagged) and of (repository,
 * image) pairs. */
int sc_store_admin_counts(sc_store *st, int64_t *repositories, int64_t *images);

/* Repositories whose name contains q (case-insensitive; NULL or "": all),
 * by name, from offset, at most limit; *total (may be NULL) gets how many
 * match.  cb gets the name, its (repository, image) pairs and its tags. */
int sc_store_admin_repositories(sc_store *st, const char *q, int64_t offset, size_t limit, int64_t *total,
                                int (*cb)(void *arg, const char *name, int64_t images, int64_t tags), void *arg);

/* Which images sc_store_admin_images lists: repository exactly (NULL: any);
 * q (NULL or "": any) a case-insensitive substring of the repository, of a
 * tag of the image in that repository, or of the digest. */
typedef struct sc_store_admin_image_filter {
  const char *repository;
  const char *q;
} sc_store_admin_image_filter;

/* One (repository, image) pair: tag is the most recently moved tag of that
 * repository pointing at it (NULL: untagged); kind SC_MANIFEST_IMAGE or
 * SC_MANIFEST_INDEX; pushed_at unix seconds. */
typedef struct sc_store_admin_image {
  const char *repository, *tag, *digest;
  int kind;
  int64_t pushed_at;
} sc_store_admin_image;

/* Images matching f, newest push first (then the latest recorded), from offset, at
 * most limit; *total (may be NULL) gets how many match. */
int sc_store_admin_images(sc_store *st, const sc_store_admin_image_filter *f, int64_t offset, size_t limit,
                          int64_t *total, int (*cb)(void *arg, const sc_store_admin_image *img), void *arg);

/* One row of the decisions log (sc_decisions.h) with its id. */
typedef struct sc_store_admin_decision {
  int64_t id, at;
  const char *client, *repository, *reference, *digest, *method, *verdict, *rule, *user_agent; /* NULL: none */
} sc_store_admin_decision;

/* Decisions with id < before (0: any), of repository (NULL: any) and
 * verdict (NULL: any), newest (highest id) first, at most limit. */
int sc_store_admin_decisions(sc_store *st, const char *repository, const char *verdict, int64_t before, size_t limit,
                             int (*cb)(void *arg, const sc_store_admin_decision *d), void *arg);
#endif
