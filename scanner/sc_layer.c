/* sc_layer.c - streaming layer scan: pull -> hash -> inflate -> tar walk.
 *
 * Everything happens in the calling thread and on demand: libarchive asks for
 * the next uncompressed chunk, we inflate it from the pulled compressed bytes
 * (hashing both sides as they pass).  Memory: one input buffer, one output
 * buffer, the decompressor state, and at most max_file_read for an entry that
 * several catalogers want. */
#include "sc_layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

#define IN_BUF (256u << 10)
#define OUT_BUF (256u << 10)
#define HIST (32u << 10)          /* deflate window kept before the write position */
#define OUT_MIN (64u << 10)       /* slide the window when less room than this is left */
#define GZ_HDR_WANT 4096u         /* compressed bytes buffered before a gzip header is parsed */
#define RATIO_GRACE (64ull << 20) /* the ratio guard starts after this much output */
#define MAX_MATCH 16              /* catalogers per entry */
#define MAX_NOTES 64              /* notes one layer may add */

enum { C_NONE, C_GZIP, C_ZSTD };
enum { D_RUN, D_DONE, D_FAIL };

typedef struct layer {
  sc_pull_fn pull;
  void *ctx;
  const sc_limits *lim;
  sc_inventory *inv;
  sc_layer_result *res;
  unsigned char *in, *out; /* out: HIST + OUT_BUF bytes */
  size_t in_len, in_off, wpos;
  int in_eof, pull_err, nomem;
  EVP_MD_CTX *hc, *hu; /* compressed, uncompressed */
  int comp, dstate;
  int between;     /* gzip: a member ended, the next may follow */
  int gz_fresh;    /* gzip: member header not yet given to the inflater */
  size_t zlast;    /* zstd: last hint (0 = at a frame boundary) */
  uint64_t consumed; /* compressed bytes fed to the decompressor */
#ifdef HAVE_ISAL
  struct inflate_state *isal;
#else
  z_stream z;
  int z_init;
#endif
  ZSTD_DStream *zs;
  int notes;
  uint64_t n_dotdot, n_abs, n_long, n_badname;
} layer;

static void fail(layer *L, int status, const char *fmt, ...) {
  if (L->res->status) return; /* the first failure is the one reported */
  L->res->status = status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(L->res->error, sizeof(L->res->error), fmt, ap);
  va_end(ap);
}

static void note(layer *L, const char *fmt, ...) {
  if (L->notes >= MAX_NOTES) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (++L->notes == MAX_NOTES) snprintf(buf, sizeof(buf), "layer: further notes suppressed");
  if (sc_strlist_add(&L->inv->notes, buf) == SC_ERR_NOMEM) L->nomem = 1;
}

static int prime(layer *L, size_t want);

/* Makes at least `want` compressed bytes available (fewer only at the end of
 * the stream): 1 = some, 0 = end of stream, -1 = pull error.  Callers ask
 * for a whole gzip header at once: ISA-L 2.30 misreads a header split over
 * several isal_inflate calls. */
static int fill_in(layer *L, size_t want) {
  size_t have = L->in_len - L->in_off;
  if (have >= want) return 1;
  if (L->pull_err) return -1;
  if (!L->in_eof) {
    if (L->in_off) {
      memmove(L->in, L->in + L->in_off, have);
      L->in_len = have;
      L->in_off = 0;
    }
    if (prime(L, want) < 0) return -1;
  }
  return L->in_len > L->in_off ? 1 : 0;
}

/* Accounts produced uncompressed bytes: hash, totals, bomb guard. */
static int account(layer *L, const void *p, size_t n) {
  sc_layer_result *r = L->res;
  if (L->comp != C_NONE) EVP_DigestUpdate(L->hu, p, n);
  r->uncompressed_size += n;
  if (r->uncompressed_size > L->lim->max_total_bytes) {
    fail(L, SC_ERR_LIMIT, "layer exceeds %llu uncompressed bytes",
         (unsigned long long)L->lim->max_total_bytes);
    L->dstate = D_FAIL;
    return -1;
  }
  uint64_t c = L->consumed ? L->consumed : 1;
  if (L->comp != C_NONE && r->uncompressed_size > RATIO_GRACE && L->lim->max_ratio &&
      r->uncompressed_size / c > L->lim->max_ratio) {
    fail(L, SC_ERR_LIMIT, "compression ratio above %llu after %llu bytes (decompression bomb?)",
         (unsigned long long)L->lim->max_ratio, (unsigned long long)r->uncompressed_size);
    L->dstate = D_FAIL;
    return -1;
  }
  return 0;
}

