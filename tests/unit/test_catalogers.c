/* test_catalogers.c - os, dpkg, apk, rpm (sqlite), python and npm catalogers
 * on fixtures in their real on-disk formats. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../scanner/sc_catalog.h"
#include "tap.h"


static int run_n(const sc_cataloger *c, sc_inventory *inv, const char *path, const char *data, size_t n) {
  sc_limits lim;
  sc_limits_default(&lim);
  if (!c->match(path, (int64_t)n, S_IFREG | 0644)) return 99;
  sc_memrd m = {data, n, 0};
  sc_reader r = {sc_mem_read, &m};
  return c->scan(inv, path, &r, &lim);
}

static int run(const sc_cataloger *c, sc_inventory *inv, const char *path, const char *data) {
  return run_n(c, inv, path, data, strlen(data));
}

static const sc_package *find(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (strcmp(inv->pkgs[i].name, name) == 0) return &inv->pkgs[i];
  return NULL;
}

static void test_match(void) {
  static const struct { const sc_cataloger *c; const char *path; int want; } t[] = {
      {&sc_cat_os, "etc/os-release", 1},
      {&sc_cat_os, "usr/lib/os-release", 1},
      {&sc_cat_os, "etc/alpine-release", 1},
      {&sc_cat_os, "etc/debian_version", 1},
      {&sc_cat_os, "home/etc/os-release", 0},
      {&sc_cat_dpkg, "var/lib/dpkg/status", 1},
      {&sc_cat_dpkg, "var/lib/dpkg/status-old", 0},
      {&sc_cat_dpkg, "var/lib/dpkg/status.d/libc6", 1},
      {&sc_cat_dpkg, "var/lib/dpkg/status.d/libc6.md5sums", 0},
      {&sc_cat_dpkg, "var/lib/dpkg/status.d/sub/x", 0},
      {&sc_cat_apk, "lib/apk/db/installed", 1},
      {&sc_cat_apk, "lib/apk/db/triggers", 0},
      {&sc_cat_rpm, "var/lib/rpm/rpmdb.sqlite", 1},
      {&sc_cat_rpm, "usr/lib/sysimage/rpm/rpmdb.sqlite", 1},
      {&sc_cat_rpm, "var/lib/rpm/Packages", 1},
      {&sc_cat_rpm, "var/lib/rpm/Packages.db", 1},
      {&sc_cat_rpm, "var/lib/rpm/Name", 0},
      {&sc_cat_python, "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", 1},
      {&sc_cat_python, "usr/lib/python3/dist-packages/six-1.16.0.egg-info", 1},
      {&sc_cat_python, "usr/lib/python3/dist-packages/foo-1.0.egg-info/PKG-INFO", 1},
      {&sc_cat_python, "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/RECORD", 0},
      {&sc_cat_npm, "app/node_modules/lodash/package.json", 1},
      {&sc_cat_npm, "node_modules/@babel/core/package.json", 1},
      {&sc_cat_npm, "app/node_modules/a/node_modules/b/package.json", 1},
      {&sc_cat_npm, "app/package.json", 0},
      {&sc_cat_npm, "app/node_modules/lodash/fp/package.json", 0},
      {&sc_cat_npm, "node_modules/@babel/package.json", 0},
      {&sc_cat_npm, "node_modules/package.json", 0},
      {&sc_cat_npm, "node_modules/.bin/package.json", 0},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    CHECK_INT(t[i].c->match(t[i].path, 100, S_IFREG | 0644) != 0, t[i].want, "%s match %s", t[i].c->name, t[i].path);
}

static void test_os(void) {
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_os, &inv, "etc/debian_version", "12.4\n"), 0, "debian_version");
  CHECK_STR(inv.os.id, "debian", "fallback id");
  CHECK_STR(inv.os.version_id, "12.4", "fallback version");
  const char *osr =
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
      "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"
      "HOME_URL=\"https://www.debian.org/\"\n";
  CHECK_INT(run(&sc_cat_os, &inv, "usr/lib/os-release", osr), 0, "os-release");
  CHECK_STR(inv.os.id, "debian", "os-release id");
  CHECK_STR(inv.os.version_id, "12", "os-release quoted version");
  CHECK_STR(inv.os.path, "usr/lib/os-release", "os path");
  CHECK_INT(run(&sc_cat_os, &inv, "etc/alpine-release", "3.19.1\n"), 0, "alpine-release after os-release");
  CHECK_STR(inv.os.id, "debian", "fallback ignored after os-release");
  CHECK_INT(run(&sc_cat_os, &inv, "etc/os-release", "ID='ubuntu'\nVERSION_ID=\"22.04\"\n"), 0, "etc/os-release");
  CHECK_STR(inv.os.id, "ubuntu", "etc/os-release single quotes");
  CHECK_STR(inv.os.version_id, "22.04", "etc/os-release wins");
  CHECK_INT(run(&sc_cat_os, &inv, "usr/lib/os-release", "ID=fedora\n"), 0, "usr/lib after etc");
  CHECK_STR(inv.os.id, "ubuntu", "usr/lib/os-release does not override etc/os-release");
  sc_inventory_free(&inv);

  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_os, &inv, "etc/alpine-release", "3.19.1\n"), 0, "alpine-release");
  CHECK_STR(inv.os.id, "alpine", "alpine id");
  CHECK_STR(inv.os.version_id, "3.19.1", "alpine version");
  sc_inventory_free(&inv);
  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_os, &inv, "etc/debian_version", "bookworm/sid\n"), 0, "ubuntu debian_version");
  CHECK_STR(inv.os.version_id, NULL, "codename is not a version");
  sc_inventory_free(&inv);
  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_os, &inv, "etc/os-release", "ID=alpine\nVERSION_ID=3.18.4\nNAME=\"Alpine Linux\"\n"), 0, "alpine os-release");
  CHECK_STR(inv.os.version_id, "3.18.4", "unquoted version");
  sc_inventory_free(&inv);
}

static void test_dpkg(void) {
  const char *status =
      "Package: libc6\n"
      "Status: install ok installed\n"
      "Priority: optional\n"
      "Section: libs\n"
      "Installed-Size: 12980\n"
      "Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n"
      "Architecture: amd64\n"
      "Multi-Arch: same\n"
      "Source: glibc\n"
      "Version: 2.36-9+deb12u4\n"
      "Depends: libgcc-s1\n"
      "Description: GNU C Library: Shared libraries\n"
      " Contains the standard libraries that are used by nearly all programs on\n"
      " the system.\n"
      " Package: fake-from-description\n"
      "\n"
      "Package: libssl3\n"
      "Status: install ok installed\n"
      "Source: openssl (3.0.11-1~deb12u2)\n"
      "Version: 3.0.11-1~deb12u2+b1\n"
      "\n"
      "Package: removed-pkg\n"
      "Status: deinstall ok config-files\n"
      "Version: 1.0\n"
      "\n"
      "Package: perl-base\n"
      "Status: install ok installed\n"
      "Version: 1:5.36.0-7+deb12u1\n"
      "Source: perl\n"
      "\n"
      "Package: half-installed\n"
      "Status: install reinstreq half-installed\n"
      "Version: 2.0\n"
      "\n"
      "Package: no-version\n"
      "Status: install ok installed\n"
      "\n"
      "Package: tzdata\n"
      "Status: install ok installed\n"
      "Version: 2024a-0+deb12u1";
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_dpkg, &inv, "var/lib/dpkg/status", status), 0, "dpkg status");
  CHECK_INT(inv.npkgs, 4, "installed packages only");
  const sc_package *p = find(&inv, "libc6");
  CHECK(p != NULL, "libc6 found");
  if (p) {
    CHECK_STR(p->version, "2.36-9+deb12u4", "libc6 version");
    CHECK_STR(p->source_name, "glibc", "libc6 source");
    CHECK_STR(p->source_version, NULL, "libc6 source version absent");
    CHECK_STR(p->type, "deb", "type");
    CHECK_STR(p->ecosystem, NULL, "ecosystem left for merge");
    CHECK_STR(p->path, "var/lib/dpkg/status", "path");
  }
  p = find(&inv, "libssl3");
  CHECK_STR(p ? p->source_name : NULL, "openssl", "Source name with version");
  CHECK_STR(p ? p->source_version : NULL, "3.0.11-1~deb12u2", "Source (version)");
  p = find(&inv, "perl-base");
  CHECK_STR(p ? p->version : NULL, "1:5.36.0-7+deb12u1", "epoch kept");
  CHECK(find(&inv, "removed-pkg") == NULL && find(&inv, "half-installed") == NULL, "not-installed skipped");
  CHECK(find(&inv, "fake-from-description") == NULL, "continuation lines are not fields");
  CHECK(find(&inv, "tzdata") != NULL, "last stanza without trailing newline");
  sc_inventory_free(&inv);

  sc_inventory_init(&inv);
  const char *distroless =
      "Package: base-files\nPriority: required\nSection: admin\nInstalled-Size: 343\n"
      "Maintainer: Santiago Vila <sanvila@debian.org>\nArchitecture: amd64\n"
      "Multi-Arch: foreign\nVersion: 12.4+deb12u5\nDescription: Debian base system miscellaneous files\n";
  CHECK_INT(run(&sc_cat_dpkg, &inv, "var/lib/dpkg/status.d/base-files", distroless), 0, "status.d");
  CHECK_INT(inv.npkgs, 1, "status.d without Status accepted");
  CHECK_STR(inv.npkgs ? inv.pkgs[0].version : NULL, "12.4+deb12u5", "status.d version");
  sc_inventory_free(&inv);

  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_dpkg, &inv, "var/lib/dpkg/status", "Package: x\nVersion: 1\n\n"), 0, "status without Status");
  CHECK_INT(inv.npkgs, 0, "main status file requires Status");
  sc_inventory_free(&inv);
}

static void test_apk(void) {
  const char *db =
      "C:Q1p78yvTLG094tHE1+dToJGbmYzQE=\n"
      "P:musl\n"
      "V:1.2.4_git20230717-r4\n"
      "A:x86_64\n"
      "S:407240\n"
      "I:663552\n"
      "T:the musl c library (libc) implementation\n"
      "U:https://musl.libc.org/\n"
      "L:MIT\n"
      "o:musl\n"
      "m:Timo Teras <timo.teras@iki.fi>\n"
      "t:1700000000\n"
      "c:ae8b9a2f0c6f4c5b4d7c1a3d8f6e2b9c0a1d2e3f\n"
      "F:lib\n"
      "R:ld-musl-x86_64.so.1\n"
      "a:0:0:755\n"
      "Z:Q1Pv5ZkBzU8YnxRk6vL6yAjp7lO0o=\n"
      "\n"
      "C:Q1abc=\n"
      "P:libcrypto3\n"
      "V:3.1.4-r5\n"
      "o:openssl\n"
      "\n"
      "P:broken-no-version\n"
      "\n";
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_apk, &inv, "lib/apk/db/installed", db), 0, "apk db");
  CHECK_INT(inv.npkgs, 2, "apk packages");
  const sc_package *p = find(&inv, "musl");
  CHECK_STR(p ? p->version : NULL, "1.2.4_git20230717-r4", "musl version");
  p = find(&inv, "libcrypto3");
  CHECK_STR(p ? p->source_name : NULL, "openssl", "apk origin");
  CHECK_STR(p ? p->type : NULL, "apk", "apk type");
  sc_inventory_free(&inv);
}

/* ---- rpm: builds a real rpmdb.sqlite with header blobs ---- */

