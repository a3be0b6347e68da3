/* fuzz_route.c - libFuzzer target: request-target classification
 * (px_route_parse), header field checks (px_header_check, px_headers_*,
 * Connection token lists), Bearer token parsing (px_gate_token_can_push)
 * and token realm rewriting (px_authrealm_rewrite, on www-authenticate).
 *
 * Input: the first line is the request target; every further line is a
 * header field "name: value".  An Authorization field goes through the
 * Bearer parser for the repository of the route (or "team/app").
 *
 * Oracle (off with FUZZ_ORACLE=0): the registry (Go net/http + gorilla/mux)
 * percent-decodes the path and serves it as path.Clean makes it; when that
 * canonical form is an API path, customs must classify the raw target the
 * same way (kind, repository, reference) or refuse it.  A mismatch is a gate
 * bypass (issue 8, item 1) and aborts.
 * Owner: fuzz.  Single-threaded (libFuzzer's). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "px_authrealm.h"
#include "px_gate.h"
#include "px_headers.h"
#include "px_route.h"

#define ROUTE_MAX_TARGET PX_ROUTE_MAX_TARGET_BYTES

static int oracle = 1;

/* upstream.proxy_auth (px_authrealm_rewrite): a rewritten challenge stays
 * one header line, names customs' base, and keeps the bytes around the
 * realm; anything else leaves it alone. */
#define REALM_UP "https://reg.azurecr.io"
#define REALM_BASE "http://127.0.0.1:5000"
static void check_realm(const char *v) {
  char out[PX_AUTHREALM_MAX_BYTES];
  int rc = px_authrealm_rewrite(v, REALM_UP, REALM_BASE, out, sizeof(out));
  if (rc != 1) return;
  size_t n = strlen(out);
  if (n >= sizeof(out) || !strstr(out, REALM_BASE)) abort();
  if (strpbrk(out, "\r\n")) abort(); /* no line break smuggled into the header */
  if (strncasecmp(out, "Bearer ", 7) != 0) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *e = getenv("FUZZ_ORACLE");
  oracle = !(e && strcmp(e, "0") == 0);
  return 0;
}

static int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Go's path.Clean on an absolute path, keeping a trailing slash as
 * gorilla/mux's cleanPath does.  out has room for strlen(in) + 2. */
static void go_clean(const char *in, char *out) {
  size_t n = strlen(in), o = 0, i = 0;
  int trailing = n > 1 && in[n - 1] == '/';
  out[o++] = '/';
  while (i < n) {
    while (i < n && in[i] == '/') i++;
    size_t s = i;
    while (i < n && in[i] != '/') i++;
    size_t len = i - s;
    if (len == 0 || (len == 1 && in[s] == '.')) continue;
    if (len == 2 && in[s] == '.' && in[s + 1] == '.') {
      if (o > 1) {
        o--; /* back over the last segment and the '/' before it */
        while (o > 1 && out[o - 1] != '/') o--;
        if (o > 1) o--;
        if (o == 0) o = 1;
      }
      continue;
    }
    if (o > 1) out[o++] = '/';
    memcpy(out + o, in + s, len);
    o += len;
  }
  if (o == 0) out[o++] = '/';
  if (trailing && o > 1) out[o++] = '/';
  out[o] = 0;
}

/* What the registry routes for `target`: 0 and the canonical target in out,
 * or -1 when Go would refuse it (bad escape) or route it nowhere special. */
