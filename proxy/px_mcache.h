/* px_mcache.h - a small cache of manifests fetched by digest.
 *
 * A manifest addressed by digest never changes, so a repeated GET or HEAD
 * by digest can be answered without a round trip to the registry.  Entries
 * are keyed by (repository, digest, exact Authorization value) and live
 * PX_MCACHE_TTL_S seconds: only the same credentials that just fetched the
 * manifest from the registry get it from the cache, and a revoked token
 * stops working after the TTL at the latest.  The verdict is still computed
 * for every request.  Total size is capped (oldest entries evicted). */
#ifndef CUSTOMS_PX_MCACHE_H
#define CUSTOMS_PX_MCACHE_H
#include <stddef.h>

#define PX_MCACHE_TTL_S 60
#define PX_MCACHE_MAX_BYTES (64u << 20)
#define PX_MCACHE_MAX_ENTRY (4u << 20)

typedef struct px_mcache_hit {
  const char *content_type;
  const char *body;
  size_t len;
} px_mcache_hit;

/* Returns 1 and fills hit (valid until the next px_mcache call) on a hit. */
int px_mcache_get(const char *repo, const char *digest, const char *auth, px_mcache_hit *hit);
/* Stores a copy; silently does nothing when too large or out of memory. */
void px_mcache_put(const char *repo, const char *digest, const char *auth, const char *content_type,
                   const void *body, size_t len);
void px_mcache_clear(void);
#endif
