/* sc_cat_secrets.c - private keys and credentials left in image files.
 *
 * Only text files are searched (no NUL byte in the first 8 KiB), only up to
 * lim->max_secret_file bytes (bigger files are skipped whole).  One
 * Hyperscan pass over the file's bytes finds every candidate of every rule
 * (sc_secrets.h: the rules, their prefilters and exact shape checks); each
 * candidate is confirmed by its rule's check, and the findings are reported
 * one per rule per line, by line, then in rule order.  Places full of
 * deliberate fake keys (documentation, language packages' test fixtures,
 * Markdown and reStructuredText, Python packages' PKG-INFO / METADATA, which
 * hold their README) are not searched at all.
 *
 * Threads: the scanner runs layers on several threads at once.  The
 * database is compiled once per process (pthread_once) and shared read-only;
 * each thread gets its own Hyperscan scratch on first use (a pthread key,
 * freed when the thread exits).  Errors: SC_ERR_NOMEM; SC_ERR_STATE when the
 * rule database could not be built (a bug: tests build it). */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <hs.h>
#include <jansson.h>
#include "sc_catalog.h"
#include "sc_secrets.h"

#define SX_PROBE       8192           /* bytes looked at for a NUL: binary files are skipped */
#define SX_DEFAULT_CAP (1024 * 1024)  /* bytes: bigger files are not searched */
#define SX_MAX_CAP     ((size_t)UINT32_MAX - 1) /* bytes: hs_scan and sx_hit offsets are 32-bit */
#define SX_PATS_MAX    64             /* prefilters the database may hold (sc_secret_npats) */

/* Package trees whose test directories ship sample keys. */
static const char *const sx_pkg_dirs[] = {"site-packages", "dist-packages", "node_modules", "vendor", "gems", NULL};
static const char *const sx_test_dirs[] = {"tests", "test", "testdata", "fixtures", NULL};

/* Returns the position right after the first component of path equal to one
 * of names[], or NULL. */
static const char *sx_component(const char *path, const char *const *names) {
  for (const char *c = path; c && *c;) {
    const char *end = strchr(c, '/');
    if (!end) return NULL; /* the last component is the file itself */
    size_t n = (size_t)(end - c);
    for (size_t i = 0; names[i]; i++)
      if (strlen(names[i]) == n && strncmp(c, names[i], n) == 0) return end + 1;
    c = end + 1;
  }
  return NULL;
}

/* A Python package's PKG-INFO / METADATA: its README (long_description),
 * full of usage examples with sample tokens. */
static int sx_pkg_readme(const char *path) {
  const char *base = strrchr(path, '/');
  if (!base || (strcmp(base + 1, "PKG-INFO") != 0 && strcmp(base + 1, "METADATA") != 0)) return 0;
  size_t d = (size_t)(base - path);
  return (d >= 9 && strncmp(base - 9, ".egg-info", 9) == 0) || (d >= 10 && strncmp(base - 10, ".dist-info", 10) == 0);
}

static int sx_excluded(const char *path) {
  if (strncmp(path, "usr/share/", 10) == 0) return 1;
  size_t n = strlen(path);
  if (n >= 3 && strcasecmp(path + n - 3, ".md") == 0) return 1;
  if ((n >= 4 && strcasecmp(path + n - 4, ".rst") == 0) || sx_pkg_readme(path)) return 1;
  const char *pkg = sx_component(path, sx_pkg_dirs);
  return pkg && sx_component(pkg, sx_test_dirs) != NULL;
}

static int sx_match(const char *path, int64_t size, mode_t mode) {
  (void)mode;
  /* files above the default cap are skipped by sx_scan anyway: not asking for
   * them spares the layer walker a buffer and a "cataloged" record */
  return size > 0 && size <= (int64_t)SX_DEFAULT_CAP && !sx_excluded(path);
}

/* ---- the database, once per process; scratch, once per thread ---------- */

static pthread_once_t sx_once = PTHREAD_ONCE_INIT;
static hs_database_t *sx_db;
static pthread_key_t sx_scratch_key;
static unsigned sx_width[SX_PATS_MAX]; /* bytes of each fixed-width prefilter */
static int sx_init_rc = SC_ERR_STATE;

static void sx_free_scratch(void *s) { hs_free_scratch(s); }

