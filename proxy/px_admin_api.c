/* px_admin_api.c - the admin JSON API (shapes in px_admin.h).
 *
 * No SQL on the loop: a request is parsed and checked on the loop, then
 * becomes a job, a px_dbq task whose function builds and serialises the
 * answer on a database thread (store reads through sc_store_admin.h and the
 * other store headers; verdicts through the gate's cache, px_gate_judge_on,
 * with the policy reference taken on the loop); the completion sends it on
 * the loop.  /api/policy reads only the loaded policy and is answered on
 * the loop.  The image endpoints (/api/images, /api/image, /api/summary)
 * are in px_admin_images.c; the rest is here.
 *
 * Bounds: per_page <= PX_ADMIN_MAX_PER_PAGE, decisions <= PX_ADMIN_MAX_DECISIONS,
 * findings / packages / secrets of one image capped with a "*_truncated"
 * flag, events <= PX_ADMIN_MAX_EVENTS, at most PX_ADMIN_MAX_PENDING jobs
 * waiting (then 503).  Verdicts are computed only for the images of the
 * page; with ?verdict= the candidates are judged newest first until the
 * page is full, and at most PX_ADMIN_MAX_JUDGED of them per request (then
 * "total" is a lower bound and "total_exact" false).  The summary's verdict
 * counts cover the newest PX_ADMIN_MAX_JUDGED images ("verdicts_complete").
 *
 * Owner: a->jobs (loop) until the task completes; the task owns the job's
 * memory (freed by its free_arg).  Thread: loop, and the job function on a
 * database thread (it reads only the job).  Errors: answered as
 * {"error": ...} with 400, 404, 500 or 503. */
#include "px_admin_int.h"
#include "px_log.h"
#include "sc_events.h"
#include "sc_lineage.h"
#include "sc_match.h"
#include "sc_policy.h"
#include "sc_store_admin.h"
#include "sc_vulnstore.h"
#include <float.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers (database thread) ---- */

int px_admin_fail(px_admin_job *j, int status, const char *msg, json_t **doc) {
  json_decref(*doc);
  *doc = json_pack("{s:s}", "error", msg);
  j->status = status;
  return 0;
}

int px_admin_db_fail(px_admin_job *j, sc_store *st, int rc, json_t **doc) {
  char msg[300];
  snprintf(msg, sizeof(msg), "database: %s (%s)", st ? sc_store_errmsg(st) : "no connection",
           customs_strerror(rc));
  px_warn("admin API: %s", msg);
  return px_admin_fail(j, 500, msg, doc);
}

json_t *px_admin_str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static int add_repo(void *arg, const char *name, int64_t images, int64_t tags) {
  return json_array_append_new(arg, json_pack("{s:s, s:I, s:I}", "name", name, "images", (json_int_t)images, "tags",
                                              (json_int_t)tags))
             ? SC_ERR_NOMEM
             : 0;
}

static int run_repositories(px_admin_job *j, sc_store *st, json_t **doc) {
  json_t *list = json_array();
  int64_t total = 0;
  if (!list) return SC_ERR_NOMEM;
  json_object_set_new(*doc, "repositories", list);
  int rc = sc_store_admin_repositories(st, j->q[0] ? j->q : NULL, j->offset, (size_t)j->per_page, &total, add_repo,
                                       list);
  if (rc) return rc;
  json_object_set_new(*doc, "total", json_integer(total));
  json_object_set_new(*doc, "more", json_boolean(j->offset + j->per_page < total));
  return 0;
}

static int add_decision(void *arg, const sc_store_admin_decision *d) {
  json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)d->id, "at",
                        (json_int_t)d->at, "client", px_admin_str_or_null(d->client), "repository", px_admin_str_or_null(d->repository),
                        "reference", px_admin_str_or_null(d->reference), "digest", px_admin_str_or_null(d->digest), "method",
                        px_admin_str_or_null(d->method), "verdict", px_admin_str_or_null(d->verdict), "rule", px_admin_str_or_null(d->rule),
                        "user_agent", px_admin_str_or_null(d->user_agent));
  return json_array_append_new(arg, o) ? SC_ERR_NOMEM : 0;
}

