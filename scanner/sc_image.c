/* sc_image.c - manifest parsing (jansson, read with Go's key semantics by
 * sc_gojson) and content digests.  Thread: any.  Errors: see sc_image.h. */
#include "sc_image.h"
#include "sc_gojson.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
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
  free(m->base_name);
  free(m->base_digest);
  free(m->subject);
  free(m->artifact_type);
  free(m->annotations);
  memset(m, 0, sizeof(*m));
}

/* ---- how Go clients read these documents (sc_gojson) ----
 * Field names are the union, spelled exactly as the json tags spell them,
 * of the structs the clients decode into: image-spec specs-go/v1
 * Descriptor, Platform, Manifest, Index (v1.1) and distribution's
 * Descriptor, PlatformSpec, schema2.Manifest, manifestlist.ManifestList.
 * The top level unites manifest and index fields because clients pick the
 * struct by media type or by sniffing ("manifests" read case-insensitively).
 * Maps (keys exact, last wins; jansson already refuses exact duplicates):
 * "annotations" (map[string]string everywhere).  Everything else named here
 * is a struct, a slice of structs or a scalar. */
static const sc_gojson_type mf_annotations = {SC_GJ_MAP, NULL, NULL};
static const sc_gojson_field mf_platform_fields[] = {
    {"architecture", NULL}, {"os", NULL},       {"os.version", NULL},
    {"os.features", NULL},  {"variant", NULL},  {"features", NULL}, /* manifestlist.PlatformSpec */
    {NULL, NULL}};
static const sc_gojson_type mf_platform = {SC_GJ_STRUCT, mf_platform_fields, NULL};
static const sc_gojson_field mf_desc_fields[] = {
    {"mediaType", NULL}, {"digest", NULL},   {"size", NULL},
    {"urls", NULL},      {"annotations", &mf_annotations},
    {"data", NULL},      {"platform", &mf_platform}, {"artifactType", NULL},
    {NULL, NULL}};
static const sc_gojson_type mf_desc = {SC_GJ_STRUCT, mf_desc_fields, NULL};
static const sc_gojson_type mf_descs = {SC_GJ_ARRAY, NULL, &mf_desc};
static const sc_gojson_field mf_top_fields[] = {
    {"schemaVersion", NULL}, {"mediaType", NULL},     {"artifactType", NULL},
    {"config", &mf_desc},    {"layers", &mf_descs},   {"manifests", &mf_descs},
    {"subject", &mf_desc},   {"annotations", &mf_annotations},
    {NULL, NULL}};
static const sc_gojson_type mf_top = {SC_GJ_STRUCT, mf_top_fields, NULL};

const sc_gojson_type *sc_manifest_gotype(void) {
  return &mf_top;
}

static void mf_why(char *why, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (!why || !cap) return;
  va_start(ap, fmt);
  vsnprintf(why, cap, fmt, ap);
  va_end(ap);
}

/* Copies an optional string member; a present non-string member is an
 * error.  "" counts as absent, as Go's zero value does. */
