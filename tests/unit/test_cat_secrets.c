/* test_cat_secrets.c - planted credentials found on the right line; the same
 * credentials in docs, binaries, package test fixtures, oversized files and
 * near-miss shapes not found.  Tokens are assembled at run time so this file
 * itself does not look like a leak. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tap.h"
#include "memreader.h"
#include "../../scanner/sc_catalog.h"


#define N(a) (sizeof(a) / sizeof((a)[0]))

static char AWS[32], AWS15[32], AWS17[32], ASIA[32], GHP[64], GHP35[64], GHS[64], PAT[128], GLPAT[64],
    GLPAT19[64], SLACK[128];

/* prefix + n alphanumerics starting at c in the alphabet below. */
static void rep(char *dst, const char *prefix, char c, size_t n) {
  static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const char *start = strchr(al, c);
  size_t s = start ? (size_t)(start - al) : 0, l = strlen(prefix);
  strcpy(dst, prefix);
  for (size_t i = 0; i < n; i++) dst[l + i] = al[(s + i * 7) % (sizeof al - 1)];
  dst[l + n] = '\0';
}

static void make_tokens(void) {
  strcpy(AWS, "AKIA" "IOSFODNN7EXAMPLE");
  strcpy(AWS15, "AKIA" "IOSFODNN7EXAMPL");
  strcpy(AWS17, "AKIA" "IOSFODNN7EXAMPLEX");
  strcpy(ASIA, "ASIA" "Y34FZKBOKMUTVV7A");
  rep(GHP, "ghp" "_", 'a', 36);
  rep(GHP35, "ghp" "_", 'a', 35);
  rep(GHS, "ghs" "_", 'K', 36);
  rep(PAT, "github" "_pat_", 'B', 82);
  PAT[20] = '_';
  rep(GLPAT, "glpat" "-", 'x', 20);
  GLPAT[10] = '-';
  rep(GLPAT19, "glpat" "-", 'x', 19);
  strcpy(SLACK, "xox" "b-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx");
}

typedef struct finding {
  const char *rule;
  int line;
} finding;

/* Runs the cataloger over text (chunked reads) and compares findings in order. */
static void run(const char *desc, const char *path, const char *text, size_t len, size_t cap,
                const finding *want, size_t nwant) {
  static const size_t chunks[] = {1, 13, 1 << 20};
  for (size_t c = 0; c < N(chunks); c++) {
    if (chunks[c] == 1 && len > 100000) continue;
    memrd m = {(const unsigned char *)text, len, 0, chunks[c]};
    sc_reader r = {mem_read, &m};
    sc_limits lim;
    sc_limits_default(&lim);
    if (cap) lim.max_secret_file = cap;
    sc_inventory inv;
    sc_inventory_init(&inv);
    CHECK_INT(sc_cat_secrets.scan(&inv, path, &r, &lim), 0, "%s (chunk %zu): rc", desc, chunks[c]);
    CHECK_INT(inv.nsecrets, nwant, "%s (chunk %zu): finding count", desc, chunks[c]);
    for (size_t i = 0; i < nwant && i < inv.nsecrets; i++) {
      CHECK_STR(inv.secrets[i].rule, want[i].rule, "%s: finding %zu rule", desc, i);
      CHECK_INT(inv.secrets[i].line, want[i].line, "%s: finding %zu line", desc, i);
      CHECK_STR(inv.secrets[i].path, path, "%s: finding %zu path", desc, i);
    }
    sc_inventory_free(&inv);
  }
}

