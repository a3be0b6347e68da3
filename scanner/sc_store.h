/* sc_store.h - what customs learned, in SQLite.
 *
 * Layers are stored once by digest with their inventory (packages, secrets,
 * OS, and the cataloged/whiteout/opaque paths needed to merge them again);
 * images are ordered lists of layer digests plus config facts; tags and
 * repositories point at image digests.  An image's inventory is recomputed
 * from its layers (sc_store_image_inventory), never stored.
 *
 * The database runs in WAL mode with foreign keys and a busy timeout.  Its
 * schema is versioned (table schema_version) and migrated on open, in one
 * IMMEDIATE transaction per step, so several processes or threads may open
 * it at once.  A sc_store handle (one connection) must be used by one
 * thread at a time: open one per worker thread.
 *
 * Errors: every int function returns 0 or SC_ERR_DB (SQLite failure, message
 * in sc_store_errmsg), SC_ERR_NOMEM, SC_ERR_ARG (NULL or malformed argument),
 * SC_ERR_NOTFOUND where stated, SC_ERR_FORMAT (stored config unparseable). */
#ifndef CUSTOMS_SC_STORE_H
#define CUSTOMS_SC_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "sc_image.h"
#include "sc_inventory.h"
#include "sc_layer.h"

#ifndef SC_ERR_NOTFOUND
#define SC_ERR_NOTFOUND -9 /* no such layer/image/tag (not in sc_inventory.h yet) */
#endif

#define SC_STORE_MAX_ROWS 1000000 /* rows loaded for one layer or image list */

typedef struct sc_store sc_store;
struct sqlite3;

/* Opens (creating) the database at path (":memory:" works) and migrates it
 * to the latest schema.  On error *out is NULL. */
int sc_store_open(const char *path, sc_store **out);
void sc_store_close(sc_store *st);
/* Last SQLite error text of this handle (valid until the next call). */
const char *sc_store_errmsg(sc_store *st);
/* The connection, for modules that add their own tables (same thread rules). */
struct sqlite3 *sc_store_db(sc_store *st);
/* Schema version after migrations. */
int sc_store_schema_version(sc_store *st);

/* Stores (replacing) one scanned layer and its inventory, in one
 * transaction.  Status: res->status 0 -> "ok", SC_ERR_IO (stream cut short)
 * -> "partial", anything else -> "failed".  res may be NULL (stored "ok"). */
int sc_store_put_layer(sc_store *st, const char *digest, const sc_layer_result *res,
                       const sc_inventory *inv);
/* Copies "ok" | "failed" | "partial" into status.  SC_ERR_NOTFOUND. */
int sc_store_layer_status(sc_store *st, const char *digest, char status[16]);
/* Adds the stored inventory of one layer to inv (initialised by the caller):
 * packages, secrets, OS, cataloged, whiteouts, opaque, notes.  SC_ERR_NOTFOUND. */
int sc_store_load_layer(sc_store *st, const char *digest, sc_inventory *inv);

/* Records an image manifest (or index) under repo, and points tag at it
 * when tag is not NULL.  config_json (NULL allowed) is the config blob: its
 * facts are extracted with sc_config_parse; an unparseable config is stored
 * without facts.  Layer rows need not exist yet. */
int sc_store_put_manifest(sc_store *st, const char *repo, const char *tag, const char *digest,
                          const sc_manifest *m, const char *config_json, size_t config_len);
/* ref is a tag or a digest ("sha256:..."); copies the image digest.
 * A digest resolves when the image is stored (for any repository).
 * SC_ERR_NOTFOUND. */
int sc_store_resolve(sc_store *st, const char *repo, const char *ref, char digest[72]);

typedef struct sc_store_layer_row {
  char digest[72];
  char status[16];      /* "ok" | "failed" | "partial" | "missing" (not stored) */
  char *error;          /* NULL when none */
} sc_store_layer_row;

typedef struct sc_store_image {
  char digest[72];
  int kind;             /* SC_MANIFEST_IMAGE or SC_MANIFEST_INDEX */
  char *media_type, *config_digest, *os, *architecture, *user;
  char *config_json;    /* NULL when the config was not stored */
  size_t config_len;
  int64_t created;      /* -1 unknown */
  int runs_as_root;     /* -1 unknown */
  sc_store_layer_row *layers; /* IMAGE: bottom first */
  size_t nlayers;
  char **children;      /* INDEX: child digests */
  char **platforms;     /* INDEX: "os/arch[/variant]" per child */
  size_t nchildren;
} sc_store_image;

/* Loads an image's row, its layers (with their stored status) or its
 * children.  Free with sc_store_image_free (also after an error).
 * SC_ERR_NOTFOUND. */
int sc_store_get_image(sc_store *st, const char *digest, sc_store_image *out);
void sc_store_image_free(sc_store_image *img);

/* For an index: the child for os/arch (NULL = any), else the first child.
 * SC_ERR_NOTFOUND when digest is not an index or has no children. */
int sc_store_index_child(sc_store *st, const char *digest, const char *os, const char *arch,
                         char child[72]);

/* out (initialised by the caller) = merge of the image's stored layers in
 * order (sc_inventory_merge), then sc_inventory_finish.  Layers not stored
 * are skipped (see sc_store_missing_layers).  SC_ERR_NOTFOUND when the
 * image is unknown, SC_ERR_UNSUPP for an index. */
int sc_store_image_inventory(sc_store *st, const char *digest, sc_inventory *out);
/* Adds to out the layers the image references that are not stored "ok". */
int sc_store_missing_layers(sc_store *st, const char *digest, sc_strlist *out);
#endif
