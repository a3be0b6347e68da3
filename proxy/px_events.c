/* px_events.c - events and their webhook deliveries (see px_events.h).
 *
 * Emitting (any thread with a store handle) renders one body per
 * subscribed webhook and records the event and its deliveries in one
 * transaction (sc_events.h), then wakes the delivery thread.  The delivery
 * thread owns its store connection and HTTP client: it sends what is due,
 * one POST at a time with a per-attempt deadline, records each attempt and
 * schedules the next one (sc_webhook.h), and looks again at least every
 * PX_EVENTS_POLL_MS, so retries after a backoff and deliveries left pending
 * by a previous process go out without an emit.  Nothing runs on the loop
 * thread but a 1 s timer that keeps a copy of the policy in force for the
 * event sources (px_eventsrc.c).
 *
 * Secrets: the HMAC secret is configuration (never stored, never logged);
 * the receiver's token is read from token_file at each attempt (so it can
 * be rotated), sent as Authorization to the webhook URL only (POSTs follow
 * no redirect), and wiped after.  Logs and stored errors name a webhook by
 * its format and origin, never by its full URL, which may hold a secret.
 *
 * Owner: ctx->events.  Thread: see px_events.h.  Errors: SC_ERR_*. */
#include "px_events.h"
#include "net_http.h"
#include "px_log.h"
#include "px_metrics.h"
#include "px_policy.h"
#include "sc_events.h"
#include "sc_time.h"
#include "sc_webhook.h"
#include <float.h>
#include <errno.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PX_EVENTS_POLL_MS 1000            /* due deliveries are looked for at least this often */
#define PX_EVENTS_ATTEMPT_TIMEOUT_MS 10000 /* one POST, connect included */
/* a delivery taken for an attempt is due again after this, should the
 * replica attempting it die (longer than one attempt) */
#define PX_EVENTS_LEASE_S (PX_EVENTS_ATTEMPT_TIMEOUT_MS / 1000 + 20)
#define PX_EVENTS_CONNECT_TIMEOUT_MS 5000
#define PX_EVENTS_BATCH 32                /* deliveries read per pass */
#define PX_EVENTS_PRUNE_EVERY_S 3600      /* outbox pruning (sc_events_prune) */
#define PX_EVENTS_TOKEN_MAX_BYTES 4096    /* token_file: its first line */
#define PX_EVENTS_ID_RANDOM_BYTES 16      /* event id: 128 random bits, hex */
#define HOOK_KEY_MAX (PX_PATH_MAX + 40)
#define ORIGIN_SHOWN_MAX 300

typedef struct hook {
  const struct px_webhook_cfg *cfg;
  sc_webhook_format fmt;
  char key[HOOK_KEY_MAX];     /* "<format> <url>": deliveries.hook */
  char shown[ORIGIN_SHOWN_MAX]; /* "<format> <origin>" for logs */
} hook;

struct px_events {
  px_ctx *ctx;
  hook hooks[PX_MAX_WEBHOOKS];
  int nhooks;
  unsigned wants;             /* PX_EV_* of every hook */
  pthread_t th;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int kick;                   /* mu: an emit happened */
  int stop;                   /* atomic; also the POST's abort flag */
  /* the policy copy (px_events_policy_lock) */
  pthread_rwlock_t pol_lock;
  px_policy_ref *pol;         /* pol_lock (write: loop thread) */
  uint64_t pol_gen;           /* loop thread */
  struct event *pol_ev;
};

static unsigned type_bit(const char *type) {
  if (!type) return 0;
  if (!strcmp(type, PX_EVENT_BASE_UPDATED)) return PX_EV_BASE_UPDATED;
  if (!strcmp(type, PX_EVENT_SCAN_COMPLETED)) return PX_EV_SCAN_COMPLETED;
  if (!strcmp(type, PX_EVENT_PULL_DENIED)) return PX_EV_PULL_DENIED;
  return 0;
}

int px_events_wants(const px_events *ev, const char *type) { return ev && (ev->wants & type_bit(type)) != 0; }

/* "scheme://host[:port]" of url, for logs. */
static void origin_shown(const char *url, char *out, size_t cap) {
  const char *p = strstr(url, "://");
  size_t n = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strcspn(url, "/?#");
  snprintf(out, cap, "%.*s", (int)n, url);
}

/* ---- the policy copy ---- */

