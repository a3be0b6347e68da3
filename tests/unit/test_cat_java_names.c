/* test_cat_java_names.c - how jars without pom.properties are named
 * (scanner/sc_java_names.c): the Bundle-SymbolicName split, pom.xml
 * versions, file names, manifest sections, the order of the sources; then
 * the real jars of tests/fixtures/java (two copied from Debian packages, the
 * others built by make_fixtures.sh with the JDK's jar tool) read through the
 * java cataloger.  Owner: scanner (java cataloger).  TAP output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "memreader.h"
#include "../../scanner/sc_catalog.h"
#include "../../scanner/sc_java_names.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURE_MAX_BYTES (1 << 20)

static void test_bundle(void) {
  static const struct {
    const char *bsn, *fa, *want;
  } t[] = {
      /* the case: the file's artifact under the symbolic name */
      {"com.google.oauth-client", "google-oauth-client", "com.google.oauth-client:google-oauth-client"},
      /* groupId + "." + artifactId */
      {"com.fasterxml.jackson.core.jackson-databind", "jackson-databind", "com.fasterxml.jackson.core:jackson-databind"},
      /* the groupId alone, its last part being the artifactId */
      {"com.google.guava", "guava", "com.google.guava:guava"},
      /* the artifactId's first word repeats the groupId's last part */
      {"org.apache.commons.lang3", "commons-lang3", "org.apache.commons:commons-lang3"},
      {"org.eclipse.jetty.util", "jetty-util", "org.eclipse.jetty:jetty-util"},
      {"io.netty.buffer", "netty-buffer", "io.netty:netty-buffer"},
      {"javax.inject", "atinject-jsr330-api", "javax.inject:atinject-jsr330-api"},
      /* no artifact in the file name */
      {"org.eclipse.core.runtime", "", "org.eclipse.core:runtime"},
      {"standalone", "", "standalone"},
      {"a.", "", "a."},
  };
  for (size_t i = 0; i < N(t); i++) {
    char name[SC_JN_NAME];
    sc_jn_bundle(t[i].bsn, t[i].fa, name);
    CHECK_STR(name, t[i].want, "bundle %s + '%s'", t[i].bsn, t[i].fa);
  }
}

static void test_pom_version(void) {
  static const struct {
    const char *desc, *xml, *want;
  } t[] = {
      {"own version over parent's and dependencies'",
       "<?xml version=\"1.0\"?>\n<project xmlns=\"x\"><!-- <version>6</version> -->\n"
       "<parent><groupId>g</groupId><version>2.13</version></parent>\n"
       "<dependencies><dependency><version>9.9</version></dependency></dependencies>\n"
       "<version> 2.13.3 </version></project>",
       "2.13.3"},
      {"inherited from the parent", "<project><parent><version>1.2</version></parent><artifactId>a</artifactId></project>",
       "1.2"},
      {"a property is not a version", "<project><version>${revision}</version></project>", ""},
      {"dependency versions only", "<project><dependencies><dependency><version>1</version></dependency></dependencies></project>",
       ""},
      {"CDATA and empty elements skipped", "<project><![CDATA[<version>7</version>]]><packaging/><version>3.0</version></project>",
       "3.0"},
      {"not a pom", "<html><version>1</version></html>", ""},
      {"unbalanced", "</x></y><project><version>1</version>", ""},
      {"truncated", "<project><version>1.0", ""},
      {"empty", "", ""},
  };
  for (size_t i = 0; i < N(t); i++) {
    char v[SC_JN_FIELD];
    sc_jn_pom_version(t[i].xml, v);
    CHECK_STR(v, t[i].want, "pom version: %s", t[i].desc);
  }
}

