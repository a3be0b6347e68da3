/* px_dash.h - the dashboard's files, embedded in the binary (generated at
 * build time from dash/ by scripts/embed_assets.py into px_dash_assets.c):
 * a single-page app over the admin JSON API (px_admin.h).  Nothing is ever
 * loaded from another origin.
 * Owner: static data.  Thread: any.  Errors: none. */
#ifndef CUSTOMS_PX_DASH_H
#define CUSTOMS_PX_DASH_H
#include <stddef.h>

typedef struct px_dash_asset {
  const char *path;          /* "/", "/app.js", "/app.css", ... */
  const char *content_type;  /* "text/html; charset=utf-8", ... */
  const unsigned char *data;
  size_t len;
} px_dash_asset;

/* The asset served at path ("/" is index.html), or NULL. */
const px_dash_asset *px_dash_find(const char *path);
#endif
