/* scan_job.c - the steps every scan target shares (see scan_job.h). */
#include "scan_job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scan_job_fail(const scan_job *j, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "customs: %s: ", j->target);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int scan_job_alloc(scan_job *j, size_t n) {
  if (n > SCAN_MAX_LAYERS) return SC_ERR_LIMIT;
  j->n = n;
  j->inv = calloc(n ? n : 1, sizeof(*j->inv));
  j->res = calloc(n ? n : 1, sizeof(*j->res));
  j->status = calloc(n ? n : 1, sizeof(*j->status));
  if (!j->inv || !j->res || !j->status) return SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    sc_inventory_init(&j->inv[i]);
    snprintf(j->status[i], sizeof(j->status[i]), "missing");
  }
  return 0;
}

void scan_job_free(scan_job *j) {
  for (size_t i = 0; j->inv && i < j->n; i++) sc_inventory_free(&j->inv[i]);
  free(j->inv);
  free(j->res);
  free(j->status);
  free(j->repo);
  free(j->tag);
  free(j->image);
  free(j->config);
  sc_manifest_free(&j->man);
}

int scan_job_try_stored(scan_job *j, size_t i, const char *digest) {
  char st[16];
  if (!j->st || !digest || sc_store_layer_status(j->st, digest, st) || strcmp(st, "ok")) return 0;
  if (sc_store_load_layer(j->st, digest, &j->inv[i])) {
    sc_inventory_free(&j->inv[i]);
    sc_inventory_init(&j->inv[i]);
    return 0;
  }
  snprintf(j->res[i].digest, sizeof(j->res[i].digest), "%s", digest);
  snprintf(j->status[i], sizeof(j->status[i]), "ok");
  return 1;
}

int scan_job_layer_done(scan_job *j, size_t i, const char *expect) {
  sc_layer_result *r = &j->res[i];
  if (expect && r->digest[0] && strcmp(r->digest, expect) != 0) {
    r->status = SC_ERR_DIGEST;
    snprintf(r->error, sizeof(r->error), "content digest %s does not match %s", r->digest, expect);
  }
  snprintf(j->status[i], sizeof(j->status[i]), "%s",
           r->status == 0 ? "ok" : r->status == SC_ERR_IO ? "partial" : "failed");
  /* a mismatching blob is stored under what it really is */
  if (j->st && r->digest[0] && sc_store_put_layer(j->st, r->digest, r, &j->inv[i]) != 0) {
    fprintf(stderr, "customs: store layer %s: %s\n", r->digest, sc_store_errmsg(j->st));
    return SC_ERR_DB;
  }
  return 0;
}

void scan_job_progress(scan_job *j, size_t i, const char *verb) {
  if (!j->progress) return;
  fprintf(stderr, "\r\033[K%s: %s layer %zu/%zu", j->target, verb, i + 1, j->n);
  fflush(stderr);
  j->progress_drawn = 1;
}

void scan_job_progress_end(scan_job *j) {
  if (j->progress_drawn) fprintf(stderr, "\r\033[K");
  j->progress_drawn = 0;
}

int scan_job_scan_fd(scan_job *j, size_t i, int fd, const char *expect) {
  scan_job_progress(j, i, "scanning");
  int rv = sc_layer_scan_fd(fd, &j->lim, &j->inv[i], &j->res[i]);
  if (rv && rv != SC_ERR_IO) return rv;
  if (rv == SC_ERR_IO && !j->res[i].error[0]) snprintf(j->res[i].error, sizeof(j->res[i].error), "read failed");
  return scan_job_layer_done(j, i, expect);
}

/* Declared in scan_target.h: the containers-transports(5) rule for
 * "PATH[:REF]", shared by the oci: and docker-archive: targets. */
#include "scan_target.h"
int scan_split_path_ref(const char *spec, char *path, size_t cap, const char **ref) {
  const char *c = strchr(spec, ':');
  size_t n = c ? (size_t)(c - spec) : strlen(spec);
  if (n == 0 || n >= cap) return -1;
  memcpy(path, spec, n);
  path[n] = 0;
  *ref = c && c[1] ? c + 1 : NULL;
  return 0;
}
