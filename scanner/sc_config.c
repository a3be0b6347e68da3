/* sc_config.c - OCI / Docker image config facts (see sc_config.h), read
 * with Go's key semantics (sc_gojson) or refused.  Thread: any. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "sc_config.h"
#include "sc_gojson.h"
#include "sc_time.h"

/* ---- how Go clients read a config (sc_gojson) ----
 * Field names are the union, spelled exactly as Go spells them, of
 * image-spec specs-go/v1 Image (with Platform inlined), ImageConfig, RootFS,
 * History, and docker's image.Image / V1Image, container.Config (fields
 * without json tags keep their Go names: "Env", "User", ...), HealthConfig,
 * RootFS ("base_layer" on Windows).  "config" and "container_config" have
 * the same type.  Maps (keys exact, last wins; exact duplicates are refused
 * at load): "ExposedPorts" and "Volumes" (map[string]struct{}), "Labels"
 * (map[string]string).  "Size" is docker's `json:",omitempty"` field. */
static const sc_gojson_type cf_map = {SC_GJ_MAP, NULL, NULL};
static const sc_gojson_field cf_health_fields[] = {
    {"Test", NULL}, {"Interval", NULL}, {"Timeout", NULL}, {"StartPeriod", NULL},
    {"StartInterval", NULL}, {"Retries", NULL}, {NULL, NULL}};
static const sc_gojson_type cf_health = {SC_GJ_STRUCT, cf_health_fields, NULL};
static const sc_gojson_field cf_container_fields[] = {
    {"Hostname", NULL},     {"Domainname", NULL},   {"User", NULL},          {"AttachStdin", NULL},
    {"AttachStdout", NULL}, {"AttachStderr", NULL}, {"ExposedPorts", &cf_map}, {"Tty", NULL},
    {"OpenStdin", NULL},    {"StdinOnce", NULL},    {"Env", NULL},           {"Cmd", NULL},
    {"Healthcheck", &cf_health}, {"ArgsEscaped", NULL}, {"Image", NULL},    {"Volumes", &cf_map},
    {"WorkingDir", NULL},   {"Entrypoint", NULL},   {"NetworkDisabled", NULL}, {"MacAddress", NULL},
    {"OnBuild", NULL},      {"Labels", &cf_map},    {"StopSignal", NULL},    {"StopTimeout", NULL},
    {"Shell", NULL},        {NULL, NULL}};
static const sc_gojson_type cf_container_t = {SC_GJ_STRUCT, cf_container_fields, NULL};
static const sc_gojson_field cf_rootfs_fields[] = {
    {"type", NULL}, {"diff_ids", NULL}, {"base_layer", NULL}, {NULL, NULL}};
static const sc_gojson_type cf_rootfs_t = {SC_GJ_STRUCT, cf_rootfs_fields, NULL};
static const sc_gojson_field cf_history_fields[] = {
    {"created", NULL}, {"author", NULL}, {"created_by", NULL}, {"comment", NULL}, {"empty_layer", NULL},
    {NULL, NULL}};
static const sc_gojson_type cf_history = {SC_GJ_STRUCT, cf_history_fields, NULL};
static const sc_gojson_type cf_histories = {SC_GJ_ARRAY, NULL, &cf_history};
static const sc_gojson_field cf_top_fields[] = {
    {"created", NULL},       {"author", NULL},          {"architecture", NULL},
    {"os", NULL},            {"os.version", NULL},      {"os.features", NULL},
    {"variant", NULL},       {"config", &cf_container_t}, {"container_config", &cf_container_t},
    {"rootfs", &cf_rootfs_t}, {"history", &cf_histories}, {"id", NULL},
    {"parent", NULL},        {"comment", NULL},         {"container", NULL},
    {"docker_version", NULL}, {"Size", NULL},           {NULL, NULL}};
static const sc_gojson_type cf_top = {SC_GJ_STRUCT, cf_top_fields, NULL};

const struct sc_gojson_type *sc_config_gotype(void) {
  return &cf_top;
}

static char *cf_dup(const char *s) {
  return s ? strdup(s) : NULL;
}

/* Copies a string member; absent or null leaves *out NULL. */
static int cf_str(json_t *obj, const char *key, char **out) {
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return SC_ERR_FORMAT;
  return (*out = cf_dup(json_string_value(v))) ? 0 : SC_ERR_NOMEM;
}

