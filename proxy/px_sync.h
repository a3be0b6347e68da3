/* px_sync.h - the background sync (config sync.interval and
 * sync.requests_per_second, flags --sync-interval / --sync-rps): images
 * that reached the upstream before customs stood in front of it, or around
 * it, get verdicts before their first pull.
 *
 * Every sync.interval seconds (the first time at start) the sync thread
 * walks the upstream with its own store connection and HTTP client
 * (px_fetch_client_new: customs' own credentials when upstream.username is
 * set, else anonymous tokens):
 *   GET /v2/_catalog?n=PX_SYNC_PAGE_SIZE, then each repository's
 *   GET /v2/NAME/tags/list?n=PX_SYNC_PAGE_SIZE, both following
 *   `Link: <...>; rel="next"` (a relative URL resolved against the upstream's
 *   origin; a link to another origin is not followed) or, when the answer
 *   carries no Link the sync can read and the page is full, `&last=`;
 *   each tag: HEAD its manifest (a known digest costs nothing more: the tag is
 *   recorded if it is new, sc_store_put_tag), else GET it (OCI and Docker
 *   manifest and index types; the body's SHA-256 must match
 *   Docker-Content-Digest, at most SC_MANIFEST_MAX_BYTES, checked with
 *   sc_manifest_check as a pull is), and scan it like a scan-on-pull
 *   (px_scan_image, with the tag); an index's children (at most
 *   PX_SYNC_MAX_CHILDREN) each GET by digest and scanned first.
 * After each image scanned the gate's verdict cache is dropped.  Every
 * request (catalog, tags, manifests, each blob fetch) first takes a token
 * of a bucket filled at sync.requests_per_second (PX_SYNC_BURST_REQUESTS
 * deep), so no second sees more than rps + burst of them.  One info line a
 * round: `sync round: repositories=N tags=N images=N scanned=N known=N
 * failed=N ms=N`; an image that fails is logged once (again only when its
 * reason changes).
 *
 * Owner: ctx->sync (px_sync_start / px_sync_stop).  Start it after
 * px_annotate_start and px_events_start (its scans queue annotations and
 * emit events); stop it before px_annotate_stop, px_events_stop and
 * px_gate_free.  Thread: start/stop on the main thread; the rest on the
 * sync thread.  Errors: px_sync_start returns 0 (also when
 * sync.interval is 0: nothing started) or SC_ERR_NOMEM. */
#ifndef CUSTOMS_PX_SYNC_H
#define CUSTOMS_PX_SYNC_H
#include "px_server.h"

#define PX_SYNC_PAGE_SIZE 100                /* n= of a catalog or tags list request */
#define PX_SYNC_LIST_MAX_BYTES (4u << 20)    /* one catalog or tags page */
#define PX_SYNC_MAX_REPOSITORIES 10000       /* repositories walked per round */
#define PX_SYNC_MAX_TAGS 1000                /* tags walked per repository per round */
#define PX_SYNC_MAX_PAGES 1000               /* pages of one list per round (a registry that loops) */
#define PX_SYNC_MAX_CHILDREN 64              /* children of one index looked at */
#define PX_SYNC_MAX_SCANS 500                /* images scanned per round; the rest wait for the next */
#define PX_SYNC_MAX_RPS 10000                /* cap on sync.requests_per_second */
#define PX_SYNC_DEFAULT_RPS 5                /* sync.requests_per_second <= 0 */
#define PX_SYNC_BURST_REQUESTS 1             /* requests let through at once after an idle spell */
#define PX_SYNC_FAILED_MEMORY 1024           /* images whose last failure is remembered (logged once) */

typedef struct px_sync px_sync;
/* Starts the thread when cfg->sync_interval_s > 0. */
int px_sync_start(px_ctx *ctx);
/* Stops the thread (the request in flight is aborted, a scan stops before
 * its next fetch) and frees ctx->sync. */
void px_sync_stop(px_ctx *ctx);
#endif
