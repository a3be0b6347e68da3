/* px_hook.h - private to the interception modules (px_intercept.c: uploads,
 * pushes and their holds; px_pullgate.c: pull gating): the per-exchange hook,
 * its states, and the calls between the two files.
 *
 * Ownership: the px_hook in x->hook, freed by the interception's free op.
 * Thread: loop thread.  Errors: none; the functions answer or hold. */
#ifndef CUSTOMS_PX_HOOK_H
#define CUSTOMS_PX_HOOK_H
#include "px_dbq.h"
#include "px_gate.h"
#include "px_scan.h"
#include "px_xchg.h"

/* What the exchange waits for on the interception's account.  Everything
 * that waits holds a resource (a database task, a job and its timer) that
 * the state names; ic_free releases whatever is still held. */
typedef enum px_hook_state {
  PX_HK_PASSING = 0,   /* nothing held: bytes are teed and recorded as they pass */
  PX_HK_BODY_WAIT,     /* manifest PUT: the request waits for its whole body (PX_REQ_WAIT_BODY) */
  PX_HK_REQ_VERDICT,   /* blob GET: the request waits for its verdict (PX_REQ_WAIT, h->task) */
  PX_HK_CACHE_VERDICT, /* GET/HEAD by digest: answered from px_mcache once the verdict is in (h->task) */
  PX_HK_COALESCED,     /* GET by tag: waits for an identical GET in flight (ctx->coalesce) */
  PX_HK_RESP_VERDICT,  /* manifest response held while a database thread judges it (h->task) */
  PX_HK_SCAN_PENDING,  /* never-scanned image: held until the whole manifest is in, then scanned */
  PX_HK_GATE_SCAN,     /* held until that scan is done (h->wait, h->timer: scan.wait_ms) */
  PX_HK_REJUDGE,       /* held while the freshly scanned image is judged (h->task) */
  PX_HK_PUSH_SCAN,     /* manifest PUT held until its scans are done (h->wait, h->timer) */
  PX_HK_REFERRERS,     /* referrers GET/HEAD: the list is read (h->task), then the access check is upstream (h->ref) */
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
  int coalescing;         /* registered in ctx->coalesce (leader or follower) */
  char subject[160];      /* manifest PUT: the `subject` digest it names ("" none), for OCI-Subject */
  struct px_referrers *ref; /* referrers GET/HEAD (px_referrers.c) */
  int deleting;           /* manifest DELETE by digest: forget it as a referrer once the registry accepts */
} px_hook;

/* Moves the hook to state s (logged at debug level). */
void px_hook_set_state(px_hook *h, px_hook_state s);
/* Holds the response until job j is done (cb then runs), bounded by
 * scan.wait_ms; PX_HOOK_HOLD, or PX_HOOK_PASS when it cannot wait. */
px_hook_rc px_hook_hold_for(px_hook *h, px_job *j, px_job_cb cb, px_hook_state st);

/* px_pullgate.c */
/* Answers 403 DENIED (the upstream connection is let go). */
void px_pull_deny(px_xchg *x, const char *message, const char *rule, const char *detail_json, const char *digest);
/* GET/HEAD by digest present in px_mcache: waits for the verdict, then answers from the cache. */
px_req_rc px_pull_serve_cached(px_xchg *x, px_hook *h);
/* GET by tag: waits for an identical GET in flight (PX_REQ_WAIT), or leads. */
px_req_rc px_pull_coalesce(px_xchg *x, px_hook *h);
/* The leader's manifest is complete (stored in px_mcache under `digest`,
 * or NULL when not): its followers resume. */
void px_pull_coalesce_done(px_xchg *x, px_hook *h, const char *digest);
/* Verdict callback of a blob GET (gate.blobs); r NULL when it could not be queued. */
void px_pull_blob_judged(void *arg, int rc, px_gate_result *r);
/* A manifest GET/HEAD response head: holds it while a database thread judges it. */
px_hook_rc px_pull_response(px_hook *h);
/* The held manifest of a never-seen image is complete: scans it, then judges. */
px_hook_rc px_pull_start_scan(px_xchg *x, px_hook *h);
#endif
