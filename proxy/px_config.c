/* px_config.c - customs.yaml reader.
 *
 * The file is a two-level mapping of scalars; keys are flattened to
 * "section.key" and looked up in a table, so an unknown or misspelt key is
 * an error with its line and column rather than a silently ignored setting. */
#include "px_config.h"
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
    S("db.path", db),
    S("policy", policy),
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
    {"gate.blobs", K_BOOL, offsetof(px_config, gate_blobs), sizeof(int)},
    I("db.decisions_days", decisions_days),
};

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
    case K_DURATION: { /* seconds, or a number with s, m, h, d */
      errno = 0;
      long v = strtol(val, &end, 10);
      long mul = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 1;
      if (*end == 's' || mul > 1) end++;
      if (errno || end == val || *end || v < 0 || v > 365L * 86400 / mul)
        return snprintf(err, errlen, "%s: expected a duration (300, 30m, 6h, 1d), got '%s'", name, val), -1;
      *(int *)p = (int)(v * mul);
      return 0;
    }
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

int px_config_load(px_config *c, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  yaml_parser_t parser;
  yaml_event_t ev;
  char section[128] = "", key[128] = "", full[300], msg[512];
  int depth = 0, have_key = 0, rc = 0, done = 0, in_sources = 0;

  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return SC_ERR_IO;
  }
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  while (!done) {
    if (!yaml_parser_parse(&parser, &ev)) {
      snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
               parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error");
      rc = SC_ERR_INVALID;
      break;
    }
    size_t line = ev.start_mark.line + 1, col = ev.start_mark.column + 1;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = 1; break;
    case YAML_MAPPING_START_EVENT:
      depth++;
      if (depth == 2) {
        if (!have_key) goto bad_shape;
        snprintf(section, sizeof(section), "%s", key);
        have_key = 0;
      } else if (depth > 2) {
        goto bad_shape;
      }
      break;
    case YAML_MAPPING_END_EVENT:
      depth--;
      section[0] = 0;
      break;
    case YAML_SEQUENCE_START_EVENT:
      /* the one list in customs.yaml: db.sources */
      if (depth != 2 || !have_key || strcmp(section, "db") || strcmp(key, "sources") || in_sources) goto bad_shape;
      in_sources = 1;
      have_key = 0;
      c->ndb_sources = 0;
      break;
    case YAML_SEQUENCE_END_EVENT:
      in_sources = 0;
      break;
    case YAML_SCALAR_EVENT:
      if (depth == 0) break; /* empty document */
      if (in_sources) {
        const char *v = (const char *)ev.data.scalar.value;
        if (c->ndb_sources >= PX_MAX_SOURCES || strlen(v) >= PX_PATH_MAX || !v[0]) {
          snprintf(err, errlen, "%s:%zu:%zu: db.sources: at most %d entries of at most %d bytes", path, line, col,
                   PX_MAX_SOURCES, PX_PATH_MAX - 1);
          rc = SC_ERR_INVALID;
          done = 1;
          break;
        }
        memcpy(c->db_sources[c->ndb_sources++], v, strlen(v) + 1);
        break;
      }
      if (!have_key) {
        snprintf(key, sizeof(key), "%s", (const char *)ev.data.scalar.value);
        have_key = 1;
      } else {
        if (section[0]) snprintf(full, sizeof(full), "%s.%s", section, key);
        else snprintf(full, sizeof(full), "%s", key);
        /* `upstream: URL` is short for `upstream: {url: URL}`, likewise db. */
        if (!strcmp(full, "upstream")) snprintf(full, sizeof(full), "upstream.url");
        if (!strcmp(full, "db")) snprintf(full, sizeof(full), "db.path");
        if (set_key(c, full, (const char *)ev.data.scalar.value, msg, sizeof(msg)) < 0) {
          snprintf(err, errlen, "%s:%zu:%zu: %s", path, line, col, msg);
          rc = SC_ERR_INVALID;
          done = 1;
        }
        have_key = 0;
      }
      break;
    default: break;
    }
    yaml_event_delete(&ev);
    continue;
  bad_shape:
    snprintf(err, errlen, "%s:%zu:%zu: unexpected structure (customs.yaml is a mapping of sections of scalars)",
             path, line, col);
    yaml_event_delete(&ev);
    rc = SC_ERR_INVALID;
    break;
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
