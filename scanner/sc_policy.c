/* sc_policy.c - policy file: YAML -> node tree -> validated sc_policy, and
 * the evaluator.  See sc_policy.h for the semantics. */
#include "sc_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "sc_glob.h"

#define MAX_DEPTH  32      /* YAML nesting; a policy needs 5 */
#define MAX_NODES  200000  /* YAML nodes in one file */
#define MAX_LINE   512     /* one error line */
#define DAY        86400

/* ---------------------------------------------------------------- strings */

/* Growable string with a hard cap; on overflow it stops appending and sets
 * `full` (callers add "..." once), on allocation failure it sets `oom`. */
typedef struct sbuf {
  char *s;
  size_t len, cap, max;
  int full, oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) {
  if (b->oom || b->full) return;
  if (b->len + n + 1 > b->max) {
    b->full = 1;
    return;
  }
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + n + 1) nc *= 2;
    if (nc > b->max) nc = b->max;
    char *t = realloc(b->s, nc);
    if (!t) {
      b->oom = 1;
      return;
    }
    b->s = t;
    b->cap = nc;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[MAX_LINE];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  sb_putn(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t avail) {
  size_t n;
  unsigned c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3;
  else if (c >= 0xf0 && c <= 0xf4) n = 4;
  else return 0;
  if (avail < n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))) return 0;
  if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))) return 0;
  return n;
}

/* Appends untrusted text (package names come from image layers): control
 * characters and invalid UTF-8 become '?', so the message is always valid
 * UTF-8 that a JSON encoder and a terminal accept. */
static void sb_clean(sbuf *b, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "?");
  size_t left = strlen((const char *)p);
  while (left && !b->full && !b->oom) {
    size_t n = utf8_len(p, left);
    if (n == 0 || (n == 1 && (p[0] < 0x20 || p[0] == 0x7f))) {
      sb_putn(b, "?", 1);
      n = n ? n : 1;
    } else {
      sb_putn(b, (const char *)p, n);
    }
    p += n;
    left -= n;
  }
}

static json_t *jstr(const char *s) {
  if (!s) return json_null();
  json_t *j = json_string(s);
  if (j) return j;
  sbuf b = {.max = SC_POLICY_MAX_STRING * 4};
  sb_clean(&b, s);
  j = json_string(b.s ? b.s : "");
  free(b.s);
  return j;
}

static int jset(json_t *o, const char *k, json_t *v) {
  if (!v) return -1;
  return json_object_set_new(o, k, v);
}

static const char *const sev_names[] = {"unknown", "low", "medium", "high", "critical"};

static int sev_rank(int s) { return s >= SC_SEV_LOW && s <= SC_SEV_CRITICAL ? s : SC_SEV_UNKNOWN; }

/* ------------------------------------------------------------------ dates */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_day(int64_t t) { return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY); }

static void format_day(int64_t day, char out[16]) {
  int y, m, d;
  civil_from_days(day, &y, &m, &d);
  snprintf(out, 16, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
}

/* Strict YYYY-MM-DD (1970..9999) -> days since the epoch; -1 if invalid. */
static int64_t parse_date(const char *s) {
  static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return -1;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  if (y < 1970 || m < 1 || m > 12 || d < 1) return -1;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[m - 1] + (m == 2 && leap)) return -1;
  return days_from_civil(y, (unsigned)m, (unsigned)d);
}

/* -------------------------------------------------------- policy structure */

typedef struct pkgspec {
  char *eco;     /* NULL = any ecosystem */
  char *name;
  char *version; /* NULL = any version */
} pkgspec;

typedef struct cond {
  int severity;     /* rank threshold, 0 = none */
  int fixable_only;
  int unknown_rank; /* rank of findings without a severity */
  int has_max_cvss;
  double max_cvss;
  int secrets, root;
  int max_age_days; /* -1 = none */
  char **vulns;
  size_t nvulns;
  pkgspec *pkgs;
  size_t npkgs;
} cond;

typedef struct rule {
  char *name;
  int line;
  char **repos;
  size_t nrepos;
  int has_deny, has_warn;
  cond deny, warn;
} rule;

typedef struct exc {
  char *vuln;
  char **repos;
  size_t nrepos;
  int has_pkg;
  pkgspec pkg;
  int has_expires;
  int64_t expires_day; /* last day (UTC) on which it applies */
  int exp_line, exp_col;
  char *reason;
  int line, col;
} exc;

struct sc_policy {
  char *file;
  sc_policy_mode mode;
  sc_unscanned unscanned;
  sc_on_error on_error;
  sc_head head;
  rule *rules;
  size_t nrules;
  exc *excs;
  size_t nexcs;
};

static void strv_free(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void pkgspec_free(pkgspec *p) {
  free(p->eco);
  free(p->name);
  free(p->version);
}

static void cond_free(cond *c) {
  strv_free(c->vulns, c->nvulns);
  for (size_t i = 0; i < c->npkgs; i++) pkgspec_free(&c->pkgs[i]);
  free(c->pkgs);
}

void sc_policy_free(sc_policy *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nrules; i++) {
    free(p->rules[i].name);
    strv_free(p->rules[i].repos, p->rules[i].nrepos);
    cond_free(&p->rules[i].deny);
    cond_free(&p->rules[i].warn);
  }
  free(p->rules);
  for (size_t i = 0; i < p->nexcs; i++) {
    free(p->excs[i].vuln);
    strv_free(p->excs[i].repos, p->excs[i].nrepos);
    pkgspec_free(&p->excs[i].pkg);
    free(p->excs[i].reason);
  }
  free(p->excs);
  free(p->file);
  free(p);
}

sc_policy_mode sc_policy_mode_of(const sc_policy *p) { return p ? p->mode : SC_MODE_ENFORCE; }
sc_unscanned sc_policy_unscanned(const sc_policy *p) { return p ? p->unscanned : SC_UNSCANNED_SCAN; }
sc_on_error sc_policy_on_error(const sc_policy *p) { return p ? p->on_error : SC_ON_ERROR_DENY; }
sc_head sc_policy_head(const sc_policy *p) { return p ? p->head : SC_HEAD_AUTO; }
size_t sc_policy_rule_count(const sc_policy *p) { return p ? p->nrules : 0; }
size_t sc_policy_exception_count(const sc_policy *p) { return p ? p->nexcs : 0; }

const char *sc_decision_name(sc_decision d) {
  return d == SC_DECISION_DENY ? "deny" : d == SC_DECISION_WARN ? "warn" : "allow";
}

/* ------------------------------------------------------------- YAML tree */

enum { N_SCALAR, N_SEQ, N_MAP, N_BAD /* alias or oversized: already reported */ };

typedef struct node {
  int type;
  int line, col; /* 1-based */
  int plain;     /* scalar written without quotes */
  char *val;     /* scalars */
  struct node **kids; /* seq: items; map: key, value, key, value, ... */
  size_t nkids, cap;
} node;

typedef struct pctx {
  const char *file;
  sbuf err;
  int nerr;
  size_t nnodes;
  int nomem;
} pctx;

