/* cmd_serve.c - `customs serve`: the configuration (customs.yaml, then
 * flags) handed to the proxy (px_server_run), which runs until SIGTERM. */
#include "cmd.h"
#include "px_config.h"
#include "px_creds.h"
#include "px_log.h"
#include "px_server.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_opt(char *dst, size_t cap, const char *v, const char *name) {
  if (strlen(v) >= cap) {
    fprintf(stderr, "customs: %s: value too long\n", name);
    return -1;
  }
  memcpy(dst, v, strlen(v) + 1);
  return 0;
}

static void serve_usage(FILE *f) {
  fprintf(f, "usage: customs serve [-c FILE] [--listen ADDR:PORT] [--upstream URL] [--db PATH] [--policy FILE]\n"
             "                     [--tls-cert FILE --tls-key FILE] [--upstream-ca FILE] [--log-level LEVEL]\n"
             "                     [--watch [http://]REGISTRY/REPO:TAG]... [--watch-interval DURATION]\n"
             "                     [--admin-listen ADDR:PORT]\n"
             "                     [--upstream-username USER --upstream-password-file FILE] [--token-grant GRANT]\n"
             "                     [--proxy-auth] [--proxy-auth-url URL] [--sync-interval DURATION] [--sync-rps N]\n");
}

/* --watch-interval, --sync-interval: a duration as db.refresh in
 * customs.yaml, at least 1 s. */
static int parse_interval(const char *s, int *out, const char *name) {
  if (px_config_parse_duration(s, out) != 0 || *out < 1) {
    fprintf(stderr, "customs: %s: expected a duration (30, 10m, 1h, 1d), got '%s'\n", name, s);
    return -1;
  }
  return 0;
}

/* --sync-rps: 1 to SYNC_RPS_MAX requests a second. */
#define SYNC_RPS_MAX 1000
static int parse_rps(const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || end == s || v < 1 || v > SYNC_RPS_MAX) {
    fprintf(stderr, "customs: --sync-rps: expected 1 to %d, got '%s'\n", SYNC_RPS_MAX, s);
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* --watch: appended to the entries of customs.yaml (lineage.watch). */
static int add_watch(px_config *cfg, const char *v) {
  if (cfg->nwatch >= PX_MAX_WATCH) {
    fprintf(stderr, "customs: --watch: at most %d watched tags\n", PX_MAX_WATCH);
    return -1;
  }
  if (copy_opt(cfg->watch[cfg->nwatch], sizeof(cfg->watch[0]), v, "--watch") < 0) return -1;
  cfg->nwatch++;
  return 0;
}

static int parse_level(const char *s, int *level) {
  if (!strcmp(s, "error")) *level = PX_LOG_ERROR;
  else if (!strcmp(s, "warn")) *level = PX_LOG_WARN;
  else if (!strcmp(s, "info")) *level = PX_LOG_INFO;
  else if (!strcmp(s, "debug")) *level = PX_LOG_DEBUG;
  else return -1;
  return 0;
}

int cmd_serve(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, 0, 'c'},   {"listen", required_argument, 0, 'l'},
      {"upstream", required_argument, 0, 'u'}, {"db", required_argument, 0, 'd'},
      {"policy", required_argument, 0, 'p'},   {"tls-cert", required_argument, 0, 'C'},
      {"tls-key", required_argument, 0, 'K'},  {"upstream-ca", required_argument, 0, 'A'},
      {"log-level", required_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},
      {"watch", required_argument, 0, 'W'},    {"watch-interval", required_argument, 0, 'I'},
      {"admin-listen", required_argument, 0, 'a'},
      {"upstream-username", required_argument, 0, 'U'},
      {"upstream-password-file", required_argument, 0, 'P'},
      {"token-grant", required_argument, 0, 'G'}, {"proxy-auth", no_argument, 0, 'X'},
      {"proxy-auth-url", required_argument, 0, 'R'}, {"sync-interval", required_argument, 0, 'S'},
      {"sync-rps", required_argument, 0, 'r'},
      {0, 0, 0, 0}};
  px_config cfg;
  char err[1024];
  int c;
  px_config_defaults(&cfg);
  /* the config file first, so that flags override it wherever they appear */
  for (int i = 1; i < argc - 1; i++)
    if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
      if (px_config_load(&cfg, argv[i + 1], err, sizeof(err)) < 0) {
        fprintf(stderr, "customs: %s\n", err);
        return CMD_EXIT_ERROR;
      }
    }
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    int rc = 0;
    switch (c) {
    case 'c': break;
    case 'l': rc = copy_opt(cfg.listen, sizeof(cfg.listen), optarg, "--listen"); break;
    case 'u': rc = copy_opt(cfg.upstream, sizeof(cfg.upstream), optarg, "--upstream"); break;
    case 'd': rc = copy_opt(cfg.db, sizeof(cfg.db), optarg, "--db"); break;
    case 'p': rc = copy_opt(cfg.policy, sizeof(cfg.policy), optarg, "--policy"); break;
    case 'C': rc = copy_opt(cfg.tls_cert, sizeof(cfg.tls_cert), optarg, "--tls-cert"); break;
    case 'K': rc = copy_opt(cfg.tls_key, sizeof(cfg.tls_key), optarg, "--tls-key"); break;
    case 'A': rc = copy_opt(cfg.upstream_ca, sizeof(cfg.upstream_ca), optarg, "--upstream-ca"); break;
    case 'v': rc = parse_level(optarg, &cfg.log_level); break;
    case 'W': rc = add_watch(&cfg, optarg); break;
    case 'I': rc = parse_interval(optarg, &cfg.watch_interval_s, "--watch-interval"); break;
    case 'U': rc = copy_opt(cfg.upstream_username, sizeof(cfg.upstream_username), optarg, "--upstream-username"); break;
    case 'P':
      rc = copy_opt(cfg.upstream_password_file, sizeof(cfg.upstream_password_file), optarg, "--upstream-password-file");
      break;
    case 'G': rc = copy_opt(cfg.upstream_token_grant, sizeof(cfg.upstream_token_grant), optarg, "--token-grant"); break;
    case 'X': cfg.proxy_auth = 1; break;
    case 'R': rc = copy_opt(cfg.proxy_auth_url, sizeof(cfg.proxy_auth_url), optarg, "--proxy-auth-url"); break;
    case 'S': rc = parse_interval(optarg, &cfg.sync_interval_s, "--sync-interval"); break;
    case 'r': rc = parse_rps(optarg, &cfg.sync_rps); break;
    case 'a': rc = copy_opt(cfg.admin_listen, sizeof(cfg.admin_listen), optarg, "--admin-listen"); break;
    case 'h': serve_usage(stdout); return CMD_EXIT_PASS;
    default: serve_usage(stderr); return CMD_EXIT_ERROR;
    }
    if (rc < 0) return CMD_EXIT_ERROR;
  }
  if (optind < argc) {
    fprintf(stderr, "customs serve: unexpected argument '%s'\n", argv[optind]);
    return CMD_EXIT_ERROR;
  }
  if (px_creds_check(&cfg, err, sizeof(err)) != 0) { /* before anything starts: a typo is not a silent anonymous */
    fprintf(stderr, "customs: %s\n", err);
    return CMD_EXIT_ERROR;
  }
  if (cfg.sync_rps < 1 || cfg.sync_rps > SYNC_RPS_MAX) {
    fprintf(stderr, "customs: sync.requests_per_second: expected 1 to %d\n", SYNC_RPS_MAX);
    return CMD_EXIT_ERROR;
  }
  return px_server_run(&cfg) < 0 ? CMD_EXIT_ERROR : CMD_EXIT_PASS;
}
