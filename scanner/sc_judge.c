/* sc_judge.c - facts of a stored image, evaluated by the policy.  The
 * stale-base facts (sc_lineage.h) are looked up only when a rule has a
 * stale_base_days condition; a failed look-up fails the judgement like a
 * failed inventory read (the caller's on_error handling decides). */
#include "sc_judge.h"
#include "sc_vulnstore.h"
#include "sc_lineage.h"
#include "sc_match.h"
#include "sc_store_vex.h"
#include "sc_vex.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JUDGE_BASE_REF_MAX_BYTES 512 /* "repo:tag" of a stale base (longer ones are cut) */
#define JUDGE_VEXREF_NAME_BYTES 200  /* "referrer sha256:..." naming a document in messages */

/* The image's trusted VEX referrers (sc_store_vex.h), read only when the
 * policy trusts them for the repository (`vex_referrers:`), for one
 * evaluation: parsed documents, and one line for each referrer that is not
 * applied (fetch or parse failure), so that it is named, not dropped. */
typedef struct vexrefs {
  sc_vex_doc *docs[SC_VEXREF_MAX_DOCS];
  size_t ndocs;
  char *errors[SC_VEXREF_MAX_DOCS];
  size_t nerrors;
} vexrefs;

static int add_error(vexrefs *vr, const char *digest, const char *why) {
  if (asprintf(&vr->errors[vr->nerrors], "%s: %s", digest, why) < 0) {
    vr->errors[vr->nerrors] = NULL;
    return SC_ERR_NOMEM;
  }
  vr->nerrors++;
  return 0;
}

/* sc_store_vex_each callback: the stored text is parsed again (it was
 * valid when fetched; parsing here keeps C structures out of the store). */
static int vexref_one(void *arg, const sc_vexref *r) {
  vexrefs *vr = arg;
  char name[JUDGE_VEXREF_NAME_BYTES], err[SC_VEX_ERR_BYTES];
  if (vr->ndocs >= SC_VEXREF_MAX_DOCS || vr->nerrors >= SC_VEXREF_MAX_DOCS) return 0;
  if (r->error) return add_error(vr, r->digest, r->error);
  /* the name says where a statement came from: explain, the report and
   * the 403 show "(referrer sha256:..., justification)" */
  snprintf(name, sizeof(name), "referrer %s", r->digest);
  int rc = sc_vex_parse(name, r->doc, strlen(r->doc), &vr->docs[vr->ndocs], err, sizeof(err));
  if (rc == SC_ERR_NOMEM) return rc;
  if (rc) return add_error(vr, r->digest, err);
  vr->ndocs++;
  return 0;
}

static void vexrefs_free(vexrefs *vr) {
  if (!vr) return;
  for (size_t i = 0; i < vr->ndocs; i++) sc_vex_doc_free(vr->docs[i]);
  for (size_t i = 0; i < vr->nerrors; i++) free(vr->errors[i]);
  free(vr);
}

/* Fills f's stale_base facts for image digest: stale when
 * sc_lineage_stale_seconds says so, named from sc_lineage_base_of. */
static int stale_base_facts(sc_store *st, const char *digest, int64_t now, sc_image_facts *f,
                            sc_lineage_base *b, char *ref, size_t refcap) {
  int64_t secs = -1;
  int found = 0, rc = sc_lineage_stale_seconds(st, digest, now, &secs);
  if (rc || secs < 0) return rc;
  f->stale_base = 1;
  f->stale_base_secs = secs;
  if ((rc = sc_lineage_base_of(st, digest, b, &found)) != 0 || !found) return rc;
  f->stale_base_digest = b->digest[0] ? b->digest : NULL;
  f->stale_base_now = b->now_digest[0] ? b->now_digest : NULL;
  if (b->repo && b->tag) {
    snprintf(ref, refcap, "%s:%s", b->repo, b->tag);
    f->stale_base_ref = ref;
  }
  return 0;
}

int sc_judge_image(sc_store *st, const sc_policy *p, const char *repo, const char *ref, const sc_store_image *img,
                   int64_t now, sc_verdict *v, sc_judge_info *info) {
  sc_inventory inv;
  sc_finding_list fl;
  sc_image_facts f;
  sc_lineage_base base;
  char base_ref[JUDGE_BASE_REF_MAX_BYTES];
  vexrefs *vr = NULL;
  int rc;

  memset(&f, 0, sizeof(f));
  memset(&base, 0, sizeof(base));
  memset(info, 0, sizeof(*info));
  info->complete = 1;
  sc_inventory_init(&inv);
  sc_finding_list_init(&fl);
  for (size_t i = 0; i < img->nlayers; i++)
    if (strcmp(img->layers[i].status, "ok") != 0) {
      f.scan_failed = info->scan_failed = 1; /* judged by on_error */
      if (!strcmp(img->layers[i].status, "missing")) info->complete = 0;
    }
  int any_data = 1;
  rc = sc_vulnstore_any(st, &any_data); /* none at all: the policy's no_data decides */
  if (rc == 0) rc = sc_store_image_inventory(st, img->digest, &inv);
  if (rc == 0) rc = sc_match_image(st, img->digest, &fl);
  if (rc == 0 && sc_policy_uses_stale_base(p))
    rc = stale_base_facts(st, img->digest, now, &f, &base, base_ref, sizeof(base_ref));
  if (rc == 0 && sc_policy_trusts_vex_referrers(p, repo)) {
    /* only those attached in this repository: a VEX pushed elsewhere
     * speaks for whoever can push there, not for this repository */
    if (!(vr = calloc(1, sizeof(*vr)))) rc = SC_ERR_NOMEM;
    else rc = sc_store_vex_each(st, repo, img->digest, vexref_one, vr);
  }
  if (rc == 0) {
    f.repository = repo;
    f.reference = ref;
    f.digest = img->digest;
    f.findings = fl.v;
    f.nfindings = fl.n;
    f.packages = inv.pkgs;
    f.npackages = inv.npkgs;
    f.secrets = inv.secrets;
    f.nsecrets = inv.nsecrets;
    f.runs_as_root = img->runs_as_root;
    f.created = img->created;
    f.scanned = 1;
    f.no_data = info->no_data = !any_data;
    /* the policy's `vex:` files are applied by the evaluator itself */
    if (vr) {
      f.vex_docs = (const struct sc_vex_doc *const *)vr->docs;
      f.nvex_docs = vr->ndocs;
      f.vex_errors = (const char *const *)vr->errors;
      f.nvex_errors = vr->nerrors;
    }
    info->nfindings = fl.n;
    info->nsecrets = inv.nsecrets;
    info->runs_as_root = img->runs_as_root;
    rc = sc_policy_evaluate(p, &f, now, v);
  }
  sc_inventory_free(&inv);
  sc_finding_list_free(&fl);
  sc_lineage_base_free(&base);
  vexrefs_free(vr);
  return rc;
}
