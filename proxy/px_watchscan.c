/* px_watchscan.c - a watched base moved: fetch and scan the layers of the
 * new base that the store lacks, so that the event can say what it fixes
 * (rules in px_watch_int.h, limits in px_watch.h).
 *
 * Which images: a watched base is known by its chain only; the old one's
 * layers are stored when the local images built on it came through
 * customs (same diff_ids).  So for each image of the old base whose layers
 * are all stored, the new base's image for the same platform is the one
 * worth scanning; other platforms would be fetched for nothing.
 *
 * Ownership: every buffer and spool file is freed / closed here.
 * Thread: the watch thread (its store handle, its HTTP client), never the
 * loop.  The abort flag stops a transfer (net_http) and a scan (the pull
 * function) at once.  Errors: -1 with a one-line reason; nothing thrown
 * away is stored. */
#include "px_log.h"
#include "px_watch_int.h"
#include "sc_image.h"
#include "sc_layer.h"
#include "sc_lineage.h"
#include "sc_store_lineage.h"
#include "sc_tmpfile.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct run {
  sc_store *st;
  const watch_io *io;
  const px_watch_ref *r;
  const char *new_digest, *spool_dir;
  char images[PX_WATCH_SCAN_MAX_IMAGES][72];
  size_t nimages;
  int too_many;              /* more images than PX_WATCH_SCAN_MAX_IMAGES mattered */
  size_t layers_left;
  uint64_t bytes_left;
  px_watch_scan_stats *stats;
  char *err;
  size_t errlen;
} run;

static int aborted(const run *x) { return x->io->abort_flag && __atomic_load_n(x->io->abort_flag, __ATOMIC_SEQ_CST); }

