/* px_intercept.c - upload tee, manifest checks and recording, push holds,
 * reached through the px_intercept_customs ops table (see px_intercept.h);
 * pull gating is in px_pullgate.c.  Ownership: the px_hook in x->hook.  Thread: loop thread.
 * Errors: never fail the exchange (see px_intercept.h). */
#include "px_intercept.h"
#include "px_hook.h"
#include "px_coalesce.h"
#include "px_dbq.h"
#include "px_gate.h"
#include "px_log.h"
#include "px_mcache.h"
#include "px_policy.h"
#include "px_referrers.h"
#include "px_upstream.h"
#include "px_scan.h"
#include "px_xchg.h"
#include "sc_image.h"
#include "sc_policy.h"
#include "sc_time.h"
#include <jansson.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *px_hook_state_name(px_hook_state s) {
  switch (s) {
  case PX_HK_PASSING: return "passing";
  case PX_HK_BODY_WAIT: return "body-wait";
  case PX_HK_REQ_VERDICT: return "request-verdict";
  case PX_HK_CACHE_VERDICT: return "cache-verdict";
  case PX_HK_COALESCED: return "coalesced";
  case PX_HK_RESP_VERDICT: return "response-verdict";
  case PX_HK_SCAN_PENDING: return "scan-pending";
  case PX_HK_GATE_SCAN: return "gate-scan";
  case PX_HK_REJUDGE: return "rejudge";
  case PX_HK_PUSH_SCAN: return "push-scan";
  case PX_HK_REFERRERS: return "referrers";
  case PX_HK_DONE: return "done";
  }
  return "?";
}

void px_hook_set_state(px_hook *h, px_hook_state s) {
  if (h->state == s) return;
  px_debug("req=%llu hook %s -> %s", (unsigned long long)h->x->id, px_hook_state_name(h->state),
           px_hook_state_name(s));
  h->state = s;
}

static px_req_rc intercept_oom(px_xchg *x);

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

