/* main.c - the `customs` command: serve, scan, db, policy, report. */
#include "px_cmd.h"
#include "px_config.h"
#include "px_dbcmd.h"
#include "px_log.h"
#include "px_policycmd.h"
#include "px_server.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
          "usage:\n"
          "  customs serve  [-c FILE] [--listen ADDR:PORT] [--upstream URL] [--db PATH] [--policy FILE]\n"
          "                 [--tls-cert FILE --tls-key FILE] [--upstream-ca FILE] [--log-level LEVEL]\n"
          "  customs scan   [--db PATH] [--policy FILE] [--format table|json|cyclonedx] TARGET\n"
          "  customs db import [--db PATH] FILE...\n"
          "  customs db status [--db PATH]\n"
          "  customs policy check FILE\n"
          "  customs policy explain [--db PATH] [--policy FILE] REPO:TAG | REPO@DIGEST\n"
          "  customs report [--db PATH] [--format table|json] REPO:TAG | REPO@DIGEST\n");
}

static int copy_opt(char *dst, size_t cap, const char *v, const char *name) {
  if (strlen(v) >= cap) {
    fprintf(stderr, "customs: %s: value too long\n", name);
    return -1;
  }
  memcpy(dst, v, strlen(v) + 1);
  return 0;
}

static int cmd_serve(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, 0, 'c'},   {"listen", required_argument, 0, 'l'},
      {"upstream", required_argument, 0, 'u'}, {"db", required_argument, 0, 'd'},
      {"policy", required_argument, 0, 'p'},   {"tls-cert", required_argument, 0, 'C'},
      {"tls-key", required_argument, 0, 'K'},  {"upstream-ca", required_argument, 0, 'A'},
      {"log-level", required_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},
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
        return 1;
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
    case 'v':
      if (!strcmp(optarg, "error")) cfg.log_level = PX_LOG_ERROR;
      else if (!strcmp(optarg, "warn")) cfg.log_level = PX_LOG_WARN;
      else if (!strcmp(optarg, "info")) cfg.log_level = PX_LOG_INFO;
      else if (!strcmp(optarg, "debug")) cfg.log_level = PX_LOG_DEBUG;
      else rc = -1;
      break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 1;
    }
    if (rc < 0) return 1;
  }
  if (optind < argc) {
    fprintf(stderr, "customs serve: unexpected argument '%s'\n", argv[optind]);
    return 1;
  }
  return px_server_run(&cfg) < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  if (!strcmp(argv[1], "serve")) return cmd_serve(argc - 1, argv + 1);
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "scan")) return px_cmd_scan(argc - 1, argv + 1);
  if (!strcmp(argv[1], "report")) return px_cmd_report(argc - 1, argv + 1);
  if (!strcmp(argv[1], "policy")) return px_cmd_policy(argc - 1, argv + 1);
  if (!strcmp(argv[1], "db")) return px_cmd_db(argc - 1, argv + 1);
  fprintf(stderr, "customs: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 1;
}
