/* store_conformance.c - the store's core push-to-verdict path asserted
 * against one live database: the same program runs against SQLite and
 * PostgreSQL (tests/integration/test_store_pg.sh), so that both backends
 * give the same answers through sc_store.h and its siblings.  A check
 * program, not a unit test: it needs a database.
 *
 * Usage: store_conformance URL
 *   URL  an empty database: a SQLite path, or a postgres:// URL of an
 *        empty database (sc_store_open creates the schema).
 * The path: open; two layers with their packages; an image over them,
 * tagged, with a config (so lineage rows too), the tag moved away and
 * back; the image's inventory; an OSV import of two records (one lends its
 * severity to the other through an alias), imported again unchanged; a
 * match, its stored findings read back and counted through the `findings`
 * view; a verdict from a policy file (deny critical); the decisions log
 * (a refused row skipped, the rest folded per image).
 * Prints TAP; "# verdict: MESSAGE" carries the verdict's message, which
 * the integration test compares across backends.
 * Owner: tests.  Thread: one.  Exit: 0 when every check passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sc_decisions.h"
#include "sc_findings.h"
#include "sc_findlist.h"
#include "sc_judge.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_policy.h"
#include "sc_store.h"
#include "sc_store_severity.h"
#include "sc_vulnstore.h"
#include "tap.h"

#define LA "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define LB "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define DA "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define DB "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define IM "sha256:5555555555555555555555555555555555555555555555555555555555555555"
#define I2 "sha256:6666666666666666666666666666666666666666666666666666666666666666"
#define CF "sha256:7777777777777777777777777777777777777777777777777777777777777777"
#define REPO "team/app"
#define CVE "CVE-2099-1234"
#define PYSEC "PYSEC-2099-1"
#define PATH_BYTES 256

/* two records: CVE has its own CVSS 9.8 (critical) and affects requests;
 * PYSEC has none, names CVE as an alias (so borrows its severity) and
 * affects urllib3 */
static const char OSV[] =
    "[{\"id\":\"" CVE "\",\"modified\":\"2099-01-01T00:00:00Z\",\"aliases\":[\"GHSA-aaaa-bbbb-cccc\"],"
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"},"
    "{\"type\":\"Ubuntu\",\"score\":\"high\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"requests\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2.31.0\"}]}]}]},"
    "{\"id\":\"" PYSEC "\",\"modified\":\"2099-01-02T00:00:00Z\",\"aliases\":[\"" CVE "\"],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"urllib3\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.26.5\"}]}]}]}]";

/* a later import: a third record, for flask in layer B (a re-match finds it) */
#define LATER "GHSA-9999-0000-1111"
static const char OSV_LATER[] =
    "{\"id\":\"" LATER "\",\"modified\":\"2099-02-01T00:00:00Z\","
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"flask\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2.2.5\"}]}]}]}";

static const char POLICY[] = "rules:\n"
                             "  - name: no-critical\n"
                             "    deny:\n"
                             "      severity: critical\n";

static const char CONFIG[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"app\"},"
                             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]}}";

static int put_pkg(sc_inventory *inv, const char *name, const char *version) {
  char path[PATH_BYTES];
  snprintf(path, sizeof(path), "usr/lib/python3/dist-packages/%s-%s.dist-info/METADATA", name, version);
  sc_package p = {(char *)"python", (char *)"PyPI", (char *)name, (char *)version, NULL, NULL, path, NULL};
  return sc_inventory_add_package(inv, &p);
}

static int put_layer(sc_store *st, const char *digest, const char *diff_id, const char *const *pkgs, size_t n) {
  sc_layer_result res;
  sc_inventory inv;
  memset(&res, 0, sizeof(res));
  snprintf(res.diff_id, sizeof(res.diff_id), "%s", diff_id);
  snprintf(res.compression, sizeof(res.compression), "gzip");
  res.compressed_size = 1000;
  res.uncompressed_size = 4000;
  res.entries = 10;
  sc_inventory_init(&inv);
  int rv = 0;
  for (size_t i = 0; !rv && i < n; i += 2) rv = put_pkg(&inv, pkgs[i], pkgs[i + 1]);
  if (!rv) rv = sc_strlist_add(&inv.cataloged, "usr/lib/python3/dist-packages");
  if (!rv) rv = sc_store_put_layer(st, digest, &res, &inv);
  sc_inventory_free(&inv);
  return rv;
}