typedef struct hb {
  unsigned char idx[16 * 8], data[512];
  uint32_t il, dl;
} hb;

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

static void hb_tag(hb *h, uint32_t tag, uint32_t type, const void *val, size_t n) {
  if (type == 4) while (h->dl % 4) h->data[h->dl++] = 0; /* int32 alignment */
  unsigned char *e = h->idx + 16 * h->il++;
  put32(e, tag); put32(e + 4, type); put32(e + 8, h->dl); put32(e + 12, 1);
  memcpy(h->data + h->dl, val, n);
  h->dl += (uint32_t)n;
}

static size_t hb_blob(hb *h, unsigned char *out) {
  put32(out, h->il);
  put32(out + 4, h->dl);
  memcpy(out + 8, h->idx, 16 * h->il);
  memcpy(out + 8 + 16 * h->il, h->data, h->dl);
  return 8 + 16 * h->il + h->dl;
}

static size_t make_hdr(unsigned char *out, const char *name, const char *ver, const char *rel,
                       int epoch, const char *srpm) {
  hb h;
  memset(&h, 0, sizeof(h));
  hb_tag(&h, 1000, 6, name, strlen(name) + 1);
  hb_tag(&h, 1001, 6, ver, strlen(ver) + 1);
  hb_tag(&h, 1002, 6, rel, strlen(rel) + 1);
  if (epoch >= 0) {
    unsigned char e[4];
    put32(e, (uint32_t)epoch);
    hb_tag(&h, 1003, 4, e, 4);
  }
  if (srpm) hb_tag(&h, 1044, 6, srpm, strlen(srpm) + 1);
  return hb_blob(&h, out);
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) len = 0;
  fclose(f);
  *n = (size_t)len;
  return b;
}

