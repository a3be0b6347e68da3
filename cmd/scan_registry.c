/* scan_registry.c - the docker://HOST[:PORT]/REPO[:TAG|@DIGEST] target: an
 * image read from a registry (Docker Registry HTTP API v2) through the
 * outbound client net_http (token flow, redirects, TLS, caps live there).
 *
 * Plain http is used for 127.0.0.1, localhost and [::1], and everywhere when
 * CUSTOMS_INSECURE=1; https with the system CAs otherwise.  Manifests and
 * the config are read into memory (capped); each layer is downloaded to an
 * unlinked file in the spool directory, then scanned and checked against its
 * digest.  The image is stored as repository REPO (without the host).
 * Credentials (scan_creds.c) answer the registry's token realm or its Basic
 * challenge. */
#include "net_http.h"
#include "scan_target.h"
#include "sc_file.h"
#include "sc_tmpfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGISTRY_INDEX_DEPTH_MAX 3        /* index -> child image: more is refused */
#define REGISTRY_LAYER_MAX_BYTES (64ull << 30) /* as sc_limits' uncompressed cap: more cannot scan */

static const char *const ACCEPT_MANIFEST =
    SC_MT_OCI_MANIFEST ", " SC_MT_DOCKER_MANIFEST ", " SC_MT_OCI_INDEX ", " SC_MT_DOCKER_LIST;

typedef struct reg {
  net_http *h;
  char host[256];               /* HOST[:PORT], as in the target */
  char base[512];               /* scheme://host[:port] */
  char repo[512];
  char scope[600];              /* "repository:REPO:pull" */
} reg;

/* GET base+path; 0 only for a 200.  Messages name the URL. */
static int reg_get(scan_job *j, reg *r, const char *path, const char *accept, int fd, uint64_t cap,
                   net_http_resp *rs) {
  char url[2048];
  snprintf(url, sizeof(url), "%s%s", r->base, path);
  net_http_req rq = {.url = url, .accept = accept, .scope = r->scope, .fd = fd, .max_bytes = cap};
  int rv = net_http_registry_get(r->h, &rq, rs);
  if (rv) {
    fprintf(stderr, "customs: %s: %s\n", j->target, rs->error);
    return rv;
  }
  if (rs->status == 200) return 0;
  fprintf(stderr, "customs: %s: %s\n", j->target, rs->error);
  return rs->status == 404 ? SC_ERR_NOTFOUND : SC_ERR_IO;
}

/* Parses HOST/REPO[:TAG|@DIGEST] into r and ref (default "latest"). */
static int parse_spec(scan_job *j, reg *r, const char *spec, char *ref, size_t refcap) {
  char host[256];
  const char *slash = strchr(spec, '/');
  if (!slash || slash == spec || (size_t)(slash - spec) >= sizeof(host)) {
    scan_job_fail(j, "expected docker://HOST[:PORT]/REPO[:TAG]");
    return SC_ERR_ARG;
  }
  memcpy(host, spec, (size_t)(slash - spec));
  host[slash - spec] = 0;
  snprintf(r->host, sizeof(r->host), "%s", host);
  snprintf(r->repo, sizeof(r->repo), "%s", slash + 1);
  char *at = strchr(r->repo, '@'), *colon = strrchr(r->repo, ':');
  snprintf(ref, refcap, "latest");
  if (at) {
    snprintf(ref, refcap, "%s", at + 1);
    *at = 0;
  } else if (colon && !strchr(colon, '/')) {
    snprintf(ref, refcap, "%s", colon + 1);
    *colon = 0;
  }
  if (!at && !(j->tag = strdup(ref))) return SC_ERR_NOMEM;
  for (const char *p = r->repo; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-/", *p))) {
      scan_job_fail(j, "invalid repository name '%s'", r->repo);
      return SC_ERR_ARG;
    }
  if (!r->repo[0]) return SC_ERR_ARG;
  if (!(j->repo = strdup(r->repo))) return SC_ERR_NOMEM;
  const char *ins = getenv("CUSTOMS_INSECURE");
  int plain = (ins && !strcmp(ins, "1")) || !strncmp(host, "127.0.0.1", 9) || !strncmp(host, "localhost", 9) ||
              !strncmp(host, "[::1]", 5);
  snprintf(r->base, sizeof(r->base), "%s://%s", plain ? "http" : "https", host);
  snprintf(r->scope, sizeof(r->scope), "repository:%s:pull", r->repo);
  return 0;
}

