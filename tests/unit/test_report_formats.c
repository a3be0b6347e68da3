/* test_report_formats.c - the standard documents of sc_report: SARIF 2.1.0
 * (sc_report_sarif.c) in the shape GitHub code scanning accepts, SPDX 2.3
 * JSON (sc_report_spdx.c), and the number rule: a score the source gave as
 * 8.1 is written as 8.1 (not 8.0999999999999996) in the JSON report, the
 * CycloneDX BOM, SARIF's security-severity, and the webhook bodies of an
 * event carrying findings (sc_lineage_findings_json, as base-image-updated
 * does) in every webhook format. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_cvss.h"
#include "sc_match.h"
#include "sc_lineage.h"
#include "sc_report.h"
#include "sc_webhook.h"
#include "tap.h"

#define IMAGE "reg.example/team/app@sha256:aaaa"
#define NPKG 4
#define NFIND 5

/* Four packages, five findings: CVE-A on two packages (one rule, two
 * results), one of each severity, CVE-H (8.1) without a fix, CVE-U matched
 * by caution, with an unknown severity and no score. */
static sc_inventory inv;
static sc_finding_list fl;
static sc_report_input in;

static void fixture(void) {
  static const char *const none[1] = {NULL};
  static sc_finding v[NFIND];
  static const char *layer[NFIND] = {"sha256:l1", "sha256:l1", "sha256:l1", "sha256:l2", "sha256:l2"};
  static const char *purl[NFIND] = {"pkg:deb/debian/openssl@3.0.1", "pkg:deb/debian/libssl3@3.0.1",
                                    "pkg:deb/debian/zlib@1.2.13", "pkg:pypi/flask@2.0.0",
                                    "pkg:pypi/flask@2.0.0"};
  static uint8_t flags[NFIND] = {0, 0, 0, 0, SC_FINDING_UNSURE};
  v[0] = (sc_finding){"CVE-A", none, 0, "Debian:12", "openssl", "3.0.1", "3.0.2-1", SC_SEV_CRITICAL, 9.8};
  v[1] = (sc_finding){"CVE-A", none, 0, "Debian:12", "libssl3", "3.0.1", "3.0.2-1", SC_SEV_CRITICAL, 9.8};
  v[2] = (sc_finding){"CVE-M", none, 0, "Debian:12", "zlib", "1.2.13", "1.2.14", SC_SEV_MEDIUM, 5.5};
  v[3] = (sc_finding){"CVE-H", none, 0, "PyPI", "flask", "2.0.0", "", SC_SEV_HIGH, 8.1};
  v[4] = (sc_finding){"GHSA-U", none, 0, "PyPI", "flask", "2.0.0", "2.3.0", SC_SEV_UNKNOWN, -1};
  sc_inventory_init(&inv);
  struct { const char *type, *eco, *name, *ver, *path, *purl; } p[NPKG] = {
      {"deb", "Debian:12", "openssl", "3.0.1", "var/lib/dpkg/status", purl[0]},
      {"deb", "Debian:12", "libssl3", "3.0.1", "var/lib/dpkg/status", purl[1]},
      {"deb", "Debian:12", "zlib", "1.2.13", "var/lib/dpkg/status", purl[2]},
      {"python", "PyPI", "flask", "2.0.0", "usr/lib/python3/dist-packages/flask-2.0.0.dist-info/METADATA", purl[3]}};
  for (int i = 0; i < NPKG; i++) {
    sc_package pk = {(char *)p[i].type, (char *)p[i].eco, (char *)p[i].name, (char *)p[i].ver, NULL, NULL,
                     (char *)p[i].path, (char *)p[i].purl};
    sc_inventory_add_package(&inv, &pk);
  }
  sc_finding_list_init(&fl);
  fl.v = v;
  fl.layer = layer;
  fl.purl = purl;
  fl.flags = flags;
  fl.n = fl.cap = NFIND;
  fl.unsure = 1;
  in = (sc_report_input){IMAGE, "team/app", "1.0", "sha256:aaaa", &inv, NULL, NULL, 0, &fl};
}

static const char *js(const json_t *j) {
  const char *s = json_string_value(j);
  return s ? s : "";
}
static const json_t *get(const json_t *o, const char *path) { /* "a.b.c" through objects */
  char buf[256], *save = NULL;
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) o = json_object_get(o, k);
  return o;
}

/* the document as written to a file by sc_report_write_json */
static char *dumped(const json_t *doc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  int rv = sc_report_write_json(doc, f);
  fclose(f);
  if (rv) {
    free(buf);
    return NULL;
  }
  return buf;
}

