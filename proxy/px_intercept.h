/* px_intercept.h - what customs does with registry traffic besides passing
 * it on: tee upload bytes into scan jobs, record pushed manifests, hold the
 * manifest PUT until the scans of its layers are done (bounded by
 * scan.wait_ms), so the inventory exists when the push returns (blob PUTs
 * are not held: a blob no manifest names is nothing to judge), and gate pulls (manifest GET/HEAD, blob GET) on the policy's
 * verdict.
 *
 * It is plugged into the exchange through ctx->intercept (px_intercept_ops,
 * px_xchg.h); px_xchg.c never calls this module by name, so the plain proxy
 * is px_xchg + px_upstream + the fronts with ctx->intercept == NULL.
 *
 * Per exchange it keeps a px_hook in x->hook whose state (px_hook_state in
 * px_intercept.c) says what the exchange waits for: a request verdict, a
 * whole body, a response verdict, a scan.
 *
 * Ownership: the hook belongs to its exchange and is freed by the free op.
 * Thread: loop thread.  Errors: never fail the exchange; a scanning problem
 * only means less is known about the image, a gating problem applies the
 * policy's on_error (fail closed by default). */
#ifndef CUSTOMS_PX_INTERCEPT_H
#define CUSTOMS_PX_INTERCEPT_H
#include "px_xchg.h"

/* customs' interception: px_server.c sets ctx->intercept = &px_intercept_customs.
 * Every op returns at once when ctx->scan is NULL (no scanner started). */
extern const px_intercept_ops px_intercept_customs;
/* px_coalesce's resume callback: a manifest GET by tag that waited for an
 * identical one resumes with the digest now in px_mcache (NULL: it goes to
 * the registry itself).  follower is its px_hook. */
void px_pull_coalesced(void *follower, const char *digest);
#endif
