/* test_http.c - the outbound HTTP client (net/net_http.c) against two small
 * libevent HTTP servers on 127.0.0.1 run by this test on a thread of its
 * own: server A is a registry with a token realm, server B stands for the
 * object storage a blob redirect points at.  Covers the token flow (challenge,
 * Basic credentials at the realm, cache per scope, expiry on a fake clock,
 * renewal after a refused token), the redirect rule (Authorization to the
 * request's origin only: not to another port, not to another host name),
 * body caps in memory and to a file descriptor, error bodies kept out of the
 * fd, a redirect loop, the abort flag, and the user agent; and the OAuth2
 * POST grants (password, refresh_token, the GET fallback on 405). */
#include "../../net/net_http.c"
#include "../../net/net_http_token.c"
#include "../unit/tap.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <signal.h>
#include <sys/stat.h>

#define BIG_BYTES 100000
#define LOG_MAX 256

static struct {
  pthread_mutex_t mu;
  int port_a, port_b;
  int tokens_issued, challenges;
  char current[64];              /* the token the registry accepts */
  char token_auth[LOG_MAX];      /* Authorization seen by the realm */
  char token_query[LOG_MAX];
  char b_auth[LOG_MAX];          /* Authorization seen by server B */
  char final_auth[LOG_MAX];      /* Authorization seen at A's /final */
  char user_agent[LOG_MAX];
  char token_form[LOG_MAX];      /* body of the last POST to the realm */
  int posts, post_status;        /* POSTs to the realm; answer them with this status (0: a token) */
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int64_t fake_now = 1000000;
static int64_t fake_clock(void) { return fake_now; }

static void logv(char *dst, const char *v) {
  pthread_mutex_lock(&S.mu);
  snprintf(dst, LOG_MAX, "%s", v ? v : "(none)");
  pthread_mutex_unlock(&S.mu);
}

static void reply(struct evhttp_request *r, int code, const char *body) {
  struct evbuffer *b = evbuffer_new();
  if (body) evbuffer_add(b, body, strlen(body));
  evhttp_send_reply(r, code, code == 200 ? "OK" : "X", b);
  evbuffer_free(b);
}

static void redirect(struct evhttp_request *r, int code, const char *loc) {
  evhttp_add_header(evhttp_request_get_output_headers(r), "Location", loc);
  reply(r, code, "redirect body");
}

/* The registry's check: the current token, else a Bearer challenge. */
static int authorized(struct evhttp_request *r) {
  const char *a = evhttp_find_header(evhttp_request_get_input_headers(r), "Authorization");
  char want[80], ch[300];
  pthread_mutex_lock(&S.mu);
  snprintf(want, sizeof(want), "Bearer %s", S.current);
  int ok = S.current[0] && a && !strcmp(a, want);
  if (!ok) S.challenges++;
  pthread_mutex_unlock(&S.mu);
  if (ok) return 1;
  snprintf(ch, sizeof(ch), "Bearer realm=\"http://127.0.0.1:%d/token\",service=\"svc\",scope=\"repository:r:pull\"",
           S.port_a);
  evhttp_add_header(evhttp_request_get_output_headers(r), "WWW-Authenticate", ch);
  reply(r, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
  return 0;
}

static void on_a(struct evhttp_request *r, void *arg) {
  (void)arg;
  const char *uri = evhttp_request_get_uri(r);
  struct evkeyvalq *in = evhttp_request_get_input_headers(r);
  char loc[200];
  logv(S.user_agent, evhttp_find_header(in, "User-Agent"));
  if (!strcmp(uri, "/token") && evhttp_request_get_command(r) == EVHTTP_REQ_POST) {
    struct evbuffer *in_body = evhttp_request_get_input_buffer(r);
    char form[LOG_MAX] = "", body[200];
    size_t n = evbuffer_get_length(in_body) < LOG_MAX - 1 ? evbuffer_get_length(in_body) : LOG_MAX - 1;
    evbuffer_copyout(in_body, form, n);
    form[n] = 0;
    logv(S.token_form, form);
    pthread_mutex_lock(&S.mu);
    S.posts++;
    int st = S.post_status;
    if (!st) snprintf(S.current, sizeof(S.current), "tok-%d", ++S.tokens_issued);
    snprintf(body, sizeof(body), "{\"access_token\":\"%s\",\"expires_in\":300,\"refresh_token\":\"rt\"}", S.current);
    pthread_mutex_unlock(&S.mu);
    reply(r, st ? st : 200, st ? "SECRET-ERROR-BODY" : body);
  } else if (!strncmp(uri, "/token?", 7)) {
    char body[200];
    logv(S.token_auth, evhttp_find_header(in, "Authorization"));
    logv(S.token_query, uri + 7);
    pthread_mutex_lock(&S.mu);
    snprintf(S.current, sizeof(S.current), "tok-%d", ++S.tokens_issued);
    snprintf(body, sizeof(body), "{\"token\":\"%s\",\"expires_in\":300}", S.current);
    pthread_mutex_unlock(&S.mu);
    reply(r, 200, body);
  } else if (!strcmp(uri, "/v2/r/manifests/t")) {
    if (!authorized(r)) return;
    evhttp_add_header(evhttp_request_get_output_headers(r), "Content-Type", "application/x-test");
    evhttp_add_header(evhttp_request_get_output_headers(r), "Docker-Content-Digest", "sha256:abc");
    reply(r, 200, "manifest");
  } else if (!strcmp(uri, "/v2/r/blobs/x")) {
    if (!authorized(r)) return;
    snprintf(loc, sizeof(loc), "http://127.0.0.1:%d/storage/x", S.port_b);
    redirect(r, 307, loc);
  } else if (!strcmp(uri, "/same")) {
    redirect(r, 302, "/final");
  } else if (!strcmp(uri, "/tolocalhost")) {
    snprintf(loc, sizeof(loc), "http://localhost:%d/final", S.port_a);
    redirect(r, 302, loc);
  } else if (!strcmp(uri, "/final")) {
    logv(S.final_auth, evhttp_find_header(in, "Authorization"));
    reply(r, 200, "final");
  } else if (!strcmp(uri, "/big")) {
    static char big[BIG_BYTES + 1];
    memset(big, 'b', BIG_BYTES);
    reply(r, 200, big);
  } else if (!strcmp(uri, "/loop")) {
    redirect(r, 302, "/loop");
  } else if (!strcmp(uri, "/denied")) {
    reply(r, 401, "SECRET-ERROR-BODY");
  } else if (!strcmp(uri, "/basic")) {
    const char *a = evhttp_find_header(in, "Authorization");
    if (a && !strcmp(a, "Basic dXNlcjpwYXNz")) {
      reply(r, 200, "basic ok");
    } else {
      evhttp_add_header(evhttp_request_get_output_headers(r), "WWW-Authenticate", "Basic realm=\"test\"");
      reply(r, 401, NULL);
    }
  } else {
    reply(r, 404, "no");
  }
}

static void on_b(struct evhttp_request *r, void *arg) {
  (void)arg;
  logv(S.b_auth, evhttp_find_header(evhttp_request_get_input_headers(r), "Authorization"));
  reply(r, 200, "BLOBDATA");
}

static struct event_base *base;

static int bind_port(struct evhttp *h) {
  struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(h, "127.0.0.1", 0);
  struct sockaddr_in sa;
  socklen_t sl = sizeof(sa);
  if (!s || getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sa, &sl)) return -1;
  return ntohs(sa.sin_port);
}

static void *serve(void *arg) {
  (void)arg;
  event_base_dispatch(base);
  return NULL;
}

static long fd_size(int fd) {
  struct stat sb;
  return fstat(fd, &sb) ? -1 : (long)sb.st_size;
}

static char *url(int port, const char *path) {
  static char buf[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof(buf[k]), "http://127.0.0.1:%d%s", port, path);
  return buf[k];
}

static void test_pure(void) {
  char v[64];
  CHECK(net_http_auth_param("Bearer realm=\"https://a/t\",service=\"s\",scope=\"repository:x:pull\"", "scope", v,
                            sizeof(v)) == 0 && !strcmp(v, "repository:x:pull"),
        "auth_param: quoted value");
  CHECK(net_http_auth_param("Bearer realm=\"r\", error=invalid_token", "error", v, sizeof(v)) == 0 &&
            !strcmp(v, "invalid_token"),
        "auth_param: token value after a space");
  CHECK(net_http_auth_param("Bearer xrealm=\"r\"", "realm", v, sizeof(v)) < 0, "auth_param: no partial key match");
  CHECK(net_http_auth_param("Bearer realm=\"0123456789\"", "realm", v, 5) < 0, "auth_param: too long refused");
  CHECK(net_http_same_origin("http://a.example/x", "http://A.example:80/y"), "same origin: default port, case");
  CHECK(!net_http_same_origin("https://a.example/x", "http://a.example/x"), "scheme differs: other origin");
  CHECK(!net_http_same_origin("http://a.example:5000/x", "http://a.example:5001/x"), "port differs: other origin");
  CHECK(!net_http_same_origin("http://a.example/x", "http://a.example.evil/x"), "host differs: other origin");
  CHECK(!net_http_same_origin("http://a/x", "ftp://a/x"), "ftp is no origin of ours");
  char b[64];
  CHECK(basic_value("user", "pass", b, sizeof(b)) == 0 && !strcmp(b, "Basic dXNlcjpwYXNz"), "Basic value");
  CHECK(basic_value("ab", "", b, sizeof(b)) == 0 && !strcmp(b, "Basic YWI6"), "Basic value with padding");
}

static void test_tokens(void) {
  net_http *h;
  net_http_resp rs;
  CHECK_INT(net_http_new(NULL, &h), 0, "client");
  h->now_s = fake_clock;
  net_http_req rq = {.url = url(S.port_a, "/v2/r/manifests/t"), .scope = "repository:r:pull", .fd = -1,
                     .max_bytes = 1024};
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "registry GET through a challenge");
  CHECK_INT(rs.status, 200, "200 after the token");
  CHECK_STR(rs.body, "manifest", "body in memory");
  CHECK_STR(rs.content_type, "application/x-test", "content type kept");
  CHECK_STR(rs.docker_digest, "sha256:abc", "Docker-Content-Digest kept");
  CHECK_INT(S.tokens_issued, 1, "one token fetched");
  CHECK_STR(S.token_query, "service=svc&scope=repository%3Ar%3Apull", "realm asked with service and scope");
  CHECK_STR(S.token_auth, "(none)", "anonymous: no credentials sent to the realm");
  CHECK_STR(S.user_agent, "customs/" PACKAGE_VERSION, "one user agent");
  net_http_resp_free(&rs);

  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "second GET");
  CHECK_INT(rs.status, 200, "second GET 200");
  CHECK_INT(S.tokens_issued, 1, "token reused from the cache");
  CHECK_INT(S.challenges, 1, "cached token sent up front: no second challenge");
  net_http_resp_free(&rs);

  fake_now += 300; /* past expires_in */
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "GET after expiry");
  CHECK_INT(rs.status, 200, "200 after expiry");
  CHECK_INT(S.tokens_issued, 2, "an expired token is not sent: a new one is fetched");
  net_http_resp_free(&rs);

  pthread_mutex_lock(&S.mu);
  snprintf(S.current, sizeof(S.current), "revoked");
  pthread_mutex_unlock(&S.mu);
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "GET with a token the registry refuses");
  CHECK_INT(rs.status, 200, "a refused cached token is replaced, then 200");
  CHECK_INT(S.tokens_issued, 3, "a fresh token was fetched");
  net_http_resp_free(&rs);

  /* the blob: 307 to another origin (B) must not carry the token */
  char path[] = "/tmp/test_http.XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  net_http_req bq = {.url = url(S.port_a, "/v2/r/blobs/x"), .scope = "repository:r:pull", .fd = fd,
                     .max_bytes = 1 << 20};
  CHECK_INT(net_http_registry_get(h, &bq, &rs), 0, "blob GET with a redirect");
  CHECK_INT(rs.status, 200, "blob 200 from storage");
  CHECK_STR(S.b_auth, "(none)", "no Authorization sent to the redirect's other origin");
  CHECK_INT(fd_size(fd), 8, "only the final body reached the fd (not the redirect's)");
  char got[16] = "";
  CHECK(pread(fd, got, 8, 0) == 8 && !memcmp(got, "BLOBDATA", 8), "blob bytes in the fd");
  CHECK(strstr(rs.final_url, "/storage/x") != NULL, "final URL is the storage's");
  close(fd);
  net_http_free(h);
}