static void test_rpm(void) {
  char dir[] = "/tmp/customs-test-rpm-XXXXXX";
  if (!mkdtemp(dir)) { CHECK(0, "mkdtemp"); return; }
  char dbpath[256];
  snprintf(dbpath, sizeof(dbpath), "%s/rpmdb.sqlite", dir);
  sqlite3 *db;
  CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK, "create rpmdb");
  sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
               "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);"
               "CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(key, hnum, idx)) WITHOUT ROWID;",
               NULL, NULL, NULL);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1, &st, NULL);
  unsigned char blob[1024];
  struct { const char *n, *v, *r; int e; const char *s; } pk[] = {
      {"bash", "5.1.8", "6.el9", -1, "bash-5.1.8-6.el9.src.rpm"},
      {"openssl-libs", "3.0.7", "24.el9", 1, "openssl-3.0.7-24.el9.src.rpm"},
      {"gpg-pubkey", "fd431d51", "4ae0493b", -1, NULL},
      {"tzdata", "2023c", "1.el9", 0, "tzdata-2023c-1.el9.src.rpm"},
  };
  for (size_t i = 0; i < 4; i++) {
    size_t n = make_hdr(blob, pk[i].n, pk[i].v, pk[i].r, pk[i].e, pk[i].s);
    sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  /* hostile rows: truncated and lying headers */
  unsigned char bad[16] = {0, 0, 0, 200, 0, 0, 0, 10};
  sqlite3_bind_blob(st, 1, bad, sizeof(bad), SQLITE_TRANSIENT);
  sqlite3_step(st);
  sqlite3_finalize(st);
  sqlite3_close(db); /* checkpoints the WAL into the file, which stays in WAL mode */

  size_t n = 0;
  char *data = slurp(dbpath, &n);
  CHECK(data && n > 100 && data[18] == 2, "fixture is a WAL-mode database");
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(run_n(&sc_cat_rpm, &inv, "var/lib/rpm/rpmdb.sqlite", data, n), 0, "rpm sqlite scan");
  CHECK_INT(inv.npkgs, 3, "rpm packages (gpg-pubkey and bad rows skipped)");
  const sc_package *p = find(&inv, "bash");
  CHECK_STR(p ? p->version : NULL, "5.1.8-6.el9", "bash version-release");
  CHECK_STR(p ? p->source_name : NULL, "bash", "bash source name");
  CHECK_STR(p ? p->source_version : NULL, "5.1.8-6.el9", "bash source version");
  p = find(&inv, "openssl-libs");
  CHECK_STR(p ? p->version : NULL, "1:3.0.7-24.el9", "epoch prefix");
  CHECK_STR(p ? p->source_name : NULL, "openssl", "openssl source");
  p = find(&inv, "tzdata");
  CHECK_STR(p ? p->version : NULL, "2023c-1.el9", "epoch 0 omitted");
  CHECK_INT(inv.notes.n, 1, "note about the unreadable header");
  sc_inventory_free(&inv);

  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_rpm, &inv, "var/lib/rpm/rpmdb.sqlite", "not a database at all"), SC_ERR_DB,
            "garbage rpmdb is a DB error");
  CHECK_INT(run(&sc_cat_rpm, &inv, "var/lib/rpm/Packages", "\0\0\0\0\x61\x15\x06\0"), 0, "BerkeleyDB");
  /* the literal stops at its first NUL: an empty Packages file */
  CHECK(inv.notes.n == 1 && strstr(inv.notes.v[0], "rpm: var/lib/rpm/Packages: empty database"), "empty BDB note");
  sc_inventory_free(&inv);
  free(data);
  unlink(dbpath);
  rmdir(dir);
}

