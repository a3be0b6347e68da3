/* px_server.c - listener, protocol detection (TLS ALPN, or the HTTP/2
 * connection preface on cleartext), signals and graceful drain; builds the
 * px_ctx and plugs customs' interception into it.
 * Ownership: px_server_run owns the context.  Thread: loop thread.
 * Errors: px_server_run returns 0 or a negative SC_ERR_*. */
#include "px_server.h"
#include "px_replica.h"
#include "px_headers.h"
#include "px_bev.h"
#include "px_h1.h"
#include "px_h2.h"
#include "px_dbq.h"
#include "px_gate.h"
#include "px_intercept.h"
#include "px_log.h"
#include "px_mcache.h"
#include "px_coalesce.h"
#include "px_policy.h"
#include "px_events.h"
#include "px_admin.h"
#include "px_metrics.h"
#include "px_refresh.h"
#include "px_watch.h"
#include "px_annotate.h"
#include "px_sync.h"
#include "px_scan.h"
#include "sc_store.h"
#include "sc_time.h"
#include <event2/thread.h>
#include "px_upstream.h"
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24
#define SNIFF_TIMEOUT_MS 30000 /* TLS handshake and the first bytes of a connection */

typedef struct sniff {
  px_ctx *ctx;
  int tls;
  char peer[64];
} sniff;

void px_server_client_closed(px_ctx *ctx) {
  ctx->nclients--;
  px_server_check_drained(ctx);
}

void px_server_check_drained(px_ctx *ctx) {
  if (ctx->draining && ctx->nxchg == 0) event_base_loopexit(ctx->base, NULL);
}

static void hand_over(sniff *sn, struct bufferevent *bev, int h2) {
  px_ctx *ctx = sn->ctx;
  int tls = sn->tls;
  char peer[64];
  snprintf(peer, sizeof(peer), "%s", sn->peer);
  free(sn);
  bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
  if (h2) px_h2_start(ctx, bev, tls, peer);
  else px_h1_start(ctx, bev, tls, peer);
}

static void sniff_read(struct bufferevent *bev, void *arg) {
  sniff *sn = arg;
  struct evbuffer *in = bufferevent_get_input(bev);
  size_t n = evbuffer_get_length(in);
  unsigned char buf[H2_PREFACE_LEN];
  size_t m = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;
  evbuffer_copyout(in, buf, m);
  if (memcmp(buf, h2_preface, m) != 0) {
    hand_over(sn, bev, 0);
    return;
  }
  if (m == H2_PREFACE_LEN) hand_over(sn, bev, 1);
}

