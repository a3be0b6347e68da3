/* px_gate.h - pull gating: the verdict on an image (policy x findings x
 * facts), cached per (repository, digest, policy generation, vulnerability
 * data generation, day), and the record of every decision.
 *
 * Errors: px_gate_judge returns 0 or SC_ERR_DB / SC_ERR_NOMEM (a database or
 * scanner failure: the caller applies the policy's on_error). */
#ifndef CUSTOMS_PX_GATE_H
#define CUSTOMS_PX_GATE_H
#include "px_server.h"

struct px_xchg;

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
} px_gate_result;

int px_gate_init(px_ctx *ctx);
void px_gate_shutdown(px_ctx *ctx);
/* Judges repo@digest (an image, or an index through its children). */
int px_gate_judge(px_ctx *ctx, const char *repo, const char *digest, px_gate_result *out);
void px_gate_result_free(px_gate_result *r);
const char *px_verdict_name(px_verdict_kind k);
/* Logs the decision and queues it for the decisions table. */
void px_gate_record(struct px_xchg *x, const char *digest, px_verdict_kind k, const char *rule, const char *note);
/* Whether the request's Bearer token grants push on repo (HEAD, policy head: auto). */
int px_gate_token_can_push(const char *authorization, const char *repo, int *has_bearer);
/* Blob GET (gate.blobs): *denied is set when the blob belongs to images of
 * repo and every one of them is denied; *message names one of them. */
int px_gate_blob(px_ctx *ctx, const char *repo, const char *blob, int *denied, char **message);
/* Drops cached verdicts (a layer or image was scanned, data imported). */
void px_gate_invalidate(px_ctx *ctx);
#endif