static void sx_init(void) {
  const char *expr[SX_PATS_MAX];
  unsigned flags[SX_PATS_MAX], ids[SX_PATS_MAX];
  hs_compile_error_t *err = NULL;
  if (sc_secret_npats > SX_PATS_MAX) return;
  for (size_t i = 0; i < sc_secret_npats; i++) {
    hs_expr_info_t *info = NULL;
    expr[i] = sc_secret_pats[i].expr;
    flags[i] = sc_secret_pats[i].flags;
    ids[i] = (unsigned)i;
    if (hs_expression_info(expr[i], flags[i], &info, &err) != HS_SUCCESS) {
      hs_free_compile_error(err);
      return;
    }
    /* a check that needs the start of its hit needs a prefilter of one width */
    int fixed_ok = info->min_width == info->max_width && info->min_width > 0;
    sx_width[i] = info->min_width;
    free(info); /* allocated by Hyperscan's misc allocator: malloc by default */
    if (sc_secret_pats[i].fixed && !fixed_ok) return;
  }
  if (hs_compile_multi(expr, flags, ids, (unsigned)sc_secret_npats, HS_MODE_BLOCK, NULL, &sx_db, &err) !=
      HS_SUCCESS) {
    hs_free_compile_error(err);
    return;
  }
  if (pthread_key_create(&sx_scratch_key, sx_free_scratch) != 0) return;
  sx_init_rc = 0;
}

/* This thread's scratch, allocated on its first scan. */
static hs_scratch_t *sx_scratch(void) {
  hs_scratch_t *s = pthread_getspecific(sx_scratch_key);
  if (s) return s;
  if (hs_alloc_scratch(sx_db, &s) != HS_SUCCESS) return NULL;
  if (pthread_setspecific(sx_scratch_key, s) != 0) {
    hs_free_scratch(s);
    return NULL;
  }
  return s;
}

/* ---- one file ------------------------------------------------------------ */

typedef struct sx_hit {
  uint32_t off;  /* a byte of the confirmed token (files are < 4 GiB: sx_scan) */
  uint32_t rule; /* index into sc_secret_rules[] */
  int line;      /* set after the scan, from off */
} sx_hit;

typedef struct sx_pass {
  const unsigned char *buf, *end;
  sx_hit *hits;
  size_t n, cap;
  int err;
} sx_pass;

static int sx_on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx) {
  sx_pass *P = ctx;
  const sc_secret_pat *pt = &sc_secret_pats[id];
  const unsigned char *t = P->buf + to, *f = pt->fixed ? t - sx_width[id] : NULL;
  (void)from, (void)flags;
  if (!pt->check(P->buf, P->end, f, t)) return 0;
  if (P->n == P->cap) {
    size_t nc = P->cap ? P->cap * 2 : 16;
    sx_hit *nh = realloc(P->hits, nc * sizeof *nh);
    if (!nh) {
      P->err = SC_ERR_NOMEM;
      return 1; /* stops the scan */
    }
    P->hits = nh;
    P->cap = nc;
  }
  /* to - 1: the last byte of the hit, on the token's line (checks never
   * cross a newline) */
  P->hits[P->n++] = (sx_hit){(uint32_t)(f ? (size_t)(f - P->buf) : (size_t)to - 1), pt->rule, 0};
  return 0;
}

