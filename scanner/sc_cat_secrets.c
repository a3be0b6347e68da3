/* sc_cat_secrets.c - private keys and credentials left in image files.
 *
 * Only text files are searched (no NUL byte in the first 8 KiB), only up to
 * lim->max_secret_file bytes (bigger files are skipped whole), line by line.
 * The rules are fixed prefixes with exact shapes, matched by hand: cheaper
 * than regexes on every text file of a layer, and exact about boundaries.
 * Places full of deliberate fake keys (documentation, language packages'
 * test fixtures, Markdown) are not searched at all. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "sc_catalog.h"

#define SX_PROBE     8192
#define SX_DEFAULT_CAP (1024 * 1024)

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

static int sx_excluded(const char *path) {
  if (strncmp(path, "usr/share/", 10) == 0) return 1;
  size_t n = strlen(path);
  if (n >= 3 && strcasecmp(path + n - 3, ".md") == 0) return 1;
  const char *pkg = sx_component(path, sx_pkg_dirs);
  return pkg && sx_component(pkg, sx_test_dirs) != NULL;
}

static int sx_match(const char *path, int64_t size, mode_t mode) {
  (void)mode;
  /* files above the default cap are skipped by sx_scan anyway: not asking for
   * them spares the layer walker a buffer and a "cataloged" record */
  return size > 0 && size <= (int64_t)SX_DEFAULT_CAP && !sx_excluded(path);
}

static int sx_word(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}
static int sx_upnum(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static int sx_alnum(unsigned char c) { return sx_word(c) && c != '_'; }
static int sx_gitlab(unsigned char c) { return sx_word(c) || c == '-'; }

/* Counts the run of class chars at p, stopping at end or max: bounded so
 * that a line of repeated prefixes stays linear. */
static size_t sx_run(const unsigned char *p, const unsigned char *end, int (*cls)(unsigned char), size_t max) {
  size_t n = 0;
  while (n < max && p + n < end && cls(p[n])) n++;
  return n;
}

/* Each rule looks at one line [l, e) and says whether it holds a secret. */
static int sx_private_key(const unsigned char *l, const unsigned char *e) {
  static const char begin[] = "-----BEGIN ", tail[] = "PRIVATE KEY-----";
  static const char *const kinds[] = {"", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", NULL};
  for (const unsigned char *p = l; (p = memmem(p, (size_t)(e - p), begin, sizeof begin - 1));) {
    p += sizeof begin - 1;
    for (size_t k = 0; kinds[k]; k++) {
      size_t kl = strlen(kinds[k]);
      if ((size_t)(e - p) >= kl + sizeof tail - 1 && memcmp(p, kinds[k], kl) == 0 &&
          memcmp(p + kl, tail, sizeof tail - 1) == 0)
        return 1;
    }
  }
  return 0;
}

/* prefix, then exactly `len` class chars (at least, when at_least), with a
 * non-word char (or line edge) before and after. */
static int sx_token(const unsigned char *l, const unsigned char *e, const char *prefix, int (*cls)(unsigned char),
                    size_t len, int at_least) {
  size_t pl = strlen(prefix);
  for (const unsigned char *p = l; (p = memmem(p, (size_t)(e - p), prefix, pl)); p++) {
    if (p > l && sx_word(p[-1])) continue;
    size_t n = sx_run(p + pl, e, cls, len + 1);
    if (at_least ? n >= len : n == len) {
      const unsigned char *after = p + pl + len;
      if (at_least || after == e || !sx_word(*after)) return 1;
    }
  }
  return 0;
}

static int sx_aws(const unsigned char *l, const unsigned char *e) {
  return sx_token(l, e, "AKIA", sx_upnum, 16, 0) || sx_token(l, e, "ASIA", sx_upnum, 16, 0);
}

static int sx_github(const unsigned char *l, const unsigned char *e) {
  static const char *const pre[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", NULL};
  for (size_t i = 0; pre[i]; i++)
    if (sx_token(l, e, pre[i], sx_alnum, 36, 0)) return 1;
  return sx_token(l, e, "github_pat_", sx_word, 82, 0);
}

static int sx_gitlab_tok(const unsigned char *l, const unsigned char *e) {
  return sx_token(l, e, "glpat-", sx_gitlab, 20, 1);
}

static int sx_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int sx_slackc(unsigned char c) { return sx_alnum(c) || c == '-'; }

/* xox[baprs]-<digits>-...: real tokens start with a numeric team/user id,
 * which rules out placeholders such as "xoxb-your-token-here". */
static int sx_slack(const unsigned char *l, const unsigned char *e) {
  for (const unsigned char *p = l; (p = memmem(p, (size_t)(e - p), "xox", 3)); p++) {
    if (p > l && sx_word(p[-1])) continue;
    if (e - p < 5 || !memchr("baprs", p[3], 5) || p[4] != '-') continue;
    const unsigned char *b = p + 5;
    size_t digits = sx_run(b, e, sx_digit, 32), body = sx_run(b, e, sx_slackc, 20);
    if (digits && b + digits < e && b[digits] == '-' && body >= 20) return 1;
  }
  return 0;
}

static const struct sx_rule {
  const char *id;
  int (*find)(const unsigned char *l, const unsigned char *e);
} sx_rules[] = {
  {"private-key", sx_private_key}, {"aws-access-key", sx_aws}, {"github-token", sx_github},
  {"gitlab-token", sx_gitlab_tok}, {"slack-token", sx_slack},
};

/* Whether any rule's fixed prefix occurs in the file at all: one fast pass
 * per prefix over the whole buffer spares the per-line work for the files
 * (nearly all of them) that hold none. */
static int sx_any_trigger(const unsigned char *buf, size_t len) {
  static const char *const trig[] = {"-----BEGIN ", "AKIA", "ASIA", "gh", "glpat-", "xox", NULL};
  for (size_t i = 0; trig[i]; i++)
    if (memmem(buf, len, trig[i], strlen(trig[i]))) return 1;
  return 0;
}

static int sx_lines(sc_inventory *inv, const char *path, const unsigned char *buf, size_t len) {
  int line = 1, rc = 0;
  if (!sx_any_trigger(buf, len)) return 0;
  for (const unsigned char *l = buf, *end = buf + len; l < end && !rc; line++) {
    const unsigned char *e = memchr(l, '\n', (size_t)(end - l));
    if (!e) e = end;
    for (size_t i = 0; i < sizeof sx_rules / sizeof sx_rules[0] && !rc; i++)
      if (sx_rules[i].find(l, e)) rc = sc_inventory_add_secret(inv, path, sx_rules[i].id, line);
    l = e + 1;
  }
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
  size_t cap = lim && lim->max_secret_file ? lim->max_secret_file : SX_DEFAULT_CAP;
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
