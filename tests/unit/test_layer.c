/* test_layer.c - streaming layer scan on real tar / tar.gz / tar.zst files
 * built at test time: digests against sha256sum, catalogers reached through
 * the tar walk, whiteouts, hostile entries, corrupt and truncated streams,
 * decompression bombs, pull errors; a bigger layer (8 MiB of random bytes
 * then a dpkg status) through tiny, failing and blocking pulls, limits hit
 * mid-stream, and several scans at once; sc_layer_scan_ref (peek/consume)
 * against sc_layer_scan on the same bytes, with consumed bytes poisoned. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../scanner/sc_layer.h"
#include "tap.h"

static char dir[] = "/tmp/customs-test-layer-XXXXXX";

typedef struct ent {
  const char *name;
  unsigned type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, or 1 = hardlink */
  const char *data;
  const char *link;
} ent;

static const char status[] =
    "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u4\n\n"
    "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10+deb12u5\n";

static const ent rootfs[] = {
    {"./", AE_IFDIR, NULL, NULL},
    {"./etc/", AE_IFDIR, NULL, NULL},
    {"./etc/os-release", AE_IFREG, "ID=debian\nVERSION_ID=\"12\"\n", NULL},
    {"./var/lib/dpkg/status", AE_IFREG, status, NULL},
    {"./usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", AE_IFREG,
     "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n", NULL},
    {"./app/node_modules/@scope/pkg/package.json", AE_IFREG, "{\"name\":\"@scope/pkg\",\"version\":\"1.0.0\"}", NULL},
    {"./app/package.json", AE_IFREG, "{\"name\":\"myapp\",\"version\":\"0.0.1\"}", NULL},
    {"./usr/share/.wh.doc", AE_IFREG, "", NULL},
    {"./opt/.wh..wh..opq", AE_IFREG, "", NULL},
    {"./.wh.tmp", AE_IFREG, "", NULL},
    {"../../evil/var/lib/dpkg/status", AE_IFREG, "Package: evil\nStatus: install ok installed\nVersion: 6.6.6\n", NULL},
    {"a/../../var/lib/dpkg/status.d/escape", AE_IFREG, "Package: escape\nVersion: 1\n", NULL},
    {"a/./b/../../lib/apk/db/installed", AE_IFREG, "P:folded\nV:1.0-r0\n", NULL},
    {"/var/lib/dpkg/status.d/absolute", AE_IFREG, "Package: absolute\nVersion: 2\n", NULL},
    {"./var/lib/dpkg/status.d/link", AE_IFLNK, NULL, "../status"},
    {"./var/lib/dpkg/status.d/hard", 1, NULL, "./var/lib/dpkg/status"},
    {"./home/u/secret.pem", AE_IFREG,
     "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
     "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\n", NULL},
    {"./usr/bin/big", AE_IFREG, NULL, NULL}, /* filled with filler bytes */
};
#define NROOT (sizeof(rootfs) / sizeof(rootfs[0]))
#define BIG_SIZE (3u << 20)

static int write_tar(const char *path, const ent *e, size_t n, const char *longname) {
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_none(a);
  if (archive_write_open_filename(a, path) != ARCHIVE_OK) return -1;
  char *big = malloc(BIG_SIZE);
  for (size_t i = 0; i < BIG_SIZE; i++) big[i] = (char)((i * 2654435761u) >> 13); /* not very compressible */
  for (size_t i = 0; i <= n; i++) {
    const ent *x = i < n ? &e[i] : NULL;
    if (!x && !longname) break;
    struct archive_entry *ae = archive_entry_new();
    const char *data = x ? x->data : "Package: long\nVersion: 1\n";
    size_t len = data ? strlen(data) : 0;
    archive_entry_set_pathname(ae, x ? x->name : longname);
    archive_entry_set_mtime(ae, 1700000000, 0);
    if (x && strcmp(x->name, "./usr/bin/big") == 0) data = big, len = BIG_SIZE;
    unsigned type = x ? x->type : AE_IFREG;
    if (type == 1) {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, x->link);
      len = 0;
    } else {
      archive_entry_set_filetype(ae, type);
    }
    archive_entry_set_perm(ae, type == AE_IFDIR ? 0755 : 0644);
    if (type == AE_IFLNK) archive_entry_set_symlink(ae, x->link);
    archive_entry_set_size(ae, type == AE_IFREG ? (la_int64_t)len : 0);
    archive_write_header(a, ae);
    if (type == AE_IFREG && len) archive_write_data(a, data, len);
    archive_entry_free(ae);
  }
  free(big);
  archive_write_close(a);
  archive_write_free(a);
  return 0;
}

static int sh(const char *fmt, const char *a1, const char *a2) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), fmt, a1, a2);
  return system(cmd);
}

/* "sha256:<hex>" as sha256sum prints it. */
static void sha256sum(const char *path, char *out) {
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
  FILE *p = popen(cmd, "r");
  char hex[65] = "";
  if (p && fscanf(p, "%64s", hex) != 1) hex[0] = '\0';
  if (p) pclose(p);
  snprintf(out, 72, "sha256:%s", hex);
}

static char *fx(const char *name) {
  static char buf[8][512];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, 512, "%s/%s", dir, name);
  return b;
}

static int scan_file(const char *path, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -100;
  sc_inventory_init(inv);
  int rv = sc_layer_scan_fd(fd, lim, inv, res);
  close(fd);
  return rv;
}

static const sc_package *find(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (strcmp(inv->pkgs[i].name, name) == 0) return &inv->pkgs[i];
  return NULL;
}

static int has_note(const sc_inventory *inv, const char *sub) {
  for (size_t i = 0; i < inv->notes.n; i++)
    if (strstr(inv->notes.v[i], sub)) return 1;
  return 0;
}

