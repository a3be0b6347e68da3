/* sc_jsonscan.h - a light, one-sided JSON check that finds the values of
 * chosen top-level keys of an object without building a tree.
 *
 * Why: an OSV import reads ~200,000 records of which it needs a few keys
 * (and on a re-import often only id and modified); building jansson's tree
 * of every record (details, references, ...) was most of its time.
 *
 * One-sided: when sc_jsonscan_object says yes, jansson's json_loadb with
 * flags 0 certainly accepts the same bytes, and parsing one returned span
 * with JSON_DECODE_ANY gives the value jansson would hold for that key (the
 * last occurrence, as jansson keeps).  When it says no, the text may still
 * be valid JSON (a number with an exponent, a \u0000 escape, a top-level
 * key with an escape, nesting deeper than SC_JSONSCAN_MAX_DEPTH): the
 * caller then parses it in full, which decides.
 * Owner: scanner.  Thread: any (no state).  Errors: none (yes or no). */
#ifndef CUSTOMS_SC_JSONSCAN_H
#define CUSTOMS_SC_JSONSCAN_H
#include <stddef.h>

#define SC_JSONSCAN_MAX_DEPTH 256 /* nesting levels vouched for (jansson's own limit: 2048) */

/* A value's text inside the scanned buffer; n == 0: key absent. */
typedef struct sc_jspan {
  const char *p;
  size_t n;
} sc_jspan;

/* 1 when buf[0..len) is one JSON object that jansson accepts for sure
 * (whitespace around it allowed), spans[i] then holding the value of
 * keys[i] (matched byte for byte); 0 when not sure (spans undefined). */
int sc_jsonscan_object(const char *buf, size_t len, const char *const *keys, size_t nkeys, sc_jspan *spans);

/* 1 when span is a JSON string without escapes (its text between the quotes
 * is then its value, valid UTF-8 without control characters): *s and *n
 * point at that text.  0 otherwise. */
int sc_jsonscan_plain_string(sc_jspan span, const char **s, size_t *n);
#endif
