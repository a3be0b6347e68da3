/* sc_findings.h - an image's vulnerability findings in the shape the policy
 * evaluator takes (sc_finding), owned by one list.
 *
 * Errors: 0, SC_ERR_DB, SC_ERR_NOMEM. */
#ifndef CUSTOMS_SC_FINDINGS_H
#define CUSTOMS_SC_FINDINGS_H
#include <stddef.h>
#include <stdint.h>
#include "sc_inventory.h"
#include "sc_policy.h"
#include "sc_store.h"

typedef struct sc_findings {
  sc_finding *v;
  size_t n;
  void *priv; /* the storage behind the strings */
} sc_findings;

void sc_findings_init(sc_findings *f);
void sc_findings_free(sc_findings *f);
/* The findings of a stored image (inv is its merged inventory). */
int sc_findings_for_image(sc_store *st, const char *digest, const sc_inventory *inv, sc_findings *out);
/* The vulnerability data generation (0 before any import). */
int sc_findings_generation(sc_store *st, int64_t *gen);
#endif