static int run_decisions(px_admin_job *j, sc_store *st, json_t **doc) {
  json_t *list = json_array();
  if (!list) return SC_ERR_NOMEM;
  json_object_set_new(*doc, "decisions", list);
  /* one row more than asked says whether there is a next page */
  int rc = sc_store_admin_decisions(st, j->repo[0] ? j->repo : NULL, j->verdict[0] ? j->verdict : NULL, j->before,
                                    (size_t)j->limit + 1, add_decision, list);
  if (rc) return rc;
  json_t *next = json_null();
  if ((int64_t)json_array_size(list) > j->limit) {
    json_array_remove(list, json_array_size(list) - 1);
    next = json_incref(json_object_get(json_array_get(list, json_array_size(list) - 1), "id"));
  }
  json_object_set_new(*doc, "next_before", next);
  return 0;
}

static int add_source(void *arg, const sc_vulnsource *s) {
  return json_array_append_new(arg, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "name", s->name, "imported_at",
                                              (json_int_t)s->imported_at, "added", (json_int_t)s->added, "updated",
                                              (json_int_t)s->updated, "unchanged", (json_int_t)s->unchanged,
                                              "withdrawn", (json_int_t)s->withdrawn, "malformed",
                                              (json_int_t)s->malformed))
             ? SC_ERR_NOMEM
             : 0;
}

static int add_ecosystem(void *arg, const char *eco, int64_t n) {
  return json_object_set_new(arg, eco ? eco : "", json_integer(n)) ? SC_ERR_NOMEM : 0;
}

static int run_vulndb(px_admin_job *j, sc_store *st, json_t **doc) {
  int64_t gen = 0, last = 0, records = 0;
  json_t *src = json_array(), *eco = json_object();
  int rc;
  (void)j;
  json_object_set_new(*doc, "sources", src);
  json_object_set_new(*doc, "ecosystems", eco);
  if (!src || !eco) return SC_ERR_NOMEM;
  if ((rc = sc_vulnstore_generation(st, &gen)) != 0 || (rc = sc_vulnstore_last_import(st, &last)) != 0 ||
      (rc = sc_vulnstore_count(st, &records)) != 0 || (rc = sc_vulnstore_each_source(st, add_source, src)) != 0 ||
      (rc = sc_vulnstore_each_ecosystem(st, add_ecosystem, eco)) != 0)
    return rc;
  json_object_set_new(*doc, "generation", json_integer(gen));
  json_object_set_new(*doc, "last_import", json_integer(last));
  json_object_set_new(*doc, "records", json_integer(records));
  return 0;
}

static int run_lineage(px_admin_job *j, sc_store *st, json_t **doc) {
  json_t *lin = NULL;
  int rc = sc_lineage_describe(st, j->repo, j->ref, (int64_t)time(NULL), &lin);
  if (rc == SC_ERR_NOTFOUND) return px_admin_fail(j, 404, "no such tag or image recorded", doc);
  if (rc) return rc;
  json_decref(*doc);
  *doc = lin;
  return 0;
}

static int run_events(px_admin_job *j, sc_store *st, json_t **doc) {
  sc_delivery_list l = {0};
  json_t *list = json_array();
  if (!list) return SC_ERR_NOMEM;
  json_object_set_new(*doc, "deliveries", list);
  int rc = sc_events_recent(st, -1, (size_t)j->limit, &l);
  /* not the URL, the hook key or the body: a webhook URL may carry a secret */
  for (size_t i = 0; rc == 0 && i < l.n; i++) {
    const sc_delivery *d = &l.v[i];
    json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:i, s:o, s:o, s:I, s:I, s:o}", "id",
                                          (json_int_t)d->id, "event", d->event, "type", d->type, "status",
                                          sc_delivery_status_name(d->status), "attempts", d->attempts, "last_status",
                                          d->last_status ? json_integer(d->last_status) : json_null(), "last_error",
                                          px_admin_str_or_null(d->last_error), "created_at", (json_int_t)d->created_at,
                                          "next_at", (json_int_t)d->next_at, "delivered_at",
                                          d->delivered_at ? json_integer(d->delivered_at) : json_null()));
  }
  sc_delivery_list_free(&l);
  return rc;
}

