/* px_config.c - customs.yaml reader.
 *
 * The file is loaded as a libyaml document tree and walked: a mapping of
 * sections of scalars, whose keys are flattened to "section.key" and looked
 * up in a table; the lists db.sources and lineage.watch; and the top-level
 * list `webhooks:` of mappings.  An unknown or misspelt key, event or
 * format is an error with its file:line:col rather than a silently ignored
 * setting.  A later key overrides an earlier one; px_config_load adds to
 * what the config holds (defaults, or an earlier file). */
#include "px_config.h"
#include "sc_db.h"
#include "sc_file.h"
#include "px_headers.h"
#include "px_log.h"
#include "sc_tmpfile.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void px_config_defaults(px_config *c) {
  memset(c, 0, sizeof(*c));
  snprintf(c->listen, sizeof(c->listen), "127.0.0.1:5000");
  snprintf(c->upstream, sizeof(c->upstream), "http://127.0.0.1:5001");
  snprintf(c->db, sizeof(c->db), "customs.db");
  c->connect_timeout_ms = 10000;
  c->upstream_timeout_ms = 300000;
  c->client_timeout_ms = 300000;
  c->drain_timeout_ms = 30000;
  c->watermark = 256 * 1024;
  c->h2_window = 4 * 1024 * 1024;
  c->max_idle_upstream = 64;
  c->max_clients = 4096;
  c->log_level = PX_LOG_INFO;
  snprintf(c->spool_dir, sizeof(c->spool_dir), "%s", SC_SPOOL_DIR_DEFAULT);
  c->spool_max_bytes = 20ULL << 30;
  c->spool_total_max_bytes = 64ULL << 30;
  c->scan_min_rate = 16 * 1024;
  c->scan_max_stream_s = 6 * 3600;
  c->scan_workers = 0;
  c->scan_wait_ms = 20000;
  c->decisions_days = 90;
  c->watch_interval_s = 600;
  c->annotations_enabled = 1;
  snprintf(c->upstream_token_grant, sizeof(c->upstream_token_grant), "basic");
  c->sync_rps = 5;
}

enum kind { K_STR, K_INT, K_BOOL, K_SIZE, K_LOGLEVEL, K_DURATION };
struct key {
  const char *name;
  enum kind kind;
  size_t off, len;
};
#define S(n, f) {n, K_STR, offsetof(px_config, f), sizeof(((px_config *)0)->f)}
#define I(n, f) {n, K_INT, offsetof(px_config, f), sizeof(int)}
static const struct key keys[] = {
    S("listen", listen),
    S("upstream.url", upstream),
    S("upstream.ca_file", upstream_ca),
    {"upstream.insecure_skip_verify", K_BOOL, offsetof(px_config, upstream_insecure), sizeof(int)},
    I("upstream.connect_timeout_ms", connect_timeout_ms),
    I("upstream.timeout_ms", upstream_timeout_ms),
    I("upstream.max_idle_connections", max_idle_upstream),
    S("upstream.username", upstream_username),
    S("upstream.password", upstream_password),
    S("upstream.password_file", upstream_password_file),
    S("upstream.token_grant", upstream_token_grant),
    {"upstream.proxy_auth", K_BOOL, offsetof(px_config, proxy_auth), sizeof(int)},
    S("upstream.proxy_auth_url", proxy_auth_url),
    {"sync.interval", K_DURATION, offsetof(px_config, sync_interval_s), sizeof(int)},
    I("sync.requests_per_second", sync_rps),
    S("db.path", db),
    S("db.url", db), /* the same setting: a postgres:// URL reads better as db.url */
    S("policy", policy),
    S("admin.listen", admin_listen),
    {"annotations.enabled", K_BOOL, offsetof(px_config, annotations_enabled), sizeof(int)},
    S("annotations.upstream", annotations_upstream),
    S("admin.token_file", admin_token_file),
    S("tls.cert", tls_cert),
    S("tls.key", tls_key),
    I("limits.client_timeout_ms", client_timeout_ms),
    I("limits.drain_timeout_ms", drain_timeout_ms),
    {"limits.buffer_bytes", K_SIZE, offsetof(px_config, watermark), sizeof(size_t)},
    {"limits.h2_window_bytes", K_SIZE, offsetof(px_config, h2_window), sizeof(uint32_t)},
    I("limits.max_clients", max_clients),
    {"log.level", K_LOGLEVEL, offsetof(px_config, log_level), sizeof(int)},
    S("scan.spool_dir", spool_dir),
    {"scan.spool_max_bytes", K_SIZE, offsetof(px_config, spool_max_bytes), sizeof(uint64_t)},
    {"scan.spool_total_max_bytes", K_SIZE, offsetof(px_config, spool_total_max_bytes), sizeof(uint64_t)},
    {"scan.min_rate_bytes", K_SIZE, offsetof(px_config, scan_min_rate), sizeof(uint64_t)},
    {"scan.max_stream", K_DURATION, offsetof(px_config, scan_max_stream_s), sizeof(int)},
    I("scan.workers", scan_workers),
    I("scan.wait_ms", scan_wait_ms),
    {"db.refresh", K_DURATION, offsetof(px_config, db_refresh_s), sizeof(int)},
    {"lineage.watch_interval", K_DURATION, offsetof(px_config, watch_interval_s), sizeof(int)},
    S("lineage.username", watch_username),
    S("lineage.password_file", watch_password_file),
    {"gate.blobs", K_BOOL, offsetof(px_config, gate_blobs), sizeof(int)},
    I("db.decisions_days", decisions_days),
};

