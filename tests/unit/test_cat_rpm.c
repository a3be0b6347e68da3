/* test_cat_rpm.c - the rpm cataloger on its three database kinds, through
 * the layer walker (sc_layer_scan) as an image would be read:
 *   - BerkeleyDB hash Packages: tests/fixtures/rpm/Packages, written by
 *     db5.3_load (Berkeley DB 5.3, the engine of rpm < 4.16) from real rpm
 *     header blobs, and checked with rpm 4.18's own bdb_ro backend; plus
 *     files built here byte for byte to the published Berkeley DB hash page
 *     format (both byte orders, inline and overflow items) to reach what
 *     db5.3_load on this machine cannot write: big-endian pages and hostile
 *     pages (loops, offsets off the page, huge lengths, shared chains).
 *   - NDB Packages.db: tests/fixtures/rpm/Packages.ndb (.gitignore ignores
 *     *.db), written byte for byte to rpm's lib/backend/ndb/rpmpkg.c by
 *     mkrpmdb.py (Debian's rpm is built without ndb: no real tool here
 *     writes one), and hostile variants.
 *   - rpmdb.sqlite at usr/share/rpm (rpm-ostree, bootc), rpm's schema.
 * The *.hdr fixtures are real header blobs: three rpms built with rpmbuild,
 * installed with `rpm --justdb` into an rpm 4.18 database and copied out.
 * Also times the BerkeleyDB reader on a large file (MB/s, printed); with
 * CUSTOMS_RPM_BENCH=FILE it times FILE (a real db5.3_load database) too. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../scanner/sc_rpm_bdb.c" /* its format constants */
#include "../../scanner/sc_catalog.h"
#include "../../scanner/sc_layer.h"
#include "tap.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define FIX SRCDIR "/tests/fixtures/rpm/"

static char dir[] = "/tmp/customs-test-catrpm-XXXXXX";

typedef struct bytes {
  unsigned char *p;
  size_t n;
} bytes;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bytes load(const char *path) {
  bytes b = {NULL, 0};
  FILE *f = fopen(path, "rb");
  if (!f) return b;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b.p = malloc(n > 0 ? (size_t)n : 1);
  b.n = fread(b.p, 1, (size_t)n, f);
  fclose(f);
  return b;
}

typedef struct entry {
  const char *path;
  const void *p;
  size_t n;
} entry;

static const char rocky8[] = "NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"8.9\"\n";

/* Scans a layer of the given files, then finishes the inventory as an
 * image of that one layer (ecosystems and purls). */
static void scan(const entry *e, size_t ne, const sc_limits *lim0, sc_inventory *inv, sc_layer_result *res,
                 double *secs) {
  size_t total = 1 << 20;
  for (size_t i = 0; i < ne; i++) total += e[i].n + 4096;
  unsigned char *tar = malloc(total);
  size_t used = 0;
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_none(a);
  archive_write_open_memory(a, tar, total, &used);
  for (size_t i = 0; i < ne; i++) {
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e[i].path);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, (la_int64_t)e[i].n);
    archive_write_header(a, ae);
    archive_write_data(a, e[i].p, e[i].n);
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  sc_limits lim;
  if (lim0) lim = *lim0;
  else sc_limits_default(&lim);
  lim.spool_dir = dir;
  sc_inventory_init(inv);
  sc_memrd r = {tar, used, 0};
  double t0 = now_s();
  sc_layer_scan(sc_mem_read, &r, &lim, inv, res);
  if (secs) *secs = now_s() - t0;
  if (res->status == 0) sc_inventory_finish(inv);
  free(tar);
}

static const sc_package *find(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (strcmp(inv->pkgs[i].name, name) == 0) return &inv->pkgs[i];
  return NULL;
}

static int has_note(const sc_inventory *inv, const char *s) {
  for (size_t i = 0; i < inv->notes.n; i++)
    if (strstr(inv->notes.v[i], s)) return 1;
  return 0;
}

