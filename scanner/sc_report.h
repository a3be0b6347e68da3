/* sc_report.h - the scan/report output: JSON (the keys documented in README.md), a
 * human-readable table, a CycloneDX 1.5 SBOM, a SARIF 2.1.0 log and an SPDX
 * 2.3 JSON document.
 *
 * "vulnerabilities" lists the findings given in the input (sc_match), in
 * their order (severity, then id); it is empty without them.  Each has
 * "version_comparable": false when it was matched by caution (a version the
 * comparator cannot parse, counted as affected), else true; the list's
 * notes saying which are appended to "notes".  The verdict
 * is "allow", or "warn" when a layer was not scanned completely, until the
 * policy fills it. */
#ifndef CUSTOMS_SC_REPORT_H
#define CUSTOMS_SC_REPORT_H
#include <float.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include "sc_config.h"
#include "sc_inventory.h"
#include "sc_match.h"

typedef struct sc_report_layer {
  const char *digest;
  const char *status;   /* "ok" | "failed" | "partial" | "missing" */
  const char *error;    /* NULL when none */
  /* the layer's own inventory (NULL: not known): the report says per layer
   * what each cataloger found ("found": packages per type) and which files
   * were recognised but could not be read ("notes"), so that a blind spot
   * shows instead of an empty list */
  const sc_inventory *inv;
} sc_report_layer;

typedef struct sc_report_input {
  const char *image;        /* "repo@digest", or the scan target */
  const char *repository;   /* NULL when unknown */
  const char *tag;          /* NULL when unknown */
  const char *digest;       /* manifest digest; NULL for a single layer */
  const sc_inventory *inv;  /* merged and finished */
  const sc_image_config *config; /* NULL when there is none */
  const sc_report_layer *layers;
  size_t nlayers;
  const sc_finding_list *findings; /* NULL: no vulnerability data */
} sc_report_input;

/* The JSON report; NULL on allocation failure.  Caller json_decref()s. */
json_t *sc_report_json(const sc_report_input *in);
/* The CycloneDX 1.5 BOM; NULL on allocation failure. */
json_t *sc_report_cyclonedx(const sc_report_input *in);
/* The SARIF 2.1.0 log of the findings, as GitHub code scanning accepts it
 * (sc_report_sarif.c); NULL on allocation failure. */
json_t *sc_report_sarif(const sc_report_input *in);
/* The SPDX 2.3 JSON document of the inventory (sc_report_spdx.c); NULL on
 * allocation failure or when no random UUID can be made. */
json_t *sc_report_spdx(const sc_report_input *in);

/* Helpers the document formats share (sc_report.c). */
#define SC_REPORT_UUID_BYTES 37  /* 36 characters and the NUL */
#define SC_REPORT_TIME_BYTES 40  /* "2026-11-30T12:00:00Z" and room */
#define SC_REPORT_SCORE_BYTES 32 /* a score as text, "8.1" */
/* A random (version 4) UUID, lower case; -1 when no randomness. */
int sc_report_uuid4(char out[SC_REPORT_UUID_BYTES]);
/* Unix seconds as RFC 3339 UTC; "" for a negative time. */
void sc_report_time(int64_t t, char out[SC_REPORT_TIME_BYTES]);
/* The index in in->inv of the package finding i of in->findings is about
 * (same purl, else same name and version); -1 when none is. */
long sc_report_pkg_of(const sc_report_input *in, size_t i);
/* A score as JSON prints it with SC_REPORT_JSON_REALS: "8.1", "10.0". */
void sc_report_score_text(double score, char out[SC_REPORT_SCORE_BYTES]);
/* json_dump flags for reals: DBL_DIG significant digits, the most a double
 * keeps of any decimal, so a score the source gave as 8.1 prints as 8.1
 * (jansson's default, 17 digits, prints 8.0999999999999996). */
#define SC_REPORT_JSON_REALS JSON_REAL_PRECISION(DBL_DIG)
/* Renders a JSON report (from sc_report_json, or stored) as aligned text
 * tables; a finding with "version_comparable": false gets "(*)" after its
 * version and a footnote.  Returns 0, SC_ERR_IO or SC_ERR_NOMEM. */
int sc_report_table(const json_t *report, FILE *out);
/* Writes any JSON document, indented, with a final newline.  0 or SC_ERR_IO. */
int sc_report_write_json(const json_t *doc, FILE *out);
#endif
