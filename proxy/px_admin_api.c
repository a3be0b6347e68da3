/* px_admin_api.c - the admin JSON API (shapes in px_admin.h).
 *
 * No SQL on the loop: a request is parsed and checked on the loop, then
 * becomes a job, a px_dbq task whose function builds and serialises the
 * answer on a database thread (store reads through sc_store_admin.h and the
 * other store headers; verdicts through the gate's cache, px_gate_judge_on,
 * with the policy reference taken on the loop); the completion sends it on
 * the loop.  /api/policy reads only the loaded policy and is answered on
 * the loop.
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
#include "sc_cvss.h"
#include "sc_annotations.h"
#include "sc_events.h"
#include "sc_lineage.h"
#include "sc_match.h"
#include "sc_policy.h"
#include "sc_store_admin.h"
#include "sc_store_referrers.h"
#include "sc_vulnstore.h"
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { API_SUMMARY, API_REPOSITORIES, API_IMAGES, API_IMAGE, API_DECISIONS, API_VULNDB, API_LINEAGE, API_EVENTS };

struct px_admin_job {
  px_admin *a;                 /* loop: NULL once abandoned (stop) */
  struct evhttp_request *req;  /* loop */
  px_dbtask *task;
  px_admin_job *prev, *next;   /* a->jobs */
  int kind;
  px_gate *gate;               /* ctx->gate: outlives the task */
  px_policy_ref *pol;          /* the policy in force when asked (NULL: none) */
  char repo[PX_ADMIN_MAX_PARAM_BYTES + 1], ref[PX_ADMIN_MAX_PARAM_BYTES + 1], q[PX_ADMIN_MAX_PARAM_BYTES + 1];
  char verdict[16];            /* "" or allow|warn|deny|unscanned */
  int64_t page, per_page, offset, before, limit;
  json_t *extra;               /* summary: the policy part, made on the loop */
  /* the answer, made on the database thread */
  int status;
  char *body;
};

/* ---- helpers (database thread) ---- */

static int fail(px_admin_job *j, int status, const char *msg, json_t **doc) {
  json_decref(*doc);
  *doc = json_pack("{s:s}", "error", msg);
  j->status = status;
  return 0;
}

static int db_fail(px_admin_job *j, sc_store *st, int rc, json_t **doc) {
  char msg[300];
  snprintf(msg, sizeof(msg), "database: %s (%s)", st ? sc_store_errmsg(st) : "no connection",
           customs_strerror(rc));
  px_warn("admin API: %s", msg);
  return fail(j, 500, msg, doc);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* One referrer of the image, as the dashboard lists it. */
static int add_referrer(void *arg, const sc_referrer *r) {
  json_t *an = r->annotations ? json_loads(r->annotations, 0, NULL) : NULL;
  json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:s, s:o}", "digest", r->digest, "mediaType", r->media_type,
                        "artifactType", str_or_null(r->artifact_type), "size", (json_int_t)r->size, "origin",
                        r->origin == SC_REF_CUSTOMS ? "customs" : "client", "annotations", an ? an : json_null());
  return o && !json_array_append_new(arg, o) ? 0 : SC_ERR_NOMEM;
}

/* The image's referrers in repo (pushed by clients, or customs' own), then
 * customs' own annotations not pushed (yet): pending with their attempts,
 * or failed, with the last error, so that a failure is visible. */
static int annotations_json(sc_store *st, const char *repo, const char *digest, json_t *out) {
  sc_annot_list l = {0};
  int rc = sc_store_each_referrer(st, repo, digest, NULL, add_referrer, out);
  if (!rc) rc = sc_annotations_list(st, repo, digest, &l);
  for (size_t i = 0; !rc && i < l.n; i++) {
    const sc_annot_job *jb = &l.v[i];
    if (jb->status == SC_ANNOT_PUSHED) continue; /* listed above as a referrer */
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:o}", "type", sc_annot_kind_name(jb->kind), "status",
                          sc_annot_status_name(jb->status), "origin", "customs", "attempts", jb->attempts,
                          "last_error", jb->last_error[0] ? json_string(jb->last_error) : json_null());
    if (!o || json_array_append_new(out, o)) rc = SC_ERR_NOMEM;
  }
  sc_annot_list_free(&l);
  return rc;
}

typedef struct counts {
  int64_t n[5]; /* by sc_severity rank */
} counts;

static json_t *counts_json(const counts *c) {
  return json_pack("{s:I, s:I, s:I, s:I, s:I}", "critical", (json_int_t)c->n[4], "high", (json_int_t)c->n[3],
                   "medium", (json_int_t)c->n[2], "low", (json_int_t)c->n[1], "unknown", (json_int_t)c->n[0]);
}

