/* px_scanwork.c - what a scan worker does with a job: scan a layer from
 * the upload's byte queue or fetched from the upstream, or process a pushed
 * manifest (px_scan_image: record it, fetch and check its config, fetch and
 * scan the layers the store does not have), then record the outcome and
 * wake the loop.  px_scan_image is also what the background sync
 * (px_sync.c) runs, on its own thread with its own px_worker, no job.
 *
 * Ownership: the job stays alive through the worker's reference until
 * done_cb (loop thread) drops it; fetched files and buffers are freed here.
 * Thread: a pool worker, with its own px_worker (database, HTTP client), or
 * the sync thread with its own.
 * Errors: a job that fails is broken with a one-line reason
 * (px_job_error); px_scan_image returns SC_ERR_* with that reason. */
#include "px_annotate.h"
#include "px_eventsrc.h"
#include "px_fetch.h"
#include "px_lineage.h"
#include "px_log.h"
#include "px_metrics.h"
#include "px_replica.h"
#include "px_scan_int.h"
#include "px_vexref.h"
#include "sc_config.h"
#include "sc_image.h"
#include "sc_referrers.h"
#include "sc_store.h"
#include "sc_store_replica.h"
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (1024 * 1024) /* an image config larger than this is refused */

/* Marks the job finished and tells the loop (the last touch of j here). */
static void finish_job(px_job *j) {
  px_jobq_close(&j->q);
  event_active(j->done_ev, 0, 0);
}

static void fail_job(px_job *j, const char *why) { px_jobq_break(&j->q, why); }

/* Scans one layer (from a job's stream q, or fetched from repo with auth)
 * and stores it.  `digest` is the expected digest for fetches, NULL for
 * streams. */
static int scan_layer_now(px_ctx *ctx, px_worker *w, const char *repo, const char *auth, px_jobq *q,
                          const char *digest, sc_layer_result *res, char *err, size_t errlen) {
  sc_store *store = w->store;
  sc_limits lim;
  sc_inventory inv;
  int rc, fd = -1;
  int64_t t0 = px_now_ms();

  sc_limits_default(&lim);
  lim.spool_dir = ctx->cfg->spool_dir; /* the catalogers' temp files */
  sc_inventory_init(&inv);
  memset(res, 0, sizeof(*res));
  if (digest) {
    fd = px_fetch_blob(w->http, ctx, repo, digest, auth, w->abort_flag, err, errlen);
    if (fd < 0) {
      rc = SC_ERR_IO;
    } else {
      rc = sc_layer_scan_fd(fd, &lim, &inv, res);
      close(fd);
      if (rc == 0 && strcmp(res->digest, digest) != 0) {
        rc = SC_ERR_DIGEST;
        snprintf(err, errlen, "fetched blob does not match %s", digest);
      }
    }
  } else {
    /* by reference: the scanner reads the queued chunks in place */
    rc = sc_layer_scan_ref(px_jobq_peek, px_jobq_consume, q, &lim, &inv, res);
    if (rc != 0) snprintf(err, errlen, "%s", res->error[0] ? res->error : "upload stream incomplete");
  }
  /* Config blobs and other artifacts are uploaded like layers: a small
   * stream that is not an archive at all is not recorded as a failed layer
   * (if a manifest lists it as a layer, it is fetched and recorded then). */
  int not_archive = !digest && res->status != 0 && res->entries == 0 && !strcmp(res->compression, "none") &&
                    res->compressed_size < SC_MANIFEST_MAX_BYTES;
  if (rc == 0 && not_archive) {
    px_debug("blob %s (%llu bytes) is not a layer archive", res->digest, (unsigned long long)res->compressed_size);
  } else if (rc == 0) {
    /* clean or not, the content was seen whole: record it (a failed scan is
     * a fact the report and the policy need) */
    if (!store || sc_store_put_layer(store, res->digest, res, &inv) != 0) {
      px_error("scan %s: cannot store the result%s%s", res->digest, store ? ": " : "",
               store ? sc_store_errmsg(store) : "");
      rc = SC_ERR_DB;
      snprintf(err, errlen, "database error");
    } else {
      px_info("scan layer=%s repo=%s via=%s bytes=%llu entries=%llu packages=%zu secrets=%zu status=%s%s%s ms=%lld",
              res->digest, repo, digest ? "fetch" : "upload", (unsigned long long)res->compressed_size,
              (unsigned long long)res->entries, inv.npkgs, inv.nsecrets, res->status ? "failed" : "ok",
              res->status ? ": " : "", res->status ? res->error : "", (long long)(px_now_ms() - t0));
    }
  }
  /* a blob that is not a layer archive was not a layer scan */
  if (!(rc == 0 && not_archive))
    px_metrics_scan(ctx, "layer", (double)(px_now_ms() - t0) / 1000.0, rc == 0 && res->status == 0);
  sc_inventory_free(&inv);
  return rc;
}

