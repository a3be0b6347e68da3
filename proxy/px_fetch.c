/* px_fetch.c - blob fetches from the upstream for scan workers (see
 * px_fetch.h).  No curl here: net_http does the HTTP.
 * Ownership: the caller owns the returned fd / buffer.  Thread: a scan
 * worker with its own net_http.  Errors: -1 / NULL with err set. */
#include "px_fetch.h"
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
  return net_http_new(&o, out);
}

/* One GET of repo's blob into fd (>= 0) or memory (fd < 0).  0 with rs
 * filled (status 200), else the net_http code, or SC_ERR_IO for another
 * status, with the reason in err. */
static int get_blob(net_http *http, const px_ctx *ctx, const char *repo, const char *digest, const char *auth,
                    int fd, uint64_t max_bytes, net_http_resp *rs, char *err, size_t errlen) {
  char url[FETCH_URL_MAX];
  if (!http) {
    memset(rs, 0, sizeof(*rs));
    snprintf(err, errlen, "fetching %s from the upstream: no HTTP client", digest);
    return SC_ERR_NOMEM;
  }
  snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", ctx->up_origin, repo, digest);
  net_http_req rq = {.url = url, .authorization = auth, .fd = fd, .max_bytes = max_bytes};
  int rv = net_http_get(http, &rq, rs);
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
                  const char *authorization, char *err, size_t errlen) {
  net_http_resp rs;
  int fd = sc_tmpfile_open(ctx->cfg->spool_dir, "customs-fetch");
  if (fd < 0) {
    snprintf(err, errlen, "cannot create a spool file: %s", strerror(errno));
    return -1;
  }
  int rv = get_blob(http, ctx, repo, digest, authorization, fd, PX_FETCH_BLOB_MAX_BYTES, &rs, err, errlen);
  net_http_resp_free(&rs);
  if (rv) {
    close(fd);
    return -1;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

char *px_fetch_small(net_http *http, const px_ctx *ctx, const char *repo, const char *digest,
                     const char *authorization, size_t cap, size_t *len, char *err, size_t errlen) {
  net_http_resp rs;
  if (cap == 0) {
    snprintf(err, errlen, "config blob larger than %zu bytes", cap);
    return NULL;
  }
  int rv = get_blob(http, ctx, repo, digest, authorization, -1, cap - 1, &rs, err, errlen);
  if (rv == SC_ERR_LIMIT) snprintf(err, errlen, "config blob larger than %zu bytes", cap);
  if (rv) {
    net_http_resp_free(&rs);
    return NULL;
  }
  char *body = rs.body ? rs.body : strdup(""); /* an empty 200 delivers no buffer */
  if (!body) snprintf(err, errlen, "fetching %s from the upstream: out of memory", digest);
  *len = rs.body ? rs.len : 0;
  return body;
}
