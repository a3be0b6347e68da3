/* px_policy.c - policy loading and reloading (see px_policy.h).
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

struct px_policy_state {
  sc_policy *policy;
  px_policy_ref *ref;
  uint64_t generation;
  struct timespec mtime;
  off_t size;
  ino_t ino;
  struct event *poll_ev;
  struct event *hup_ev;
  int64_t loaded_at;   /* unix time the policy in force was loaded */
  char *last_error;    /* the errors of the last refused load; NULL after a good one */
};
typedef struct px_policy_state px_policy_state;

static int stat_changed(px_policy_state *state, const char *path, int update) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  int changed = st.st_mtim.tv_sec != state->mtime.tv_sec || st.st_mtim.tv_nsec != state->mtime.tv_nsec ||
                st.st_size != state->size || st.st_ino != state->ino;
  if (update) {
    state->mtime = st.st_mtim;
    state->size = st.st_size;
    state->ino = st.st_ino;
  }
  return changed;
}

/* Returns 0 when loaded, -1 when the file was refused. */
static int load(px_ctx *ctx, const char *why) {
  px_policy_state *state = ctx->policy;
  const char *path = ctx->cfg->policy;
  sc_policy *p = NULL;
  char *errors = NULL;
  stat_changed(state, path, 1);
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
  if (stat_changed(ctx->policy, ctx->cfg->policy, 0)) load(ctx, "file changed");
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
  struct timeval tv = {2, 0};
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
