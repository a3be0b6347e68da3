/* px_admin_images.c - the image side of the admin JSON API (shapes in
 * px_admin.h): /api/images (paged, filtered by repository, text and
 * verdict), /api/image (verdict, findings, packages, secrets, layers,
 * lineage, annotations) and /api/summary (counts and verdicts of the newest
 * images).  Verdicts come from the gate's judgement and cache
 * (px_gate_judge_on), with the bounds described in px_admin_api.c.
 * Owner: the job (px_admin_int.h).  Thread: a database thread.  Errors:
 * SC_ERR_* from the store, or an answer made with px_admin_fail. */
#include "px_admin_int.h"
#include "px_log.h"
#include "sc_annotations.h"
#include "sc_cvss.h"
#include "sc_lineage.h"
#include "sc_match.h"
#include "sc_store_admin.h"
#include "sc_store_referrers.h"
#include "sc_vulnstore.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One referrer of the image, as the dashboard lists it. */
static int add_referrer(void *arg, const sc_referrer *r) {
  json_t *an = r->annotations ? json_loads(r->annotations, 0, NULL) : NULL;
  json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:s, s:o}", "digest", r->digest, "mediaType", r->media_type,
                        "artifactType", px_admin_str_or_null(r->artifact_type), "size", (json_int_t)r->size, "origin",
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
                   px_admin_str_or_null(row->tag), "digest", row->digest, "kind",
                   row->kind == SC_MANIFEST_INDEX ? "index" : "image", "pushed_at", (json_int_t)row->pushed_at,
                   "verdict", px_verdict_name(v->kind), "rule", px_admin_str_or_null(v->rule), "counts", counts_json(&c),
                   "stale_base", stale);
  return *out ? 0 : SC_ERR_NOMEM;
}

static int verdict_matches(const char *want, px_verdict_kind k) {
  return !want[0] || !strcmp(want, px_verdict_name(k));
}

int px_admin_run_images(px_admin_job *j, sc_store *st, json_t **doc) {
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

int px_admin_run_summary(px_admin_job *j, sc_store *st, json_t **doc) {
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

static json_t *verdict_json(const px_gate_result *v) {
  json_t *reasons = v->detail_json ? json_loads(v->detail_json, 0, NULL) : NULL;
  return json_pack("{s:s, s:o, s:o, s:o}", "decision", px_verdict_name(v->kind), "rule", px_admin_str_or_null(v->rule),
                   "message", px_admin_str_or_null(v->message), "reasons", reasons ? reasons : json_array());
}

int px_admin_run_image(px_admin_job *j, sc_store *st, json_t **doc) {
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
    return px_admin_fail(j, 404, "no such image in this repository", doc);
  if (rc) return rc;
  if ((rc = sc_store_get_image(st, digest, &img)) != 0) {
    sc_store_image_free(&img);
    return rc == SC_ERR_NOTFOUND ? px_admin_fail(j, 404, "no such image", doc) : rc;
  }
  json_object_set_new(o, "repository", json_string(j->repo));
  json_object_set_new(o, "reference", json_string(j->ref));
  json_object_set_new(o, "digest", json_string(digest));
  json_object_set_new(o, "kind", json_string(img.kind == SC_MANIFEST_INDEX ? "index" : "image"));
  json_object_set_new(o, "config",
                      json_pack("{s:o, s:o, s:o, s:o, s:o}", "os", px_admin_str_or_null(img.os), "architecture",
                                px_admin_str_or_null(img.architecture), "user", px_admin_str_or_null(img.user), "created",
                                img.created >= 0 ? json_integer(img.created) : json_null(), "runs_as_root",
                                img.runs_as_root < 0 ? json_null() : json_boolean(img.runs_as_root)));
  for (size_t i = 0; i < img.nlayers; i++)
    json_array_append_new(layers, json_pack("{s:s, s:s, s:o}", "digest", img.layers[i].digest, "status",
                                            img.layers[i].status, "error", px_admin_str_or_null(img.layers[i].error)));
  for (size_t i = 0; i < img.nchildren; i++)
    json_array_append_new(children, json_pack("{s:s, s:o}", "digest", img.children[i], "platform",
                                              px_admin_str_or_null(img.platforms[i])));
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
      json_array_append_new(packages, json_pack("{s:o, s:o, s:o, s:o, s:o}", "name", px_admin_str_or_null(p->name), "version",
                                                px_admin_str_or_null(p->version), "type", px_admin_str_or_null(p->type), "ecosystem",
                                                px_admin_str_or_null(p->ecosystem), "purl", px_admin_str_or_null(p->purl)));
    }
    for (size_t i = 0; rc == 0 && i < inv.nsecrets && i < PX_ADMIN_MAX_SECRETS; i++)
      json_array_append_new(secrets, json_pack("{s:o, s:o, s:i}", "path", px_admin_str_or_null(inv.secrets[i].path), "rule",
                                               px_admin_str_or_null(inv.secrets[i].rule), "line", inv.secrets[i].line));
    json_object_set_new(o, "packages_total", json_integer((json_int_t)inv.npkgs));
    json_object_set_new(o, "packages_truncated", json_boolean(inv.npkgs > PX_ADMIN_MAX_PACKAGES));
    json_object_set_new(o, "secrets_truncated", json_boolean(inv.nsecrets > PX_ADMIN_MAX_SECRETS));
    if (inv.os.id)
      json_object_set_new(o, "os", json_pack("{s:s, s:o}", "id", inv.os.id, "version_id",
                                             px_admin_str_or_null(inv.os.version_id)));
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

