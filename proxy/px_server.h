/* px_server.h - the daemon's shared state: event loop, listener, TLS
 * contexts, upstream address.  One px_ctx per process; every socket belongs
 * to its event loop. */
#ifndef CUSTOMS_PX_SERVER_H
#define CUSTOMS_PX_SERVER_H
#include <stdint.h>
#include <openssl/ssl.h>
#include "px_config.h"

struct event_base;
struct evdns_base;
struct evconnlistener;
struct event;
struct px_upconn;
struct px_hooks;

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
  /* idle keep-alive connections */
  struct px_upconn *idle;
  int nidle;
  /* counters */
  int nclients;
  int nxchg;
  uint64_t next_id;
  int draining;
  /* interception (scanner, store, policy); NULL = plain proxy */
  struct px_scanpool *scan;      /* layer scans */
  struct px_scanpool *mscan;     /* manifest processing (waits on layers, fetches) */
  struct px_job *jobs;           /* watched uploads and fetches (loop thread) */
  struct sc_store *store;        /* the loop thread's database connection */
} px_ctx;

/* Runs the daemon until SIGTERM/SIGINT and the drain complete.
 * Returns 0, or a negative PX_ERR_* when it could not start. */
int px_server_run(px_config *cfg);

/* Called by the fronts when a client connection goes away. */
void px_server_client_closed(px_ctx *ctx);
/* Checks whether a drain has finished, and stops the loop if so. */
void px_server_check_drained(px_ctx *ctx);
#endif