static void count_findings(const sc_finding_list *fl, counts *c) {
  memset(c, 0, sizeof(*c));
  for (size_t i = 0; i < fl->n; i++) {
    int s = fl->v[i].severity;
    c->n[s >= 0 && s <= 4 ? s : 0]++;
  }
}

/* Severity counts of an image; of an index, the largest count per severity
 * among its children (a platform's findings, not a sum over platforms). */
static int image_counts(sc_store *st, const char *digest, int kind, counts *out) {
  memset(out, 0, sizeof(*out));
  if (kind != SC_MANIFEST_INDEX) {
    sc_finding_list fl;
    sc_finding_list_init(&fl);
    int rc = sc_match_image(st, digest, &fl);
    if (rc == 0) count_findings(&fl, out);
    sc_finding_list_free(&fl);
    return rc == SC_ERR_NOTFOUND || rc == SC_ERR_UNSUPP ? 0 : rc;
  }
  sc_store_image img;
  memset(&img, 0, sizeof(img));
  int rc = sc_store_get_image(st, digest, &img);
  for (size_t i = 0; rc == 0 && i < img.nchildren && i < SC_LINEAGE_MAX_CHILDREN; i++) {
    counts c;
    if ((rc = image_counts(st, img.children[i], SC_MANIFEST_IMAGE, &c)) != 0) break;
    for (int s = 0; s < 5; s++)
      if (c.n[s] > out->n[s]) out->n[s] = c.n[s];
  }
  sc_store_image_free(&img);
  return rc == SC_ERR_NOTFOUND ? 0 : rc;
}

/* Whether the image's base (an index: its first child's) is superseded. */
static int stale_base(sc_store *st, const char *digest, int kind, int *stale) {
  int64_t secs = -1;
  char child[72];
  *stale = 0;
  if (kind == SC_MANIFEST_INDEX) {
    if (sc_store_index_child(st, digest, NULL, NULL, child) != 0) return 0;
    digest = child;
  }
  int rc = sc_lineage_stale_seconds(st, digest, (int64_t)time(NULL), &secs);
  *stale = rc == 0 && secs >= 0;
  return rc == SC_ERR_NOTFOUND ? 0 : rc;
}

/* ---- listing images ---- */

typedef struct img_row {
  char *repo, *tag, *digest;
  int kind;
  int64_t pushed_at;
} img_row;

typedef struct img_rows {
  img_row *v;
  size_t n, cap;
  int oom;
} img_rows;

static int collect_image(void *arg, const sc_store_admin_image *img) {
  img_rows *r = arg;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    img_row *v = realloc(r->v, cap * sizeof(*v));
    if (!v) return r->oom = SC_ERR_NOMEM;
    r->v = v;
    r->cap = cap;
  }
  img_row *o = &r->v[r->n++];
  o->repo = strdup(img->repository);
  o->tag = img->tag ? strdup(img->tag) : NULL;
  o->digest = strdup(img->digest);
  o->kind = img->kind;
  o->pushed_at = img->pushed_at;
  if (!o->repo || !o->digest || (img->tag && !o->tag)) return r->oom = SC_ERR_NOMEM;
  return 0;
}

static void rows_free(img_rows *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->v[i].repo);
    free(r->v[i].tag);
    free(r->v[i].digest);
  }
  free(r->v);
  memset(r, 0, sizeof(*r));
}

/* One image of a page: its verdict, counts and stale base. */
static int image_item(px_admin_job *j, sc_store *st, const img_row *row, const px_gate_result *v, json_t **out) {
  counts c;
  int stale, rc;
  if ((rc = image_counts(st, row->digest, row->kind, &c)) != 0) return rc;
  if ((rc = stale_base(st, row->digest, row->kind, &stale)) != 0) return rc;
  (void)j;
  *out = json_pack("{s:s, s:o, s:s, s:s, s:I, s:s, s:o, s:o, s:b}", "repository", row->repo, "tag",
                   str_or_null(row->tag), "digest", row->digest, "kind",
                   row->kind == SC_MANIFEST_INDEX ? "index" : "image", "pushed_at", (json_int_t)row->pushed_at,
                   "verdict", px_verdict_name(v->kind), "rule", str_or_null(v->rule), "counts", counts_json(&c),
                   "stale_base", stale);
  return *out ? 0 : SC_ERR_NOMEM;
}

static int verdict_matches(const char *want, px_verdict_kind k) {
  return !want[0] || !strcmp(want, px_verdict_name(k));
}

