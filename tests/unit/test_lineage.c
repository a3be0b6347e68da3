/* test_lineage.c - image lineage: chain IDs, bases found by chain and by
 * annotation, tag history and staleness, what is built on an image, watched
 * tags, and the event payload (sc_lineage.c over sc_store_lineage.c).
 * sc_lineage.c is included; the store is a real SQLite database in memory,
 * fed real manifest and config JSON through sc_store_put_manifest_ex. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/sc_lineage.c"
#include "sc_image.h"
#include "sc_osv.h"
#include "tap.h"

/* A diff_id / layer digest made of one repeated hex digit pair. */
static const char *dig(int k, char out[72]) {
  snprintf(out, 72, "sha256:");
  for (int i = 0; i < 32; i++) snprintf(out + 7 + 2 * i, 3, "%02x", (k * 37 + i) & 0xff);
  return out;
}

/* Stores an image under repo:tag (tag NULL: untagged) whose layers are
 * diff ids k[0..n); base_digest (may be NULL) is its annotation.  The
 * manifest's digest goes to out; prev gets what put_manifest_ex says. */
static int put_image(sc_store *st, const char *repo, const char *tag, const int *k, size_t n, const char *platform_arch,
                     const char *base_digest, char out[72], char prev[72]) {
  char cfg[8192], man[8192], d[72], cdig[72];
  size_t o = (size_t)snprintf(cfg, sizeof(cfg), "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[",
                              platform_arch ? platform_arch : "amd64");
  for (size_t i = 0; i < n; i++) o += (size_t)snprintf(cfg + o, sizeof(cfg) - o, "%s\"%s\"", i ? "," : "", dig(k[i], d));
  snprintf(cfg + o, sizeof(cfg) - o, "]}}");
  sc_digest_sha256(cfg, strlen(cfg), cdig);
  o = (size_t)snprintf(man, sizeof(man),
                       "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                       "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                       "\"layers\":[",
                       cdig, strlen(cfg));
  for (size_t i = 0; i < n; i++)
    o += (size_t)snprintf(man + o, sizeof(man) - o,
                          "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":1}",
                          i ? "," : "", dig(k[i] + 1000, d));
  o += (size_t)snprintf(man + o, sizeof(man) - o, "]");
  if (base_digest)
    o += (size_t)snprintf(man + o, sizeof(man) - o,
                          ",\"annotations\":{\"org.opencontainers.image.base.digest\":\"%s\","
                          "\"org.opencontainers.image.base.name\":\"example/base:1\"}",
                          base_digest);
  snprintf(man + o, sizeof(man) - o, "}");
  sc_digest_sha256(man, strlen(man), out);
  sc_manifest m;
  int rv = sc_manifest_parse(man, strlen(man), NULL, &m);
  if (!rv) rv = sc_store_put_manifest_ex(st, repo, tag, out, &m, cfg, strlen(cfg), prev);
  sc_manifest_free(&m);
  return rv;
}

/* An index over the given image digests (amd64, arm64). */
static int put_index(sc_store *st, const char *repo, const char *tag, const char *a, const char *b, char out[72],
                     char prev[72]) {
  char man[4096];
  snprintf(man, sizeof(man),
           "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
           "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":1,"
           "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
           "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":1,"
           "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}",
           a, b);
  sc_digest_sha256(man, strlen(man), out);
  sc_manifest m;
  int rv = sc_manifest_parse(man, strlen(man), NULL, &m);
  if (!rv) rv = sc_store_put_manifest_ex(st, repo, tag, out, &m, NULL, 0, prev);
  sc_manifest_free(&m);
  return rv;
}

typedef struct names {
  char list[4096];
  int n;
} names;

static int collect_names(void *arg, const char *repo, const char *tag, const char *digest) {
  names *nm = arg;
  (void)digest;
  size_t o = strlen(nm->list);
  snprintf(nm->list + o, sizeof(nm->list) - o, "%s%s:%s", nm->n ? " " : "", repo, tag);
  nm->n++;
  return 0;
}

