/* test_match.c - matching inventories against imported OSV records: dpkg by
 * source (with epochs), apk origin, PyPI names, npm scopes, Go prefixes and
 * stdlib, fixed versions, last_affected, Ubuntu LTS; stored images, layer
 * attribution, re-matching after an import; findings matched by caution
 * keep their mark through the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_cvss.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_store.h"
#include "sc_store_int.h" /* white box: the tests read the SQLite tables */
#include "tap.h"

static sc_store *st;

#define EV(i, f) "{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"" i "\"},{\"fixed\":\"" f "\"}]}"
#define SV(i, f) "{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"" i "\"},{\"fixed\":\"" f "\"}]}"
#define AFF(eco, name, ranges) \
  "{\"package\":{\"ecosystem\":\"" eco "\",\"name\":\"" name "\"},\"ranges\":[" ranges "]}"
#define REC(id, aff) "{\"id\":\"" id "\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[" aff "]}"

static const char *const records[] = {
    "{\"id\":\"CVE-DEB-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":["
    AFF("Debian:12", "openssl", EV("0", "1:3.0.13-1")) "],\"severity\":[{\"type\":\"CVSS_V3\","
    "\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}]}",
    REC("ALPINE-1", AFF("Alpine:v3.19", "openssl", EV("0", "3.1.4-r1"))),
    "{\"id\":\"PY-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":"
    "\"PyPI\",\"name\":\"foo-bar\"},\"versions\":[\"1.0\",\"1.1\"]}]}",
    REC("NPM-1", AFF("npm", "@scope/pkg", SV("0", "1.0.5"))),
    REC("GO-NET", AFF("Go", "golang.org/x/net", SV("0", "0.23.0"))),
    REC("GO-STD", AFF("Go", "stdlib", SV("0", "1.21.8") "," SV("1.22.0", "1.22.1"))),
    REC("MULTI-1", AFF("npm", "multi", EV("0", "1.2.0") "," EV("2.0.0", "2.1.0") "," EV("2.0.0", "2.0.5"))),
    "{\"id\":\"LAST-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":"
    "\"npm\",\"name\":\"lastpkg\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"3.0.0\"},"
    "{\"last_affected\":\"3.0.2\"}]}]}]}",
    "{\"id\":\"USN-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":"
    "\"Ubuntu:22.04:LTS\",\"name\":\"curl\"},\"ecosystem_specific\":{\"severity\":\"high\"},"
    "\"ranges\":[" EV("0", "7.81.0-1ubuntu1.15") "]}]}",
};

typedef struct {
  const char *type, *eco, *name, *version, *src, *srcver;
} pk;

static void add(sc_inventory *inv, const pk *p) {
  sc_package k = {(char *)p->type, (char *)p->eco, (char *)p->name, (char *)p->version,
                  (char *)p->src, (char *)p->srcver, (char *)"x", NULL};
  sc_inventory_add_package(inv, &k);
}

/* the finding for (id, package) or NULL */
static const sc_finding *find(const sc_finding_list *l, const char *id, const char *pkg) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].id, id) && !strcmp(l->v[i].package, pkg)) return &l->v[i];
  return NULL;
}