static void dfail(layer *L, const char *what) {
  fail(L, SC_ERR_FORMAT, "%s at byte %llu", what, (unsigned long long)L->consumed);
  L->dstate = D_FAIL;
}

#ifdef HAVE_ISAL
static int gz_reset(layer *L) {
  L->gz_fresh = 1;
  /* isal_inflate_init leaves some fields (hist_bits) alone: start from zero */
  memset(L->isal, 0, sizeof(*L->isal));
  isal_inflate_init(L->isal);
  L->isal->crc_flag = ISAL_GZIP;
  return 0;
}

/* One inflate step into the window at wpos; sets *outn and *fin (member end). */
static int gz_step(layer *L, size_t *outn, int *fin) {
  struct inflate_state *s = L->isal;
  size_t avail = L->in_len - L->in_off, room = HIST + OUT_BUF - L->wpos;
  s->next_in = L->in + L->in_off;
  s->avail_in = (uint32_t)avail;
  s->next_out = L->out + L->wpos;
  s->avail_out = (uint32_t)room;
  int ret = isal_inflate(s);
  size_t used = avail - s->avail_in;
  L->in_off += used;
  L->consumed += used;
  *outn = room - s->avail_out;
  *fin = s->block_state == ISAL_BLOCK_FINISH;
  if (ret == ISAL_INCORRECT_CHECKSUM) return dfail(L, "gzip checksum mismatch"), -1;
  if (ret < 0) return dfail(L, "corrupt gzip"), -1;
  return 0;
}
#else
static int gz_reset(layer *L) {
  if (!L->z_init) {
    if (inflateInit2(&L->z, 15 + 16) != Z_OK) return SC_ERR_NOMEM;
    L->z_init = 1;
    return 0;
  }
  return inflateReset(&L->z) == Z_OK ? 0 : SC_ERR_NOMEM;
}

static int gz_step(layer *L, size_t *outn, int *fin) {
  size_t avail = L->in_len - L->in_off, room = HIST + OUT_BUF - L->wpos;
  L->z.next_in = L->in + L->in_off;
  L->z.avail_in = (uInt)avail;
  L->z.next_out = L->out + L->wpos;
  L->z.avail_out = (uInt)room;
  int ret = inflate(&L->z, Z_NO_FLUSH);
  size_t used = avail - L->z.avail_in;
  L->in_off += used;
  L->consumed += used;
  *outn = room - L->z.avail_out;
  *fin = ret == Z_STREAM_END;
  if (ret == Z_MEM_ERROR) return L->nomem = 1, dfail(L, "out of memory in inflate"), -1;
  if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR)
    return dfail(L, "corrupt gzip"), -1;
  return 0;
}
#endif

/* Next chunk of the uncompressed stream: bytes (>0), 0 at its end, -1 on failure. */
static ssize_t produce(layer *L, const void **out) {
  int stalls = 0;
  while (L->dstate == D_RUN) {
    size_t want = L->comp == C_GZIP && (L->between || L->gz_fresh) ? GZ_HDR_WANT : 1;
    int r = fill_in(L, want);
    if (r < 0) {
      L->dstate = D_FAIL;
      return -1;
    }
    if (L->comp == C_NONE) {
      if (r == 0) break;
      size_t n = L->in_len - L->in_off;
      *out = L->in + L->in_off;
      L->in_off = L->in_len;
      L->consumed += n;
      if (account(L, *out, n)) return -1;
      return (ssize_t)n;
    }
    size_t n = 0, off0 = L->in_off;
    int fin = 0;
    if (L->comp == C_GZIP) {
      if (L->between) {
        /* after a member: another member, or the end (trailing bytes that are
         * not a gzip header are ignored, as gzip -d does) */
        if (r == 0 || L->in[L->in_off] != 0x1f) break;
        if (gz_reset(L)) return L->nomem = 1, dfail(L, "inflate init failed"), -1;
        L->between = 0;
      }
      /* ISA-L resolves back-references (and saves its history) from the
       * bytes just before next_out, so the output is a sliding window whose
       * last HIST bytes always precede the write position */
      if (L->wpos + OUT_MIN > HIST + OUT_BUF) {
        memmove(L->out, L->out + L->wpos - HIST, HIST);
        L->wpos = HIST;
      }
      if (gz_step(L, &n, &fin)) return -1;
      L->gz_fresh = 0;
      L->wpos += n;
      if (fin) L->between = 1;
      if (n == 0 && !fin && r == 0) return dfail(L, "truncated gzip"), -1;
    } else {
      ZSTD_inBuffer ib = {L->in + L->in_off, L->in_len - L->in_off, 0};
      ZSTD_outBuffer ob = {L->out, OUT_BUF, 0};
      size_t ret = ZSTD_decompressStream(L->zs, &ob, &ib);
      L->in_off += ib.pos;
      L->consumed += ib.pos;
      if (ZSTD_isError(ret)) {
        char what[160];
        snprintf(what, sizeof(what), "corrupt zstd (%s)", ZSTD_getErrorName(ret));
        return dfail(L, what), -1;
      }
      n = ob.pos;
      if (ib.pos || n) L->zlast = ret;
      if (n == 0 && r == 0) {
        if (L->zlast != 0) return dfail(L, "truncated zstd"), -1;
        break;
      }
    }
    if (n > 0) {
      *out = L->comp == C_GZIP ? L->out + L->wpos - n : L->out;
      if (account(L, *out, n)) return -1;
      return (ssize_t)n;
    }
    if (L->in_off == off0 && !fin && ++stalls > 4)
      return dfail(L, "decompressor stalled"), -1; /* never spin */
  }
  if (L->dstate == D_RUN) L->dstate = D_DONE;
  return L->dstate == D_DONE ? 0 : -1;
}

