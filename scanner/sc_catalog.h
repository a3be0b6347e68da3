/* sc_catalog.h - the cataloger interface.
 *
 * The layer walker (sc_layer.c) offers every regular file of a layer to each
 * cataloger's `match`; catalogers that want it get a bounded reader over the
 * entry's bytes.  Catalogers never see the whole layer and never hold more
 * than their own cap of one entry: memory stays bounded whatever the layer. */
#ifndef CUSTOMS_SC_CATALOG_H
#define CUSTOMS_SC_CATALOG_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sc_budget.h"
#include "sc_inventory.h"

typedef struct sc_limits {
  uint64_t max_entries;        /* tar entries per layer */
  uint64_t max_total_bytes;    /* uncompressed bytes per layer */
  uint64_t max_ratio;          /* uncompressed / compressed (bomb guard) */
  size_t max_file_read;        /* bytes a cataloger may buffer from one file */
  size_t max_secret_file;      /* text files bigger than this are not searched for secrets */
  size_t max_name;             /* longest accepted entry path */
  int max_nesting;             /* nested archives (jar in war in ear) */
  /* budgets (sc_budget.h): per cataloger per layer, and nested archives per layer */
  uint64_t cat_cpu_ms;         /* CPU time of one cataloger on one layer; 0 = none */
  uint64_t cat_mem_bytes;      /* memory one cataloger may hold at once; 0 = none */
  uint64_t nested_max_bytes;   /* bytes inflated out of nested archives, all catalogers */
  /* The budget of the cataloger being called: set by the layer walker on
   * its copy of the limits for each call, NULL otherwise (every sc_budget_*
   * function accepts NULL).  A cataloger with loops of its own (SQLite,
   * nested archives) checks it there; reads check it for them. */
  sc_budget *budget;
  /* Where catalogers put the temp files they need (the rpm cataloger's copy
   * of rpmdb.sqlite, a big file shared by several catalogers): the daemon's
   * scan.spool_dir or `customs scan --spool-dir`, never TMPDIR.  Borrowed.
   * NULL or "" fails the layers that need one, with a reason. */
  const char *spool_dir;
} sc_limits;

void sc_limits_default(sc_limits *lim);

/* Pulls up to len bytes of the current entry into buf.
 * Returns bytes read, 0 at end of entry, or a negative SC_ERR_*.  The
 * layer walker's readers check the cataloger's budget on every read, so a
 * cataloger over budget sees SC_ERR_LIMIT and stops. */
typedef struct sc_reader {
  ssize_t (*read)(void *ctx, void *buf, size_t len);
  void *ctx;
} sc_reader;

static inline ssize_t sc_read(sc_reader *r, void *buf, size_t len) {
  return r->read(r->ctx, buf, len);
}

/* A reader over n bytes in memory (p borrowed; off is the next byte handed
 * out): `sc_memrd m = {buf, len, 0}; sc_reader r = {sc_mem_read, &m};`.
 * sc_mem_read also serves as an sc_pull_fn (sc_layer.h). */
typedef struct sc_memrd {
  const void *p;
  size_t n, off;
} sc_memrd;
ssize_t sc_mem_read(void *ctx, void *buf, size_t len);

/* Reads the whole entry into a malloc'd NUL-terminated buffer of at most cap
 * bytes.  Returns 0, SC_ERR_LIMIT when the entry is longer than cap (nothing
 * returned), SC_ERR_NOMEM or the reader's error. */
int sc_read_all(sc_reader *r, size_t cap, char **out, size_t *outlen);
/* Same, also charging the buffer to budget's memory (NULL: none). */
int sc_read_all_b(sc_reader *r, size_t cap, sc_budget *budget, char **out, size_t *outlen);

/* Text helpers for catalogers reading a buffer from sc_read_all in place.
 * sc_next_line: the next line of [*p, end) NUL-terminated (a CRLF ending
 * dropped), advancing *p; NULL at the end.  sc_trim: leading blanks and
 * trailing white space removed. */
char *sc_next_line(char **p, char *end);
char *sc_trim(char *s);

typedef struct sc_cataloger {
  const char *name;
  /* path is cleaned (no leading "/" or "./"); size is the entry size; mode
   * the file mode.  Returns nonzero when this cataloger wants the bytes. */
  int (*match)(const char *path, int64_t size, mode_t mode);
  /* Reads what it needs from r and adds to inv.  Returns 0 or SC_ERR_*;
   * an error is recorded as a note and the layer goes on, except when
   * lim->budget was spent or refused: then the layer fails. */
  int (*scan)(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim);
} sc_cataloger;

/* The built-in catalogers, NULL-terminated, in the order they run. */
extern const sc_cataloger *const sc_catalogers[];

/* Individual catalogers (each in its own sc_cat_*.c). */
extern const sc_cataloger sc_cat_os;       /* os-release, alpine-release, debian_version */
extern const sc_cataloger sc_cat_dpkg;     /* var/lib/dpkg/status, status.d/ */
extern const sc_cataloger sc_cat_apk;      /* lib/apk/db/installed */
extern const sc_cataloger sc_cat_rpm;      /* rpmdb.sqlite, Packages (BerkeleyDB), Packages.db (NDB) */
extern const sc_cataloger sc_cat_python;   /* *.dist-info/METADATA, *.egg-info */
extern const sc_cataloger sc_cat_npm;      /* package.json files inside node_modules */
extern const sc_cataloger sc_cat_go;       /* Go binaries' build info */
extern const sc_cataloger sc_cat_java;     /* jar/war/ear */
extern const sc_cataloger sc_cat_ruby;     /* installed gems' *.gemspec, Gemfile.lock */
extern const sc_cataloger sc_cat_dotnet;   /* *.deps.json of .NET applications (NuGet) */
extern const sc_cataloger sc_cat_php;      /* vendor/composer/installed.json (Packagist) */
extern const sc_cataloger sc_cat_rust;     /* Cargo.lock, cargo-auditable .dep-v0 (crates.io) */
extern const sc_cataloger sc_cat_secrets;  /* keys and tokens in text files */
#endif