static void test_inventory(void) {
  sc_vulndb *db = NULL;
  CHECK_INT(sc_vulndb_load(st, &db), 0, "load vulndb");
  CHECK(sc_vulndb_size(db) >= 9, "entries loaded (%zu)", sc_vulndb_size(db));
  static const pk pkgs[] = {
      {"deb", "Debian:12", "libssl3", "3.0.11-1+b1", "openssl", "1:3.0.11-1"},
      /* binary version alone (no epoch) would look affected; the source is fixed */
      {"deb", "Debian:12", "openssl", "3.0.14-1", "openssl", "1:3.0.14-1"},
      {"deb", "Debian:12", "libssl-at-fix", "3.0.13-1", "openssl", "1:3.0.13-1"},
      {"apk", "Alpine:v3.19", "libcrypto3", "3.1.4-r0", "openssl", NULL},
      {"python", "PyPI", "Foo_Bar", "1.0", NULL, NULL},
      {"python", "PyPI", "foo.bar", "1.2", NULL, NULL},
      {"npm", "npm", "@scope/pkg", "1.0.4", NULL, NULL},
      {"npm", "npm", "pkg", "1.0.4", NULL, NULL},
      {"go", "Go", "golang.org/x/net", "v0.17.0", NULL, NULL},
      {"go", "Go", "stdlib", "go1.21.5", NULL, NULL},
      {"npm", "npm", "multi", "2.0.1", NULL, NULL},
      {"npm", "npm", "lastpkg", "3.0.2", NULL, NULL},
      {"deb", "Ubuntu:22.04", "curl", "7.81.0-1ubuntu1.14", NULL, NULL},
  };
  static const pk clean[] = {
      {"npm", "npm", "multi", "2.1.0", NULL, NULL},   /* exactly at a fix */
      {"npm", "npm", "lastpkg", "3.0.3", NULL, NULL}, /* after last_affected */
      {"go", "Go", "stdlib", "go1.21.8", NULL, NULL},
      {"npm", "npm", "@scope/pkg", "1.0.5", NULL, NULL},
  };
  sc_inventory inv;
  sc_inventory_init(&inv);
  for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++) add(&inv, &pkgs[i]);
  for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) add(&inv, &clean[i]);
  sc_inventory_finish(&inv);
  sc_finding_list l;
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_inventory(db, &inv, NULL, &l), 0, "match");
  static const struct {
    const char *id, *pkg, *fixed;
    int sev;
  } want[] = {
      {"CVE-DEB-1", "libssl3", "1:3.0.13-1", SC_SEV_CRITICAL},
      {"ALPINE-1", "libcrypto3", "3.1.4-r1", SC_SEV_UNKNOWN},
      {"PY-1", "Foo_Bar", "", SC_SEV_UNKNOWN},
      {"NPM-1", "@scope/pkg", "1.0.5", SC_SEV_UNKNOWN},
      {"GO-NET", "golang.org/x/net", "0.23.0", SC_SEV_UNKNOWN},
      {"GO-STD", "stdlib", "1.21.8", SC_SEV_UNKNOWN},
      {"MULTI-1", "multi", "2.0.5", SC_SEV_UNKNOWN},
      {"LAST-1", "lastpkg", "", SC_SEV_UNKNOWN},
      {"USN-1", "curl", "7.81.0-1ubuntu1.15", SC_SEV_HIGH},
  };
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    const sc_finding *f = find(&l, want[i].id, want[i].pkg);
    CHECK(f != NULL, "%s affects %s", want[i].id, want[i].pkg);
    if (!f) continue;
    CHECK_STR(f->fixed_version, want[i].fixed, "%s fixed version", want[i].id);
    CHECK_INT(f->severity, want[i].sev, "%s severity", want[i].id);
  }
  CHECK_INT(l.n, sizeof(want) / sizeof(want[0]), "no other findings (at fix, after last_affected, "
                                                 "normalised-away names, epochs)");
  CHECK(l.n && !strcmp(l.v[0].id, "CVE-DEB-1"), "critical sorted first");
  CHECK(l.n > 1 && !strcmp(l.v[1].id, "USN-1"), "then high");
  const sc_finding *f = find(&l, "CVE-DEB-1", "libssl3");
  CHECK(f && f->score > 9.7 && f->score < 9.9, "score carried");
  CHECK(f && sc_finding_fixable(f), "fixable");
  CHECK(find(&l, "LAST-1", "lastpkg") && !sc_finding_fixable(find(&l, "LAST-1", "lastpkg")),
        "last_affected only: not fixable");
  CHECK_STR(f ? f->version : NULL, "3.0.11-1+b1", "installed binary version reported");
  sc_finding_list_free(&l);
  sc_inventory_free(&inv);
  sc_vulndb_free(db);
}

/* A version the comparator cannot parse is matched conservatively (counted
 * affected, with a note), never silently "not affected". */
static void test_unparsable(void) {
  sc_vulndb *db = NULL;
  CHECK_INT(sc_vulndb_load(st, &db), 0, "unparsable: load vulndb");
  static const pk pkgs[] = {
      {"npm", "npm", "@scope/pkg", "not a version!!", NULL, NULL},   /* SEMVER cannot parse it */
      {"deb", "Debian:12", "openssl", "3.0.1 1", NULL, NULL},        /* nor dpkg (space) */
      {"npm", "npm", "multi", "2.1.0", NULL, NULL},                  /* parses: at a fix, clean */
  };
  sc_inventory inv;
  sc_inventory_init(&inv);
  for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++) add(&inv, &pkgs[i]);
  sc_inventory_finish(&inv);
  sc_finding_list l;
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_inventory(db, &inv, NULL, &l), 0, "unparsable: match");
  CHECK(find(&l, "NPM-1", "@scope/pkg") != NULL, "unparsable semver version counted as affected");
  CHECK(find(&l, "CVE-DEB-1", "openssl") != NULL, "unparsable dpkg version counted as affected");
  CHECK(find(&l, "MULTI-1", "multi") == NULL, "a version that parses is still judged by the range");
  CHECK_INT(l.unsure, 2, "two findings by caution");
  int noted = 0;
  for (size_t i = 0; i < l.notes.n; i++)
    noted += strstr(l.notes.v[i], "version not comparable") && (strstr(l.notes.v[i], "NPM-1") || strstr(l.notes.v[i], "CVE-DEB-1"));
  CHECK_INT(noted, 2, "each has a note (%s)", l.notes.n ? l.notes.v[0] : "none");
  sc_finding_list_free(&l);
  sc_inventory_free(&inv);
  sc_vulndb_free(db);
}

