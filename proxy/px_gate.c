/* px_gate.c - verdicts and decisions (see px_gate.h). */
#include "px_gate.h"
#include "px_dbq.h"
#include "px_eventsrc.h"
#include "px_headers.h"
#include "px_log.h"
#include "px_metrics.h"
#include "px_policy.h"
#include "px_xchg.h"
#include "sc_decisions.h"
#include "sc_hash.h"
#include "sc_judge.h"
#include "sc_match.h"
#include "sc_policy.h"
#include "sc_store.h"
#include "sc_store_replica.h"
#include "sc_store_vex.h"
#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_SLOTS 4096
#define DECISIONS_MAX_QUEUED 10000

typedef struct cache_entry {
  char key[400];          /* repo@digest */
  uint64_t policy_gen;
  int64_t data_gen;
  int64_t vex_gen;        /* sc_store_vex_generation: a VEX referrer stored or forgotten */
  int64_t shared_epoch;   /* sc_verdict_epoch: any replica saw a base tag move */
  int64_t day;
  uint64_t epoch;         /* px_gate_invalidate bumps the global epoch */
  px_gate_result r;
  int used;
} cache_entry;

typedef struct decision {
  int64_t at;
  char client[64], repo[256], ref[256], digest[80], method[16], verdict[12], rule[128], agent[200];
} decision;

/* The gate's state, ctx->gate (px_gate_init).  The verdict cache is read
 * and written by the database threads (mu); the decisions queue belongs to
 * the loop thread. */
struct px_gate {
  px_ctx *ctx;              /* for the metrics (the data generation it reads) */
  pthread_mutex_t mu;
  cache_entry *cache;
  uint64_t epoch;           /* atomic */
  decision *queue;
  size_t nqueue;
  struct event *flush_ev;
  int64_t last_purge;       /* database threads, under mu: the last retention purge */
};

const char *px_verdict_name(px_verdict_kind k) {
  static const char *const n[] = {"allow", "warn", "deny", "unscanned"};
  return (unsigned)k < 4 ? n[k] : "deny";
}

void px_gate_result_free(px_gate_result *r) {
  free(r->message);
  free(r->rule);
  free(r->detail_json);
  memset(r, 0, sizeof(*r));
}

static void result_copy(px_gate_result *dst, const px_gate_result *src) {
  dst->kind = src->kind;
  dst->changes_at = src->changes_at;
  dst->scan_failed = src->scan_failed;
  dst->incomplete = src->incomplete;
  dst->no_data = src->no_data;
  dst->message = src->message ? strdup(src->message) : NULL;
  dst->rule = src->rule ? strdup(src->rule) : NULL;
  dst->detail_json = src->detail_json ? strdup(src->detail_json) : NULL;
}

void px_gate_invalidate(px_ctx *ctx) {
  if (ctx->gate) __atomic_add_fetch(&ctx->gate->epoch, 1, __ATOMIC_SEQ_CST);
}

/* ---- facts ---- */

static px_verdict_kind kind_of(sc_decision d) {
  return d == SC_DECISION_DENY ? PX_V_DENY : d == SC_DECISION_WARN ? PX_V_WARN : PX_V_ALLOW;
}

/* Evaluates one image manifest; *cacheable is cleared when the facts may
 * still change (layers not scanned yet). */
static int judge_image(sc_store *st, const sc_policy *p, const char *repo, const sc_store_image *img,
                       px_gate_result *out, int *cacheable) {
  sc_verdict v;
  sc_judge_info info;
  memset(&v, 0, sizeof(v));
  /* the reference in messages is the digest: the cached verdict serves
   * every tag and digest request for repo@digest */
  int rc = sc_judge_image(st, p, repo, img->digest, img, (int64_t)time(NULL), &v, &info);
  if (!info.complete) *cacheable = 0;
  if (rc != 0) return rc;
  out->scan_failed = info.scan_failed;
  out->incomplete = !info.complete; /* a fetch failed (a redirect loop, a dead blob store): try again on a pull */
  out->no_data = info.no_data;
  out->kind = kind_of(v.decision);
  out->changes_at = v.changes_at;
  out->message = v.message;
  out->rule = v.rule;
  out->detail_json = v.reasons_json;
  return 0;
}

