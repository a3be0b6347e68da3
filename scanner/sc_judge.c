/* sc_judge.c - facts of a stored image, evaluated by the policy. */
#include "sc_judge.h"
#include "sc_match.h"
#include <string.h>

int sc_judge_image(sc_store *st, const sc_policy *p, const char *repo, const char *ref, const sc_store_image *img,
                   int64_t now, sc_verdict *v, sc_judge_info *info) {
  sc_inventory inv;
  sc_finding_list fl;
  sc_image_facts f;
  int rc;

  memset(&f, 0, sizeof(f));
  memset(info, 0, sizeof(*info));
  info->complete = 1;
  sc_inventory_init(&inv);
  sc_finding_list_init(&fl);
  for (size_t i = 0; i < img->nlayers; i++)
    if (strcmp(img->layers[i].status, "ok") != 0) {
      f.scan_failed = 1; /* judged by on_error */
      if (!strcmp(img->layers[i].status, "missing")) info->complete = 0;
    }
  rc = sc_store_image_inventory(st, img->digest, &inv);
  if (rc == 0) rc = sc_match_image(st, img->digest, &fl);
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
    info->nfindings = fl.n;
    info->nsecrets = inv.nsecrets;
    info->runs_as_root = img->runs_as_root;
    rc = sc_policy_evaluate(p, &f, now, v);
  }
  sc_inventory_free(&inv);
  sc_finding_list_free(&fl);
  return rc;
}
