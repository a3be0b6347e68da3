/* px_events.h - events customs emits and their webhooks.
 *
 * Events: "base-image-updated" (a base tag, local or watched, moved; built
 * by sc_lineage_base_updated), "scan-completed" (a pushed image was
 * recorded and its layers scanned: verdict and findings), "pull-denied" (a
 * pull was refused: reasons and findings).  An event is a JSON object; the
 * emitter adds "id" (unique, for idempotency), "type" and "at" (RFC 3339).
 *
 * Emitting records the event and one delivery per configured webhook whose
 * `events` include its type (sc_events.h), in one transaction, with the body
 * rendered in the webhook's format (generic | github | azure-pipelines),
 * then wakes the delivery thread.  The delivery thread (its own store
 * connection and HTTP client) POSTs due deliveries with
 * `X-Customs-Signature: sha256=<hex HMAC-SHA256 of the body>` (when the
 * webhook has a secret), `X-Customs-Event` and `X-Customs-Event-Id`, and
 * retries with backoff until a 2xx or the retry budget ends; every attempt
 * is recorded, so pending deliveries survive a restart.  Nothing here runs
 * on the loop thread: a slow or dead receiver never slows the proxy.
 *
 * Owner: ctx->events (px_events_start / px_events_stop).  Thread: emit from
 * any thread that has its own store handle; the rest is the delivery
 * thread's.  Errors: SC_ERR_* (an event that cannot be recorded is logged
 * and dropped; the request that caused it is never failed for it). */
#ifndef CUSTOMS_PX_EVENTS_H
#define CUSTOMS_PX_EVENTS_H
#include <jansson.h>
#include "px_server.h"
#include "sc_store.h"

#define PX_EVENT_BASE_UPDATED "base-image-updated"
#define PX_EVENT_SCAN_COMPLETED "scan-completed"
#define PX_EVENT_PULL_DENIED "pull-denied"

typedef struct px_events px_events;

/* Starts the delivery thread when webhooks are configured (ctx->events is
 * then set; NULL otherwise, and emitting is a no-op that still records
 * nothing).  0 or SC_ERR_*. */
int px_events_start(px_ctx *ctx);
/* Stops the thread (an attempt in flight is finished or abandoned within
 * its timeout) and frees ctx->events. */
void px_events_stop(px_ctx *ctx);
/* Records event type with payload (a JSON object, stolen, also on error)
 * for every webhook subscribed to it, and wakes the delivery thread.  ev
 * NULL: the payload is freed, 0.  event_id (may be NULL, 40 bytes) gets the
 * event's id. */
int px_events_emit(px_events *ev, sc_store *st, const char *type, json_t *payload, char *event_id);

/* Whether some webhook wants events of type (an event source skips the
 * work of building a payload nobody receives).  0 when ev is NULL. */
int px_events_wants(const px_events *ev, const char *type);

/* The policy in force, for event sources on worker and database threads
 * (px_policy_acquire is the loop thread's): a copy of the loop's reference,
 * refreshed by the loop every PX_EVENTS_POLICY_POLL_MS.  Lock, read (NULL:
 * no policy), unlock; several threads may hold it at once, and the loop
 * never waits for them. */
#define PX_EVENTS_POLICY_POLL_MS 1000
const struct sc_policy *px_events_policy_lock(px_events *ev);
void px_events_policy_unlock(px_events *ev);
#endif
