/* px_h1.h - HTTP/1.1 client connections (request parsing with http-parser).
 * Errors: px_h1_start returns 0 or SC_ERR_NOMEM (the bufferevent is then freed). */
#ifndef CUSTOMS_PX_H1_H
#define CUSTOMS_PX_H1_H
#include "px_server.h"
struct bufferevent;
/* Takes ownership of bev (already connected; TLS done if tls). */
int px_h1_start(px_ctx *ctx, struct bufferevent *bev, int tls, const char *peer);
#endif
