/* px_sync_int.h - what the sync modules share:
 *   px_sync_rate.c  the token bucket every request of the sync goes through
 *                   (on a clock a test can replace);
 *   px_sync_link.c  the next page of a list: Link headers;
 *   px_sync_walk.c  one round: the catalog, the tags, the manifests, what is
 *                   known and what is scanned;
 *   px_sync.c       the thread, its registry client and scanner, start/stop.
 * Requests and scans go through a sync_io so that the unit test drives a
 * round with a fake registry and a fake scanner; the thread's are
 * net_http and px_scan_image.
 *
 * Ownership: the caller owns every structure.  Thread: the sync thread.
 * Errors: -1 (or SC_ERR_*) with a one-line reason where one is asked. */
#ifndef CUSTOMS_PX_SYNC_INT_H
#define CUSTOMS_PX_SYNC_INT_H
#include <stddef.h>
#include <stdint.h>
#include "net_http.h"
#include "px_sync.h"
#include "sc_store.h"

/* ---- px_sync_rate.c ---- */

typedef struct px_sync_clock {
  int64_t (*now_ms)(void *arg);           /* monotonic milliseconds */
  int (*sleep_ms)(void *arg, int64_t ms); /* nonzero: woken to stop */
  void *arg;
} px_sync_clock;

/* A token bucket: `rate` tokens a second, at most `burst` kept. */
typedef struct px_sync_bucket {
  double rate, burst, tokens;
  int64_t last_ms;
  px_sync_clock clock;
  uint64_t taken;                         /* tokens handed out (requests made) */
} px_sync_bucket;

/* rps requests a second (clamped to 1..PX_SYNC_MAX_RPS), burst deep (at
 * least 1), full at first. */
void px_sync_bucket_init(px_sync_bucket *b, int rps, int burst, const px_sync_clock *clock);
/* Waits (on the bucket's clock) for a token and takes it: 0, or -1 when the
 * wait was cut short to stop. */
int px_sync_bucket_take(px_sync_bucket *b);

/* ---- px_sync_link.c ---- */

/* The target of the rel="next" link of a Link header value, resolved
 * against origin ("scheme://host[:port]"): a path ("/v2/...") is appended
 * to origin, an absolute URL is kept when it has the same origin.  0 with
 * out set, -1 when there is none or it is not followed (another origin,
 * a relative path without '/', control characters, too long). */
int px_sync_next_url(const char *link, const char *origin, char *out, size_t cap);

/* ---- px_sync_walk.c ---- */

typedef struct sync_io {
  /* a registry GET with net_http_registry_get's contract; link (linkcap
   * bytes) gets the answer's Link header value, "" when none is known */
  int (*get)(void *arg, const net_http_req *rq, net_http_resp *rs, char *link, size_t linkcap);
  /* a registry HEAD of url (net_http_registry_send's contract) */
  int (*head)(void *arg, const char *url, const char *accept, const char *scope, net_http_resp *rs);
  /* scans repo@digest from its manifest (px_scan_image's contract; tag NULL
   * for an index child); 0 or SC_ERR_* with err set */
  int (*scan)(void *arg, const char *repo, const char *tag, const char *digest, const char *ctype, const char *body,
              size_t len, char *err, size_t errlen);
  /* records repo:tag -> digest, a stored image (sc_store_put_tag, and what
   * a moved tag means); 0 or SC_ERR_* */
  int (*record_tag)(void *arg, sc_store *st, const char *repo, const char *tag, const char *digest);
  void *arg;
  const int *abort_flag;  /* nonzero: the round stops before its next request */
  px_sync_bucket *bucket; /* every request takes a token first */
  const char *origin;     /* the upstream, "scheme://host[:port]" */
  /* the last failure logged per image (hash of repo@digest -> hash of the
   * reason; 0 = none), so that an image failing every round is logged once */
  uint64_t failed_key[PX_SYNC_FAILED_MEMORY], failed_why[PX_SYNC_FAILED_MEMORY];
} sync_io;

typedef struct px_sync_stats {
  size_t repositories;    /* repositories walked */
  size_t tags;            /* tags listed */
  size_t images;          /* manifests looked at: tags and index children */
  size_t scanned;         /* images scanned (px_scan_image succeeded) */
  size_t known;           /* images the store had whole already */
  size_t failed;          /* images that could not be fetched, checked or scanned */
  size_t requests;        /* requests made (tokens taken) by the walk itself */
  int stopped;            /* the round stopped early: shutdown, or a PX_SYNC_MAX_* limit */
} px_sync_stats;

/* One round over io's registry with store st.  0, or -1 when the catalog
 * could not be read at all (err set; stats say how far it went). */
int px_sync_round(sc_store *st, sync_io *io, px_sync_stats *stats, char *err, size_t errlen);
#endif