/* The three packages of the fixtures, as the layer and the image see them. */
static void check_three(const sc_inventory *inv, const sc_layer_result *res, const char *at, const char *what) {
  CHECK_INT(res->status, 0, "%s: layer ok (%s)", what, res->error);
  CHECK_INT(inv->npkgs, 3, "%s: exactly the three packages", what);
  const sc_package *p = find(inv, "openssl-libs");
  CHECK_STR(p ? p->version : NULL, "1:1.1.1k-5.el8_5", "%s: epoch:version-release", what);
  CHECK_STR(p ? p->source_name : NULL, "openssl", "%s: source from SOURCERPM", what);
  CHECK_STR(p ? p->source_version : NULL, "1:1.1.1k-5.el8_5", "%s: source version with the binary's epoch", what);
  CHECK_STR(p ? p->ecosystem : NULL, "Rocky Linux:8", "%s: ecosystem from os-release", what);
  CHECK_STR(p ? p->path : NULL, at, "%s: found in the database file", what);
  CHECK(p && p->purl && strcmp(p->purl, "pkg:rpm/rocky/openssl-libs@1.1.1k-5.el8_5?epoch=1&distro=rocky-8.9") == 0,
        "%s: purl (%s)", what, p && p->purl ? p->purl : "(null)");
  p = find(inv, "bash");
  CHECK_STR(p ? p->version : NULL, "4.4.20-4.el8_6", "%s: bash, no epoch", what);
  p = find(inv, "tzdata");
  CHECK_STR(p ? p->version : NULL, "2023c-1.el8", "%s: tzdata (noarch)", what);
  CHECK_STR(p ? p->type : NULL, "rpm", "%s: type rpm", what);
  CHECK_INT(inv->notes.n, 0, "%s: no notes", what);
}

static bytes hdr[3];

static void test_fixtures(void) {
  static const char *const names[] = {"openssl-libs", "bash", "tzdata"};
  for (int i = 0; i < 3; i++) {
    char p[512];
    snprintf(p, sizeof(p), FIX "%s.hdr", names[i]);
    hdr[i] = load(p);
    sc_rpm_header h;
    CHECK(hdr[i].n > 0 && sc_rpm_header_parse(hdr[i].p, hdr[i].n, &h) == 0 && strcmp(h.name, names[i]) == 0,
          "real header blob %s parses", names[i]);
    if (i == 0)
      CHECK(h.arch && strcmp(h.arch, "x86_64") == 0 && h.has_epoch && h.epoch == 1 &&
                strcmp(h.sourcerpm, "openssl-1.1.1k-5.el8_5.src.rpm") == 0,
            "openssl-libs header: arch, epoch, sourcerpm");
  }
  bytes bdbf = load(FIX "Packages"), ndbf = load(FIX "Packages.ndb");
  CHECK(bdbf.n > 0 && ndbf.n > 0, "fixtures present");
  static const char *const bdb_at[] = {"var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages", "usr/share/rpm/Packages"};
  for (int i = 0; i < 3; i++) {
    entry e[] = {{"etc/os-release", rocky8, strlen(rocky8)}, {bdb_at[i], bdbf.p, bdbf.n}};
    sc_inventory inv;
    sc_layer_result res;
    scan(e, 2, NULL, &inv, &res, NULL);
    char what[128];
    snprintf(what, sizeof(what), "BerkeleyDB at %s", bdb_at[i]);
    check_three(&inv, &res, bdb_at[i], what);
    sc_inventory_free(&inv);
  }
  static const char *const ndb_at[] = {"var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"};
  for (int i = 0; i < 2; i++) {
    entry e[] = {{"etc/os-release", rocky8, strlen(rocky8)}, {ndb_at[i], ndbf.p, ndbf.n}};
    sc_inventory inv;
    sc_layer_result res;
    scan(e, 2, NULL, &inv, &res, NULL);
    char what[128];
    snprintf(what, sizeof(what), "NDB at %s", ndb_at[i]);
    check_three(&inv, &res, ndb_at[i], what);
    sc_inventory_free(&inv);
  }
  /* the reader goes by the magic: an NDB file at the BerkeleyDB name reads */
  entry e[] = {{"etc/os-release", rocky8, strlen(rocky8)}, {"var/lib/rpm/Packages", ndbf.p, ndbf.n}};
  sc_inventory inv;
  sc_layer_result res;
  scan(e, 2, NULL, &inv, &res, NULL);
  CHECK(res.status == 0 && inv.npkgs == 3, "NDB content at var/lib/rpm/Packages: read by its magic (%s)", res.error);
  sc_inventory_free(&inv);
  /* an empty Packages (left behind by rpm --rebuilddb conversions) is a note */
  entry empty[] = {{"var/lib/rpm/Packages", "", 0}};
  scan(empty, 1, NULL, &inv, &res, NULL);
  CHECK(res.status == 0 && inv.npkgs == 0 && has_note(&inv, "rpm: var/lib/rpm/Packages: empty database"),
        "empty Packages: a note, not a failure (%s)", res.error);
  sc_inventory_free(&inv);
  free(bdbf.p);
  free(ndbf.p);
}

