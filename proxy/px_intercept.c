/* px_intercept.c - upload tee, manifest recording and push holds (see
 * px_intercept.h). */
#include "px_intercept.h"
#include "px_log.h"
#include "px_scan.h"
#include "px_xchg.h"
#include "sc_image.h"
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct px_hook {
  px_xchg *x;
  px_job *job;            /* upload stream job we tee into (reference held) */
  int tee;
  int final;              /* this request completes the upload (PUT, monolithic POST) */
  struct evbuffer *mbody; /* manifest PUT body, up to SC_MANIFEST_MAX_BYTES */
  int mbody_over;
  px_job *wait;           /* job the held response waits for (reference held) */
  struct event *timer;    /* bound on the wait */
  int64_t hold_start;
} px_hook;

static px_hook *hook_of(px_xchg *x, int create) {
  if (!x->hook && create) {
    px_hook *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->x = x;
    x->hook = h;
  }
  return x->hook;
}

/* Content-Range of a PATCH: "start-end" (also "bytes start-end"). Returns start or -1. */
static long long range_start(const char *v) {
  char *end;
  long long s;
  if (!v) return -1;
  if (!strncmp(v, "bytes ", 6)) v += 6;
  else if (!strncmp(v, "bytes=", 6)) v += 6;
  s = strtoll(v, &end, 10);
  if (end == v || *end != '-' || s < 0) return -1;
  return s;
}

int px_intercept_request(px_xchg *x) {
  px_ctx *ctx = x->ctx;
  px_route *r = &x->route;
  px_hook *h;
  if (!ctx->scan) return 0;
  if (r->kind == PX_R_UPLOAD_START && !strcmp(x->method, "POST") && r->q_digest[0] && x->req_has_body) {
    /* monolithic upload: the whole blob in one POST */
    if (!(h = hook_of(x, 1))) return 0;
    h->job = px_job_new_stream(ctx, r->repo, NULL);
    if (h->job) {
      px_job_ref(h->job);
      h->tee = 1;
      h->final = 1;
    }
  } else if (r->kind == PX_R_UPLOAD && (!strcmp(x->method, "PATCH") || !strcmp(x->method, "PUT"))) {
    int is_put = !strcmp(x->method, "PUT");
    px_job *j = px_jobs_find_upload(ctx, r->ref);
    long long start = range_start(px_headers_get(&x->req, "content-range"));
    if (!j && x->req_has_body && (start <= 0)) {
      /* first bytes of an upload: scan it as it streams (an upload that began
       * before customs saw it starts at an offset: fetched later instead) */
      j = px_job_new_stream(ctx, r->repo, r->ref);
    } else if (j && x->req_has_body && start >= 0 && (uint64_t)start != px_job_bytes(j)) {
      px_job_break(j, "upload chunk out of order");
    }
    if (!j) return 0;
    if (!(h = hook_of(x, 1))) return 0;
    h->job = j;
    px_job_ref(j);
    h->tee = x->req_has_body;
    h->final = is_put && r->q_digest[0];
  } else if (r->kind == PX_R_MANIFEST && !strcmp(x->method, "PUT")) {
    if (!(h = hook_of(x, 1))) return 0;
    h->mbody = evbuffer_new();
  }
  return 0;
}

void px_intercept_req_body(px_xchg *x, const void *data, size_t len) {
  px_hook *h = x->hook;
  if (!h) return;
  if (h->tee && h->job && px_job_push(h->job, data, len) < 0) h->tee = 0;
  if (h->mbody && !h->mbody_over) {
    if (evbuffer_get_length(h->mbody) + len > SC_MANIFEST_MAX_BYTES) {
      h->mbody_over = 1;
      evbuffer_drain(h->mbody, evbuffer_get_length(h->mbody));
    } else {
      evbuffer_add(h->mbody, data, len);
    }
  }
}

void px_intercept_req_end(px_xchg *x) {
  px_hook *h = x->hook;
  if (h && h->final && h->job) px_job_finish(h->job);
}