static void test_credentials(void) {
  net_http *h;
  net_http_resp rs;
  net_http_opts o = {.username = "user", .password = "pass"};
  CHECK_INT(net_http_new(&o, &h), 0, "client with credentials");
  pthread_mutex_lock(&S.mu);
  S.current[0] = 0;
  pthread_mutex_unlock(&S.mu);
  net_http_req rq = {.url = url(S.port_a, "/v2/r/manifests/t"), .fd = -1, .max_bytes = 1024};
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "GET without a scope hint");
  CHECK_INT(rs.status, 200, "token flow with credentials");
  CHECK_STR(S.token_auth, "Basic dXNlcjpwYXNz", "Basic credentials sent to the realm");
  net_http_resp_free(&rs);
  net_http_req bq = {.url = url(S.port_a, "/basic"), .fd = -1, .max_bytes = 1024};
  CHECK_INT(net_http_registry_get(h, &bq, &rs), 0, "GET behind a Basic challenge");
  CHECK_INT(rs.status, 200, "Basic challenge answered with the credentials");
  net_http_resp_free(&rs);
  net_http_free(h);
  CHECK_INT(net_http_new(NULL, &h), 0, "anonymous client");
  CHECK_INT(net_http_registry_get(h, &bq, &rs), 0, "anonymous GET behind a Basic challenge");
  CHECK_INT(rs.status, 401, "without credentials the 401 stands");
  CHECK(strstr(rs.error, "HTTP 401") != NULL, "error names the status");
  net_http_resp_free(&rs);
  net_http_free(h);
}

