/* px_admin_ready.c - GET /readyz (see px_admin.h): ready when
 *   - the database answers a trivial query on a database thread (px_dbq);
 *   - the policy given at start is loaded (customs refuses to start with an
 *     invalid one, and a refused reload keeps the valid one in force: that
 *     is reported, not counted as unready);
 *   - the upstream answers GET /v2/ with any HTTP status.
 * The upstream probe runs on a thread of its own with its own HTTP client
 * (short timeouts, PX_ADMIN_PROBE_*), at most one at a time, and its result
 * is reused for PX_ADMIN_PROBE_TTL_S: however often /readyz is asked, the
 * registry sees at most one GET /v2/ per TTL.  A check that takes longer
 * than PX_ADMIN_READY_TIMEOUT_MS counts as failed.
 * Answer: 200 or 503, {"ready": bool, "checks": {"database", "policy",
 * "upstream"}} (each "ok" or the reason), "policy_last_error" when a reload
 * was refused.
 * Owner: a->ready (waiting requests), a->probe.  Thread: the loop; the
 * probe thread touches only the probe's result fields before activating
 * done_ev.  Errors: init returns 0 or SC_ERR_NOMEM. */
#include "px_admin_int.h"
#include "net_http.h"
#include "px_log.h"
#include "sc_store_admin.h"
#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROBE_BODY_MAX_BYTES 4096 /* the /v2/ body is not read beyond this */

struct px_admin_probe {
  px_admin *a;
  pthread_t th;
  int running;             /* a thread exists and is not joined yet */
  struct event *done_ev;
  char url[PX_PATH_MAX + 8];
  /* written by the thread, read on the loop after done_ev */
  int t_ok;
  long t_status;
  char t_err[256];
  /* the cached result (loop) */
  int have;
  int64_t checked_ms;      /* monotonic */
  int ok;
  long status;
  char err[256];
};

typedef struct ready_db {
  px_admin_ready *owner;   /* loop: NULL once the request no longer waits */
  int rc;                  /* database thread */
  char err[200];
} ready_db;

struct px_admin_ready {
  px_admin *a;
  struct evhttp_request *req;
  px_admin_ready *prev, *next;
  struct event *timer;
  ready_db *db;            /* the task's argument while it runs */
  px_dbtask *task;
  int db_state;            /* 0 waiting, 1 ok, -1 failed (db_err) */
  char db_err[220];        /* "failed: " and ready_db.err */
  int probe_wait;
};

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the upstream probe ---- */

static void *probe_thread(void *arg) {
  px_admin_probe *p = arg;
  const px_config *cfg = p->a->ctx->cfg;
  net_http_opts o = {.ca_file = cfg->upstream_ca[0] ? cfg->upstream_ca : NULL,
                     .insecure = cfg->upstream_insecure,
                     .connect_timeout_ms = PX_ADMIN_PROBE_CONNECT_MS,
                     .idle_timeout_s = PX_ADMIN_PROBE_IDLE_S};
  net_http *h = NULL;
  net_http_req rq = {.url = p->url, .fd = -1, .max_bytes = PROBE_BODY_MAX_BYTES};
  net_http_resp rs;
  memset(&rs, 0, sizeof(rs));
  p->t_ok = 0;
  p->t_status = 0;
  p->t_err[0] = 0;
  if (net_http_new(&o, &h) != 0) {
    snprintf(p->t_err, sizeof(p->t_err), "no HTTP client");
  } else {
    int rc = net_http_get(h, &rq, &rs);
    /* any answer counts, whatever its status or body size */
    if (rs.status > 0 && (rc == 0 || rc == SC_ERR_LIMIT)) {
      p->t_ok = 1;
      p->t_status = rs.status;
    } else {
      snprintf(p->t_err, sizeof(p->t_err), "%s", rs.error[0] ? rs.error : "no answer");
    }
    net_http_resp_free(&rs);
    net_http_free(h);
  }
  event_active(p->done_ev, 0, 0); /* the last touch of p on this thread */
  return NULL;
}

static void maybe_answer(px_admin_ready *r);

static void probe_done(evutil_socket_t fd, short what, void *arg) {
  px_admin_probe *p = arg;
  (void)fd;
  (void)what;
  if (!p->running) return;
  pthread_join(p->th, NULL);
  p->running = 0;
  p->have = 1;
  p->checked_ms = mono_ms();
  p->ok = p->t_ok;
  p->status = p->t_status;
  snprintf(p->err, sizeof(p->err), "%s", p->t_err);
  if (!p->ok) px_warn("readyz: upstream %s did not answer: %s", p->url, p->err);
  for (px_admin_ready *r = p->a->ready, *next; r; r = next) {
    next = r->next;
    if (r->probe_wait) {
      r->probe_wait = 0;
      maybe_answer(r);
    }
  }
}

/* Whether a fresh result is cached; else starts a probe (unless one runs). */
static int probe_fresh(px_admin_probe *p) {
  if (p->have && mono_ms() - p->checked_ms < PX_ADMIN_PROBE_TTL_S * 1000) return 1;
  if (!p->running) {
    if (pthread_create(&p->th, NULL, probe_thread, p) != 0) {
      p->have = 1;
      p->checked_ms = mono_ms();
      p->ok = 0;
      snprintf(p->err, sizeof(p->err), "cannot start the probe thread");
      return 1;
    }
    p->running = 1;
  }
  return 0;
}

