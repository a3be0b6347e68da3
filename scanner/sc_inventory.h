/* sc_inventory.h - what a layer (or a merged image) contains.
 *
 * A layer scan fills one sc_inventory; an image's inventory is the merge of
 * its layers in order (sc_inventory_merge, whiteouts applied).  Strings are
 * owned by the inventory (copied on add) and freed by sc_inventory_free.
 *
 * Errors: functions returning int return 0 or SC_ERR_NOMEM. */
#ifndef CUSTOMS_SC_INVENTORY_H
#define CUSTOMS_SC_INVENTORY_H
#include <stddef.h>
#include <stdint.h>

#include "sc_err.h" /* the error space: SC_ERR_* */

typedef struct sc_package {
  char *type;           /* cataloger kind: "deb", "apk", "rpm", "python", "npm", "go", "java" */
  char *ecosystem;      /* OSV ecosystem ("PyPI", "npm", "Go", "Maven"); for deb/apk/rpm
                           left NULL by the cataloger and filled at merge from the OS */
  char *name;
  char *version;
  char *source_name;    /* dpkg Source:, apk origin, rpm sourcerpm name; NULL if none */
  char *source_version; /* dpkg Source: (version); NULL if none */
  char *path;           /* file the package was found in, without leading "/" */
  char *purl;           /* package URL, filled by sc_inventory_finish */
} sc_package;

typedef struct sc_secret {
  char *path;           /* without leading "/" */
  char *rule;           /* "private-key", "aws-access-key", "github-token", ... */
  int line;             /* 1-based, 0 when unknown */
} sc_secret;

typedef struct sc_osinfo {
  char *id;             /* os-release ID ("debian", "alpine", "ubuntu") */
  char *version_id;     /* os-release VERSION_ID ("12", "3.19.1", "22.04") */
  char *path;           /* file it came from */
} sc_osinfo;

typedef struct sc_strlist {
  char **v;
  size_t n, cap;
} sc_strlist;

typedef struct sc_inventory {
  sc_package *pkgs;
  size_t npkgs, pkgs_cap;
  sc_secret *secrets;
  size_t nsecrets, secrets_cap;
  sc_osinfo os;          /* all fields NULL when no os-release was seen */
  sc_strlist cataloged;  /* every path a cataloger examined (even with no result):
                            a later layer's file at the same path replaces it */
  sc_strlist whiteouts;  /* paths deleted by ".wh.NAME" entries */
  sc_strlist opaque;     /* directories made opaque by ".wh..wh..opq" */
  sc_strlist notes;      /* human-readable warnings ("rpm: BerkeleyDB not supported") */
} sc_inventory;

void sc_inventory_init(sc_inventory *inv);
void sc_inventory_free(sc_inventory *inv);

/* Adds a copy of *p (every non-NULL string is duplicated). */
int sc_inventory_add_package(sc_inventory *inv, const sc_package *p);
int sc_inventory_add_secret(sc_inventory *inv, const char *path, const char *rule, int line);
/* Sets the OS once; a later call replaces it. */
int sc_inventory_set_os(sc_inventory *inv, const char *id, const char *version_id, const char *path);
int sc_strlist_add(sc_strlist *l, const char *s);
int sc_strlist_has(const sc_strlist *l, const char *s);
void sc_strlist_free(sc_strlist *l);

/* Merges layer `upper` on top of `img` (the merge of the layers below):
 * packages/secrets whose path `upper` cataloged again, whited out, or under an
 * opaque directory are dropped from img, then upper's are appended; the OS is
 * replaced when upper has one. */
int sc_inventory_merge(sc_inventory *img, const sc_inventory *upper);

/* After merging: fills ecosystem of OS packages from img->os ("Debian:12",
 * "Ubuntu:22.04", "Alpine:v3.19", ...) and every package's purl. */
int sc_inventory_finish(sc_inventory *img);

/* OSV ecosystem name for an os-release ID/VERSION_ID; caller frees; NULL if unknown. */
char *sc_os_ecosystem(const char *id, const char *version_id);

/* Strips a leading "./" or "/" from a tar path; returns pointer into s. */
const char *sc_path_clean(const char *s);
/* Merge by reference (sc_match): what sc_inventory_merge would drop from the
 * layers below `upper`, without copying anything.  *out is NULL when upper
 * hides nothing (cataloged, whiteouts and opaque all empty); hides() of a
 * NULL mask is 0.  SC_ERR_NOMEM. */
typedef struct sc_inventory_mask sc_inventory_mask;
int sc_inventory_mask_new(const sc_inventory *upper, sc_inventory_mask **out);
int sc_inventory_mask_hides(const sc_inventory_mask *m, const char *path);
void sc_inventory_mask_free(sc_inventory_mask *m);
/* Whether merging a layer with OS `upper` replaces an OS read from
 * lower_path (a fallback never overrides an os-release). */
int sc_inventory_os_replaces(const char *lower_path, const sc_osinfo *upper);
/* The purl sc_inventory_finish gives p under os (p->purl, or "", when p has
 * no type or name); caller frees; NULL when out of memory. */
char *sc_package_purl(const sc_package *p, const sc_osinfo *os);
#endif
