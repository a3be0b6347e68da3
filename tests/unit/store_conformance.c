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
 * Then the modules beyond that path, one section each through their public
 * functions: referrers, VEX documents, events and webhook deliveries,
 * annotation pushes, NVD CVE scores and vendor ratings, an index and its
 * children, lineage (chains, tag history, a watched upstream tag, its
 * moves in a transaction rolled back, bases and downstream images), and
 * the admin API's reads.  They leave the tags and the tag history as the
 * core path left them (test_store_pg.sh compares and counts those rows).
 * Prints TAP; "# verdict: MESSAGE" carries the verdict's message, which
 * the integration test compares across backends.
 * Owner: tests.  Thread: one.  Exit: 0 when every check passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sc_annotations.h"
#include "sc_decisions.h"
#include "sc_events.h"
#include "sc_findings.h"
#include "sc_findlist.h"
#include "sc_judge.h"
#include "sc_lineage.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_policy.h"
#include "sc_store.h"
#include "sc_store_replica.h"
#include "sc_store_admin.h"
#include "sc_store_lineage.h"
#include "sc_store_referrers.h"
#include "sc_store_severity.h"
#include "sc_store_vex.h"
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

/* ---- the modules beyond the core path: one section each ---- */

#define R1 "sha256:8888888888888888888888888888888888888888888888888888888888888888"
#define R2 "sha256:9999999999999999999999999999999999999999999999999999999999999999"
#define ROWS_SEEN 8 /* rows a section's callback keeps */

/* what an iteration handed out: digests (or other keys) in order */
typedef struct seen {
  int n;
  char key[ROWS_SEEN][80];
  int64_t num[ROWS_SEEN];
  char extra[ROWS_SEEN][80];
} seen;

static void seen_add(seen *s, const char *key, int64_t num, const char *extra) {
  if (s->n < ROWS_SEEN) {
    snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key ? key : "(null)");
    snprintf(s->extra[s->n], sizeof(s->extra[0]), "%s", extra ? extra : "(null)");
    s->num[s->n] = num;
  }
  s->n++;
}

static int on_referrer(void *arg, const sc_referrer *r) {
  seen_add(arg, r->digest, r->origin * 1000000 + r->size, r->artifact_type);
  return 0;
}

static void check_referrers(sc_store *st) {
  sc_referrer a = {R1, "application/vnd.oci.image.manifest.v1+json", "application/vnd.dev.cosign", "{\"k\":\"v\"}",
                   500, SC_REF_CLIENT, 100};
  sc_referrer b = {R2, "application/vnd.oci.image.manifest.v1+json", SC_VEXREF_MEDIA_TYPE, NULL, 700, SC_REF_CUSTOMS,
                   200};
  CHECK_INT(sc_store_put_referrer(st, REPO, IM, &a), 0, "referrers: put a client signature");
  CHECK_INT(sc_store_put_referrer(st, REPO, IM, &b), 0, "referrers: put customs' VEX");
  a.size = 550;
  CHECK_INT(sc_store_put_referrer(st, REPO, IM, &a), 0, "referrers: put the signature again (replaced)");
  seen s = {0};
  CHECK_INT(sc_store_each_referrer(st, REPO, IM, NULL, on_referrer, &s), 0, "referrers: list all");
  CHECK(s.n == 2 && !strcmp(s.key[0], R1) && !strcmp(s.key[1], R2), "referrers: two, oldest first (%d)", s.n);
  CHECK(s.n == 2 && s.num[0] == 550 && s.num[1] == 1000700 && !strcmp(s.extra[1], SC_VEXREF_MEDIA_TYPE),
        "referrers: the replaced size, origins and artifact type");
  s = (seen){0};
  CHECK_INT(sc_store_each_referrer(st, REPO, IM, "application/vnd.dev.cosign", on_referrer, &s), 0,
            "referrers: list by artifact type");
  CHECK(s.n == 1 && !strcmp(s.key[0], R1), "referrers: only the signature (%d)", s.n);
  s = (seen){0};
  CHECK_INT(sc_store_each_referrer(st, "other/repo", IM, NULL, on_referrer, &s), 0, "referrers: another repo");
  CHECK_INT(s.n, 0, "referrers: none there");
  CHECK_INT(sc_store_delete_referrer(st, REPO, IM, R1), 0, "referrers: delete the signature");
  CHECK_INT(sc_store_forget_referrer(st, REPO, R2), 0, "referrers: forget the VEX manifest");
  s = (seen){0};
  CHECK_INT(sc_store_each_referrer(st, REPO, IM, NULL, on_referrer, &s), 0, "referrers: list again");
  CHECK_INT(s.n, 0, "referrers: none left");
}

static int on_vex(void *arg, const sc_vexref *r) {
  seen_add(arg, r->digest, r->fetched_at > 0, r->doc ? r->doc : r->error);
  return 0;
}

static void check_vex(sc_store *st) {
  int64_t g0 = -1, g1 = -1, g2 = -1;
  CHECK_INT(sc_store_vex_generation(st, &g0), 0, "vex: generation");
  CHECK_INT(sc_store_vex_put(st, REPO, IM, R1, DA, "{\"statements\":[]}", NULL), 0, "vex: put a document");
  CHECK_INT(sc_store_vex_put(st, REPO, IM, R2, NULL, NULL, "too large"), 0, "vex: put an error");
  CHECK_INT(sc_store_vex_put(st, REPO, IM, R1, DA, "{\"statements\":[1]}", NULL), 0, "vex: replace the document");
  CHECK_INT(sc_store_vex_generation(st, &g1), 0, "vex: generation again");
  CHECK(g1 > g0, "vex: writes moved the generation (%lld -> %lld)", (long long)g0, (long long)g1);
  seen s = {0};
  CHECK_INT(sc_store_vex_each(st, REPO, IM, on_vex, &s), 0, "vex: read the subject's documents");
  int d1 = s.n == 2 ? (strcmp(s.key[0], R1) ? 1 : 0) : -1;
  CHECK(d1 >= 0 && !strcmp(s.extra[d1], "{\"statements\":[1]}") && !strcmp(s.extra[1 - d1], "too large") &&
            s.num[0] && s.num[1],
        "vex: the replaced document and the error, with times (%d)", s.n);
  CHECK_INT(sc_store_vex_forget(st, REPO, R1), 0, "vex: forget the document");
  CHECK_INT(sc_store_vex_generation(st, &g2), 0, "vex: generation after forget");
  CHECK(g2 > g1, "vex: forget moved the generation");
  s = (seen){0};
  CHECK_INT(sc_store_vex_each(st, REPO, IM, on_vex, &s), 0, "vex: read again");
  CHECK(s.n == 1 && !strcmp(s.key[0], R2), "vex: the error row left (%d)", s.n);
}

