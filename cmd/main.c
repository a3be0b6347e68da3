/* main.c - the `customs` binary: a dispatcher to its commands (cmd.h).
 * Nothing here knows what a command does; the usage text is the one place
 * listing them all. */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
} COMMANDS[] = {
    {"serve", cmd_serve}, {"scan", cmd_scan}, {"report", cmd_report}, {"db", cmd_db}, {"policy", cmd_policy},
    {"lineage", cmd_lineage}, {"events", cmd_events},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage:\n"
          "  customs serve  [-c FILE] [--listen ADDR:PORT] [--upstream URL] [--db PATH] [--policy FILE]\n"
          "                 [--tls-cert FILE --tls-key FILE] [--upstream-ca FILE] [--log-level LEVEL]\n"
          "  customs scan   [--db PATH] [--policy FILE] [--format table|json|cyclonedx|sarif|spdx-json]\n"
          "                 [--spool-dir DIR] [--username USER --password-file FILE | --authfile FILE] TARGET\n"
          "  customs db import [--db PATH] FILE...\n"
          "  customs db status [--db PATH]\n"
          "  customs policy check FILE\n"
          "  customs policy explain [--db PATH] [--policy FILE] REPO:TAG | REPO@DIGEST\n"
          "  customs policy replay --policy CANDIDATE [--db PATH] [--since DURATION] [--format table|json]\n"
          "  customs report [--db PATH] [--format table|json|cyclonedx|sarif|spdx-json] REPO:TAG | REPO@DIGEST\n"
          "  customs lineage [--db PATH] [--format table|json] REPO:TAG | REPO@DIGEST\n"
          "  customs events [--db PATH] [--format table|json] [--status S] [--limit N] [--event ID]\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CMD_EXIT_ERROR;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CMD_EXIT_PASS;
  }
  for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
    if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
  fprintf(stderr, "customs: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return CMD_EXIT_ERROR;
}