#define L1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define L2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define IMG "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void test_store(void) {
  sc_inventory a, b;
  sc_inventory_init(&a);
  sc_inventory_init(&b);
  sc_inventory_set_os(&a, "debian", "12", "etc/os-release");
  static const pk p1 = {"deb", NULL, "libssl3", "3.0.11-1+b1", "openssl", "1:3.0.11-1"};
  static const pk p2 = {"npm", "npm", "multi", "2.0.1", NULL, NULL};
  sc_package k1 = {(char *)p1.type, NULL, (char *)p1.name, (char *)p1.version, (char *)p1.src,
                   (char *)p1.srcver, (char *)"var/lib/dpkg/status", NULL};
  sc_package k2 = {(char *)p2.type, (char *)p2.eco, (char *)p2.name, (char *)p2.version, NULL, NULL,
                   (char *)"app/node_modules/multi/package.json", NULL};
  sc_inventory_add_package(&a, &k1);
  sc_inventory_add_package(&b, &k2);
  CHECK_INT(sc_store_put_layer(st, L1, NULL, &a), 0, "layer 1");
  CHECK_INT(sc_store_put_layer(st, L2, NULL, &b), 0, "layer 2");
  sc_manifest m;
  memset(&m, 0, sizeof(m));
  sc_mlayer ls[2] = {{(char *)L1, NULL, 1}, {(char *)L2, NULL, 1}};
  m.kind = SC_MANIFEST_IMAGE;
  m.layers = ls;
  m.nlayers = 2;
  CHECK_INT(sc_store_put_manifest(st, "team/app", "v1", IMG, &m, NULL, 0), 0, "image");
  sc_finding_list l;
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_image(st, IMG, &l), 0, "match stored image");
  CHECK_INT(l.n, 2, "two findings");
  for (size_t i = 0; i < l.n; i++) {
    const char *want = !strcmp(l.v[i].package, "libssl3") ? L1 : L2;
    CHECK_STR(l.layer[i], want, "%s attributed to its layer", l.v[i].package);
  }
  CHECK(l.n && !strcmp(l.v[0].ecosystem, "Debian:12"), "OS ecosystem from the image's os-release");
  sc_finding_list_free(&l);
  sc_db_stmt *s;
  sc_db_prepare(st->db, "SELECT count(*) FROM findings WHERE image = ?", 0, &s);
  sc_db_bind_text(s, 1, IMG);
  sc_db_step(s);
  CHECK_INT((int)sc_db_column_int64(s, 0), 2, "findings stored");
  sc_db_finalize(s);

  /* a newer record changes the finding: re-match, no rescan */
  const char *upd = REC("MULTI-1", AFF("npm", "multi", EV("2.0.0", "2.0.3")));
  char *u = strdup(upd);
  memcpy(strstr(u, "2024-01-01"), "2024-05-01", 10);
  sc_osv_stats os = {0};
  CHECK_INT(sc_osv_import_buffer(st, "upd", u, strlen(u), &os), 0, "import update");
  free(u);
  int64_t gen = 0;
  sc_vulndb_generation(st, &gen);
  sc_match_stats ms;
  CHECK_INT(sc_match_rematch_all(st, &ms), 0, "re-match all");
  CHECK_INT(ms.images, 1, "one image re-matched");
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_image(st, IMG, &l), 0, "read stored findings");
  CHECK_INT(l.generation, gen, "at the new generation");
  const sc_finding *f = find(&l, "MULTI-1", "multi");
  CHECK_STR(f ? f->fixed_version : NULL, "2.0.3", "fixed version from the updated record");
  /* an import that changes nothing for this image: rows stay, generation moves */
  const char *other = REC("OTHER-1", AFF("npm", "not-here", EV("0", "1")));
  CHECK_INT(sc_osv_import_buffer(st, "other", other, strlen(other), &os), 0, "unrelated import");
  CHECK_INT(sc_match_rematch_all(st, &ms), 0, "re-match again");
  sc_finding_list_free(&l);
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_image(st, IMG, &l), 0, "read stored findings again");
  CHECK_INT(l.generation, gen + 1, "valid for the newer generation");
  CHECK_INT(l.n, 2, "same findings kept");
  CHECK_INT(sc_match_image(st, "sha256:4444444444444444444444444444444444444444444444444444444444444444", &l),
            SC_ERR_NOTFOUND, "unknown image");
  sc_finding_list_free(&l);
  sc_inventory_free(&a);
  sc_inventory_free(&b);
}


/* ---- stored images match exactly what merging their layers gives -------------- */

typedef struct lspec {
  const char *digest, *os_id, *os_ver, *os_path;
  pk pkgs[3];
  const char *paths[3]; /* per package */
  const char *cataloged[2], *whiteouts[2], *opaque[2];
} lspec;

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
static const lspec layers[] = {
    {D("a"), "debian", "12", "etc/os-release",
     {{"deb", NULL, "libssl3", "3.0.11-1+b1", "openssl", "1:3.0.11-1"},
      {"npm", "npm", "multi", "2.0.1", NULL, NULL},
      {"npm", "npm", "lastpkg", "3.0.2", NULL, NULL}},
     {"var/lib/dpkg/status", "app/node_modules/multi/package.json", "opt/x/package.json"},
     {"var/lib/dpkg/status", "etc/os-release"}, {NULL}, {NULL}},
    {D("b"), "ubuntu", "22.04", "etc/os-release",
     {{"deb", NULL, "curl", "7.81.0-1ubuntu1.14", NULL, NULL}}, {"var/lib/dpkg/status"},
     {"var/lib/dpkg/status", "etc/os-release"}, {NULL}, {NULL}},
    /* whiteout of a directory above a package */
    {D("c"), NULL, NULL, NULL, {{"npm", "npm", "@scope/pkg", "1.0.4", NULL, NULL}}, {"app2/package.json"},
     {NULL}, {"opt/x"}, {NULL}},
    /* dpkg status written again: the lower one's packages are gone */
    {D("d"), NULL, NULL, NULL, {{"deb", NULL, "libssl3", "3.0.13-1", "openssl", "1:3.0.13-1"}},
     {"var/lib/dpkg/status"}, {"var/lib/dpkg/status"}, {NULL}, {NULL}},
    {D("e"), NULL, NULL, NULL, {{NULL}}, {NULL}, {NULL}, {NULL}, {"app"}},
    /* a new os-release: the lower deb packages belong to Ubuntu now */
    {D("f"), "ubuntu", "22.04", "etc/os-release", {{NULL}}, {NULL}, {"etc/os-release"}, {NULL}, {NULL}},
    /* a fallback never overrides an os-release */
    {D("0"), "debian", "11", "etc/debian_version", {{NULL}}, {NULL}, {"etc/debian_version"}, {NULL}, {NULL}},
    /* whiteout of the os-release: no OS, no OS ecosystem */
    {D("1"), NULL, NULL, NULL, {{"go", "Go", "stdlib", "go1.21.5", NULL, NULL}}, {"usr/bin/app"}, {NULL},
     {"etc/os-release"}, {NULL}},
};

