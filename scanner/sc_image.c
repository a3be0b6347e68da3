/* sc_image.c - manifest parsing (jansson) and content digests. */
#include "sc_image.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sc_digest_sha256(const void *data, size_t len, char out[72]) {
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) return SC_ERR_NOMEM;
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < 32; i++) snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
  return 0;
}

int sc_digest_valid(const char *s, int lenient) {
  if (!s) return 0;
  if (strncmp(s, "sha256:", 7) == 0) {
    size_t n = 0;
    for (const char *p = s + 7; *p; p++, n++)
      if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return n == 64;
  }
  if (!lenient) return 0;
  /* algorithm [a-z0-9+._-]+ ':' encoded [a-zA-Z0-9=_-]+ (OCI image-spec) */
  const char *c = strchr(s, ':');
  if (!c || c == s || !c[1] || strlen(s) > 256) return 0;
  for (const char *p = s; p < c; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("+._-", *p))) return 0;
  for (const char *p = c + 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("=_-", *p)))
      return 0;
  return 1;
}

void sc_manifest_free(sc_manifest *m) {
  if (!m) return;
  free(m->media_type);
  free(m->config_digest);
  free(m->config_media_type);
  for (size_t i = 0; i < m->nlayers; i++) {
    free(m->layers[i].digest);
    free(m->layers[i].media_type);
  }
  free(m->layers);
  for (size_t i = 0; i < m->nchildren; i++) {
    sc_mchild *c = &m->children[i];
    free(c->digest);
    free(c->media_type);
    free(c->platform.os);
    free(c->platform.architecture);
    free(c->platform.variant);
  }
  free(m->children);
  memset(m, 0, sizeof(*m));
}

/* Copies an optional string member; a present non-string member is an error. */
static int opt_str(json_t *obj, const char *key, char **out) {
  json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return SC_ERR_FORMAT;
  if (!(*out = strdup(json_string_value(v)))) return SC_ERR_NOMEM;
  return 0;
}

static int opt_size(json_t *obj, int64_t *out) {
  json_t *v = json_object_get(obj, "size");
  *out = -1;
  if (!v) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0) return SC_ERR_FORMAT;
  *out = (int64_t)json_integer_value(v);
  return 0;
}

/* A descriptor needs a valid digest. */
static int descriptor(json_t *d, char **digest, char **mt, int64_t *size) {
  int rv;
  if (!json_is_object(d)) return SC_ERR_FORMAT;
  if ((rv = opt_str(d, "digest", digest)) || (rv = opt_str(d, "mediaType", mt)) ||
      (rv = opt_size(d, size)))
    return rv;
  return sc_digest_valid(*digest, 1) ? 0 : SC_ERR_FORMAT;
}

static int is_index_type(const char *t) {
  return t && (strcmp(t, SC_MT_OCI_INDEX) == 0 || strcmp(t, SC_MT_DOCKER_LIST) == 0);
}
static int is_image_type(const char *t) {
  return t && (strcmp(t, SC_MT_OCI_MANIFEST) == 0 || strcmp(t, SC_MT_DOCKER_MANIFEST) == 0);
}

static int parse_image(json_t *root, sc_manifest *m) {
  int rv;
  int64_t sz;
  json_t *cfg = json_object_get(root, "config"), *layers = json_object_get(root, "layers");
  if (!cfg || !json_is_array(layers)) return SC_ERR_FORMAT;
  if ((rv = descriptor(cfg, &m->config_digest, &m->config_media_type, &sz))) return rv;
  size_t n = json_array_size(layers);
  if (n > SC_MANIFEST_MAX_ITEMS) return SC_ERR_LIMIT;
  if (n && !(m->layers = calloc(n, sizeof(*m->layers)))) return SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    sc_mlayer *l = &m->layers[i];
    m->nlayers = i + 1; /* so a partial entry is freed */
    if ((rv = descriptor(json_array_get(layers, i), &l->digest, &l->media_type, &l->size))) return rv;
  }
  return 0;
}