static int judge(sc_store *st, const sc_policy *p, const char *repo, const char *digest, int depth,
                 px_gate_result *out, int *cacheable) {
  sc_store_image img;
  int rc;
  memset(&img, 0, sizeof(img));
  memset(out, 0, sizeof(*out));
  rc = sc_store_get_image(st, digest, &img);
  if (rc == SC_ERR_NOTFOUND) {
    sc_store_image_free(&img);
    out->kind = PX_V_UNSCANNED;
    *cacheable = 0;
    return 0;
  }
  if (rc != 0) {
    sc_store_image_free(&img);
    return rc;
  }
  if (img.kind != SC_MANIFEST_INDEX) {
    rc = judge_image(st, p, repo, &img, out, cacheable);
    sc_store_image_free(&img);
    return rc;
  }
  /* An index passes unless every platform is denied: each child is judged
   * again when it is fetched by digest, so a denied child never comes out,
   * while allowed platforms stay pullable through the index. */
  size_t denied = 0, warned = 0, unscanned = 0;
  char *msg = NULL;
  size_t msglen = 0;
  FILE *m = open_memstream(&msg, &msglen);
  for (size_t i = 0; i < img.nchildren && depth < 2 && rc == 0; i++) {
    px_gate_result c;
    rc = judge(st, p, repo, img.children[i], depth + 1, &c, cacheable);
    if (rc != 0) break;
    if (c.changes_at && (!out->changes_at || c.changes_at < out->changes_at)) out->changes_at = c.changes_at;
    if (c.kind == PX_V_DENY) {
      denied++;
      if (m) fprintf(m, "%s%s (%s): %s", denied > 1 ? " | " : "", img.platforms[i] ? img.platforms[i] : "?",
                     img.children[i], c.message ? c.message : "denied");
      if (!out->rule && c.rule) out->rule = strdup(c.rule);
    } else if (c.kind == PX_V_WARN) {
      warned++;
    } else if (c.kind == PX_V_UNSCANNED) {
      unscanned++;
    }
    out->no_data |= c.no_data;
    px_gate_result_free(&c);
  }
  if (m) fclose(m);
  if (rc == 0) {
    if (img.nchildren > 0 && denied == img.nchildren) {
      out->kind = PX_V_DENY;
      out->message = msg;
      msg = NULL;
    } else if (denied || warned) {
      out->kind = PX_V_WARN;
      if (denied && msg) {
        size_t need = strlen(msg) + 64;
        out->message = malloc(need);
        if (out->message) snprintf(out->message, need, "some platforms are denied: %s", msg);
      }
    } else {
      out->kind = unscanned == img.nchildren && img.nchildren ? PX_V_UNSCANNED : PX_V_ALLOW;
    }
  }
  free(msg);
  sc_store_image_free(&img);
  return rc;
}

/* Database thread.  The verdict on repo@digest under pol (NULL: no policy),
 * through g's verdict cache (g NULL: no cache). */