static void perr(pctx *c, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void perr(pctx *c, int line, int col, const char *fmt, ...) {
  char msg[MAX_LINE];
  va_list ap;
  if (c->nerr > SC_POLICY_MAX_ERRORS) return;
  if (c->nerr++ == SC_POLICY_MAX_ERRORS) {
    sb_printf(&c->err, "%s: too many errors, stopping\n", c->file);
    return;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (line > 0)
    sb_printf(&c->err, "%s:%d:%d: %s\n", c->file, line, col, msg);
  else
    sb_printf(&c->err, "%s: %s\n", c->file, msg);
}

static void node_free(node *n) {
  if (!n) return;
  for (size_t i = 0; i < n->nkids; i++) node_free(n->kids[i]);
  free(n->kids);
  free(n->val);
  free(n);
}

static node *node_new(pctx *c, int type, const yaml_mark_t *m) {
  node *n = calloc(1, sizeof(*n));
  if (!n) {
    c->nomem = 1;
    return NULL;
  }
  n->type = type;
  n->line = (int)m->line + 1;
  n->col = (int)m->column + 1;
  c->nnodes++;
  return n;
}

static int node_add(pctx *c, node *parent, node *kid) {
  if (parent->nkids == parent->cap) {
    size_t nc = parent->cap ? parent->cap * 2 : 8;
    node **t = realloc(parent->kids, nc * sizeof(*t));
    if (!t) {
      c->nomem = 1;
      node_free(kid);
      return -1;
    }
    parent->kids = t;
    parent->cap = nc;
  }
  parent->kids[parent->nkids++] = kid;
  return 0;
}

/* Reads the event stream into a tree.  Returns the root mapping/sequence/
 * scalar, or NULL (an error was reported, or the stream was empty). */
static node *build_tree(pctx *c, const char *yaml, size_t len) {
  yaml_parser_t ps;
  yaml_event_t ev;
  node *stack[MAX_DEPTH + 1];
  int depth = 0, docs = 0, done = 0, failed = 0;
  node *root = NULL;

  if (!yaml_parser_initialize(&ps)) {
    c->nomem = 1;
    return NULL;
  }
  yaml_parser_set_input_string(&ps, (const unsigned char *)yaml, len);
  while (!done && !failed) {
    if (!yaml_parser_parse(&ps, &ev)) {
      if (ps.error == YAML_MEMORY_ERROR) {
        c->nomem = 1;
      } else {
        char ctxt[160] = "";
        if (ps.context)
          snprintf(ctxt, sizeof(ctxt), " (%s at line %d, column %d)", ps.context,
                   (int)ps.context_mark.line + 1, (int)ps.context_mark.column + 1);
        perr(c, (int)ps.problem_mark.line + 1, (int)ps.problem_mark.column + 1,
             "YAML syntax error: %s%s", ps.problem ? ps.problem : "malformed input", ctxt);
      }
      failed = 1;
      break;
    }
    node *n = NULL;
    int push = 0;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1) {
        perr(c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
             "a policy file holds one YAML document");
        failed = 1;
      }
      break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      if (depth >= MAX_DEPTH) {
        perr(c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
             "nesting deeper than %d levels", MAX_DEPTH);
        failed = 1;
        break;
      }
      n = node_new(c, ev.type == YAML_MAPPING_START_EVENT ? N_MAP : N_SEQ, &ev.start_mark);
      push = 1;
      break;
    case YAML_SCALAR_EVENT:
      n = node_new(c, N_SCALAR, &ev.start_mark);
      if (!n) break;
      if (ev.data.scalar.length > SC_POLICY_MAX_STRING) {
        perr(c, n->line, n->col, "value longer than %d bytes", SC_POLICY_MAX_STRING);
        n->type = N_BAD;
      } else if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
        perr(c, n->line, n->col, "value contains a NUL character");
        n->type = N_BAD;
      } else {
        n->val = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
        if (!n->val) c->nomem = 1;
        n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
      }
      break;
    case YAML_ALIAS_EVENT:
      /* Aliases make one edit change several places, and alias expansion is
       * the classic "billion laughs" memory bomb: not in a policy. */
      n = node_new(c, N_BAD, &ev.start_mark);
      if (n) perr(c, n->line, n->col, "YAML aliases (*name) are not allowed in a policy");
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      if (depth > 0) depth--;
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
    if (c->nomem) {
      node_free(n);
      failed = 1;
      break;
    }
    if (n) {
      if (c->nnodes > MAX_NODES) {
        perr(c, n->line, n->col, "more than %d YAML nodes", MAX_NODES);
        node_free(n);
        failed = 1;
        break;
      }
      if (depth == 0) {
        if (root) node_free(root); /* cannot happen with one document */
        root = n;
      } else if (node_add(c, stack[depth - 1], n) != 0) {
        failed = 1;
        break;
      }
      if (push) stack[depth++] = n;
    }
  }
  yaml_parser_delete(&ps);
  if (failed) {
    node_free(root);
    return NULL;
  }
  return root;
}

/* ---------------------------------------------------------- typed values */

static const char *type_name(const node *n) {
  return n->type == N_MAP ? "a mapping" : n->type == N_SEQ ? "a list" : "a value";
}

static int is_null(const node *n) {
  return n->type == N_SCALAR && n->plain &&
         (!n->val[0] || !strcmp(n->val, "~") || !strcasecmp(n->val, "null"));
}

/* Non-empty string without control characters (it ends up in messages). */
static const char *get_str(pctx *c, const node *n, const char *what) {
  if (n->type == N_BAD) return NULL;
  if (n->type != N_SCALAR) {
    perr(c, n->line, n->col, "%s must be a string, not %s", what, type_name(n));
    return NULL;
  }
  if (is_null(n) || !n->val[0]) {
    perr(c, n->line, n->col, "%s must not be empty", what);
    return NULL;
  }
  for (const unsigned char *p = (const unsigned char *)n->val; *p; p++)
    if (*p < 0x20 || *p == 0x7f) {
      perr(c, n->line, n->col, "%s contains a control character", what);
      return NULL;
    }
  return n->val;
}

static char *dup_str(pctx *c, const char *s) {
  char *d = strdup(s);
  if (!d) c->nomem = 1;
  return d;
}

/* Returns 0/1, or -1 after reporting. */
static int get_bool(pctx *c, const node *n, const char *key) {
  if (n->type == N_SCALAR && n->plain) {
    if (!strcasecmp(n->val, "true")) return 1;
    if (!strcasecmp(n->val, "false")) return 0;
  }
  if (n->type == N_BAD) return -1;
  if (n->type == N_SCALAR)
    perr(c, n->line, n->col, "%s must be true or false, not '%s'", key, n->val);
  else
    perr(c, n->line, n->col, "%s must be true or false, not %s", key, type_name(n));
  return -1;
}

/* Returns the index of n's value in names (case-insensitive), or -1. */
static int get_enum(pctx *c, const node *n, const char *key, const char *const *names, size_t nn) {
  if (n->type == N_BAD) return -1;
  if (n->type == N_SCALAR)
    for (size_t i = 0; i < nn; i++)
      if (!strcasecmp(n->val, names[i])) return (int)i;
  char opts[128] = "";
  size_t o = 0;
  for (size_t i = 0; i < nn && o < sizeof(opts); i++)
    o += (size_t)snprintf(opts + o, sizeof(opts) - o, "%s%s", i ? (i + 1 == nn ? " or " : ", ") : "",
                          names[i]);
  if (n->type == N_SCALAR)
    perr(c, n->line, n->col, "bad value '%s' for %s (expected %s)", n->val, key, opts);
  else
    perr(c, n->line, n->col, "%s must be one of %s, not %s", key, opts, type_name(n));
  return -1;
}

