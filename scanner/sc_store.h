/* sc_store.h - what customs learned: layers, images, tags (this header),
 * vulnerability records (sc_vulnstore.h), findings (sc_findings.h), the
 * gate's decisions (sc_decisions.h), lineage (sc_store_lineage.h) and
 * events with their webhook deliveries (sc_events.h), OCI referrers
 * (sc_store_referrers.h), customs' own annotation pushes (sc_annotations.h); the admin API reads through
 * sc_store_admin.h.
 *
 * PostgreSQL today (sc_store_open with a postgres:// URL; schema in
 * sc_store_schema_pg.c, same version numbers as SQLite).  Works, and is
 * asserted on both backends by tests/unit/store_conformance.c
 * (tests/integration/test_store_pg.sh): opening; sc_store_put_manifest*
 * (images, indexes, layer lists, repo_images, tags, tag history, lineage
 * chains and index children); sc_store_put_layer and the layer readers;
 * image reads, sc_store_index_child (platform compared without case) and
 * sc_store_image_inventory; OSV import (sc_vulnstore.h, borrowed
 * severities, the vendor ratings of sc_store_severity.h and
 * sc_sev_rate_findings); NVD feeds' CVE scores (sc_store_severity.h: put,
 * unchanged, withdrawn, read); matching and stored findings (sc_findings.h,
 * sc_match_image, sc_match_rematch_all) and the `findings` view; the
 * decisions log (sc_decisions.h); sc_judge_image (its VEX documents read);
 * referrers (sc_store_referrers.h: put, replace, list all or by artifact
 * type, delete, forget); VEX documents (sc_store_vex.h: put, replace, read,
 * forget, generation); events and webhook deliveries (sc_events.h: record,
 * get, due, next due, attempts, list, recent, count, fail unconfigured,
 * prune); annotations (sc_annotations.h: enqueue, re-enqueue of a failed
 * row, due, attempts, list, recent, count, each pushed, replace); lineage
 * (sc_store_lineage.h: chains, images with a top or above a chain,
 * annotated images, index children and parents, local and watched tag
 * history, current tags, watched tags with sc_store_watch_set/each; and
 * through sc_lineage.h: base_of, chain, stack, fixes between two stored
 * images, stale seconds, downstream, image_for); and
 * the admin API's reads (sc_store_admin.h: ping, counts, repository and
 * image searches, decisions).  Portable statements serve both backends;
 * where no portable form exists (temp tables, SAVEPOINT outside a
 * transaction, bare columns beside max(), meta arithmetic, rowid order,
 * LIMIT -1, instr) the module picks a PostgreSQL text by sc_db_dialect and
 * SQLite's text is unchanged.  A parameter tested only by `?1 IS NULL` is
 * written CAST(?1 AS TEXT): PostgreSQL cannot infer its type otherwise.
 * Converted but not driven by store_conformance on PostgreSQL:
 * sc_lineage_describe and sc_lineage_fixes by chains (a watched base).
 * SQLite only: the file settings (WAL, PRAGMAs, bulk page cache), which
 * PostgreSQL skips.  The admin image list breaks ties of push time by
 * insertion order: rowid on SQLite, ctid on PostgreSQL (repo_images rows
 * are only inserted; a deletion's reused space can reorder ties).
 * Ordering: SQLite compares text by bytes; a PostgreSQL database should be
 * created with the C collation (pglib.sh does) for the same ORDER BY on
 * text (the texts chosen per dialect say COLLATE "C" where order matters).
 *
 * Layers are stored once by digest with their inventory (packages, secrets,
 * OS, and the cataloged/whiteout/opaque paths needed to merge them again);
 * images are ordered lists of layer digests plus config facts; tags and
 * repositories point at image digests.  An image's inventory is recomputed
 * from its layers (sc_store_image_inventory), never stored.
 *
 * The boundary.  These six headers are the whole interface of the store:
 * functions named for what they do, taking and returning C values
 * (strings, integers, sc_inventory, sc_manifest, callbacks per row).  No
 * caller sees a database handle, a statement or a table name, and no SQL
 * exists outside the store modules (sc_store.c, sc_store_layers.c,
 * sc_store_images.c, sc_store_lineage.c, sc_vulnstore.c, sc_findings.c,
 * sc_decisions.c, sc_events.c, sc_store_admin.c, sc_annotations.c,
 * sc_store_referrers.c): the proxy, the commands, the matcher and
 * the OSV importer only call these functions.  A second backend (a
 * PostgreSQL one, for replicas) implements the same six headers and
 * nothing else changes.  What the interface promises and any backend must
 * keep: a handle is one connection used by one thread at a time, several
 * handles (threads, processes) may share one database, a write
 * transaction (sc_store_write_begin/end) is all-or-nothing and a reader
 * sees it whole or not at all, callbacks of iterations that say so may use
 * the same handle, and the JSON value formats documented in
 * sc_vulnstore.h are part of the interface.
 *
 * What is SQLite-specific (sc_store_int.h and those .c files only): the
 * file and its WAL journal, the migrations (table schema_version, one
 * IMMEDIATE transaction per step, so that concurrent openers do not apply
 * a step twice), the busy timeout, PRAGMAs (foreign keys, synchronous,
 * the larger page cache of a bulk write), the statement cache, the
 * `findings` view and the JSON encoding of stored finding sets.
 *
 * Thread: a sc_store handle (one connection) is used by one thread at a
 * time: open one per worker thread.
 * Errors: every int function returns 0 or SC_ERR_DB (database failure,
 * message in sc_store_errmsg), SC_ERR_NOMEM, SC_ERR_ARG (NULL or malformed
 * argument), SC_ERR_NOTFOUND where stated, SC_ERR_FORMAT (stored config
 * unparseable), SC_ERR_LIMIT (more rows than a stated cap); an iteration
 * returns the first non-zero value of its callback. */
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

