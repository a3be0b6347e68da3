/* sc_referrers.h - the OCI 1.1 referrers API over the store
 * (sc_store_referrers.h): recording a pushed manifest that names a
 * `subject`, and the image index that answers
 * GET /v2/<name>/referrers/<digest>[?artifactType=...].
 * Owner: the caller's store handle.  Thread: the handle's (a scan worker
 * records, a database thread renders).  Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM,
 * SC_ERR_DB (message in sc_store_errmsg). */
#ifndef CUSTOMS_SC_REFERRERS_H
#define CUSTOMS_SC_REFERRERS_H
#include <stddef.h>
#include <stdint.h>
#include "sc_image.h"
#include "sc_store.h"
#include "sc_store_referrers.h"

/* The answer for a subject with no referrers (or none of a type). */
#define SC_REFERRERS_EMPTY_INDEX \
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"

/* Records manifest m (digest, size bytes) pushed by a client to repo as a
 * referrer of its subject: artifactType, else its config's media type;
 * its annotations.  0 without doing anything when m has no subject. */
int sc_referrers_record(sc_store *st, const char *repo, const char *digest, const sc_manifest *m, int64_t size);

typedef struct sc_referrers_index {
  char *json;     /* malloc'd image index (free it), never NULL on success */
  size_t len;
  size_t n;       /* descriptors in it */
  char first[160]; /* digest of the first one, "" when none */
} sc_referrers_index;

/* The referrers of subject in repo (artifact_type NULL or "": all) as an
 * OCI image index: schemaVersion 2, mediaType, manifests (mediaType,
 * digest, size, artifactType, annotations), oldest first. */
int sc_referrers_render(sc_store *st, const char *repo, const char *subject, const char *artifact_type,
                        sc_referrers_index *out);
#endif