static int run_images(px_admin_job *j, sc_store *st, json_t **doc) {
  sc_store_admin_image_filter f = {j->repo[0] ? j->repo : NULL, j->q[0] ? j->q : NULL};
  json_t *list = json_array();
  int64_t total = 0, matches = 0, judged = 0, chunk_off = 0;
  int rc = 0, exact = 1, more = 0;
  if (!list) return SC_ERR_NOMEM;
  json_object_set_new(*doc, "images", list);
  if (!j->verdict[0]) { /* the page only: its rows, then their verdicts */
    img_rows rows = {0};
    rc = sc_store_admin_images(st, &f, j->offset, (size_t)j->per_page, &total, collect_image, &rows);
    for (size_t i = 0; rc == 0 && !rows.oom && i < rows.n; i++) {
      px_gate_result v;
      json_t *item = NULL;
      if ((rc = px_gate_judge_on(j->gate, st, j->pol, rows.v[i].repo, rows.v[i].digest, &v)) != 0) break;
      rc = image_item(j, st, &rows.v[i], &v, &item);
      px_gate_result_free(&v);
      if (rc == 0) json_array_append_new(list, item);
    }
    if (!rc && rows.oom) rc = rows.oom;
    rows_free(&rows);
    more = j->offset + j->per_page < total;
  } else { /* the candidates in order, judged until the page is full or the bound */
    for (;;) {
      img_rows rows = {0};
      size_t want = PX_ADMIN_MAX_PER_PAGE;
      rc = sc_store_admin_images(st, &f, chunk_off, want, NULL, collect_image, &rows);
      if (!rc && rows.oom) rc = rows.oom;
      size_t i = 0;
      for (; rc == 0 && i < rows.n; i++) {
        px_gate_result v;
        if (judged >= PX_ADMIN_MAX_JUDGED || (int64_t)json_array_size(list) >= j->per_page) break;
        judged++;
        if ((rc = px_gate_judge_on(j->gate, st, j->pol, rows.v[i].repo, rows.v[i].digest, &v)) != 0) break;
        if (verdict_matches(j->verdict, v.kind)) {
          matches++;
          if (matches > j->offset) {
            json_t *item = NULL;
            rc = image_item(j, st, &rows.v[i], &v, &item);
            if (rc == 0) json_array_append_new(list, item);
          }
        }
        px_gate_result_free(&v);
      }
      int stopped = rc == 0 && i < rows.n; /* the page filled or the bound was hit before the chunk's end */
      size_t got = rows.n;
      rows_free(&rows);
      if (rc || stopped || got < want) {
        if (stopped) exact = 0, more = 1;
        break;
      }
      chunk_off += (int64_t)got;
    }
    total = matches;
  }
  if (rc) return rc;
  json_object_set_new(*doc, "total", json_integer(total));
  json_object_set_new(*doc, "total_exact", json_boolean(exact));
  json_object_set_new(*doc, "more", json_boolean(more));
  json_object_set_new(*doc, "judged", json_integer(j->verdict[0] ? judged : (json_int_t)json_array_size(list)));
  return 0;
}

static int run_summary(px_admin_job *j, sc_store *st, json_t **doc) {
  int64_t nrepos, nimages, gen = 0, last = 0, records = 0, n[4] = {0};
  size_t judged = 0;
  int rc;
  if ((rc = sc_store_admin_counts(st, &nrepos, &nimages)) != 0) return rc;
  img_rows rows = {0};
  for (int64_t off = 0; rc == 0 && off < PX_ADMIN_MAX_JUDGED; off += SC_STORE_ADMIN_MAX_ROWS) {
    size_t before = rows.n;
    rc = sc_store_admin_images(st, NULL, off, SC_STORE_ADMIN_MAX_ROWS, NULL, collect_image, &rows);
    if (!rc && rows.oom) rc = rows.oom;
    if (rows.n - before < SC_STORE_ADMIN_MAX_ROWS) break;
  }
  for (size_t i = 0; rc == 0 && i < rows.n && i < PX_ADMIN_MAX_JUDGED; i++) {
    px_gate_result v;
    if ((rc = px_gate_judge_on(j->gate, st, j->pol, rows.v[i].repo, rows.v[i].digest, &v)) != 0) break;
    n[v.kind <= PX_V_UNSCANNED ? v.kind : PX_V_DENY]++;
    judged++;
    px_gate_result_free(&v);
  }
  rows_free(&rows);
  if (rc) return rc;
  if ((rc = sc_vulnstore_generation(st, &gen)) != 0 || (rc = sc_vulnstore_last_import(st, &last)) != 0 ||
      (rc = sc_vulnstore_count(st, &records)) != 0)
    return rc;
  json_t *o = *doc;
  json_object_set_new(o, "images", json_integer(nimages));
  json_object_set_new(o, "repositories", json_integer(nrepos));
  json_object_set_new(o, "denied", json_integer(n[PX_V_DENY]));
  json_object_set_new(o, "warned", json_integer(n[PX_V_WARN]));
  json_object_set_new(o, "allowed", json_integer(n[PX_V_ALLOW]));
  json_object_set_new(o, "unscanned", json_integer(n[PX_V_UNSCANNED]));
  json_object_set_new(o, "judged", json_integer((json_int_t)judged));
  json_object_set_new(o, "verdicts_complete", json_boolean((int64_t)judged >= nimages));
  json_object_set_new(o, "vulndb", json_pack("{s:I, s:I, s:I}", "generation", (json_int_t)gen, "last_import",
                                             (json_int_t)last, "records", (json_int_t)records));
  json_object_set_new(o, "policy", json_incref(j->extra));
  json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
  return 0;
}

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

