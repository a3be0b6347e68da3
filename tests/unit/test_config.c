/* test_config.c - image configs shaped like the ones docker, buildkit and
 * OCI tools write; and, at the end, the daemon's customs.yaml reader
 * (px_config_load): every section, the lists, lineage and webhooks, and
 * errors with their file:line:col. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "../../scanner/sc_config.h"
#include "../../proxy/px_config.h"
#include <stdio.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* docker build (classic builder), trimmed from a real debian-based image. */
static const char DOCKER[] =
    "{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\","
    "\"AttachStdin\":false,\"ExposedPorts\":{\"5432/tcp\":{},\"8080/tcp\":{}},\"Tty\":false,"
    "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"GOSU_VERSION=1.16\","
    "\"POSTGRES_PASSWORD=hunter2\",\"POSTGRES_PASSWORD_FILE=/run/secrets/pg\",\"GITHUB_TOKEN=\","
    "\"app_api_key=abc\",\"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\"LANG=C.UTF-8\"],"
    "\"Cmd\":[\"postgres\"],\"Image\":\"sha256:0f1e\",\"Volumes\":{\"/var/lib/postgresql/data\":{}},"
    "\"WorkingDir\":\"\",\"Entrypoint\":[\"docker-entrypoint.sh\"],\"OnBuild\":null,\"Labels\":null,"
    "\"StopSignal\":\"SIGINT\"},\"container\":\"3a5f\",\"container_config\":{\"User\":\"nobody\","
    "\"Env\":[\"CONTAINER_SECRET=nope\"]},\"created\":\"2023-11-21T17:14:32.123456789Z\","
    "\"docker_version\":\"20.10.23\",\"history\":[{\"created\":\"2023-11-20T00:00:00Z\","
    "\"created_by\":\"/bin/sh -c #(nop) ADD file:abc in / \"}],\"os\":\"linux\","
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
    "\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
    "\"sha256:2222222222222222222222222222222222222222222222222222222222222222\","
    "\"sha256:3333333333333333333333333333333333333333333333333333333333333333\"]}}";

/* OCI (buildkit / podman), arm64 v8, non-root with group, offset timestamp. */
static const char OCI[] =
    "{\n  \"created\": \"2024-02-29T23:30:00+02:00\",\n  \"author\": \"dev\",\n"
    "  \"architecture\": \"arm64\",\n  \"variant\": \"v8\",\n  \"os\": \"linux\",\n"
    "  \"config\": {\n    \"User\": \"1000:1000\",\n    \"ExposedPorts\": {\"443/tcp\": {}},\n"
    "    \"Env\": [\"PATH=/usr/bin\", \"NPM_TOKEN=npm_abc\", \"NODE_ENV=production\"],\n"
    "    \"Entrypoint\": [\"/app\"],\n    \"Labels\": {\"org.opencontainers.image.source\": \"https://x\"}\n  },\n"
    "  \"rootfs\": {\n    \"type\": \"layers\",\n    \"diff_ids\": [\n"
    "      \"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n    ]\n  },\n"
    "  \"history\": [{\"created\": \"2024-02-29T21:30:00Z\", \"created_by\": \"COPY app /app\"}]\n}\n";

