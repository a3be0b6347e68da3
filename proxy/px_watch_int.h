/* px_watch_int.h - what the two watch modules share: px_watch.c (the
 * checks of watched tags, the thread) and px_watchscan.c (scanning the
 * layers of a base that moved, so that the event says what it fixes).
 *
 * Requests go through a watch_io (a GET with net_http_registry_get's
 * contract) so that the unit test drives the checks with a fake registry;
 * the thread's is net_http_registry_get on its own client.
 * Thread: the watch thread.  Errors: -1 with a one-line reason in err. */
#ifndef CUSTOMS_PX_WATCH_INT_H
#define CUSTOMS_PX_WATCH_INT_H
#include <stddef.h>
#include <stdint.h>
#include "net_http.h"
#include "px_watch.h"
#include "sc_store.h"

typedef struct watch_io {
  int (*get)(void *arg, const net_http_req *rq, net_http_resp *rs); /* net_http_registry_get's contract */
  void *arg;
  const int *abort_flag;     /* shutdown: requests and scans stop when it becomes nonzero */
} watch_io;

/* GET base/v2/path/{manifests|blobs}/ref into memory (at most max bytes);
 * checks the status, and the body's digest (into digest) against want (a
 * digest reference) or against Docker-Content-Digest (a tag).  0 with rs
 * filled (the caller frees it), or -1 with err set. */
int px_watch_fetch(const watch_io *io, const px_watch_ref *r, const char *kind, const char *ref, const char *want,
                   uint64_t max, net_http_resp *rs, char digest[72], char *err, size_t errlen);

/* What px_watch_scan_move did. */
typedef struct px_watch_scan_stats {
  size_t images;             /* images of the new base whose layers were looked at */
  size_t known;              /* their layers already stored (found by diff_id) */
  size_t scanned;            /* layers fetched, scanned and stored */
  uint64_t bytes;            /* bytes fetched */
} px_watch_scan_stats;

/* r moved from old_digest to new_digest (both chains recorded).  Scans,
 * and stores with sc_store_put_layer, the layers not stored yet (by
 * diff_id) of the images of new_digest that matter: for each image of
 * old_digest (itself, or each child of its index) whose layers are all
 * stored (local images built on it came through customs), new's image for
 * the same platform (sc_lineage_image_for).  Layers are fetched from r's
 * registry into an unnamed file in spool_dir, their digest and diff_id
 * checked, and scanned with the default limits; at most
 * PX_WATCH_SCAN_MAX_IMAGES images, PX_WATCH_SCAN_MAX_LAYERS layers and
 * PX_WATCH_SCAN_MAX_BYTES bytes.  0 when every layer of those images is
 * stored now (none is an answer too: nothing matters), -1 with err when
 * one is not (a fetch, a scan or a limit failed, or shutdown). */
int px_watch_scan_move(sc_store *st, const watch_io *io, const px_watch_ref *r, const char *old_digest,
                       const char *new_digest, const char *spool_dir, px_watch_scan_stats *stats, char *err,
                       size_t errlen);
#endif
