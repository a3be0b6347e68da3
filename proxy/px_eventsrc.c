/* px_eventsrc.c - scan-completed and pull-denied payloads (see
 * px_eventsrc.h).  The pull-denied rate limiter is this file's one piece of
 * state: a table of (key hash, last event time, suppressed count) slots
 * under a mutex, shared by the database threads of the one daemon a
 * process runs.
 * Thread: the caller's, with its own store handle.  Errors: logged. */
#include "px_eventsrc.h"
#include "px_events.h"
#include "px_log.h"
#include "sc_hash.h"
#include "sc_judge.h"
#include "sc_lineage.h"
#include "sc_match.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INDEX_DEPTH_MAX 1 /* an index's children are images (a nested index is not judged) */

/* ---- one image: verdict, counts, findings ---- */


static json_t *counts_of(const sc_finding_list *fl) {
  json_int_t by[5] = {0}, fixable = 0;
  for (size_t i = 0; i < fl->n; i++) {
    int s = fl->v[i].severity;
    by[s >= 0 && s <= 4 ? s : 0]++;
    if (sc_finding_fixable(&fl->v[i])) fixable++;
  }
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)fl->n, "critical", by[4], "high",
                   by[3], "medium", by[2], "low", by[1], "unknown", by[0], "fixable", fixable);
}

static void counts_add(json_t *sum, const json_t *c) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)c, k, v) {
    json_t *s = json_object_get(sum, k);
    json_object_set_new(sum, k, json_integer(json_integer_value(s) + json_integer_value(v)));
  }
}

static int rank_of(const char *decision) {
  return !decision ? -1 : !strcmp(decision, "deny") ? 2 : !strcmp(decision, "warn") ? 1 : 0;
}

/* {"decision", "rule", "message", "reasons"} of img under p; json null when
 * p is NULL; NULL on error. */
static json_t *verdict_of(sc_store *st, const sc_policy *p, const char *repo, const char *ref,
                          const sc_store_image *img) {
  sc_verdict v;
  sc_judge_info info;
  if (!p) return json_null();
  memset(&v, 0, sizeof(v));
  int rc = sc_judge_image(st, p, repo, ref, img, (int64_t)time(NULL), &v, &info);
  if (rc) {
    sc_verdict_free(&v);
    px_warn("event: judging %s@%s failed (%d)", repo, img->digest, rc);
    return NULL;
  }
  json_t *reasons = v.reasons_json ? json_loads(v.reasons_json, 0, NULL) : NULL;
  json_t *o = json_pack("{s:s, s:s?, s:s?, s:o}", "decision", sc_decision_name(v.decision), "rule", v.rule,
                        "message", v.message, "reasons", reasons ? reasons : json_array());
  sc_verdict_free(&v);
  return o;
}

/* {"verdict", "counts", "findings"} of one image manifest into o. */
static int describe_image(sc_store *st, const sc_policy *p, const char *repo, const char *ref,
                          const sc_store_image *img, json_t *o) {
  sc_finding_list fl;
  sc_finding_list_init(&fl);
  int rc = sc_match_image(st, img->digest, &fl);
  if (rc) {
    sc_finding_list_free(&fl);
    return rc;
  }
  json_t *verdict = verdict_of(st, p, repo, ref, img);
  json_t *findings = sc_lineage_findings_json(&fl, PX_EVENTSRC_FINDINGS_MAX);
  json_t *counts = counts_of(&fl);
  sc_finding_list_free(&fl);
  if (!verdict || !findings || !counts) {
    json_decref(verdict);
    json_decref(findings);
    json_decref(counts);
    return SC_ERR_NOMEM;
  }
  json_object_set_new(o, "verdict", verdict);
  json_object_set_new(o, "counts", counts);
  json_object_set_new(o, "findings", findings);
  return 0;
}

/* An index: each child judged into "platforms"; the worst verdict and the
 * summed counts at the top. */
