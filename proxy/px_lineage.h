/* px_lineage.h - what the proxy does when a local tag moves: the gate's
 * verdicts are judged again (an image's base may now be stale), and the
 * images built on the digest the tag left are announced in a
 * base-image-updated event (sc_lineage_base_updated, px_events_emit).
 * Thread: a scan worker (any thread with its own store handle).
 * Errors: none returned; failures are logged, the push is not affected. */
#ifndef CUSTOMS_PX_LINEAGE_H
#define CUSTOMS_PX_LINEAGE_H
#include "px_server.h"
#include "sc_store.h"

/* repo:tag moved from old_digest to new_digest (recorded, and the new
 * image's layers scanned, so that what it fixes is known). */
void px_lineage_tag_moved(px_ctx *ctx, sc_store *st, const char *repo, const char *tag, const char *old_digest,
                          const char *new_digest);
#endif