/* Appends a copy of s to a list that cannot exceed SC_CONFIG_MAX_ITEMS. */
static int cf_push(char ***v, size_t *n, const char *s, size_t len) {
  if (*n >= SC_CONFIG_MAX_ITEMS) return SC_ERR_LIMIT;
  char **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv) return SC_ERR_NOMEM;
  *v = nv;
  if (!(nv[*n] = strndup(s, len))) return SC_ERR_NOMEM;
  (*n)++;
  return 0;
}

/* Whether the env var name says it carries a secret.  A *_FILE variable
 * (POSTGRES_PASSWORD_FILE=/run/secrets/db) names a file, not a secret. */
static int cf_secret_name(const char *name, size_t len) {
  static const char *const words[] = {"PASSWORD", "SECRET", "TOKEN", "API_KEY", "APIKEY", NULL};
  char up[256];
  if (len == 0 || len >= sizeof up) return 0;
  for (size_t i = 0; i < len; i++) up[i] = (char)toupper((unsigned char)name[i]);
  up[len] = '\0';
  if (len > 5 && strcmp(up + len - 5, "_FILE") == 0) return 0;
  for (size_t i = 0; words[i]; i++)
    if (strstr(up, words[i])) return 1;
  return 0;
}

/* User "" / "root" / "0", with or without a group, is uid 0. */
static int cf_is_root(const char *user) {
  size_t n = strcspn(user, ":");
  return n == 0 || (n == 4 && strncmp(user, "root", 4) == 0) || (n == 1 && user[0] == '0');
}

static int cf_container(sc_image_config *c, json_t *cfg) {
  int rc;
  if ((rc = cf_str(cfg, "User", &c->user))) return rc;

  json_t *ports = json_object_get(cfg, "ExposedPorts"), *v;
  const char *key;
  if (ports && !json_is_null(ports)) {
    if (!json_is_object(ports)) return SC_ERR_FORMAT;
    json_object_foreach(ports, key, v) if ((rc = cf_push(&c->exposed_ports, &c->nports, key, strlen(key)))) return rc;
  }

  json_t *env = json_object_get(cfg, "Env");
  if (env && !json_is_null(env)) {
    if (!json_is_array(env)) return SC_ERR_FORMAT;
    size_t i;
    json_array_foreach(env, i, v) {
      const char *kv = json_string_value(v);
      const char *eq = kv ? strchr(kv, '=') : NULL;
      if (!eq || !eq[1] || !cf_secret_name(kv, (size_t)(eq - kv))) continue;
      if ((rc = cf_push(&c->secret_env, &c->nsecret_env, kv, (size_t)(eq - kv)))) return rc;
    }
  }
  return 0;
}

static int cf_rootfs(sc_image_config *c, json_t *rootfs) {
  json_t *ids = json_object_get(rootfs, "diff_ids"), *v;
  if (!ids || json_is_null(ids)) return 0;
  if (!json_is_array(ids)) return SC_ERR_FORMAT;
  size_t i;
  json_array_foreach(ids, i, v) {
    if (!json_is_string(v)) return SC_ERR_FORMAT;
    int rc = cf_push(&c->diff_ids, &c->ndiff_ids, json_string_value(v), json_string_length(v));
    if (rc) return rc;
  }
  return 0;
}

/* Reads exactly n digits. */
static int cf_num(const char **s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*s)[i])) return SC_ERR_FORMAT;
    v = v * 10 + ((*s)[i] - '0');
  }
  *s += n;
  *out = v;
  return 0;
}

static int cf_expect(const char **s, const char *set) {
  if (!**s || !strchr(set, **s)) return SC_ERR_FORMAT;
  (*s)++;
  return 0;
}