static int get_number(pctx *c, const node *n, const char *key, double lo, double hi, int integer,
                      double *out) {
  if (n->type == N_BAD) return -1;
  if (n->type == N_SCALAR && n->plain && n->val[0]) {
    char *end;
    errno = 0;
    double d = strtod(n->val, &end);
    int isint = !strpbrk(n->val, ".eExXnNiI");
    if (!*end && !errno && d >= lo && d <= hi && (!integer || isint)) {
      *out = d;
      return 0;
    }
  }
  if (n->type == N_SCALAR)
    perr(c, n->line, n->col, "%s must be %s from %g to %g, not '%s'", key,
         integer ? "a whole number" : "a number", lo, hi, n->val);
  else
    perr(c, n->line, n->col, "%s must be a number, not %s", key, type_name(n));
  return -1;
}

typedef int (*item_fn)(pctx *c, const node *n, void *arg, size_t idx);

/* A list of scalars (a single scalar is accepted as a one-element list). */
static int each_item(pctx *c, const node *n, const char *key, item_fn fn, void *arg) {
  if (n->type == N_BAD) return -1;
  if (n->type == N_SCALAR && !is_null(n)) return fn(c, n, arg, 0);
  if (n->type != N_SEQ) {
    perr(c, n->line, n->col, "%s must be a list", key);
    return -1;
  }
  if (n->nkids > SC_POLICY_MAX_LIST) {
    perr(c, n->line, n->col, "%s has more than %d entries", key, SC_POLICY_MAX_LIST);
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < n->nkids; i++)
    if (fn(c, n->kids[i], arg, i) != 0) rc = -1;
  return rc;
}

typedef struct strv_acc {
  char ***v;
  size_t *n;
  const char *what;
  int glob; /* validate as repository glob */
} strv_acc;

static int add_str_item(pctx *c, const node *n, void *arg, size_t idx) {
  strv_acc *a = arg;
  char msg[128];
  (void)idx;
  const char *s = get_str(c, n, a->what);
  if (!s) return -1;
  if (a->glob && sc_glob_check(s, msg, sizeof(msg)) != 0) {
    perr(c, n->line, n->col, "bad repository pattern '%s': %s", s, msg);
    return -1;
  }
  if (!a->glob && strpbrk(s, " \t")) {
    perr(c, n->line, n->col, "%s '%s' contains a space", a->what, s);
    return -1;
  }
  char **t = realloc(*a->v, (*a->n + 1) * sizeof(char *));
  if (!t) {
    c->nomem = 1;
    return -1;
  }
  *a->v = t;
  if (!(t[*a->n] = dup_str(c, s))) return -1;
  (*a->n)++;
  return 0;
}

/* Ecosystem prefixes recognised in "ecosystem/name": OSV ecosystems plus
 * the cataloger types.  Anything else before a "/" is part of the name (Go
 * modules "github.com/x/y", npm scopes "@types/node"). */
static const char *const ecosystems[] = {
    "AlmaLinux", "Alpine", "Android", "Bitnami", "Chainguard", "CRAN", "crates.io", "Debian",
    "GitHub Actions", "Go", "Hackage", "Hex", "Linux", "Mageia", "Maven", "npm", "NuGet",
    "openSUSE", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "RubyGems",
    "SUSE", "SwiftURL", "Ubuntu", "Wolfi", "apk", "deb", "rpm", "python", "java"};

static int parse_pkgspec(pctx *c, const node *n, const char *what, pkgspec *out) {
  const char *s = get_str(c, n, what);
  const char *name, *slash, *at;
  memset(out, 0, sizeof(*out));
  if (!s) return -1;
  name = s;
  slash = strchr(s, '/');
  if (slash && slash != s) {
    for (size_t i = 0; i < sizeof(ecosystems) / sizeof(ecosystems[0]); i++)
      if (strlen(ecosystems[i]) == (size_t)(slash - s) && !strncasecmp(s, ecosystems[i], (size_t)(slash - s))) {
        out->eco = strndup(s, (size_t)(slash - s));
        name = slash + 1;
        if (!out->eco) c->nomem = 1;
        break;
      }
  }
  at = strrchr(name, '@');
  if (at == name) at = NULL; /* "@scope/pkg" */
  out->name = at ? strndup(name, (size_t)(at - name)) : strdup(name);
  if (at) out->version = strdup(at + 1);
  if (!out->name || (at && !out->version)) c->nomem = 1;
  if (c->nomem) return -1;
  if (!out->name[0] || (out->version && !out->version[0]) || strpbrk(out->name, " \t")) {
    perr(c, n->line, n->col, "bad %s '%s' (expected name, name@version or ecosystem/name)", what, s);
    pkgspec_free(out);
    memset(out, 0, sizeof(*out));
    return -1;
  }
  return 0;
}

typedef struct pkg_acc {
  pkgspec **v;
  size_t *n;
} pkg_acc;

static int add_pkg_item(pctx *c, const node *n, void *arg, size_t idx) {
  pkg_acc *a = arg;
  pkgspec ps;
  (void)idx;
  if (parse_pkgspec(c, n, "package", &ps) != 0) return -1;
  pkgspec *t = realloc(*a->v, (*a->n + 1) * sizeof(*t));
  if (!t) {
    pkgspec_free(&ps);
    c->nomem = 1;
    return -1;
  }
  *a->v = t;
  t[(*a->n)++] = ps;
  return 0;
}

/* Finds key k in a known-keys table; reports unknown and duplicate keys.
 * Returns the index or -1. `seen` is a bitmask over the table. */
static int lookup_key(pctx *c, const node *k, const char *where, const char *const *keys, size_t nk,
                      unsigned *seen) {
  if (k->type == N_BAD) return -1;
  if (k->type != N_SCALAR) {
    perr(c, k->line, k->col, "keys in %s must be plain names, not %s", where, type_name(k));
    return -1;
  }
  for (size_t i = 0; i < nk; i++)
    if (!strcmp(k->val, keys[i])) {
      if (*seen & (1u << i)) {
        perr(c, k->line, k->col, "duplicate key '%s' in %s", k->val, where);
        return -1;
      }
      *seen |= 1u << i;
      return (int)i;
    }
  char opts[256] = "";
  size_t o = 0;
  for (size_t i = 0; i < nk && o < sizeof(opts); i++)
    o += (size_t)snprintf(opts + o, sizeof(opts) - o, "%s%s", i ? ", " : "", keys[i]);
  perr(c, k->line, k->col, "unknown key '%s' in %s (expected %s)", k->val, where, opts);
  return -1;
}

static const char *const sev_levels[] = {"low", "medium", "high", "critical"};

enum { C_SEVERITY, C_FIXABLE, C_UNKNOWN, C_MAXCVSS, C_SECRETS, C_ROOT, C_AGE, C_VULNS, C_PKGS };
static const char *const cond_keys[] = {"severity", "fixable_only", "unknown_severity",
                                        "max_cvss", "secrets", "root", "max_age_days",
                                        "vulnerabilities", "packages"};

