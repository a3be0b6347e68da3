/* sc_store_vex.h - OpenVEX documents attached to images as referrers
 * (table vex_documents, migration 11): one row per (repository, subject,
 * referrer manifest), written when the referrer's manifest passes through
 * customs (proxy/px_vexref.c fetches its blob) and read by the judge
 * (sc_judge.c) when the policy trusts VEX referrers for the repository
 * (`vex_referrers:`, sc_policy.h).  A referrer whose blob could not be
 * fetched or is not valid OpenVEX has a row too, with `error` set and no
 * document: the failure stays visible (explain, 403) instead of the
 * document silently not applying.  Forgetting the referrer (its manifest
 * deleted, sc_store_forget_referrer) forgets the row (a trigger).
 *
 * Owner: store (sc_store_vex.c, SQLite and PostgreSQL through sc_db).  Thread: the handle's.
 * Errors: 0, SC_ERR_ARG, SC_ERR_DB (message in sc_store_errmsg),
 * SC_ERR_NOMEM; iterations return the first non-zero value of their
 * callback, which must not use st. */
#ifndef CUSTOMS_SC_STORE_VEX_H
#define CUSTOMS_SC_STORE_VEX_H
#include <stdint.h>
#include "sc_store.h"

#define SC_VEXREF_MEDIA_TYPE "application/vnd.openvex+json"
#define SC_VEXREF_MAX_BYTES (1024 * 1024) /* one VEX referrer blob; larger ones are stored as an error */
#define SC_VEXREF_MAX_DOCS 100            /* documents read for one subject (oldest first) */
#define SC_VEXREF_ERR_MAX_BYTES 512       /* stored error text (longer is cut) */

typedef struct sc_vexref {
  const char *digest;  /* the referrer manifest */
  const char *blob;    /* the VEX blob's digest, NULL when the manifest named none */
  const char *doc;     /* the OpenVEX document text, NULL when error is set */
  const char *error;   /* why it is not applied, NULL when doc is set */
  int64_t fetched_at;  /* unix seconds */
} sc_vexref;

/* Records (replacing) referrer digest of subject in repo: doc or error
 * (exactly one of them non-NULL); blob may be NULL. */
int sc_store_vex_put(sc_store *st, const char *repo, const char *subject, const char *digest, const char *blob,
                     const char *doc, const char *error);
/* Forgets referrer digest in repo, whatever its subject. */
int sc_store_vex_forget(sc_store *st, const char *repo, const char *digest);
/* cb for the documents of subject in repo, oldest first (then by digest),
 * at most SC_VEXREF_MAX_DOCS. */
int sc_store_vex_each(sc_store *st, const char *repo, const char *subject, int (*cb)(void *arg, const sc_vexref *r),
                      void *arg);
/* A number that changes whenever any row changes (verdict caches). */
int sc_store_vex_generation(sc_store *st, int64_t *gen);
#endif
