/* px_annotate.c - the annotation thread (see px_annotate.h): queued jobs
 * from the table `annotations`, the documents built from the store
 * (sc_annotate.h), pushed by px_annotate_push.c, the outcome recorded; and
 * the sweep that finds reports made out of date by a data import.
 *
 * The thread wakes on a job queued by a scan worker (condvar) and at least
 * every PX_ANNOT_POLL_MS: retries after a backoff, jobs left by a previous
 * process, and the sweep.  The sweep starts when the data generation
 * differs from the one last swept (an import in this process or in
 * `customs db import` elsewhere; every pushed report once after a start)
 * and looks at PX_ANNOT_SWEEP_BATCH pushed reports per round: a report
 * whose content hash changed is queued again as a replacement.
 *
 * Owner: ctx->annotate.  Thread: its own, with its own store connection and
 * HTTP client; px_annotate_image_scanned on scan workers.
 * Errors: logged (once per change of a job's error) and recorded. */
#include "px_annotate.h"
#include "sc_time.h"
#include "px_creds.h"
#include "px_annotate_int.h"
#include "px_log.h"
#include "sc_annotations.h"
#include "sc_match.h"
#include "sc_store_referrers.h"
#include "sc_vulnstore.h"
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PX_ANNOT_POLL_MS 1000         /* due jobs and the sweep are looked at least this often */
#define PX_ANNOT_BATCH 16             /* jobs read per pass */
#define PX_ANNOT_SWEEP_BATCH 16       /* pushed reports re-computed per round */
#define PX_ANNOT_RETRY_FIRST_S 2      /* first retry delay, doubled per attempt ... */
#define PX_ANNOT_RETRY_MAX_S 600      /* ... up to this */
#define PX_ANNOT_ERR_MAX 400
/* a job taken for an attempt is due again after this, should the replica
 * pushing it die (several registry requests of PX_ANNOT_REQUEST_TIMEOUT_MS) */
#define PX_ANNOT_LEASE_S 300

struct px_annotate {
  px_ctx *ctx;
  px_annot_reg reg;            /* thread: the registry pushed to, its client */
  pthread_t th;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int kick;                    /* mu: a job was queued */
  int stop;                    /* atomic; also the requests' abort flag */
  /* the sweep (thread) */
  int64_t swept_gen;           /* -1: never swept since the start */
  int64_t sweep_gen;           /* generation of the sweep in progress */
  int sweeping;
  char sweep_repo[SC_ANNOT_REPO_MAX], sweep_image[SC_ANNOT_DIGEST_BYTES];
};

/* Customs' own registry credentials (px_creds.h), for pushes to the
 * upstream itself only: annotations.upstream may name another registry,
 * which must not be handed the upstream's password. */
static void annotate_credentials(const px_config *c, px_creds *cr, net_http_opts *o) {
  char err[300];
  memset(cr, 0, sizeof(*cr));
  if (c->annotations_upstream[0] && !net_http_same_origin(c->annotations_upstream, c->upstream)) return;
  if (px_creds_load(c, cr, err, sizeof(err)) != 0) px_error("annotations: %s: pushing without credentials", err);
  px_creds_apply(cr, o);
}

static int stopping(px_annotate *a) { return __atomic_load_n(&a->stop, __ATOMIC_SEQ_CST); }

static int64_t retry_delay(int attempts) {
  int64_t d = PX_ANNOT_RETRY_FIRST_S;
  for (int i = 1; i < attempts && d < PX_ANNOT_RETRY_MAX_S; i++) d *= 2;
  return d < PX_ANNOT_RETRY_MAX_S ? d : PX_ANNOT_RETRY_MAX_S;
}

/* ---- queueing (scan workers) ---- */

void px_annotate_image_scanned(px_ctx *ctx, sc_store *st, const char *repo, const char *digest,
                               const sc_manifest *m) {
  px_annotate *a = ctx ? ctx->annotate : NULL;
  if (!a || !st || !m || m->kind != SC_MANIFEST_IMAGE || sc_manifest_is_artifact(m) || m->subject) return;
  if (sc_annotations_enqueue(st, repo, digest, (int64_t)time(NULL)) != 0) {
    px_error("annotations %s@%s: cannot queue them: %s", repo, digest, sc_store_errmsg(st));
    return;
  }
  pthread_mutex_lock(&a->mu);
  a->kick = 1;
  pthread_cond_signal(&a->cv);
  pthread_mutex_unlock(&a->mu);
}

/* ---- building a document from the store ---- */

/* The document of job's kind for image (subject: its descriptor, NULL when
 * only the content hash is wanted, then out->content_hash only). */