static int parse_cond(pctx *c, const node *n, const char *where, cond *out) {
  unsigned seen = 0;
  int ok = 1, v;
  double d;
  memset(out, 0, sizeof(*out));
  out->unknown_rank = SC_SEV_LOW;
  out->max_age_days = -1;
  if (n->type == N_BAD) return -1;
  if (is_null(n)) {
    perr(c, n->line, n->col, "%s is empty (give at least one condition)", where);
    return -1;
  }
  if (n->type != N_MAP) {
    perr(c, n->line, n->col, "%s must be a mapping of conditions, not %s", where, type_name(n));
    return -1;
  }
  for (size_t i = 0; i + 1 < n->nkids; i += 2) {
    const node *k = n->kids[i], *val = n->kids[i + 1];
    switch (lookup_key(c, k, where, cond_keys, sizeof(cond_keys) / sizeof(cond_keys[0]), &seen)) {
    case C_SEVERITY:
      if ((v = get_enum(c, val, "severity", sev_levels, 4)) < 0) ok = 0;
      else out->severity = v + 1;
      break;
    case C_FIXABLE:
      if ((v = get_bool(c, val, "fixable_only")) < 0) ok = 0;
      else out->fixable_only = v;
      break;
    case C_UNKNOWN:
      if ((v = get_enum(c, val, "unknown_severity", sev_levels, 4)) < 0) ok = 0;
      else out->unknown_rank = v + 1;
      break;
    case C_MAXCVSS:
      if (get_number(c, val, "max_cvss", 0, 10, 0, &d) < 0) ok = 0;
      else out->has_max_cvss = 1, out->max_cvss = d;
      break;
    case C_SECRETS:
      if ((v = get_bool(c, val, "secrets")) < 0) ok = 0;
      else out->secrets = v;
      break;
    case C_ROOT:
      if ((v = get_bool(c, val, "root")) < 0) ok = 0;
      else out->root = v;
      break;
    case C_AGE:
      if (get_number(c, val, "max_age_days", 0, 36500, 1, &d) < 0) ok = 0;
      else out->max_age_days = (int)d;
      break;
    case C_VULNS: {
      strv_acc a = {&out->vulns, &out->nvulns, "vulnerability id", 0};
      if (!is_null(val) && each_item(c, val, "vulnerabilities", add_str_item, &a) != 0) ok = 0;
      break;
    }
    case C_PKGS: {
      pkg_acc a = {&out->pkgs, &out->npkgs};
      if (!is_null(val) && each_item(c, val, "packages", add_pkg_item, &a) != 0) ok = 0;
      break;
    }
    default:
      ok = 0;
      break;
    }
  }
  if (!ok) return -1;
  /* A block that can never fire is almost always a mistake (a misindented
   * key, "secrets: false" left alone): say so instead of allowing all. */
  if (!out->severity && !out->has_max_cvss && !out->secrets && !out->root && out->max_age_days < 0 &&
      !out->nvulns && !out->npkgs) {
    perr(c, n->line, n->col, "%s has no condition that can match (severity, max_cvss, secrets, root, "
         "max_age_days, vulnerabilities or packages)", where);
    return -1;
  }
  if ((seen & ((1u << C_FIXABLE) | (1u << C_UNKNOWN))) && !out->severity && !out->has_max_cvss) {
    perr(c, n->line, n->col, "%s: fixable_only and unknown_severity need severity or max_cvss", where);
    return -1;
  }
  return 0;
}

enum { R_NAME, R_DESC, R_REPOS, R_DENY, R_WARN };
static const char *const rule_keys[] = {"name", "description", "repositories", "deny", "warn"};

static int parse_rule(pctx *c, const node *n, void *arg, size_t idx) {
  sc_policy *p = arg;
  rule *r = &p->rules[p->nrules];
  unsigned seen = 0;
  int ok = 1;
  const node *name_node = NULL;
  char where[64];
  snprintf(where, sizeof(where), "rule #%zu", idx + 1);
  memset(r, 0, sizeof(*r));
  if (n->type == N_BAD) return -1;
  if (n->type != N_MAP) {
    perr(c, n->line, n->col, "each rule must be a mapping (name, repositories, deny, warn), not %s",
         type_name(n));
    return -1;
  }
  p->nrules++; /* owned by p from here, freed with it on failure */
  r->line = n->line;
  for (size_t i = 0; i + 1 < n->nkids; i += 2) {
    const node *k = n->kids[i], *v = n->kids[i + 1];
    switch (lookup_key(c, k, where, rule_keys, 5, &seen)) {
    case R_NAME: {
      const char *s = get_str(c, v, "rule name");
      if (!s) ok = 0;
      else if (!(r->name = dup_str(c, s))) return -1;
      name_node = v;
      break;
    }
    case R_DESC:
      if (!is_null(v) && !get_str(c, v, "description")) ok = 0;
      break;
    case R_REPOS: {
      strv_acc a = {&r->repos, &r->nrepos, "repository pattern", 1};
      if (each_item(c, v, "repositories", add_str_item, &a) != 0) ok = 0;
      else if (!r->nrepos) {
        perr(c, v->line, v->col, "repositories is empty: the rule would never apply");
        ok = 0;
      }
      break;
    }
    case R_DENY:
      if (parse_cond(c, v, "deny", &r->deny) != 0) ok = 0;
      r->has_deny = 1;
      break;
    case R_WARN:
      if (parse_cond(c, v, "warn", &r->warn) != 0) ok = 0;
      r->has_warn = 1;
      break;
    default:
      ok = 0;
    }
  }
  if (!(seen & (1u << R_NAME))) {
    perr(c, n->line, n->col, "%s has no name", where);
    ok = 0;
  }
  if (!(seen & ((1u << R_DENY) | (1u << R_WARN)))) {
    perr(c, n->line, n->col, "%s has neither deny nor warn", where);
    ok = 0;
  }
  if (r->name && name_node)
    for (size_t j = 0; j + 1 < p->nrules; j++)
      if (p->rules[j].name && !strcmp(p->rules[j].name, r->name)) {
        perr(c, name_node->line, name_node->col, "duplicate rule name '%s' (first at line %d)",
             r->name, p->rules[j].line);
        ok = 0;
        break;
      }
  if (ok && !(seen & (1u << R_REPOS))) { /* default: every repository */
    if (!(r->repos = calloc(1, sizeof(char *))) || !(r->repos[0] = dup_str(c, "**"))) {
      c->nomem = 1;
      return -1;
    }
    r->nrepos = 1;
  }
  return ok ? 0 : -1;
}

enum { E_VULN, E_REPOS, E_PKG, E_EXPIRES, E_REASON };
static const char *const exc_keys[] = {"vulnerability", "repositories", "package", "expires", "reason"};

