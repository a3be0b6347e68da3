/* scan_creds.c - credentials of `customs scan docker://HOST/...`.
 *
 * In order: --username with --password-file (first line); else the entry
 * for HOST in --authfile, or in $REGISTRY_AUTH_FILE when no --authfile was
 * given; else none (anonymous tokens).  containers-auth.json(5), which
 * skopeo and podman write, and docker's config.json share the format:
 *   {"auths": {"HOST[:PORT]": {"auth": "base64(user:password)"}}}
 * (keys may also carry a scheme or a path, as `docker login` once wrote
 * them: "https://HOST/v1/").  Credential helpers (credsStore) are not run.
 *
 * Secrets: the decoded value is wiped after use; messages name the file and
 * the host, never a credential.
 * Ownership: the caller's buffers.  Thread: the command's.
 * Errors: -1 with a message on stderr. */
#include "scan_target.h"
#include "sc_file.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTHFILE_MAX_BYTES (1u << 20) /* an auth.json larger than this is refused */
#define AUTH_VALUE_MAX_BYTES 4096     /* one base64 "auth" value */

/* Whether an "auths" key names host: "HOST", "https://HOST", "HOST/path". */
static int key_is_host(const char *key, const char *host) {
  if (!strncasecmp(key, "https://", 8)) key += 8;
  else if (!strncasecmp(key, "http://", 7)) key += 7;
  size_t hl = strlen(host);
  return !strncasecmp(key, host, hl) && (key[hl] == 0 || key[hl] == '/');
}

/* base64(user:password) into user and pass; -1 when not that shape. */
static int decode_auth(const char *b64, char *user, size_t ucap, char *pass, size_t pcap) {
  unsigned char raw[AUTH_VALUE_MAX_BYTES];
  size_t n = strlen(b64);
  if (n == 0 || n % 4 || n > sizeof(raw) / 3 * 4) return -1;
  int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
  if (len < 0) return -1;
  len -= (b64[n - 1] == '=') + (b64[n - 2] == '='); /* EVP_DecodeBlock counts the padding */
  raw[len] = 0;
  char *colon = memchr(raw, ':', (size_t)len);
  int rv = -1;
  if (colon && memchr(raw, 0, (size_t)len) == NULL && (size_t)(colon - (char *)raw) < ucap &&
      strlen(colon + 1) < pcap && colon != (char *)raw) {
    *colon = 0;
    snprintf(user, ucap, "%s", (char *)raw);
    snprintf(pass, pcap, "%s", colon + 1);
    rv = 0;
  }
  explicit_bzero(raw, sizeof(raw));
  return rv;
}

static int from_authfile(const char *file, const char *host, char *user, size_t ucap, char *pass, size_t pcap) {
  char *text = NULL;
  size_t len = 0;
  if (sc_read_file(file, AUTHFILE_MAX_BYTES, &text, &len) != 0) {
    fprintf(stderr, "customs scan: cannot read the auth file %s\n", file);
    return -1;
  }
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
  explicit_bzero(text, len);
  free(text);
  json_t *auths = json_object_get(j, "auths");
  if (!json_is_object(auths)) {
    fprintf(stderr, "customs scan: %s: not an auth file (no \"auths\" object)\n", file);
    json_decref(j);
    return -1;
  }
  const char *key;
  json_t *v;
  int rv = 1; /* no entry: anonymous */
  json_object_foreach(auths, key, v) {
    const char *a = json_string_value(json_object_get(v, "auth"));
    if (!key_is_host(key, host) || !a) continue;
    rv = decode_auth(a, user, ucap, pass, pcap);
    if (rv) fprintf(stderr, "customs scan: %s: the entry for %s is not base64(user:password)\n", file, host);
    break;
  }
  json_decref(j);
  return rv;
}

int scan_creds_for(const scan_job *j, const char *host, char *user, size_t ucap, char *pass, size_t pcap) {
  user[0] = pass[0] = 0;
  if (j->reg_username) {
    if (strlen(j->reg_username) >= ucap || sc_read_secret(j->reg_password_file, pass, pcap) != 0) {
      fprintf(stderr, "customs scan: --username needs --password-file with a password on its first line\n");
      return -1;
    }
    snprintf(user, ucap, "%s", j->reg_username);
    return 0;
  }
  const char *file = j->reg_authfile ? j->reg_authfile : getenv("REGISTRY_AUTH_FILE");
  if (!file || !*file) return 0;
  int rv = from_authfile(file, host, user, ucap, pass, pcap);
  if (rv > 0) user[0] = pass[0] = 0;
  return rv < 0 ? -1 : 0;
}
