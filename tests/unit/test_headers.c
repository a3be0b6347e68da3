/* test_headers.c - header lists: caps, validation, hop-by-hop rules. */
#include "px_headers.h"
#include "../unit/tap.h"
#include <strings.h>

int main(void) {
  px_headers h;
  px_headers_init(&h);
  CHECK_INT(px_headers_add(&h, "Content-Type", 12, "text/plain", 10), 0, "add");
  CHECK_STR(px_headers_get(&h, "content-type"), "text/plain", "names are lower-cased");
  CHECK_INT(px_headers_append_last(&h, 0, "; x=1", 5), 0, "append to value");
  CHECK_STR(px_headers_get(&h, "content-type"), "text/plain; x=1", "appended value");
  px_headers_set(&h, "content-type", "a/b");
  CHECK_STR(px_headers_get(&h, "content-type"), "a/b", "set replaces");
  CHECK_INT(h.n, 1, "set keeps one field");
  px_headers_del(&h, "content-type");
  CHECK(px_headers_get(&h, "content-type") == NULL, "del");
  int rc = 0;
  for (int i = 0; i < PX_HDR_MAX_FIELDS + 5 && rc == 0; i++) rc = px_headers_add(&h, "x-a", 3, "v", 1);
  CHECK_INT(rc, SC_ERR_LIMIT, "field count is capped");
  px_headers_free(&h);
  char big[PX_HDR_MAX_BYTES + 10];
  memset(big, 'a', sizeof(big));
  CHECK_INT(px_headers_add(&h, "x-big", 5, big, sizeof(big)), SC_ERR_LIMIT, "byte size is capped");

  static const struct { const char *n, *v; int ok; } fields[] = {
      {"authorization", "Bearer abc", 1},  {"x-a", "line\r\nInjected: 1", 0}, {"x-a", "nul\0", 1},
      {"bad name", "v", 0},                {"x-a", "tab\tok", 1},            {"", "v", 0},
      {"x-a", "lf\nonly", 0},              {"x(a)", "v", 0},
  };
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    int r = px_header_check(fields[i].n, strlen(fields[i].n), fields[i].v, strlen(fields[i].v));
    CHECK_INT(r == 0, fields[i].ok, "header check '%s'", fields[i].n);
  }
  CHECK_INT(px_header_check("x-a", 3, "a\0b", 3), SC_ERR_INVALID, "NUL inside a value refused");
  CHECK(px_header_is_hop("transfer-encoding", NULL), "transfer-encoding is hop-by-hop");
  CHECK(px_header_is_hop("keep-alive", NULL), "keep-alive is hop-by-hop");
  CHECK(!px_header_is_hop("authorization", NULL), "authorization passes");
  CHECK(px_header_is_hop("x-secret-hop", "close, X-Secret-Hop"), "fields named by Connection are hop-by-hop");
  /* Connection may not strip an end-to-end field customs decides on */
  px_headers c;
  px_headers_init(&c);
  px_headers_add(&c, "Connection", 10, "keep-alive, x-trace", 19);
  CHECK(px_connection_protected(&c) == NULL, "Connection naming ordinary fields is fine");
  static const char *const prot[] = {"Authorization", "accept", "Range", "If-None-Match", "if-modified-since",
                                     "Content-Type", "host", "If-Range"};
  for (size_t i = 0; i < sizeof(prot) / sizeof(prot[0]); i++) {
    char v[64];
    int n = snprintf(v, sizeof(v), "close , %s", prot[i]);
    px_headers_add(&c, "connection", 10, v, (size_t)n);
    const char *got = px_connection_protected(&c);
    CHECK(got && !strcasecmp(got, prot[i]), "Connection: %s is caught", v);
    px_headers_del(&c, "connection");
  }
  px_headers_add(&c, "connection", 10, "close", 5);
  px_headers_add(&c, "connection", 10, "authorization", 13);
  CHECK(px_connection_protected(&c) != NULL, "a second Connection field is read too");
  px_headers_free(&c);
  CHECK(px_list_has_token("a, b ,c", "b"), "token list");
  CHECK(!px_list_has_token("ab, c", "b"), "token list exact");

  /* Warning: one line, one quoted-string, whatever the (untrusted) text holds */
  px_headers w;
  px_headers_init(&w);
  CHECK_INT(px_headers_set_warning(&w, NULL, "pkg \"evil\"\r\nX-Injected: 1\\ \tz \xc3\xa9"), 0, "warning set");
  CHECK_STR(px_headers_get(&w, "warning"), "299 customs \"pkg  evil   X-Injected: 1   z \xc3\xa9\"",
            "warning: quotes, backslashes and control bytes become spaces, UTF-8 stays");
  CHECK_INT(px_header_check("warning", 7, px_headers_get(&w, "warning"), strlen(px_headers_get(&w, "warning"))), 0,
            "warning passes the field check");
  CHECK_INT(px_headers_set_warning(&w, "denied on pull: ", "critical CVE"), 0, "warning with a prefix");
  CHECK_STR(px_headers_get(&w, "warning"), "299 customs \"denied on pull: critical CVE\"", "warning: prefix first");
  CHECK_INT(w.n, 1, "warning replaces the field");
  px_headers_set_warning(&w, "p: ", NULL);
  CHECK_STR(px_headers_get(&w, "warning"), "299 customs \"p: \"", "warning: NULL text is empty");
  char longmsg[PX_WARNING_TEXT_MAX_BYTES + 50];
  memset(longmsg, 'm', sizeof(longmsg) - 1);
  longmsg[sizeof(longmsg) - 1] = '\0';
  longmsg[PX_WARNING_TEXT_MAX_BYTES - 1] = '"'; /* the last byte kept is sanitised too */
  px_headers_set_warning(&w, "denied on pull: ", longmsg);
  const char *wv = px_headers_get(&w, "warning");
  CHECK_INT(strlen(wv), strlen("299 customs \"denied on pull: ") + PX_WARNING_TEXT_MAX_BYTES + 1,
            "warning: text cut at %d bytes", PX_WARNING_TEXT_MAX_BYTES);
  CHECK(wv[strlen(wv) - 1] == '"' && wv[strlen(wv) - 2] == ' ' && wv[strlen(wv) - 3] == 'm',
        "warning: closing quote kept, a quote in the text blanked");
  px_headers_free(&w);
  return tap_done();
}