static int judge_cached(px_gate *g, sc_store *st, px_policy_ref *pol, const char *repo, const char *digest,
                        px_gate_result *out) {
  const sc_policy *p = px_policy_ref_policy(pol);
  char key[400];
  int64_t data_gen = 0, vex_gen = 0, shared_epoch = 0, day = (int64_t)time(NULL) / 86400;
  uint64_t pol_gen = px_policy_ref_generation(pol), epoch = g ? __atomic_load_n(&g->epoch, __ATOMIC_SEQ_CST) : 0;
  int cacheable = 1, rc;
  cache_entry *e;

  memset(out, 0, sizeof(*out));
  if (!st) return SC_ERR_DB;
  if (!p) { /* no policy: nothing is blocked, the verdict says what is known */
    sc_store_image img;
    memset(&img, 0, sizeof(img));
    rc = sc_store_get_image(st, digest, &img);
    sc_store_image_free(&img);
    if (rc != 0 && rc != SC_ERR_NOTFOUND) return rc;
    out->kind = rc == 0 ? PX_V_ALLOW : PX_V_UNSCANNED;
    return 0;
  }
  if (sc_vulndb_generation(st, &data_gen) != 0) return SC_ERR_DB;
  /* read whether or not the policy trusts VEX referrers: one indexed row,
   * and the cache then never depends on which policy stored the entry */
  if (sc_store_vex_generation(st, &vex_gen) != 0) return SC_ERR_DB;
  /* what another replica invalidated (the local epoch covers this one's) */
  if (sc_verdict_epoch(st, &shared_epoch) != 0) return SC_ERR_DB;
  if (g) px_metrics_vulndb_generation(g->ctx, data_gen); /* learnt here after an import by `customs db` */
  snprintf(key, sizeof(key), "%s@%s", repo, digest);
  e = g && g->cache ? &g->cache[sc_fnv1a_str(key) % CACHE_SLOTS] : NULL;
  if (e) {
    pthread_mutex_lock(&g->mu);
    if (e->used && !strcmp(e->key, key) && e->policy_gen == pol_gen && e->data_gen == data_gen &&
        e->vex_gen == vex_gen && e->shared_epoch == shared_epoch && e->day == day && e->epoch == epoch &&
        (!e->r.changes_at || (int64_t)time(NULL) < e->r.changes_at)) {
      result_copy(out, &e->r);
      pthread_mutex_unlock(&g->mu);
      return 0;
    }
    pthread_mutex_unlock(&g->mu);
  }
  rc = judge(st, p, repo, digest, 0, out, &cacheable);
  if (rc == 0 && cacheable && out->kind != PX_V_UNSCANNED && e) {
    pthread_mutex_lock(&g->mu);
    if (e->used) px_gate_result_free(&e->r);
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->policy_gen = pol_gen;
    e->data_gen = data_gen;
    e->vex_gen = vex_gen;
    e->shared_epoch = shared_epoch;
    e->day = day;
    e->epoch = epoch; /* an invalidation during the judgement makes this entry stale at once */
    result_copy(&e->r, out);
    e->used = 1;
    pthread_mutex_unlock(&g->mu);
  }
  return rc;
}

int px_gate_judge_on(px_gate *g, sc_store *st, px_policy_ref *pol, const char *repo, const char *digest,
                     px_gate_result *out) {
  return judge_cached(g, st, pol, repo, digest, out);
}

/* The images holding one blob, judged one by one (blob_denied). */
typedef struct blob_judging {
  px_gate *g;
  sc_store *st;
  px_policy_ref *pol;
  size_t n, ndenied;
  char *message; /* names the first denied image */
} blob_judging;

/* Database thread.  Judges one (repository, image) holding the blob:
 * counts it, and the denied ones. */
static int judge_holder(void *arg, const char *repo, const char *digest) {
  blob_judging *b = arg;
  char image[80], irepo[256];
  px_gate_result r;
  int rc;
  snprintf(irepo, sizeof(irepo), "%s", repo);
  snprintf(image, sizeof(image), "%s", digest);
  b->n++;
  if ((rc = judge_cached(b->g, b->st, b->pol, irepo, image, &r)) != 0) return rc;
  if (r.kind == PX_V_DENY) {
    b->ndenied++;
    if (!b->message && r.message) {
      size_t need = strlen(r.message) + strlen(irepo) + 200;
      b->message = malloc(need);
      if (b->message)
        snprintf(b->message, need, "this blob belongs only to denied images, e.g. %s@%s: %s", irepo, image, r.message);
    }
  }
  px_gate_result_free(&r);
  return 0;
}

