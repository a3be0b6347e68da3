/* px_sync_walk.c - one round of the background sync (px_sync.h): the
 * catalog, each repository's tags, each tag's manifest; what the store
 * knows whole is counted and its tag recorded, the rest is fetched,
 * checked as a pull would be and handed to io->scan (an index's children
 * first).  Pages follow the answer's Link (px_sync_link.c: same origin
 * only), or `last=` when no Link is known and the page is full.  Everything stays within the
 * PX_SYNC_MAX_* limits of px_sync.h; every request takes a token of
 * io->bucket first.
 *
 * Ownership: JSON documents and answers are freed here.  Thread: the sync
 * thread (or a unit test).  Errors: logged per image (once per reason,
 * io->failed_*) and counted; px_sync_round fails only when the first page
 * of the catalog cannot be read. */
#include "px_log.h"
#include "sc_err.h" /* sc_errf */
#include "px_route.h" /* px_valid_repo, px_valid_tag */
#include "px_sync_int.h"
#include "sc_hash.h"
#include "sc_image.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_URL_MAX 2048      /* a request URL, a Link target */
#define SYNC_REPO_MAX 256      /* bytes of a repository name, NUL included (as a scan job's) */
#define SYNC_TAG_MAX 129       /* 128 characters, as the distribution spec */
#define SYNC_ERR_MAX 256       /* one failure's reason */
#define SYNC_ACCEPT SC_MT_OCI_INDEX ", " SC_MT_DOCKER_LIST ", " SC_MT_OCI_MANIFEST ", " SC_MT_DOCKER_MANIFEST