static void policy_tick(evutil_socket_t fd, short what, void *arg) {
  px_events *ev = arg;
  (void)fd, (void)what;
  uint64_t g = px_policy_generation(ev->ctx);
  if (ev->pol && g == ev->pol_gen) return;
  if (!ev->pol && !px_policy_get(ev->ctx)) return;
  /* never wait on the loop: a worker judging holds it; try again next tick */
  if (pthread_rwlock_trywrlock(&ev->pol_lock) != 0) return;
  px_policy_ref *old = ev->pol;
  ev->pol = px_policy_acquire(ev->ctx);
  ev->pol_gen = g;
  pthread_rwlock_unlock(&ev->pol_lock);
  px_policy_release(old);
}

const struct sc_policy *px_events_policy_lock(px_events *ev) {
  if (!ev) return NULL;
  pthread_rwlock_rdlock(&ev->pol_lock);
  return px_policy_ref_policy(ev->pol);
}

void px_events_policy_unlock(px_events *ev) {
  if (ev) pthread_rwlock_unlock(&ev->pol_lock);
}

/* ---- emit ---- */

static void rfc3339(int64_t t, char out[32]) {
  int y, m, d;
  int64_t day = sc_day_of(t), s = t - day * SC_DAY_SECONDS;
  sc_civil_from_days(day, &y, &m, &d);
  snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

int px_events_emit(px_events *ev, sc_store *st, const char *type, json_t *payload, char *event_id) {
  unsigned char rnd[PX_EVENTS_ID_RANDOM_BYTES];
  char id[2 * PX_EVENTS_ID_RANDOM_BYTES + 1], at[32];
  sc_delivery_new d[PX_MAX_WEBHOOKS];
  char *bodies[PX_MAX_WEBHOOKS] = {0};
  size_t n = 0;
  int rv = 0;
  unsigned bit = type_bit(type);

  if (event_id) event_id[0] = 0;
  if (!ev) {
    json_decref(payload);
    return 0;
  }
  if (!st || !bit || !json_is_object(payload)) {
    json_decref(payload);
    return SC_ERR_ARG;
  }
  if (!(ev->wants & bit)) {
    json_decref(payload);
    return 0;
  }
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
    json_decref(payload);
    px_error("event %s: no random bytes for its id: not recorded", type);
    return SC_ERR_NOMEM;
  }
  for (size_t i = 0; i < sizeof(rnd); i++) snprintf(id + 2 * i, 3, "%02x", rnd[i]);
  int64_t now = (int64_t)time(NULL);
  rfc3339(now, at);
  json_t *event = json_pack("{s:s, s:s, s:s}", "id", id, "type", type, "at", at);
  char *event_json = NULL;
  if (!event || json_object_update_missing(event, payload) || !(event_json = json_dumps(event, JSON_COMPACT | JSON_REAL_PRECISION(DBL_DIG)))) {
    rv = SC_ERR_NOMEM;
    goto out;
  }
  for (int i = 0; i < ev->nhooks; i++) {
    const hook *h = &ev->hooks[i];
    if (!(h->cfg->events & bit)) continue;
    if (!(bodies[n] = sc_webhook_render(h->fmt, event, h->cfg->ref))) {
      rv = SC_ERR_NOMEM;
      goto out;
    }
    d[n] = (sc_delivery_new){h->key, h->cfg->url, bodies[n]};
    n++;
  }
  rv = sc_events_record(st, id, type, now, event_json, d, n);
  if (rv) {
    px_error("event %s id=%s: cannot record it: %s", type, id, sc_store_errmsg(st));
    goto out;
  }
  px_info("event type=%s id=%s deliveries=%zu", type, id, n);
  if (event_id) snprintf(event_id, 40, "%s", id);
  pthread_mutex_lock(&ev->mu);
  ev->kick = 1;
  pthread_cond_signal(&ev->cv);
  pthread_mutex_unlock(&ev->mu);
out:
  if (rv == SC_ERR_NOMEM) px_error("event %s: out of memory: not recorded", type);
  for (size_t i = 0; i < PX_MAX_WEBHOOKS; i++) free(bodies[i]);
  free(event_json);
  json_decref(event);
  json_decref(payload);
  return rv;
}

/* ---- delivery ---- */

