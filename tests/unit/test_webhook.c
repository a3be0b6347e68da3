/* test_webhook.c - delivery bodies, signatures and the retry schedule
 * (sc_webhook): HMAC-SHA256 against RFC 4231 vectors, the shapes of the
 * generic, github (repository_dispatch) and azure-pipelines (Runs - Run
 * Pipeline) bodies, GitHub's limits, and the backoff schedule with its
 * budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_inventory.h" /* SC_ERR_* */
#include "sc_webhook.h"
#include "tap.h"

static void test_hmac(void) {
  char hex[SC_WEBHOOK_SIG_HEX_BYTES];
  /* RFC 4231 test case 2 */
  CHECK(sc_webhook_sign("Jefe", 4, "what do ya want for nothing?", 28, hex) == 0, "sign case 2");
  CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "RFC 4231 case 2");
  /* RFC 4231 test case 1: key 20 x 0x0b */
  char key[20];
  memset(key, 0x0b, sizeof(key));
  CHECK(sc_webhook_sign(key, sizeof(key), "Hi There", 8, hex) == 0, "sign case 1");
  CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", "RFC 4231 case 1");
  /* RFC 4231 test case 6: a key longer than the block (131 x 0xaa) */
  char big[131];
  memset(big, 0xaa, sizeof(big));
  const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  CHECK(sc_webhook_sign(big, sizeof(big), d6, strlen(d6), hex) == 0, "sign case 6");
  CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", "RFC 4231 case 6");
  CHECK(sc_webhook_sign(NULL, 0, "x", 1, hex) == SC_ERR_ARG, "no key: SC_ERR_ARG");
}

static json_t *event_fixture(int extra_keys) {
  json_t *e = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s}]}", "id", "0123abcd", "type", "scan-completed",
                        "at", "2024-05-01T10:00:00Z", "image", "repository", "team/app", "digest", "sha256:aa",
                        "findings", "id", "CVE-2024-1", "severity", "high");
  for (int i = 0; i < extra_keys; i++) {
    char k[16];
    snprintf(k, sizeof(k), "k%02d", i);
    json_object_set_new(e, k, json_integer(i));
  }
  return e;
}

static void test_generic(void) {
  json_t *e = event_fixture(0);
  char *body = sc_webhook_render(SC_WEBHOOK_GENERIC, e, NULL);
  json_t *b = body ? json_loads(body, 0, NULL) : NULL;
  CHECK(b && json_equal(b, e), "generic: the event object itself");
  CHECK(body && !strchr(body, '\n'), "generic: compact JSON");
  json_decref(b);
  free(body);
  json_decref(e);
}

static void test_github(void) {
  json_t *e = event_fixture(0);
  char *body = sc_webhook_render(SC_WEBHOOK_GITHUB, e, "refs/heads/main");
  json_t *b = body ? json_loads(body, 0, NULL) : NULL;
  CHECK(json_object_size(b) == 2, "github: two top-level keys");
  CHECK_STR(json_string_value(json_object_get(b, "event_type")), "customs-scan-completed", "github: event_type");
  json_t *cp = json_object_get(b, "client_payload");
  CHECK(cp && json_equal(cp, e), "github: client_payload is the event when it has <= 10 keys");
  json_decref(b);
  free(body);
  json_decref(e);

  /* 5 + 8 = 13 keys: folded to 10, nothing lost */
  e = event_fixture(8);
  body = sc_webhook_render(SC_WEBHOOK_GITHUB, e, NULL);
  b = body ? json_loads(body, 0, NULL) : NULL;
  cp = json_object_get(b, "client_payload");
  CHECK_INT((long)json_object_size(cp), SC_WEBHOOK_GITHUB_MAX_KEYS, "github: client_payload capped at 10 keys");
  CHECK_STR(json_string_value(json_object_get(cp, "id")), "0123abcd", "github: id kept at the top");
  CHECK_STR(json_string_value(json_object_get(cp, "type")), "scan-completed", "github: type kept at the top");
  CHECK(json_object_get(cp, "at") != NULL, "github: at kept at the top");
  json_t *more = json_object_get(cp, "more");
  CHECK(json_object_size(cp) - 1 + json_object_size(more) == json_object_size(e), "github: every key is kept");
  CHECK(json_integer_value(json_object_get(more, "k07")) == 7, "github: the last key is under more");
  json_decref(b);
  free(body);
  json_decref(e);

  /* a type that would make event_type longer than 100 characters */
  char longtype[200];
  memset(longtype, 'x', 150);
  longtype[150] = 0;
  e = json_pack("{s:s, s:s, s:s}", "id", "1", "type", longtype, "at", "t");
  body = sc_webhook_render(SC_WEBHOOK_GITHUB, e, NULL);
  b = body ? json_loads(body, 0, NULL) : NULL;
  const char *et = json_string_value(json_object_get(b, "event_type"));
  CHECK(et && strlen(et) == SC_WEBHOOK_GITHUB_TYPE_MAX, "github: event_type cut to 100 characters (%zu)",
        et ? strlen(et) : 0);
  json_decref(b);
  free(body);
  json_decref(e);
}

