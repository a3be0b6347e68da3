/* px_h2.h - HTTP/2 client sessions (nghttp2), cleartext prior-knowledge or TLS+ALPN.
 * Errors: px_h2_start returns 0, SC_ERR_NOMEM (the bufferevent is then freed). */
#ifndef CUSTOMS_PX_H2_H
#define CUSTOMS_PX_H2_H
#include "px_server.h"
struct bufferevent;
int px_h2_start(px_ctx *ctx, struct bufferevent *bev, int tls, const char *peer);
/* Sends GOAWAY on every session (SIGTERM). */
void px_h2_drain_all(px_ctx *ctx);
#endif
