// test_glob.c - repository-name globs (line comments: patterns contain "/*").
#include <stdlib.h>

#include "../../scanner/sc_glob.h"
#include "../../scanner/sc_inventory.h"
#include "tap.h"

static const struct {
  const char *pat, *name;
  int want;
} match_cases[] = {
    {"library/*", "library/nginx", 1},
    {"library/*", "library/a/b", 0},
    {"library/*", "library", 0},
    {"library/*", "library/", 0},
    {"library/**", "library/a/b", 1},
    {"library/**", "library/a", 1},
    {"library/**", "library", 1},
    {"library/**", "libraryx/a", 0},
    {"**", "a", 1},
    {"**", "a/b/c/d", 1},
    {"**/api", "api", 1},
    {"**/api", "x/y/api", 1},
    {"**/api", "x/y/api2", 0},
    {"team/**/api", "team/api", 1},
    {"team/**/api", "team/x/api", 1},
    {"team/**/api", "team/x/y/z/api", 1},
    {"team/**/api", "team/x/y/z/apix", 0},
    {"team/**/api", "other/x/api", 0},
    {"team/**/api/**", "team/a/api/b/c", 1},
    {"a/**/b/**/c", "a/x/b/y/b/z/c", 1},
    {"a/**/b/**/c", "a/x/c/b", 0},
    {"app-?", "app-1", 1},
    {"app-?", "app-12", 0},
    {"app-?", "app-", 0},
    {"a?b", "a/b", 0},
    {"*", "nginx", 1},
    {"*", "library/nginx", 0},
    {"lib*/ng*x", "library/nginx", 1},
    {"lib*/ng*x", "library/nginx-x", 1},
    {"lib*/ng*x", "library/nginy", 0},
    {"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
    {"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 1},
    {"exact/name", "exact/name", 1},
    {"exact/name", "exact/name2", 0},
    {"exact/name", "Exact/name", 0},
    {"*-dev", "team/app-dev", 0},
    {"**/*-dev", "team/app-dev", 1},
    {"**/*-dev", "app-dev", 1},
    /* invalid patterns never match */
    {"Library/*", "Library/x", 0},
    {"a**", "a/b", 0},
    {"", "", 0},
};

static const struct {
  const char *pat;
  int ok;
  const char *msg_part; /* substring of the error, NULL when ok */
} check_cases[] = {
    {"**", 1, NULL},
    {"library/*", 1, NULL},
    {"team/**/api", 1, NULL},
    {"my.registry_name-x/app?", 1, NULL},
    {"", 0, "empty"},
    {"/library", 0, "start or end"},
    {"library/", 0, "start or end"},
    {"a//b", 0, "'//'"},
    {"***", 0, "'***'"},
    {"a**", 0, "whole path segment"},
    {"**b/c", 0, "whole path segment"},
    {"a/b**/c", 0, "whole path segment"},
    {"Library/x", 0, "uppercase 'L'"},
    {"lib/[ab]", 0, "'['"},
    {"lib x", 0, "' '"},
    {"lib\tx", 0, "0x09"},
};

int main(void) {
  char msg[128];
  for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++)
    CHECK_INT(sc_glob_match(match_cases[i].pat, match_cases[i].name), match_cases[i].want,
              "match '%s' against '%s'", match_cases[i].pat, match_cases[i].name);

  for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
    int rc = sc_glob_check(check_cases[i].pat, msg, sizeof(msg));
    CHECK_INT(rc, check_cases[i].ok ? 0 : SC_ERR_FORMAT, "check '%s'", check_cases[i].pat);
    if (check_cases[i].msg_part)
      CHECK(strstr(msg, check_cases[i].msg_part) != NULL, "check '%s' says %s (got: %s)",
            check_cases[i].pat, check_cases[i].msg_part, msg);
  }

  /* caps and NULLs */
  char longp[SC_GLOB_MAX + 2];
  memset(longp, 'a', sizeof(longp) - 1);
  longp[sizeof(longp) - 1] = '\0';
  CHECK(sc_glob_check(longp, msg, sizeof(msg)) == SC_ERR_FORMAT, "pattern over the cap is rejected");
  CHECK_INT(sc_glob_match(longp, longp), 0, "pattern over the cap never matches");
  longp[SC_GLOB_MAX] = '\0';
  CHECK_INT(sc_glob_match(longp, longp), 1, "pattern at the cap matches itself");
  CHECK_INT(sc_glob_match(NULL, "a"), 0, "NULL pattern");
  CHECK_INT(sc_glob_match("a", NULL), 0, "NULL name");
  /* many segments: the deepest allowed name */
  char deep[SC_GLOB_MAX + 1];
  size_t k = 0;
  while (k + 2 <= SC_GLOB_MAX) { deep[k++] = 'a'; deep[k++] = '/'; }
  deep[k - 1] = '\0';
  CHECK_INT(sc_glob_match("**/a", deep), 1, "deep name matches '**/a'");
  CHECK_INT(sc_glob_match("a/**/b", deep), 0, "deep name does not match 'a/**/b'");
  return tap_done();
}
