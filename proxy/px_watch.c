/* px_watch.c - watched upstream base tags (see px_watch.h): the entry
 * parser, one check of an entry (resolve, record the chains, record the
 * check), what a move triggers (the new base's layers scanned by
 * px_watchscan.c, then the event and the gate cache), and the thread that
 * runs the checks every interval.  Its state is ctx->watch.
 *
 * Fetching goes through a small watch_io (px_watch_int.h, a GET function)
 * so that the unit test drives the checks with a fake registry; the
 * thread's is net_http_registry_get. */
#include "px_watch.h"
#include "net_http.h"
#include "px_watch_int.h"
#include "px_config.h"
#include "px_lineage.h"
#include "sc_file.h"
#include "px_log.h"
#include "px_replica.h"
#include "sc_store_replica.h"
#include "sc_err.h" /* sc_errf */
#include "sc_config.h"
#include "sc_image.h"
#include "sc_lineage.h"
#include "sc_store.h"
#include "sc_store_lineage.h"
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCH_ERR_MAX 256          /* one check's error, as recorded */
#define PX_WATCH_LEASE_SLACK_S 60  /* a round's lease outlives the interval by this */
#define WATCH_PASSWORD_MAX 1024    /* first line of lineage.password_file */
#define WATCH_DOCKER_HUB_API "registry-1.docker.io"
#define WATCH_ACCEPT                                                                                 \
  SC_MT_OCI_INDEX ", " SC_MT_DOCKER_LIST ", " SC_MT_OCI_MANIFEST ", " SC_MT_DOCKER_MANIFEST

struct px_watch {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;                  /* atomic; set by px_watch_stop, also the abort flag of requests */
  size_t n;
  px_watch_ref *refs;        /* cfg->watch, parsed */
  char (*last_err)[WATCH_ERR_MAX]; /* per entry: the last error logged ("" = working), so a
                                      registry that stays down is logged once, not every interval */
  char password[WATCH_PASSWORD_MAX]; /* handed to net_http_new on the thread, then wiped */
};

/* ---- the entry parser ---- */

/* Distribution spec path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int path_ok(const char *p) {
  if (!*p) return 0;
  for (const char *c = p; *c;) {
    if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c))) return 0;
    while (islower((unsigned char)*c) || isdigit((unsigned char)*c)) c++;
    if (!*c) break;
    if (*c == '/') {
      c++;
      if (!*c) return 0;
      continue;
    }
    /* a separator: ".", "_", "__" or "-"+, then alphanumerics */
    if (*c == '.') c++;
    else if (*c == '_') c += c[1] == '_' ? 2 : 1;
    else if (*c == '-') while (*c == '-') c++;
    else return 0;
    if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c))) return 0;
  }
  return 1;
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static int tag_ok(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n >= PX_WATCH_TAG_MAX || t[0] == '.' || t[0] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-')) return 0;
  return 1;
}

/* host, host:port, [v6]:port; letters, digits, '.', '-' */
static int host_ok(const char *h) {
  const char *port = NULL;
  if (h[0] == '[') {
    const char *e = strchr(h, ']');
    if (!e || e == h + 1) return 0;
    for (const char *c = h + 1; c < e; c++)
      if (!(isxdigit((unsigned char)*c) || *c == ':' || *c == '.')) return 0;
    if (e[1] && e[1] != ':') return 0;
    port = e[1] ? e + 2 : NULL;
  } else {
    const char *c = h;
    for (; *c && *c != ':'; c++)
      if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '-')) return 0;
    if (c == h) return 0;
    port = *c ? c + 1 : NULL;
  }
  if (port) {
    char *end;
    errno = 0;
    long v = strtol(port, &end, 10);
    if (errno || end == port || *end || v < 1 || v > 65535 || !isdigit((unsigned char)*port)) return 0;
  }
  return 1;
}

#define FAIL(...) return sc_errf(err, errlen, __VA_ARGS__), -1