static const struct {
  const char *digest;
  const char *layers[4];
} images[] = {
    {D("2"), {D("a")}},         {D("3"), {D("a"), D("c")}}, {D("4"), {D("a"), D("d")}},
    {D("5"), {D("a"), D("e")}}, {D("6"), {D("a"), D("f")}}, {D("7"), {D("a"), D("0")}},
    {D("8"), {D("b"), D("a")}}, {D("9"), {D("a"), D("4"), D("c")}}, /* middle layer never stored */
    {D("c"), {D("a"), D("a")}}, {D("d"), {D("b"), D("1"), D("a")}}, {D("e"), {D("a"), D("1")}},
};

static int same_str(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

/* Same findings, same order, every field but the layer. */
static int same_list(const sc_finding_list *a, const sc_finding_list *b) {
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->n; i++) {
    const sc_finding *f = &a->v[i], *g = &b->v[i];
    if (!same_str(f->id, g->id) || !same_str(f->package, g->package) || !same_str(f->version, g->version) ||
        !same_str(f->fixed_version, g->fixed_version) || !same_str(f->ecosystem, g->ecosystem) ||
        f->severity != g->severity || f->score != g->score || f->naliases != g->naliases ||
        !same_str(a->purl[i], b->purl[i]))
      return 0;
  }
  return 1;
}

static size_t view_count(const char *digest) {
  sc_db_stmt *s;
  size_t n = (size_t)-1;
  if (sc_db_prepare(st->db, "SELECT count(*) FROM findings WHERE image = ?", 0, &s)) return n;
  sc_db_bind_text(s, 1, digest);
  if (sc_db_step(s) == SC_DB_ROW) n = (size_t)sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return n;
}

static void check_images(const sc_vulndb *db, const char *when) {
  for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
    sc_inventory inv;
    sc_inventory_init(&inv);
    sc_finding_list ref, got;
    sc_finding_list_init(&ref);
    sc_finding_list_init(&got);
    CHECK_INT(sc_store_image_inventory(st, images[i].digest, &inv), 0, "%s: image %zu inventory", when, i);
    CHECK_INT(sc_match_inventory(db, &inv, NULL, &ref), 0, "%s: image %zu reference match", when, i);
    CHECK_INT(sc_match_image(st, images[i].digest, &got), 0, "%s: image %zu match", when, i);
    CHECK(same_list(&ref, &got), "%s: image %zu: %zu findings as merging the layers gives (%zu)", when, i,
          got.n, ref.n);
    CHECK_INT(view_count(images[i].digest), got.n, "%s: image %zu: findings view agrees", when, i);
    /* each finding names a layer of the image that holds its package */
    size_t bad = 0;
    for (size_t k = 0; k < got.n; k++) {
      int ok = 0;
      for (size_t L = 0; L < 4 && images[i].layers[L]; L++) {
        if (strcmp(got.layer[k], images[i].layers[L])) continue;
        for (size_t q = 0; q < sizeof(layers) / sizeof(layers[0]); q++)
          if (!strcmp(layers[q].digest, got.layer[k]))
            for (size_t j = 0; j < 3; j++)
              ok |= layers[q].pkgs[j].name && !strcmp(layers[q].pkgs[j].name, got.v[k].package);
      }
      bad += !ok;
    }
    CHECK_INT(bad, 0, "%s: image %zu: findings attributed to their layers", when, i);
    /* the same stack matched ad hoc (a base known by its chain): the same
     * findings from the same layers; a stack with a hole is refused */
    size_t nl = 0, same_layers = 0;
    while (nl < 4 && images[i].layers[nl]) nl++;
    int hole = !strcmp(images[i].digest, D("9"));
    sc_finding_list adhoc;
    sc_finding_list_init(&adhoc);
    CHECK_INT(sc_match_layers(st, images[i].layers, nl, &adhoc), hole ? SC_ERR_NOTFOUND : 0,
              "%s: image %zu: its layers matched ad hoc%s", when, i, hole ? " (one never stored)" : "");
    if (!hole) {
      CHECK(same_list(&got, &adhoc), "%s: image %zu: ad hoc, the same %zu findings (%zu)", when, i, got.n, adhoc.n);
      for (size_t k = 0; k < got.n && k < adhoc.n; k++) same_layers += !strcmp(got.layer[k], adhoc.layer[k]);
      CHECK_INT(same_layers, got.n, "%s: image %zu: ad hoc, each from the same layer", when, i);
    }
    sc_finding_list_free(&adhoc);
    sc_finding_list_free(&ref);
    sc_finding_list_free(&got);
    sc_inventory_free(&inv);
  }
}