/* Database thread.  Blob gating: *denied when the blob belongs to images of
 * repo and every one of them is denied.  When customs knows no image of repo
 * holding the blob (that repository was pushed around customs, or the blob
 * was mounted into it), the images of every repository that hold it decide:
 * a denied layer does not come out through a repository customs never saw. */
static int blob_denied(px_gate *g, sc_store *st, px_policy_ref *pol, const char *repo, const char *blob,
                       int *denied, char **message) {
  blob_judging b = {g, st, pol, 0, 0, NULL};
  int rc;
  *denied = 0;
  *message = NULL;
  if (!px_policy_ref_policy(pol)) return 0;
  if (!st) return SC_ERR_DB;
  /* a store error (busy or broken) comes back as rc: the caller applies on_error */
  rc = sc_store_images_holding_blob(st, repo, blob, judge_holder, &b);
  if (rc == 0 && b.n == 0) rc = sc_store_images_holding_blob(st, NULL, blob, judge_holder, &b);
  *denied = rc == 0 && b.n > 0 && b.ndenied == b.n;
  if (*denied) *message = b.message;
  else free(b.message);
  return rc;
}

/* ---- asynchronous requests ---- */

enum { REQ_IMAGE, REQ_BLOB };

typedef struct gate_req {
  px_gate *g; /* ctx->gate: outlives the task (freed after px_dbq_stop) */
  int kind;
  char repo[256], digest[160];
  px_policy_ref *pol;
  int rc;
  px_gate_result r;
  px_gate_cb cb;
  void *cbarg;
} gate_req;

static void req_run(sc_store *st, void *arg) {
  gate_req *q = arg;
  if (q->kind == REQ_IMAGE) {
    q->rc = judge_cached(q->g, st, q->pol, q->repo, q->digest, &q->r);
  } else {
    int denied = 0;
    char *msg = NULL;
    q->rc = blob_denied(q->g, st, q->pol, q->repo, q->digest, &denied, &msg);
    q->r.kind = denied ? PX_V_DENY : PX_V_ALLOW;
    q->r.message = msg;
  }
}

static void req_done(void *arg) {
  gate_req *q = arg;
  q->cb(q->cbarg, q->rc, &q->r);
}

static void req_free(void *arg) {
  gate_req *q = arg;
  px_gate_result_free(&q->r);
  px_policy_release(q->pol);
  free(q);
}

static px_dbtask *submit(px_ctx *ctx, int kind, const char *repo, const char *digest, px_gate_cb cb, void *arg) {
  gate_req *q = calloc(1, sizeof(*q));
  px_dbtask *t;
  if (!q) return NULL;
  q->g = ctx->gate;
  q->kind = kind;
  snprintf(q->repo, sizeof(q->repo), "%s", repo);
  snprintf(q->digest, sizeof(q->digest), "%s", digest);
  q->pol = px_policy_acquire(ctx);
  q->cb = cb;
  q->cbarg = arg;
  if (!(t = px_dbq_submit(ctx, req_run, req_done, req_free, q))) req_free(q);
  return t;
}

px_dbtask *px_gate_judge_async(px_ctx *ctx, const char *repo, const char *digest, px_gate_cb cb, void *arg) {
  return submit(ctx, REQ_IMAGE, repo, digest, cb, arg);
}

px_dbtask *px_gate_blob_async(px_ctx *ctx, const char *repo, const char *blob, px_gate_cb cb, void *arg) {
  return submit(ctx, REQ_BLOB, repo, blob, cb, arg);
}

/* ---- HEAD and tokens ---- */

static int b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *outlen) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    const char *p = strchr(tbl, in[i]);
    if (in[i] == '=') break;
    if (!p || !in[i]) return -1;
    acc = (acc << 6) | (uint32_t)(p - tbl);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap) return -1;
      out[o++] = (unsigned char)(acc >> bits);
    }
  }
  *outlen = o;
  return 0;
}