static int canonical(const char *target, char *out, size_t cap) {
  const char *q = strchr(target, '?');
  size_t plen = q ? (size_t)(q - target) : strlen(target);
  char *dec = malloc(plen + 1), *clean;
  size_t o = 0;
  if (!dec) return -1;
  if (plen == 0 || target[0] != '/') { free(dec); return -1; } /* origin-form only */
  for (size_t i = 0; i < plen; i++) {
    if (target[i] == '%') {
      if (i + 2 >= plen || hexv(target[i + 1]) < 0 || hexv(target[i + 2]) < 0) {
        free(dec);
        return -1; /* net/http answers 400 */
      }
      dec[o++] = (char)(hexv(target[i + 1]) * 16 + hexv(target[i + 2]));
      i += 2;
    } else {
      dec[o++] = target[i];
    }
  }
  dec[o] = 0;
  /* a decoded NUL, '?', '#' or control byte cannot be re-expressed as a raw
   * target that px_route_parse would read the same way: no claim */
  for (size_t i = 0; i < o; i++)
    if ((unsigned char)dec[i] < 0x20 || dec[i] == '?' || dec[i] == '#' || dec[i] == 0x7f) {
      free(dec);
      return -1;
    }
  clean = malloc(o + 3);
  if (!clean) { free(dec); return -1; }
  go_clean(dec, clean);
  int n = snprintf(out, cap, "%s%s%s", clean, q ? "?" : "", q ? q + 1 : "");
  free(dec);
  free(clean);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* A refusal must carry a reason, a 4xx status, an error code and a message. */
static void check_refusal(const px_route *r, const char *method) {
  char msg[512];
  int status = 0;
  const char *code = NULL;
  if (r->err == PX_RE_NONE || (unsigned)r->err >= PX_RE_COUNT) abort();
  if (!memchr(r->bad, 0, sizeof r->bad)) abort();
  px_route_refusal(r, method, &status, &code);
  if (status < 400 || status > 499 || !code || !*code) abort();
  px_route_message(r, msg, sizeof msg);
  if (!memchr(msg, 0, sizeof msg) || !msg[0]) abort();
  (void)px_route_strerror(r->err);
}

static int judged(px_route_kind k) { return k != PX_R_OTHER && k != PX_R_V2_OTHER; }

static void check_route(const char *target) {
  px_route r, c;
  static char canon[ROUTE_MAX_TARGET + 16];
  int rc = px_route_parse(target, &r);
  if (rc != 0) check_refusal(&r, "GET");
  if (rc == 0) {
    /* what the gate later copies must be terminated */
    if (memchr(r.repo, 0, sizeof(r.repo)) == NULL || memchr(r.ref, 0, sizeof(r.ref)) == NULL ||
        memchr(r.q_digest, 0, sizeof(r.q_digest)) == NULL || memchr(r.q_from, 0, sizeof(r.q_from)) == NULL ||
        memchr(r.q_mount, 0, sizeof(r.q_mount)) == NULL)
      abort();
    (void)px_route_kind_name(r.kind);
    /* methods: exact upper case only on /v2 paths (px_route.h) */
    static const char *const methods[] = {"GET", "HEAD", "PUT", "get", "Put", "PROPFIND", ""};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
      px_route m = r;
      int mrc = px_route_check_method(&m, methods[i]);
      if (mrc != 0) check_refusal(&m, methods[i]);
      if (i < 3 && mrc != 0 && r.kind != PX_R_OTHER && r.kind != PX_R_V2_OTHER) {
        fprintf(stderr, "oracle: %s %s refused on a %s route\n", methods[i], target, px_route_kind_name(r.kind));
        if (oracle) abort();
      }
      if (i >= 3 && i < 5 && mrc == 0 && r.kind != PX_R_OTHER) {
        fprintf(stderr, "oracle: method \"%s\" accepted on %s\n", methods[i], target);
        if (oracle) abort();
      }
    }
    if (r.repo[0] && !px_valid_repo(r.repo)) {
      fprintf(stderr, "oracle: route %s accepted invalid repository \"%s\"\n", target, r.repo);
      if (oracle) abort();
    }
  }
  if (!oracle || canonical(target, canon, sizeof(canon)) < 0) return;
  if (px_route_parse(canon, &c) != 0 || !judged(c.kind)) return;
  if (rc != 0) return; /* refused: fail closed */
  if (r.kind != c.kind || strcmp(r.repo, c.repo) || strcmp(r.ref, c.ref)) {
    fprintf(stderr, "oracle: target \"%s\" classified %s repo=\"%s\" ref=\"%s\", but the registry serves "
            "\"%s\" (%s repo=\"%s\" ref=\"%s\")\n", target, px_route_kind_name(r.kind), r.repo, r.ref,
            canon, px_route_kind_name(c.kind), c.repo, c.ref);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1), *line, *next;
  const char *repo = "team/app";
  px_route r;
  px_headers h;
  const char *connection = NULL;
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  next = memchr(buf, '\n', size);
  if (next) *next++ = 0;
  if (strlen(buf) <= ROUTE_MAX_TARGET) check_route(buf);
  if (px_route_parse(buf, &r) == 0 && r.repo[0]) repo = r.repo;

  px_headers_init(&h);
  for (line = next; line && line < buf + size; line = next) {
    size_t len;
    next = memchr(line, '\n', (size_t)(buf + size - line));
    len = next ? (size_t)(next - line) : (size_t)(buf + size - line);
    if (next) *next++ = 0;
    char *colon = memchr(line, ':', len);
    size_t nl = colon ? (size_t)(colon - line) : len;
    const char *val = colon ? colon + 1 : "";
    size_t vl = colon ? len - nl - 1 : 0;
    while (vl && (*val == ' ' || *val == '\t')) val++, vl--;
    if (px_header_check(line, nl, val, vl) != 0) continue;
    if (px_headers_add(&h, line, nl, val, vl) != 0) continue;
    /* the stored copy is lower-cased and terminated */
    const px_header *f = &h.f[h.n - 1];
    if (f->namelen != nl || strlen(f->name) != nl || f->valuelen != vl || strlen(f->value) != vl) {
      /* a NUL inside a field that passed px_header_check: the stored name
       * or value is cut short (and "Au\0th" is read back as "au") */
      fprintf(stderr, "headers: field of %zu+%zu bytes accepted with an embedded NUL\n", nl, vl);
      abort();
    }
    if (nl == 10 && strcasecmp(f->name, "connection") == 0) connection = f->value;
  }
  for (size_t i = 0; i < h.n; i++) {
    (void)px_header_is_hop(h.f[i].name, connection);
    (void)px_headers_get(&h, h.f[i].name);
    if (strcmp(h.f[i].name, "authorization") == 0) {
      int bearer = 0;
      int push = px_gate_token_can_push(h.f[i].value, repo, &bearer);
      if (push && !bearer) abort(); /* push can only come from a Bearer token */
    }
    if (strcmp(h.f[i].name, "www-authenticate") == 0) check_realm(h.f[i].value);
  }
  if (connection) {
    (void)px_list_has_token(connection, "authorization");
    (void)px_list_has_token(connection, "accept");
  }
  px_headers_del(&h, "connection");
  px_headers_free(&h);
  free(buf);
  return 0;
}
