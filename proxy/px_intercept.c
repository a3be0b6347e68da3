/* px_intercept.c - upload tee, manifest recording, push holds and pull
 * gating, reached through the px_intercept_customs ops table (see
 * px_intercept.h).  Ownership: the px_hook in x->hook.  Thread: loop thread.
 * Errors: never fail the exchange (see px_intercept.h). */
#include "px_intercept.h"
#include "px_dbq.h"
#include "px_gate.h"
#include "px_log.h"
#include "px_mcache.h"
#include "px_policy.h"
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

/* What the exchange waits for on the interception's account.  Everything
 * that waits holds a resource (a database task, a job and its timer) that
 * the state names; ic_free releases whatever is still held. */
typedef enum px_hook_state {
  PX_HK_PASSING = 0,   /* nothing held: bytes are teed and recorded as they pass */
  PX_HK_BODY_WAIT,     /* manifest PUT: the request waits for its whole body (PX_REQ_WAIT_BODY) */
  PX_HK_REQ_VERDICT,   /* blob GET: the request waits for its verdict (PX_REQ_WAIT, h->task) */
  PX_HK_CACHE_VERDICT, /* GET/HEAD by digest: answered from px_mcache once the verdict is in (h->task) */
  PX_HK_RESP_VERDICT,  /* manifest response held while a database thread judges it (h->task) */
  PX_HK_SCAN_PENDING,  /* never-scanned image: held until the whole manifest is in, then scanned */
  PX_HK_GATE_SCAN,     /* held until that scan is done (h->wait, h->timer: scan.wait_ms) */
  PX_HK_REJUDGE,       /* held while the freshly scanned image is judged (h->task) */
  PX_HK_PUSH_SCAN,     /* final upload PUT / manifest PUT held until its scan is done (h->wait, h->timer) */
  PX_HK_DONE           /* released or answered: nothing more to do but tee/free */
} px_hook_state;

typedef struct px_hook {
  px_xchg *x;
  px_hook_state state;
  px_job *job;            /* upload stream job we tee into (reference held) */
  int tee;
  int final;              /* this request completes the upload (PUT, monolithic POST) */
  struct evbuffer *mbody; /* manifest PUT body, up to SC_MANIFEST_MAX_BYTES */
  int mbody_over;
  px_job *wait;           /* job the held response waits for (reference held) */
  struct event *timer;    /* bound on the wait */
  int64_t hold_start;
  px_job_cb on_done;      /* what to do when `wait` finishes */
  int gate;               /* manifest GET/HEAD judged by the policy */
  char digest[160];
  struct evbuffer *cbody; /* manifest GET by digest: kept for px_mcache */
  px_dbtask *task;        /* verdict being computed on a database thread */
} px_hook;

static const char *px_hook_state_name(px_hook_state s) {
  switch (s) {
  case PX_HK_PASSING: return "passing";
  case PX_HK_BODY_WAIT: return "body-wait";
  case PX_HK_REQ_VERDICT: return "request-verdict";
  case PX_HK_CACHE_VERDICT: return "cache-verdict";
  case PX_HK_RESP_VERDICT: return "response-verdict";
  case PX_HK_SCAN_PENDING: return "scan-pending";
  case PX_HK_GATE_SCAN: return "gate-scan";
  case PX_HK_REJUDGE: return "rejudge";
  case PX_HK_PUSH_SCAN: return "push-scan";
  case PX_HK_DONE: return "done";
  }
  return "?";
}

static void set_state(px_hook *h, px_hook_state s) {
  if (h->state == s) return;
  px_debug("req=%llu hook %s -> %s", (unsigned long long)h->x->id, px_hook_state_name(h->state),
           px_hook_state_name(s));
  h->state = s;
}

static void gate_deny(px_xchg *x, const char *message, const char *rule, const char *detail_json,
                      const char *digest);