static void test_formats(void) {
  static const struct { const char *file, *comp; } t[] = {
      {"root.tar", "none"}, {"root.tar.gz", "gzip"}, {"root.tar.zst", "zstd"}, {"multi.tar.gz", "gzip"}};
  char tar_digest[72];
  sha256sum(fx("root.tar"), tar_digest);
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_limits lim;
    sc_limits_default(&lim);
    lim.max_name = 400;
    sc_inventory inv;
    sc_layer_result res;
    char want[72];
    sha256sum(fx(t[i].file), want);
    CHECK_INT(scan_file(fx(t[i].file), &lim, &inv, &res), 0, "%s: scan", t[i].file);
    CHECK_INT(res.status, 0, "%s: status ok (%s)", t[i].file, res.error);
    CHECK_STR(res.compression, t[i].comp, "%s: compression", t[i].file);
    CHECK_STR(res.digest, want, "%s: digest is sha256sum of the blob", t[i].file);
    CHECK_STR(res.diff_id, tar_digest, "%s: diff_id is sha256sum of the tar", t[i].file);
    struct stat st;
    stat(fx(t[i].file), &st);
    CHECK_INT(res.compressed_size, st.st_size, "%s: compressed size", t[i].file);
    stat(fx("root.tar"), &st);
    CHECK_INT(res.uncompressed_size, st.st_size, "%s: uncompressed size", t[i].file);
    CHECK_INT(res.entries, NROOT, "%s: entries", t[i].file);
    CHECK_STR(inv.os.id, "debian", "%s: os", t[i].file);
    CHECK(find(&inv, "libc6") && find(&inv, "curl"), "%s: dpkg packages", t[i].file);
    CHECK(find(&inv, "six") != NULL, "%s: python package", t[i].file);
    CHECK(inv.nsecrets >= 1 && strcmp(inv.secrets[0].path, "home/u/secret.pem") == 0,
          "%s: private key found by the secrets cataloger", t[i].file);
    CHECK(find(&inv, "@scope/pkg") != NULL && find(&inv, "myapp") == NULL, "%s: npm only node_modules", t[i].file);
    /* containerd stops ".." at the root: "a/../../x" lands at "x" */
    const sc_package *esc = find(&inv, "escape");
    CHECK(find(&inv, "evil") == NULL && esc && strcmp(esc->path, "var/lib/dpkg/status.d/escape") == 0,
          "%s: .. entries read at their cleaned path", t[i].file);
    CHECK(find(&inv, "folded") != NULL, "%s: inner .. folded", t[i].file);
    CHECK(find(&inv, "absolute") != NULL, "%s: absolute path read relative to root", t[i].file);
    CHECK(has_note(&inv, "2 entries climbing above the root"), "%s: note counts .. entries", t[i].file);
    CHECK(sc_strlist_has(&inv.whiteouts, "usr/share/doc") && sc_strlist_has(&inv.whiteouts, "tmp"),
          "%s: whiteouts", t[i].file);
    CHECK(sc_strlist_has(&inv.opaque, "opt") && inv.opaque.n == 1, "%s: opaque", t[i].file);
    CHECK(sc_strlist_has(&inv.cataloged, "var/lib/dpkg/status") &&
              !sc_strlist_has(&inv.cataloged, "var/lib/dpkg/status.d/link") &&
              sc_strlist_has(&inv.cataloged, "var/lib/dpkg/status.d/hard"),
          "%s: cataloged paths: the hard link, not the symlink", t[i].file);
    int hard = 0;
    for (size_t k = 0; k < inv.npkgs; k++)
      hard += strcmp(inv.pkgs[k].path, "var/lib/dpkg/status.d/hard") == 0;
    CHECK_INT(hard, 2, "%s: the hard link's content cataloged at its own path", t[i].file);
    const sc_package *libc = find(&inv, "libc6");
    CHECK_STR(libc ? libc->path : NULL, "var/lib/dpkg/status", "%s: package path cleaned", t[i].file);
    sc_inventory_free(&inv);
  }
}

typedef struct failcase {
  const char *file;
  int status;
  const char *err_sub;
  int diff_known;
} failcase;

static void test_failures(void) {
  static const failcase t[] = {
      {"corrupt.tar.gz", SC_ERR_FORMAT, "gzip", 0},
      {"trunc.tar.gz", SC_ERR_FORMAT, "truncated gzip", 0},
      {"corrupt.tar.zst", SC_ERR_FORMAT, "zstd", 0},
      {"trunc.tar.zst", SC_ERR_FORMAT, "truncated zstd", 0},
      {"trunc.tar", SC_ERR_FORMAT, "tar", 1},
      {"trunctar.tar.gz", SC_ERR_FORMAT, "tar", 1},
      {"garbage.bin", SC_ERR_FORMAT, "tar", 1},
      {"x.tar.xz", SC_ERR_UNSUPP, "xz", 0},
      {"long.tar", SC_ERR_LIMIT, "name over 400 bytes", 1}, /* never skipped while "ok" */
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_limits lim;
    sc_limits_default(&lim);
    lim.max_name = 400;
    sc_inventory inv;
    sc_layer_result res;
    char want[72];
    sha256sum(fx(t[i].file), want);
    CHECK_INT(scan_file(fx(t[i].file), &lim, &inv, &res), 0, "%s: returns 0", t[i].file);
    CHECK_INT(res.status, t[i].status, "%s: status", t[i].file);
    CHECK(strstr(res.error, t[i].err_sub) != NULL, "%s: error mentions %s (%s)", t[i].file, t[i].err_sub, res.error);
    CHECK_STR(res.digest, want, "%s: digest still of the whole stream", t[i].file);
    struct stat st;
    stat(fx(t[i].file), &st);
    CHECK_INT(res.compressed_size, st.st_size, "%s: whole stream pulled", t[i].file);
    if (t[i].diff_known) {
      /* decompression itself was fine: diff_id covers the whole (bad) tar */
      char d[72];
      const char *plain = strcmp(t[i].file, "trunctar.tar.gz") == 0 ? fx("trunc.tar") : fx(t[i].file);
      sha256sum(plain, d);
      CHECK_STR(res.diff_id, d, "%s: diff_id of the tar bytes", t[i].file);
    } else {
      CHECK_STR(res.diff_id, "", "%s: diff_id unknown", t[i].file);
    }
    sc_inventory_free(&inv);
  }
}