static void test_planted(void) {
  char text[4096];
  snprintf(text, sizeof text,
           "# deploy settings\n"                                  /* 1 */
           "\n"                                                   /* 2 */
           "-----BEGIN RSA PRIVATE KEY-----\n"                    /* 3 */
           "MIIEpAIBAAKCAQEA...\n"                                /* 4 */
           "export AWS_ACCESS_KEY_ID=%s\n"                        /* 5 */
           "session: \"%s\"\n"                                    /* 6 */
           "token=%s\n"                                           /* 7 */
           "GH_TOKEN='%s'\n"                                      /* 8 */
           "pat: %s\n"                                            /* 9 */
           "CI_TOKEN=%s\n"                                        /* 10 */
           "slack_bot = %s\n"                                     /* 11 */
           "both %s %s\n"                                         /* 12 */
           "twice %s,%s\n"                                        /* 13 */
           "-----BEGIN PRIVATE KEY-----\r\n"                      /* 14 */
           "-----BEGIN OPENSSH PRIVATE KEY-----\n"                /* 15 */
           "-----BEGIN EC PRIVATE KEY-----",                      /* 16, no newline */
           AWS, ASIA, GHP, GHS, PAT, GLPAT, SLACK, AWS, GHP, AWS, AWS);
  static const finding want[] = {
      {"private-key", 3},    {"aws-access-key", 5}, {"aws-access-key", 6}, {"github-token", 7},
      {"github-token", 8},   {"github-token", 9},   {"gitlab-token", 10},  {"slack-token", 11},
      {"aws-access-key", 12}, {"github-token", 12}, {"aws-access-key", 13}, {"private-key", 14},
      {"private-key", 15},   {"private-key", 16},
  };
  run("planted", "app/config/settings.env", text, strlen(text), 0, want, N(want));
}

static void test_near_misses(void) {
  char text[4096];
  snprintf(text, sizeof text,
           "a=%s\n"                 /* AKIA + 15 */
           "b=%s\n"                 /* AKIA + 17 */
           "c=X%s\n"                /* glued to a word */
           "d=%s_\n"                /* followed by a word char */
           "e=akiaiosfodnn7example\n"
           "f=%s\n"                 /* ghp_ + 35 */
           "g=%sQ\n"                /* ghp_ + 37 */
           "h=%s\n"                 /* glpat- + 19 */
           "-----BEGIN PUBLIC KEY-----\n"
           "-----BEGIN CERTIFICATE-----\n"
           "-----BEGIN DH PRIVATE KEY-----\n"
           "SLACK_TOKEN=xox" "b-your-token-goes-here-please\n"
           "ghp_ is the prefix of personal tokens\n",
           AWS15, AWS17, AWS, AWS, GHP35, GHP, GLPAT19);
  run("near misses", "app/notes.txt", text, strlen(text), 0, NULL, 0);
}

static void test_binary_and_size(void) {
  char text[256];
  int n = snprintf(text, sizeof text, "key=%s\n", AWS);
  /* A NUL early on: a binary, not searched. */
  size_t blen = 20000;
  char *bin = calloc(1, blen);
  memcpy(bin, "\x7f" "ELF\2\1\1", 7);
  memcpy(bin + 300, text, (size_t)n);
  run("binary with a NUL in the first 8 KiB", "usr/local/bin/tool", bin, blen, 0, NULL, 0);
  /* A NUL only after 8 KiB: still text. */
  memset(bin, 'a', blen);
  for (size_t i = 99; i < blen; i += 100) bin[i] = '\n';
  memcpy(bin + 9000, text, (size_t)n); /* starts line 91 */
  bin[15000] = '\0';
  static const finding late[] = {{"aws-access-key", 91}};
  run("NUL after 8 KiB", "var/log/app.log", bin, blen, 0, late, 1);
  free(bin);
  /* Size cap: exactly cap is searched, cap + 1 is skipped whole. */
  static const finding one[] = {{"aws-access-key", 1}};
  run("file of exactly max_secret_file", "etc/app.conf", text, (size_t)n, (size_t)n, one, 1);
  run("file over max_secret_file", "etc/app.conf", text, (size_t)n, (size_t)n - 1, NULL, 0);
  run("empty file", "etc/empty", "", 0, 0, NULL, 0);
  /* One 1 MiB line of repeated prefixes: must stay linear (a quadratic scan
   * would not finish) and find nothing. */
  size_t plen = 1 << 20;
  char *patho = malloc(plen);
  static const char unit[] = "xoxb-ghp_glpat-AKIA-----BEGIN ";
  for (size_t i = 0; i < plen; i++) patho[i] = unit[i % (sizeof unit - 1)];
  run("pathological line", "etc/long.txt", patho, plen, plen, NULL, 0);
  free(patho);
}