static int build(sc_store *st, const char *repo, const char *image, sc_annot_kind kind,
                 const sc_annot_subject *subject, int64_t now, sc_annot_doc *out, char *err, size_t errlen) {
  sc_inventory inv;
  sc_finding_list fl;
  sc_store_image img;
  int64_t gen = 0;
  int rv;
  memset(out, 0, sizeof(*out));
  memset(&img, 0, sizeof(img));
  sc_inventory_init(&inv);
  sc_finding_list_init(&fl);
  if ((rv = sc_store_get_image(st, image, &img)) == 0 && img.kind != SC_MANIFEST_IMAGE) rv = SC_ERR_UNSUPP;
  if (!rv) rv = sc_store_image_inventory(st, image, &inv);
  if (!rv && kind == SC_ANNOT_VULNS) {
    if (!(rv = sc_vulnstore_generation(st, &gen))) rv = sc_match_image(st, image, &fl);
    if (!rv && fl.generation) gen = fl.generation;
  }
  if (rv) {
    snprintf(err, errlen, "the image in the store: %s",
             rv == SC_ERR_NOTFOUND ? "not found" : rv == SC_ERR_DB ? sc_store_errmsg(st) : customs_strerror(rv));
    goto out;
  }
  sc_report_input ri = {.image = image, .repository = repo, .digest = image, .inv = &inv};
  sc_annot_input in = {.report = &ri, .repository = repo, .digest = image, .findings = &fl, .generation = gen,
                       .created = now};
  if (subject) {
    in.subject = *subject;
    rv = sc_annot_build(kind, &in, out);
  } else {
    out->kind = kind;
    rv = sc_annot_content_hash(kind, &in, out->content_hash);
  }
  if (rv) snprintf(err, errlen, "building the %s: %s", sc_annot_kind_name(kind), customs_strerror(rv));
out:
  sc_finding_list_free(&fl);
  sc_inventory_free(&inv);
  sc_store_image_free(&img);
  return rv;
}

/* ---- one job ---- */

static void record_referrer(sc_store *st, const char *repo, const char *image, const sc_annot_doc *doc,
                            int64_t now) {
  json_t *m = json_loadb(doc->manifest, doc->manifest_len, 0, NULL);
  char *annots = json_dumps(json_object_get(m, "annotations"), JSON_COMPACT);
  json_decref(m);
  sc_referrer ref = {.digest = doc->manifest_digest, .media_type = SC_ANNOT_MANIFEST_TYPE,
                     .artifact_type = sc_annot_kind_type(doc->kind), .annotations = annots,
                     .size = (int64_t)doc->manifest_len, .origin = SC_REF_CUSTOMS, .created_at = now};
  if (sc_store_put_referrer(st, repo, image, &ref) != 0)
    px_error("annotation %s@%s %s: cannot record the referrer: %s", repo, image, sc_annot_kind_name(doc->kind),
             sc_store_errmsg(st));
  free(annots);
}

/* A replaced artifact: out of the referrers table, and out of the registry
 * when it deletes manifests (registry:2 without storage.delete does not:
 * the artifact then stays, listed nowhere customs answers). */
static void forget_old(px_annotate *a, sc_store *st, const sc_annot_job *j) {
  char err[PX_ANNOT_ERR_MAX];
  if (sc_store_delete_referrer(st, j->repo, j->image, j->manifest) != 0)
    px_error("annotation %s@%s: cannot forget the replaced referrer: %s", j->repo, j->image, sc_store_errmsg(st));
  int rv = px_annot_delete(&a->reg, j->repo, j->manifest, err, sizeof(err));
  if (rv) px_info("annotation %s@%s %s: the replaced artifact %s stays in the registry (%s)", j->repo, j->image,
                  sc_annot_kind_name(j->kind), j->manifest, err);
}

