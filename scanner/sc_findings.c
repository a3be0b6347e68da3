/* sc_findings.c - placeholder until the matcher lands: no findings. */
#include "sc_findings.h"
#include <string.h>
void sc_findings_init(sc_findings *f) { memset(f, 0, sizeof(*f)); }
void sc_findings_free(sc_findings *f) { memset(f, 0, sizeof(*f)); }
int sc_findings_for_image(sc_store *st, const char *digest, const sc_inventory *inv, sc_findings *out) {
  (void)st; (void)digest; (void)inv;
  sc_findings_init(out);
  return 0;
}
int sc_findings_generation(sc_store *st, int64_t *gen) {
  (void)st;
  *gen = 0;
  return 0;
}
