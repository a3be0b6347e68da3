/* px_metrics_render.c - the Prometheus text exposition (format 0.0.4) of
 * ctx->metrics (px_metrics.c) and of the gauges read when it is rendered:
 * the scan queue depth (px_scan_queue_depth), the spool's bytes
 * (ctx->spool), the policy generation (px_policy_generation).
 *
 * Each counter is read once, relaxed: a scrape during updates sees each
 * counter at some recent value.  A histogram's _count is the sum of the
 * bucket counts it read, so _count always equals the +Inf bucket; its _sum
 * may lead or trail by the observations in flight.  (method, code) pairs of
 * customs_requests_total that are still zero are left out (4,008 mostly
 * empty lines otherwise); every other series is always present.
 *
 * Ownership: appends to the caller's buffer.  Thread: the loop (the policy
 * generation and the scan pools are the loop's).  Errors: the buffer's
 * (SC_ERR_LIMIT at its cap, SC_ERR_NOMEM). */
#include "px_metrics.h"
#include "px_metrics_int.h"
#include "px_gate.h"
#include "px_policy.h"
#include "px_scan.h"
#include <stdio.h>

static inline uint64_t get(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

/* Appends a label value escaped as the text format wants: backslash,
 * double quote and line feed. */
static int add_label_value(sc_buf *out, const char *v) {
  for (; *v; v++) {
    if (*v == '\\') sc_buf_add(out, "\\\\", 2);
    else if (*v == '"') sc_buf_add(out, "\\\"", 2);
    else if (*v == '\n') sc_buf_add(out, "\\n", 2);
    else sc_buf_add(out, v, 1);
  }
  return sc_buf_err(out);
}

static void head(sc_buf *out, const char *name, const char *type, const char *help) {
  sc_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* labels: "" or `key="value"` pairs, already escaped. */
static void hist_series(sc_buf *out, const char *name, const char *labels, const px_m_hist *h,
                        const char *const *les, size_t n) {
  uint64_t cum = 0, sum = get(&h->sum_ns);
  const char *sep = labels[0] ? "," : "", *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
  for (size_t i = 0; i <= n; i++) {
    cum += get(&h->bucket[i]);
    sc_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep, i < n ? les[i] : "+Inf",
                  (unsigned long long)cum);
  }
  sc_buf_printf(out, "%s_sum%s%s%s %llu.%09llu\n", name, open, labels, close,
                (unsigned long long)(sum / PX_M_NS_PER_S), (unsigned long long)(sum % PX_M_NS_PER_S));
  sc_buf_printf(out, "%s_count%s%s%s %llu\n", name, open, labels, close, (unsigned long long)cum);
}

static void render_counters(const struct px_metrics *m, sc_buf *out) {
  head(out, "customs_requests_total", "counter", "Exchanges answered, by request method and status code sent.");
  for (int i = 0; i < PX_M_NMETHODS; i++)
    for (int c = 0; c < PX_M_NCODES; c++) {
      uint64_t v = get(&m->requests[i][c]);
      if (!v) continue;
      if (c == PX_M_CODE_OTHER)
        sc_buf_printf(out, "customs_requests_total{method=\"%s\",code=\"other\"} %llu\n", px_m_methods[i],
                      (unsigned long long)v);
      else
        sc_buf_printf(out, "customs_requests_total{method=\"%s\",code=\"%d\"} %llu\n", px_m_methods[i],
                      c + PX_M_CODE_MIN, (unsigned long long)v);
    }
  head(out, "customs_request_bytes_total", "counter", "Body bytes received from clients (in) and sent to them (out).");
  sc_buf_printf(out, "customs_request_bytes_total{direction=\"in\"} %llu\n", (unsigned long long)get(&m->bytes_in));
  sc_buf_printf(out, "customs_request_bytes_total{direction=\"out\"} %llu\n", (unsigned long long)get(&m->bytes_out));

  head(out, "customs_upstream_latency_seconds", "histogram",
       "Seconds from the end of a request sent upstream to the head of the upstream's answer.");
  hist_series(out, "customs_upstream_latency_seconds", "", &m->upstream, px_m_up_les, PX_M_NUP);
  head(out, "customs_scan_duration_seconds", "histogram", "Seconds a scan job ran on a worker, by kind.");
  for (int k = 0; k < PX_M_NSCANKINDS; k++) {
    char labels[32];
    snprintf(labels, sizeof(labels), "kind=\"%s\"", px_m_scan_kinds[k]);
    hist_series(out, "customs_scan_duration_seconds", labels, &m->scan[k], px_m_scan_les, PX_M_NSCAN);
  }
  head(out, "customs_scans_total", "counter", "Scan jobs finished, by kind and result.");
  for (int k = 0; k < PX_M_NSCANKINDS; k++)
    for (int r = 0; r < 2; r++)
      sc_buf_printf(out, "customs_scans_total{kind=\"%s\",result=\"%s\"} %llu\n", px_m_scan_kinds[k],
                    r ? "failed" : "ok", (unsigned long long)get(&m->scans[k][r]));

  head(out, "customs_verdicts_total", "counter", "Pull verdicts sent, by decision.");
  for (int v = 0; v < PX_M_NVERDICTS; v++)
    sc_buf_printf(out, "customs_verdicts_total{decision=\"%s\"} %llu\n", px_verdict_name((px_verdict_kind)v),
                  (unsigned long long)get(&m->verdicts[v]));
  head(out, "customs_pulls_denied_total", "counter", "Pulls answered 403 by the gate (manifests and blobs).");
  sc_buf_printf(out, "customs_pulls_denied_total %llu\n", (unsigned long long)get(&m->pulls_denied));
  head(out, "customs_policy_reload_failures_total", "counter", "Policy loads refused (the previous policy stayed).");
  sc_buf_printf(out, "customs_policy_reload_failures_total %llu\n",
                (unsigned long long)get(&m->policy_reload_failures));
  head(out, "customs_webhook_deliveries_total", "counter", "Webhook delivery attempts, by outcome.");
  for (int i = 0; i < PX_M_NDELIV; i++)
    sc_buf_printf(out, "customs_webhook_deliveries_total{result=\"%s\"} %llu\n", px_m_deliveries[i],
                  (unsigned long long)get(&m->deliveries[i]));
  static const char *const SYNC_RESULTS[3] = {"scanned", "known", "failed"};
  head(out, "customs_sync_rounds_total", "counter", "Rounds of the background sync finished.");
  sc_buf_printf(out, "customs_sync_rounds_total %llu\n", (unsigned long long)get(&m->sync_rounds));
  head(out, "customs_sync_images_total", "counter", "Images the background sync looked at, by outcome.");
  for (int i = 0; i < 3; i++)
    sc_buf_printf(out, "customs_sync_images_total{result=\"%s\"} %llu\n", SYNC_RESULTS[i],
                  (unsigned long long)get(&m->sync_images[i]));
}

int px_metrics_render(px_ctx *ctx, sc_buf *out) {
  struct px_metrics *m = ctx->metrics;
  if (m) render_counters(m, out);
  head(out, "customs_scan_queue_depth", "gauge", "Scan jobs waiting for a worker (layer and manifest pools).");
  sc_buf_printf(out, "customs_scan_queue_depth %u\n", px_scan_queue_depth(ctx));
  head(out, "customs_spool_bytes", "gauge", "Bytes in scan spill files now.");
  sc_buf_printf(out, "customs_spool_bytes %llu\n", (unsigned long long)px_spool_bytes(&ctx->spool));
  head(out, "customs_policy_generation", "gauge", "Generation of the policy in force (0: none loaded).");
  sc_buf_printf(out, "customs_policy_generation %llu\n", (unsigned long long)px_policy_generation(ctx));
  int64_t gen = m ? __atomic_load_n(&m->vulndb_generation, __ATOMIC_RELAXED) : -1;
  head(out, "customs_vulndb_generation", "gauge", "Generation of the vulnerability data (-1: not known yet).");
  sc_buf_printf(out, "customs_vulndb_generation %lld\n", (long long)gen);
  head(out, "customs_build_info", "gauge", "Always 1; the version is in the label.");
  sc_buf_addstr(out, "customs_build_info{version=\"");
  add_label_value(out, PACKAGE_VERSION);
  sc_buf_addstr(out, "\"} 1\n");
  return sc_buf_err(out);
}
