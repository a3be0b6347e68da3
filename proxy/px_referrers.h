/* px_referrers.h - GET/HEAD /v2/<name>/referrers/<digest> answered by
 * customs (OCI distribution 1.1 referrers API), in front of registries that
 * lack it (registry:2, Docker Hub): the list comes from the store
 * (sc_referrers.h), read on a database thread; the client's right to read
 * the repository is checked by the registry itself, with the client's own
 * headers, before anything is answered.  Reached from px_intercept.c
 * through px_hook.h.
 *
 * The access check.  Customs never widens access: the request goes upstream
 * as `GET` (or `HEAD`, as the client asked) `/v2/<name>/manifests/<d>` with
 * the client's headers (Authorization and all; conditional fields dropped),
 * where d is the first referrer listed, or the subject when the list is
 * empty: both live in <name>, and a registry that lets the client read a
 * manifest of <name> lets it read every manifest listed.  2xx: the list is
 * answered (the manifest's bytes are dropped).  404: the subject (or a
 * listed referrer deleted around customs) is not there: the empty index
 * (the spec: a registry with the API "MUST NOT return 404"; an empty list
 * tells nothing).  Any other status (401 with its WWW-Authenticate, so that
 * clients fetch a token and ask again; 403; 5xx) is passed to the client as
 * the registry wrote it.
 *
 * Ownership: the px_referrers state in h->ref, freed by px_referrers_free.
 * While the check is upstream the exchange carries its target (x->path;
 * the access log shows the client's, px_xchg_logpath being computed
 * first); the client's is kept here and put back as soon as the head is
 * sent (px_referrers_sent), and in any case before an answer.
 * Thread: loop thread.  Errors: a store failure is a 503; nothing fails
 * the exchange. */
#ifndef CUSTOMS_PX_REFERRERS_H
#define CUSTOMS_PX_REFERRERS_H
#include <stddef.h>
#include "px_hook.h"

#define PX_REFERRERS_FILTER_MAX_BYTES 256 /* longest artifactType filter (a media type is at most 255) */

/* A GET or HEAD on PX_R_REFERRERS: PX_REQ_WAIT (the list is read, then the
 * check goes upstream) or PX_REQ_ANSWERED. */
px_req_rc px_referrers_request(px_xchg *x, px_hook *h);
/* The check's head went upstream (req_end): the client's target is back. */
void px_referrers_sent(px_xchg *x, px_hook *h);
/* The check's answer head: PX_HOOK_PASS (a refusal), PX_HOOK_HOLD (until
 * complete) or PX_HOOK_ANSWERED. */
px_hook_rc px_referrers_head(px_xchg *x, px_hook *h);
/* The check's answer is complete: customs answers (PX_HOOK_ANSWERED) if it held it. */
px_hook_rc px_referrers_done(px_xchg *x, px_hook *h);
void px_referrers_free(px_xchg *x, px_hook *h);
/* The registry accepted a DELETE of manifest repo@digest: a referrer with
 * that digest is forgotten (on a database thread), so that the list does
 * not name it and the access check is not made against it. */
void px_referrers_deleted(px_ctx *ctx, const char *repo, const char *digest);

/* Query parameter `key` of target as Go's url.Query().Get reads it (pairs
 * split at '&', a pair holding ';' or a bad escape skipped, '+' a space,
 * the first one wins) into out (cap bytes).  1 found, 0 absent, -1 found
 * but longer than cap - 1 bytes. */
int px_referrers_query(const char *target, const char *key, char *out, size_t cap);
#endif
