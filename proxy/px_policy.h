/* px_policy.h - the policy in force: loaded at start, reloaded on SIGHUP and
 * when the file changes (polled every two seconds).  An invalid file is
 * refused with its line:column errors in the log; the previous policy stays
 * in force.  Every successful load bumps the generation that keys cached
 * verdicts.
 *
 * Ownership: the state lives in ctx->policy (NULL until px_policy_init has
 * loaded a file: px_policy_get then says "no policy").
 *
 * Errors: px_policy_init returns 0, SC_ERR_NOMEM, or SC_ERR_INVALID (the
 * file given at start is invalid: customs refuses to start rather than run
 * without it). */
#ifndef CUSTOMS_PX_POLICY_H
#define CUSTOMS_PX_POLICY_H
#include <stdint.h>
#include "px_server.h"

struct sc_policy;

int px_policy_init(px_ctx *ctx);
void px_policy_shutdown(px_ctx *ctx);
/* Re-reads the file now (SIGHUP). */
void px_policy_reload(px_ctx *ctx);
/* The policy in force, or NULL when customs runs without one (nothing blocked). */
const struct sc_policy *px_policy_get(px_ctx *ctx);
uint64_t px_policy_generation(px_ctx *ctx);
/* Loop thread: when the policy in force was loaded (unix seconds, 0: none),
 * and the errors of the last refused load ("FILE:LINE:COL: message" lines;
 * NULL when the last load succeeded), valid until the next load. */
int64_t px_policy_loaded_at(px_ctx *ctx);
const char *px_policy_last_error(px_ctx *ctx);

/* A counted reference to the policy in force, for database threads that
 * judge while the loop may reload: acquire on the loop thread (NULL when
 * customs runs without a policy), read and release on any thread. */
typedef struct px_policy_ref px_policy_ref;
px_policy_ref *px_policy_acquire(px_ctx *ctx);
const struct sc_policy *px_policy_ref_policy(const px_policy_ref *r);
uint64_t px_policy_ref_generation(const px_policy_ref *r);
void px_policy_release(px_policy_ref *r);
#endif
