/* px_gate.h - pull gating: the verdict on an image (policy x findings x
 * facts), cached per (repository, digest, policy generation, vulnerability
 * data generation, day), and the record of every decision.
 *
 * Threads: verdicts need the database, so they are computed on the database
 * threads (px_dbq.h) and delivered to a callback on the loop thread; the
 * loop holds the request or response meanwhile.  The decisions queue is the
 * loop's; its flush is written by a database thread.
 *
 * Errors: the callback's rc is 0 or SC_ERR_DB / SC_ERR_NOMEM (a database or
 * scanner failure: the caller applies the policy's on_error); the *_async
 * functions return NULL when the request could not be queued (same rule). */
#ifndef CUSTOMS_PX_GATE_H
#define CUSTOMS_PX_GATE_H
#include "px_server.h"
#include "px_dbq.h"
#include "px_policy.h"

struct px_xchg;
/* The gate's state (verdict cache, decisions queue), ctx->gate: made by
 * px_gate_init, freed by px_gate_free; opaque outside px_gate.c. */
typedef struct px_gate px_gate;

typedef enum px_verdict_kind {
  PX_V_ALLOW = 0,
  PX_V_WARN,
  PX_V_DENY,
  PX_V_UNSCANNED /* the store does not know the image */
} px_verdict_kind;

typedef struct px_gate_result {
  px_verdict_kind kind;
  char *message;      /* human text (403 body, Warning header); NULL for allow */
  char *rule;         /* deciding rule, or NULL */
  char *detail_json;  /* JSON array of reasons, or NULL */
  int64_t changes_at; /* the verdict may change by time alone then (sc_verdict); 0: not today */
  int scan_failed;    /* judged on partial facts (on_error: allow): answered as "unscanned" */
  int incomplete;     /* an image whose layers were never all stored: a pull scans it again */
  int no_data;        /* judged without vulnerability data: an allow says so (Warning) */
} px_gate_result;

int px_gate_init(px_ctx *ctx);
/* Queues the last decisions (before px_dbq_stop); px_gate_free after it. */
void px_gate_shutdown(px_ctx *ctx);
void px_gate_free(px_ctx *ctx);
/* Loop thread: the verdict arrives in cb (loop thread): rc, and r, which cb
 * may read (and steal members of, setting them NULL) but not free. */
typedef void (*px_gate_cb)(void *arg, int rc, px_gate_result *r);
/* Judges repo@digest (an image, or an index through its children). */
px_dbtask *px_gate_judge_async(px_ctx *ctx, const char *repo, const char *digest, px_gate_cb cb, void *arg);
/* Blob GET (gate.blobs): r->kind is PX_V_DENY when the blob belongs to
 * images of repo and every one of them is denied (r->message names one),
 * PX_V_ALLOW otherwise. */
px_dbtask *px_gate_blob_async(px_ctx *ctx, const char *repo, const char *blob, px_gate_cb cb, void *arg);
/* Database thread (a px_dbq task): the verdict on repo@digest under pol
 * (px_policy_acquire on the loop; NULL: no policy) through g's verdict
 * cache (g: ctx->gate, read on the loop when the task is made; NULL: no
 * cache), as px_gate_judge_async gives it.  For readers that judge several
 * images in one task (the admin API).  out: free with px_gate_result_free. */
int px_gate_judge_on(px_gate *g, struct sc_store *st, px_policy_ref *pol, const char *repo, const char *digest,
                     px_gate_result *out);
void px_gate_result_free(px_gate_result *r);
const char *px_verdict_name(px_verdict_kind k);
/* Logs the decision and queues it for the decisions table. */
void px_gate_record(struct px_xchg *x, const char *digest, px_verdict_kind k, const char *rule, const char *note);
/* Whether the request's Bearer token grants push on repo (HEAD, policy head: auto). */
int px_gate_token_can_push(const char *authorization, const char *repo, int *has_bearer);
/* Drops cached verdicts (a layer or image was scanned, data imported). */
void px_gate_invalidate(px_ctx *ctx);
#endif
