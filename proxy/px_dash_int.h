/* px_dash_int.h - the table of embedded dashboard files, generated at build
 * time by scripts/embed_assets.py into px_dash_assets.c (in the build
 * directory) and read only by px_dash.c.
 * Owner: static data.  Thread: any.  Errors: none. */
#ifndef CUSTOMS_PX_DASH_INT_H
#define CUSTOMS_PX_DASH_INT_H
#include "px_dash.h"

extern const px_dash_asset px_dash_assets[]; /* paths "/index.html", "/app.js", ... */
extern const size_t px_dash_nassets;
#endif
