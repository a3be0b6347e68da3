/* px_annotate_int.h - the registry side of the annotation pushes
 * (px_annotate_push.c), for px_annotate.c and its tests.
 * Owner: the annotation thread.  Thread: that thread only (one net_http).
 * Errors: 0, SC_ERR_NOTFOUND (the subject is not in the registry),
 * SC_ERR_IO (no answer, or an answer that is not what the protocol wants;
 * err says which request and what came back), SC_ERR_FORMAT (the tag-schema
 * tag holds something that is not an index: left alone), SC_ERR_NOMEM. */
#ifndef CUSTOMS_PX_ANNOTATE_INT_H
#define CUSTOMS_PX_ANNOTATE_INT_H
#include <stddef.h>
#include <stdint.h>
#include "net_http.h"
#include "px_config.h"
#include "sc_annotate.h"

#define PX_ANNOT_REQUEST_TIMEOUT_MS 30000 /* one request, connect included */
#define PX_ANNOT_CONNECT_TIMEOUT_MS 5000
#define PX_ANNOT_ANSWER_MAX_BYTES (64u << 10) /* what is kept of a PUT/POST answer */
#define PX_ANNOT_INDEX_MAX_BYTES (4u << 20)   /* a tag-schema index read back */
#define PX_ANNOT_MEDIA_TYPE_MAX 128

typedef struct px_annot_reg {
  net_http *http;
  char base[PX_PATH_MAX];  /* registry URL, no trailing slash */
  const int *abort_flag;   /* the thread's stop flag */
} px_annot_reg;

/* The subject's descriptor: GET /v2/<repo>/manifests/<digest>, checked
 * against digest.  SC_ERR_NOTFOUND on 404. */
int px_annot_subject(px_annot_reg *r, const char *repo, const char *digest, char media_type[PX_ANNOT_MEDIA_TYPE_MAX],
                     int64_t *size, char *err, size_t errlen);

/* Pushes doc (its blobs, then its manifest by digest) into repo as a
 * referrer of subject; without the registry's referrers API (no OCI-Subject
 * in the answer) adds it to the tag-schema index, dropping old (the
 * artifact it replaces, "" none) from it.  *via_api: the registry answered
 * with OCI-Subject. */
int px_annot_push(px_annot_reg *r, const char *repo, const char *subject, const sc_annot_doc *doc, const char *old,
                  int *via_api, char *err, size_t errlen);

/* DELETE /v2/<repo>/manifests/<digest>: 0 when deleted, SC_ERR_UNSUPP when
 * the registry does not delete (405, 404, ...), SC_ERR_IO without answer. */
int px_annot_delete(px_annot_reg *r, const char *repo, const char *digest, char *err, size_t errlen);
#endif