int px_watch_parse_ref(const char *entry, px_watch_ref *out, char *err, size_t errlen) {
  const char *s = entry, *scheme = "https";
  char name[PX_WATCH_HOST_MAX + PX_WATCH_PATH_MAX];
  memset(out, 0, sizeof(*out));
  if (!entry || !*entry) FAIL("empty entry");
  for (const char *c = entry; *c; c++)
    if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c)) FAIL("'%s': contains white space", entry);
  if (!strncmp(s, "http://", 7)) scheme = "http", s += 7;
  else if (!strncmp(s, "https://", 8)) s += 8;
  else if (strstr(s, "://")) FAIL("'%s': only http:// and https:// registries", entry);
  if (strchr(s, '@')) FAIL("'%s': a digest reference cannot move; watch a tag", entry);
  if (strlen(s) >= sizeof(name)) FAIL("'%s': too long", entry);
  /* the registry: the first component when it looks like a host (Docker's rule) */
  const char *slash = strchr(s, '/');
  size_t hl = slash ? (size_t)(slash - s) : 0;
  int explicit_host = slash && (memchr(s, '.', hl) || memchr(s, ':', hl) || memchr(s, '[', hl) ||
                                (hl == 9 && !memcmp(s, "localhost", 9)));
  const char *rest = s;
  if (explicit_host) {
    if (hl >= sizeof(out->host)) FAIL("'%s': registry name too long", entry);
    memcpy(out->host, s, hl);
    out->host[hl] = 0;
    if (!host_ok(out->host)) FAIL("'%s': bad registry '%s'", entry, out->host);
    rest = slash + 1;
  } else {
    if (strcmp(scheme, "https")) FAIL("'%s': http:// needs an explicit registry host", entry);
    snprintf(out->host, sizeof(out->host), "docker.io");
  }
  /* the tag: after the last ':' of the repository part (a ':' before the host's '/' was the port) */
  snprintf(name, sizeof(name), "%s", rest);
  char *colon = strrchr(name, ':');
  if (colon) {
    *colon = 0;
    if (!tag_ok(colon + 1)) FAIL("'%s': bad tag '%s'", entry, colon + 1);
    snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
  } else {
    snprintf(out->tag, sizeof(out->tag), "latest");
  }
  if (!path_ok(name)) FAIL("'%s': bad repository '%s' (lowercase letters, digits, separators . _ __ -)", entry, name);
  int hub = !strcmp(out->host, "docker.io") || !strcmp(out->host, "index.docker.io") ||
            !strcmp(out->host, WATCH_DOCKER_HUB_API);
  if (hub && !strchr(name, '/')) {
    if (snprintf(out->path, sizeof(out->path), "library/%s", name) >= (int)sizeof(out->path))
      FAIL("'%s': repository too long", entry);
  } else if (snprintf(out->path, sizeof(out->path), "%s", name) >= (int)sizeof(out->path)) {
    FAIL("'%s': repository too long", entry);
  }
  if (hub) snprintf(out->host, sizeof(out->host), "docker.io");
  snprintf(out->base_url, sizeof(out->base_url), "%s://%s", scheme, hub ? WATCH_DOCKER_HUB_API : out->host);
  snprintf(out->repo, sizeof(out->repo), "%s/%s", out->host, out->path);
  return 0;
}
#undef FAIL

/* ---- one check ---- */