static void end_wait(px_hook *h) {
  if (h->timer) {
    event_free(h->timer);
    h->timer = NULL;
  }
  if (h->wait) {
    px_job_unwait(h->wait, h);
    px_job_unref(h->wait);
    h->wait = NULL;
  }
}

static void job_done(px_job *j, void *arg) {
  px_hook *h = arg;
  px_xchg *x = h->x;
  const char *state = px_job_state_of(j) == PX_JOB_DONE ? "done" : "failed";
  px_debug("req=%llu scan %s after %lld ms", (unsigned long long)x->id, state,
           (long long)(px_now_ms() - h->hold_start));
  /* unwait happens in end_wait; the waiter record is being consumed now */
  h->wait = NULL;
  if (h->timer) {
    event_free(h->timer);
    h->timer = NULL;
  }
  px_job_unref(j);
  px_xchg_release(x, "x-customs-scan", state);
}

static void hold_timeout(evutil_socket_t fd, short what, void *arg) {
  px_hook *h = arg;
  (void)fd;
  (void)what;
  px_warn("req=%llu %s %s: scan not finished after %d ms, answering; the scan goes on", (unsigned long long)h->x->id,
          h->x->method, h->x->path, h->x->ctx->cfg->scan_wait_ms);
  end_wait(h);
  px_xchg_release(h->x, "x-customs-scan", "pending");
}

static int hold_for(px_hook *h, px_job *j) {
  struct timeval tv;
  int ms = h->x->ctx->cfg->scan_wait_ms;
  if (px_job_wait(j, job_done, h) < 0) return 0;
  px_job_ref(j);
  h->wait = j;
  h->hold_start = px_now_ms();
  h->timer = evtimer_new(h->x->ctx->base, hold_timeout, h);
  if (h->timer) {
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    evtimer_add(h->timer, &tv);
  }
  return 1;
}

int px_intercept_response_head(px_xchg *x) {
  px_hook *h = x->hook;
  px_route *r = &x->route;
  int ok = x->resp_status >= 200 && x->resp_status < 300;
  if (!h) return 0;
  if (h->job && !ok) {
    /* the registry refused the chunk or the upload: what we saw is not what it has */
    px_job_break(h->job, "upstream refused the upload request");
    px_jobs_forget_upload(x->ctx, h->job);
    return 0;
  }
  if (h->job && h->final) {
    px_jobs_forget_upload(x->ctx, h->job);
    return hold_for(h, h->job);
  }
  if (r->kind == PX_R_MANIFEST && h->mbody && ok && !h->mbody_over) {
    size_t len = evbuffer_get_length(h->mbody);
    const char *dig = px_headers_get(&x->resp, "docker-content-digest");
    char computed[72];
    unsigned char *body = evbuffer_pullup(h->mbody, -1);
    if (!body || len == 0) return 0;
    if (sc_digest_sha256(body, len, computed) != 0) return 0;
    if (dig && strcmp(dig, computed) != 0)
      px_warn("manifest %s: registry digest %s differs from the body's %s", r->repo, dig, computed);
    px_job *j = px_job_new_manifest(x->ctx, r->repo, r->ref_is_digest ? NULL : r->ref, computed,
                                    px_headers_get(&x->req, "content-type"), body, len,
                                    px_headers_get(&x->req, "authorization"));
    if (!j) return 0;
    return hold_for(h, j); /* the job list owns j; hold_for takes its own reference */
  }
  return 0;
}

void px_intercept_free(px_xchg *x) {
  px_hook *h = x->hook;
  if (!h) return;
  if (h->job) {
    /* a request cut off mid-body leaves the upload at an unknown offset */
    if (h->tee && !x->req_done) px_job_break(h->job, "upload request aborted");
    px_job_unref(h->job);
  }
  end_wait(h);
  if (h->mbody) evbuffer_free(h->mbody);
  free(h);
  x->hook = NULL;
}
