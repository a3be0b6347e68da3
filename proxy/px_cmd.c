/* px_cmd.c - `customs scan` and `customs report`.
 *
 * A scan turns a target into (manifest, config, layer streams), scans every
 * layer with sc_layer_scan (reusing layers already stored "ok" with --db),
 * merges the inventories in layer order and prints the report. */
#include "px_cmd.h"
#include "sc_file.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sc_config.h"
#include "sc_image.h"
#include "sc_layer.h"
#include "sc_match.h"
#include "sc_policy.h"
#include "sc_report.h"
#include "sc_store.h"

#define EXIT_PASS 0
#define EXIT_ERROR 1
#define EXIT_DENY 3
#define SMALL_MAX (8u * 1024 * 1024) /* index.json, manifest.json, configs */
#define MAX_LAYERS 1024

typedef enum { FMT_TABLE, FMT_JSON, FMT_CYCLONEDX } fmt_t;

typedef struct job {
  const char *target;
  char *repo, *tag, *image;     /* image: "repo@digest" or the target */
  char digest[72];              /* manifest digest, "" for a single layer */
  sc_manifest man;
  char *config;
  size_t config_len;
  size_t n;                     /* layers */
  sc_inventory *inv;            /* per layer */
  sc_layer_result *res;
  char (*status)[16];           /* per layer, for the report */
  int *from_store;              /* loaded from the store, not scanned */
  sc_store *st;
  sc_limits lim;
} job;

static void die_msg(const char *target, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die_msg(const char *target, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "customs: %s: ", target);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static const char *err_name(int rv) {
  switch (rv) {
  case SC_ERR_NOMEM: return "out of memory";
  case SC_ERR_IO: return "read failed";
  case SC_ERR_FORMAT: return "malformed input";
  case SC_ERR_LIMIT: return "size limit exceeded";
  case SC_ERR_DIGEST: return "digest mismatch";
  case SC_ERR_UNSUPP: return "unsupported format";
  case SC_ERR_DB: return "database error";
  case SC_ERR_ARG: return "bad argument";
  case SC_ERR_NOTFOUND: return "not found";
  default: return "error";
  }
}


static int job_alloc(job *j, size_t n) {
  if (n > MAX_LAYERS) return SC_ERR_LIMIT;
  j->n = n;
  j->inv = calloc(n ? n : 1, sizeof(*j->inv));
  j->res = calloc(n ? n : 1, sizeof(*j->res));
  j->status = calloc(n ? n : 1, sizeof(*j->status));
  j->from_store = calloc(n ? n : 1, sizeof(int));
  if (!j->inv || !j->res || !j->status || !j->from_store) return SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    sc_inventory_init(&j->inv[i]);
    snprintf(j->status[i], sizeof(j->status[i]), "missing");
  }
  return 0;
}

static void job_free(job *j) {
  for (size_t i = 0; j->inv && i < j->n; i++) sc_inventory_free(&j->inv[i]);
  free(j->inv);
  free(j->res);
  free(j->status);
  free(j->from_store);
  free(j->repo);
  free(j->tag);
  free(j->image);
  free(j->config);
  sc_manifest_free(&j->man);
}

/* With --db, a layer already stored "ok" is loaded instead of scanned. */
static int try_stored(job *j, size_t i, const char *digest) {
  char st[16];
  if (!j->st || !digest || sc_store_layer_status(j->st, digest, st) || strcmp(st, "ok")) return 0;
  if (sc_store_load_layer(j->st, digest, &j->inv[i])) {
    sc_inventory_free(&j->inv[i]);
    sc_inventory_init(&j->inv[i]);
    return 0;
  }
  snprintf(j->res[i].digest, sizeof(j->res[i].digest), "%s", digest);
  snprintf(j->status[i], sizeof(j->status[i]), "ok");
  j->from_store[i] = 1;
  return 1;
}

/* After a scan: check the digest, set the status, store the layer. */
static int layer_done(job *j, size_t i, const char *expect) {
  sc_layer_result *r = &j->res[i];
  if (expect && r->digest[0] && strcmp(r->digest, expect) != 0) {
    r->status = SC_ERR_DIGEST;
    snprintf(r->error, sizeof(r->error), "content digest %s does not match %s", r->digest, expect);
  }
  snprintf(j->status[i], sizeof(j->status[i]), "%s",
           r->status == 0 ? "ok" : r->status == SC_ERR_IO ? "partial" : "failed");
  /* a mismatching blob is stored under what it really is */
  if (j->st && r->digest[0] && sc_store_put_layer(j->st, r->digest, r, &j->inv[i]) != 0) {
    fprintf(stderr, "customs: store layer %s: %s\n", r->digest, sc_store_errmsg(j->st));
    return SC_ERR_DB;
  }
  return 0;
}

static int scan_fd(job *j, size_t i, int fd, const char *expect) {
  int rv = sc_layer_scan_fd(fd, &j->lim, &j->inv[i], &j->res[i]);
  if (rv && rv != SC_ERR_IO) return rv;
  if (rv == SC_ERR_IO && !j->res[i].error[0])
    snprintf(j->res[i].error, sizeof(j->res[i].error), "read failed");
  return layer_done(j, i, expect);
}