static void check_events(sc_store *st) {
  int64_t now = (int64_t)time(NULL);
  sc_delivery_new d[2] = {{"json http://127.0.0.1:1/a", "http://127.0.0.1:1/a", "{\"a\":1}"},
                          {"slack http://127.0.0.1:1/b", "http://127.0.0.1:1/b", "{\"b\":1}"}};
  CHECK_INT(sc_events_record(st, "ev-1", "scan.done", now - 100, "{\"id\":\"ev-1\"}", d, 2), 0,
            "events: record an event with two deliveries");
  CHECK_INT(sc_events_record(st, "ev-2", "verdict", now - 50, "{\"id\":\"ev-2\"}", d, 1), 0,
            "events: record a second event");
  CHECK(sc_events_record(st, "ev-1", "scan.done", now, "{}", d, 1) != 0, "events: an id recorded twice fails");
  char *json = NULL;
  CHECK_INT(sc_events_get(st, "ev-1", &json), 0, "events: get the event");
  CHECK(json && !strcmp(json, "{\"id\":\"ev-1\"}"), "events: its stored JSON");
  free(json);
  json = NULL;
  CHECK_INT(sc_events_get(st, "ev-none", &json), SC_ERR_NOTFOUND, "events: an unknown id");
  sc_delivery_list l = {0};
  CHECK_INT(sc_events_due(st, now - 60, 10, &l), 0, "events: deliveries due a minute ago");
  CHECK(l.n == 2 && !strcmp(l.v[0].event, "ev-1") && !strcmp(l.v[0].type, "scan.done") &&
            l.v[0].status == SC_DELIVERY_PENDING && !strcmp(l.v[0].body, "{\"a\":1}"),
        "events: the first event's two, pending (%zu)", l.n);
  int64_t first = l.n ? l.v[0].id : 0, second = l.n > 1 ? l.v[1].id : 0;
  int64_t seen_next = l.n ? l.v[0].next_at : 0;
  sc_delivery_list_free(&l);
  /* two replicas read the same due row: the first to take it wins */
  CHECK_INT(sc_events_take(st, first, seen_next, now + 30), 0, "events: replica A takes a due delivery");
  CHECK_INT(sc_events_take(st, first, seen_next, now + 30), SC_ERR_STATE, "events: replica B, from the same read, does not");
  CHECK_INT(sc_events_due(st, now - 60, 10, &l), 0, "events: due again");
  CHECK(l.n == 1 && l.v[0].id == second, "events: the taken one is not due until its lease ends (%zu)", l.n);
  sc_delivery_list_free(&l);
  int64_t next = 0;
  int any = 0;
  CHECK_INT(sc_events_next_due(st, &next, &any), 0, "events: next due");
  CHECK(any && next == now - 100, "events: the earliest pending");
  CHECK_INT(sc_events_attempted(st, first, SC_DELIVERY_DELIVERED, 200, NULL, now, 0), 0, "events: one delivered");
  CHECK_INT(sc_events_attempted(st, second, SC_DELIVERY_PENDING, 503, "busy", now, now + 60), 0,
            "events: one retried later");
  CHECK_INT(sc_events_attempted(st, first, SC_DELIVERY_FAILED, 0, "x", now, 0), SC_ERR_NOTFOUND,
            "events: a delivered one is not pending");
  sc_delivery_list_free(&l);
  CHECK_INT(sc_events_list(st, "ev-1", 10, &l), 0, "events: list one event's deliveries");
  CHECK(l.n == 2 && l.v[0].status == SC_DELIVERY_DELIVERED && l.v[0].attempts == 1 && l.v[0].last_status == 200 &&
            l.v[0].delivered_at == now && l.v[1].status == SC_DELIVERY_PENDING && l.v[1].last_error &&
            !strcmp(l.v[1].last_error, "busy") && l.v[1].next_at == now + 60,
        "events: delivered, and pending with its error (%zu)", l.n);
  sc_delivery_list_free(&l);
  CHECK_INT(sc_events_list(st, NULL, 10, &l), 0, "events: list all deliveries");
  CHECK_INT(l.n, 3, "events: three deliveries");
  sc_delivery_list_free(&l);
  CHECK_INT(sc_events_recent(st, SC_DELIVERY_PENDING, 10, &l), 0, "events: recent pending");
  CHECK(l.n == 2 && l.v[0].id > l.v[1].id, "events: two pending, newest first (%zu)", l.n);
  sc_delivery_list_free(&l);
  CHECK_INT(sc_events_recent(st, -1, 10, &l), 0, "events: recent of any status");
  CHECK_INT(l.n, 3, "events: three");
  sc_delivery_list_free(&l);
  int64_t nd = -1, ne = -1;
  CHECK_INT(sc_events_count(st, SC_DELIVERY_DELIVERED, &nd, &ne), 0, "events: count delivered");
  CHECK(nd == 1 && ne == 2, "events: one delivered, two events (%lld, %lld)", (long long)nd, (long long)ne);
  CHECK_INT(sc_events_count(st, -1, &nd, &ne), 0, "events: count all");
  CHECK_INT(nd, 3, "events: three deliveries counted");
  const char *keep[] = {"json http://127.0.0.1:1/a"};
  int64_t nfailed = -1;
  CHECK_INT(sc_events_fail_unconfigured(st, keep, 1, "gone", now, &nfailed), 0, "events: fail unconfigured hooks");
  CHECK_INT(nfailed, 1, "events: the slack delivery failed");
  CHECK_INT(sc_events_count(st, SC_DELIVERY_FAILED, &nd, &ne), 0, "events: count failed");
  CHECK_INT(nd, 1, "events: one failed");
  CHECK_INT(sc_events_prune(st, now + 3600), 0, "events: prune everything finished");
  CHECK_INT(sc_events_count(st, -1, &nd, &ne), 0, "events: count after prune");
  CHECK(nd == 1 && ne == 1, "events: the pending delivery and its event kept (%lld, %lld)", (long long)nd,
        (long long)ne);
}

