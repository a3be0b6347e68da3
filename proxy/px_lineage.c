/* px_lineage.c - a tag moved: invalidate verdicts, announce the images
 * built on the old digest (see px_lineage.h).
 * Thread: a scan worker or the watch thread.  Errors: logged only. */
#include "px_lineage.h"

#include "px_events.h"
#include "px_gate.h"
#include "px_log.h"
#include "sc_lineage.h"
#include "sc_store_replica.h"

int px_lineage_tag_moved(px_ctx *ctx, sc_store *st, int origin, const char *repo, const char *tag,
                         const char *old_digest, const char *new_digest) {
  const char *what = origin == SC_ORIGIN_WATCH ? "watch" : "lineage";
  size_t n = 0;
  /* the staleness of every image on the old digest changed: here, and
   * on every replica sharing the database */
  px_gate_invalidate(ctx);
  if (sc_verdict_epoch_bump(st) != 0)
    px_warn("%s: %s:%s moved: other replicas' cached verdicts not invalidated: %s", what, repo, tag,
            sc_store_errmsg(st));
  json_t *payload = sc_lineage_base_updated(st, origin, repo, tag, old_digest, new_digest, &n);
  if (!payload) {
    px_error("%s: %s:%s moved %s -> %s: cannot list the images built on it: %s", what, repo, tag, old_digest,
             new_digest, sc_store_errmsg(st));
    return -1;
  }
  px_info("%s: %s:%s moved %s -> %s: %zu image(s) built on the old one", what, repo, tag, old_digest, new_digest, n);
  /* nothing to rebuild: nothing to announce */
  if (n == 0) {
    json_decref(payload);
    return 0;
  }
  char id[40] = "";
  if (px_events_emit(ctx->events, st, PX_EVENT_BASE_UPDATED, payload, id) != 0)
    px_error("%s: %s:%s: the %s event was not recorded", what, repo, tag, PX_EVENT_BASE_UPDATED);
  else if (id[0])
    px_info("event %s %s: %s:%s, %zu image(s)", PX_EVENT_BASE_UPDATED, id, repo, tag, n);
  return (int)n;
}
