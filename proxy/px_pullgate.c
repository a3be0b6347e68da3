/* px_pullgate.c - pull gating: manifest GET/HEAD and blob GET verdicts,
 * answered from the database threads (px_gate.h), the 403 with its reasons,
 * HEAD rules, answers from the manifest cache, and scan-on-pull of images
 * never seen.  Reached from px_intercept.c through px_hook.h.
 * Ownership: the px_hook in x->hook.  Thread: loop thread.
 * Errors: a failure is judged by the policy's on_error, never a crash. */
#include "px_hook.h"
#include "px_headers.h"
#include "px_coalesce.h"
#include "px_intercept.h"
#include "px_log.h"
#include "px_mcache.h"
#include "px_metrics.h"
#include "px_policy.h"
#include "px_upstream.h"
#include "sc_image.h"
#include "sc_policy.h"
#include <float.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void gate_scanned(px_job *j, void *arg);


/* Answers 403 DENIED instead of the upstream's manifest; the upstream
 * connection is dropped (its body is not wanted). */
void px_pull_deny(px_xchg *x, const char *message, const char *rule, const char *detail_json,
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
  text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(DBL_DIG)); /* 8.1 stays 8.1 */
  json_decref(body);
  /* HEAD has no body: the reason travels in a Warning header (one line, bounded) */
  px_headers_set(&hdr, "content-type", "application/json; charset=utf-8");
  px_headers_set(&hdr, "x-customs-verdict", "deny");
  px_headers_set_warning(&hdr, NULL, message);
  x->held = 0;
  x->resp_limit = 0;
  px_metrics_verdict(x->ctx, PX_V_DENY); /* every 403 of the gate passes here */
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
    px_pull_deny(x, why, NULL, NULL, h->digest);
    return;
  }
  px_gate_record(x, h->digest, PX_V_UNSCANNED, NULL, "error");
  px_metrics_verdict(x->ctx, PX_V_UNSCANNED);
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
      px_pull_deny(x, "this image was never scanned by customs and the policy denies unscanned images", NULL, NULL,
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
    px_pull_deny(x, r->message ? r->message : "denied by policy", r->rule, r->detail_json, h->digest);
    return PX_HOOK_ANSWERED;
  }
  if (k == PX_V_ALLOW && r->scan_failed) {
    /* on_error: allow let it through on partial facts: not an "allow" */
    px_headers_set_warning(&x->resp, NULL, "the scan of this image failed; the policy says on_error: allow");
    k = PX_V_UNSCANNED;
    px_gate_record(x, h->digest, k, r->rule, "scan-error");
    px_headers_set(&x->resp, "x-customs-verdict", px_verdict_name(k));
    px_metrics_verdict(x->ctx, k);
    return PX_HOOK_PASS;
  }
  px_headers_set(&x->resp, "x-customs-verdict", px_verdict_name(k));
  if (k == PX_V_WARN && r->message) px_headers_set_warning(&x->resp, NULL, r->message);
  /* no_data: allow is still not a silent allow: nothing could match */
  if (k == PX_V_ALLOW && r->no_data)
    px_headers_set_warning(&x->resp, NULL, "no vulnerability data is loaded: no vulnerability rule could match "
                                           "(policy: no_data: allow)");
  px_gate_record(x, h->digest, k, r->rule, NULL);
  px_metrics_verdict(x->ctx, k);
  return PX_HOOK_PASS;
}

px_hook_rc px_pull_start_scan(px_xchg *x, px_hook *h);

/* The verdict of a request answered from px_mcache: 0 when answered, -1
 * when the request should go to the registry after all. */
static int answer_cached(px_xchg *x, px_hook *h, px_gate_result *r) {
  px_mcache_hit hit;
  px_headers hdr;
  if (r->kind == PX_V_UNSCANNED || r->incomplete ||
      !px_mcache_get(x->ctx->mcache, x->route.repo, h->digest, px_headers_get(&x->req, "authorization"), &hit))
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
    px_hook_set_state(h, PX_HK_DONE);
    if (rc == 0 && answer_cached(x, h, r) == 0) return;
    px_hook_set_state(h, PX_HK_PASSING);
    px_xchg_proceed(x); /* unknown or failed: the registry answers, judged then */
    return;
  }
  if (!x->held) return; /* the upstream failed meanwhile and the client was answered */
  px_hook_set_state(h, PX_HK_DONE);
  if (rc != 0) {
    on_error_decision(x, h, "the scanner or the database failed");
    if (x->held) px_xchg_release(x, NULL, NULL);
    return;
  }
  if ((r->kind == PX_V_UNSCANNED || r->incomplete) && p && sc_policy_unscanned(p) == SC_UNSCANNED_SCAN &&
      !strcmp(x->method, "GET") && x->ctx->mscan) {
    /* the manifest is held whole, the image scanned (again, when layers
     * were never stored: their fetch failed before), then judged; after
     * that scan the verdict stands, whatever it is (gate_rejudged) */
    px_hook_set_state(h, PX_HK_SCAN_PENDING);
    if (x->resp_done) px_pull_start_scan(x, h);
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
  px_hook_set_state(h, PX_HK_DONE);
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
void px_pull_blob_judged(void *arg, int rc, px_gate_result *r) {
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
    px_hook_set_state(h, PX_HK_PASSING);
    px_xchg_proceed(x);
    return;
  }
  px_hook_set_state(h, PX_HK_DONE);
  px_gate_record(x, rt->ref, PX_V_DENY, NULL, "blob");
  px_pull_deny(x, msg, NULL, NULL, rt->ref);
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
  px_hook_set_state(h, PX_HK_REJUDGE);
  px_gate_invalidate(x->ctx);
  h->task = px_gate_judge_async(x->ctx, x->route.repo, h->digest, gate_rejudged, h);
  if (!h->task) gate_rejudged(h, SC_ERR_NOMEM, NULL);
}

