/* px_intercept.h - what customs does with registry traffic besides passing
 * it on: tee upload bytes into scan jobs, record pushed manifests, and hold
 * the final upload PUT and the manifest PUT until the scans they depend on
 * are done (bounded by scan.wait_ms), so the inventory exists when the push
 * returns.  All functions run on the loop thread; they never fail the
 * exchange: a scanning problem only means less is known about the image. */
#ifndef CUSTOMS_PX_INTERCEPT_H
#define CUSTOMS_PX_INTERCEPT_H
#include <stddef.h>

struct px_xchg;
/* After routing, before the request goes upstream.  Returns 1 when the
 * exchange was answered locally. */
int px_intercept_request(struct px_xchg *x);
void px_intercept_req_body(struct px_xchg *x, const void *data, size_t len);
void px_intercept_req_end(struct px_xchg *x);
enum { PX_HOOK_PASS = 0, PX_HOOK_HOLD = 1, PX_HOOK_ANSWERED = 2 };
/* The upstream's response head is in x: PX_HOOK_PASS gives it to the client,
 * PX_HOOK_HOLD holds it back until px_xchg_release(), PX_HOOK_ANSWERED means
 * customs answered instead (the upstream connection was let go). */
int px_intercept_response_head(struct px_xchg *x);
/* Response body bytes from the upstream, as they arrive. */
void px_intercept_resp_body(struct px_xchg *x, const void *data, size_t len);
/* A held response is complete upstream. */
void px_intercept_response_done(struct px_xchg *x);
/* The exchange ends (any outcome). */
void px_intercept_free(struct px_xchg *x);
#endif