static int on_pushed(void *arg, const sc_annot_job *j) {
  seen_add(arg, j->image, j->kind, NULL);
  return 0;
}

static void check_annotations(sc_store *st) {
  int64_t now = (int64_t)time(NULL);
  CHECK_INT(sc_annotations_enqueue(st, REPO, IM, now - 10), 0, "annotations: enqueue the image");
  CHECK_INT(sc_annotations_enqueue(st, REPO, IM, now), 0, "annotations: enqueue it again (left as it is)");
  CHECK_INT(sc_annotations_enqueue(st, "other/repo", I2, now), 0, "annotations: enqueue another");
  sc_annot_list l = {0};
  CHECK_INT(sc_annotations_due(st, now - 5, 10, &l), 0, "annotations: due");
  CHECK(l.n == 2 && l.v[0].next_at == now - 10 && l.v[0].kind == SC_ANNOT_SBOM && l.v[1].kind == SC_ANNOT_VULNS &&
            !strcmp(l.v[0].repo, REPO),
        "annotations: the first image's two rows, kept at their first time (%zu)", l.n);
  sc_annot_list_free(&l);
  int64_t next = 0, n = -1;
  int any = 0;
  CHECK_INT(sc_annotations_next_due(st, &next, &any), 0, "annotations: next due");
  CHECK(any && next == now - 10, "annotations: the earliest");
  /* two replicas read the same due row: the first to take it pushes */
  CHECK_INT(sc_annotations_take(st, REPO, IM, SC_ANNOT_SBOM, now - 10, now + 300), 0, "annotations: replica A takes it");
  CHECK_INT(sc_annotations_take(st, REPO, IM, SC_ANNOT_SBOM, now - 10, now + 300), SC_ERR_STATE,
            "annotations: replica B, from the same read, does not");
  CHECK_INT(sc_annotations_due(st, now - 5, 10, &l), 0, "annotations: due again");
  CHECK(l.n == 1 && l.v[0].kind == SC_ANNOT_VULNS, "annotations: the taken one is not due until its lease ends (%zu)",
        l.n);
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_attempted(st, REPO, IM, SC_ANNOT_SBOM, SC_ANNOT_PUSHED, R1, CF, NULL, now, 0), 0,
            "annotations: the SBOM pushed");
  CHECK_INT(sc_annotations_attempted(st, REPO, IM, SC_ANNOT_VULNS, SC_ANNOT_FAILED, NULL, NULL, "refused", now, 0), 0,
            "annotations: the report failed");
  CHECK_INT(sc_annotations_attempted(st, REPO, IM, SC_ANNOT_SBOM, SC_ANNOT_FAILED, NULL, NULL, "x", now, 0),
            SC_ERR_NOTFOUND, "annotations: a pushed row is not pending");
  CHECK_INT(sc_annotations_count(st, SC_ANNOT_FAILED, &n), 0, "annotations: count failed");
  CHECK_INT(n, 1, "annotations: one failed");
  CHECK_INT(sc_annotations_recent(st, SC_ANNOT_PUSHED, 10, &l), 0, "annotations: recent pushed");
  CHECK(l.n == 1 && !strcmp(l.v[0].manifest, R1) && !strcmp(l.v[0].content_hash, CF) && l.v[0].attempts == 0,
        "annotations: the SBOM with its artifact (%zu)", l.n);
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_enqueue(st, REPO, IM, now + 5), 0, "annotations: enqueue after the failure");
  CHECK_INT(sc_annotations_list(st, REPO, IM, &l), 0, "annotations: list the image's rows");
  CHECK(l.n == 2 && l.v[0].status == SC_ANNOT_PUSHED && l.v[1].status == SC_ANNOT_PENDING &&
            l.v[1].attempts == 0 && l.v[1].next_at == now + 5,
        "annotations: the pushed row kept, the failed one pending again (%zu)", l.n);
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_list(st, NULL, I2, &l), 0, "annotations: list in every repository");
  CHECK(l.n == 2 && !strcmp(l.v[0].repo, "other/repo"), "annotations: the other image's two rows (%zu)", l.n);
  sc_annot_list_free(&l);
  CHECK_INT(sc_annotations_count(st, -1, &n), 0, "annotations: count all");
  CHECK_INT(n, 4, "annotations: four rows");
  seen s = {0};
  CHECK_INT(sc_annotations_each_pushed(st, SC_ANNOT_SBOM, "", "", 10, on_pushed, &s), 0, "annotations: pushed SBOMs");
  CHECK(s.n == 1 && !strcmp(s.key[0], IM), "annotations: one (%d)", s.n);
  s = (seen){0};
  CHECK_INT(sc_annotations_each_pushed(st, SC_ANNOT_SBOM, REPO, IM, 10, on_pushed, &s), 0,
            "annotations: pushed SBOMs after it");
  CHECK_INT(s.n, 0, "annotations: none after it");
  CHECK_INT(sc_annotations_replace(st, REPO, IM, SC_ANNOT_SBOM, now + 7), 0, "annotations: replace the SBOM");
  CHECK_INT(sc_annotations_replace(st, REPO, IM, SC_ANNOT_SBOM, now + 8), SC_ERR_NOTFOUND,
            "annotations: a pending row is not replaced");
  CHECK_INT(sc_annotations_count(st, SC_ANNOT_PENDING, &n), 0, "annotations: count pending");
  CHECK_INT(n, 4, "annotations: all four pending");
}

