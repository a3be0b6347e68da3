/* sc_layer_paths.c - what the runtime sees of a layer: cleaned names,
 * symlinked parents, hard links, whiteouts, and the replay spool for files
 * over max_file_read, as containerd unpacks them (rules in
 * sc_layer_paths.h).  Split from sc_layer.c, behaviour unchanged: that file
 * moves and hashes bytes and hands contents to catalogers; this one decides
 * where an entry lands and whether a cataloger can see it.
 * Ownership: the records, the symlink list and the path buffers belong to
 * the sc_lpaths of one walk and are freed by sc_lpaths_free; the spool is
 * an unlinked temp file closed before sc_lpaths_spool returns.
 * Thread: the walk's thread only.
 * Errors: the layer's first failure goes to res (SC_ERR_FORMAT: a link or
 * name the runtime would not resolve; SC_ERR_LIMIT: name or record budget,
 * spool over SPOOL_MAX_BYTES; SC_ERR_IO: spool file); *nomem, *stop. */
#include "sc_layer_paths.h"
#include "sc_hash.h"
#include "sc_tmpfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_HOPS 40                     /* symlinks followed per name (Linux MAXSYMLINKS) */
#define LINKS_MAX_BYTES (64ull << 20)    /* symlink and file records of one layer */
#define SPOOL_MAX_BYTES (4ull << 30)     /* a file over max_file_read wanted by several catalogers */
#define SPOOL_BUF_BYTES 65536            /* one read from the archive into the spool */
#define SYM_SIZE 64                      /* size a symlink's path is offered to match() with */

typedef struct sc_frec {
  char *path;    /* key (cleaned, resolved) */
  char *target;  /* symlink: its target as written; NULL for a cataloged file */
  char *origin;  /* file: path its inventory items are recorded under */
  uint32_t mask; /* file: catalogers run on the content */
  int64_t size;
  mode_t mode;
} frec;

/* The first failure of the layer is the one reported (as in sc_layer.c). */
static void fail(sc_lpaths *p, int status, const char *fmt, ...) {
  if (p->res->status) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->res->error, sizeof(p->res->error), fmt, ap);
  va_end(ap);
  p->res->status = status;
}

static void oom(sc_lpaths *p) { *p->nomem = 1; }

/* ---- records: symlinks and cataloged files, by path ------------------------- */

/* Open addressing; deleted records keep their slot with path "" */
static frec *rec_find(sc_lpaths *p, const char *path) {
  if (!p->rcap) return NULL;
  for (size_t i = sc_fnv1a_str(path) & (p->rcap - 1);; i = (i + 1) & (p->rcap - 1)) {
    frec *r = &p->recs[i];
    if (!r->path) return NULL;
    if (strcmp(r->path, path) == 0) return r;
  }
}

static void rec_clear(frec *r) {
  free(r->target);
  free(r->origin);
  r->target = r->origin = NULL;
  r->mask = 0;
}

/* The record for path, created empty when missing; NULL when out of memory
 * or over LINKS_MAX_BYTES (then the layer has failed). */
static frec *rec_get(sc_lpaths *p, const char *path) {
  frec *r = rec_find(p, path);
  if (r) {
    rec_clear(r);
    return r;
  }
  size_t len = strlen(path) + 1;
  p->rbytes += len + sizeof(frec);
  if (p->rbytes > LINKS_MAX_BYTES) {
    fail(p, SC_ERR_LIMIT, "budget: layer: link and file records over %llu bytes", LINKS_MAX_BYTES);
    *p->stop = 1;
    return NULL;
  }
  if ((p->rn + 1) * 2 > p->rcap) {
    size_t ncap = p->rcap ? p->rcap * 2 : 256;
    frec *nv = calloc(ncap, sizeof(*nv));
    if (!nv) return oom(p), NULL;
    for (size_t i = 0; i < p->rcap; i++) {
      if (!p->recs[i].path) continue;
      size_t j = sc_fnv1a_str(p->recs[i].path) & (ncap - 1);
      while (nv[j].path) j = (j + 1) & (ncap - 1);
      nv[j] = p->recs[i];
    }
    free(p->recs);
    p->recs = nv;
    p->rcap = ncap;
  }
  size_t i = sc_fnv1a_str(path) & (p->rcap - 1);
  while (p->recs[i].path) i = (i + 1) & (p->rcap - 1);
  r = &p->recs[i];
  if (!(r->path = strdup(path))) return oom(p), NULL;
  p->rn++;
  return r;
}

