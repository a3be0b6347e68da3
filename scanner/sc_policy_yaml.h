/* sc_policy_yaml.h - private to the policy parser: YAML text as a tree of
 * nodes that remember their line and column, and typed getters that report
 * every problem as a "FILE:LINE:COL: message" line.
 *
 * Strict on purpose (see sc_policy.h): one document, no aliases (they are
 * the "billion laughs" memory bomb), at most SC_YAML_MAX_DEPTH levels and
 * SC_YAML_MAX_NODES nodes, scalars of at most SC_POLICY_MAX_STRING bytes
 * without NULs.  A node that broke a rule is kept as Y_BAD so that the
 * parser can go on and report the next problem, and never reports it twice.
 * Ownership: sc_yaml_tree returns a tree the caller frees with sc_yaml_free;
 * getters return pointers into the tree.  The error text belongs to the
 * sc_yctx.  Thread: one sc_yctx per parse, on one thread.
 * Errors: getters return -1 / NULL after reporting; allocation failure sets
 * the sticky ctx->nomem (and nothing is reported for it). */
#ifndef CUSTOMS_SC_POLICY_YAML_H
#define CUSTOMS_SC_POLICY_YAML_H
#include <stddef.h>

#include "sc_buf.h"

#define SC_YAML_MAX_DEPTH 32      /* YAML nesting; a policy needs 5 */
#define SC_YAML_MAX_NODES 200000  /* YAML nodes in one file */

enum { Y_SCALAR, Y_SEQ, Y_MAP, Y_BAD /* alias or oversized: already reported */ };

typedef struct sc_ynode {
  int type;
  int line, col; /* 1-based */
  int plain;     /* scalar written without quotes */
  char *val;     /* scalars */
  struct sc_ynode **kids; /* seq: items; map: key, value, key, value, ... */
  size_t nkids, cap;
} sc_ynode;

typedef struct sc_yctx {
  const char *file; /* FILE of the error lines */
  sc_buf err;       /* the error lines */
  int nerr;
  size_t nnodes;
  int nomem;
} sc_yctx;

/* Reports one problem (line 0: no position) and counts it; after
 * SC_POLICY_MAX_ERRORS it says "too many errors" once and drops the rest. */
void sc_yaml_err(sc_yctx *c, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reads yaml into a tree.  Returns the root, or NULL (an error was
 * reported, memory ran out, or the stream was empty). */
sc_ynode *sc_yaml_tree(sc_yctx *c, const char *yaml, size_t len);
void sc_yaml_free(sc_ynode *n);

const char *sc_yaml_type_name(const sc_ynode *n); /* "a mapping", "a list", "a value" */
int sc_yaml_is_null(const sc_ynode *n);            /* plain "", "~" or "null" */

/* Non-empty string without control characters (it ends up in messages),
 * or NULL after reporting "WHAT must ...". */
const char *sc_yaml_str(sc_yctx *c, const sc_ynode *n, const char *what);
/* strdup that sets c->nomem on failure. */
char *sc_yaml_dup(sc_yctx *c, const char *s);
/* true/false (any case, unquoted): 1/0, or -1 after reporting. */
int sc_yaml_bool(sc_yctx *c, const sc_ynode *n, const char *key);
/* Index of n's value in names (case-insensitive), or -1 after reporting. */
int sc_yaml_enum(sc_yctx *c, const sc_ynode *n, const char *key, const char *const *names, size_t nn);
/* A plain number in [lo, hi] (whole when `integer`): 0 and *out, or -1. */
int sc_yaml_number(sc_yctx *c, const sc_ynode *n, const char *key, double lo, double hi, int integer,
                   double *out);

typedef int (*sc_yaml_item_fn)(sc_yctx *c, const sc_ynode *n, void *arg, size_t idx);
/* Calls fn on every item of a list of at most SC_POLICY_MAX_LIST entries
 * (a single non-null scalar counts as a one-item list).  0, or -1 when the
 * list or any item was bad (every item is still visited). */
int sc_yaml_each(sc_yctx *c, const sc_ynode *n, const char *key, sc_yaml_item_fn fn, void *arg);
/* Finds mapping key k in a table of nk (<= 32) known keys, reporting
 * unknown and duplicate keys; `seen` is a bitmask over the table.
 * Returns the index or -1. */
int sc_yaml_key(sc_yctx *c, const sc_ynode *k, const char *where, const char *const *keys, size_t nk,
                unsigned *seen);

#endif