const char *px_config_db_shown(const px_config *c) {
  static _Thread_local char shown[SC_DB_URL_BYTES];
  return sc_db_url_redact(c->db, shown, sizeof(shown));
}

int px_config_parse_duration(const char *val, int *out) {
  char *end;
  errno = 0;
  long v = strtol(val, &end, 10);
  long mul = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 1;
  if (*end == 's' || mul > 1) end++;
  if (errno || end == val || *end || v < 0 || v > 365L * 86400 / mul) return -1;
  *out = (int)(v * mul);
  return 0;
}

static int set_key(px_config *c, const char *name, const char *val, char *err, size_t errlen) {
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    const struct key *k = &keys[i];
    char *end;
    if (strcmp(k->name, name) != 0) continue;
    void *p = (char *)c + k->off;
    switch (k->kind) {
    case K_STR:
      if (strlen(val) >= k->len) return snprintf(err, errlen, "value of %s too long", name), -1;
      memcpy(p, val, strlen(val) + 1);
      return 0;
    case K_INT: {
      errno = 0;
      long v = strtol(val, &end, 10);
      if (errno || *end || v < 0 || v > 1000000000L)
        return snprintf(err, errlen, "%s: expected a non-negative integer, got '%s'", name, val), -1;
      *(int *)p = (int)v;
      return 0;
    }
    case K_SIZE: {
      errno = 0;
      unsigned long long v = strtoull(val, &end, 10);
      if (errno || end == val) return snprintf(err, errlen, "%s: expected a size, got '%s'", name, val), -1;
      if (*end == 'K' || *end == 'k') v <<= 10, end++;
      else if (*end == 'M') v <<= 20, end++;
      else if (*end == 'G') v <<= 30, end++;
      if (*end == 'i') end++;
      if (*end == 'B') end++;
      if (*end) return snprintf(err, errlen, "%s: bad size suffix in '%s'", name, val), -1;
      if (k->len == sizeof(uint32_t)) {
        if (v > 0x7fffffffULL) return snprintf(err, errlen, "%s: too large", name), -1;
        *(uint32_t *)p = (uint32_t)v;
      } else if (k->len == sizeof(size_t)) {
        *(size_t *)p = (size_t)v;
      } else {
        *(uint64_t *)p = v;
      }
      return 0;
    }
    case K_BOOL:
      if (!strcmp(val, "true") || !strcmp(val, "yes")) *(int *)p = 1;
      else if (!strcmp(val, "false") || !strcmp(val, "no")) *(int *)p = 0;
      else return snprintf(err, errlen, "%s: expected true or false", name), -1;
      return 0;
    case K_DURATION:
      if (px_config_parse_duration(val, (int *)p) != 0)
        return snprintf(err, errlen, "%s: expected a duration (300, 30m, 6h, 1d), got '%s'", name, val), -1;
      return 0;
    case K_LOGLEVEL: {
      static const char *lv[] = {"error", "warn", "info", "debug"};
      for (int j = 0; j < 4; j++)
        if (!strcmp(val, lv[j])) return *(int *)p = j, 0;
      return snprintf(err, errlen, "log.level: expected error|warn|info|debug"), -1;
    }
    }
  }
  snprintf(err, errlen, "unknown key '%s'", name);
  return -1;
}