/* The manifest for ref into j->man/j->digest, following an index. */
static int load_manifest(scan_job *j, reg *r, char *ref, size_t refcap) {
  char path[1200];
  for (int depth = 0;; depth++) {
    net_http_resp rs;
    snprintf(path, sizeof(path), "/v2/%s/manifests/%s", r->repo, ref);
    int rv = reg_get(j, r, path, ACCEPT_MANIFEST, -1, SC_MANIFEST_MAX_BYTES, &rs);
    if (!rv) {
      rv = sc_digest_sha256(rs.body ? rs.body : "", rs.len, j->digest);
      /* a digest reference must match what came back */
      if (!rv && strchr(ref, ':') && strcmp(ref, j->digest)) rv = SC_ERR_DIGEST;
      sc_manifest_free(&j->man);
      if (!rv) rv = sc_manifest_parse(rs.body ? rs.body : "", rs.len, rs.content_type, &j->man);
    }
    net_http_resp_free(&rs);
    if (rv) {
      scan_job_fail(j, "manifest: %s", customs_strerror(rv));
      return rv;
    }
    if (j->man.kind == SC_MANIFEST_IMAGE) return 0;
    int k = sc_manifest_pick(&j->man, "linux", "amd64", NULL);
    if (k < 0 && j->man.nchildren == 1) k = 0;
    if (k < 0 || depth >= REGISTRY_INDEX_DEPTH_MAX) {
      scan_job_fail(j, "index has no linux/amd64 image");
      return SC_ERR_NOTFOUND;
    }
    snprintf(ref, refcap, "%s", j->man.children[k].digest);
  }
}

static int load_config(scan_job *j, reg *r) {
  char path[1200];
  net_http_resp rs;
  if (!j->man.config_digest) return 0;
  snprintf(path, sizeof(path), "/v2/%s/blobs/%s", r->repo, j->man.config_digest);
  int rv = reg_get(j, r, path, NULL, -1, SCAN_SMALL_MAX_BYTES, &rs);
  if (rv) {
    net_http_resp_free(&rs);
    scan_job_fail(j, "config blob: %s", customs_strerror(rv));
    return rv;
  }
  j->config = rs.body;
  j->config_len = rs.len;
  return 0;
}

static int scan_layers(scan_job *j, reg *r) {
  char path[1200];
  int rv = scan_job_alloc(j, j->man.nlayers);
  for (size_t i = 0; !rv && i < j->n; i++) {
    const char *ld = j->man.layers[i].digest;
    net_http_resp rs;
    if (scan_job_try_stored(j, i, ld)) continue;
    int fd = sc_tmpfile_open(j->spool_dir, "customs-layer");
    if (fd < 0) {
      scan_job_fail(j, "temp file in %s: %s", j->spool_dir, strerror(errno));
      return SC_ERR_IO;
    }
    snprintf(path, sizeof(path), "/v2/%s/blobs/%s", r->repo, ld);
    scan_job_progress(j, i, "fetching");
    rv = reg_get(j, r, path, NULL, fd, REGISTRY_LAYER_MAX_BYTES, &rs);
    net_http_resp_free(&rs);
    if (rv) scan_job_fail(j, "layer %s not fetched", ld);
    else if (lseek(fd, 0, SEEK_SET) != 0) rv = SC_ERR_IO;
    else rv = scan_job_scan_fd(j, i, fd, ld);
    close(fd);
  }
  return rv;
}

int scan_registry(scan_job *j, const char *spec) {
  reg r;
  char ref[200];
  memset(&r, 0, sizeof(r));
  int rv = parse_spec(j, &r, spec, ref, sizeof(ref));
  if (rv) return rv;
  char user[256], pass[SC_SECRET_MAX_BYTES];
  if (scan_creds_for(j, r.host, user, sizeof(user), pass, sizeof(pass)) != 0) return SC_ERR_ARG;
  net_http_opts o = {.username = user[0] ? user : NULL, .password = user[0] ? pass : NULL};
  rv = net_http_new(&o, &r.h);
  explicit_bzero(pass, sizeof(pass)); /* net_http keeps its own copy */
  if (rv) return rv;
  if (!(rv = load_manifest(j, &r, ref, sizeof(ref))) && !(rv = load_config(j, &r))) rv = scan_layers(j, &r);
  net_http_free(r.h);
  return rv;
}
