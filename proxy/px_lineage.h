/* px_lineage.h - what the proxy does when a tag moves, a local one pushed
 * through customs or a watched upstream one (px_watch.c): the gate's
 * verdicts are judged again (an image's base may now be stale), and the
 * images built on the digest the tag left are announced in a
 * base-image-updated event (sc_lineage_base_updated, px_events_emit).
 * Thread: a scan worker (any thread with its own store handle).
 * Errors: none returned; failures are logged, the push is not affected. */
#ifndef CUSTOMS_PX_LINEAGE_H
#define CUSTOMS_PX_LINEAGE_H
#include "px_server.h"
#include "sc_store.h"
#include "sc_store_lineage.h" /* SC_ORIGIN_* */

/* repo:tag (origin SC_ORIGIN_*) moved from old_digest to new_digest, both
 * recorded (a local image's layers scanned too, so that what it fixes is
 * known).  Returns the number of images named in the event (0: none was
 * sent), or -1 when they could not be listed. */
int px_lineage_tag_moved(px_ctx *ctx, sc_store *st, int origin, const char *repo, const char *tag,
                         const char *old_digest, const char *new_digest);
#endif