/* ---- the document tree -------------------------------------------------- */

typedef struct loader {
  px_config *c;
  yaml_document_t *doc;
  const char *path;
  char *err;
  size_t errlen;
} loader;

/* "file:line:col: msg" at node n; returns -1. */
static int fail_at(loader *L, const yaml_node_t *n, const char *fmt, const char *a, const char *b) {
  char msg[600];
  snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
  snprintf(L->err, L->errlen, "%s:%zu:%zu: %s", L->path, n->start_mark.line + 1, n->start_mark.column + 1, msg);
  return -1;
}

static const char *scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A sequence of non-empty scalars into out[max][PX_PATH_MAX]. */
static int load_list(loader *L, const yaml_node_t *seq, const char *name, char (*out)[PX_PATH_MAX], int max,
                     int *n) {
  char lim[64];
  if (seq->type != YAML_SEQUENCE_NODE) return fail_at(L, seq, "%s: expected a list", name, NULL);
  *n = 0;
  snprintf(lim, sizeof(lim), "%d entries of at most %d bytes", max, PX_PATH_MAX - 1);
  for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
    const yaml_node_t *e = yaml_document_get_node(L->doc, *it);
    const char *v = scalar(e);
    if (!v) return fail_at(L, e, "%s: entries are strings", name, NULL);
    if (*n >= max || !v[0] || strlen(v) >= PX_PATH_MAX) return fail_at(L, e, "%s: at most %s", name, lim);
    memcpy(out[(*n)++], v, strlen(v) + 1);
  }
  return 0;
}

static int set_at(loader *L, const yaml_node_t *valnode, const char *full) {
  char msg[512];
  const char *v = scalar(valnode);
  if (!v) return fail_at(L, valnode, "%s: expected a single value", full, NULL);
  if (set_key(L->c, full, v, msg, sizeof(msg)) < 0) return fail_at(L, valnode, "%s", msg, NULL);
  return 0;
}

static int copy_field(loader *L, const yaml_node_t *n, const char *name, char *dst, size_t cap) {
  const char *v = scalar(n);
  if (!v) return fail_at(L, n, "webhooks: %s: expected a single value", name, NULL);
  if (strlen(v) >= cap) return fail_at(L, n, "webhooks: %s: too long", name, NULL);
  memcpy(dst, v, strlen(v) + 1);
  return 0;
}

/* One entry of `webhooks:`, a mapping {url, events, secret | secret_file,
 * format, token_file, ref}. */
