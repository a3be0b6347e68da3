/* px_policy.c - policy loading and reloading (see px_policy.h): on SIGHUP,
 * and when the policy file or one of the VEX files it lists changes (polled
 * every PX_POLICY_POLL_S: an edited VEX document is a policy change, and
 * an operator should not have to know to signal for it).
 * Ownership: the state lives in ctx->policy (created by px_policy_init,
 * freed by px_policy_shutdown).  Thread: loop thread, except the counted
 * references, which database threads read and release. */
#include "px_policy.h"
#include "px_headers.h"
#include "px_log.h"
#include "px_metrics.h"
#include "sc_policy.h"
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A loaded policy with its generation.  The state holds one reference;
 * database threads judging with it hold theirs, so a reload never frees a
 * policy that a judgement still reads. */
struct px_policy_ref {
  sc_policy *policy;
  uint64_t generation;
  int refs; /* atomic */
};

#define PX_POLICY_POLL_S 2 /* how often the files are checked for changes */

/* What a file looked like when last loaded: a change of any part reloads. */
typedef struct px_filestat {
  struct timespec mtime;
  off_t size;
  ino_t ino;
  int missing;
} px_filestat;

/* A VEX file the policy in force lists. */
typedef struct px_policy_dep {
  char *path;
  px_filestat st;
} px_policy_dep;

struct px_policy_state {
  sc_policy *policy;
  px_policy_ref *ref;
  uint64_t generation;
  px_filestat file;     /* the policy file */
  px_policy_dep *deps;  /* its VEX files */
  size_t ndeps;
  struct event *poll_ev;
  struct event *hup_ev;
  int64_t loaded_at;   /* unix time the policy in force was loaded */
  char *last_error;    /* the errors of the last refused load; NULL after a good one */
};
typedef struct px_policy_state px_policy_state;

/* Whether path differs from *fs (a file that appears or vanishes too);
 * fs is brought up to date when update is set. */
static int stat_changed(px_filestat *fs, const char *path, int update) {
  struct stat st;
  px_filestat now;
  memset(&now, 0, sizeof(now));
  if (stat(path, &st) != 0) {
    now.missing = 1;
  } else {
    now.mtime = st.st_mtim;
    now.size = st.st_size;
    now.ino = st.st_ino;
  }
  int changed = now.missing != fs->missing || now.mtime.tv_sec != fs->mtime.tv_sec ||
                now.mtime.tv_nsec != fs->mtime.tv_nsec || now.size != fs->size || now.ino != fs->ino;
  if (update) *fs = now;
  return changed;
}

static void deps_free(px_policy_state *state) {
  for (size_t i = 0; i < state->ndeps; i++) free(state->deps[i].path);
  free(state->deps);
  state->deps = NULL;
  state->ndeps = 0;
}

/* Watches the VEX files of p from now on (their state as of now).  On
 * allocation failure the files are not watched: SIGHUP still reloads. */
static void deps_set(px_policy_state *state, const sc_policy *p) {
  size_t n = sc_policy_vex_count(p);
  deps_free(state);
  if (!n || !(state->deps = calloc(n, sizeof(*state->deps)))) return;
  for (size_t i = 0; i < n; i++) {
    const char *f = sc_policy_vex_file(p, i);
    px_policy_dep *d = &state->deps[state->ndeps];
    if (!f || !(d->path = strdup(f))) continue;
    stat_changed(&d->st, d->path, 1);
    state->ndeps++;
  }
}

/* Whether the policy file or a watched VEX file changed since the last load
 * (or refused load: a broken file is not retried until it changes again). */
static int files_changed(px_policy_state *state, const char *path) {
  int changed = stat_changed(&state->file, path, 0);
  for (size_t i = 0; i < state->ndeps && !changed; i++) changed = stat_changed(&state->deps[i].st, state->deps[i].path, 0);
  return changed;
}