static const hook *hook_by_key(const px_events *ev, const char *key) {
  for (int i = 0; i < ev->nhooks; i++)
    if (!strcmp(ev->hooks[i].key, key)) return &ev->hooks[i];
  return NULL;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64(const unsigned char *in, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = B64[v >> 18 & 63];
    out[o++] = B64[v >> 12 & 63];
    out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? B64[v & 63] : '=';
  }
  out[o] = 0;
}

/* The Authorization value for h from its token_file (first line): github
 * and generic "Bearer TOKEN", azure-pipelines "Basic base64(:PAT)".  0 (out
 * "" when the hook has no token_file), -1 when the file is unreadable. */
static int authorization(const hook *h, char *out, size_t cap) {
  char tok[PX_EVENTS_TOKEN_MAX_BYTES], raw[PX_EVENTS_TOKEN_MAX_BYTES + 2];
  out[0] = 0;
  if (!h->cfg->token_file[0]) return 0;
  FILE *f = fopen(h->cfg->token_file, "r");
  if (!f) return -1;
  int ok = fgets(tok, sizeof(tok), f) != NULL;
  fclose(f);
  if (!ok) return -1;
  tok[strcspn(tok, "\r\n")] = 0;
  if (!tok[0]) return -1;
  if (h->fmt == SC_WEBHOOK_AZURE) {
    int n = snprintf(raw, sizeof(raw), ":%s", tok);
    if (cap < 7 + ((size_t)n + 2) / 3 * 4) ok = 0;
    else {
      memcpy(out, "Basic ", 6);
      b64((const unsigned char *)raw, (size_t)n, out + 6);
    }
  } else {
    ok = (size_t)snprintf(out, cap, "Bearer %s", tok) < cap;
  }
  explicit_bzero(tok, sizeof(tok));
  explicit_bzero(raw, sizeof(raw));
  if (!ok) explicit_bzero(out, cap);
  return ok ? 0 : -1;
}

/* One attempt of d; records its outcome (unless stopped mid-way: the
 * delivery then stays as it was, and a restart sends it). */
static void deliver(px_events *ev, sc_store *st, net_http *http, const sc_delivery *d) {
  const hook *h = hook_by_key(ev, d->hook);
  int64_t now = (int64_t)time(NULL);
  if (!h) {
    sc_events_attempted(st, d->id, SC_DELIVERY_FAILED, 0, "webhook no longer configured", now, now);
    px_metrics_delivery(ev->ctx, "failed");
    return;
  }
  /* replicas sharing the database read the same due rows: one attempts */
  const int64_t lease = now + PX_EVENTS_LEASE_S;
  int rc = sc_events_take(st, d->id, d->next_at, lease);
  if (rc == SC_ERR_STATE) return;
  if (rc != 0) {
    px_error("webhooks: delivery %lld: %s", (long long)d->id, sc_store_errmsg(st));
    return;
  }
  char auth[2 * PX_EVENTS_TOKEN_MAX_BYTES], sig[SC_WEBHOOK_SIG_HEX_BYTES];
  char hdr_type[100], hdr_id[100], hdr_del[64], hdr_sig[100];
  const char *headers[5];
  size_t nh = 0;
  net_http_resp rs;
  const char *err = NULL;
  char errbuf[PX_PATH_MAX + 64];
  int rv = -1;
  size_t blen = strlen(d->body);

  memset(&rs, 0, sizeof(rs));
  snprintf(hdr_type, sizeof(hdr_type), "X-Customs-Event: %s", d->type);
  snprintf(hdr_id, sizeof(hdr_id), "X-Customs-Event-Id: %s", d->event);
  snprintf(hdr_del, sizeof(hdr_del), "X-Customs-Delivery: %lld", (long long)d->id);
  headers[nh++] = hdr_type;
  headers[nh++] = hdr_id;
  headers[nh++] = hdr_del;
  if (h->cfg->secret[0]) {
    if (sc_webhook_sign(h->cfg->secret, strlen(h->cfg->secret), d->body, blen, sig) != 0) {
      err = "cannot sign the body";
      goto record;
    }
    snprintf(hdr_sig, sizeof(hdr_sig), "X-Customs-Signature: sha256=%s", sig);
    headers[nh++] = hdr_sig;
  }
  if (h->fmt == SC_WEBHOOK_GITHUB) headers[nh++] = "X-GitHub-Api-Version: 2022-11-28";
  if (authorization(h, auth, sizeof(auth)) < 0) {
    snprintf(errbuf, sizeof(errbuf), "token_file %s: unreadable or empty", h->cfg->token_file);
    err = errbuf;
    goto record;
  }
  net_http_post_req rq = {.url = d->url, .body = d->body, .len = blen, .content_type = "application/json",
                          .accept = h->fmt == SC_WEBHOOK_GITHUB ? "application/vnd.github+json" : NULL,
                          .authorization = auth[0] ? auth : NULL, .headers = headers, .nheaders = nh,
                          .timeout_ms = PX_EVENTS_ATTEMPT_TIMEOUT_MS, .abort_flag = &ev->stop};
  rv = net_http_post(http, &rq, &rs);
  explicit_bzero(auth, sizeof(auth));
  if (__atomic_load_n(&ev->stop, __ATOMIC_SEQ_CST) && rv) {
    sc_events_take(st, d->id, lease, d->next_at); /* abandoned: due when it was */
    net_http_resp_free(&rs);
    return;
  }
  if (rv || rs.status < 200 || rs.status > 299) err = rs.error[0] ? rs.error : "no answer";
record:;
  int attempts = d->attempts + 1;
  now = (int64_t)time(NULL);
  if (!err) {
    sc_events_attempted(st, d->id, SC_DELIVERY_DELIVERED, rs.status, NULL, now, now);
    px_metrics_delivery(ev->ctx, "delivered");
    px_info("webhook delivered event=%s type=%s hook=\"%s\" status=%ld attempts=%d", d->event, d->type, h->shown,
            rs.status, attempts);
  } else {
    int64_t delay = sc_webhook_retry_delay(attempts);
    int retry = delay >= 0 && (rv != 0 || sc_webhook_retryable(rs.status));
    sc_events_attempted(st, d->id, retry ? SC_DELIVERY_PENDING : SC_DELIVERY_FAILED, rv ? 0 : rs.status, err, now,
                        retry ? now + delay : now);
    px_metrics_delivery(ev->ctx, retry ? "retry" : "failed");
    px_warn("webhook event=%s type=%s hook=\"%s\" attempt %d failed: %s; %s", d->event, d->type, h->shown, attempts,
            err, retry ? "retrying" : "delivery failed");
  }
  net_http_resp_free(&rs);
}

