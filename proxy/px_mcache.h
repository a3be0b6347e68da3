/* px_mcache.h - a small cache of manifests fetched by digest.
 *
 * A manifest addressed by digest never changes, so a repeated GET or HEAD
 * by digest can be answered without a round trip to the registry.  Entries
 * are keyed by (repository, digest, exact Authorization value) and live
 * PX_MCACHE_TTL_S seconds: only the same credentials that just fetched the
 * manifest from the registry get it from the cache, and a revoked token
 * stops working after the TTL at the latest.  The verdict is still computed
 * for every request.  Total size is capped (oldest entries evicted).
 *
 * Ownership: the cache lives in ctx->mcache (px_server.c creates and frees
 * it); a NULL cache misses every get and ignores every put.
 * Thread: loop thread.  Errors: none reported (a cache that cannot store
 * simply misses). */
#ifndef CUSTOMS_PX_MCACHE_H
#define CUSTOMS_PX_MCACHE_H
#include <stddef.h>

#define PX_MCACHE_TTL_S 60
#define PX_MCACHE_MAX_BYTES (64u << 20)
#define PX_MCACHE_MAX_ENTRY (4u << 20)

/* Entries (one per slot: a colliding put replaces the older entry). */
#define PX_MCACHE_SLOTS 1024

typedef struct px_mcache px_mcache;

typedef struct px_mcache_hit {
  const char *content_type;
  const char *body;
  size_t len;
} px_mcache_hit;

/* NULL when out of memory (the proxy then runs without a cache). */
px_mcache *px_mcache_new(void);
void px_mcache_free(px_mcache *c);
/* Returns 1 and fills hit (valid until the next px_mcache call) on a hit. */
int px_mcache_get(px_mcache *c, const char *repo, const char *digest, const char *auth, px_mcache_hit *hit);
/* Stores a copy; silently does nothing when too large or out of memory. */
void px_mcache_put(px_mcache *c, const char *repo, const char *digest, const char *auth, const char *content_type,
                   const void *body, size_t len);
void px_mcache_clear(px_mcache *c);
#endif