/* The referrers tag schema of the OCI distribution spec: "sha256-<64 hex>". */
static int referrers_tag(const char *tag) {
  if (strncmp(tag, "sha256-", 7) != 0 || strlen(tag) != 7 + 64) return 0;
  for (const char *p = tag + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}

/* ---- a round ---- */

typedef struct sync_round {
  sc_store *st;
  sync_io *io;
  px_sync_stats *s;
  size_t scans;           /* io->scan calls this round (PX_SYNC_MAX_SCANS) */
} sync_round;

/* Whether the round stops here (shutdown, or a limit reached before). */
static int stopping(sync_round *r) {
  if (!r->s->stopped && r->io->abort_flag && __atomic_load_n(r->io->abort_flag, __ATOMIC_SEQ_CST)) r->s->stopped = 1;
  return r->s->stopped;
}

/* A token for the next request: 0, or -1 when the round stops (shutdown). */
static int take(sync_round *r) {
  if (stopping(r) || px_sync_bucket_take(r->io->bucket) != 0 || stopping(r)) {
    r->s->stopped = 1;
    return -1;
  }
  r->s->requests++;
  return 0;
}

static size_t memory_slot(uint64_t key) { return (size_t)(key % PX_SYNC_FAILED_MEMORY); }

static uint64_t image_key(const char *repo, const char *ref) {
  char k[SYNC_REPO_MAX + SYNC_URL_MAX];
  snprintf(k, sizeof(k), "%s@%s", repo, ref);
  uint64_t h = sc_fnv1a_str(k);
  return h ? h : 1; /* 0 marks a free slot */
}

/* Logs a failure of repo@ref once per reason (a registry that stays broken
 * is not logged every round); counts it as a failed image when `image`. */
static void failure(sync_round *r, const char *repo, const char *ref, const char *why, int image) {
  if (image) r->s->failed++;
  uint64_t k = image_key(repo, ref), w = sc_fnv1a_str(why);
  size_t i = memory_slot(k);
  if (r->io->failed_key[i] == k && r->io->failed_why[i] == w) {
    px_debug("sync %s@%s: %s (again)", repo, ref, why);
    return;
  }
  r->io->failed_key[i] = k;
  r->io->failed_why[i] = w;
  px_warn("sync %s@%s: %s", repo, ref, why);
}

static void success(sync_round *r, const char *repo, const char *ref) {
  uint64_t k = image_key(repo, ref);
  size_t i = memory_slot(k);
  if (r->io->failed_key[i] == k) r->io->failed_key[i] = r->io->failed_why[i] = 0;
}

/* 1 when the store has digest whole (every layer recorded; an index: every
 * child looked at stored whole), 0 when not, -1 on a database error. */
static int stored_whole(sc_store *st, const char *digest, int depth) {
  sc_store_image img;
  int rc = sc_store_get_image(st, digest, &img), whole = 1;
  if (rc != 0) {
    sc_store_image_free(&img);
    return rc == SC_ERR_NOTFOUND ? 0 : -1;
  }
  for (size_t i = 0; i < img.nlayers && whole; i++)
    if (!strcmp(img.layers[i].status, "missing")) whole = 0;
  for (size_t i = 0; depth == 0 && whole == 1 && i < img.nchildren && i < PX_SYNC_MAX_CHILDREN; i++)
    whole = stored_whole(st, img.children[i], 1);
  sc_store_image_free(&img);
  return whole;
}

/* GET repo's manifest ref (a tag or a digest) into rs: status 200, at most
 * SC_MANIFEST_MAX_BYTES, its SHA-256 (into digest) equal to want (a digest
 * reference) or to Docker-Content-Digest, and read by Go clients as by us
 * (sc_manifest_check, as a pull is).  0, or -1 with err (rs freed). */
static int get_manifest(sync_round *r, const char *repo, const char *ref, const char *want, net_http_resp *rs,
                        char digest[72], char *err, size_t errlen) {
  char url[SYNC_URL_MAX], scope[SYNC_REPO_MAX + 32], link[8], why[300] = "";
  memset(rs, 0, sizeof(*rs));
  if (take(r)) return sc_errf(err, errlen, "stopped");
  snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->io->origin, repo, ref);
  snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
  net_http_req rq = {.url = url, .accept = SYNC_ACCEPT, .scope = scope, .fd = -1,
                     .max_bytes = SC_MANIFEST_MAX_BYTES, .abort_flag = r->io->abort_flag};
  int rc = r->io->get(r->io->arg, &rq, rs, link, sizeof(link));
  if (rc == SC_ERR_LIMIT) sc_errf(err, errlen, "manifest larger than %u bytes", (unsigned)SC_MANIFEST_MAX_BYTES);
  else if (rc) sc_errf(err, errlen, "%s", rs->error[0] ? rs->error : customs_strerror(rc));
  else if (rs->status != 200) sc_errf(err, errlen, "GET manifest: HTTP %ld", rs->status);
  else if (!rs->body || sc_digest_sha256(rs->body, rs->len, digest) != 0) sc_errf(err, errlen, "GET manifest: no body");
  else if (want && strcmp(want, digest)) sc_errf(err, errlen, "the body is %s, not %s", digest, want);
  else if (rs->docker_digest[0] && !strncmp(rs->docker_digest, "sha256:", 7) && strcmp(rs->docker_digest, digest))
    sc_errf(err, errlen, "the body is %s, not %s (Docker-Content-Digest)", digest, rs->docker_digest);
  else if (sc_manifest_check(rs->body, rs->len, rs->content_type[0] ? rs->content_type : NULL, why, sizeof(why)))
    sc_errf(err, errlen, "manifest refused: %s", why[0] ? why : "not one customs can judge");
  else return 0;
  net_http_resp_free(rs);
  return -1;
}

/* Hands repo@digest to io->scan (within PX_SYNC_MAX_SCANS) and counts. */
static void scan_one(sync_round *r, const char *repo, const char *tag, const char *digest, const net_http_resp *rs) {
  char err[SYNC_ERR_MAX] = "";
  if (r->scans >= PX_SYNC_MAX_SCANS) {
    if (!r->s->stopped) px_info("sync: %d images scanned this round: the rest wait for the next", PX_SYNC_MAX_SCANS);
    r->s->stopped = 1;
    return;
  }
  r->scans++;
  int rc = r->io->scan(r->io->arg, repo, tag, digest, rs->content_type, rs->body, rs->len, err, sizeof(err));
  if (rc != 0 && stopping(r)) return; /* cut short by shutdown: not the image's fault */
  if (rc != 0) {
    failure(r, repo, digest, err[0] ? err : customs_strerror(rc), 1);
    return;
  }
  r->s->scanned++;
  success(r, repo, digest);
}

