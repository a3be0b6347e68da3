/* sc_secrets_rules.c - the secret rules: one Hyperscan prefilter per shape
 * and the exact check that confirms each hit (contract in sc_secrets.h).
 *
 * The first five rules (private-key .. slack-token) keep the checks they
 * had when each rule was a memmem pass per line, byte for byte, so their
 * findings do not change (AKIA...EXAMPLE is still reported, as before).  The
 * newer rules also refuse obvious placeholders (sc_secret_placeholder) and
 * well-known public samples (the Azurite account key, the jwt.io token).
 *
 * Linearity: every check starts with an O(1) boundary test (the byte before
 * a token must not belong to it), so the checks that do run scan disjoint
 * runs, and every run is capped by a named maximum.
 *
 * Ownership: static tables.  Thread: any (pure functions). */
#include <string.h>
#include <strings.h>
#include <hs.h>
#include "sc_secrets.h"

#define SR_LONG_RUN_MAX   4096  /* bytes: cap of the open-ended runs (JWT parts, PyPI, Vault, Stripe) */
#define SR_OPENAI_BACK_MAX 200  /* bytes scanned back from the OpenAI marker to "sk-" */
#define SR_URL_USER_MAX     64  /* bytes of a database URL's user name */
#define SR_URL_PASS_MAX    128  /* bytes of a database URL's password */
#define SR_SEP_BLANKS_MAX   16  /* blanks around "=" / ":" after a key name */
#define SR_JWT_HEADER_PEEK 512  /* base64url chars of a JWT header decoded to look for "alg" */
#define SR_PLACEHOLDER_RUN   6  /* this many equal characters in a row: a placeholder */

typedef int (*sr_class)(unsigned char c);

