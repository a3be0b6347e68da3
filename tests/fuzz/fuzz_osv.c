/* fuzz_osv.c - libFuzzer target: OSV records (one JSON record or an array)
 * imported into an in-memory store (sc_osv_import_buffer: schema checks,
 * affected[], ranges and events, purl fallback, severities, withdrawn
 * records, the borrowed-severity pass), plus the name / ecosystem / version
 * normalisers on the record's id and first package.
 *
 * The store is ":memory:", opened once and reopened every
 * FUZZ_OSV_REOPEN_RUNS inputs so that upserted records do not grow without
 * bound over a long run.
 * Owner: fuzz.  Single-threaded. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_osv.h"
#include "sc_store.h"

#define FUZZ_OSV_REOPEN_RUNS 2000

static sc_store *st;
static unsigned runs;

static void reopen(void) {
  if (st) sc_store_close(st);
  st = NULL;
  if (sc_store_open(":memory:", &st) != 0 || !st) {
    fprintf(stderr, "fuzz_osv: cannot open an in-memory store\n");
    abort();
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  reopen();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_osv_stats stats = {0};
  char out[1100];
  if (++runs % FUZZ_OSV_REOPEN_RUNS == 0) reopen();
  int rc = sc_osv_import_buffer(st, "fuzz", (const char *)data, size, &stats);
  if (rc == SC_ERR_DB) {
    /* an in-memory database never fails on its own: a DB error here is SQL
     * built from the record (or a constraint the importer should check) */
    fprintf(stderr, "fuzz_osv: SC_ERR_DB: %s\n", sc_store_errmsg(st));
    abort();
  }
  json_t *r = json_loadb((const char *)data, size, 0, NULL);
  json_t *aff = json_array_get(json_object_get(r, "affected"), 0);
  json_t *pkg = json_object_get(aff, "package");
  const char *eco = json_string_value(json_object_get(pkg, "ecosystem"));
  const char *name = json_string_value(json_object_get(pkg, "name"));
  json_t *vers = json_object_get(aff, "versions");
  if (eco) (void)sc_osv_normalize_ecosystem(eco, out, sizeof out);
  if (eco && name) (void)sc_osv_normalize_name(eco, name, out, sizeof out);
  for (size_t i = 0; i < json_array_size(vers); i++) {
    const char *v = json_string_value(json_array_get(vers, i));
    if (v) {
      const char *n = sc_osv_normalize_version(eco, v);
      if (n < v || n > v + strlen(v)) abort(); /* documented: a pointer into v */
    }
  }
  json_decref(r);
  return 0;
}
