/* test_inventory.c - inventory storage, layer merge (whiteouts, opaque dirs,
 * re-cataloged paths), OS ecosystems and package URLs. */
#include <stdlib.h>
#include <string.h>

#include "../../scanner/sc_inventory.h"
#include "tap.h"

static void add(sc_inventory *inv, const char *type, const char *eco, const char *name,
                const char *ver, const char *path) {
  sc_package p = {(char *)type, (char *)eco, (char *)name, (char *)ver, NULL, NULL, (char *)path, NULL};
  if (sc_inventory_add_package(inv, &p)) abort();
}

static const sc_package *find(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (strcmp(inv->pkgs[i].name, name) == 0) return &inv->pkgs[i];
  return NULL;
}

static void test_ecosystems(void) {
  static const struct { const char *id, *ver, *want; } t[] = {
      {"debian", "12", "Debian:12"},
      {"debian", "11.8", "Debian:11"},
      {"debian", NULL, "Debian"},
      {"ubuntu", "22.04", "Ubuntu:22.04"},
      {"alpine", "3.19.1", "Alpine:v3.19"},
      {"alpine", "3.18", "Alpine:v3.18"},
      {"rocky", "9.3", "Rocky Linux:9"},
      {"almalinux", "8.9", "AlmaLinux:8"},
      {"rhel", "9.3", "Red Hat"},
      {"wolfi", "20230201", "Wolfi"},
      {"plan9", "4", NULL},
      {NULL, "1", NULL},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    char *got = sc_os_ecosystem(t[i].id, t[i].ver);
    CHECK_STR(got, t[i].want, "ecosystem %s %s", t[i].id ? t[i].id : "(null)", t[i].ver ? t[i].ver : "(null)");
    free(got);
  }
}