int px_admin_ready_init(px_admin *a) {
  px_admin_probe *p = calloc(1, sizeof(*p));
  const char *up = a->ctx->cfg->upstream;
  size_t n = strlen(up);
  if (!p) return SC_ERR_NOMEM;
  a->probe = p;
  p->a = a;
  while (n && up[n - 1] == '/') n--;
  snprintf(p->url, sizeof(p->url), "%.*s/v2/", (int)n, up);
  if (!(p->done_ev = event_new(a->ctx->base, -1, 0, probe_done, p))) return SC_ERR_NOMEM;
  return 0;
}

/* ---- one /readyz ---- */

static void ready_free(px_admin_ready *r) {
  px_admin *a = r->a;
  if (r->prev) r->prev->next = r->next;
  else a->ready = r->next;
  if (r->next) r->next->prev = r->prev;
  if (r->timer) event_free(r->timer);
  if (r->task) { /* the task frees its argument; it must no longer reach r */
    r->db->owner = NULL;
    px_dbq_cancel(r->task);
  }
  free(r);
}

static void answer(px_admin_ready *r) {
  px_admin *a = r->a;
  px_ctx *ctx = a->ctx;
  px_admin_probe *p = a->probe;
  char up[320];
  const char *policy = "ok";
  int ready = 1;
  if (r->db_state != 1) ready = 0;
  if (ctx->cfg->policy[0] && !px_policy_get(ctx)) {
    policy = "not loaded";
    ready = 0;
  } else if (!ctx->cfg->policy[0]) {
    policy = "ok (no policy configured: nothing is blocked)";
  }
  if (r->probe_wait) {
    snprintf(up, sizeof(up), "no answer within %d ms", PX_ADMIN_READY_TIMEOUT_MS);
    ready = 0;
  } else if (!p->ok) {
    snprintf(up, sizeof(up), "unreachable: %s", p->err);
    ready = 0;
  } else {
    snprintf(up, sizeof(up), "ok");
  }
  json_t *doc = json_pack("{s:b, s:{s:s, s:s, s:s}}", "ready", ready, "checks", "database",
                          r->db_state == 1 ? "ok" : r->db_state == 0 ? "no answer in time" : r->db_err, "policy",
                          policy, "upstream", up);
  const char *le = px_policy_last_error(ctx);
  if (doc && le) json_object_set_new(doc, "policy_last_error", json_string(le));
  px_admin_reply_json(r->req, ready ? 200 : 503, doc);
  ready_free(r);
}

static void maybe_answer(px_admin_ready *r) {
  if (r->db_state != 0 && !r->probe_wait) answer(r);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  answer(arg);
}

static void db_run(sc_store *st, void *arg) {
  ready_db *d = arg;
  d->rc = st ? sc_store_admin_ping(st) : SC_ERR_DB;
  if (d->rc) snprintf(d->err, sizeof(d->err), "%s", st ? sc_store_errmsg(st) : "no database connection");
}

static void db_done(void *arg) {
  ready_db *d = arg;
  px_admin_ready *r = d->owner;
  if (!r) return;
  r->task = NULL;
  r->db = NULL;
  r->db_state = d->rc ? -1 : 1;
  if (d->rc) snprintf(r->db_err, sizeof(r->db_err), "failed: %s", d->err);
  maybe_answer(r);
}

void px_admin_readyz(px_admin *a, struct evhttp_request *req) {
  px_admin_ready *r = calloc(1, sizeof(*r));
  struct timeval tv = {PX_ADMIN_READY_TIMEOUT_MS / 1000, (PX_ADMIN_READY_TIMEOUT_MS % 1000) * 1000};
  if (!r || !(r->timer = evtimer_new(a->ctx->base, on_timeout, r))) {
    free(r);
    px_admin_reply_error(req, 500, "out of memory");
    return;
  }
  r->a = a;
  r->req = req;
  r->next = a->ready;
  if (a->ready) a->ready->prev = r;
  a->ready = r;
  evtimer_add(r->timer, &tv);
  if ((r->db = calloc(1, sizeof(*r->db))) != NULL) {
    r->db->owner = r;
    r->task = px_dbq_submit(a->ctx, db_run, db_done, free, r->db);
  }
  if (!r->task) {
    free(r->db); /* a refused submit leaves the argument to the caller */
    r->db = NULL;
    r->db_state = -1;
    snprintf(r->db_err, sizeof(r->db_err), "the database threads are not available");
  }
  r->probe_wait = !probe_fresh(a->probe);
  maybe_answer(r);
}

void px_admin_ready_stop(px_admin *a) {
  px_admin_probe *p = a->probe;
  while (a->ready) ready_free(a->ready); /* their requests go with evhttp_free */
  if (p) {
    if (p->running) pthread_join(p->th, NULL); /* bounded by the probe's timeouts */
    if (p->done_ev) event_free(p->done_ev);
    free(p);
    a->probe = NULL;
  }
}
