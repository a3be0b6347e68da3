/* px_admin.h - the admin listener: `--admin-listen ADDR:PORT` (config
 * admin.listen, admin.token_file).  A separate HTTP/1.1 listener on the
 * proxy's loop, never on the registry port, serving:
 *   GET /healthz   200 "ok" while the process runs;
 *   GET /readyz    200 when the database answers (on a database thread),
 *                  the policy is valid and the upstream answers GET /v2/
 *                  (any HTTP status; probed at most once per 5 s); 503
 *                  otherwise.  Both: {"ready", "checks": {"database",
 *                  "policy", "upstream"} ("ok" or the reason),
 *                  "policy_last_error" (only after a refused reload)};
 *   GET /metrics   Prometheus text (px_metrics_render);
 *   GET /api/...   the JSON API below (no SQL on the loop: every query
 *                  runs on the database threads, px_dbq);
 *   GET /          the dashboard (px_dash.h), embedded assets only.
 * With admin.token_file, every path but /healthz and the dashboard's own
 * static files (they hold no data; the page asks for the token and sends
 * it to /api) needs `Authorization: Bearer TOKEN` (401 otherwise; compared
 * in constant time; never logged).  A non-loopback address without a token file is refused
 * at start.
 *
 * The JSON API (the dashboard uses nothing else; all answers are JSON
 * objects, errors {"error": "..."} with 400/401/404/405/500/503; unknown
 * or repeated parameters are 400; times are unix seconds):
 *   GET /api/summary
 *     {"images", "repositories", "denied", "warned", "allowed", "unscanned",
 *      "vulndb": {"generation", "last_import", "records"},
 *      "policy": {"generation", "mode", "path"}, "version",
 *      "judged", "verdicts_complete"}  (verdict counts cover the newest
 *      2,000 images; verdicts_complete false when there are more)
 *   GET /api/repositories?q=TEXT&page=N&per_page=M
 *     {"total", "page", "per_page", "more", "repositories": [{"name",
 *      "images", "tags"}]}
 *   GET /api/images?repository=NAME&verdict=allow|warn|deny|unscanned&q=TEXT&page=N&per_page=M
 *     {"total", "page", "per_page", "images": [{"repository", "tag" (null:
 *      untagged), "digest", "kind", "pushed_at", "verdict", "rule",
 *      "counts": {"critical", "high", "medium", "low", "unknown"},
 *      "stale_base": bool}], "more", "total_exact", "judged"}
 *     (per_page at most 200; newest first; verdicts computed for the page
 *     only.  With verdict=, candidates are judged newest first until the
 *     page is full, at most 2,000 per request: "total" is then the matches
 *     seen so far and "total_exact" false when it stopped early.  An
 *     index's counts are the largest per severity among its platforms.)
 *   GET /api/image?repository=NAME&reference=TAG|DIGEST
 *     {"repository", "reference", "digest", "kind", "verdict": {"decision",
 *      "rule", "message", "reasons"}, "counts", "findings": [{"id",
 *      "aliases", "package", "version", "fixed", "severity", "score"}],
 *      "packages": [{"name", "version", "type", "ecosystem", "purl"}],
 *      "secrets": [{"path", "rule", "line"}], "layers": [{"digest", "status",
 *      "error"}], "children": [{"digest", "platform"}] (an index),
 *      "config": {"os", "architecture", "user", "created", "runs_as_root"},
 *      "os": {"id", "version_id"}, "findings_total", "findings_truncated"
 *      (over 1,000), "packages_total", "packages_truncated" (over 5,000),
 *      "secrets_truncated" (over 500),
 *      "lineage": (sc_lineage_describe, or null), "annotations": []}
 *     (findings also carry "ecosystem" and "purl"; "severity" is a name)
 *   GET /api/decisions?repository=NAME&verdict=V&before=ID&limit=N
 *     {"decisions": [{"id", "at", "client", "repository", "reference",
 *      "digest", "method", "verdict", "rule", "user_agent"}],
 *      "next_before": ID or null}           (newest first, limit <= 500)
 *   GET /api/policy
 *     {"path", "generation", "loaded_at", "last_error" (null: none),
 *      "mode", "rules" (how many), "exceptions": [{"vulnerability",
 *      "repositories", "package" ("ECO/NAME@VERSION" or null), "expires"
 *      ("YYYY-MM-DD" or null), "reason", "expired", "expires_in_days",
 *      "line"}]}
 *   GET /api/vulndb
 *     {"generation", "last_import", "records", "sources": [...],
 *      "ecosystems": {"Debian:12": N, ...}}
 *   GET /api/lineage?repository=NAME&reference=TAG   (sc_lineage_describe)
 *   GET /api/events?limit=N (<= 200, default 50)
 *     {"deliveries": [{"id", "event", "type", "status", "attempts",
 *      "last_status", "last_error", "created_at", "next_at",
 *      "delivered_at"}]}  (newest first; never the URL or the body: a
 *      webhook URL may carry a secret)
 *
 * Owner: ctx->admin.  Thread: the loop (handlers), database threads
 * (queries).  Errors: start returns 0 or SC_ERR_* (a bad address, a
 * refused non-loopback address, an unreadable token file). */
#ifndef CUSTOMS_PX_ADMIN_H
#define CUSTOMS_PX_ADMIN_H
#include "px_server.h"

#define PX_ADMIN_MAX_PER_PAGE 200
#define PX_ADMIN_MAX_DECISIONS 500

/* Starts the listener when cfg->admin_listen is set (ctx->admin stays NULL
 * otherwise). */
int px_admin_start(px_ctx *ctx);
void px_admin_stop(px_ctx *ctx);
#endif
