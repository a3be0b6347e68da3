/* px_referrers.c - the referrers API answered by customs: the list read on
 * a database thread, the access check sent upstream as a manifest GET or
 * HEAD with the client's headers, the image index or the registry's refusal given
 * back (see px_referrers.h).  Ownership: h->ref, freed by px_referrers_free.
 * Thread: loop thread (the list is read in ref_run, on a database thread).
 * Errors: a store failure is a 503 UNAVAILABLE; nothing fails the exchange. */
#include "px_referrers.h"
#include "px_dbq.h"
#include "px_log.h"
#include "px_upstream.h"
#include "sc_referrers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PX_REFERRERS_CHECK_PATH_BYTES 600 /* "/v2/" + name (255) + "/manifests/" + digest (255) */
#define PX_REFERRERS_CHECK_BODY_MAX_BYTES (256 * 1024) /* manifest bytes of the check kept to reuse its connection */

struct px_referrers {
  char *path;            /* the client's target while the check is upstream, else NULL */
  char filter[PX_REFERRERS_FILTER_MAX_BYTES];
  int filtered;          /* ?artifactType= given: OCI-Filters-Applied */
  char *body;            /* the image index to answer */
  size_t len;
};

/* The list, read on a database thread: everything it needs is copied. */
typedef struct ref_task {
  px_hook *h;            /* loop side: used by ref_done only */
  char repo[256], subject[256], filter[PX_REFERRERS_FILTER_MAX_BYTES];
  int filtered, too_long;
  int rc;
  sc_referrers_index idx;
} ref_task;

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Go's url.QueryUnescape of n bytes into out (cap bytes): 0, -1 bad escape, -2 too long. */
static int query_unescape(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n) return -1;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      c = (char)(hi << 4 | lo);
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (o + 1 >= cap) return -2;
    out[o++] = c;
  }
  out[o] = 0;
  return 0;
}

int px_referrers_query(const char *target, const char *key, char *out, size_t cap) {
  const char *q = target ? strchr(target, '?') : NULL;
  char k[64];
  if (!cap) return 0;
  out[0] = 0;
  if (!q) return 0;
  for (const char *p = q + 1; *p;) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t kl = eq ? (size_t)(eq - p) : len;
    /* Go (1.17+) skips a pair with ';' and a pair that does not unescape */
    if (len && !memchr(p, ';', len) && query_unescape(p, kl, k, sizeof(k)) == 0 && !strcmp(k, key)) {
      int rc = eq ? query_unescape(eq + 1, len - kl - 1, out, cap) : (out[0] = 0, 0);
      if (rc == 0) return 1;
      if (rc == -2) {
        out[0] = 0;
        return -1;
      }
    }
    if (!end) break;
    p = end + 1;
  }
  out[0] = 0;
  return 0;
}

static void ref_run(struct sc_store *st, void *arg) {
  ref_task *t = arg;
  if (!st) {
    t->rc = SC_ERR_DB;
    return;
  }
  if (t->too_long) return; /* no media type is that long: nothing matches */
  t->rc = sc_referrers_render(st, t->repo, t->subject, t->filtered ? t->filter : NULL, &t->idx);
}

static void ref_free(void *arg) {
  ref_task *t = arg;
  free(t->idx.json);
  free(t);
}

/* The client's target back in the exchange. */
static void restore(px_xchg *x, struct px_referrers *r) {
  if (!r->path) return;
  free(x->path);
  x->path = r->path;
  r->path = NULL;
}

/* Conditional and partial fields: the check wants a plain answer. */
static const char *const drop_fields[] = {"if-none-match", "if-modified-since", "if-match", "if-unmodified-since",
                                          "if-range", "range", NULL};
static const char *const manifest_types =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

static void ref_done(void *arg) {
  ref_task *t = arg;
  px_hook *h = t->h;
  px_xchg *x = h->x;
  struct px_referrers *r = h->ref;
  char path[PX_REFERRERS_CHECK_PATH_BYTES];
  h->task = NULL;
  if (t->rc != 0) {
    px_warn("req=%llu referrers %s@%s: the store failed (%d)", (unsigned long long)x->id, t->repo, t->subject, t->rc);
    px_hook_set_state(h, PX_HK_DONE);
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs cannot read its referrers list; retry");
    return;
  }
  if (t->idx.json) {
    r->body = t->idx.json;
    r->len = t->idx.len;
    t->idx.json = NULL;
  }
  /* the first listed referrer, else the subject: both in this repository */
  const char *check = t->idx.n ? t->idx.first : t->subject;
  int n = snprintf(path, sizeof(path), "/v2/%s/manifests/%s", x->route.repo, check);
  char *p = n > 0 && (size_t)n < sizeof(path) ? strdup(path) : NULL;
  if (!p) {
    px_hook_set_state(h, PX_HK_DONE);
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is out of memory");
    return;
  }
  (void)px_xchg_logpath(x); /* the access log names the client's target */
  r->path = x->path;
  x->path = p;
  for (size_t i = 0; drop_fields[i]; i++) px_headers_del(&x->req, drop_fields[i]);
  /* an OCI manifest is a 404 to a registry 2.8 client that does not accept it */
  px_headers_add(&x->req, "accept", 6, manifest_types, strlen(manifest_types));
  px_debug("req=%llu referrers %s@%s: %zu listed, access checked on %s", (unsigned long long)x->id, t->repo,
           t->subject, t->idx.n, check);
  px_xchg_proceed(x);
}