static int parse_index(json_t *root, sc_manifest *m) {
  int rv;
  json_t *arr = json_object_get(root, "manifests");
  if (!json_is_array(arr)) return SC_ERR_FORMAT;
  size_t n = json_array_size(arr);
  if (n > SC_MANIFEST_MAX_ITEMS) return SC_ERR_LIMIT;
  if (n && !(m->children = calloc(n, sizeof(*m->children)))) return SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    sc_mchild *c = &m->children[i];
    json_t *d = json_array_get(arr, i);
    m->nchildren = i + 1;
    if ((rv = descriptor(d, &c->digest, &c->media_type, &c->size))) return rv;
    json_t *p = json_object_get(d, "platform");
    if (p && !json_is_null(p)) {
      if (!json_is_object(p)) return SC_ERR_FORMAT;
      if ((rv = opt_str(p, "os", &c->platform.os)) ||
          (rv = opt_str(p, "architecture", &c->platform.architecture)) ||
          (rv = opt_str(p, "variant", &c->platform.variant)))
        return rv;
    }
  }
  return 0;
}

int sc_manifest_parse(const char *json, size_t len, const char *content_type, sc_manifest *out) {
  if (!out) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  if (!json) return SC_ERR_ARG;
  if (len > SC_MANIFEST_MAX_BYTES) return SC_ERR_LIMIT;
  json_error_t err;
  json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
  if (!root) return SC_ERR_FORMAT;
  int rv = SC_ERR_FORMAT;
  if (!json_is_object(root)) goto done;
  json_t *sv = json_object_get(root, "schemaVersion");
  if (sv && json_is_integer(sv) && json_integer_value(sv) == 1) {
    rv = SC_ERR_UNSUPP;
    goto done;
  }
  if (sv && !(json_is_integer(sv) && json_integer_value(sv) == 2)) goto done;
  if ((rv = opt_str(root, "mediaType", &out->media_type))) goto done;
  const char *mt = out->media_type;
  if (!mt && content_type) {
    /* "type; charset=..." -> "type" */
    size_t n = strcspn(content_type, "; \t");
    if (!(out->media_type = strndup(content_type, n))) {
      rv = SC_ERR_NOMEM;
      goto done;
    }
    mt = out->media_type;
    if (!is_index_type(mt) && !is_image_type(mt)) {
      free(out->media_type); /* e.g. application/json: infer below */
      out->media_type = NULL;
      mt = NULL;
    }
  }
  if (!mt) {
    /* OCI allows an absent mediaType: infer from the shape */
    if (json_object_get(root, "manifests")) mt = SC_MT_OCI_INDEX;
    else if (json_object_get(root, "layers")) mt = SC_MT_OCI_MANIFEST;
    else goto done;
    if (!(out->media_type = strdup(mt))) {
      rv = SC_ERR_NOMEM;
      goto done;
    }
  }
  if (is_index_type(mt)) {
    out->kind = SC_MANIFEST_INDEX;
    rv = parse_index(root, out);
  } else if (is_image_type(mt)) {
    out->kind = SC_MANIFEST_IMAGE;
    rv = parse_image(root, out);
  } else {
    rv = SC_ERR_UNSUPP;
  }
done:
  json_decref(root);
  return rv;
}

void sc_platform_str(const sc_platform *p, char *out, size_t cap) {
  if (!cap) return;
  snprintf(out, cap, "%s/%s%s%s", p->os ? p->os : "unknown",
           p->architecture ? p->architecture : "unknown", p->variant ? "/" : "",
           p->variant ? p->variant : "");
}

int sc_manifest_pick(const sc_manifest *m, const char *os, const char *arch, const char *variant) {
  if (!m || m->kind != SC_MANIFEST_INDEX) return -1;
  for (size_t i = 0; i < m->nchildren && i < (size_t)SC_MANIFEST_MAX_ITEMS; i++) {
    const sc_platform *p = &m->children[i].platform;
    if (!p->os || !p->architecture) continue;
    if (os && strcmp(p->os, os) != 0) continue;
    if (arch && strcmp(p->architecture, arch) != 0) continue;
    if (variant && (!p->variant || strcmp(p->variant, variant) != 0)) continue;
    return (int)i;
  }
  return -1;
}
