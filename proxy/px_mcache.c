/* px_mcache.c - manifests by digest (see px_mcache.h).  Loop thread only. */
#include "px_mcache.h"
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 1024

typedef struct entry {
  unsigned char key[32]; /* SHA-256 of repo NUL digest NUL auth */
  char *ctype, *body;
  size_t len;
  time_t expires;
  int used;
} entry;

static entry slots[SLOTS];
static size_t total;

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

static void drop(entry *e) {
  if (!e->used) return;
  total -= e->len;
  free(e->ctype);
  free(e->body);
  memset(e, 0, sizeof(*e));
}

int px_mcache_get(const char *repo, const char *digest, const char *auth, px_mcache_hit *hit) {
  unsigned char key[32];
  make_key(repo, digest, auth, key);
  entry *e = &slots[(key[0] | key[1] << 8) % SLOTS];
  if (!e->used || memcmp(e->key, key, 32) != 0) return 0;
  if (time(NULL) >= e->expires) {
    drop(e);
    return 0;
  }
  hit->content_type = e->ctype;
  hit->body = e->body;
  hit->len = e->len;
  return 1;
}

void px_mcache_put(const char *repo, const char *digest, const char *auth, const char *content_type,
                   const void *body, size_t len) {
  unsigned char key[32];
  if (len > PX_MCACHE_MAX_ENTRY) return;
  make_key(repo, digest, auth, key);
  entry *e = &slots[(key[0] | key[1] << 8) % SLOTS];
  drop(e); /* one entry per slot: the newest wins */
  if (total + len > PX_MCACHE_MAX_BYTES) return;
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
  total += len;
}

void px_mcache_clear(void) {
  for (size_t i = 0; i < SLOTS; i++) drop(&slots[i]);
}
