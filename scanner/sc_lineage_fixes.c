/* sc_lineage_fixes.c - what moving from one base to another fixes: the
 * old base's findings the new one no longer has.  Both bases stored and
 * scanned: their images are matched; otherwise (a watched base) their
 * chains' layers, found by diff_id, are matched as stacks
 * (sc_lineage_stack.c, sc_match_layers).
 * Owner: scanner.  Thread: the store handle's.  Errors: as sc_store.h. */
#include "sc_lineage.h"
#include "sc_lineage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_match.h"

/* ---- what a newer base fixes ---- */

/* Whether every layer of image is scanned and stored. */
static int fully_scanned(sc_store *st, const char *image, int *yes) {
  sc_strlist missing;
  memset(&missing, 0, sizeof(missing));
  int kind, rv = sc_store_image_kind(st, image, &kind);
  *yes = 0;
  if (rv == SC_ERR_NOTFOUND) return 0;
  if (!rv) rv = sc_store_missing_layers(st, image, &missing);
  if (!rv) *yes = missing.n == 0;
  sc_strlist_free(&missing);
  return rv;
}

/* out += the findings of a (the old base) that b (the new) no longer has:
 * same vulnerability and package; out sorted. */
static int subtract(const sc_finding_list *a, const sc_finding_list *b, sc_finding_list *out) {
  sc_lin_set have;
  char key[1024];
  int rv = 0;
  memset(&have, 0, sizeof(have));
  for (size_t i = 0; !rv && i < b->n; i++)
    if (sc_strmap_key(key, sizeof(key), b->v[i].id, b->v[i].package, NULL) && sc_lin_set_add(&have, key) < 0)
      rv = SC_ERR_NOMEM;
  for (size_t i = 0; !rv && i < a->n; i++) {
    if (sc_strmap_key(key, sizeof(key), a->v[i].id, a->v[i].package, NULL) && sc_lin_set_has(&have, key)) continue;
    rv = sc_finding_list_add(out, &a->v[i], a->layer ? a->layer[i] : NULL, a->purl ? a->purl[i] : NULL,
                             sc_finding_unsure(a, i));
  }
  if (!rv) rv = sc_finding_list_sort(out);
  sc_lin_set_free(&have);
  return rv;
}

/* Both stored images, every layer scanned: *known set, a and b matched. */
static int match_stored(sc_store *st, const char *old_digest, const char *new_digest, sc_finding_list *a,
                        sc_finding_list *b, int *known) {
  char oldi[72], newi[72];
  sc_chain c;
  int ok_old = 0, ok_new = 0, rv;
  if ((rv = sc_lineage_image_for(st, old_digest, NULL, oldi)) || !oldi[0]) return rv;
  memset(&c, 0, sizeof(c));
  if (sc_store_get_chain(st, oldi, &c) != 0) c.platform[0] = '\0';
  rv = sc_lineage_image_for(st, new_digest, c.platform[0] ? c.platform : NULL, newi);
  sc_chain_free(&c);
  if (rv || !newi[0]) return rv;
  if ((rv = fully_scanned(st, oldi, &ok_old)) || (rv = fully_scanned(st, newi, &ok_new))) return rv;
  if (!ok_old || !ok_new) return 0;
  if (!(rv = sc_match_image(st, oldi, a)) && !(rv = sc_match_image(st, newi, b))) *known = 1;
  return rv;
}

/* The findings of the layers stored for image's chain; *known 0 when one
 * is missing. */
static int match_stack(sc_store *st, const char *image, sc_finding_list *out, int *known) {
  sc_strlist layers;
  memset(&layers, 0, sizeof(layers));
  int rv = sc_lineage_stack(st, image, &layers, known);
  if (!rv && *known) {
    rv = sc_match_layers(st, (const char *const *)layers.v, layers.n, out);
    if (rv == SC_ERR_NOTFOUND) *known = 0, rv = 0; /* a layer went away meanwhile */
  }
  sc_strlist_free(&layers);
  return rv;
}

/* By chains: the first image of old whose stack is known, and new's image
 * for its platform. */
typedef struct by_chain {
  sc_store *st;
  const char *new_digest;
  sc_finding_list *a, *b;
  int known;
} by_chain;

static int try_old(void *arg, const char *image, const char *platform) {
  by_chain *bc = arg;
  char newi[72];
  int known = 0, rv;
  if (bc->known) return 0;
  sc_finding_list_free(bc->a);
  sc_finding_list_free(bc->b);
  sc_finding_list_init(bc->a);
  sc_finding_list_init(bc->b);
  if ((rv = match_stack(bc->st, image, bc->a, &known)) || !known) return rv;
  if ((rv = sc_lineage_image_for(bc->st, bc->new_digest, platform, newi)) || !newi[0]) return rv;
  if (!(rv = match_stack(bc->st, newi, bc->b, &known))) bc->known = known;
  return rv;
}

int sc_lineage_fixes(sc_store *st, const char *old_digest, const char *new_digest, sc_finding_list *out,
                     int *known) {
  if (!st || !old_digest || !new_digest || !out || !known) return SC_ERR_ARG;
  sc_finding_list a, b;
  sc_finding_list_init(&a);
  sc_finding_list_init(&b);
  *known = 0;
  int rv = match_stored(st, old_digest, new_digest, &a, &b, known);
  if (!rv && !*known) {
    by_chain bc = {st, new_digest, &a, &b, 0};
    rv = sc_lineage_images(st, old_digest, try_old, &bc);
    *known = bc.known;
  }
  if (!rv && *known) rv = subtract(&a, &b, out);
  if (rv) *known = 0;
  sc_finding_list_free(&a);
  sc_finding_list_free(&b);
  return rv;
}