static int sql_count(const char *sql) {
  sc_db_stmt *s;
  int n = -1;
  if (sc_db_prepare(st->db, sql, 0, &s) == 0 && sc_db_step(s) == SC_DB_ROW)
    n = (int)sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return n;
}

/* sc_match_layers on stacks no image has: merged as an image's would be,
 * and nothing stored. */
static void test_match_layers(void) {
  int images_before = sql_count("SELECT count(*) FROM matched_images"),
      sets_before = sql_count("SELECT count(*) FROM layer_findings");
  sc_finding_list l;
  /* a (Debian, vulnerable libssl3 and npm multi) under d (dpkg status
   * rewritten with the fixed libssl3): libssl3's finding is gone */
  const char *ad[] = {D("a"), D("d")}, *a_only[] = {D("a")}, *da[] = {D("d"), D("a")};
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_layers(st, a_only, 1, &l), 0, "ad hoc: layer a alone");
  CHECK(find(&l, "CVE-DEB-1", "libssl3") && find(&l, "MULTI-1", "multi"), "ad hoc: a has libssl3's and multi's findings");
  const sc_finding *f = find(&l, "CVE-DEB-1", "libssl3");
  CHECK(f && f->severity == SC_SEV_CRITICAL && !strcmp(f->fixed_version, "1:3.0.13-1") && !strcmp(l.layer[f - l.v], D("a")),
        "ad hoc: critical, fixed in 1:3.0.13-1, from layer a");
  sc_finding_list_free(&l);
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_layers(st, ad, 2, &l), 0, "ad hoc: a under d");
  CHECK(!find(&l, "CVE-DEB-1", "libssl3") && find(&l, "MULTI-1", "multi"), "ad hoc: d hides a's libssl3, not multi");
  sc_finding_list_free(&l);
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_layers(st, da, 2, &l), 0, "ad hoc: d under a");
  CHECK(find(&l, "CVE-DEB-1", "libssl3") != NULL, "ad hoc: order matters (a on top hides d's fixed libssl3)");
  sc_finding_list_free(&l);
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_layers(st, NULL, 0, &l), 0, "ad hoc: an empty stack");
  CHECK_INT(l.n, 0, "ad hoc: no findings");
  const char *unknown[] = {D("a"), "sha256:7777777777777777777777777777777777777777777777777777777777777777"};
  CHECK_INT(sc_match_layers(st, unknown, 2, &l), SC_ERR_NOTFOUND, "ad hoc: a layer never stored");
  CHECK_INT(sc_match_layers(NULL, a_only, 1, &l), SC_ERR_ARG, "ad hoc: no store");
  CHECK_INT(sc_match_layers(st, NULL, 1, &l), SC_ERR_ARG, "ad hoc: no layers");
  sc_finding_list_free(&l);
  CHECK_INT(sql_count("SELECT count(*) FROM matched_images"), images_before, "ad hoc: no image row stored");
  CHECK_INT(sql_count("SELECT count(*) FROM layer_findings"), sets_before, "ad hoc: no findings set stored");
}

static void test_merge(void) {
  for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
    const lspec *L = &layers[i];
    sc_inventory inv;
    sc_inventory_init(&inv);
    if (L->os_id) sc_inventory_set_os(&inv, L->os_id, L->os_ver, L->os_path);
    for (size_t j = 0; j < 3 && L->pkgs[j].type; j++) {
      const pk *p = &L->pkgs[j];
      sc_package k = {(char *)p->type, (char *)p->eco, (char *)p->name, (char *)p->version,
                      (char *)p->src, (char *)p->srcver, (char *)L->paths[j], NULL};
      sc_inventory_add_package(&inv, &k);
    }
    for (size_t j = 0; j < 2; j++) {
      if (L->cataloged[j]) sc_strlist_add(&inv.cataloged, L->cataloged[j]);
      if (L->whiteouts[j]) sc_strlist_add(&inv.whiteouts, L->whiteouts[j]);
      if (L->opaque[j]) sc_strlist_add(&inv.opaque, L->opaque[j]);
    }
    CHECK_INT(sc_store_put_layer(st, L->digest, NULL, &inv), 0, "merge: layer %zu stored", i);
    sc_inventory_free(&inv);
  }
  for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
    sc_mlayer ls[4];
    sc_manifest m;
    memset(&m, 0, sizeof(m));
    memset(ls, 0, sizeof(ls));
    m.kind = SC_MANIFEST_IMAGE;
    m.layers = ls;
    while (m.nlayers < 4 && images[i].layers[m.nlayers]) {
      ls[m.nlayers].digest = (char *)images[i].layers[m.nlayers];
      ls[m.nlayers].size = 1;
      m.nlayers++;
    }
    CHECK_INT(sc_store_put_manifest(st, "merge/app", NULL, images[i].digest, &m, NULL, 0), 0, "merge: image %zu", i);
  }
  sc_vulndb *db = NULL;
  CHECK_INT(sc_vulndb_load(st, &db), 0, "merge: vulndb");
  check_images(db, "first match");
  check_images(db, "stored");
  sc_match_stats ms;
  CHECK_INT(sc_match_rematch_all(st, &ms), 0, "merge: re-match all");
  check_images(db, "re-matched");
  /* the cases must differ, or they test nothing */
  sc_finding_list a, b;
  sc_finding_list_init(&a);
  sc_finding_list_init(&b);
  sc_match_image(st, images[0].digest, &a);
  for (size_t i = 1; i < 6; i++) {
    sc_finding_list_init(&b);
    sc_match_image(st, images[i].digest, &b);
    if (i < 5) CHECK(!same_list(&a, &b), "merge: image %zu differs from the base alone", i);
    else CHECK(same_list(&a, &b), "merge: a fallback OS file changes nothing");
    sc_finding_list_free(&b);
  }
  sc_finding_list_free(&a);
  sc_vulndb_free(db);
  test_match_layers();
}

