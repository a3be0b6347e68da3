/* scan_docker_archive.c - the docker-archive:PATH[:REFERENCE|:@INDEX]
 * target: a `docker save` tar (manifest.json, configs, layer tars).
 *
 * As in containers-transports(5): REFERENCE is a docker reference matched
 * against the RepoTags of manifest.json after both are normalised the way
 * docker and skopeo do ("app:1" is "docker.io/library/app:1", a missing tag
 * is "latest"); @INDEX picks the INDEX-th image (0-based, untagged images
 * too).  Without either, the first image is scanned (with a warning when
 * there are several).  The image is stored under the RepoTags entry that
 * matched (else the first; else "local/<basename of PATH>"), with a
 * registry-like manifest synthesised from the archive so that it has a
 * stable digest.  The archive is read twice, streaming: manifest.json first,
 * then config and layers in archive order. */
#include "scan_target.h"
#include "sc_file.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AR_BLOCK_BYTES 65536
#define DOCKER_REF_MAX 1024

static ssize_t ar_pull(void *ctx, void *buf, size_t len) {
  la_ssize_t n = archive_read_data((struct archive *)ctx, buf, len);
  return n < 0 ? -1 : (ssize_t)n;
}

static struct archive *ar_open(const char *file) {
  struct archive *a = archive_read_new();
  if (!a) return NULL;
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  if (archive_read_open_filename(a, file, AR_BLOCK_BYTES) != ARCHIVE_OK) {
    archive_read_free(a);
    return NULL;
  }
  return a;
}

static char *ar_read_small(struct archive *a, struct archive_entry *e, size_t *len) {
  int64_t sz = archive_entry_size(e);
  if (sz < 0 || (uint64_t)sz > SCAN_SMALL_MAX_BYTES) return NULL;
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

/* "name[:tag]" -> "domain/path:tag" as docker normalises a familiar name. */
static int normalize_ref(const char *ref, char *out, size_t cap) {
  char name[DOCKER_REF_MAX];
  const char *tag = "latest", *colon = strrchr(ref, ':');
  size_t n = strlen(ref);
  if (colon && !strchr(colon, '/')) {
    tag = colon + 1;
    n = (size_t)(colon - ref);
  }
  if (n == 0 || n >= sizeof(name) || !*tag || strchr(ref, '@')) return -1;
  memcpy(name, ref, n);
  name[n] = 0;
  const char *slash = strchr(name, '/'), *domain = "docker.io", *path = name;
  if (slash && (memchr(name, '.', (size_t)(slash - name)) || memchr(name, ':', (size_t)(slash - name)) ||
                !strncmp(name, "localhost/", 10))) {
    name[slash - name] = 0;
    domain = name;
    path = slash + 1;
  }
  if (!strcmp(domain, "index.docker.io")) domain = "docker.io";
  int lib = !strcmp(domain, "docker.io") && !strchr(path, '/');
  return (size_t)snprintf(out, cap, "%s/%s%s:%s", domain, lib ? "library/" : "", path, tag) < cap ? 0 : -1;
}

/* The image of manifest.json that `ref` names, and its RepoTags entry. */
static int pick_image(scan_job *j, const json_t *mf, const char *ref, json_t **image, const char **repotag) {
  char want[DOCKER_REF_MAX], have[DOCKER_REF_MAX];
  *image = NULL;
  *repotag = NULL;
  if (!ref) {
    *image = json_array_get(mf, 0);
    *repotag = json_string_value(json_array_get(json_object_get(*image, "RepoTags"), 0));
    if (json_array_size(mf) > 1)
      fprintf(stderr, "customs: %s: several images in the archive, scanning the first\n", j->target);
    return 0;
  }
  if (ref[0] == '@') {
    char *end;
    unsigned long k = strtoul(ref + 1, &end, 10);
    if (!ref[1] || *end || k >= json_array_size(mf)) {
      scan_job_fail(j, "no image %s in the archive (it has %zu)", ref, json_array_size(mf));
      return SC_ERR_NOTFOUND;
    }
    *image = json_array_get(mf, k);
    *repotag = json_string_value(json_array_get(json_object_get(*image, "RepoTags"), 0));
    return 0;
  }
  if (normalize_ref(ref, want, sizeof(want)) < 0) {
    scan_job_fail(j, "invalid docker reference '%s'", ref);
    return SC_ERR_ARG;
  }
  for (size_t i = 0; i < json_array_size(mf); i++) {
    json_t *tags = json_object_get(json_array_get(mf, i), "RepoTags");
    for (size_t k = 0; k < json_array_size(tags); k++) {
      const char *t = json_string_value(json_array_get(tags, k));
      if (t && normalize_ref(t, have, sizeof(have)) == 0 && !strcmp(have, want)) {
        *image = json_array_get(mf, i);
        *repotag = t;
        return 0;
      }
    }
  }
  scan_job_fail(j, "no image tagged '%s' in the archive", ref);
  return SC_ERR_NOTFOUND;
}

/* A registry-like manifest for the archive, so the image has a stable
 * digest and is stored like a pushed one. */
static int synth_manifest(scan_job *j) {
  char cd[72];
  int rv = sc_digest_sha256(j->config, j->config_len, cd);
  if (rv) return rv;
  json_t *layers = json_array();
  for (size_t i = 0; layers && i < j->n; i++)
    json_array_append_new(layers, json_pack("{s:s, s:I, s:s}", "mediaType",
                                            "application/vnd.docker.image.rootfs.diff.tar", "size",
                                            (json_int_t)j->res[i].compressed_size, "digest", j->res[i].digest));
  json_t *m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
                        SC_MT_DOCKER_MANIFEST, "config", "mediaType",
                        "application/vnd.docker.container.image.v1+json", "size", (json_int_t)j->config_len,
                        "digest", cd, "layers", layers);
  char *txt = m ? json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(m);
  if (!txt) return SC_ERR_NOMEM;
  rv = sc_digest_sha256(txt, strlen(txt), j->digest);
  if (!rv) rv = sc_manifest_parse(txt, strlen(txt), NULL, &j->man);
  free(txt);
  return rv;
}

