/* px_vexref.h - OpenVEX documents attached to images as OCI referrers: a
 * manifest with a `subject` whose artifactType (or config media type, or
 * single layer's media type) is application/vnd.openvex+json is, when it
 * passes through customs (the manifest job, px_scanwork.c), followed by a
 * fetch of its VEX blob from the upstream (bounded by SC_VEXREF_MAX_BYTES,
 * digest verified), a parse (sc_vex_parse) and a row in the store
 * (sc_store_vex.h) holding the document, or the reason it is not usable.
 * Whether the judge applies them is the policy's `vex_referrers:`.
 *
 * The store's VEX generation (bumped by every row change) is part of the
 * gate's verdict cache check (px_gate.c), so the subject's next verdict
 * sees a new or deleted VEX referrer at once.
 *
 * Ownership: nothing kept; the caller's body and strings are borrowed.
 * Thread: a scan worker (or the sync thread) with its own px_worker.
 * Errors: never fails its caller: a fetch or parse failure is stored as the
 * row's error (and logged), a database failure is logged. */
#ifndef CUSTOMS_PX_VEXREF_H
#define CUSTOMS_PX_VEXREF_H
#include <stddef.h>
#include <stdint.h>
#include "px_scan_int.h"
#include "sc_image.h"

typedef enum px_vexref_kind {
  PX_VEXREF_NONE = 0, /* not a VEX referrer: nothing to do */
  PX_VEXREF_BLOB,     /* *blob (and *size, -1 unknown) hold the document */
  PX_VEXREF_BAD       /* a VEX referrer whose document cannot be taken: why */
} px_vexref_kind;

/* Whether manifest m is a VEX referrer, and which blob is its document:
 * the one layer typed application/vnd.openvex+json, else its only layer,
 * else (no layers) a config typed so.  Media types compare without case and
 * parameters.  *blob points into m. */
px_vexref_kind px_vexref_pick(const sc_manifest *m, const char **blob, int64_t *size, char *why, size_t whylen);

/* The manifest job's step for a pushed manifest (digest, body as pushed to
 * repo): nothing unless it is a VEX referrer; then fetch, verify, parse and
 * store (see above).  client_auth: the pusher's Authorization (fallback). */
void px_vexref_record(px_ctx *ctx, px_worker *w, const char *repo, const char *digest, const char *ctype,
                      const char *body, size_t len, const char *client_auth);
#endif
