/* sc_cat_rpm.c - RPM packages from the SQLite rpmdb (rpm >= 4.16: Fedora,
 * RHEL 9, Rocky/Alma 9).  The entry is copied to a private temp file and
 * opened read-only; each Packages.blob is an rpm header:
 *   be32 index_count, be32 data_len, index_count * {be32 tag, type, offset, count}, data.
 * BerkeleyDB (Packages) and NDB (Packages.db) databases are only noted. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_catalog.h"

#define RPMDB_MAX (512ull << 20) /* on disk, not in memory */
#define HDR_MAX_INDEX 100000u

enum { TAG_NAME = 1000, TAG_VERSION = 1001, TAG_RELEASE = 1002, TAG_EPOCH = 1003, TAG_SOURCERPM = 1044 };
enum { T_INT32 = 4, T_STRING = 6 };

static const char *const sqlite_paths[] = {"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite", NULL};
static const char *const bdb_paths[] = {"var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages", NULL};
static const char *const ndb_paths[] = {"var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db", NULL};

static int in(const char *const *list, const char *p) {
  for (; *list; list++)
    if (strcmp(*list, p) == 0) return 1;
  return 0;
}

static int rpm_match(const char *path, int64_t size, mode_t mode) {
  (void)size;
  (void)mode;
  return in(sqlite_paths, path) || in(bdb_paths, path) || in(ndb_paths, path);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct rpmhdr {
  const char *name, *version, *release, *sourcerpm;
  int has_epoch;
  uint32_t epoch;
} rpmhdr;

/* Parses the tags we need from one header blob; 0 or SC_ERR_FORMAT. */
static int parse_header(const unsigned char *b, size_t n, rpmhdr *h) {
  memset(h, 0, sizeof(*h));
  if (n < 8) return SC_ERR_FORMAT;
  uint32_t il = be32(b), dl = be32(b + 4);
  if (il == 0 || il > HDR_MAX_INDEX || (uint64_t)il * 16 + dl + 8 > n) return SC_ERR_FORMAT;
  const unsigned char *idx = b + 8, *data = idx + (size_t)il * 16;
  for (uint32_t i = 0; i < il; i++) {
    const unsigned char *e = idx + (size_t)i * 16;
    uint32_t tag = be32(e), type = be32(e + 4), off = be32(e + 8), cnt = be32(e + 12);
    if (off >= dl) continue;
    if (type == T_STRING && cnt == 1) {
      const char *s = (const char *)data + off;
      if (!memchr(s, '\0', dl - off)) continue; /* unterminated: ignore */
      if (tag == TAG_NAME) h->name = s;
      else if (tag == TAG_VERSION) h->version = s;
      else if (tag == TAG_RELEASE) h->release = s;
      else if (tag == TAG_SOURCERPM) h->sourcerpm = s;
    } else if (type == T_INT32 && tag == TAG_EPOCH && cnt >= 1 && (uint64_t)off + 4 <= dl) {
      h->has_epoch = 1;
      h->epoch = be32(data + off);
    }
  }
  return h->name && h->version ? 0 : SC_ERR_FORMAT;
}

#define SRPM_MAX 512

/* "bash-5.1.8-6.el9.src.rpm" -> name "bash", version "5.1.8-6.el9";
 * name and ver hold SRPM_MAX bytes; both empty when srpm does not parse. */
static void split_srpm(const char *srpm, char *name, char *ver) {
  name[0] = ver[0] = '\0';
  size_t n = strlen(srpm);
  char tmp[SRPM_MAX];
  if (n >= sizeof(tmp)) return;
  memcpy(tmp, srpm, n + 1);
  char *dot = strstr(tmp, ".src.rpm");
  if (!dot) dot = strstr(tmp, ".nosrc.rpm");
  if (dot) *dot = '\0';
  char *rel = strrchr(tmp, '-');
  if (!rel) return;
  *rel = '\0';
  char *v = strrchr(tmp, '-');
  if (!v) return;
  *v = '\0';
  /* each part is shorter than tmp: no truncation possible */
  memcpy(name, tmp, strlen(tmp) + 1);
  size_t vl = strlen(v + 1), rl = strlen(rel + 1);
  memcpy(ver, v + 1, vl);
  ver[vl] = '-';
  memcpy(ver + vl + 1, rel + 1, rl + 1);
}

static int add_header(sc_inventory *inv, const char *path, const rpmhdr *h) {
  if (strcmp(h->name, "gpg-pubkey") == 0) return 0; /* imported keys, not software */
  char ver[1024], sname[SRPM_MAX], sver[SRPM_MAX];
  if (h->has_epoch && h->epoch)
    snprintf(ver, sizeof(ver), "%u:%s%s%s", h->epoch, h->version, h->release ? "-" : "", h->release ? h->release : "");
  else
    snprintf(ver, sizeof(ver), "%s%s%s", h->version, h->release ? "-" : "", h->release ? h->release : "");
  split_srpm(h->sourcerpm ? h->sourcerpm : "", sname, sver);
  sc_package p = {"rpm", NULL, (char *)h->name, ver, sname[0] ? sname : NULL,
                  sver[0] ? sver : NULL, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}

/* Copies the entry to fd; turns a WAL database into a rollback-journal one so
 * the private copy opens read-only without -wal/-shm files. */
static int copy_out(sc_reader *r, int fd) {
  char buf[65536];
  uint64_t total = 0;
  for (;;) {
    ssize_t n = sc_read(r, buf, sizeof(buf));
    if (n < 0) return (int)n;
    if (n == 0) return 0;
    for (uint64_t k = 18; k <= 19; k++) /* header: write/read format versions */
      if (k >= total && k < total + (uint64_t)n && buf[k - total] == 2) buf[k - total] = 1;
    total += (uint64_t)n;
    if (total > RPMDB_MAX) return SC_ERR_LIMIT;
    for (ssize_t w = 0; w < n;) {
      ssize_t m = write(fd, buf + w, (size_t)(n - w));
      if (m < 0 && errno == EINTR) continue;
      if (m <= 0) return SC_ERR_IO;
      w += m;
    }
  }
}

static int scan_sqlite(sc_inventory *inv, const char *path, sc_reader *r) {
  const char *dir = getenv("TMPDIR");
  char tmpl[4096];
  snprintf(tmpl, sizeof(tmpl), "%s/customs-rpmdb-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(tmpl);
  if (fd < 0) return SC_ERR_IO;
  int rv = copy_out(r, fd);
  close(fd);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (rv) goto out;
  char uri[4200];
  snprintf(uri, sizeof(uri), "file:%s?immutable=1", tmpl);
  rv = SC_ERR_DB;
  if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) goto out;
  if (sqlite3_prepare_v2(db, "SELECT blob FROM Packages", -1, &st, NULL) != SQLITE_OK) goto out;
  int s, bad = 0;
  rv = 0;
  while (rv == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *b = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    rpmhdr h;
    if (!b || n <= 0 || parse_header(b, (size_t)n, &h)) {
      bad++;
      continue;
    }
    rv = add_header(inv, path, &h);
  }
  if (rv == 0 && s != SQLITE_DONE) rv = SC_ERR_DB;
  if (rv == 0 && bad) {
    char note[256];
    snprintf(note, sizeof(note), "rpm: %s: %d unreadable package headers", path, bad);
    rv = sc_strlist_add(&inv->notes, note);
  }
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  unlink(tmpl);
  return rv;
}

static int rpm_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  (void)lim;
  if (in(sqlite_paths, path)) return scan_sqlite(inv, path, r);
  const char *what = in(bdb_paths, path) ? "BerkeleyDB" : "NDB";
  char note[256];
  snprintf(note, sizeof(note), "rpm: %s database not supported (%s)", what, path);
  return sc_strlist_add(&inv->notes, note);
}

const sc_cataloger sc_cat_rpm = {"rpm", rpm_match, rpm_scan};
