/* sc_vex.h - OpenVEX documents (https://openvex.dev/ns/v0.2.0): parsed,
 * validated and matched against findings.  The policy loads the files its
 * `vex:` key lists (sc_policy_parse.c) and the evaluator takes out, before
 * any rule sees them, the findings that a `not_affected` or `fixed`
 * statement covers (sc_policy_eval.c); `affected` and `under_investigation`
 * never suppress.
 *
 * Matching (sc_vex_stmt_covers): a statement covers a finding when one of
 * its vulnerability ids (name, @id, aliases) equals the finding's id or one
 * of its aliases (the caller checks this, with the policy's own id rule),
 * and one of its products
 *   - is the image: "pkg:oci/NAME@sha256:HEX" (the purl version is the
 *     manifest digest), a bare "sha256:HEX", or hashes {"sha-256": HEX}; a
 *     product with subcomponents then covers only the packages they name;
 *   - or is the finding's package: "pkg:TYPE/NS/NAME[@VERSION]" (no version:
 *     any version), also as identifiers.purl.
 * A version-less pkg:oci purl names no image and matches nothing: a VEX
 * statement about "every image called X" would be a silent blanket waiver.
 *
 * Customs extension: a statement may carry "expires": "YYYY-MM-DD", the
 * last day (UTC) on which it applies, like a policy exception's expires.
 *
 * Owner: scanner/policy.  Thread: a parsed document is read-only; any number
 * of threads may match against it.  Errors: SC_ERR_FORMAT (the reason in
 * err), SC_ERR_IO, SC_ERR_LIMIT, SC_ERR_NOMEM, SC_ERR_ARG. */
#ifndef CUSTOMS_SC_VEX_H
#define CUSTOMS_SC_VEX_H
#include <stddef.h>
#include <stdint.h>

#include "sc_policy.h" /* sc_finding */

#define SC_VEX_MAX_BYTES (8 * 1024 * 1024) /* one VEX document file */
#define SC_VEX_MAX_STATEMENTS 100000       /* statements in one document */
#define SC_VEX_ERR_BYTES 256               /* room for one reason */

typedef enum sc_vex_status {
  SC_VEX_NOT_AFFECTED,
  SC_VEX_AFFECTED,
  SC_VEX_FIXED,
  SC_VEX_UNDER_INVESTIGATION
} sc_vex_status;

/* A package URL, percent-decoded; qualifiers and subpath dropped. */
typedef struct sc_purl {
  char *type;    /* lower case: "deb", "npm", "oci", ... */
  char *ns;      /* NULL: none */
  char *name;
  char *version; /* NULL: any */
} sc_purl;

typedef struct sc_vex_product {
  char *id;          /* as written (for messages) */
  char *digest;      /* "sha256:hex" when it names an image, else NULL */
  int has_purl;
  sc_purl purl;      /* when it names a package */
  sc_purl *subs;     /* subcomponents that are package purls */
  size_t nsubs;
} sc_vex_product;

typedef struct sc_vex_stmt {
  char **vulns;      /* name, @id and aliases */
  size_t nvulns;
  sc_vex_product *products;
  size_t nproducts;
  sc_vex_status status;
  char *justification, *impact, *action; /* NULL when absent */
  int has_expires;
  int64_t expires_day; /* customs extension: last day (UTC) it applies */
} sc_vex_stmt;

typedef struct sc_vex_doc {
  char *name;        /* file as the policy named it (messages) */
  char *id;          /* "@id", may be NULL */
  sc_vex_stmt *stmts;
  size_t nstmts;
} sc_vex_doc;

/* Parses one OpenVEX document (duplicate keys, unknown status or
 * justification, a not_affected without justification or impact_statement,
 * a statement without vulnerability or products, a bad expires date are
 * errors).  On failure *out is NULL and err holds the reason. */
int sc_vex_parse(const char *name, const char *json, size_t len, sc_vex_doc **out, char *err, size_t errcap);
/* Reads and parses the file at path (at most SC_VEX_MAX_BYTES); `name` is
 * kept for messages (NULL: path). */
int sc_vex_load(const char *path, const char *name, sc_vex_doc **out, char *err, size_t errcap);
void sc_vex_doc_free(sc_vex_doc *d);

const char *sc_vex_status_name(sc_vex_status s); /* "not_affected", ... */
/* 1 for not_affected and fixed. */
static inline int sc_vex_suppresses(sc_vex_status s) { return s == SC_VEX_NOT_AFFECTED || s == SC_VEX_FIXED; }

/* 0 and *out filled (free with sc_purl_free), or -1: not a purl. */
int sc_purl_parse(const char *s, sc_purl *out);
void sc_purl_free(sc_purl *p);
/* 1 when purl p names the finding's package (ecosystem family, namespace
 * where the ecosystem has one, name; version when p has one). */
int sc_purl_matches_finding(const sc_purl *p, const sc_finding *fd);

/* 1 when one of s's products covers fd in the image with manifest digest
 * image_digest (may be NULL: only package products can match).  The
 * vulnerability id and the status are the caller's to check; *product is
 * set to the product id that matched. */
int sc_vex_stmt_covers(const sc_vex_stmt *s, const char *image_digest, const sc_finding *fd, const char **product);

#endif
