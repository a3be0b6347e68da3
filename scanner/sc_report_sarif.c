/* sc_report_sarif.c - the findings as a SARIF 2.1.0 log (sc_report.h), in
 * the shape GitHub code scanning accepts: one run whose tool.driver is
 * "customs" with one rule per vulnerability id (helpUri to OSV, a short and
 * full description, security-severity from the CVSS score), and one result
 * per finding with the rule's id and index, a level from the severity, a
 * message naming the package, installed and fixed version, and a location.
 * GitHub rejects results without a location, so every result has one: the
 * file in the image the package was found in (its path, a relative URI),
 * else the repository, plus a logical location naming the image.
 *
 * Owner: scanner.  Pure formatting, no globals: any thread.  Errors: NULL
 * when out of memory. */
#include "sc_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_cvss.h"

#define SARIF_VERSION "2.1.0"
#define SARIF_SCHEMA "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
#define SARIF_HELP_BASE "https://osv.dev/vulnerability/" /* the vulnerability data is OSV's */
#define SARIF_TEXT_BYTES 1024 /* a message or description; longer ones are cut */

/* set: steals v; flags failure in *bad */
static void set(json_t *o, const char *k, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, k, v)) *bad = 1;
}
static void push(json_t *a, json_t *v, int *bad) {
  if (!v || json_array_append_new(a, v)) *bad = 1;
}
static const char *or(const char *s, const char *dflt) { return s && *s ? s : dflt; }

/* GitHub's mapping: error for critical and high, warning for medium (and
 * for an unknown severity, which must not look harmless), note for low. */
static const char *level_of(int sev) {
  switch (sev) {
  case SC_SEV_CRITICAL:
  case SC_SEV_HIGH: return "error";
  case SC_SEV_MEDIUM: return "warning";
  case SC_SEV_LOW:
  case SC_SEV_NONE: return "note";
  default: return "warning";
  }
}

static const char *sev_name(int sev) {
  return sev >= SC_SEV_NONE && sev <= SC_SEV_CRITICAL ? sc_severity_name((sc_severity)sev) : "unknown";
}

static json_t *text(const char *s) { return json_pack("{s:s}", "text", s); }

static json_t *rule_json(const sc_finding *f, int *bad) {
  char buf[SARIF_TEXT_BYTES], url[SARIF_TEXT_BYTES];
  json_t *r = json_object(), *props = json_object(), *tags = json_array();
  if (!r || !props || !tags) {
    json_decref(r);
    json_decref(props);
    json_decref(tags);
    *bad = 1;
    return NULL;
  }
  set(r, "id", json_string(f->id), bad);
  set(r, "name", json_string(f->id), bad);
  snprintf(buf, sizeof(buf), "%s: %s vulnerability in %s", f->id, sev_name(f->severity), or(f->package, "a package"));
  set(r, "shortDescription", text(buf), bad);
  snprintf(buf, sizeof(buf), "%s affects %s%s%s (%s).", f->id, or(f->package, "a package"),
           f->ecosystem ? " of " : "", f->ecosystem ? f->ecosystem : "", sev_name(f->severity));
  set(r, "fullDescription", text(buf), bad);
  snprintf(url, sizeof(url), "%s%s", SARIF_HELP_BASE, f->id);
  set(r, "helpUri", json_string(url), bad);
  set(r, "help", json_pack("{s:o}", "text", json_sprintf("%s: see %s", f->id, url)), bad);
  set(r, "defaultConfiguration", json_pack("{s:s}", "level", level_of(f->severity)), bad);
  push(tags, json_string("vulnerability"), bad);
  push(tags, json_string("security"), bad);
  push(tags, json_string(sev_name(f->severity)), bad);
  set(props, "tags", tags, bad);
  if (f->score >= 0) { /* GitHub reads security-severity as a string */
    char sc[SC_REPORT_SCORE_BYTES];
    sc_report_score_text(f->score, sc);
    set(props, "security-severity", json_string(sc), bad);
  }
  set(r, "properties", props, bad);
  return r;
}

/* The rule index of id in rules, appending a rule for f when it is new. */
static long rule_index(json_t *rules, const sc_finding *f, int *bad) {
  for (size_t k = 0; k < json_array_size(rules); k++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(rules, k), "id")), f->id)) return (long)k;
  push(rules, rule_json(f, bad), bad);
  return (long)json_array_size(rules) - 1;
}

static json_t *location(const sc_report_input *in, const sc_package *p, int *bad) {
  const char *uri = p && p->path && *p->path ? p->path : or(in->repository, "image");
  json_t *loc = json_pack("{s:{s:{s:s}, s:{s:i}}}", "physicalLocation", "artifactLocation", "uri", uri, "region",
                          "startLine", 1);
  json_t *logical = json_pack("[{s:s, s:s}]", "fullyQualifiedName", or(in->image, "image"), "kind", "module");
  if (!loc || !logical) {
    json_decref(loc);
    json_decref(logical);
    *bad = 1;
    return NULL;
  }
  set(loc, "logicalLocations", logical, bad);
  return loc;
}

