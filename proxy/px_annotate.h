/* px_annotate.h - customs' own annotations in the upstream registry: when
 * a pushed image's scan completes, its SBOM and its vulnerability report
 * (scanner/sc_annotate.h) are pushed as OCI artifacts whose subject is the
 * image, and the report is replaced when a data import changes the
 * findings.
 *
 * The annotation thread (its own store connection and HTTP client) does all
 * of it: nothing here runs on the loop thread or holds a client's request,
 * so a slow or dead registry never slows a push.  It pushes to the upstream
 * registry directly (never through customs' own port): the blobs (POST
 * /v2/<repo>/blobs/uploads/, then PUT ?digest=), then the artifact manifest
 * by digest.  A registry that answers with OCI-Subject lists the referrers
 * itself; otherwise the thread keeps the referrers tag schema (the index
 * under tag sha256-<hex of the subject>).  Each artifact is recorded in the
 * store's referrers (origin customs) and the job in `annotations`
 * (sc_annotations.h): failures are retried with backoff, at most
 * PX_ANNOT_MAX_ATTEMPTS times, and the last error stays in the table and is
 * logged once per change (never a credential).
 *
 * Credentials: customs' own (none today: anonymous, or whatever the token
 * realm grants anonymously); annotate_credentials in px_annotate.c is the
 * one place that will set them.
 *
 * Configuration: annotations.enabled (default true; false: no thread,
 * nothing queued) and annotations.upstream (http[s]://host:port: push to
 * another registry than upstream.url, e.g. a mirror; the tests point it at
 * a stopped or silent one to show that the client's push does not wait).
 *
 * Owner: ctx->annotate (px_annotate_start / px_annotate_stop).  Thread:
 * px_annotate_image_scanned from a scan worker (with its own store handle);
 * the rest is the annotation thread's.  Errors: SC_ERR_*; a job that cannot
 * be queued is logged, and the push it follows is never failed for it. */
#ifndef CUSTOMS_PX_ANNOTATE_H
#define CUSTOMS_PX_ANNOTATE_H
#include <stddef.h>
#include "px_server.h"
#include "sc_image.h"
#include "sc_store.h"

#define PX_ANNOT_MAX_ATTEMPTS 12 /* then the job is failed (about 35 minutes of retries) */

typedef struct px_annotate px_annotate;

/* Starts the annotation thread (ctx->annotate).  0 or SC_ERR_*. */
int px_annotate_start(px_ctx *ctx);
/* Stops it (a request in flight is abandoned) and frees ctx->annotate. */
void px_annotate_stop(px_ctx *ctx);

/* A pushed manifest (repo, digest, parsed m) was recorded and its layers
 * scanned: queues both annotations of an image (not of an index, whose
 * children are pushed and queued on their own; not of an artifact or of a
 * manifest with a subject, which are themselves referrers) and wakes the
 * thread.  No-op when ctx->annotate is NULL. */
void px_annotate_image_scanned(px_ctx *ctx, sc_store *st, const char *repo, const char *digest,
                               const sc_manifest *m);
#endif