/* ---- oci:DIR[:TAG] ----------------------------------------------------- */

/* DIR/blobs/sha256/<hex>; only strict sha256 digests (no path tricks). */
static int blob_path(const char *dir, const char *digest, char *out, size_t cap) {
  if (!sc_digest_valid(digest, 0)) return SC_ERR_FORMAT;
  if ((size_t)snprintf(out, cap, "%s/blobs/sha256/%s", dir, digest + 7) >= cap) return SC_ERR_LIMIT;
  return 0;
}

static int read_blob(const char *dir, const char *digest, size_t cap, char **buf, size_t *len) {
  char path[4096], got[72];
  int rv = blob_path(dir, digest, path, sizeof(path));
  if (rv || (rv = sc_read_file(path, cap, buf, len))) return rv;
  if ((rv = sc_digest_sha256(*buf, *len, got))) return rv;
  return strcmp(got, digest) ? SC_ERR_DIGEST : 0;
}

/* Loads the manifest digest into j->digest/j->man; follows an index to its
 * linux/amd64 child (or its only child). */
static int load_manifest_chain(job *j, const char *dir, const char *first) {
  char digest[72];
  snprintf(digest, sizeof(digest), "%s", first);
  for (int depth = 0; depth < 4; depth++) {
    char *buf;
    size_t len;
    int rv = read_blob(dir, digest, SC_MANIFEST_MAX_BYTES, &buf, &len);
    if (rv) {
      die_msg(j->target, "manifest blob %s unreadable", digest);
      return rv;
    }
    sc_manifest_free(&j->man);
    rv = sc_manifest_parse(buf, len, NULL, &j->man);
    free(buf);
    if (rv) {
      die_msg(j->target, "manifest %s invalid", digest);
      return rv;
    }
    snprintf(j->digest, sizeof(j->digest), "%s", digest);
    if (j->man.kind == SC_MANIFEST_IMAGE) return 0;
    int k = sc_manifest_pick(&j->man, "linux", "amd64", NULL);
    if (k < 0 && j->man.nchildren == 1) k = 0;
    if (k < 0) {
      die_msg(j->target, "index has no linux/amd64 image");
      return SC_ERR_NOTFOUND;
    }
    snprintf(digest, sizeof(digest), "%s", j->man.children[k].digest);
  }
  die_msg(j->target, "indexes nested too deep");
  return SC_ERR_LIMIT;
}

static int target_oci(job *j, const char *spec) {
  char dir[4096];
  const char *tag = NULL;
  struct stat sb;
  snprintf(dir, sizeof(dir), "%s", spec);
  /* DIR may itself contain ':'; split only when the whole is not a dir */
  char *c = strrchr(dir, ':');
  if (c && !(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) && !strchr(c, '/')) {
    *c = 0;
    tag = c + 1;
  }
  char path[4200], *buf;
  size_t len;
  snprintf(path, sizeof(path), "%s/index.json", dir);
  if (sc_read_file(path, SMALL_MAX, &buf, &len)) {
    die_msg(j->target, "cannot read %s", path);
    return SC_ERR_IO;
  }
  json_t *idx = json_loadb(buf, len, 0, NULL);
  free(buf);
  json_t *ms = json_object_get(idx, "manifests");
  const char *digest = NULL, *found_tag = NULL;
  for (size_t i = 0; i < json_array_size(ms); i++) {
    json_t *m = json_array_get(ms, i);
    const char *d = json_string_value(json_object_get(m, "digest"));
    const char *name = json_string_value(
        json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
    if (!d) continue;
    if (tag ? (name && strcmp(name, tag) == 0) : json_array_size(ms) == 1) {
      digest = d;
      found_tag = name;
      break;
    }
  }
  int rv = SC_ERR_NOTFOUND;
  if (!digest) {
    if (!json_is_array(ms)) die_msg(j->target, "index.json is not an OCI index");
    else if (tag) die_msg(j->target, "no manifest tagged '%s' in index.json", tag);
    else die_msg(j->target, "index.json lists several manifests: name one with oci:DIR:TAG");
    goto out;
  }
  char base[4096];
  snprintf(base, sizeof(base), "%s", dir);
  size_t bl = strlen(base);
  while (bl > 1 && base[bl - 1] == '/') base[--bl] = 0;
  if (asprintf(&j->repo, "local/%s", basename(base)) < 0) j->repo = NULL;
  j->tag = found_tag ? strdup(found_tag) : NULL;
  if (!j->repo || (found_tag && !j->tag)) {
    rv = SC_ERR_NOMEM;
    goto out;
  }
  if ((rv = load_manifest_chain(j, dir, digest))) goto out;
  if (j->man.config_digest &&
      (rv = read_blob(dir, j->man.config_digest, SMALL_MAX, &j->config, &j->config_len))) {
    die_msg(j->target, "config blob %s unreadable", j->man.config_digest);
    goto out;
  }
  if ((rv = job_alloc(j, j->man.nlayers))) goto out;
  for (size_t i = 0; i < j->n; i++) {
    const char *ld = j->man.layers[i].digest;
    if (try_stored(j, i, ld)) continue;
    if ((rv = blob_path(dir, ld, path, sizeof(path)))) goto out;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      /* a missing blob is reported, not fatal: the image is partly scanned */
      snprintf(j->res[i].digest, sizeof(j->res[i].digest), "%s", ld);
      snprintf(j->res[i].error, sizeof(j->res[i].error), "blob not in layout");
      continue;
    }
    rv = scan_fd(j, i, fd, ld);
    close(fd);
    if (rv) goto out;
  }
  rv = 0;
out:
  json_decref(idx);
  return rv;
}