static void run_job(px_annotate *a, sc_store *st, const sc_annot_job *j) {
  char err[PX_ANNOT_ERR_MAX] = "", mt[PX_ANNOT_MEDIA_TYPE_MAX];
  const char *kind = sc_annot_kind_name(j->kind);
  sc_annot_doc doc;
  int64_t size = 0, now = (int64_t)time(NULL);
  int via_api = 0, final = 0, rv;
  memset(&doc, 0, sizeof(doc));
  /* replicas sharing the database read the same due rows: one pushes */
  const int64_t lease = now + PX_ANNOT_LEASE_S;
  rv = sc_annotations_take(st, j->repo, j->image, j->kind, j->next_at, lease);
  if (rv == SC_ERR_STATE) return;
  if (rv) {
    px_error("annotation %s@%s %s: %s", j->repo, j->image, kind, sc_store_errmsg(st));
    return;
  }

  rv = px_annot_subject(&a->reg, j->repo, j->image, mt, &size, err, sizeof(err));
  if (rv == SC_ERR_NOTFOUND) final = 1; /* the image left the registry: nothing to attach to */
  if (!rv) {
    sc_annot_subject subj = {mt, j->image, size};
    if ((rv = build(st, j->repo, j->image, j->kind, &subj, now, &doc, err, sizeof(err))) == SC_ERR_NOTFOUND ||
        rv == SC_ERR_UNSUPP)
      final = 1;
  }
  if (!rv && j->manifest[0] && !strcmp(j->content_hash, doc.content_hash)) {
    /* queued as a replacement, but the content is what is pushed already */
    sc_annotations_attempted(st, j->repo, j->image, j->kind, SC_ANNOT_PUSHED, j->manifest, j->content_hash, NULL,
                             now, now);
    sc_annot_doc_free(&doc);
    return;
  }
  if (!rv) rv = px_annot_push(&a->reg, j->repo, j->image, &doc, j->manifest, &via_api, err, sizeof(err));
  if (rv && stopping(a)) { /* abandoned mid-way: the job stays as it was (due when it was) */
    sc_annotations_take(st, j->repo, j->image, j->kind, lease, j->next_at);
    sc_annot_doc_free(&doc);
    return;
  }
  now = (int64_t)time(NULL);
  if (!rv) {
    record_referrer(st, j->repo, j->image, &doc, now);
    if (j->manifest[0] && strcmp(j->manifest, doc.manifest_digest)) forget_old(a, st, j);
    if (sc_annotations_attempted(st, j->repo, j->image, j->kind, SC_ANNOT_PUSHED, doc.manifest_digest,
                                 doc.content_hash, NULL, now, now) != 0)
      px_error("annotation %s@%s %s: cannot record the push: %s", j->repo, j->image, kind, sc_store_errmsg(st));
    px_info("annotation pushed repo=%s image=%s kind=%s artifact=%s via=%s%s%s", j->repo, j->image, kind,
            doc.manifest_digest, via_api ? "referrers-api" : "tag-schema", j->manifest[0] ? " replaces=" : "",
            j->manifest);
  } else {
    int attempts = j->attempts + 1;
    int retry = !final && attempts < PX_ANNOT_MAX_ATTEMPTS;
    int64_t delay = retry_delay(attempts);
    if (sc_annotations_attempted(st, j->repo, j->image, j->kind, retry ? SC_ANNOT_PENDING : SC_ANNOT_FAILED, NULL,
                                 NULL, err, now, now + delay) != 0)
      px_error("annotation %s@%s %s: cannot record the attempt: %s", j->repo, j->image, kind, sc_store_errmsg(st));
    /* once per change: a registry that stays down is not logged every retry */
    int changed = strcmp(err, j->last_error) != 0 || !retry;
    px_log(changed ? PX_LOG_WARN : PX_LOG_DEBUG, "annotation repo=%s image=%s kind=%s attempt %d failed: %s; %s%lld%s",
           j->repo, j->image, kind, attempts, err, retry ? "retrying in " : "given up", retry ? (long long)delay : 0LL,
           retry ? " s" : "");
  }
  sc_annot_doc_free(&doc);
}

/* ---- the sweep: reports out of date ---- */

static int collect(void *arg, const sc_annot_job *j) {
  sc_annot_list *l = arg;
  sc_annot_job *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
  if (!nv) return SC_ERR_NOMEM;
  l->v = nv;
  l->v[l->n++] = *j;
  return 0;
}

/* One bounded round of the sweep; starts one when the generation moved. */
static void sweep_round(px_annotate *a, sc_store *st) {
  int64_t gen = 0;
  if (!a->sweeping) {
    if (sc_vulnstore_generation(st, &gen) != 0 || gen == a->swept_gen) return;
    a->sweeping = 1;
    a->sweep_gen = gen; /* read before the sweep: a later import starts another one */
    a->sweep_repo[0] = a->sweep_image[0] = 0;
  }
  sc_annot_list page = {0};
  if (sc_annotations_each_pushed(st, SC_ANNOT_VULNS, a->sweep_repo, a->sweep_image, PX_ANNOT_SWEEP_BATCH, collect,
                                 &page) != 0) {
    px_error("annotations: reading pushed reports: %s", sc_store_errmsg(st));
    sc_annot_list_free(&page);
    return;
  }
  int64_t now = (int64_t)time(NULL);
  size_t replaced = 0;
  for (size_t i = 0; i < page.n && !stopping(a); i++) {
    const sc_annot_job *j = &page.v[i];
    char err[PX_ANNOT_ERR_MAX];
    sc_annot_doc d;
    if (build(st, j->repo, j->image, SC_ANNOT_VULNS, NULL, now, &d, err, sizeof(err)) != 0) {
      px_debug("annotations %s@%s: report not recomputed: %s", j->repo, j->image, err);
      continue;
    }
    if (strcmp(d.content_hash, j->content_hash) && sc_annotations_replace(st, j->repo, j->image, SC_ANNOT_VULNS, now) == 0)
      replaced++;
    snprintf(a->sweep_repo, sizeof(a->sweep_repo), "%s", j->repo);
    snprintf(a->sweep_image, sizeof(a->sweep_image), "%s", j->image);
  }
  if (replaced) px_info("annotations: %zu report(s) changed with data generation %lld: replacing them", replaced,
                        (long long)a->sweep_gen);
  if (page.n < PX_ANNOT_SWEEP_BATCH && !stopping(a)) {
    a->sweeping = 0;
    a->swept_gen = a->sweep_gen;
  }
  sc_annot_list_free(&page);
}

