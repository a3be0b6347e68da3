/* test_admin.c - the admin listener's helpers (px_admin_query.c, included
 * here): query parameters (unknown, repeated, long, control characters),
 * integers and paging math, the bearer check, loopback addresses, Host
 * checks, the token file; and px_admin_start on a real libevent loop:
 * refusals at start (non-loopback without a token, bad token file), then
 * real HTTP exchanges from a client thread: /healthz without a token, 401
 * without and 200 with it, 405, 404 for /v2/, 400 for a bad parameter,
 * security headers, 503 for an API call without database threads. */
#include "../../proxy/px_admin_query.c"
#include "tap.h"
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const ALLOWED[] = {"repository", "page", "per_page", "q", NULL};

static void test_query(void) {
  px_admin_query q;
  char err[200];
  int64_t v, page, per, off;
  CHECK_INT(px_admin_query_parse("repository=shop%2Fapp&page=2", ALLOWED, &q, err, sizeof(err)), 0, "parse");
  CHECK_STR(px_admin_query_get(&q, "repository"), "shop/app", "decoded value");
  CHECK_STR(px_admin_query_get(&q, "page"), "2", "second value");
  CHECK(px_admin_query_get(&q, "q") == NULL, "absent parameter is NULL");
  px_admin_query_free(&q);
  CHECK_INT(px_admin_query_parse(NULL, ALLOWED, &q, err, sizeof(err)), 0, "no query");
  CHECK_INT(q.n, 0, "no parameters");
  CHECK_INT(px_admin_query_parse("colour=red", ALLOWED, &q, err, sizeof(err)), SC_ERR_INVALID, "unknown name");
  CHECK(strstr(err, "unknown parameter \"colour\"") != NULL, "says which: %s", err);
  CHECK_INT(q.n, 0, "nothing kept after an error");
  CHECK_INT(px_admin_query_parse("page=1&page=2", ALLOWED, &q, err, sizeof(err)), SC_ERR_INVALID, "repeated name");
  CHECK(strstr(err, "twice") != NULL, "says twice: %s", err);
  CHECK_INT(px_admin_query_parse("q=a%0Ab", ALLOWED, &q, err, sizeof(err)), SC_ERR_INVALID, "control character");
  char big[PX_ADMIN_MAX_QUERY_BYTES + 16];
  memset(big, 'a', sizeof(big));
  memcpy(big, "q=", 2);
  big[sizeof(big) - 1] = 0;
  CHECK_INT(px_admin_query_parse(big, ALLOWED, &q, err, sizeof(err)), SC_ERR_INVALID, "query over its cap");
  char longv[PX_ADMIN_MAX_PARAM_BYTES + 8];
  memset(longv, 'b', sizeof(longv));
  memcpy(longv, "q=", 2);
  longv[PX_ADMIN_MAX_PARAM_BYTES + 3] = 0; /* value of cap + 1 bytes */
  CHECK_INT(px_admin_query_parse(longv, ALLOWED, &q, err, sizeof(err)), SC_ERR_INVALID, "value over its cap");
  longv[PX_ADMIN_MAX_PARAM_BYTES + 2] = 0; /* exactly the cap */
  CHECK_INT(px_admin_query_parse(longv, ALLOWED, &q, err, sizeof(err)), 0, "value at its cap");
  px_admin_query_free(&q);

  const char *bad[] = {"-1", "1e3", "0x10", "", " 5", "5 ", "201", "99999999999999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char s[64];
    snprintf(s, sizeof(s), "per_page=%s", bad[i]);
    px_admin_query_parse(s, ALLOWED, &q, err, sizeof(err));
    int rc = px_admin_query_int(&q, "per_page", 50, 1, 200, &v, err, sizeof(err));
    /* "" parses as an absent value only if the parser dropped it: either way not accepted as a number */
    CHECK(rc == SC_ERR_INVALID || (q.n == 0 && v == 50), "per_page=\"%s\" refused", bad[i]);
    px_admin_query_free(&q);
  }
  px_admin_query_parse("per_page=200", ALLOWED, &q, err, sizeof(err));
  CHECK_INT(px_admin_query_int(&q, "per_page", 50, 1, 200, &v, err, sizeof(err)), 0, "the maximum");
  CHECK_INT(v, 200, "is accepted");
  CHECK_INT(px_admin_query_int(&q, "page", 7, 1, 10, &v, err, sizeof(err)), 0, "absent");
  CHECK_INT(v, 7, "gives the default");
  px_admin_query_free(&q);

  px_admin_query_parse("page=3&per_page=20", ALLOWED, &q, err, sizeof(err));
  CHECK_INT(px_admin_paging(&q, &page, &per, &off, err, sizeof(err)), 0, "paging");
  CHECK_INT(off, 40, "page 3 of 20 starts at row 40");
  px_admin_query_free(&q);
  px_admin_query_parse("", ALLOWED, &q, err, sizeof(err));
  CHECK_INT(px_admin_paging(&q, &page, &per, &off, err, sizeof(err)), 0, "default paging");
  CHECK_INT(page * 1000 + per * 10 + off, 1 * 1000 + PX_ADMIN_DEFAULT_PER_PAGE * 10 + 0, "page 1, default size, row 0");
  px_admin_query_free(&q);
  px_admin_query_parse("page=0", ALLOWED, &q, err, sizeof(err));
  CHECK_INT(px_admin_paging(&q, &page, &per, &off, err, sizeof(err)), SC_ERR_INVALID, "page 0 refused");
  px_admin_query_free(&q);
  px_admin_query_parse("page=100000&per_page=200", ALLOWED, &q, err, sizeof(err));
  CHECK_INT(px_admin_paging(&q, &page, &per, &off, err, sizeof(err)), 0, "the last page allowed");
  CHECK_INT(off, (int64_t)99999 * 200, "its offset");
  px_admin_query_free(&q);
  px_admin_query_parse("page=100001", ALLOWED, &q, err, sizeof(err));
  CHECK_INT(px_admin_paging(&q, &page, &per, &off, err, sizeof(err)), SC_ERR_INVALID, "past the last page");
  px_admin_query_free(&q);
}

