/* px_fetch.c - blob fetches from the upstream for scan workers (see
 * px_fetch.h).  No curl here: net_http does the HTTP.
 * Ownership: the caller owns the returned fd / buffer.  Thread: a scan
 * worker with its own net_http.  Errors: -1 / NULL with err set. */
#include "px_fetch.h"
#include "px_creds.h"
#include "px_log.h"
#include "net_http.h"
#include "sc_inventory.h" /* SC_ERR_* */
#include "sc_tmpfile.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FETCH_URL_MAX (PX_PATH_MAX + 600) /* origin + /v2/REPO/blobs/DIGEST */

int px_fetch_client_new(const px_config *cfg, net_http **out) {
  net_http_opts o = {
      .ca_file = cfg->upstream_ca[0] ? cfg->upstream_ca : NULL,
      .insecure = cfg->upstream_insecure,
      .connect_timeout_ms = cfg->connect_timeout_ms,
      .idle_timeout_s = (cfg->upstream_timeout_ms + 999) / 1000,
  };
  px_creds cr;
  char err[300];
  if (px_creds_load(cfg, &cr, err, sizeof(err)) != 0) { /* checked at startup: the file went away since */
    px_error("upstream credentials: %s: customs' own fetches go without them", err);
  }
  px_creds_apply(&cr, &o);
  int rv = net_http_new(&o, out);
  px_creds_wipe(&cr);
  return rv;
}

/* Customs' own identity refused (or no token for it): said once per
 * process (every fetch would say it again), never with the credentials:
 * `why` is net_http's error or the status. */
static void own_refused(const char *repo, const char *why) {
  static int said;
  if (__atomic_exchange_n(&said, 1, __ATOMIC_SEQ_CST)) return;
  px_warn("upstream.username: the upstream refused customs' own credentials (%s, repository %s): "
          "using the pulling client's Authorization instead (said once)",
          why, repo);
}

/* One GET of repo's blob into fd (>= 0) or memory (fd < 0).  Customs' own
 * identity (or, with none, an anonymous token) goes first unless only the
 * client's Authorization can work; a 401/403, or a token flow that failed
 * (the realm refused customs' credentials), then falls back to the
 * client's (its pull was allowed, this fetch only feeds its verdict).  The
 * fd is emptied before the fallback.  0 with rs filled (status 200), else
 * the net_http code, or SC_ERR_IO for another status, with the reason in
 * err. */
static int get_blob(net_http *http, const px_ctx *ctx, const char *repo, const char *digest, const char *auth,
                    const int *abort_flag, int fd, uint64_t max_bytes, net_http_resp *rs, char *err,
                    size_t errlen) {
  char url[FETCH_URL_MAX], scope[PX_PATH_MAX + 32];
  if (!http) {
    memset(rs, 0, sizeof(*rs));
    snprintf(err, errlen, "fetching %s from the upstream: no HTTP client", digest);
    return SC_ERR_NOMEM;
  }
  snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", ctx->up_origin, repo, digest);
  snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
  int own = ctx->cfg->upstream_username[0] != 0, rv = 0;
  if (own || !auth) {
    net_http_req rq = {.url = url, .scope = scope, .fd = fd, .max_bytes = max_bytes, .abort_flag = abort_flag};
    rv = net_http_registry_get(http, &rq, rs);
    int refused = rv == 0 ? rs->status == 401 || rs->status == 403 : rv == SC_ERR_IO;
    int stopped = abort_flag && __atomic_load_n(abort_flag, __ATOMIC_SEQ_CST);
    if (refused && auth && !stopped) { /* the client's own, below */
      char why[300];
      if (rv) snprintf(why, sizeof(why), "%s", rs->error);
      else snprintf(why, sizeof(why), "HTTP %ld", rs->status);
      if (own) own_refused(repo, why);
      net_http_resp_free(rs);
      if (fd >= 0 && (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)) auth = NULL;
    } else {
      auth = NULL; /* this answer stands */
    }
  }
  if (auth) {
    net_http_req rq = {.url = url, .authorization = auth, .fd = fd, .max_bytes = max_bytes, .abort_flag = abort_flag};
    rv = net_http_get(http, &rq, rs);
  }
  if (rv || rs->status != 200) {
    snprintf(err, errlen, "fetching %s from the upstream: %s", digest,
             rv ? rs->error
                : rs->status == 401 || rs->status == 403 ? "not authorized"
                                                         : "HTTP error");
    return rv ? rv : SC_ERR_IO;
  }
  return 0;
}

int px_fetch_blob(net_http *http, const px_ctx *ctx, const char *repo, const char *digest,
                  const char *authorization, const int *abort_flag, char *err, size_t errlen) {
  net_http_resp rs;
  int fd = sc_tmpfile_open(ctx->cfg->spool_dir, "customs-fetch");
  if (fd < 0) {
    snprintf(err, errlen, "cannot create a spool file: %s", strerror(errno));
    return -1;
  }
  int rv = get_blob(http, ctx, repo, digest, authorization, abort_flag, fd, PX_FETCH_BLOB_MAX_BYTES, &rs, err, errlen);
  net_http_resp_free(&rs);
  if (rv) {
    close(fd);
    return -1;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

char *px_fetch_small(net_http *http, const px_ctx *ctx, const char *repo, const char *digest,
                     const char *authorization, const int *abort_flag, size_t cap, size_t *len, char *err,
                     size_t errlen) {
  net_http_resp rs;
  if (cap == 0) {
    snprintf(err, errlen, "blob %.80s larger than %zu bytes", digest, cap);
    return NULL;
  }
  int rv = get_blob(http, ctx, repo, digest, authorization, abort_flag, -1, cap - 1, &rs, err, errlen);
  if (rv == SC_ERR_LIMIT) snprintf(err, errlen, "blob %.80s larger than %zu bytes", digest, cap);
  if (rv) {
    net_http_resp_free(&rs);
    return NULL;
  }
  char *body = rs.body ? rs.body : strdup(""); /* an empty 200 delivers no buffer */
  if (!body) snprintf(err, errlen, "fetching %s from the upstream: out of memory", digest);
  *len = rs.body ? rs.len : 0;
  return body;
}