/* scan_layer_now, but a fetch is first claimed for this replica
 * (px_replica.h): while another replica scans the same layer, its result
 * is waited for (scan.wait_ms) instead of fetching and scanning it twice. */
static int scan_layer(px_ctx *ctx, px_worker *w, const char *repo, const char *auth, px_jobq *q, const char *digest,
                      sc_layer_result *res, char *err, size_t errlen) {
  if (!digest) return scan_layer_now(ctx, w, repo, auth, q, NULL, res, err, errlen);
  char holder[SC_REPLICA_ID_BYTES], status[16];
  px_claim c = px_replica_claim_layer(ctx, w->store, digest, ctx->cfg->scan_wait_ms, holder, sizeof(holder));
  if (c == PX_CLAIM_STORED) { /* another replica's result, as if scanned here */
    memset(res, 0, sizeof(*res));
    snprintf(res->digest, sizeof(res->digest), "%s", digest);
    if (sc_store_layer_status(w->store, digest, status) == 0 && strcmp(status, "ok") != 0) {
      res->status = SC_ERR_FORMAT;
      snprintf(res->error, sizeof(res->error), "scanned by another replica: %s", status);
    }
    px_info("scan layer=%s repo=%s via=replica status=%s", digest, repo, res->status ? status : "ok");
    return 0;
  }
  if (c == PX_CLAIM_BUSY) {
    memset(res, 0, sizeof(*res));
    snprintf(err, errlen, "still being scanned by replica %s after %d ms", holder, ctx->cfg->scan_wait_ms);
    return SC_ERR_STATE;
  }
  int rc = scan_layer_now(ctx, w, repo, auth, q, digest, res, err, errlen);
  if (c == PX_CLAIM_MINE) px_replica_release_layer(ctx, w->store, digest);
  return rc;
}

/* An artifact (signature, SBOM, ...): no runtime unpacks it.  Its blobs
 * that are not layers are not scanned and do not count; blobs typed as
 * layers still are, so a denied layer cannot ride along. */
static void keep_artifact_layers(const char *repo, const char *digest, sc_manifest *m) {
  size_t k = 0;
  for (size_t i = 0; i < m->nlayers; i++) {
    if (sc_media_is_layer(m->layers[i].media_type)) {
      m->layers[k++] = m->layers[i];
      continue;
    }
    free(m->layers[i].digest);
    free(m->layers[i].media_type);
  }
  px_info("manifest %s@%s: artifact (config %s): %zu of %zu blob(s) are layers", repo, digest,
          m->config_media_type, k, m->nlayers);
  m->nlayers = k;
}

/* The reason of a failed image, as fail_job took it; rc returned. */
static int image_fail(char *err, size_t errlen, int rc, const char *why) {
  snprintf(err, errlen, "%s", why);
  return rc;
}

/* Before each blob fetch: the caller's pacing (the sync's rate limit), which
 * also says when to stop (shutdown). */
static int may_fetch(px_worker *w) { return !w->before_fetch || w->before_fetch(w->before_fetch_arg) == 0; }

