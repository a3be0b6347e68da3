/* test_report.c - the report formats (sc_report): a finding matched by
 * caution (version not comparable, counted as affected) is marked in JSON,
 * in the table (marker and footnote) and in CycloneDX, also when the
 * findings are read back from the store as `customs report` does. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_cvss.h"
#include "sc_match.h"
#include "sc_osv.h"
#include "sc_report.h"
#include "sc_store.h"
#include "tap.h"

#define UNSURE_NOTE "Debian:12 openssl 3.0.1 1: version not comparable (dpkg): counted as affected by CVE-U"

/* Two findings by hand: CVE-U on openssl (unsure), CVE-S on zlib (sure). */
static void fixture(sc_inventory *inv, sc_finding_list *fl, int mark) {
  static const char *const none[1] = {NULL};
  static sc_finding v[2];
  static const char *layer[2] = {"sha256:l1", "sha256:l1"};
  static const char *purl[2] = {"pkg:deb/debian/openssl@3.0.1%201", "pkg:deb/debian/zlib@1.2.13"};
  static uint8_t flags[2];
  v[0] = (sc_finding){"CVE-U", none, 0, "Debian:12", "openssl", "3.0.1 1", "3.0.2-1", SC_SEV_HIGH, 7.5};
  v[1] = (sc_finding){"CVE-S", none, 0, "Debian:12", "zlib", "1.2.13", "", SC_SEV_LOW, 3.1};
  flags[0] = mark ? SC_FINDING_UNSURE : 0;
  flags[1] = 0;
  sc_inventory_init(inv);
  sc_package p1 = {(char *)"deb", (char *)"Debian:12", (char *)"openssl", (char *)"3.0.1 1", NULL, NULL,
                   (char *)"var/lib/dpkg/status", (char *)purl[0]};
  sc_package p2 = {(char *)"deb", (char *)"Debian:12", (char *)"zlib", (char *)"1.2.13", NULL, NULL,
                   (char *)"var/lib/dpkg/status", (char *)purl[1]};
  sc_inventory_add_package(inv, &p1);
  sc_inventory_add_package(inv, &p2);
  sc_finding_list_init(fl);
  fl->v = v;
  fl->layer = layer;
  fl->purl = purl;
  fl->flags = flags;
  fl->n = fl->cap = 2;
  fl->unsure = mark ? 1 : 0;
  if (mark) sc_strlist_add(&fl->notes, UNSURE_NOTE);
}

/* the string value of j, "" when it is not one */
static const char *js(const json_t *j) {
  const char *s = json_string_value(j);
  return s ? s : "";
}

static const json_t *by_id(const json_t *arr, const char *id) {
  for (size_t i = 0; i < json_array_size(arr); i++)
    if (!strcmp(js(json_object_get(json_array_get(arr, i), "id")), id))
      return json_array_get(arr, i);
  return NULL;
}