px_req_rc px_referrers_request(px_xchg *x, px_hook *h) {
  ref_task *t = calloc(1, sizeof(*t));
  if (!t || !(h->ref = calloc(1, sizeof(*h->ref)))) {
    free(t);
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs is out of memory");
    return PX_REQ_ANSWERED;
  }
  t->h = h;
  snprintf(t->repo, sizeof(t->repo), "%s", x->route.repo);
  snprintf(t->subject, sizeof(t->subject), "%s", x->route.ref);
  int q = px_referrers_query(x->path, "artifactType", t->filter, sizeof(t->filter));
  /* an empty value filters nothing, as absent (Go: Get returns "") */
  t->filtered = (q == 1 && t->filter[0]) || q == -1;
  t->too_long = q == -1;
  h->ref->filtered = t->filtered;
  px_hook_set_state(h, PX_HK_REFERRERS);
  if (!(h->task = px_dbq_submit(x->ctx, ref_run, ref_done, ref_free, t))) {
    ref_free(t);
    px_hook_set_state(h, PX_HK_DONE);
    px_xchg_respond_error(x, 503, "UNAVAILABLE", "customs cannot read its referrers list; retry");
    return PX_REQ_ANSWERED;
  }
  return PX_REQ_WAIT;
}

void px_referrers_sent(px_xchg *x, px_hook *h) {
  if (h->ref) restore(x, h->ref);
}

/* The image index (or the empty one after a 404). */
static void answer(px_xchg *x, px_hook *h, int status) {
  struct px_referrers *r = h->ref;
  const char *body = status == 404 || !r->body ? SC_REFERRERS_EMPTY_INDEX : r->body;
  px_headers hd;
  px_headers_init(&hd);
  px_hook_set_state(h, PX_HK_DONE);
  x->held = 0;
  x->resp_limit = 0;
  px_headers_set(&hd, "content-type", SC_MT_OCI_INDEX);
  if (r->filtered) px_headers_set(&hd, "oci-filters-applied", "artifactType");
  px_xchg_respond_local(x, 200, &hd, body, strlen(body));
}

px_hook_rc px_referrers_head(px_xchg *x, px_hook *h) {
  int status = x->resp_status;
  restore(x, h->ref);
  if ((status < 200 || status >= 300) && status != 404) {
    /* 401 (with the registry's WWW-Authenticate: the client fetches a
     * token and asks again), 403, 5xx: the registry's answer as it is */
    px_info("req=%llu referrers %s@%s: the registry answered %d to the access check", (unsigned long long)x->id,
            x->route.repo, x->route.ref, status);
    px_hook_set_state(h, PX_HK_DONE);
    return PX_HOOK_PASS;
  }
  /* the manifest's bytes (GET) are not the answer: kept until complete so
   * the connection can serve again, or the connection is let go */
  if (!x->resp_has_body) return PX_HOOK_HOLD;
  if (x->resp_cl >= 0 && x->resp_cl <= PX_REFERRERS_CHECK_BODY_MAX_BYTES) {
    x->resp_limit = PX_REFERRERS_CHECK_BODY_MAX_BYTES + 1;
    return PX_HOOK_HOLD;
  }
  px_upstream_detach(x, 0);
  answer(x, h, status);
  return PX_HOOK_ANSWERED;
}

px_hook_rc px_referrers_done(px_xchg *x, px_hook *h) {
  if (h->state != PX_HK_REFERRERS || !x->held) return PX_HOOK_PASS; /* passed or answered already */
  answer(x, h, x->resp_status);
  return PX_HOOK_ANSWERED;
}

void px_referrers_free(px_xchg *x, px_hook *h) {
  if (!h->ref) return;
  restore(x, h->ref);
  free(h->ref->body);
  free(h->ref);
  h->ref = NULL;
}

/* ---- a referrer deleted through customs ---- */

typedef struct forget_task {
  char repo[256], digest[160];
} forget_task;

static void forget_run(struct sc_store *st, void *arg) {
  forget_task *t = arg;
  if (st && sc_store_forget_referrer(st, t->repo, t->digest) != 0)
    px_warn("referrers %s@%s: cannot forget the deleted referrer: %s", t->repo, t->digest, sc_store_errmsg(st));
}

void px_referrers_deleted(px_ctx *ctx, const char *repo, const char *digest) {
  forget_task *t = calloc(1, sizeof(*t));
  if (!t || strlen(repo) >= sizeof(t->repo) || strlen(digest) >= sizeof(t->digest)) {
    free(t);
    return;
  }
  memcpy(t->repo, repo, strlen(repo) + 1);
  memcpy(t->digest, digest, strlen(digest) + 1);
  if (!px_dbq_submit(ctx, forget_run, NULL, free, t)) free(t);
}