#define SC_STORE_MAX_ROWS 1000000   /* rows loaded for one layer or image list */
#define SC_STORE_BLOB_HOLDERS_MAX 1000 /* images named by sc_store_images_holding_blob */

typedef struct sc_store sc_store;

/* Opens (creating) the database at path (":memory:" works) and migrates it
 * to the latest schema.  On error *out is NULL. */
int sc_store_open(const char *path, sc_store **out);
void sc_store_close(sc_store *st);
/* Text of this handle's last database error (valid until the next call);
 * after a write transaction failed, the failure's text. */
const char *sc_store_errmsg(sc_store *st);
/* Schema version after migrations. */
int sc_store_schema_version(sc_store *st);
/* Nonzero on PostgreSQL: a database several replicas may share (SQLite is
 * one host's file). */
int sc_store_is_postgres(const sc_store *st);

/* One write transaction: every store write until sc_store_write_end is
 * committed together or not at all (the put_layer / put_manifest calls
 * below run their own and must not be called inside one).  Begin waits
 * for other writers (busy timeout) and then holds the write lock.  bulk: a
 * large transaction (a re-match of every image): the backend may spend
 * more memory on it.  End commits when commit is set (SC_ERR_DB when that
 * fails: everything is rolled back), else rolls back (returns 0). */
int sc_store_write_begin(sc_store *st, int bulk);
int sc_store_write_end(sc_store *st, int commit);

/* Stores (replacing) one scanned layer and its inventory, in one
 * transaction.  Status: res->status 0 -> "ok", SC_ERR_IO (stream cut short)
 * -> "partial", anything else -> "failed".  res may be NULL (stored "ok"). */
int sc_store_put_layer(sc_store *st, const char *digest, const sc_layer_result *res,
                       const sc_inventory *inv);
/* Copies "ok" | "failed" | "partial" into status.  SC_ERR_NOTFOUND. */
int sc_store_layer_status(sc_store *st, const char *digest, char status[16]);
/* A layer stored "ok" whose uncompressed digest (diff_id, recorded when it
 * was scanned) is diff_id: its (compressed) digest into digest.  Any one
 * when several are (the same content compressed differently).
 * SC_ERR_NOTFOUND. */
int sc_store_layer_by_diff_id(sc_store *st, const char *diff_id, char digest[72]);
/* Adds the stored inventory of one layer to inv (initialised by the caller):
 * packages, secrets, OS, cataloged, whiteouts, opaque, notes.  SC_ERR_NOTFOUND. */
int sc_store_load_layer(sc_store *st, const char *digest, sc_inventory *inv);

/* Records an image manifest (or index) under repo, and points tag at it
 * when tag is not NULL.  config_json (NULL allowed) is the config blob: its
 * facts are extracted with sc_config_parse; an unparseable config is stored
 * without facts.  Layer rows need not exist yet. */
int sc_store_put_manifest(sc_store *st, const char *repo, const char *tag, const char *digest,
                          const sc_manifest *m, const char *config_json, size_t config_len);
/* The same, for lineage: it also records the image's layer chain (from the
 * config's diff_ids and the manifest's base annotations) or the index's
 * children (sc_store_lineage.h), and a move of tag in the tag history.
 * prev (72 bytes, may be NULL) gets the digest tag left when this call
 * moved it, "" otherwise. */
int sc_store_put_manifest_ex(sc_store *st, const char *repo, const char *tag, const char *digest,
                             const sc_manifest *m, const char *config_json, size_t config_len, char *prev);
/* For an image (or index) already stored: repo holds it and tag points at
 * it, a move recorded in the tag history as sc_store_put_manifest_ex does
 * (prev likewise), without its manifest or config (the background sync
 * finding a known digest under another tag or repository).
 * SC_ERR_NOTFOUND when digest is not stored. */
int sc_store_put_tag(sc_store *st, const char *repo, const char *tag, const char *digest, char *prev);
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

/* ---- reads for the matcher ---- */

/* *kind = SC_MANIFEST_IMAGE or SC_MANIFEST_INDEX.  SC_ERR_NOTFOUND. */
int sc_store_image_kind(sc_store *st, const char *digest, int *kind);
/* Appends the image's layer digests, bottom first, repeats kept ("" for an
 * unreadable one); SC_ERR_LIMIT past max layers.  An unknown image has none. */
int sc_store_image_layers(sc_store *st, const char *digest, size_t max, sc_strlist *out);
/* What matching needs of one layer, added to inv: its OS, packages and the
 * cataloged / whiteout / opaque paths (not secrets, not notes: see
 * sc_store_load_layer).  SC_ERR_NOTFOUND when the layer is not stored. */
int sc_store_load_layer_contents(sc_store *st, const char *digest, sc_inventory *inv);
/* cb for every stored image manifest (not index).  cb must not use st. */
int sc_store_each_image(sc_store *st, int (*cb)(void *arg, const char *digest), void *arg);
/* cb for every layer that stored image manifests use, with how many of them
 * use it (an image using it twice counts twice).  cb must not use st. */
int sc_store_each_layer_use(sc_store *st, int (*cb)(void *arg, const char *layer, int64_t nimages), void *arg);

/* ---- the pull gate ---- */

/* cb(arg, repository, image) for each image manifest that holds blob (as
 * a layer or as its config), pushed to repo (NULL: to any repository), at
 * most SC_STORE_BLOB_HOLDERS_MAX of them.  cb may use st. */
int sc_store_images_holding_blob(sc_store *st, const char *repo, const char *blob,
                                 int (*cb)(void *arg, const char *repo, const char *image), void *arg);
#endif
