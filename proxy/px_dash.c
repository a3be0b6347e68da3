/* px_dash.c - finds an embedded dashboard file by request path: "/" (and
 * "/index.html") is the page, "/app.js" and "/app.css" its script and
 * styles (the table is generated from dash/ by scripts/embed_assets.py).
 * A query string or fragment on the path is ignored; anything else,
 * including "..", is simply not in the table.
 * Owner: static data.  Thread: any.  Errors: NULL when there is no such file. */
#include "px_dash_int.h"

#include <string.h>

#define PX_DASH_INDEX "/index.html"

const px_dash_asset *px_dash_find(const char *path) {
  if (!path) return NULL;
  size_t n = strcspn(path, "?#");
  if (n == 1 && path[0] == '/') path = PX_DASH_INDEX, n = strlen(PX_DASH_INDEX);
  for (size_t i = 0; i < px_dash_nassets; i++) {
    const char *p = px_dash_assets[i].path;
    if (strlen(p) == n && !memcmp(p, path, n)) return &px_dash_assets[i];
  }
  return NULL;
}