static void sniff_event(struct bufferevent *bev, short what, void *arg) {
  sniff *sn = arg;
  if (what & BEV_EVENT_CONNECTED) { /* TLS handshake done */
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    const unsigned char *alpn = NULL;
    unsigned alpnlen = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
    if (alpnlen == 2 && memcmp(alpn, "h2", 2) == 0) hand_over(sn, bev, 1);
    else { /* h1, or h2 with prior knowledge */
      bufferevent_setcb(bev, sniff_read, NULL, sniff_event, sn);
      if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) sniff_read(bev, sn);
    }
    return;
  }
  if (what & BEV_EVENT_ERROR) {
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (e) px_info("client=%s TLS handshake failed: %s", sn->peer, ERR_reason_error_string(e));
  }
  px_ctx *ctx = sn->ctx;
  free(sn);
  bufferevent_free(bev);
  px_server_client_closed(ctx);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg) {
  px_ctx *ctx = arg;
  struct bufferevent *bev;
  sniff *sn;
  (void)l;
  (void)salen;
  if (ctx->draining || ctx->nclients >= ctx->cfg->max_clients) {
    evutil_closesocket(fd);
    return;
  }
  sn = calloc(1, sizeof(*sn));
  if (!sn) {
    evutil_closesocket(fd);
    return;
  }
  sn->ctx = ctx;
  sn->tls = ctx->server_ssl != NULL;
  if (sa->sa_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
    snprintf(sn->peer, sizeof(sn->peer), "%s:%d", a, ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
    char a[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
    snprintf(sn->peer, sizeof(sn->peer), "[%s]:%d", a, ntohs(in6->sin6_port));
  } else {
    snprintf(sn->peer, sizeof(sn->peer), "unknown");
  }
  int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
  if (ctx->server_ssl) {
    SSL *ssl = SSL_new(ctx->server_ssl);
    bev = ssl ? bufferevent_openssl_socket_new(ctx->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts) : NULL;
    if (!bev && ssl) SSL_free(ssl);
  } else {
    bev = bufferevent_socket_new(ctx->base, fd, opts);
  }
  if (!bev) {
    evutil_closesocket(fd);
    free(sn);
    return;
  }
  ctx->nclients++;
  px_bev_timeouts_ms(bev, SNIFF_TIMEOUT_MS, SNIFF_TIMEOUT_MS); /* handshake / first bytes */
  bufferevent_setcb(bev, ctx->server_ssl ? NULL : sniff_read, NULL, sniff_event, sn);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
  static const unsigned char ours[] = "\x02h2\x08http/1.1";
  (void)ssl;
  (void)arg;
  if (SSL_select_next_proto((unsigned char **)out, outlen, ours, sizeof(ours) - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  return SSL_TLSEXT_ERR_OK;
}

static int setup_tls(px_ctx *ctx) {
  px_config *c = ctx->cfg;
  if (c->tls_cert[0] || c->tls_key[0]) {
    if (!c->tls_cert[0] || !c->tls_key[0]) {
      px_error("--tls-cert and --tls-key go together");
      return SC_ERR_INVALID;
    }
    ctx->server_ssl = SSL_CTX_new(TLS_server_method());
    if (!ctx->server_ssl) return SC_ERR_NOMEM;
    SSL_CTX_set_min_proto_version(ctx->server_ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx->server_ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx->server_ssl, c->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx->server_ssl, c->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx->server_ssl) != 1) {
      px_error("TLS certificate/key %s / %s: %s", c->tls_cert, c->tls_key,
               ERR_reason_error_string(ERR_get_error()));
      return SC_ERR_INVALID;
    }
    SSL_CTX_set_alpn_select_cb(ctx->server_ssl, alpn_select, NULL);
  }
  if (ctx->up_tls) {
    ctx->client_ssl = SSL_CTX_new(TLS_client_method());
    if (!ctx->client_ssl) return SC_ERR_NOMEM;
    SSL_CTX_set_min_proto_version(ctx->client_ssl, TLS1_2_VERSION);
    if (c->upstream_insecure) {
      SSL_CTX_set_verify(ctx->client_ssl, SSL_VERIFY_NONE, NULL);
      px_warn("upstream certificate verification is disabled (upstream.insecure_skip_verify)");
    } else {
      SSL_CTX_set_verify(ctx->client_ssl, SSL_VERIFY_PEER, NULL);
      if (c->upstream_ca[0] ? SSL_CTX_load_verify_locations(ctx->client_ssl, c->upstream_ca, NULL) != 1
                            : SSL_CTX_set_default_verify_paths(ctx->client_ssl) != 1) {
        px_error("cannot load CA certificates %s", c->upstream_ca[0] ? c->upstream_ca : "(system)");
        return SC_ERR_INVALID;
      }
    }
    SSL_CTX_set_alpn_protos(ctx->client_ssl, (const unsigned char *)"\x08http/1.1", 9);
  }
  return 0;
}

static int parse_upstream(px_ctx *ctx) {
  const char *u = ctx->cfg->upstream, *hp;
  char hostport[300];
  size_t len;
  if (!strncmp(u, "http://", 7)) { ctx->up_tls = 0; hp = u + 7; }
  else if (!strncmp(u, "https://", 8)) { ctx->up_tls = 1; hp = u + 8; }
  else { px_error("--upstream must start with http:// or https://: %s", u); return SC_ERR_INVALID; }
  len = strcspn(hp, "/");
  if (len == 0 || len >= sizeof(hostport)) { px_error("bad upstream URL %s", u); return SC_ERR_INVALID; }
  if (hp[len] == '/' && hp[len + 1] != 0) {
    px_error("upstream URL must not have a path (the registry API lives at /v2/): %s", u);
    return SC_ERR_INVALID;
  }
  memcpy(hostport, hp, len);
  hostport[len] = 0;
  if (px_split_hostport(hostport, ctx->up_host, sizeof(ctx->up_host), &ctx->up_port) < 0) {
    const char *h = hostport;
    size_t hl = len;
    if (hostport[0] == '[') { /* [v6] without port */
      h++;
      hl = len >= 2 ? len - 2 : 0;
    }
    if (hl >= sizeof(ctx->up_host)) { px_error("upstream host too long"); return SC_ERR_INVALID; }
    memcpy(ctx->up_host, h, hl);
    ctx->up_host[hl] = 0;
    ctx->up_port = ctx->up_tls ? 443 : 80;
  }
  snprintf(ctx->up_hosthdr, sizeof(ctx->up_hosthdr), "%s", hostport);
  snprintf(ctx->up_origin, sizeof(ctx->up_origin), "%s://%s", ctx->up_tls ? "https" : "http", hostport);
  return 0;
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg) {
  px_ctx *ctx = arg;
  (void)fd;
  (void)what;
  px_warn("drain timeout: %d request(s) still in flight, exiting", ctx->nxchg);
  event_base_loopbreak(ctx->base);
}

static void on_term(evutil_socket_t sig, short what, void *arg) {
  px_ctx *ctx = arg;
  struct timeval tv;
  (void)what;
  if (ctx->draining) {
    px_warn("second signal: exiting now");
    event_base_loopbreak(ctx->base);
    return;
  }
  px_info("signal %d: draining %d in-flight request(s), no new connections", (int)sig, ctx->nxchg);
  ctx->draining = 1;
  if (ctx->listener) {
    evconnlistener_free(ctx->listener);
    ctx->listener = NULL;
  }
  px_h2_drain_all(ctx);
  px_upstream_close_idle(ctx);
  tv = sc_ms_to_timeval(ctx->cfg->drain_timeout_ms);
  ctx->drain_timer = evtimer_new(ctx->base, drain_timeout_cb, ctx);
  if (ctx->drain_timer) evtimer_add(ctx->drain_timer, &tv);
  px_server_check_drained(ctx);
}

int px_server_run(px_config *cfg) {
  px_ctx ctx;
  char host[256];
  int port, rc = 0;
  struct sockaddr_storage ss;
  int sslen = sizeof(ss);

  memset(&ctx, 0, sizeof(ctx));
  ctx.cfg = cfg;
  px_log_set_level(cfg->log_level);
  signal(SIGPIPE, SIG_IGN);
  if (parse_upstream(&ctx) < 0) return SC_ERR_INVALID;
  if (px_split_hostport(cfg->listen, host, sizeof(host), &port) < 0) {
    px_error("--listen must be ADDR:PORT: %s", cfg->listen);
    return SC_ERR_INVALID;
  }
  snprintf(host + strlen(host), sizeof(host) - strlen(host), "%s", "");
  char lspec[300];
  snprintf(lspec, sizeof(lspec), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
  if (evutil_parse_sockaddr_port(lspec, (struct sockaddr *)&ss, &sslen) < 0) {
    px_error("cannot parse listen address %s", cfg->listen);
    return SC_ERR_INVALID;
  }
  if ((rc = setup_tls(&ctx)) < 0) goto out;
  /* the database is created and migrated before anything listens */
  if (sc_store_open(cfg->db, &ctx.store) != 0) {
    px_error("cannot open the database %s%s%s", px_config_db_shown(cfg), ctx.store ? ": " : "",
             ctx.store ? sc_store_errmsg(ctx.store) : "");
    rc = SC_ERR_IO;
    goto out;
  }
  evthread_use_pthreads(); /* scanner threads wake the loop with event_active */
  ctx.base = event_base_new();
  if (!ctx.base) { rc = SC_ERR_NOMEM; goto out; }
  px_metrics_init(&ctx); /* without memory for it, nothing is counted */
  ctx.dns = evdns_base_new(ctx.base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
  if (!ctx.dns) ctx.dns = evdns_base_new(ctx.base, 0); /* no resolv.conf: IP literals still work */
  ctx.listener = evconnlistener_new_bind(ctx.base, on_accept, &ctx, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 512,
                                         (struct sockaddr *)&ss, sslen);
  if (!ctx.listener) {
    px_error("cannot listen on %s: %s", cfg->listen, strerror(errno));
    rc = SC_ERR_IO;
    goto out;
  }
  /* the cache is an optimisation: without memory for it every GET goes upstream */
  ctx.mcache = px_mcache_new();
  ctx.coalesce = px_coalesce_new(ctx.base, px_pull_coalesced);
  ctx.intercept = &px_intercept_customs;
  if (px_dbq_start(&ctx) < 0) {
    px_error("cannot start the database threads");
    rc = SC_ERR_NOMEM;
    goto out;
  }
  if (px_policy_init(&ctx) < 0 || px_gate_init(&ctx) < 0) {
    rc = SC_ERR_INVALID;
    goto out;
  }
  /* before the scan workers: they claim layers as this replica */
  if ((rc = px_replica_start(&ctx)) < 0) goto out;
  if (px_scan_start(&ctx) < 0) {
    px_error("cannot start the scanner threads");
    rc = SC_ERR_NOMEM;
    goto out;
  }
  if (px_refresh_start(&ctx) < 0) {
    rc = SC_ERR_NOMEM;
    goto out;
  }
  if ((rc = px_events_start(&ctx)) < 0) goto out; /* webhooks: before the loop runs and anything emits */
  /* after px_events_start: a moved watched tag emits events */
  if ((rc = px_watch_start(&ctx)) < 0) goto out;
  if ((rc = px_annotate_start(&ctx)) < 0) goto out; /* before the loop runs: scan workers queue its jobs */
  if ((rc = px_sync_start(&ctx)) < 0) goto out; /* after px_events_start and px_annotate_start: its scans use both */
  if ((rc = px_admin_start(&ctx)) < 0) goto out; /* last: it reads everything above */
  ctx.sigterm_ev = evsignal_new(ctx.base, SIGTERM, on_term, &ctx);
  ctx.sigint_ev = evsignal_new(ctx.base, SIGINT, on_term, &ctx);
  evsignal_add(ctx.sigterm_ev, NULL);
  evsignal_add(ctx.sigint_ev, NULL);
  px_info("customs listening on %s (%s), upstream %s", cfg->listen, ctx.server_ssl ? "TLS: h2, http/1.1" : "h2c, http/1.1",
          cfg->upstream);
  event_base_dispatch(ctx.base);
  px_info("customs stopped");
out:
  px_admin_stop(&ctx); /* first: its requests use the database threads and the gate */
  px_watch_stop(&ctx); /* before px_events_stop and px_gate_free: it uses both */
  px_sync_stop(&ctx);  /* before px_annotate_stop, px_events_stop and px_gate_free: its scans use all three */
  px_refresh_stop(&ctx);
  px_scan_stop(&ctx);
  px_replica_stop(&ctx);  /* after every thread that claims layers (scan workers, sync) */
  px_annotate_stop(&ctx); /* after the scan workers, which queue its jobs */
  if (ctx.base) {
    px_gate_shutdown(&ctx); /* queues the last decisions */
    px_dbq_stop(&ctx);      /* writes them, and frees every task */
    px_gate_free(&ctx);
    px_events_stop(&ctx);   /* after every thread that emits (watch, scan workers, database threads) */
    px_policy_shutdown(&ctx);
  }
  px_upstream_close_idle(&ctx);
  px_mcache_free(ctx.mcache);
  px_coalesce_free(ctx.coalesce);
  if (ctx.store) sc_store_close(ctx.store);
  if (ctx.listener) evconnlistener_free(ctx.listener);
  if (ctx.sigterm_ev) event_free(ctx.sigterm_ev);
  if (ctx.sigint_ev) event_free(ctx.sigint_ev);
  if (ctx.drain_timer) event_free(ctx.drain_timer);
  if (ctx.dns) evdns_base_free(ctx.dns, 0);
  if (ctx.base) event_base_free(ctx.base);
  if (ctx.server_ssl) SSL_CTX_free(ctx.server_ssl);
  px_metrics_free(&ctx);
  if (ctx.client_ssl) SSL_CTX_free(ctx.client_ssl);
  return rc;
}
