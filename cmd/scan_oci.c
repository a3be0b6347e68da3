/* scan_oci.c - the oci:PATH[:REFERENCE] target: an OCI image layout
 * directory.  The reference is matched against the index's
 * org.opencontainers.image.ref.name annotations (what `skopeo copy ...
 * oci:PATH:REF` writes); without one the index must list exactly one
 * manifest.  An index manifest is followed to its linux/amd64 child.  The
 * image is stored as repository "local/<basename of PATH>", tag REFERENCE.
 * Every blob read is checked against its digest. */
#include "scan_target.h"
#include "sc_file.h"

#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OCI_INDEX_DEPTH_MAX 4 /* index -> index -> ... -> image */

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

/* Loads the manifest `first` into j->digest/j->man, following indexes. */
static int load_manifest_chain(scan_job *j, const char *dir, const char *first) {
  char digest[72];
  snprintf(digest, sizeof(digest), "%s", first);
  for (int depth = 0; depth < OCI_INDEX_DEPTH_MAX; depth++) {
    char *buf;
    size_t len;
    int rv = read_blob(dir, digest, SC_MANIFEST_MAX_BYTES, &buf, &len);
    if (rv) {
      scan_job_fail(j, "manifest blob %s unreadable", digest);
      return rv;
    }
    sc_manifest_free(&j->man);
    rv = sc_manifest_parse(buf, len, NULL, &j->man);
    free(buf);
    if (rv) {
      scan_job_fail(j, "manifest %s invalid", digest);
      return rv;
    }
    snprintf(j->digest, sizeof(j->digest), "%s", digest);
    if (j->man.kind == SC_MANIFEST_IMAGE) return 0;
    int k = sc_manifest_pick(&j->man, "linux", "amd64", NULL);
    if (k < 0 && j->man.nchildren == 1) k = 0;
    if (k < 0) {
      scan_job_fail(j, "index has no linux/amd64 image");
      return SC_ERR_NOTFOUND;
    }
    snprintf(digest, sizeof(digest), "%s", j->man.children[k].digest);
  }
  scan_job_fail(j, "indexes nested too deep");
  return SC_ERR_LIMIT;
}

/* The manifest of index.json named `ref` (or the only one); its digest and
 * reference name are borrowed from idx. */
static int pick_manifest(scan_job *j, const json_t *idx, const char *ref, const char **digest, const char **name) {
  json_t *ms = json_object_get(idx, "manifests");
  for (size_t i = 0; i < json_array_size(ms); i++) {
    json_t *m = json_array_get(ms, i);
    const char *d = json_string_value(json_object_get(m, "digest"));
    const char *n = json_string_value(
        json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
    if (d && (ref ? (n && strcmp(n, ref) == 0) : json_array_size(ms) == 1)) {
      *digest = d;
      *name = n;
      return 0;
    }
  }
  if (!json_is_array(ms)) scan_job_fail(j, "index.json is not an OCI index");
  else if (ref) scan_job_fail(j, "no manifest tagged '%s' in index.json", ref);
  else scan_job_fail(j, "index.json lists several manifests: name one with oci:DIR:TAG");
  return SC_ERR_NOTFOUND;
}

static int scan_layers(scan_job *j, const char *dir) {
  char path[4200];
  int rv;
  if ((rv = scan_job_alloc(j, j->man.nlayers))) return rv;
  for (size_t i = 0; i < j->n; i++) {
    const char *ld = j->man.layers[i].digest;
    if (scan_job_try_stored(j, i, ld)) continue;
    if ((rv = blob_path(dir, ld, path, sizeof(path)))) return rv;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      /* a missing blob is reported, not fatal: the image is partly scanned */
      snprintf(j->res[i].digest, sizeof(j->res[i].digest), "%s", ld);
      snprintf(j->res[i].error, sizeof(j->res[i].error), "blob not in layout");
      continue;
    }
    rv = scan_job_scan_fd(j, i, fd, ld);
    close(fd);
    if (rv) return rv;
  }
  return 0;
}

int scan_oci(scan_job *j, const char *spec) {
  char dir[4096], path[4200], base[4096], *buf;
  const char *ref, *digest = NULL, *name = NULL;
  size_t len;
  if (scan_split_path_ref(spec, dir, sizeof(dir), &ref) < 0) {
    scan_job_fail(j, "expected oci:PATH[:REFERENCE]");
    return SC_ERR_ARG;
  }
  snprintf(path, sizeof(path), "%s/index.json", dir);
  if (sc_read_file(path, SCAN_SMALL_MAX_BYTES, &buf, &len)) {
    scan_job_fail(j, "cannot read %s", path);
    return SC_ERR_IO;
  }
  json_t *idx = json_loadb(buf, len, 0, NULL);
  free(buf);
  int rv = pick_manifest(j, idx, ref, &digest, &name);
  if (rv) goto out;
  snprintf(base, sizeof(base), "%s", dir);
  size_t bl = strlen(base);
  while (bl > 1 && base[bl - 1] == '/') base[--bl] = 0;
  if (asprintf(&j->repo, "local/%s", basename(base)) < 0) j->repo = NULL;
  j->tag = name ? strdup(name) : NULL;
  if (!j->repo || (name && !j->tag)) {
    rv = SC_ERR_NOMEM;
    goto out;
  }
  if ((rv = load_manifest_chain(j, dir, digest))) goto out;
  if (j->man.config_digest &&
      (rv = read_blob(dir, j->man.config_digest, SCAN_SMALL_MAX_BYTES, &j->config, &j->config_len))) {
    scan_job_fail(j, "config blob %s unreadable", j->man.config_digest);
    goto out;
  }
  rv = scan_layers(j, dir);
out:
  json_decref(idx);
  return rv;
}