/* One child of an index: known whole, or fetched by digest and scanned. */
static void sync_child(sync_round *r, const char *repo, const char *digest) {
  net_http_resp rs;
  char got[72], err[SYNC_ERR_MAX];
  r->s->images++;
  int whole = stored_whole(r->st, digest, 1);
  if (whole > 0) {
    r->s->known++;
    return;
  }
  if (whole < 0) {
    failure(r, repo, digest, "database error", 1);
    return;
  }
  if (get_manifest(r, repo, digest, digest, &rs, got, err, sizeof(err))) {
    if (!stopping(r)) failure(r, repo, digest, err, 1);
    return;
  }
  scan_one(r, repo, NULL, got, &rs);
  net_http_resp_free(&rs);
}

/* The digest repo:tag resolves to, by HEAD (no body), into digest; "" when
 * the answer does not say.  1 when the tag is gone (404). */
static int head_tag(sync_round *r, const char *repo, const char *tag, char digest[72]) {
  char url[SYNC_URL_MAX], scope[SYNC_REPO_MAX + 32];
  net_http_resp rs;
  digest[0] = 0;
  if (take(r)) return 0;
  snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->io->origin, repo, tag);
  snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
  memset(&rs, 0, sizeof(rs));
  int rc = r->io->head(r->io->arg, url, SYNC_ACCEPT, scope, &rs);
  int gone = rc == 0 && rs.status == 404;
  if (rc == 0 && rs.status == 200 && sc_digest_valid(rs.docker_digest, 0) && strlen(rs.docker_digest) < 72)
    snprintf(digest, 72, "%s", rs.docker_digest);
  net_http_resp_free(&rs);
  return gone;
}

/* Records repo:tag -> digest (stored whole) unless the store says so already. */
static void known_tag(sync_round *r, const char *repo, const char *tag, const char *digest) {
  char have[72] = "";
  r->s->known++;
  if (sc_store_resolve(r->st, repo, tag, have) == 0 && !strcmp(have, digest)) return;
  if (r->io->record_tag(r->io->arg, r->st, repo, tag, digest) != 0)
    failure(r, repo, tag, "cannot record the tag", 0);
}

static void sync_tag(sync_round *r, const char *repo, const char *tag) {
  char digest[72], got[72], err[SYNC_ERR_MAX];
  net_http_resp rs;
  sc_manifest m;
  if (head_tag(r, repo, tag, digest) == 1 || stopping(r)) return; /* deleted since the list */
  r->s->images++;
  int whole = digest[0] ? stored_whole(r->st, digest, 0) : 0;
  if (whole > 0 || whole < 0) {
    if (whole > 0) known_tag(r, repo, tag, digest);
    else failure(r, repo, digest, "database error", 1);
    return;
  }
  /* by digest when the HEAD said it: the document it named, even if the tag moves meanwhile */
  if (get_manifest(r, repo, digest[0] ? digest : tag, digest[0] ? digest : NULL, &rs, got, err, sizeof(err))) {
    if (!stopping(r)) failure(r, repo, digest[0] ? digest : tag, err, 1);
    return;
  }
  if (!digest[0] && (whole = stored_whole(r->st, got, 0)) > 0) {
    net_http_resp_free(&rs);
    known_tag(r, repo, tag, got);
    return;
  }
  memset(&m, 0, sizeof(m));
  if (sc_manifest_parse(rs.body, rs.len, rs.content_type[0] ? rs.content_type : NULL, &m) == 0 &&
      m.kind == SC_MANIFEST_INDEX) {
    /* the children first: once the index is stored, its pull is judged through them */
    if (m.nchildren > PX_SYNC_MAX_CHILDREN)
      px_warn("sync %s:%s: index %s has %zu children; only %d are looked at", repo, tag, got, m.nchildren,
              PX_SYNC_MAX_CHILDREN);
    for (size_t i = 0; i < m.nchildren && i < PX_SYNC_MAX_CHILDREN && !stopping(r); i++)
      if (sc_digest_valid(m.children[i].digest, 0)) sync_child(r, repo, m.children[i].digest);
  }
  sc_manifest_free(&m);
  if (!stopping(r)) scan_one(r, repo, tag, got, &rs);
  net_http_resp_free(&rs);
}

