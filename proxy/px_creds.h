/* px_creds.h - customs' own identity at the upstream registry.
 *
 * Customs fetches and pushes on its own behalf: scan-on-pull of an image it
 * never saw (px_fetch.c), the background sync (px_sync.c), its SBOM and
 * report referrers (px_annotate.c).  With upstream.username set, those
 * requests carry customs' own credentials through the registry token flow
 * (net/net_http.h: challenge, token in the configured grant, cached per
 * scope until it expires); a client's Authorization is only ever replayed
 * for the client's own pull, as a fallback when customs' identity is
 * refused.  Nothing customs fetches with its own identity is served to a
 * client: it only feeds verdicts.
 *
 * Secrets: the password is read from upstream.password_file (first line) or
 * upstream.password when a client is made, copied into the net_http, and
 * wiped here; no message of this module names it.
 * Ownership: px_creds is a caller's stack value; wipe it with
 * px_creds_wipe.  Thread: any (reads the config and a file).
 * Errors: -1 with a one-line reason in err that names the key or the file,
 * never the secret. */
#ifndef CUSTOMS_PX_CREDS_H
#define CUSTOMS_PX_CREDS_H
#include <stddef.h>
#include "net_http.h"
#include "px_config.h"

#include "sc_file.h"
#define PX_CREDS_SECRET_MAX_BYTES SC_SECRET_MAX_BYTES /* a password or refresh token (first line of its file) */

typedef struct px_creds {
  char username[256];
  char password[PX_CREDS_SECRET_MAX_BYTES];
  net_http_grant grant;
  int set;                  /* 1: username and password are customs' own identity */
} px_creds;

/* upstream.token_grant's name -> grant; -1 for an unknown name. */
int px_creds_grant(const char *name, net_http_grant *out);

/* Checks the upstream.* identity keys at startup (grant name, a password
 * for the username, the file readable, proxy_auth_url an http(s) URL).
 * 0 or -1 with err. */
int px_creds_check(const px_config *c, char *err, size_t errlen);

/* Customs' own identity for the upstream: out->set = 0 when no username is
 * configured (not an error).  0 or -1 with err. */
int px_creds_load(const px_config *c, px_creds *out, char *err, size_t errlen);

/* Sets o's username, password and grant from cr (when set); o points into
 * cr, so make the net_http before px_creds_wipe. */
void px_creds_apply(const px_creds *cr, net_http_opts *o);
void px_creds_wipe(px_creds *cr);
#endif