static void test_registry(void) {
  static const struct {
    const char *desc, *path, *json;
    int line; /* 0: no finding */
  } t[] = {
      {"docker config", "root/.docker/config.json",
       "{\n  \"auths\": {\n    \"registry.example.com\": {\n      \"auth\": \"dXNlcjpwYXNz\"\n    }\n  }\n}\n", 4},
      {"kaniko docker config", "kaniko/.docker/config.json",
       "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"Zm9vOmJhcg==\"}}}", 1},
      {"podman auth.json", "run/containers/0/auth.json",
       "{\n\t\"auths\": {\n\t\t\"quay.io\": {\n\t\t\t\"auth\": \"cXVheTpzZWNyZXQ=\"\n\t\t}\n\t}\n}", 4},
      {"containers auth.json in home", "root/.config/containers/auth.json",
       "{\"auths\":{\"ghcr.io\":{\"auth\":\"eDp5\"}}}", 1},
      {"empty auth", "root/.docker/config.json", "{\"auths\":{\"r.io\":{\"auth\":\"\"}}}", 0},
      {"credential helper only", "home/u/.docker/config.json",
       "{\"auths\":{\"r.io\":{}},\"credsStore\":\"desktop\"}", 0},
      {"not a registry file", "app/config.json", "{\"auths\":{\"r.io\":{\"auth\":\"eDp5\"}}}", 0},
      {"auth.json outside containers", "app/auth.json", "{\"auths\":{\"r.io\":{\"auth\":\"eDp5\"}}}", 0},
      {"broken json", "root/.docker/config.json", "{\"auths\":{\"r.io\":{\"auth\":\"eDp5\"", 0},
  };
  for (size_t i = 0; i < N(t); i++) {
    finding f = {"registry-credentials", t[i].line};
    run(t[i].desc, t[i].path, t[i].json, strlen(t[i].json), 0, &f, t[i].line ? 1 : 0);
  }
}

static void test_match(void) {
  static const struct {
    const char *path;
    int want;
  } m[] = {
      {"etc/app/secrets.env", 1},
      {"root/.ssh/id_rsa", 1},
      {"usr/share/doc/openssl/README", 0},
      {"usr/share/ca-certificates/x.crt", 0},
      {"usr/lib/node_modules/pkg/test/fixtures/key.pem", 0},
      {"app/node_modules/jsonwebtoken/test/priv.pem", 0},
      {"usr/lib/python3/dist-packages/paramiko/tests/test_rsa.key", 0},
      {"usr/local/lib/python3.11/site-packages/x/testdata/k.pem", 0},
      {"go/src/app/vendor/golang.org/x/crypto/ssh/testdata/keys.go", 0},
      {"usr/local/bundle/gems/net-ssh-7.0/test/fixtures/id_rsa", 0},
      {"app/node_modules/pkg/lib/config.js", 1},
      {"app/tests/deploy_key.pem", 1},
      {"app/node_modules/pkg/testing/k.pem", 1},
      {"app/README.md", 0},
      {"app/CHANGES.MD", 0},
      {"app/doc.mdx", 1},
      {"app/docs/index.rst", 0},
      {"usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO", 0},
      {"usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", 0},
      {"app/PKG-INFO", 1},
      {"app/meta.dist-info.bak/METADATA", 1},
  };
  for (size_t i = 0; i < N(m); i++)
    CHECK_INT(!!sc_cat_secrets.match(m[i].path, 100, S_IFREG | 0644), m[i].want, "match %s", m[i].path);
  CHECK_INT(sc_cat_secrets.match("etc/empty", 0, S_IFREG | 0644), 0, "empty files not wanted");
}

int main(void) {
  make_tokens();
  test_planted();
  test_near_misses();
  test_binary_and_size();
  test_registry();
  test_match();
  CHECK_STR(sc_cat_secrets.name, "secrets", "cataloger name");
  return tap_done();
}