/* ---- layer:FILE -------------------------------------------------------- */

static int target_layer(job *j, const char *file) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    die_msg(j->target, "cannot open: %s", strerror(errno));
    return SC_ERR_IO;
  }
  int rv = job_alloc(j, 1);
  if (!rv) rv = scan_fd(j, 0, fd, NULL);
  close(fd);
  return rv;
}

/* ---- docker-archive:FILE ----------------------------------------------- */

static ssize_t ar_pull(void *ctx, void *buf, size_t len) {
  la_ssize_t n = archive_read_data((struct archive *)ctx, buf, len);
  return n < 0 ? -1 : (ssize_t)n;
}

static struct archive *ar_open(const char *file) {
  struct archive *a = archive_read_new();
  if (!a) return NULL;
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
    archive_read_free(a);
    return NULL;
  }
  return a;
}

static char *ar_read_small(struct archive *a, struct archive_entry *e, size_t *len) {
  int64_t sz = archive_entry_size(e);
  if (sz < 0 || (uint64_t)sz > SMALL_MAX) return NULL;
  char *buf = malloc((size_t)sz + 1);
  size_t n = 0;
  while (buf && n < (size_t)sz) {
    la_ssize_t r = archive_read_data(a, buf + n, (size_t)sz - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  if (buf) buf[n] = 0;
  *len = n;
  return buf;
}

/* A registry-like manifest for the archive, so the image has a stable
 * digest and is stored like a pushed one. */
static int synth_manifest(job *j) {
  char cd[72];
  int rv = sc_digest_sha256(j->config, j->config_len, cd);
  if (rv) return rv;
  json_t *layers = json_array();
  for (size_t i = 0; layers && i < j->n; i++)
    json_array_append_new(layers, json_pack("{s:s, s:I, s:s}", "mediaType",
                                            "application/vnd.docker.image.rootfs.diff.tar", "size",
                                            (json_int_t)j->res[i].compressed_size, "digest",
                                            j->res[i].digest));
  json_t *m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
                        SC_MT_DOCKER_MANIFEST, "config", "mediaType",
                        "application/vnd.docker.container.image.v1+json", "size",
                        (json_int_t)j->config_len, "digest", cd, "layers", layers);
  char *txt = m ? json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(m);
  if (!txt) return SC_ERR_NOMEM;
  rv = sc_digest_sha256(txt, strlen(txt), j->digest);
  if (!rv) rv = sc_manifest_parse(txt, strlen(txt), NULL, &j->man);
  free(txt);
  return rv;
}

static int target_archive(job *j, const char *file) {
  struct archive *a = ar_open(file);
  struct archive_entry *e;
  json_t *mf = NULL;
  int rv = SC_ERR_FORMAT;
  if (!a) {
    die_msg(j->target, "cannot open archive");
    return SC_ERR_IO;
  }
  /* pass 1: manifest.json (configs are read in pass 2 by name) */
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const char *p = sc_path_clean(archive_entry_pathname(e));
    if (strcmp(p, "manifest.json") == 0) {
      size_t len;
      char *buf = ar_read_small(a, e, &len);
      mf = buf ? json_loadb(buf, len, 0, NULL) : NULL;
      free(buf);
      break;
    }
  }
  archive_read_free(a);
  json_t *m0 = json_array_get(mf, 0), *layers = json_object_get(m0, "Layers");
  const char *cfgname = json_string_value(json_object_get(m0, "Config"));
  if (!cfgname || !json_is_array(layers)) {
    die_msg(j->target, "no usable manifest.json (not a docker save archive?)");
    goto out;
  }
  if (json_array_size(mf) > 1)
    fprintf(stderr, "customs: %s: several images in the archive, scanning the first\n", j->target);
  const char *rt = json_string_value(json_array_get(json_object_get(m0, "RepoTags"), 0));
  const char *colon = rt ? strrchr(rt, ':') : NULL;
  if (colon && !strchr(colon, '/')) {
    j->repo = strndup(rt, (size_t)(colon - rt));
    j->tag = strdup(colon + 1);
  } else {
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", file);
    if (asprintf(&j->repo, "local/%s", basename(tmp)) < 0) j->repo = NULL;
  }
  if ((rv = job_alloc(j, json_array_size(layers)))) goto out;
  /* pass 2: config and layers, streamed in archive order */
  if (!(a = ar_open(file))) {
    rv = SC_ERR_IO;
    goto out;
  }
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const char *p = sc_path_clean(archive_entry_pathname(e));
    if (!j->config && strcmp(p, sc_path_clean(cfgname)) == 0) {
      j->config = ar_read_small(a, e, &j->config_len);
      continue;
    }
    for (size_t i = 0; i < j->n; i++) {
      const char *ln = json_string_value(json_array_get(layers, i));
      if (!ln || strcmp(p, sc_path_clean(ln)) != 0 || j->res[i].digest[0]) continue;
      rv = sc_layer_scan(ar_pull, a, &j->lim, &j->inv[i], &j->res[i]);
      if (rv && rv != SC_ERR_IO) goto out;
      if ((rv = layer_done(j, i, NULL))) goto out;
      /* the same blob listed twice: copy the result */
      for (size_t k = i + 1; k < j->n; k++) {
        const char *lk = json_string_value(json_array_get(layers, k));
        if (lk && strcmp(sc_path_clean(lk), p) == 0) {
          j->res[k] = j->res[i];
          memcpy(j->status[k], j->status[i], sizeof(j->status[k]));
          if ((rv = sc_inventory_merge(&j->inv[k], &j->inv[i]))) goto out;
        }
      }
      break;
    }
  }
  rv = SC_ERR_FORMAT;
  if (!j->config) {
    die_msg(j->target, "config %s missing from the archive", cfgname);
    goto out;
  }
  for (size_t i = 0; i < j->n; i++)
    if (!j->res[i].digest[0]) {
      die_msg(j->target, "layer %s missing from the archive",
              json_string_value(json_array_get(layers, i)));
      goto out;
    }
  rv = synth_manifest(j);
