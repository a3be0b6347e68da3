/* px_authrealm.h - upstream.proxy_auth: token realms pointed at customs.
 *
 * A registry that wants a token answers 401 with
 *   WWW-Authenticate: Bearer realm="https://REGISTRY/oauth2/token",service="...",scope="..."
 * and the client then asks the realm.  When the realm is on the upstream's
 * own origin (Azure Container Registry: https://<name>.azurecr.io/oauth2/token;
 * Harbor: /service/token), a client that may reach customs only cannot get
 * there.  With proxy_auth the realm's origin is replaced by customs' own
 * address (upstream.proxy_auth_url, else the scheme customs serves and the
 * request's Host or :authority), path and query kept; service and scope are
 * left as they are, and customs forwards the token request (any non-/v2
 * path: /oauth2/token, /oauth2/exchange, /acr/v1/..., passes through
 * unjudged, px_route.h) to the upstream unchanged.  A realm on another
 * origin (Docker Hub's auth.docker.io, a separate token server) is left
 * alone: customs does not relay credentials to third parties.
 *
 * Thread: loop thread (px_authrealm_apply), or any (px_authrealm_rewrite:
 * pure).  Ownership: the rewritten value is written to the caller's buffer.
 * Errors: a challenge that cannot be rewritten safely is left unchanged. */
#ifndef CUSTOMS_PX_AUTHREALM_H
#define CUSTOMS_PX_AUTHREALM_H
#include <stddef.h>

struct px_xchg;

#define PX_AUTHREALM_MAX_BYTES 4096 /* a WWW-Authenticate value rewritten; longer ones pass as they are */

/* The challenge with its Bearer realm moved from up_origin to base
 * ("scheme://host[:port]", no trailing slash): 1 and out set when
 * rewritten, 0 when there is nothing to rewrite (not Bearer, no realm,
 * another origin), -1 when it cannot be done safely (too long, a quote or
 * backslash in the realm). */
int px_authrealm_rewrite(const char *challenge, const char *up_origin, const char *base, char *out, size_t cap);

/* Whether s is a host[:port] fit for a URL in a quoted header parameter
 * (letters, digits, '.', '-', '_', ':', '[', ']'). */
int px_authrealm_host_ok(const char *s);

/* On an upstream answer's head (px_xchg.c): with upstream.proxy_auth, each
 * WWW-Authenticate of a 401 is rewritten. */
void px_authrealm_apply(struct px_xchg *x);
#endif