static void test_bomb(void) {
  sc_limits lim;
  sc_inventory inv;
  sc_layer_result res;
  char want[72];
  sha256sum(fx("bomb.tar.gz"), want);
  sc_limits_default(&lim);
  lim.max_total_bytes = 32u << 20;
  CHECK_INT(scan_file(fx("bomb.tar.gz"), &lim, &inv, &res), 0, "bomb: scan returns 0");
  CHECK_INT(res.status, SC_ERR_LIMIT, "bomb: total size limit");
  CHECK(strstr(res.error, "uncompressed bytes") != NULL, "bomb: error says why (%s)", res.error);
  CHECK(res.uncompressed_size <= lim.max_total_bytes + (1u << 20), "bomb: stopped inflating early");
  CHECK_STR(res.digest, want, "bomb: digest right after limit");
  sc_inventory_free(&inv);

  sc_limits_default(&lim);
  lim.max_ratio = 100;
  CHECK_INT(scan_file(fx("bomb.tar.gz"), &lim, &inv, &res), 0, "bomb ratio: returns 0");
  CHECK_INT(res.status, SC_ERR_LIMIT, "bomb: ratio limit");
  CHECK(strstr(res.error, "ratio") != NULL, "bomb: ratio error (%s)", res.error);
  CHECK(res.uncompressed_size < (80u << 20), "bomb: ratio caught soon after the grace");
  CHECK_STR(res.digest, want, "bomb ratio: digest right");
  sc_inventory_free(&inv);

  sc_limits_default(&lim);
  lim.max_entries = 5;
  CHECK_INT(scan_file(fx("root.tar.gz"), &lim, &inv, &res), 0, "entries cap: returns 0");
  CHECK_INT(res.status, SC_ERR_LIMIT, "too many entries");
  sha256sum(fx("root.tar.gz"), want);
  CHECK_STR(res.digest, want, "entries cap: digest right");
  sc_inventory_free(&inv);
}

/* pull callbacks */
typedef struct src {
  int fd;
  size_t step, fail_after, done;
} src;

static ssize_t pull_src(void *ctx, void *buf, size_t len) {
  src *s = ctx;
  if (s->fail_after && s->done >= s->fail_after) return SC_ERR_IO;
  size_t want = s->step ? (s->done % s->step) + 1 : len; /* 1..step bytes */
  if (want > len) want = len;
  ssize_t n = read(s->fd, buf, want);
  if (n > 0) s->done += (size_t)n;
  return n;
}

static void test_pulls(void) {
  static const struct { const char *file; size_t step, fail_after; int rv; } t[] = {
      {"root.tar.gz", 7, 0, 0},   {"root.tar.gz", 1, 0, 0},  {"root.tar.gz", 3000, 0, 0},
      {"multi.tar.gz", 11, 0, 0}, {"root.tar.zst", 5, 0, 0}, {"root.tar", 3, 0, 0},
      {"root.tar.gz", 0, 20000, SC_ERR_IO}, {"root.tar", 0, 1000, SC_ERR_IO}, {"empty", 0, 0, 0},
      {"emptytar.tar.gz", 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_limits lim;
    sc_limits_default(&lim);
    sc_inventory inv;
    sc_inventory_init(&inv);
    sc_layer_result res;
    src s = {open(fx(t[i].file), O_RDONLY), t[i].step, t[i].fail_after, 0};
    int rv = sc_layer_scan(pull_src, &s, &lim, &inv, &res);
    close(s.fd);
    CHECK_INT(rv, t[i].rv, "pull %s step %zu fail %zu: rv", t[i].file, t[i].step, t[i].fail_after);
    if (t[i].rv == 0) {
      char want[72];
      sha256sum(fx(t[i].file), want);
      CHECK_STR(res.digest, want, "pull %s step %zu: digest", t[i].file, t[i].step);
      if (strcmp(t[i].file, "empty") == 0) {
        CHECK(res.status != 0, "empty blob is not a layer (%s)", res.error);
      } else if (strcmp(t[i].file, "emptytar.tar.gz") == 0) {
        CHECK_INT(res.status, 0, "empty tar ok (%s)", res.error);
        CHECK_INT(res.entries, 0, "empty tar: no entries");
      } else {
        CHECK_INT(res.status, 0, "pull %s step %zu: status (%s)", t[i].file, t[i].step, res.error);
        CHECK(find(&inv, "libc6") && find(&inv, "six"), "pull %s step %zu: packages", t[i].file, t[i].step);
      }
    } else {
      CHECK_INT(res.status, SC_ERR_IO, "pull error: status IO");
      CHECK(strstr(res.error, "reading") != NULL, "pull error: message (%s)", res.error);
    }
    sc_inventory_free(&inv);
  }
}


/* ---- rand.tar.*: the decompressor has real work while the walk waits ---- */

typedef struct bigcase {
  const char *file;
  size_t step, fail_after;
  uint64_t max_entries, max_total;
  int rv, status;
  const char *err_sub;
} bigcase;

static void test_big(void) {
  static const bigcase t[] = {
      {"rand.tar.gz", 0, 0, 0, 0, 0, 0, NULL},
      {"rand.tar.zst", 0, 0, 0, 0, 0, 0, NULL},
      {"rand.tar", 0, 0, 0, 0, 0, 0, NULL},
      {"rand.tar.gz", 997, 0, 0, 0, 0, 0, NULL},           /* many tiny pulls */
      {"rand.tar.zst", 4093, 0, 0, 0, 0, 0, NULL},
      {"randjunk.tar.gz", 0, 0, 0, 0, 0, 0, NULL},         /* bytes after the gzip member */
      {"rand.tar.gz", 0, 3000000, 0, 0, SC_ERR_IO, SC_ERR_IO, "reading the layer failed at byte"},
      {"rand.tar.gz", 333, 5000000, 0, 0, SC_ERR_IO, SC_ERR_IO, "reading the layer failed at byte"},
      {"rand.tar.zst", 0, 6000000, 0, 0, SC_ERR_IO, SC_ERR_IO, "reading the layer failed at byte"},
      {"rand.tar", 77, 2000000, 0, 0, SC_ERR_IO, SC_ERR_IO, "reading the layer failed at byte"},
      {"rand.tar.gz", 0, 0, 2, 0, 0, SC_ERR_LIMIT, "more than 2 tar entries"},
      {"rand.tar.gz", 0, 0, 0, 2u << 20, 0, SC_ERR_LIMIT, "exceeds 2097152 uncompressed bytes"},
      {"rand.tar.zst", 501, 0, 0, 1u << 20, 0, SC_ERR_LIMIT, "exceeds 1048576 uncompressed bytes"},
      {"bomb.tar.gz", 61, 0, 0, 8u << 20, 0, SC_ERR_LIMIT, "exceeds 8388608 uncompressed bytes"},
  };
  char tar_digest[72];
  struct stat tst;
  sha256sum(fx("rand.tar"), tar_digest);
  stat(fx("rand.tar"), &tst);
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_limits lim;
    sc_limits_default(&lim);
    if (t[i].max_entries) lim.max_entries = t[i].max_entries;
    if (t[i].max_total) lim.max_total_bytes = t[i].max_total;
    sc_inventory inv;
    sc_inventory_init(&inv);
    sc_layer_result res;
    src s = {open(fx(t[i].file), O_RDONLY), t[i].step, t[i].fail_after, 0};
    int rv = sc_layer_scan(pull_src, &s, &lim, &inv, &res);
    close(s.fd);
    const char *f = t[i].file;
    size_t st = t[i].step;
    char want[72];
    struct stat fst;
    sha256sum(fx(f), want);
    stat(fx(f), &fst);
    CHECK_INT(rv, t[i].rv, "%s step %zu #%zu: rv", f, st, i);
    CHECK_INT(res.status, t[i].status, "%s step %zu #%zu: status (%s)", f, st, i, res.error);
    if (t[i].err_sub)
      CHECK(strstr(res.error, t[i].err_sub) != NULL, "%s #%zu: error (%s)", f, i, res.error);
    if (t[i].rv) {
      CHECK_STR(res.digest, "", "%s #%zu: no digest after a pull error", f, i);
      CHECK(s.done >= t[i].fail_after && s.done < t[i].fail_after + (1u << 20),
            "%s #%zu: pulled to the failure (%zu)", f, i, s.done);
      sc_inventory_free(&inv);
      continue;
    }
    CHECK_STR(res.digest, want, "%s step %zu #%zu: digest", f, st, i);
    CHECK_INT(res.compressed_size, fst.st_size, "%s #%zu: whole stream pulled", f, i);
    if (t[i].status == 0) {
      CHECK_STR(res.diff_id, tar_digest, "%s step %zu #%zu: diff_id", f, st, i);
      CHECK_INT(res.uncompressed_size, tst.st_size, "%s #%zu: uncompressed size", f, i);
      CHECK_INT(res.entries, 5, "%s #%zu: entries", f, i);
      CHECK(find(&inv, "tail-pkg") != NULL, "%s step %zu #%zu: package after the big file", f, st, i);
    } else if (t[i].max_total) {
      CHECK(res.uncompressed_size <= t[i].max_total + (1u << 20), "%s #%zu: stopped inflating early", f, i);
      CHECK_STR(res.diff_id, "", "%s #%zu: no diff_id", f, i);
    } else {
      CHECK_STR(res.diff_id, tar_digest, "%s #%zu: diff_id of the whole tar after the walk stopped", f, i);
    }
    sc_inventory_free(&inv);
  }
}