out:
  if (a) archive_read_free(a);
  json_decref(mf);
  return rv;
}

/* ---- docker://HOST[:PORT]/REPO[:TAG|@DIGEST] --------------------------- */

typedef struct http {
  CURL *c;
  char base[512];               /* scheme://host[:port] */
  char *token;                  /* bearer token once obtained */
  char ctype[128], dcd[80], auth[1024];
} http;

typedef struct sink {
  char *buf;
  size_t len, cap;              /* cap: hard limit */
  int fd;                       /* >= 0: write to fd instead */
} sink;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud) {
  sink *s = ud;
  size_t n = sz * nm;
  if (s->fd >= 0) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = write(s->fd, p + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return 0;
      off += (size_t)w;
    }
    return n;
  }
  if (s->len + n > s->cap) return 0; /* over the cap: abort the transfer */
  char *nb = realloc(s->buf, s->len + n + 1);
  if (!nb) return 0;
  memcpy(nb + s->len, p, n);
  s->buf = nb;
  s->len += n;
  s->buf[s->len] = 0;
  return n;
}

static void hdr_copy(char *dst, size_t cap, const char *v, size_t n) {
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) n--;
  while (n && *v == ' ') v++, n--;
  if (n >= cap) n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud) {
  http *h = ud;
  size_t n = sz * nm;
  static const struct { const char *name; size_t off, cap; } H[] = {
      {"content-type:", offsetof(http, ctype), sizeof(((http *)0)->ctype)},
      {"docker-content-digest:", offsetof(http, dcd), sizeof(((http *)0)->dcd)},
      {"www-authenticate:", offsetof(http, auth), sizeof(((http *)0)->auth)},
  };
  for (size_t i = 0; i < sizeof(H) / sizeof(H[0]); i++) {
    size_t hl = strlen(H[i].name);
    if (n > hl && strncasecmp(p, H[i].name, hl) == 0)
      hdr_copy((char *)h + H[i].off, H[i].cap, p + hl, n - hl);
  }
  return n;
}

/* Value of key="..." in a WWW-Authenticate challenge. */
static int auth_param(const char *ch, const char *key, char *out, size_t cap) {
  size_t kl = strlen(key);
  for (const char *p = ch; (p = strstr(p, key)) != NULL; p++) {
    if ((p == ch || p[-1] == ' ' || p[-1] == ',') && p[kl] == '=' && p[kl + 1] == '"') {
      const char *v = p + kl + 2, *e = strchr(v, '"');
      if (!e || (size_t)(e - v) >= cap) return -1;
      memcpy(out, v, (size_t)(e - v));
      out[e - v] = 0;
      return 0;
    }
  }
  return -1;
}