/* Database thread. */
static void job_run(sc_store *st, void *arg) {
  px_admin_job *j = arg;
  json_t *doc = json_object();
  int rc = 0;
  j->status = 200;
  if (!st) {
    px_admin_fail(j, 503, "no database connection", &doc);
  } else if (doc) {
    if (j->kind == API_IMAGES || j->kind == API_REPOSITORIES) {
      json_object_set_new(doc, "page", json_integer(j->page));
      json_object_set_new(doc, "per_page", json_integer(j->per_page));
    }
    switch (j->kind) {
    case API_SUMMARY: rc = px_admin_run_summary(j, st, &doc); break;
    case API_REPOSITORIES: rc = run_repositories(j, st, &doc); break;
    case API_IMAGES: rc = px_admin_run_images(j, st, &doc); break;
    case API_IMAGE: rc = px_admin_run_image(j, st, &doc); break;
    case API_DECISIONS: rc = run_decisions(j, st, &doc); break;
    case API_VULNDB: rc = run_vulndb(j, st, &doc); break;
    case API_LINEAGE: rc = run_lineage(j, st, &doc); break;
    case API_EVENTS: rc = run_events(j, st, &doc); break;
    }
    if (rc) px_admin_db_fail(j, st, rc, &doc);
  }
  j->body = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(DBL_DIG)) : NULL;
  json_decref(doc);
  if (!j->body) j->status = 500;
}

static void job_unlink(px_admin_job *j) {
  px_admin *a = j->a;
  if (!a) return;
  if (j->prev) j->prev->next = j->next;
  else a->jobs = j->next;
  if (j->next) j->next->prev = j->prev;
  a->njobs--;
  j->a = NULL;
}

static void job_done(void *arg) {
  px_admin_job *j = arg;
  if (!j->req) return;
  if (j->body) px_admin_reply(j->req, j->status, "application/json", j->body, strlen(j->body));
  else px_admin_reply_error(j->req, 500, "out of memory");
  j->req = NULL;
}

static void job_free(void *arg) {
  px_admin_job *j = arg;
  job_unlink(j);
  px_policy_release(j->pol);
  json_decref(j->extra);
  free(j->body);
  free(j);
}

void px_admin_api_stop(px_admin *a) {
  while (a->jobs) {
    px_admin_job *j = a->jobs;
    j->req = NULL; /* freed by evhttp_free with its connection */
    px_dbq_cancel(j->task);
    job_unlink(j); /* free_arg still frees j, after px_dbq_stop at the latest */
  }
}

/* ---- the loop side ---- */

static json_t *policy_brief(px_ctx *ctx) {
  const sc_policy *p = px_policy_get(ctx);
  return json_pack("{s:I, s:o, s:o}", "generation", (json_int_t)px_policy_generation(ctx), "mode",
                   p ? json_string(sc_policy_mode_of(p) == SC_MODE_AUDIT ? "audit" : "enforce") : json_null(), "path",
                   ctx->cfg->policy[0] ? json_string(ctx->cfg->policy) : json_null());
}

static void day_string(int64_t day, char out[16]) {
  time_t t = (time_t)(day * 86400);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 16, "%Y-%m-%d", &tm);
}