px_hook_rc px_pull_response(px_hook *h) {
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
  /* kept for px_mcache: a GET by tag is usually followed by a GET of the
   * same digest (and identical GETs by tag wait for this one) */
  if (!strcmp(x->method, "GET") && !strncmp(h->digest, "sha256:", 7)) h->cbody = evbuffer_new();
  h->task = px_gate_judge_async(x->ctx, x->route.repo, h->digest, gate_judged, h);
  if (!h->task) {
    on_error_decision(x, h, "the database threads are unavailable");
    return x->resp_done ? PX_HOOK_ANSWERED : PX_HOOK_PASS;
  }
  px_hook_set_state(h, PX_HK_RESP_VERDICT);
  return PX_HOOK_HOLD;
}

/* A GET or HEAD by digest that the same credentials fetched moments ago:
 * answered from px_mcache once the verdict is in (the request waits). */
px_req_rc px_pull_serve_cached(px_xchg *x, px_hook *h) {
  px_mcache_hit hit;
  if (!px_mcache_get(x->ctx->mcache, x->route.repo, x->route.ref, px_headers_get(&x->req, "authorization"), &hit))
    return PX_REQ_PROCEED;
  if (strlen(x->route.ref) >= sizeof(h->digest)) return PX_REQ_PROCEED;
  memcpy(h->digest, x->route.ref, strlen(x->route.ref) + 1);
  px_hook_set_state(h, PX_HK_CACHE_VERDICT);
  h->task = px_gate_judge_async(x->ctx, x->route.repo, h->digest, gate_judged, h);
  if (!h->task) {
    px_hook_set_state(h, PX_HK_PASSING);
    return PX_REQ_PROCEED; /* the registry answers, and that answer is judged */
  }
  return PX_REQ_WAIT;
}

/* The held manifest of a never-seen image is complete: scan the image.
 * PX_HOOK_HOLD while it scans, PX_HOOK_ANSWERED when it answered (403). */
px_hook_rc px_pull_start_scan(px_xchg *x, px_hook *h) {
  size_t len = evbuffer_get_length(x->resp_body);
  unsigned char *body = evbuffer_pullup(x->resp_body, -1);
  px_route *r = &x->route;
  char why[300] = "";
  if (body && sc_manifest_check((const char *)body, len, px_headers_get(&x->resp, "content-type"), why,
                                sizeof(why)) != 0) {
    /* pushed around customs: read differently by Go clients than by us */
    px_hook_set_state(h, PX_HK_DONE);
    px_gate_record(x, h->digest, PX_V_DENY, NULL, "manifest-invalid");
    px_pull_deny(x, why[0] ? why : "the manifest is not one customs can judge", NULL, NULL, h->digest);
    return PX_HOOK_ANSWERED;
  }
  px_job *j = body ? px_job_new_manifest(x->ctx, r->repo, r->ref_is_digest ? NULL : r->ref, h->digest,
                                         px_headers_get(&x->resp, "content-type"), body, len,
                                         px_headers_get(&x->req, "authorization"))
                   : NULL;
  px_info("req=%llu %s@%s was never scanned: scanning it now (the client waits up to %d ms)",
          (unsigned long long)x->id, r->repo, h->digest, x->ctx->cfg->scan_wait_ms);
  if (!j || px_hook_hold_for(h, j, gate_scanned, PX_HK_GATE_SCAN) != PX_HOOK_HOLD) {
    px_hook_set_state(h, PX_HK_DONE);
    px_gate_record(x, h->digest, PX_V_DENY, NULL, "scan-failed");
    px_pull_deny(x, "the image could not be scanned", NULL, NULL, h->digest);
    return PX_HOOK_ANSWERED;
  }
  return PX_HOOK_HOLD;
}

/* ---- identical GETs by tag (px_coalesce.h) ---- */

px_req_rc px_pull_coalesce(px_xchg *x, px_hook *h) {
  int rc = px_coalesce_join(x->ctx->coalesce, x->route.repo, x->route.ref, px_headers_get(&x->req, "accept"),
                            px_headers_get(&x->req, "authorization"), h);
  if (rc < 0) return PX_REQ_PROCEED;
  h->coalescing = 1;
  if (rc == 0) return PX_REQ_PROCEED; /* the leader: it asks the registry */
  px_hook_set_state(h, PX_HK_COALESCED);
  return PX_REQ_WAIT;
}

void px_pull_coalesce_done(px_xchg *x, px_hook *h, const char *digest) {
  h->coalescing = 0;
  px_coalesce_done(x->ctx->coalesce, h, digest);
}

void px_pull_coalesced(void *follower, const char *digest) {
  px_hook *h = follower;
  px_xchg *x = h->x;
  h->coalescing = 0;
  if (digest && strlen(digest) < sizeof(h->digest)) {
    /* like a GET by digest: its own verdict, then the cached document */
    memcpy(h->digest, digest, strlen(digest) + 1);
    px_hook_set_state(h, PX_HK_CACHE_VERDICT);
    h->task = px_gate_judge_async(x->ctx, x->route.repo, h->digest, gate_judged, h);
    if (h->task) return;
  }
  px_hook_set_state(h, PX_HK_PASSING);
  px_xchg_proceed(x); /* the registry answers it, and that answer is judged */
}
