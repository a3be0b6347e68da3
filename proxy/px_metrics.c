/* px_metrics.c - placeholder, being written (issue 12). */
#include "px_metrics.h"
int px_metrics_init(px_ctx *ctx) { (void)ctx; return 0; }
void px_metrics_free(px_ctx *ctx) { (void)ctx; }
void px_metrics_request(px_ctx *ctx, const char *method, int status, uint64_t bytes_in, uint64_t bytes_out) { (void)ctx, (void)method, (void)status, (void)bytes_in, (void)bytes_out; }
void px_metrics_upstream(px_ctx *ctx, double seconds) { (void)ctx, (void)seconds; }
void px_metrics_scan(px_ctx *ctx, const char *kind, double seconds, int ok) { (void)ctx, (void)kind, (void)seconds, (void)ok; }
void px_metrics_verdict(px_ctx *ctx, int kind) { (void)ctx, (void)kind; }
void px_metrics_policy_reload_failed(px_ctx *ctx) { (void)ctx; }
void px_metrics_vulndb_generation(px_ctx *ctx, int64_t gen) { (void)ctx, (void)gen; }
void px_metrics_delivery(px_ctx *ctx, const char *result) { (void)ctx, (void)result; }
int px_metrics_render(px_ctx *ctx, sc_buf *out) { (void)ctx, (void)out; return 0; }