static px_req_rc serve_cached(px_xchg *x, px_hook *h);
static px_req_rc intercept_oom(px_xchg *x);
static void blob_judged(void *arg, int rc, px_gate_result *r);

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
    h->final = is_put && r->q_digest[0];
  } else if (r->kind == PX_R_MANIFEST && !strcmp(x->method, "PUT")) {
    if (!(h = hook_of(x, 1))) return intercept_oom(x);
    h->mbody = evbuffer_new();
    /* the document is checked whole before the registry sees a byte of it */
    set_state(h, PX_HK_BODY_WAIT);
    return PX_REQ_WAIT_BODY;
  } else if (r->kind == PX_R_BLOB && !strcmp(x->method, "GET") && ctx->cfg->gate_blobs && px_policy_get(ctx)) {
    /* the verdict needs the database: the request waits for it */
    if (!(h = hook_of(x, 1))) return intercept_oom(x);
    set_state(h, PX_HK_REQ_VERDICT);
    h->task = px_gate_blob_async(ctx, r->repo, r->ref, blob_judged, h);
    if (!h->task) {
      blob_judged(h, SC_ERR_NOMEM, NULL);
      return x->resp_done ? PX_REQ_ANSWERED : PX_REQ_PROCEED;
    }
    return PX_REQ_WAIT;
  } else if (r->kind == PX_R_MANIFEST && (!strcmp(x->method, "GET") || !strcmp(x->method, "HEAD"))) {
    if (!(h = hook_of(x, 1))) return intercept_oom(x);
    h->gate = 1;
    if (r->ref_is_digest) return serve_cached(x, h);
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
    set_state(h, PX_HK_DONE);
    px_xchg_respond_error(x, 400, "MANIFEST_INVALID", "manifest larger than 4 MiB");
    return PX_HOOK_ANSWERED;
  }
  if (sc_manifest_check(body, len, px_headers_get(&x->req, "content-type"), why, sizeof(why)) != 0) {
    px_warn("req=%llu manifest PUT %s refused: %s", (unsigned long long)x->id, x->route.repo, why);
    set_state(h, PX_HK_DONE);
    px_xchg_respond_error(x, 400, "MANIFEST_INVALID", why[0] ? why : "manifest not understood");
    return PX_HOOK_ANSWERED;
  }
  set_state(h, PX_HK_PASSING);
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
  if (h->final && px_job_state_of(j) == PX_JOB_DONE && x->route.q_digest[0] &&
      strcmp(px_job_digest(j), x->route.q_digest) != 0) {
    /* what customs saw is not the blob the client named: the result is kept
     * only under the digest of the bytes seen, so nothing refers to it; a
     * manifest naming the real digest gets that layer fetched and scanned */
    px_warn("upload %s: bytes seen hash to %s, the client says %s: scan result not used", x->route.ref,
            px_job_digest(j), x->route.q_digest);
    state = "failed";
  }
  px_debug("req=%llu scan %s after %lld ms", (unsigned long long)x->id, state,
           (long long)(px_now_ms() - h->hold_start));
  /* unwait happens in end_wait; the waiter record is being consumed now */
  h->wait = NULL;
  if (h->timer) {
    event_free(h->timer);
    h->timer = NULL;
  }
  px_job_unref(j);
  set_state(h, PX_HK_DONE);
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
    set_state(h, PX_HK_DONE);
    px_gate_record(h->x, h->digest, PX_V_DENY, NULL, "scan-pending");
    gate_deny(h->x, "the image is being scanned; retry in a moment", NULL, NULL, h->digest);
    return;
  }
  set_state(h, PX_HK_DONE);
  px_xchg_release(h->x, "x-customs-scan", "pending");
}

/* Holds the response until job j is done (cb) or scan.wait_ms passed, in
 * state `st` (PX_HK_PUSH_SCAN or PX_HK_GATE_SCAN).  PX_HOOK_HOLD, or
 * PX_HOOK_PASS when the job cannot be waited for. */