/* ---- the thread ---- */

static void *annotate_main(void *arg) {
  px_annotate *a = arg;
  sc_store *st = NULL;
  net_http_opts opts = {.ca_file = a->ctx->cfg->upstream_ca[0] ? a->ctx->cfg->upstream_ca : NULL,
                        .insecure = a->ctx->cfg->upstream_insecure,
                        .connect_timeout_ms = PX_ANNOT_CONNECT_TIMEOUT_MS,
                        .idle_timeout_s = PX_ANNOT_REQUEST_TIMEOUT_MS / 1000}; /* a silent registry: GETs too */
  px_creds cr;
  annotate_credentials(a->ctx->cfg, &cr, &opts);
  int hrc = net_http_new(&opts, &a->reg.http);
  px_creds_wipe(&cr); /* net_http keeps its own copy */
  if (sc_store_open(a->ctx->cfg->db, &st) != 0 || hrc != 0) {
    px_error("annotations: cannot open the database %s or make an HTTP client: nothing is pushed until a restart",
             px_config_db_shown(a->ctx->cfg));
    sc_store_close(st);
    return NULL;
  }
  while (!stopping(a)) {
    int64_t now = (int64_t)time(NULL);
    sc_annot_list due = {0};
    if (sc_annotations_due(st, now, PX_ANNOT_BATCH, &due) != 0) px_error("annotations: %s", sc_store_errmsg(st));
    for (size_t i = 0; i < due.n && !stopping(a); i++) run_job(a, st, &due.v[i]);
    int full = due.n == PX_ANNOT_BATCH;
    sc_annot_list_free(&due);
    if (!stopping(a)) sweep_round(a, st);
    if (full || stopping(a)) continue;
    struct timespec until = sc_deadline_ms(CLOCK_REALTIME, PX_ANNOT_POLL_MS);
    pthread_mutex_lock(&a->mu);
    while (!a->kick && !stopping(a) && pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT) {
    }
    a->kick = 0;
    pthread_mutex_unlock(&a->mu);
  }
  net_http_free(a->reg.http);
  a->reg.http = NULL;
  sc_store_close(st);
  return NULL;
}

int px_annotate_start(px_ctx *ctx) {
  ctx->annotate = NULL;
  if (!ctx->cfg->annotations_enabled) {
    px_info("annotations: off (annotations.enabled: false)");
    return 0;
  }
  if (net_http_global_init() != 0) return SC_ERR_NOMEM; /* before any thread: curl's init is not thread-safe */
  px_annotate *a = calloc(1, sizeof(*a));
  if (!a) return SC_ERR_NOMEM;
  a->ctx = ctx;
  a->swept_gen = -1;
  const char *to = ctx->cfg->annotations_upstream;
  snprintf(a->reg.base, sizeof(a->reg.base), "%s", to[0] ? to : ctx->cfg->upstream);
  for (size_t n = strlen(a->reg.base); n && a->reg.base[n - 1] == '/'; n--) a->reg.base[n - 1] = 0;
  a->reg.abort_flag = &a->stop;
  a->mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  a->cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
  ctx->annotate = a; /* before the thread and the workers read it */
  if (pthread_create(&a->th, NULL, annotate_main, a) != 0) {
    px_annotate_stop(ctx);
    return SC_ERR_NOMEM;
  }
  a->started = 1;
  if (to[0]) px_info("annotations: pushed to %s (annotations.upstream)", a->reg.base);
  return 0;
}

void px_annotate_stop(px_ctx *ctx) {
  px_annotate *a = ctx->annotate;
  if (!a) return;
  if (a->started) {
    pthread_mutex_lock(&a->mu);
    __atomic_store_n(&a->stop, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
  }
  pthread_mutex_destroy(&a->mu);
  pthread_cond_destroy(&a->cv);
  free(a);
  ctx->annotate = NULL;
}
