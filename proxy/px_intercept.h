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
/* After routing, before the request goes upstream.  Returns:
 *   PX_REQ_PROCEED    send it upstream now;
 *   PX_REQ_ANSWERED   customs answered it locally;
 *   PX_REQ_WAIT       a verdict is being computed off the loop: the exchange
 *                     keeps the request (and any body bytes, bounded) until
 *                     the interception calls px_xchg_proceed() or answers;
 *   PX_REQ_WAIT_BODY  the same, and once the whole body is in the exchange
 *                     calls px_intercept_req_complete() (manifest PUTs are
 *                     checked whole before the registry sees them). */
enum { PX_REQ_PROCEED = 0, PX_REQ_ANSWERED = 1, PX_REQ_WAIT = 2, PX_REQ_WAIT_BODY = 3 };
int px_intercept_request(struct px_xchg *x);
/* The held body of a PX_REQ_WAIT_BODY request is complete.  Answers (400)
 * or calls px_xchg_proceed().  Returns 1 when answered. */
int px_intercept_req_complete(struct px_xchg *x, const void *body, size_t len);
/* Answers 503 (no memory to judge the request) and returns PX_REQ_ANSWERED. */
int px_intercept_oom(struct px_xchg *x);
void px_intercept_req_body(struct px_xchg *x, const void *data, size_t len);
void px_intercept_req_end(struct px_xchg *x);
enum { PX_HOOK_PASS = 0, PX_HOOK_HOLD = 1, PX_HOOK_ANSWERED = 2 };
/* The upstream's response head is in x: PX_HOOK_PASS gives it to the client,
 * PX_HOOK_HOLD holds it back until px_xchg_release(), PX_HOOK_ANSWERED means
 * customs answered instead (the upstream connection was let go). */
int px_intercept_response_head(struct px_xchg *x);
/* Response body bytes from the upstream, as they arrive. */
void px_intercept_resp_body(struct px_xchg *x, const void *data, size_t len);
/* A held response is complete upstream.  Returns 1 when customs answered
 * instead (the exchange may be freed by then: the caller must not touch it). */
int px_intercept_response_done(struct px_xchg *x);
/* The exchange ends (any outcome). */
void px_intercept_free(struct px_xchg *x);
#endif