/* The OAuth2 POST grants (net_http_token.c): the form, the fallback to
 * the GET when the realm refuses POST, and errors without secrets. */
static void test_grants(void) {
  net_http *h;
  net_http_resp rs;
  net_http_opts o = {.username = "user", .password = "p&ss=1", .grant = NET_HTTP_GRANT_PASSWORD};
  net_http_req rq = {.url = url(S.port_a, "/v2/r/manifests/t"), .scope = "repository:r:pull", .fd = -1,
                     .max_bytes = 1024};
  pthread_mutex_lock(&S.mu);
  S.current[0] = 0;
  S.posts = 0;
  S.post_status = 0;
  pthread_mutex_unlock(&S.mu);
  logv(S.token_query, "(none)");
  CHECK_INT(net_http_new(&o, &h), 0, "client with the password grant");
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "GET through a POST grant");
  CHECK_INT(rs.status, 200, "password grant: 200 after the token");
  CHECK_INT(S.posts, 1, "password grant: one POST to the realm");
  CHECK_STR(S.token_form,
            "grant_type=password&service=svc&scope=repository%3Ar%3Apull&client_id=customs&username=user&"
            "password=p%26ss%3D1",
            "password grant: the OAuth2 form, every value escaped");
  CHECK_STR(S.token_query, "(none)", "password grant: no GET to the realm");
  net_http_resp_free(&rs);
  net_http_free(h);

  o.grant = NET_HTTP_GRANT_REFRESH_TOKEN;
  o.password = "rt-secret";
  pthread_mutex_lock(&S.mu);
  S.current[0] = 0;
  pthread_mutex_unlock(&S.mu);
  CHECK_INT(net_http_new(&o, &h), 0, "client with the refresh_token grant");
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "GET through a refresh_token grant");
  CHECK_INT(rs.status, 200, "refresh_token grant: 200");
  CHECK_STR(S.token_form, "grant_type=refresh_token&service=svc&scope=repository%3Ar%3Apull&client_id=customs&"
                          "refresh_token=rt-secret",
            "refresh_token grant: the form carries the token, not the username");
  net_http_resp_free(&rs);

  /* a realm that refuses the token: an error without the secret */
  pthread_mutex_lock(&S.mu);
  S.current[0] = 0;
  S.post_status = 401;
  pthread_mutex_unlock(&S.mu);
  fake_now += 100000; /* the cached token expired */
  CHECK(net_http_registry_get(h, &rq, &rs) == SC_ERR_IO, "a refused grant is an I/O error (no token)");
  CHECK(strstr(rs.error, "credentials refused") && !strstr(rs.error, "rt-secret") && !strstr(rs.error, "SECRET"),
        "refused grant: says so, names no secret and no error body");
  net_http_resp_free(&rs);
  net_http_free(h);

  /* a GET-only token server: 405 to the POST, then the GET with Basic */
  o.grant = NET_HTTP_GRANT_PASSWORD;
  o.password = "pass";
  pthread_mutex_lock(&S.mu);
  S.current[0] = 0;
  S.posts = 0;
  S.post_status = 405;
  pthread_mutex_unlock(&S.mu);
  logv(S.token_auth, "(none)");
  CHECK_INT(net_http_new(&o, &h), 0, "client with the password grant (GET-only realm)");
  h->now_s = fake_clock;
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "GET through a realm that refuses POST");
  CHECK_INT(rs.status, 200, "405 to the POST: the GET with Basic got the token");
  CHECK_STR(S.token_auth, "Basic dXNlcjpwYXNz", "the fallback GET carries Basic credentials");
  net_http_resp_free(&rs);
  pthread_mutex_lock(&S.mu);
  S.current[0] = 0; /* the registry forgets the token: a new one is needed */
  pthread_mutex_unlock(&S.mu);
  CHECK_INT(net_http_registry_get(h, &rq, &rs), 0, "second token from the same realm");
  CHECK_INT(rs.status, 200, "second token: 200");
  CHECK_INT(S.posts, 1, "the realm is remembered as GET-only: one POST in all");
  net_http_resp_free(&rs);
  net_http_free(h);
  pthread_mutex_lock(&S.mu);
  S.post_status = 0;
  pthread_mutex_unlock(&S.mu);
}