__attribute__((format(printf, 2, 3))) static int fail(run *x, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->err, x->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* An image of the old base: when its layers are all stored, new's image
 * for its platform is to be scanned. */
static int want(void *arg, const char *image, const char *platform) {
  run *x = arg;
  sc_strlist l = {0};
  char newi[72];
  int known = 0, rv = sc_lineage_stack(x->st, image, &l, &known);
  sc_strlist_free(&l);
  if (rv || !known) return rv;
  if ((rv = sc_lineage_image_for(x->st, x->new_digest, platform, newi)) || !newi[0]) return rv;
  for (size_t i = 0; i < x->nimages; i++)
    if (!strcmp(x->images[i], newi)) return 0;
  if (x->nimages == PX_WATCH_SCAN_MAX_IMAGES) {
    x->too_many = 1;
    return 0;
  }
  snprintf(x->images[x->nimages++], 72, "%s", newi);
  return 0;
}

/* Reads the spool file for the scanner, stopping at shutdown. */
typedef struct src {
  int fd;
  const run *x;
} src;

static ssize_t pull(void *ctx, void *buf, size_t len) {
  src *s = ctx;
  if (aborted(s->x)) return -1;
  ssize_t n;
  do n = read(s->fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n;
}

/* Fetches blob digest into an unnamed spool file: its fd at offset 0, or
 * -1 with err. */
static int fetch_blob(run *x, const char *digest) {
  char url[PX_WATCH_HOST_MAX + PX_WATCH_PATH_MAX + 128], scope[PX_WATCH_PATH_MAX + 32];
  net_http_resp rs;
  int fd = sc_tmpfile_open(x->spool_dir, "customs-watch");
  if (fd < 0) return fail(x, "cannot create a spool file: %s", strerror(errno));
  snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", x->r->base_url, x->r->path, digest);
  snprintf(scope, sizeof(scope), "repository:%s:pull", x->r->path);
  net_http_req rq = {.url = url, .scope = scope, .fd = fd, .max_bytes = x->bytes_left, .abort_flag = x->io->abort_flag};
  memset(&rs, 0, sizeof(rs));
  int rc = x->io->get(x->io->arg, &rq, &rs);
  x->stats->bytes += rs.bytes;
  x->bytes_left -= rs.bytes < x->bytes_left ? rs.bytes : x->bytes_left;
  if (rc == SC_ERR_LIMIT) fail(x, "layer %s: over the %llu bytes left of PX_WATCH_SCAN_MAX_BYTES", digest,
                               (unsigned long long)rq.max_bytes);
  else if (rc) fail(x, "%s", rs.error[0] ? rs.error : customs_strerror(rc));
  else if (rs.status != 200) fail(x, "GET blob %s: HTTP %ld", digest, rs.status);
  int ok = !rc && rs.status == 200;
  net_http_resp_free(&rs);
  if (!ok || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Fetches, checks, scans and stores one layer (digest as the manifest
 * names it; diff_id as the config does).  0, or -1 with err. */
static int scan_layer(run *x, const char *digest, const char *diff_id) {
  sc_limits lim;
  sc_inventory inv;
  sc_layer_result res;
  int64_t t0 = px_now_ms();
  int fd = fetch_blob(x, digest);
  if (fd < 0) return -1;
  sc_limits_default(&lim);
  lim.spool_dir = x->spool_dir; /* the catalogers' temp files */
  sc_inventory_init(&inv);
  memset(&res, 0, sizeof(res));
  src s = {fd, x};
  int rc = sc_layer_scan(pull, &s, &lim, &inv, &res), ret = -1;
  close(fd);
  if (rc) fail(x, "layer %s: %s", digest, aborted(x) ? "shutdown" : customs_strerror(rc));
  else if (strcmp(res.digest, digest)) fail(x, "layer %s: the blob fetched is %s", digest, res.digest);
  else if (res.status == 0 && strcmp(res.diff_id, diff_id))
    fail(x, "layer %s: uncompressed it is %s, the config says %s", digest, res.diff_id, diff_id);
  else if (sc_store_put_layer(x->st, digest, &res, &inv) != 0)
    fail(x, "layer %s: cannot store it: %s", digest, sc_store_errmsg(x->st));
  else if (res.status != 0) /* stored: a failed scan is a fact too */
    fail(x, "layer %s: scan failed: %s", digest, res.error);
  else
    ret = 0;
  if (ret == 0) {
    x->stats->scanned++;
    px_info("watch %s:%s: scan layer=%s diff_id=%s bytes=%llu packages=%zu ms=%lld", x->r->repo, x->r->tag, digest,
            diff_id, (unsigned long long)res.compressed_size, inv.npkgs, (long long)(px_now_ms() - t0));
  }
  sc_inventory_free(&inv);
  return ret;
}

/* The layers of one image of the new base that no stored layer has the
 * diff_id of. */
static int scan_image(run *x, const char *image) {
  net_http_resp rs;
  sc_manifest m;
  sc_chain c;
  char d[72];
  int ret = -1;
  memset(&m, 0, sizeof(m));
  memset(&c, 0, sizeof(c));
  if (px_watch_fetch(x->io, x->r, "manifests", image, image, SC_MANIFEST_MAX_BYTES, &rs, d, x->err, x->errlen))
    return -1;
  int prc = sc_manifest_parse(rs.body, rs.len, rs.content_type[0] ? rs.content_type : NULL, &m);
  net_http_resp_free(&rs);
  if (prc) fail(x, "manifest %s: %s", image, customs_strerror(prc));
  else if (m.kind != SC_MANIFEST_IMAGE) fail(x, "manifest %s: not an image", image);
  else if (sc_store_get_chain(x->st, image, &c)) fail(x, "no chain recorded for %s", image);
  else if (c.n != m.nlayers) fail(x, "%s: %zu layers, but its config has %zu diff_ids", image, m.nlayers, c.n);
  else ret = 0;
  x->stats->images += !ret;
  for (size_t i = 0; !ret && i < m.nlayers; i++) {
    char have[72];
    int rv = sc_store_layer_by_diff_id(x->st, c.diff_ids[i], have);
    if (rv == 0) {
      x->stats->known++;
      continue;
    }
    if (rv != SC_ERR_NOTFOUND) ret = fail(x, "looking up %s: %s", c.diff_ids[i], sc_store_errmsg(x->st));
    else if (aborted(x)) ret = fail(x, "shutdown");
    else if (!x->layers_left) ret = fail(x, "more than PX_WATCH_SCAN_MAX_LAYERS (%d) layers to scan", PX_WATCH_SCAN_MAX_LAYERS);
    else if (m.layers[i].size > 0 && (uint64_t)m.layers[i].size > x->bytes_left)
      ret = fail(x, "layer %s: %lld bytes, over the %llu left of PX_WATCH_SCAN_MAX_BYTES", m.layers[i].digest,
                 (long long)m.layers[i].size, (unsigned long long)x->bytes_left);
    else {
      x->layers_left--;
      ret = scan_layer(x, m.layers[i].digest, c.diff_ids[i]);
    }
  }
  sc_chain_free(&c);
  sc_manifest_free(&m);
  return ret;
}

int px_watch_scan_move(sc_store *st, const watch_io *io, const px_watch_ref *r, const char *old_digest,
                       const char *new_digest, const char *spool_dir, px_watch_scan_stats *stats, char *err,
                       size_t errlen) {
  memset(stats, 0, sizeof(*stats));
  err[0] = '\0';
  run x = {.st = st, .io = io, .r = r, .new_digest = new_digest, .spool_dir = spool_dir,
           .layers_left = PX_WATCH_SCAN_MAX_LAYERS, .bytes_left = PX_WATCH_SCAN_MAX_BYTES, .stats = stats,
           .err = err, .errlen = errlen};
  int rv = sc_lineage_images(st, old_digest, want, &x);
  if (rv) return fail(&x, "choosing the images to scan: %s", customs_strerror(rv));
  if (x.too_many)
    px_warn("watch %s:%s: more than %d platforms of %s are in use; the first %d are scanned", r->repo, r->tag,
            PX_WATCH_SCAN_MAX_IMAGES, new_digest, PX_WATCH_SCAN_MAX_IMAGES);
  for (size_t i = 0; i < x.nimages; i++)
    if (scan_image(&x, x.images[i])) return -1;
  return 0;
}
