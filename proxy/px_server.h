/* px_server.h - the daemon's shared state: event loop, listener, TLS
 * contexts, upstream address, and every piece of state the modules keep for
 * the daemon's lifetime (no file-static singletons: a test builds its own
 * px_ctx with only what it drives).  One px_ctx per process; every socket
 * belongs to its event loop; all fields are the loop thread's unless noted.
 *
 * Ownership: px_server_run owns the context and everything it points to.
 * Errors: SC_ERR_* (sc_err.h). */
#ifndef CUSTOMS_PX_SERVER_H
#define CUSTOMS_PX_SERVER_H
#include <stdint.h>
#include <openssl/ssl.h>
#include "px_config.h"
#include "px_jobq.h" /* px_spool */

struct event_base;
struct evdns_base;
struct evconnlistener;
struct event;
struct px_upconn;
struct px_xchg;
struct px_intercept_ops;
struct px_policy_state;
struct px_mcache;
struct px_coalesce;
struct px_h2_sess;
struct px_gate;
struct px_dbq;
struct px_refresh;

/* The upstream admission queue (px_upstream.c). */
typedef struct px_upstream_queue {
  unsigned inflight, nqueued;
  struct px_xchg *head, *tail;
  struct event *dispatch_ev;
} px_upstream_queue;

typedef struct px_replica px_replica;

typedef struct px_ctx {
  struct event_base *base;
  struct evdns_base *dns;
  px_config *cfg;
  SSL_CTX *server_ssl;           /* NULL: cleartext listener */
  SSL_CTX *client_ssl;           /* NULL: cleartext upstream */
  struct evconnlistener *listener;
  struct event *sigterm_ev, *sigint_ev, *sighup_ev, *drain_timer;
  /* upstream, parsed from cfg->upstream */
  int up_tls;
  char up_host[256];
  int up_port;
  char up_hosthdr[300];          /* Host header sent upstream: host[:port] */
  char up_origin[320];           /* scheme://host[:port], for Location rewriting */
  /* idle keep-alive connections, and the admission cap (px_upstream.c) */
  struct px_upconn *idle;
  int nidle;
  px_upstream_queue upq;
  /* HTTP/2 sessions, for GOAWAY on drain (px_h2.c) */
  struct px_h2_sess *h2_sessions;
  /* counters */
  int nclients;
  int nxchg;
  uint64_t next_id;
  int draining;
  /* interception (scanner, pull gate): px_xchg calls it at each step of an
   * exchange; NULL = plain proxy (px_intercept.h installs customs' own) */
  const struct px_intercept_ops *intercept;
  struct px_policy_state *policy; /* the policy in force (px_policy.c); NULL: none loaded */
  struct px_mcache *mcache;      /* manifests by digest (px_mcache.c); NULL: no cache */
  struct px_coalesce *coalesce;  /* manifest GETs by tag in flight (px_coalesce.c); NULL: none */
  struct px_gate *gate;          /* pull gate: verdict cache, decisions queue (px_gate.c) */
  struct px_dbq *dbq;            /* the database threads and their queue (px_dbq.c) */
  struct px_refresh *refresh;    /* the OSV refresh thread (px_refresh.c); NULL: none */
  struct px_scanpool *scan;      /* layer scans */
  struct px_scanpool *mscan;     /* manifest processing (waits on layers, fetches) */
  struct px_job *jobs;           /* watched uploads and fetches (loop thread) */
  struct event *scan_prune_ev;   /* drops finished and stalled jobs (px_scan.c) */
  px_spool spool;                /* spill bytes of all jobs (scan.spool_total_max_bytes); bytes atomic */
  struct sc_store *store;        /* the loop thread's database connection */
  struct px_events *events;      /* recorded events and webhook deliveries (px_events.c); NULL: no webhooks */
  struct px_watch *watch;        /* watched upstream base tags (px_watch.c); NULL: none */
  struct px_admin *admin;        /* the admin listener (px_admin.c); NULL: none */
  struct px_metrics *metrics;    /* counters and histograms for /metrics (px_metrics.c); NULL: none */
  struct px_annotate *annotate;  /* customs' own SBOM and report pushes (px_annotate.c); NULL: none */
  struct px_sync *sync;          /* the background sync of the upstream's catalog (px_sync.c); NULL: none */
  struct px_replica *replica;    /* heartbeat, notifications, layer claims (px_replica.c); NULL: not started */
} px_ctx;

/* Runs the daemon until SIGTERM/SIGINT and the drain complete.
 * Returns 0, or a negative SC_ERR_* when it could not start. */
int px_server_run(px_config *cfg);

/* Called by the fronts when a client connection goes away. */
void px_server_client_closed(px_ctx *ctx);
/* Checks whether a drain has finished, and stops the loop if so. */
void px_server_check_drained(px_ctx *ctx);
#endif