/* an NVD CVE 2.0 feed: one CVE scored 7.5 (high) by NVD; the second
 * version of the feed has dropped the metric */
#define NVD_CVE "CVE-2099-7777"
#define NVD_VEC "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
static const char NVD_FEED[] =
    "{\"resultsPerPage\":1,\"startIndex\":0,\"totalResults\":1,\"format\":\"NVD_CVE\",\"version\":\"2.0\","
    "\"timestamp\":\"2099-01-01T00:00:00.000\",\"vulnerabilities\":[{\"cve\":{\"id\":\"" NVD_CVE "\","
    "\"metrics\":{\"cvssMetricV31\":[{\"source\":\"nvd@nist.gov\",\"type\":\"Primary\",\"cvssData\":"
    "{\"version\":\"3.1\",\"vectorString\":\"" NVD_VEC "\",\"baseScore\":7.5}}]}}}]}";
static const char NVD_FEED_DROPPED[] =
    "{\"resultsPerPage\":1,\"startIndex\":0,\"totalResults\":1,\"format\":\"NVD_CVE\",\"version\":\"2.0\","
    "\"timestamp\":\"2099-02-01T00:00:00.000\",\"vulnerabilities\":[{\"cve\":{\"id\":\"" NVD_CVE "\","
    "\"metrics\":{}}}]}";

static int import_feed(sc_store *st, const char *text, sc_osv_stats *os) {
  char path[PATH_BYTES];
  const char *tmp = getenv("TMPDIR");
  snprintf(path, sizeof(path), "%s/store_conformance_%ld_nvd.json", tmp && *tmp ? tmp : "/tmp", (long)getpid());
  FILE *f = fopen(path, "w");
  int rv = f && fputs(text, f) >= 0 ? 0 : -1;
  if (f && fclose(f)) rv = -1;
  if (!rv) rv = sc_osv_import_path(st, path, os);
  unlink(path);
  return rv;
}

static void check_severity(sc_store *st, int64_t gen) {
  sc_osv_stats os = {0};
  CHECK_INT(import_feed(st, NVD_FEED, &os), 0, "severity: import an NVD feed");
  CHECK(os.added == 1 && os.scores == 1, "severity: one score added (%llu, %llu)", (unsigned long long)os.added,
        (unsigned long long)os.scores);
  int64_t n = -1;
  CHECK_INT(sc_sev_count_cve_scores(st, &n), 0, "severity: count CVE scores");
  CHECK_INT(n, 1, "severity: one score");
  double score = 0;
  int sev = -1;
  char vec[128] = "";
  CHECK_INT(sc_sev_cve_score_of(st, NVD_CVE, &score, &sev, vec, sizeof(vec)), 0, "severity: the score of %s", NVD_CVE);
  CHECK(score > 7.49 && score < 7.51 && sev == SC_SEV_HIGH && !strcmp(vec, NVD_VEC), "severity: 7.5, high, its vector");
  os = (sc_osv_stats){0};
  CHECK_INT(import_feed(st, NVD_FEED, &os), 0, "severity: import the feed again");
  CHECK(os.unchanged == 1 && os.added == 0 && os.updated == 0, "severity: the score unchanged");
  os = (sc_osv_stats){0};
  CHECK_INT(import_feed(st, NVD_FEED_DROPPED, &os), 0, "severity: a feed without the metric");
  CHECK_INT(os.withdrawn, 1, "severity: the score withdrawn");
  CHECK_INT(sc_sev_count_cve_scores(st, &n), 0, "severity: count again");
  CHECK_INT(n, 0, "severity: no score left");
  CHECK_INT(sc_sev_cve_score_of(st, NVD_CVE, &score, &sev, vec, sizeof(vec)), SC_ERR_NOTFOUND,
            "severity: the score is gone");
  /* vendor ratings of the stored findings: CVE's Ubuntu priority */
  sc_finding_list fl;
  sc_finding_list_init(&fl);
  CHECK_INT(sc_findings_load_image(st, IM, gen, &fl), 1, "severity: stored findings");
  CHECK_INT(sc_sev_rate_findings(st, &fl), 0, "severity: rate them");
  long a = find(&fl, CVE, "requests"), b = find(&fl, PYSEC, "urllib3");
  CHECK(a >= 0 && b >= 0 && fl.rating && !strcmp(fl.rating[a], "Ubuntu priority: high") && !strcmp(fl.rating[b], ""),
        "severity: %s rated by Ubuntu, %s by nobody", CVE, PYSEC);
  sc_finding_list_free(&fl);
}

#define IX "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* an index over the two images: IM for linux/amd64, I2 for linux/arm64/v8 */
static void check_index(sc_store *st) {
  sc_mchild ch[2];
  sc_manifest m;
  memset(&m, 0, sizeof(m));
  memset(ch, 0, sizeof(ch));
  ch[0] = (sc_mchild){(char *)IM, (char *)"application/vnd.oci.image.manifest.v1+json", 900,
                      {(char *)"linux", (char *)"amd64", NULL}};
  ch[1] = (sc_mchild){(char *)I2, (char *)"application/vnd.oci.image.manifest.v1+json", 900,
                      {(char *)"linux", (char *)"arm64", (char *)"v8"}};
  m.kind = SC_MANIFEST_INDEX;
  m.media_type = (char *)"application/vnd.oci.image.index.v1+json";
  m.children = ch;
  m.nchildren = 2;
  /* untagged: test_store_pg.sh compares the tags and counts the tag
   * history the core path left */
  char prev[72] = "x", child[72] = "";
  CHECK_INT(sc_store_put_manifest_ex(st, REPO, NULL, IX, &m, NULL, 0, prev), 0, "index: put it by digest");
  CHECK_STR(prev, "", "index: no tag moved");
  CHECK_INT(sc_store_index_child(st, IX, "linux", "arm64", child), 0, "index: the linux/arm64 child");
  CHECK_STR(child, I2, "index: arm64/v8 matches linux/arm64");
  CHECK_INT(sc_store_index_child(st, IX, "LINUX", "ARM64", child), 0, "index: LINUX/ARM64");
  CHECK_STR(child, I2, "index: the platform compared without case");
  CHECK_INT(sc_store_index_child(st, IX, NULL, "arm64", child), 0, "index: any os, arm64");
  CHECK_STR(child, I2, "index: the arm64 child");
  CHECK_INT(sc_store_index_child(st, IX, "windows", "amd64", child), 0, "index: a platform it lacks");
  CHECK_STR(child, IM, "index: the first child");
  CHECK_INT(sc_store_index_child(st, IM, NULL, NULL, child), SC_ERR_NOTFOUND, "index: an image is no index");
  sc_store_image img;
  CHECK_INT(sc_store_get_image(st, IX, &img), 0, "index: get it");
  CHECK(img.kind == SC_MANIFEST_INDEX && img.nchildren == 2 && !strcmp(img.children[0], IM) &&
            !strcmp(img.platforms[1], "linux/arm64/v8"),
        "index: two children in order, with platforms");
  sc_store_image_free(&img);
}