static void *delivery_main(void *arg) {
  px_events *ev = arg;
  sc_store *st = NULL;
  net_http *http = NULL;
  int64_t last_prune = 0;
  net_http_opts opts = {.connect_timeout_ms = PX_EVENTS_CONNECT_TIMEOUT_MS};
  if (sc_store_open(ev->ctx->cfg->db, &st) != 0 || net_http_new(&opts, &http) != 0) {
    px_error("webhooks: cannot open the database %s or make an HTTP client: nothing is delivered until a restart",
             px_config_db_shown(ev->ctx->cfg));
    sc_store_close(st);
    return NULL;
  }
  const char *keys[PX_MAX_WEBHOOKS];
  int64_t nfailed = 0;
  for (int i = 0; i < ev->nhooks; i++) keys[i] = ev->hooks[i].key;
  if (sc_events_fail_unconfigured(st, keys, (size_t)ev->nhooks,
                                  "webhook no longer configured (its url and format are not in customs.yaml)",
                                  (int64_t)time(NULL), &nfailed) != 0)
    px_error("webhooks: %s", sc_store_errmsg(st));
  else if (nfailed)
    px_warn("webhooks: %lld pending delivery(ies) to webhooks no longer configured marked failed",
            (long long)nfailed);
  while (!__atomic_load_n(&ev->stop, __ATOMIC_SEQ_CST)) {
    int64_t now = (int64_t)time(NULL);
    if (now - last_prune >= PX_EVENTS_PRUNE_EVERY_S) {
      last_prune = now;
      if (sc_events_prune(st, now - (int64_t)SC_EVENTS_KEEP_DAYS * SC_DAY_SECONDS) != 0)
        px_error("webhooks: pruning the outbox: %s", sc_store_errmsg(st));
    }
    sc_delivery_list due = {0};
    if (sc_events_due(st, now, PX_EVENTS_BATCH, &due) != 0) px_error("webhooks: %s", sc_store_errmsg(st));
    for (size_t i = 0; i < due.n && !__atomic_load_n(&ev->stop, __ATOMIC_SEQ_CST); i++) deliver(ev, st, http, &due.v[i]);
    int full = due.n == PX_EVENTS_BATCH;
    sc_delivery_list_free(&due);
    if (full) continue;
    struct timespec until = sc_deadline_ms(CLOCK_REALTIME, PX_EVENTS_POLL_MS);
    pthread_mutex_lock(&ev->mu);
    while (!ev->kick && !__atomic_load_n(&ev->stop, __ATOMIC_SEQ_CST) &&
           pthread_cond_timedwait(&ev->cv, &ev->mu, &until) != ETIMEDOUT) {
    }
    ev->kick = 0;
    pthread_mutex_unlock(&ev->mu);
  }
  net_http_free(http);
  sc_store_close(st);
  return NULL;
}