static int describe_index(sc_store *st, const sc_policy *p, const char *repo, const char *ref,
                          const sc_store_image *idx, json_t *o) {
  json_t *platforms = json_array(), *sum = counts_of(&(sc_finding_list){0}), *worst = NULL;
  int rc = platforms && sum ? 0 : SC_ERR_NOMEM;
  for (size_t i = 0; i < idx->nchildren && !rc; i++) {
    sc_store_image child;
    memset(&child, 0, sizeof(child));
    json_t *c = json_pack("{s:s, s:s?}", "digest", idx->children[i], "platform",
                          idx->platforms ? idx->platforms[i] : NULL);
    if (!c) rc = SC_ERR_NOMEM;
    else if (sc_store_get_image(st, idx->children[i], &child) != 0 || child.kind != SC_MANIFEST_IMAGE)
      json_object_set_new(c, "recorded", json_false()); /* not pushed through customs, or nested */
    else if ((rc = describe_image(st, p, repo, ref, &child, c)) == 0) {
      counts_add(sum, json_object_get(c, "counts"));
      json_t *v = json_object_get(c, "verdict");
      if (json_is_object(v) && (!worst || rank_of(json_string_value(json_object_get(v, "decision"))) >
                                              rank_of(json_string_value(json_object_get(worst, "decision")))))
        worst = v;
    }
    sc_store_image_free(&child);
    if (c && json_array_append_new(platforms, c)) rc = SC_ERR_NOMEM;
  }
  if (!rc) {
    json_object_set(o, "verdict", worst ? worst : json_null());
    json_object_set(o, "counts", sum);
    json_object_set_new(o, "findings", json_array());
    json_object_set(o, "platforms", platforms);
  }
  json_decref(platforms);
  json_decref(sum);
  return rc;
}

void px_eventsrc_scan_completed(px_ctx *ctx, sc_store *st, const char *repo, const char *tag, const char *digest) {
  px_events *ev = ctx ? ctx->events : NULL;
  if (!px_events_wants(ev, PX_EVENT_SCAN_COMPLETED) || !st) return;
  sc_store_image img;
  memset(&img, 0, sizeof(img));
  int rc = sc_store_get_image(st, digest, &img);
  json_t *payload = NULL;
  if (!rc) {
    payload = json_pack("{s:{s:s, s:s?, s:s, s:s}}", "image", "repository", repo, "tag", tag && *tag ? tag : NULL,
                        "digest", digest, "kind", img.kind == SC_MANIFEST_INDEX ? "index" : "image");
    if (!payload) rc = SC_ERR_NOMEM;
  }
  if (!rc) {
    const sc_policy *p = px_events_policy_lock(ev);
    const char *ref = tag && *tag ? tag : digest;
    rc = img.kind == SC_MANIFEST_INDEX ? describe_index(st, p, repo, ref, &img, payload)
                                       : describe_image(st, p, repo, ref, &img, payload);
    px_events_policy_unlock(ev);
  }
  sc_store_image_free(&img);
  if (rc) {
    px_warn("event %s for %s@%s not emitted (%d)", PX_EVENT_SCAN_COMPLETED, repo, digest, rc);
    json_decref(payload);
    return;
  }
  px_events_emit(ev, st, PX_EVENT_SCAN_COMPLETED, payload, NULL);
}

/* ---- pull-denied ---- */

typedef struct denied_slot {
  uint64_t key;
  int64_t at;          /* last event */
  json_int_t suppressed;
} denied_slot;

static pthread_mutex_t g_denied_mu = PTHREAD_MUTEX_INITIALIZER;
static denied_slot g_denied[PX_EVENTSRC_DENIED_SLOTS];

/* Whether a pull-denied event for key may go out at now; *suppressed gets
 * the denials left out since the last one. */
static int denied_admit(uint64_t key, int64_t now, json_int_t *suppressed) {
  denied_slot *s = &g_denied[key % PX_EVENTSRC_DENIED_SLOTS];
  int admit;
  pthread_mutex_lock(&g_denied_mu);
  if (s->key == key && now - s->at < PX_EVENTSRC_DENIED_WINDOW_S) {
    s->suppressed++;
    admit = 0;
  } else {
    *suppressed = s->key == key ? s->suppressed : 0;
    s->key = key;
    s->at = now;
    s->suppressed = 0;
    admit = 1;
  }
  pthread_mutex_unlock(&g_denied_mu);
  return admit;
}

/* Appends the reasons of img's verdict (with "platform" when given). */
static int add_reasons(sc_store *st, const sc_policy *p, const char *repo, const char *ref,
                       const sc_store_image *img, const char *platform, json_t *reasons, json_t **msg) {
  json_t *v = verdict_of(st, p, repo, ref, img);
  if (!v) return SC_ERR_NOMEM;
  json_t *r = json_object_get(v, "reasons"), *x;
  size_t i;
  json_array_foreach(r, i, x) {
    if (platform) json_object_set_new(x, "platform", json_string(platform));
    json_array_append(reasons, x);
  }
  if (!*msg && json_is_string(json_object_get(v, "message"))) *msg = json_incref(json_object_get(v, "message"));
  json_decref(v);
  return 0;
}