static const json_t *result_for(const json_t *results, const char *id, const char *pkg) {
  for (size_t i = 0; i < json_array_size(results); i++) {
    const json_t *r = json_array_get(results, i);
    if (!strcmp(js(json_object_get(r, "ruleId")), id) && strstr(js(get(r, "message.text")), pkg)) return r;
  }
  return NULL;
}

static void test_sarif(void) {
  json_t *s = sc_report_sarif(&in);
  CHECK(s != NULL, "sarif: built");
  CHECK_STR(js(json_object_get(s, "version")), "2.1.0", "sarif: version 2.1.0");
  CHECK(strstr(js(json_object_get(s, "$schema")), "sarif-schema-2.1.0.json") != NULL, "sarif: $schema 2.1.0");
  const json_t *run = json_array_get(json_object_get(s, "runs"), 0);
  CHECK(json_array_size(json_object_get(s, "runs")) == 1, "sarif: one run");
  CHECK_STR(js(get(run, "tool.driver.name")), "customs", "sarif: tool.driver.name customs");
  CHECK_STR(js(get(run, "tool.driver.version")), PACKAGE_VERSION, "sarif: driver version");
  const json_t *rules = get(run, "tool.driver.rules"), *results = json_object_get(run, "results");
  CHECK(json_array_size(rules) == 4, "sarif: one rule per vulnerability id (4 ids, 5 findings)");
  CHECK(json_array_size(results) == NFIND, "sarif: one result per finding");
  int rules_ok = 1;
  for (size_t i = 0; i < json_array_size(rules); i++) {
    const json_t *r = json_array_get(rules, i);
    const char *id = js(json_object_get(r, "id"));
    char want[128];
    snprintf(want, sizeof(want), "https://osv.dev/vulnerability/%s", id);
    if (!*id || strcmp(js(json_object_get(r, "helpUri")), want) || !strstr(js(get(r, "shortDescription.text")), id))
      rules_ok = 0;
  }
  CHECK(rules_ok, "sarif: every rule has id, helpUri to OSV and a shortDescription naming it");
  int res_ok = 1;
  for (size_t i = 0; i < json_array_size(results); i++) {
    const json_t *r = json_array_get(results, i);
    const json_t *rule = json_array_get(rules, (size_t)json_integer_value(json_object_get(r, "ruleIndex")));
    const json_t *loc = json_array_get(json_object_get(r, "locations"), 0);
    if (!rule || strcmp(js(json_object_get(rule, "id")), js(json_object_get(r, "ruleId"))) ||
        !*js(get(loc, "physicalLocation.artifactLocation.uri")) ||
        strcmp(js(json_object_get(json_array_get(json_object_get(loc, "logicalLocations"), 0), "fullyQualifiedName")),
               IMAGE))
      res_ok = 0;
  }
  CHECK(res_ok, "sarif: every result's ruleIndex names its ruleId, and it has a location with the image");
  const json_t *a = result_for(results, "CVE-A", "libssl3"), *m = result_for(results, "CVE-M", "zlib"),
               *h = result_for(results, "CVE-H", "flask"), *u = result_for(results, "GHSA-U", "flask");
  CHECK(a && m && h && u, "sarif: results found by rule and package");
  CHECK_STR(js(json_object_get(a, "level")), "error", "sarif: critical -> error");
  CHECK_STR(js(json_object_get(h, "level")), "error", "sarif: high -> error");
  CHECK_STR(js(json_object_get(m, "level")), "warning", "sarif: medium -> warning");
  CHECK_STR(js(json_object_get(u, "level")), "warning", "sarif: unknown severity -> warning, not hidden");
  const char *am = js(get(a, "message.text"));
  CHECK(strstr(am, "libssl3") && strstr(am, "3.0.1") && strstr(am, "3.0.2-1"),
        "sarif: message names package, installed and fixed version");
  CHECK(strstr(js(get(h, "message.text")), "no fixed version") != NULL, "sarif: message says when there is no fix");
  CHECK(strstr(js(get(u, "message.text")), "not comparable") != NULL, "sarif: caution match said in the message");
  CHECK(json_is_false(get(u, "properties.versionComparable")), "sarif: versionComparable false property");
  CHECK_STR(js(get(json_array_get(json_object_get(h, "locations"), 0), "physicalLocation.artifactLocation.uri")),
            "usr/lib/python3/dist-packages/flask-2.0.0.dist-info/METADATA",
            "sarif: location is the file the package was found in");
  CHECK(strcmp(js(json_object_get(a, "partialFingerprints")), "") == 0 &&
            strcmp(js(get(a, "partialFingerprints.customsFinding/v1")), "") != 0,
        "sarif: a partial fingerprint per result");
  const json_t *hrule = json_array_get(rules, (size_t)json_integer_value(json_object_get(h, "ruleIndex")));
  CHECK_STR(js(get(hrule, "properties.security-severity")), "8.1", "sarif: security-severity is \"8.1\"");
  const json_t *urule = json_array_get(rules, (size_t)json_integer_value(json_object_get(u, "ruleIndex")));
  CHECK(get(urule, "properties.security-severity") == NULL, "sarif: no security-severity without a score");
  char *text = dumped(s);
  CHECK(text && strstr(text, "\"cvssScore\": 8.1") && !strstr(text, "8.0999"), "sarif: 8.1 written as 8.1");
  free(text);
  json_decref(s);

  sc_report_input none = in;
  none.findings = NULL;
  s = sc_report_sarif(&none);
  run = json_array_get(json_object_get(s, "runs"), 0);
  CHECK(s && json_is_array(json_object_get(run, "results")) && json_array_size(json_object_get(run, "results")) == 0,
        "sarif: no data: empty results array");
  CHECK(json_is_false(get(run, "properties.vulnerabilityData")), "sarif: no data said in run properties");
  json_decref(s);
}

