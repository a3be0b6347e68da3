/* cmd_scan.c - `customs scan [--db PATH] [--policy FILE]
 * [--format table|json|cyclonedx|sarif|spdx-json] [--spool-dir DIR] TARGET`.
 *
 * The target (scan_target.h) fills a scan job; here the layers' inventories
 * are merged in layer order, the image is stored and matched against the
 * vulnerability data (--db), and the report is printed (cmd_output.h).
 * Exit: 0 passes, 3 fails the policy, 1 error. */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_store_severity.h"
#include "scan_target.h"
#include "sc_match.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const scan_target TARGETS[] = {
    {"oci:", scan_oci},
    {"docker-archive:", scan_docker_archive},
    {"layer:", scan_layer_file},
    {"docker://", scan_registry},
};

static const struct option scan_opts[] = {
    {"db", required_argument, NULL, 'd'},     {"policy", required_argument, NULL, 'p'},
    {"format", required_argument, NULL, 'f'}, {"spool-dir", required_argument, NULL, 's'},
    {"username", required_argument, NULL, 'U'}, {"password-file", required_argument, NULL, 'P'},
    {"authfile", required_argument, NULL, 'A'},
    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};

static void scan_usage(FILE *f) {
  fprintf(f, "usage: customs scan [--db PATH] [--policy FILE] [--format table|json|cyclonedx|sarif|spdx-json]\n"
             "                   [--spool-dir DIR] [--username USER --password-file FILE | --authfile FILE] TARGET\n"
             "  TARGET: oci:DIR[:REF] | docker-archive:FILE[:REF|:@N] | layer:FILE |"
             " docker://HOST[:PORT]/REPO[:TAG]\n");
}

static int run_target(scan_job *j) {
  for (size_t i = 0; i < sizeof(TARGETS) / sizeof(TARGETS[0]); i++) {
    size_t pl = strlen(TARGETS[i].prefix);
    if (!strncmp(j->target, TARGETS[i].prefix, pl)) return TARGETS[i].scan(j, j->target + pl);
  }
  fprintf(stderr, "customs scan: unknown target '%s'\n", j->target);
  scan_usage(stderr);
  return SC_ERR_ARG;
}

/* Merges, stores, matches and prints a scanned job. */
static int finish(scan_job *j, cmd_fmt fmt, const sc_policy *pol) {
  int code = CMD_EXIT_ERROR, rv;
  sc_inventory img;
  sc_finding_list fl;
  sc_inventory_init(&img);
  sc_finding_list_init(&fl);
  sc_report_layer *rl = calloc(j->n ? j->n : 1, sizeof(*rl));
  if (!rl) goto out;
  for (size_t i = 0; i < j->n; i++) {
    if ((rv = sc_inventory_merge(&img, &j->inv[i]))) goto out;
    /* the manifest's name for the layer, even when the blob did not match it */
    rl[i].digest = j->man.nlayers > i ? j->man.layers[i].digest : NULL;
    if (!rl[i].digest && j->res[i].digest[0]) rl[i].digest = j->res[i].digest;
    rl[i].status = j->status[i];
    rl[i].error = j->res[i].error[0] ? j->res[i].error : NULL;
    rl[i].inv = &j->inv[i];
  }
  if ((rv = sc_inventory_finish(&img))) goto out;
  if (j->digest[0] && j->repo) {
    if (asprintf(&j->image, "%s@%s", j->repo, j->digest) < 0) j->image = NULL;
    if (j->st &&
        sc_store_put_manifest(j->st, j->repo, j->tag, j->digest, &j->man, j->config, j->config_len) != 0) {
      fprintf(stderr, "customs scan: store image: %s\n", sc_store_errmsg(j->st));
      goto out;
    }
    /* findings against the database's vulnerability data, stored with it */
    if (j->st &&
        ((rv = sc_match_store_image(j->st, j->digest, &fl)) != 0 || (rv = sc_sev_rate_findings(j->st, &fl)) != 0)) {
      fprintf(stderr, "customs scan: vulnerability matching: %s\n", customs_strerror(rv));
      goto out;
    }
  }
  cmd_image ci = {j->image ? j->image : j->target, j->repo, j->tag, j->digest[0] ? j->digest : NULL, &img,
                  j->config, j->config_len, rl, j->n, j->st ? &fl : NULL, NULL};
  code = cmd_print_report(fmt, &ci, pol);
out:
  sc_finding_list_free(&fl);
  free(rl);
  sc_inventory_free(&img);
  return code;
}

int cmd_scan(int argc, char **argv) {
  const char *db = NULL, *policy = NULL, *spool = CMD_SPOOL_DIR_DEFAULT;
  const char *user = NULL, *pass_file = NULL, *authfile = NULL;
  cmd_fmt fmt = CMD_FMT_TABLE;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:p:f:s:h", scan_opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'p': policy = optarg; break;
    case 's': spool = optarg; break;
    case 'U': user = optarg; break;
    case 'P': pass_file = optarg; break;
    case 'A': authfile = optarg; break;
    case 'f':
      if (cmd_parse_format(optarg, &fmt, 1)) {
        fprintf(stderr, "customs scan: unknown format '%s'\n", optarg);
        return CMD_EXIT_ERROR;
      }
      break;
    case 'h': scan_usage(stdout); return CMD_EXIT_PASS;
    default: scan_usage(stderr); return CMD_EXIT_ERROR;
    }
  }
  if (optind != argc - 1) {
    scan_usage(stderr);
    return CMD_EXIT_ERROR;
  }
  sc_policy *pol = NULL;
  if (policy && !(pol = cmd_load_policy("scan", policy))) return CMD_EXIT_ERROR;
  scan_job j;
  memset(&j, 0, sizeof(j));
  j.target = argv[optind];
  j.spool_dir = spool;
  j.reg_username = user;
  j.reg_password_file = pass_file;
  j.reg_authfile = authfile;
  sc_limits_default(&j.lim);
  j.lim.spool_dir = spool; /* the catalogers' temp files too */
  if (db && sc_store_open(db, &j.st) != 0) {
    sc_policy_free(pol);
    fprintf(stderr, "customs scan: cannot open database %s\n", cmd_db_shown(db));
    return CMD_EXIT_ERROR;
  }
  j.progress = isatty(STDERR_FILENO);
  int code = CMD_EXIT_ERROR, rv = run_target(&j);
  scan_job_progress_end(&j);
  if (rv && rv != SC_ERR_ARG) fprintf(stderr, "customs scan: %s: %s\n", j.target, customs_strerror(rv));
  if (!rv) code = finish(&j, fmt, pol);
  scan_job_free(&j);
  sc_store_close(j.st);
  sc_policy_free(pol);
  return code;
}
