/* sc_match.h - vulnerability findings: inventories against the OSV data.
 *
 * OS packages (deb, apk, rpm) match by source package (dpkg Source:, apk
 * origin) when known, else by name, with the source version when known, in
 * the inventory's ecosystem ("Debian:12", "Alpine:v3.19"; "Ubuntu:22.04"
 * also matches "Ubuntu:22.04:LTS").  Language packages match by ecosystem
 * and normalised name (sc_osv_normalize_name); Go versions lose their "v" /
 * "go" prefix.  Versions compare with sc_range / sc_version under the
 * ecosystem's scheme (SEMVER ranges under SEMVER).  fixed_version is the
 * lowest `fixed` above the installed version among the ranges that affect
 * it, "" when there is none.
 *
 * Findings are stored per (layer, OS of the image) in table layer_findings
 * (with the SC_FINDING_UNSURE fact of each):
 * a package's findings depend only on the package and the OS, so images
 * sharing a base layer share its stored set.  matched_images holds, per
 * image, the generation it was matched at, its OS key and the packages its
 * upper layers hide (the rules of sc_inventory_merge, applied by reference
 * with sc_inventory_mask); the view `findings` expands this to one row per
 * image finding.  sc_match_rematch_all recomputes every stored image in one
 * transaction (readers see the old findings or the new ones): it loads the
 * vulnerability data once, each layer once (freed when its last image is
 * done), matches each (layer, OS) once, memoises per (ecosystem, name,
 * version), and rewrites only the sets whose findings changed.
 *
 * Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_DB, SC_ERR_NOTFOUND (image not
 * stored), SC_ERR_UNSUPP (digest is an index), SC_ERR_LIMIT, SC_ERR_FORMAT
 * (stored data unreadable).  A store handle is used by one thread at a
 * time; a loaded sc_vulndb is immutable and may be shared by threads. */
#ifndef CUSTOMS_SC_MATCH_H
#define CUSTOMS_SC_MATCH_H
#include <stddef.h>
#include <stdint.h>

#include "sc_inventory.h"
#include "sc_policy.h" /* sc_finding */
#include "sc_store.h"

#define SC_MATCH_MAX_FINDINGS 1000000 /* per image */
#define SC_MATCH_MAX_NOTES 100         /* notes about unparsable versions, per list */
#define SC_FINDING_UNSURE 0x1u         /* sc_finding_list.flags: matched by caution (see unsure) */

struct sc_match_arena;

/* v[0..n) can be passed as sc_image_facts.findings / nfindings as is.
 * Sorted by severity (critical first, unknown last) then id.  Every string
 * is owned by the list (fixed_version is "" when there is no fix). */
typedef struct sc_finding_list {
  sc_finding *v;
  const char **layer;   /* per finding: layer digest that brought the package, "" unknown */
  const char **purl;    /* per finding: package URL, "" unknown */
  uint8_t *flags;       /* per finding: SC_FINDING_* bits */
  size_t n, cap;
  int64_t generation;   /* vulnerability data generation they were computed at */
  /* Findings matched by caution: a version (installed, or of the OSV range)
   * that the ecosystem's comparator cannot parse is counted as affected, not
   * as "not affected".  Such a finding has SC_FINDING_UNSURE in flags;
   * unsure counts them; notes says which (at most SC_MATCH_MAX_NOTES), e.g.
   * "Debian:12 foo 1.0~~bad: version not comparable (dpkg): counted as
   * affected by CVE-...".  The flag is stored with the finding (5th item of
   * a stored hit, schema 5), so a list read back from the store has all
   * three as well. */
  size_t unsure;
  sc_strlist notes;
  int borrow;           /* internal: strings not copied (sc_match_rematch_all) */
  struct sc_match_arena *arena;
} sc_finding_list;

void sc_finding_list_init(sc_finding_list *l);
void sc_finding_list_free(sc_finding_list *l);
/* fixable: a fixed version exists */
static inline int sc_finding_fixable(const sc_finding *f) {
  return f->fixed_version && f->fixed_version[0];
}
/* finding i of l was matched by caution (its version is not comparable) */
static inline int sc_finding_unsure(const sc_finding_list *l, size_t i) {
  return l && l->flags && i < l->n && (l->flags[i] & SC_FINDING_UNSURE);
}

typedef struct sc_vulndb sc_vulndb;

/* Loads every affected package of the store's vulnerability data. */
int sc_vulndb_load(sc_store *st, sc_vulndb **out);
void sc_vulndb_free(sc_vulndb *db);
/* Number of (vulnerability, affected package) entries loaded. */
size_t sc_vulndb_size(const sc_vulndb *db);

/* The data generation (0 before the first import). */
int sc_vulndb_generation(sc_store *st, int64_t *gen);

/* Findings for a merged, finished inventory (layer left "" unless
 * pkg_layer, one digest per package, is given).  Appends to out. */
int sc_match_inventory(const sc_vulndb *db, const sc_inventory *inv, const char *const *pkg_layer,
                       sc_finding_list *out);

/* The stored findings of an image when they are from the current
 * generation, else computes them from the stored inventory and stores them.
 * out must be initialised (and empty). */
int sc_match_image(sc_store *st, const char *digest, sc_finding_list *out);

/* Computes and stores the findings of one image now (after a scan); out
 * may be NULL. */
int sc_match_store_image(sc_store *st, const char *digest, sc_finding_list *out);

typedef struct sc_match_stats {
  size_t images, findings, layers_loaded, packages;
} sc_match_stats;

/* Recomputes the findings of every stored image, in one transaction. */
int sc_match_rematch_all(sc_store *st, sc_match_stats *stats);
#endif