/* pull from a pipe fed by another thread in small bursts: pull blocks */
typedef struct feeder {
  int in, out;
  size_t stop_at; /* 0 = all */
} feeder;

static void *feed(void *arg) {
  feeder *fd = arg;
  char buf[3000];
  size_t sent = 0;
  ssize_t n;
  while ((n = read(fd->in, buf, sizeof(buf))) > 0) {
    if (fd->stop_at && sent + (size_t)n > fd->stop_at) n = (ssize_t)(fd->stop_at - sent);
    if (n > 0 && write(fd->out, buf, (size_t)n) != n) break;
    sent += (size_t)n;
    if (fd->stop_at && sent >= fd->stop_at) break;
    if (sent % 30000 < sizeof(buf)) usleep(200);
  }
  close(fd->out);
  return NULL;
}

static void test_blocking(void) {
  static const struct { const char *file; size_t stop_at; int status; const char *err_sub; } t[] = {
      {"rand.tar.gz", 0, 0, NULL},
      {"rand.tar.zst", 0, 0, NULL},
      {"rand.tar.gz", 4000000, SC_ERR_FORMAT, "truncated gzip"},
      {"rand.tar.zst", 4000000, SC_ERR_FORMAT, "truncated zstd"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    int p[2];
    if (pipe(p) != 0) {
      CHECK(0, "pipe");
      return;
    }
    feeder f = {open(fx(t[i].file), O_RDONLY), p[1], t[i].stop_at};
    pthread_t th;
    pthread_create(&th, NULL, feed, &f);
    sc_limits lim;
    sc_limits_default(&lim);
    sc_inventory inv;
    sc_inventory_init(&inv);
    sc_layer_result res;
    int rv = sc_layer_scan_fd(p[0], &lim, &inv, &res);
    pthread_join(th, NULL);
    close(p[0]);
    close(f.in);
    CHECK_INT(rv, 0, "blocking %s stop %zu: rv", t[i].file, t[i].stop_at);
    CHECK_INT(res.status, t[i].status, "blocking %s stop %zu: status (%s)", t[i].file, t[i].stop_at, res.error);
    if (t[i].err_sub) {
      CHECK(strstr(res.error, t[i].err_sub) != NULL, "blocking %s: error (%s)", t[i].file, res.error);
      CHECK_INT(res.compressed_size, t[i].stop_at, "blocking %s: all bytes sent were pulled", t[i].file);
    } else {
      char want[72];
      sha256sum(fx(t[i].file), want);
      CHECK_STR(res.digest, want, "blocking %s: digest", t[i].file);
      CHECK(find(&inv, "tail-pkg") != NULL, "blocking %s: package", t[i].file);
    }
    sc_inventory_free(&inv);
  }
}

/* several scans at once, as on the proxy's worker threads */
typedef struct job {
  const char *file;
  int rv;
  sc_layer_result res;
  int found;
} job;

static void *scan_job(void *arg) {
  job *j = arg;
  sc_limits lim;
  sc_limits_default(&lim);
  sc_inventory inv;
  j->rv = scan_file(j->file, &lim, &inv, &j->res);
  j->found = find(&inv, "tail-pkg") != NULL || find(&inv, "libc6") != NULL;
  sc_inventory_free(&inv);
  return NULL;
}

static void test_concurrent(void) {
  enum { N = 6 };
  static const char *files[] = {"rand.tar.gz", "root.tar.gz", "rand.tar.zst", "rand.tar", "tiny.tar.gz", "multi.tar.gz"};
  job j[N];
  pthread_t th[N];
  char want[N][72], path[N][512];
  for (int i = 0; i < N; i++) {
    snprintf(path[i], sizeof(path[i]), "%s", fx(files[i]));
    sha256sum(path[i], want[i]);
    j[i].file = path[i];
    pthread_create(&th[i], NULL, scan_job, &j[i]);
  }
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    CHECK(j[i].rv == 0 && j[i].res.status == 0, "concurrent %s: ok (%s)", files[i], j[i].res.error);
    CHECK_STR(j[i].res.digest, want[i], "concurrent %s: digest", files[i]);
    CHECK(j[i].found, "concurrent %s: packages found", files[i]);
  }
}