/* ko / distroless style: no created, root by name with group, no ports, no env. */
static const char MINIMAL[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"root:root\"},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

/* docker import: config null, no rootfs. */
static const char IMPORTED[] = "{\"architecture\":\"386\",\"os\":\"linux\",\"config\":null,"
                               "\"created\":\"0001-01-01T00:00:00Z\"}";

static void test_shapes(void) {
  static const struct {
    const char *desc, *json, *os, *arch, *variant, *user;
    int root;
    int64_t created;
    const char *ports[3], *secrets[4], *diff_ids[4];
  } t[] = {
      {"docker", DOCKER, "linux", "amd64", NULL, "", 1, 1700586872,
       {"5432/tcp", "8080/tcp"},
       {"POSTGRES_PASSWORD", "app_api_key", "AWS_SECRET_ACCESS_KEY"},
       {"sha256:1111111111111111111111111111111111111111111111111111111111111111",
        "sha256:2222222222222222222222222222222222222222222222222222222222222222",
        "sha256:3333333333333333333333333333333333333333333333333333333333333333"}},
      {"oci", OCI, "linux", "arm64", "v8", "1000:1000", 0, 1709242200,
       {"443/tcp"}, {"NPM_TOKEN"},
       {"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
      {"minimal", MINIMAL, "linux", "amd64", NULL, "root:root", 1, -1, {0}, {0}, {0}},
      {"imported", IMPORTED, "linux", "386", NULL, "", 1, -62135596800LL, {0}, {0}, {0}},
  };
  for (size_t i = 0; i < N(t); i++) {
    sc_image_config c;
    const char *d = t[i].desc;
    CHECK_INT(sc_config_parse(t[i].json, strlen(t[i].json), &c), 0, "%s: parses", d);
    CHECK_STR(c.os, t[i].os, "%s: os", d);
    CHECK_STR(c.architecture, t[i].arch, "%s: architecture", d);
    CHECK_STR(c.variant, t[i].variant, "%s: variant", d);
    CHECK_STR(c.user, t[i].user, "%s: user", d);
    CHECK_INT(c.runs_as_root, t[i].root, "%s: runs_as_root", d);
    CHECK_INT(c.created, t[i].created, "%s: created", d);
    size_t np = 0, ns = 0, nd = 0;
    while (np < N(t[i].ports) && t[i].ports[np]) np++;
    while (ns < N(t[i].secrets) && t[i].secrets[ns]) ns++;
    while (nd < N(t[i].diff_ids) && t[i].diff_ids[nd]) nd++;
    CHECK_INT(c.nports, np, "%s: port count", d);
    for (size_t k = 0; k < np && k < c.nports; k++) CHECK_STR(c.exposed_ports[k], t[i].ports[k], "%s: port %zu", d, k);
    CHECK_INT(c.nsecret_env, ns, "%s: secret env count", d);
    for (size_t k = 0; k < ns && k < c.nsecret_env; k++)
      CHECK_STR(c.secret_env[k], t[i].secrets[k], "%s: secret env %zu", d, k);
    CHECK_INT(c.ndiff_ids, nd, "%s: diff_id count", d);
    for (size_t k = 0; k < nd && k < c.ndiff_ids; k++)
      CHECK_STR(c.diff_ids[k], t[i].diff_ids[k], "%s: diff_id %zu", d, k);
    sc_config_free(&c);
    CHECK(c.os == NULL && c.ndiff_ids == 0, "%s: freed and cleared", d);
  }
}

static void test_users(void) {
  static const struct {
    const char *user;
    int root;
  } t[] = {{"", 1}, {"root", 1}, {"0", 1}, {"0:0", 1}, {"root:wheel", 1}, {"0:1000", 1},
           {"1000", 0}, {"nobody", 0}, {"app:app", 0}, {"00", 0}, {"rootless", 0}, {"65532:65532", 0}};
  for (size_t i = 0; i < N(t); i++) {
    char json[256];
    snprintf(json, sizeof json, "{\"os\":\"linux\",\"config\":{\"User\":\"%s\"}}", t[i].user);
    sc_image_config c;
    CHECK_INT(sc_config_parse(json, strlen(json), &c), 0, "user '%s': parses", t[i].user);
    CHECK_INT(c.runs_as_root, t[i].root, "user '%s': runs_as_root", t[i].user);
    sc_config_free(&c);
  }
  sc_image_config c;
  CHECK_INT(sc_config_parse("{}", 2, &c), 0, "empty object parses");
  CHECK_INT(c.runs_as_root, 1, "no config: root");
  CHECK_STR(c.user, "", "no config: empty user");
  CHECK_INT(c.created, -1, "no created: -1");
  sc_config_free(&c);
}

static void test_times(void) {
  static const struct {
    const char *s;
    int rc;
    int64_t want;
  } t[] = {
      {"1970-01-01T00:00:00Z", 0, 0},
      {"2000-03-01T00:00:00Z", 0, 951868800},
      {"2024-02-29T12:00:00.5Z", 0, 1709208000},
      {"2024-02-29T12:00:00-05:30", 0, 1709227800},
      {"2021-06-01 10:00:00z", 0, 1622541600},
      {"1969-12-31T23:59:59Z", 0, -1},
      {"2023-02-29T00:00:00Z", SC_ERR_FORMAT, 0},
      {"2023-13-01T00:00:00Z", SC_ERR_FORMAT, 0},
      {"2023-01-01T00:00:00", SC_ERR_FORMAT, 0},
      {"2023-01-01T00:00:00.Z", SC_ERR_FORMAT, 0},
      {"2023-01-01T00:00:00Zjunk", SC_ERR_FORMAT, 0},
      {"2023-1-01T00:00:00Z", SC_ERR_FORMAT, 0},
      {"", SC_ERR_FORMAT, 0},
  };
  for (size_t i = 0; i < N(t); i++) {
    int64_t v = 0;
    int rc = sc_config_parse_time(t[i].s, &v);
    CHECK_INT(rc, t[i].rc, "time '%s': rc", t[i].s);
    if (!t[i].rc) CHECK_INT(v, t[i].want, "time '%s': value", t[i].s);
  }
  /* A malformed "created" is not fatal: the timestamp is just unknown. */
  sc_image_config c;
  const char *j = "{\"created\":\"yesterday\",\"os\":\"linux\"}";
  CHECK_INT(sc_config_parse(j, strlen(j), &c), 0, "bad created still parses");
  CHECK_INT(c.created, -1, "bad created: -1");
  sc_config_free(&c);
}

static void test_bad(void) {
  static const struct {
    const char *desc, *json;
    int rc;
  } t[] = {
      {"not json", "not json", SC_ERR_FORMAT},
      {"truncated", "{\"os\":\"linux\",\"config\":{", SC_ERR_FORMAT},
      {"array at top", "[1,2]", SC_ERR_FORMAT},
      {"config is a string", "{\"config\":\"x\"}", SC_ERR_FORMAT},
      {"os is a number", "{\"os\":7}", SC_ERR_FORMAT},
      {"Env is an object", "{\"config\":{\"Env\":{}}}", SC_ERR_FORMAT},
      {"diff_ids hold a number", "{\"rootfs\":{\"diff_ids\":[\"sha256:1\",2]}}", SC_ERR_FORMAT},
      {"NUL escape in a string", "{\"os\":\"li\\u0000nux\"}", SC_ERR_FORMAT},
  };
  for (size_t i = 0; i < N(t); i++) {
    sc_image_config c;
    CHECK_INT(sc_config_parse(t[i].json, strlen(t[i].json), &c), t[i].rc, "%s: rejected", t[i].desc);
    sc_config_free(&c);
  }
  /* Length is honoured: the bytes after len are not part of the document. */
  sc_image_config c;
  const char *j = "{\"os\":\"linux\"}GARBAGE";
  CHECK_INT(sc_config_parse(j, 14, &c), 0, "bounded by len");
  CHECK_STR(c.os, "linux", "bounded by len: os");
  sc_config_free(&c);
  CHECK_INT(sc_config_parse(j, SC_CONFIG_MAX_BYTES + 1, &c), SC_ERR_LIMIT, "oversized config refused");
  sc_config_free(&c);
  CHECK_INT(sc_config_parse(NULL, 0, &c), SC_ERR_ARG, "NULL json");

  /* Too many diff_ids. */
  size_t n = SC_CONFIG_MAX_ITEMS + 1, cap = 64 + n * 5;
  char *big = malloc(cap), *p = big;
  p += sprintf(p, "{\"rootfs\":{\"diff_ids\":[");
  for (size_t i = 0; i < n; i++) p += sprintf(p, "%s\"x\"", i ? "," : "");
  p += sprintf(p, "]}}");
  CHECK_INT(sc_config_parse(big, (size_t)(p - big), &c), SC_ERR_LIMIT, "too many diff_ids");
  sc_config_free(&c);
  free(big);
}

/* ---- customs.yaml (px_config_load) ---- */

static char yaml_path[64];

/* Writes text to a temporary file and loads it over the defaults. */
static int load_yaml(const char *text, px_config *c, char *err, size_t errlen) {
  snprintf(yaml_path, sizeof(yaml_path), "/tmp/test_pxconfig_XXXXXX");
  int fd = mkstemp(yaml_path);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  px_config_defaults(c);
  err[0] = 0;
  int rc = px_config_load(c, yaml_path, err, errlen);
  unlink(yaml_path);
  return rc;
}

/* err is "PATH:LINE:COL: ..." with this line and column. */
static int err_at(const char *err, int line, int col) {
  char want[32];
  snprintf(want, sizeof(want), ":%d:%d: ", line, col);
  return strstr(err, want) != NULL;
}

static void test_daemon_config(void) {
  static px_config c; /* large: not on the stack */
  char err[512];
  char secret_file[] = "/tmp/test_pxsecret_XXXXXX";
  int sfd = mkstemp(secret_file);
  dprintf(sfd, "s3cr3t-from-file\nsecond line\n");
  close(sfd);
  char text[4096];
  snprintf(text, sizeof(text),
           "listen: 127.0.0.1:6000\n"
           "upstream: http://127.0.0.1:7000\n"
           "db:\n"
           "  path: /tmp/x.db\n"
           "  refresh: 10m\n"
           "  sources:\n"
           "    - /osv/a.zip\n"
           "    - https://mirror/b.zip\n"
           "log:\n"
           "  level: debug\n"
           "lineage:\n"
           "  watch:\n"
           "    - registry-1.docker.io/library/debian:12\n"
           "    - http://127.0.0.1:5999/base:3\n"
           "  watch_interval: 1h\n"
           "  username: bot\n"
           "  password_file: /run/secrets/reg\n"
           "webhooks:\n"
           "  - url: http://127.0.0.1:9/hook\n"
           "    events: [scan-completed, pull-denied]\n"
           "    secret: abc\n"
           "  - url: https://api.github.com/repos/o/r/dispatches\n"
           "    format: github\n"
           "    token_file: /run/secrets/gh\n"
           "    secret_file: %s\n"
           "  - url: https://dev.azure.com/org/proj/_apis/pipelines/7/runs?api-version=7.1\n"
           "    format: azure-pipelines\n"
           "    events:\n"
           "      - base-image-updated\n"
           "    ref: refs/heads/main\n",
           secret_file);
  CHECK_INT(load_yaml(text, &c, err, sizeof(err)), 0, "full customs.yaml loads (%s)", err);
  CHECK_STR(c.listen, "127.0.0.1:6000", "listen");
  CHECK_STR(c.upstream, "http://127.0.0.1:7000", "upstream: URL shorthand");
  CHECK_STR(c.db, "/tmp/x.db", "db.path");
  CHECK_INT(c.db_refresh_s, 600, "db.refresh 10m");
  CHECK(c.ndb_sources == 2 && !strcmp(c.db_sources[1], "https://mirror/b.zip"), "db.sources");
  CHECK_INT(c.log_level, 3, "log.level debug");
  CHECK(c.nwatch == 2 && !strcmp(c.watch[0], "registry-1.docker.io/library/debian:12") &&
            !strcmp(c.watch[1], "http://127.0.0.1:5999/base:3"),
        "lineage.watch");
  CHECK_INT(c.watch_interval_s, 3600, "lineage.watch_interval 1h");
  CHECK_STR(c.watch_username, "bot", "lineage.username");
  CHECK_STR(c.watch_password_file, "/run/secrets/reg", "lineage.password_file");
  CHECK_INT(c.nwebhooks, 3, "three webhooks");
  CHECK(c.webhooks[0].events == (PX_EV_SCAN_COMPLETED | PX_EV_PULL_DENIED), "webhook 1: events");
  CHECK_STR(c.webhooks[0].secret, "abc", "webhook 1: secret");
  CHECK_STR(c.webhooks[0].format, "generic", "webhook 1: format defaults to generic");
  CHECK(c.webhooks[1].events == (PX_EV_BASE_UPDATED | PX_EV_SCAN_COMPLETED | PX_EV_PULL_DENIED),
        "webhook 2: every event when the list is absent");
  CHECK_STR(c.webhooks[1].secret, "s3cr3t-from-file", "webhook 2: secret_file's first line");
  CHECK_STR(c.webhooks[1].token_file, "/run/secrets/gh", "webhook 2: token_file");
  CHECK_STR(c.webhooks[2].format, "azure-pipelines", "webhook 3: format");
  CHECK_STR(c.webhooks[2].ref, "refs/heads/main", "webhook 3: ref");
  CHECK(c.webhooks[2].events == PX_EV_BASE_UPDATED, "webhook 3: block list of events");

  /* defaults untouched by a file that does not name them */
  CHECK_INT(load_yaml("listen: 127.0.0.1:1\n", &c, err, sizeof(err)), 0, "minimal file");
  CHECK(c.watch_interval_s == 600 && c.nwebhooks == 0 && c.nwatch == 0, "lineage and webhook defaults");
  CHECK_INT(load_yaml("", &c, err, sizeof(err)), 0, "empty file");

  static const struct {
    const char *yaml, *msg;
    int line, col;
  } bad[] = {
      {"db:\n  pth: x\n", "unknown key 'db.pth'", 2, 8},
      {"lineage:\n  watch: debian:12\n", "lineage.watch: expected a list", 2, 10},
      {"lineage:\n  watch_interval: soon\n", "expected a duration", 2, 19},
      {"lineage:\n  wach: [a]\n", "unexpected structure at 'lineage.wach'", 2, 9},
      {"webhooks:\n  - url: http://h/x\n    events: [scan-complete]\n", "unknown event 'scan-complete'", 3, 14},
      {"webhooks:\n  - url: http://h/x\n    format: slack\n", "unknown format 'slack'", 3, 13},
      {"webhooks:\n  - url: http://h/x\n    sekret: a\n", "unknown key 'webhooks.sekret'", 3, 5},
      {"webhooks:\n  - url: ftp://h/x\n", "url must be http:// or https://", 2, 10},
      {"webhooks:\n  - events: [pull-denied]\n", "an entry without url", 2, 5},
      {"webhooks:\n  - url: http://h/x\n    secret: a\n    secret_file: /etc/hostname\n", "exclusive", 4, 18},
      {"webhooks:\n  - url: http://h/x\n    secret_file: /nonexistent/s\n", "unreadable", 3, 18},
      {"webhooks:\n  - url: http://h/x\n  - url: http://h/x\n", "listed twice", 3, 5},
      {"webhooks:\n  - url: http://h/x\n    events: []\n", "non-empty list", 3, 13},
      {"webhooks:\n  url: http://h/x\n", "expected a list of mappings", 2, 3},
      {"webhooks:\n  - http://h/x\n", "each entry is a mapping", 2, 5},
      {"db:\n  sources: [a, [b]]\n", "entries are strings", 2, 16},
      {"listen: [a]\n", "unexpected structure at 'listen'", 1, 9},
      {"db:\n  path: [\n", "", 3, 1},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = load_yaml(bad[i].yaml, &c, err, sizeof(err));
    CHECK(rc == SC_ERR_INVALID && strstr(err, bad[i].msg) && err_at(err, bad[i].line, bad[i].col) &&
              !strncmp(err, yaml_path, strlen(yaml_path)),
          "refused with file:%d:%d: %s (got %d: %s)", bad[i].line, bad[i].col, bad[i].msg, rc, err);
  }
  /* more than PX_MAX_WEBHOOKS */
  char many[8192];
  size_t o = (size_t)snprintf(many, sizeof(many), "webhooks:\n");
  for (int i = 0; i <= PX_MAX_WEBHOOKS; i++) o += (size_t)snprintf(many + o, sizeof(many) - o, "  - url: http://h/%d\n", i);
  CHECK(load_yaml(many, &c, err, sizeof(err)) == SC_ERR_INVALID && strstr(err, "at most 16 entries") &&
            err_at(err, PX_MAX_WEBHOOKS + 2, 5),
        "more than %d webhooks refused (%s)", PX_MAX_WEBHOOKS, err);
  unlink(secret_file);
}

int main(void) {
  test_shapes();
  test_users();
  test_times();
  test_bad();
  test_daemon_config();
  return tap_done();
}
