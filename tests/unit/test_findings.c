/* test_findings.c - findings persistence (sc_findings) through its own
 * functions: a set written and read back through an image (hidden packages
 * left out, aliases from the record, the unsure mark), a set kept at a new
 * generation, stale and pruned sets, the status counts; and the gate's
 * blob question (sc_store_images_holding_blob). */
#include <stdio.h>
#include <string.h>

#include "sc_findings.h"
#include "sc_osv.h"
#include "sc_store.h"
#include "sc_store_int.h" /* white box: edit rows by hand */
#include "tap.h"

#define LA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IM "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define I2 "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define CF "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

static sc_store *st;

static void image(const char *repo, const char *digest, const char *const *layers, size_t n) {
  sc_mlayer ls[4];
  sc_manifest m;
  memset(&m, 0, sizeof(m));
  memset(ls, 0, sizeof(ls));
  m.kind = SC_MANIFEST_IMAGE;
  m.config_digest = (char *)CF;
  m.layers = ls;
  for (size_t i = 0; i < n; i++) ls[i] = (sc_mlayer){(char *)layers[i], NULL, 1};
  m.nlayers = n;
  CHECK_INT(sc_store_put_manifest(st, repo, NULL, digest, &m, NULL, 0), 0, "image %s in %s", digest + 7, repo);
}

static long find(const sc_finding_list *l, const char *id, const char *pkg) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].id, id) && !strcmp(l->v[i].package, pkg)) return (long)i;
  return -1;
}

static void test_roundtrip(void) {
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(sc_store_put_layer(st, LA, NULL, &inv), 0, "layer A");
  CHECK_INT(sc_store_put_layer(st, LB, NULL, &inv), 0, "layer B");
  sc_inventory_free(&inv);
  image("team/app", IM, (const char *const[]){LA, LB}, 2);
  const char *rec = "{\"id\":\"CVE-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"GHSA-1\"],\"affected\":[]}";
  sc_osv_stats os = {0};
  CHECK_INT(sc_osv_import_buffer(st, "t", rec, strlen(rec), &os), 0, "a record with an alias");

  /* layer A: two packages with findings; the second is hidden by layer B */
  const char *al[] = {"GHSA-1"};
  sc_vuln v1 = {"CVE-1", al, 1, 4, 9.8, 9.8}, v2 = {"CVE-\"2\"\n", NULL, 0, 2, 5.0, -1};
  sc_hit h1[] = {{&v1, "1.2", 4, 9.8, 0}, {&v2, "", 2, 5.0, 1}};
  sc_hit h2[] = {{&v1, "2.0", 4, 9.8, 0}};
  sc_hits hs1 = {h1, 2}, hs2 = {h2, 1};
  sc_fset_pkg pk[] = {{0, "openssl", "1.1", "Debian:12", "pkg:deb/debian/openssl", &hs1},
                      {3, "zlib", "1.0", "Debian:12", "pkg:deb/debian/zlib", &hs2}};
  CHECK_INT(sc_findings_put_set(st, LA, "os1", 7, 1234, pk, 2, 3), 0, "put a set");
  sc_finding_list l;
  sc_finding_list_init(&l);
  CHECK_INT(sc_findings_put_image(st, IM, 7, 1000, 99, "os1", NULL, 0), 0, "an image row");
  CHECK_INT(sc_findings_load_image(st, IM, 7, &l), 0, "a stored layer without a set: stale");
  /* every stored layer has a set, an empty one too */
  CHECK_INT(sc_findings_put_set(st, LB, "os1", 7, 55, NULL, 0, 0), 0, "an empty set for layer B");
  uint64_t hidden[] = {(uint64_t)0 << 32 | 3};
  CHECK_INT(sc_findings_put_image(st, IM, 7, 1000, 99, "os1", hidden, 1), 0, "put the image row");

  CHECK_INT(sc_findings_load_image(st, IM, 8, &l), 0, "another generation: stale");
  CHECK_INT(l.n, 0, "nothing loaded");
  CHECK_INT(sc_findings_load_image(st, IM, 7, &l), 1, "loaded at its generation");
  CHECK_INT(l.n, 2, "two findings (the hidden package left out)");
  CHECK_INT(l.generation, 7, "generation");
  long a = find(&l, "CVE-1", "openssl"), b = find(&l, "CVE-\"2\"\n", "openssl");
  CHECK(a >= 0 && b >= 0, "both hits of openssl, odd characters intact");
  CHECK(a >= 0 && l.v[a].naliases == 1 && !strcmp(l.v[a].aliases[0], "GHSA-1"), "aliases from the record");
  CHECK(a >= 0 && !strcmp(l.v[a].fixed_version, "1.2") && l.v[a].score == 9.8, "fixed version and score");
  CHECK(a >= 0 && !strcmp(l.layer[a], LA) && !strcmp(l.purl[a], "pkg:deb/debian/openssl"), "layer and purl");
  CHECK(b >= 0 && sc_finding_unsure(&l, (size_t)b) && !sc_finding_unsure(&l, (size_t)a), "unsure mark kept");
  CHECK(l.n == 2 && l.v[0].severity >= l.v[1].severity, "sorted by severity");
  sc_finding_list_free(&l);

  /* each_set_hash sees it; keep moves it on; prune drops what was not kept */
  CHECK_INT(sc_findings_keep_set(st, LA, "os1", 8), 0, "keep A's set at 8");
  CHECK_INT(sc_findings_prune_sets(st, 8), 0, "prune at 8");
  int64_t images, current, findings;
  CHECK_INT(sc_findings_counts(st, 7, &images, &current, &findings), 0, "counts");
  CHECK(images == 1 && current == 1, "one image, at generation 7 (%lld, %lld)", (long long)images,
        (long long)current);
  CHECK_INT(findings, 2, "the view sees two findings");
  CHECK_INT(sc_findings_put_image(st, IM, 8, 1000, 99, "os1", hidden, 1), 0, "image row at 8");
  sc_finding_list_init(&l);
  CHECK_INT(sc_findings_load_image(st, IM, 8, &l), 0, "layer B's set pruned: stale, recompute");
  sc_finding_list_free(&l);

  /* an unreadable set is not an error: it is recomputed */
  CHECK_INT(sc_findings_put_set(st, LB, "os1", 8, 55, NULL, 0, 0), 0, "B's set again");
  CHECK_INT(sc_db_exec(st->db, "UPDATE layer_findings SET data = '[[0,' WHERE layer = '" LA "'"),
            0, "garble A's set");
  sc_finding_list_init(&l);
  CHECK_INT(sc_findings_load_image(st, IM, 8, &l), 0, "garbled: recompute");
  CHECK_INT(l.n, 0, "left empty");
  sc_finding_list_free(&l);

  /* images gone from the store lose their rows */
  CHECK_INT(sc_db_exec(st->db, "DELETE FROM images WHERE digest = '" IM "'"), 0,
            "image removed by hand");
  CHECK_INT(sc_findings_forget_gone_images(st), 0, "forget gone images");
  CHECK_INT(sc_findings_counts(st, 8, &images, &current, &findings), 0, "counts again");
  CHECK_INT(images, 0, "no image rows left");
}