static void test_python(void) {
  const char *meta =
      "Metadata-Version: 2.1\n"
      "Name: requests\n"
      "Version: 2.31.0\n"
      "Summary: Python HTTP for Humans.\n"
      "Requires-Dist: charset-normalizer (<4,>=2)\n"
      "\n"
      "Name: not-this-one\n"
      "Version: 9.9.9\n";
  sc_inventory inv;
  sc_inventory_init(&inv);
  const char *path = "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA";
  CHECK_INT(run(&sc_cat_python, &inv, path, meta), 0, "METADATA");
  CHECK_INT(inv.npkgs, 1, "one distribution");
  CHECK_STR(inv.npkgs ? inv.pkgs[0].name : NULL, "requests", "name");
  CHECK_STR(inv.npkgs ? inv.pkgs[0].version : NULL, "2.31.0", "version");
  CHECK_STR(inv.npkgs ? inv.pkgs[0].ecosystem : NULL, "PyPI", "ecosystem");
  CHECK_INT(run(&sc_cat_python, &inv, "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
                "Metadata-Version: 1.2\r\nName: six\r\nVersion: 1.16.0\r\n"), 0, "egg-info file");
  const sc_package *p = find(&inv, "six");
  CHECK_STR(p ? p->version : NULL, "1.16.0", "egg-info CRLF version");
  CHECK_INT(run(&sc_cat_python, &inv, "x/y-1.0.egg-info/PKG-INFO", "Metadata-Version: 1.0\nSummary: z\n"), 0, "no name");
  CHECK_INT(inv.npkgs, 2, "incomplete metadata ignored");
  sc_inventory_free(&inv);
}

