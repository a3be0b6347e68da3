/* sc_image.h - registry manifests: OCI image manifest, Docker schema2
 * manifest, OCI index and Docker manifest list.
 *
 * Manifests are small JSON documents; they are parsed whole with jansson
 * after a hard size cap (SC_MANIFEST_MAX_BYTES), and read with the key
 * semantics of Go's encoding/json or refused (sc_gojson.h).
 * Thread: any; no global state. */
#ifndef CUSTOMS_SC_IMAGE_H
#define CUSTOMS_SC_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#include "sc_inventory.h"

#define SC_MANIFEST_MAX_BYTES (4u * 1024 * 1024)
#define SC_MANIFEST_MAX_ITEMS 4096 /* layers or children */

#define SC_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define SC_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define SC_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SC_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

typedef enum { SC_MANIFEST_IMAGE = 1, SC_MANIFEST_INDEX = 2 } sc_manifest_kind;

typedef struct sc_mlayer {
  char *digest, *media_type;
  int64_t size;                 /* -1 when absent */
} sc_mlayer;

typedef struct sc_platform {
  char *os, *architecture, *variant; /* NULL when absent */
} sc_platform;

typedef struct sc_mchild {
  char *digest, *media_type;
  int64_t size;
  sc_platform platform;
} sc_mchild;

typedef struct sc_manifest {
  sc_manifest_kind kind;
  char *media_type;             /* from the document, else the content type, else
                                   inferred from the shape */
  char *config_digest;          /* IMAGE only */
  char *config_media_type;
  sc_mlayer *layers;            /* IMAGE: bottom layer first */
  size_t nlayers;
  sc_mchild *children;          /* INDEX */
  size_t nchildren;
  char *base_name;              /* annotation org.opencontainers.image.base.name, NULL when absent */
  char *base_digest;            /* ... .base.digest when a valid sha256 digest, NULL otherwise */
  /* OCI 1.1 referrers (sc_referrers.h): the subject's digest when it is a
   * valid one, else NULL; artifactType (NULL when absent); with a subject,
   * the top-level annotations as compact JSON when they are a string map
   * of at most SC_MANIFEST_ANNOT_MAX_BYTES (NULL otherwise) */
  char *subject;
  char *artifact_type;
  char *annotations;
} sc_manifest;
#define SC_MANIFEST_ANNOT_MAX_BYTES 65536
#define SC_ANNOT_BASE_NAME "org.opencontainers.image.base.name"
#define SC_ANNOT_BASE_DIGEST "org.opencontainers.image.base.digest"
#define SC_ANNOT_BASE_MAX 512 /* a longer base name is ignored */

/* Parses a manifest (content_type may be NULL; it is used when the document
 * has no mediaType).  *out is zeroed first; free it with sc_manifest_free,
 * also after an error.  Accepts only documents that Go clients (registry,
 * containerd, docker, skopeo) read the same way (sc_gojson.h): refused are
 * duplicate keys at any depth; in struct objects, keys that fold (Go's case
 * fold, with U+017F and U+212A) to a field name without being spelled like
 * it, and keys folding to each other; an image manifest with "manifests"; an
 * index with "layers" or "config"; a mediaType other than a known manifest
 * Content-Type given by the caller; a non-object descriptor; a missing or
 * non-2 schemaVersion.  A mediaType of "" counts as absent, as in Go.
 * Returns 0, SC_ERR_FORMAT (not JSON, wrong shape, bad digest syntax, any of
 * the above), SC_ERR_UNSUPP (schema 1 or an unknown media type),
 * SC_ERR_LIMIT (over SC_MANIFEST_MAX_BYTES or SC_MANIFEST_MAX_ITEMS),
 * SC_ERR_NOMEM, SC_ERR_ARG. */
int sc_manifest_parse(const char *json, size_t len, const char *content_type, sc_manifest *out);

/* The same reading as sc_manifest_parse, for a yes/no answer: 0 when the
 * manifest is acceptable, else the same SC_ERR_* code with a one-line reason
 * of printable ASCII in why (whycap bytes; why may be NULL when whycap is 0),
 * e.g. `key "LAYERS" at $ folds to "layers" (Go clients read it
 * case-insensitively)`.  For a PUT answer (400 MANIFEST_INVALID) or to deny
 * a stored manifest. */
int sc_manifest_check(const char *json, size_t len, const char *content_type, char *why, size_t whycap);
/* The same, also giving the subject digest of an acceptable manifest in
 * subject (subjcap bytes; "" when it has none, or on an error). */
int sc_manifest_check_ex(const char *json, size_t len, const char *content_type, char *why, size_t whycap,
                         char *subject, size_t subjcap);

/* The Go type tree (sc_gojson_type) manifests are checked against; static. */
struct sc_gojson_type;
const struct sc_gojson_type *sc_manifest_gotype(void);

void sc_manifest_free(sc_manifest *m);

/* Whether an image manifest is an artifact (signature, SBOM, attestation,
 * any OCI artifact): its config is not an image config, so no runtime
 * (docker, containerd, podman) unpacks or runs it.  A missing config media
 * type counts as an image (fail closed). */
int sc_manifest_is_artifact(const sc_manifest *m);
/* Whether a layer media type is one a runtime unpacks (tar, gzip or zstd
 * tar, docker rootfs/foreign layers).  NULL or anything naming a tar, a
 * layer or a rootfs counts (fail closed). */
int sc_media_is_layer(const char *media_type);

/* Platform string "os/arch[/variant]" into out (cap bytes, truncated). */
void sc_platform_str(const sc_platform *p, char *out, size_t cap);

/* Picks the index child for os/arch (variant optional, NULL = any): its
 * position, or -1 when none matches. */
int sc_manifest_pick(const sc_manifest *m, const char *os, const char *arch, const char *variant);

/* "sha256:<64 hex>" of len bytes into out.  Returns 0 or SC_ERR_NOMEM. */
int sc_digest_sha256(const void *data, size_t len, char out[72]);

/* Whether s is a well-formed "sha256:<64 lowercase hex>" (other algorithms
 * are syntactically accepted as "alg:hex" when lenient is nonzero). */
int sc_digest_valid(const char *s, int lenient);
#endif