/* Returns 0 when loaded, -1 when the file was refused. */
static int load(px_ctx *ctx, const char *why) {
  px_policy_state *state = ctx->policy;
  const char *path = ctx->cfg->policy;
  sc_policy *p = NULL;
  char *errors = NULL;
  stat_changed(&state->file, path, 1);
  for (size_t i = 0; i < state->ndeps; i++) stat_changed(&state->deps[i].st, state->deps[i].path, 1);
  if (sc_policy_load(path, &p, &errors) != 0) {
    px_error("policy %s refused (%s); %s: %s", path, why,
             state->policy ? "the previous policy stays in force" : "no policy loaded",
             errors ? errors : "unreadable");
    px_metrics_policy_reload_failed(ctx);
    free(state->last_error);
    state->last_error = errors ? errors : strdup("unreadable");
    return -1;
  }
  free(errors);
  px_policy_ref *ref = calloc(1, sizeof(*ref));
  if (!ref) {
    sc_policy_free(p);
    px_error("policy %s: out of memory; the previous policy stays in force", path);
    px_metrics_policy_reload_failed(ctx);
    return -1;
  }
  state->generation++;
  ref->policy = p;
  ref->generation = state->generation;
  ref->refs = 1;
  px_policy_release(state->ref);
  state->ref = ref;
  state->policy = p;
  deps_set(state, p);
  state->loaded_at = (int64_t)time(NULL);
  free(state->last_error);
  state->last_error = NULL;
  px_info("policy %s loaded (%s): generation %llu, mode %s, %zu rule(s), %zu exception(s)", path, why,
          (unsigned long long)state->generation, sc_policy_mode_of(p) == SC_MODE_AUDIT ? "audit" : "enforce",
          sc_policy_rule_count(p), sc_policy_exception_count(p));
  return 0;
}

static void poll_cb(evutil_socket_t fd, short what, void *arg) {
  px_ctx *ctx = arg;
  (void)fd;
  (void)what;
  if (files_changed(ctx->policy, ctx->cfg->policy)) load(ctx, "file changed");
}

static void hup_cb(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  px_policy_reload(arg);
}

void px_policy_reload(px_ctx *ctx) {
  if (ctx->policy && ctx->cfg->policy[0]) load(ctx, "SIGHUP");
}

int px_policy_init(px_ctx *ctx) {
  struct timeval tv = {PX_POLICY_POLL_S, 0};
  if (!ctx->cfg->policy[0]) {
    px_warn("no policy file (--policy): images are scanned and annotated, nothing is blocked");
    return 0;
  }
  if (!ctx->policy && !(ctx->policy = calloc(1, sizeof(*ctx->policy)))) return SC_ERR_NOMEM;
  if (load(ctx, "start") < 0) return SC_ERR_INVALID;
  ctx->policy->poll_ev = event_new(ctx->base, -1, EV_PERSIST, poll_cb, ctx);
  ctx->policy->hup_ev = evsignal_new(ctx->base, SIGHUP, hup_cb, ctx);
  if (ctx->policy->poll_ev) event_add(ctx->policy->poll_ev, &tv);
  if (ctx->policy->hup_ev) evsignal_add(ctx->policy->hup_ev, NULL);
  return 0;
}

void px_policy_shutdown(px_ctx *ctx) {
  px_policy_state *state = ctx->policy;
  if (!state) return;
  if (state->poll_ev) event_free(state->poll_ev);
  if (state->hup_ev) event_free(state->hup_ev);
  px_policy_release(state->ref);
  deps_free(state);
  free(state->last_error);
  free(state);
  ctx->policy = NULL;
}

const struct sc_policy *px_policy_get(px_ctx *ctx) { return ctx->policy ? ctx->policy->policy : NULL; }

uint64_t px_policy_generation(px_ctx *ctx) { return ctx->policy ? ctx->policy->generation : 0; }

int64_t px_policy_loaded_at(px_ctx *ctx) { return ctx->policy ? ctx->policy->loaded_at : 0; }

const char *px_policy_last_error(px_ctx *ctx) { return ctx->policy ? ctx->policy->last_error : NULL; }

px_policy_ref *px_policy_acquire(px_ctx *ctx) {
  px_policy_ref *r = ctx->policy ? ctx->policy->ref : NULL;
  if (!r) return NULL;
  __atomic_add_fetch(&r->refs, 1, __ATOMIC_SEQ_CST);
  return r;
}

const struct sc_policy *px_policy_ref_policy(const px_policy_ref *r) { return r ? r->policy : NULL; }

uint64_t px_policy_ref_generation(const px_policy_ref *r) { return r ? r->generation : 0; }

void px_policy_release(px_policy_ref *r) {
  if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_SEQ_CST) == 0) {
    sc_policy_free(r->policy);
    free(r);
  }
}
