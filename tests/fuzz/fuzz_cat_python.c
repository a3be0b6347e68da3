/* fuzz_cat_python.c - libFuzzer target: the python cataloger on package metadata (body in fuzz_cat.h).
 * The file is offered as an unzipped egg's EGG-INFO/PKG-INFO, a path whose match (unlike the
 * interpreter's own Python-X.Y.egg-info) says yes; dist-info METADATA is parsed by the same code.
 * Owner: fuzz; path: scanner (python cataloger). */
#define FUZZ_CAT sc_cat_python
#define FUZZ_CAT_PATH "usr/local/lib/python3.11/site-packages/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO"
#define FUZZ_CAT_MODE (S_IFREG | 0644)
#include "fuzz_cat.h"