#define B1 "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define B2 "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define X3 "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define DC "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define UPSTREAM "127.0.0.1:5000/lib/base"

static int on_chain_image(void *arg, const char *digest, size_t nlayers) {
  seen_add(arg, digest, (int64_t)nlayers, NULL);
  return 0;
}
static int on_digest(void *arg, const char *digest) {
  seen_add(arg, digest, 0, NULL);
  return 0;
}
static int on_child(void *arg, const char *child, const char *platform) {
  seen_add(arg, child, 0, platform);
  return 0;
}
static int on_move(void *arg, const sc_tag_move *m) {
  seen_add(arg, m->digest, m->until, m->prev);
  return 0;
}
static int on_repo_tag(void *arg, const char *repo, const char *tag) {
  seen_add(arg, repo, 0, tag);
  return 0;
}
static int on_downstream(void *arg, const char *repo, const char *tag, const char *digest) {
  seen_add(arg, digest, 0, tag);
  (void)repo;
  return 0;
}
static int on_watch(void *arg, const sc_watch_row *r) {
  seen_add(arg, r->digest, r->checked_at, r->error);
  return 0;
}

/* IM and I2 are built on DA, DB (their config); a watched upstream base B1
 * is DA alone; its tag moves to B2 (DC alone) inside a transaction that is
 * rolled back */
