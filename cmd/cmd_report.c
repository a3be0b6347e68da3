/* cmd_report.c - `customs report [--db PATH] [--policy FILE] [--format
 * table|json|cyclonedx|sarif|spdx-json] REPO:TAG | REPO@DIGEST`: the report
 * of an image already in the store (an index through its linux/amd64
 * child), with findings against the current vulnerability data.  With
 * --policy the verdict is the pull gate's own judgement (sc_judge_image:
 * the policy's VEX files and, where trusted, the image's VEX referrers,
 * no_data, stale bases), so the report says what a pull would get and why.
 * Exit: 0, 3 when the policy denies the image, 1 on error. */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_store_severity.h"
#include "sc_err.h"
#include "sc_judge.h"
#include "sc_store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const struct option report_opts[] = {{"db", required_argument, NULL, 'd'},
                                            {"policy", required_argument, NULL, 'p'},
                                            {"format", required_argument, NULL, 'f'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};

static void report_usage(FILE *f) {
  fprintf(f, "usage: customs report [--db PATH] [--policy FILE]\n"
             "                      [--format table|json|cyclonedx|sarif|spdx-json] REPO:TAG | REPO@DIGEST\n");
}

/* The stored image for repo:ref (an index resolved to its linux/amd64 child). */
static int load_image(sc_store *st, const char *repo, const char *ref, char digest[72], sc_store_image *img,
                      sc_inventory *inv) {
  char child[72];
  int rv = sc_store_resolve(st, repo, ref, digest);
  if (rv) return rv;
  if (!(rv = sc_store_get_image(st, digest, img)) && img->kind == SC_MANIFEST_INDEX) {
    sc_store_image_free(img);
    if ((rv = sc_store_index_child(st, digest, "linux", "amd64", child)) == 0) {
      memcpy(digest, child, 72);
      rv = sc_store_get_image(st, digest, img);
    }
  }
  return rv ? rv : sc_store_image_inventory(st, digest, inv);
}

static int report(sc_store *st, const char *arg, const char *repo, const char *ref, int is_digest, cmd_fmt fmt,
                  const sc_policy *pol) {
  int code = CMD_EXIT_ERROR, rv;
  char digest[72], *image = NULL;
  sc_store_image img;
  sc_inventory inv;
  sc_finding_list fl;
  sc_report_layer *rl = NULL;
  sc_inventory *linv = NULL; /* img.nlayers of them, each initialised */
  sc_verdict v;
  sc_judge_info info;
  int judged = 0;
  memset(&v, 0, sizeof(v));
  sc_inventory_init(&inv);
  sc_finding_list_init(&fl);
  memset(&img, 0, sizeof(img));
  if ((rv = load_image(st, repo, ref, digest, &img, &inv))) {
    fprintf(stderr, "customs report: %s: %s\n", arg,
            rv == SC_ERR_NOTFOUND ? "image not found in the database"
            : rv == SC_ERR_DB     ? sc_store_errmsg(st)
                                  : customs_strerror(rv));
    goto out;
  }
  if (!(rl = calloc(img.nlayers ? img.nlayers : 1, sizeof(*rl)))) goto out;
  if (!(linv = calloc(img.nlayers ? img.nlayers : 1, sizeof(*linv)))) goto out;
  for (size_t i = 0; i < img.nlayers; i++) {
    rl[i].digest = img.layers[i].digest;
    rl[i].status = img.layers[i].status;
    rl[i].error = img.layers[i].error;
    /* what each cataloger found in this layer, and its notes (a layer not
     * stored, e.g. missing, has none to show) */
    sc_inventory_init(&linv[i]);
    if (rl[i].digest && sc_store_load_layer(st, rl[i].digest, &linv[i]) == 0) rl[i].inv = &linv[i];
  }
  if (asprintf(&image, "%s@%s", repo, digest) < 0) {
    image = NULL;
    goto out;
  }
  if ((rv = sc_match_image(st, digest, &fl)) || (rv = sc_sev_rate_findings(st, &fl))) {
    fprintf(stderr, "customs report: %s: vulnerability matching: %s\n", arg, customs_strerror(rv));
    goto out;
  }
  if (pol) {
    if ((rv = sc_judge_image(st, pol, repo, is_digest ? digest : ref, &img, (int64_t)time(NULL), &v, &info))) {
      fprintf(stderr, "customs report: %s: judging with the policy: %s\n", arg, customs_strerror(rv));
      goto out;
    }
    judged = 1;
  }
  cmd_image ci = {image, repo, is_digest ? NULL : ref, digest, &inv, img.config_json, img.config_len,
                  rl, img.nlayers, &fl, judged ? &v : NULL};
  code = cmd_print_report(fmt, &ci, NULL);
out:
  if (judged) sc_verdict_free(&v);
  sc_finding_list_free(&fl);
  free(image);
  for (size_t i = 0; linv && i < img.nlayers; i++) sc_inventory_free(&linv[i]);
  free(linv);
  free(rl);
  sc_inventory_free(&inv);
  sc_store_image_free(&img);
  return code;
}

int cmd_report(int argc, char **argv) {
  const char *db = "customs.db", *policy = NULL;
  cmd_fmt fmt = CMD_FMT_TABLE;
  char repo[512], ref[200];
  int c, is_digest;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:p:f:h", report_opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'p': policy = optarg; break;
    case 'f':
      if (cmd_parse_format(optarg, &fmt, 1)) { /* the image documents too */
        fprintf(stderr, "customs report: unknown format '%s'\n", optarg);
        return CMD_EXIT_ERROR;
      }
      break;
    case 'h': report_usage(stdout); return CMD_EXIT_PASS;
    default: report_usage(stderr); return CMD_EXIT_ERROR;
    }
  }
  if (optind != argc - 1) {
    report_usage(stderr);
    return CMD_EXIT_ERROR;
  }
  const char *arg = argv[optind];
  is_digest = strchr(arg, '@') != NULL;
  if (cmd_split_ref(arg, repo, sizeof(repo), ref, sizeof(ref)) < 0) {
    fprintf(stderr, "customs report: expected REPO:TAG or REPO@DIGEST, got '%s'\n", arg);
    return CMD_EXIT_ERROR;
  }
  sc_policy *pol = NULL;
  if (policy && !(pol = cmd_load_policy("report", policy))) return CMD_EXIT_ERROR;
  sc_store *st = cmd_open_existing_db("report", db);
  if (!st) {
    sc_policy_free(pol);
    return CMD_EXIT_ERROR;
  }
  int code = report(st, arg, repo, ref, is_digest, fmt, pol);
  sc_store_close(st);
  sc_policy_free(pol);
  return code;
}