/* Counts history rows, keeping the digest of the last one seen (the oldest). */
typedef struct hist {
  int n;
  char last[72];
} hist;

static int hist_cb(void *arg, const sc_tag_move *m) {
  hist *h = arg;
  h->n++;
  snprintf(h->last, sizeof(h->last), "%s", m->digest);
  return 0;
}

static void test_chain_ids(void) {
  char a[72], b[72], c[72], want[72], buf[200];
  const char *ids[3] = {dig(1, a), dig(2, b), dig(3, c)};
  char out[3][72];
  CHECK_INT(sc_chain_ids(ids, 3, out), 0, "chain ids of three layers");
  CHECK_STR(out[0], a, "chain 0 is the first diff_id");
  snprintf(buf, sizeof(buf), "%s %s", a, b);
  sc_digest_sha256(buf, strlen(buf), want);
  CHECK_STR(out[1], want, "chain 1 = sha256(chain0 + \" \" + diff1)");
  snprintf(buf, sizeof(buf), "%s %s", out[1], c);
  sc_digest_sha256(buf, strlen(buf), want);
  CHECK_STR(out[2], want, "chain 2 = sha256(chain1 + \" \" + diff2)");
  const char *bad[2] = {a, "sha256:xyz"};
  CHECK_INT(sc_chain_ids(bad, 2, out), SC_ERR_ARG, "a diff_id that is not a digest is refused");
}