/* ---- findings matched by caution keep their mark in the store ------------------ */

#define UL "sha256:5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
#define UI "sha256:6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b"

/* index of (id, package) in l, or -1 */
static long find_at(const sc_finding_list *l, const char *id, const char *pkg) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].id, id) && !strcmp(l->v[i].package, pkg)) return (long)i;
  return -1;
}

static int sql_int(const char *sql) {
  sc_db_stmt *s;
  int n = -1;
  if (sc_db_prepare(st->db, sql, 0, &s)) return -2;
  if (sc_db_step(s) == SC_DB_ROW) n = (int)sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return n;
}

static int sql_exec(const char *sql) { return sc_db_exec(st->db, sql); }

/* Checks a list read for UI: CVE-DEB-1 on "openssl 3.0.1 1" unsure, NPM-1 sure. */
static void check_unsure_list(const sc_finding_list *l, const char *when) {
  long deb = find_at(l, "CVE-DEB-1", "openssl"), npm = find_at(l, "NPM-1", "@scope/pkg");
  CHECK(deb >= 0 && npm >= 0, "%s: both findings (%zu)", when, l->n);
  CHECK(deb >= 0 && sc_finding_unsure(l, (size_t)deb), "%s: the unparsable version is marked unsure", when);
  CHECK(npm >= 0 && !sc_finding_unsure(l, (size_t)npm), "%s: the comparable one is not", when);
  CHECK_INT(l->unsure, 1, "%s: one finding by caution", when);
  CHECK(l->notes.n == 1 && strstr(l->notes.v[0], "openssl 3.0.1 1: version not comparable (dpkg)") &&
            strstr(l->notes.v[0], "CVE-DEB-1"),
        "%s: its note (%s)", when, l->notes.n ? l->notes.v[0] : "none");
}

static void test_unsure_stored(void) {
  sc_inventory a;
  sc_inventory_init(&a);
  sc_inventory_set_os(&a, "debian", "12", "etc/os-release");
  sc_package k1 = {(char *)"deb", NULL, (char *)"openssl", (char *)"3.0.1 1", NULL, NULL,
                   (char *)"var/lib/dpkg/status", NULL};
  sc_package k2 = {(char *)"npm", (char *)"npm", (char *)"@scope/pkg", (char *)"1.0.4", NULL, NULL,
                   (char *)"app/package.json", NULL};
  sc_inventory_add_package(&a, &k1);
  sc_inventory_add_package(&a, &k2);
  CHECK_INT(sc_store_put_layer(st, UL, NULL, &a), 0, "unsure: layer");
  sc_manifest m;
  memset(&m, 0, sizeof(m));
  sc_mlayer ls[1] = {{(char *)UL, NULL, 1}};
  m.kind = SC_MANIFEST_IMAGE;
  m.layers = ls;
  m.nlayers = 1;
  CHECK_INT(sc_store_put_manifest(st, "team/unsure", "v1", UI, &m, NULL, 0), 0, "unsure: image");

  sc_finding_list l;
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_store_image(st, UI, &l), 0, "unsure: computed and stored");
  check_unsure_list(&l, "computed");
  sc_finding_list_free(&l);

  /* stored: the 5th item of the hit, and the view's column */
  CHECK_INT(sql_int("SELECT count(*) FROM layer_findings WHERE layer = '" UL "'"), 1, "unsure: one stored set");
  CHECK_INT(sql_int("SELECT unsure FROM findings WHERE image = '" UI "' AND vuln = 'CVE-DEB-1'"), 1,
            "unsure: view says unsure for CVE-DEB-1");
  CHECK_INT(sql_int("SELECT unsure FROM findings WHERE image = '" UI "' AND vuln = 'NPM-1'"), 0,
            "unsure: view says sure for NPM-1");

  sc_finding_list_init(&l);
  CHECK_INT(sc_match_image(st, UI, &l), 0, "unsure: read back");
  check_unsure_list(&l, "read back");
  sc_finding_list_free(&l);

  /* read back means from the stored mark: move it to the other hit, by hand */
  CHECK_INT(sql_exec("UPDATE layer_findings SET data = replace(replace(data, ',1]', ']'),"
                     " '\"NPM-1\",\"1.0.5\",0,-1]', '\"NPM-1\",\"1.0.5\",0,-1,1]') WHERE layer = '" UL "'"),
            0, "unsure: stored mark moved");
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_image(st, UI, &l), 0, "unsure: read the edited set");
  long deb = find_at(&l, "CVE-DEB-1", "openssl"), npm = find_at(&l, "NPM-1", "@scope/pkg");
  CHECK(deb >= 0 && !sc_finding_unsure(&l, (size_t)deb) && npm >= 0 && sc_finding_unsure(&l, (size_t)npm),
        "unsure: the flag comes from the store, not from a recomputation");
  sc_finding_list_free(&l);

  /* a malformed mark makes the set unreadable: recomputed, never "sure" by default */
  CHECK_INT(sql_exec("UPDATE layer_findings SET data = replace(data, ',-1,1]', ',-1,\"x\"]') WHERE layer = '" UL "'"),
            0, "unsure: stored mark garbled");
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_image(st, UI, &l), 0, "unsure: read the garbled set");
  check_unsure_list(&l, "garbled, recomputed");
  sc_finding_list_free(&l);

  /* a re-match after an import keeps the mark */
  const char *other = REC("OTHER-2", AFF("npm", "not-here-either", EV("0", "1")));
  sc_osv_stats os = {0};
  CHECK_INT(sc_osv_import_buffer(st, "other2", other, strlen(other), &os), 0, "unsure: unrelated import");
  sc_match_stats ms;
  CHECK_INT(sc_match_rematch_all(st, &ms), 0, "unsure: re-match all");
  sc_finding_list_init(&l);
  CHECK_INT(sc_match_image(st, UI, &l), 0, "unsure: read after re-match");
  check_unsure_list(&l, "re-matched");
  sc_finding_list_free(&l);
  sc_inventory_free(&a);
}