static json_t *result_json(const sc_report_input *in, size_t i, long ri, int *bad) {
  const sc_finding_list *fl = in->findings;
  const sc_finding *f = &fl->v[i];
  long pk = sc_report_pkg_of(in, i);
  const sc_package *p = pk >= 0 ? &in->inv->pkgs[pk] : NULL;
  const char *purl = fl->purl && fl->purl[i] && *fl->purl[i] ? fl->purl[i] : NULL;
  char msg[SARIF_TEXT_BYTES], fp[SARIF_TEXT_BYTES], sc[SC_REPORT_SCORE_BYTES] = "";
  if (f->score >= 0) sc_report_score_text(f->score, sc);
  snprintf(msg, sizeof(msg), "Package %s %s is affected by %s (%s%s%s); %s%s%s", or(f->package, "?"),
           or(f->version, "?"), f->id, sev_name(f->severity), sc[0] ? ", CVSS " : "", sc,
           f->fixed_version && *f->fixed_version ? "fixed in " : "no fixed version",
           f->fixed_version && *f->fixed_version ? f->fixed_version : "",
           sc_finding_unsure(fl, i) ? " (version not comparable: counted as affected)" : ".");
  /* stable across scans of the same image, so GitHub tracks the alert */
  snprintf(fp, sizeof(fp), "%s|%s|%s|%s", f->id, or(f->package, ""), or(f->version, ""), or(purl, ""));
  json_t *r = json_object(), *locs = json_array(), *props = json_object();
  if (!r || !locs || !props) {
    json_decref(r);
    json_decref(locs);
    json_decref(props);
    *bad = 1;
    return NULL;
  }
  set(r, "ruleId", json_string(f->id), bad);
  set(r, "ruleIndex", json_integer(ri), bad);
  set(r, "level", json_string(level_of(f->severity)), bad);
  set(r, "message", text(msg), bad);
  push(locs, location(in, p, bad), bad);
  set(r, "locations", locs, bad);
  set(r, "partialFingerprints", json_pack("{s:s}", "customsFinding/v1", fp), bad);
  set(props, "package", json_string(or(f->package, "")), bad);
  set(props, "installedVersion", json_string(or(f->version, "")), bad);
  set(props, "fixedVersion", json_string(or(f->fixed_version, "")), bad);
  set(props, "severity", json_string(sev_name(f->severity)), bad);
  if (f->score >= 0) set(props, "cvssScore", json_real(f->score), bad);
  if (purl) set(props, "purl", json_string(purl), bad);
  set(props, "versionComparable", json_boolean(!sc_finding_unsure(fl, i)), bad);
  set(r, "properties", props, bad);
  return r;
}

json_t *sc_report_sarif(const sc_report_input *in) {
  if (!in || !in->inv) return NULL;
  int bad = 0;
  json_t *log = json_object(), *run = json_object(), *rules = json_array(), *results = json_array();
  if (!log || !run || !rules || !results) {
    json_decref(log);
    json_decref(run);
    json_decref(rules);
    json_decref(results);
    return NULL;
  }
  const sc_finding_list *fl = in->findings;
  for (size_t i = 0; fl && i < fl->n && !bad; i++) {
    if (!fl->v[i].id) continue;
    long ri = rule_index(rules, &fl->v[i], &bad);
    if (!bad) push(results, result_json(in, i, ri, &bad), &bad);
  }
  set(log, "$schema", json_string(SARIF_SCHEMA), &bad);
  set(log, "version", json_string(SARIF_VERSION), &bad);
  json_t *driver = json_pack("{s:s, s:s, s:s}", "name", "customs", "version", PACKAGE_VERSION, "semanticVersion",
                             PACKAGE_VERSION);
  if (driver) {
    set(driver, "rules", rules, &bad);
  } else {
    json_decref(rules);
    bad = 1;
  }
  set(run, "tool", driver ? json_pack("{s:o}", "driver", driver) : NULL, &bad);
  set(run, "results", results, &bad);
  json_t *props = json_object();
  if (props) {
    set(props, "image", json_string(or(in->image, "")), &bad);
    if (in->digest) set(props, "digest", json_string(in->digest), &bad);
    /* null findings: no vulnerability data, not "no vulnerabilities" */
    set(props, "vulnerabilityData", json_boolean(fl != NULL), &bad);
  }
  set(run, "properties", props, &bad);
  json_t *runs = json_array();
  push(runs, run, &bad);
  set(log, "runs", runs, &bad);
  if (bad) {
    json_decref(log);
    return NULL;
  }
  return log;
}
