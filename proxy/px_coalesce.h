/* px_coalesce.h - identical manifest GETs by tag in flight at once share one
 * registry round trip (request collapsing).
 *
 * When a deployment rolls out, many nodes pull the same tag with the same
 * credentials within milliseconds; each GET would cost the registry a tag
 * lookup and customs an upstream exchange.  The first such request (the
 * leader) goes to the registry; the ones that arrive while it is in flight
 * with the same key (repository, tag, Accept, Authorization: the request
 * the registry would answer the same way) wait.  When the leader's
 * manifest is complete and stored in px_mcache (by digest, verified), each
 * follower is resumed with that digest and served from the cache after its
 * own verdict, like a GET by digest; when the leader got no cacheable
 * manifest (an error status, a failure, too big), each follower goes to the
 * registry itself.  The answer a follower gets is one the registry gave
 * while the follower's request was in flight, so nothing stale is served.
 *
 * Keys are SHA-256 of the fields (no credential is kept in clear).
 * Ownership: entries live in ctx->coalesce and are freed once their
 * followers were resumed; a follower or leader that goes away first leaves
 * (px_coalesce_leave).  Thread: loop thread.  Errors: without memory a
 * request simply does not coalesce. */
#ifndef CUSTOMS_PX_COALESCE_H
#define CUSTOMS_PX_COALESCE_H
#include <stddef.h>

struct event_base;
typedef struct px_coalesce px_coalesce;

#define PX_COALESCE_MAX_FOLLOWERS 4096 /* per leader; past it a request goes upstream */

/* Called on the loop (from a fresh callback) for each follower once its
 * leader finished: digest is the manifest's digest now in px_mcache, or
 * NULL (go upstream). */
typedef void (*px_coalesce_resume_fn)(void *follower, const char *digest);

px_coalesce *px_coalesce_new(struct event_base *base, px_coalesce_resume_fn resume);
void px_coalesce_free(px_coalesce *c);

/* Registers `self` under the key of these fields.  Returns 1 when another
 * request with the same key is in flight (self is now its follower and
 * waits for resume), 0 when self is the leader, -1 when it cannot
 * coalesce (no memory, too many followers): it goes upstream alone. */
int px_coalesce_join(px_coalesce *c, const char *repo, const char *tag, const char *accept, const char *auth,
                     void *self);
/* The leader's outcome: digest now in px_mcache, or NULL.  Its followers
 * are resumed from a fresh loop callback. */
void px_coalesce_done(px_coalesce *c, void *leader, const char *digest);
/* self goes away: as a leader its followers are resumed with NULL; as a
 * follower it is forgotten.  Nothing if it is neither. */
void px_coalesce_leave(px_coalesce *c, void *self);
/* In-flight keys and waiting followers (for tests and debug logs). */
size_t px_coalesce_keys(const px_coalesce *c);
size_t px_coalesce_waiting(const px_coalesce *c);
#endif
