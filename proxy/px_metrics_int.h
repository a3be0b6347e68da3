/* px_metrics_int.h - what px_metrics.c (the counters, updated from any
 * thread) and px_metrics_render.c (the exposition) share and nobody else
 * sees: the fixed label sets, the histogram bounds and struct px_metrics.
 * Two files so that a module that only counts (px_upstream.c, px_xchg.c,
 * ...) links px_metrics.o alone, without the modules the rendered gauges
 * read (the gate, the policy, the scan pools).
 *
 * Bounded label sets: methods GET HEAD PUT POST PATCH DELETE OPTIONS and
 * "other"; one slot per status code 100..599 and one "other" slot for an
 * exchange that ended without a valid status (8 x 501 counters, 32 KiB).
 * Owner: ctx->metrics.  Thread: any (relaxed atomics).  Errors: none. */
#ifndef CUSTOMS_PX_METRICS_INT_H
#define CUSTOMS_PX_METRICS_INT_H
#include <stddef.h>
#include <stdint.h>

#define PX_M_CODE_MIN 100
#define PX_M_CODE_MAX 599
#define PX_M_NCODES (PX_M_CODE_MAX - PX_M_CODE_MIN + 2) /* codes, and the "other" slot */
#define PX_M_CODE_OTHER (PX_M_NCODES - 1)
#define PX_M_NMETHODS 8
#define PX_M_HIST_MAX_BUCKETS 16 /* finite buckets of one histogram */
#define PX_M_NUP 12              /* upstream latency buckets: 0.005 .. 30 s */
#define PX_M_NSCAN 14            /* scan duration buckets: 0.01 .. 600 s */
#define PX_M_NS_PER_S 1000000000ull
#define PX_M_NVERDICTS 4 /* PX_V_ALLOW .. PX_V_UNSCANNED */

enum { PX_M_SCAN_LAYER, PX_M_SCAN_MANIFEST, PX_M_NSCANKINDS };
enum { PX_M_DELIVERED, PX_M_RETRY, PX_M_FAILED, PX_M_NDELIV };

/* Label values and bucket bounds (px_metrics.c).  le strings are spelled
 * as the Prometheus client libraries print them, so dashboards match. */
extern const char *const px_m_methods[PX_M_NMETHODS];
extern const double px_m_up_bounds[PX_M_NUP];
extern const char *const px_m_up_les[PX_M_NUP];
extern const double px_m_scan_bounds[PX_M_NSCAN];
extern const char *const px_m_scan_les[PX_M_NSCAN];
extern const char *const px_m_scan_kinds[PX_M_NSCANKINDS];
extern const char *const px_m_deliveries[PX_M_NDELIV];

typedef struct px_m_hist {
  uint64_t bucket[PX_M_HIST_MAX_BUCKETS + 1]; /* per bucket (not cumulative); the last: above every bound */
  uint64_t sum_ns;                            /* 2^64 ns is 584 years: it cannot wrap */
} px_m_hist;

struct px_metrics {
  uint64_t requests[PX_M_NMETHODS][PX_M_NCODES];
  uint64_t bytes_in, bytes_out;
  px_m_hist upstream;
  px_m_hist scan[PX_M_NSCANKINDS];
  uint64_t scans[PX_M_NSCANKINDS][2]; /* [kind][0 ok, 1 failed] */
  uint64_t verdicts[PX_M_NVERDICTS];
  uint64_t pulls_denied;
  uint64_t policy_reload_failures;
  uint64_t deliveries[PX_M_NDELIV];
  uint64_t sync_rounds;
  uint64_t sync_images[3];   /* scanned, known, failed */
  int64_t vulndb_generation; /* -1 until the process learns it */
};
#endif
