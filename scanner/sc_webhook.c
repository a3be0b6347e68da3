/* sc_webhook.c - delivery bodies, signatures and the retry schedule (see
 * sc_webhook.h).  Owner: scanner.  Thread: any (no state).
 * Errors: see the header. */
#include "sc_webhook.h"
#include "sc_inventory.h" /* SC_ERR_* */

#include <float.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GITHUB_TYPE_PREFIX "customs-"
/* reals (CVSS scores) as their sources give them: 8.1, not jansson's default
 * 17 digits 8.0999999999999996; DBL_DIG digits keep any decimal a double can */
#define BODY_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(DBL_DIG))
#define GITHUB_FOLD_KEY "more"   /* client_payload key holding what did not fit */
#define GITHUB_FIRST_KEYS 3      /* id, type, at: always at the top */

static const char *const NAMES[] = {"generic", "github", "azure-pipelines"};

int sc_webhook_format_parse(const char *name, sc_webhook_format *out) {
  for (int i = 0; i < 3; i++)
    if (name && !strcmp(name, NAMES[i])) {
      *out = (sc_webhook_format)i;
      return 0;
    }
  return -1;
}

const char *sc_webhook_format_name(sc_webhook_format f) { return (unsigned)f < 3 ? NAMES[f] : "generic"; }

/* client_payload: GitHub accepts at most SC_WEBHOOK_GITHUB_MAX_KEYS
 * top-level keys; an event with more keeps id/type/at and the first ones,
 * and nests the rest under "more" so nothing is lost. */
static json_t *github_payload(const json_t *event) {
  if (json_object_size(event) <= SC_WEBHOOK_GITHUB_MAX_KEYS) return json_deep_copy(event);
  json_t *cp = json_object(), *more = json_object();
  const char *first[GITHUB_FIRST_KEYS] = {"id", "type", "at"};
  const char *k;
  json_t *v;
  size_t kept = 0;
  if (!cp || !more) goto fail;
  for (int i = 0; i < GITHUB_FIRST_KEYS; i++) {
    json_t *x = json_object_get(event, first[i]);
    if (x && json_object_set(cp, first[i], x)) goto fail;
    if (x) kept++;
  }
  json_object_foreach((json_t *)event, k, v) {
    if (!strcmp(k, "id") || !strcmp(k, "type") || !strcmp(k, "at")) continue;
    json_t *dst = kept < SC_WEBHOOK_GITHUB_MAX_KEYS - 1 ? cp : more;
    if (json_object_set(dst, k, v)) goto fail;
    if (dst == cp) kept++;
  }
  if (json_object_set_new(cp, GITHUB_FOLD_KEY, more)) {
    more = NULL;
    goto fail;
  }
  return cp;
fail:
  json_decref(cp);
  json_decref(more);
  return NULL;
}

static json_t *github_body(const json_t *event) {
  const char *type = json_string_value(json_object_get(event, "type"));
  char et[SC_WEBHOOK_GITHUB_TYPE_MAX + 1];
  snprintf(et, sizeof(et), "%s%s", GITHUB_TYPE_PREFIX, type ? type : "event"); /* truncates at 100 */
  json_t *cp = github_payload(event);
  if (!cp) return NULL;
  return json_pack("{s:s, s:o}", "event_type", et, "client_payload", cp);
}

/* Azure DevOps runs a YAML pipeline with string template parameters. */
static json_t *azure_body(const json_t *event, const char *ref) {
  const char *id = json_string_value(json_object_get(event, "id"));
  const char *type = json_string_value(json_object_get(event, "type"));
  const char *at = json_string_value(json_object_get(event, "at"));
  char *compact = json_dumps(event, BODY_DUMP_FLAGS);
  if (!compact) return NULL;
  json_t *body = json_pack("{s:{s:s, s:s, s:s, s:s}}", "templateParameters", "customsEventId", id ? id : "",
                           "customsEventType", type ? type : "", "customsEventAt", at ? at : "", "customsEvent",
                           compact);
  free(compact);
  if (body && ref && *ref &&
      json_object_set_new(body, "resources", json_pack("{s:{s:{s:s}}}", "repositories", "self", "refName", ref))) {
    json_decref(body);
    return NULL;
  }
  return body;
}

char *sc_webhook_render(sc_webhook_format f, const json_t *event, const char *ref) {
  if (!json_is_object(event)) return NULL;
  json_t *body = f == SC_WEBHOOK_GITHUB ? github_body(event)
                 : f == SC_WEBHOOK_AZURE ? azure_body(event, ref)
                                         : json_incref((json_t *)event);
  if (!body) return NULL;
  char *s = json_dumps(body, BODY_DUMP_FLAGS);
  json_decref(body);
  return s;
}

int sc_webhook_sign(const char *key, size_t keylen, const void *body, size_t len, char hex[SC_WEBHOOK_SIG_HEX_BYTES]) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (!key || (!body && len)) return SC_ERR_ARG;
  if (!HMAC(EVP_sha256(), key, (int)keylen, body ? body : (const void *)"", len, mac, &maclen) || maclen != 32)
    return SC_ERR_NOMEM;
  for (unsigned i = 0; i < maclen; i++) snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  return 0;
}

int64_t sc_webhook_retry_delay(int attempts) {
  if (attempts < 1) return 0;
  if (attempts >= SC_WEBHOOK_MAX_ATTEMPTS) return -1;
  int64_t d = SC_WEBHOOK_RETRY_FIRST_S;
  for (int i = 1; i < attempts && d < SC_WEBHOOK_RETRY_MAX_DELAY_S; i++) d *= 2;
  return d < SC_WEBHOOK_RETRY_MAX_DELAY_S ? d : SC_WEBHOOK_RETRY_MAX_DELAY_S;
}

int sc_webhook_retryable(long status) {
  if (status < 400 || status >= 500) return 1; /* no answer, 3xx (not followed), 5xx */
  return status == 408 || status == 425 || status == 429;
}