static void check_lineage(sc_store *st) {
  int64_t now = (int64_t)time(NULL);
  sc_chain c;
  memset(&c, 0, sizeof(c));
  CHECK_INT(sc_store_get_chain(st, IM, &c), 0, "lineage: the image's chain");
  CHECK(c.n == 2 && !strcmp(c.diff_ids[0], DA) && !strcmp(c.chain_ids[0], DA) && !strcmp(c.diff_ids[1], DB) &&
            c.origin == SC_ORIGIN_LOCAL && !strcmp(c.platform, "linux/amd64"),
        "lineage: two layers, local, linux/amd64");
  char top[72] = "";
  if (c.n == 2) snprintf(top, sizeof(top), "%s", c.chain_ids[1]);
  sc_chain_free(&c);
  seen s = {0};
  CHECK_INT(sc_store_chain_images_with_top(st, top, on_chain_image, &s), 0, "lineage: images with that chain");
  CHECK(s.n == 2 && s.num[0] == 2 && s.num[1] == 2, "lineage: both images (%d)", s.n);
  const char *da[] = {DA}, *dc[] = {DC}, *dab[] = {DA, DB};
  CHECK_INT(sc_store_put_chain(st, B1, SC_ORIGIN_WATCH, "linux/amd64", da, 1, NULL, NULL), 0,
            "lineage: record the watched base");
  CHECK_INT(sc_store_put_chain(st, B2, SC_ORIGIN_WATCH, "linux/amd64", dc, 1, NULL, NULL), 0,
            "lineage: record its successor");
  CHECK_INT(sc_store_put_chain(st, X3, SC_ORIGIN_LOCAL, "", dab, 2, UPSTREAM ":1", B1), 0,
            "lineage: record an image annotated with its base");
  s = (seen){0};
  CHECK_INT(sc_store_chain_images_above(st, DA, 0, on_chain_image, &s), 0, "lineage: images above the base");
  CHECK_INT(s.n, 3, "lineage: the two images and the annotated one");
  s = (seen){0};
  CHECK_INT(sc_store_chain_images_annotated(st, B1, on_digest, &s), 0, "lineage: images annotated with the base");
  CHECK(s.n == 1 && !strcmp(s.key[0], X3), "lineage: the annotated image (%d)", s.n);
  s = (seen){0};
  CHECK_INT(sc_store_chain_children(st, IX, on_child, &s), 0, "lineage: the index's images");
  CHECK(s.n == 2 && ((!strcmp(s.key[0], IM) && !strcmp(s.extra[1], "linux/arm64/v8")) ||
                     (!strcmp(s.key[1], IM) && !strcmp(s.extra[0], "linux/arm64/v8"))),
        "lineage: both children with their platforms (%d)", s.n);
  s = (seen){0};
  CHECK_INT(sc_store_chain_parents(st, I2, on_digest, &s), 0, "lineage: the indexes holding I2");
  CHECK(s.n == 1 && !strcmp(s.key[0], IX), "lineage: the index (%d)", s.n);

  /* local tags */
  s = (seen){0};
  CHECK_INT(sc_store_tag_history(st, SC_ORIGIN_LOCAL, REPO, "v1", 0, on_move, &s), 0, "lineage: v1's history");
  CHECK(s.n == 3 && !strcmp(s.key[0], IM) && s.num[0] == 0 && !strcmp(s.extra[0], I2) && !strcmp(s.key[1], I2) &&
            s.num[1] > 0 && !strcmp(s.extra[2], "(null)"),
        "lineage: three moves, newest first (%d)", s.n);
  s = (seen){0};
  CHECK_INT(sc_store_tags_of_digest(st, IM, on_move, &s), 0, "lineage: moves onto the image");
  CHECK(s.n == 2 && s.num[0] > 0 && s.num[1] == 0, "lineage: twice, the first left (%d)", s.n);
  s = (seen){0};
  CHECK_INT(sc_store_current_tags(st, IM, on_repo_tag, &s), 0, "lineage: tags on the image now");
  CHECK(s.n == 1 && !strcmp(s.key[0], REPO) && !strcmp(s.extra[0], "v1"), "lineage: %s:v1 (%d)", REPO, s.n);
  char d[72] = "", prev[72] = "x";
  CHECK_INT(sc_store_tag_current(st, SC_ORIGIN_LOCAL, REPO, "v1", d), 0, "lineage: where v1 points");
  CHECK_STR(d, IM, "lineage: the first image");
  CHECK_INT(sc_store_tag_current(st, SC_ORIGIN_LOCAL, REPO, "v2", d), SC_ERR_NOTFOUND, "lineage: no v2");

  /* a watched upstream tag: checks that failed (no digest, so no move in
   * the tag history, which test_store_pg.sh counts) */
  CHECK_INT(sc_store_watch_set(st, UPSTREAM, "1", NULL, "timeout", now - 100, prev), 0, "watch: a failed check");
  CHECK_STR(prev, "", "watch: nothing left");
  CHECK_INT(sc_store_watch_set(st, UPSTREAM, "1", NULL, NULL, now - 90, prev), 0, "watch: another failed check");
  s = (seen){0};
  CHECK_INT(sc_store_watch_each(st, on_watch, &s), 0, "watch: the watched tags");
  CHECK(s.n == 1 && !strcmp(s.key[0], "(null)") && s.num[0] == now - 90 && !strcmp(s.extra[0], "failed"),
        "watch: never resolved, the last check's time and error (%d)", s.n);
  CHECK_INT(sc_store_tag_current(st, SC_ORIGIN_WATCH, UPSTREAM, "1", d), SC_ERR_NOTFOUND,
            "watch: the tag points nowhere yet");
  sc_lineage_base b;
  int found = 0;
  memset(&b, 0, sizeof(b));
  CHECK_INT(sc_lineage_base_of(st, IM, &b, &found), 0, "lineage: the image's base");
  CHECK(found && !strcmp(b.digest, B1) && b.how == SC_BASE_BY_CHAIN && b.origin == SC_ORIGIN_WATCH &&
            b.nlayers == 1 && !b.stale && !b.repo,
        "lineage: the watched base by its chain, never tagged");
  sc_lineage_base_free(&b);
  /* the watched tag's moves, in a transaction rolled back at the end: the
   * reads inside see them, nothing is left after */
  CHECK_INT(sc_store_write_begin(st, 0), 0, "lineage: a write transaction");
  CHECK_INT(sc_store_tag_record(st, SC_ORIGIN_WATCH, UPSTREAM, "1", B1, now - 100, prev), 0, "watch: the tag found");
  CHECK_STR(prev, "", "watch: first sighting");
  CHECK_INT(sc_store_tag_record(st, SC_ORIGIN_WATCH, UPSTREAM, "1", B1, now - 50, prev), 0, "watch: seen again");
  CHECK_STR(prev, "", "watch: not moved");
  CHECK_INT(sc_store_tag_record(st, SC_ORIGIN_WATCH, UPSTREAM, "1", B2, now - 10, prev), 0, "watch: the tag moved");
  CHECK_STR(prev, B1, "watch: it left the first base");
  s = (seen){0};
  CHECK_INT(sc_store_tag_history(st, SC_ORIGIN_WATCH, UPSTREAM, "1", 0, on_move, &s), 0, "watch: its history");
  CHECK(s.n == 2 && !strcmp(s.key[0], B2) && !strcmp(s.extra[0], B1) && s.num[0] == 0 && s.num[1] == now - 10,
        "watch: two moves, the first left at the move (%d)", s.n);
  memset(&b, 0, sizeof(b));
  CHECK_INT(sc_lineage_base_of(st, IM, &b, &found), 0, "lineage: the base again");
  CHECK(found && !strcmp(b.digest, B1) && b.stale && b.superseded_at == now - 10 && b.repo &&
            !strcmp(b.repo, UPSTREAM) && b.tag && !strcmp(b.tag, "1"),
        "lineage: the base is stale since the move, by the watched tag");
  sc_lineage_base_free(&b);
  int64_t secs = 0;
  CHECK_INT(sc_lineage_stale_seconds(st, IM, now, &secs), 0, "lineage: stale seconds");
  CHECK_INT(secs, 10, "lineage: superseded ten seconds ago");
  CHECK_INT(sc_store_write_end(st, 0), 0, "lineage: roll the transaction back");
  s = (seen){0};
  CHECK_INT(sc_store_tag_history(st, SC_ORIGIN_WATCH, UPSTREAM, "1", 0, on_move, &s), 0, "watch: history after");
  CHECK_INT(s.n, 0, "watch: the moves rolled back");
  CHECK_INT(sc_lineage_stale_seconds(st, IM, now, &secs), 0, "lineage: stale seconds after");
  CHECK_INT(secs, -1, "lineage: the base is not stale");
  s = (seen){0};
  CHECK_INT(sc_lineage_downstream(st, B1, on_downstream, &s), 0, "lineage: images built on the base");
  CHECK(s.n == 1 && !strcmp(s.key[0], IM) && !strcmp(s.extra[0], "v1"), "lineage: the image tagged v1 (%d)", s.n);
  sc_lineage_base chain[SC_LINEAGE_MAX_DEPTH];
  size_t nchain = 0;
  memset(chain, 0, sizeof(chain));
  CHECK_INT(sc_lineage_chain(st, IM, chain, SC_LINEAGE_MAX_DEPTH, &nchain), 0, "lineage: the base chain");
  CHECK(nchain == 1 && !strcmp(chain[0].digest, B1), "lineage: one base, the watched one (%zu)", nchain);
  for (size_t i = 0; i < nchain; i++) sc_lineage_base_free(&chain[i]);
  sc_strlist stack;
  int known = 0;
  memset(&stack, 0, sizeof(stack));
  CHECK_INT(sc_lineage_stack(st, IM, &stack, &known), 0, "lineage: the image's stored layers");
  CHECK(known && stack.n == 2 && !strcmp(stack.v[0], LA) && !strcmp(stack.v[1], LB), "lineage: A then B");
  sc_strlist_free(&stack);
  sc_finding_list fixed;
  sc_finding_list_init(&fixed);
  CHECK_INT(sc_lineage_fixes(st, IM, I2, &fixed, &known), 0, "lineage: what moving IM to I2 fixes");
  CHECK(known && fixed.n == 0, "lineage: nothing, the same layers (%zu)", fixed.n);
  sc_finding_list_free(&fixed);
  char img[72] = "";
  CHECK_INT(sc_lineage_image_for(st, IX, "linux/arm64/v8", img), 0, "lineage: the index's arm64 image");
  CHECK_STR(img, I2, "lineage: the second image");
}

