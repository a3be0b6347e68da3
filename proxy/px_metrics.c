/* px_metrics.c - what customs counts (the series are listed in px_metrics.h
 * and README; the exposition is px_metrics_render.c).
 *
 * Every counter is a uint64_t updated with a relaxed atomic add: updates
 * come from the loop, the scan workers, the database threads, the refresh
 * and delivery threads, and need no order between them.  The label sets are
 * fixed (px_metrics_int.h), so the whole state is one calloc at init and
 * nothing is allocated or locked afterwards; an update is a table lookup
 * and one or two atomic adds.  A histogram keeps a count per bucket (made
 * cumulative when rendered) and its sum in nanoseconds, so an observation
 * is two integer adds.  A label outside the fixed sets (an unknown scan kind
 * or delivery result, a verdict out of range) is not counted.
 *
 * Ownership: ctx->metrics (px_metrics_init; px_metrics_free after every
 * thread stopped).  Thread: any.  Errors: init returns SC_ERR_NOMEM; with a
 * NULL ctx->metrics (no memory at init, or a test's bare ctx) nothing is
 * counted. */
#include "px_metrics.h"
#include "px_metrics_int.h"
#include "px_gate.h"
#include <stdlib.h>
#include <string.h>

const char *const px_m_methods[PX_M_NMETHODS] = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "other"};
const double px_m_up_bounds[PX_M_NUP] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
const char *const px_m_up_les[PX_M_NUP] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                            "0.5",   "1",    "2.5",   "5",    "10",  "30"};
const double px_m_scan_bounds[PX_M_NSCAN] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
const char *const px_m_scan_les[PX_M_NSCAN] = {"0.01", "0.05", "0.1", "0.25", "0.5", "1",   "2.5",
                                                "5",    "10",   "30",  "60",   "120", "300", "600"};
const char *const px_m_scan_kinds[PX_M_NSCANKINDS] = {"layer", "manifest"};
const char *const px_m_deliveries[PX_M_NDELIV] = {"delivered", "retry", "failed"};
_Static_assert(PX_M_NUP < PX_M_HIST_MAX_BUCKETS && PX_M_NSCAN < PX_M_HIST_MAX_BUCKETS, "histogram buckets");

static inline void add(uint64_t *c, uint64_t n) { __atomic_fetch_add(c, n, __ATOMIC_RELAXED); }

int px_metrics_init(px_ctx *ctx) {
  struct px_metrics *m = calloc(1, sizeof(*m));
  if (!m) return SC_ERR_NOMEM;
  m->vulndb_generation = -1;
  ctx->metrics = m;
  return 0;
}

void px_metrics_free(px_ctx *ctx) {
  free(ctx->metrics);
  ctx->metrics = NULL;
}

static int method_index(const char *method) {
  if (!method) return PX_M_NMETHODS - 1;
  for (int i = 0; i < PX_M_NMETHODS - 1; i++)
    if (!strcmp(method, px_m_methods[i])) return i;
  return PX_M_NMETHODS - 1;
}

void px_metrics_request(px_ctx *ctx, const char *method, int status, uint64_t bytes_in, uint64_t bytes_out) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  if (!m) return;
  int code = status >= PX_M_CODE_MIN && status <= PX_M_CODE_MAX ? status - PX_M_CODE_MIN : PX_M_CODE_OTHER;
  add(&m->requests[method_index(method)][code], 1);
  if (bytes_in) add(&m->bytes_in, bytes_in);
  if (bytes_out) add(&m->bytes_out, bytes_out);
}

static void observe(px_m_hist *h, const double *bounds, size_t n, double seconds) {
  size_t i = 0;
  if (!(seconds >= 0)) seconds = 0;         /* NaN, or a clock step back */
  while (i < n && seconds > bounds[i]) i++; /* le: a value equal to a bound is in it */
  add(&h->bucket[i], 1);
  add(&h->sum_ns, seconds < 1e9 ? (uint64_t)(seconds * (double)PX_M_NS_PER_S + 0.5) : (uint64_t)1e18);
}

void px_metrics_upstream(px_ctx *ctx, double seconds) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  if (m) observe(&m->upstream, px_m_up_bounds, PX_M_NUP, seconds);
}

void px_metrics_scan(px_ctx *ctx, const char *kind, double seconds, int ok) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  int k;
  if (!m || !kind) return;
  for (k = 0; k < PX_M_NSCANKINDS && strcmp(kind, px_m_scan_kinds[k]); k++) {
  }
  if (k == PX_M_NSCANKINDS) return; /* not a series of the interface */
  observe(&m->scan[k], px_m_scan_bounds, PX_M_NSCAN, seconds);
  add(&m->scans[k][ok ? 0 : 1], 1);
}

void px_metrics_verdict(px_ctx *ctx, int kind) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  if (!m || kind < 0 || kind >= PX_M_NVERDICTS) return;
  add(&m->verdicts[kind], 1);
  if (kind == PX_V_DENY) add(&m->pulls_denied, 1);
}

void px_metrics_policy_reload_failed(px_ctx *ctx) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  if (m) add(&m->policy_reload_failures, 1);
}

void px_metrics_vulndb_generation(px_ctx *ctx, int64_t gen) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  if (m) __atomic_store_n(&m->vulndb_generation, gen, __ATOMIC_RELAXED);
}

void px_metrics_delivery(px_ctx *ctx, const char *result) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  if (!m || !result) return;
  for (int i = 0; i < PX_M_NDELIV; i++)
    if (!strcmp(result, px_m_deliveries[i])) {
      add(&m->deliveries[i], 1);
      return;
    }
}

void px_metrics_sync_round(px_ctx *ctx, uint64_t scanned, uint64_t known, uint64_t failed) {
  struct px_metrics *m = ctx ? ctx->metrics : NULL;
  if (!m) return;
  add(&m->sync_rounds, 1);
  add(&m->sync_images[0], scanned);
  add(&m->sync_images[1], known);
  add(&m->sync_images[2], failed);
}