int sc_lpaths_init(sc_lpaths *p) {
  /* resolved names may grow past max_name through symlink targets */
  p->pathcap = 2 * p->lim->max_name + 2;
  p->path = malloc(p->pathcap);
  p->scratch = malloc(p->pathcap);
  p->scratch2 = malloc(p->pathcap);
  if (p->path && p->scratch && p->scratch2) return 0;
  oom(p);
  return SC_ERR_NOMEM;
}

void sc_lpaths_free(sc_lpaths *p) {
  for (size_t i = 0; i < p->rcap; i++) {
    rec_clear(&p->recs[i]);
    free(p->recs[i].path);
  }
  free(p->recs);
  for (size_t i = 0; i < p->nsyms; i++) free(p->syms[i]);
  free(p->syms);
  free(p->path);
  free(p->scratch);
  free(p->scratch2);
  p->recs = NULL;
  p->syms = NULL;
  p->path = p->scratch = p->scratch2 = NULL;
  p->rcap = p->rn = p->nsyms = p->symcap = 0;
}

/* ---- names ---------------------------------------------------------------- */

/* Lexically normalises a tar path into out ("a/b/c") relative to the root:
 * strips leading "/" and "./", folds "." and "..", and a ".." at the root
 * stays at the root, as containerd does.  *climbed is set when it did.
 * Returns 0, 1 for an empty result (the root), -1 when out is too small. */