static int sr_word(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}
static int sr_upnum(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static int sr_alnum(unsigned char c) { return sr_word(c) && c != '_'; }
static int sr_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int sr_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int sr_gitlab(unsigned char c) { return sr_word(c) || c == '-'; }
static int sr_slackc(unsigned char c) { return sr_alnum(c) || c == '-'; }
static int sr_b64url(unsigned char c) { return sr_word(c) || c == '-'; }
static int sr_b64(unsigned char c) { return sr_alnum(c) || c == '+' || c == '/'; }
static int sr_hexlow(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
static int sr_hex(unsigned char c) { return sr_hexlow(c) || (c >= 'A' && c <= 'F'); }

/* The run of class chars at p, stopping at end or max (none of the classes
 * holds '\n', so no run crosses a line). */
static size_t sr_run(const unsigned char *p, const unsigned char *end, sr_class cls, size_t max) {
  size_t n = 0;
  while (n < max && p + n < end && cls(p[n])) n++;
  return n;
}
/* Nothing of class cls right before p (or p is the start of the file). */
static int sr_open(const unsigned char *buf, const unsigned char *p, sr_class cls) {
  return p == buf || !cls(p[-1]);
}
/* Nothing of class cls at p (or p is the end of the file). */
static int sr_close(const unsigned char *p, const unsigned char *end, sr_class cls) {
  return p == end || !cls(*p);
}
static int sr_has(const unsigned char *p, const unsigned char *end, const char *s) {
  size_t n = strlen(s);
  return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

int sc_secret_placeholder(const unsigned char *p, size_t n) {
  static const char *const words[] = {"example", "xxxx", NULL};
  for (size_t w = 0; words[w]; w++) {
    size_t wl = strlen(words[w]);
    for (size_t i = 0; i + wl <= n; i++)
      if (strncasecmp((const char *)p + i, words[w], wl) == 0) return 1;
  }
  for (size_t i = 0, same = 0; i < n; i++) {
    same = i && p[i] == p[i - 1] ? same + 1 : 1;
    if (same >= SR_PLACEHOLDER_RUN) return 1;
  }
  return 0;
}

/* prefix (already matched at from, pl bytes), then exactly len class chars
 * (at least len when at_least), no class-`edge` char before or after. */
static int sr_token(const unsigned char *buf, const unsigned char *end, const unsigned char *from, size_t pl,
                    sr_class cls, size_t len, int at_least, sr_class edge) {
  if (!sr_open(buf, from, edge)) return 0;
  size_t n = sr_run(from + pl, end, cls, len + 1);
  if (at_least ? n < len : n != len) return 0;
  return at_least || sr_close(from + pl + len, end, edge);
}

/* ---- the historical rules, unchanged ---------------------------------- */

static int sr_private_key(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                          const unsigned char *to) {
  static const char tail[] = "PRIVATE KEY-----";
  static const char *const kinds[] = {"", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", NULL};
  (void)buf, (void)from;
  for (size_t k = 0; kinds[k]; k++) {
    size_t kl = strlen(kinds[k]);
    if ((size_t)(end - to) >= kl + sizeof tail - 1 && memcmp(to, kinds[k], kl) == 0 &&
        memcmp(to + kl, tail, sizeof tail - 1) == 0)
      return 1;
  }
  return 0;
}

static int sr_aws(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                  const unsigned char *to) {
  (void)to;
  return sr_token(buf, end, from, 4, sr_upnum, 16, 0, sr_word);
}
static int sr_github(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  (void)to;
  return sr_token(buf, end, from, 4, sr_alnum, 36, 0, sr_word);
}
static int sr_github_pat(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                         const unsigned char *to) {
  (void)to;
  return sr_token(buf, end, from, 11, sr_word, 82, 0, sr_word);
}
static int sr_glpat(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                    const unsigned char *to) {
  (void)to;
  return sr_token(buf, end, from, 6, sr_gitlab, 20, 1, sr_word);
}

/* xox[baprs]-<digits>-...: real tokens start with a numeric team/user id,
 * which rules out placeholders such as "xoxb-your-token-here". */
static int sr_slack(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                    const unsigned char *to) {
  (void)to;
  if (!sr_open(buf, from, sr_word)) return 0;
  const unsigned char *b = from + 5;
  size_t digits = sr_run(b, end, sr_digit, 32), body = sr_run(b, end, sr_slackc, 20);
  return digits && b + digits < end && b[digits] == '-' && body >= 20;
}

/* ---- the newer rules ------------------------------------------------- */

static int sr_literal(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                      const unsigned char *to) {
  (void)buf, (void)end, (void)from, (void)to;
  return 1; /* the expression is the whole shape */
}

static int sr_blank(unsigned char c) { return c == ' ' || c == '\t'; }

/* Skips `quote? blanks (= | : | := | =>) blanks quote?` after a key name;
 * returns the value's start, or NULL when no assignment follows. */
static const unsigned char *sr_assign(const unsigned char *p, const unsigned char *end) {
  if (p < end && (*p == '"' || *p == '\'')) p++;
  p += sr_run(p, end, sr_blank, SR_SEP_BLANKS_MAX);
  if (p < end && *p == ':') {
    p++;
    if (p < end && *p == '=') p++;
  } else if (p < end && *p == '=') {
    p++;
    if (p < end && *p == '>') p++;
  } else {
    return NULL;
  }
  p += sr_run(p, end, sr_blank, SR_SEP_BLANKS_MAX);
  if (p < end && (*p == '"' || *p == '\'')) p++;
  return p;
}

/* aws_secret_access_key = <40 base64 chars>: the secret key that goes with
 * an access key id, as credentials files, env files and `aws iam
 * create-access-key` output ("SecretAccessKey": "...") write it. */
static int sr_aws_secret(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                         const unsigned char *to) {
  (void)buf, (void)from;
  const unsigned char *v = sr_assign(to, end);
  if (!v || sr_run(v, end, sr_b64, 41) != 40) return 0;
  return (v + 40 == end || v[40] != '=') && !sc_secret_placeholder(v, 40);
}

/* "private_key_id": "<40 hex>" of a GCP service-account key file. */
static int sr_gcp_sa(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  (void)buf, (void)from;
  const unsigned char *v = sr_assign(to, end);
  if (!v || v == to || v[-1] != '"' || sr_run(v, end, sr_hexlow, 41) != 40) return 0;
  return v + 40 < end && v[40] == '"' && !sc_secret_placeholder(v, 40);
}

/* AccountKey=<86 base64>== (64 bytes): an Azure storage connection string.
 * The storage emulator's key is published in Microsoft's docs. */
static int sr_azure_account(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                            const unsigned char *to) {
  static const char azurite[] = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
  (void)from;
  if (!sr_open(buf, to - 11, sr_alnum) || sr_run(to, end, sr_b64, 87) != 86 || !sr_has(to + 86, end, "=="))
    return 0;
  if (!sr_close(to + 88, end, sr_b64) || (to + 88 < end && to[88] == '=')) return 0;
  return memcmp(to, azurite, 88) != 0 && !sc_secret_placeholder(to, 86);
}

/* SharedAccessKey=<43 base64>= (32 bytes): Service Bus, Event Hubs, IoT Hub. */
static int sr_azure_sas(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                        const unsigned char *to) {
  (void)from;
  if (!sr_open(buf, to - 16, sr_alnum) || sr_run(to, end, sr_b64, 44) != 43 || !sr_has(to + 43, end, "="))
    return 0;
  return sr_close(to + 44, end, sr_b64) && (to + 44 == end || to[44] != '=') && !sc_secret_placeholder(to, 43);
}

/* hooks.slack.com/services/T<id>/B<id>/<24 alnum> */
static int sr_slack_hook(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                         const unsigned char *to) {
  (void)buf, (void)from;
  const unsigned char *p = to; /* just after the T */
  size_t t = sr_run(p, end, sr_upnum, 16);
  if (t < 8 || p + t >= end || p[t] != '/') return 0;
  p += t + 1;
  size_t b = sr_run(p, end, sr_upnum, 16);
  if (b < 8 || p + b >= end || p[b] != '/') return 0;
  const unsigned char *s = p + b + 1;
  if (sr_run(s, end, sr_alnum, 25) != 24 || !sr_close(s + 24, end, sr_word)) return 0;
  return !sc_secret_placeholder(to - 1, (size_t)(s + 24 - (to - 1)));
}

/* discord(app).com/api/webhooks/<17-20 digits>/<60-68 base64url> */
static int sr_discord(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                      const unsigned char *to) {
  (void)buf, (void)from;
  size_t id = sr_run(to, end, sr_digit, 21);
  if (id < 17 || id > 20 || to + id >= end || to[id] != '/') return 0;
  const unsigned char *s = to + id + 1;
  size_t n = sr_run(s, end, sr_b64url, 69);
  return n >= 60 && n <= 68 && sr_close(s + n, end, sr_b64url) && !sc_secret_placeholder(s, n);
}

/* 8-4-4-4-12 hex digits at p; returns the length (36) or 0. */
static size_t sr_uuid(const unsigned char *p, const unsigned char *end) {
  static const size_t groups[] = {8, 4, 4, 4, 12};
  const unsigned char *q = p;
  for (size_t g = 0; g < 5; g++) {
    if (g) {
      if (q >= end || *q != '-') return 0;
      q++;
    }
    if (sr_run(q, end, sr_hex, groups[g] + 1) != groups[g]) return 0;
    q += groups[g];
  }
  return 36;
}

/* <tenant>.webhook.office.com/webhookb2/<uuid>@<uuid>/IncomingWebhook/<32 hex>/<uuid> */
static int sr_teams(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                    const unsigned char *to) {
  (void)buf, (void)from;
  const unsigned char *p = to;
  if (!sr_uuid(p, end) || !sr_has(p + 36, end, "@") || !sr_uuid(p + 37, end)) return 0;
  p += 73;
  if (!sr_has(p, end, "/IncomingWebhook/")) return 0;
  p += 17;
  if (sr_run(p, end, sr_hex, 33) != 32 || !sr_has(p + 32, end, "/") || !sr_uuid(p + 33, end)) return 0;
  return !sc_secret_placeholder(to, (size_t)(p + 69 - to));
}

/* sk_live_ / rk_live_ + 24 or more alphanumerics (Stripe secret and restricted keys). */
static int sr_stripe(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  (void)to;
  if (!sr_open(buf, from, sr_word)) return 0;
  size_t n = sr_run(from + 8, end, sr_alnum, SR_LONG_RUN_MAX);
  return n >= 24 && n < SR_LONG_RUN_MAX && sr_close(from + 8 + n, end, sr_word) &&
         !sc_secret_placeholder(from + 8, n);
}

static int sr_url_user(unsigned char c) {
  return sr_alnum(c) || (c && strchr("._~%!&'()*+,;=-", c));
}
static int sr_url_pass(unsigned char c) {
  return c > ' ' && c < 0x7f && !strchr("@/?#\"'`<>\\", c);
}

/* The password of a database URL is a placeholder: a template ($VAR,
 * ${VAR}, {{ var }}, <password>, %s), a mask (****), a word that says
 * "password here", or the user name again (postgres:postgres, a default). */
static int sr_url_placeholder(const unsigned char *user, size_t ul, const unsigned char *pw, size_t pl) {
  static const char *const words[] = {"pass", "pwd", "pw", "secret", "changeme", "foo", "bar", "test", NULL};
  static const char *const parts[] = {"password", "passwd", "example", "%s", "%(", NULL};
  for (size_t i = 0; i < pl; i++)
    if (strchr("${}<>*[]", pw[i])) return 1;
  for (size_t w = 0; words[w]; w++)
    if (strlen(words[w]) == pl && strncasecmp((const char *)pw, words[w], pl) == 0) return 1;
  for (size_t w = 0; parts[w]; w++) {
    size_t wl = strlen(parts[w]);
    for (size_t i = 0; i + wl <= pl; i++)
      if (strncasecmp((const char *)pw + i, parts[w], wl) == 0) return 1;
  }
  if (ul == pl && memcmp(user, pw, pl) == 0) return 1;
  return sc_secret_placeholder(pw, pl);
}

/* scheme://user:password@host for the databases and brokers whose URLs
 * carry credentials (the match ends after "://"). */
static int sr_db_url(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  (void)buf, (void)from;
  const unsigned char *u = to;
  size_t ul = sr_run(u, end, sr_url_user, SR_URL_USER_MAX + 1);
  if (ul > SR_URL_USER_MAX || u + ul >= end || u[ul] != ':') return 0;
  const unsigned char *pw = u + ul + 1;
  size_t pl = sr_run(pw, end, sr_url_pass, SR_URL_PASS_MAX + 1);
  /* the password may hold ':' but not '@': the last '@' of the run is not
   * looked for, the run stops at the first one */
  if (pl == 0 || pl > SR_URL_PASS_MAX || pw + pl >= end || pw[pl] != '@') return 0;
  const unsigned char *h = pw + pl + 1;
  if (h >= end || !(sr_alnum(*h) || *h == '[' || *h == '_')) return 0;
  return !sr_url_placeholder(u, ul, pw, pl);
}

static int sr_b64url_val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '-' ? 62 : 63;
}

/* Whether the base64url text at p (n chars, all in the alphabet) decodes to
 * something holding "alg" (a JOSE header): the first SR_JWT_HEADER_PEEK chars. */
static int sr_jose_header(const unsigned char *p, size_t n) {
  unsigned char out[SR_JWT_HEADER_PEEK / 4 * 3 + 3];
  size_t o = 0;
  unsigned acc = 0, bits = 0;
  if (n > SR_JWT_HEADER_PEEK) n = SR_JWT_HEADER_PEEK;
  for (size_t i = 0; i < n; i++) {
    acc = (acc << 6) | (unsigned)sr_b64url_val(p[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return memmem(out, o, "\"alg\"", 5) != NULL;
}

/* header.payload.signature, base64url, both JSON parts starting "eyJ" ({"),
 * a header naming its "alg", and a signature.  Not the jwt.io sample. */
static int sr_jwt(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                  const unsigned char *to) {
  static const char sample_sig[] = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  (void)to;
  if (!sr_open(buf, from, sr_b64url) || (from > buf && from[-1] == '.')) return 0;
  size_t h = sr_run(from, end, sr_b64url, SR_LONG_RUN_MAX);
  if (h < 10 || h == SR_LONG_RUN_MAX || from + h >= end || from[h] != '.') return 0;
  const unsigned char *pl = from + h + 1;
  if (!sr_has(pl, end, "eyJ")) return 0;
  size_t p = sr_run(pl, end, sr_b64url, SR_LONG_RUN_MAX);
  if (p < 10 || p == SR_LONG_RUN_MAX || pl + p >= end || pl[p] != '.') return 0;
  const unsigned char *sg = pl + p + 1;
  size_t s = sr_run(sg, end, sr_b64url, SR_LONG_RUN_MAX);
  if (s < 16 || s == SR_LONG_RUN_MAX || !sr_close(sg + s, end, sr_b64url)) return 0;
  if (sg + s < end && (sg[s] == '.' || sg[s] == '=')) return 0;
  if (s == sizeof sample_sig - 1 && memcmp(sg, sample_sig, s) == 0) return 0;
  return sr_jose_header(from, h) && !sc_secret_placeholder(sg, s);
}

/* prefix + exactly n chars of cls, base64url-bounded, not a placeholder. */
static int sr_exact(const unsigned char *buf, const unsigned char *end, const unsigned char *from, size_t pl,
                    sr_class cls, size_t n, sr_class edge) {
  return sr_token(buf, end, from, pl, cls, n, 0, edge) && !sc_secret_placeholder(from + pl, n);
}

static int sr_npm(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                  const unsigned char *to) {
  (void)to;
  return sr_exact(buf, end, from, 4, sr_alnum, 36, sr_word);
}
static int sr_docker(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  (void)to;
  return sr_exact(buf, end, from, 9, sr_b64url, 27, sr_b64url);
}
static int sr_google(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  (void)to;
  return sr_exact(buf, end, from, 4, sr_b64url, 35, sr_b64url);
}
static int sr_hf(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                 const unsigned char *to) {
  (void)to;
  return sr_exact(buf, end, from, 3, sr_alpha, 34, sr_word);
}
static int sr_shopify(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                      const unsigned char *to) {
  (void)to;
  return sr_exact(buf, end, from, 6, sr_hex, 32, sr_word);
}

/* SK + 32 lowercase hex (a Twilio API key), holding both digits and letters. */
static int sr_twilio(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  (void)to;
  if (!sr_exact(buf, end, from, 2, sr_hexlow, 32, sr_word)) return 0;
  int dig = 0, let = 0;
  for (size_t i = 2; i < 34; i++) sr_digit(from[i]) ? (dig = 1) : (let = 1);
  return dig && let;
}

/* SG.<22>.<43>, base64url (SendGrid). */
static int sr_sendgrid(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                       const unsigned char *to) {
  (void)to;
  if (!sr_open(buf, from, sr_b64url) || (from > buf && from[-1] == '.')) return 0;
  if (sr_run(from + 3, end, sr_b64url, 23) != 22 || from[25] != '.') return 0;
  if (sr_run(from + 26, end, sr_b64url, 44) != 43 || !sr_close(from + 69, end, sr_b64url)) return 0;
  return !sc_secret_placeholder(from + 3, 66);
}

/* pypi-AgEIcHlwaS5vcmc... (a macaroon for pypi.org) + 50 or more base64url. */
static int sr_pypi(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                   const unsigned char *to) {
  if (!sr_open(buf, from, sr_b64url)) return 0;
  size_t n = sr_run(to, end, sr_b64url, SR_LONG_RUN_MAX);
  return n >= 50 && n < SR_LONG_RUN_MAX && !sc_secret_placeholder(to, n);
}

/* hvs. / hvb. + 24 or more base64url (HashiCorp Vault service and batch tokens). */
static int sr_vault(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                    const unsigned char *to) {
  (void)to;
  if (!sr_open(buf, from, sr_b64url) || (from > buf && from[-1] == '.')) return 0;
  size_t n = sr_run(from + 4, end, sr_b64url, SR_LONG_RUN_MAX);
  return n >= 24 && n < SR_LONG_RUN_MAX && sr_close(from + 4 + n, end, sr_b64url) &&
         (from + 4 + n == end || from[4 + n] != '.') &&
         !sc_secret_placeholder(from + 4, n);
}

/* sk-...T3BlbkFJ... ("OpenAI" in base64 in the middle of the key). */
static int sr_openai(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                     const unsigned char *to) {
  size_t back = 0;
  while (back < SR_OPENAI_BACK_MAX && from - back > buf && sr_b64url(from[-(ptrdiff_t)back - 1])) back++;
  const unsigned char *s = from - back;
  if (back == SR_OPENAI_BACK_MAX || back < 3 + 16 || !sr_has(s, end, "sk-")) return 0;
  size_t n = sr_run(to, end, sr_b64url, SR_OPENAI_BACK_MAX);
  return n >= 16 && n < SR_OPENAI_BACK_MAX && !sc_secret_placeholder(s + 3, (size_t)(to + n - s - 3));
}

/* sk-ant-api03- / sk-ant-admin01- + 93 base64url + "AA" (Anthropic). */
static int sr_anthropic(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                        const unsigned char *to) {
  if (!sr_open(buf, from, sr_b64url)) return 0;
  if (sr_run(to, end, sr_b64url, 96) != 95 || to[93] != 'A' || to[94] != 'A') return 0;
  return !sc_secret_placeholder(to, 95);
}

/* ---- the tables ------------------------------------------------------- */

enum {
  R_PRIVATE_KEY, R_AWS, R_GITHUB, R_GITLAB, R_SLACK, /* historical, in their order */
  R_PGP, R_AWS_SECRET, R_GCP_SA, R_AZURE_ACCOUNT, R_AZURE_SAS, R_SLACK_HOOK, R_DISCORD, R_TEAMS,
  R_STRIPE, R_DB_URL, R_JWT, R_NPM, R_PYPI, R_DOCKER, R_SENDGRID, R_TWILIO, R_GOOGLE, R_OPENAI,
  R_ANTHROPIC, R_HF, R_VAULT, R_SHOPIFY, R_COUNT
};

const char *const sc_secret_rules[] = {
  [R_PRIVATE_KEY] = "private-key", [R_AWS] = "aws-access-key", [R_GITHUB] = "github-token",
  [R_GITLAB] = "gitlab-token", [R_SLACK] = "slack-token", [R_PGP] = "pgp-private-key",
  [R_AWS_SECRET] = "aws-secret-key", [R_GCP_SA] = "gcp-service-account", [R_AZURE_ACCOUNT] = "azure-storage-key",
  [R_AZURE_SAS] = "azure-shared-access-key", [R_SLACK_HOOK] = "slack-webhook", [R_DISCORD] = "discord-webhook",
  [R_TEAMS] = "teams-webhook", [R_STRIPE] = "stripe-key", [R_DB_URL] = "database-url", [R_JWT] = "jwt",
  [R_NPM] = "npm-token", [R_PYPI] = "pypi-token", [R_DOCKER] = "docker-hub-token", [R_SENDGRID] = "sendgrid-key",
  [R_TWILIO] = "twilio-key", [R_GOOGLE] = "google-api-key", [R_OPENAI] = "openai-api-key",
  [R_ANTHROPIC] = "anthropic-api-key", [R_HF] = "huggingface-token", [R_VAULT] = "vault-token",
  [R_SHOPIFY] = "shopify-token",
};
const size_t sc_secret_nrules = R_COUNT;

/* Each expression is implied by its check: wherever the check says yes,
 * the expression matches (ending at `to`, starting at `from` when fixed). */
const sc_secret_pat sc_secret_pats[] = {
  {"-----BEGIN ", 0, R_PRIVATE_KEY, 1, sr_private_key},
  {"(?:AKIA|ASIA)[A-Z0-9]{16}", 0, R_AWS, 1, sr_aws},
  {"gh[pousr]_[A-Za-z0-9]{36}", 0, R_GITHUB, 1, sr_github},
  {"github_pat_[A-Za-z0-9_]{82}", 0, R_GITHUB, 1, sr_github_pat},
  {"glpat-[A-Za-z0-9_-]{20}", 0, R_GITLAB, 1, sr_glpat},
  {"xox[baprs]-[0-9][A-Za-z0-9-]{19}", 0, R_SLACK, 1, sr_slack},
  {"-----BEGIN PGP PRIVATE KEY BLOCK-----", 0, R_PGP, 1, sr_literal},
  {"secret_?access_?key|aws_?secret_?key", HS_FLAG_CASELESS, R_AWS_SECRET, 0, sr_aws_secret},
  {"\"private_key_id\"", 0, R_GCP_SA, 1, sr_gcp_sa},
  {"AccountKey=", HS_FLAG_CASELESS, R_AZURE_ACCOUNT, 1, sr_azure_account},
  {"SharedAccessKey=", HS_FLAG_CASELESS, R_AZURE_SAS, 1, sr_azure_sas},
  {"hooks\\.slack\\.com/services/T", 0, R_SLACK_HOOK, 1, sr_slack_hook},
  {"discord(?:app)?\\.com/api/webhooks/", 0, R_DISCORD, 0, sr_discord},
  {"\\.webhook\\.office\\.com/webhookb2/", 0, R_TEAMS, 1, sr_teams},
  {"[rs]k_live_[A-Za-z0-9]{24}", 0, R_STRIPE, 1, sr_stripe},
  {"(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?)(?:\\+[a-z0-9]+)?://", 0, R_DB_URL, 0,
   sr_db_url},
  {"eyJ[A-Za-z0-9_-]{7}", 0, R_JWT, 1, sr_jwt},
  {"npm_[A-Za-z0-9]{36}", 0, R_NPM, 1, sr_npm},
  {"pypi-AgEIcHlwaS5vcmc", 0, R_PYPI, 1, sr_pypi},
  {"dckr_pat_[A-Za-z0-9_-]{27}", 0, R_DOCKER, 1, sr_docker},
  {"SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}", 0, R_SENDGRID, 1, sr_sendgrid},
  {"SK[0-9a-f]{32}", 0, R_TWILIO, 1, sr_twilio},
  {"AIza[A-Za-z0-9_-]{35}", 0, R_GOOGLE, 1, sr_google},
  {"T3BlbkFJ", 0, R_OPENAI, 1, sr_openai},
  {"sk-ant-api03-", 0, R_ANTHROPIC, 1, sr_anthropic},
  {"sk-ant-admin01-", 0, R_ANTHROPIC, 1, sr_anthropic},
  {"hf_[A-Za-z]{34}", 0, R_HF, 1, sr_hf},
  {"hv[sb]\\.[A-Za-z0-9_-]{24}", 0, R_VAULT, 1, sr_vault},
  {"shp(?:at|ca|pa|ss)_[A-Fa-f0-9]{32}", 0, R_SHOPIFY, 1, sr_shopify},
};
const size_t sc_secret_npats = sizeof sc_secret_pats / sizeof sc_secret_pats[0];