static la_ssize_t la_read(struct archive *a, void *ud, const void **buf) {
  layer *L = ud;
  ssize_t n = produce(L, buf);
  if (n < 0) {
    archive_set_error(a, EIO, "%s", L->res->error[0] ? L->res->error : "read failed");
    return -1;
  }
  return n;
}

/* ---- readers handed to catalogers ---------------------------------------- */

static ssize_t ar_read(void *ctx, void *buf, size_t len) {
  la_ssize_t n = archive_read_data((struct archive *)ctx, buf, len);
  return n < 0 ? SC_ERR_FORMAT : (ssize_t)n;
}

typedef struct memrd {
  const char *p;
  size_t n, off;
} memrd;

static ssize_t mem_read(void *ctx, void *buf, size_t len) {
  memrd *m = ctx;
  size_t left = m->n - m->off;
  if (len > left) len = left;
  memcpy(buf, m->p + m->off, len);
  m->off += len;
  return (ssize_t)len;
}

static const char *errname(int e) {
  switch (e) {
    case SC_ERR_NOMEM: return "out of memory";
    case SC_ERR_IO: return "read error";
    case SC_ERR_FORMAT: return "malformed";
    case SC_ERR_LIMIT: return "too large";
    case SC_ERR_UNSUPP: return "unsupported format";
    case SC_ERR_DB: return "database error";
    default: return "error";
  }
}

static void run_cat(layer *L, const sc_cataloger *c, const char *path, sc_reader *r) {
  int rv = c->scan(L->inv, path, r, L->lim);
  if (rv == SC_ERR_NOMEM) L->nomem = 1;
  if (rv && !L->res->status) note(L, "%s: %s: %s", c->name, path, errname(rv));
}

/* ---- entries --------------------------------------------------------------- */

/* Lexically normalises a tar path into out ("a/b/c"): strips leading "/" and
 * "./", folds "." and "..".  Returns 0, 1 for an empty result, -1 when ".."
 * climbs above the root. */
static int norm_path(const char *in, char *out, size_t cap, int *abs) {
  size_t n = 0;
  *abs = in[0] == '/';
  while (*in) {
    while (*in == '/') in++;
    const char *e = in;
    while (*e && *e != '/') e++;
    size_t len = (size_t)(e - in);
    if (len == 0) break;
    if (len == 1 && in[0] == '.') {
      /* skip */
    } else if (len == 2 && in[0] == '.' && in[1] == '.') {
      if (n == 0) return -1;
      while (n > 0 && out[n - 1] != '/') n--;
      if (n > 0) n--; /* the separator */
    } else {
      if (n + len + 2 > cap) return -1;
      if (n) out[n++] = '/';
      memcpy(out + n, in, len);
      n += len;
    }
    in = e;
  }
  out[n] = '\0';
  return n == 0;
}

static void whiteout(layer *L, const char *path, const char *base) {
  size_t dirlen = (size_t)(base - path);
  if (dirlen) dirlen--; /* drop the "/" */
  const char *name = base + 4;
  int rv;
  if (strcmp(base, ".wh..wh..opq") == 0) {
    char *dir = strndup(path, dirlen);
    if (!dir) return (void)(L->nomem = 1);
    rv = sc_strlist_add(&L->inv->opaque, dir);
    free(dir);
  } else {
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return;
    size_t cap = dirlen + strlen(name) + 2;
    char *p = malloc(cap);
    if (!p) return (void)(L->nomem = 1);
    if (dirlen)
      snprintf(p, cap, "%.*s/%s", (int)dirlen, path, name);
    else
      snprintf(p, cap, "%s", name);
    rv = sc_strlist_add(&L->inv->whiteouts, p);
    free(p);
  }
  if (rv == SC_ERR_NOMEM) L->nomem = 1;
}