static void test_azure(void) {
  json_t *e = event_fixture(0);
  char *body = sc_webhook_render(SC_WEBHOOK_AZURE, e, "refs/heads/main");
  json_t *b = body ? json_loads(body, 0, NULL) : NULL;
  CHECK_STR(json_string_value(json_object_get(
                json_object_get(json_object_get(json_object_get(b, "resources"), "repositories"), "self"), "refName")),
            "refs/heads/main", "azure: resources.repositories.self.refName");
  json_t *tp = json_object_get(b, "templateParameters");
  CHECK_INT((long)json_object_size(tp), 4, "azure: four template parameters");
  const char *k;
  json_t *v;
  int strings = 1;
  json_object_foreach(tp, k, v) strings &= json_is_string(v);
  CHECK(strings, "azure: every template parameter is a string");
  CHECK_STR(json_string_value(json_object_get(tp, "customsEventId")), "0123abcd", "azure: event id");
  CHECK_STR(json_string_value(json_object_get(tp, "customsEventType")), "scan-completed", "azure: event type");
  json_t *inner = json_loads(json_string_value(json_object_get(tp, "customsEvent")), 0, NULL);
  CHECK(inner && json_equal(inner, e), "azure: customsEvent is the event as JSON text");
  json_decref(inner);
  json_decref(b);
  free(body);
  body = sc_webhook_render(SC_WEBHOOK_AZURE, e, "");
  b = body ? json_loads(body, 0, NULL) : NULL;
  CHECK(b && !json_object_get(b, "resources") && json_object_get(b, "templateParameters"),
        "azure: no ref, no resources");
  json_decref(b);
  free(body);
  json_decref(e);
  CHECK(sc_webhook_render(SC_WEBHOOK_GENERIC, NULL, NULL) == NULL, "render: NULL event refused");
}

static void test_formats(void) {
  sc_webhook_format f;
  CHECK(sc_webhook_format_parse("github", &f) == 0 && f == SC_WEBHOOK_GITHUB, "parse github");
  CHECK(sc_webhook_format_parse("azure-pipelines", &f) == 0 && f == SC_WEBHOOK_AZURE, "parse azure-pipelines");
  CHECK(sc_webhook_format_parse("generic", &f) == 0 && f == SC_WEBHOOK_GENERIC, "parse generic");
  CHECK(sc_webhook_format_parse("slack", &f) < 0, "unknown format refused");
  CHECK_STR(sc_webhook_format_name(SC_WEBHOOK_AZURE), "azure-pipelines", "name of azure");
}

static void test_backoff(void) {
  static const int64_t want[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600};
  int ok = 1;
  for (int i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++)
    if (sc_webhook_retry_delay(i + 1) != want[i]) {
      ok = 0;
      printf("# attempt %d: delay %lld, want %lld\n", i + 1, (long long)sc_webhook_retry_delay(i + 1), (long long)want[i]);
    }
  CHECK(ok, "backoff doubles from 1 s and is capped at 3600 s");
  CHECK(sc_webhook_retry_delay(SC_WEBHOOK_MAX_ATTEMPTS - 1) == SC_WEBHOOK_RETRY_MAX_DELAY_S, "last retry: the cap");
  CHECK(sc_webhook_retry_delay(SC_WEBHOOK_MAX_ATTEMPTS) == -1, "budget spent after %d attempts",
        SC_WEBHOOK_MAX_ATTEMPTS);
  int64_t total = 0;
  for (int a = 1; a < SC_WEBHOOK_MAX_ATTEMPTS; a++) total += sc_webhook_retry_delay(a);
  CHECK(total > 20 * 3600 && total < 30 * 3600, "retries span about a day (%lld s)", (long long)total);
  CHECK(sc_webhook_retryable(0) && sc_webhook_retryable(503) && sc_webhook_retryable(429) &&
            sc_webhook_retryable(408),
        "no answer, 5xx, 429, 408 are retried");
  CHECK(!sc_webhook_retryable(400) && !sc_webhook_retryable(401) && !sc_webhook_retryable(404) &&
            !sc_webhook_retryable(422),
        "other 4xx fail at once");
}

int main(void) {
  test_hmac();
  test_formats();
  test_generic();
  test_github();
  test_azure();
  test_backoff();
  return tap_done();
}