static int put_image(sc_store *st, const char *digest, const char *tag, char prev[72]) {
  sc_mlayer ls[2];
  sc_manifest m;
  memset(&m, 0, sizeof(m));
  memset(ls, 0, sizeof(ls));
  m.kind = SC_MANIFEST_IMAGE;
  m.media_type = (char *)"application/vnd.oci.image.manifest.v1+json";
  m.config_digest = (char *)CF;
  ls[0] = (sc_mlayer){(char *)LA, (char *)"application/vnd.oci.image.layer.v1.tar+gzip", 1000};
  ls[1] = (sc_mlayer){(char *)LB, (char *)"application/vnd.oci.image.layer.v1.tar+gzip", 1000};
  m.layers = ls;
  m.nlayers = 2;
  return sc_store_put_manifest_ex(st, REPO, tag, digest, &m, CONFIG, strlen(CONFIG), prev);
}

static long find(const sc_finding_list *l, const char *id, const char *pkg) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].id, id) && !strcmp(l->v[i].package, pkg)) return (long)i;
  return -1;
}

static long find_pkg(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (inv->pkgs[i].name && !strcmp(inv->pkgs[i].name, name)) return (long)i;
  return -1;
}

static void check_findings(const sc_finding_list *l, const char *what) {
  CHECK_INT(l->n, 2, "%s: two findings", what);
  long a = find(l, CVE, "requests"), b = find(l, PYSEC, "urllib3");
  CHECK(a >= 0 && !strcmp(l->v[a].version, "2.25.0") && !strcmp(l->v[a].fixed_version, "2.31.0"),
        "%s: %s in requests 2.25.0, fixed in 2.31.0", what, CVE);
  CHECK(a >= 0 && l->v[a].severity == SC_SEV_CRITICAL && l->v[a].score > 9.7 && l->v[a].score < 9.9,
        "%s: %s is critical, 9.8", what, CVE);
  CHECK(a >= 0 && !strcmp(l->layer[a], LA), "%s: requests came with the lower layer", what);
  CHECK(b >= 0 && !strcmp(l->v[b].fixed_version, "1.26.5"), "%s: %s in urllib3, fixed in 1.26.5", what, PYSEC);
  CHECK(b >= 0 && l->v[b].severity == SC_SEV_CRITICAL, "%s: %s borrowed critical through its alias", what, PYSEC);
  int alias = 0;
  for (size_t i = 0; a >= 0 && i < l->v[a].naliases; i++) alias |= !strcmp(l->v[a].aliases[i], "GHSA-aaaa-bbbb-cccc");
  CHECK(alias, "%s: %s carries its alias", what, CVE);
}

typedef struct fold {
  int rows;
  char repo[64], digest[72], verdict[16], rule[64];
  int64_t count;
} fold;