static void entry(layer *L, struct archive *a, struct archive_entry *ae, char *path, size_t pathcap) {
  const char *raw = archive_entry_pathname(ae);
  if (!raw) raw = archive_entry_pathname_utf8(ae);
  if (!raw) return (void)L->n_badname++;
  if (strlen(raw) > L->lim->max_name) return (void)L->n_long++;
  int abs;
  int nr = norm_path(raw, path, pathcap, &abs);
  if (nr < 0) return (void)L->n_dotdot++;
  if (nr > 0) return;
  if (abs) L->n_abs++; /* extracted relative to the root by docker/containerd */

  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strncmp(base, ".wh.", 4) == 0) return whiteout(L, path, base);
  if (archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae)) return;

  int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
  mode_t mode = archive_entry_mode(ae);
  const sc_cataloger *want[MAX_MATCH];
  int nw = 0;
  for (int i = 0; sc_catalogers[i] && nw < MAX_MATCH; i++)
    if (sc_catalogers[i]->match(path, size, mode)) want[nw++] = sc_catalogers[i];
  if (nw == 0) return;
  if (sc_strlist_add(&L->inv->cataloged, path) == SC_ERR_NOMEM) return (void)(L->nomem = 1);

  if (nw == 1 || size < 0 || (uint64_t)size > L->lim->max_file_read) {
    /* streamed once to the first: sharing would need a buffer above the cap
     * (in practice a big binary, which the text catalogers skip anyway) */
    sc_reader r = {ar_read, a};
    run_cat(L, want[0], path, &r);
    return;
  }
  char *buf = NULL;
  size_t len = 0;
  sc_reader ar = {ar_read, a};
  int rv = sc_read_all(&ar, L->lim->max_file_read, &buf, &len);
  if (rv) {
    if (rv == SC_ERR_NOMEM) L->nomem = 1;
    if (!L->res->status) note(L, "layer: %s: %s", path, errname(rv));
    return;
  }
  for (int i = 0; i < nw; i++) {
    memrd m = {buf, len, 0};
    sc_reader r = {mem_read, &m};
    run_cat(L, want[i], path, &r);
  }
  free(buf);
}

static void walk(layer *L) {
  struct archive *a = archive_read_new();
  if (!a) return (void)(L->nomem = 1);
  size_t pathcap = L->lim->max_name + 2;
  char *path = malloc(pathcap);
  if (!path) {
    archive_read_free(a);
    return (void)(L->nomem = 1);
  }
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_filter_none(a);
  if (archive_read_open(a, L, NULL, la_read, NULL) != ARCHIVE_OK) {
    fail(L, SC_ERR_FORMAT, "not a tar archive: %s", archive_error_string(a));
  } else {
    for (;;) {
      struct archive_entry *ae;
      int r = archive_read_next_header(a, &ae);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        const char *e = archive_error_string(a);
        fail(L, SC_ERR_FORMAT, "corrupt tar after %llu entries: %s",
             (unsigned long long)L->res->entries, e ? e : "unknown error");
        break;
      }
      if (++L->res->entries > L->lim->max_entries) {
        fail(L, SC_ERR_LIMIT, "more than %llu tar entries", (unsigned long long)L->lim->max_entries);
        break;
      }
      entry(L, a, ae, path, pathcap);
      if (L->nomem) break;
    }
  }
  free(path);
  archive_read_free(a);
}

