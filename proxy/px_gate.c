/* px_gate.c - verdicts and decisions (see px_gate.h). */
#include "px_gate.h"
#include "px_dbq.h"
#include "px_headers.h"
#include "px_log.h"
#include "px_policy.h"
#include "px_xchg.h"
#include "sc_judge.h"
#include "sc_match.h"
#include "sc_policy.h"
#include "sc_store.h"
#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
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
  int64_t day;
  uint64_t epoch;         /* px_gate_invalidate bumps the global epoch */
  px_gate_result r;
  int used;
} cache_entry;

typedef struct decision {
  int64_t at;
  char client[64], repo[256], ref[256], digest[80], method[16], verdict[12], rule[128], agent[200];
} decision;

/* The verdict cache is read and written by the database threads (G.mu);
 * the decisions queue belongs to the loop thread. */
static struct {
  pthread_mutex_t mu;
  cache_entry *cache;
  uint64_t epoch;           /* atomic */
  decision *queue;
  size_t nqueue;
  struct event *flush_ev;
  px_ctx *ctx;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

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
  dst->message = src->message ? strdup(src->message) : NULL;
  dst->rule = src->rule ? strdup(src->rule) : NULL;
  dst->detail_json = src->detail_json ? strdup(src->detail_json) : NULL;
}

void px_gate_invalidate(px_ctx *ctx) {
  (void)ctx;
  __atomic_add_fetch(&G.epoch, 1, __ATOMIC_SEQ_CST);
}

