/* cmd_output.c - reports of `customs scan` / `customs report` (cmd_output.h). */
#include "cmd_output.h"
#include "sc_db.h"
#include "cmd.h"
#include "sc_err.h"
#include "sc_config.h"

#include "sc_store.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void cmd_fmt_time(long long t, char out[CMD_TIME_BYTES]) {
  struct tm tm;
  time_t tt = (time_t)t;
  out[0] = 0;
  if (t > 0 && gmtime_r(&tt, &tm)) strftime(out, CMD_TIME_BYTES, "%Y-%m-%dT%H:%M:%SZ", &tm);
  else snprintf(out, CMD_TIME_BYTES, "never");
}

int cmd_split_ref(const char *arg, char *repo, size_t rcap, char *ref, size_t fcap) {
  const char *at = strchr(arg, '@'), *colon = strrchr(arg, ':');
  const char *sep = at ? at : (colon && !strchr(colon, '/')) ? colon : NULL;
  if (!sep || sep == arg || (size_t)(sep - arg) >= rcap || strlen(sep + 1) >= fcap || !sep[1]) return -1;
  memcpy(repo, arg, (size_t)(sep - arg));
  repo[sep - arg] = 0;
  snprintf(ref, fcap, "%s", sep + 1);
  return 0;
}

const char *cmd_db_shown(const char *path) {
  static char shown[SC_DB_URL_BYTES];
  return sc_db_url_redact(path, shown, sizeof(shown));
}

sc_store *cmd_open_existing_db(const char *cmd, const char *path) {
  struct stat sb;
  sc_store *st = NULL;
  /* do not create an empty database file to read from (a PostgreSQL
   * database exists or the connection fails; its schema is migrated) */
  if (!sc_db_url_is_pg(path) && stat(path, &sb) != 0)
    fprintf(stderr, "customs %s: database %s: %s\n", cmd, path, strerror(errno));
  else if (sc_store_open(path, &st) != 0)
    fprintf(stderr, "customs %s: cannot open database %s\n", cmd, cmd_db_shown(path));
  return st;
}

sc_policy *cmd_load_policy(const char *cmd, const char *path) {
  sc_policy *p = NULL;
  char *errors = NULL;
  if (sc_policy_load(path, &p, &errors) != 0) {
    fprintf(stderr, "customs %s: %s\n", cmd, errors ? errors : "cannot read the policy");
    p = NULL;
  }
  free(errors);
  return p;
}

int cmd_parse_format(const char *s, cmd_fmt *f, int allow_cdx) {
  if (!strcmp(s, "table")) *f = CMD_FMT_TABLE;
  else if (!strcmp(s, "json")) *f = CMD_FMT_JSON;
  else if (allow_cdx && !strcmp(s, "cyclonedx")) *f = CMD_FMT_CYCLONEDX;
  else if (allow_cdx && !strcmp(s, "sarif")) *f = CMD_FMT_SARIF;
  else if (allow_cdx && !strcmp(s, "spdx-json")) *f = CMD_FMT_SPDX;
  else return -1;
  return 0;
}

static int emit(cmd_fmt fmt, const sc_report_input *in, json_t *report) {
  int rv = 0;
  if (fmt == CMD_FMT_CYCLONEDX || fmt == CMD_FMT_SARIF || fmt == CMD_FMT_SPDX) {
    json_t *bom = fmt == CMD_FMT_SARIF  ? sc_report_sarif(in)
                  : fmt == CMD_FMT_SPDX ? sc_report_spdx(in)
                                        : sc_report_cyclonedx(in);
    rv = bom ? sc_report_write_json(bom, stdout) : SC_ERR_NOMEM;
    json_decref(bom);
  } else if (fmt == CMD_FMT_JSON) {
    rv = sc_report_write_json(report, stdout);
  } else {
    rv = sc_report_table(report, stdout);
  }
  if (rv) fprintf(stderr, "customs: cannot write the report: %s\n", customs_strerror(rv));
  return rv;
}

/* Replaces the report's verdict with v's. */
static void set_verdict(json_t *r, const sc_verdict *v) {
  json_t *verdict = json_object();
  json_t *reasons = v->reasons_json ? json_loads(v->reasons_json, 0, NULL) : NULL;
  json_object_set_new(verdict, "decision", json_string(sc_decision_name(v->decision)));
  json_object_set_new(verdict, "reasons", reasons ? reasons : json_array());
  if (v->rule) json_object_set_new(verdict, "rule", json_string(v->rule));
  if (v->message) json_object_set_new(verdict, "message", json_string(v->message));
  json_object_set_new(r, "verdict", verdict);
}

/* Replaces the report's verdict with the policy's. */
static int apply_policy(json_t *r, const sc_policy *pol, const cmd_image *img, const sc_image_config *cfg) {
  sc_image_facts f;
  sc_verdict v;
  memset(&f, 0, sizeof(f));
  memset(&v, 0, sizeof(v));
  f.repository = img->repo ? img->repo : "local";
  f.reference = img->tag;
  f.digest = img->digest;
  f.findings = img->findings ? img->findings->v : NULL;
  f.nfindings = img->findings ? img->findings->n : 0;
  f.packages = img->inv->pkgs;
  f.npackages = img->inv->npkgs;
  f.secrets = img->inv->secrets;
  f.nsecrets = img->inv->nsecrets;
  f.runs_as_root = cfg ? cfg->runs_as_root : -1;
  f.created = cfg ? cfg->created : -1;
  f.scanned = 1;
  for (size_t i = 0; i < img->nlayers; i++)
    if (img->layers[i].status && strcmp(img->layers[i].status, "ok") != 0) f.scan_failed = 1;
  if (sc_policy_evaluate(pol, &f, (int64_t)time(NULL), &v) != 0) return SC_ERR_NOMEM;
  set_verdict(r, &v);
  sc_verdict_free(&v);
  return 0;
}

int cmd_print_report(cmd_fmt fmt, const cmd_image *img, const sc_policy *pol) {
  sc_image_config cfg;
  int have_cfg = img->config && sc_config_parse(img->config, img->config_len, &cfg) == 0;
  if (img->config && !have_cfg) {
    fprintf(stderr, "customs: %s: image config unparseable, config facts left out\n", img->image);
    sc_config_free(&cfg);
  }
  sc_report_input in = {img->image, img->repo, img->tag, img->digest, img->inv, have_cfg ? &cfg : NULL,
                        img->layers, img->nlayers, img->findings};
  json_t *r = sc_report_json(&in);
  if (r && img->verdict) set_verdict(r, img->verdict);
  else if (r && pol && apply_policy(r, pol, img, have_cfg ? &cfg : NULL)) {
    json_decref(r);
    r = NULL;
  }
  int rv = r ? emit(fmt, &in, r) : SC_ERR_NOMEM;
  if (!r) fprintf(stderr, "customs: out of memory\n");
  const char *d = json_string_value(json_object_get(json_object_get(r, "verdict"), "decision"));
  int code = rv ? CMD_EXIT_ERROR : (d && !strcmp(d, "deny")) ? CMD_EXIT_DENY : CMD_EXIT_PASS;
  json_decref(r);
  if (have_cfg) sc_config_free(&cfg);
  return code;
}