static void test_local(sc_store *st) {
  char base[72], app[72], base2[72], mid[72], app2[72], prev[72], base3[72];
  int kb[] = {1, 2}, ka[] = {1, 2, 3}, kb2[] = {1, 5}, km[] = {1, 2, 4}, ka2[] = {1, 2, 4, 6}, kb3[] = {1, 2, 7};
  sc_lineage_base b;
  int found;

  CHECK_INT(put_image(st, "base", "12", kb, 2, NULL, NULL, base, prev), 0, "base:12 stored");
  CHECK_STR(prev, "", "a new tag did not move");
  CHECK_INT(put_image(st, "app", "1", ka, 3, NULL, NULL, app, prev), 0, "app:1 stored");
  CHECK_INT(sc_lineage_base_of(st, app, &b, &found), 0, "base of app");
  CHECK(found && !strcmp(b.digest, base), "app is built on base:12's image");
  CHECK(b.how == SC_BASE_BY_CHAIN && b.nlayers == 2 && !b.stale, "found by chain, 2 layers, current");
  CHECK(b.repo && !strcmp(b.repo, "base") && b.tag && !strcmp(b.tag, "12"), "named base:12");
  sc_lineage_base_free(&b);
  CHECK_INT(sc_lineage_base_of(st, base, &b, &found), 0, "base of the base");
  CHECK(!found, "a bottom image has no base");
  sc_lineage_base_free(&b);

  /* an untagged image between them is closer, but the tagged base wins */
  CHECK_INT(put_image(st, "tmp", NULL, km, 3, NULL, NULL, mid, prev), 0, "untagged intermediate stored");
  CHECK_INT(put_image(st, "app2", "1", ka2, 4, NULL, NULL, app2, prev), 0, "app2 on the intermediate");
  CHECK_INT(sc_lineage_base_of(st, app2, &b, &found), 0, "base of app2");
  CHECK(found && !strcmp(b.digest, base), "the tagged base is preferred to a closer untagged image");
  sc_lineage_base_free(&b);
  int64_t secs = 0;
  CHECK_INT(sc_lineage_stale_seconds(st, app, 1000, &secs), 0, "staleness");
  CHECK(secs == -1, "not stale while base:12 points at its base");

  names nm;
  memset(&nm, 0, sizeof(nm));
  CHECK_INT(sc_lineage_downstream(st, base, collect_names, &nm), 0, "downstream of base");
  CHECK(nm.n == 2 && strstr(nm.list, "app:1") && strstr(nm.list, "app2:1"),
        "both apps are built on base, the untagged one is not named (got %s)", nm.list);

  /* base:12 moves */
  CHECK_INT(put_image(st, "base", "12", kb2, 2, NULL, NULL, base2, prev), 0, "new base:12 stored");
  CHECK_STR(prev, base, "put_manifest_ex says the tag left the old base");
  CHECK_INT(put_image(st, "base", "12", kb2, 2, NULL, NULL, base2, prev), 0, "the same base pushed again");
  CHECK_STR(prev, "", "pushing the same digest again is not a move");
  CHECK_INT(sc_lineage_base_of(st, app, &b, &found), 0, "base of app after the move");
  CHECK(found && !strcmp(b.digest, base) && b.stale, "app's base is now stale");
  CHECK(b.superseded_at > 0 && !strcmp(b.now_digest, base2), "superseded, and the tag now points at the new base");
  sc_lineage_base_free(&b);
  CHECK_INT(sc_lineage_stale_seconds(st, app, b.superseded_at + 86400 * 3, &secs), 0, "staleness after");
  CHECK(secs >= 0, "stale seconds known");

  size_t n = 0;
  json_t *ev = sc_lineage_base_updated(st, SC_ORIGIN_LOCAL, "base", "12", base, base2, &n);
  CHECK(ev != NULL && n == 2, "event names the two apps (got %zu)", n);
  json_t *imgs = json_object_get(ev, "images");
  CHECK(json_array_size(imgs) == 2 &&
            !strcmp(json_string_value(json_object_get(json_array_get(imgs, 0), "repository")), "app") &&
            !strcmp(json_string_value(json_object_get(json_array_get(imgs, 0), "digest")), app) &&
            !strcmp(json_string_value(json_object_get(json_array_get(imgs, 1), "repository")), "app2"),
        "images sorted by repository: app (with its digest), then app2");
  CHECK(json_is_false(json_object_get(ev, "fixes_known")), "fixes unknown: no layer of either base was scanned");
  CHECK_STR(json_string_value(json_object_get(json_object_get(ev, "base"), "old_digest")), base, "old digest");
  json_decref(ev);

  /* a new base built on top of the old one: images already on it are not
   * named, the new base itself is not named */
  CHECK_INT(put_image(st, "base", "12", kb3, 3, NULL, NULL, base3, prev), 0, "base:12 again, on top of the old one");
  CHECK_STR(prev, base2, "moved from the second base");
  ev = sc_lineage_base_updated(st, SC_ORIGIN_LOCAL, "base", "12", base, base3, &n);
  CHECK(ev && n == 2, "old base's apps still named (got %zu)", n);
  int names_base = 0;
  json_t *it;
  size_t i;
  json_array_foreach(json_object_get(ev, "images"), i, it) names_base |=
      !strcmp(json_string_value(json_object_get(it, "repository")), "base");
  CHECK(ev && !names_base, "the new base (built on the old) is not named as needing a rebuild");
  json_decref(ev);

  hist h = {0, ""};
  CHECK_INT(sc_store_tag_history(st, SC_ORIGIN_LOCAL, "base", "12", 0, hist_cb, &h), 0, "history of base:12");
  CHECK(h.n == 3, "three moves recorded (got %d)", h.n);
  CHECK_STR(h.last, base, "the oldest row (listed last) is the first base");
}