static long do_get(http *h, const char *url, const char *accept, sink *s) {
  struct curl_slist *hl = NULL;
  char line[2200];
  h->ctype[0] = h->dcd[0] = h->auth[0] = 0;
  if (accept) {
    snprintf(line, sizeof(line), "Accept: %s", accept);
    hl = curl_slist_append(hl, line);
  }
  if (h->token) {
    snprintf(line, sizeof(line), "Authorization: Bearer %s", h->token);
    hl = curl_slist_append(hl, line);
  }
  curl_easy_reset(h->c);
  curl_easy_setopt(h->c, CURLOPT_URL, url);
  curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h->c, CURLOPT_FOLLOWLOCATION, 1L); /* blobs redirect to storage */
  curl_easy_setopt(h->c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h->c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h->c, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(h->c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h->c, CURLOPT_HEADERDATA, h);
  curl_easy_setopt(h->c, CURLOPT_USERAGENT, "customs");
  curl_easy_setopt(h->c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(h->c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(h->c);
  long code = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &code);
  else fprintf(stderr, "customs: GET %s: %s\n", url, curl_easy_strerror(rc));
  curl_slist_free_all(hl);
  return rc == CURLE_OK ? code : -1;
}

/* Anonymous token from the challenge's realm (Docker token protocol). */
static int fetch_token(http *h) {
  char realm[512], service[256] = "", scope[512] = "";
  if (strncasecmp(h->auth, "Bearer ", 7) || auth_param(h->auth, "realm", realm, sizeof(realm)))
    return -1;
  auth_param(h->auth, "service", service, sizeof(service));
  auth_param(h->auth, "scope", scope, sizeof(scope));
  char *es = curl_easy_escape(h->c, service, 0), *ec = curl_easy_escape(h->c, scope, 0);
  char url[2048];
  snprintf(url, sizeof(url), "%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?",
           es ? es : "", ec ? ec : "");
  curl_free(es);
  curl_free(ec);
  sink s = {NULL, 0, 1u << 20, -1};
  long code = do_get(h, url, "application/json", &s);
  json_t *j = code == 200 ? json_loadb(s.buf ? s.buf : "", s.len, 0, NULL) : NULL;
  const char *t = json_string_value(json_object_get(j, "token"));
  if (!t) t = json_string_value(json_object_get(j, "access_token"));
  if (t) h->token = strdup(t);
  json_decref(j);
  free(s.buf);
  return h->token ? 0 : -1;
}

/* GET with one retry after a 401 Bearer challenge; 200 expected. */
static int http_get(http *h, const char *target, const char *path, const char *accept, sink *s) {
  char url[2048];
  snprintf(url, sizeof(url), "%s%s", h->base, path);
  for (int attempt = 0; attempt < 2; attempt++) {
    long code = do_get(h, url, accept, s);
    if (code == 200) return 0;
    if (code == 401 && attempt == 0 && !h->token && fetch_token(h) == 0) {
      if (s->fd >= 0 && (ftruncate(s->fd, 0) || lseek(s->fd, 0, SEEK_SET))) return SC_ERR_IO;
      s->len = 0;
      continue;
    }
    if (code > 0) fprintf(stderr, "customs: %s: GET %s: HTTP %ld\n", target, url, code);
    return code == 404 ? SC_ERR_NOTFOUND : SC_ERR_IO;
  }
  return SC_ERR_IO;
}

static int tmp_fd(void) {
  const char *d = getenv("TMPDIR");
  if (!d || !*d) d = "/tmp";
  int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  char path[4096];
  snprintf(path, sizeof(path), "%s/customs-layer.XXXXXX", d);
  fd = mkstemp(path);
  if (fd >= 0) unlink(path);
  return fd;
}

static const char *const ACCEPT_MANIFEST =
    SC_MT_OCI_MANIFEST ", " SC_MT_DOCKER_MANIFEST ", " SC_MT_OCI_INDEX ", " SC_MT_DOCKER_LIST;

static int target_registry(job *j, const char *spec) {
  char host[256], repo[512], ref[200];
  const char *slash = strchr(spec, '/');
  if (!slash || slash == spec || (size_t)(slash - spec) >= sizeof(host)) {
    die_msg(j->target, "expected docker://HOST[:PORT]/REPO[:TAG]");
    return SC_ERR_ARG;
  }
  memcpy(host, spec, (size_t)(slash - spec));
  host[slash - spec] = 0;
  snprintf(repo, sizeof(repo), "%s", slash + 1);
  char *at = strchr(repo, '@'), *colon = strrchr(repo, ':');
  snprintf(ref, sizeof(ref), "latest");
  if (at) {
    snprintf(ref, sizeof(ref), "%s", at + 1);
    *at = 0;
  } else if (colon && !strchr(colon, '/')) {
    snprintf(ref, sizeof(ref), "%s", colon + 1);
    *colon = 0;
    j->tag = strdup(ref);
  } else {
    j->tag = strdup(ref);
  }
  for (const char *p = repo; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-/", *p))) {
      die_msg(j->target, "invalid repository name '%s'", repo);
      return SC_ERR_ARG;
    }
  if (!*repo) return SC_ERR_ARG;
  if (!(j->repo = strdup(repo))) return SC_ERR_NOMEM;

  const char *ins = getenv("CUSTOMS_INSECURE");
  int plain = (ins && !strcmp(ins, "1")) || !strncmp(host, "127.0.0.1", 9) ||
              !strncmp(host, "localhost", 9) || !strncmp(host, "[::1]", 5);
  http h;
  memset(&h, 0, sizeof(h));
  snprintf(h.base, sizeof(h.base), "%s://%s", plain ? "http" : "https", host);
  if (!(h.c = curl_easy_init())) return SC_ERR_NOMEM;
  int rv;
  char path[1200];
  for (int depth = 0;; depth++) {
    sink s = {NULL, 0, SC_MANIFEST_MAX_BYTES, -1};
    snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, ref);
    rv = http_get(&h, j->target, path, ACCEPT_MANIFEST, &s);
    if (!rv) {
      rv = sc_digest_sha256(s.buf ? s.buf : "", s.len, j->digest);
      /* a digest reference must match what came back */
      if (!rv && strchr(ref, ':') && strcmp(ref, j->digest)) rv = SC_ERR_DIGEST;
      sc_manifest_free(&j->man);
      if (!rv) rv = sc_manifest_parse(s.buf ? s.buf : "", s.len, h.ctype, &j->man);
    }
    free(s.buf);
    if (rv) {
      die_msg(j->target, "manifest: %s", err_name(rv));
      goto out;
    }
    if (j->man.kind == SC_MANIFEST_IMAGE) break;
    int k = sc_manifest_pick(&j->man, "linux", "amd64", NULL);
    if (k < 0 && j->man.nchildren == 1) k = 0;
    if (k < 0 || depth >= 3) {
      die_msg(j->target, "index has no linux/amd64 image");
      rv = SC_ERR_NOTFOUND;
      goto out;
    }
    snprintf(ref, sizeof(ref), "%s", j->man.children[k].digest);
  }
  if (j->man.config_digest) {
    sink s = {NULL, 0, SMALL_MAX, -1};
    snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, j->man.config_digest);
    if ((rv = http_get(&h, j->target, path, NULL, &s))) {
      free(s.buf);
      die_msg(j->target, "config blob: %s", err_name(rv));
      goto out;
    }
    j->config = s.buf;
    j->config_len = s.len;
  }
  if ((rv = job_alloc(j, j->man.nlayers))) goto out;
  for (size_t i = 0; i < j->n; i++) {
    const char *ld = j->man.layers[i].digest;
    if (try_stored(j, i, ld)) continue;
    sink s = {NULL, 0, 0, tmp_fd()};
    if (s.fd < 0) {
      rv = SC_ERR_IO;
      die_msg(j->target, "temp file: %s", strerror(errno));
      goto out;
    }
    snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, ld);
    rv = http_get(&h, j->target, path, NULL, &s);
    if (rv) {
      close(s.fd);
      die_msg(j->target, "layer %s not fetched", ld);
      goto out;
    }
    lseek(s.fd, 0, SEEK_SET);
    rv = scan_fd(j, i, s.fd, ld);
    close(s.fd);
    if (rv) goto out;
  }
  rv = 0;
