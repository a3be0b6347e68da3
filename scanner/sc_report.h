/* sc_report.h - the scan/report output: JSON (the keys documented in README.md), a
 * human-readable table, and a CycloneDX 1.5 SBOM.
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
#include <jansson.h>
#include <stdio.h>
#include "sc_config.h"
#include "sc_inventory.h"
#include "sc_match.h"

typedef struct sc_report_layer {
  const char *digest;
  const char *status;   /* "ok" | "failed" | "partial" | "missing" */
  const char *error;    /* NULL when none */
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
/* Renders a JSON report (from sc_report_json, or stored) as aligned text
 * tables; a finding with "version_comparable": false gets "(*)" after its
 * version and a footnote.  Returns 0, SC_ERR_IO or SC_ERR_NOMEM. */
int sc_report_table(const json_t *report, FILE *out);
/* Writes any JSON document, indented, with a final newline.  0 or SC_ERR_IO. */
int sc_report_write_json(const json_t *doc, FILE *out);
#endif