static const json_t *pkg_by_name(const json_t *pkgs, const char *name) {
  for (size_t i = 0; i < json_array_size(pkgs); i++)
    if (!strcmp(js(json_object_get(json_array_get(pkgs, i), "name")), name)) return json_array_get(pkgs, i);
  return NULL;
}

static int has_rel(const json_t *rels, const char *from, const char *type, const char *to) {
  for (size_t i = 0; i < json_array_size(rels); i++) {
    const json_t *r = json_array_get(rels, i);
    if (!strcmp(js(json_object_get(r, "spdxElementId")), from) &&
        !strcmp(js(json_object_get(r, "relationshipType")), type) &&
        !strcmp(js(json_object_get(r, "relatedSpdxElement")), to))
      return 1;
  }
  return 0;
}

static int has_ref(const json_t *pkg, const char *cat, const char *type, const char *loc) {
  const json_t *refs = json_object_get(pkg, "externalRefs");
  for (size_t i = 0; i < json_array_size(refs); i++) {
    const json_t *r = json_array_get(refs, i);
    if (!strcmp(js(json_object_get(r, "referenceCategory")), cat) &&
        !strcmp(js(json_object_get(r, "referenceType")), type) &&
        !strcmp(js(json_object_get(r, "referenceLocator")), loc))
      return 1;
  }
  return 0;
}