int px_watch_fetch(const watch_io *io, const px_watch_ref *r, const char *kind, const char *ref, const char *want,
                   uint64_t max, net_http_resp *rs, char digest[72], char *err, size_t errlen) {
  char url[PX_WATCH_HOST_MAX + PX_WATCH_PATH_MAX + 256], scope[PX_WATCH_PATH_MAX + 32];
  snprintf(url, sizeof(url), "%s/v2/%s/%s/%s", r->base_url, r->path, kind, ref);
  snprintf(scope, sizeof(scope), "repository:%s:pull", r->path);
  net_http_req rq = {.url = url, .accept = strcmp(kind, "manifests") ? NULL : WATCH_ACCEPT, .scope = scope,
                     .fd = -1, .max_bytes = max, .abort_flag = io->abort_flag};
  memset(rs, 0, sizeof(*rs));
  int rc = io->get(io->arg, &rq, rs);
  if (rc != 0 || rs->status != 200) {
    if (rc == 0) sc_errf(err, errlen, "GET %s %s: HTTP %ld", kind, ref, rs->status);
    else if (rs->error[0]) sc_errf(err, errlen, "%s", rs->error); /* names the URL already */
    else sc_errf(err, errlen, "GET %s %s: %s", kind, ref, customs_strerror(rc));
    net_http_resp_free(rs);
    return -1;
  }
  if (!rs->body || sc_digest_sha256(rs->body, rs->len, digest) != 0) {
    sc_errf(err, errlen, "GET %s %s: no body", kind, ref);
    net_http_resp_free(rs);
    return -1;
  }
  const char *expect = want ? want : rs->docker_digest[0] && !strncmp(rs->docker_digest, "sha256:", 7) ? rs->docker_digest : NULL;
  if (expect && strcmp(expect, digest)) {
    sc_errf(err, errlen, "GET %s %s: the body is %s, not %s", kind, ref, digest, expect);
    net_http_resp_free(rs);
    return -1;
  }
  return 0;
}

/* Records the chain of image manifest `digest` (body m) unless it is
 * recorded already.  0, 1 when it is not an image (an artifact: skipped),
 * -1 with err. */
static int record_image(sc_store *st, const watch_io *io, const px_watch_ref *r, const char *digest,
                        const sc_manifest *m, const sc_platform *hint, char *err, size_t errlen) {
  net_http_resp rs;
  sc_image_config cfg;
  char cdig[72], platform[SC_LINEAGE_PLATFORM_MAX];
  if (sc_manifest_is_artifact(m) || !m->config_digest) return 1;
  if (px_watch_fetch(io, r, "blobs", m->config_digest, m->config_digest, PX_WATCH_CONFIG_MAX_BYTES, &rs, cdig, err, errlen))
    return -1;
  int rc = sc_config_parse(rs.body, rs.len, &cfg);
  net_http_resp_free(&rs);
  if (rc != 0) {
    sc_config_free(&cfg);
    return sc_errf(err, errlen, "config %s of %s: %s", m->config_digest, digest, customs_strerror(rc)), -1;
  }
  if (cfg.os && cfg.architecture) {
    snprintf(platform, sizeof(platform), "%s/%s%s%s", cfg.os, cfg.architecture, cfg.variant ? "/" : "",
             cfg.variant ? cfg.variant : "");
  } else if (hint && hint->os) {
    sc_platform_str(hint, platform, sizeof(platform));
  } else {
    platform[0] = 0;
  }
  rc = sc_store_put_chain(st, digest, SC_ORIGIN_WATCH, platform, (const char *const *)cfg.diff_ids, cfg.ndiff_ids,
                          m->base_name, m->base_digest);
  sc_config_free(&cfg);
  if (rc != 0) return sc_errf(err, errlen, "recording the chain of %s: %s", digest, customs_strerror(rc)), -1;
  return 0;
}

static int chain_known(sc_store *st, const char *digest) {
  sc_chain c;
  memset(&c, 0, sizeof(c));
  int rc = sc_store_get_chain(st, digest, &c);
  sc_chain_free(&c);
  return rc == 0;
}

/* An index child worth resolving: an image manifest for a real platform
 * (attestations of buildx are children with platform unknown/unknown). */
static int child_is_image(const sc_mchild *c) {
  if (c->platform.os && !strcmp(c->platform.os, "unknown")) return 0;
  return !c->media_type || !strcmp(c->media_type, SC_MT_OCI_MANIFEST) || !strcmp(c->media_type, SC_MT_DOCKER_MANIFEST);
}

/* Resolves r: its digest, with the chains of its images recorded.  0, or
 * -1 with err (nothing about the tag recorded; chains may be). */
