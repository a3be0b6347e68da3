/* sc_match.h - vulnerability findings: inventories against the OSV data.
 *
 * Three modules: sc_vulndata (the vulnerability data loaded into memory),
 * sc_match (this one: matching, and keeping an image's findings current)
 * and sc_findings (storing them; the only one that knows the store's
 * format).  sc_findlist is the list they pass around.  Nothing here
 * touches SQL: the store is reached through sc_store.h, sc_vulnstore.h and
 * sc_findings.h only.
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
 * Findings are stored per (layer, OS of the image) (sc_findings.h, with the
 * SC_FINDING_UNSURE fact of each): a package's findings depend only on the
 * package and the OS, so images sharing a base layer share its stored set.
 * Per image the store keeps the generation it was matched at, its OS key
 * and the packages its upper layers hide (the rules of sc_inventory_merge,
 * applied by reference with sc_inventory_mask).  sc_match_rematch_all
 * recomputes every stored image in one write transaction (readers see the
 * old findings or the new ones): it loads each layer once (freed when its
 * last image is done), matches each (layer, OS) once, memoises per
 * (ecosystem, name, version), and rewrites only the sets whose findings
 * changed.
 *
 * The vulnerability data is not loaded whole: sc_match_store_image and
 * sc_match_rematch_all start from an empty sc_vulndb and add, one batch per
 * layer, the (ecosystem, name) pairs of its packages (sc_vulndb_add, through
 * the store's index), so a verdict costs what the image has whatever the
 * size of the data; each pair is read once per run.
 *
 * Errors: 0, SC_ERR_ARG, SC_ERR_NOMEM, SC_ERR_DB, SC_ERR_NOTFOUND (image not
 * stored), SC_ERR_UNSUPP (digest is an index), SC_ERR_LIMIT, SC_ERR_FORMAT
 * (stored data unreadable).  A store handle is used by one thread at a
 * time; a loaded sc_vulndb is immutable and may be shared by threads. */
#ifndef CUSTOMS_SC_MATCH_H
#define CUSTOMS_SC_MATCH_H
#include <stddef.h>
#include <stdint.h>

#include "sc_findlist.h"
#include "sc_inventory.h"
#include "sc_store.h"
#include "sc_vulndata.h"

/* Findings for a merged, finished inventory (layer left "" unless
 * pkg_layer, one digest per package, is given).  Appends to out. */
int sc_match_inventory(const sc_vulndb *db, const sc_inventory *inv, const char *const *pkg_layer,
                       sc_finding_list *out);

/* The stored findings of an image when they are from the current
 * generation, else computes them from the stored inventory and stores them.
 * out must be initialised (and empty). */
int sc_match_image(sc_store *st, const char *digest, sc_finding_list *out);

/* The findings of an ad-hoc stack of stored layers (digests bottom first,
 * merged as an image's are: upper layers hide, the OS is the topmost), such
 * as an upstream base known only by its chain whose layers were scanned
 * one by one.  Nothing is stored or cached.  out must be initialised;
 * findings name their layer.  SC_ERR_NOTFOUND when a layer is not stored,
 * SC_ERR_LIMIT past 4,096 layers. */
int sc_match_layers(sc_store *st, const char *const *layer_digests, size_t n, sc_finding_list *out);

/* Computes and stores the findings of one image now (after a scan); out
 * may be NULL. */
int sc_match_store_image(sc_store *st, const char *digest, sc_finding_list *out);

typedef struct sc_match_stats {
  size_t images, findings, layers_loaded, packages;
} sc_match_stats;

/* Recomputes the findings of every stored image, in one transaction. */
int sc_match_rematch_all(sc_store *st, sc_match_stats *stats);
#endif
