/* px_coalesce.c - request collapsing for manifest GETs by tag (see
 * px_coalesce.h).  Entries in flight are few (one per tag being fetched
 * right now), so they are a list.  Ownership: the px_coalesce owns its
 * entries and their follower arrays, never the followers.  Thread: loop.
 * Errors: allocation failures make a request not coalesce. */
#include "px_coalesce.h"
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_BYTES 32

typedef struct entry {
  struct entry *next;
  unsigned char key[KEY_BYTES];
  void *leader;              /* NULL once done */
  void **followers;          /* NULL slots: followers that left */
  size_t n, cap;
  char digest[160];          /* the leader's outcome ("" = none) */
  struct event *ev;          /* resumes the followers once done */
  px_coalesce *c;
} entry;

struct px_coalesce {
  struct event_base *base;
  px_coalesce_resume_fn resume;
  entry *open;      /* leaders in flight */
  entry *resuming;  /* done, followers not yet resumed */
};

px_coalesce *px_coalesce_new(struct event_base *base, px_coalesce_resume_fn resume) {
  px_coalesce *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->base = base;
  c->resume = resume;
  return c;
}

static void entry_free(entry *e) {
  if (e->ev) event_free(e->ev);
  free(e->followers);
  free(e);
}

void px_coalesce_free(px_coalesce *c) {
  if (!c) return;
  for (int pass = 0; pass < 2; pass++) {
    entry **l = pass ? &c->resuming : &c->open;
    while (*l) {
      entry *e = *l;
      *l = e->next;
      entry_free(e);
    }
  }
  free(c);
}

/* SHA-256 over the fields, each followed by a NUL: no field can run into
 * the next one. */
static int make_key(unsigned char out[KEY_BYTES], const char *const *f, size_t n) {
  EVP_MD_CTX *h = EVP_MD_CTX_new();
  unsigned int len = 0;
  int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL);
  for (size_t i = 0; ok && i < n; i++) {
    const char *s = f[i] ? f[i] : "";
    ok = EVP_DigestUpdate(h, s, strlen(s) + 1);
  }
  ok = ok && EVP_DigestFinal_ex(h, out, &len) && len == KEY_BYTES;
  EVP_MD_CTX_free(h);
  return ok ? 0 : -1;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg) {
  entry *e = arg;
  px_coalesce *c = e->c;
  (void)fd;
  (void)what;
  for (entry **l = &c->resuming; *l; l = &(*l)->next)
    if (*l == e) {
      *l = e->next;
      break;
    }
  /* a follower resumed here may leave (be freed) while later ones wait:
   * its slot is cleared by px_coalesce_leave, which searches nothing but
   * the lists, so e is out of them first and each slot is read once */
  for (size_t i = 0; i < e->n; i++) {
    void *f = e->followers[i];
    if (!f) continue;
    e->followers[i] = NULL;
    c->resume(f, e->digest[0] ? e->digest : NULL);
  }
  entry_free(e);
}

int px_coalesce_join(px_coalesce *c, const char *repo, const char *tag, const char *accept, const char *auth,
                     void *self) {
  const char *f[] = {repo, tag, accept, auth};
  unsigned char key[KEY_BYTES];
  if (!c || make_key(key, f, 4) != 0) return -1;
  for (entry *e = c->open; e; e = e->next) {
    if (memcmp(e->key, key, KEY_BYTES) != 0) continue;
    if (e->n == e->cap) {
      size_t cap = e->cap ? 2 * e->cap : 8;
      if (cap > PX_COALESCE_MAX_FOLLOWERS) return -1;
      void **nf = realloc(e->followers, cap * sizeof(*nf));
      if (!nf) return -1;
      e->followers = nf;
      e->cap = cap;
    }
    e->followers[e->n++] = self;
    return 1;
  }
  entry *e = calloc(1, sizeof(*e));
  if (!e) return -1;
  e->ev = event_new(c->base, -1, 0, resume_cb, e);
  if (!e->ev) {
    free(e);
    return -1;
  }
  memcpy(e->key, key, KEY_BYTES);
  e->leader = self;
  e->c = c;
  e->next = c->open;
  c->open = e;
  return 0;
}

void px_coalesce_done(px_coalesce *c, void *leader, const char *digest) {
  if (!c || !leader) return;
  for (entry **l = &c->open; *l; l = &(*l)->next) {
    entry *e = *l;
    if (e->leader != leader) continue;
    *l = e->next;
    e->leader = NULL;
    snprintf(e->digest, sizeof(e->digest), "%s", digest && strlen(digest) < sizeof(e->digest) ? digest : "");
    if (e->n == 0) { /* nobody waits */
      entry_free(e);
      return;
    }
    e->next = c->resuming;
    c->resuming = e;
    event_active(e->ev, 0, 0);
    return;
  }
}

void px_coalesce_leave(px_coalesce *c, void *self) {
  if (!c || !self) return;
  for (entry *e = c->open; e; e = e->next)
    if (e->leader == self) {
      px_coalesce_done(c, self, NULL);
      return;
    }
  for (int pass = 0; pass < 2; pass++)
    for (entry *e = pass ? c->resuming : c->open; e; e = e->next)
      for (size_t i = 0; i < e->n; i++)
        if (e->followers[i] == self) {
          e->followers[i] = NULL;
          return;
        }
}

size_t px_coalesce_keys(const px_coalesce *c) {
  size_t n = 0;
  for (const entry *e = c ? c->open : NULL; e; e = e->next) n++;
  return n;
}

size_t px_coalesce_waiting(const px_coalesce *c) {
  size_t n = 0;
  for (int pass = 0; c && pass < 2; pass++)
    for (const entry *e = pass ? c->resuming : c->open; e; e = e->next)
      for (size_t i = 0; i < e->n; i++) n += e->followers[i] != NULL;
  return n;
}
