/* px_fetch.h - blob fetches from the upstream registry for scan workers.
 *
 * A layer the proxy did not see whole (mounted, pushed around it, cut off)
 * and an image's config are fetched from the upstream with customs' own
 * identity (px_creds.h: its token flow, or an anonymous token) or, when that
 * is refused or none is configured, with the Authorization of the client
 * that pushed or pulled, through the one outbound HTTP client (net/net_http.h):
 * its user agent, its TLS settings, and its redirect policy (a 307 to blob
 * storage is followed, and the Authorization never goes to another origin).
 *
 * Ownership: px_fetch_client_new gives a net_http the caller frees with
 * net_http_free; one per worker thread.  A fetched blob is an unnamed file in
 * scan.spool_dir (sc_tmpfile_open) whose fd the caller closes; a small blob
 * is a malloc'd, NUL-terminated buffer the caller frees.
 * Thread: any scan worker, with its own net_http.  Reads ctx->cfg and
 * ctx->up_origin only (set before the workers start, never changed).
 * Errors: -1 / NULL with a one-line reason in err ("fetching DIGEST from the
 * upstream: not authorized", "config blob larger than N bytes", ...). */
#ifndef CUSTOMS_PX_FETCH_H
#define CUSTOMS_PX_FETCH_H
#include <stddef.h>
#include "px_server.h"

struct net_http;

#define PX_FETCH_BLOB_MAX_BYTES (64ull << 30) /* a layer bigger than this is not fetched */

/* The upstream client of a worker: scan.upstream_ca / upstream_insecure,
 * connect_timeout_ms, and upstream_timeout_ms as the idle timeout (seconds,
 * rounded up).  0 or a negative SC_ERR_*. */
int px_fetch_client_new(const px_config *cfg, struct net_http **out);

/* Downloads repo's blob `digest` into an unnamed spool file; returns its fd
 * at offset 0, or -1 with err set.  authorization may be NULL; abort_flag
 * (may be NULL) stops the transfer when it becomes nonzero. */
int px_fetch_blob(struct net_http *http, const px_ctx *ctx, const char *repo, const char *digest,
                  const char *authorization, const int *abort_flag, char *err, size_t errlen);

/* Downloads a blob of fewer than cap bytes (an image config) into memory;
 * *len gets its length.  NULL with err set on failure or when it is cap
 * bytes or larger. */
char *px_fetch_small(struct net_http *http, const px_ctx *ctx, const char *repo, const char *digest,
                     const char *authorization, const int *abort_flag, size_t cap, size_t *len, char *err,
                     size_t errlen);
#endif
