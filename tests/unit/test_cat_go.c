/* test_cat_go.c - Go build info found in ELF fixtures laid out like the
 * linker writes them (ELF header, padding, 16-byte aligned blob). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tap.h"
#include "memreader.h"
#include "../../scanner/sc_catalog.h"


typedef struct fix {
  unsigned char *b;
  size_t len, cap;
} fix;

static void put(fix *f, const void *p, size_t n) {
  if (f->len + n > f->cap) {
    f->cap = (f->len + n) * 2;
    f->b = realloc(f->b, f->cap);
  }
  memcpy(f->b + f->len, p, n);
  f->len += n;
}
static void pad_to(fix *f, size_t off) {
  while (f->len < off) put(f, "\0", 1);
}
static void put_uvarint(fix *f, uint64_t v) {
  do {
    unsigned char c = v & 0x7f;
    v >>= 7;
    if (v) c |= 0x80;
    put(f, &c, 1);
  } while (v);
}

static const char sent_start[] = "\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const char sent_end[] = "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";

/* ELF64 header, padding, then the build info at blob_off. */
static fix make_bin(int elf, size_t blob_off, unsigned char flags, const char *vers,
                    const char *modinfo, uint64_t force_vlen) {
  fix f = {0};
  unsigned char eh[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  eh[16] = 2;  /* ET_EXEC */
  eh[18] = 62; /* EM_X86_64 */
  if (!elf) eh[0] = 'M';
  put(&f, eh, sizeof eh);
  pad_to(&f, blob_off);
  unsigned char hdr[32] = {0};
  memcpy(hdr, "\xff Go buildinf:", 14);
  hdr[14] = 8;
  hdr[15] = flags;
  put(&f, hdr, sizeof hdr);
  if (flags & 2) {
    put_uvarint(&f, force_vlen ? force_vlen : strlen(vers));
    put(&f, vers, strlen(vers));
    if (modinfo) {
      put_uvarint(&f, strlen(modinfo) + 32);
      put(&f, sent_start, 16);
      put(&f, modinfo, strlen(modinfo));
      put(&f, sent_end, 16);
    } else {
      put_uvarint(&f, 0);
    }
  }
  pad_to(&f, f.len + 3000);
  return f;
}

static const sc_package *find(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (strcmp(inv->pkgs[i].name, name) == 0) return &inv->pkgs[i];
  return NULL;
}

static const char *const MODINFO =
    "path\texample.com/app/cmd/app\n"
    "mod\texample.com/app\tv1.4.0\th1:abc=\n"
    "dep\tgithub.com/a/b\tv0.1.0\th1:x=\n"
    "dep\tgolang.org/x/net\tv0.17.0\th1:y=\n"
    "=>\tgithub.com/fork/net\tv0.18.1\th1:z=\n"
    "dep\tgithub.com/local/thing\tv1.0.0\th1:w=\n"
    "=>\t../thing\t\n"
    "dep\tgolang.org/x/text\tv0.14.0\th1:t=\n"
    "build\t-compiler=gc\n"
    "build\tGOOS=linux\n";

static const char *const MODINFO_DEVEL =
    "path\tcmd/tool\n"
    "mod\texample.com/tool\t(devel)\t\n"
    "dep\tgithub.com/c/d\tv2.0.0+incompatible\th1:q=\n";

struct want_pkg {
  const char *name, *version; /* version NULL: package must be absent */
};

static const struct tcase {
  const char *desc;
  int elf;
  size_t off;
  unsigned char flags;
  const char *vers, *modinfo;
  uint64_t force_vlen;
  int want_rc;        /* 0, or 1 meaning "some error" */
  size_t want_npkgs;
  int want_note;
  struct want_pkg pk[8];
} cases[] = {
  {"1.18+ module info", 1, 4096, 2, "go1.21.5", NULL, 0, 0, 5, 0,
   {{"stdlib", "go1.21.5"}, {"example.com/app", "v1.4.0"}, {"github.com/a/b", "v0.1.0"},
    {"github.com/fork/net", "v0.18.1"}, {"golang.org/x/net", NULL}, {"github.com/local/thing", NULL},
    {"golang.org/x/text", "v0.14.0"}}},
  {"blob across the 64 KiB read boundary", 1, 65536 - 16, 2, "go1.22.0", NULL, 0, 0, 5, 0,
   {{"stdlib", "go1.22.0"}, {"golang.org/x/text", "v0.14.0"}}},
  {"(devel) main module skipped", 1, 8192, 2, "go1.20.1 X:boringcrypto", "devel", 0, 0, 2, 0,
   {{"stdlib", "go1.20.1 X:boringcrypto"}, {"example.com/tool", NULL}, {"github.com/c/d", "v2.0.0+incompatible"}}},
  {"no module info: only stdlib", 1, 160, 2, "go1.19.13", "", 0, 0, 1, 0, {{"stdlib", "go1.19.13"}}},
  {"pre-1.18 pointer layout: note", 1, 4096, 0, NULL, NULL, 0, 0, 0, 1, {{"stdlib", NULL}}},
  {"not ELF: ignored", 0, 4096, 2, "go1.21.5", NULL, 0, 0, 0, 0, {{"stdlib", NULL}}},
  {"magic at unaligned offset: ignored", 1, 4096 + 8, 2, "go1.21.5", NULL, 0, 0, 0, 0, {{"stdlib", NULL}}},
  {"absurd version length: error", 1, 4096, 2, "go1.21.5", NULL, 1u << 30, 1, 0, 0, {{"stdlib", NULL}}},
};

static void run_case(const struct tcase *t, size_t chunk) {
  const char *mi = t->modinfo ? (strcmp(t->modinfo, "devel") == 0 ? MODINFO_DEVEL : t->modinfo) : MODINFO;
  if (t->modinfo && !*t->modinfo) mi = NULL;
  fix f = make_bin(t->elf, t->off, t->flags, t->vers ? t->vers : "", mi, t->force_vlen);
  memrd m = {f.b, f.len, 0, chunk};
  sc_reader r = {mem_read, &m};
  sc_limits lim;
  sc_limits_default(&lim);
  sc_inventory inv;
  sc_inventory_init(&inv);
  int rc = sc_cat_go.scan(&inv, "usr/local/bin/app", &r, &lim);
  if (t->want_rc) CHECK(rc < 0, "%s (chunk %zu): error returned (%d)", t->desc, chunk, rc);
  else CHECK_INT(rc, 0, "%s (chunk %zu): rc", t->desc, chunk);
  CHECK_INT(inv.npkgs, t->want_npkgs, "%s (chunk %zu): package count", t->desc, chunk);
  CHECK_INT(inv.notes.n, t->want_note, "%s (chunk %zu): notes", t->desc, chunk);
  if (t->want_note && inv.notes.n)
    CHECK_STR(inv.notes.v[0], "go: pre-1.18 build info not supported: usr/local/bin/app", "%s: note text", t->desc);
  for (size_t i = 0; i < 8 && t->pk[i].name; i++) {
    const sc_package *p = find(&inv, t->pk[i].name);
    if (!t->pk[i].version) {
      CHECK(p == NULL, "%s: %s absent", t->desc, t->pk[i].name);
      continue;
    }
    CHECK(p != NULL, "%s: %s present", t->desc, t->pk[i].name);
    if (!p) continue;
    CHECK_STR(p->version, t->pk[i].version, "%s: %s version", t->desc, t->pk[i].name);
    CHECK_STR(p->type, "go", "%s: %s type", t->desc, t->pk[i].name);
    CHECK_STR(p->ecosystem, "Go", "%s: %s ecosystem", t->desc, t->pk[i].name);
    CHECK_STR(p->path, "usr/local/bin/app", "%s: %s path", t->desc, t->pk[i].name);
  }
  sc_inventory_free(&inv);
  free(f.b);
}

static void test_match(void) {
  static const struct {
    const char *path;
    int64_t size;
    mode_t mode;
    int want;
  } m[] = {
      {"app/server", 1 << 20, S_IFREG | 0755, 1},
      {"usr/bin/tool", 1 << 20, S_IFREG | 0644, 1},
      {"usr/local/bin/tool", 1 << 20, 0644, 1},
      {"etc/passwd", 1 << 20, S_IFREG | 0644, 0},
      {"app/server", 10, S_IFREG | 0755, 0},
      {"usr/bin/link", 1 << 20, S_IFLNK | 0777, 0},
  };
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    CHECK_INT(!!sc_cat_go.match(m[i].path, m[i].size, m[i].mode), m[i].want, "match %s mode %o",
              m[i].path, (unsigned)m[i].mode);
}

/* A read error from the layer is passed back, not swallowed. */
static ssize_t err_read(void *ctx, void *buf, size_t len) {
  (void)ctx; (void)buf; (void)len;
  return SC_ERR_IO;
}

int main(void) {
  static const size_t chunks[] = {1, 7, 4096, 1 << 20};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
      if (chunks[c] == 1 && cases[i].off > 10000) continue; /* keep the run short */
      run_case(&cases[i], chunks[c]);
    }
  test_match();
  sc_reader r = {err_read, NULL};
  sc_inventory inv;
  sc_inventory_init(&inv);
  CHECK_INT(sc_cat_go.scan(&inv, "bin/x", &r, NULL), SC_ERR_IO, "reader error passed back");
  sc_inventory_free(&inv);
  CHECK_STR(sc_cat_go.name, "go", "cataloger name");
  return tap_done();
}
