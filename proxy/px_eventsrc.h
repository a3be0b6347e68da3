/* px_eventsrc.h - the proxy's sources of the scan-completed and
 * pull-denied events (base-image-updated comes from lineage): each builds
 * the payload from the store and the policy in force and emits it
 * (px_events.h).  Both do nothing when no webhook wants the event.
 *
 * scan-completed, after a pushed manifest was recorded and its layers
 * scanned:
 *   {"image": {"repository", "tag" (null: pushed by digest), "digest", "kind"},
 *    "verdict": {"decision", "rule", "message", "reasons"} (null: no policy),
 *    "counts": {"total", "critical", "high", "medium", "low", "unknown", "fixable"},
 *    "findings": [sc_lineage_findings_json, most severe first, at most
 *                 PX_EVENTSRC_FINDINGS_MAX; counts has them all],
 *    "platforms": [{"digest", "platform", "verdict", "counts", "findings"}]}
 * For an index, "platforms" judges each child; the top-level verdict is the
 * most severe of theirs (deny > warn > allow), counts are summed, and the
 * top-level findings are left empty (they are per platform).
 *
 * pull-denied, for each denied pull written to the decisions table:
 *   {"pull": {"repository", "reference", "digest", "client" (its address,
 *             without the port), "method"},
 *    "verdict": {"decision": "deny", "rule", "message"},
 *    "reasons": [the verdict's reasons_json entries; for an index, each
 *                denied platform's, with "platform"],
 *    "findings": [{"id", "package", "version", "fixed", "severity"} of the
 *                 reasons that name a finding],
 *    "image_known": bool (false: customs never recorded that digest, e.g.
 *                   a pull refused as unscanned; reasons is then empty),
 *    "suppressed": N (denials of the same pull left out since the last event)}
 * Bounded: at most one event per (repository, digest, client) every
 * PX_EVENTSRC_DENIED_WINDOW_S seconds (others are counted in "suppressed"),
 * tracked in PX_EVENTSRC_DENIED_SLOTS slots (a collision only lets one
 * more event through).
 *
 * Thread: the caller's (a scan worker, a database thread), with its own
 * store handle.  Errors: logged; the request is never failed for them. */
#ifndef CUSTOMS_PX_EVENTSRC_H
#define CUSTOMS_PX_EVENTSRC_H
#include "px_server.h"
#include "sc_store.h"

#define PX_EVENTSRC_FINDINGS_MAX 200    /* findings listed per image (all are counted) */
#define PX_EVENTSRC_DENIED_WINDOW_S 60  /* one pull-denied per (repo, digest, client) per window */
#define PX_EVENTSRC_DENIED_SLOTS 4096   /* rate-limiter slots */

/* A pushed manifest repo[:tag]@digest was recorded and scanned. */
void px_eventsrc_scan_completed(px_ctx *ctx, sc_store *st, const char *repo, const char *tag, const char *digest);
/* A pull was denied (the decisions row: peer "addr:port", repo, reference,
 * digest, method, rule may be NULL or ""). */
void px_eventsrc_pull_denied(px_ctx *ctx, sc_store *st, const char *peer, const char *repo, const char *ref,
                             const char *digest, const char *method, const char *rule);
#endif