out:
  free(h.token);
  curl_easy_cleanup(h.c);
  return rv;
}

/* ---- output ------------------------------------------------------------ */

static int emit(fmt_t fmt, const sc_report_input *in, json_t *report) {
  int rv = 0;
  if (fmt == FMT_CYCLONEDX) {
    json_t *bom = sc_report_cyclonedx(in);
    rv = bom ? sc_report_write_json(bom, stdout) : SC_ERR_NOMEM;
    json_decref(bom);
  } else if (fmt == FMT_JSON) {
    rv = sc_report_write_json(report, stdout);
  } else {
    rv = sc_report_table(report, stdout);
  }
  if (rv) fprintf(stderr, "customs: cannot write the report: %s\n", err_name(rv));
  return rv;
}

/* Builds, prints, and judges a report. */
/* Replaces the report's verdict with the policy's (the same evaluation the
 * proxy does at pull time). */
static int apply_policy(json_t *r, const sc_policy *pol, const char *repo, const char *tag, const char *digest,
                        const sc_inventory *inv, const sc_image_config *cfg, const sc_report_layer *layers,
                        size_t nlayers, const sc_finding_list *findings) {
  sc_image_facts f;
  sc_verdict v;
  memset(&f, 0, sizeof(f));
  memset(&v, 0, sizeof(v));
  f.repository = repo ? repo : "local";
  f.reference = tag;
  f.digest = digest;
  f.findings = findings ? findings->v : NULL;
  f.nfindings = findings ? findings->n : 0;
  f.packages = inv->pkgs;
  f.npackages = inv->npkgs;
  f.secrets = inv->secrets;
  f.nsecrets = inv->nsecrets;
  f.runs_as_root = cfg ? cfg->runs_as_root : -1;
  f.created = cfg ? cfg->created : -1;
  f.scanned = 1;
  for (size_t i = 0; i < nlayers; i++)
    if (layers[i].status && strcmp(layers[i].status, "ok") != 0) f.scan_failed = 1;
  if (sc_policy_evaluate(pol, &f, (int64_t)time(NULL), &v) != 0) return SC_ERR_NOMEM;
  json_t *verdict = json_object();
  json_t *reasons = v.reasons_json ? json_loads(v.reasons_json, 0, NULL) : NULL;
  json_object_set_new(verdict, "decision", json_string(sc_decision_name(v.decision)));
  json_object_set_new(verdict, "reasons", reasons ? reasons : json_array());
  if (v.rule) json_object_set_new(verdict, "rule", json_string(v.rule));
  if (v.message) json_object_set_new(verdict, "message", json_string(v.message));
  json_object_set_new(r, "verdict", verdict);
  sc_verdict_free(&v);
  return 0;
}