int px_scan_image(px_ctx *ctx, px_worker *w, const char *repo, const char *tag, const char *digest,
                  const char *ctype, const char *body, size_t len, const char *client_auth, char *err,
                  size_t errlen) {
  sc_store *store = w->store;
  sc_manifest m;
  char ferr[256] = "", *config = NULL;
  size_t configlen = 0;
  int rc;

  if (tag && !tag[0]) tag = NULL;
  if (!store || !body) return image_fail(err, errlen, SC_ERR_DB, "no database");
  rc = sc_manifest_parse(body, len, ctype && ctype[0] ? ctype : NULL, &m);
  if (rc != 0) {
    sc_manifest_free(&m);
    px_info("manifest %s@%s: not an image manifest or index we read (%d): recorded nothing", repo, digest, rc);
    return image_fail(err, errlen, rc, "manifest not understood");
  }
  if (sc_manifest_is_artifact(&m)) {
    keep_artifact_layers(repo, digest, &m);
  } else if (m.kind == SC_MANIFEST_IMAGE && m.config_digest) {
    if (!may_fetch(w)) {
      sc_manifest_free(&m);
      return image_fail(err, errlen, SC_ERR_IO, "stopped");
    }
    config = px_fetch_small(w->http, ctx, repo, m.config_digest, client_auth, w->abort_flag, CONFIG_MAX_BYTES,
                            &configlen, ferr,
                            sizeof(ferr));
    if (!config) px_warn("manifest %s@%s: config: %s", repo, digest, ferr);
    char why[300] = "";
    if (config && sc_config_check(config, configlen, why, sizeof(why)) != 0) {
      /* Go clients would read this config differently from us (case-folded
       * or duplicate keys): the image is not recorded, so it is never
       * judged on facts a client does not see */
      px_warn("manifest %s@%s: config refused: %s", repo, digest, why);
      free(config);
      sc_manifest_free(&m);
      return image_fail(err, errlen, SC_ERR_INVALID, "image config not readable as Go clients read it");
    }
  }
  char moved_from[72] = "";
  if (sc_store_put_manifest_ex(store, repo, tag, digest, &m, config, configlen, moved_from) != 0) {
    px_error("manifest %s@%s: cannot store: %s", repo, digest, sc_store_errmsg(store));
    free(config);
    sc_manifest_free(&m);
    return image_fail(err, errlen, SC_ERR_DB, "database error");
  }
  free(config);
  if (sc_referrers_record(store, repo, digest, &m, (int64_t)len) != 0) /* OCI 1.1 subject */
    px_warn("manifest %s@%s: cannot record it as a referrer: %s", repo, digest, sc_store_errmsg(store));
  px_vexref_record(ctx, w, repo, digest, ctype, body, len, client_auth); /* an OpenVEX referrer: its document */
  /* layers the proxy did not see whole (mounted, pushed around it,
   * interrupted): fetch and scan them now */
  int missing = 0, failed = 0;
  for (size_t i = 0; i < m.nlayers; i++) {
    char status[16];
    sc_layer_result res;
    if (sc_store_layer_status(store, m.layers[i].digest, status) == 0) continue;
    missing++;
    if (!may_fetch(w)) { /* shutdown: this layer and the rest wait for the next round */
      failed++;
      break;
    }
    if (scan_layer(ctx, w, repo, client_auth, NULL, m.layers[i].digest, &res, ferr, sizeof(ferr)) != 0) {
      failed++;
      px_warn("manifest %s@%s: layer %s: %s", repo, digest, m.layers[i].digest, ferr);
    }
  }
  px_info("image repo=%s tag=%s digest=%s kind=%s layers=%zu children=%zu fetched=%d unavailable=%d", repo,
          tag ? tag : "-", digest, m.kind == SC_MANIFEST_INDEX ? "index" : "image", m.nlayers, m.nchildren,
          missing - failed, failed);
  if (!failed) px_eventsrc_scan_completed(ctx, store, repo, tag ? tag : "", digest);
  if (!failed) px_annotate_image_scanned(ctx, store, repo, digest, &m); /* SBOM, report */
  if (moved_from[0]) px_lineage_tag_moved(ctx, store, SC_ORIGIN_LOCAL, repo, tag, moved_from, digest);
  sc_manifest_free(&m);
  return failed ? image_fail(err, errlen, SC_ERR_IO, "some layers could not be scanned") : 0;
}

static void run_manifest(px_job *j, px_worker *w) {
  char err[256] = "";
  if (px_scan_image(j->ctx, w, j->repo, j->tag, j->want_digest, j->ctype, j->body, j->bodylen, j->auth, err,
                    sizeof(err)) != 0)
    fail_job(j, err);
}

void px_job_run(px_job *j, px_worker *w) {
  char err[256] = "";
  if (j->kind == PX_JOBKIND_MANIFEST) {
    int64_t t0 = px_now_ms();
    run_manifest(j, w);
    /* a failed manifest job has broken its queue (fail_job) */
    px_metrics_scan(j->ctx, "manifest", (double)(px_now_ms() - t0) / 1000.0, px_jobq_why(&j->q) == NULL);
  } else {
    sc_layer_result res;
    int rc = scan_layer(j->ctx, w, j->repo, j->auth, &j->q, j->kind == PX_JOBKIND_FETCH ? j->want_digest : NULL, &res,
                        err, sizeof(err));
    /* published by px_jobq_close in finish_job: the loop reads j->res only
     * once the queue says closed */
    j->res = res;
    if (rc != 0) {
      fail_job(j, err);
      px_info("scan repo=%s upload=%s not usable: %s", j->repo, j->upload_id[0] ? j->upload_id : "-", err);
    }
  }
  finish_job(j);
}