static void test_npm(void) {
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(run(&sc_cat_npm, &inv, "app/node_modules/@babel/core/package.json",
                "{\"name\": \"@babel/core\", \"version\": \"7.23.0\", \"dependencies\": {\"x\": \"^1\"}}"), 0, "scoped");
  CHECK_INT(run(&sc_cat_npm, &inv, "app/node_modules/a/node_modules/lodash/package.json",
                "{\"name\":\"lodash\",\"version\":\"4.17.21\",\"main\":\"lodash.js\"}"), 0, "nested");
  CHECK_INT(run(&sc_cat_npm, &inv, "app/node_modules/broken/package.json", "{\"name\": \"broken\", "),
            SC_ERR_FORMAT, "truncated json");
  CHECK_INT(run(&sc_cat_npm, &inv, "app/node_modules/arr/package.json", "[1,2]"), SC_ERR_FORMAT, "not an object");
  CHECK_INT(run(&sc_cat_npm, &inv, "app/node_modules/nov/package.json", "{\"name\":\"nov\"}"), 0, "no version");
  CHECK_INT(inv.npkgs, 2, "two packages");
  const sc_package *p = find(&inv, "@babel/core");
  CHECK_STR(p ? p->version : NULL, "7.23.0", "scoped version");
  CHECK_STR(p ? p->ecosystem : NULL, "npm", "ecosystem");
  p = find(&inv, "lodash");
  CHECK_STR(p ? p->path : NULL, "app/node_modules/a/node_modules/lodash/package.json", "path kept");
  sc_inventory_free(&inv);
}

static void test_read_all(void) {
  const char *s = "0123456789";
  static const struct { size_t cap; int rv; size_t len; } t[] = {
      {100, 0, 10}, {10, 0, 10}, {9, SC_ERR_LIMIT, 0}, {0, SC_ERR_LIMIT, 0}};
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_memrd m = {s, 10, 0};
    sc_reader r = {sc_mem_read, &m};
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(sc_read_all(&r, t[i].cap, &out, &len), t[i].rv, "read_all cap %zu", t[i].cap);
    if (t[i].rv == 0) {
      CHECK_INT(len, t[i].len, "read_all len");
      CHECK(out && out[len] == '\0' && memcmp(out, s, len) == 0, "read_all bytes");
    }
    free(out);
  }
  int n = 0;
  while (sc_catalogers[n]) n++;
  CHECK_INT(n, 13, "thirteen catalogers in the table");
  sc_limits lim;
  sc_limits_default(&lim);
  CHECK(lim.max_entries > 0 && lim.max_file_read >= lim.max_secret_file && lim.max_ratio > 1, "sane limits");
}

int main(void) {
  test_match();
  test_os();
  test_dpkg();
  test_apk();
  test_rpm();
  test_python();
  test_npm();
  test_read_all();
  return tap_done();
}