static int finish_report(fmt_t fmt, const char *image, const char *repo, const char *tag,
                         const char *digest, const sc_inventory *inv, const char *config,
                         size_t config_len, const sc_report_layer *layers, size_t nlayers,
                         const sc_finding_list *findings, const sc_policy *pol) {
  sc_image_config cfg;
  int have_cfg = config && sc_config_parse(config, config_len, &cfg) == 0;
  if (config && !have_cfg) {
    fprintf(stderr, "customs: %s: image config unparseable, config facts left out\n", image);
    sc_config_free(&cfg);
  }
  sc_report_input in = {image, repo, tag, digest, inv, have_cfg ? &cfg : NULL, layers, nlayers,
                        findings};
  json_t *r = sc_report_json(&in);
  if (r && pol && apply_policy(r, pol, repo, tag, digest, inv, have_cfg ? &cfg : NULL, layers, nlayers, findings)) {
    json_decref(r);
    r = NULL;
  }
  int rv = r ? emit(fmt, &in, r) : SC_ERR_NOMEM;
  if (!r) fprintf(stderr, "customs: out of memory\n");
  const char *d = json_string_value(json_object_get(json_object_get(r, "verdict"), "decision"));
  int code = rv ? EXIT_ERROR : (d && !strcmp(d, "deny")) ? EXIT_DENY : EXIT_PASS;
  json_decref(r);
  if (have_cfg) sc_config_free(&cfg);
  return code;
}

static int parse_format(const char *s, fmt_t *f, int allow_cdx) {
  if (!strcmp(s, "table")) *f = FMT_TABLE;
  else if (!strcmp(s, "json")) *f = FMT_JSON;
  else if (allow_cdx && !strcmp(s, "cyclonedx")) *f = FMT_CYCLONEDX;
  else return -1;
  return 0;
}

static const struct option scan_opts[] = {
    {"db", required_argument, NULL, 'd'},     {"policy", required_argument, NULL, 'p'},
    {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void scan_usage(FILE *f) {
  fprintf(f, "usage: customs scan [--db PATH] [--policy FILE] [--format table|json|cyclonedx] TARGET\n"
             "  TARGET: oci:DIR[:TAG] | docker-archive:FILE | layer:FILE |"
             " docker://HOST[:PORT]/REPO[:TAG]\n");
}

int px_cmd_scan(int argc, char **argv) {
  const char *db = NULL, *policy = NULL;
  fmt_t fmt = FMT_TABLE;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:p:f:h", scan_opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'p': policy = optarg; break;
    case 'f':
      if (parse_format(optarg, &fmt, 1)) {
        fprintf(stderr, "customs scan: unknown format '%s'\n", optarg);
        return EXIT_ERROR;
      }
      break;
    case 'h': scan_usage(stdout); return EXIT_PASS;
    default: scan_usage(stderr); return EXIT_ERROR;
    }
  }
  if (optind != argc - 1) {
    scan_usage(stderr);
    return EXIT_ERROR;
  }
  sc_policy *pol = NULL;
  if (policy) {
    char *perr = NULL;
    if (sc_policy_load(policy, &pol, &perr) != 0) {
      fprintf(stderr, "customs scan: %s\n", perr ? perr : "cannot read the policy");
      free(perr);
      return EXIT_ERROR;
    }
    free(perr);
  }
  job j;
  memset(&j, 0, sizeof(j));
  j.target = argv[optind];
  sc_limits_default(&j.lim);
  int rv;
  if (db && sc_store_open(db, &j.st) != 0) {
    sc_policy_free(pol);
    fprintf(stderr, "customs scan: cannot open database %s\n", db);
    return EXIT_ERROR;
  }
  const char *t = j.target;
  if (!strncmp(t, "oci:", 4)) rv = target_oci(&j, t + 4);
  else if (!strncmp(t, "docker-archive:", 15)) rv = target_archive(&j, t + 15);
  else if (!strncmp(t, "layer:", 6)) rv = target_layer(&j, t + 6);
  else if (!strncmp(t, "docker://", 9)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rv = target_registry(&j, t + 9);
    curl_global_cleanup();
  } else {
    fprintf(stderr, "customs scan: unknown target '%s'\n", t);
    scan_usage(stderr);
    rv = SC_ERR_ARG;
  }
  int code = EXIT_ERROR;
  sc_inventory img;
  sc_inventory_init(&img);
  sc_finding_list fl;
  sc_finding_list_init(&fl);
  sc_report_layer *rl = calloc(j.n ? j.n : 1, sizeof(*rl));
  if (rv) {
    if (rv != SC_ERR_ARG) fprintf(stderr, "customs scan: %s: %s\n", t, err_name(rv));
    goto out;
  }
  if (!rl) goto out;
  for (size_t i = 0; i < j.n; i++) {
    if ((rv = sc_inventory_merge(&img, &j.inv[i]))) goto out;
    /* the manifest's name for the layer, even when the blob did not match it */
    rl[i].digest = j.man.nlayers > i ? j.man.layers[i].digest : NULL;
    if (!rl[i].digest && j.res[i].digest[0]) rl[i].digest = j.res[i].digest;
    rl[i].status = j.status[i];
    rl[i].error = j.res[i].error[0] ? j.res[i].error : NULL;
  }
  if ((rv = sc_inventory_finish(&img))) goto out;
  if (j.digest[0] && j.repo) {
    if (asprintf(&j.image, "%s@%s", j.repo, j.digest) < 0) j.image = NULL;
    if (j.st && sc_store_put_manifest(j.st, j.repo, j.tag, j.digest, &j.man, j.config,
                                      j.config_len) != 0) {
      fprintf(stderr, "customs scan: store image: %s\n", sc_store_errmsg(j.st));
      goto out;
    }
    /* findings against the database's vulnerability data, stored with it */
    if (j.st && (rv = sc_match_store_image(j.st, j.digest, &fl)) != 0) {
      fprintf(stderr, "customs scan: vulnerability matching: %s\n", err_name(rv));
      goto out;
    }
  }
  code = finish_report(fmt, j.image ? j.image : t, j.repo, j.tag, j.digest[0] ? j.digest : NULL,
                       &img, j.config, j.config_len, rl, j.n, j.st ? &fl : NULL, pol);
out:
  sc_finding_list_free(&fl);
  free(rl);
  sc_inventory_free(&img);
  job_free(&j);
  sc_store_close(j.st);
  sc_policy_free(pol);
  return code;
}