static int norm_path(const char *in, char *out, size_t cap, int *abs, int *climbed) {
  size_t n = 0;
  *abs = in[0] == '/';
  *climbed = 0;
  while (*in) {
    while (*in == '/') in++;
    const char *e = in;
    while (*e && *e != '/') e++;
    size_t len = (size_t)(e - in);
    if (len == 0) break;
    if (len == 1 && in[0] == '.') {
      /* skip */
    } else if (len == 2 && in[0] == '.' && in[1] == '.') {
      if (n == 0) *climbed = 1;
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

/* Resolves the symlinks of this layer in path (cleaned, in place, cap
 * bytes): in every parent directory, and in the last component too when
 * `last`.  0, or -1 (too many hops, or too long: the runtime fails too). */
static int resolve(sc_lpaths *p, char *path, size_t cap, int last) {
  char *tmp = p->scratch;
  for (int hops = 0;;) {
    size_t n = strlen(path), i;
    frec *hit = NULL;
    for (i = 0; i <= n; i++) {
      if (path[i] != '/' && path[i] != '\0') continue;
      if (path[i] == '\0' && !last) break;
      char c = path[i];
      path[i] = '\0';
      frec *r = rec_find(p, path);
      path[i] = c;
      if (r && r->target) {
        hit = r;
        break;
      }
    }
    if (!hit) return 0;
    if (++hops > LINK_HOPS) return -1;
    /* the link at path[0..i) becomes its target, relative to its directory */
    const char *dir_end = memrchr(path, '/', i);
    size_t dl = hit->target[0] == '/' || !dir_end ? 0 : (size_t)(dir_end - path);
    if (dl + strlen(hit->target) + (n - i) + 3 > cap) return -1;
    int k = snprintf(tmp, cap, "%.*s%s%s%s", (int)dl, path, dl ? "/" : "", hit->target, path + i);
    if (k < 0 || (size_t)k >= cap) return -1;
    int abs, climbed;
    if (norm_path(tmp, path, cap, &abs, &climbed) < 0) return -1;
  }
}

/* ---- links ---------------------------------------------------------------- */

/* Copies the inventory items recorded under `from` to `to` (a hard link:
 * the same content at another path). */
static void copy_items(sc_lpaths *p, const char *from, const char *to) {
  sc_inventory *inv = p->inv;
  size_t fl = strlen(from), npkgs = inv->npkgs, nsec = inv->nsecrets;
  for (size_t i = 0; i < npkgs && !*p->nomem; i++) {
    const char *pp = inv->pkgs[i].path;
    if (!pp || strncmp(pp, from, fl) != 0 || (pp[fl] && strncmp(pp + fl, "!/", 2) != 0)) continue;
    size_t cap = strlen(to) + strlen(pp + fl) + 1;
    char *np = malloc(cap);
    if (!np) return oom(p);
    snprintf(np, cap, "%s%s", to, pp + fl);
    sc_package pk = inv->pkgs[i];
    pk.path = np;
    pk.purl = NULL;
    if (sc_inventory_add_package(inv, &pk)) oom(p);
    free(np);
  }
  for (size_t i = 0; i < nsec && !*p->nomem; i++) {
    if (strcmp(inv->secrets[i].path, from) != 0) continue;
    char *rule = strdup(inv->secrets[i].rule);
    if (!rule || sc_inventory_add_secret(inv, to, rule, inv->secrets[i].line)) oom(p);
    free(rule);
  }
}

uint32_t sc_lpaths_wanted(const char *path, int64_t size, mode_t mode) {
  uint32_t w = 0;
  for (int i = 0; sc_catalogers[i] && i < SC_LAYER_MAX_CATS; i++)
    if (sc_catalogers[i]->match(path, size, mode)) w |= 1u << i;
  return w;
}

static const char *first_name(uint32_t m) {
  for (int i = 0; sc_catalogers[i] && i < SC_LAYER_MAX_CATS; i++)
    if (m & (1u << i)) return sc_catalogers[i]->name;
  return "?";
}

static void hardlink(sc_lpaths *p, const char *path, const char *linkname) {
  char *t = p->scratch2;
  int abs, climbed;
  if (norm_path(linkname, t, p->pathcap, &abs, &climbed) < 0 || resolve(p, t, p->pathcap, 1) < 0)
    return fail(p, SC_ERR_FORMAT, "hard link %s: target %s does not resolve", path, linkname);
  frec *tr = rec_find(p, t);
  int64_t size = tr && !tr->target ? tr->size : 0;
  mode_t mode = tr && !tr->target ? tr->mode : (mode_t)(S_IFREG | 0644);
  uint32_t w = sc_lpaths_wanted(path, size, mode);
  if (!tr || tr->target || !tr->origin) {
    if (w) fail(p, SC_ERR_FORMAT, "hard link %s -> %s: target not read by %s in this layer", path, t, first_name(w));
    return;
  }
  if (w & ~tr->mask) {
    fail(p, SC_ERR_FORMAT, "hard link %s -> %s: target not read by %s", path, t, first_name(w & ~tr->mask));
    return;
  }
  char *origin = strdup(tr->origin);
  uint32_t mask = tr->mask;
  if (!origin) return oom(p);
  if (w) {
    if (sc_strlist_add(&p->inv->cataloged, path) == SC_ERR_NOMEM) oom(p);
    copy_items(p, origin, path);
  }
  frec *r = rec_get(p, path); /* may move tr */
  if (!r) return free(origin);
  r->origin = origin;
  r->mask = mask;
  r->size = size;
  r->mode = mode;
}

static void symlink_entry(sc_lpaths *p, const char *path, const char *target) {
  frec *r = rec_get(p, path);
  if (!r) return;
  if (!(r->target = strdup(target))) return oom(p);
  /* checked at the end, when every link of the layer is known */
  if (!sc_lpaths_wanted(path, SYM_SIZE, S_IFREG | 0644)) return;
  if (p->nsyms == p->symcap) {
    size_t nc = p->symcap ? p->symcap * 2 : 16;
    char **nv = realloc(p->syms, nc * sizeof(*nv));
    if (!nv) return oom(p);
    p->syms = nv;
    p->symcap = nc;
  }
  if (!(p->syms[p->nsyms] = strdup(path))) return oom(p);
  p->nsyms++;
}

/* A symlink at a path a cataloger reads: the runtime reads the target, so
 * the target's path must be one the same catalogers read (the content is
 * then cataloged there, in this layer or the one that has it).  go and
 * secrets are left out: they pick files by content and mode, not path, and
 * the target, being what runs or what is read, is picked by them itself. */
void sc_lpaths_finish(sc_lpaths *p) {
  uint32_t by_content = 0;
  for (int i = 0; sc_catalogers[i] && i < SC_LAYER_MAX_CATS; i++)
    if (sc_catalogers[i] == &sc_cat_go || sc_catalogers[i] == &sc_cat_secrets) by_content |= 1u << i;
  for (size_t i = 0; i < p->nsyms && !p->res->status; i++) {
    const char *path = p->syms[i];
    frec *r = rec_find(p, path);
    if (!r || !r->target) continue; /* replaced later in the layer */
    uint32_t w = sc_lpaths_wanted(path, SYM_SIZE, S_IFREG | 0644) & ~by_content;
    if (!w) continue;
    char *t = p->scratch2;
    snprintf(t, p->pathcap, "%s", path);
    if (resolve(p, t, p->pathcap, 1) < 0) {
      fail(p, SC_ERR_FORMAT, "symlink %s: target %s does not resolve", path, r->target);
      return;
    }
    frec *tr = rec_find(p, t);
    uint32_t got = tr && !tr->target && tr->origin ? tr->mask : sc_lpaths_wanted(t, SYM_SIZE, S_IFREG | 0644);
    if (w & ~got)
      fail(p, SC_ERR_FORMAT, "symlink %s -> %s: target not read by %s", path, t, first_name(w & ~got));
  }
}

/* ---- entries ---------------------------------------------------------------- */

static void whiteout(sc_lpaths *p, const char *path, const char *base) {
  size_t dirlen = (size_t)(base - path);
  if (dirlen) dirlen--; /* drop the "/" */
  const char *name = base + 4;
  int rv;
  if (strcmp(base, ".wh..wh..opq") == 0) {
    char *dir = strndup(path, dirlen);
    if (!dir) return oom(p);
    rv = sc_strlist_add(&p->inv->opaque, dir);
    free(dir);
  } else {
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return;
    size_t cap = dirlen + strlen(name) + 2;
    char *w = malloc(cap);
    if (!w) return oom(p);
    if (dirlen)
      snprintf(w, cap, "%.*s/%s", (int)dirlen, path, name);
    else
      snprintf(w, cap, "%s", name);
    rv = sc_strlist_add(&p->inv->whiteouts, w);
    free(w);
  }
  if (rv == SC_ERR_NOMEM) oom(p);
}

int sc_lpaths_entry(sc_lpaths *p, struct archive_entry *ae, const char **out) {
  unsigned long long ent = (unsigned long long)p->res->entries;
  char *path = p->path;
  const char *raw = archive_entry_pathname(ae);
  if (!raw) raw = archive_entry_pathname_utf8(ae);
  if (!raw) return fail(p, SC_ERR_FORMAT, "entry %llu: unreadable name", ent), 0;
  if (strlen(raw) > p->lim->max_name)
    return fail(p, SC_ERR_LIMIT, "entry %llu: name over %zu bytes", ent, p->lim->max_name), 0;
  int abs, climbed;
  int nr = norm_path(raw, path, p->pathcap, &abs, &climbed);
  if (nr < 0) return fail(p, SC_ERR_LIMIT, "entry %llu: name too long", ent), 0;
  if (nr > 0) return 0; /* the root itself */
  if (climbed) p->n_dotdot++;
  if (abs) p->n_abs++;
  if (resolve(p, path, p->pathcap, 0) < 0)
    return fail(p, SC_ERR_FORMAT, "%s: too many symlinks in its path", raw), 0;

  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strncmp(base, ".wh.", 4) == 0) return whiteout(p, path, base), 0;
  frec *old = rec_find(p, path);
  if (old) rec_clear(old); /* replaced: no longer a link or a cataloged file */
  const char *hl = archive_entry_hardlink(ae);
  if (hl) return hardlink(p, path, hl), 0;
  switch (archive_entry_filetype(ae)) {
    case AE_IFLNK: {
      const char *t = archive_entry_symlink(ae);
      if (!t) return fail(p, SC_ERR_FORMAT, "%s: symlink without a target", path), 0;
      return symlink_entry(p, path, t), 0;
    }
    case AE_IFREG:
      *out = path;
      return 1;
    default:
      return 0; /* directories, devices, fifos: nothing to catalog */
  }
}

int sc_lpaths_file(sc_lpaths *p, const char *path, uint32_t mask, int64_t size, mode_t mode) {
  frec *r = rec_get(p, path);
  if (!r) return -1;
  if (!(r->origin = strdup(path))) return oom(p), -1;
  r->mask = mask;
  r->size = size;
  r->mode = mode;
  if (sc_strlist_add(&p->inv->cataloged, path) == SC_ERR_NOMEM) return oom(p), -1;
  return 0;
}

/* ---- files over max_file_read ------------------------------------------------ */

typedef struct fdrd {
  int fd;
} fdrd;

static ssize_t fd_read(void *ctx, void *buf, size_t len) {
  fdrd *f = ctx;
  for (;;) {
    ssize_t n = read(f->fd, buf, len);
    if (n >= 0) return n;
    if (errno != EINTR) return SC_ERR_IO;
  }
}

void sc_lpaths_spool(sc_lpaths *p, struct archive *a, const char *path, uint32_t mask) {
  const char *dir = p->lim->spool_dir;
  int fd = sc_tmpfile_open(dir, "customs-spool"); /* unnamed: gone with its fd */
  if (fd < 0)
    return fail(p, SC_ERR_IO, "%s: no temp file in spool dir '%s' to share it between catalogers: %s", path,
                dir ? dir : "", strerror(errno));
  char *buf = malloc(SPOOL_BUF_BYTES);
  uint64_t total = 0;
  int ok = buf != NULL;
  if (!buf) oom(p);
  while (ok) {
    la_ssize_t n = archive_read_data(a, buf, SPOOL_BUF_BYTES);
    if (n == 0) break;
    if (n < 0) {
      fail(p, SC_ERR_FORMAT, "%s: unreadable entry", path);
      ok = 0;
      break;
    }
    total += (uint64_t)n;
    if (total > SPOOL_MAX_BYTES) {
      fail(p, SC_ERR_LIMIT, "budget: layer: %s: over %llu bytes for several catalogers", path, SPOOL_MAX_BYTES);
      ok = 0;
      break;
    }
    for (la_ssize_t w = 0; w < n && ok;) {
      ssize_t m = write(fd, buf + w, (size_t)(n - w));
      if (m < 0 && errno == EINTR) continue;
      if (m <= 0) {
        fail(p, SC_ERR_IO, "%s: spooling for several catalogers failed", path);
        ok = 0;
      }
      w += m;
    }
  }
  free(buf);
  for (int i = 0; ok && i < SC_LAYER_MAX_CATS && !*p->stop; i++) {
    if (!(mask & (1u << i))) continue;
    if (lseek(fd, 0, SEEK_SET) != 0) {
      fail(p, SC_ERR_IO, "%s: spool rewind failed", path);
      break;
    }
    fdrd f = {fd};
    sc_reader r = {fd_read, &f};
    p->run(p->run_ctx, i, path, &r);
  }
  close(fd);
}