static int opt_str(json_t *obj, const char *key, char **out) {
  json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return SC_ERR_FORMAT;
  if (!*json_string_value(v)) return 0;
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

/* A descriptor (at `where`, e.g. "$.layers[2]") needs a valid digest. */
static int descriptor(json_t *d, const char *where, char **digest, char **mt, int64_t *size, char *why,
                      size_t cap) {
  int rv;
  if (!json_is_object(d)) {
    mf_why(why, cap, "descriptor %s is not a JSON object", where);
    return SC_ERR_FORMAT;
  }
  if ((rv = opt_str(d, "digest", digest)) || (rv = opt_str(d, "mediaType", mt))) {
    mf_why(why, cap, "%s: digest and mediaType must be strings", where);
    return rv;
  }
  if ((rv = opt_size(d, size))) {
    mf_why(why, cap, "%s.size is not a non-negative integer", where);
    return rv;
  }
  if (!sc_digest_valid(*digest, 1)) {
    mf_why(why, cap, "%s.digest is missing or not a valid digest", where);
    return SC_ERR_FORMAT;
  }
  return 0;
}

static int is_index_type(const char *t) {
  return t && (strcmp(t, SC_MT_OCI_INDEX) == 0 || strcmp(t, SC_MT_DOCKER_LIST) == 0);
}
static int is_image_type(const char *t) {
  return t && (strcmp(t, SC_MT_OCI_MANIFEST) == 0 || strcmp(t, SC_MT_DOCKER_MANIFEST) == 0);
}

static int parse_image(json_t *root, sc_manifest *m, char *why, size_t cap) {
  int rv;
  int64_t sz;
  char where[32];
  json_t *cfg = json_object_get(root, "config"), *layers = json_object_get(root, "layers");
  if (json_object_get(root, "manifests")) {
    /* CVE-2021-41190: one document read as an image by some clients and
     * as an index by others */
    mf_why(why, cap, "image manifest carries \"manifests\"");
    return SC_ERR_FORMAT;
  }
  if (!cfg || !json_is_array(layers)) {
    mf_why(why, cap, "image manifest needs \"config\" and a \"layers\" array");
    return SC_ERR_FORMAT;
  }
  if ((rv = descriptor(cfg, "$.config", &m->config_digest, &m->config_media_type, &sz, why, cap))) return rv;
  size_t n = json_array_size(layers);
  if (n > SC_MANIFEST_MAX_ITEMS) {
    mf_why(why, cap, "%zu layers, more than %d", n, SC_MANIFEST_MAX_ITEMS);
    return SC_ERR_LIMIT;
  }
  if (n && !(m->layers = calloc(n, sizeof(*m->layers)))) return SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    sc_mlayer *l = &m->layers[i];
    m->nlayers = i + 1; /* so a partial entry is freed */
    snprintf(where, sizeof where, "$.layers[%zu]", i);
    if ((rv = descriptor(json_array_get(layers, i), where, &l->digest, &l->media_type, &l->size, why, cap)))
      return rv;
  }
  return 0;
}

static int parse_index(json_t *root, sc_manifest *m, char *why, size_t cap) {
  int rv;
  char where[40];
  json_t *arr = json_object_get(root, "manifests");
  if (json_object_get(root, "layers") || json_object_get(root, "config")) {
    mf_why(why, cap, "index carries \"%s\"", json_object_get(root, "layers") ? "layers" : "config");
    return SC_ERR_FORMAT;
  }
  if (!json_is_array(arr)) {
    mf_why(why, cap, "index needs a \"manifests\" array");
    return SC_ERR_FORMAT;
  }
  size_t n = json_array_size(arr);
  if (n > SC_MANIFEST_MAX_ITEMS) {
    mf_why(why, cap, "%zu manifests, more than %d", n, SC_MANIFEST_MAX_ITEMS);
    return SC_ERR_LIMIT;
  }
  if (n && !(m->children = calloc(n, sizeof(*m->children)))) return SC_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    sc_mchild *c = &m->children[i];
    json_t *d = json_array_get(arr, i);
    m->nchildren = i + 1;
    snprintf(where, sizeof where, "$.manifests[%zu]", i);
    if ((rv = descriptor(d, where, &c->digest, &c->media_type, &c->size, why, cap))) return rv;
    json_t *p = json_object_get(d, "platform");
    if (p && !json_is_null(p)) {
      if (!json_is_object(p)) {
        mf_why(why, cap, "%s.platform is not a JSON object", where);
        return SC_ERR_FORMAT;
      }
      if ((rv = opt_str(p, "os", &c->platform.os)) ||
          (rv = opt_str(p, "architecture", &c->platform.architecture)) ||
          (rv = opt_str(p, "variant", &c->platform.variant))) {
        mf_why(why, cap, "%s.platform: os, architecture and variant must be strings", where);
        return rv;
      }
    }
  }
  return 0;
}

/* The media type of a Content-Type header: parameters and blanks dropped,
 * lower-cased (RFC 9110 media types are case-insensitive).  "" when none. */
