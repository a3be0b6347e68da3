/* px_mcache.c - manifests by digest (see px_mcache.h).  Ownership: ctx->mcache.
 * Thread: loop thread only.  Errors: none (a failed put is a later miss). */
#include "px_mcache.h"
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct entry {
  unsigned char key[32]; /* SHA-256 of repo NUL digest NUL auth */
  char *ctype, *body;
  size_t len;
  time_t expires;
  int used;
} entry;

struct px_mcache {
  entry slots[PX_MCACHE_SLOTS];
  size_t total; /* body bytes held */
};

px_mcache *px_mcache_new(void) { return calloc(1, sizeof(px_mcache)); }

void px_mcache_free(px_mcache *c) {
  if (!c) return;
  px_mcache_clear(c);
  free(c);
}

static void make_key(const char *repo, const char *digest, const char *auth, unsigned char key[32]) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned int n = 32;
  memset(key, 0, 32);
  if (!c) return;
  EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  EVP_DigestUpdate(c, repo, strlen(repo) + 1);
  EVP_DigestUpdate(c, digest, strlen(digest) + 1);
  if (auth) EVP_DigestUpdate(c, auth, strlen(auth));
  EVP_DigestFinal_ex(c, key, &n);
  EVP_MD_CTX_free(c);
}

static void drop(px_mcache *c, entry *e) {
  if (!e->used) return;
  c->total -= e->len;
  free(e->ctype);
  free(e->body);
  memset(e, 0, sizeof(*e));
}

int px_mcache_get(px_mcache *c, const char *repo, const char *digest, const char *auth, px_mcache_hit *hit) {
  unsigned char key[32];
  if (!c) return 0;
  make_key(repo, digest, auth, key);
  entry *e = &c->slots[(key[0] | key[1] << 8) % PX_MCACHE_SLOTS];
  if (!e->used || memcmp(e->key, key, 32) != 0) return 0;
  if (time(NULL) >= e->expires) {
    drop(c, e);
    return 0;
  }
  hit->content_type = e->ctype;
  hit->body = e->body;
  hit->len = e->len;
  return 1;
}

void px_mcache_put(px_mcache *c, const char *repo, const char *digest, const char *auth, const char *content_type,
                   const void *body, size_t len) {
  unsigned char key[32];
  if (!c || len > PX_MCACHE_MAX_ENTRY) return;
  make_key(repo, digest, auth, key);
  entry *e = &c->slots[(key[0] | key[1] << 8) % PX_MCACHE_SLOTS];
  drop(c, e); /* one entry per slot: the newest wins */
  if (c->total + len > PX_MCACHE_MAX_BYTES) return;
  e->body = malloc(len ? len : 1);
  e->ctype = strdup(content_type ? content_type : "application/octet-stream");
  if (!e->body || !e->ctype) {
    free(e->body);
    free(e->ctype);
    memset(e, 0, sizeof(*e));
    return;
  }
  memcpy(e->body, body, len);
  memcpy(e->key, key, 32);
  e->len = len;
  e->expires = time(NULL) + PX_MCACHE_TTL_S;
  e->used = 1;
  c->total += len;
}

void px_mcache_clear(px_mcache *c) {
  if (!c) return;
  for (size_t i = 0; i < PX_MCACHE_SLOTS; i++) drop(c, &c->slots[i]);
}