/* rpm's own sqlite schema at usr/share/rpm (rpm-ostree and bootc images). */
static void test_ostree_sqlite(void) {
  char path[600];
  snprintf(path, sizeof(path), "%s/rpmdb.sqlite", dir);
  sqlite3 *db;
  sqlite3_open(path, &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL;"
               "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);"
               "CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, "
               "PRIMARY KEY(key, hnum, idx)) WITHOUT ROWID;",
               NULL, NULL, NULL);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1, &st, NULL);
  for (int i = 0; i < 3; i++) {
    sqlite3_bind_blob(st, 1, hdr[i].p, (int)hdr[i].n, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  bytes b = load(path);
  unlink(path);
  entry e[] = {{"etc/os-release", rocky8, strlen(rocky8)}, {"usr/share/rpm/rpmdb.sqlite", b.p, b.n}};
  sc_inventory inv;
  sc_layer_result res;
  scan(e, 2, NULL, &inv, &res, NULL);
  check_three(&inv, &res, "usr/share/rpm/rpmdb.sqlite", "sqlite at usr/share/rpm");
  sc_inventory_free(&inv);
  free(b.p);
}

/* ---- a Berkeley DB hash file built byte for byte -------------------------
 * Pages as Berkeley DB 5.3 writes them (sc_rpm_bdb.h has the layout): page
 * 0 the metadata, then hash pages holding key/data pairs, data bigger than
 * a quarter page on overflow chains after them. */
typedef struct bdbw {
  unsigned char *f;
  uint32_t psize, npages, cap;
  int be;
  uint32_t cur;  /* hash page being filled (0: none) */
  uint32_t top;  /* lowest used byte of it */
} bdbw;

static void w16(const bdbw *w, unsigned char *p, uint32_t v) {
  if (w->be) p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v;
  else p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

static void w32(const bdbw *w, unsigned char *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[w->be ? k : 3 - k] = (unsigned char)(v >> (24 - 8 * k));
}

static uint32_t newpage(bdbw *w, int type) {
  if (w->npages == w->cap) {
    w->cap *= 2;
    w->f = realloc(w->f, (size_t)w->cap * w->psize);
  }
  uint32_t pg = w->npages++;
  unsigned char *p = w->f + (size_t)pg * w->psize;
  memset(p, 0, w->psize);
  w32(w, p + 8, pg);
  p[25] = (unsigned char)type;
  return pg;
}

static void bdb_init(bdbw *w, uint32_t psize, int be) {
  memset(w, 0, sizeof(*w));
  w->psize = psize;
  w->be = be;
  w->cap = 16;
  w->f = malloc((size_t)w->cap * psize);
  newpage(w, P_HASHMETA);
  unsigned char *m = w->f;
  w32(w, m + 12, BDB_HASH_MAGIC);
  w32(w, m + 16, 9);
  w32(w, m + 20, psize);
}

/* Appends an item of n bytes to the current hash page; a key starts a new
 * page when it and the largest data item would not fit (pairs stay on one
 * page, as Berkeley DB keeps them). */
static void put_item(bdbw *w, const unsigned char *it, uint32_t n) {
  unsigned char *p = w->cur ? w->f + (size_t)w->cur * w->psize : NULL;
  uint32_t entries = p ? (uint32_t)(w->be ? p[20] << 8 | p[21] : p[21] << 8 | p[20]) : 0;
  if (!p || (entries % 2 == 0 && BDB_PAGE_HDR + 2 * (entries + 2) + n + w->psize / 4 + 8 > w->top)) {
    w->cur = newpage(w, P_HASH);
    w->top = w->psize;
    entries = 0;
  }
  p = w->f + (size_t)w->cur * w->psize;
  w->top -= n;
  memcpy(p + w->top, it, n);
  w16(w, p + BDB_PAGE_HDR + 2 * entries, w->top);
  w16(w, p + 20, entries + 1);
  w16(w, p + 22, w->top);
}

/* Adds key/blob; blobs over a quarter page go to an overflow chain. */
static void bdb_add(bdbw *w, uint32_t key, const unsigned char *b, uint32_t n) {
  unsigned char k[5] = {H_KEYDATA};
  w32(w, k + 1, key);
  if (n + 1 <= w->psize / 4) {
    unsigned char *it = malloc(n + 1);
    it[0] = H_KEYDATA;
    memcpy(it + 1, b, n);
    put_item(w, k, 5);
    put_item(w, it, n + 1);
    free(it);
    return;
  }
  uint32_t room = w->psize - BDB_PAGE_HDR, first = 0, prev = 0;
  for (uint32_t off = 0; off < n; off += room) {
    uint32_t len = n - off < room ? n - off : room;
    uint32_t pg = newpage(w, P_OVERFLOW);
    unsigned char *p = w->f + (size_t)pg * w->psize;
    w16(w, p + 22, len);
    memcpy(p + BDB_PAGE_HDR, b + off, len);
    if (prev) w32(w, w->f + (size_t)prev * w->psize + 16, pg);
    else first = pg;
    prev = pg;
  }
  unsigned char it[HOFFPAGE_BYTES] = {H_OFFPAGE};
  w32(w, it + 4, first);
  w32(w, it + 8, n);
  put_item(w, k, 5);
  put_item(w, it, HOFFPAGE_BYTES);
}

static bytes bdb_done(bdbw *w) {
  w32(w, w->f + 32, w->npages - 1);
  bytes b = {w->f, (size_t)w->npages * w->psize};
  return b;
}

/* A header blob with the tags the cataloger reads, padded to about pad bytes. */
static bytes mkhdr(const char *name, const char *ver, const char *rel, size_t pad) {
  const char *v[] = {name, ver, rel, "x86_64"};
  uint32_t tags[] = {1000, 1001, 1002, 1022, 1004};
  size_t dl = 0, off[5];
  for (int i = 0; i < 4; i++) off[i] = dl, dl += strlen(v[i]) + 1;
  off[4] = dl;
  dl += pad + 1;
  bytes b = {calloc(1, 8 + 5 * 16 + dl), 8 + 5 * 16 + dl};
  uint32_t hd[2] = {5, (uint32_t)dl};
  for (int k = 0; k < 8; k++) b.p[k] = (unsigned char)(hd[k / 4] >> (24 - 8 * (k % 4)));
  for (int i = 0; i < 5; i++) {
    uint32_t e[4] = {tags[i], 6, (uint32_t)off[i], 1};
    for (int k = 0; k < 16; k++) b.p[8 + i * 16 + k] = (unsigned char)(e[k / 4] >> (24 - 8 * (k % 4)));
  }
  unsigned char *d = b.p + 8 + 5 * 16;
  for (int i = 0; i < 4; i++) memcpy(d + off[i], v[i], strlen(v[i]) + 1);
  memset(d + off[4], 'x', pad);
  return b;
}

static void scan_bdb(bytes f, const char *what, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res,
                     double *secs) {
  entry e[] = {{"var/lib/rpm/Packages", f.p, f.n}};
  (void)what;
  scan(e, 1, lim, inv, res, secs);
}

static void test_synthetic_bdb(void) {
  for (int be = 0; be < 2; be++) {
    bdbw w;
    bdb_init(&w, 4096, be);
    unsigned char zero[4] = {0, 0, 0, 3};
    bdb_add(&w, 0, zero, 4); /* rpm's counter: skipped */
    bytes small = mkhdr("small", "1.0", "1.el8", 10), big = mkhdr("big", "2.0", "3.el8", 9000);
    bdb_add(&w, 1, small.p, (uint32_t)small.n);
    bdb_add(&w, 2, big.p, (uint32_t)big.n);
    bytes f = bdb_done(&w);
    sc_inventory inv;
    sc_layer_result res;
    scan_bdb(f, "", NULL, &inv, &res, NULL);
    CHECK(res.status == 0 && inv.npkgs == 2, "%s-endian pages: both items (%s)", be ? "big" : "little", res.error);
    const sc_package *p = find(&inv, "small");
    CHECK_STR(p ? p->version : NULL, "1.0-1.el8", "%s-endian: inline (H_KEYDATA) item", be ? "big" : "little");
    p = find(&inv, "big");
    CHECK_STR(p ? p->version : NULL, "2.0-3.el8", "%s-endian: overflow chain of 3 pages", be ? "big" : "little");
    sc_inventory_free(&inv);
    free(f.p);
    free(small.p);
    free(big.p);
  }
}

/* A little-endian file with one inline header and one on a 3-page chain:
 * page 1 the hash page, pages 2-4 the chain. */
static bytes base_bdb(void) {
  bdbw w;
  bdb_init(&w, 4096, 0);
  bytes small = mkhdr("small", "1.0", "1.el8", 10), big = mkhdr("big", "2.0", "3.el8", 9000);
  bdb_add(&w, 1, small.p, (uint32_t)small.n);
  bdb_add(&w, 2, big.p, (uint32_t)big.n);
  free(small.p);
  free(big.p);
  return bdb_done(&w);
}

static void set32(bytes f, size_t at, uint32_t v) {
  for (int k = 0; k < 4; k++) f.p[at + (size_t)k] = (unsigned char)(v >> (8 * k));
}

static void set16(bytes f, size_t at, uint32_t v) {
  f.p[at] = (unsigned char)v;
  f.p[at + 1] = (unsigned char)(v >> 8);
}

static void test_hostile_bdb(void) {
  enum { PS = 4096 };
  /* where base_bdb put things: the hash page's 4 item offsets, the chain */
  static const struct {
    const char *what;
    int kind;
    uint32_t at, val;
    const char *err; /* NULL: the layer reads, one header unreadable */
  } t[] = {
      {"chain loops back on itself", 32, 3 * PS + 16, 3, NULL},
      {"chain points past the last page", 32, 2 * PS + 16, 999999, NULL},
      {"chain page of another type", 8, 3 * PS + 25, P_HASH, NULL},
      {"chain page length 0", 16, 2 * PS + 22, 0, NULL},
      {"chain page length over the page", 16, 2 * PS + 22, 60000, NULL},
      {"H_OFFPAGE to page 0", 32, 0, 0, NULL}, /* patched below: the item's pgno */
      {"item offset inside the index", 16, PS + BDB_PAGE_HDR + 6, 10, NULL},
      {"item offset past the page", 16, PS + BDB_PAGE_HDR + 6, 5000, NULL},
      {"4 GiB overflow length", 32, 0, 0xffffffffu, "budget: rpm: var/lib/rpm/Packages: a header of 4294967295 bytes"},
      {"bad magic", 32, 12, 0x12345678, "rpm: var/lib/rpm/Packages: neither a BerkeleyDB hash nor an NDB database"},
      {"page size not a power of two", 32, 20, 3000, "bad page size 3000"},
      {"page size 128 KiB", 32, 20, 131072, "bad page size 131072"},
      {"meta page type", 8, 25, 5, "metadata page of type 5"},
      {"encrypted", 8, 24, 1, "encrypted BerkeleyDB database"},
      {"hash version 99", 32, 16, 99, "BerkeleyDB hash version 99 not supported"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    bytes f = base_bdb();
    /* the overflow item is the 4th on page 1: its pgno at off+4, tlen at off+8 */
    uint32_t ioff = f.p[PS + BDB_PAGE_HDR + 6] | f.p[PS + BDB_PAGE_HDR + 7] << 8;
    uint32_t at = t[i].at;
    if (i == 5) at = PS + ioff + 4;
    if (i == 8) at = PS + ioff + 8;
    if (t[i].kind == 32) set32(f, at, t[i].val);
    else if (t[i].kind == 16) set16(f, at, t[i].val);
    else f.p[at] = (unsigned char)t[i].val;
    sc_inventory inv;
    sc_layer_result res;
    double secs;
    scan_bdb(f, t[i].what, NULL, &inv, &res, &secs);
    if (t[i].err)
      CHECK(res.status != 0 && strstr(res.error, t[i].err), "%s: layer fails, says why (%s)", t[i].what, res.error);
    else
      CHECK(res.status == 0 && inv.npkgs == 1 && has_note(&inv, "1 unreadable package headers"),
            "%s: the other header read, one noted unreadable (%s, %zu pkgs)", t[i].what, res.error, inv.npkgs);
    CHECK(secs < 2, "%s: promptly (%.3f s)", t[i].what, secs);
    sc_inventory_free(&inv);
    free(f.p);
  }
  /* last_pgno far past the file: only the pages that exist are read */
  bytes f = base_bdb();
  set32(f, 32, 0xfffffff0u);
  sc_inventory inv;
  sc_layer_result res;
  scan_bdb(f, "", NULL, &inv, &res, NULL);
  CHECK(res.status == 0 && inv.npkgs == 2, "last_pgno past the file: clamped to the file (%s)", res.error);
  sc_inventory_free(&inv);
  /* entries that cannot fit the page */
  set32(f, 32, 4);
  set16(f, PS + 20, 0xffff);
  scan_bdb(f, "", NULL, &inv, &res, NULL);
  CHECK(res.status == 0 && inv.npkgs == 0 && has_note(&inv, "1 unreadable package headers"),
        "65535 entries on a page: the page is skipped and noted (%s)", res.error);
  sc_inventory_free(&inv);
  /* truncated in the middle of the chain */
  free(f.p);
  f = base_bdb();
  f.n = 3 * PS;
  scan_bdb(f, "", NULL, &inv, &res, NULL);
  CHECK(res.status == 0 && inv.npkgs == 1 && has_note(&inv, "1 unreadable package headers"),
        "truncated file: what is there is read (%s)", res.error);
  sc_inventory_free(&inv);
  free(f.p);

  /* 3000 items all naming one 9 KB chain in a file of about 80 KB: the
   * reader stops when chains add up to more than the file instead of
   * reading 27 MB out of it */
  bdbw w;
  bdb_init(&w, PS, 0);
  bytes big = mkhdr("big", "2.0", "3.el8", 9000);
  bdb_add(&w, 1, big.p, (uint32_t)big.n);
  unsigned char *p1 = w.f + (size_t)w.cur * PS; /* the hash page, after the chain */
  uint32_t ioff = p1[BDB_PAGE_HDR + 2] | p1[BDB_PAGE_HDR + 3] << 8;
  unsigned char it[HOFFPAGE_BYTES];
  memcpy(it, p1 + ioff, HOFFPAGE_BYTES);
  for (uint32_t k = 2; k < 3000; k++) {
    unsigned char key[5] = {H_KEYDATA};
    w32(&w, key + 1, k);
    put_item(&w, key, 5);
    put_item(&w, it, HOFFPAGE_BYTES);
  }
  f = bdb_done(&w);
  double secs;
  scan_bdb(f, "", NULL, &inv, &res, &secs);
  CHECK(res.status == SC_ERR_LIMIT && strstr(res.error, "overflow items add up to more than the file"),
        "3000 items share one chain: stopped by the byte cap (%s, %zu bytes file, %zu pkgs, %s)", res.error, f.n,
        inv.npkgs, inv.notes.n ? inv.notes.v[0] : "");
  CHECK(secs < 1, "shared chain: promptly (%.3f s)", secs);
  sc_inventory_free(&inv);
  /* a small memory budget stops the blob buffer */
  sc_limits lim;
  sc_limits_default(&lim);
  lim.cat_mem_bytes = 16 << 10;
  scan_bdb(f, "", &lim, &inv, &res, &secs);
  CHECK(res.status == SC_ERR_LIMIT && strstr(res.error, "budget: rpm"), "16 KiB memory budget: layer fails (%s)",
        res.error);
  sc_inventory_free(&inv);
  free(f.p);
  free(big.p);
}

static void test_hostile_ndb(void) {
  bytes good = load(FIX "Packages.ndb");
  /* the first slot (byte 32) names the first blob: head at blkoff * 16 */
  size_t blob = ((size_t)good.p[40] | (size_t)good.p[41] << 8) * 16;
  size_t tail = blob + ((size_t)good.p[44] | (size_t)good.p[45] << 8) * 16 - 12;
  static const struct {
    const char *what;
    int kind;      /* 1: xor a byte, 32: le32 */
    int in_blob;   /* at is from the first blob's head (1) or tail (2) */
    size_t at;
    uint32_t val;
    const char *err; /* NULL: read, one header unreadable */
  } t[] = {
      {"blob tail magic", 1, 2, 8, 0x20, NULL},
      {"blob head magic", 1, 1, 0, 0x20, NULL},
      {"blob pkgidx differs from slot", 32, 1, 4, 77, NULL},
      {"bloblen disagrees with blkcnt", 32, 1, 12, 100, NULL},
      {"slot blkoff past the file", 32, 0, 32 + 8, 0x7fffffff, NULL},
      {"slot blkoff inside the slot pages", 32, 0, 32 + 8, 3, NULL},
      {"slot blkcnt 0", 32, 0, 32 + 12, 0, NULL},
      {"bad slot magic", 1, 0, 48, 0x20, "rpm: var/lib/rpm/Packages.db: bad slot at byte 48"},
      {"version 1", 32, 0, 4, 1, "NDB version 1 not supported"},
      {"slot pages past the file", 32, 0, 12, 100000, "100000 slot pages in a file of"},
      {"no slot pages", 32, 0, 12, 0, "0 slot pages"},
      {"magic", 1, 0, 0, 0x20, "neither a BerkeleyDB hash nor an NDB database"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    bytes f = {malloc(good.n), good.n};
    memcpy(f.p, good.p, good.n);
    size_t at = (t[i].in_blob == 1 ? blob : t[i].in_blob == 2 ? tail : 0) + t[i].at;
    if (t[i].kind == 1) f.p[at] ^= (unsigned char)t[i].val;
    else set32(f, at, t[i].val);
    entry e[] = {{"var/lib/rpm/Packages.db", f.p, f.n}};
    sc_inventory inv;
    sc_layer_result res;
    double secs;
    scan(e, 1, NULL, &inv, &res, &secs);
    if (t[i].err)
      CHECK(res.status != 0 && strstr(res.error, t[i].err), "NDB %s: layer fails, says why (%s)", t[i].what, res.error);
    else
      CHECK(res.status == 0 && inv.npkgs == 2 && has_note(&inv, "1 unreadable package headers"),
            "NDB %s: the other two read, one noted (%s, %zu pkgs)", t[i].what, res.error, inv.npkgs);
    CHECK(secs < 2, "NDB %s: promptly", t[i].what);
    sc_inventory_free(&inv);
    free(f.p);
  }
  free(good.p);
}

/* Byte flips and truncations of the real fixtures: every outcome is a
 * clean read, a note or a failed layer with a reason (ASan/UBSan builds
 * check the memory side). */
static void test_mutations(void) {
  const char *files[] = {FIX "Packages", FIX "Packages.ndb"};
  const char *at[] = {"var/lib/rpm/Packages", "var/lib/rpm/Packages.db"};
  unsigned seed = 12345;
  int ok = 0, failed = 0, bad_reason = 0;
  double worst = 0;
  for (int fi = 0; fi < 2; fi++) {
    bytes g = load(files[fi]);
    for (int it = 0; it < 600; it++) {
      bytes f = {malloc(g.n), g.n};
      memcpy(f.p, g.p, g.n);
      int flips = 1 + it % 8;
      for (int k = 0; k < flips; k++) {
        seed = seed * 1103515245u + 12345u;
        size_t pos = (seed >> 8) % f.n;
        seed = seed * 1103515245u + 12345u;
        f.p[pos] = (unsigned char)(seed >> 16);
      }
      if (it % 5 == 4) f.n = (seed >> 4) % f.n;
      entry e[] = {{at[fi], f.p, f.n}};
      sc_inventory inv;
      sc_layer_result res;
      double secs;
      scan(e, 1, NULL, &inv, &res, &secs);
      if (secs > worst) worst = secs;
      if (res.status == 0) ok++;
      else {
        failed++;
        if (!strstr(res.error, "rpm")) bad_reason++;
      }
      for (size_t i = 0; i < inv.npkgs; i++)
        if (!inv.pkgs[i].name || !inv.pkgs[i].version) bad_reason++;
      sc_inventory_free(&inv);
      free(f.p);
    }
    free(g.p);
  }
  CHECK(ok + failed == 1200 && bad_reason == 0, "1200 mutated databases: %d read, %d refused with a reason", ok,
        failed);
  CHECK(worst < 1, "mutated databases: the slowest took %.3f s", worst);
}

static int count_blob(void *ctx, const unsigned char *b, size_t n) {
  sc_rpm_header h;
  if (sc_rpm_header_parse(b, n, &h) == 0) ++*(size_t *)ctx;
  return 0;
}

/* Read rate of the BerkeleyDB reader: alone on a file (in the page cache),
 * and through the layer walk (tar, hashing, spooling, inventory). */
static void bench_file(bytes f, const char *what, size_t want) {
  char path[600];
  snprintf(path, sizeof(path), "%s/bench-Packages", dir);
  FILE *o = fopen(path, "wb");
  if (o) {
    fwrite(f.p, 1, f.n, o);
    fclose(o);
  }
  int fd = open(path, O_RDONLY);
  size_t n = 0;
  uint32_t bad = 0;
  char why[192] = "";
  double t0 = now_s();
  int rv = fd >= 0 ? sc_rpm_bdb_read(fd, f.n, NULL, count_blob, &n, &bad, why, sizeof(why)) : SC_ERR_IO;
  double alone = now_s() - t0;
  if (fd >= 0) close(fd);
  unlink(path);
  CHECK(rv == 0 && bad == 0 && (want == 0 || n == want), "%s: reader alone: %zu headers (%s)", what, n, why);
  sc_inventory inv;
  sc_layer_result res;
  double secs;
  scan_bdb(f, what, NULL, &inv, &res, &secs);
  CHECK(res.status == 0 && inv.npkgs == n, "%s: through the layer walk: %zu headers read (%s)", what, inv.npkgs,
        res.error);
  printf("# %s: %.1f MB: reader %.3f s = %.0f MB/s; layer walk (tar, hash, spool, read) %.3f s = %.0f MB/s\n",
         what, (double)f.n / 1e6, alone, (double)f.n / 1e6 / alone, secs, (double)f.n / 1e6 / secs);
  sc_inventory_free(&inv);
}

static void test_bench(void) {
  bdbw w;
  bdb_init(&w, 4096, 0);
  for (uint32_t i = 0; i < 2000; i++) {
    char n[32], v[32];
    snprintf(n, sizeof(n), "pkg%u", i);
    snprintf(v, sizeof(v), "1.%u", i);
    bytes h = mkhdr(n, v, "1.el8", 16000);
    bdb_add(&w, i + 1, h.p, (uint32_t)h.n);
    free(h.p);
  }
  bytes f = bdb_done(&w);
  bench_file(f, "2000 headers of 16 KB, built here", 2000);
  free(f.p);
  const char *env = getenv("CUSTOMS_RPM_BENCH");
  if (env && *env) {
    bytes g = load(env);
    bench_file(g, env, 0);
    free(g.p);
  }
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  test_fixtures();
  test_ostree_sqlite();
  test_synthetic_bdb();
  test_hostile_bdb();
  test_hostile_ndb();
  test_mutations();
  test_bench();
  for (int i = 0; i < 3; i++) free(hdr[i].p);
  rmdir(dir);
  return tap_done();
}