static void test_auth(void) {
  unsigned char sha[32];
  SHA256((const unsigned char *)"s3cret", 6, sha);
  CHECK(px_admin_bearer_ok("Bearer s3cret", sha), "the token");
  CHECK(px_admin_bearer_ok("bearer s3cret", sha), "scheme case-insensitive");
  CHECK(px_admin_bearer_ok("Bearer s3cret  ", sha), "trailing blanks");
  CHECK(!px_admin_bearer_ok("Bearer s3cre", sha), "a prefix is refused");
  CHECK(!px_admin_bearer_ok("Bearer s3crett", sha), "a longer token is refused");
  CHECK(!px_admin_bearer_ok("Basic s3cret", sha), "another scheme");
  CHECK(!px_admin_bearer_ok("s3cret", sha), "no scheme");
  CHECK(!px_admin_bearer_ok("Bearer ", sha), "empty");
  CHECK(!px_admin_bearer_ok(NULL, sha), "no header");

  CHECK(px_admin_is_loopback("127.0.0.1"), "127.0.0.1");
  CHECK(px_admin_is_loopback("127.8.9.10"), "127/8");
  CHECK(px_admin_is_loopback("::1"), "::1");
  CHECK(px_admin_is_loopback("::ffff:127.0.0.1"), "v4-mapped loopback");
  CHECK(px_admin_is_loopback("localhost"), "localhost");
  CHECK(!px_admin_is_loopback(""), "every interface");
  CHECK(!px_admin_is_loopback("0.0.0.0"), "0.0.0.0");
  CHECK(!px_admin_is_loopback("::"), "::");
  CHECK(!px_admin_is_loopback("10.1.2.3"), "a private address");
  CHECK(!px_admin_is_loopback("128.0.0.1"), "128.0.0.1");
  CHECK(!px_admin_is_loopback("admin.example"), "a name");

  CHECK(px_admin_host_ok(NULL, "127.0.0.1"), "no Host (HTTP/1.0)");
  CHECK(px_admin_host_ok("127.0.0.1:9000", "127.0.0.1"), "address and port");
  CHECK(px_admin_host_ok("localhost:9000", "127.0.0.1"), "localhost");
  CHECK(px_admin_host_ok("[::1]:9000", "::1"), "v6 literal");
  CHECK(!px_admin_host_ok("evil.example:9000", "127.0.0.1"), "another name (DNS rebinding)");
  CHECK(px_admin_host_ok("Admin.Local", "admin.local"), "the listen host by name");
  CHECK(!px_admin_host_ok("[::1", "::1"), "broken literal");
}