/* A dated tag pins the old base; the floating tag moves: superseded. */
static void test_dated_tags(sc_store *st) {
  char old[72], neu[72], app[72], prev[72];
  int ko[] = {60, 61}, kn[] = {60, 62}, ka[] = {60, 61, 63};
  sc_lineage_base b;
  int found;
  CHECK_INT(put_image(st, "deb", "bookworm", ko, 2, NULL, NULL, old, prev), 0, "deb:bookworm");
  CHECK_INT(put_image(st, "deb", "bookworm-20240101", ko, 2, NULL, NULL, old, prev), 0, "the same, dated");
  CHECK_INT(put_image(st, "svc9", "1", ka, 3, NULL, NULL, app, prev), 0, "an app on it");
  CHECK_INT(sc_lineage_base_of(st, app, &b, &found), 0, "base while both tags point at it");
  CHECK(found && !b.stale, "current");
  sc_lineage_base_free(&b);
  CHECK_INT(put_image(st, "deb", "bookworm", kn, 2, NULL, NULL, neu, prev), 0, "deb:bookworm moves on");
  CHECK_INT(sc_lineage_base_of(st, app, &b, &found), 0, "base after the floating tag moved");
  CHECK(found && b.stale && !strcmp(b.tag, "bookworm") && !strcmp(b.now_digest, neu),
        "superseded, named by the tag that moved, though the dated tag still pins it");
  sc_lineage_base_free(&b);
  CHECK_INT(put_image(st, "deb", "bookworm", ko, 2, NULL, NULL, old, prev), 0, "deb:bookworm rolled back");
  CHECK_INT(sc_lineage_base_of(st, app, &b, &found), 0, "base after the roll-back");
  CHECK(found && !b.stale && b.tag && !strcmp(b.tag, "bookworm"), "current again, named by the tag that came back");
  sc_lineage_base_free(&b);
}

static void test_annotation_and_index(sc_store *st) {
  char a[72], b[72], idx[72], app[72], prev[72];
  int ka[] = {20, 21}, kb[] = {30, 31}, kapp[] = {30, 31, 32};
  sc_lineage_base bs;
  int found;
  CHECK_INT(put_image(st, "multi", NULL, ka, 2, "amd64", NULL, a, prev), 0, "amd64 child");
  CHECK_INT(put_image(st, "multi", NULL, kb, 2, "arm64", NULL, b, prev), 0, "arm64 child");
  CHECK_INT(put_index(st, "multi", "3", a, b, idx, prev), 0, "index multi:3");
  CHECK_INT(put_image(st, "svc", "2", kapp, 3, "arm64", idx, app, prev), 0, "arm64 app naming the index as base");
  CHECK_INT(sc_lineage_base_of(st, app, &bs, &found), 0, "base of the annotated app");
  CHECK(found && !strcmp(bs.digest, b) && bs.how == SC_BASE_BY_ANNOTATION, "the index's arm64 child, by annotation");
  CHECK(!strcmp(bs.index, idx) && bs.repo && !strcmp(bs.repo, "multi"), "tagged through the index multi:3");
  sc_lineage_base_free(&bs);
  names nm;
  memset(&nm, 0, sizeof(nm));
  CHECK_INT(sc_lineage_downstream(st, idx, collect_names, &nm), 0, "downstream of the index");
  CHECK_STR(nm.list, "svc:2", "the app is built on the index");
  json_t *d = NULL;
  CHECK_INT(sc_lineage_describe(st, "svc", "2", 0, &d), 0, "describe svc:2");
  json_t *b0 = json_array_get(json_object_get(d, "bases"), 0);
  CHECK(b0 && !strcmp(json_string_value(json_object_get(b0, "how")), "annotation") &&
            !strcmp(json_string_value(json_object_get(b0, "tag")), "3"),
        "describe: base by annotation, tag 3");
  json_decref(d);
  CHECK_INT(sc_lineage_describe(st, "svc", "nope", 0, &d), SC_ERR_NOTFOUND, "describe an unknown tag");
}