/* GET /api/policy: the loaded policy only, on the loop. */
static void serve_policy(px_admin *a, struct evhttp_request *req) {
  px_ctx *ctx = a->ctx;
  const sc_policy *p = px_policy_get(ctx);
  const char *le = px_policy_last_error(ctx);
  int64_t today = (int64_t)time(NULL) / 86400;
  json_t *excs = json_array();
  json_t *doc = json_pack("{s:o, s:I, s:o, s:o, s:o, s:I, s:o}", "path",
                          ctx->cfg->policy[0] ? json_string(ctx->cfg->policy) : json_null(), "generation",
                          (json_int_t)px_policy_generation(ctx), "loaded_at",
                          p ? json_integer(px_policy_loaded_at(ctx)) : json_null(), "last_error", px_admin_str_or_null(le),
                          "mode",
                          p ? json_string(sc_policy_mode_of(p) == SC_MODE_AUDIT ? "audit" : "enforce") : json_null(),
                          "rules", (json_int_t)sc_policy_rule_count(p), "exceptions", excs ? excs : json_array());
  for (size_t i = 0; excs && i < sc_policy_exception_count(p); i++) {
    sc_policy_exception_info e;
    json_t *repos = json_array(), *pkg = json_null();
    char day[16];
    if (sc_policy_exception_at(p, i, &e) != 0) continue;
    for (size_t k = 0; repos && k < e.nrepositories; k++) json_array_append_new(repos, json_string(e.repositories[k]));
    if (e.package_name) {
      char spec[600];
      snprintf(spec, sizeof(spec), "%s%s%s%s%s", e.package_ecosystem ? e.package_ecosystem : "",
               e.package_ecosystem ? "/" : "", e.package_name, e.package_version ? "@" : "",
               e.package_version ? e.package_version : "");
      pkg = json_string(spec);
    }
    if (e.has_expires) day_string(e.expires_day, day);
    json_array_append_new(
        excs, json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:i}", "vulnerability", e.vulnerability, "repositories",
                        repos ? repos : json_array(), "package", pkg, "expires",
                        e.has_expires ? json_string(day) : json_null(), "reason", px_admin_str_or_null(e.reason), "expired",
                        e.has_expires && today > e.expires_day, "expires_in_days",
                        e.has_expires ? json_integer(e.expires_day - today) : json_null(), "line", e.line));
  }
  px_admin_reply_json(req, 200, doc);
}

static const char *const P_PAGED[] = {"q", "page", "per_page", NULL};
static const char *const P_IMAGES[] = {"repository", "verdict", "q", "page", "per_page", NULL};
static const char *const P_IMAGE[] = {"repository", "reference", NULL};
static const char *const P_DECISIONS[] = {"repository", "verdict", "before", "limit", NULL};
static const char *const P_LIMIT[] = {"limit", NULL};
static const char *const P_NONE[] = {NULL};

static const struct route {
  const char *path;
  int kind;
  const char *const *params;
} ROUTES[] = {
    {"/api/summary", API_SUMMARY, P_NONE},       {"/api/repositories", API_REPOSITORIES, P_PAGED},
    {"/api/images", API_IMAGES, P_IMAGES},       {"/api/image", API_IMAGE, P_IMAGE},
    {"/api/decisions", API_DECISIONS, P_DECISIONS}, {"/api/vulndb", API_VULNDB, P_NONE},
    {"/api/lineage", API_LINEAGE, P_IMAGE},      {"/api/events", API_EVENTS, P_LIMIT},
};

static int copy_param(const px_admin_query *q, const char *name, char *out, size_t cap, int required, char *err,
                      size_t errlen) {
  const char *v = px_admin_query_get(q, name);
  if (!v || !*v) {
    out[0] = 0;
    if (!required) return 0;
    snprintf(err, errlen, "parameter \"%s\" is required", name);
    return SC_ERR_INVALID;
  }
  if (strlen(v) >= cap) {
    snprintf(err, errlen, "parameter \"%s\" is too long", name);
    return SC_ERR_INVALID;
  }
  memcpy(out, v, strlen(v) + 1);
  return 0;
}