static void test_token_file(void) {
  char path[] = "/tmp/test_admin_tokXXXXXX", out[PX_ADMIN_MAX_TOKEN_BYTES + 2];
  int fd = mkstemp(path);
  CHECK(fd >= 0, "temp file");
  CHECK(write(fd, "abc def \r\nsecond\n", 17) == 17, "written");
  close(fd);
  CHECK_INT(px_admin_read_token(path, out, sizeof(out)), 0, "token read");
  CHECK_STR(out, "abc def", "the first line, trailing blanks cut");
  FILE *f = fopen(path, "w");
  fputs("\nlater\n", f);
  fclose(f);
  CHECK_INT(px_admin_read_token(path, out, sizeof(out)), SC_ERR_INVALID, "an empty first line is refused");
  f = fopen(path, "w");
  for (int i = 0; i < PX_ADMIN_MAX_TOKEN_BYTES + 5; i++) fputc('x', f);
  fclose(f);
  CHECK_INT(px_admin_read_token(path, out, sizeof(out)), SC_ERR_INVALID, "a token over the cap is refused");
  unlink(path);
  CHECK_INT(px_admin_read_token(path, out, sizeof(out)), SC_ERR_IO, "a missing file");
}

/* ---- the listener on a real loop ---- */

typedef struct client {
  int port;
  struct event *done_ev;
  char out[16][2048];
} client;

static const char *const REQS[] = {
    "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /api/policy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "GET /api/policy HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-1\r\nConnection: close\r\n\r\n",
    "POST /api/policy HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-1\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n",
    "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-1\r\nConnection: close\r\n\r\n",
    "GET /api/images?page=x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-1\r\nConnection: close\r\n\r\n",
    "GET /api/images HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-1\r\nConnection: close\r\n\r\n",
    "GET /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-1\r\nConnection: close\r\n\r\n",
    "HEAD /api/policy HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok-1\r\nConnection: close\r\n\r\n",
    NULL};

static void *client_thread(void *arg) {
  client *c = arg;
  for (int i = 0; REQS[i]; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    sa.sin_addr.s_addr = htonl(0x7f000001);
    size_t got = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, REQS[i], strlen(REQS[i])) == (ssize_t)strlen(REQS[i])) {
      ssize_t n;
      while (got < sizeof(c->out[i]) - 1 && (n = read(fd, c->out[i] + got, sizeof(c->out[i]) - 1 - got)) > 0)
        got += (size_t)n;
    }
    c->out[i][got] = 0;
    if (fd >= 0) close(fd);
  }
  event_active(c->done_ev, 0, 0);
  return NULL;
}

static void on_client_done(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  event_base_loopbreak(arg);
}