static void ctype_base(const char *ct, char *out, size_t cap) {
  size_t o = 0;
  if (!cap) return;
  if (ct) {
    while (*ct == ' ' || *ct == '\t') ct++;
    for (; *ct && *ct != ';' && *ct != ' ' && *ct != '\t' && o + 1 < cap; ct++)
      out[o++] = (char)((*ct >= 'A' && *ct <= 'Z') ? *ct + 32 : *ct);
  }
  out[o] = '\0';
}

/* The base image the builder named (OCI annotations, lineage): a string
 * name and a well-formed digest, else nothing.  Other annotations are not
 * kept. */
static int base_annotations(json_t *root, sc_manifest *m) {
  json_t *a = json_object_get(root, "annotations");
  if (!json_is_object(a)) return 0;
  json_t *n = json_object_get(a, SC_ANNOT_BASE_NAME), *d = json_object_get(a, SC_ANNOT_BASE_DIGEST);
  if (json_is_string(n) && json_string_length(n) > 0 && json_string_length(n) < SC_ANNOT_BASE_MAX &&
      !(m->base_name = strdup(json_string_value(n))))
    return SC_ERR_NOMEM;
  if (json_is_string(d) && sc_digest_valid(json_string_value(d), 0) &&
      !(m->base_digest = strdup(json_string_value(d))))
    return SC_ERR_NOMEM;
  return 0;
}

/* OCI 1.1: what the referrers API lists (subject, artifactType and the
 * annotations of a manifest with a subject).  A subject that is not a
 * descriptor with a valid digest names nothing: it is ignored, as the
 * registry ignores it (the manifest itself is judged as before). */
static int referrer_fields(json_t *root, sc_manifest *m) {
  json_t *subj = json_object_get(root, "subject"), *at = json_object_get(root, "artifactType");
  if (json_is_string(at) && json_string_length(at) > 0 && !(m->artifact_type = strdup(json_string_value(at))))
    return SC_ERR_NOMEM;
  json_t *d = json_is_object(subj) ? json_object_get(subj, "digest") : NULL;
  if (!json_is_string(d) || !sc_digest_valid(json_string_value(d), 1)) return 0;
  if (!(m->subject = strdup(json_string_value(d)))) return SC_ERR_NOMEM;
  json_t *a = json_object_get(root, "annotations"), *v;
  const char *k;
  if (!json_is_object(a) || json_object_size(a) == 0) return 0;
  json_object_foreach(a, k, v) if (!json_is_string(v)) return 0; /* Go reads map[string]string */
  char *text = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text) return SC_ERR_NOMEM;
  if (strlen(text) > SC_MANIFEST_ANNOT_MAX_BYTES) free(text);
  else m->annotations = text;
  return 0;
}