/* Two loaded chains hold the same entries in the same order. */
static int same_chain(const sc_vuln_affected *a, const sc_vuln_affected *b, const char *what) {
  size_t n = 0;
  for (; a && b; a = a->next, b = b->next, n++) {
    int same = !strcmp(a->v->id, b->v->id) && a->sev == b->sev && a->v->sev == b->v->sev &&
               a->v->score == b->v->score && a->v->naliases == b->v->naliases && a->nranges == b->nranges &&
               a->nversions == b->nversions && a->rstart[a->nranges] == b->rstart[b->nranges];
    for (size_t e = 0; same && e < a->rstart[a->nranges]; e++)
      same = a->ev[e].kind == b->ev[e].kind && !strcmp(a->ev[e].version, b->ev[e].version);
    for (size_t k = 0; same && k < a->nversions; k++) same = !strcmp(a->versions[k], b->versions[k]);
    if (!same) {
      CHECK(0, "%s: entry %zu differs (%s / %s)", what, n, a->v->id, b->v->id);
      return 0;
    }
  }
  CHECK(!a && !b, "%s: same length (%zu entries in common)", what, n);
  return !a && !b;
}

/* sc_vulndb_load_for / sc_vulndb_add (what a verdict loads: the image's
 * pairs only) give the same chains, in the same order, and the same
 * findings as the full load; other pairs are not loaded at all. */