/* ---- hostile layers built in memory: what the runtime would see ------------ */

typedef struct ment {
  const char *name;
  unsigned type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, or 1 = hardlink */
  const char *data; /* or the link target */
  size_t len;       /* 0: strlen(data) */
  mode_t perm;      /* 0: 0644 */
} ment;

typedef struct mbuf {
  unsigned char *p;
  size_t n, off;
} mbuf;

static mbuf mem_tar(const ment *e, size_t n) {
  mbuf m = {malloc(64u << 20), 0, 0};
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_none(a);
  archive_write_open_memory(a, m.p, 64u << 20, &m.n);
  for (size_t i = 0; i < n; i++) {
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e[i].name);
    size_t len = e[i].type == AE_IFREG ? (e[i].len ? e[i].len : strlen(e[i].data)) : 0;
    if (e[i].type == 1) {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, e[i].data);
    } else {
      archive_entry_set_filetype(ae, e[i].type);
    }
    if (e[i].type == AE_IFLNK) archive_entry_set_symlink(ae, e[i].data);
    archive_entry_set_perm(ae, e[i].perm ? e[i].perm : 0644);
    archive_entry_set_size(ae, (la_int64_t)len);
    archive_write_header(a, ae);
    if (len) archive_write_data(a, e[i].data, len);
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return m;
}

static int scan_mem(const ment *e, size_t n, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res) {
  mbuf m = mem_tar(e, n);
  sc_memrd r = {m.p, m.n, 0};
  sc_inventory_init(inv);
  int rv = sc_layer_scan(sc_mem_read, &r, lim, inv, res);
  free(m.p);
  return rv;
}

static const sc_package *find_at(const sc_inventory *inv, const char *name, const char *path) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (strcmp(inv->pkgs[i].name, name) == 0 && strcmp(inv->pkgs[i].path, path) == 0) return &inv->pkgs[i];
  return NULL;
}

/* A zip (jar) in memory: pom.properties for g:a, then `pad` stored bytes. */
static size_t mem_jar(unsigned char *out, size_t cap, const char *artifact, const unsigned char *inner,
                      size_t inner_len, size_t pad) {
  size_t used = 0;
  struct archive *a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_set_options(a, "zip:compression=store");
  archive_write_open_memory(a, out, cap, &used);
  char pom[256], name[256];
  snprintf(pom, sizeof(pom), "groupId=org.example\nartifactId=%s\nversion=1.2.3\n", artifact);
  snprintf(name, sizeof(name), "META-INF/maven/org.example/%s/pom.properties", artifact);
  struct { const char *name; const void *data; size_t len; } f[] = {
      {name, pom, strlen(pom)}, {"lib/inner.jar", inner, inner_len}, {"pad.bin", NULL, pad}};
  unsigned char *zeros = calloc(1, pad + 1);
  for (size_t i = 0; i < 3; i++) {
    if (i == 1 && !inner) continue;
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, f[i].name);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, (la_int64_t)f[i].len);
    archive_write_header(a, ae);
    archive_write_data(a, f[i].data ? f[i].data : zeros, f[i].len);
    archive_entry_free(ae);
  }
  free(zeros);
  archive_write_close(a);
  archive_write_free(a);
  return used;
}

#define DPKG(name) "Package: " name "\nStatus: install ok installed\nVersion: 1.0\n"

typedef struct hcase {
  const char *what;
  ment e[6];
  int status;          /* expected res.status */
  const char *err_sub; /* in res.error, or NULL */
  const char *pkg, *at; /* a package expected at a path, or NULL */
} hcase;

