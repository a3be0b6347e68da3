/* sc_nvd.h - NVD CVE JSON 2.0 feeds (the yearly nvdcve-2.0-*.json files and
 * API answers: {"format":"NVD_CVE","version":"2.0",...,"vulnerabilities":
 * [{"cve":{"id":"CVE-...","metrics":{"cvssMetricV31":[...],...}}},...]}),
 * read as a stream: a year's feed is one JSON object of ~100 MB, so it is
 * never held whole.  The top-level object is walked in runs of bytes
 * (strings and nesting only); each vulnerabilities[] entry is copied out
 * alone (at most SC_NVD_MAX_ITEM_BYTES, a bigger one is skipped as
 * malformed), its cve.id and cve.metrics found by sc_jsonscan (jansson
 * parses the metrics only, or the whole entry when the scan cannot vouch for
 * it) and reduced to one score.  Memory: the read buffer, one entry and a
 * small tree.
 *
 * The score of a CVE: the first usable metric of cvssMetricV31, then V30,
 * V40, V2 (newer CVSS versions first: NVD's own v2 scores top out at
 * "high"), within a version the Primary one (type "Primary", i.e. scored by
 * nvd@nist.gov) before the others.  "Usable": its cvssData.vectorString
 * scores with sc_cvss (the vector decides), else its cvssData.baseScore is
 * a number in 0..10.  A CVE without a usable metric is handed over with
 * score -1 (the caller drops a score it stored for it before).
 *
 * The feed's "format" key must say "NVD_CVE" before its vulnerabilities
 * (as NVD writes it) and "version" must be 2.x: sc_nvd_sniff tells a feed
 * from an OSV record by its first bytes.
 * Owner: scanner.  Thread: any (no state).  Errors: 0, SC_ERR_FORMAT
 * (not a feed, truncated, or broken outside an entry), SC_ERR_UNSUPP
 * (version not 2.x), SC_ERR_NOMEM, a read error of the reader, or the
 * first non-zero value of the callback. */
#ifndef CUSTOMS_SC_NVD_H
#define CUSTOMS_SC_NVD_H
#include <stddef.h>
#include <stdint.h>

#include "sc_cvss.h"

#define SC_NVD_SNIFF_BYTES 4096              /* a feed names its format within these first bytes */
#define SC_NVD_MAX_ITEM_BYTES (4u << 20)     /* one vulnerabilities[] entry (NVD's largest: ~1 MB) */
#define SC_NVD_READ_BYTES (64u << 10)        /* read buffer */
#define SC_NVD_MAX_ID 64                     /* "CVE-2024-123456" and room */
#define SC_NVD_MAX_SOURCE 256                /* a metric's source ("nvd@nist.gov", a CNA's address) */

typedef struct sc_nvd_cve {
  char id[SC_NVD_MAX_ID];
  char vector[SC_CVSS_MAX + 1];       /* "" when the score came from baseScore alone */
  char scored_by[SC_NVD_MAX_SOURCE];  /* the metric's source, "" unknown */
  double score;                       /* -1: no usable metric */
  int severity;                       /* sc_severity of the score */
  int version;                        /* 31, 30, 40, 20; 0 none */
} sc_nvd_cve;

/* Reads up to cap bytes into buf; *got 0 at the end.  0 or an error. */
typedef int (*sc_nvd_read_fn)(void *arg, char *buf, size_t cap, size_t *got);
/* One CVE; a non-zero return stops the parse with that value. */
typedef int (*sc_nvd_cve_fn)(void *arg, const sc_nvd_cve *cve);

/* 1 when head[0..n) (a document's first bytes) starts an NVD CVE feed. */
int sc_nvd_sniff(const char *head, size_t n);

/* Parses a feed: the bytes head[0..head_len) (what was read to sniff it),
 * then what rd gives (rd NULL: head is all).  cb gets every CVE in order;
 * *malformed (may be NULL) counts entries skipped (not an object, no
 * usable id, over SC_NVD_MAX_ITEM_BYTES). */
int sc_nvd_parse(const char *head, size_t head_len, sc_nvd_read_fn rd, void *rarg, sc_nvd_cve_fn cb, void *arg,
                 uint64_t *malformed);

/* One vulnerabilities[] entry (its JSON text) into *out.  0 (out->score -1
 * when it has no usable metric) or SC_ERR_FORMAT (not an entry with an id
 * "CVE-..."). */
int sc_nvd_entry(const char *json, size_t len, sc_nvd_cve *out);
#endif
