/* sc_annotations.h - the state of customs' own annotation pushes (its SBOM
 * and vulnerability report per image, sc_annotate.h) in the store: table
 * `annotations`, migration 9.
 *
 * One row per (repository, image, kind).  A row is "pending" (next_at says
 * when it may be tried; attempts and last_error tell what went wrong so
 * far), "pushed" (manifest = the digest of the artifact now in the
 * registry, content_hash = the hash of its content) or "failed" (the retry
 * budget ran out; last_error says why).  A pending row that has a manifest
 * is a replacement: its content changed (a data import changed the
 * findings) and the artifact `manifest` names is the one to replace.
 *
 * Owner: store (sc_annotations.c, SQLite and PostgreSQL through sc_db).  Thread: the handle's.
 * Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_DB (sc_store_errmsg),
 * SC_ERR_NOTFOUND where stated; iterations return the first non-zero value
 * of their callback, which must not use st. */
#ifndef CUSTOMS_SC_ANNOTATIONS_H
#define CUSTOMS_SC_ANNOTATIONS_H
#include <stddef.h>
#include <stdint.h>

#include "sc_annotate.h" /* sc_annot_kind */
#include "sc_store.h"

#define SC_ANNOT_ERROR_MAX_BYTES 500 /* last_error is cut to this */
#define SC_ANNOT_REPO_MAX 512        /* a repository name and its NUL */

typedef enum sc_annot_status { SC_ANNOT_PENDING = 0, SC_ANNOT_PUSHED, SC_ANNOT_FAILED } sc_annot_status;

typedef struct sc_annot_job {
  char repo[SC_ANNOT_REPO_MAX];
  char image[SC_ANNOT_DIGEST_BYTES];
  sc_annot_kind kind;
  sc_annot_status status;
  char manifest[SC_ANNOT_DIGEST_BYTES];     /* "" none: the artifact in the registry */
  char content_hash[SC_ANNOT_DIGEST_BYTES]; /* "" none: the hash of its content */
  int attempts;                             /* since the last success */
  int64_t next_at, updated_at;              /* unix seconds */
  char last_error[SC_ANNOT_ERROR_MAX_BYTES + 1]; /* "" none */
} sc_annot_job;

typedef struct sc_annot_list {
  sc_annot_job *v;
  size_t n;
} sc_annot_list;

void sc_annot_list_free(sc_annot_list *l);
const char *sc_annot_status_name(sc_annot_status s); /* "pending" | "pushed" | "failed" */

/* Ensures both kinds are queued for image in repo: a new row is pending,
 * due at now; a failed one is pending again (attempts 0); a pending or
 * pushed one is left as it is.  One transaction. */
int sc_annotations_enqueue(sc_store *st, const char *repo, const char *image, int64_t now);

/* Appends to out (zeroed by the caller) the pending rows due at now
 * (next_at <= now), earliest first, at most max. */
int sc_annotations_due(sc_store *st, int64_t now, size_t max, sc_annot_list *out);
/* The earliest next_at of a pending row; *any = 0 when none. */
int sc_annotations_next_due(sc_store *st, int64_t *next_at, int *any);

/* Takes due job (repo, image, kind) for one attempt: moves its next_at
 * from seen_next_at (what sc_annotations_due read) to lease_until, so that
 * another replica sharing the database does not push it too; if this one
 * dies during the attempt, the job is due again at lease_until.  0, or
 * SC_ERR_STATE when another replica took it first (or it is no longer
 * pending). */
int sc_annotations_take(sc_store *st, const char *repo, const char *image, sc_annot_kind kind, int64_t seen_next_at,
                        int64_t lease_until);

/* Records an attempt on a pending row at now:
 *   SC_ANNOT_PUSHED: manifest and content_hash are what the registry holds
 *     now (attempts back to 0, the error cleared);
 *   SC_ANNOT_PENDING: a retry at next_at, with error;
 *   SC_ANNOT_FAILED: given up, with error.
 * error is cut to SC_ANNOT_ERROR_MAX_BYTES.  SC_ERR_NOTFOUND when the row
 * is not pending. */
int sc_annotations_attempted(sc_store *st, const char *repo, const char *image, sc_annot_kind kind,
                             sc_annot_status status, const char *manifest, const char *content_hash,
                             const char *error, int64_t now, int64_t next_at);

/* Both rows of image in repo (NULL repo: in every repository), for the
 * admin API and the dashboard: status, artifact digest, last error. */
int sc_annotations_list(sc_store *st, const char *repo, const char *image, sc_annot_list *out);

/* Rows by status (-1: any), oldest first, at most max. */
int sc_annotations_recent(sc_store *st, int status, size_t max, sc_annot_list *out);
/* Number of rows with status (-1: any). */
int sc_annotations_count(sc_store *st, int status, int64_t *n);

/* ---- reports that may be out of date (the data changed) ---- */

/* cb for the pushed rows of kind after (after_repo, after_image) in
 * (repository, image) order, at most max: a sweep in bounded rounds (start
 * with "" and ""; continue after the last row seen). */
int sc_annotations_each_pushed(sc_store *st, sc_annot_kind kind, const char *after_repo, const char *after_image,
                               size_t max, int (*cb)(void *arg, const sc_annot_job *job), void *arg);
/* The pushed row's content changed (its content hash differs from the
 * stored one): pending again at now, attempts 0, keeping manifest (the
 * artifact to replace).  SC_ERR_NOTFOUND when the row is not pushed. */
int sc_annotations_replace(sc_store *st, const char *repo, const char *image, sc_annot_kind kind, int64_t now);
#endif