static void test_hostile(void) {
  static const hcase t[] = {
      {"dpkg status only present as a hard link to an unread path",
       {{"usr/share/x/status", AE_IFREG, DPKG("hidden"), 0, 0}, {"var/lib/dpkg/status", 1, "usr/share/x/status", 0, 0}},
       SC_ERR_FORMAT, "hard link var/lib/dpkg/status -> usr/share/x/status: target not read by dpkg", NULL, NULL},
      {"package.json as a hard link to another package.json",
       {{"app/node_modules/a/package.json", AE_IFREG, "{\"name\":\"a\",\"version\":\"1.0.0\"}", 0, 0},
        {"app/node_modules/b/package.json", 1, "./app/node_modules/a/package.json", 0, 0}},
       0, NULL, "a", "app/node_modules/b/package.json"},
      {"hard link to a lower layer's file at a cataloged path",
       {{"var/lib/dpkg/status", 1, "opt/elsewhere", 0, 0}},
       SC_ERR_FORMAT, "target not read by dpkg in this layer", NULL, NULL},
      {"hard link at a path no cataloger reads",
       {{"usr/bin/x", AE_IFREG, "#!/bin/sh\n", 0, 0}, {"usr/share/y", 1, "usr/bin/x", 0, 0}}, 0, NULL, NULL, NULL},
      {"entry climbing with .. lands at the root",
       {{"../../../var/lib/dpkg/status", AE_IFREG, DPKG("climber"), 0, 0}}, 0, NULL, "climber", "var/lib/dpkg/status"},
      {"absolute entry",
       {{"/var/lib/dpkg/status", AE_IFREG, DPKG("absolute"), 0, 0}}, 0, NULL, "absolute", "var/lib/dpkg/status"},
      {"file written through a symlinked directory",
       {{"x", AE_IFLNK, "var/lib/dpkg", 0, 0}, {"x/status", AE_IFREG, DPKG("through"), 0, 0}},
       0, NULL, "through", "var/lib/dpkg/status"},
      {"file written through an absolute symlink with ..",
       {{"a/b", AE_IFLNK, "/../../var/lib/x/../dpkg", 0, 0}, {"a/b/status", AE_IFREG, DPKG("abs-through"), 0, 0}},
       0, NULL, "abs-through", "var/lib/dpkg/status"},
      {"symlink at a cataloged path to a path no cataloger reads",
       {{"opt/hidden", AE_IFREG, DPKG("hidden"), 0, 0}, {"var/lib/dpkg/status", AE_IFLNK, "/opt/hidden", 0, 0}},
       SC_ERR_FORMAT, "symlink var/lib/dpkg/status -> opt/hidden: target not read by dpkg", NULL, NULL},
      {"symlink to a later file no cataloger reads",
       {{"var/lib/dpkg/status", AE_IFLNK, "../../../tmp/s", 0, 0}, {"tmp/s", AE_IFREG, DPKG("later"), 0, 0}},
       SC_ERR_FORMAT, "target not read by dpkg", NULL, NULL},
      {"os-release symlink to usr/lib/os-release",
       {{"etc/os-release", AE_IFLNK, "../usr/lib/os-release", 0, 0},
        {"usr/lib/os-release", AE_IFREG, "ID=debian\nVERSION_ID=12\n", 0, 0}}, 0, NULL, NULL, NULL},
      {"symlink loop in a parent",
       {{"a", AE_IFLNK, "b", 0, 0}, {"b", AE_IFLNK, "a", 0, 0}, {"a/status", AE_IFREG, "x", 0, 0}},
       SC_ERR_FORMAT, "too many symlinks", NULL, NULL},
      {"symlink replaced by a directory is no longer followed",
       {{"x", AE_IFLNK, "var/lib/dpkg", 0, 0}, {"x", AE_IFDIR, "", 0, 0755}, {"x/status", AE_IFREG, DPKG("notdpkg"), 0, 0}},
       0, NULL, NULL, NULL},
      {"odd bytes in a name",
       {{"app/node_modules/\xff\x01odd\n/package.json", AE_IFREG, "{\"name\":\"odd\",\"version\":\"2.0.0\"}", 0, 0}},
       0, NULL, "odd", "app/node_modules/\xff\x01odd\n/package.json"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    size_t n = 0;
    while (n < 6 && t[i].e[n].name) n++;
    sc_limits lim;
    sc_limits_default(&lim);
    sc_inventory inv;
    sc_layer_result res;
    CHECK_INT(scan_mem(t[i].e, n, &lim, &inv, &res), 0, "%s: returns 0", t[i].what);
    CHECK_INT(res.status, t[i].status, "%s: status (%s)", t[i].what, res.error);
    if (t[i].err_sub) CHECK(strstr(res.error, t[i].err_sub) != NULL, "%s: error says why (%s)", t[i].what, res.error);
    if (t[i].pkg) CHECK(find_at(&inv, t[i].pkg, t[i].at) != NULL, "%s: %s cataloged at %s", t[i].what, t[i].pkg, t[i].at);
    if (!t[i].pkg && !t[i].status) CHECK(find(&inv, "notdpkg") == NULL, "%s: nothing cataloged by mistake", t[i].what);
    if (strstr(t[i].what, "os-release")) CHECK_STR(inv.os.id, "debian", "%s: os found", t[i].what);
    sc_inventory_free(&inv);
  }

  /* a PAX long name under max_name is read; one over it fails the layer */
  char longdir[700];
  snprintf(longdir, sizeof(longdir), "app/node_modules/%0300d/package.json", 7);
  for (int over = 0; over < 2; over++) {
    ment e[] = {{longdir, AE_IFREG, "{\"name\":\"longpkg\",\"version\":\"1.0.0\"}", 0, 0}};
    sc_limits lim;
    sc_limits_default(&lim);
    lim.max_name = over ? 200 : 4096;
    sc_inventory inv;
    sc_layer_result res;
    scan_mem(e, 1, &lim, &inv, &res);
    if (over)
      CHECK(res.status == SC_ERR_LIMIT && strstr(res.error, "name over 200 bytes"), "long name over the cap fails (%s)",
            res.error);
    else
      CHECK(res.status == 0 && find(&inv, "longpkg"), "PAX long name cataloged (%s)", res.error);
    sc_inventory_free(&inv);
  }
}

/* A file over max_file_read that two catalogers want reaches both: an
 * executable jar (go wants it for its mode, java for its name). */
static void test_big_shared(void) {
  size_t cap = 1u << 20;
  unsigned char *jar = malloc(cap);
  size_t jl = mem_jar(jar, cap, "bigapp", NULL, 0, 200000);
  ment e[] = {{"opt/app/app.jar", AE_IFREG, (const char *)jar, jl, 0755}};
  sc_limits lim;
  sc_limits_default(&lim);
  lim.max_file_read = 4096;
  sc_inventory inv;
  sc_layer_result res;
  CHECK_INT(scan_mem(e, 1, &lim, &inv, &res), 0, "big shared: returns 0");
  CHECK_INT(res.status, 0, "big shared: ok (%s)", res.error);
  CHECK(find(&inv, "org.example:bigapp") != NULL, "big executable jar reaches java too (not only go)");
  sc_inventory_free(&inv);
  free(jar);
}

/* Nested archives share one inflated-bytes budget per layer. */
static void test_nested_budget(void) {
  size_t cap = 4u << 20;
  unsigned char *inner = malloc(cap), *outer = malloc(cap), *outer2 = malloc(cap);
  size_t il = mem_jar(inner, cap, "inner", NULL, 0, 300000);
  size_t ol = mem_jar(outer, cap, "outer", inner, il, 0);
  size_t ol2 = mem_jar(outer2, cap, "outer2", inner, il, 0);
  for (int k = 0; k < 3; k++) {
    /* k 0: one jar under budget; 1: two jars each under, together over; 2: one over */
    ment e[] = {{"opt/a.jar", AE_IFREG, (const char *)outer, ol, 0}, {"opt/b.jar", AE_IFREG, (const char *)outer2, ol2, 0}};
    sc_limits lim;
    sc_limits_default(&lim);
    lim.nested_max_bytes = k == 2 ? 100000 : 500000;
    sc_inventory inv;
    sc_layer_result res;
    scan_mem(e, k == 0 || k == 2 ? 1 : 2, &lim, &inv, &res);
    if (k == 0) {
      CHECK(res.status == 0 && find(&inv, "org.example:inner") && find(&inv, "org.example:outer"),
            "nested jar under the budget: read (%s)", res.error);
    } else {
      CHECK_INT(res.status, SC_ERR_LIMIT, "nested budget %d: layer fails (%s)", k, res.error);
      CHECK(strstr(res.error, "budget: java: nested archives inflate to over") != NULL, "nested budget %d: says budget (%s)",
            k, res.error);
    }
    sc_inventory_free(&inv);
  }
  free(inner);
  free(outer);
  free(outer2);
}

/* ---- sc_layer_scan_ref: the same results through peek/consume -------------- */

/* A source over a whole file in memory whose peeks hand out a fresh copy of
 * at most `step` bytes (0: all that is left), freed (after poisoning) by
 * consume: bytes used after their consume change the results or trip ASan. */
typedef struct refsrc {
  const unsigned char *p;
  size_t n, off, step, fail_after;
  unsigned char *cur;
  size_t curn;
  int misuse; /* peek twice, consume without peek, consume too much */
} refsrc;

static ssize_t ref_peek(void *ctx, const void **p) {
  refsrc *s = ctx;
  if (s->cur) s->misuse++;
  if (s->fail_after && s->off >= s->fail_after) return SC_ERR_IO;
  size_t k = s->n - s->off;
  if (s->step && k > s->step) k = s->step;
  if (k == 0) return 0;
  s->cur = malloc(k);
  if (!s->cur) return SC_ERR_NOMEM;
  memcpy(s->cur, s->p + s->off, k);
  s->curn = k;
  *p = s->cur;
  return (ssize_t)k;
}

static void ref_consume(void *ctx, size_t n) {
  refsrc *s = ctx;
  if (!s->cur || n > s->curn) {
    s->misuse++;
    return;
  }
  memset(s->cur, 0xAA, s->curn);
  free(s->cur);
  s->cur = NULL;
  s->off += n;
}

/* res->error up to " at byte" (the offset depends on how the input is cut) */
static void error_head(const char *e, char *out, size_t cap) {
  snprintf(out, cap, "%s", e);
  char *at = strstr(out, " at byte");
  if (at) *at = '\0';
}

static void test_ref(void) {
  static const struct { const char *file; size_t step, fail_after; } t[] = {
      {"root.tar.gz", 0, 0},      {"root.tar.gz", 4099, 0},  {"root.tar.gz", 7, 0},   {"root.tar.zst", 0, 0},
      {"root.tar.zst", 1000, 0},  {"root.tar", 0, 0},       {"root.tar", 7, 0},      {"root.tar", 513, 0},
      {"multi.tar.gz", 0, 0},     {"multi.tar.gz", 11, 0},  {"rand.tar", 65537, 0},  {"rand.tar.gz", 0, 0},
      {"randjunk.tar.gz", 0, 0},  {"corrupt.tar.gz", 0, 0}, {"trunc.tar.gz", 0, 0},  {"trunc.tar", 0, 0},
      {"x.tar.xz", 0, 0},         {"empty", 0, 0},          {"emptytar.tar.gz", 3, 0}, {"garbage.bin", 100, 0},
      {"rand.tar", 0, 3000000},   {"rand.tar.gz", 100000, 2000000}, {"root.tar", 0, 3},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sc_limits lim;
    sc_limits_default(&lim);
    sc_inventory a, b;
    sc_layer_result ra, rb;
    int fd = open(fx(t[i].file), O_RDONLY);
    struct stat st;
    unsigned char *data = NULL;
    size_t n = 0;
    if (fd >= 0 && fstat(fd, &st) == 0 && (data = malloc((size_t)st.st_size + 1))) {
      while (n < (size_t)st.st_size) {
        ssize_t k = read(fd, data + n, (size_t)st.st_size - n);
        if (k <= 0) break;
        n += (size_t)k;
      }
    }
    if (fd >= 0) close(fd);
    CHECK(data && n == (size_t)st.st_size, "ref %s: read the fixture", t[i].file);
    if (!data) continue;
    /* the reference: a pull scan of the same bytes, failing at the same byte */
    src ps = {open(fx(t[i].file), O_RDONLY), 0, t[i].fail_after, 0};
    sc_inventory_init(&a);
    int rva = sc_layer_scan(pull_src, &ps, &lim, &a, &ra);
    close(ps.fd);
    refsrc rs = {data, n, 0, t[i].step, t[i].fail_after, NULL, 0, 0};
    sc_inventory_init(&b);
    int rvb = sc_layer_scan_ref(ref_peek, ref_consume, &rs, &lim, &b, &rb);
    CHECK_INT(rvb, rva, "ref %s step %zu: rv", t[i].file, t[i].step);
    CHECK_INT(rb.status, ra.status, "ref %s step %zu: status (%s / %s)", t[i].file, t[i].step, rb.error, ra.error);
    char ea[256], eb[256];
    error_head(ra.error, ea, sizeof(ea));
    error_head(rb.error, eb, sizeof(eb));
    CHECK_STR(eb, ea, "ref %s step %zu: error", t[i].file, t[i].step);
    CHECK_STR(rb.digest, ra.digest, "ref %s step %zu: digest", t[i].file, t[i].step);
    CHECK_STR(rb.diff_id, ra.diff_id, "ref %s step %zu: diff_id", t[i].file, t[i].step);
    CHECK_STR(rb.compression, ra.compression, "ref %s step %zu: compression", t[i].file, t[i].step);
    /* after a failed pull, how far the walk got depends on how the bytes were cut */
    if (rva == 0) {
      CHECK(rb.compressed_size == ra.compressed_size && rb.uncompressed_size == ra.uncompressed_size &&
                rb.entries == ra.entries,
            "ref %s step %zu: sizes and entries (%llu %llu %llu)", t[i].file, t[i].step,
            (unsigned long long)rb.compressed_size, (unsigned long long)rb.uncompressed_size,
            (unsigned long long)rb.entries);
      CHECK(b.npkgs == a.npkgs && b.nsecrets == a.nsecrets, "ref %s step %zu: %zu packages, %zu secrets", t[i].file,
            t[i].step, b.npkgs, b.nsecrets);
      for (size_t k = 0; k < a.npkgs && k < b.npkgs; k++)
        CHECK(strcmp(a.pkgs[k].name, b.pkgs[k].name) == 0 && strcmp(a.pkgs[k].version, b.pkgs[k].version) == 0,
              "ref %s step %zu: package %zu is %s", t[i].file, t[i].step, k, a.pkgs[k].name);
    }
    CHECK_INT(rs.misuse, 0, "ref %s step %zu: peek/consume alternate", t[i].file, t[i].step);
    CHECK(rs.cur == NULL, "ref %s step %zu: nothing left lent", t[i].file, t[i].step);
    if (rva == 0) CHECK(rs.off == n, "ref %s step %zu: every byte consumed", t[i].file, t[i].step);
    free(rs.cur);
    free(data);
    sc_inventory_free(&a);
    sc_inventory_free(&b);
  }
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  char longname[600];
  memset(longname, 'n', sizeof(longname));
  memcpy(longname, "var/lib/dpkg/status.d/", 22);
  longname[450] = '\0';
  int ok = write_tar(fx("root.tar"), rootfs, NROOT, NULL) == 0 &&
           write_tar(fx("long.tar"), NULL, 0, longname) == 0 &&
           write_tar(fx("emptytar.tar"), NULL, 0, NULL) == 0;
  ok = ok && sh("cd %s && gzip -9 -k root.tar && zstd -q -19 root.tar -o root.tar.zst && gzip -n emptytar.tar && : > empty", dir, NULL) == 0;
  /* two gzip members; corrupt, truncated variants; a tar cut mid-entry */
  ok = ok && sh("cd %s && head -c 100000 root.tar | gzip > multi.tar.gz && tail -c +100001 root.tar | gzip >> multi.tar.gz", dir, NULL) == 0;
  ok = ok && sh("cd %s && cp root.tar.gz corrupt.tar.gz && printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' | dd of=corrupt.tar.gz bs=1 seek=3000 conv=notrunc status=none", dir, NULL) == 0;
  ok = ok && sh("cd %s && cp root.tar.zst corrupt.tar.zst && printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' | dd of=corrupt.tar.zst bs=1 seek=3000 conv=notrunc status=none", dir, NULL) == 0;
  ok = ok && sh("cd %s && head -c $(( $(stat -c %%s root.tar.gz) / 2 )) root.tar.gz > trunc.tar.gz && head -c $(( $(stat -c %%s root.tar.zst) / 2 )) root.tar.zst > trunc.tar.zst", dir, NULL) == 0;
  ok = ok && sh("cd %s && head -c 1500000 root.tar > trunc.tar && gzip -c trunc.tar > trunctar.tar.gz && head -c 5000 /dev/urandom > garbage.bin && printf '\\3757zXZ\\0junk' > x.tar.xz", dir, NULL) == 0;
  /* 200 MiB of zeros in one entry: ~200 KB of gzip */
  ok = ok && sh("cd %s && mkdir b && truncate -s 200M b/zeros && tar cf - -C b zeros | gzip -9 > bomb.tar.gz && rm -r b", dir, NULL) == 0;
  /* 8 MiB of random bytes, then a dpkg status: inflating is real work; and a
   * one-file layer */
  ok = ok && sh("cd %s && mkdir -p r/var/lib/dpkg && head -c 8M /dev/urandom > r/blob && printf 'Package: tail-pkg\nStatus: install ok installed\nVersion: 1\n' > r/var/lib/dpkg/status && tar cf rand.tar -C r blob var && gzip -1 -k rand.tar && zstd -q -1 rand.tar -o rand.tar.zst && rm -r r", dir, NULL) == 0;
  ok = ok && sh("cd %s && cat rand.tar.gz > randjunk.tar.gz && printf 'trailing junk' >> randjunk.tar.gz && mkdir -p t/var/lib/dpkg && printf 'Package: tail-pkg\\nStatus: install ok installed\\nVersion: 1\\n' > t/var/lib/dpkg/status && tar czf tiny.tar.gz -C t var/lib/dpkg/status && rm -r t", dir, NULL) == 0;
  CHECK(ok, "fixtures built in %s", dir);
  if (ok) {
    test_formats();
    test_failures();
    test_bomb();
    test_pulls();
    test_ref();
    test_big();
    test_blocking();
    test_concurrent();
  }
  test_hostile();
  test_big_shared();
  test_nested_budget();
  if (!getenv("CUSTOMS_KEEP_FIXTURES")) sh("rm -rf %s", dir, NULL);
  return tap_done();
}