static int manifest_read(const char *json, size_t len, const char *content_type, sc_manifest *out, char *why,
                         size_t cap) {
  char ct[128], mtshow[96];
  if (why && cap) why[0] = '\0';
  if (!out) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  if (!json) return SC_ERR_ARG;
  if (len > SC_MANIFEST_MAX_BYTES) {
    mf_why(why, cap, "manifest of %zu bytes, more than %u", len, SC_MANIFEST_MAX_BYTES);
    return SC_ERR_LIMIT;
  }
  json_t *root = NULL;
  int rv = sc_gojson_load(json, len, &root, why, cap);
  if (rv) return rv;
  rv = SC_ERR_FORMAT;
  if (!json_is_object(root)) {
    mf_why(why, cap, "manifest is not a JSON object");
    goto done;
  }
  if ((rv = sc_gojson_check(root, &mf_top, why, cap))) goto done;
  rv = SC_ERR_FORMAT;
  json_t *sv = json_object_get(root, "schemaVersion");
  if (sv && json_is_integer(sv) && json_integer_value(sv) == 1) {
    mf_why(why, cap, "schemaVersion 1 (Docker schema 1) is not supported");
    rv = SC_ERR_UNSUPP;
    goto done;
  }
  if (!sv || !json_is_integer(sv) || json_integer_value(sv) != 2) {
    /* Go reads an absent schemaVersion as 0; the registry wants 2 */
    mf_why(why, cap, "schemaVersion is %s, not 2", sv ? "wrong" : "missing");
    goto done;
  }
  if ((rv = opt_str(root, "mediaType", &out->media_type))) {
    mf_why(why, cap, "mediaType is not a string");
    goto done;
  }
  ctype_base(content_type, ct, sizeof ct);
  if (!is_index_type(ct) && !is_image_type(ct)) ct[0] = '\0'; /* e.g. application/json: no opinion */
  const char *mt = out->media_type;
  if (mt && ct[0] && strcmp(mt, ct) != 0) {
    mtshow[0] = '\0';
    sc_gojson_quote(mt, strlen(mt), mtshow, sizeof mtshow);
    mf_why(why, cap, "mediaType %s contradicts Content-Type \"%s\"", mtshow, ct);
    rv = SC_ERR_FORMAT;
    goto done;
  }
  if (!mt) {
    /* OCI allows an absent mediaType: the Content-Type, else the shape */
    if (ct[0]) mt = ct;
    else if (json_object_get(root, "manifests")) mt = SC_MT_OCI_INDEX;
    else if (json_object_get(root, "layers")) mt = SC_MT_OCI_MANIFEST;
    else {
      mf_why(why, cap, "no mediaType, and neither \"layers\" nor \"manifests\"");
      rv = SC_ERR_FORMAT;
      goto done;
    }
    if (!(out->media_type = strdup(mt))) {
      rv = SC_ERR_NOMEM;
      goto done;
    }
    mt = out->media_type;
  }
  if (is_index_type(mt)) {
    out->kind = SC_MANIFEST_INDEX;
    rv = parse_index(root, out, why, cap);
  } else if (is_image_type(mt)) {
    out->kind = SC_MANIFEST_IMAGE;
    rv = parse_image(root, out, why, cap);
  } else {
    mtshow[0] = '\0';
    sc_gojson_quote(mt, strlen(mt), mtshow, sizeof mtshow);
    mf_why(why, cap, "mediaType %s is not an image manifest or index", mtshow);
    rv = SC_ERR_UNSUPP;
  }
  if (rv == 0) rv = base_annotations(root, out);
  if (rv == 0) rv = referrer_fields(root, out);
done:
  if (rv == SC_ERR_NOMEM) mf_why(why, cap, "out of memory");
  json_decref(root);
  return rv;
}

int sc_manifest_parse(const char *json, size_t len, const char *content_type, sc_manifest *out) {
  return manifest_read(json, len, content_type, out, NULL, 0);
}

int sc_manifest_check(const char *json, size_t len, const char *content_type, char *why, size_t whycap) {
  return sc_manifest_check_ex(json, len, content_type, why, whycap, NULL, 0);
}

int sc_manifest_check_ex(const char *json, size_t len, const char *content_type, char *why, size_t whycap,
                         char *subject, size_t subjcap) {
  sc_manifest m;
  int rv = manifest_read(json, len, content_type, &m, why, whycap);
  if (subject && subjcap) /* a digest that does not fit is not given cut */
    snprintf(subject, subjcap, "%s", rv == 0 && m.subject && strlen(m.subject) < subjcap ? m.subject : "");
  sc_manifest_free(&m);
  if (rv == SC_ERR_ARG) mf_why(why, whycap, "no manifest");
  for (char *c = why; c && whycap && *c; c++) /* the Content-Type is quoted: keep one printable line */
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
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

int sc_manifest_is_artifact(const sc_manifest *m) {
  const char *t = m ? m->config_media_type : NULL;
  if (!m || m->kind != SC_MANIFEST_IMAGE || !t) return 0;
  return strcmp(t, "application/vnd.oci.image.config.v1+json") != 0 &&
         strcmp(t, "application/vnd.docker.container.image.v1+json") != 0;
}

int sc_media_is_layer(const char *t) {
  if (!t) return 1;
  return strstr(t, "tar") || strstr(t, "layer") || strstr(t, "rootfs");
}