static int load_webhook(loader *L, const yaml_node_t *m) {
  static const char *const EVNAMES[] = {"base-image-updated", "scan-completed", "pull-denied"};
  static const unsigned EVBITS[] = {PX_EV_BASE_UPDATED, PX_EV_SCAN_COMPLETED, PX_EV_PULL_DENIED};
  static const char *const FORMATS[] = {"generic", "github", "azure-pipelines"};
  px_config *c = L->c;
  char secret_file[PX_PATH_MAX] = "";
  const yaml_node_t *secret_node = NULL, *secret_file_node = NULL;
  if (m->type != YAML_MAPPING_NODE)
    return fail_at(L, m, "webhooks: each entry is a mapping {url, events, secret, format, ...}", NULL, NULL);
  if (c->nwebhooks >= PX_MAX_WEBHOOKS) {
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", PX_MAX_WEBHOOKS);
    return fail_at(L, m, "webhooks: at most %s entries", lim, NULL);
  }
  struct px_webhook_cfg *w = &c->webhooks[c->nwebhooks];
  memset(w, 0, sizeof(*w));
  w->events = PX_EV_BASE_UPDATED | PX_EV_SCAN_COMPLETED | PX_EV_PULL_DENIED;
  snprintf(w->format, sizeof(w->format), "generic");
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    const yaml_node_t *kn = yaml_document_get_node(L->doc, p->key), *vn = yaml_document_get_node(L->doc, p->value);
    const char *k = scalar(kn);
    int rc = 0;
    if (!k) return fail_at(L, kn, "webhooks: keys are strings", NULL, NULL);
    if (!strcmp(k, "url")) {
      rc = copy_field(L, vn, k, w->url, sizeof(w->url));
      if (!rc && strncmp(w->url, "http://", 7) && strncmp(w->url, "https://", 8))
        return fail_at(L, vn, "webhooks: url must be http:// or https://, got '%s'", w->url, NULL);
    } else if (!strcmp(k, "events")) {
      if (vn->type != YAML_SEQUENCE_NODE || vn->data.sequence.items.start == vn->data.sequence.items.top)
        return fail_at(L, vn, "webhooks: events: expected a non-empty list of %s", "base-image-updated, "
                       "scan-completed, pull-denied", NULL);
      w->events = 0;
      for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
        const yaml_node_t *e = yaml_document_get_node(L->doc, *it);
        const char *name = scalar(e);
        int j = 0;
        while (j < 3 && (!name || strcmp(name, EVNAMES[j]))) j++;
        if (j == 3)
          return fail_at(L, e, "webhooks: unknown event '%s' (base-image-updated, scan-completed, pull-denied)",
                         name ? name : "?", NULL);
        w->events |= EVBITS[j];
      }
    } else if (!strcmp(k, "secret")) {
      secret_node = vn;
      rc = copy_field(L, vn, k, w->secret, sizeof(w->secret));
    } else if (!strcmp(k, "secret_file")) {
      secret_file_node = vn;
      rc = copy_field(L, vn, k, secret_file, sizeof(secret_file));
    } else if (!strcmp(k, "format")) {
      rc = copy_field(L, vn, k, w->format, sizeof(w->format));
      int j = 0;
      while (!rc && j < 3 && strcmp(w->format, FORMATS[j])) j++;
      if (!rc && j == 3)
        return fail_at(L, vn, "webhooks: unknown format '%s' (generic, github, azure-pipelines)", w->format, NULL);
    } else if (!strcmp(k, "token_file")) {
      rc = copy_field(L, vn, k, w->token_file, sizeof(w->token_file));
    } else if (!strcmp(k, "ref")) {
      rc = copy_field(L, vn, k, w->ref, sizeof(w->ref));
    } else {
      return fail_at(L, kn, "unknown key 'webhooks.%s'", k, NULL);
    }
    if (rc) return rc;
  }
  if (!w->url[0]) return fail_at(L, m, "webhooks: an entry without url", NULL, NULL);
  if (secret_node && secret_file_node)
    return fail_at(L, secret_file_node, "webhooks: secret and secret_file are exclusive", NULL, NULL);
  if (secret_file_node && sc_read_secret(secret_file, w->secret, sizeof(w->secret)) < 0)
    return fail_at(L, secret_file_node, "webhooks: secret_file %s: unreadable, empty, or longer than 255 bytes",
                   secret_file, NULL);
  for (int i = 0; i < c->nwebhooks; i++)
    if (!strcmp(c->webhooks[i].url, w->url) && !strcmp(c->webhooks[i].format, w->format))
      return fail_at(L, m, "webhooks: %s is listed twice with format %s", w->url, w->format);
  c->nwebhooks++;
  return 0;
}

