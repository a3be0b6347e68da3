/* px_route.h - classification of Docker Registry v2 / OCI distribution URLs.
 *
 * The proxy gates manifests and watches uploads, so it must read a URL the
 * same way the registry will.  Rather than second-guess the registry's
 * decoding, /v2/ paths that a registry would have to decode or normalise
 * (percent-escapes, "//", "." or ".." segments, backslashes) are refused:
 * no legitimate client sends them, and a denied image cannot hide behind them.
 *
 * Errors: PX_ERR_INVALID (such a path, or a repository/reference that
 * does not follow the distribution grammar). */
#ifndef CUSTOMS_PX_ROUTE_H
#define CUSTOMS_PX_ROUTE_H

typedef enum px_route_kind {
  PX_R_OTHER = 0,      /* not /v2/: passed through */
  PX_R_BASE,           /* /v2/ */
  PX_R_CATALOG,        /* /v2/_catalog */
  PX_R_TAGS,           /* /v2/<name>/tags/list */
  PX_R_MANIFEST,       /* /v2/<name>/manifests/<reference> */
  PX_R_BLOB,           /* /v2/<name>/blobs/<digest> */
  PX_R_UPLOAD_START,   /* /v2/<name>/blobs/uploads/ */
  PX_R_UPLOAD,         /* /v2/<name>/blobs/uploads/<uuid> */
  PX_R_REFERRERS,      /* /v2/<name>/referrers/<digest> */
  PX_R_V2_OTHER        /* another /v2/ path (extensions): passed through */
} px_route_kind;

typedef struct px_route {
  px_route_kind kind;
  char repo[256];
  char ref[256];         /* tag, digest or upload id */
  int ref_is_digest;
  char q_digest[160];    /* ?digest= (upload PUT, monolithic POST) */
  char q_mount[160];     /* ?mount= (cross-repository mount) */
  char q_from[256];      /* ?from= */
} px_route;

int px_route_parse(const char *target, px_route *r);
const char *px_route_kind_name(px_route_kind k);
/* Grammar checks shared with the interception code. */
int px_valid_repo(const char *s);
int px_valid_tag(const char *s);
int px_valid_digest(const char *s);
#endif
