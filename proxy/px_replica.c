/* px_replica.c - replica identity, heartbeat, notifications and layer
 * claims (see px_replica.h).  Its state is ctx->replica.
 * Thread: the replica thread (beats, listens) and the workers (claims);
 * they meet under mu.  Errors: logged; see px_replica.h. */
#include "px_replica.h"
#include "sc_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "px_config.h"
#include "px_log.h"
#include "sc_db_listen.h"
#include "sc_store.h"
#include "sc_store_replica.h"
#include "sc_store_schema_pg.h"

struct px_replica {
  char id[SC_REPLICA_ID_BYTES];
  char host[64];
  int64_t started_at;       /* wall ms */
  pthread_t th;
  int running;              /* the thread was started */
  pthread_mutex_t mu;
  pthread_cond_t cv;        /* broadcast on every notification (and on stop) */
  uint64_t wakes;           /* under mu: notifications seen */
  int stop;                 /* under mu */
  struct sc_store *st;      /* the thread's own connection */
  sc_db_listener *listen;   /* NULL: SQLite, or PostgreSQL LISTEN unavailable (polling only) */
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *px_claim_name(px_claim c) {
  static const char *const n[] = {"mine", "stored", "busy", "nodb"};
  return (unsigned)c < 4 ? n[c] : "?";
}

const char *px_replica_id(const px_ctx *ctx) { return ctx && ctx->replica ? ctx->replica->id : ""; }

static int beat(px_replica *r, struct sc_store *st) {
  return sc_replica_beat(st, r->id, r->host, (int64_t)getpid(), PACKAGE_VERSION, r->started_at, wall_ms());
}

static void wake_all(px_replica *r) {
  pthread_mutex_lock(&r->mu);
  r->wakes++;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static int stopping(px_replica *r) {
  pthread_mutex_lock(&r->mu);
  int s = r->stop;
  pthread_mutex_unlock(&r->mu);
  return s;
}

/* The replica thread: beats, and waits for notifications in slices. */
static void *replica_main(void *arg) {
  px_replica *r = arg;
  int64_t next_beat = px_now_ms() + SC_REPLICA_BEAT_MS;
  int beat_failed = 0, listen_failed = 0;
  while (!stopping(r)) {
    if (px_now_ms() >= next_beat) {
      next_beat = px_now_ms() + SC_REPLICA_BEAT_MS;
      int rc = beat(r, r->st);
      if (rc && !beat_failed) px_warn("replica %s: heartbeat failed: %s", r->id, sc_store_errmsg(r->st));
      if (!rc && beat_failed) px_info("replica %s: heartbeat works again", r->id);
      beat_failed = rc != 0;
    }
    if (r->listen) {
      char payload[SC_DB_LISTEN_PAYLOAD_BYTES];
      int rc = sc_db_listen_wait(r->listen, PX_REPLICA_SLICE_MS, payload, sizeof(payload));
      if (rc == 1) px_debug("replica %s: notified: %s", r->id, payload);
      if (rc < 0 && !listen_failed) px_warn("replica %s: LISTEN connection lost; polling until it is back", r->id);
      if (rc >= 0 && listen_failed) px_info("replica %s: LISTEN connection back", r->id);
      listen_failed = rc < 0;
      /* a notification, or a reconnect that may have lost some: look again */
      if (rc != 0) wake_all(r);
    } else {
      struct timespec until = sc_deadline_ms(CLOCK_REALTIME, PX_REPLICA_SLICE_MS);
      pthread_mutex_lock(&r->mu);
      if (!r->stop) pthread_cond_timedwait(&r->cv, &r->mu, &until);
      pthread_mutex_unlock(&r->mu);
    }
  }
  return NULL;
}

static void replica_free(px_replica *r) {
  if (!r) return;
  if (r->st) sc_store_close(r->st);
  sc_db_listen_close(r->listen);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

int px_replica_start(px_ctx *ctx) {
  px_replica *r = calloc(1, sizeof(*r));
  if (!r) return SC_ERR_NOMEM;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if (gethostname(r->host, sizeof(r->host) - 1) != 0) snprintf(r->host, sizeof(r->host), "unknown");
  unsigned char rnd[4] = {0};
  if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
    uint64_t t = (uint64_t)wall_ms();
    memcpy(rnd, &t, sizeof(rnd));
  }
  /* the random part tells apart two processes that reused a pid (containers) */
  snprintf(r->id, sizeof(r->id), "%s/%d/%02x%02x%02x%02x", r->host, (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
  r->started_at = wall_ms();
  char err[256] = "";
  if (sc_store_open(ctx->cfg->db, &r->st) != 0) {
    px_error("replica: cannot open the database %s%s%s", px_config_db_shown(ctx->cfg), r->st ? ": " : "",
             r->st ? sc_store_errmsg(r->st) : "");
    replica_free(r);
    return SC_ERR_DB;
  }
  /* the first beat before any worker claims: a claim of a replica with
   * no row is one a stopped replica left, and is taken over */
  if (beat(r, r->st) != 0) {
    px_error("replica: cannot record this replica: %s", sc_store_errmsg(r->st));
    replica_free(r);
    return SC_ERR_DB;
  }
  if (sc_db_listen_open(ctx->cfg->db, SC_STORE_NOTIFY_CHANNEL, &r->listen, err, sizeof(err)) != 0)
    px_warn("replica: %s; waiting for other replicas' scans polls every %d ms", err, PX_CLAIM_POLL_MS);
  if (pthread_create(&r->th, NULL, replica_main, r) != 0) {
    replica_free(r);
    return SC_ERR_NOMEM;
  }
  r->running = 1;
  ctx->replica = r;
  px_info("replica %s: heartbeat every %d ms, %s", r->id, SC_REPLICA_BEAT_MS,
          r->listen ? "notified by PostgreSQL (LISTEN), polling as a fallback" : "polling (no notifications)");
  return 0;
}

void px_replica_stop(px_ctx *ctx) {
  px_replica *r = ctx->replica;
  if (!r) return;
  pthread_mutex_lock(&r->mu);
  r->stop = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (r->running) pthread_join(r->th, NULL);
  if (sc_replica_leave(r->st, r->id) != 0)
    px_warn("replica %s: cannot remove its row: %s", r->id, sc_store_errmsg(r->st));
  ctx->replica = NULL;
  replica_free(r);
}

/* Waits for a notification or ms, whichever first. */
static void wait_notified(px_replica *r, int ms) {
  struct timespec until = sc_deadline_ms(CLOCK_REALTIME, ms);
  pthread_mutex_lock(&r->mu);
  uint64_t seen = r->wakes;
  while (r->wakes == seen && !r->stop)
    if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0) break;
  pthread_mutex_unlock(&r->mu);
}

static int stored(struct sc_store *st, const char *digest) {
  char status[16];
  return sc_store_layer_status(st, digest, status) == 0;
}

px_claim px_replica_claim_layer(px_ctx *ctx, struct sc_store *st, const char *digest, int wait_ms, char *holder,
                                size_t cap) {
  px_replica *r = ctx->replica;
  char who[SC_REPLICA_ID_BYTES] = ""; /* the other replica holding it, the last time we looked */
  if (holder && cap) holder[0] = '\0';
  if (!r || !st) return PX_CLAIM_NODB;
  int64_t deadline = px_now_ms() + (wait_ms > 0 ? wait_ms : 0);
  px_claim out;
  for (;;) {
    char now_who[SC_REPLICA_ID_BYTES];
    int rc = sc_layer_claim(st, digest, r->id, wall_ms(), now_who, sizeof(now_who));
    if (rc == 0) {
      /* stored between the caller's look and the claim: done already */
      if (stored(st, digest)) {
        px_replica_release_layer(ctx, st, digest);
        out = PX_CLAIM_STORED;
        break;
      }
      if (who[0]) px_info("layer %s: claimed after waiting for replica %s", digest, who);
      out = PX_CLAIM_MINE;
      break;
    }
    if (rc != SC_ERR_STATE) {
      px_warn("layer %s: cannot claim it: %s; scanning it without a claim", digest, sc_store_errmsg(st));
      out = PX_CLAIM_NODB;
      break;
    }
    if (stored(st, digest)) {
      out = PX_CLAIM_STORED;
      break;
    }
    if (!who[0]) px_info("layer %s: replica %s is scanning it; waiting for its result", digest, now_who);
    snprintf(who, sizeof(who), "%s", now_who[0] ? now_who : "?");
    if (px_now_ms() >= deadline) {
      out = PX_CLAIM_BUSY;
      break;
    }
    int64_t left = deadline - px_now_ms();
    wait_notified(r, left < PX_CLAIM_POLL_MS ? (int)left : PX_CLAIM_POLL_MS);
  }
  if (holder && cap) snprintf(holder, cap, "%s", who);
  return out;
}

void px_replica_release_layer(px_ctx *ctx, struct sc_store *st, const char *digest) {
  px_replica *r = ctx->replica;
  if (!r || !st) return;
  if (sc_layer_release(st, digest, r->id) != 0)
    px_warn("layer %s: cannot release the claim: %s (it lapses when this replica stops)", digest,
            sc_store_errmsg(st));
}

int px_replica_lease(px_ctx *ctx, struct sc_store *st, const char *name, int64_t hold_ms, char *holder, size_t cap) {
  px_replica *r = ctx->replica;
  if (holder && cap) holder[0] = '\0';
  /* SQLite is one replica's database: no one to share the work with, and a
   * restarted process must not wait out its killed predecessor's lease */
  if (!r || !st || !sc_store_is_postgres(st)) return 1;
  int rc = sc_lease_take(st, name, r->id, wall_ms(), hold_ms, holder, cap);
  if (rc == SC_ERR_STATE) return 0;
  if (rc != 0) px_warn("%s: cannot take the lease: %s; doing the round anyway", name, sc_store_errmsg(st));
  return 1;
}
