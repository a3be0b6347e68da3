/* px_route.h - one view of the request target: classification of Docker
 * Registry v2 / OCI distribution URLs the way the registry itself routes them.
 *
 * Ownership: front (proxy request side).  Thread: loop thread only; pure
 * functions, no global state.
 *
 * The registry (distribution 2.8: Go net/http + gorilla/mux, StrictSlash)
 * routes on the DECODED path: url.ParseRequestURI percent-decodes the whole
 * path (%2F becomes '/', an invalid escape is a 400), '#' and ';' stay in the
 * path, the query starts at the first '?', mux then cleans the decoded path
 * (path.Clean, trailing slash kept) and answers 301 when cleaning changed it,
 * and StrictSlash answers 301 for a trailing slash it does not expect.
 * Customs does the same decoding and cleaning on EVERY origin-form target:
 *
 *   - a target whose decoded and cleaned path is not under /v2 is PX_R_OTHER
 *     and passes through unjudged (the registry has no API there);
 *   - a /v2 target must already be in canonical form: when decoding or
 *     cleaning changes it (any %XX in the path, "//", "." or ".." segments,
 *     a trailing slash other than /v2/ and .../blobs/uploads/), it is refused
 *     400 (PX_RE_NONCANONICAL).  No legitimate client sends those forms, and a
 *     refusal cannot be misjudged, while a rewrite could be;
 *   - anything customs cannot decode exactly as Go does is refused: an
 *     invalid escape (PX_RE_ESCAPE), a control byte, space, DEL or NUL raw
 *     or decoded (PX_RE_CTL), a target that is not origin-form such as
 *     absolute-form "http://host/v2/..." or "*" (PX_RE_FORM);
 *   - a canonical /v2 path is matched against the registry's routes in the
 *     registry's order (tags, manifests, blobs, uploads, catalog).  A path
 *     that names a route (contains "/manifests/", "/blobs/", ...) but whose
 *     parts do not follow the grammar is refused with the error of the part
 *     that is wrong.  Repository names are the lower-case distribution
 *     grammar: the registry also routes "Host:5000/x" style names, customs
 *     refuses them (400 NAME_INVALID: fail closed);
 *   - '#', ';', '\\' and bytes >= 0x80 are not in any grammar: on /v2 they
 *     make the part that holds them invalid; elsewhere they pass through;
 *   - query parameters are read as Go's url.ParseQuery does (keys and values
 *     unescaped, '+' is a space, pairs with ';' or a bad escape skipped, the
 *     first occurrence wins).
 *
 * Methods (px_route_check_method): on /v2 paths only GET HEAD PUT POST PATCH
 * DELETE OPTIONS, exact upper case; anything else is 405 (the gate compares
 * methods with strcmp, so "get" must never reach the registry).
 *
 * Errors: px_route_parse and px_route_check_method return 0 or
 * SC_ERR_INVALID and say why in r->err (px_route_err); px_route_refusal maps
 * that to the distribution-spec status and error code, px_route_message to a
 * message naming the part that is wrong. */
#ifndef CUSTOMS_PX_ROUTE_H
#define CUSTOMS_PX_ROUTE_H
#include <stddef.h>

/* Longest request target looked at (bytes); longer ones are refused (414). */
#define PX_ROUTE_MAX_TARGET_BYTES 8192
/* Bytes of the offending part kept for the message. */
#define PX_ROUTE_BAD_BYTES 120

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
  PX_R_V2_OTHER        /* another /v2/ path (no registry route): passed through */
} px_route_kind;

typedef enum px_route_err {
  PX_RE_NONE = 0,
  PX_RE_FORM,          /* not origin-form (absolute-form, asterisk, empty) */
  PX_RE_TOO_LONG,      /* over PX_ROUTE_MAX_TARGET_BYTES */
  PX_RE_ESCAPE,        /* '%' not followed by two hex digits */
  PX_RE_CTL,           /* control byte, space, DEL or NUL (raw or decoded) */
  PX_RE_NONCANONICAL,  /* a /v2 path the registry would decode, clean or redirect */
  PX_RE_NAME,          /* repository name outside the grammar */
  PX_RE_TAG,           /* tag outside [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
  PX_RE_DIGEST,        /* digest outside the grammar */
  PX_RE_UPLOAD_ID,     /* upload id outside [A-Za-z0-9_.=-]+ */
  PX_RE_METHOD,        /* method not allowed on a /v2 path */
  PX_RE_COUNT
} px_route_err;

typedef struct px_route {
  px_route_kind kind;    /* on error: the route the target was aimed at */
  px_route_err err;
  char bad[PX_ROUTE_BAD_BYTES]; /* the offending part, for messages */
  char repo[256];
  char ref[256];         /* tag, digest or upload id */
  int ref_is_digest;
  char q_digest[160];    /* ?digest= (upload PUT, monolithic POST) */
  char q_mount[160];     /* ?mount= (cross-repository mount) */
  char q_from[256];      /* ?from= */
} px_route;

int px_route_parse(const char *target, px_route *r);
/* Second step, after parsing: the method on that route. */
int px_route_check_method(px_route *r, const char *method);
/* Status and distribution error code for a refused target (r->err set). */
void px_route_refusal(const px_route *r, const char *method, int *status, const char **code);
/* Static description of an error ("invalid percent-escape", ...). */
const char *px_route_strerror(px_route_err e);
/* Message naming the wrong part, e.g. `repository name "Team/x" is invalid: ...`. */
void px_route_message(const px_route *r, char *buf, size_t cap);
const char *px_route_kind_name(px_route_kind k);

/* Percent-decodes the n bytes of s as Go's url.PathUnescape does (invalid
 * escapes are an error).  out needs n + 1 bytes; *outlen excludes the NUL
 * written after the bytes.  Returns 0 or SC_ERR_INVALID. */
int px_path_unescape(const char *s, size_t n, char *out, size_t *outlen);
/* gorilla/mux cleanPath: path.Clean, with a trailing slash kept.  out needs
 * strlen(p) + 2 bytes. */
void px_path_clean(const char *p, char *out);

/* Grammar checks shared with the interception code. */
int px_valid_repo(const char *s);
int px_valid_tag(const char *s);
int px_valid_digest(const char *s);
#endif