/* ---- start / stop ---- */

int px_events_start(px_ctx *ctx) {
  const px_config *c = ctx->cfg;
  ctx->events = NULL;
  if (c->nwebhooks <= 0) return 0;
  if (net_http_global_init() != 0) return SC_ERR_NOMEM; /* before any thread: curl's init is not thread-safe */
  px_events *ev = calloc(1, sizeof(*ev));
  if (!ev) return SC_ERR_NOMEM;
  ev->ctx = ctx;
  for (int i = 0; i < c->nwebhooks && i < PX_MAX_WEBHOOKS; i++) {
    hook *h = &ev->hooks[ev->nhooks];
    h->cfg = &c->webhooks[i];
    if (sc_webhook_format_parse(h->cfg->format[0] ? h->cfg->format : "generic", &h->fmt) < 0) {
      px_error("webhook %d: unknown format '%s'", i + 1, h->cfg->format);
      free(ev);
      return SC_ERR_INVALID;
    }
    snprintf(h->key, sizeof(h->key), "%s %s", sc_webhook_format_name(h->fmt), h->cfg->url);
    char o[ORIGIN_SHOWN_MAX - 40];
    origin_shown(h->cfg->url, o, sizeof(o));
    snprintf(h->shown, sizeof(h->shown), "%s %s", sc_webhook_format_name(h->fmt), o);
    ev->wants |= h->cfg->events;
    ev->nhooks++;
  }
  ev->mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  ev->cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
  pthread_rwlock_init(&ev->pol_lock, NULL);
  if (ctx->base) {
    struct timeval tv = {PX_EVENTS_POLICY_POLL_MS / 1000, PX_EVENTS_POLICY_POLL_MS % 1000 * 1000};
    ev->pol_ev = event_new(ctx->base, -1, EV_PERSIST, policy_tick, ev);
    if (ev->pol_ev) event_add(ev->pol_ev, &tv);
    policy_tick(-1, 0, ev);
  }
  ctx->events = ev; /* before the thread and the workers read it */
  if (pthread_create(&ev->th, NULL, delivery_main, ev) != 0) {
    px_events_stop(ctx);
    return SC_ERR_NOMEM;
  }
  ev->started = 1;
  for (int i = 0; i < ev->nhooks; i++)
    px_info("webhook %d: %s events=%s%s%s%s", i + 1, ev->hooks[i].shown,
            ev->hooks[i].cfg->events & PX_EV_BASE_UPDATED ? " " PX_EVENT_BASE_UPDATED : "",
            ev->hooks[i].cfg->events & PX_EV_SCAN_COMPLETED ? " " PX_EVENT_SCAN_COMPLETED : "",
            ev->hooks[i].cfg->events & PX_EV_PULL_DENIED ? " " PX_EVENT_PULL_DENIED : "",
            ev->hooks[i].cfg->secret[0] ? " (signed)" : "");
  return 0;
}

void px_events_stop(px_ctx *ctx) {
  px_events *ev = ctx->events;
  if (!ev) return;
  if (ev->started) {
    pthread_mutex_lock(&ev->mu);
    __atomic_store_n(&ev->stop, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
    pthread_join(ev->th, NULL);
  }
  if (ev->pol_ev) event_free(ev->pol_ev);
  pthread_rwlock_wrlock(&ev->pol_lock);
  px_policy_release(ev->pol);
  ev->pol = NULL;
  pthread_rwlock_unlock(&ev->pol_lock);
  pthread_rwlock_destroy(&ev->pol_lock);
  pthread_mutex_destroy(&ev->mu);
  pthread_cond_destroy(&ev->cv);
  free(ev);
  ctx->events = NULL;
}
