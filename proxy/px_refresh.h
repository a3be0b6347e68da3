/* px_refresh.h - vulnerability data refreshed by the daemon: every
 * db.refresh seconds (and once at start) each of db.sources (OSV zip files,
 * directories, JSON files, or http(s) URLs of them) is imported, then every
 * stored image is re-matched.  It runs on its own thread with its own
 * database connection.  A URL is downloaded (net_http: system CAs, at most
 * 2 GiB, stopped by px_refresh_stop) to a file in scan.spool_dir first and
 * only a complete, successful download is imported; an import is one transaction
 * per source, so a failed or partial source never replaces good data.
 * Downloads are conditional GETs with the validators (ETag, Last-Modified)
 * of the last import of that URL (kept in the store, so across restarts):
 * an unchanged export answers 304 and costs no transfer.  A connection
 * failure, 429 or 5xx is tried again (3 tries, 2 s then 8 s apart).  With
 * no vulnerability data at all, a warning says so at start and after every
 * refresh that imported nothing.
 *
 * Errors: px_refresh_start returns 0 or SC_ERR_NOMEM. */
#ifndef CUSTOMS_PX_REFRESH_H
#define CUSTOMS_PX_REFRESH_H
#include "px_server.h"
/* The refresh thread's state, ctx->refresh (NULL when no thread runs). */
typedef struct px_refresh px_refresh;
int px_refresh_start(px_ctx *ctx);
void px_refresh_stop(px_ctx *ctx);
#endif
