/* sc_java_names.h - how a jar is named when it carries no pom.properties.
 *
 * The java cataloger (sc_cat_java.c) walks archives; this module turns what
 * it found in one archive (its MANIFEST.MF, a pom.xml's <version>, the file
 * name) into a Maven "group:artifact" and a version, in the order the
 * established scanners use, because Maven advisories are keyed on
 * group:artifact and a name like "Google OAuth Client Library for Java"
 * matches none of them.  Pure string functions: no I/O, no allocation,
 * thread-safe; inputs are NUL-terminated and bounded by the caller. */
#ifndef CUSTOMS_SC_JAVA_NAMES_H
#define CUSTOMS_SC_JAVA_NAMES_H
#include <stddef.h>

#define SC_JN_FIELD 256 /* longest manifest value / name part kept, bytes incl. NUL */
#define SC_JN_NAME (2 * SC_JN_FIELD + 1) /* "group:artifact" */

/* What naming needs from a MANIFEST.MF ("" when absent).  Main-section
 * fields, and the Implementation-/Specification-Version first found in a
 * named ("Name: ...") section, which some builds put there only. */
typedef struct sc_jn_manifest {
  char impl_title[SC_JN_FIELD], impl_version[SC_JN_FIELD];
  char spec_title[SC_JN_FIELD], spec_version[SC_JN_FIELD];
  char bundle[SC_JN_FIELD], bundle_version[SC_JN_FIELD]; /* Bundle-SymbolicName without ";..." */
  char short_name[SC_JN_FIELD], plugin_version[SC_JN_FIELD], group_id[SC_JN_FIELD]; /* Jenkins */
  char section_version[SC_JN_FIELD], section_spec_version[SC_JN_FIELD]; /* first named section's */
} sc_jn_manifest;

/* Parses a manifest (modified in place: continuation lines are unfolded).
 * Fields already set in m are kept, so a second MANIFEST.MF does not win.
 * Named sections give only versions (Implementation-, then Specification-). */
void sc_jn_manifest_parse(sc_jn_manifest *m, char *text);

/* "META-INF/maven/<g>/<a>/<file>" (exactly two parts between): writes
 * "g:a" to ga (SC_JN_NAME bytes) and returns 1; else 0. */
int sc_jn_maven_path(const char *entry, const char *file, char *ga);

/* The project's version from a pom.xml: <project><version>, else
 * <project><parent><version>; "" when absent, unresolved ("${...}") or the
 * text is not the simple XML Maven writes.  Writes SC_JN_FIELD bytes. */
void sc_jn_pom_version(const char *xml, char *version);

/* Splits the base name of path: "guava-31.1-jre.jar" -> "guava",
 * "31.1-jre".  The version starts at the first "-<digit>"; without one
 * artifact is the whole stem and version "".  SC_JN_FIELD bytes each. */
void sc_jn_file_name(const char *path, char *artifact, char *version);

/* Name and version of an archive without pom.properties or pom.xml, from
 * its manifest and its path, in this order:
 *   Jenkins plugin   Short-Name + Plugin-Version, group Group-Id or
 *                    org.jenkins-ci.plugins;
 *   OSGi bundle      Bundle-SymbolicName split by sc_jn_bundle, version
 *                    Bundle-Version (else the manifest's, else the file's);
 *   file name        "artifact-1.2.3.jar";
 *   manifest title   Implementation-Title, then Specification-Title;
 *   bare file name   "artifact.jar" with a version from the manifest.
 * Manifest versions: Implementation-Version, Specification-Version, then the
 * first named section's Implementation-Version, Specification-Version.
 * Returns 1 with name (SC_JN_NAME bytes) and version
 * (SC_JN_FIELD bytes) set, 0 when nothing names it. */
int sc_jn_select(const sc_jn_manifest *m, const char *path, char *name, char *version);

/* "group:artifact" from a Bundle-SymbolicName and the file's artifact name
 * (fa, "" when the file name does not carry one), inverting the Maven
 * bundle plugin's default symbolic name (groupId + "." + artifactId; the
 * groupId alone when its last part is the artifactId; the artifactId's
 * leading word dropped when it repeats the groupId's last part):
 *   last dotted part == fa, fa one word   -> bsn : fa          (com.google.guava, guava)
 *   last dotted part == fa, fa "x-y"      -> prefix : fa       (com.fasterxml.jackson.core.jackson-databind)
 *   bsn ends ".x.y" for fa "x-y", y one word -> bsn less ".y" : fa (org.apache.commons.lang3, commons-lang3)
 *   any other fa                          -> bsn : fa          (com.google.oauth-client, google-oauth-client)
 *   no fa                                 -> prefix : last part, or bsn alone without a dot
 * Writes SC_JN_NAME bytes to name. */
void sc_jn_bundle(const char *bsn, const char *fa, char *name);
#endif
