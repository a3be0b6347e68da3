// sc_glob.h - glob patterns on repository names ("library/*", "team/**/api").
//
// (Line comments here because the patterns contain the comment delimiters.)
// Syntax (patterns are checked by sc_glob_check when the policy is loaded):
//   *    any run of characters inside one path segment (never matches "/")
//   ?    exactly one character other than "/"
//   **   zero or more whole segments; it must be a segment of its own, so
//        "**" matches every repository, "team/**" matches "team", "team/a"
//        and "team/a/b", "team/**/api" matches "team/api" and "team/x/y/api"
//   anything else matches itself.  Repository names are lowercase
//   [a-z0-9._-] segments separated by "/", so patterns may contain only
//   those characters plus "*" and "?": an uppercase letter or a "[" is a
//   typo and is rejected rather than silently never matching.  Names with
//   an empty segment ("a//b", "a/") never match anything.
//
// Matching is backtracking with one saved position per level (segments, then
// characters), so a hostile pattern such as "*a*a*a*a*b" stays polynomial.
#ifndef CUSTOMS_SC_GLOB_H
#define CUSTOMS_SC_GLOB_H
#include <stddef.h>

#define SC_GLOB_MAX 255 /* longest pattern (and longest name matched) */

/* Returns 1 when `name` matches `pattern`, 0 otherwise (also for NULL
 * arguments, names longer than SC_GLOB_MAX, and invalid patterns). */
int sc_glob_match(const char *pattern, const char *name);

/* Validates a pattern.  Returns 0, or SC_ERR_FORMAT with a short reason
 * written to msg (NUL-terminated, truncated to msglen). */
int sc_glob_check(const char *pattern, char *msg, size_t msglen);

#endif
