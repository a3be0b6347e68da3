/* px_headers.h - a bounded list of HTTP header fields.
 *
 * Ownership: front.  Thread: loop thread (pure functions on the list).
 *
 * Names are stored lower-cased (HTTP/2 requires it, HTTP/1.1 does not care).
 * The list has hard caps on the field count and the total bytes, so a client
 * cannot grow a request's memory with headers.
 *
 * Errors: PX_ERR_LIMIT (cap reached), PX_ERR_INVALID (CR, LF or NUL in a
 * name or value, or an empty/ill-formed name), PX_ERR_NOMEM. */
#ifndef CUSTOMS_PX_HEADERS_H
#define CUSTOMS_PX_HEADERS_H
#include <stddef.h>

#define PX_ERR_NOMEM   -1
#define PX_ERR_LIMIT   -2
#define PX_ERR_INVALID -3
#define PX_ERR_IO      -4
#define PX_ERR_STATE   -5

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