static int sx_by_off(const void *a, const void *b) {
  const sx_hit *x = a, *y = b;
  return x->off < y->off ? -1 : x->off > y->off;
}
static int sx_by_line_rule(const void *a, const void *b) {
  const sx_hit *x = a, *y = b;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Every rule over buf in one pass; findings one per (line, rule), by line
 * then rule order, as the line-by-line scan of old reported them. */
static int sx_lines(sc_inventory *inv, const char *path, const unsigned char *buf, size_t len) {
  hs_scratch_t *scratch = sx_scratch();
  if (!scratch) return SC_ERR_NOMEM;
  sx_pass P = {buf, buf + len, NULL, 0, 0, 0};
  hs_error_t he = hs_scan(sx_db, (const char *)buf, (unsigned)len, 0, scratch, sx_on_match, &P);
  int rc = P.err ? P.err : he == HS_SUCCESS ? 0 : he == HS_NOMEM ? SC_ERR_NOMEM : SC_ERR_STATE;
  if (!rc && P.n) {
    /* line numbers in one forward walk over the newlines */
    qsort(P.hits, P.n, sizeof *P.hits, sx_by_off);
    const unsigned char *p = buf;
    int line = 1;
    for (size_t i = 0; i < P.n; i++) {
      const unsigned char *to = buf + P.hits[i].off, *nl;
      while ((nl = memchr(p, '\n', (size_t)(to - p)))) {
        line++;
        p = nl + 1;
      }
      p = to;
      P.hits[i].line = line;
    }
    qsort(P.hits, P.n, sizeof *P.hits, sx_by_line_rule);
    for (size_t i = 0; i < P.n && !rc; i++)
      if (i == 0 || P.hits[i].line != P.hits[i - 1].line || P.hits[i].rule != P.hits[i - 1].rule)
        rc = sc_inventory_add_secret(inv, path, sc_secret_rules[P.hits[i].rule], P.hits[i].line);
  }
  free(P.hits);
  return rc;
}

/* Docker's ~/.docker/config.json and containers' auth.json (podman, skopeo,
 * buildah: run/containers/<uid>/auth.json, ~/.config/containers/auth.json). */
static int sx_is_registry_auth(const char *path) {
  static const char *const containers[] = {"containers", NULL};
  static const char docker[] = ".docker/config.json";
  size_t n = strlen(path), dl = sizeof docker - 1;
  if (n >= dl && strcmp(path + n - dl, docker) == 0 && (n == dl || path[n - dl - 1] == '/')) return 1;
  const char *base = strrchr(path, '/');
  return base && strcmp(base + 1, "auth.json") == 0 && sx_component(path, containers) != NULL;
}

static int sx_registry(sc_inventory *inv, const char *path, const char *text, size_t len) {
  json_t *root = json_loadb(text, len, 0, NULL);
  if (!root) return 0;
  int found = 0;
  json_t *auths = json_object_get(root, "auths"), *v;
  const char *key;
  if (json_is_object(auths)) json_object_foreach(auths, key, v) {
      const char *a = json_string_value(json_object_get(v, "auth"));
      if (a && *a) found = 1;
    }
  json_decref(root);
  if (!found) return 0;
  /* Point at the first "auth" key; json values carry no line numbers. */
  int line = 0;
  const char *hit = memmem(text, len, "\"auth\"", 6);
  if (hit) {
    line = 1;
    for (const char *p = text; p < hit; p++) line += *p == '\n';
  }
  return sc_inventory_add_secret(inv, path, "registry-credentials", line);
}

static int sx_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  pthread_once(&sx_once, sx_init);
  if (sx_init_rc) return sx_init_rc;
  size_t cap = lim && lim->max_secret_file ? lim->max_secret_file : SX_DEFAULT_CAP;
  if (cap > SX_MAX_CAP) cap = SX_MAX_CAP;
  size_t bcap = cap < SX_PROBE ? cap : SX_PROBE, len = 0;
  unsigned char *buf = malloc(bcap + 1);
  if (!buf) return SC_ERR_NOMEM;
  int rc = 0, probed = 0;
  for (;;) {
    if (len == bcap) {
      if (bcap >= cap) {
        /* One more byte tells "exactly cap" from "too big". */
        unsigned char extra;
        ssize_t n = sc_read(r, &extra, 1);
        if (n < 0) rc = (int)n;
        if (n != 0) goto out; /* too big: skipped */
        break;
      }
      size_t nc = bcap * 2 < cap ? bcap * 2 : cap;
      unsigned char *nb = realloc(buf, nc + 1);
      if (!nb) { rc = SC_ERR_NOMEM; goto out; }
      buf = nb;
      bcap = nc;
    }
    ssize_t n = sc_read(r, buf + len, bcap - len);
    if (n < 0) { rc = (int)n; goto out; }
    if (n == 0) break;
    len += (size_t)n;
    if (!probed && len >= SX_PROBE) {
      if (memchr(buf, 0, SX_PROBE)) goto out; /* binary */
      probed = 1;
    }
  }
  if (memchr(buf, 0, len < SX_PROBE ? len : SX_PROBE)) goto out;
  buf[len] = '\0';
  rc = sx_lines(inv, path, buf, len);
  if (!rc && sx_is_registry_auth(path)) rc = sx_registry(inv, path, (const char *)buf, len);
out:
  free(buf);
  return rc;
}

const sc_cataloger sc_cat_secrets = {"secrets", sx_match, sx_scan};