static char *table_text(const json_t *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  int rv = sc_report_table(r, f);
  fclose(f);
  if (rv) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* the table line of the vulnerability id (NULL when absent); caller frees */
static char *line_of(const char *text, const char *id) {
  const char *p = text ? strstr(text, id) : NULL;
  if (!p) return NULL;
  while (p > text && p[-1] != '\n') p--;
  return strndup(p, strcspn(p, "\n"));
}

static void test_json_table(void) {
  sc_inventory inv;
  sc_finding_list fl;
  fixture(&inv, &fl, 1);
  sc_report_input in = {"team/app@sha256:x", "team/app", "v1", "sha256:x", &inv, NULL, NULL, 0, &fl};
  json_t *r = sc_report_json(&in);
  CHECK(r != NULL, "json report");
  const json_t *vu = json_object_get(r, "vulnerabilities");
  const json_t *u = by_id(vu, "CVE-U"), *s = by_id(vu, "CVE-S");
  CHECK(json_is_false(json_object_get(u, "version_comparable")), "json: unsure finding has version_comparable false");
  CHECK(json_is_true(json_object_get(s, "version_comparable")), "json: sure finding has version_comparable true");
  const json_t *notes = json_object_get(r, "notes");
  int noted = 0;
  for (size_t i = 0; i < json_array_size(notes); i++)
    noted += !strcmp(js(json_array_get(notes, i)), UNSURE_NOTE);
  CHECK_INT(noted, 1, "json: the finding's note is in notes");

  char *t = table_text(r);
  CHECK(t != NULL, "table rendered");
  char *lu = line_of(t, "CVE-U"), *ls = line_of(t, "CVE-S");
  CHECK(lu && strstr(lu, "3.0.1 1 (*)"), "table: marker after the unsure version (%s)", lu ? lu : "none");
  CHECK(ls && !strstr(ls, "(*)"), "table: no marker on the sure one (%s)", ls ? ls : "none");
  CHECK(t && strstr(t, "\n(*) version not comparable: counted as affected (1)\n"), "table: footnote");
  free(lu);
  free(ls);
  free(t);

  /* a report without the field (stored before it existed) renders unmarked */
  json_t *v0 = json_array_get(json_object_get(r, "vulnerabilities"), 0);
  json_object_del(v0, "version_comparable");
  json_object_del(json_array_get(json_object_get(r, "vulnerabilities"), 1), "version_comparable");
  t = table_text(r);
  CHECK(t && !strstr(t, "(*)") && !strstr(t, "not comparable"), "table: no field, no marker, no footnote");
  free(t);
  json_decref(r);
  sc_strlist_free(&fl.notes);
  sc_inventory_free(&inv);

  /* nothing unsure: no marker, no footnote */
  fixture(&inv, &fl, 0);
  r = sc_report_json(&in);
  t = table_text(r);
  CHECK(t && strstr(t, "CVE-U") && !strstr(t, "(*)") && !strstr(t, "not comparable"),
        "table: all comparable, no marker, no footnote");
  free(t);
  json_decref(r);
  sc_inventory_free(&inv);
}

static void test_cyclonedx(void) {
  sc_inventory inv;
  sc_finding_list fl;
  fixture(&inv, &fl, 1);
  sc_report_input in = {"team/app@sha256:x", "team/app", "v1", "sha256:x", &inv, NULL, NULL, 0, &fl};
  json_t *bom = sc_report_cyclonedx(&in);
  CHECK(bom != NULL, "cyclonedx bom");
  const json_t *vu = json_object_get(bom, "vulnerabilities");
  const json_t *u = by_id(vu, "CVE-U"), *s = by_id(vu, "CVE-S");
  CHECK_STR(json_string_value(json_object_get(json_object_get(u, "analysis"), "detail")),
            "version not comparable: counted as affected", "cdx: analysis detail on the unsure finding");
  const json_t *pr = json_array_get(json_object_get(u, "properties"), 0);
  CHECK(pr && !strcmp(js(json_object_get(pr, "name")), "customs:version_comparable") &&
            !strcmp(js(json_object_get(pr, "value")), "false"),
        "cdx: customs:version_comparable=false property");
  CHECK(s && !json_object_get(s, "analysis") && !json_object_get(s, "properties"), "cdx: the sure one has neither");
  CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(u, "affects"), 0), "ref")), "pkg-0",
            "cdx: still points at its component");
  json_decref(bom);
  sc_strlist_free(&fl.notes);
  sc_inventory_free(&inv);
}

/* As `customs report` does: findings read back from the store. */
static void test_from_store(void) {
  static const char rec[] =
      "{\"id\":\"CVE-U\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":"
      "\"Debian:12\",\"name\":\"openssl\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
      "{\"fixed\":\"3.0.2-1\"}]}]}]}";
  static const char layer[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  static const char image[] = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  sc_store *st = NULL;
  if (sc_store_open(":memory:", &st)) {
    CHECK(0, "store: open");
    return;
  }
  sc_osv_stats os = {0};
  CHECK_INT(sc_osv_import_buffer(st, "t", rec, strlen(rec), &os), 0, "store: import");
  sc_inventory inv;
  sc_inventory_init(&inv);
  sc_inventory_set_os(&inv, "debian", "12", "etc/os-release");
  sc_package p = {(char *)"deb", NULL, (char *)"openssl", (char *)"3.0.1 1", NULL, NULL, (char *)"var/lib/dpkg/status",
                  NULL};
  sc_inventory_add_package(&inv, &p);
  CHECK_INT(sc_store_put_layer(st, layer, NULL, &inv), 0, "store: layer");
  sc_manifest m;
  memset(&m, 0, sizeof(m));
  sc_mlayer ls[1] = {{(char *)layer, NULL, 1}};
  m.kind = SC_MANIFEST_IMAGE;
  m.layers = ls;
  m.nlayers = 1;
  CHECK_INT(sc_store_put_manifest(st, "team/app", "v1", image, &m, NULL, 0), 0, "store: image");
  CHECK_INT(sc_match_store_image(st, image, NULL), 0, "store: matched at scan time");
  sc_finding_list fl;
  sc_finding_list_init(&fl);
  sc_inventory img;
  sc_inventory_init(&img);
  CHECK_INT(sc_match_image(st, image, &fl), 0, "store: findings read back");
  CHECK_INT(sc_store_image_inventory(st, image, &img), 0, "store: inventory");
  sc_report_input in = {"team/app@x", "team/app", "v1", image, &img, NULL, NULL, 0, &fl};
  json_t *r = sc_report_json(&in);
  const json_t *u = by_id(json_object_get(r, "vulnerabilities"), "CVE-U");
  CHECK(u != NULL, "store: the finding is reported");
  CHECK(json_is_false(json_object_get(u, "version_comparable")), "store: still marked not comparable");
  char *t = table_text(r);
  CHECK(t && strstr(t, "3.0.1 1 (*)") && strstr(t, "(*) version not comparable: counted as affected (1)"),
        "store: table marker and footnote");
  free(t);
  json_decref(r);
  sc_finding_list_free(&fl);
  sc_inventory_free(&img);
  sc_inventory_free(&inv);
  sc_store_close(st);
}

int main(void) {
  test_json_table();
  test_cyclonedx();
  test_from_store();
  return tap_done();
}