static void test_spdx(void) {
  json_t *d = sc_report_spdx(&in), *d2 = sc_report_spdx(&in);
  CHECK(d && d2, "spdx: built");
  CHECK_STR(js(json_object_get(d, "spdxVersion")), "SPDX-2.3", "spdx: spdxVersion SPDX-2.3");
  CHECK_STR(js(json_object_get(d, "dataLicense")), "CC0-1.0", "spdx: dataLicense CC0-1.0");
  CHECK_STR(js(json_object_get(d, "SPDXID")), "SPDXRef-DOCUMENT", "spdx: SPDXID SPDXRef-DOCUMENT");
  CHECK_STR(js(json_object_get(d, "name")), IMAGE, "spdx: name is the image");
  const char *ns = js(json_object_get(d, "documentNamespace"));
  CHECK(!strncmp(ns, "https://", 8) && !strchr(ns, '#'), "spdx: documentNamespace an https URI without '#'");
  CHECK(strcmp(ns, js(json_object_get(d2, "documentNamespace"))) != 0, "spdx: documentNamespace unique per document");
  regex_t re;
  regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", REG_EXTENDED | REG_NOSUB);
  CHECK(regexec(&re, js(get(d, "creationInfo.created")), 0, NULL, 0) == 0, "spdx: creationInfo.created RFC 3339 UTC");
  regfree(&re);
  const json_t *creators = get(d, "creationInfo.creators");
  CHECK(json_array_size(creators) == 1 && !strcmp(js(json_array_get(creators, 0)), "Tool: customs-" PACKAGE_VERSION),
        "spdx: creators [\"Tool: customs-<version>\"]");
  const json_t *pkgs = json_object_get(d, "packages"), *rels = json_object_get(d, "relationships");
  CHECK(json_array_size(pkgs) == NPKG + 1, "spdx: the image and every package");
  regcomp(&re, "^SPDXRef-[A-Za-z0-9.-]+$", REG_EXTENDED | REG_NOSUB);
  int ok = 1;
  for (size_t i = 0; i < json_array_size(pkgs); i++) {
    const json_t *p = json_array_get(pkgs, i);
    const char *id = js(json_object_get(p, "SPDXID"));
    if (regexec(&re, id, 0, NULL, 0) || !*js(json_object_get(p, "name")) ||
        strcmp(js(json_object_get(p, "downloadLocation")), "NOASSERTION") || !json_is_false(get(p, "filesAnalyzed")))
      ok = 0;
    for (size_t k = 0; k < i; k++)
      if (!strcmp(id, js(json_object_get(json_array_get(pkgs, k), "SPDXID")))) ok = 0;
    if (strcmp(id, "SPDXRef-Image") && !has_rel(rels, "SPDXRef-Image", "CONTAINS", id)) ok = 0;
  }
  regfree(&re);
  CHECK(ok, "spdx: packages have unique valid SPDXIDs, name, NOASSERTION download, and the image CONTAINS each");
  CHECK(has_rel(rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"), "spdx: the document DESCRIBES the image");
  const json_t *img = pkg_by_name(pkgs, "team/app");
  CHECK(img && !strcmp(js(json_object_get(img, "primaryPackagePurpose")), "CONTAINER") &&
            !strcmp(js(json_object_get(img, "versionInfo")), "sha256:aaaa"),
        "spdx: the image package is a CONTAINER versioned by digest");
  const json_t *ossl = pkg_by_name(pkgs, "openssl"), *zlib = pkg_by_name(pkgs, "zlib");
  CHECK_STR(js(json_object_get(ossl, "versionInfo")), "3.0.1", "spdx: versionInfo");
  CHECK(has_ref(ossl, "PACKAGE-MANAGER", "purl", "pkg:deb/debian/openssl@3.0.1"), "spdx: purl external ref");
  CHECK(has_ref(ossl, "SECURITY", "advisory", "https://osv.dev/vulnerability/CVE-A"), "spdx: advisory ref on openssl");
  CHECK(!has_ref(zlib, "SECURITY", "advisory", "https://osv.dev/vulnerability/CVE-A") &&
            has_ref(zlib, "SECURITY", "advisory", "https://osv.dev/vulnerability/CVE-M"),
        "spdx: advisories only on the package they affect");
  json_decref(d);
  json_decref(d2);
}

static void test_numbers(void) {
  char t[SC_REPORT_SCORE_BYTES];
  sc_report_score_text(8.1, t);
  CHECK_STR(t, "8.1", "score text 8.1");
  sc_report_score_text(10.0, t);
  CHECK_STR(t, "10.0", "score text 10.0 keeps its decimal");
  sc_report_score_text(0.1 + 0.2, t);
  CHECK_STR(t, "0.3", "score text of a computed 0.3");
  json_t *r = sc_report_json(&in), *bom = sc_report_cyclonedx(&in);
  char *rt = dumped(r), *bt = dumped(bom);
  CHECK(rt && strstr(rt, "\"score\": 8.1,") && strstr(rt, "\"score\": 9.8,") && !strstr(rt, "8.0999"),
        "report JSON: 8.1 and 9.8 as given");
  CHECK(bt && strstr(bt, "\"score\": 8.1\n") && !strstr(bt, "8.0999"), "CycloneDX: 8.1 as given");
  /* read back (as `customs report` of stored JSON would) and written again */
  json_t *back = rt ? json_loads(rt, 0, NULL) : NULL;
  char *again = back ? dumped(back) : NULL;
  CHECK(again && !strcmp(again, rt), "report JSON: read back and written again, the same text");
  free(again);
  json_decref(back);
  free(rt);
  free(bt);
  json_decref(r);
  json_decref(bom);

  json_t *ev = json_pack("{s:s, s:s, s:s, s:{s:o}}", "id", "ev-1", "type", "base-image-updated", "at",
                         "2026-11-30T12:00:00Z", "payload", "findings", sc_lineage_findings_json(&fl, 0));
  static const char *const fname[] = {"generic", "github", "azure"};
  for (int k = SC_WEBHOOK_GENERIC; k <= SC_WEBHOOK_AZURE; k++) {
    char *body = ev ? sc_webhook_render((sc_webhook_format)k, ev, "refs/heads/main") : NULL;
    /* azure carries the event as an escaped string; the digits are the same */
    CHECK(body && strstr(body, "8.1") && strstr(body, "9.8") && !strstr(body, "8.0999") && !strstr(body, "9.800"),
          "webhook %s body: scores 8.1 and 9.8 as given", fname[k]);
    free(body);
  }
  json_decref(ev);
}

int main(void) {
  fixture();
  test_sarif();
  test_spdx();
  test_numbers();
  sc_inventory_free(&inv);
  return tap_done();
}