static void test_listener(void) {
  px_config cfg;
  px_ctx ctx;
  char tokpath[] = "/tmp/test_admin_lstXXXXXX";
  memset(&cfg, 0, sizeof(cfg));
  memset(&ctx, 0, sizeof(ctx));
  evthread_use_pthreads();
  ctx.base = event_base_new();
  ctx.cfg = &cfg;
  snprintf(cfg.upstream, sizeof(cfg.upstream), "http://127.0.0.1:9");

  snprintf(cfg.admin_listen, sizeof(cfg.admin_listen), "0.0.0.0:0");
  CHECK_INT(px_admin_start(&ctx), SC_ERR_INVALID, "a non-loopback address without a token is refused");
  px_admin_stop(&ctx);
  CHECK(ctx.admin == NULL, "and nothing is left");
  snprintf(cfg.admin_listen, sizeof(cfg.admin_listen), "127.0.0.1");
  CHECK_INT(px_admin_start(&ctx), SC_ERR_INVALID, "an address without a port is refused");
  px_admin_stop(&ctx);
  snprintf(cfg.admin_listen, sizeof(cfg.admin_listen), "127.0.0.1:0");
  snprintf(cfg.admin_token_file, sizeof(cfg.admin_token_file), "/nonexistent/token");
  CHECK_INT(px_admin_start(&ctx), SC_ERR_INVALID, "an unreadable token file is refused");
  px_admin_stop(&ctx);

  int fd = mkstemp(tokpath);
  CHECK(fd >= 0 && write(fd, "tok-1\n", 6) == 6, "token file");
  close(fd);
  snprintf(cfg.admin_token_file, sizeof(cfg.admin_token_file), "%s", tokpath);
  CHECK_INT(px_admin_start(&ctx), 0, "loopback with a token starts");
  CHECK(ctx.admin && ctx.admin->port > 0, "on a port of the kernel's choice");

  client c;
  pthread_t th;
  memset(&c, 0, sizeof(c));
  c.port = ctx.admin ? ctx.admin->port : 0;
  c.done_ev = event_new(ctx.base, -1, 0, on_client_done, ctx.base);
  pthread_create(&th, NULL, client_thread, &c);
  event_base_dispatch(ctx.base);
  pthread_join(th, NULL);
  event_free(c.done_ev);

  CHECK(!strncmp(c.out[0], "HTTP/1.1 200", 12), "/healthz: 200 without a token");
  CHECK(strstr(c.out[0], "\r\n\r\nok\n") != NULL, "says ok");
  CHECK(strstr(c.out[0], "X-Content-Type-Options: nosniff") != NULL, "with nosniff");
  CHECK(!strncmp(c.out[1], "HTTP/1.1 401", 12), "/api/policy without the token: 401");
  CHECK(strstr(c.out[1], "WWW-Authenticate: Bearer") != NULL, "with a Bearer challenge");
  CHECK(strstr(c.out[1], "Cache-Control: no-store") != NULL, "and the security headers");
  CHECK(!strncmp(c.out[2], "HTTP/1.1 200", 12), "with the token: 200");
  CHECK(strstr(c.out[2], "\"exceptions\":[]") != NULL, "the policy document (none loaded)");
  CHECK(strstr(c.out[2], "X-Frame-Options: DENY") != NULL, "X-Frame-Options");
  CHECK(strstr(c.out[2], "Content-Security-Policy: default-src 'none'") != NULL, "CSP of a JSON answer");
  CHECK(!strncmp(c.out[3], "HTTP/1.1 405", 12), "POST: 405");
  CHECK(strstr(c.out[3], "Allow: GET, HEAD") != NULL, "with Allow");
  CHECK(!strncmp(c.out[4], "HTTP/1.1 404", 12), "/v2/: 404, the admin port proxies nothing");
  CHECK(!strncmp(c.out[5], "HTTP/1.1 400", 12), "page=x: 400");
  CHECK(strstr(c.out[5], "\"error\":\"parameter \\\"page\\\" must be an integer") != NULL, "why, in JSON");
  CHECK(!strncmp(c.out[6], "HTTP/1.1 503", 12), "no database threads: 503");
  CHECK(!strncmp(c.out[7], "HTTP/1.1 404", 12), "an unknown API path: 404");
  CHECK(!strncmp(c.out[8], "HTTP/1.1 200", 12), "HEAD: 200");
  CHECK(strstr(c.out[8], "Content-Length: ") != NULL && strstr(c.out[8], "\r\n\r\n")[4] == 0, "headers only");
  px_admin_stop(&ctx);
  CHECK(ctx.admin == NULL, "stopped");
  unlink(tokpath);
  event_base_free(ctx.base);
}

int main(void) {
  test_query();
  test_auth();
  test_token_file();
  test_listener();
  return tap_done();
}