static px_hook_rc hold_for(px_hook *h, px_job *j, px_job_cb cb, px_hook_state st) {
  struct timeval tv;
  int ms = h->x->ctx->cfg->scan_wait_ms;
  if (px_job_wait(j, cb, h) < 0) return PX_HOOK_PASS;
  set_state(h, st);
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


/* ---- pull gating ---- */

/* Answers 403 DENIED instead of the upstream's manifest; the upstream
 * connection is dropped (its body is not wanted). */
static void gate_deny(px_xchg *x, const char *message, const char *rule, const char *detail_json,
                      const char *digest) {
  px_headers hdr;
  json_t *body, *err, *detail;
  char *text;
  px_headers_init(&hdr);
  px_upstream_detach(x, 0);
  detail = json_object();
  json_object_set_new(detail, "digest", json_string(digest ? digest : ""));
  json_object_set_new(detail, "repository", json_string(x->route.repo));
  if (rule) json_object_set_new(detail, "rule", json_string(rule));
  if (detail_json) {
    json_t *reasons = json_loads(detail_json, 0, NULL);
    if (reasons) json_object_set_new(detail, "reasons", reasons);
  }
  err = json_object();
  json_object_set_new(err, "code", json_string("DENIED"));
  json_object_set_new(err, "message", json_string(message));
  json_object_set_new(err, "detail", detail);
  body = json_object();
  json_object_set_new(body, "errors", json_array());
  json_array_append_new(json_object_get(body, "errors"), err);
  text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  /* HEAD has no body: the reason travels in a Warning header (one line, bounded) */
  px_headers_set(&hdr, "content-type", "application/json; charset=utf-8");
  px_headers_set(&hdr, "x-customs-verdict", "deny");
  px_headers_set_warning(&hdr, NULL, message);
  x->held = 0;
  x->resp_limit = 0;
  px_xchg_respond_local(x, 403, &hdr, text ? text : "{}", text ? strlen(text) : 2);
  free(text);
}

/* HEAD of a denied image: pushers HEAD before they push (blocking them
 * breaks pushes), pullers HEAD to resolve a tag and may skip the GET. */
static int head_passes(px_xchg *x) {
  const sc_policy *p = px_policy_get(x->ctx);
  int bearer = 0, push;
  switch (p ? sc_policy_head(p) : SC_HEAD_ALLOW) {
  case SC_HEAD_ALLOW: return 1;
  case SC_HEAD_DENY: return 0;
  default:
    push = px_gate_token_can_push(px_headers_get(&x->req, "authorization"), x->route.repo, &bearer);
    return push || !bearer; /* basic auth or anonymous: no way to tell, let it pass */
  }
}

static void on_error_decision(px_xchg *x, px_hook *h, const char *why) {
  const sc_policy *p = px_policy_get(x->ctx);
  if (p && sc_policy_on_error(p) == SC_ON_ERROR_DENY) {
    px_gate_record(x, h->digest, PX_V_DENY, NULL, "error");
    gate_deny(x, why, NULL, NULL, h->digest);
    return;
  }
  px_gate_record(x, h->digest, PX_V_UNSCANNED, NULL, "error");
  px_headers_set(&x->resp, "x-customs-verdict", "unscanned");
}

/* Applies a verdict to the response in x.  Returns PX_HOOK_PASS (headers
 * annotated) or PX_HOOK_ANSWERED (403 sent). */
static px_hook_rc apply_verdict(px_xchg *x, px_hook *h, px_gate_result *r) {
  int is_head = !strcmp(x->method, "HEAD");
  const sc_policy *p = px_policy_get(x->ctx);
  px_verdict_kind k = r->kind;
  if (k == PX_V_UNSCANNED && p) {
    sc_unscanned u = sc_policy_unscanned(p);
    if (u == SC_UNSCANNED_DENY) {
      px_gate_record(x, h->digest, PX_V_DENY, NULL, "unscanned");
      gate_deny(x, "this image was never scanned by customs and the policy denies unscanned images", NULL, NULL,
                h->digest);
      return PX_HOOK_ANSWERED;
    }
  }
  if (k == PX_V_DENY && is_head && head_passes(x)) {
    px_headers_set_warning(&x->resp, "denied on pull: ", r->message);
    px_headers_set(&x->resp, "x-customs-verdict", "deny");
    px_gate_record(x, h->digest, k, r->rule, "head-passed");
    return PX_HOOK_PASS;
  }
  if (k == PX_V_DENY) {
    px_gate_record(x, h->digest, k, r->rule, NULL);
    gate_deny(x, r->message ? r->message : "denied by policy", r->rule, r->detail_json, h->digest);
    return PX_HOOK_ANSWERED;
  }
  px_headers_set(&x->resp, "x-customs-verdict", px_verdict_name(k));
  if (k == PX_V_WARN && r->message) px_headers_set_warning(&x->resp, NULL, r->message);
  px_gate_record(x, h->digest, k, r->rule, NULL);
  return PX_HOOK_PASS;
}

static px_hook_rc start_gate_scan(px_xchg *x, px_hook *h);

/* The verdict of a request answered from px_mcache: 0 when answered, -1
 * when the request should go to the registry after all. */
static int answer_cached(px_xchg *x, px_hook *h, px_gate_result *r) {
  px_mcache_hit hit;
  px_headers hdr;
  if (r->kind == PX_V_UNSCANNED ||
      !px_mcache_get(x->ctx->mcache, x->route.repo, x->route.ref, px_headers_get(&x->req, "authorization"), &hit))
    return -1;
  px_headers_free(&x->resp);
  px_headers_set(&x->resp, "content-type", hit.content_type);
  px_headers_set(&x->resp, "docker-content-digest", h->digest);
  {
    char etag[180];
    snprintf(etag, sizeof(etag), "\"%s\"", h->digest); /* what the registry sends for a manifest */
    px_headers_set(&x->resp, "etag", etag);
  }
  px_headers_set(&x->resp, "x-customs-cache", "hit");
  if (apply_verdict(x, h, r) == PX_HOOK_PASS) {
    hdr = x->resp;
    px_headers_init(&x->resp);
    x->resp_status = 200;
    px_xchg_respond_local(x, 200, &hdr, hit.body, hit.len);
  }
  return 0;
}

/* Verdict callback (loop thread) for a manifest response or a cached one. */
static void gate_judged(void *arg, int rc, px_gate_result *r) {
  px_hook *h = arg;
  px_xchg *x = h->x;
  const sc_policy *p = px_policy_get(x->ctx);
  h->task = NULL;
  if (h->state == PX_HK_CACHE_VERDICT) {
    set_state(h, PX_HK_DONE);
    if (rc == 0 && answer_cached(x, h, r) == 0) return;
    set_state(h, PX_HK_PASSING);
    px_xchg_proceed(x); /* unknown or failed: the registry answers, judged then */
    return;
  }
  if (!x->held) return; /* the upstream failed meanwhile and the client was answered */
  set_state(h, PX_HK_DONE);
  if (rc != 0) {
    on_error_decision(x, h, "the scanner or the database failed");
    if (x->held) px_xchg_release(x, NULL, NULL);
    return;
  }
  if (r->kind == PX_V_UNSCANNED && p && sc_policy_unscanned(p) == SC_UNSCANNED_SCAN && !strcmp(x->method, "GET") &&
      x->ctx->mscan) {
    /* the manifest is held whole, the image scanned, then judged */
    set_state(h, PX_HK_SCAN_PENDING);
    if (x->resp_done) start_gate_scan(x, h);
    else px_xchg_resp_consumed(x); /* resp_limit grew: let the upstream read on */
    return;
  }
  if (apply_verdict(x, h, r) == PX_HOOK_PASS) px_xchg_release(x, NULL, NULL);
}

/* Verdict callback after the scan of a never-seen image. */
static void gate_rejudged(void *arg, int rc, px_gate_result *r) {
  px_hook *h = arg;
  px_xchg *x = h->x;
  h->task = NULL;
  if (!x->held) return;
  set_state(h, PX_HK_DONE);
  if (rc != 0) {
    on_error_decision(x, h, "the scanner or the database failed");
    if (x->held) px_xchg_release(x, NULL, NULL);
    return;
  }
  if (r->kind == PX_V_UNSCANNED) {
    r->kind = PX_V_DENY;
    free(r->message);
    r->message = strdup("the image could not be scanned");
  }
  if (apply_verdict(x, h, r) == PX_HOOK_PASS) px_xchg_release(x, NULL, NULL);
}

/* Verdict callback for a blob GET (gate.blobs); r is NULL when the request
 * could not be queued. */
static void blob_judged(void *arg, int rc, px_gate_result *r) {
  px_hook *h = arg;
  px_xchg *x = h->x;
  px_route *rt = &x->route;
  const sc_policy *p = px_policy_get(x->ctx);
  int denied = 0;
  const char *msg = NULL;
  h->task = NULL;
  if (rc != 0 || !r) {
    denied = !p || sc_policy_on_error(p) == SC_ON_ERROR_DENY;
    msg = "the database failed and the policy says on_error: deny";
  } else if (r->kind == PX_V_DENY) {
    denied = 1;
    msg = r->message ? r->message : "this blob belongs only to denied images";
  }
  if (!denied) {
    set_state(h, PX_HK_PASSING);
    px_xchg_proceed(x);
    return;
  }
  set_state(h, PX_HK_DONE);
  px_gate_record(x, rt->ref, PX_V_DENY, NULL, "blob");
  gate_deny(x, msg, NULL, NULL, rt->ref);
}

static void gate_scanned(px_job *j, void *arg) {
  px_hook *h = arg;
  px_xchg *x = h->x;
  h->wait = NULL;
  if (h->timer) {
    event_free(h->timer);
    h->timer = NULL;
  }
  px_job_unref(j);
  set_state(h, PX_HK_REJUDGE);
  px_gate_invalidate(x->ctx);
  h->task = px_gate_judge_async(x->ctx, x->route.repo, h->digest, gate_rejudged, h);
  if (!h->task) gate_rejudged(h, SC_ERR_NOMEM, NULL);
}

static px_hook_rc gate_response(px_hook *h) {
  px_xchg *x = h->x;
  const char *dig = px_headers_get(&x->resp, "docker-content-digest");
  if (dig && px_valid_digest(dig)) snprintf(h->digest, sizeof(h->digest), "%s", dig);
  else if (x->route.ref_is_digest && strlen(x->route.ref) < sizeof(h->digest))
    memcpy(h->digest, x->route.ref, strlen(x->route.ref) + 1);
  else {
    on_error_decision(x, h, "the registry did not say which manifest this is (no Docker-Content-Digest)");
    return x->resp_head_given || x->resp_done ? PX_HOOK_ANSWERED : PX_HOOK_PASS;
  }
  if (x->route.ref_is_digest && strcmp(h->digest, x->route.ref) != 0) {
    /* a registry answering for another digest than asked is not trusted */
    on_error_decision(x, h, "the registry answered with another digest than the one asked for");
    return x->resp_done ? PX_HOOK_ANSWERED : PX_HOOK_PASS;
  }
  /* hold the whole (small) manifest while a database thread judges it */
  x->resp_limit = SC_MANIFEST_MAX_BYTES;
  if (x->route.ref_is_digest && !strcmp(x->method, "GET") && !strncmp(h->digest, "sha256:", 7))
    h->cbody = evbuffer_new();
  h->task = px_gate_judge_async(x->ctx, x->route.repo, h->digest, gate_judged, h);
  if (!h->task) {
    on_error_decision(x, h, "the database threads are unavailable");
    return x->resp_done ? PX_HOOK_ANSWERED : PX_HOOK_PASS;
  }
  set_state(h, PX_HK_RESP_VERDICT);
  return PX_HOOK_HOLD;
}

/* A GET or HEAD by digest that the same credentials fetched moments ago:
 * answered from px_mcache once the verdict is in (the request waits). */
static px_req_rc serve_cached(px_xchg *x, px_hook *h) {
  px_mcache_hit hit;
  if (!px_mcache_get(x->ctx->mcache, x->route.repo, x->route.ref, px_headers_get(&x->req, "authorization"), &hit))
    return PX_REQ_PROCEED;
  if (strlen(x->route.ref) >= sizeof(h->digest)) return PX_REQ_PROCEED;
  memcpy(h->digest, x->route.ref, strlen(x->route.ref) + 1);
  set_state(h, PX_HK_CACHE_VERDICT);
  h->task = px_gate_judge_async(x->ctx, x->route.repo, h->digest, gate_judged, h);
  if (!h->task) {
    set_state(h, PX_HK_PASSING);
    return PX_REQ_PROCEED; /* the registry answers, and that answer is judged */
  }
  return PX_REQ_WAIT;
}

static px_hook_rc ic_response_head(px_xchg *x) {
  px_hook *h = x->hook;
  px_route *r = &x->route;
  int ok = x->resp_status >= 200 && x->resp_status < 300;
  if (!h) return PX_HOOK_PASS;
  if (h->job && !ok) {
    /* the registry refused the chunk or the upload: what we saw is not what it has */
    px_job_break(h->job, "upstream refused the upload request");
    px_jobs_forget_upload(x->ctx, h->job);
    return PX_HOOK_PASS;
  }
  if (h->job && h->final) {
    px_jobs_forget_upload(x->ctx, h->job);
    return hold_for(h, h->job, job_done, PX_HK_PUSH_SCAN);
  }
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
    return hold_for(h, j, job_done, PX_HK_PUSH_SCAN);
  }
  if (h->gate && x->resp_status == 200) return gate_response(h);
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
  if (h && h->cbody && x->resp_status == 200) {
    size_t len = evbuffer_get_length(h->cbody);
    char check[72];
    unsigned char *body = evbuffer_pullup(h->cbody, -1);
    /* only bytes that are what the digest says are worth keeping */
    if (body && sc_digest_sha256(body, len, check) == 0 && !strcmp(check, h->digest))
      px_mcache_put(x->ctx->mcache, x->route.repo, h->digest, px_headers_get(&x->req, "authorization"),
                    px_headers_get(&x->resp, "content-type"), body, len);
    evbuffer_free(h->cbody);
    h->cbody = NULL;
  }
  if (!h || h->state != PX_HK_SCAN_PENDING || h->wait || h->task || !x->held) return PX_HOOK_PASS;
  return start_gate_scan(x, h);
}