static void test_path_clean(void) {
  static const struct { const char *in, *want; } t[] = {
      {"./etc/passwd", "etc/passwd"}, {"/usr/bin", "usr/bin"}, {"etc", "etc"},
      {".//./x", "x"}, {"./", ""}, {".hidden", ".hidden"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    CHECK_STR(sc_path_clean(t[i].in), t[i].want, "path_clean %s", t[i].in);
}

static void test_purls(void) {
  static const struct {
    const char *os_id, *os_ver, *type, *eco, *name, *ver, *want_purl, *want_eco;
  } t[] = {
      {"debian", "12", "deb", NULL, "curl", "7.88.1-10", "pkg:deb/debian/curl@7.88.1-10?distro=debian-12", "Debian:12"},
      {"debian", "12", "deb", NULL, "libc6", "2.36-9+deb12u4", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?distro=debian-12", "Debian:12"},
      {"debian", "12", "deb", NULL, "perl", "1:5.36.0-7", "pkg:deb/debian/perl@1:5.36.0-7?distro=debian-12", "Debian:12"},
      {"ubuntu", "22.04", "deb", NULL, "bash", "5.1-6ubuntu1", "pkg:deb/ubuntu/bash@5.1-6ubuntu1?distro=ubuntu-22.04", "Ubuntu:22.04"},
      {"alpine", "3.19.1", "apk", NULL, "musl", "1.2.4-r2", "pkg:apk/alpine/musl@1.2.4-r2", "Alpine:v3.19"},
      {"rocky", "9.3", "rpm", NULL, "bash", "1:5.1.8-6.el9", "pkg:rpm/rocky/bash@5.1.8-6.el9?epoch=1&distro=rocky-9.3", "Rocky Linux:9"},
      {"debian", "12", "python", "PyPI", "Zope.Interface__x", "6.0", "pkg:pypi/zope-interface-x@6.0", "PyPI"},
      {"debian", "12", "python", "PyPI", "requests", "2.31.0", "pkg:pypi/requests@2.31.0", "PyPI"},
      {"debian", "12", "npm", "npm", "@babel/core", "7.23.0", "pkg:npm/%40babel/core@7.23.0", "npm"},
      {"debian", "12", "npm", "npm", "lodash", "4.17.21", "pkg:npm/lodash@4.17.21", "npm"},
      {"debian", "12", "go", "Go", "github.com/x/y", "v1.2.3", "pkg:golang/github.com/x/y@v1.2.3", "Go"},
      {"debian", "12", "java", "Maven", "org.apache.logging.log4j:log4j-core", "2.14.1",
       "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "Maven"},
      {NULL, NULL, "deb", NULL, "zlib1g", "1.2.13", "pkg:deb/deb/zlib1g@1.2.13", NULL},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_inventory inv;
    sc_inventory_init(&inv);
    if (t[i].os_id) sc_inventory_set_os(&inv, t[i].os_id, t[i].os_ver, "etc/os-release");
    add(&inv, t[i].type, t[i].eco, t[i].name, t[i].ver, "x");
    CHECK_INT(sc_inventory_finish(&inv), 0, "finish %s", t[i].name);
    CHECK_STR(inv.pkgs[0].purl, t[i].want_purl, "purl %s", t[i].name);
    CHECK_STR(inv.pkgs[0].ecosystem, t[i].want_eco, "ecosystem of %s", t[i].name);
    sc_inventory_free(&inv);
  }
}

static void test_merge(void) {
  sc_inventory img, l1, l2, l3;
  sc_inventory_init(&img);
  sc_inventory_init(&l1);
  sc_inventory_init(&l2);
  sc_inventory_init(&l3);

  /* base layer */
  sc_inventory_set_os(&l1, "debian", "12", "etc/os-release");
  add(&l1, "deb", NULL, "libc6", "2.36-9", "var/lib/dpkg/status");
  add(&l1, "deb", NULL, "curl", "7.88.1-10", "var/lib/dpkg/status");
  add(&l1, "python", "PyPI", "requests", "2.28.0", "usr/lib/python3/dist-packages/requests-2.28.0.dist-info/METADATA");
  add(&l1, "npm", "npm", "lodash", "4.17.20", "app/node_modules/lodash/package.json");
  add(&l1, "npm", "npm", "left-pad", "1.0.0", "srv/node_modules/left-pad/package.json");
  add(&l1, "npm", "npm", "leftover", "1.0.0", "srv2/node_modules/leftover/package.json");
  sc_inventory_add_secret(&l1, "root/.ssh/id_rsa", "private-key", 1);
  sc_inventory_add_secret(&l1, "opt/keep/key.pem", "private-key", 1);
  sc_strlist_add(&l1.notes, "rpm: BerkeleyDB database not supported");
  CHECK_INT(sc_inventory_merge(&img, &l1), 0, "merge base");
  CHECK_INT(img.npkgs, 6, "base packages");
  CHECK_INT(img.nsecrets, 2, "base secrets");
  CHECK_STR(img.os.id, "debian", "base os");

  /* layer 2: dpkg status rewritten (curl removed, libc6 upgraded), requests
   * dir whited out, the app dir made opaque, a secret deleted */
  sc_strlist_add(&l2.cataloged, "var/lib/dpkg/status");
  add(&l2, "deb", NULL, "libc6", "2.36-9+deb12u4", "var/lib/dpkg/status");
  sc_strlist_add(&l2.whiteouts, "usr/lib/python3/dist-packages/requests-2.28.0.dist-info");
  sc_strlist_add(&l2.opaque, "app");
  add(&l2, "npm", "npm", "lodash", "4.17.21", "app/node_modules/lodash/package.json");
  sc_strlist_add(&l2.whiteouts, "root/.ssh/id_rsa");
  sc_strlist_add(&l2.whiteouts, "srv2/node_modules/leftov"); /* a prefix, not an ancestor */
  sc_strlist_add(&l2.notes, "rpm: BerkeleyDB database not supported");
  CHECK_INT(sc_inventory_merge(&img, &l2), 0, "merge layer 2");
  CHECK(find(&img, "curl") == NULL, "curl dropped (status re-cataloged)");
  CHECK(find(&img, "libc6") && strcmp(find(&img, "libc6")->version, "2.36-9+deb12u4") == 0,
        "libc6 upgraded");
  CHECK(find(&img, "requests") == NULL, "whited-out dist-info dropped");
  CHECK(find(&img, "lodash") && strcmp(find(&img, "lodash")->version, "4.17.21") == 0,
        "opaque dir: only the upper lodash");
  CHECK(find(&img, "left-pad") != NULL, "unrelated package kept");
  CHECK(find(&img, "leftover") != NULL, "whiteout of a name prefix is not an ancestor");
  CHECK_INT(img.npkgs, 4, "packages after layer 2");
  CHECK_INT(img.nsecrets, 1, "whited-out secret dropped");
  CHECK_STR(img.nsecrets ? img.secrets[0].path : NULL, "opt/keep/key.pem", "other secret kept");
  CHECK_STR(img.os.version_id, "12", "os kept when upper has none");
  CHECK_INT(img.notes.n, 1, "duplicate notes merged once");

  /* layer 3: opaque root-level dir + new os; debian_version fallback ignored */
  sc_inventory_set_os(&l3, "debian", "13", "etc/os-release");
  sc_strlist_add(&l3.opaque, "srv");
  CHECK_INT(sc_inventory_merge(&img, &l3), 0, "merge layer 3");
  CHECK(find(&img, "left-pad") == NULL, "opaque srv hides left-pad");
  CHECK_STR(img.os.version_id, "13", "os replaced by upper os-release");

  sc_inventory l4;
  sc_inventory_init(&l4);
  sc_inventory_set_os(&l4, "debian", "13.1", "etc/debian_version");
  CHECK_INT(sc_inventory_merge(&img, &l4), 0, "merge layer 4");
  CHECK_STR(img.os.path, "etc/os-release", "fallback does not override os-release");

  CHECK_INT(sc_inventory_finish(&img), 0, "finish");
  const sc_package *libc = find(&img, "libc6");
  CHECK_STR(libc ? libc->ecosystem : NULL, "Debian:13", "deb ecosystem from merged os");
  const sc_package *lodash = find(&img, "lodash");
  CHECK_STR(lodash ? lodash->ecosystem : NULL, "npm", "npm ecosystem untouched");
  CHECK(sc_strlist_has(&l2.whiteouts, "root/.ssh/id_rsa") && !sc_strlist_has(&l2.whiteouts, "root"),
        "strlist_has exact");

  sc_inventory_free(&l1);
  sc_inventory_free(&l2);
  sc_inventory_free(&l3);
  sc_inventory_free(&l4);
  sc_inventory_free(&img);
}

static void test_opaque_root_and_many(void) {
  sc_inventory img, up;
  sc_inventory_init(&img);
  sc_inventory_init(&up);
  char name[64], path[128];
  for (int i = 0; i < 5000; i++) {
    snprintf(name, sizeof(name), "p%d", i);
    snprintf(path, sizeof(path), "d%d/node_modules/%s/package.json", i % 50, name);
    add(&img, "npm", "npm", name, "1.0.0", path);
  }
  for (int i = 0; i < 25; i++) {
    snprintf(path, sizeof(path), "d%d", i * 2);
    sc_strlist_add(&up.whiteouts, path);
  }
  CHECK_INT(sc_inventory_merge(&img, &up), 0, "merge many");
  CHECK_INT(img.npkgs, 2500, "half the dirs whited out");
  sc_inventory_free(&up);
  sc_inventory_init(&up);
  sc_strlist_add(&up.opaque, "");
  add(&up, "npm", "npm", "solo", "1", "node_modules/solo/package.json");
  CHECK_INT(sc_inventory_merge(&img, &up), 0, "merge opaque root");
  CHECK_INT(img.npkgs, 1, "opaque root hides everything below");
  sc_inventory_free(&up);
  sc_inventory_free(&img);
}

int main(void) {
  test_ecosystems();
  test_path_clean();
  test_purls();
  test_merge();
  test_opaque_root_and_many();
  return tap_done();
}
