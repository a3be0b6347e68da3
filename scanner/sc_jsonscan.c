/* sc_jsonscan.c - the one-sided JSON check of sc_jsonscan.h.  It follows
 * jansson 2.14's lexer and parser (load.c): strings of valid UTF-8 (no
 * overlong forms, surrogates or code points over U+10FFFF) without raw
 * control characters, escapes \" \\ \/ \b \f \n \r \t \uXXXX with surrogate
 * pairs; integers that fit in 64 bits; literals true/false/null;
 * whitespace space, tab, CR, LF.  What it does not vouch for it reports as
 * "not sure" rather than as invalid.
 * Owner: scanner.  Thread: any.  Errors: none (a yes/no answer). */
#include "sc_jsonscan.h"

#include <string.h>

/* Decimal digits of an integer part that certainly fits jansson's json_int_t
 * (strtoll: 19 digits may overflow) and, with a fraction, cannot overflow
 * a double. */
#define JSCAN_MAX_INT_DIGITS 18

typedef struct jscan {
  const unsigned char *p, *end;
} jscan;

static void skip_ws(jscan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

/* Length of the valid UTF-8 sequence at p (jansson's utf8_check_first /
 * utf8_check_full), 0 when invalid or cut short. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  size_t n;
  unsigned v;
  if (c >= 0xC2 && c <= 0xDF) n = 2, v = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, v = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, v = c & 0x07;
  else return 0;
  if ((size_t)(end - p) < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *v) {
  if (end - p < 4) return 0;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return 0;
    *v = (*v << 4) | d;
  }
  return 1;
}

/* At the opening quote; on success past the closing one, *esc set when the
 * string holds an escape. */
static int scan_string(jscan *s, int *esc) {
  const unsigned char *p = s->p + 1, *end = s->end;
  *esc = 0;
  for (;;) {
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    if (p >= end || *p < 0x20) return 0; /* cut short, or a raw control character */
    if (*p == '"') {
      s->p = p + 1;
      return 1;
    }
    if (*p >= 0x80) {
      size_t n = utf8_len(p, end);
      if (!n) return 0;
      p += n;
    } else { /* backslash */
      *esc = 1;
      if (end - p < 2) return 0;
      unsigned c = p[1], v, w;
      if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
        p += 2;
        continue;
      }
      if (c != 'u' || !hex4(p + 2, end, &v) || v == 0) return 0; /* \u0000: jansson refuses it */
      p += 6;
      if (v >= 0xDC00 && v <= 0xDFFF) return 0;
      if (v >= 0xD800 && v <= 0xDBFF) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, end, &w) || w < 0xDC00 || w > 0xDFFF)
          return 0;
        p += 6;
      }
    }
  }
}

static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }

static int scan_number(jscan *s) {
  const unsigned char *p = s->p, *end = s->end;
  if (p < end && *p == '-') p++;
  const unsigned char *d0 = p;
  if (p >= end || !is_digit(*p)) return 0;
  if (*p == '0') {
    p++;
    if (p < end && is_digit(*p)) return 0;
  } else {
    while (p < end && is_digit(*p)) p++;
  }
  if (p - d0 > JSCAN_MAX_INT_DIGITS) return 0;
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !is_digit(*p)) return 0;
    while (p < end && is_digit(*p)) p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) return 0; /* could overflow: not vouched for */
  s->p = p;
  return 1;
}

static int scan_literal(jscan *s, const char *lit, size_t n) {
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n)) return 0;
  s->p += n;
  /* jansson reads a whole run of letters as one word */
  if (s->p < s->end && ((*s->p | 0x20) >= 'a' && (*s->p | 0x20) <= 'z')) return 0;
  return 1;
}

static int scan_value(jscan *s, int depth);

static int scan_container(jscan *s, int depth, int object) {
  char close = object ? '}' : ']';
  s->p++;
  skip_ws(s);
  if (s->p < s->end && *s->p == close) {
    s->p++;
    return 1;
  }
  for (;;) {
    if (object) {
      int esc;
      if (s->p >= s->end || *s->p != '"' || !scan_string(s, &esc)) return 0;
      skip_ws(s);
      if (s->p >= s->end || *s->p != ':') return 0;
      s->p++;
      skip_ws(s);
    }
    if (!scan_value(s, depth + 1)) return 0;
    skip_ws(s);
    if (s->p >= s->end) return 0;
    if (*s->p == close) {
      s->p++;
      return 1;
    }
    if (*s->p != ',') return 0;
    s->p++;
    skip_ws(s);
  }
}

static int scan_value(jscan *s, int depth) {
  if (depth > SC_JSONSCAN_MAX_DEPTH || s->p >= s->end) return 0;
  int esc;
  switch (*s->p) {
  case '{': return scan_container(s, depth, 1);
  case '[': return scan_container(s, depth, 0);
  case '"': return scan_string(s, &esc);
  case 't': return scan_literal(s, "true", 4);
  case 'f': return scan_literal(s, "false", 5);
  case 'n': return scan_literal(s, "null", 4);
  default: return scan_number(s);
  }
}

int sc_jsonscan_object(const char *buf, size_t len, const char *const *keys, size_t nkeys, sc_jspan *spans) {
  if (!buf) return 0;
  jscan s = {(const unsigned char *)buf, (const unsigned char *)buf + len};
  for (size_t i = 0; i < nkeys; i++) spans[i].p = NULL, spans[i].n = 0;
  skip_ws(&s);
  if (s.p >= s.end || *s.p != '{') return 0;
  s.p++;
  skip_ws(&s);
  if (s.p < s.end && *s.p == '}') {
    s.p++;
  } else {
    for (;;) {
      int esc;
      const unsigned char *k = s.p + 1;
      if (s.p >= s.end || *s.p != '"' || !scan_string(&s, &esc) || esc) return 0; /* escaped keys: not sure */
      size_t klen = (size_t)(s.p - 1 - k);
      skip_ws(&s);
      if (s.p >= s.end || *s.p != ':') return 0;
      s.p++;
      skip_ws(&s);
      const unsigned char *v = s.p;
      if (!scan_value(&s, 2)) return 0;
      for (size_t i = 0; i < nkeys; i++)
        if (strlen(keys[i]) == klen && !memcmp(keys[i], k, klen)) { /* last one wins, as in jansson */
          spans[i].p = (const char *)v;
          spans[i].n = (size_t)(s.p - v);
        }
      skip_ws(&s);
      if (s.p >= s.end) return 0;
      if (*s.p == '}') {
        s.p++;
        break;
      }
      if (*s.p != ',') return 0;
      s.p++;
      skip_ws(&s);
    }
  }
  skip_ws(&s);
  return s.p == s.end;
}

int sc_jsonscan_plain_string(sc_jspan span, const char **s, size_t *n) {
  if (span.n < 2 || span.p[0] != '"' || span.p[span.n - 1] != '"') return 0;
  if (memchr(span.p + 1, '\\', span.n - 2)) return 0;
  *s = span.p + 1;
  *n = span.n - 2;
  return 1;
}
