/* fuzz_cat_ruby.c - libFuzzer target: the RubyGems cataloger (body in
 * fuzz_cat.h).  The cataloger reads two formats, so the path handed to it
 * follows the input: a Gemfile.lock when the input starts like one (a GEM,
 * GIT or PATH section, as Bundler writes it), else an installed gemspec
 * whose file name also feeds the name/version fallback.  The seeds in
 * corpus/cat_ruby are real files of both kinds.  Owner: ruby. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const char *ruby_path(const uint8_t *data, size_t size) {
  static const char *const heads[] = {"GEM\n", "GIT\n", "PATH\n", "PLUGIN SOURCE\n"};
  for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
    size_t n = strlen(heads[i]);
    if (size >= n && memcmp(data, heads[i], n) == 0) return "srv/app/Gemfile.lock";
  }
  return "usr/lib/ruby/gems/3.1.0/specifications/default/nokogiri-1.13.0-x86_64-linux.gemspec";
}

#define FUZZ_CAT sc_cat_ruby
#define FUZZ_CAT_PATH ruby_path(data, size) /* data, size: LLVMFuzzerTestOneInput's arguments */
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
