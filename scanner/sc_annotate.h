/* sc_annotate.h - the two documents customs attaches to an image in the
 * registry (OCI 1.1 referrers), and the OCI manifests and index that carry
 * them.
 *
 *   - the SBOM: CycloneDX 1.5 JSON of the image's inventory (sc_report's
 *     CycloneDX output without vulnerabilities), artifactType
 *     SC_ANNOT_SBOM_TYPE;
 *   - the vulnerability report (SC_ANNOT_VULNS_TYPE, documented in
 *     README.md): the image, the data generation and time it was computed
 *     at, the findings (id, aliases, package, version, fixed version,
 *     severity, score, ecosystem, purl, version_comparable) and their counts
 *     by severity.
 *
 * Each is wrapped in an OCI image manifest (artifact form): artifactType,
 * config = the empty descriptor ("{}"), one layer = the document, subject =
 * the image manifest, annotations org.opencontainers.image.created and
 * SC_ANNOT_KIND_KEY ("sbom" | "vulnerabilities").
 *
 * Determinism: the same content and the same `created` give the same bytes
 * (keys in a fixed order, compact, scores with 4 significant digits; the
 * SBOM's serialNumber is derived from its content, its timestamp is
 * `created`).  content_hash is the SHA-256 of the document without what
 * changes with every computation (the SBOM's serialNumber and timestamp,
 * the report's generated_at and data_generation): equal hashes mean nothing
 * a reader cares about changed, so nothing needs pushing.
 *
 * The referrers tag schema (distribution spec): without the referrers API,
 * the referrers of a subject are listed by an OCI index under the tag
 * "sha256-<hex>"; sc_annot_index_update edits that index.
 *
 * Owner: the caller owns every sc_annot_doc (sc_annot_doc_free).  Thread:
 * pure functions, any thread.  Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM,
 * SC_ERR_FORMAT (an index that is not one). */
#ifndef CUSTOMS_SC_ANNOTATE_H
#define CUSTOMS_SC_ANNOTATE_H
#include <stddef.h>
#include <stdint.h>
#include "sc_findlist.h"
#include "sc_report.h"

#define SC_ANNOT_SBOM_TYPE "application/vnd.cyclonedx+json"
#define SC_ANNOT_VULNS_TYPE "application/vnd.customs.vulnerability-report.v1+json"
#define SC_ANNOT_EMPTY_TYPE "application/vnd.oci.empty.v1+json"
#define SC_ANNOT_EMPTY_BLOB "{}"
#define SC_ANNOT_EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define SC_ANNOT_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define SC_ANNOT_INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define SC_ANNOT_CREATED_KEY "org.opencontainers.image.created"
#define SC_ANNOT_KIND_KEY "io.customs.annotation" /* "sbom" | "vulnerabilities" */
#define SC_ANNOT_GENERATION_KEY "io.customs.data-generation" /* the report's, on its manifest */
#define SC_ANNOT_INDEX_MAX_ENTRIES 4096 /* referrers kept in one tag-schema index */
#define SC_ANNOT_DIGEST_BYTES 72        /* "sha256:" + 64 hex + NUL, with room */

typedef enum sc_annot_kind { SC_ANNOT_SBOM = 0, SC_ANNOT_VULNS = 1 } sc_annot_kind;
#define SC_ANNOT_NKINDS 2

/* "sbom" | "vulnerabilities" (the store's and the annotation's spelling). */
const char *sc_annot_kind_name(sc_annot_kind k);
/* -1 when s names no kind. */
int sc_annot_kind_parse(const char *s);
/* The artifactType of a kind. */
const char *sc_annot_kind_type(sc_annot_kind k);

/* The image manifest the documents are attached to. */
typedef struct sc_annot_subject {
  const char *media_type;
  const char *digest;
  int64_t size;
} sc_annot_subject;

/* What a document is made of. */
typedef struct sc_annot_input {
  const sc_report_input *report; /* SBOM: repository, digest, inventory; findings ignored */
  const char *repository;        /* report */
  const char *digest;            /* report: the image */
  const sc_finding_list *findings; /* report; NULL = none */
  int64_t generation;            /* report: the data generation of the findings */
  int64_t created;               /* unix seconds: the SBOM's timestamp, the report's generated_at,
                                    the manifest's created annotation */
  sc_annot_subject subject;
} sc_annot_input;

/* One document and its artifact manifest, ready to push. */
typedef struct sc_annot_doc {
  sc_annot_kind kind;
  char *blob;                    /* the document */
  size_t blob_len;
  char blob_digest[SC_ANNOT_DIGEST_BYTES];
  char *manifest;                /* the artifact manifest */
  size_t manifest_len;
  char manifest_digest[SC_ANNOT_DIGEST_BYTES];
  char content_hash[SC_ANNOT_DIGEST_BYTES]; /* "sha256:..." of the content (see above) */
} sc_annot_doc;

void sc_annot_doc_free(sc_annot_doc *d);

/* Builds the document of kind k and its manifest into out (zeroed first;
 * free it also after an error). */
int sc_annot_build(sc_annot_kind k, const sc_annot_input *in, sc_annot_doc *out);

/* Only the content hash of kind k for in (what sc_annot_build would put in
 * out->content_hash), to decide whether a pushed document is out of date. */
int sc_annot_content_hash(sc_annot_kind k, const sc_annot_input *in, char hash[SC_ANNOT_DIGEST_BYTES]);

/* The descriptor of a pushed artifact manifest, as an index lists it
 * (mediaType, digest, size, artifactType, annotations), compact JSON,
 * malloc'd; NULL on allocation failure. */
char *sc_annot_descriptor(const sc_annot_doc *d);

/* The tag-schema tag of a subject digest: "sha256-<hex>".  -1 when the
 * digest is not sha256. */
int sc_annot_tag(const char *subject_digest, char *out, size_t cap);

/* The referrers index old (NULL or len 0: none yet) with the entries whose
 * digest is add's or remove (may be NULL) dropped and add (a descriptor, as
 * sc_annot_descriptor makes it) appended; other entries are kept as they
 * are, in order.  *out malloc'd compact JSON.  SC_ERR_FORMAT when old is
 * not an OCI index (the caller then starts a new one with old NULL),
 * SC_ERR_LIMIT past SC_ANNOT_INDEX_MAX_ENTRIES. */
int sc_annot_index_update(const char *old, size_t len, const char *add, const char *remove, char **out,
                          size_t *outlen);
#endif
