/* test_dash.c - px_dash_find over the generated asset table: the paths the
 * admin listener asks for, the content types, and bytes identical to the
 * files in dash/ (SRCDIR).  Includes the module under test; links only the
 * generated table (px_dash_assets.o from libproxy.a). */
#include "../../proxy/px_dash.c"
#include "tap.h"

#include <stdlib.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define TEST_DASH_MAX_BYTES (1u << 20) /* a dashboard file read for comparison */

/* 1 when the asset's bytes are exactly those of SRCDIR/dash/name. */
static int same_as_file(const px_dash_asset *a, const char *name) {
  char path[512];
  snprintf(path, sizeof(path), "%s/dash/%s", SRCDIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  unsigned char *buf = malloc(TEST_DASH_MAX_BYTES);
  size_t n = buf ? fread(buf, 1, TEST_DASH_MAX_BYTES, f) : 0;
  fclose(f);
  int same = buf && a && n == a->len && !memcmp(buf, a->data, n) && a->data[a->len] == 0;
  free(buf);
  return same;
}

int main(void) {
  const px_dash_asset *root = px_dash_find("/"), *index = px_dash_find("/index.html");
  CHECK(root != NULL, "\"/\" is served");
  CHECK(root == index, "\"/\" is index.html");
  CHECK_STR(root ? root->content_type : NULL, "text/html; charset=utf-8", "index.html is HTML");
  CHECK(same_as_file(root, "index.html"), "index.html byte for byte");

  const px_dash_asset *js = px_dash_find("/app.js"), *css = px_dash_find("/app.css");
  CHECK_STR(js ? js->content_type : NULL, "text/javascript; charset=utf-8", "app.js is JavaScript");
  CHECK(same_as_file(js, "app.js"), "app.js byte for byte");
  CHECK_STR(css ? css->content_type : NULL, "text/css; charset=utf-8", "app.css is CSS");
  CHECK(same_as_file(css, "app.css"), "app.css byte for byte");

  CHECK(px_dash_find("/app.js?v=2") == js, "a query string is ignored");
  CHECK(px_dash_find("/?token=x") == root, "on \"/\" too");
  CHECK(px_dash_find("/app.js#x") == js, "and a fragment");
  CHECK(px_dash_find("app.js") == NULL, "a path without its slash is not found");
  CHECK(px_dash_find("/app.jsx") == NULL, "nor a longer name");
  CHECK(px_dash_find("/app.j") == NULL, "nor a prefix");
  CHECK(px_dash_find("/../app.js") == NULL, "nor a path with ..");
  CHECK(px_dash_find("/dash/app.js") == NULL, "nor the source path");
  CHECK(px_dash_find("//") == NULL, "nor \"//\"");
  CHECK(px_dash_find("") == NULL, "nor the empty path");
  CHECK(px_dash_find(NULL) == NULL, "NULL is not found");
  CHECK_INT(px_dash_nassets, 3, "three files are embedded");
  return tap_done();
}