static json_t *verdict_json(const px_gate_result *v) {
  json_t *reasons = v->detail_json ? json_loads(v->detail_json, 0, NULL) : NULL;
  return json_pack("{s:s, s:o, s:o, s:o}", "decision", px_verdict_name(v->kind), "rule", str_or_null(v->rule),
                   "message", str_or_null(v->message), "reasons", reasons ? reasons : json_array());
}

static int run_image(px_admin_job *j, sc_store *st, json_t **doc) {
  char digest[72];
  sc_store_image img;
  px_gate_result v;
  json_t *o = *doc, *layers = json_array(), *children = json_array(), *packages = json_array(),
         *secrets = json_array();
  counts c;
  int rc;
  memset(&c, 0, sizeof(c));
  memset(&img, 0, sizeof(img));
  json_object_set_new(o, "layers", layers);
  json_object_set_new(o, "children", children);
  json_object_set_new(o, "packages", packages);
  json_object_set_new(o, "secrets", secrets);
  if (!layers || !children || !packages || !secrets) return SC_ERR_NOMEM;
  if ((rc = sc_store_resolve(st, j->repo, j->ref, digest)) == SC_ERR_NOTFOUND)
    return fail(j, 404, "no such image in this repository", doc);
  if (rc) return rc;
  if ((rc = sc_store_get_image(st, digest, &img)) != 0) {
    sc_store_image_free(&img);
    return rc == SC_ERR_NOTFOUND ? fail(j, 404, "no such image", doc) : rc;
  }
  json_object_set_new(o, "repository", json_string(j->repo));
  json_object_set_new(o, "reference", json_string(j->ref));
  json_object_set_new(o, "digest", json_string(digest));
  json_object_set_new(o, "kind", json_string(img.kind == SC_MANIFEST_INDEX ? "index" : "image"));
  json_object_set_new(o, "config",
                      json_pack("{s:o, s:o, s:o, s:o, s:o}", "os", str_or_null(img.os), "architecture",
                                str_or_null(img.architecture), "user", str_or_null(img.user), "created",
                                img.created >= 0 ? json_integer(img.created) : json_null(), "runs_as_root",
                                img.runs_as_root < 0 ? json_null() : json_boolean(img.runs_as_root)));
  for (size_t i = 0; i < img.nlayers; i++)
    json_array_append_new(layers, json_pack("{s:s, s:s, s:o}", "digest", img.layers[i].digest, "status",
                                            img.layers[i].status, "error", str_or_null(img.layers[i].error)));
  for (size_t i = 0; i < img.nchildren; i++)
    json_array_append_new(children, json_pack("{s:s, s:o}", "digest", img.children[i], "platform",
                                              str_or_null(img.platforms[i])));
  if ((rc = px_gate_judge_on(j->gate, st, j->pol, j->repo, digest, &v)) != 0) goto out;
  json_object_set_new(o, "verdict", verdict_json(&v));
  px_gate_result_free(&v);

  json_t *findings = NULL;
  size_t nfind = 0;
  if (img.kind != SC_MANIFEST_INDEX) {
    sc_finding_list fl;
    sc_inventory inv;
    sc_finding_list_init(&fl);
    rc = sc_match_image(st, digest, &fl);
    if (rc == 0) {
      count_findings(&fl, &c);
      nfind = fl.n;
      findings = sc_lineage_findings_json(&fl, PX_ADMIN_MAX_FINDINGS);
    }
    sc_finding_list_free(&fl);
    if (rc == SC_ERR_NOTFOUND) rc = 0;
    if (rc) goto out;
    sc_inventory_init(&inv);
    rc = sc_store_image_inventory(st, digest, &inv);
    for (size_t i = 0; rc == 0 && i < inv.npkgs && i < PX_ADMIN_MAX_PACKAGES; i++) {
      const sc_package *p = &inv.pkgs[i];
      json_array_append_new(packages, json_pack("{s:o, s:o, s:o, s:o, s:o}", "name", str_or_null(p->name), "version",
                                                str_or_null(p->version), "type", str_or_null(p->type), "ecosystem",
                                                str_or_null(p->ecosystem), "purl", str_or_null(p->purl)));
    }
    for (size_t i = 0; rc == 0 && i < inv.nsecrets && i < PX_ADMIN_MAX_SECRETS; i++)
      json_array_append_new(secrets, json_pack("{s:o, s:o, s:i}", "path", str_or_null(inv.secrets[i].path), "rule",
                                               str_or_null(inv.secrets[i].rule), "line", inv.secrets[i].line));
    json_object_set_new(o, "packages_total", json_integer((json_int_t)inv.npkgs));
    json_object_set_new(o, "packages_truncated", json_boolean(inv.npkgs > PX_ADMIN_MAX_PACKAGES));
    json_object_set_new(o, "secrets_truncated", json_boolean(inv.nsecrets > PX_ADMIN_MAX_SECRETS));
    if (inv.os.id)
      json_object_set_new(o, "os", json_pack("{s:s, s:o}", "id", inv.os.id, "version_id",
                                             str_or_null(inv.os.version_id)));
    sc_inventory_free(&inv);
    if (rc == SC_ERR_NOTFOUND) rc = 0;
    if (rc) goto out;
  } else {
    rc = image_counts(st, digest, img.kind, &c);
    if (rc) goto out;
  }
  json_object_set_new(o, "findings", findings ? findings : json_array());
  json_object_set_new(o, "findings_total", json_integer((json_int_t)nfind));
  json_object_set_new(o, "findings_truncated", json_boolean(nfind > PX_ADMIN_MAX_FINDINGS));
  json_object_set_new(o, "counts", counts_json(&c));
  json_t *lin = NULL;
  rc = sc_lineage_describe(st, j->repo, j->ref, (int64_t)time(NULL), &lin);
  if (rc == SC_ERR_NOTFOUND) rc = 0;
  json_object_set_new(o, "lineage", lin ? lin : json_null());
  json_t *ann = json_array();
  if (!rc && ann) rc = annotations_json(st, j->repo, digest, ann);
  json_object_set_new(o, "annotations", ann ? ann : json_array());
out:
  sc_store_image_free(&img);
  return rc;
}