static int on_admin_repo(void *arg, const char *name, int64_t images, int64_t tags) {
  seen_add(arg, name, images * 100 + tags, NULL);
  return 0;
}
static int on_admin_image(void *arg, const sc_store_admin_image *i) {
  seen_add(arg, i->digest, i->kind, i->tag);
  return 0;
}
static int on_admin_decision(void *arg, const sc_store_admin_decision *d) {
  seen_add(arg, d->verdict, d->id, d->rule);
  return 0;
}

/* the admin API's reads: team/app holds IM, I2 and the index IX (pushed
 * last, a second later) */
static void check_admin(sc_store *st) {
  CHECK_INT(sc_store_admin_ping(st), 0, "admin: ping");
  int64_t nrepo = -1, nimg = -1, total = -1;
  CHECK_INT(sc_store_admin_counts(st, &nrepo, &nimg), 0, "admin: counts");
  CHECK(nrepo == 1 && nimg == 3, "admin: one repository, three images (%lld, %lld)", (long long)nrepo,
        (long long)nimg);
  seen s = {0};
  CHECK_INT(sc_store_admin_repositories(st, "TEAM/A", 0, 10, &total, on_admin_repo, &s), 0,
            "admin: repositories matching TEAM/A");
  CHECK(total == 1 && s.n == 1 && !strcmp(s.key[0], REPO) && s.num[0] == 301,
        "admin: team/app, three images, one tag (%lld, %d)", (long long)total, s.n);
  s = (seen){0};
  CHECK_INT(sc_store_admin_repositories(st, "a_p", 0, 10, &total, on_admin_repo, &s), 0,
            "admin: a_p (no wildcard)");
  CHECK(total == 0 && s.n == 0, "admin: nothing matches a_p");
  s = (seen){0};
  CHECK_INT(sc_store_admin_images(st, NULL, 0, 10, &total, on_admin_image, &s), 0, "admin: every image");
  CHECK(total == 3 && s.n == 3 && !strcmp(s.key[0], IX) && s.num[0] == SC_MANIFEST_INDEX &&
            !strcmp(s.extra[0], "(null)") && !strcmp(s.extra[2], "v1"),
        "admin: three, the index pushed last first (%lld, %d)", (long long)total, s.n);
  s = (seen){0};
  sc_store_admin_image_filter f = {REPO, "V1"};
  CHECK_INT(sc_store_admin_images(st, &f, 0, 10, &total, on_admin_image, &s), 0, "admin: images tagged V1");
  CHECK(total == 1 && s.n == 1 && !strcmp(s.key[0], IM) && !strcmp(s.extra[0], "v1"),
        "admin: the first image by its tag (%d)", s.n);
  s = (seen){0};
  f = (sc_store_admin_image_filter){NULL, "666666"};
  CHECK_INT(sc_store_admin_images(st, &f, 0, 10, &total, on_admin_image, &s), 0, "admin: images by digest part");
  CHECK(total == 1 && s.n == 1 && !strcmp(s.key[0], I2) && !strcmp(s.extra[0], "(null)"),
        "admin: the untagged second image (%d)", s.n);
  s = (seen){0};
  f = (sc_store_admin_image_filter){"other/repo", NULL};
  CHECK_INT(sc_store_admin_images(st, &f, 0, 10, &total, on_admin_image, &s), 0, "admin: another repository");
  CHECK(total == 0 && s.n == 0, "admin: none there");
  s = (seen){0};
  CHECK_INT(sc_store_admin_images(st, NULL, 1, 1, NULL, on_admin_image, &s), 0, "admin: a page of one, offset 1");
  CHECK(s.n == 1 && !strcmp(s.key[0], I2), "admin: the second image, recorded after the first (%d)", s.n);
  s = (seen){0};
  CHECK_INT(sc_store_admin_decisions(st, NULL, "deny", 0, 10, on_admin_decision, &s), 0, "admin: denials");
  CHECK(s.n == 1 && !strcmp(s.extra[0], "no-critical"), "admin: the one denial with its rule (%d)", s.n);
  int64_t id = s.n ? s.num[0] : 0;
  s = (seen){0};
  CHECK_INT(sc_store_admin_decisions(st, REPO, NULL, 0, 10, on_admin_decision, &s), 0, "admin: the repo's decisions");
  CHECK_INT(s.n, 1, "admin: one");
  s = (seen){0};
  CHECK_INT(sc_store_admin_decisions(st, NULL, "allow", 0, 10, on_admin_decision, &s), 0, "admin: allows");
  CHECK_INT(s.n, 0, "admin: none (purged)");
  s = (seen){0};
  CHECK_INT(sc_store_admin_decisions(st, NULL, NULL, id, 10, on_admin_decision, &s), 0, "admin: before the denial");
  CHECK_INT(s.n, 0, "admin: nothing older");
}

/* replicas (migration 13): heartbeats, layer claims with takeover from a
 * replica that stopped beating, and the shared verdict epoch */
static int on_replica(void *arg, const sc_replica_row *r) {
  seen_add(arg, r->id, r->seen_at, r->host);
  return 0;
}