static void test_partial(void) {
  static const char *const more[] = {
      /* one record, the same pair twice with different per-package severities: order counts */
      "{\"id\":\"TWICE-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":["
      "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"multi\"},\"ecosystem_specific\":{\"severity\":\"low\"},"
      "\"ranges\":[" EV("0", "2.0.3") "]},"
      "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"multi\"},\"ecosystem_specific\":{\"severity\":\"high\"},"
      "\"ranges\":[" EV("1.0.0", "2.0.4") "]}]}",
      /* one record, two pairs: one sc_vuln shared by both chains */
      REC("BOTH-1", AFF("PyPI", "foo-bar", EV("0", "9")) "," AFF("Go", "golang.org/x/net", SV("0", "9.0.0"))),
      /* a record for a pair no inventory below asks for */
      REC("ELSE-1", AFF("npm", "elsewhere", EV("0", "9"))),
  };
  for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
    sc_osv_stats s = {0};
    int rv = sc_osv_import_buffer(st, "t", more[i], strlen(more[i]), &s);
    CHECK(rv == 0 && s.added == 1, "partial: import record %zu", i);
  }
  static const sc_vulndb_pkg pairs[] = {
      {"Debian:12", "openssl"}, {"Alpine:v3.19", "openssl"}, {"PyPI", "foo-bar"},      {"npm", "@scope/pkg"},
      {"Go", "golang.org/x/net"}, {"Go", "stdlib"},        {"npm", "multi"},         {"npm", "lastpkg"},
      {"Ubuntu:22.04", "curl"}, {"npm", "multi"} /* twice */, {"npm", "nothing-here"},
  };
  const size_t np = sizeof(pairs) / sizeof(pairs[0]);
  sc_vulndb *full = NULL, *part = NULL;
  CHECK_INT(sc_vulndb_load(st, &full), 0, "partial: full load");
  CHECK_INT(sc_vulndb_load_for(st, pairs, 4, &part), 0, "partial: load the first pairs");
  CHECK(sc_vulndb_lookup(part, "npm", "multi") == NULL, "partial: a pair not asked for is not loaded");
  size_t before = sc_vulndb_size(part);
  CHECK_INT(sc_vulndb_add(part, st, pairs, 4), 0, "partial: adding loaded pairs again");
  CHECK_INT(sc_vulndb_size(part), before, "partial: ... loads nothing twice");
  CHECK_INT(sc_vulndb_add(part, st, pairs, np), 0, "partial: add the rest (a duplicate among them)");
  for (size_t i = 0; i < np; i++) {
    char what[96];
    snprintf(what, sizeof(what), "partial: %s %s", pairs[i].ecosystem, pairs[i].name);
    same_chain(sc_vulndb_lookup(full, pairs[i].ecosystem, pairs[i].name),
               sc_vulndb_lookup(part, pairs[i].ecosystem, pairs[i].name), what);
  }
  const sc_vuln_affected *tw = sc_vulndb_lookup(part, "npm", "multi");
  CHECK(tw && tw->next && tw->v == tw->next->v && !strcmp(tw->v->id, "TWICE-1") && tw->sev != tw->next->sev,
        "partial: one record twice in a chain, one sc_vuln, both entries");
  const sc_vuln_affected *py = sc_vulndb_lookup(part, "PyPI", "foo-bar"), *go = sc_vulndb_lookup(part, "Go", "golang.org/x/net");
  while (py && strcmp(py->v->id, "BOTH-1")) py = py->next;
  while (go && strcmp(go->v->id, "BOTH-1")) go = go->next;
  CHECK(py && go && py->v == go->v, "partial: a record of two pairs is loaded once");
  CHECK(sc_vulndb_lookup(part, "npm", "elsewhere") == NULL && sc_vulndb_lookup(full, "npm", "elsewhere") != NULL,
        "partial: other pairs stay out");
  CHECK(sc_vulndb_size(part) < sc_vulndb_size(full), "partial: fewer entries (%zu < %zu)", sc_vulndb_size(part),
        sc_vulndb_size(full));
  CHECK_INT(sc_vulndb_add(full, st, pairs, np), 0, "partial: adding to a full db is a no-op");

  /* the same findings, field by field and in the same order */
  static const pk pkgs[] = {
      {"deb", "Debian:12", "libssl3", "3.0.11-1+b1", "openssl", "1:3.0.11-1"},
      {"apk", "Alpine:v3.19", "libcrypto3", "3.1.4-r0", "openssl", NULL},
      {"python", "PyPI", "Foo_Bar", "1.0", NULL, NULL},
      {"npm", "npm", "@scope/pkg", "1.0.4", NULL, NULL},
      {"go", "Go", "golang.org/x/net", "v0.17.0", NULL, NULL},
      {"go", "Go", "stdlib", "go1.21.5", NULL, NULL},
      {"npm", "npm", "multi", "2.0.1", NULL, NULL},
      {"npm", "npm", "multi", "1.5.0", NULL, NULL},
      {"npm", "npm", "lastpkg", "3.0.2", NULL, NULL},
      {"deb", "Ubuntu:22.04", "curl", "7.81.0-1ubuntu1.14", NULL, NULL},
  };
  sc_inventory inv;
  sc_inventory_init(&inv);
  for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++) add(&inv, &pkgs[i]);
  sc_inventory_finish(&inv);
  sc_finding_list a, b;
  sc_finding_list_init(&a);
  sc_finding_list_init(&b);
  CHECK_INT(sc_match_inventory(full, &inv, NULL, &a), 0, "partial: match with the full db");
  CHECK_INT(sc_match_inventory(part, &inv, NULL, &b), 0, "partial: match with the partial db");
  CHECK(a.n >= 10 && a.n == b.n, "partial: as many findings (%zu, %zu)", a.n, b.n);
  int same = a.n == b.n;
  for (size_t i = 0; same && i < a.n; i++)
    same = !strcmp(a.v[i].id, b.v[i].id) && !strcmp(a.v[i].package, b.v[i].package) &&
           !strcmp(a.v[i].version, b.v[i].version) && !strcmp(a.v[i].fixed_version, b.v[i].fixed_version) &&
           a.v[i].severity == b.v[i].severity && a.v[i].score == b.v[i].score &&
           a.v[i].naliases == b.v[i].naliases && sc_finding_unsure(&a, i) == sc_finding_unsure(&b, i);
  CHECK(same, "partial: the same findings in the same order");
  const sc_finding *t = find(&b, "TWICE-1", "multi");
  /* chains are newest first (either load): the last stored entry, "high", gives it */
  CHECK(t && t->severity == SC_SEV_HIGH, "partial: the head of the chain gives the severity");
  sc_finding_list_free(&a);
  sc_finding_list_free(&b);
  sc_inventory_free(&inv);
  sc_vulndb_free(full);
  sc_vulndb_free(part);
  CHECK_INT(sc_vulndb_load_for(st, NULL, 0, &part), 0, "partial: an empty db");
  CHECK_INT(sc_vulndb_size(part), 0, "partial: ... holds nothing");
  CHECK(sc_vulndb_lookup(part, "npm", "multi") == NULL, "partial: ... finds nothing");
  sc_vulndb_free(part);
  CHECK_INT(sc_vulndb_load_for(st, pairs, 1, NULL), SC_ERR_ARG, "partial: no out");
  CHECK_INT(sc_vulndb_load_for(NULL, pairs, 1, &part), SC_ERR_ARG, "partial: no store");
}

int main(void) {
  if (sc_store_open(":memory:", &st)) {
    printf("Bail out! cannot open store\n");
    return 1;
  }
  for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
    sc_osv_stats s = {0};
    int rv = sc_osv_import_buffer(st, "t", records[i], strlen(records[i]), &s);
    CHECK(rv == 0 && s.added == 1, "import record %zu", i);
  }
  test_inventory();
  test_unparsable();
  test_store();
  test_merge();
  test_unsure_stored();
  test_partial(); /* last: it imports records the tests above do not expect */
  sc_store_close(st);
  return tap_done();
}
