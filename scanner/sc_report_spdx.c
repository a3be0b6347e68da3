/* sc_report_spdx.c - the inventory as an SPDX 2.3 JSON document
 * (sc_report.h): the image as a CONTAINER package the document DESCRIBES,
 * the OS and every catalogued package, each CONTAINed by the image, with its
 * purl as a PACKAGE-MANAGER external reference and, for each finding on it,
 * a SECURITY "advisory" reference to the OSV record (SPDX 2.3 Annex K.1.1).
 * Nothing was downloaded or its files analysed, so downloadLocation is
 * NOASSERTION and filesAnalyzed false.
 *
 * Owner: scanner.  Pure formatting, no globals: any thread.  Errors: NULL
 * when out of memory or when no random UUID can be made (the namespace must
 * be unique). */
#include "sc_report.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SPDX_VERSION "SPDX-2.3"
#define SPDX_NS_BASE "https://spdx.org/spdxdocs/customs/" /* + name-uuid; need not resolve */
#define SPDX_ADVISORY_BASE "https://osv.dev/vulnerability/"
#define SPDX_NAME_BYTES 160 /* the image name as it goes into the namespace */
#define SPDX_URI_BYTES 512
#define SPDX_ID_BYTES 48
#define SPDX_IMAGE_ID "SPDXRef-Image"
#define SPDX_OS_ID "SPDXRef-OperatingSystem"

static void set(json_t *o, const char *k, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, k, v)) *bad = 1;
}
static void push(json_t *a, json_t *v, int *bad) {
  if (!v || json_array_append_new(a, v)) *bad = 1;
}

static json_t *relation(const char *from, const char *type, const char *to) {
  return json_pack("{s:s, s:s, s:s}", "spdxElementId", from, "relationshipType", type, "relatedSpdxElement", to);
}

/* A package with the fields every one has; NULL when out of memory. */
static json_t *package(const char *id, const char *name, const char *version, const char *purpose) {
  json_t *p = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "SPDXID", id, "name", name, "downloadLocation",
                        "NOASSERTION", "filesAnalyzed", 0, "licenseConcluded", "NOASSERTION", "licenseDeclared",
                        "NOASSERTION", "copyrightText", "NOASSERTION");
  if (p && version && *version && json_object_set_new(p, "versionInfo", json_string(version))) {
    json_decref(p);
    return NULL;
  }
  if (p && purpose && json_object_set_new(p, "primaryPackagePurpose", json_string(purpose))) {
    json_decref(p);
    return NULL;
  }
  return p;
}

/* The image's name made safe for a URI path segment. */
static void ns_name(const char *s, char out[SPDX_NAME_BYTES]) {
  size_t n = 0;
  for (; s && *s && n + 1 < SPDX_NAME_BYTES; s++)
    out[n++] = isalnum((unsigned char)*s) || strchr("-._", *s) ? *s : '-';
  out[n] = 0;
  if (!n) snprintf(out, SPDX_NAME_BYTES, "image");
}

static json_t *image_package(const sc_report_input *in, int *bad) {
  const char *name = in->repository ? in->repository : in->image ? in->image : "image";
  json_t *p = package(SPDX_IMAGE_ID, name, in->digest ? in->digest : in->tag, "CONTAINER");
  if (!p) {
    *bad = 1;
    return NULL;
  }
  const char *hex = in->digest && !strncmp(in->digest, "sha256:", 7) ? in->digest + 7 : NULL;
  if (hex) {
    set(p, "checksums", json_pack("[{s:s, s:s}]", "algorithm", "SHA256", "checksumValue", hex), bad);
    /* pkg:oci/NAME@sha256%3AHEX, NAME the last path segment, lower case */
    const char *last = strrchr(name, '/');
    char purl[SPDX_URI_BYTES], low[SPDX_NAME_BYTES];
    size_t n = 0;
    for (const char *s = last ? last + 1 : name; *s && *s != ':' && *s != '@' && n + 1 < sizeof(low); s++)
      low[n++] = (char)tolower((unsigned char)*s);
    low[n] = 0;
    snprintf(purl, sizeof(purl), "pkg:oci/%s@sha256%%3A%s", n ? low : "image", hex);
    set(p, "externalRefs",
        json_pack("[{s:s, s:s, s:s}]", "referenceCategory", "PACKAGE-MANAGER", "referenceType", "purl",
                  "referenceLocator", purl),
        bad);
  }
  return p;
}

