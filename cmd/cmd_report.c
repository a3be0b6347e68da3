/* cmd_report.c - `customs report [--db PATH] [--format table|json|cyclonedx|sarif|spdx-json]
 * REPO:TAG | REPO@DIGEST`: the report of an image already in the store (an
 * index through its linux/amd64 child), with findings against the current
 * vulnerability data.  Exit: 0, or 1 on error (never 3: no policy here). */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_err.h"
#include "sc_store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct option report_opts[] = {{"db", required_argument, NULL, 'd'},
                                            {"format", required_argument, NULL, 'f'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};

static void report_usage(FILE *f) {
  fprintf(f, "usage: customs report [--db PATH] [--format table|json|cyclonedx|sarif|spdx-json]\n"
             "                     REPO:TAG | REPO@DIGEST\n");
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

static int report(sc_store *st, const char *arg, const char *repo, const char *ref, int is_digest, cmd_fmt fmt) {
  int code = CMD_EXIT_ERROR, rv;
  char digest[72], *image = NULL;
  sc_store_image img;
  sc_inventory inv;
  sc_finding_list fl;
  sc_report_layer *rl = NULL;
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
  for (size_t i = 0; i < img.nlayers; i++) {
    rl[i].digest = img.layers[i].digest;
    rl[i].status = img.layers[i].status;
    rl[i].error = img.layers[i].error;
  }
  if (asprintf(&image, "%s@%s", repo, digest) < 0) {
    image = NULL;
    goto out;
  }
  if ((rv = sc_match_image(st, digest, &fl))) {
    fprintf(stderr, "customs report: %s: vulnerability matching: %s\n", arg, customs_strerror(rv));
    goto out;
  }
  cmd_image ci = {image, repo, is_digest ? NULL : ref, digest, &inv, img.config_json, img.config_len,
                  rl, img.nlayers, &fl};
  code = cmd_print_report(fmt, &ci, NULL);
out:
  sc_finding_list_free(&fl);
  free(image);
  free(rl);
  sc_inventory_free(&inv);
  sc_store_image_free(&img);
  return code;
}

int cmd_report(int argc, char **argv) {
  const char *db = "customs.db";
  cmd_fmt fmt = CMD_FMT_TABLE;
  char repo[512], ref[200];
  int c, is_digest;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:f:h", report_opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
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
  sc_store *st = cmd_open_existing_db("report", db);
  if (!st) return CMD_EXIT_ERROR;
  int code = report(st, arg, repo, ref, is_digest, fmt);
  sc_store_close(st);
  return code;
}