typedef struct seen {
  char v[8][160];
  size_t n;
  int used_store; /* the callback may use the store */
} seen;

static int holder(void *arg, const char *repo, const char *img) {
  seen *s = arg;
  int kind = -1;
  s->used_store += sc_store_image_kind(st, img, &kind) == 0 && kind == SC_MANIFEST_IMAGE;
  if (s->n < 8) snprintf(s->v[s->n++], sizeof(s->v[0]), "%s@%s", repo, img + 7);
  return 0;
}

static void test_blob_holders(void) {
  image("shop/a", IM, (const char *const[]){LA}, 1);
  image("shop/b", I2, (const char *const[]){LA, LB}, 2);
  seen s = {0};
  CHECK_INT(sc_store_images_holding_blob(st, "shop/a", LA, holder, &s), 0, "in shop/a");
  CHECK_INT(s.n, 1, "one image of shop/a holds layer A");
  CHECK(s.n && !strncmp(s.v[0], "shop/a@cccc", 11), "it is %s", s.n ? s.v[0] : "-");
  CHECK_INT(s.used_store, 1, "the callback used the store meanwhile");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_images_holding_blob(st, NULL, LA, holder, &s), 0, "anywhere");
  /* pairs: IM is in team/app (test_roundtrip) and shop/a, I2 in shop/b */
  CHECK_INT(s.n, 3, "layer A held in three (repository, image) pairs");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_images_holding_blob(st, "shop/a", LB, holder, &s), 0, "B in shop/a");
  CHECK_INT(s.n, 0, "none");
  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_store_images_holding_blob(st, NULL, CF, holder, &s), 0, "the config blob");
  CHECK_INT(s.n, 3, "held by both images, in every repository");
}

int main(void) {
  if (sc_store_open(":memory:", &st)) {
    printf("Bail out! cannot open store\n");
    return 1;
  }
  test_roundtrip();
  test_blob_holders();
  sc_store_close(st);
  return tap_done();
}