static int parse_exc(pctx *c, const node *n, void *arg, size_t idx) {
  sc_policy *p = arg;
  exc *e = &p->excs[p->nexcs];
  unsigned seen = 0;
  int ok = 1;
  char where[64];
  snprintf(where, sizeof(where), "exception #%zu", idx + 1);
  memset(e, 0, sizeof(*e));
  if (n->type == N_BAD) return -1;
  if (n->type != N_MAP) {
    perr(c, n->line, n->col, "each exception must be a mapping (vulnerability, repositories, "
         "package, expires, reason), not %s", type_name(n));
    return -1;
  }
  p->nexcs++;
  e->line = n->line;
  e->col = n->col;
  for (size_t i = 0; i + 1 < n->nkids; i += 2) {
    const node *k = n->kids[i], *v = n->kids[i + 1];
    const char *s;
    switch (lookup_key(c, k, where, exc_keys, 5, &seen)) {
    case E_VULN:
      if (!(s = get_str(c, v, "vulnerability"))) ok = 0;
      else if (strpbrk(s, " \t")) {
        perr(c, v->line, v->col, "vulnerability id '%s' contains a space", s);
        ok = 0;
      } else if (!(e->vuln = dup_str(c, s))) return -1;
      break;
    case E_REPOS: {
      strv_acc a = {&e->repos, &e->nrepos, "repository pattern", 1};
      if (each_item(c, v, "repositories", add_str_item, &a) != 0) ok = 0;
      else if (!e->nrepos) {
        perr(c, v->line, v->col, "repositories is empty: the exception would never apply");
        ok = 0;
      }
      break;
    }
    case E_PKG:
      if (parse_pkgspec(c, v, "package", &e->pkg) != 0) ok = 0;
      else e->has_pkg = 1;
      break;
    case E_EXPIRES:
      s = v->type == N_SCALAR ? v->val : "";
      if (v->type == N_BAD) ok = 0;
      else if ((e->expires_day = parse_date(s)) < 0) {
        perr(c, v->line, v->col, "bad date '%s' for expires (expected YYYY-MM-DD)", s);
        ok = 0;
      } else {
        e->has_expires = 1;
        e->exp_line = v->line;
        e->exp_col = v->col;
      }
      break;
    case E_REASON:
      if (!(s = get_str(c, v, "reason"))) ok = 0;
      else if (!(e->reason = dup_str(c, s))) return -1;
      break;
    default:
      ok = 0;
    }
  }
  if (!(seen & (1u << E_VULN))) {
    perr(c, n->line, n->col, "%s has no vulnerability", where);
    ok = 0;
  }
  if (!(seen & (1u << E_REASON))) {
    perr(c, n->line, n->col, "%s has no reason (say why it is safe to accept)", where);
    ok = 0;
  }
  if (ok && !(seen & (1u << E_REPOS))) {
    if (!(e->repos = calloc(1, sizeof(char *))) || !(e->repos[0] = dup_str(c, "**"))) {
      c->nomem = 1;
      return -1;
    }
    e->nrepos = 1;
  }
  return ok ? 0 : -1;
}

enum { T_MODE, T_UNSCANNED, T_ON_ERROR, T_HEAD, T_RULES, T_EXCEPTIONS };
static const char *const top_keys[] = {"mode", "unscanned", "on_error", "head", "rules", "exceptions"};

static void parse_top(pctx *c, const node *root, sc_policy *p) {
  static const char *const modes[] = {"enforce", "audit"};
  static const char *const unsc[] = {"scan", "deny", "allow"};
  static const char *const onerr[] = {"deny", "allow"};
  static const char *const heads[] = {"auto", "allow", "deny"};
  unsigned seen = 0;
  int v;
  if (root->type != N_MAP) {
    if (root->type != N_BAD)
      perr(c, root->line, root->col, is_null(root) ? "the policy is empty (expected a mapping with "
           "mode, rules, ...)" : "the policy must be a mapping (mode, rules, ...), not %s", type_name(root));
    return;
  }
  for (size_t i = 0; i + 1 < root->nkids && !c->nomem; i += 2) {
    const node *k = root->kids[i], *val = root->kids[i + 1];
    switch (lookup_key(c, k, "the policy", top_keys, 6, &seen)) {
    case T_MODE:
      if ((v = get_enum(c, val, "mode", modes, 2)) >= 0) p->mode = (sc_policy_mode)v;
      break;
    case T_UNSCANNED:
      if ((v = get_enum(c, val, "unscanned", unsc, 3)) >= 0) p->unscanned = (sc_unscanned)v;
      break;
    case T_ON_ERROR:
      if ((v = get_enum(c, val, "on_error", onerr, 2)) >= 0) p->on_error = (sc_on_error)v;
      break;
    case T_HEAD:
      if ((v = get_enum(c, val, "head", heads, 3)) >= 0) p->head = (sc_head)v;
      break;
    case T_RULES:
    case T_EXCEPTIONS: {
      int rules = !strcmp(k->val, "rules");
      size_t max = rules ? SC_POLICY_MAX_RULES : SC_POLICY_MAX_EXCEPTIONS;
      if (is_null(val)) break;
      if (val->type != N_SEQ) {
        if (val->type != N_BAD)
          perr(c, val->line, val->col, "%s must be a list, not %s", k->val, type_name(val));
        break;
      }
      if (val->nkids > max) {
        perr(c, val->line, val->col, "more than %zu %s", max, k->val);
        break;
      }
      if (!val->nkids) break;
      if (rules && !(p->rules = calloc(val->nkids, sizeof(rule)))) c->nomem = 1;
      if (!rules && !(p->excs = calloc(val->nkids, sizeof(exc)))) c->nomem = 1;
      for (size_t j = 0; j < val->nkids && !c->nomem; j++)
        (rules ? parse_rule : parse_exc)(c, val->kids[j], p, j);
      break;
    }
    default:
      break;
    }
  }
}

int sc_policy_load_mem(const char *name, const char *yaml, size_t len, sc_policy **out, char **errors) {
  pctx c = {.file = name ? name : "policy", .err = {.max = 64 * 1024}};
  sc_policy *p;
  node *root;
  int rc = 0;
  if (errors) *errors = NULL;
  if (!out || (!yaml && len)) return SC_ERR_ARG;
  *out = NULL;
  if (len > SC_POLICY_MAX_BYTES) {
    perr(&c, 0, 0, "policy file larger than %d bytes", SC_POLICY_MAX_BYTES);
    rc = SC_ERR_LIMIT;
    goto done;
  }
  if (!(p = calloc(1, sizeof(*p))) || !(p->file = strdup(c.file))) {
    free(p);
    return SC_ERR_NOMEM;
  }
  root = build_tree(&c, yaml ? yaml : "", len);
  if (!root && !c.nerr && !c.nomem) perr(&c, 1, 1, "the policy is empty (expected a mapping with mode, rules, ...)");
  if (root && !c.nomem) parse_top(&c, root, p);
  node_free(root);
  if (c.nomem || c.err.oom) {
    sc_policy_free(p);
    free(c.err.s);
    return SC_ERR_NOMEM;
  }
  if (c.nerr) {
    sc_policy_free(p);
    rc = SC_ERR_FORMAT;
    goto done;
  }
  *out = p;
done:
  if (rc && errors) *errors = c.err.s;
  else free(c.err.s);
  return rc;
}

int sc_policy_load(const char *path, sc_policy **out, char **errors) {
  char ebuf[128], line[MAX_LINE];
  struct stat st;
  int fd, rc;
  char *buf;
  size_t len = 0;
  if (errors) *errors = NULL;
  if (!path || !out) return SC_ERR_ARG;
  *out = NULL;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char *why = "not a regular file";
    if (fd < 0 || errno) why = strerror_r(errno, ebuf, sizeof(ebuf));
    if (fd >= 0 && !S_ISREG(st.st_mode)) why = "not a regular file";
    if (fd >= 0) close(fd);
    snprintf(line, sizeof(line), "%s: cannot read: %s\n", path, why);
    if (errors) *errors = strdup(line);
    return SC_ERR_IO;
  }
  if (st.st_size > SC_POLICY_MAX_BYTES) {
    close(fd);
    snprintf(line, sizeof(line), "%s: policy file larger than %d bytes\n", path, SC_POLICY_MAX_BYTES);
    if (errors) *errors = strdup(line);
    return SC_ERR_LIMIT;
  }
  /* Read up to one byte past the cap: the file may grow between fstat and read. */
  if (!(buf = malloc((size_t)SC_POLICY_MAX_BYTES + 1))) {
    close(fd);
    return SC_ERR_NOMEM;
  }
  for (;;) {
    ssize_t n = read(fd, buf + len, (size_t)SC_POLICY_MAX_BYTES + 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(line, sizeof(line), "%s: cannot read: %s\n", path, strerror_r(errno, ebuf, sizeof(ebuf)));
      close(fd);
      free(buf);
      if (errors) *errors = strdup(line);
      return SC_ERR_IO;
    }
    if (n == 0 || (len += (size_t)n) > SC_POLICY_MAX_BYTES) break;
  }
  close(fd);
  rc = sc_policy_load_mem(path, buf, len, out, errors);
  free(buf);
  return rc;
}