static uint64_t hash_key(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
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
  int rc = sc_judge_image(st, p, repo, NULL, img, (int64_t)time(NULL), &v, &info);
  if (!info.complete) *cacheable = 0;
  if (rc != 0) return rc;
  out->kind = kind_of(v.decision);
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

/* Database thread.  The verdict on repo@digest under pol (NULL: no policy). */
static int judge_cached(sc_store *st, px_policy_ref *pol, const char *repo, const char *digest, px_gate_result *out) {
  const sc_policy *p = px_policy_ref_policy(pol);
  char key[400];
  int64_t data_gen = 0, day = (int64_t)time(NULL) / 86400;
  uint64_t pol_gen = px_policy_ref_generation(pol), epoch = __atomic_load_n(&G.epoch, __ATOMIC_SEQ_CST);
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
  snprintf(key, sizeof(key), "%s@%s", repo, digest);
  pthread_mutex_lock(&G.mu);
  e = G.cache ? &G.cache[hash_key(key) % CACHE_SLOTS] : NULL;
  if (e && e->used && !strcmp(e->key, key) && e->policy_gen == pol_gen && e->data_gen == data_gen &&
      e->day == day && e->epoch == epoch) {
    result_copy(out, &e->r);
    pthread_mutex_unlock(&G.mu);
    return 0;
  }
  pthread_mutex_unlock(&G.mu);
  rc = judge(st, p, repo, digest, 0, out, &cacheable);
  if (rc == 0 && cacheable && out->kind != PX_V_UNSCANNED && e) {
    pthread_mutex_lock(&G.mu);
    if (e->used) px_gate_result_free(&e->r);
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->policy_gen = pol_gen;
    e->data_gen = data_gen;
    e->day = day;
    e->epoch = epoch; /* an invalidation during the judgement makes this entry stale at once */
    result_copy(&e->r, out);
    e->used = 1;
    pthread_mutex_unlock(&G.mu);
  }
  return rc;
}

/* Database thread.  Judges every (repository, image) row of q, which
 * binds the blob as ?1 (and the repository as ?2 when it has one): counts
 * them and the denied ones, and names the first denied image in *message. */
static int judge_rows(sc_store *st, px_policy_ref *pol, const char *sql, const char *repo, const char *blob,
                      size_t *n, size_t *ndenied, char **message) {
  sqlite3_stmt *q = NULL;
  int rc = 0;
  if (sqlite3_prepare_v2(sc_store_db(st), sql, -1, &q, NULL) != SQLITE_OK) return SC_ERR_DB;
  sqlite3_bind_text(q, 1, blob, -1, SQLITE_STATIC);
  if (repo) sqlite3_bind_text(q, 2, repo, -1, SQLITE_STATIC);
  for (;;) {
    int step = sqlite3_step(q);
    if (step == SQLITE_DONE) break;
    if (step != SQLITE_ROW) { /* busy or broken: the caller applies on_error */
      rc = SC_ERR_DB;
      break;
    }
    char image[80], irepo[256];
    px_gate_result r;
    snprintf(irepo, sizeof(irepo), "%s", (const char *)sqlite3_column_text(q, 0));
    snprintf(image, sizeof(image), "%s", (const char *)sqlite3_column_text(q, 1));
    (*n)++;
    if ((rc = judge_cached(st, pol, irepo, image, &r)) != 0) break;
    if (r.kind == PX_V_DENY) {
      (*ndenied)++;
      if (!*message && r.message) {
        size_t need = strlen(r.message) + strlen(irepo) + 200;
        *message = malloc(need);
        if (*message)
          snprintf(*message, need, "this blob belongs only to denied images, e.g. %s@%s: %s", irepo, image, r.message);
      }
    }
    px_gate_result_free(&r);
  }
  sqlite3_finalize(q);
  return rc;
}

/* Database thread.  Blob gating: *denied when the blob belongs to images of
 * repo and every one of them is denied.  When customs knows no image of repo
 * holding the blob (that repository was pushed around customs, or the blob
 * was mounted into it), the images of every repository that hold it decide:
 * a denied layer does not come out through a repository customs never saw. */
static int blob_denied(sc_store *st, px_policy_ref *pol, const char *repo, const char *blob, int *denied,
                       char **message) {
  static const char *const in_repo =
      "SELECT DISTINCT r.repo, i.digest FROM images i JOIN repo_images r ON r.digest = i.digest "
      "WHERE r.repo = ?2 AND (i.config_digest = ?1 OR EXISTS "
      "(SELECT 1 FROM image_layers l WHERE l.image = i.digest AND l.layer = ?1)) LIMIT 1000";
  static const char *const anywhere =
      "SELECT DISTINCT r.repo, i.digest FROM images i JOIN repo_images r ON r.digest = i.digest "
      "WHERE i.config_digest = ?1 OR EXISTS "
      "(SELECT 1 FROM image_layers l WHERE l.image = i.digest AND l.layer = ?1) LIMIT 1000";
  size_t n = 0, ndenied = 0;
  int rc;
  *denied = 0;
  *message = NULL;
  if (!px_policy_ref_policy(pol)) return 0;
  if (!st) return SC_ERR_DB;
  rc = judge_rows(st, pol, in_repo, repo, blob, &n, &ndenied, message);
  if (rc == 0 && n == 0) rc = judge_rows(st, pol, anywhere, NULL, blob, &n, &ndenied, message);
  *denied = rc == 0 && n > 0 && ndenied == n;
  if (!*denied) {
    free(*message);
    *message = NULL;
  }
  return rc;
}

/* ---- asynchronous requests ---- */

enum { REQ_IMAGE, REQ_BLOB };

typedef struct gate_req {
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
    q->rc = judge_cached(st, q->pol, q->repo, q->digest, &q->r);
  } else {
    int denied = 0;
    char *msg = NULL;
    q->rc = blob_denied(st, q->pol, q->repo, q->digest, &denied, &msg);
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

int px_gate_judge_sync(sc_store *st, px_policy_ref *pol, const char *repo, const char *digest, px_gate_result *out) {
  return judge_cached(st, pol, repo, digest, out);
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
  decision *d;
  size_t n;
  int days;               /* retention, 0 = keep */
} decision_batch;

static int64_t last_purge; /* database threads, under G.mu */

/* Database thread: one transaction for the batch (and, at most once an
 * hour, the retention purge). */
static void batch_write(sc_store *st, void *arg) {
  decision_batch *b = arg;
  sqlite3 *db;
  sqlite3_stmt *ins = NULL;
  if (!st) {
    px_error("decisions: no database connection: %zu decision(s) not recorded", b->n);
    return;
  }
  db = sc_store_db(st);
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    px_error("decisions: cannot record %zu decision(s): %s", b->n, sqlite3_errmsg(db));
    return;
  }
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO decisions(at, client, repository, reference, digest, method, verdict, rule, "
                         "user_agent) VALUES (?,?,?,?,?,?,?,?,?)",
                         -1, &ins, NULL) == SQLITE_OK) {
    for (size_t i = 0; i < b->n; i++) {
      decision *d = &b->d[i];
      sqlite3_bind_int64(ins, 1, d->at);
      sqlite3_bind_text(ins, 2, d->client, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 3, d->repo, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 4, d->ref, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 5, d->digest, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 6, d->method, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 7, d->verdict, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 8, d->rule[0] ? d->rule : NULL, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 9, d->agent, -1, SQLITE_STATIC);
      sqlite3_step(ins);
      sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
  }
  int64_t now = (int64_t)time(NULL);
  pthread_mutex_lock(&G.mu);
  int purge = b->days > 0 && now - last_purge > 3600;
  if (purge) last_purge = now;
  pthread_mutex_unlock(&G.mu);
  if (purge) {
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM decisions WHERE at < %lld", (long long)(now - (int64_t)b->days * 86400));
    sqlite3_exec(db, sql, NULL, NULL, NULL);
  }
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    px_error("decisions: cannot record %zu decision(s): %s", b->n, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  }
}

static void batch_free(void *arg) {
  decision_batch *b = arg;
  free(b->d);
  free(b);
}

/* Loop thread: hands the queued decisions to a database thread. */
static void flush_decisions(evutil_socket_t fd, short what, void *arg) {
  px_ctx *ctx = arg;
  decision_batch *b;
  (void)fd;
  (void)what;
  if (!G.nqueue) return;
  b = calloc(1, sizeof(*b));
  if (b) b->d = malloc(G.nqueue * sizeof(*b->d));
  if (!b || !b->d) {
    if (b) free(b);
    px_error("decisions: out of memory: %zu decision(s) not recorded", G.nqueue);
    G.nqueue = 0;
    return;
  }
  memcpy(b->d, G.queue, G.nqueue * sizeof(*b->d));
  b->n = G.nqueue;
  b->days = ctx->cfg->decisions_days;
  G.nqueue = 0;
  if (!px_dbq_submit(ctx, batch_write, NULL, batch_free, b)) {
    px_error("decisions: database threads unavailable: %zu decision(s) not recorded", b->n);
    batch_free(b);
  }
}

void px_gate_record(px_xchg *x, const char *digest, px_verdict_kind k, const char *rule, const char *note) {
  const char *ua = px_headers_get(&x->req, "user-agent");
  px_info("decision client=%s repo=%s ref=%s digest=%s method=%s verdict=%s rule=%s%s%s ua=\"%.120s\"", x->peer,
          x->route.repo, x->route.ref, digest ? digest : "-", x->method, px_verdict_name(k), rule ? rule : "-",
          note ? " note=" : "", note ? note : "", ua ? ua : "");
  if (!G.queue || G.nqueue >= DECISIONS_MAX_QUEUED) return;
  decision *d = &G.queue[G.nqueue++];
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
  if (G.flush_ev && !evtimer_pending(G.flush_ev, NULL)) {
    struct timeval tv = {0, 250000};
    evtimer_add(G.flush_ev, &tv);
  }
}

int px_gate_init(px_ctx *ctx) {
  char *err = NULL;
  G.ctx = ctx;
  G.cache = calloc(CACHE_SLOTS, sizeof(*G.cache));
  G.queue = calloc(DECISIONS_MAX_QUEUED, sizeof(*G.queue));
  if (!G.cache || !G.queue) return PX_ERR_NOMEM;
  if (sqlite3_exec(sc_store_db(ctx->store),
                   "CREATE TABLE IF NOT EXISTS decisions(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, client TEXT, "
                   "repository TEXT, reference TEXT, digest TEXT, method TEXT, verdict TEXT NOT NULL, rule TEXT, "
                   "user_agent TEXT);"
                   "CREATE INDEX IF NOT EXISTS decisions_repo ON decisions(repository, at);",
                   NULL, NULL, &err) != SQLITE_OK) {
    px_error("decisions table: %s", err ? err : "?");
    sqlite3_free(err);
    return PX_ERR_IO;
  }
  G.flush_ev = evtimer_new(ctx->base, flush_decisions, ctx);
  return 0;
}

void px_gate_shutdown(px_ctx *ctx) {
  flush_decisions(-1, 0, ctx); /* runs before px_dbq_stop, which completes it */
  if (G.flush_ev) event_free(G.flush_ev);
  G.flush_ev = NULL;
}

void px_gate_free(px_ctx *ctx) {
  (void)ctx;
  if (G.cache)
    for (size_t i = 0; i < CACHE_SLOTS; i++)
      if (G.cache[i].used) px_gate_result_free(&G.cache[i].r);
  free(G.cache);
  free(G.queue);
  G.cache = NULL;
  G.queue = NULL;
  G.nqueue = 0;
}