static int watch_resolve(sc_store *st, const watch_io *io, const px_watch_ref *r, char digest[72], char *err,
                         size_t errlen) {
  net_http_resp rs;
  sc_manifest m;
  int rc = -1;
  memset(&m, 0, sizeof(m));
  if (px_watch_fetch(io, r, "manifests", r->tag, NULL, SC_MANIFEST_MAX_BYTES, &rs, digest, err, errlen)) return -1;
  int prc = sc_manifest_parse(rs.body, rs.len, rs.content_type[0] ? rs.content_type : NULL, &m);
  net_http_resp_free(&rs);
  if (prc != 0) {
    sc_errf(err, errlen, "manifest %s: %s", digest, customs_strerror(prc));
    goto out;
  }
  if (m.kind == SC_MANIFEST_IMAGE) {
    if (chain_known(st, digest)) rc = 0;
    else if ((rc = record_image(st, io, r, digest, &m, NULL, err, errlen)) == 1) rc = 0; /* an artifact: no chain */
    goto out;
  }
  size_t done = 0;
  for (size_t i = 0; i < m.nchildren && done < PX_WATCH_MAX_CHILDREN; i++) {
    const sc_mchild *c = &m.children[i];
    char cdig[72], platform[SC_LINEAGE_PLATFORM_MAX];
    if (!child_is_image(c)) continue;
    done++;
    if (!chain_known(st, c->digest)) {
      sc_manifest cm;
      memset(&cm, 0, sizeof(cm));
      if (px_watch_fetch(io, r, "manifests", c->digest, c->digest, SC_MANIFEST_MAX_BYTES, &rs, cdig, err, errlen)) goto out;
      prc = sc_manifest_parse(rs.body, rs.len, rs.content_type[0] ? rs.content_type : c->media_type, &cm);
      net_http_resp_free(&rs);
      int irc = prc != 0 ? (sc_errf(err, errlen, "manifest %s: %s", c->digest, customs_strerror(prc)), -1)
                : cm.kind != SC_MANIFEST_IMAGE ? 1
                : record_image(st, io, r, c->digest, &cm, &c->platform, err, errlen);
      sc_manifest_free(&cm);
      if (irc < 0) goto out;
      if (irc == 1) continue; /* not an image after all: not a child worth recording */
    }
    sc_platform_str(&c->platform, platform, sizeof(platform));
    if (sc_store_put_chain_child(st, digest, c->digest, platform) != 0) {
      sc_errf(err, errlen, "recording child %s of %s: %s", c->digest, digest, sc_store_errmsg(st));
      goto out;
    }
  }
  if (m.nchildren > PX_WATCH_MAX_CHILDREN && done == PX_WATCH_MAX_CHILDREN)
    px_warn("watch %s:%s: index %s has %zu children; only %d are resolved", r->repo, r->tag, digest, m.nchildren,
            PX_WATCH_MAX_CHILDREN);
  rc = 0;
out:
  sc_manifest_free(&m);
  return rc;
}

/* One check of r at `now`: resolves it and records the check (the digest,
 * or the error).  Returns 1 when the tag moved (prev gets the digest it
 * left, digest the new one), 0 when it did not or was seen first, -1 when
 * the check failed (err set; recorded) or the store failed. */
static int watch_check(sc_store *st, const watch_io *io, const px_watch_ref *r, int64_t now, char prev[72],
                       char digest[72], char *err, size_t errlen) {
  prev[0] = 0;
  err[0] = 0;
  if (watch_resolve(st, io, r, digest, err, errlen) != 0) {
    if (io->abort_flag && __atomic_load_n(io->abort_flag, __ATOMIC_SEQ_CST)) return -1; /* shutdown, not a failure */
    if (sc_store_watch_set(st, r->repo, r->tag, NULL, err, now, prev) != 0)
      px_error("watch %s:%s: cannot record the error: %s", r->repo, r->tag, sc_store_errmsg(st));
    prev[0] = 0;
    return -1;
  }
  if (sc_store_watch_set(st, r->repo, r->tag, digest, NULL, now, prev) != 0) {
    sc_errf(err, errlen, "recording the check: %s", sc_store_errmsg(st));
    return -1;
  }
  return prev[0] ? 1 : 0;
}