static int add_decision(void *arg, const sc_store_admin_decision *d) {
  json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)d->id, "at",
                        (json_int_t)d->at, "client", str_or_null(d->client), "repository", str_or_null(d->repository),
                        "reference", str_or_null(d->reference), "digest", str_or_null(d->digest), "method",
                        str_or_null(d->method), "verdict", str_or_null(d->verdict), "rule", str_or_null(d->rule),
                        "user_agent", str_or_null(d->user_agent));
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
  if (rc == SC_ERR_NOTFOUND) return fail(j, 404, "no such tag or image recorded", doc);
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
                                          str_or_null(d->last_error), "created_at", (json_int_t)d->created_at,
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
    fail(j, 503, "no database connection", &doc);
  } else if (doc) {
    if (j->kind == API_IMAGES || j->kind == API_REPOSITORIES) {
      json_object_set_new(doc, "page", json_integer(j->page));
      json_object_set_new(doc, "per_page", json_integer(j->per_page));
    }
    switch (j->kind) {
    case API_SUMMARY: rc = run_summary(j, st, &doc); break;
    case API_REPOSITORIES: rc = run_repositories(j, st, &doc); break;
    case API_IMAGES: rc = run_images(j, st, &doc); break;
    case API_IMAGE: rc = run_image(j, st, &doc); break;
    case API_DECISIONS: rc = run_decisions(j, st, &doc); break;
    case API_VULNDB: rc = run_vulndb(j, st, &doc); break;
    case API_LINEAGE: rc = run_lineage(j, st, &doc); break;
    case API_EVENTS: rc = run_events(j, st, &doc); break;
    }
    if (rc) db_fail(j, st, rc, &doc);
  }
  j->body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
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
                          p ? json_integer(px_policy_loaded_at(ctx)) : json_null(), "last_error", str_or_null(le),
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
                        e.has_expires ? json_string(day) : json_null(), "reason", str_or_null(e.reason), "expired",
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