/* externalRefs of package k: its purl, then an advisory per finding on it */
static json_t *refs_of(const sc_report_input *in, size_t k, int *bad) {
  const sc_package *p = &in->inv->pkgs[k];
  json_t *a = json_array();
  if (!a) {
    *bad = 1;
    return NULL;
  }
  if (p->purl && *p->purl)
    push(a,
         json_pack("{s:s, s:s, s:s}", "referenceCategory", "PACKAGE-MANAGER", "referenceType", "purl",
                   "referenceLocator", p->purl),
         bad);
  const sc_finding_list *fl = in->findings;
  for (size_t i = 0; fl && i < fl->n; i++) {
    if (!fl->v[i].id || sc_report_pkg_of(in, i) != (long)k) continue;
    char url[SPDX_URI_BYTES];
    snprintf(url, sizeof(url), "%s%s", SPDX_ADVISORY_BASE, fl->v[i].id);
    push(a, json_pack("{s:s, s:s, s:s}", "referenceCategory", "SECURITY", "referenceType", "advisory",
                      "referenceLocator", url),
         bad);
  }
  return a;
}

json_t *sc_report_spdx(const sc_report_input *in) {
  if (!in || !in->inv) return NULL;
  char uuid[SC_REPORT_UUID_BYTES], ts[SC_REPORT_TIME_BYTES], name[SPDX_NAME_BYTES], ns[SPDX_URI_BYTES];
  if (sc_report_uuid4(uuid)) return NULL;
  sc_report_time((int64_t)time(NULL), ts);
  ns_name(in->image, name);
  snprintf(ns, sizeof(ns), "%s%s-%s", SPDX_NS_BASE, name, uuid);
  int bad = 0;
  json_t *doc = json_object(), *pkgs = json_array(), *rels = json_array();
  if (!doc || !pkgs || !rels) {
    json_decref(doc);
    json_decref(pkgs);
    json_decref(rels);
    return NULL;
  }
  set(doc, "spdxVersion", json_string(SPDX_VERSION), &bad);
  set(doc, "dataLicense", json_string("CC0-1.0"), &bad);
  set(doc, "SPDXID", json_string("SPDXRef-DOCUMENT"), &bad);
  set(doc, "name", json_string(in->image ? in->image : "image"), &bad);
  set(doc, "documentNamespace", json_string(ns), &bad);
  set(doc, "creationInfo", json_pack("{s:s, s:[s]}", "created", ts, "creators", "Tool: customs-" PACKAGE_VERSION),
      &bad);
  push(pkgs, image_package(in, &bad), &bad);
  push(rels, relation("SPDXRef-DOCUMENT", "DESCRIBES", SPDX_IMAGE_ID), &bad);
  const sc_inventory *inv = in->inv;
  if (inv->os.id) {
    push(pkgs, package(SPDX_OS_ID, inv->os.id, inv->os.version_id, "OPERATING-SYSTEM"), &bad);
    push(rels, relation(SPDX_IMAGE_ID, "CONTAINS", SPDX_OS_ID), &bad);
  }
  for (size_t k = 0; k < inv->npkgs && !bad; k++) {
    const sc_package *p = &inv->pkgs[k];
    if (!p->name) continue;
    char id[SPDX_ID_BYTES];
    snprintf(id, sizeof(id), "SPDXRef-Package-%zu", k);
    json_t *o = package(id, p->name, p->version, "LIBRARY");
    if (o) {
      if (p->path) {
        char info[SPDX_URI_BYTES];
        snprintf(info, sizeof(info), "found in %s", p->path);
        set(o, "sourceInfo", json_string(info), &bad);
      }
      set(o, "externalRefs", refs_of(in, k, &bad), &bad);
    }
    push(pkgs, o, &bad);
    push(rels, relation(SPDX_IMAGE_ID, "CONTAINS", id), &bad);
  }
  set(doc, "packages", pkgs, &bad);
  set(doc, "relationships", rels, &bad);
  if (bad) {
    json_decref(doc);
    return NULL;
  }
  return doc;
}