/* The held manifest of a never-seen image is complete: scan the image.
 * PX_HOOK_HOLD while it scans, PX_HOOK_ANSWERED when it answered (403). */
static px_hook_rc start_gate_scan(px_xchg *x, px_hook *h) {
  size_t len = evbuffer_get_length(x->resp_body);
  unsigned char *body = evbuffer_pullup(x->resp_body, -1);
  px_route *r = &x->route;
  char why[300] = "";
  if (body && sc_manifest_check((const char *)body, len, px_headers_get(&x->resp, "content-type"), why,
                                sizeof(why)) != 0) {
    /* pushed around customs: read differently by Go clients than by us */
    set_state(h, PX_HK_DONE);
    px_gate_record(x, h->digest, PX_V_DENY, NULL, "manifest-invalid");
    gate_deny(x, why[0] ? why : "the manifest is not one customs can judge", NULL, NULL, h->digest);
    return PX_HOOK_ANSWERED;
  }
  px_job *j = body ? px_job_new_manifest(x->ctx, r->repo, r->ref_is_digest ? NULL : r->ref, h->digest,
                                         px_headers_get(&x->resp, "content-type"), body, len,
                                         px_headers_get(&x->req, "authorization"))
                   : NULL;
  px_info("req=%llu %s@%s was never scanned: scanning it now (the client waits up to %d ms)",
          (unsigned long long)x->id, r->repo, h->digest, x->ctx->cfg->scan_wait_ms);
  if (!j || hold_for(h, j, gate_scanned, PX_HK_GATE_SCAN) != PX_HOOK_HOLD) {
    set_state(h, PX_HK_DONE);
    px_gate_record(x, h->digest, PX_V_DENY, NULL, "scan-failed");
    gate_deny(x, "the image could not be scanned", NULL, NULL, h->digest);
    return PX_HOOK_ANSWERED;
  }
  return PX_HOOK_HOLD;
}

static void ic_free(px_xchg *x) {
  px_hook *h = x->hook;
  if (!h) return;
  if (h->job) {
    /* a request cut off mid-body leaves the upload at an unknown offset */
    if (h->tee && !x->req_done) px_job_break(h->job, "upload request aborted");
    px_job_unref(h->job);
  }
  end_wait(h);
  if (h->task) px_dbq_cancel(h->task);
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
};