static void test_paths(void) {
  static const struct {
    const char *entry, *file, *want; /* want NULL: not a maven path */
  } t[] = {
      {"META-INF/maven/org.slf4j/slf4j-nop/pom.xml", "pom.xml", "org.slf4j:slf4j-nop"},
      {"META-INF/maven/g/a/pom.properties", "pom.properties", "g:a"},
      {"META-INF/maven/g/a/pom.xml", "pom.properties", NULL},
      {"META-INF/maven/g/pom.xml", "pom.xml", NULL},
      {"META-INF/maven/g/a/b/pom.xml", "pom.xml", NULL},
      {"META-INF/maven//a/pom.xml", "pom.xml", NULL},
      {"META-INF/maven/g//pom.xml", "pom.xml", NULL},
      {"x/META-INF/maven/g/a/pom.xml", "pom.xml", NULL},
      {"META-INF/maven/g/a/xpom.xml", "pom.xml", NULL},
  };
  for (size_t i = 0; i < N(t); i++) {
    char ga[SC_JN_NAME] = "";
    int got = sc_jn_maven_path(t[i].entry, t[i].file, ga);
    CHECK_INT(got, t[i].want != NULL, "maven path %s (%s)", t[i].entry, t[i].file);
    if (got && t[i].want) CHECK_STR(ga, t[i].want, "maven path %s names", t[i].entry);
  }
  static const struct {
    const char *path, *artifact, *version;
  } f[] = {
      {"lib/guava-31.1-jre.jar", "guava", "31.1-jre"},
      {"hibernate-core-5.6.15.Final.jar", "hibernate-core", "5.6.15.Final"},
      {"a/b/demo-0.0.1-SNAPSHOT.war", "demo", "0.0.1-SNAPSHOT"},
      {"usr/share/java/commons-lang3.jar", "commons-lang3", ""},
      {"x.jar", "x", ""},
  };
  for (size_t i = 0; i < N(f); i++) {
    char a[SC_JN_FIELD], v[SC_JN_FIELD];
    sc_jn_file_name(f[i].path, a, v);
    CHECK_STR(a, f[i].artifact, "file name %s: artifact", f[i].path);
    CHECK_STR(v, f[i].version, "file name %s: version", f[i].path);
  }
}

/* One manifest + path -> the name and version chosen (NULL: none). */
static void test_select(void) {
  static const struct {
    const char *desc, *manifest, *path, *name, *version;
  } t[] = {
      {"bundle over title", "Implementation-Title: Google OAuth Client Library for Java\r\n"
                            "Bundle-SymbolicName: com.google.oauth-client\r\n",
       "app/google-oauth-client-1.33.1.jar", "com.google.oauth-client:google-oauth-client", "1.33.1"},
      {"Bundle-Version first", "Bundle-SymbolicName: org.eclipse.jetty.util;singleton:=true\nBundle-Version: 9.4.48.v20220622\n"
                               "Implementation-Version: 1\n",
       "jetty-util-9.4.48.jar", "org.eclipse.jetty:jetty-util", "9.4.48.v20220622"},
      {"Eclipse plugin file name", "Bundle-SymbolicName: org.eclipse.core.runtime\nBundle-Version: 3.26.0.v20220813-0916\n",
       "plugins/org.eclipse.core.runtime_3.26.0.v20220813-0916.jar", "org.eclipse.core:runtime", "3.26.0.v20220813-0916"},
      {"file name over title", "Implementation-Title: Jersey Client\nImplementation-Version: 2.0\n",
       "lib/jersey-client-2.35.jar", "jersey-client", "2.35"},
      {"title without a versioned file name", "Implementation-Title: Thing\nImplementation-Version: 4.5\n",
       "thing.jar", "Thing", "4.5"},
      {"Specification-Title and -Version", "Specification-Title: Servlet API\nSpecification-Version: 4.0\n",
       "servlet.jar", "Servlet API", "4.0"},
      {"version only in a named section",
       "Manifest-Version: 1.0\nImplementation-Title: sect\n\nName: org/x/\nSpecification-Version: 7.1\n"
       "Implementation-Version: 7.1.2\n",
       "sect.jar", "sect", "7.1.2"},
      {"main section wins over named ones",
       "Implementation-Title: m\nImplementation-Version: 1.0\n\nName: a/\nImplementation-Version: 9.9\n", "m.jar", "m", "1.0"},
      {"a title in a named section is not the jar's", "Manifest-Version: 1.0\n\nName: a/\nImplementation-Title: Other\n"
                                                      "Implementation-Version: 2\n",
       "lib.jar", "lib", "2"},
      {"Jenkins plugin", "Short-Name: git\nPlugin-Version: 4.11.0 (private)\nImplementation-Title: git\n", "plugins/git.hpi",
       "org.jenkins-ci.plugins:git", "4.11.0"},
      {"Jenkins plugin with Group-Id", "Group-Id: io.jenkins.plugins\nShort-Name: x\nPlugin-Version: 1.2\n", "x.jpi",
       "io.jenkins.plugins:x", "1.2"},
      {"folded header", "Bundle-SymbolicName: com.example.very.long.symbolic.name.that.the.jar.tool.wr\n"
                        " aps\nBundle-Version: 1\n",
       "z.jar", "com.example.very.long.symbolic.name.that.the.jar.tool.wraps:z", "1"},
      {"no version anywhere", "Implementation-Title: T\n", "t.jar", NULL, NULL},
      {"nothing", "", "plain.jar", NULL, NULL},
      {"not headers", "garbage without colons\n: novalue\nbad key: v\n", "g.jar", NULL, NULL},
  };
  for (size_t i = 0; i < N(t); i++) {
    sc_jn_manifest m;
    memset(&m, 0, sizeof m);
    char *text = strdup(t[i].manifest);
    sc_jn_manifest_parse(&m, text);
    free(text);
    char name[SC_JN_NAME], version[SC_JN_FIELD];
    int got = sc_jn_select(&m, t[i].path, name, version);
    CHECK_INT(got, t[i].name != NULL, "select: %s", t[i].desc);
    if (got && t[i].name) {
      CHECK_STR(name, t[i].name, "select: %s: name", t[i].desc);
      CHECK_STR(version, t[i].version, "select: %s: version", t[i].desc);
    }
  }
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *b = malloc(FIXTURE_MAX_BYTES);
  *len = b ? fread(b, 1, FIXTURE_MAX_BYTES, f) : 0;
  fclose(f);
  return b;
}

