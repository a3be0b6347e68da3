/* sc_store_referrers.h - OCI referrers in the store: every manifest with a
 * `subject` that passed through customs (pushed by a client: signatures,
 * attestations, VEX; origin SC_REF_CLIENT) or that customs pushed itself
 * (its SBOM and vulnerability report; SC_REF_CUSTOMS), per repository, so
 * that GET /v2/<name>/referrers/<digest> can be answered in front of a
 * registry without the referrers API (table `referrers`, migration 9).
 * Owner: store (sc_store_referrers.c, SQLite and PostgreSQL through sc_db).  Thread: the
 * handle's.  Errors: as sc_store.h; iterations return the first non-zero
 * value of their callback, which must not use st. */
#ifndef CUSTOMS_SC_STORE_REFERRERS_H
#define CUSTOMS_SC_STORE_REFERRERS_H
#include <stdint.h>
#include "sc_store.h"

#define SC_REFERRERS_MAX 10000          /* referrers listed for one subject */
#define SC_REFERRER_ANNOT_MAX_BYTES 65536 /* annotations JSON kept per referrer */

enum { SC_REF_CLIENT = 0, SC_REF_CUSTOMS = 1 };

typedef struct sc_referrer {
  const char *digest;          /* the referrer manifest */
  const char *media_type;      /* its mediaType */
  const char *artifact_type;   /* artifactType, else its config mediaType; NULL unknown */
  const char *annotations;     /* JSON object text, NULL none */
  int64_t size;                /* manifest bytes */
  int origin;                  /* SC_REF_* */
  int64_t created_at;
} sc_referrer;

/* Records (replacing) referrer r of subject in repo. */
int sc_store_put_referrer(sc_store *st, const char *repo, const char *subject, const sc_referrer *r);
/* Forgets one referrer (deleted, or replaced by a newer report). */
int sc_store_delete_referrer(sc_store *st, const char *repo, const char *subject, const char *digest);
/* Forgets referrer digest in repo, whatever its subject (its manifest was
 * deleted).  Referrers of digest as a subject stay: the spec lists
 * referrers whose subject is gone. */
int sc_store_forget_referrer(sc_store *st, const char *repo, const char *digest);
/* cb for the referrers of subject in repo (artifact_type NULL: all),
 * oldest first, at most SC_REFERRERS_MAX. */
int sc_store_each_referrer(sc_store *st, const char *repo, const char *subject, const char *artifact_type,
                           int (*cb)(void *arg, const sc_referrer *r), void *arg);
#endif