static px_req_rc ic_request(px_xchg *x) {
  px_ctx *ctx = x->ctx;
  px_route *r = &x->route;
  px_hook *h;
  if (!ctx->scan) return PX_REQ_PROCEED;
  if (r->kind == PX_R_UPLOAD_START && !strcmp(x->method, "POST") && r->q_digest[0] && x->req_has_body) {
    /* monolithic upload: the whole blob in one POST */
    if (!(h = hook_of(x, 1))) return PX_REQ_PROCEED;
    h->job = px_job_new_stream(ctx, r->repo, NULL);
    if (h->job) {
      px_job_ref(h->job);
      px_job_set_pusher(h->job, x);
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
    if (!j) return PX_REQ_PROCEED;
    if (!(h = hook_of(x, 1))) return PX_REQ_PROCEED;
    h->job = j;
    px_job_ref(j);
    h->tee = x->req_has_body;
    if (h->tee) px_job_set_pusher(j, x);
    h->final = is_put && r->q_digest[0];
  } else if (r->kind == PX_R_MANIFEST && !strcmp(x->method, "DELETE") && r->ref_is_digest) {
    if (!(h = hook_of(x, 1))) return PX_REQ_PROCEED; /* the row stays: a stale entry, not a leak */
    h->deleting = 1;
  } else if (r->kind == PX_R_MANIFEST && !strcmp(x->method, "PUT")) {
    if (!(h = hook_of(x, 1))) return intercept_oom(x);
    h->mbody = evbuffer_new();
    /* the document is checked whole before the registry sees a byte of it */
    px_hook_set_state(h, PX_HK_BODY_WAIT);
    return PX_REQ_WAIT_BODY;
  } else if (r->kind == PX_R_BLOB && !strcmp(x->method, "GET") && ctx->cfg->gate_blobs && px_policy_get(ctx)) {
    /* the verdict needs the database: the request waits for it */
    if (!(h = hook_of(x, 1))) return intercept_oom(x);
    px_hook_set_state(h, PX_HK_REQ_VERDICT);
    h->task = px_gate_blob_async(ctx, r->repo, r->ref, px_pull_blob_judged, h);
    if (!h->task) {
      px_pull_blob_judged(h, SC_ERR_NOMEM, NULL);
      return x->resp_done ? PX_REQ_ANSWERED : PX_REQ_PROCEED;
    }
    return PX_REQ_WAIT;
  } else if (r->kind == PX_R_MANIFEST && (!strcmp(x->method, "GET") || !strcmp(x->method, "HEAD"))) {
    if (!(h = hook_of(x, 1))) return intercept_oom(x);
    h->gate = 1;
    if (r->ref_is_digest) return px_pull_serve_cached(x, h);
    if (!strcmp(x->method, "GET")) return px_pull_coalesce(x, h);
  } else if (r->kind == PX_R_REFERRERS && (!strcmp(x->method, "GET") || !strcmp(x->method, "HEAD"))) {
    /* answered from the store, after the registry checked the client's access */
    if (!(h = hook_of(x, 1))) return intercept_oom(x);
    return px_referrers_request(x, h);
  }
  return PX_REQ_PROCEED;
}

/* A gated request cannot be judged without memory: refused (fail closed). */
static px_req_rc intercept_oom(px_xchg *x) {
  px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is out of memory");
  return PX_REQ_ANSWERED;
}

/* The whole body of a PX_REQ_WAIT_BODY request (a manifest PUT). */
static px_hook_rc ic_req_complete(px_xchg *x, const void *body, size_t len) {
  px_hook *h = x->hook;
  char why[300] = "";
  if (!h || !h->mbody) {
    px_xchg_proceed(x);
    return PX_HOOK_PASS;
  }
  if (len > SC_MANIFEST_MAX_BYTES) {
    px_hook_set_state(h, PX_HK_DONE);
    px_xchg_respond_error(x, 400, "MANIFEST_INVALID", "manifest larger than 4 MiB");
    return PX_HOOK_ANSWERED;
  }
  if (sc_manifest_check_ex(body, len, px_headers_get(&x->req, "content-type"), why, sizeof(why), h->subject,
                           sizeof(h->subject)) != 0) {
    px_warn("req=%llu manifest PUT %s refused: %s", (unsigned long long)x->id, x->route.repo, why);
    px_hook_set_state(h, PX_HK_DONE);
    px_xchg_respond_error(x, 400, "MANIFEST_INVALID", why[0] ? why : "manifest not understood");
    return PX_HOOK_ANSWERED;
  }
  px_hook_set_state(h, PX_HK_PASSING);
  px_xchg_proceed(x); /* the body is teed into h->mbody as it is sent */
  return PX_HOOK_PASS;
}

static void ic_req_body(px_xchg *x, const void *data, size_t len) {
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

static void ic_req_end(px_xchg *x) {
  px_hook *h = x->hook;
  if (h && h->ref) px_referrers_sent(x, h);
  if (h && h->job) px_job_drop_pusher(h->job, x);
  if (h && h->final && h->job) px_job_finish(h->job);
}

static size_t ic_req_backlog(const px_xchg *x) {
  const px_hook *h = x->hook;
  return h && h->tee && h->job ? px_job_backlog(h->job) : 0;
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
  px_hook_set_state(h, PX_HK_DONE);
  px_xchg_release(x, "x-customs-scan", state);
}

static void hold_timeout(evutil_socket_t fd, short what, void *arg) {
  px_hook *h = arg;
  (void)fd;
  (void)what;
  px_warn("req=%llu %s %s: scan not finished after %d ms, answering; the scan goes on", (unsigned long long)h->x->id,
          h->x->method, px_xchg_logpath(h->x), h->x->ctx->cfg->scan_wait_ms);
  end_wait(h);
  if (h->state == PX_HK_GATE_SCAN) {
    /* an unscanned image is not let out before its verdict exists */
    px_hook_set_state(h, PX_HK_DONE);
    px_gate_record(h->x, h->digest, PX_V_DENY, NULL, "scan-pending");
    px_pull_deny(h->x, "the image is being scanned; retry in a moment", NULL, NULL, h->digest);
    return;
  }
  px_hook_set_state(h, PX_HK_DONE);
  px_xchg_release(h->x, "x-customs-scan", "pending");
}

/* Holds the response until job j is done (cb) or scan.wait_ms passed, in
 * state `st` (PX_HK_PUSH_SCAN or PX_HK_GATE_SCAN).  PX_HOOK_HOLD, or
 * PX_HOOK_PASS when the job cannot be waited for. */
px_hook_rc px_hook_hold_for(px_hook *h, px_job *j, px_job_cb cb, px_hook_state st) {
  struct timeval tv;
  int ms = h->x->ctx->cfg->scan_wait_ms;
  if (px_job_wait(j, cb, h) < 0) return PX_HOOK_PASS;
  px_hook_set_state(h, st);
  px_job_ref(j);
  h->wait = j;
  h->hold_start = px_now_ms();
  h->timer = evtimer_new(h->x->ctx->base, hold_timeout, h);
  if (h->timer) {
    tv = sc_ms_to_timeval(ms);
    evtimer_add(h->timer, &tv);
  }
  return PX_HOOK_HOLD;
}


static px_hook_rc ic_response_head(px_xchg *x) {
  px_hook *h = x->hook;
  px_route *r = &x->route;
  int ok = x->resp_status >= 200 && x->resp_status < 300;
  if (!h) return PX_HOOK_PASS;
  if (h->ref) return px_referrers_head(x, h);
  if (h->deleting) {
    if (ok) px_referrers_deleted(x->ctx, r->repo, r->ref);
    return PX_HOOK_PASS;
  }
  if (h->job && !ok) {
    /* the registry refused the chunk or the upload: what we saw is not what it has */
    px_job_break(h->job, "upstream refused the upload request");
    px_jobs_forget_upload(x->ctx, h->job);
    return PX_HOOK_PASS;
  }
  if (h->job && h->final) {
    /* The blob PUT answers as the registry answers: a blob no manifest
     * names belongs to no image, so there is no verdict to wait for (blob
     * gating denies only blobs of denied images); the manifest PUT waits
     * for this scan.  So the scan's tail overlaps the client's next upload. */
    px_jobs_forget_upload(x->ctx, h->job);
    if (x->route.q_digest[0]) px_jobs_claim(x->ctx, h->job, x->route.q_digest);
    return PX_HOOK_PASS;
  }
  if (r->kind == PX_R_MANIFEST && h->mbody && ok && h->subject[0] && px_valid_digest(h->subject) &&
      !px_headers_get(&x->resp, "oci-subject"))
    /* the registry accepted a manifest with a subject and does not keep
     * referrers itself: customs does (sc_referrers_record in the manifest
     * job), so the client need not maintain the referrers tag schema */
    px_headers_set(&x->resp, "oci-subject", h->subject);
  if (r->kind == PX_R_MANIFEST && h->mbody && ok && !h->mbody_over) {
    size_t len = evbuffer_get_length(h->mbody);
    const char *dig = px_headers_get(&x->resp, "docker-content-digest");
    char computed[72];
    unsigned char *body = evbuffer_pullup(h->mbody, -1);
    if (!body || len == 0) return PX_HOOK_PASS;
    if (sc_digest_sha256(body, len, computed) != 0) return PX_HOOK_PASS;
    if (dig && strcmp(dig, computed) != 0)
      px_warn("manifest %s: registry digest %s differs from the body's %s", r->repo, dig, computed);
    px_job *j = px_job_new_manifest(x->ctx, r->repo, r->ref_is_digest ? NULL : r->ref, computed,
                                    px_headers_get(&x->req, "content-type"), body, len,
                                    px_headers_get(&x->req, "authorization"));
    if (!j) return PX_HOOK_PASS;
    /* the job list owns j; hold_for takes its own reference */
    return px_hook_hold_for(h, j, job_done, PX_HK_PUSH_SCAN);
  }
  if (h->gate && x->resp_status == 200) return px_pull_response(h);
  return PX_HOOK_PASS;
}

static void ic_resp_body(px_xchg *x, const void *data, size_t len) {
  px_hook *h = x->hook;
  if (!h || !h->cbody) return;
  if (evbuffer_get_length(h->cbody) + len > PX_MCACHE_MAX_ENTRY) {
    evbuffer_free(h->cbody); /* too big to cache */
    h->cbody = NULL;
    return;
  }
  evbuffer_add(h->cbody, data, len);
}

static px_hook_rc ic_response_done(px_xchg *x) {
  px_hook *h = x->hook;
  int cached = 0;
  if (h && h->cbody && x->resp_status == 200) {
    size_t len = evbuffer_get_length(h->cbody);
    char check[72];
    unsigned char *body = evbuffer_pullup(h->cbody, -1);
    /* only bytes that are what the digest says are worth keeping */
    if (body && sc_digest_sha256(body, len, check) == 0 && !strcmp(check, h->digest)) {
      px_mcache_put(x->ctx->mcache, x->route.repo, h->digest, px_headers_get(&x->req, "authorization"),
                    px_headers_get(&x->resp, "content-type"), body, len);
      cached = 1;
    }
    evbuffer_free(h->cbody);
    h->cbody = NULL;
  }
  if (h && h->coalescing) px_pull_coalesce_done(x, h, cached ? h->digest : NULL);
  if (h && h->ref) return px_referrers_done(x, h);
  if (!h || h->state != PX_HK_SCAN_PENDING || h->wait || h->task || !x->held) return PX_HOOK_PASS;
  return px_pull_start_scan(x, h);
}

static void ic_free(px_xchg *x) {
  px_hook *h = x->hook;
  if (!h) return;
  if (h->job) {
    /* a request cut off mid-body leaves the upload at an unknown offset */
    if (h->tee && !x->req_done) px_job_break(h->job, "upload request aborted");
    px_job_drop_pusher(h->job, x);
    px_job_unref(h->job);
  }
  end_wait(h);
  if (h->task) px_dbq_cancel(h->task);
  if (h->coalescing) px_coalesce_leave(x->ctx->coalesce, h);
  px_referrers_free(x, h);
  if (h->mbody) evbuffer_free(h->mbody);
  if (h->cbody) evbuffer_free(h->cbody);
  free(h);
  x->hook = NULL;
}

const px_intercept_ops px_intercept_customs = {
    .request = ic_request,
    .req_body = ic_req_body,
    .req_end = ic_req_end,
    .req_complete = ic_req_complete,
    .response_head = ic_response_head,
    .resp_body = ic_resp_body,
    .response_done = ic_response_done,
    .free = ic_free,
    .req_backlog = ic_req_backlog,
};