/* Pass 1: manifest.json, parsed (NULL when absent or unreadable). */
static json_t *read_manifest_json(const char *file) {
  struct archive *a = ar_open(file);
  struct archive_entry *e;
  json_t *mf = NULL;
  while (a && archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (strcmp(sc_path_clean(archive_entry_pathname(e)), "manifest.json") == 0) {
      size_t len;
      char *buf = ar_read_small(a, e, &len);
      mf = buf ? json_loadb(buf, len, 0, NULL) : NULL;
      free(buf);
      break;
    }
  }
  if (a) archive_read_free(a);
  return mf;
}

/* Pass 2: the config and the layers of the chosen image, in archive order. */
static int read_image(scan_job *j, struct archive *a, const char *cfgname, const json_t *layers) {
  struct archive_entry *e;
  int rv;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const char *p = sc_path_clean(archive_entry_pathname(e));
    if (!j->config && strcmp(p, sc_path_clean(cfgname)) == 0) {
      j->config = ar_read_small(a, e, &j->config_len);
      continue;
    }
    for (size_t i = 0; i < j->n; i++) {
      const char *ln = json_string_value(json_array_get(layers, i));
      if (!ln || strcmp(p, sc_path_clean(ln)) != 0 || j->res[i].digest[0]) continue;
      scan_job_progress(j, i, "scanning");
      rv = sc_layer_scan(ar_pull, a, &j->lim, &j->inv[i], &j->res[i]);
      if (rv && rv != SC_ERR_IO) return rv;
      if ((rv = scan_job_layer_done(j, i, NULL))) return rv;
      /* the same blob listed twice: copy the result */
      for (size_t k = i + 1; k < j->n; k++) {
        const char *lk = json_string_value(json_array_get(layers, k));
        if (lk && strcmp(sc_path_clean(lk), p) == 0) {
          j->res[k] = j->res[i];
          memcpy(j->status[k], j->status[i], sizeof(j->status[k]));
          if ((rv = sc_inventory_merge(&j->inv[k], &j->inv[i]))) return rv;
        }
      }
      break;
    }
  }
  if (!j->config) {
    scan_job_fail(j, "config %s missing from the archive", cfgname);
    return SC_ERR_FORMAT;
  }
  for (size_t i = 0; i < j->n; i++)
    if (!j->res[i].digest[0]) {
      scan_job_fail(j, "layer %s missing from the archive", json_string_value(json_array_get(layers, i)));
      return SC_ERR_FORMAT;
    }
  return 0;
}

static int set_name(scan_job *j, const char *file, const char *repotag) {
  const char *colon = repotag ? strrchr(repotag, ':') : NULL;
  if (colon && !strchr(colon, '/')) {
    j->repo = strndup(repotag, (size_t)(colon - repotag));
    j->tag = strdup(colon + 1);
    return j->repo && j->tag ? 0 : SC_ERR_NOMEM;
  }
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s", file);
  if (asprintf(&j->repo, "local/%s", basename(tmp)) < 0) j->repo = NULL;
  return j->repo ? 0 : SC_ERR_NOMEM;
}

int scan_docker_archive(scan_job *j, const char *spec) {
  char file[4096];
  const char *ref, *repotag = NULL;
  json_t *image = NULL;
  struct archive *a = NULL;
  int rv = SC_ERR_FORMAT;
  if (scan_split_path_ref(spec, file, sizeof(file), &ref) < 0) {
    scan_job_fail(j, "expected docker-archive:PATH[:REFERENCE]");
    return SC_ERR_ARG;
  }
  json_t *mf = read_manifest_json(file);
  if (!mf && !(a = ar_open(file))) {
    scan_job_fail(j, "cannot open archive");
    return SC_ERR_IO;
  }
  if (a) {
    archive_read_free(a);
    a = NULL;
  }
  if (json_is_array(mf) && (rv = pick_image(j, mf, ref, &image, &repotag))) goto out;
  json_t *layers = json_object_get(image, "Layers");
  const char *cfgname = json_string_value(json_object_get(image, "Config"));
  if (!json_is_array(mf) || !cfgname || !json_is_array(layers)) {
    scan_job_fail(j, "no usable manifest.json (not a docker save archive?)");
    rv = SC_ERR_FORMAT;
    goto out;
  }
  if ((rv = set_name(j, file, repotag)) || (rv = scan_job_alloc(j, json_array_size(layers)))) goto out;
  if (!(a = ar_open(file))) {
    rv = SC_ERR_IO;
    goto out;
  }
  if (!(rv = read_image(j, a, cfgname, layers))) rv = synth_manifest(j);
out:
  if (a) archive_read_free(a);
  json_decref(mf);
  return rv;
}
