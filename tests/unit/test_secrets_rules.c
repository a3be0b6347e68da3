/* test_secrets_rules.c - every secret rule, through the secrets cataloger's
 * one Hyperscan pass: a real-shaped token found on its line under its rule
 * id, and a placeholder or near-miss of the same rule not found; all rules
 * at once in one file; files of 100k repeated near-prefixes (must finish,
 * find nothing); several threads scanning at once (per-thread scratch).
 * Tokens are assembled at run time so this file itself does not look like
 * a leak.  Owner: secrets. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tap.h"
#include "memreader.h"
#include "../../scanner/sc_catalog.h"
#include "../../scanner/sc_secrets.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TOK_MAX 512          /* bytes of one test line */
#define NEAR_REPEATS 100000  /* near-prefixes in the pathological files */
#define THREADS 4
#define THREAD_ROUNDS 40

static const char ALNUM[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
static const char ALPHA[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char HEX[] = "0123456789abcdef";
static const char DIGITS[] = "0123456789";
static const char UPNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* Appends n chars of alphabet al (stride 7: no runs, no words) to dst. */
static char *gen(char *dst, const char *al, size_t start, size_t n) {
  size_t l = strlen(dst), m = strlen(al);
  for (size_t i = 0; i < n; i++) dst[l + i] = al[(start + i * 7) % m];
  dst[l + n] = '\0';
  return dst;
}
static char *cat(char *dst, const char *s) { return strcat(dst, s); }

typedef struct rule_case {
  const char *rule;
  char pos[TOK_MAX]; /* a line holding one secret of this rule */
  char neg[TOK_MAX]; /* a line holding only a placeholder / near miss */
} rule_case;

static rule_case cases[64];
static size_t ncases;

static rule_case *add(const char *rule) {
  rule_case *c = &cases[ncases++];
  c->rule = rule;
  return c;
}

static void uuid(char *dst, size_t start) {
  gen(dst, HEX, start, 8), cat(dst, "-"), gen(dst, HEX, start + 1, 4), cat(dst, "-");
  gen(dst, HEX, start + 2, 4), cat(dst, "-"), gen(dst, HEX, start + 3, 4), cat(dst, "-");
  gen(dst, HEX, start + 4, 12);
}

static void make_cases(void) {
  rule_case *c;
  c = add("private-key");
  cat(c->pos, "-----BEGIN " "OPENSSH PRIVATE KEY-----");
  cat(c->neg, "-----BEGIN " "RSA PUBLIC KEY-----");
  c = add("aws-access-key");
  gen(cat(c->pos, "id=" "AKIA"), UPNUM, 3, 16);
  gen(cat(c->neg, "id=" "AKIA"), UPNUM, 3, 15);
  c = add("github-token");
  gen(cat(c->pos, "GH_TOKEN=" "gho_"), ALNUM, 5, 36);
  gen(cat(c->neg, "GH_TOKEN=" "gho_"), ALNUM, 5, 37);
  c = add("gitlab-token");
  gen(cat(c->pos, "token: " "glpat-"), ALNUM, 9, 24);
  gen(cat(c->neg, "token: " "glpat-"), ALNUM, 9, 19);
  c = add("slack-token");
  gen(cat(c->pos, "xox" "p-" "2718281828-"), ALNUM, 1, 30);
  cat(c->neg, "xox" "p-your-slack-token-goes-right-here");
  c = add("pgp-private-key");
  cat(c->pos, "-----BEGIN PGP " "PRIVATE KEY BLOCK-----");
  cat(c->neg, "-----BEGIN PGP " "PUBLIC KEY BLOCK-----");
  c = add("aws-secret-key");
  gen(cat(c->pos, "aws_secret_access_key = "), ALNUM, 11, 40);
  cat(c->neg, "AWS_SECRET_ACCESS_KEY=" "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" "EXAMPLEKEY");
  c = add("gcp-service-account");
  gen(cat(c->pos, "  \"private_key_id\": \""), HEX, 2, 40), cat(c->pos, "\",");
  gen(cat(c->neg, "  \"private_key_id\": \""), HEX, 2, 39), cat(c->neg, "\",");
  c = add("azure-storage-key");
  gen(cat(c->pos, "DefaultEndpointsProtocol=https;AccountName=acme;" "AccountKey="), ALNUM, 4, 86);
  cat(c->pos, "==;EndpointSuffix=core.windows.net");
  cat(c->neg, "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" "AccountKey="
              "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;");
  c = add("azure-shared-access-key");
  gen(cat(c->pos, "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;" "SharedAccessKey="), ALNUM, 6,
      43);
  cat(c->pos, "=");
  gen(cat(c->neg, "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;" "SharedAccessKey="), ALNUM, 6,
      42);
  cat(c->neg, "=");
  c = add("slack-webhook");
  gen(cat(c->pos, "url: https://hooks.slack" ".com/services/T"), UPNUM, 1, 9);
  gen(cat(c->pos, "/B"), UPNUM, 2, 10), gen(cat(c->pos, "/"), ALNUM, 3, 24);
  cat(c->neg, "url: https://hooks.slack" ".com/services/T00000000/B00000000/" "XXXXXXXXXXXXXXXXXXXXXXXX");
  c = add("discord-webhook");
  gen(cat(c->pos, "https://discord" ".com/api/webhooks/"), DIGITS, 1, 18);
  gen(cat(c->pos, "/"), ALNUM, 8, 68);
  gen(cat(c->neg, "https://discord" ".com/api/webhooks/"), DIGITS, 1, 12);
  gen(cat(c->neg, "/"), ALNUM, 8, 68);
  c = add("teams-webhook");
  cat(c->pos, "https://acme.webhook.office" ".com/webhookb2/"), uuid(c->pos, 1), cat(c->pos, "@"), uuid(c->pos, 5);
  gen(cat(c->pos, "/IncomingWebhook/"), HEX, 3, 32), cat(c->pos, "/"), uuid(c->pos, 9);
  cat(c->neg, "https://acme.webhook.office" ".com/webhookb2/00000000-0000-0000-0000-000000000000@"
              "00000000-0000-0000-0000-000000000000/IncomingWebhook/00000000000000000000000000000000/"
              "00000000-0000-0000-0000-000000000000");
  c = add("stripe-key");
  gen(cat(c->pos, "STRIPE_KEY=" "rk_live_"), ALNUM, 2, 24);
  cat(c->neg, "STRIPE_KEY=" "sk_live_" "xxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  c = add("database-url");
  cat(c->pos, "DATABASE_URL=postgresql+psycopg2://" "app:Zq7" "vR2mK9t@db.internal:5432/app");
  cat(c->neg, "DATABASE_URL=postgres://user:" "password@localhost/db mysql://root:${MYSQL_ROOT_PASSWORD}@db/x "
              "postgres://postgres:" "postgres@localhost redis://:" "changeme@cache mongodb://h1:27017,h2:27017/x");
  c = add("jwt");
  gen(cat(c->pos, "Authorization: Bearer " "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" ".eyJzdWIiOiJzdmMtZGVwbG95IiwiaWF0IjoxNzAwMDAwMDAwfQ."), ALNUM, 4, 43);
  /* a header with no "alg", and the jwt.io sample */
  gen(cat(c->neg, "a: " "eyJ0eXAiOiJKV1QiLCJmb28iOiJiYXIifQ" ".eyJzdWIiOiJzdmMtZGVwbG95IiwiaWF0IjoxNzAwMDAwMDAwfQ."), ALNUM, 4, 43);
  cat(c->neg, " b: " "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
              "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  c = add("npm-token");
  gen(cat(c->pos, "//registry.npmjs.org/:_authToken=" "npm_"), ALNUM, 7, 36);
  gen(cat(c->neg, "//registry.npmjs.org/:_authToken=" "npm_"), ALNUM, 7, 35);
  c = add("pypi-token");
  gen(cat(c->pos, "password = " "pypi-AgEIcHlwaS5vcmc"), ALNUM, 3, 80);
  gen(cat(c->neg, "password = " "pypi-AgEIcHlwaS5vcmc"), ALNUM, 3, 30);
  c = add("docker-hub-token");
  gen(cat(c->pos, "DOCKER_PAT=" "dckr_pat_"), ALNUM, 2, 27);
  gen(cat(c->neg, "DOCKER_PAT=" "dckr_pat_"), ALNUM, 2, 26);
  c = add("sendgrid-key");
  gen(cat(c->pos, "SENDGRID_API_KEY=" "SG."), ALNUM, 1, 22), gen(cat(c->pos, "."), ALNUM, 2, 43);
  gen(cat(c->neg, "SENDGRID_API_KEY=" "SG."), ALNUM, 1, 21), gen(cat(c->neg, "."), ALNUM, 2, 43);
  c = add("twilio-key");
  gen(cat(c->pos, "TWILIO_API_KEY=" "SK"), HEX, 1, 32);
  gen(cat(c->neg, "TWILIO_API_KEY=" "SK"), HEX, 1, 31);
  c = add("google-api-key");
  gen(cat(c->pos, "key: " "AIza"), ALNUM, 5, 35);
  gen(cat(c->neg, "key: " "AIza"), ALNUM, 5, 34);
  c = add("openai-api-key");
  gen(cat(c->pos, "OPENAI_API_KEY=" "sk-proj-"), ALNUM, 3, 40), gen(cat(c->pos, "T3Blbk" "FJ"), ALNUM, 9, 40);
  gen(cat(c->neg, "OPENAI_API_KEY=" "pk-proj-"), ALNUM, 3, 40), gen(cat(c->neg, "T3Blbk" "FJ"), ALNUM, 9, 40);
  c = add("anthropic-api-key");
  gen(cat(c->pos, "ANTHROPIC_API_KEY=" "sk-ant-" "api03-"), ALNUM, 4, 93), cat(c->pos, "AA");
  gen(cat(c->neg, "ANTHROPIC_API_KEY=" "sk-ant-" "api03-"), ALNUM, 4, 93), cat(c->neg, "AB");
  c = add("huggingface-token");
  gen(cat(c->pos, "HF_TOKEN=" "hf_"), ALPHA, 6, 34);
  gen(cat(c->neg, "HF_TOKEN=" "hf_"), ALPHA, 6, 33);
  c = add("vault-token");
  gen(cat(c->pos, "VAULT_TOKEN=" "hvs."), ALNUM, 2, 91);
  gen(cat(c->neg, "VAULT_TOKEN=" "hvs."), ALNUM, 2, 20);
  c = add("shopify-token");
  gen(cat(c->pos, "SHOPIFY=" "shpat_"), HEX, 5, 32);
  gen(cat(c->neg, "SHOPIFY=" "shpat_"), HEX, 5, 31);
}

typedef struct found {
  size_t n;
  char rule[128][32];
  int line[128];
  int rc;
} found;

static void scan(const char *path, const char *text, size_t len, size_t chunk, size_t cap, found *f) {
  memrd m = {(const unsigned char *)text, len, 0, chunk};
  sc_reader r = {mem_read, &m};
  sc_limits lim;
  sc_limits_default(&lim);
  if (cap) lim.max_secret_file = cap;
  sc_inventory inv;
  sc_inventory_init(&inv);
  f->rc = sc_cat_secrets.scan(&inv, path, &r, &lim);
  f->n = inv.nsecrets;
  for (size_t i = 0; i < inv.nsecrets && i < N(f->rule); i++) {
    snprintf(f->rule[i], sizeof f->rule[i], "%s", inv.secrets[i].rule);
    f->line[i] = inv.secrets[i].line;
  }
  sc_inventory_free(&inv);
}

static void test_each_rule(void) {
  char text[3 * TOK_MAX];
  found f;
  for (size_t i = 0; i < ncases; i++) {
    snprintf(text, sizeof text, "# %s\n%s\n", cases[i].rule, cases[i].pos);
    scan("app/.env", text, strlen(text), 1 << 20, 0, &f);
    CHECK_INT(f.rc, 0, "%s positive: rc", cases[i].rule);
    CHECK_INT(f.n, 1, "%s positive: one finding", cases[i].rule);
    CHECK_STR(f.n ? f.rule[0] : "", cases[i].rule, "%s positive: rule id", cases[i].rule);
    CHECK_INT(f.n ? f.line[0] : 0, 2, "%s positive: line", cases[i].rule);
    snprintf(text, sizeof text, "# %s\n%s\n", cases[i].rule, cases[i].neg);
    scan("app/.env", text, strlen(text), 1 << 20, 0, &f);
    CHECK_INT(f.n, 0, "%s negative (%s): no finding", cases[i].rule, f.n ? f.rule[0] : "-");
  }
  /* every rule of the table has its case (a new rule needs one) */
  for (size_t r = 0; r < sc_secret_nrules; r++) {
    int seen = 0;
    for (size_t i = 0; i < ncases; i++) seen |= strcmp(cases[i].rule, sc_secret_rules[r]) == 0;
    CHECK(seen, "rule %s has a test case", sc_secret_rules[r]);
  }
}

/* More shapes of the rules with several forms. */
static void test_variants(void) {
  static const struct {
    const char *desc, *text, *rule; /* rule NULL: nothing found */
  } v[] = {
      {"mongodb+srv", "uri: mongodb+srv://svc:" "Tq8pL2xW@cluster0.abcd.mongodb.net/db\n", "database-url"},
      {"redis, empty user", "REDIS_URL=redis://:" "Hk3mP9qZ@cache:6379/0\n", "database-url"},
      {"amqps", "BROKER=amqps://bus:" "N4dfG7sa@mq.local/vhost\n", "database-url"},
      {"mysql in JDBC", "jdbc:mysql://report:" "r3p0rtPw@10.0.0.5:3306/x\n", "database-url"},
      {"host:port is no password", "postgres://db.internal:5432/app\n", NULL},
      {"masked password", "postgres://app:" "********@db/app\n", NULL},
      {"template password", "postgres://app:" "{{ db_password }}@db/app\n", NULL},
      {"printf password", "mysql://%s:" "%s@%s/%s\n", NULL},
      {"password word", "amqp://guest:" "yourpassword@localhost\n", NULL},
      {"secret key in JSON", "{\"SecretAccessKey\": \"" "Yk3p9TzW1mQe7RvB4nXc8LsD2fHgJ6aK0uPoIiUy" "\"}\n",
       "aws-secret-key"},
      {"secret key too long", "aws_secret_access_key=" "Yk3p9TzW1mQe7RvB4nXc8LsD2fHgJ6aK0uPoIiUyQ\n", NULL},
      {"secret key without assignment", "aws_secret_access_key " "Yk3p9TzW1mQe7RvB4nXc8LsD2fHgJ6aK0uPoIiUy\n",
       NULL},
      {"twilio uppercase hex", "SK" "0A1B2C3D4E5F60718293A4B5C6D7E8F9\n", NULL},
      {"stripe test key", "sk_test_" "4eC39HqLyjWDarjtT1zdp7dc\n", NULL},
      {"glued google key", "xAIza" "SyD4mK9pQ2wE7rT1yU8iO3pA6sD0fG5hJ7k\n", NULL},
      {"discordapp", "https://discordapp" ".com/api/webhooks/123456789012345678/" "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hI6kL9nO2qR5tU8wX1zA4cD7fG0iJ3lM6\n",
       "discord-webhook"},
  };
  found f;
  for (size_t i = 0; i < N(v); i++) {
    scan("srv/app/config.txt", v[i].text, strlen(v[i].text), 7, 0, &f);
    CHECK_INT(f.n, v[i].rule ? 1 : 0, "%s: finding count (%s)", v[i].desc, f.n ? f.rule[0] : "-");
    if (v[i].rule && f.n) CHECK_STR(f.rule[0], v[i].rule, "%s: rule", v[i].desc);
  }
}

/* Every rule in one file, one pass: each found on its own line, in order. */
static void test_all_in_one(void) {
  size_t cap = ncases * (TOK_MAX + 8);
  char *text = malloc(cap);
  size_t len = 0;
  for (size_t i = 0; i < ncases; i++) len += (size_t)snprintf(text + len, cap - len, "%s\n%s\n", cases[i].pos, cases[i].neg);
  static const size_t chunks[] = {1, 13, 1 << 20};
  for (size_t c = 0; c < N(chunks); c++) {
    found f;
    scan("opt/app/all.conf", text, len, chunks[c], 0, &f);
    CHECK_INT(f.rc, 0, "all rules (chunk %zu): rc", chunks[c]);
    CHECK_INT(f.n, ncases, "all rules (chunk %zu): one finding per positive line", chunks[c]);
    for (size_t i = 0; i < ncases && i < f.n; i++) {
      CHECK_STR(f.rule[i], cases[i].rule, "all rules: finding %zu rule", i);
      CHECK_INT(f.line[i], (int)(2 * i + 1), "all rules: finding %zu line", i);
    }
  }
  free(text);
}

/* 100k near-prefixes of every rule, separated and glued: the pass finishes
 * (bounded checks, no quadratic rescans) and finds nothing. */
static void test_near_prefixes(void) {
  static const char *const units[] = {
      "AKIA ghp_ glpat- xoxb-1- eyJhbGciOi. postgres://u:@ SK12 AIza hvs. T3BlbkFJ sk-ant-api03- dckr_pat_ npm_ "
      "SG.a.b AccountKey= SharedAccessKey= hooks.slack.com/services/T discord.com/api/webhooks/1 "
      ".webhook.office.com/webhookb2/ rk_live_ pypi-AgEIcHlwaS5vcmc hf_ shpat_ \"private_key_id\": \"0 "
      "aws_secret_access_key= -----BEGIN \n",
      "eyJ", "T3BlbkFJ", "eyJhbGciOiJIUzI1NiJ9.", "redis://a:b", "hvs.", "-----BEGIN "};
  for (size_t u = 0; u < N(units); u++) {
    size_t ul = strlen(units[u]), len = ul * NEAR_REPEATS;
    char *text = malloc(len + 1);
    for (size_t i = 0; i < NEAR_REPEATS; i++) memcpy(text + i * ul, units[u], ul);
    text[len] = '\0';
    found f;
    scan("var/lib/app/near.txt", text, len, 1 << 20, len, &f);
    CHECK_INT(f.rc, 0, "%zu-byte file of near-prefixes %zu: rc", len, u);
    CHECK_INT(f.n, 0, "%zu-byte file of near-prefixes %zu: nothing found", len, u);
    free(text);
  }
}

static char *planted;
static size_t planted_len;

static void *thread_scan(void *arg) {
  size_t *ok = arg;
  for (int r = 0; r < THREAD_ROUNDS; r++) {
    found f;
    scan("opt/app/all.conf", planted, planted_len, 1 << 20, 0, &f);
    *ok += f.rc == 0 && f.n == ncases;
  }
  return NULL;
}

/* Layers are scanned on several threads: each needs its own scratch. */
static void test_threads(void) {
  size_t cap = ncases * (TOK_MAX + 2);
  planted = malloc(cap);
  planted_len = 0;
  for (size_t i = 0; i < ncases; i++) planted_len += (size_t)snprintf(planted + planted_len, cap - planted_len, "%s\n", cases[i].pos);
  pthread_t t[THREADS];
  size_t ok[THREADS] = {0};
  for (size_t i = 0; i < THREADS; i++) CHECK_INT(pthread_create(&t[i], NULL, thread_scan, &ok[i]), 0, "thread %zu", i);
  for (size_t i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    CHECK_INT(ok[i], THREAD_ROUNDS, "thread %zu: every scan found every rule", i);
  }
  free(planted);
}

static void test_placeholder(void) {
  static const struct {
    const char *s;
    int want;
  } p[] = {{"AKIAIOSFODNN7EXAMPLE", 1}, {"my-example-key", 1}, {"abcXXXXdef", 1}, {"a000000b", 1},
           {"a00000b", 0},              {"Zq7vR2mK9t", 0},       {"", 0}};
  for (size_t i = 0; i < N(p); i++)
    CHECK_INT(sc_secret_placeholder((const unsigned char *)p[i].s, strlen(p[i].s)), p[i].want, "placeholder \"%s\"",
              p[i].s);
}

static void test_rule_ids(void) {
  for (size_t r = 0; r < sc_secret_nrules; r++) {
    const char *id = sc_secret_rules[r];
    int kebab = id && *id && id[0] != '-';
    for (const char *c = id; kebab && *c; c++) kebab = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
    CHECK(kebab, "rule id %s is kebab-case", id ? id : "(null)");
    for (size_t q = 0; q < r; q++) CHECK(strcmp(id, sc_secret_rules[q]) != 0, "rule id %s unique", id);
  }
  for (size_t i = 0; i < sc_secret_npats; i++)
    CHECK(sc_secret_pats[i].rule < sc_secret_nrules && sc_secret_pats[i].check, "pattern %zu well formed", i);
}

int main(void) {
  make_cases();
  test_rule_ids();
  test_placeholder();
  test_each_rule();
  test_variants();
  test_all_in_one();
  test_near_prefixes();
  test_threads();
  return tap_done();
}