static void test_watch(sc_store *st) {
  char prev[72], w1[72], w2[72], app[72], d[72];
  int kw[] = {40, 41}, kapp[] = {40, 41, 42}, kw2[] = {40, 43};
  const char *ids[2];
  sc_lineage_base b;
  int found;
  dig(40, w1);
  ids[0] = w1;
  ids[1] = dig(41, d);
  char wd[72], wd2[72];
  snprintf(wd, sizeof(wd), "%s", dig(500, prev));
  snprintf(wd2, sizeof(wd2), "%s", dig(501, prev));
  CHECK_INT(sc_store_put_chain(st, wd, SC_ORIGIN_WATCH, "linux/amd64", ids, 2, NULL, NULL), 0, "watched chain");
  CHECK_INT(sc_store_watch_set(st, "reg.example:5000/lib/deb", "12", wd, NULL, 100, prev), 0, "first check");
  CHECK_STR(prev, "", "a first sighting is not a move");
  (void)kw;
  CHECK_INT(put_image(st, "web", "5", kapp, 3, NULL, NULL, app, prev), 0, "local app on the watched base");
  CHECK_INT(sc_lineage_base_of(st, app, &b, &found), 0, "base of web:5");
  CHECK(found && !strcmp(b.digest, wd) && b.origin == SC_ORIGIN_WATCH && !b.stale, "the watched image, current");
  CHECK(b.repo && !strcmp(b.repo, "reg.example:5000/lib/deb"), "named by its watched repository");
  sc_lineage_base_free(&b);
  CHECK_INT(sc_store_watch_set(st, "reg.example:5000/lib/deb", "12", NULL, "connection refused", 150, prev), 0,
            "a failed check");
  CHECK_STR(prev, "", "a failure is not a move");
  char cur[72];
  CHECK_INT(sc_store_tag_current(st, SC_ORIGIN_WATCH, "reg.example:5000/lib/deb", "12", cur), 0, "current kept");
  CHECK_STR(cur, wd, "the digest survives a failed check");
  ids[1] = dig(43, d);
  CHECK_INT(sc_store_put_chain(st, wd2, SC_ORIGIN_WATCH, "linux/amd64", ids, 2, NULL, NULL), 0, "new watched chain");
  CHECK_INT(sc_store_watch_set(st, "reg.example:5000/lib/deb", "12", wd2, NULL, 200, prev), 0, "the tag moved");
  CHECK_STR(prev, wd, "the move is reported");
  (void)kw2;
  CHECK_INT(sc_lineage_base_of(st, app, &b, &found), 0, "base of web:5 after");
  CHECK(found && b.stale && b.superseded_at == 200, "stale since the check that saw the move");
  sc_lineage_base_free(&b);
  size_t n = 0;
  json_t *ev = sc_lineage_base_updated(st, SC_ORIGIN_WATCH, "reg.example:5000/lib/deb", "12", wd, wd2, &n);
  CHECK(ev && n == 1, "the event names web:5");
  CHECK_STR(json_string_value(json_object_get(json_object_get(ev, "base"), "origin")), "watch", "origin watch");
  json_decref(ev);
  /* the watched tag as `customs lineage` shows it */
  json_t *doc = NULL;
  CHECK_INT(sc_lineage_describe(st, "reg.example:5000/lib/deb", "12", 300, &doc), 0, "describe a watched tag");
  CHECK(doc && !strcmp(json_string_value(json_object_get(doc, "origin")), "watch") &&
            !strcmp(json_string_value(json_object_get(doc, "digest")), wd2),
        "resolved through the watched tag, to its current digest");
  json_t *hh = json_object_get(doc, "history");
  CHECK(json_array_size(hh) == 2 && json_is_null(json_object_get(json_array_get(hh, 0), "until")),
        "two stays, the newest current");
  json_t *on = json_object_get(json_array_get(hh, 1), "images_on_it");
  CHECK(json_array_size(on) == 1 && !strcmp(json_string_value(json_object_get(json_array_get(on, 0), "repository")), "web"),
        "web:5 is still on the digest the tag left");
  json_decref(doc);
  CHECK_INT(sc_lineage_describe(st, "reg.example:5000/lib/deb", wd, 300, &doc), 0, "describe a watched image by digest");
  CHECK(doc && json_array_size(json_object_get(doc, "built_on_this")) == 1 && !json_object_get(doc, "history"),
        "web:5 built on it, no tag history for a digest");
  json_decref(doc);
  CHECK_INT(sc_lineage_describe(st, "reg.example:5000/lib/deb", "13", 300, &doc), SC_ERR_NOTFOUND, "unknown watched tag");

  /* a local push of the same image keeps it local */
  CHECK_INT(sc_store_put_chain(st, app, SC_ORIGIN_WATCH, "linux/amd64", ids, 2, NULL, NULL), 0, "watch over local");
  sc_chain c;
  CHECK_INT(sc_store_get_chain(st, app, &c), 0, "chain of web:5");
  CHECK(c.origin == SC_ORIGIN_LOCAL && c.n == 3, "a watched sighting does not replace a local chain");
  sc_chain_free(&c);
  (void)w2;
}

