/* sc_catalog.c - limits, the bounded whole-entry read, the cataloger table.
 * Thread-safe (no state); errors are SC_ERR_* from sc_inventory.h. */
#include "sc_catalog.h"
#include "sc_tmpfile.h"

#include <stdlib.h>
#include <ctype.h>
#include <string.h>

void sc_limits_default(sc_limits *lim) {
  lim->max_entries = 1000000;
  lim->max_total_bytes = 64ull << 30; /* 64 GiB uncompressed per layer */
  lim->max_ratio = 1000;              /* enforced after the first 64 MiB */
  lim->max_file_read = 16u << 20;
  lim->max_secret_file = 1u << 20;
  lim->max_name = 4096;
  lim->max_nesting = 3;
  lim->cat_cpu_ms = SC_CAT_MAX_CPU_MS;
  lim->cat_mem_bytes = SC_CAT_MAX_MEM_BYTES;
  lim->nested_max_bytes = SC_NESTED_MAX_BYTES;
  lim->budget = NULL;
  lim->spool_dir = SC_SPOOL_DIR_DEFAULT;
}

ssize_t sc_mem_read(void *ctx, void *buf, size_t len) {
  sc_memrd *m = ctx;
  size_t left = m->n - m->off;
  if (len > left) len = left;
  memcpy(buf, (const unsigned char *)m->p + m->off, len);
  m->off += len;
  return (ssize_t)len;
}

int sc_read_all(sc_reader *r, size_t cap, char **out, size_t *outlen) {
  return sc_read_all_b(r, cap, NULL, out, outlen);
}

int sc_read_all_b(sc_reader *r, size_t cap, sc_budget *budget, char **out, size_t *outlen) {
  size_t bufcap = cap < 65536 ? cap + 1 : 65536, len = 0;
  char *buf = malloc(bufcap);
  if (!buf) return SC_ERR_NOMEM;
  for (;;) {
    if (len + 1 >= bufcap) {
      if (len >= cap) {
        /* full: one more byte tells "exactly cap" from "longer than cap" */
        char extra;
        ssize_t n = sc_read(r, &extra, 1);
        if (n == 0) break;
        free(buf);
        return n < 0 ? (int)n : SC_ERR_LIMIT;
      }
      size_t ncap = bufcap * 2 > cap + 1 ? cap + 1 : bufcap * 2;
      if (sc_budget_mem(budget, ncap)) {
        free(buf);
        return SC_ERR_LIMIT;
      }
      char *nb = realloc(buf, ncap);
      if (!nb) {
        free(buf);
        return SC_ERR_NOMEM;
      }
      buf = nb;
      bufcap = ncap;
    }
    size_t want = bufcap - 1 - len;
    if (want > cap - len) want = cap - len;
    ssize_t n = want ? sc_read(r, buf + len, want) : 0;
    if (n < 0) {
      free(buf);
      return (int)n;
    }
    if (n == 0) {
      if (want == 0) continue; /* at cap: probe for more above */
      break;
    }
    len += (size_t)n;
  }
  buf[len] = '\0';
  *out = buf;
  if (outlen) *outlen = len;
  return 0;
}

/* one a line: the ecosystem catalogers before the secrets search */
const sc_cataloger *const sc_catalogers[] = {
    &sc_cat_os,
    &sc_cat_dpkg,
    &sc_cat_apk,
    &sc_cat_rpm,
    &sc_cat_python,
    &sc_cat_npm,
    &sc_cat_go,
    &sc_cat_java,
    &sc_cat_ruby,
    &sc_cat_dotnet,
    &sc_cat_php,
    &sc_cat_rust,
    &sc_cat_secrets,
    NULL,
};

char *sc_next_line(char **p, char *end) {
  char *line = *p, *nl;
  size_t n;
  if (line >= end) return NULL;
  nl = memchr(line, '\n', (size_t)(end - line));
  if (nl) *nl = '\0';
  *p = nl ? nl + 1 : end;
  n = nl ? (size_t)(nl - line) : strlen(line);
  if (n && line[n - 1] == '\r') line[n - 1] = '\0';
  return line;
}

char *sc_trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}
