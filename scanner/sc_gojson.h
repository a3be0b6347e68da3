/* sc_gojson.h - read JSON documents the way Go's encoding/json reads them,
 * or refuse them.
 *
 * Every program customs protects (the registry, containerd, docker, skopeo)
 * decodes manifests and image configs with Go's encoding/json, which
 *   - keeps the LAST of two equal keys in an object;
 *   - matches an object key to a struct field case-insensitively: exact
 *     spelling first, else equal under foldName (ASCII letters upper-cased,
 *     every other rune replaced by the smallest rune of its
 *     unicode.SimpleFold orbit, so U+017F 'ſ' folds to 'S' and the Kelvin
 *     sign U+212A to 'K');
 *   - matches map keys exactly.
 * customs reads documents with jansson and exact keys.  To judge what a
 * client will run, a document must have one reading only: sc_gojson_load
 * refuses exact duplicate keys anywhere (nested too), and sc_gojson_check
 * refuses, in every object that Go decodes into a struct (described by a
 * sc_gojson_type tree), a key that is not spelled like a known field but
 * folds to one, and two keys that fold to the same name.
 *
 * Objects under members the type tree does not name are opaque: no Go type
 * customs models reads them, so only exact duplicates are refused there.
 *
 * Fold fidelity: the fold table is Unicode simple case folding (statuses C
 * and S; Turkic dotted/dotless i stay alone, as in Go's caseOrbit).  For the
 * question that matters here, whether a key folds to an ASCII field name, it
 * is exact: the only non-ASCII runes whose orbit reaches ASCII are U+017F and
 * U+212A.  Between two non-ASCII keys it follows the Unicode version of the
 * table (14.0), which may differ from a given Go release in newly added
 * scripts only.
 *
 * Ownership: types are static tables owned by the caller; sc_gojson_load
 * hands the caller a jansson reference to json_decref.  Thread: any; no
 * global state.  Errors: 0, SC_ERR_FORMAT (reason in why), SC_ERR_NOMEM,
 * SC_ERR_ARG. */
#ifndef CUSTOMS_SC_GOJSON_H
#define CUSTOMS_SC_GOJSON_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "sc_inventory.h"

#define SC_GOJSON_SHOW_KEY_BYTES 64 /* longest part of a key quoted in a reason */
#define SC_GOJSON_PATH_BYTES 192    /* longest JSON path quoted in a reason */
#define SC_GOJSON_MAX_DEPTH 16      /* deepest type tree walked */

typedef enum {
  SC_GJ_OPAQUE = 0, /* not descended into */
  SC_GJ_STRUCT,     /* Go struct: fold rules apply to its keys */
  SC_GJ_MAP,        /* Go map[string]T: keys exact, values of type elem */
  SC_GJ_ARRAY       /* Go slice: elements of type elem */
} sc_gojson_kind;

typedef struct sc_gojson_type sc_gojson_type;

typedef struct sc_gojson_field {
  const char *name;           /* exactly as the Go struct tag spells it */
  const sc_gojson_type *type; /* NULL: scalar, or not descended into */
} sc_gojson_field;

struct sc_gojson_type {
  sc_gojson_kind kind;
  const sc_gojson_field *fields; /* STRUCT: ends with {NULL, NULL} */
  const sc_gojson_type *elem;    /* MAP, ARRAY: element type, NULL = opaque */
};

/* Go's fold of one rune: the smallest rune of r's unicode.SimpleFold orbit
 * ('a' -> 'A', U+017F -> 'S', U+212A -> 'K', U+00B5 stays).  For ASCII this
 * equals foldName's upper-casing, so foldName is this rune by rune. */
uint32_t sc_gojson_fold_rune(uint32_t r);

/* Go's foldName of len bytes of UTF-8 into out (cap bytes, NUL-terminated
 * when cap > 0).  Invalid UTF-8 folds to U+FFFD per byte, as Go decodes it.
 * Returns the folded length (it may exceed cap - 1: then out is truncated);
 * it is at most 3 * len. */
size_t sc_gojson_fold(const char *key, size_t len, char *out, size_t cap);

/* Parses len bytes with jansson, refusing exact duplicate keys in any object
 * at any depth, NUL in keys, invalid UTF-8 and lone surrogates.  Returns 0
 * and a new reference in *out, SC_ERR_FORMAT with a reason in why (one line,
 * printable ASCII), SC_ERR_NOMEM or SC_ERR_ARG. */
int sc_gojson_load(const char *json, size_t len, json_t **out, char *why, size_t whycap);

/* Checks doc against type (see above).  Returns 0, SC_ERR_FORMAT with a
 * reason naming the key and its path in why, for example
 *   key "LAYERS" at $ folds to "layers" (Go clients read it case-insensitively)
 * SC_ERR_NOMEM or SC_ERR_ARG.  why may be NULL when whycap is 0. */
int sc_gojson_check(json_t *doc, const sc_gojson_type *type, char *why, size_t whycap);

/* Appends key to out (cap bytes) as a quoted JSON string of printable ASCII
 * (\uXXXX for the rest), cut after SC_GOJSON_SHOW_KEY_BYTES with "...". */
void sc_gojson_quote(const char *key, size_t len, char *out, size_t cap);
#endif