/* ---- what a base known only by its chain fixes ---- */

/* Stores layer `layer` scanned "ok" (status 0) or failed, with diff_id,
 * holding Debian 12's libssl3 at ssl_version (NULL: no package, no OS). */
static int put_layer(sc_store *st, const char *layer, const char *diff_id, const char *ssl_version, int status) {
  sc_layer_result res;
  sc_inventory inv;
  memset(&res, 0, sizeof(res));
  snprintf(res.diff_id, sizeof(res.diff_id), "%s", diff_id);
  res.status = status;
  sc_inventory_init(&inv);
  if (ssl_version) {
    sc_package p = {(char *)"deb", NULL, (char *)"libssl3", (char *)ssl_version, (char *)"openssl",
                    (char *)ssl_version, (char *)"var/lib/dpkg/status", NULL};
    sc_inventory_set_os(&inv, "debian", "12", "etc/os-release");
    sc_inventory_add_package(&inv, &p);
    sc_strlist_add(&inv.cataloged, "var/lib/dpkg/status");
  }
  int rv = sc_store_put_layer(st, layer, &res, &inv);
  sc_inventory_free(&inv);
  return rv;
}

/* A watched chain over diff ids k[0..n) (dig), digest from dig(id). */
static int put_watched(sc_store *st, int id, const int *k, size_t n, const char *platform, char out[72]) {
  char ids[8][72];
  const char *v[8];
  for (size_t i = 0; i < n; i++) v[i] = dig(k[i], ids[i]);
  dig(id, out);
  return sc_store_put_chain(st, out, SC_ORIGIN_WATCH, platform, v, n, NULL, NULL);
}

static void test_diff_id_lookup(sc_store *st) {
  char d[72], l[72], l2[72], got[72];
  CHECK_INT(put_layer(st, dig(1700, l), dig(700, d), NULL, 0), 0, "a layer with diff_id 700");
  CHECK_INT(sc_store_layer_by_diff_id(st, d, got), 0, "found by its diff_id");
  CHECK_STR(got, l, "its digest");
  CHECK_INT(sc_store_layer_by_diff_id(st, dig(701, d), got), SC_ERR_NOTFOUND, "an unknown diff_id");
  CHECK_STR(got, "", "nothing copied");
  CHECK_INT(put_layer(st, dig(1702, l), dig(702, d), NULL, SC_ERR_FORMAT), 0, "a layer whose scan failed");
  CHECK_INT(sc_store_layer_by_diff_id(st, d, got), SC_ERR_NOTFOUND, "a failed layer does not count");
  CHECK_INT(put_layer(st, dig(1703, l2), d, NULL, 0), 0, "the same content, compressed otherwise, scanned ok");
  CHECK_INT(sc_store_layer_by_diff_id(st, d, got), 0, "found through the layer that is ok");
  CHECK_STR(got, l2, "that one");
  CHECK_INT(sc_store_layer_by_diff_id(st, NULL, got), SC_ERR_ARG, "no diff_id");
}

static const char *fix_str(json_t *ev, const char *key) {
  return json_string_value(json_object_get(json_array_get(json_object_get(ev, "fixes"), 0), key));
}