/* The address of a peer "a.b.c.d:port" or "[v6]:port", without the port:
 * every connection of one client has its own port. */
static void client_host(const char *peer, char *out, size_t cap) {
  const char *end = NULL;
  if (!peer) peer = "";
  if (peer[0] == '[' && (end = strchr(peer, ']')) != NULL) peer++;
  else if ((end = strrchr(peer, ':')) != NULL && strchr(peer, ':') != end) end = NULL; /* a bare v6 address */
  snprintf(out, cap, "%.*s", end ? (int)(end - peer) : (int)strlen(peer), peer);
}

void px_eventsrc_pull_denied(px_ctx *ctx, sc_store *st, const char *peer, const char *repo, const char *ref,
                             const char *digest, const char *method, const char *rule) {
  px_events *ev = ctx ? ctx->events : NULL;
  json_int_t suppressed = 0;
  char client[128];
  if (!px_events_wants(ev, PX_EVENT_PULL_DENIED) || !st || !repo) return;
  client_host(peer, client, sizeof(client));
  if (!digest || !*digest) digest = ref;
  uint64_t key = sc_fnv1a_mix(sc_fnv1a_mix(sc_fnv1a_str(repo), sc_fnv1a_str(digest ? digest : "")),
                              sc_fnv1a_str(client));
  if (!denied_admit(key, (int64_t)time(NULL), &suppressed)) return;

  json_t *reasons = json_array(), *findings = json_array(), *msg = NULL;
  sc_store_image img;
  memset(&img, 0, sizeof(img));
  int known = digest && sc_store_get_image(st, digest, &img) == 0, rc = reasons && findings ? 0 : SC_ERR_NOMEM;
  if (known && !rc) {
    const sc_policy *p = px_events_policy_lock(ev);
    if (p && img.kind == SC_MANIFEST_INDEX) {
      for (size_t i = 0; i < img.nchildren && !rc; i++) {
        sc_store_image c;
        memset(&c, 0, sizeof(c));
        if (sc_store_get_image(st, img.children[i], &c) == 0 && c.kind == SC_MANIFEST_IMAGE)
          rc = add_reasons(st, p, repo, ref, &c, img.platforms ? img.platforms[i] : "", reasons, &msg);
        sc_store_image_free(&c);
      }
    } else if (p) {
      rc = add_reasons(st, p, repo, ref, &img, NULL, reasons, &msg);
    }
    px_events_policy_unlock(ev);
  }
  sc_store_image_free(&img);
  size_t i;
  json_t *r;
  json_array_foreach(reasons, i, r) {
    const char *id = json_string_value(json_object_get(r, "finding"));
    const char *action = json_string_value(json_object_get(r, "action"));
    if (!id || (action && strcmp(action, "deny"))) continue; /* the findings that caused the denial */
    json_array_append_new(findings, json_pack("{s:s, s:O?, s:O?, s:O?, s:O?}", "id", id, "package",
                                              json_object_get(r, "package"), "version", json_object_get(r, "version"),
                                              "fixed", json_object_get(r, "fixed_version"), "severity",
                                              json_object_get(r, "severity")));
  }
  json_t *payload =
      rc ? NULL
         : json_pack("{s:{s:s, s:s?, s:s?, s:s?, s:s?}, s:{s:s, s:s?, s:O?}, s:O, s:O, s:b, s:I}", "pull",
                     "repository", repo, "reference", ref, "digest", digest, "client", client, "method", method,
                     "verdict", "decision", "deny", "rule", rule && *rule ? rule : NULL, "message", msg, "reasons",
                     reasons, "findings", findings, "image_known", known, "suppressed", suppressed);
  json_decref(reasons);
  json_decref(findings);
  json_decref(msg);
  if (!payload) {
    px_warn("event %s for %s@%s not emitted (%d)", PX_EVENT_PULL_DENIED, repo, digest ? digest : "-", rc);
    return;
  }
  px_events_emit(ev, st, PX_EVENT_PULL_DENIED, payload, NULL);
}