/* -------------------------------------------------------------- evaluator */

typedef struct lvinfo {
  int secrets, root, age;
  int64_t age_days;
  int max_age;
  size_t nrules;
} lvinfo;

typedef struct ectx {
  const sc_policy *p;
  const sc_image_facts *f;
  int64_t now, today;
  const char *repo;
  int32_t *exc_of;     /* per finding: applicable exception, -1 none, -2 not computed */
  int32_t *expired_of; /* per finding: an expired exception that would have applied */
  uint8_t *flevel;     /* per finding: strongest level it counted at */
  uint8_t *plevel;     /* per package (or per finding without an inventory) */
  uint8_t *exc_used;
  uint8_t *rlevel;     /* per rule */
  lvinfo lv[3];
  json_t *reasons;
  size_t nreasons, omitted;
  int oom;
} ectx;

static int eco_match(const char *want, const char *eco, const char *type) {
  if (!want) return 1;
  size_t n = strlen(want);
  if (eco && !strncasecmp(eco, want, n) && (eco[n] == '\0' || eco[n] == ':')) return 1;
  return type && !strcasecmp(type, want);
}

static int pkg_match(const pkgspec *ps, const char *eco, const char *type, const char *name,
                     const char *version) {
  if (!name || strcasecmp(ps->name, name)) return 0;
  if (ps->version && (!version || strcmp(ps->version, version))) return 0;
  return eco_match(ps->eco, eco, type);
}

static int vuln_match(const char *want, const sc_finding *fd) {
  if (fd->id && !strcasecmp(want, fd->id)) return 1;
  for (size_t i = 0; fd->aliases && i < fd->naliases; i++)
    if (fd->aliases[i] && !strcasecmp(want, fd->aliases[i])) return 1;
  return 0;
}

static int repo_match(char *const *globs, size_t n, const char *repo) {
  for (size_t i = 0; i < n; i++)
    if (sc_glob_match(globs[i], repo)) return 1;
  return 0;
}

/* The exception that covers finding i in this repository today, or -1.
 * Computed lazily: only findings some condition hits pay for the scan. */
static int exception_for(ectx *x, size_t i) {
  const sc_finding *fd = &x->f->findings[i];
  if (x->exc_of[i] != -2) return x->exc_of[i];
  x->exc_of[i] = -1;
  for (size_t e = 0; e < x->p->nexcs; e++) {
    const exc *ex = &x->p->excs[e];
    if (!vuln_match(ex->vuln, fd) || !repo_match(ex->repos, ex->nrepos, x->repo)) continue;
    if (ex->has_pkg && !pkg_match(&ex->pkg, fd->ecosystem, NULL, fd->package, fd->version)) continue;
    if (ex->has_expires && x->today > ex->expires_day) {
      if (x->expired_of[i] < 0) x->expired_of[i] = (int32_t)e;
      continue;
    }
    x->exc_of[i] = (int32_t)e;
    break;
  }
  return x->exc_of[i];
}

static void jadd(ectx *x, json_t *o, const char *k, json_t *v) {
  if (jset(o, k, v) != 0) x->oom = 1;
}

/* A new reason object appended to the list, or NULL past the cap. */
static json_t *reason_new(ectx *x, const rule *r, int lvl, const char *kind) {
  if (x->nreasons >= SC_VERDICT_MAX_REASONS) {
    x->omitted++;
    return NULL;
  }
  json_t *o = json_object();
  if (!o || json_array_append_new(x->reasons, o) != 0) {
    x->oom = 1;
    return NULL;
  }
  x->nreasons++;
  jadd(x, o, "kind", json_string(kind));
  jadd(x, o, "action", json_string(sc_decision_name((sc_decision)lvl)));
  jadd(x, o, "rule", r ? jstr(r->name) : json_null());
  return o;
}

static void finding_fields(ectx *x, json_t *o, const sc_finding *fd) {
  jadd(x, o, "finding", jstr(fd->id));
  jadd(x, o, "package", jstr(fd->package));
  jadd(x, o, "version", jstr(fd->version));
  jadd(x, o, "fixed_version", jstr(fd->fixed_version && fd->fixed_version[0] ? fd->fixed_version : NULL));
  jadd(x, o, "severity", json_string(sev_names[sev_rank(fd->severity)]));
  if (fd->score >= 0) jadd(x, o, "score", json_real(fd->score));
}

static void hit(ectx *x, size_t ri, int lvl) {
  if (x->rlevel[ri] < lvl) x->rlevel[ri] = (uint8_t)lvl;
}

static void eval_cond(ectx *x, size_t ri, const cond *c, int lvl) {
  const rule *r = &x->p->rules[ri];
  const sc_image_facts *f = x->f;
  for (size_t i = 0; i < f->nfindings; i++) {
    const sc_finding *fd = &f->findings[i];
    int rank = sev_rank(fd->severity) ? sev_rank(fd->severity) : c->unknown_rank;
    int fixable = fd->fixed_version && fd->fixed_version[0];
    int by_sev = c->severity && rank >= c->severity && (fixable || !c->fixable_only);
    int by_cvss = c->has_max_cvss && fd->score >= 0 && fd->score > c->max_cvss &&
                  (fixable || !c->fixable_only);
    const char *by_id = NULL;
    for (size_t k = 0; k < c->nvulns && !by_id; k++)
      if (vuln_match(c->vulns[k], fd)) by_id = c->vulns[k];
    if (!by_sev && !by_cvss && !by_id) continue;
    int e = exception_for(x, i);
    if (e >= 0) {
      x->exc_used[e] = 1;
      continue;
    }
    if (x->flevel[i] < lvl) x->flevel[i] = (uint8_t)lvl;
    hit(x, ri, lvl);
    json_t *o;
    if (by_sev && (o = reason_new(x, r, lvl, "severity"))) {
      finding_fields(x, o, fd);
      jadd(x, o, "threshold", json_string(sev_names[c->severity]));
    }
    if (by_cvss && (o = reason_new(x, r, lvl, "cvss"))) {
      finding_fields(x, o, fd);
      jadd(x, o, "max_cvss", json_real(c->max_cvss));
    }
    if (by_id && (o = reason_new(x, r, lvl, "vulnerability"))) {
      finding_fields(x, o, fd);
      jadd(x, o, "listed", jstr(by_id));
    }
  }
  if (c->npkgs) {
    /* With an inventory, a listed package blocks by being present; without
     * one, the packages named by findings are all we know. */
    size_t n = f->packages ? f->npackages : f->nfindings;
    for (size_t j = 0; j < n; j++) {
      const sc_package *pk = f->packages ? &f->packages[j] : NULL;
      const sc_finding *fd = pk ? NULL : &f->findings[j];
      const char *eco = pk ? pk->ecosystem : fd->ecosystem, *type = pk ? pk->type : NULL;
      const char *name = pk ? pk->name : fd->package, *ver = pk ? pk->version : fd->version;
      const pkgspec *m = NULL;
      for (size_t k = 0; k < c->npkgs && !m; k++)
        if (pkg_match(&c->pkgs[k], eco, type, name, ver)) m = &c->pkgs[k];
      if (!m) continue;
      if (x->plevel[j] < lvl) x->plevel[j] = (uint8_t)lvl;
      hit(x, ri, lvl);
      json_t *o = reason_new(x, r, lvl, "package");
      if (!o) continue;
      jadd(x, o, "package", jstr(name));
      jadd(x, o, "version", jstr(ver));
      jadd(x, o, "ecosystem", jstr(eco ? eco : type));
      if (pk && pk->path) jadd(x, o, "path", jstr(pk->path));
    }
  }
  if (c->secrets && f->nsecrets) {
    x->lv[lvl].secrets = 1;
    hit(x, ri, lvl);
    for (size_t j = 0; f->secrets && j < f->nsecrets; j++) {
      json_t *o = reason_new(x, r, lvl, "secret");
      if (!o) continue;
      jadd(x, o, "secret", jstr(f->secrets[j].rule));
      jadd(x, o, "path", jstr(f->secrets[j].path));
    }
  }
  if (c->root && f->runs_as_root > 0) {
    x->lv[lvl].root = 1;
    hit(x, ri, lvl);
    reason_new(x, r, lvl, "root");
  }
  if (c->max_age_days >= 0 && f->created > 0 && x->now - f->created > (int64_t)c->max_age_days * DAY) {
    int64_t age = (x->now - f->created) / DAY;
    if (!x->lv[lvl].age || c->max_age_days < x->lv[lvl].max_age) x->lv[lvl].max_age = c->max_age_days;
    x->lv[lvl].age = 1;
    x->lv[lvl].age_days = age;
    hit(x, ri, lvl);
    json_t *o = reason_new(x, r, lvl, "age");
    if (o) {
      jadd(x, o, "age_days", json_integer(age));
      jadd(x, o, "max_age_days", json_integer(c->max_age_days));
    }
  }
}