/* Watched bases (chains only): old is Debian with a vulnerable libssl3
 * plus a layer, new the same with libssl3 fixed; an app pushed through
 * customs is built on old. */
static void test_fixes_by_chain(sc_store *st) {
  static const char osv[] =
      "{\"id\":\"CVE-2099-0001\",\"modified\":\"2099-01-01T00:00:00Z\",\"severity\":[{\"type\":\"CVSS_V3\","
      "\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],\"affected\":[{\"package\":{\"ecosystem\":"
      "\"Debian:12\",\"name\":\"openssl\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
      "{\"fixed\":\"3.0.13-1~deb12u1\"}]}]}]}";
  sc_osv_stats os;
  memset(&os, 0, sizeof(os));
  CHECK_INT(sc_osv_import_buffer(st, "t", osv, strlen(osv), &os), 0, "chain fixes: OSV record imported");
  char old[72], neu[72], app[72], prev[72], l[72], d[72];
  int ko[] = {710, 711}, kn[] = {712, 711}, kapp[] = {710, 711, 713};
  CHECK_INT(put_watched(st, 2710, ko, 2, "linux/amd64", old), 0, "old watched base");
  CHECK_INT(put_watched(st, 2712, kn, 2, "linux/amd64", neu), 0, "new watched base");
  CHECK_INT(put_image(st, "svc-fix", "1", kapp, 3, NULL, NULL, app, prev), 0, "app on the old base");
  sc_finding_list fl;
  int known = 1;
  sc_finding_list_init(&fl);
  CHECK_INT(sc_lineage_fixes(st, old, neu, &fl, &known), 0, "fixes with no layer stored");
  CHECK(!known && fl.n == 0, "unknown, empty");
  /* the app's layers came through customs: the old base's are known */
  CHECK_INT(put_layer(st, dig(1710, l), dig(710, d), "3.0.11-1~deb12u2", 0), 0, "layer 710: vulnerable libssl3");
  CHECK_INT(put_layer(st, dig(1711, l), dig(711, d), NULL, 0), 0, "layer 711");
  CHECK_INT(sc_lineage_fixes(st, old, neu, &fl, &known), 0, "fixes with the new base not scanned");
  CHECK(!known && fl.n == 0, "still unknown: a layer of the new base is missing");
  sc_strlist stack;
  memset(&stack, 0, sizeof(stack));
  CHECK_INT(sc_lineage_stack(st, neu, &stack, &known), 0, "stack of the new base");
  CHECK(!known && stack.n == 0, "not known, nothing listed");
  CHECK_INT(sc_lineage_stack(st, old, &stack, &known), 0, "stack of the old base");
  CHECK(known && stack.n == 2 && !strcmp(stack.v[0], dig(1710, l)) && !strcmp(stack.v[1], dig(1711, d)),
        "the stored layers of its diff_ids, bottom first");
  sc_strlist_free(&stack);
  CHECK_INT(put_layer(st, dig(1712, l), dig(712, d), "3.0.13-1~deb12u1", 0), 0, "layer 712: libssl3 fixed");
  CHECK_INT(sc_lineage_fixes(st, old, neu, &fl, &known), 0, "fixes by chain");
  CHECK(known && fl.n == 1, "known: one finding fixed (%zu)", fl.n);
  CHECK(fl.n == 1 && !strcmp(fl.v[0].id, "CVE-2099-0001") && !strcmp(fl.v[0].package, "libssl3") &&
            fl.v[0].severity == SC_SEV_CRITICAL && !strcmp(fl.v[0].fixed_version, "3.0.13-1~deb12u1"),
        "CVE-2099-0001 in libssl3, critical, fixed in 3.0.13-1~deb12u1");
  sc_finding_list_free(&fl);
  sc_finding_list_init(&fl);
  CHECK_INT(sc_lineage_fixes(st, neu, old, &fl, &known), 0, "going back");
  CHECK(known && fl.n == 0, "going back fixes nothing");
  sc_finding_list_free(&fl);

  /* the event of the watched move */
  CHECK_INT(sc_store_watch_set(st, "reg.example:5000/fix/deb", "12", old, NULL, 300, prev), 0, "watched: old");
  CHECK_INT(sc_store_watch_set(st, "reg.example:5000/fix/deb", "12", neu, NULL, 400, prev), 0, "watched: moved");
  size_t n = 0;
  json_t *ev = sc_lineage_base_updated(st, SC_ORIGIN_WATCH, "reg.example:5000/fix/deb", "12", old, neu, &n);
  CHECK(ev && n == 1, "the event names svc-fix:1");
  CHECK(json_is_true(json_object_get(ev, "fixes_known")), "fixes_known true");
  CHECK_INT(json_integer_value(json_object_get(ev, "fixes_total")), 1, "fixes_total 1");
  CHECK_STR(fix_str(ev, "id"), "CVE-2099-0001", "fixes[0].id");
  CHECK_STR(fix_str(ev, "severity"), "critical", "fixes[0].severity");
  CHECK_STR(fix_str(ev, "fixed"), "3.0.13-1~deb12u1", "fixes[0].fixed");
  json_decref(ev);

  /* indexes: the first child (by digest) of the old index is unknown, the
   * second known; the new index's child for that platform is compared */
  char oa[72], ob[72], na[72], nb[72], oidx[72], nidx[72];
  int koa[] = {720}, kna[] = {721};
  CHECK_INT(put_watched(st, 2720, koa, 1, "linux/amd64", oa), 0, "old index: amd64 child (never scanned)");
  CHECK_INT(put_watched(st, 2790, ko, 2, "linux/arm64", ob), 0, "old index: arm64 child (scanned)");
  CHECK_INT(put_watched(st, 2721, kna, 1, "linux/amd64", na), 0, "new index: amd64 child");
  CHECK_INT(put_watched(st, 2791, kn, 2, "linux/arm64", nb), 0, "new index: arm64 child");
  CHECK(strcmp(oa, ob) < 0, "the unknown child comes first");
  dig(2800, oidx);
  dig(2801, nidx);
  CHECK_INT(sc_store_put_chain_child(st, oidx, oa, "linux/amd64") || sc_store_put_chain_child(st, oidx, ob, "linux/arm64") ||
                sc_store_put_chain_child(st, nidx, nb, "linux/arm64") || sc_store_put_chain_child(st, nidx, na, "linux/amd64"),
            0, "both indexes recorded");
  char chosen[72];
  CHECK_INT(sc_lineage_image_for(st, nidx, "linux/arm64", chosen), 0, "new index for arm64");
  CHECK_STR(chosen, nb, "its arm64 child");
  CHECK_INT(sc_lineage_image_for(st, neu, "linux/arm64", chosen), 0, "an image for arm64");
  CHECK_STR(chosen, neu, "the image itself");
  sc_finding_list_init(&fl);
  CHECK_INT(sc_lineage_fixes(st, oidx, nidx, &fl, &known), 0, "fixes between indexes");
  CHECK(known && fl.n == 1 && !strcmp(fl.v[0].id, "CVE-2099-0001"), "known through the arm64 children: one fix");
  sc_finding_list_free(&fl);
  sc_finding_list_init(&fl);
  CHECK_INT(sc_lineage_fixes(st, oidx, neu, &fl, &known), 0, "an index that became an image");
  CHECK(known && fl.n == 1, "compared with the image itself");
  sc_finding_list_free(&fl);
}

int main(void) {
  sc_store *st = NULL;
  test_chain_ids();
  if (sc_store_open(":memory:", &st) != 0) {
    printf("Bail out! cannot open a store\n");
    return 1;
  }
  test_local(st);
  test_annotation_and_index(st);
  test_dated_tags(st);
  test_watch(st);
  test_diff_id_lookup(st);
  test_fixes_by_chain(st);
  sc_store_close(st);
  return tap_done();
}
