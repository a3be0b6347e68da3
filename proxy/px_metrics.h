/* px_metrics.h - what customs counts, for the admin listener's /metrics
 * (Prometheus text exposition format 0.0.4).
 *
 * Counters and histograms live in ctx->metrics (px_metrics_init), updated
 * with relaxed atomics from any thread (the loop, scan workers, database
 * threads) and read by px_metrics_render; nothing here takes a lock or
 * allocates after init.  Series (names are part of the interface; document
 * any addition in README):
 *   customs_requests_total{method,code}          counter (method: GET, HEAD,
 *       PUT, POST, PATCH, DELETE, OPTIONS, other; code: the status sent)
 *   customs_request_bytes_total{direction="in|out"} counter (bodies)
 *   customs_upstream_latency_seconds              histogram (head of the answer)
 *   customs_scan_duration_seconds{kind="layer|manifest"} histogram
 *   customs_scans_total{kind,result="ok|failed"}  counter
 *   customs_scan_queue_depth                      gauge (jobs waiting for a worker)
 *   customs_spool_bytes                           gauge (spill files now)
 *   customs_verdicts_total{decision="allow|warn|deny|unscanned"} counter
 *   customs_pulls_denied_total                    counter
 *   customs_vulndb_generation                     gauge
 *   customs_policy_generation                     gauge
 *   customs_policy_reload_failures_total          counter
 *   customs_webhook_deliveries_total{result="delivered|retry|failed"} counter
 *   customs_build_info{version}                   gauge 1
 * Counting is px_metrics.c (what most modules link); the exposition is
 * px_metrics_render.c, which reads gauges of other modules; both share
 * px_metrics_int.h.  Not counted as a verdict: a HEAD of a denied image that
 * the policy's `head` rule lets through.
 * Owner: ctx->metrics.  Thread: any.  Errors: render returns 0 or
 * SC_ERR_NOMEM / SC_ERR_LIMIT (the buffer's cap). */
#ifndef CUSTOMS_PX_METRICS_H
#define CUSTOMS_PX_METRICS_H
#include <stdint.h>
#include "px_server.h"
#include "sc_buf.h"

int px_metrics_init(px_ctx *ctx);
void px_metrics_free(px_ctx *ctx);

/* One exchange answered (at its access-log line): method, status sent,
 * request and response body bytes. */
void px_metrics_request(px_ctx *ctx, const char *method, int status, uint64_t bytes_in, uint64_t bytes_out);
/* The upstream's head arrived this long after the request went out. */
void px_metrics_upstream(px_ctx *ctx, double seconds);
/* A scan job finished (kind "layer" or "manifest"). */
void px_metrics_scan(px_ctx *ctx, const char *kind, double seconds, int ok);
/* A pull verdict was sent (PX_V_* of px_gate.h); a denied pull counts in
 * customs_pulls_denied_total too. */
void px_metrics_verdict(px_ctx *ctx, int kind);
/* A policy reload failed. */
void px_metrics_policy_reload_failed(px_ctx *ctx);
/* The vulnerability data generation, when the process learns it (start,
 * import, refresh). */
void px_metrics_vulndb_generation(px_ctx *ctx, int64_t gen);
/* A webhook delivery attempt: "delivered", "retry" or "failed". */
void px_metrics_delivery(px_ctx *ctx, const char *result);
/* A round of the background sync (px_sync.c) ended: its image counts. */
void px_metrics_sync_round(px_ctx *ctx, uint64_t scanned, uint64_t known, uint64_t failed);
/* Appends the whole exposition to out. */
int px_metrics_render(px_ctx *ctx, sc_buf *out);
#endif