static int on_image(void *arg, const sc_decision_image *d) {
  fold *f = arg;
  f->rows++;
  snprintf(f->repo, sizeof(f->repo), "%s", d->repository);
  snprintf(f->digest, sizeof(f->digest), "%s", d->digest);
  snprintf(f->verdict, sizeof(f->verdict), "%s", d->last_verdict);
  snprintf(f->rule, sizeof(f->rule), "%s", d->last_rule ? d->last_rule : "");
  f->count = d->count;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: store_conformance URL\n");
    return 2;
  }
  sc_store *st = NULL;
  int rv = sc_store_open(argv[1], &st);
  CHECK_INT(rv, 0, "open the store");
  if (rv) {
    printf("# %s\n", sc_store_errmsg(st));
    return tap_done();
  }
  CHECK(sc_store_schema_version(st) >= 12, "schema version %d", sc_store_schema_version(st));

  /* layers and their packages */
  const char *pa[] = {"requests", "2.25.0", "urllib3", "1.26.0"}, *pb[] = {"flask", "2.0.0"};
  CHECK_INT(put_layer(st, LA, DA, pa, 4), 0, "put layer A (requests, urllib3)");
  CHECK_INT(put_layer(st, LB, DB, pb, 2), 0, "put layer B (flask)");
  CHECK_INT(put_layer(st, LB, DB, pb, 2), 0, "put layer B again (replaced whole)");
  char status[16] = "", by_diff[72] = "";
  CHECK_INT(sc_store_layer_status(st, LA, status), 0, "layer A has a status");
  CHECK_STR(status, "ok", "layer A scanned ok");
  CHECK_INT(sc_store_layer_by_diff_id(st, DB, by_diff), 0, "layer B found by its diff_id");
  CHECK_STR(by_diff, LB, "the diff_id names layer B");

  /* the image, tagged; the tag moved away and back */
  char prev[72] = "x";
  CHECK_INT(put_image(st, IM, "v1", prev), 0, "put manifest %s:v1", REPO);
  CHECK_STR(prev, "", "a new tag left nothing");
  CHECK_INT(put_image(st, I2, "v1", prev), 0, "put a second image as v1");
  CHECK_STR(prev, IM, "the tag left the first image");
  CHECK_INT(put_image(st, IM, "v1", prev), 0, "put the first image as v1 again");
  CHECK_STR(prev, I2, "the tag left the second image");
  char digest[72] = "";
  CHECK_INT(sc_store_resolve(st, REPO, "v1", digest), 0, "resolve v1");
  CHECK_STR(digest, IM, "v1 names the first image");
  sc_store_image img;
  CHECK_INT(sc_store_get_image(st, IM, &img), 0, "get the image");
  CHECK_INT(img.nlayers, 2, "two layers");
  CHECK(img.nlayers == 2 && !strcmp(img.layers[0].digest, LA) && !strcmp(img.layers[1].digest, LB) &&
            !strcmp(img.layers[0].status, "ok") && !strcmp(img.layers[1].status, "ok"),
        "layers in order, both scanned");
  CHECK_STR(img.user, "app", "the config's user");
  CHECK_STR(img.os, "linux", "the config's os");
  CHECK_INT(img.runs_as_root, 0, "not root");

  /* inventory from the layers */
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(sc_store_image_inventory(st, IM, &inv), 0, "image inventory");
  CHECK_INT(inv.npkgs, 3, "three packages");
  long r = find_pkg(&inv, "requests");
  CHECK(r >= 0 && !strcmp(inv.pkgs[r].version, "2.25.0") && !strcmp(inv.pkgs[r].ecosystem, "PyPI"),
        "requests 2.25.0 (PyPI)");
  sc_inventory_free(&inv);

  /* vulnerability data */
  sc_osv_stats os = {0};
  CHECK_INT(sc_osv_import_buffer(st, "inline", OSV, strlen(OSV), &os), 0, "import two OSV records");
  CHECK_INT(os.added, 2, "both added");
  sc_osv_stats again = {0};
  CHECK_INT(sc_osv_import_buffer(st, "inline", OSV, strlen(OSV), &again), 0, "import them again");
  CHECK_INT(again.unchanged, 2, "both unchanged");
  int64_t records = 0, gen = 0, last = 0;
  CHECK_INT(sc_vulnstore_count(st, &records), 0, "count records");
  CHECK_INT(records, 2, "two records");
  CHECK_INT(sc_vulnstore_generation(st, &gen), 0, "data generation");
  CHECK_INT(gen, 1, "one changing import: generation 1");
  CHECK_INT(sc_vulnstore_last_import(st, &last), 0, "last import");
  CHECK(last > time(NULL) - 3600 && last <= time(NULL) + 60, "last import is now (%lld)", (long long)last);
  char rating[160] = "";
  CHECK_INT(sc_sev_rating_of(st, CVE, rating, sizeof(rating)), 0, "vendor rating of %s", CVE);
  CHECK_STR(rating, "Ubuntu priority: high", "the record's Ubuntu priority");

  /* match, then the stored findings */
  sc_finding_list fl;
  sc_finding_list_init(&fl);
  CHECK_INT(sc_match_image(st, IM, &fl), 0, "match the image");
  check_findings(&fl, "matched");
  sc_finding_list_free(&fl);
  sc_finding_list_init(&fl);
  CHECK_INT(sc_findings_load_image(st, IM, gen, &fl), 1, "stored findings are current");
  check_findings(&fl, "stored");
  sc_finding_list_free(&fl);
  int64_t nimg = 0, nat = 0, nfind = 0, unrated = -1, total = -1;
  CHECK_INT(sc_findings_counts(st, gen, &nimg, &nat, &nfind), 0, "counts through the findings view");
  CHECK(nimg == 1 && nat == 1 && nfind == 2, "one matched image at this generation, two findings (%lld %lld %lld)",
        (long long)nimg, (long long)nat, (long long)nfind);
  CHECK_INT(sc_sev_count_unrated_findings(st, &unrated, &total), 0, "unrated findings");
  CHECK(unrated == 0 && total == 2, "none unrated of two (%lld of %lld)", (long long)unrated, (long long)total);

  /* the verdict */
  char pol[PATH_BYTES];
  const char *tmp = getenv("TMPDIR");
  snprintf(pol, sizeof(pol), "%s/store_conformance_%ld.yaml", tmp && *tmp ? tmp : "/tmp", (long)getpid());
  FILE *f = fopen(pol, "w");
  CHECK(f && fputs(POLICY, f) >= 0 && fclose(f) == 0, "write the policy file");
  sc_policy *p = NULL;
  char *errors = NULL;
  CHECK_INT(sc_policy_load(pol, &p, &errors), 0, "load the policy%s%s", errors ? ": " : "", errors ? errors : "");
  free(errors);
  unlink(pol);
  sc_verdict v;
  sc_judge_info info;
  memset(&v, 0, sizeof(v));
  memset(&info, 0, sizeof(info));
  rv = p ? sc_judge_image(st, p, REPO, "v1", &img, (int64_t)time(NULL), &v, &info) : -1;
  CHECK_INT(rv, 0, "judge the image");
  CHECK_INT(v.decision, SC_DECISION_DENY, "denied");
  CHECK_STR(v.rule, "no-critical", "by the critical rule");
  CHECK(v.message && strstr(v.message, CVE) && strstr(v.message, PYSEC), "the message names both findings");
  CHECK(info.complete && !info.scan_failed && !info.no_data && info.nfindings == 2, "judged on complete facts");
  printf("# verdict: %s\n", v.message ? v.message : "(none)");

  /* the decisions log: the row without a verdict is refused and skipped */
  int64_t now = (int64_t)time(NULL);
  sc_decision_row rows[3] = {
      {now - 10, "127.0.0.1", REPO, "v1", IM, "GET", "allow", NULL, "test/1"},
      {now - 5, "127.0.0.1", REPO, "v1", IM, "GET", NULL, NULL, "test/1"},
      {now, "127.0.0.1", REPO, "v1", IM, "GET", sc_decision_name(v.decision), v.rule, "test/1"},
  };
  CHECK_INT(sc_decisions_append(st, rows, 3), 0, "append three decisions");
  fold fo = {0};
  CHECK_INT(sc_decisions_images_since(st, now - 60, on_image, &fo), 0, "fold decisions per image");
  CHECK_INT(fo.rows, 1, "one image");
  CHECK(!strcmp(fo.repo, REPO) && !strcmp(fo.digest, IM), "the image and its repository");
  CHECK_INT(fo.count, 2, "two decisions kept (the refused one skipped)");
  CHECK_STR(fo.verdict, "deny", "the newest verdict");
  CHECK_STR(fo.rule, "no-critical", "its rule");
  CHECK_INT(sc_decisions_purge_before(st, now), 0, "purge the older decisions");
  fo = (fold){0};
  CHECK_INT(sc_decisions_images_since(st, 0, on_image, &fo), 0, "fold again");
  CHECK_INT(fo.count, 1, "one decision left");

  /* a later import, then every image matched again in one transaction */
  sc_osv_stats later = {0};
  CHECK_INT(sc_osv_import_buffer(st, "later", OSV_LATER, strlen(OSV_LATER), &later), 0, "a later import");
  CHECK_INT(later.added, 1, "one record added");
  CHECK_INT(sc_vulnstore_generation(st, &gen), 0, "data generation again");
  CHECK_INT(gen, 2, "generation 2");
  sc_match_stats ms = {0};
  CHECK_INT(sc_match_rematch_all(st, &ms), 0, "re-match every image");
  CHECK(ms.images == 2 && ms.findings == 6, "two images, three findings each (%zu, %zu)", ms.images, ms.findings);
  sc_finding_list_init(&fl);
  CHECK_INT(sc_findings_load_image(st, IM, gen, &fl), 1, "re-matched findings are stored");
  long k = find(&fl, LATER, "flask");
  CHECK(fl.n == 3 && k >= 0 && !strcmp(fl.layer[k], LB), "three findings, flask's from layer B");
  sc_finding_list_free(&fl);
  CHECK_INT(sc_findings_counts(st, gen, &nimg, &nat, &nfind), 0, "counts again");
  CHECK(nimg == 2 && nat == 2 && nfind == 6, "two images at generation 2, six findings (%lld %lld %lld)",
        (long long)nimg, (long long)nat, (long long)nfind);

  sc_verdict_free(&v);
  sc_policy_free(p);
  sc_store_image_free(&img);
  sc_store_close(st);
  return tap_done();
}
