/* sc_webhook.h - what a webhook delivery is, without any I/O: the body in
 * each receiver format, its HMAC-SHA256 signature, and the retry schedule.
 *
 * An event is a JSON object {"id", "type", "at" (RFC 3339 UTC), ...payload}.
 * Formats:
 *   generic          the event object itself.
 *   github           a GitHub `repository_dispatch` body (POST
 *                    /repos/OWNER/REPO/dispatches):
 *                    {"event_type": "customs-<type>", "client_payload": {...}}.
 *                    event_type is at most 100 characters and client_payload
 *                    has at most 10 top-level keys (GitHub's limits): the
 *                    event object when it fits, else "id", "type", "at", the
 *                    first six other keys and "more": {the rest}.
 *   azure-pipelines  an Azure DevOps "Runs - Run Pipeline" body (POST
 *                    .../_apis/pipelines/{id}/runs?api-version=7.1):
 *                    {"resources": {"repositories": {"self": {"refName": REF}}},
 *                     "templateParameters": {"customsEventId", "customsEventType",
 *                     "customsEventAt", "customsEvent" (the event as compact
 *                     JSON)}}; every parameter value is a string, and the
 *                    pipeline must declare these four parameters.  Without a
 *                    ref, "resources" is left out (the pipeline's default
 *                    branch).
 *
 * Retries: attempt n (1-based) that failed is followed by attempt n+1 after
 * min(SC_WEBHOOK_RETRY_FIRST_S * 2^(n-1), SC_WEBHOOK_RETRY_MAX_DELAY_S)
 * seconds: 1, 2, 4, ... 2048, then hourly, until SC_WEBHOOK_MAX_ATTEMPTS
 * attempts were made (about 25 hours in all); then the delivery fails.  A
 * 2xx answer delivers it; 4xx answers other than 408, 425 and 429 fail it at
 * once (the receiver refused this body: sending it again will not help).
 *
 * Owner: scanner (pure functions).  Thread: any.
 * Errors: NULL / SC_ERR_ARG, SC_ERR_NOMEM (sc_inventory.h). */
#ifndef CUSTOMS_SC_WEBHOOK_H
#define CUSTOMS_SC_WEBHOOK_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SC_WEBHOOK_RETRY_FIRST_S 1          /* delay after the first failed attempt */
#define SC_WEBHOOK_RETRY_MAX_DELAY_S 3600   /* cap of the doubling delay */
#define SC_WEBHOOK_MAX_ATTEMPTS 36          /* retry budget: attempts in all (~25 h) */
#define SC_WEBHOOK_GITHUB_TYPE_MAX 100      /* GitHub: event_type characters */
#define SC_WEBHOOK_GITHUB_MAX_KEYS 10       /* GitHub: top-level keys of client_payload */
#define SC_WEBHOOK_SIG_HEX_BYTES 65         /* hex HMAC-SHA256 and its NUL */

typedef enum sc_webhook_format {
  SC_WEBHOOK_GENERIC = 0,
  SC_WEBHOOK_GITHUB,
  SC_WEBHOOK_AZURE,
} sc_webhook_format;

/* "generic" | "github" | "azure-pipelines" -> *out; -1 when unknown. */
int sc_webhook_format_parse(const char *name, sc_webhook_format *out);
const char *sc_webhook_format_name(sc_webhook_format f);

/* The body for format f of event (an object with "id", "type", "at"):
 * malloc'd compact JSON, NULL on error.  ref: azure-pipelines refName
 * (NULL or "": none). */
char *sc_webhook_render(sc_webhook_format f, const json_t *event, const char *ref);

/* hex (lower case) of HMAC-SHA256(key, body).  0, SC_ERR_ARG, SC_ERR_NOMEM. */
int sc_webhook_sign(const char *key, size_t keylen, const void *body, size_t len,
                    char hex[SC_WEBHOOK_SIG_HEX_BYTES]);

/* Seconds to wait after `attempts` attempts (>= 1) have failed; -1 when the
 * retry budget is spent. */
int64_t sc_webhook_retry_delay(int attempts);

/* Whether an attempt that got HTTP status (0: no answer) may be retried. */
int sc_webhook_retryable(long status);
#endif