int px_gate_token_can_push(const char *authorization, const char *repo, int *has_bearer) {
  const char *tok, *dot1, *dot2;
  unsigned char payload[16384];
  size_t plen;
  json_t *root, *access, *a;
  size_t i;
  int push = 0;
  *has_bearer = 0;
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return 0;
  *has_bearer = 1;
  tok = authorization + 7;
  dot1 = strchr(tok, '.');
  dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  if (!dot2 || b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof(payload), &plen) < 0) return 0;
  root = json_loadb((const char *)payload, plen, 0, NULL);
  if (!root) return 0;
  access = json_object_get(root, "access");
  json_array_foreach(access, i, a) {
    const char *type = json_string_value(json_object_get(a, "type"));
    const char *name = json_string_value(json_object_get(a, "name"));
    json_t *actions = json_object_get(a, "actions"), *act;
    size_t k;
    if (!type || strcmp(type, "repository") || !name || (strcmp(name, repo) && strcmp(name, "*"))) continue;
    json_array_foreach(actions, k, act) {
      const char *s = json_string_value(act);
      if (s && (!strcmp(s, "push") || !strcmp(s, "*"))) push = 1;
    }
  }
  json_decref(root);
  return push;
}

/* ---- decisions ---- */

typedef struct decision_batch {
  px_gate *g; /* for last_purge; outlives the task */
  px_ctx *ctx; /* pull-denied events (px_eventsrc.h) */
  decision *d;
  size_t n;
  int days;               /* retention, 0 = keep */
} decision_batch;

/* Database thread: the batch in one store transaction, then, at most once
 * an hour, the retention purge. */
static void batch_write(sc_store *st, void *arg) {
  decision_batch *b = arg;
  sc_decision_row *rows;
  if (!st) {
    px_error("decisions: no database connection: %zu decision(s) not recorded", b->n);
    return;
  }
  if (!(rows = calloc(b->n ? b->n : 1, sizeof(*rows)))) {
    px_error("decisions: out of memory: %zu decision(s) not recorded", b->n);
    return;
  }
  for (size_t i = 0; i < b->n; i++) {
    const decision *d = &b->d[i];
    rows[i] = (sc_decision_row){d->at, d->client, d->repo, d->ref, d->digest, d->method, d->verdict,
                            d->rule[0] ? d->rule : NULL, d->agent};
  }
  int rc = sc_decisions_append(st, rows, b->n);
  free(rows);
  if (rc) {
    px_error("decisions: cannot record %zu decision(s): %s", b->n, sc_store_errmsg(st));
    return;
  }
  for (size_t i = 0; i < b->n; i++)
    if (!strcmp(b->d[i].verdict, "deny"))
      px_eventsrc_pull_denied(b->ctx, st, b->d[i].client, b->d[i].repo, b->d[i].ref, b->d[i].digest,
                              b->d[i].method, b->d[i].rule);
  int64_t now = (int64_t)time(NULL);
  pthread_mutex_lock(&b->g->mu);
  int purge = b->days > 0 && now - b->g->last_purge > 3600;
  if (purge) b->g->last_purge = now;
  pthread_mutex_unlock(&b->g->mu);
  if (purge) sc_decisions_purge_before(st, now - (int64_t)b->days * 86400);
}

static void batch_free(void *arg) {
  decision_batch *b = arg;
  free(b->d);
  free(b);
}