/* One page of a list (catalog or tags) at url: its array `key` (a null or
 * missing one is empty) in *root (the caller json_decrefs it), and the next
 * page's URL in next ("" when none).  base is the list's URL without
 * paging, for `last=`: used when the answer has no Link the walk can read
 * and exactly a page of entries (a registry that ignores n answers more, and
 * has given everything); after (SYNC_URL_MAX bytes) gets the entry asked to
 * continue after ("" when the next page follows a Link).  0, or -1 with err. */
static int get_page(sync_round *r, const char *url, const char *base, const char *scope, const char *key,
                    json_t **root, json_t **arr, char *next, size_t nextcap, char *after, char *err,
                    size_t errlen) {
  char link[SYNC_URL_MAX] = "";
  net_http_resp rs;
  json_error_t jerr;
  *root = *arr = NULL;
  next[0] = after[0] = 0;
  if (take(r)) return sc_errf(err, errlen, "stopped");
  memset(&rs, 0, sizeof(rs));
  net_http_req rq = {.url = url, .accept = "application/json", .scope = scope, .fd = -1,
                     .max_bytes = PX_SYNC_LIST_MAX_BYTES, .abort_flag = r->io->abort_flag};
  int rc = r->io->get(r->io->arg, &rq, &rs, link, sizeof(link));
  if (rc || rs.status != 200 || !rs.body) {
    if (rc == SC_ERR_LIMIT) sc_errf(err, errlen, "a list page larger than %u bytes", (unsigned)PX_SYNC_LIST_MAX_BYTES);
    else if (rc) sc_errf(err, errlen, "%s", rs.error[0] ? rs.error : customs_strerror(rc));
    else sc_errf(err, errlen, "GET %s: HTTP %ld", key, rs.status);
    net_http_resp_free(&rs);
    return -1;
  }
  *root = json_loadb(rs.body, rs.len, 0, &jerr);
  net_http_resp_free(&rs);
  json_t *a = *root && json_is_object(*root) ? json_object_get(*root, key) : NULL;
  if (!*root || !json_is_object(*root) || (a && !json_is_array(a) && !json_is_null(a))) {
    json_decref(*root);
    *root = NULL;
    return sc_errf(err, errlen, "GET %s: not the registry's JSON", key);
  }
  *arr = a && json_is_array(a) ? a : NULL;
  size_t n = *arr ? json_array_size(*arr) : 0;
  if (link[0]) {
    if (px_sync_next_url(link, r->io->origin, next, nextcap) != 0 && strstr(link, "next"))
      failure(r, key, url, "the next page's Link is not followed (not on the upstream)", 0);
  } else if (n == PX_SYNC_PAGE_SIZE && json_is_string(json_array_get(*arr, n - 1))) {
    /* no Link known and a full page: ask for what comes after the last one */
    const char *last = json_string_value(json_array_get(*arr, n - 1));
    if (strlen(base) + strlen(last) + 8 < nextcap && strlen(last) < SYNC_URL_MAX &&
        (px_valid_repo(last) || px_valid_tag(last))) {
      snprintf(next, nextcap, "%s&last=%s", base, last);
      snprintf(after, SYNC_URL_MAX, "%s", last);
    }
  }
  if (next[0] && !strcmp(next, url)) next[0] = 0; /* the same page again: a loop */
  return 0;
}