typedef struct rank_item {
  size_t i;
  int rank;
  double score;
} rank_item;

static int rank_cmp(const void *a, const void *b) {
  const rank_item *x = a, *y = b;
  if (x->rank != y->rank) return y->rank - x->rank;
  if (x->score != y->score) return x->score < y->score ? 1 : -1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Human summary of everything that counted at level lvl. */
static void describe(ectx *x, int lvl, sbuf *m) {
  const sc_image_facts *f = x->f;
  size_t counts[5] = {0}, n = 0, shown = 0;
  const char *sep = "";
  rank_item *items = NULL;
  for (size_t i = 0; i < f->nfindings; i++)
    if (x->flevel[i] == lvl) n++;
  if (n && !(items = malloc(n * sizeof(*items)))) {
    x->oom = 1;
    return;
  }
  n = 0;
  for (size_t i = 0; i < f->nfindings; i++)
    if (x->flevel[i] == lvl) {
      items[n].i = i;
      items[n].rank = sev_rank(f->findings[i].severity);
      items[n].score = f->findings[i].score;
      counts[items[n].rank]++;
      n++;
    }
  if (n) {
    qsort(items, n, sizeof(*items), rank_cmp);
    sb_printf(m, "%zu vulnerabilit%s (", n, n == 1 ? "y" : "ies");
    for (int s = SC_SEV_CRITICAL, first = 1; s >= SC_SEV_UNKNOWN; s--)
      if (counts[s]) {
        sb_printf(m, "%s%zu %s", first ? "" : ", ", counts[s], sev_names[s]);
        first = 0;
      }
    sb_printf(m, "): ");
    for (; shown < n && shown < 5; shown++) {
      const sc_finding *fd = &f->findings[items[shown].i];
      if (shown) sb_printf(m, ", ");
      sb_clean(m, fd->id);
      sb_printf(m, " (");
      sb_clean(m, fd->package);
      sb_printf(m, " ");
      sb_clean(m, fd->version);
      sb_printf(m, " -> ");
      sb_clean(m, fd->fixed_version && fd->fixed_version[0] ? fd->fixed_version : "no fix");
      sb_printf(m, ")");
    }
    if (n > shown) sb_printf(m, " and %zu more", n - shown);
    sep = "; ";
  }
  size_t np = f->packages ? f->npackages : f->nfindings, npk = 0;
  for (size_t j = 0; j < np; j++)
    if (x->plevel[j] == lvl) {
      const char *name = f->packages ? f->packages[j].name : f->findings[j].package;
      const char *ver = f->packages ? f->packages[j].version : f->findings[j].version;
      if (npk < 5) {
        sb_printf(m, "%s", npk ? ", " : sep);
        if (!npk) sb_printf(m, "listed package ");
        sb_clean(m, name);
        sb_printf(m, " ");
        sb_clean(m, ver);
      }
      npk++;
    }
  if (npk > 5) sb_printf(m, " and %zu more", npk - 5);
  if (npk) sep = "; ";
  if (x->lv[lvl].secrets) {
    sb_printf(m, "%s%zu secret%s", sep, f->nsecrets, f->nsecrets == 1 ? "" : "s");
    if (f->secrets) {
      sb_printf(m, " (");
      sb_clean(m, f->secrets[0].rule);
      sb_printf(m, " in /");
      sb_clean(m, f->secrets[0].path);
      sb_printf(m, "%s)", f->nsecrets > 1 ? ", ..." : "");
    }
    sep = "; ";
  }
  if (x->lv[lvl].root) {
    sb_printf(m, "%sthe image runs as root", sep);
    sep = "; ";
  }
  if (x->lv[lvl].age) {
    sb_printf(m, "%sthe image is %lld days old (max %d)", sep, (long long)x->lv[lvl].age_days,
              x->lv[lvl].max_age);
    sep = "; ";
  }
  for (size_t k = 0; k < n; k++) { /* an expired exception is what the user will ask about */
    int32_t e = x->expired_of[items[k].i];
    if (e >= 0) {
      char d[16];
      format_day(x->p->excs[e].expires_day, d);
      sb_printf(m, "%sthe exception for ", sep);
      sb_clean(m, x->p->excs[e].vuln);
      sb_printf(m, " expired on %s", d);
      break;
    }
  }
  if (n) {
    char d[16];
    format_day(x->today + 30, d);
    sb_printf(m, ". To accept a vulnerability, add to the policy's exceptions: {vulnerability: ");
    sb_clean(m, f->findings[items[0].i].id);
    sb_printf(m, ", repositories: [\"");
    sb_clean(m, x->repo);
    sb_printf(m, "\"], expires: %s, reason: \"why it is safe\"}", d);
  }
  free(items);
}

void sc_verdict_free(sc_verdict *v) {
  if (!v) return;
  free(v->rule);
  free(v->message);
  free(v->reasons_json);
  memset(v, 0, sizeof(*v));
}

int sc_policy_evaluate(const sc_policy *p, const sc_image_facts *f, int64_t now, sc_verdict *v) {
  ectx x = {.p = p, .f = f, .now = now, .today = floor_day(now)};
  sbuf m = {.max = SC_VERDICT_MAX_MESSAGE - 4};
  int decision = SC_DECISION_ALLOW, first = -1, rc = 0;
  if (!v) return SC_ERR_ARG;
  memset(v, 0, sizeof(*v));
  if (!p || !f || (f->nfindings && !f->findings) || (f->npackages && !f->packages)) return SC_ERR_ARG;
  x.repo = f->repository ? f->repository : "";
  size_t nf = f->nfindings ? f->nfindings : 1, np = f->packages ? f->npackages : f->nfindings;
  x.exc_of = malloc(nf * sizeof(int32_t));
  x.expired_of = malloc(nf * sizeof(int32_t));
  x.flevel = calloc(nf, 1);
  x.plevel = calloc(np ? np : 1, 1);
  x.exc_used = calloc(p->nexcs ? p->nexcs : 1, 1);
  x.rlevel = calloc(p->nrules ? p->nrules : 1, 1);
  x.reasons = json_array();
  if (!x.exc_of || !x.expired_of || !x.flevel || !x.plevel || !x.exc_used || !x.rlevel || !x.reasons)
    goto oom;
  for (size_t i = 0; i < f->nfindings; i++) x.exc_of[i] = -2, x.expired_of[i] = -1;

  if (p->mode == SC_MODE_AUDIT && (!f->scanned ? p->unscanned != SC_UNSCANNED_ALLOW
                                                : f->scan_failed && p->on_error == SC_ON_ERROR_DENY))
    sb_printf(&m, "audit mode, not blocked: ");
  if (!f->scanned) {
    decision = p->unscanned == SC_UNSCANNED_ALLOW ? SC_DECISION_ALLOW : SC_DECISION_DENY;
    reason_new(&x, NULL, decision, "unscanned");
    sb_clean(&m, x.repo);
    sb_printf(&m, " has not been scanned by customs (policy: unscanned: %s)",
              p->unscanned == SC_UNSCANNED_ALLOW ? "allow" : p->unscanned == SC_UNSCANNED_DENY ? "deny" : "scan");
  } else if (f->scan_failed && p->on_error == SC_ON_ERROR_DENY) {
    decision = SC_DECISION_DENY;
    reason_new(&x, NULL, SC_DECISION_DENY, "scan_error");
    sb_printf(&m, "scanning ");
    sb_clean(&m, x.repo);
    sb_printf(&m, " failed and the policy says on_error: deny");
  } else {
    size_t applied = 0;
    for (size_t ri = 0; ri < p->nrules; ri++) {
      const rule *r = &p->rules[ri];
      if (!repo_match(r->repos, r->nrepos, x.repo)) continue;
      applied++;
      if (r->has_deny) eval_cond(&x, ri, &r->deny, SC_DECISION_DENY);
      if (r->has_warn) eval_cond(&x, ri, &r->warn, SC_DECISION_WARN);
      if (x.rlevel[ri] > decision) decision = x.rlevel[ri];
    }
    for (size_t ri = 0; ri < p->nrules; ri++)
      if (x.rlevel[ri] == decision && decision != SC_DECISION_ALLOW) {
        if (first < 0) first = (int)ri;
        x.lv[decision].nrules++;
      }
    if (decision == SC_DECISION_ALLOW) {
      size_t used = 0;
      for (size_t e = 0; e < p->nexcs; e++) used += x.exc_used[e];
      if (applied) {
        sb_printf(&m, "allowed by policy");
      } else {
        sb_printf(&m, "allowed: no policy rule applies to ");
        sb_clean(&m, x.repo);
      }
      if (used) sb_printf(&m, " (%zu exception%s applied)", used, used == 1 ? "" : "s");
    } else {
      if (decision == SC_DECISION_DENY && p->mode == SC_MODE_AUDIT)
        sb_printf(&m, "audit mode, not blocked: would be denied by policy rule \"");
      else
        sb_printf(&m, decision == SC_DECISION_DENY ? "denied by policy rule \"" : "warning from policy rule \"");
      sb_clean(&m, p->rules[first].name);
      sb_printf(&m, "\"");
      if (x.lv[decision].nrules > 1)
        sb_printf(&m, " and %zu other rule%s", x.lv[decision].nrules - 1, x.lv[decision].nrules > 2 ? "s" : "");
      sb_printf(&m, " for ");
      sb_clean(&m, x.repo);
      if (f->reference) {
        sb_printf(&m, strncmp(f->reference, "sha256:", 7) ? ":" : "@");
        sb_clean(&m, f->reference);
      }
      sb_printf(&m, ": ");
      describe(&x, decision, &m);
    }
    if (f->scan_failed) sb_printf(&m, " (the scan failed: judged on partial data, on_error: allow)");
  }
  for (size_t e = 0; e < p->nexcs; e++) {
    if (!x.exc_used[e]) continue;
    const exc *ex = &p->excs[e];
    json_t *o = json_object();
    char d[16];
    if (!o || json_array_append_new(x.reasons, o) != 0) goto oom;
    jadd(&x, o, "kind", json_string("exception"));
    jadd(&x, o, "vulnerability", jstr(ex->vuln));
    if (ex->has_pkg) jadd(&x, o, "package", jstr(ex->pkg.name));
    jadd(&x, o, "reason", jstr(ex->reason));
    if (ex->has_expires) format_day(ex->expires_day, d);
    jadd(&x, o, "expires", ex->has_expires ? json_string(d) : json_null());
  }
  if (x.omitted) {
    json_t *o = json_object();
    if (!o || json_array_append_new(x.reasons, o) != 0) goto oom;
    jadd(&x, o, "kind", json_string("truncated"));
    jadd(&x, o, "omitted", json_integer((json_int_t)x.omitted));
  }
  if (m.full) {
    m.full = 0;
    m.max += 4;
    sb_putn(&m, "...", 3);
  }
  if (x.oom || m.oom) goto oom;
  if (decision == SC_DECISION_DENY && p->mode == SC_MODE_AUDIT) decision = SC_DECISION_WARN;
  v->decision = (sc_decision)decision;
  v->message = m.s ? m.s : strdup("");
  m.s = NULL;
  v->reasons_json = json_dumps(x.reasons, JSON_COMPACT | JSON_REAL_PRECISION(6));
  if (first >= 0) v->rule = strdup(p->rules[first].name);
  if (!v->message || !v->reasons_json || (first >= 0 && !v->rule)) goto oom;
  goto out;
oom:
  sc_verdict_free(v);
  rc = SC_ERR_NOMEM;
out:
  free(m.s);
  free(x.exc_of);
  free(x.expired_of);
  free(x.flevel);
  free(x.plevel);
  free(x.exc_used);
  free(x.rlevel);
  json_decref(x.reasons);
  return rc;
}

int sc_policy_check_expiring(const sc_policy *p, int64_t now, int days, char **warnings) {
  sbuf b = {.max = 1024 * 1024};
  int n = 0;
  int64_t today = floor_day(now);
  if (!p || !warnings || days < 0) return SC_ERR_ARG;
  *warnings = NULL;
  for (size_t e = 0; e < p->nexcs; e++) {
    const exc *ex = &p->excs[e];
    char d[16];
    if (!ex->has_expires) continue;
    format_day(ex->expires_day, d);
    if (today > ex->expires_day)
      sb_printf(&b, "%s:%d:%d: exception for %s expired on %s and no longer applies\n", p->file,
                ex->exp_line, ex->exp_col, ex->vuln, d);
    else if (ex->expires_day == today)
      sb_printf(&b, "%s:%d:%d: exception for %s expires today (%s is its last day)\n", p->file,
                ex->exp_line, ex->exp_col, ex->vuln, d);
    else if (ex->expires_day - today < days)
      sb_printf(&b, "%s:%d:%d: exception for %s expires on %s (in %lld day%s)\n", p->file, ex->exp_line,
                ex->exp_col, ex->vuln, d, (long long)(ex->expires_day - today),
                ex->expires_day - today == 1 ? "" : "s");
    else
      continue;
    n++;
  }
  if (b.oom) {
    free(b.s);
    return SC_ERR_NOMEM;
  }
  *warnings = b.s;
  return n;
}