/* Loop thread: hands the queued decisions to a database thread. */
static void flush_decisions(evutil_socket_t fd, short what, void *arg) {
  px_ctx *ctx = arg;
  px_gate *g = ctx->gate;
  decision_batch *b;
  (void)fd;
  (void)what;
  if (!g || !g->nqueue) return;
  b = calloc(1, sizeof(*b));
  if (b) b->d = malloc(g->nqueue * sizeof(*b->d));
  if (!b || !b->d) {
    if (b) free(b);
    px_error("decisions: out of memory: %zu decision(s) not recorded", g->nqueue);
    g->nqueue = 0;
    return;
  }
  memcpy(b->d, g->queue, g->nqueue * sizeof(*b->d));
  b->g = g;
  b->ctx = ctx;
  b->n = g->nqueue;
  b->days = ctx->cfg->decisions_days;
  g->nqueue = 0;
  if (!px_dbq_submit(ctx, batch_write, NULL, batch_free, b)) {
    px_error("decisions: database threads unavailable: %zu decision(s) not recorded", b->n);
    batch_free(b);
  }
}

void px_gate_record(px_xchg *x, const char *digest, px_verdict_kind k, const char *rule, const char *note) {
  const char *ua = px_headers_get(&x->req, "user-agent");
  px_gate *g = x->ctx->gate;
  px_info("decision client=%s repo=%s ref=%s digest=%s method=%s verdict=%s rule=%s%s%s ua=\"%.120s\"", x->peer,
          x->route.repo, x->route.ref, digest ? digest : "-", x->method, px_verdict_name(k), rule ? rule : "-",
          note ? " note=" : "", note ? note : "", ua ? ua : "");
  if (!g || !g->queue || g->nqueue >= DECISIONS_MAX_QUEUED) return;
  decision *d = &g->queue[g->nqueue++];
  memset(d, 0, sizeof(*d));
  d->at = (int64_t)time(NULL);
  snprintf(d->client, sizeof(d->client), "%s", x->peer);
  snprintf(d->repo, sizeof(d->repo), "%s", x->route.repo);
  snprintf(d->ref, sizeof(d->ref), "%s", x->route.ref);
  snprintf(d->digest, sizeof(d->digest), "%s", digest ? digest : "");
  snprintf(d->method, sizeof(d->method), "%s", x->method);
  snprintf(d->verdict, sizeof(d->verdict), "%s", px_verdict_name(k));
  snprintf(d->rule, sizeof(d->rule), "%s", rule ? rule : "");
  snprintf(d->agent, sizeof(d->agent), "%s", ua ? ua : "");
  if (g->flush_ev && !evtimer_pending(g->flush_ev, NULL)) {
    struct timeval tv = {0, 250000};
    evtimer_add(g->flush_ev, &tv);
  }
}

int px_gate_init(px_ctx *ctx) {
  px_gate *g = calloc(1, sizeof(*g));
  if (!g) return SC_ERR_NOMEM;
  g->mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  g->ctx = ctx;
  ctx->gate = g;
  g->cache = calloc(CACHE_SLOTS, sizeof(*g->cache));
  g->queue = calloc(DECISIONS_MAX_QUEUED, sizeof(*g->queue));
  if (!g->cache || !g->queue) return SC_ERR_NOMEM;
  /* the decisions table comes with the store's migrations (sc_store.c) */
  g->flush_ev = evtimer_new(ctx->base, flush_decisions, ctx);
  return 0;
}

void px_gate_shutdown(px_ctx *ctx) {
  if (!ctx->gate) return;
  flush_decisions(-1, 0, ctx); /* runs before px_dbq_stop, which completes it */
  if (ctx->gate->flush_ev) event_free(ctx->gate->flush_ev);
  ctx->gate->flush_ev = NULL;
}

void px_gate_free(px_ctx *ctx) {
  px_gate *g = ctx->gate;
  if (!g) return;
  if (g->cache)
    for (size_t i = 0; i < CACHE_SLOTS; i++)
      if (g->cache[i].used) px_gate_result_free(&g->cache[i].r);
  pthread_mutex_destroy(&g->mu);
  if (g->flush_ev) event_free(g->flush_ev);
  free(g->cache);
  free(g->queue);
  free(g);
  ctx->gate = NULL;
}
