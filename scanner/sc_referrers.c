/* sc_referrers.c - referrers recorded from pushed manifests and rendered
 * as the referrers API's image index (see sc_referrers.h); the rows are in
 * sc_store_referrers.c.  Thread: the store handle's.  Errors: sc_referrers.h. */
#include "sc_referrers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sc_referrers_record(sc_store *st, const char *repo, const char *digest, const sc_manifest *m, int64_t size) {
  if (!st || !repo || !digest || !m) return SC_ERR_ARG;
  if (!m->subject) return 0;
  /* OCI 1.1: "if the artifactType is empty or missing in the manifest, the
   * value of artifactType MUST be set to the config descriptor mediaType" */
  sc_referrer r = {
      .digest = digest,
      .media_type = m->media_type ? m->media_type : SC_MT_OCI_MANIFEST,
      .artifact_type = m->artifact_type ? m->artifact_type : m->config_media_type,
      .annotations = m->annotations,
      .size = size,
      .origin = SC_REF_CLIENT,
  };
  return sc_store_put_referrer(st, repo, m->subject, &r);
}

typedef struct render {
  json_t *manifests;
  size_t n;
  char first[160];
} render;

static int add_one(void *arg, const sc_referrer *r) {
  render *rd = arg;
  json_t *d = json_object();
  if (!d || json_array_append_new(rd->manifests, d)) return SC_ERR_NOMEM;
  if (json_object_set_new(d, "mediaType", json_string(r->media_type)) ||
      json_object_set_new(d, "digest", json_string(r->digest)) ||
      json_object_set_new(d, "size", json_integer((json_int_t)r->size)))
    return SC_ERR_NOMEM;
  if (r->artifact_type && json_object_set_new(d, "artifactType", json_string(r->artifact_type))) return SC_ERR_NOMEM;
  if (r->annotations) {
    /* stored as written by sc_image.c (a string map); anything else is left out */
    json_t *a = json_loads(r->annotations, 0, NULL);
    if (json_is_object(a) && json_object_size(a) > 0) json_object_set(d, "annotations", a);
    json_decref(a);
  }
  if (rd->n++ == 0) snprintf(rd->first, sizeof(rd->first), "%s", r->digest);
  return 0;
}

int sc_referrers_render(sc_store *st, const char *repo, const char *subject, const char *artifact_type,
                        sc_referrers_index *out) {
  if (!out) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  if (!st || !repo || !subject) return SC_ERR_ARG;
  render rd = {.manifests = json_array()};
  json_t *idx = json_object();
  int rv = SC_ERR_NOMEM;
  if (!rd.manifests || !idx || json_object_set_new(idx, "schemaVersion", json_integer(2)) ||
      json_object_set_new(idx, "mediaType", json_string(SC_MT_OCI_INDEX)) ||
      json_object_set(idx, "manifests", rd.manifests))
    goto out;
  rv = sc_store_each_referrer(st, repo, subject, artifact_type && *artifact_type ? artifact_type : NULL, add_one, &rd);
  if (rv) goto out;
  rv = SC_ERR_NOMEM;
  if (!(out->json = json_dumps(idx, JSON_COMPACT))) goto out;
  out->len = strlen(out->json);
  out->n = rd.n;
  memcpy(out->first, rd.first, sizeof(out->first));
  rv = 0;
out:
  json_decref(rd.manifests);
  json_decref(idx);
  return rv;
}