static void hex_digest(EVP_MD_CTX *h, char *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(h, md, &n);
  strcpy(out, "sha256:");
  for (unsigned i = 0; i < n && i < 32; i++) snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* Pulls until at least want bytes are buffered or the stream ends. */
static int prime(layer *L, size_t want) {
  while (L->in_len < want && !L->in_eof) {
    ssize_t n = L->pull(L->ctx, L->in + L->in_len, IN_BUF - L->in_len);
    if (n < 0) {
      L->pull_err = 1;
      fail(L, SC_ERR_IO, "reading the layer failed at byte %llu",
           (unsigned long long)L->res->compressed_size);
      return -1;
    }
    if (n == 0) L->in_eof = 1;
    if ((size_t)n > IN_BUF - L->in_len) n = (ssize_t)(IN_BUF - L->in_len);
    EVP_DigestUpdate(L->hc, L->in + L->in_len, (size_t)n);
    L->res->compressed_size += (uint64_t)n;
    L->in_len += (size_t)n;
  }
  return 0;
}

int sc_layer_scan(sc_pull_fn pull, void *ctx, const sc_limits *lim, sc_inventory *inv,
                  sc_layer_result *res) {
  if (!pull || !lim || !inv || !res) return SC_ERR_ARG;
  memset(res, 0, sizeof(*res));
  layer L;
  memset(&L, 0, sizeof(L));
  L.pull = pull;
  L.ctx = ctx;
  L.lim = lim;
  L.inv = inv;
  L.res = res;
  int rv = SC_ERR_NOMEM;
  L.in = malloc(IN_BUF);
  L.out = malloc(HIST + OUT_BUF);
  L.hc = EVP_MD_CTX_new();
  L.hu = EVP_MD_CTX_new();
  if (!L.in || !L.out || !L.hc || !L.hu) goto out;
  if (!EVP_DigestInit_ex(L.hc, EVP_sha256(), NULL) || !EVP_DigestInit_ex(L.hu, EVP_sha256(), NULL))
    goto out;

  if (prime(&L, 6) == 0) {
    const unsigned char *m = L.in;
    size_t n = L.in_len;
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
      L.comp = C_GZIP;
#ifdef HAVE_ISAL
      if (!(L.isal = malloc(sizeof(*L.isal)))) goto out;
#endif
      if (gz_reset(&L)) goto out;
    } else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
      L.comp = C_ZSTD;
      if (!(L.zs = ZSTD_createDStream()) || ZSTD_isError(ZSTD_initDStream(L.zs))) goto out;
    } else if (n >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0) {
      fail(&L, SC_ERR_UNSUPP, "xz-compressed layers are not supported");
      L.dstate = D_FAIL;
    } else if (n >= 3 && memcmp(m, "BZh", 3) == 0) {
      fail(&L, SC_ERR_UNSUPP, "bzip2-compressed layers are not supported");
      L.dstate = D_FAIL;
    }
    strcpy(res->compression, L.comp == C_GZIP ? "gzip" : L.comp == C_ZSTD ? "zstd" : "none");
    if (L.dstate == D_RUN) walk(&L);
    if (L.nomem) goto out;
    /* the rest of the uncompressed stream (tar padding, or everything after a
     * tar error), so diff_id covers it; then the rest of the compressed one */
    const void *p;
    while (L.dstate == D_RUN && produce(&L, &p) > 0) {
    }
    while (fill_in(&L, 1) > 0) L.in_off = L.in_len;
  }

  hex_digest(L.hc, res->digest);
  if (L.comp == C_NONE) {
    if (!L.pull_err && res->status != SC_ERR_UNSUPP) memcpy(res->diff_id, res->digest, sizeof(res->diff_id));
  } else if (L.dstate == D_DONE && !L.pull_err) {
    hex_digest(L.hu, res->diff_id);
  }
  if (L.pull_err) res->digest[0] = '\0';
  if (L.n_dotdot) note(&L, "layer: skipped %llu entries escaping the root with \"..\"", (unsigned long long)L.n_dotdot);
  if (L.n_long) note(&L, "layer: skipped %llu entries with names over %zu bytes", (unsigned long long)L.n_long, lim->max_name);
  if (L.n_badname) note(&L, "layer: skipped %llu entries with unreadable names", (unsigned long long)L.n_badname);
  if (L.n_abs) note(&L, "layer: %llu entries with absolute paths (read relative to the root)", (unsigned long long)L.n_abs);
  rv = L.pull_err ? SC_ERR_IO : L.nomem ? SC_ERR_NOMEM : 0;
out:
  if (rv == SC_ERR_NOMEM && !res->status) {
    res->status = SC_ERR_NOMEM;
    snprintf(res->error, sizeof(res->error), "out of memory");
  }
#ifdef HAVE_ISAL
  free(L.isal);
#else
  if (L.z_init) inflateEnd(&L.z);
#endif
  ZSTD_freeDStream(L.zs);
  EVP_MD_CTX_free(L.hc);
  EVP_MD_CTX_free(L.hu);
  free(L.in);
  free(L.out);
  return rv;
}

static ssize_t fd_pull(void *ctx, void *buf, size_t len) {
  int fd = *(int *)ctx;
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0) return n;
    if (errno != EINTR) return SC_ERR_IO;
  }
}

int sc_layer_scan_fd(int fd, const sc_limits *lim, sc_inventory *inv, sc_layer_result *res) {
  return sc_layer_scan(fd_pull, &fd, lim, inv, res);
}