static void test_redirects_and_caps(void) {
  net_http *h;
  net_http_resp rs;
  CHECK_INT(net_http_new(NULL, &h), 0, "client");
  net_http_req rq = {.url = url(S.port_a, "/same"), .authorization = "Bearer secret", .fd = -1, .max_bytes = 64};
  CHECK_INT(net_http_get(h, &rq, &rs), 0, "same-origin redirect");
  CHECK_STR(rs.body, "final", "followed to /final");
  CHECK_STR(S.final_auth, "Bearer secret", "Authorization kept on the same origin");
  net_http_resp_free(&rs);
  rq.url = url(S.port_a, "/tolocalhost");
  CHECK_INT(net_http_get(h, &rq, &rs), 0, "redirect to another host name, same port");
  CHECK_INT(rs.status, 200, "followed to localhost");
  CHECK_STR(S.final_auth, "(none)", "no Authorization to another host name");
  net_http_resp_free(&rs);

  net_http_req big = {.url = url(S.port_a, "/big"), .fd = -1, .max_bytes = 1000};
  CHECK_INT(net_http_get(h, &big, &rs), SC_ERR_LIMIT, "memory body over the cap refused");
  CHECK(rs.body == NULL || rs.len <= 1000, "no more than the cap held");
  net_http_resp_free(&rs);
  big.max_bytes = BIG_BYTES;
  CHECK_INT(net_http_get(h, &big, &rs), 0, "body exactly at the cap");
  CHECK_INT(rs.len, BIG_BYTES, "whole body in memory");
  net_http_resp_free(&rs);
  char path[] = "/tmp/test_http.XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  big.fd = fd;
  big.max_bytes = 1000;
  CHECK_INT(net_http_get(h, &big, &rs), SC_ERR_LIMIT, "fd body over the cap refused");
  CHECK(fd_size(fd) <= 1000, "no more than the cap written");
  int stop = 1;
  big.max_bytes = BIG_BYTES;
  big.abort_flag = &stop;
  CHECK_INT(net_http_get(h, &big, &rs), SC_ERR_IO, "abort flag stops the transfer");
  CHECK(strstr(rs.error, "stopped") != NULL, "reported as stopped");
  close(fd);

  fd = mkstemp(strcpy(path, "/tmp/test_http.XXXXXX"));
  unlink(path);
  net_http_req den = {.url = url(S.port_a, "/denied"), .fd = fd, .max_bytes = 1024};
  CHECK_INT(net_http_get(h, &den, &rs), 0, "a 401 is an answer");
  CHECK_INT(rs.status, 401, "status 401");
  CHECK_INT(fd_size(fd), 0, "an error body never reaches the fd");
  close(fd);

  net_http_req loop = {.url = url(S.port_a, "/loop"), .fd = -1, .max_bytes = 64};
  CHECK_INT(net_http_get(h, &loop, &rs), SC_ERR_IO, "redirect loop refused");
  CHECK(strstr(rs.error, "redirects") != NULL, "error says why");
  net_http_req none = {.url = url(S.port_a, "/nothing"), .fd = -1, .max_bytes = 64};
  CHECK_INT(net_http_get(h, &none, &rs), 0, "404 is an answer");
  CHECK_INT(rs.status, 404, "status 404");
  net_http_resp_free(&rs);
  net_http_req nocap = {.url = url(S.port_a, "/big"), .fd = -1};
  CHECK_INT(net_http_get(h, &nocap, &rs), SC_ERR_ARG, "a request without a cap is refused");
  net_http_free(h);
}

int main(void) {
  pthread_t th;
  /* the test's servers write to clients that may have gone (a capped body,
   * an abort): EPIPE, as in customs itself, not a death by SIGPIPE */
  signal(SIGPIPE, SIG_IGN);
  evthread_use_pthreads();
  base = event_base_new();
  struct evhttp *a = evhttp_new(base), *b = evhttp_new(base);
  evhttp_set_gencb(a, on_a, NULL);
  evhttp_set_gencb(b, on_b, NULL);
  S.port_a = bind_port(a);
  S.port_b = bind_port(b);
  if (S.port_a <= 0 || S.port_b <= 0 || pthread_create(&th, NULL, serve, NULL)) {
    printf("Bail out! cannot start the test servers on 127.0.0.1\n");
    return 1;
  }
  test_pure();
  test_tokens();
  test_credentials();
  test_grants();
  test_redirects_and_caps();
  event_base_loopbreak(base);
  pthread_join(th, NULL);
  evhttp_free(a);
  evhttp_free(b);
  event_base_free(base);
  return tap_done();
}