/* ---- the thread ---- */

static int http_get(void *arg, const net_http_req *rq, net_http_resp *rs) {
  return net_http_registry_get(arg, rq, rs);
}

static int any_image(void *arg, const char *repo, const char *tag, const char *digest) {
  (void)arg, (void)repo, (void)tag, (void)digest;
  return 1; /* one is enough: stop */
}

/* Before the move is announced: the new base's layers that matter are
 * scanned, so the event can say what it fixes.  Only when local images
 * are built on the old base (no event otherwise).  A failure is logged and
 * leaves the fixes unknown; the event goes out all the same. */
static void scan_moved(px_ctx *ctx, sc_store *st, const watch_io *io, const px_watch_ref *r, const char *prev,
                       const char *digest) {
  px_watch_scan_stats ss;
  char err[WATCH_ERR_MAX] = "";
  int64_t t0 = px_now_ms();
  if (sc_lineage_downstream(st, prev, any_image, NULL) != 1) return;
  int rc = px_watch_scan_move(st, io, r, prev, digest, ctx->cfg->spool_dir, &ss, err, sizeof(err));
  px_log(rc ? PX_LOG_WARN : PX_LOG_INFO,
         "watch %s:%s: new base %s: %zu image(s), %zu layer(s) known, %zu scanned (%llu bytes) in %lld ms%s%s", r->repo,
         r->tag, digest, ss.images, ss.known, ss.scanned, (unsigned long long)ss.bytes, (long long)(px_now_ms() - t0),
         rc ? "; what it fixes stays unknown: " : "", rc ? err : "");
}

static void check_all(px_ctx *ctx, sc_store *st, const watch_io *io) {
  px_watch *w = ctx->watch;
  for (size_t i = 0; i < w->n && !__atomic_load_n(&w->stop, __ATOMIC_SEQ_CST); i++) {
    const px_watch_ref *r = &w->refs[i];
    char prev[72], digest[72], err[WATCH_ERR_MAX];
    int rc = watch_check(st, io, r, (int64_t)time(NULL), prev, digest, err, sizeof(err));
    if (rc < 0) {
      if (__atomic_load_n(&w->stop, __ATOMIC_SEQ_CST)) break; /* aborted by shutdown: not the registry's fault */
      if (strcmp(w->last_err[i], err)) px_warn("watch %s:%s: check failed: %s (the last digest stays)", r->repo, r->tag, err);
      snprintf(w->last_err[i], sizeof(w->last_err[i]), "%s", err);
      continue;
    }
    if (w->last_err[i][0]) px_info("watch %s:%s: checks work again (%s)", r->repo, r->tag, digest);
    w->last_err[i][0] = 0;
    if (rc == 0) continue;
    scan_moved(ctx, st, io, r, prev, digest);
    px_lineage_tag_moved(ctx, st, SC_ORIGIN_WATCH, r->repo, r->tag, prev, digest);
  }
}