/* Fills j from the query; SC_ERR_INVALID with the reason in err. */
static int job_params(px_admin_job *j, const px_admin_query *q, char *err, size_t errlen) {
  int need_ref = j->kind == API_IMAGE || j->kind == API_LINEAGE;
  int rc = copy_param(q, "repository", j->repo, sizeof(j->repo), need_ref, err, errlen);
  if (!rc) rc = copy_param(q, "reference", j->ref, sizeof(j->ref), need_ref, err, errlen);
  if (!rc) rc = copy_param(q, "q", j->q, sizeof(j->q), 0, err, errlen);
  if (!rc) rc = copy_param(q, "verdict", j->verdict, sizeof(j->verdict), 0, err, errlen);
  if (!rc && j->verdict[0] && strcmp(j->verdict, "allow") && strcmp(j->verdict, "warn") &&
      strcmp(j->verdict, "deny") && strcmp(j->verdict, "unscanned")) {
    snprintf(err, errlen, "parameter \"verdict\" must be allow, warn, deny or unscanned");
    rc = SC_ERR_INVALID;
  }
  if (!rc && (j->kind == API_IMAGES || j->kind == API_REPOSITORIES))
    rc = px_admin_paging(q, &j->page, &j->per_page, &j->offset, err, errlen);
  if (!rc && j->kind == API_DECISIONS) {
    rc = px_admin_query_int(q, "before", 0, 1, INT64_MAX / 2, &j->before, err, errlen);
    if (!rc)
      rc = px_admin_query_int(q, "limit", PX_ADMIN_DEFAULT_DECISIONS, 1, PX_ADMIN_MAX_DECISIONS, &j->limit, err,
                              errlen);
  }
  if (!rc && j->kind == API_EVENTS)
    rc = px_admin_query_int(q, "limit", 50, 1, PX_ADMIN_MAX_EVENTS, &j->limit, err, errlen);
  return rc;
}

void px_admin_api(px_admin *a, struct evhttp_request *req, const char *path, const char *query) {
  const struct route *r = NULL;
  px_admin_query q;
  char err[200];
  px_admin_job *j;
  for (size_t i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++)
    if (!strcmp(path, ROUTES[i].path)) r = &ROUTES[i];
  if (!r && strcmp(path, "/api/policy")) {
    px_admin_reply_error(req, 404, "no such API endpoint");
    return;
  }
  if (px_admin_query_parse(query, r ? r->params : P_NONE, &q, err, sizeof(err)) != 0) {
    px_admin_reply_error(req, 400, err);
    return;
  }
  if (!r) {
    px_admin_query_free(&q);
    serve_policy(a, req);
    return;
  }
  if (a->njobs >= PX_ADMIN_MAX_PENDING) {
    px_admin_query_free(&q);
    px_admin_reply_error(req, 503, "too many admin requests waiting for the database; retry");
    return;
  }
  if (!(j = calloc(1, sizeof(*j)))) {
    px_admin_query_free(&q);
    px_admin_reply_error(req, 500, "out of memory");
    return;
  }
  j->kind = r->kind;
  int rc = job_params(j, &q, err, sizeof(err));
  px_admin_query_free(&q);
  if (rc) {
    free(j);
    px_admin_reply_error(req, 400, err);
    return;
  }
  j->req = req;
  j->gate = a->ctx->gate;
  j->pol = px_policy_acquire(a->ctx);
  if (j->kind == API_SUMMARY) j->extra = policy_brief(a->ctx);
  if (!(j->task = px_dbq_submit(a->ctx, job_run, job_done, job_free, j))) {
    j->req = NULL;
    job_free(j); /* not linked yet: a refused submit leaves j to us */
    px_admin_reply_error(req, 503, "the database threads are not available");
    return;
  }
  j->a = a;
  j->next = a->jobs;
  if (a->jobs) a->jobs->prev = j;
  a->jobs = j;
  a->njobs++;
}
