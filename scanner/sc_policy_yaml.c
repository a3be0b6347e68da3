/* sc_policy_yaml.c - the policy file's YAML as a node tree with positions,
 * and typed getters that report problems as FILE:LINE:COL lines; see
 * sc_policy_yaml.h.  Owner: scanner/policy.  Thread: one sc_yctx per parse.
 * Errors: reported into ctx->err; allocation failure sets ctx->nomem. */
#include "sc_policy_yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "sc_policy_int.h"

void sc_yaml_err(sc_yctx *c, int line, int col, const char *fmt, ...) {
  char msg[SC_POLICY_LINE_MAX];
  va_list ap;
  if (c->nerr > SC_POLICY_MAX_ERRORS) return;
  if (c->nerr++ == SC_POLICY_MAX_ERRORS) {
    sc_pol_linef(&c->err, "%s: too many errors, stopping\n", c->file);
    return;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (line > 0)
    sc_pol_linef(&c->err, "%s:%d:%d: %s\n", c->file, line, col, msg);
  else
    sc_pol_linef(&c->err, "%s: %s\n", c->file, msg);
}

void sc_yaml_free(sc_ynode *n) {
  if (!n) return;
  for (size_t i = 0; i < n->nkids; i++) sc_yaml_free(n->kids[i]);
  free(n->kids);
  free(n->val);
  free(n);
}

static sc_ynode *node_new(sc_yctx *c, int type, const yaml_mark_t *m) {
  sc_ynode *n = calloc(1, sizeof(*n));
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

static int node_add(sc_yctx *c, sc_ynode *parent, sc_ynode *kid) {
  if (parent->nkids == parent->cap) {
    size_t nc = parent->cap ? parent->cap * 2 : 8;
    sc_ynode **t = realloc(parent->kids, nc * sizeof(*t));
    if (!t) {
      c->nomem = 1;
      sc_yaml_free(kid);
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
sc_ynode *sc_yaml_tree(sc_yctx *c, const char *yaml, size_t len) {
  yaml_parser_t ps;
  yaml_event_t ev;
  sc_ynode *stack[SC_YAML_MAX_DEPTH + 1];
  int depth = 0, docs = 0, done = 0, failed = 0;
  sc_ynode *root = NULL;

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
        sc_yaml_err(c, (int)ps.problem_mark.line + 1, (int)ps.problem_mark.column + 1,
                    "YAML syntax error: %s%s", ps.problem ? ps.problem : "malformed input", ctxt);
      }
      failed = 1;
      break;
    }
    sc_ynode *n = NULL;
    int push = 0;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1) {
        sc_yaml_err(c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                    "a policy file holds one YAML document");
        failed = 1;
      }
      break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      if (depth >= SC_YAML_MAX_DEPTH) {
        sc_yaml_err(c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                    "nesting deeper than %d levels", SC_YAML_MAX_DEPTH);
        failed = 1;
        break;
      }
      n = node_new(c, ev.type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ, &ev.start_mark);
      push = 1;
      break;
    case YAML_SCALAR_EVENT:
      n = node_new(c, Y_SCALAR, &ev.start_mark);
      if (!n) break;
      if (ev.data.scalar.length > SC_POLICY_MAX_STRING) {
        sc_yaml_err(c, n->line, n->col, "value longer than %d bytes", SC_POLICY_MAX_STRING);
        n->type = Y_BAD;
      } else if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
        sc_yaml_err(c, n->line, n->col, "value contains a NUL character");
        n->type = Y_BAD;
      } else {
        n->val = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
        if (!n->val) c->nomem = 1;
        n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
      }
      break;
    case YAML_ALIAS_EVENT:
      /* Aliases make one edit change several places, and alias expansion is
       * the classic "billion laughs" memory bomb: not in a policy. */
      n = node_new(c, Y_BAD, &ev.start_mark);
      if (n) sc_yaml_err(c, n->line, n->col, "YAML aliases (*name) are not allowed in a policy");
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
      sc_yaml_free(n);
      failed = 1;
      break;
    }
    if (n) {
      if (c->nnodes > SC_YAML_MAX_NODES) {
        sc_yaml_err(c, n->line, n->col, "more than %d YAML nodes", SC_YAML_MAX_NODES);
        sc_yaml_free(n);
        failed = 1;
        break;
      }
      if (depth == 0) {
        if (root) sc_yaml_free(root); /* cannot happen with one document */
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
    sc_yaml_free(root);
    return NULL;
  }
  return root;
}

/* ---------------------------------------------------------- typed values */

const char *sc_yaml_type_name(const sc_ynode *n) {
  return n->type == Y_MAP ? "a mapping" : n->type == Y_SEQ ? "a list" : "a value";
}

int sc_yaml_is_null(const sc_ynode *n) {
  return n->type == Y_SCALAR && n->plain &&
         (!n->val[0] || !strcmp(n->val, "~") || !strcasecmp(n->val, "null"));
}

/* Non-empty string without control characters (it ends up in messages). */
const char *sc_yaml_str(sc_yctx *c, const sc_ynode *n, const char *what) {
  if (n->type == Y_BAD) return NULL;
  if (n->type != Y_SCALAR) {
    sc_yaml_err(c, n->line, n->col, "%s must be a string, not %s", what, sc_yaml_type_name(n));
    return NULL;
  }
  if (sc_yaml_is_null(n) || !n->val[0]) {
    sc_yaml_err(c, n->line, n->col, "%s must not be empty", what);
    return NULL;
  }
  for (const unsigned char *p = (const unsigned char *)n->val; *p; p++)
    if (*p < 0x20 || *p == 0x7f) {
      sc_yaml_err(c, n->line, n->col, "%s contains a control character", what);
      return NULL;
    }
  return n->val;
}

char *sc_yaml_dup(sc_yctx *c, const char *s) {
  char *d = strdup(s);
  if (!d) c->nomem = 1;
  return d;
}

/* Returns 0/1, or -1 after reporting. */
int sc_yaml_bool(sc_yctx *c, const sc_ynode *n, const char *key) {
  if (n->type == Y_SCALAR && n->plain) {
    if (!strcasecmp(n->val, "true")) return 1;
    if (!strcasecmp(n->val, "false")) return 0;
  }
  if (n->type == Y_BAD) return -1;
  if (n->type == Y_SCALAR)
    sc_yaml_err(c, n->line, n->col, "%s must be true or false, not '%s'", key, n->val);
  else
    sc_yaml_err(c, n->line, n->col, "%s must be true or false, not %s", key, sc_yaml_type_name(n));
  return -1;
}

/* Returns the index of n's value in names (case-insensitive), or -1. */
int sc_yaml_enum(sc_yctx *c, const sc_ynode *n, const char *key, const char *const *names, size_t nn) {
  if (n->type == Y_BAD) return -1;
  if (n->type == Y_SCALAR)
    for (size_t i = 0; i < nn; i++)
      if (!strcasecmp(n->val, names[i])) return (int)i;
  char opts[128] = "";
  size_t o = 0;
  for (size_t i = 0; i < nn && o < sizeof(opts); i++)
    o += (size_t)snprintf(opts + o, sizeof(opts) - o, "%s%s", i ? (i + 1 == nn ? " or " : ", ") : "",
                          names[i]);
  if (n->type == Y_SCALAR)
    sc_yaml_err(c, n->line, n->col, "bad value '%s' for %s (expected %s)", n->val, key, opts);
  else
    sc_yaml_err(c, n->line, n->col, "%s must be one of %s, not %s", key, opts, sc_yaml_type_name(n));
  return -1;
}

int sc_yaml_number(sc_yctx *c, const sc_ynode *n, const char *key, double lo, double hi, int integer,
                   double *out) {
  if (n->type == Y_BAD) return -1;
  if (n->type == Y_SCALAR && n->plain && n->val[0]) {
    char *end;
    errno = 0;
    double d = strtod(n->val, &end);
    int isint = !strpbrk(n->val, ".eExXnNiI");
    if (!*end && !errno && d >= lo && d <= hi && (!integer || isint)) {
      *out = d;
      return 0;
    }
  }
  if (n->type == Y_SCALAR)
    sc_yaml_err(c, n->line, n->col, "%s must be %s from %g to %g, not '%s'", key,
                integer ? "a whole number" : "a number", lo, hi, n->val);
  else
    sc_yaml_err(c, n->line, n->col, "%s must be a number, not %s", key, sc_yaml_type_name(n));
  return -1;
}

/* A list of scalars (a single scalar is accepted as a one-element list). */
int sc_yaml_each(sc_yctx *c, const sc_ynode *n, const char *key, sc_yaml_item_fn fn, void *arg) {
  if (n->type == Y_BAD) return -1;
  if (n->type == Y_SCALAR && !sc_yaml_is_null(n)) return fn(c, n, arg, 0);
  if (n->type != Y_SEQ) {
    sc_yaml_err(c, n->line, n->col, "%s must be a list", key);
    return -1;
  }
  if (n->nkids > SC_POLICY_MAX_LIST) {
    sc_yaml_err(c, n->line, n->col, "%s has more than %d entries", key, SC_POLICY_MAX_LIST);
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < n->nkids; i++)
    if (fn(c, n->kids[i], arg, i) != 0) rc = -1;
  return rc;
}

/* Finds key k in a known-keys table; reports unknown and duplicate keys.
 * Returns the index or -1. `seen` is a bitmask over the table. */
int sc_yaml_key(sc_yctx *c, const sc_ynode *k, const char *where, const char *const *keys, size_t nk,
                unsigned *seen) {
  if (k->type == Y_BAD) return -1;
  if (k->type != Y_SCALAR) {
    sc_yaml_err(c, k->line, k->col, "keys in %s must be plain names, not %s", where, sc_yaml_type_name(k));
    return -1;
  }
  for (size_t i = 0; i < nk; i++)
    if (!strcmp(k->val, keys[i])) {
      if (*seen & (1u << i)) {
        sc_yaml_err(c, k->line, k->col, "duplicate key '%s' in %s", k->val, where);
        return -1;
      }
      *seen |= 1u << i;
      return (int)i;
    }
  char opts[256] = "";
  size_t o = 0;
  for (size_t i = 0; i < nk && o < sizeof(opts); i++)
    o += (size_t)snprintf(opts + o, sizeof(opts) - o, "%s%s", i ? ", " : "", keys[i]);
  sc_yaml_err(c, k->line, k->col, "unknown key '%s' in %s (expected %s)", k->val, where, opts);
  return -1;
}