/* The committed fixtures: exactly one package each, by the expected name. */
static void test_fixtures(void) {
  static const struct {
    const char *file, *name, *version;
  } t[] = {
      {"slf4j-nop.jar", "org.slf4j:slf4j-nop", "1.7.32"},
      {"atinject-jsr330-api-1.0.jar", "javax.inject:atinject-jsr330-api", "1.0.0"},
      {"google-oauth-client-1.33.1.jar", "com.google.oauth-client:google-oauth-client", "1.33.1"},
      {"databind.jar", "com.fasterxml.jackson.core:jackson-databind", "2.13.3"},
      {"commons-text-1.9.jar", "commons-text", "1.9"},
      {"git.hpi", "org.jenkins-ci.plugins:git", "4.11.0"},
  };
  for (size_t i = 0; i < N(t); i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/java/%s", SRCDIR, t[i].file);
    size_t len = 0;
    unsigned char *b = slurp(path, &len);
    CHECK(b && len > 22, "fixture %s readable", t[i].file);
    if (!b) continue;
    char lpath[256];
    snprintf(lpath, sizeof lpath, "opt/app/lib/%s", t[i].file);
    CHECK(sc_cat_java.match(lpath, (int64_t)len, 0100644), "fixture %s: matched", t[i].file);
    memrd m = {b, len, 0, 777};
    sc_reader r = {mem_read, &m};
    sc_limits lim;
    sc_limits_default(&lim);
    sc_inventory inv;
    sc_inventory_init(&inv);
    CHECK_INT(sc_cat_java.scan(&inv, lpath, &r, &lim), 0, "fixture %s: rc", t[i].file);
    CHECK_INT(inv.npkgs, 1, "fixture %s: one package", t[i].file);
    if (inv.npkgs == 1) {
      CHECK_STR(inv.pkgs[0].name, t[i].name, "fixture %s: name", t[i].file);
      CHECK_STR(inv.pkgs[0].version, t[i].version, "fixture %s: version", t[i].file);
      CHECK_STR(inv.pkgs[0].ecosystem, "Maven", "fixture %s: ecosystem", t[i].file);
    }
    sc_inventory_free(&inv);
    free(b);
  }
}

int main(void) {
  test_bundle();
  test_pom_version();
  test_paths();
  test_select();
  test_fixtures();
  return tap_done();
}
