/* px_gate.c - verdicts and decisions (see px_gate.h). */
#include "px_gate.h"
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

static struct {
  cache_entry *cache;
  uint64_t epoch;
  decision *queue;
  size_t nqueue;
  struct event *flush_ev;
  px_ctx *ctx;
} G;

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
  G.epoch++;
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
static int judge_image(px_ctx *ctx, const sc_policy *p, const char *repo, const sc_store_image *img,
                       px_gate_result *out, int *cacheable) {
  sc_verdict v;
  sc_judge_info info;
  memset(&v, 0, sizeof(v));
  int rc = sc_judge_image(ctx->store, p, repo, NULL, img, (int64_t)time(NULL), &v, &info);
  if (!info.complete) *cacheable = 0;
  if (rc != 0) return rc;
  out->kind = kind_of(v.decision);
  out->message = v.message;
  out->rule = v.rule;
  out->detail_json = v.reasons_json;
  return 0;
}

static int judge(px_ctx *ctx, const sc_policy *p, const char *repo, const char *digest, int depth,
                 px_gate_result *out, int *cacheable) {
  sc_store_image img;
  int rc;
  memset(&img, 0, sizeof(img));
  memset(out, 0, sizeof(*out));
  rc = sc_store_get_image(ctx->store, digest, &img);
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
    rc = judge_image(ctx, p, repo, &img, out, cacheable);
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
    rc = judge(ctx, p, repo, img.children[i], depth + 1, &c, cacheable);
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

int px_gate_judge(px_ctx *ctx, const char *repo, const char *digest, px_gate_result *out) {
  const sc_policy *p = px_policy_get(ctx);
  char key[400];
  int64_t data_gen = 0, day = (int64_t)time(NULL) / 86400;
  uint64_t pol_gen = px_policy_generation(ctx);
  int cacheable = 1, rc;
  cache_entry *e;

  memset(out, 0, sizeof(*out));
  if (!p) { /* no policy: nothing is blocked, the verdict says what is known */
    sc_store_image img;
    memset(&img, 0, sizeof(img));
    out->kind = sc_store_get_image(ctx->store, digest, &img) == 0 ? PX_V_ALLOW : PX_V_UNSCANNED;
    sc_store_image_free(&img);
    return 0;
  }
  sc_vulndb_generation(ctx->store, &data_gen);
  snprintf(key, sizeof(key), "%s@%s", repo, digest);
  e = &G.cache[hash_key(key) % CACHE_SLOTS];
  if (e->used && !strcmp(e->key, key) && e->policy_gen == pol_gen && e->data_gen == data_gen && e->day == day &&
      e->epoch == G.epoch) {
    result_copy(out, &e->r);
    return 0;
  }
  rc = judge(ctx, p, repo, digest, 0, out, &cacheable);
  if (rc == 0 && cacheable && out->kind != PX_V_UNSCANNED) {
    if (e->used) px_gate_result_free(&e->r);
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->policy_gen = pol_gen;
    e->data_gen = data_gen;
    e->day = day;
    e->epoch = G.epoch;
    result_copy(&e->r, out);
    e->used = 1;
  }
  return rc;
}

int px_gate_blob(px_ctx *ctx, const char *repo, const char *blob, int *denied, char **message) {
  sqlite3 *db = sc_store_db(ctx->store);
  sqlite3_stmt *st = NULL;
  size_t n = 0, ndenied = 0;
  int rc = 0;
  *denied = 0;
  *message = NULL;
  if (!px_policy_get(ctx)) return 0;
  if (sqlite3_prepare_v2(db,
                         "SELECT DISTINCT i.digest FROM images i JOIN repo_images r ON r.digest = i.digest "
                         "WHERE r.repo = ?1 AND (i.config_digest = ?2 OR EXISTS "
                         "(SELECT 1 FROM image_layers l WHERE l.image = i.digest AND l.layer = ?2)) LIMIT 1000",
                         -1, &st, NULL) != SQLITE_OK)
    return SC_ERR_DB;
  sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, blob, -1, SQLITE_STATIC);
  while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
    char image[80];
    px_gate_result r;
    snprintf(image, sizeof(image), "%s", (const char *)sqlite3_column_text(st, 0));
    n++;
    if ((rc = px_gate_judge(ctx, repo, image, &r)) != 0) break;
    if (r.kind == PX_V_DENY) {
      ndenied++;
      if (!*message && r.message) {
        size_t need = strlen(r.message) + 200;
        *message = malloc(need);
        if (*message) snprintf(*message, need, "this blob belongs only to denied images, e.g. %s: %s", image, r.message);
      }
    }
    px_gate_result_free(&r);
  }
  sqlite3_finalize(st);
  *denied = rc == 0 && n > 0 && ndenied == n;
  if (!*denied) {
    free(*message);
    *message = NULL;
  }
  return rc;
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

static void flush_decisions(evutil_socket_t fd, short what, void *arg) {
  px_ctx *ctx = arg;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  (void)fd;
  (void)what;
  if (!G.nqueue || !ctx->store) return;
  db = sc_store_db(ctx->store);
  if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO decisions(at, client, repository, reference, digest, method, verdict, rule, "
                         "user_agent) VALUES (?,?,?,?,?,?,?,?,?)",
                         -1, &st, NULL) == SQLITE_OK) {
    for (size_t i = 0; i < G.nqueue; i++) {
      decision *d = &G.queue[i];
      sqlite3_bind_int64(st, 1, d->at);
      sqlite3_bind_text(st, 2, d->client, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 3, d->repo, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 4, d->ref, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 5, d->digest, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 6, d->method, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 7, d->verdict, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 8, d->rule[0] ? d->rule : NULL, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 9, d->agent, -1, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
  }
  /* retention: at most once an hour, in the same transaction */
  static int64_t last_purge;
  int64_t now = (int64_t)time(NULL);
  if (ctx->cfg->decisions_days > 0 && now - last_purge > 3600) {
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM decisions WHERE at < %lld",
             (long long)(now - (int64_t)ctx->cfg->decisions_days * 86400));
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    last_purge = now;
  }
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    px_error("decisions: cannot record %zu decision(s): %s", G.nqueue, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  }
  G.nqueue = 0;
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
  flush_decisions(-1, 0, ctx);
  if (G.flush_ev) event_free(G.flush_ev);
  if (G.cache)
    for (size_t i = 0; i < CACHE_SLOTS; i++)
      if (G.cache[i].used) px_gate_result_free(&G.cache[i].r);
  free(G.cache);
  free(G.queue);
  memset(&G, 0, sizeof(G));
}