static void check_replicas(sc_store *st) {
  const int64_t t = 1700000000000LL;
  const char L[] = "sha256:c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1";
  char holder[SC_REPLICA_ID_BYTES];
  CHECK_INT(sc_replica_beat(st, "h1/1/aa", "h1", 1, "0.1", t, t), 0, "replicas: A beats");
  CHECK_INT(sc_replica_beat(st, "h2/2/bb", "h2", 2, "0.1", t, t + 10), 0, "replicas: B beats");
  seen s = {0};
  CHECK_INT(sc_replica_each(st, on_replica, &s), 0, "replicas: listed");
  CHECK(s.n == 2 && !strcmp(s.key[0], "h2/2/bb") && s.num[0] == t + 10 && !strcmp(s.extra[1], "h1"),
        "replicas: both, the latest seen first (%d)", s.n);
  CHECK_INT(sc_layer_claim(st, L, "h1/1/aa", t + 20, holder, sizeof(holder)), 0, "claims: A claims the layer");
  CHECK_INT(sc_layer_claim(st, L, "h1/1/aa", t + 30, holder, sizeof(holder)), 0, "claims: A again: still A's");
  CHECK_INT(sc_layer_claim(st, L, "h2/2/bb", t + 40, holder, sizeof(holder)), SC_ERR_STATE,
            "claims: B is refused while A is live");
  CHECK_STR(holder, "h1/1/aa", "claims: the holder is named");
  /* B beats on; A stops beating: past SC_REPLICA_STALE_MS its claim lapses */
  int64_t later = t + SC_REPLICA_STALE_MS + 100;
  CHECK_INT(sc_replica_beat(st, "h2/2/bb", "h2", 2, "0.1", t, later), 0, "replicas: B beats later");
  CHECK_INT(sc_layer_claim(st, L, "h2/2/bb", later, holder, sizeof(holder)), 0, "claims: B takes over from A");
  CHECK_INT(sc_layer_claim(st, L, "h1/1/aa", later, holder, sizeof(holder)), SC_ERR_STATE,
            "claims: A (back) is refused: B is live");
  CHECK_INT(sc_layer_release(st, L, "h1/1/aa"), 0, "claims: a release by a non-holder");
  CHECK_INT(sc_layer_claim(st, L, "h1/1/aa", later, holder, sizeof(holder)), SC_ERR_STATE,
            "claims: ... changes nothing");
  CHECK_INT(sc_layer_release(st, L, "h2/2/bb"), 0, "claims: B releases");
  CHECK_INT(sc_layer_claim(st, L, "h1/1/aa", later, holder, sizeof(holder)), 0, "claims: then A gets it");
  /* leases: periodic work one replica does for all (both live) */
  CHECK_INT(sc_replica_beat(st, "h1/1/aa", "h1", 1, "0.1", t, later + 60000), 0, "replicas: A beats");
  CHECK_INT(sc_replica_beat(st, "h2/2/bb", "h2", 2, "0.1", t, later + 60000), 0, "replicas: B beats");
  CHECK_INT(sc_lease_take(st, "refresh", "h1/1/aa", later, 60000, holder, sizeof(holder)), 0, "leases: A takes refresh");
  CHECK_INT(sc_lease_take(st, "refresh", "h2/2/bb", later + 10, 60000, holder, sizeof(holder)), SC_ERR_STATE,
            "leases: B does not while A holds it");
  CHECK_STR(holder, "h1/1/aa", "leases: the holder is named");
  CHECK_INT(sc_lease_take(st, "refresh", "h1/1/aa", later + 20, 60000, holder, sizeof(holder)), 0, "leases: A renews");
  CHECK_INT(sc_lease_take(st, "watch", "h2/2/bb", later + 20, 60000, holder, sizeof(holder)), 0,
            "leases: another name is B's");
  CHECK_INT(sc_lease_take(st, "refresh", "h2/2/bb", later + 60021, 60000, holder, sizeof(holder)), 0,
            "leases: B takes it once A's lease expired");
  CHECK_INT(sc_replica_leave(st, "h2/2/bb"), 0, "leases: B leaves");
  CHECK_INT(sc_lease_take(st, "refresh", "h1/1/aa", later + 60030, 60000, holder, sizeof(holder)), 0,
            "leases: B's lease went with it");
  CHECK_INT(sc_replica_beat(st, "h2/2/bb", "h2", 2, "0.1", t, later), 0, "replicas: B beats again");
  CHECK_INT(sc_replica_leave(st, "h1/1/aa"), 0, "replicas: A leaves");
  CHECK_INT(sc_layer_claim(st, L, "h2/2/bb", later, holder, sizeof(holder)), 0, "claims: A's claims left with it");
  CHECK_INT(sc_replica_leave(st, "h2/2/bb"), 0, "replicas: B leaves");
  s = (seen){0};
  CHECK_INT(sc_replica_each(st, on_replica, &s), 0, "replicas: listed again");
  CHECK_INT(s.n, 0, "replicas: none left");
  CHECK_INT(sc_layer_claim(st, "not-a-digest", "x", t, holder, sizeof(holder)), SC_ERR_ARG, "claims: a bad digest");
  int64_t e0 = -1, e1 = -1;
  CHECK_INT(sc_verdict_epoch(st, &e0), 0, "epoch: read");
  CHECK_INT(sc_verdict_epoch_bump(st), 0, "epoch: bumped");
  CHECK_INT(sc_verdict_epoch(st, &e1), 0, "epoch: read again");
  CHECK(e1 == e0 + 1, "epoch: moved by one (%lld -> %lld)", (long long)e0, (long long)e1);
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

  check_referrers(st);
  check_vex(st);
  check_events(st);
  check_annotations(st);
  check_severity(st, gen);
  sleep(1); /* the index is pushed a second after the images: the admin API lists it first */
  check_index(st);
  check_lineage(st);
  check_admin(st);
  check_replicas(st);

  sc_verdict_free(&v);
  sc_policy_free(p);
  sc_store_image_free(&img);
  sc_store_close(st);
  return tap_done();
}
