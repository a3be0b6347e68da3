/* cmd_policy.c - `customs policy check FILE` (exit 0 valid, 1 invalid) and
 * `customs policy explain [--db PATH] [--policy FILE] REPO:TAG|REPO@DIGEST`
 * (exit 0 allow/warn, 3 deny, 1 error): the decision the proxy would make;
 * `customs policy replay` (cmd_replay.c): a candidate on recorded pulls. */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_judge.h"
#include "sc_policy.h"
#include "sc_store.h"
#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int policy_check(int argc, char **argv) {
  sc_policy *p = NULL;
  char *errors = NULL, *warnings = NULL;
  if (argc != 2) {
    fprintf(stderr, "usage: customs policy check FILE\n");
    return 1;
  }
  if (sc_policy_load(argv[1], &p, &errors) != 0) {
    fprintf(stderr, "%s", errors ? errors : "cannot read the policy\n");
    if (errors && errors[strlen(errors) - 1] != '\n') fputc('\n', stderr);
    free(errors);
    return 1;
  }
  free(errors);
  int n = sc_policy_check_expiring(p, (int64_t)time(NULL), 14, &warnings);
  if (n > 0 && warnings) fprintf(stderr, "%s%s", warnings, warnings[strlen(warnings) - 1] == '\n' ? "" : "\n");
  printf("%s: valid: mode %s, unscanned %s, on_error %s, head %s, %zu rule(s), %zu exception(s)%s\n", argv[1],
         sc_policy_mode_of(p) == SC_MODE_AUDIT ? "audit" : "enforce",
         sc_policy_unscanned(p) == SC_UNSCANNED_SCAN ? "scan" : sc_policy_unscanned(p) == SC_UNSCANNED_DENY ? "deny" : "allow",
         sc_policy_on_error(p) == SC_ON_ERROR_DENY ? "deny" : "allow",
         sc_policy_head(p) == SC_HEAD_AUTO ? "auto" : sc_policy_head(p) == SC_HEAD_ALLOW ? "allow" : "deny",
         sc_policy_rule_count(p), sc_policy_exception_count(p), n > 0 ? " (see warnings)" : "");
  free(warnings);
  sc_policy_free(p);
  return 0;
}

static int policy_explain(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'}, {"policy", required_argument, 0, 'p'},
                                       {0, 0, 0, 0}};
  const char *dbpath = "customs.db", *ppath = "/etc/customs/policy.yaml";
  char repo[256], ref[256], digest[72], *errors = NULL;
  sc_store *st = NULL;
  sc_policy *p = NULL;
  sc_store_image img;
  sc_image_facts f;
  sc_verdict v;
  int c, rc = 1, judged = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'd') dbpath = optarg;
    else if (c == 'p') ppath = optarg;
    else return 1;
  }
  if (optind != argc - 1 || cmd_split_ref(argv[optind], repo, sizeof(repo), ref, sizeof(ref)) < 0) {
    fprintf(stderr, "usage: customs policy explain [--db PATH] [--policy FILE] REPO:TAG|REPO@DIGEST\n");
    return 1;
  }
  if (sc_policy_load(ppath, &p, &errors) != 0) {
    fprintf(stderr, "%s\n", errors ? errors : "cannot read the policy");
    free(errors);
    return 1;
  }
  free(errors);
  memset(&img, 0, sizeof(img));
  memset(&v, 0, sizeof(v));
  memset(&f, 0, sizeof(f));
  if (sc_store_open(dbpath, &st) != 0) {
    fprintf(stderr, "customs: cannot open %s\n", cmd_db_shown(dbpath));
    goto out;
  }
  f.repository = repo;
  f.reference = ref;
  f.runs_as_root = -1;
  f.created = -1;
  if (sc_store_resolve(st, repo, ref, digest) != 0 || sc_store_get_image(st, digest, &img) != 0) {
    f.scanned = 0; /* the policy's `unscanned` decides */
  } else if (img.kind == SC_MANIFEST_INDEX) {
    fprintf(stderr, "customs: %s is an index: explain one of its platforms by digest:\n", argv[optind]);
    for (size_t i = 0; i < img.nchildren; i++)
      fprintf(stderr, "  %s@%s  (%s)\n", repo, img.children[i], img.platforms[i] ? img.platforms[i] : "?");
    goto out;
  } else {
    sc_judge_info info;
    if (sc_judge_image(st, p, repo, ref, &img, (int64_t)time(NULL), &v, &info) != 0) {
      fprintf(stderr, "customs: cannot judge %s: %s\n", argv[optind], sc_store_errmsg(st));
      goto out;
    }
    judged = 1;
    f.digest = digest;
    f.nfindings = info.nfindings;
    f.nsecrets = info.nsecrets;
    f.runs_as_root = info.runs_as_root;
  }
  if (!judged && sc_policy_evaluate(p, &f, (int64_t)time(NULL), &v) != 0) {
    fprintf(stderr, "customs: evaluation failed\n");
    goto out;
  }
  printf("image:     %s%s%s\n", argv[optind], f.digest ? " -> " : "", f.digest ? f.digest : " (never scanned)");
  printf("decision:  %s\n", sc_decision_name(v.decision));
  printf("rule:      %s\n", v.rule ? v.rule : "-");
  printf("findings:  %zu vulnerabilities, %zu secrets, runs as root: %s\n", f.nfindings, f.nsecrets,
         f.runs_as_root == 1 ? "yes" : f.runs_as_root == 0 ? "no" : "unknown");
  if (v.message) printf("message:   %s\n", v.message);
  if (v.reasons_json) {
    json_t *reasons = json_loads(v.reasons_json, 0, NULL);
    size_t i;
    json_t *r;
    printf("reasons:\n");
    json_array_foreach(reasons, i, r) {
      char *line = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(DBL_DIG));
      printf("  - %s\n", line ? line : "?");
      free(line);
    }
    json_decref(reasons);
  }
  rc = v.decision == SC_DECISION_DENY ? 3 : 0;
out:
  sc_verdict_free(&v);
  sc_store_image_free(&img);
  if (st) sc_store_close(st);
  sc_policy_free(p);
  return rc;
}


int cmd_policy(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "check")) return policy_check(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "explain")) return policy_explain(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "replay")) return cmd_policy_replay(argc - 1, argv + 1);
  fprintf(stderr, "usage: customs policy check FILE | customs policy explain [--db PATH] [--policy FILE] REF\n"
                  "       customs policy replay --policy CANDIDATE [--db PATH] [--since 7d] [--format table|json]\n");
  return 1;
}
