/* px_watch.h - watched upstream base tags (config lineage.watch, flags
 * --watch / --watch-interval).
 *
 * Most base images never travel through customs: they are `FROM debian:12`
 * on Docker Hub or an image on another registry.  Each watched entry
 * "[http://|https://]REGISTRY/REPO[:TAG]" is resolved every
 * lineage.watch_interval seconds (the first time at start) through the
 * registry API, on a thread of its own (own store connection, own net_http
 * client: anonymous tokens, or lineage.username with the first line of
 * lineage.password_file for every watched registry's token realm):
 *   GET /v2/REPO/manifests/TAG (index and manifest types accepted); the
 *   digest is the SHA-256 of the body (a differing Docker-Content-Digest is
 *   an error); for an index each image child (at most
 *   PX_WATCH_MAX_CHILDREN) and for each image manifest its config blob give
 *   the layer chain, recorded with origin SC_ORIGIN_WATCH
 *   (sc_store_put_chain, sc_store_put_chain_child); chains already recorded
 *   are not fetched again, so a tag that did not move costs one GET.
 * Then sc_store_watch_set records the check (repository "host[:port]/path";
 * Docker Hub as "docker.io/...").  When the tag moved and local images are
 * built on the digest it left, the new base's layers that are not stored
 * yet (by diff_id) are fetched and scanned first (px_watchscan.c, within
 * the PX_WATCH_SCAN_* limits), so that the event says what the new base
 * fixes; then the base-image-updated event (sc_lineage_base_updated) is
 * emitted when it names local images ("fixes_known": false when that scan
 * failed), and the gate's verdict cache is dropped (base staleness
 * changed).  A failed check records its error and keeps the last digest;
 * the next interval tries again.
 *
 * Entry grammar (Docker's): no scheme = https; a first path component with
 * '.' or ':' or equal to "localhost" is the registry, else the registry is
 * Docker Hub (registry-1.docker.io, one-component repositories get
 * "library/"); no tag = "latest"; a digest reference (@sha256:...) is
 * refused (it cannot move).
 *
 * Owner: ctx->watch (px_watch_start / px_watch_stop); start it after
 * px_events_start and stop it before px_events_stop.  Thread: start/stop
 * on the main thread; the rest runs on the watch thread.
 * Errors: px_watch_start returns 0, SC_ERR_INVALID (a malformed entry or an
 * unreadable password file: logged, customs does not start) or
 * SC_ERR_NOMEM. */
#ifndef CUSTOMS_PX_WATCH_H
#define CUSTOMS_PX_WATCH_H
#include <stddef.h>
#include "px_server.h"

#define PX_WATCH_MAX_CHILDREN 64           /* index children resolved per entry; more are ignored */
#define PX_WATCH_CONFIG_MAX_BYTES (4u << 20) /* a config blob; real ones are a few KiB */
#define PX_WATCH_CONNECT_TIMEOUT_MS 10000  /* per request to a watched registry */
#define PX_WATCH_IDLE_TIMEOUT_S 30         /* no byte for this long aborts a request */
#define PX_WATCH_HOST_MAX 256
#define PX_WATCH_PATH_MAX 256
#define PX_WATCH_TAG_MAX 129               /* 128 characters, as the distribution spec */
/* scanning a moved base's layers (px_watchscan.c), per move */
#define PX_WATCH_SCAN_MAX_IMAGES 8         /* platforms of a new index scanned */
#define PX_WATCH_SCAN_MAX_LAYERS 64        /* layers fetched and scanned */
#define PX_WATCH_SCAN_MAX_BYTES (4ull << 30) /* compressed bytes fetched, 4 GiB */

/* One parsed entry. */
typedef struct px_watch_ref {
  char base_url[PX_WATCH_HOST_MAX + 16]; /* "https://registry-1.docker.io", "http://127.0.0.1:5000" */
  char host[PX_WATCH_HOST_MAX];          /* as written ("docker.io" for Docker Hub) */
  char path[PX_WATCH_PATH_MAX];          /* "library/debian" */
  char tag[PX_WATCH_TAG_MAX];
  char repo[PX_WATCH_HOST_MAX + PX_WATCH_PATH_MAX]; /* what the store records: "host/path" */
} px_watch_ref;

/* Parses one entry; -1 with a one-line reason in err (errlen bytes). */
int px_watch_parse_ref(const char *entry, px_watch_ref *out, char *err, size_t errlen);

typedef struct px_watch px_watch;
/* Validates every entry and starts the thread when there is any. */
int px_watch_start(px_ctx *ctx);
/* Stops the thread (a request in flight is aborted) and frees ctx->watch. */
void px_watch_stop(px_ctx *ctx);
#endif
