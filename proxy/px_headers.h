/* px_headers.h - a bounded list of HTTP header fields.
 *
 * Ownership: front.  Thread: loop thread (pure functions on the list).
 *
 * Names are stored lower-cased (HTTP/2 requires it, HTTP/1.1 does not care).
 * The list has hard caps on the field count and the total bytes, so a client
 * cannot grow a request's memory with headers.
 *
 * Errors: SC_ERR_LIMIT (cap reached), SC_ERR_INVALID (CR, LF or NUL in a
 * name or value, or an empty/ill-formed name), SC_ERR_NOMEM. */
#ifndef CUSTOMS_PX_HEADERS_H
#define CUSTOMS_PX_HEADERS_H
#include <stddef.h>
#include "sc_err.h"

#define PX_HDR_MAX_FIELDS 100
#define PX_HDR_MAX_BYTES  (64 * 1024)

typedef struct px_header {
  char *name;
  char *value;
  size_t namelen, valuelen;
} px_header;

typedef struct px_headers {
  px_header f[PX_HDR_MAX_FIELDS];
  size_t n;
  size_t bytes;
} px_headers;

void px_headers_init(px_headers *h);
void px_headers_free(px_headers *h);
int px_headers_add(px_headers *h, const char *name, size_t namelen, const char *value, size_t valuelen);
/* Appends to the value of the last field (HTTP/1.1 parsers deliver values in pieces). */
int px_headers_append_last(px_headers *h, int to_name, const char *s, size_t len);
/* First value of `name` (lower-case), or NULL. */
const char *px_headers_get(const px_headers *h, const char *name);
/* Removes every field named `name`. */
void px_headers_del(px_headers *h, const char *name);
/* Replaces (or adds) a field. */
int px_headers_set(px_headers *h, const char *name, const char *value);

#define PX_WARNING_TEXT_MAX_BYTES 600 /* bytes of `text` a Warning field carries */
#define PX_WARNING_PREFIX_MAX_BYTES 64 /* bytes of `prefix` it carries */
/* Replaces (or adds) the field `Warning: 299 customs "<prefix><text>"` (RFC
 * 7234 warn-code 299, agent "customs"), the one line that carries a
 * verdict's reason where there is no body (HEAD) or beside one.  `text`
 * (untrusted: policy messages quote package names) is cut to
 * PX_WARNING_TEXT_MAX_BYTES bytes, and every '"', '\' and control byte
 * (< 0x20) in the quoted part becomes a space, so the field is one line and
 * one quoted-string whatever the text holds.  NULL text is "".  Returns
 * what px_headers_set returns. */
int px_headers_set_warning(px_headers *h, const char *prefix, const char *text);
/* 0 when the field has no CR, LF or NUL and the name is a token. */
int px_header_check(const char *name, size_t namelen, const char *value, size_t valuelen);
/* Nonzero for hop-by-hop fields, including those listed in `connection`. */
int px_header_is_hop(const char *name, const char *connection);
/* End-to-end fields customs decides on (or that carry the request):
 * authorization, accept, content-*, range, if-*, host, expect,
 * docker-content-digest.  Returns the first of them that a Connection field
 * of h names (it would be stripped upstream after customs read it), or NULL.
 * The request is then refused with 400 rather than forwarded without it. */
const char *px_connection_protected(const px_headers *h);
/* Nonzero when the comma-separated list `list` contains `token` (case-insensitive). */
int px_list_has_token(const char *list, const char *token);
#endif
