/* px_scanwork.c - what a scan worker does with a job: scan a layer from
 * the upload's byte queue or fetched from the upstream, or process a pushed
 * manifest (record it, fetch and check its config, fetch and scan the layers
 * the store does not have), then record the outcome and wake the loop.
 *
 * Ownership: the job stays alive through the worker's reference until
 * done_cb (loop thread) drops it; fetched files and buffers are freed here.
 * Thread: a pool worker, with its own px_worker (database, HTTP client).
 * Errors: a job that fails is broken with a one-line reason
 * (px_job_error); nothing is returned. */
#include "px_annotate.h"
#include "px_eventsrc.h"
#include "px_fetch.h"
#include "px_lineage.h"
#include "px_log.h"
#include "px_metrics.h"
#include "px_scan_int.h"
#include "sc_config.h"
#include "sc_image.h"
#include "sc_referrers.h"
#include "sc_store.h"
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

/* Scans one layer (from the job's stream, or fetched) and stores it.
 * `digest` is the expected digest for fetches, NULL for streams. */
static int scan_layer(px_job *j, px_worker *w, const char *digest, sc_layer_result *res, char *err,
                      size_t errlen) {
  sc_store *store = w->store;
  sc_limits lim;
  sc_inventory inv;
  int rc, fd = -1;
  int64_t t0 = px_now_ms();

  sc_limits_default(&lim);
  lim.spool_dir = j->ctx->cfg->spool_dir; /* the catalogers' temp files */
  sc_inventory_init(&inv);
  memset(res, 0, sizeof(*res));
  if (digest) {
    fd = px_fetch_blob(w->http, j->ctx, j->repo, digest, j->auth, err, errlen);
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
    rc = sc_layer_scan_ref(px_jobq_peek, px_jobq_consume, &j->q, &lim, &inv, res);
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
              res->digest, j->repo, digest ? "fetch" : "upload", (unsigned long long)res->compressed_size,
              (unsigned long long)res->entries, inv.npkgs, inv.nsecrets, res->status ? "failed" : "ok",
              res->status ? ": " : "", res->status ? res->error : "", (long long)(px_now_ms() - t0));
    }
  }
  /* a blob that is not a layer archive was not a layer scan */
  if (!(rc == 0 && not_archive))
    px_metrics_scan(j->ctx, "layer", (double)(px_now_ms() - t0) / 1000.0, rc == 0 && res->status == 0);
  sc_inventory_free(&inv);
  return rc;
}

/* An artifact (signature, SBOM, ...): no runtime unpacks it.  Its blobs
 * that are not layers are not scanned and do not count; blobs typed as
 * layers still are, so a denied layer cannot ride along. */
static void keep_artifact_layers(px_job *j, sc_manifest *m) {
  size_t k = 0;
  for (size_t i = 0; i < m->nlayers; i++) {
    if (sc_media_is_layer(m->layers[i].media_type)) {
      m->layers[k++] = m->layers[i];
      continue;
    }
    free(m->layers[i].digest);
    free(m->layers[i].media_type);
  }
  px_info("manifest %s@%s: artifact (config %s): %zu of %zu blob(s) are layers", j->repo, j->want_digest,
          m->config_media_type, k, m->nlayers);
  m->nlayers = k;
}

static void run_manifest(px_job *j, px_worker *w) {
  sc_store *store = w->store;
  sc_manifest m;
  char err[256] = "", *config = NULL;
  size_t configlen = 0;
  int rc;

  if (!store || !j->body) {
    fail_job(j, "no database");
    return;
  }
  rc = sc_manifest_parse(j->body, j->bodylen, j->ctype[0] ? j->ctype : NULL, &m);
  if (rc != 0) {
    sc_manifest_free(&m);
    px_info("manifest %s@%s: not an image manifest or index we read (%d): recorded nothing", j->repo,
            j->want_digest, rc);
    fail_job(j, "manifest not understood");
    return;
  }
  if (sc_manifest_is_artifact(&m)) {
    keep_artifact_layers(j, &m);
  } else if (m.kind == SC_MANIFEST_IMAGE && m.config_digest) {
    config = px_fetch_small(w->http, j->ctx, j->repo, m.config_digest, j->auth, CONFIG_MAX_BYTES, &configlen, err,
                            sizeof(err));
    if (!config) px_warn("manifest %s@%s: config: %s", j->repo, j->want_digest, err);
    char why[300] = "";
    if (config && sc_config_check(config, configlen, why, sizeof(why)) != 0) {
      /* Go clients would read this config differently from us (case-folded
       * or duplicate keys): the image is not recorded, so it is never
       * judged on facts a client does not see */
      px_warn("manifest %s@%s: config refused: %s", j->repo, j->want_digest, why);
      fail_job(j, "image config not readable as Go clients read it");
      free(config);
      sc_manifest_free(&m);
      return;
    }
  }
  char moved_from[72] = "";
  if (sc_store_put_manifest_ex(store, j->repo, j->tag[0] ? j->tag : NULL, j->want_digest, &m, config, configlen,
                               moved_from) != 0) {
    px_error("manifest %s@%s: cannot store: %s", j->repo, j->want_digest, sc_store_errmsg(store));
    fail_job(j, "database error");
    free(config);
    sc_manifest_free(&m);
    return;
  }
  free(config);
  if (sc_referrers_record(store, j->repo, j->want_digest, &m, (int64_t)j->bodylen) != 0) /* OCI 1.1 subject */
    px_warn("manifest %s@%s: cannot record it as a referrer: %s", j->repo, j->want_digest, sc_store_errmsg(store));
  /* layers the proxy did not see whole (mounted, pushed around it,
   * interrupted): fetch and scan them now */
  int missing = 0, failed = 0;
  for (size_t i = 0; i < m.nlayers; i++) {
    char status[16];
    sc_layer_result res;
    if (sc_store_layer_status(store, m.layers[i].digest, status) == 0) continue;
    missing++;
    if (scan_layer(j, w, m.layers[i].digest, &res, err, sizeof(err)) != 0) {
      failed++;
      px_warn("manifest %s@%s: layer %s: %s", j->repo, j->want_digest, m.layers[i].digest, err);
    }
  }
  px_info("image repo=%s tag=%s digest=%s kind=%s layers=%zu children=%zu fetched=%d unavailable=%d", j->repo,
          j->tag[0] ? j->tag : "-", j->want_digest, m.kind == SC_MANIFEST_INDEX ? "index" : "image", m.nlayers,
          m.nchildren, missing - failed, failed);
  if (failed) fail_job(j, "some layers could not be scanned");
  if (!failed) px_eventsrc_scan_completed(j->ctx, store, j->repo, j->tag, j->want_digest);
  if (!failed) px_annotate_image_scanned(j->ctx, store, j->repo, j->want_digest, &m); /* SBOM, report */
  if (moved_from[0]) px_lineage_tag_moved(j->ctx, store, SC_ORIGIN_LOCAL, j->repo, j->tag, moved_from, j->want_digest);
  sc_manifest_free(&m);
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
    int rc = scan_layer(j, w, j->kind == PX_JOBKIND_FETCH ? j->want_digest : NULL, &res, err, sizeof(err));
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