/* A section: a mapping of scalars, plus the lists db.sources and lineage.watch. */
static int load_section(loader *L, const char *section, const yaml_node_t *m) {
  char full[300];
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    const yaml_node_t *kn = yaml_document_get_node(L->doc, p->key), *vn = yaml_document_get_node(L->doc, p->value);
    const char *k = scalar(kn);
    int rc;
    if (!k) return fail_at(L, kn, "%s: keys are strings", section, NULL);
    snprintf(full, sizeof(full), "%s.%s", section, k);
    if (!strcmp(full, "db.sources"))
      rc = load_list(L, vn, full, L->c->db_sources, PX_MAX_SOURCES, &L->c->ndb_sources);
    else if (!strcmp(full, "lineage.watch"))
      rc = load_list(L, vn, full, L->c->watch, PX_MAX_WATCH, &L->c->nwatch);
    else if (vn->type != YAML_SCALAR_NODE)
      return fail_at(L, vn, "unexpected structure at '%s' (a section holds single values)", full, NULL);
    else rc = set_at(L, vn, full);
    if (rc) return rc;
  }
  return 0;
}

static int load_root(loader *L, const yaml_node_t *root) {
  if (!root) return 0; /* an empty document */
  if (root->type == YAML_SCALAR_NODE && !root->data.scalar.length) return 0;
  if (root->type != YAML_MAPPING_NODE)
    return fail_at(L, root, "unexpected structure (customs.yaml is a mapping of sections)", NULL, NULL);
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
    const yaml_node_t *kn = yaml_document_get_node(L->doc, p->key), *vn = yaml_document_get_node(L->doc, p->value);
    const char *k = scalar(kn);
    int rc;
    if (!k) return fail_at(L, kn, "keys are strings", NULL, NULL);
    if (!strcmp(k, "webhooks")) {
      if (vn->type != YAML_SEQUENCE_NODE) return fail_at(L, vn, "webhooks: expected a list of mappings", NULL, NULL);
      for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++)
        if ((rc = load_webhook(L, yaml_document_get_node(L->doc, *it))) != 0) return rc;
      continue;
    }
    if (vn->type == YAML_MAPPING_NODE) rc = load_section(L, k, vn);
    else if (vn->type == YAML_SCALAR_NODE) /* `upstream: URL` is short for `upstream: {url: URL}`, likewise db */
      rc = set_at(L, vn, !strcmp(k, "upstream") ? "upstream.url" : !strcmp(k, "db") ? "db.path" : k);
    else rc = fail_at(L, vn, "unexpected structure at '%s' (customs.yaml is a mapping of sections)", k, NULL);
    if (rc) return rc;
  }
  return 0;
}

int px_config_load(px_config *c, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  yaml_parser_t parser;
  yaml_document_t doc;
  int rc = 0;

  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return SC_ERR_IO;
  }
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  if (!yaml_parser_load(&parser, &doc)) {
    snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
             parser.problem ? parser.problem : "YAML error");
    rc = SC_ERR_INVALID;
  } else {
    loader L = {c, &doc, path, err, errlen};
    if (load_root(&L, yaml_document_get_root_node(&doc)) < 0) rc = SC_ERR_INVALID;
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  fclose(f);
  return rc;
}

int px_split_hostport(const char *s, char *host, size_t hostlen, int *port) {
  const char *colon;
  char *end;
  long p;
  size_t hl;
  if (s[0] == '[') {
    const char *rb = strchr(s, ']');
    if (!rb || rb[1] != ':') return SC_ERR_INVALID;
    hl = (size_t)(rb - s - 1);
    if (hl >= hostlen) return SC_ERR_INVALID;
    memcpy(host, s + 1, hl);
    colon = rb + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon) return SC_ERR_INVALID;
    hl = (size_t)(colon - s);
    if (hl >= hostlen) return SC_ERR_INVALID;
    memcpy(host, s, hl);
  }
  host[hl] = 0;
  p = strtol(colon + 1, &end, 10);
  if (*end || p < 0 || p > 65535) return SC_ERR_INVALID;
  *port = (int)p;
  return 0;
}
