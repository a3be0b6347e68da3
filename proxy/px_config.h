/* px_config.h - daemon configuration: customs.yaml, then command-line flags.
 *
 * Errors: px_config_load returns 0, SC_ERR_IO (file unreadable) or
 * SC_ERR_INVALID (YAML error or unknown key; `err` gets "file:line:col: msg"). */
#ifndef CUSTOMS_PX_CONFIG_H
#define CUSTOMS_PX_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#define PX_PATH_MAX 1024

typedef struct px_config {
  char listen[256];          /* ADDR:PORT */
  char upstream[PX_PATH_MAX];/* http[s]://host[:port] */
  char upstream_ca[PX_PATH_MAX]; /* CA file for the upstream; empty = system CAs */
  int upstream_insecure;     /* skip upstream certificate verification (testing only) */
  /* customs' own identity at the upstream (scan-on-pull, sync, annotations; px_creds.h) */
  char upstream_username[256];   /* "" = none: the client's Authorization, then anonymous */
  char upstream_password[256];   /* inline password (upstream_password_file wins) */
  char upstream_password_file[PX_PATH_MAX]; /* first line is the password */
  char upstream_token_grant[16]; /* "basic" (default) | "password" | "refresh_token" */
  int proxy_auth;                /* rewrite token realms on the upstream's origin to customs' own */
  char proxy_auth_url[PX_PATH_MAX]; /* customs' address as clients reach it; "" = scheme + Host */
  /* background sync (px_sync.c) */
  int sync_interval_s;           /* seconds between walks of the upstream's catalog; 0 = none */
  int sync_rps;                  /* registry requests a second the sync makes, at most */
  char db[PX_PATH_MAX];           /* db.path or db.url: a SQLite file, or postgres://... (libpq) */
  char policy[PX_PATH_MAX];
  char tls_cert[PX_PATH_MAX];
  char tls_key[PX_PATH_MAX];
  int connect_timeout_ms;    /* upstream connect */
  int upstream_timeout_ms;   /* upstream idle read/write while a request is in flight */
  int client_timeout_ms;     /* client idle */
  int drain_timeout_ms;      /* SIGTERM: longest wait for in-flight requests */
  size_t watermark;          /* bytes buffered per direction before reads pause */
  uint32_t h2_window;        /* per-stream HTTP/2 receive window */
  int max_idle_upstream;     /* pooled keep-alive connections */
  int max_clients;           /* concurrent client connections */
  int log_level;
  /* scanning */
  char spool_dir[PX_PATH_MAX];
  uint64_t spool_max_bytes;  /* per upload, before the scan gives up and fetches later */
  uint64_t spool_total_max_bytes; /* all uploads' spill files together */
  uint64_t scan_min_rate;    /* bytes/s an upload must average (after a grace period) to keep its scanner */
  int scan_max_stream_s;     /* absolute deadline of a stream scan; then the layer is fetched later */
  int scan_workers;          /* 0 = number of cores */
  int scan_wait_ms;          /* how long a final PUT / manifest PUT waits for scans */
  /* vulnerability data refreshed by the daemon */
#define PX_MAX_SOURCES 64 /* db.sources entries: the shipped list (OSV exports and NVD year feeds) has 39 */
  char db_sources[PX_MAX_SOURCES][PX_PATH_MAX]; /* OSV files, directories or http(s) URLs */
  int ndb_sources;
  int db_refresh_s;          /* seconds between refreshes; 0 = never */
  int gate_blobs;            /* refuse blob GETs of layers that belong only to denied images */
  int decisions_days;        /* decisions older than this are deleted; 0 = kept forever */
  /* lineage: watched upstream base tags */
#define PX_MAX_WATCH 64
  char watch[PX_MAX_WATCH][PX_PATH_MAX]; /* "[http://]REGISTRY/REPO:TAG" */
  int nwatch;
  int watch_interval_s;      /* seconds between checks of every watched tag (default 600) */
  char watch_username[256];  /* credentials for watched registries' token realms; "" = anonymous */
  char watch_password_file[PX_PATH_MAX];
  /* webhooks */
#define PX_MAX_WEBHOOKS 16
#define PX_EV_BASE_UPDATED 1u  /* bits of px_webhook_cfg.events */
#define PX_EV_SCAN_COMPLETED 2u
#define PX_EV_PULL_DENIED 4u
  struct px_webhook_cfg {
    char url[PX_PATH_MAX];
    unsigned events;         /* PX_EV_* bits; all when the list is absent */
    char secret[256];        /* HMAC-SHA256 key ("secret", or the first line of "secret_file"); "" = unsigned */
    char format[32];         /* "generic" (default) | "github" | "azure-pipelines" */
    char token_file[PX_PATH_MAX]; /* Authorization for the receiver (github: Bearer; azure: Basic PAT) */
    char ref[256];           /* azure-pipelines: the branch to run ("refs/heads/main") */
  } webhooks[PX_MAX_WEBHOOKS];
  int nwebhooks;
  /* customs' own SBOM and vulnerability report pushed to the registry (px_annotate.c) */
  int annotations_enabled;   /* default 1 */
  char annotations_upstream[PX_PATH_MAX]; /* where to push them; "" = upstream.url */
  /* the admin listener (px_admin.c): JSON API, /metrics, health, dashboard */
  char admin_listen[256];    /* ADDR:PORT; "" = none */
  char admin_token_file[PX_PATH_MAX]; /* bearer token (first line); required off loopback */
} px_config;

void px_config_defaults(px_config *c);
int px_config_load(px_config *c, const char *path, char *err, size_t errlen);
/* A duration as customs.yaml writes it: seconds, or a number with s, m, h
 * or d ("300", "30m", "6h", "1d"), at most a year.  0 or -1 (not one). */
int px_config_parse_duration(const char *val, int *out);
/* cfg->db fit for a log line: a postgres:// URL's password replaced by
 * "***" (a per-thread buffer, valid until the thread's next call). */
const char *px_config_db_shown(const px_config *c);
/* Parses "host:port" or "[v6]:port" into host (cap hostlen) and port. */
int px_split_hostport(const char *s, char *host, size_t hostlen, int *port);
#endif
