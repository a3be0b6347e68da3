/* sc_version.h - version ordering for every ecosystem the matcher knows.
 *
 * Each scheme implements its ecosystem's own ordering rules:
 *   DPKG      Debian policy: [epoch:]upstream[-revision], `~` sorts before
 *             everything (even the end), letters before other characters.
 *   APK       apk-tools: digits{.digits}[letter]{_suffix[N]}[-rN];
 *             _alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p.
 *   RPM       rpmvercmp on [epoch:]version[-release], with `~` (before the
 *             end) and `^` (after the end, before anything else).
 *   PEP440    Python: epoch!, release, a/b/rc (and spellings alpha, beta, c,
 *             pre, preview), post (post/rev/r/-N), dev, +local; 1.0 == 1.0.0.
 *   SEMVER    SemVer 2 precedence (npm, crates.io, Go, Hex, Pub, ...), lenient:
 *             leading "v" or "go" optional, missing minor/patch are 0, more
 *             than three numeric parts allowed, build metadata (and so Go's
 *             "+incompatible") ignored, Go toolchain "1.21rc2" = 1.21.0-rc2.
 *             Go pseudo-versions are ordinary prereleases and compare as such.
 *   MAVEN     Maven 3.9 ComparableVersion (list items, ".X" read as "-X"):
 *             alpha < beta < milestone < rc = cr < snapshot < "" = ga = final
 *             = release < sp < unknown qualifiers (lexically).
 *   RUBYGEMS  Gem::Version: numeric and letter segments, a letter segment
 *             makes a prerelease; trailing zeros ignored.
 *   NUGET     SEMVER with up to four numeric parts and case-insensitive
 *             prerelease labels.
 *   COMPOSER  Packagist: Composer's VersionParser::normalize (v, +build and
 *             " as alias" dropped, 4 numeric parts, a/b/rc/p/pl spelled
 *             alpha/beta/RC/patch, master = dev-master, 1.x-dev =
 *             1.9999999.9999999.9999999-dev; composer/semver 3, as in
 *             Composer 2), then PHP's version_compare (dev-* branches below
 *             every release):
 *             dev < alpha < beta < RC < number < patch, unknown words
 *             below dev.  Accepts any string (what Composer would refuse is
 *             compared as written, as version_compare does).
 *   GENERIC   anything else: digit runs and letter runs, separators ignored,
 *             zeros dropped as Gem::Version does (1.0-beta = 1-beta), then
 *             prerelease words (dev < alpha < beta < pre < rc < others) <
 *             end of version < post words (p, patch, post, sp) < numbers.
 *             Case-insensitive; leading "v" ignored.
 *
 * All functions are pure (no allocation, no globals) and thread-safe. */
#ifndef CUSTOMS_SC_VERSION_H
#define CUSTOMS_SC_VERSION_H

typedef enum {
  SC_VS_GENERIC = 0,
  SC_VS_DPKG,
  SC_VS_APK,
  SC_VS_RPM,
  SC_VS_PEP440,
  SC_VS_SEMVER,
  SC_VS_MAVEN,
  SC_VS_RUBYGEMS,
  SC_VS_NUGET,
  SC_VS_COMPOSER
} sc_vscheme;

/* Longest version string accepted (bytes); longer is SC_ERR_LIMIT. */
#define SC_VERSION_MAX 512

/* Compares versions a and b under `scheme`; *out gets <0, 0 or >0.
 * Errors: SC_ERR_ARG (NULL argument), SC_ERR_FORMAT (a or b is not a valid
 * version in a scheme that can tell: DPKG, APK, PEP440, SEMVER, NUGET,
 * RUBYGEMS; RPM, MAVEN, COMPOSER and GENERIC accept any string), SC_ERR_LIMIT (longer
 * than SC_VERSION_MAX, or more than 256 Maven items / 32 apk numbers / 16
 * apk suffixes).  Maven's own order is not transitive in rare mixed-
 * qualifier cases ("1" < "1.p." < "1SNAPSHOT" < "1"); this follows Maven. */
int sc_version_cmp(sc_vscheme scheme, const char *a, const char *b, int *out);

/* Checks that v parses under scheme: 0 or the errors of sc_version_cmp. */
int sc_version_valid(sc_vscheme scheme, const char *v);

/* Scheme for an OSV ecosystem name; the part after the first ':' (release,
 * "Debian:12", "Ubuntu:22.04:LTS", "Alpine:v3.19") is ignored.  Unknown or
 * NULL gives SC_VS_GENERIC. */
sc_vscheme sc_vscheme_for_ecosystem(const char *osv_ecosystem);

/* Short lowercase name ("dpkg", "semver", ...), for logs. */
const char *sc_vscheme_name(sc_vscheme scheme);
#endif