int sc_config_parse_time(const char *s, int64_t *out) {
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
  if (!s || !out) return SC_ERR_ARG;
  if (cf_num(&s, 4, &y) || cf_expect(&s, "-") || cf_num(&s, 2, &mo) || cf_expect(&s, "-") || cf_num(&s, 2, &d) ||
      cf_expect(&s, "Tt ") || cf_num(&s, 2, &h) || cf_expect(&s, ":") || cf_num(&s, 2, &mi) ||
      cf_expect(&s, ":") || cf_num(&s, 2, &sec))
    return SC_ERR_FORMAT;
  if (*s == '.') {
    s++;
    if (!isdigit((unsigned char)*s)) return SC_ERR_FORMAT;
    while (isdigit((unsigned char)*s)) s++;
  }
  if (*s == 'Z' || *s == 'z') {
    s++;
  } else if (*s == '+' || *s == '-') {
    sign = *s++ == '-' ? -1 : 1;
    if (cf_num(&s, 2, &oh) || cf_expect(&s, ":") || cf_num(&s, 2, &om)) return SC_ERR_FORMAT;
  } else {
    return SC_ERR_FORMAT;
  }
  if (*s || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
    return SC_ERR_FORMAT;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return SC_ERR_FORMAT;
  *out = sc_days_from_civil(y, (unsigned)mo, (unsigned)d) * SC_DAY_SECONDS + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
  return 0;
}

static int cf_parse(sc_image_config *c, json_t *root) {
  int rc;
  if (!json_is_object(root)) return SC_ERR_FORMAT;
  if ((rc = cf_str(root, "os", &c->os)) || (rc = cf_str(root, "architecture", &c->architecture)) ||
      (rc = cf_str(root, "variant", &c->variant)))
    return rc;

  json_t *cfg = json_object_get(root, "config");
  if (cfg && !json_is_null(cfg)) {
    if (!json_is_object(cfg)) return SC_ERR_FORMAT;
    if ((rc = cf_container(c, cfg))) return rc;
  }
  if (!c->user && !(c->user = strdup(""))) return SC_ERR_NOMEM;
  c->runs_as_root = cf_is_root(c->user);

  const char *created = json_string_value(json_object_get(root, "created"));
  if (!created || sc_config_parse_time(created, &c->created)) c->created = -1;

  json_t *rootfs = json_object_get(root, "rootfs");
  if (rootfs && !json_is_null(rootfs)) {
    if (!json_is_object(rootfs)) return SC_ERR_FORMAT;
    if ((rc = cf_rootfs(c, rootfs))) return rc;
  }
  return 0;
}

static int config_read(const char *json, size_t len, sc_image_config *out, char *why, size_t cap) {
  if (why && cap) why[0] = '\0';
  if (!out) return SC_ERR_ARG;
  memset(out, 0, sizeof *out);
  out->created = -1;
  if (!json) return SC_ERR_ARG;
  if (len > SC_CONFIG_MAX_BYTES) {
    if (why && cap) snprintf(why, cap, "config of %zu bytes, more than %u", len, SC_CONFIG_MAX_BYTES);
    return SC_ERR_LIMIT;
  }
  json_t *root = NULL;
  int rc = sc_gojson_load(json, len, &root, why, cap);
  if (rc) return rc;
  if ((rc = sc_gojson_check(root, &cf_top, why, cap)) == 0 && (rc = cf_parse(out, root)) != 0 && why && cap) {
    if (rc == SC_ERR_LIMIT) snprintf(why, cap, "more than %d ports, secret env names or diff_ids", SC_CONFIG_MAX_ITEMS);
    else if (rc == SC_ERR_NOMEM) snprintf(why, cap, "out of memory");
    else snprintf(why, cap, "config is not an object, or a member it reads has the wrong type");
  }
  json_decref(root);
  return rc;
}

int sc_config_parse(const char *json, size_t len, sc_image_config *out) {
  return config_read(json, len, out, NULL, 0);
}

int sc_config_check(const char *json, size_t len, char *why, size_t whycap) {
  sc_image_config c;
  int rc = config_read(json, len, &c, why, whycap);
  sc_config_free(&c);
  if (rc == SC_ERR_ARG && why && whycap) snprintf(why, whycap, "no config");
  return rc;
}

static void cf_free_list(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

void sc_config_free(sc_image_config *c) {
  if (!c) return;
  free(c->os);
  free(c->architecture);
  free(c->variant);
  free(c->user);
  cf_free_list(c->exposed_ports, c->nports);
  cf_free_list(c->secret_env, c->nsecret_env);
  cf_free_list(c->diff_ids, c->ndiff_ids);
  memset(c, 0, sizeof *c);
  c->created = -1;
}