/* ---- report -------------------------------------------------------------- */

static const struct option report_opts[] = {{"db", required_argument, NULL, 'd'},
                                            {"format", required_argument, NULL, 'f'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};

static void report_usage(FILE *f) {
  fprintf(f, "usage: customs report [--db PATH] [--format table|json] REPO:TAG | REPO@DIGEST\n");
}

int px_cmd_report(int argc, char **argv) {
  const char *db = "customs.db";
  fmt_t fmt = FMT_TABLE;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:f:h", report_opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'f':
      if (parse_format(optarg, &fmt, 0)) {
        fprintf(stderr, "customs report: unknown format '%s'\n", optarg);
        return EXIT_ERROR;
      }
      break;
    case 'h': report_usage(stdout); return EXIT_PASS;
    default: report_usage(stderr); return EXIT_ERROR;
    }
  }
  if (optind != argc - 1) {
    report_usage(stderr);
    return EXIT_ERROR;
  }
  const char *arg = argv[optind];
  char repo[512], ref[200];
  const char *at = strchr(arg, '@'), *colon = strrchr(arg, ':');
  const char *sep = at ? at : (colon && !strchr(colon, '/')) ? colon : NULL;
  if (!sep || sep == arg || (size_t)(sep - arg) >= sizeof(repo) || strlen(sep + 1) >= sizeof(ref) ||
      !sep[1]) {
    fprintf(stderr, "customs report: expected REPO:TAG or REPO@DIGEST, got '%s'\n", arg);
    return EXIT_ERROR;
  }
  memcpy(repo, arg, (size_t)(sep - arg));
  repo[sep - arg] = 0;
  snprintf(ref, sizeof(ref), "%s", sep + 1);
  struct stat sb;
  if (stat(db, &sb) != 0) { /* do not create an empty database to report from */
    fprintf(stderr, "customs report: database %s: %s\n", db, strerror(errno));
    return EXIT_ERROR;
  }
  sc_store *st;
  if (sc_store_open(db, &st)) {
    fprintf(stderr, "customs report: cannot open database %s\n", db);
    return EXIT_ERROR;
  }
  int code = EXIT_ERROR, rv;
  char digest[72], child[72];
  sc_store_image img;
  sc_inventory inv;
  sc_inventory_init(&inv);
  memset(&img, 0, sizeof(img));
  sc_report_layer *rl = NULL;
  char *image = NULL;
  sc_finding_list fl;
  sc_finding_list_init(&fl);
  if ((rv = sc_store_resolve(st, repo, ref, digest))) {
    fprintf(stderr, "customs report: %s: %s\n", arg,
            rv == SC_ERR_NOTFOUND ? "image not found in the database" : sc_store_errmsg(st));
    goto out;
  }
  /* an index is reported through its linux/amd64 child */
  if (!(rv = sc_store_get_image(st, digest, &img)) && img.kind == SC_MANIFEST_INDEX) {
    sc_store_image_free(&img);
    if ((rv = sc_store_index_child(st, digest, "linux", "amd64", child)) == 0) {
      memcpy(digest, child, sizeof(digest));
      rv = sc_store_get_image(st, digest, &img);
    }
  }
  if (!rv) rv = sc_store_image_inventory(st, digest, &inv);
  if (rv) {
    fprintf(stderr, "customs report: %s: %s\n", arg,
            rv == SC_ERR_NOTFOUND ? "image not found in the database" : err_name(rv));
    goto out;
  }
  if (!(rl = calloc(img.nlayers ? img.nlayers : 1, sizeof(*rl)))) goto out;
  for (size_t i = 0; i < img.nlayers; i++) {
    rl[i].digest = img.layers[i].digest;
    rl[i].status = img.layers[i].status;
    rl[i].error = img.layers[i].error;
  }
  if (asprintf(&image, "%s@%s", repo, digest) < 0) {
    image = NULL;
    goto out;
  }
  if ((rv = sc_match_image(st, digest, &fl))) {
    fprintf(stderr, "customs report: %s: vulnerability matching: %s\n", arg, err_name(rv));
    goto out;
  }
  code = finish_report(fmt, image, repo, at ? NULL : ref, digest, &inv, img.config_json,
                       img.config_len, rl, img.nlayers, &fl, NULL);
out:
  sc_finding_list_free(&fl);
  free(image);
  free(rl);
  sc_inventory_free(&inv);
  sc_store_image_free(&img);
  sc_store_close(st);
  return code;
}