static void sync_repo(sync_round *r, const char *repo) {
  char base[SYNC_URL_MAX], url[SYNC_URL_MAX], next[SYNC_URL_MAX], scope[SYNC_REPO_MAX + 32], err[SYNC_ERR_MAX];
  char after[SYNC_URL_MAX] = "", next_after[SYNC_URL_MAX];
  size_t ntags = 0;
  snprintf(base, sizeof(base), "%s/v2/%s/tags/list?n=%d", r->io->origin, repo, PX_SYNC_PAGE_SIZE);
  snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
  snprintf(url, sizeof(url), "%s", base);
  for (int page = 0; page < PX_SYNC_MAX_PAGES && url[0] && !stopping(r); page++) {
    json_t *root, *arr;
    if (get_page(r, url, base, scope, "tags", &root, &arr, next, sizeof(next), next_after, err, sizeof(err))) {
      if (!stopping(r)) failure(r, repo, "tags", err, 0);
      return;
    }
    for (size_t i = 0; arr && i < json_array_size(arr) && !stopping(r); i++) {
      const char *tag = json_string_value(json_array_get(arr, i));
      if (!tag || strlen(tag) >= SYNC_TAG_MAX || !px_valid_tag(tag)) continue;
      if (referrers_tag(tag)) continue; /* an OCI referrers index (customs' own annotations among them), no image */
      if (after[0] && strcmp(tag, after) <= 0) continue; /* asked for what follows `after`: a repeat */
      if (ntags++ >= PX_SYNC_MAX_TAGS) {
        px_warn("sync %s: more than %d tags: the rest are not looked at", repo, PX_SYNC_MAX_TAGS);
        next[0] = 0;
        break;
      }
      r->s->tags++;
      sync_tag(r, repo, tag);
    }
    json_decref(root);
    snprintf(url, sizeof(url), "%s", next);
    snprintf(after, sizeof(after), "%s", next_after);
  }
}

int px_sync_round(sc_store *st, sync_io *io, px_sync_stats *stats, char *err, size_t errlen) {
  char base[SYNC_URL_MAX], url[SYNC_URL_MAX], next[SYNC_URL_MAX], after[SYNC_URL_MAX] = "", next_after[SYNC_URL_MAX];
  sync_round r = {.st = st, .io = io, .s = stats};
  memset(stats, 0, sizeof(*stats));
  snprintf(base, sizeof(base), "%s/v2/_catalog?n=%d", io->origin, PX_SYNC_PAGE_SIZE);
  snprintf(url, sizeof(url), "%s", base);
  for (int page = 0; page < PX_SYNC_MAX_PAGES && url[0] && !stopping(&r); page++) {
    json_t *root, *arr;
    if (get_page(&r, url, base, "registry:catalog:*", "repositories", &root, &arr, next, sizeof(next), next_after, err,
                 errlen)) {
      if (page == 0 && !stopping(&r)) return -1;
      if (!stopping(&r)) failure(&r, "_catalog", url, err, 0); /* a later page: what was walked counts */
      return 0;
    }
    for (size_t i = 0; arr && i < json_array_size(arr) && !stopping(&r); i++) {
      const char *repo = json_string_value(json_array_get(arr, i));
      if (!repo || strlen(repo) >= SYNC_REPO_MAX || !px_valid_repo(repo)) continue;
      if (after[0] && strcmp(repo, after) <= 0) continue; /* asked for what follows `after`: a repeat */
      if (stats->repositories >= PX_SYNC_MAX_REPOSITORIES) {
        px_warn("sync: more than %d repositories: the rest wait for the next round", PX_SYNC_MAX_REPOSITORIES);
        stats->stopped = 1;
        break;
      }
      stats->repositories++;
      sync_repo(&r, repo);
    }
    json_decref(root);
    snprintf(url, sizeof(url), "%s", next);
    snprintf(after, sizeof(after), "%s", next_after);
  }
  return 0;
}