static void *watch_main(void *arg) {
  px_ctx *ctx = arg;
  px_watch *w = ctx->watch;
  sc_store *st = NULL;
  net_http *h = NULL;
  net_http_opts o = {.connect_timeout_ms = PX_WATCH_CONNECT_TIMEOUT_MS, .idle_timeout_s = PX_WATCH_IDLE_TIMEOUT_S};
  if (ctx->cfg->watch_username[0]) {
    o.username = ctx->cfg->watch_username;
    o.password = w->password;
  }
  int hrc = net_http_new(&o, &h);
  memset(w->password, 0, sizeof(w->password)); /* net_http keeps its own copy */
  if (hrc != 0) {
    px_error("watch: no HTTP client: watched tags are not checked");
    return NULL;
  }
  if (sc_store_open(ctx->cfg->db, &st) != 0) {
    px_error("watch: cannot open the database %s: watched tags are not checked", px_config_db_shown(ctx->cfg));
    net_http_free(h);
    return NULL;
  }
  watch_io io = {.get = http_get, .arg = h, .abort_flag = &w->stop};
  int64_t interval_s = ctx->cfg->watch_interval_s > 0 ? ctx->cfg->watch_interval_s : 600;
  char holder[SC_REPLICA_ID_BYTES], told[SC_REPLICA_ID_BYTES] = "";
  for (;;) {
    /* replicas sharing PostgreSQL: one checks the watched tags for all */
    int mine = px_replica_lease(ctx, st, "watch", (interval_s + PX_WATCH_LEASE_SLACK_S) * 1000, holder,
                                sizeof(holder));
    if (mine) {
      told[0] = '\0';
      check_all(ctx, st, &io);
    } else if (strcmp(told, holder)) {
      px_info("watch: replica %s checks the watched tags; this one stands by", holder);
      snprintf(told, sizeof(told), "%s", holder);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += mine || interval_s < PX_REPLICA_STANDBY_MS / 1000 ? interval_s : PX_REPLICA_STANDBY_MS / 1000;
    pthread_mutex_lock(&w->mu);
    while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT) {
    }
    int stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    if (stop) break;
  }
  net_http_free(h);
  sc_store_close(st);
  return NULL;
}

static void watch_free(px_watch *w) {
  if (!w) return;
  memset(w->password, 0, sizeof(w->password));
  free(w->refs);
  free(w->last_err);
  free(w);
}

int px_watch_start(px_ctx *ctx) {
  const px_config *cfg = ctx->cfg;
  char err[512];
  if (cfg->nwatch <= 0) return 0;
  px_watch *w = calloc(1, sizeof(*w));
  if (!w) return SC_ERR_NOMEM;
  w->refs = calloc((size_t)cfg->nwatch, sizeof(*w->refs));
  w->last_err = calloc((size_t)cfg->nwatch, sizeof(*w->last_err));
  if (!w->refs || !w->last_err) {
    watch_free(w);
    return SC_ERR_NOMEM;
  }
  for (int i = 0; i < cfg->nwatch; i++) {
    if (px_watch_parse_ref(cfg->watch[i], &w->refs[i], err, sizeof(err)) != 0) {
      px_error("lineage.watch: %s", err);
      watch_free(w);
      return SC_ERR_INVALID;
    }
    for (int j = 0; j < i; j++)
      if (!strcmp(w->refs[j].repo, w->refs[i].repo) && !strcmp(w->refs[j].tag, w->refs[i].tag)) {
        px_error("lineage.watch: '%s' is listed twice", cfg->watch[i]);
        watch_free(w);
        return SC_ERR_INVALID;
      }
  }
  w->n = (size_t)cfg->nwatch;
  if (cfg->watch_username[0] &&
      sc_read_secret(cfg->watch_password_file, w->password, sizeof(w->password)) != 0) {
    px_error("lineage.password_file: cannot read a password from '%s'", cfg->watch_password_file);
    watch_free(w);
    return SC_ERR_INVALID;
  }
  if (net_http_global_init() != 0) { /* before any thread: curl's init is not thread-safe */
    watch_free(w);
    return SC_ERR_NOMEM;
  }
  w->mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  w->cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
  ctx->watch = w; /* before the thread: it reads it */
  if (pthread_create(&w->th, NULL, watch_main, ctx) != 0) {
    ctx->watch = NULL;
    watch_free(w);
    return SC_ERR_NOMEM;
  }
  for (size_t i = 0; i < w->n; i++)
    px_info("watch %s:%s via %s, every %d s%s", w->refs[i].repo, w->refs[i].tag, w->refs[i].base_url,
            cfg->watch_interval_s, cfg->watch_username[0] ? " (with credentials)" : "");
  return 0;
}

void px_watch_stop(px_ctx *ctx) {
  px_watch *w = ctx->watch;
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  __atomic_store_n(&w->stop, 1, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->th, NULL);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  watch_free(w);
  ctx->watch = NULL;
}
