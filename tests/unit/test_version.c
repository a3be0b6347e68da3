/* test_version.c - sc_version comparators against published vectors:
 * dpkg's t-version.c and Debian policy 5.6.12, rpm's rpmvercmp.at, the
 * PEP 440 ordering example, the SemVer 2 precedence list, Maven's
 * ComparableVersionTest, RubyGems' test_gem_version.rb. */
#include "sc_version.h"
#include "sc_inventory.h"
#include "tap.h"

typedef struct {
  sc_vscheme s;
  const char *a, *b;
  int want; /* -1, 0, 1 */
} pair;

static const pair pairs[] = {
    /* dpkg t-version.c (epoch, upstream, revision triples) */
    {SC_VS_DPKG, "0:0-0", "0:0-0", 0},
    {SC_VS_DPKG, "0:0-00", "0:00-0", 0},
    {SC_VS_DPKG, "1:2-3", "1:2-3", 0},
    {SC_VS_DPKG, "0:0-0", "1:0-0", -1},
    {SC_VS_DPKG, "1:0-0", "0:0-0", 1},
    {SC_VS_DPKG, "0:a-0", "0:b-0", -1},
    {SC_VS_DPKG, "0:0-a", "0:0-b", -1},
    {SC_VS_DPKG, "0:1-1", "0:2-1", -1},
    {SC_VS_DPKG, "0:1-1", "0:1-2", -1},
    /* Debian policy: ~~ < ~~a < ~ < (end) < a */
    {SC_VS_DPKG, "1.0~~", "1.0~~a", -1},
    {SC_VS_DPKG, "1.0~~a", "1.0~", -1},
    {SC_VS_DPKG, "1.0~", "1.0", -1},
    {SC_VS_DPKG, "1.0", "1.0a", -1},
    {SC_VS_DPKG, "1.0~rc1-1", "1.0-1", -1},
    {SC_VS_DPKG, "1.0-1", "1.0+b1-1", -1},
    {SC_VS_DPKG, "1.0+dfsg-1", "1.0-1", 1},
    {SC_VS_DPKG, "1.2.3", "1.2.10", -1},
    {SC_VS_DPKG, "7.6p2-4", "7.6-0", 1},
    {SC_VS_DPKG, "1.0-1", "1.0-1ubuntu1", -1},
    {SC_VS_DPKG, "2.36-9+deb12u3", "2.36-9+deb12u4", -1},
    {SC_VS_DPKG, "1:1.0", "9.9", 1},
    {SC_VS_DPKG, "1.0", "0:1.0", 0},
    {SC_VS_DPKG, "1.0a", "1.0+", -1},   /* letters before non-letters */
    {SC_VS_DPKG, "1.0+a", "1.0.a", -1},  /* then ASCII */
    {SC_VS_DPKG, "1.0-0ubuntu0.22.04.1", "1.0-0ubuntu0.22.04.2", -1},
    {SC_VS_DPKG, "3.0.11-1~deb12u2", "3.0.11-1", -1},
    {SC_VS_DPKG, "1:2.38.1-5+deb12u1", "1:2.38.1-5+deb12u1", 0},
    {SC_VS_DPKG, "00001", "1", 0},
    {SC_VS_DPKG, "1.0-1.0-1", "1.0-1.0-2", -1},   /* last hyphen splits */
    /* apk-tools */
    {SC_VS_APK, "2.34", "0.1.0_alpha", 1},
    {SC_VS_APK, "0.1.0_alpha", "0.1.0_alpha", 0},
    {SC_VS_APK, "0.1.0_alpha", "0.1.3_alpha", -1},
    {SC_VS_APK, "0.1.0_alpha2", "0.1.0_alpha", 1},
    {SC_VS_APK, "0.1.0_alpha", "2.2.39-r1", -1},
    {SC_VS_APK, "2.2.39-r1", "1.0.4-r3", 1},
    {SC_VS_APK, "1.0", "1.0-r0", -1},
    {SC_VS_APK, "3.0.12-r0", "3.0.12-r1", -1},
    {SC_VS_APK, "1.36.1-r15", "1.36.1-r7", 1},
    {SC_VS_APK, "1.2.3_p1-r0", "1.2.3-r5", 1},
    {SC_VS_APK, "1.2.3_rc1-r9", "1.2.3-r0", -1},
    {SC_VS_APK, "1.0a", "1.0.1", -1},
    /* apk-tools test/version.data */
    {SC_VS_APK, "1.0.4-r3", "1.0.4-r4", -1},
    {SC_VS_APK, "1.1", "1.1_alpha1", 1},
    {SC_VS_APK, "1.2.1", "1.2", 1},
    {SC_VS_APK, "0.12.3", "0.12", 1},
    {SC_VS_APK, "1.2.11", "1.2.12.1", -1},
    {SC_VS_APK, "3.1_p16", "3.1_p17", -1},
    {SC_VS_APK, "1.06-r6", "006", -1},
    {SC_VS_APK, "006", "1.0.0", 1},
    {SC_VS_APK, "1.2.2-r1", "1.2.2", 1},
    {SC_VS_APK, "20050718-r2", "3.9.8-r5", 1},
    {SC_VS_APK, "3.9.8-r5", "2.01.01_alpha10", 1},
    {SC_VS_APK, "1.00_beta2", "0.9.2", 1},
    {SC_VS_APK, "4.2.52_p2-r1", "4.2.52_p4-r2", -1},
    {SC_VS_APK, "4.2.52_p4-r2", "1.02.07", 1},
    {SC_VS_APK, "3.0.20060720", "20060720", -1},
    {SC_VS_APK, "2.5.1-r8", "2.5.1a-r1", -1},
    {SC_VS_APK, "3.9_pre20060124", "0.01", 1},
    {SC_VS_APK, "1.1.7", "6b-r7", -1},
    {SC_VS_APK, "0.10.0", "0.10.1_rc1", -1},
    {SC_VS_APK, "2.0.2", "1.1a", 1},
    {SC_VS_APK, "1.0-r1", "0.15.1b", 1},
    {SC_VS_APK, "0.15.1b-r2", "0.15.1b", 1},
    {SC_VS_APK, "22.7.3-r1", "22.7", 1},
    {SC_VS_APK, "2.1_pre20", "2.1_pre26", -1},
    {SC_VS_APK, "02.08.01b", "4.77", -1},
    {SC_VS_APK, "3.81", "1.6d", 1},
    {SC_VS_APK, "1.2.07.8", "1.2.12.04", -1},
    {SC_VS_APK, "0.1_pre20060810", "0.1_pre20060817", -1},
    {SC_VS_APK, "0.59s-r11", "0.65", -1},
    {SC_VS_APK, "0.20070118", "0.20070207_rc1", -1},
    {SC_VS_APK, "4.5_p1-r1", "4.5_p1", 1},
    {SC_VS_APK, "0.9.8c-r1", "0.9.8d", -1},
    {SC_VS_APK, "1.7", "1.7b", -1},
    {SC_VS_APK, "1.8.5", "1.8.5_p2", -1},
    {SC_VS_APK, "2.9.11_pre20051101-r3", "2.9.11_pre20051101", 1},
    {SC_VS_APK, "1.6.8_p12-r1", "1.6.8_p9-r2", 1},
    {SC_VS_APK, "2.12r-r4", "2.12r-r5", -1},
    {SC_VS_APK, "0.9.28-r2", "0.9.28.1", -1},
    {SC_VS_APK, "087-r1", "103", -1},
    {SC_VS_APK, "104-r11", "104-r9", 1},
    {SC_VS_APK, "1.2.5_rc2", "0.1", 1},
    {SC_VS_APK, "0.3.4_pre20061029", "0.4.0", -1},
    {SC_VS_APK, "1.3_pre1-r1", "1.3.2", -1},
    {SC_VS_APK, "1.0_p10-r0", "1.0_p9-r0", 1},
    {SC_VS_APK, "0.1.0_alpha_pre2", "0.1.0_alpha", -1},
    {SC_VS_APK, "1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1},
    {SC_VS_APK, "2.2.3-r2", "013", -1},
    {SC_VS_APK, "013", "014-r1", -1},
    {SC_VS_APK, "0.1.23", "5b-r9", -1},
    {SC_VS_APK, "1.12-r8", "1.1.12", 1},
    {SC_VS_APK, "1.0", "0.99.3.20040818", 1},
    {SC_VS_APK, "2.6.1.3-r1", "2.6.1.3", 1},
    {SC_VS_APK, "0.2.0-r1", "0.2.0-r1", 0},
    {SC_VS_APK, "2.16.1-r3", "2.16.1-r3", 0},
    /* rpm tests/rpmvercmp.at */
    {SC_VS_RPM, "1.0", "1.0", 0},
    {SC_VS_RPM, "1.0", "2.0", -1},
    {SC_VS_RPM, "2.0", "1.0", 1},
    {SC_VS_RPM, "2.0.1", "2.0.1", 0},
    {SC_VS_RPM, "2.0", "2.0.1", -1},
    {SC_VS_RPM, "2.0.1", "2.0", 1},
    {SC_VS_RPM, "2.0.1a", "2.0.1a", 0},
    {SC_VS_RPM, "2.0.1a", "2.0.1", 1},
    {SC_VS_RPM, "2.0.1", "2.0.1a", -1},
    {SC_VS_RPM, "5.5p1", "5.5p1", 0},
    {SC_VS_RPM, "5.5p1", "5.5p2", -1},
    {SC_VS_RPM, "5.5p2", "5.5p1", 1},
    {SC_VS_RPM, "5.5p10", "5.5p10", 0},
    {SC_VS_RPM, "5.5p1", "5.5p10", -1},
    {SC_VS_RPM, "5.5p10", "5.5p1", 1},
    {SC_VS_RPM, "10xyz", "10.1xyz", -1},
    {SC_VS_RPM, "10.1xyz", "10xyz", 1},
    {SC_VS_RPM, "xyz10", "xyz10", 0},
    {SC_VS_RPM, "xyz10", "xyz10.1", -1},
    {SC_VS_RPM, "xyz10.1", "xyz10", 1},
    {SC_VS_RPM, "xyz.4", "xyz.4", 0},
    {SC_VS_RPM, "xyz.4", "8", -1},
    {SC_VS_RPM, "8", "xyz.4", 1},
    {SC_VS_RPM, "xyz.4", "2", -1},
    {SC_VS_RPM, "2", "xyz.4", 1},
    {SC_VS_RPM, "5.5p2", "5.6p1", -1},
    {SC_VS_RPM, "5.6p1", "5.5p2", 1},
    {SC_VS_RPM, "5.6p1", "6.5p1", -1},
    {SC_VS_RPM, "6.5p1", "5.6p1", 1},
    {SC_VS_RPM, "6.0.rc1", "6.0", 1},
    {SC_VS_RPM, "6.0", "6.0.rc1", -1},
    {SC_VS_RPM, "10b2", "10a1", 1},
    {SC_VS_RPM, "10a2", "10b2", -1},
    {SC_VS_RPM, "1.0aa", "1.0aa", 0},
    {SC_VS_RPM, "1.0a", "1.0aa", -1},
    {SC_VS_RPM, "1.0aa", "1.0a", 1},
    {SC_VS_RPM, "10.0001", "10.0001", 0},
    {SC_VS_RPM, "10.0001", "10.1", 0},
    {SC_VS_RPM, "10.1", "10.0001", 0},
    {SC_VS_RPM, "10.0001", "10.0039", -1},
    {SC_VS_RPM, "10.0039", "10.0001", 1},
    {SC_VS_RPM, "4.999.9", "5.0", -1},
    {SC_VS_RPM, "5.0", "4.999.9", 1},
    {SC_VS_RPM, "20101121", "20101121", 0},
    {SC_VS_RPM, "20101121", "20101122", -1},
    {SC_VS_RPM, "20101122", "20101121", 1},
    {SC_VS_RPM, "2_0", "2_0", 0},
    {SC_VS_RPM, "2.0", "2_0", 0},
    {SC_VS_RPM, "2_0", "2.0", 0},
    {SC_VS_RPM, "a", "a", 0},
    {SC_VS_RPM, "a+", "a+", 0},
    {SC_VS_RPM, "a+", "a_", 0},
    {SC_VS_RPM, "a_", "a+", 0},
    {SC_VS_RPM, "+a", "+a", 0},
    {SC_VS_RPM, "+a", "_a", 0},
    {SC_VS_RPM, "_a", "+a", 0},
    {SC_VS_RPM, "+_", "+_", 0},
    {SC_VS_RPM, "_+", "+_", 0},
    {SC_VS_RPM, "_+", "_", 0},
    {SC_VS_RPM, "+", "_", 0},
    {SC_VS_RPM, "_", "+", 0},
    {SC_VS_RPM, "1.0~rc1", "1.0~rc1", 0},
    {SC_VS_RPM, "1.0~rc1", "1.0", -1},
    {SC_VS_RPM, "1.0", "1.0~rc1", 1},
    {SC_VS_RPM, "1.0~rc1", "1.0~rc2", -1},
    {SC_VS_RPM, "1.0~rc2", "1.0~rc1", 1},
    {SC_VS_RPM, "1.0~rc1~git123", "1.0~rc1~git123", 0},
    {SC_VS_RPM, "1.0~rc1~git123", "1.0~rc1", -1},
    {SC_VS_RPM, "1.0~rc1", "1.0~rc1~git123", 1},
    {SC_VS_RPM, "1.0^", "1.0^", 0},
    {SC_VS_RPM, "1.0^", "1.0", 1},
    {SC_VS_RPM, "1.0", "1.0^", -1},
    {SC_VS_RPM, "1.0^git1", "1.0^git1", 0},
    {SC_VS_RPM, "1.0^git1", "1.0", 1},
    {SC_VS_RPM, "1.0", "1.0^git1", -1},
    {SC_VS_RPM, "1.0^git1", "1.0^git2", -1},
    {SC_VS_RPM, "1.0^git2", "1.0^git1", 1},
    {SC_VS_RPM, "1.0^git1", "1.01", -1},
    {SC_VS_RPM, "1.01", "1.0^git1", 1},
    {SC_VS_RPM, "1.0^20160101", "1.0^20160101", 0},
    {SC_VS_RPM, "1.0^20160101", "1.0.1", -1},
    {SC_VS_RPM, "1.0.1", "1.0^20160101", 1},
    {SC_VS_RPM, "1.0^20160101^git1", "1.0^20160101^git1", 0},
    {SC_VS_RPM, "1.0^20160102", "1.0^20160101^git1", 1},
    {SC_VS_RPM, "1.0^20160101^git1", "1.0^20160102", -1},
    {SC_VS_RPM, "1.0~rc1^git1", "1.0~rc1^git1", 0},
    {SC_VS_RPM, "1.0~rc1^git1", "1.0~rc1", 1},
    {SC_VS_RPM, "1.0~rc1", "1.0~rc1^git1", -1},
    {SC_VS_RPM, "1.0^git1~pre", "1.0^git1~pre", 0},
    {SC_VS_RPM, "1.0^git1", "1.0^git1~pre", 1},
    {SC_VS_RPM, "1.0^git1~pre", "1.0^git1", -1},
    /* rpm epoch:version-release */
    {SC_VS_RPM, "1:1.0-1", "2.0-1", 1},
    {SC_VS_RPM, "0:1.0-1", "1.0-1", 0},
    {SC_VS_RPM, "1.0-1.el9", "1.0-2.el9", -1},
    {SC_VS_RPM, "1.0-1.el9_1", "1.0-1.el9", 1},
    {SC_VS_RPM, "3.0.7-16.el9_2", "3.0.7-24.el9", -1},
    {SC_VS_RPM, "1:2-2", "1:2", 1}, /* rpm.vercmp: missing release first */
    /* PEP 440 normalisation and spellings */
    {SC_VS_PEP440, "1.0", "1.0.0", 0},
    {SC_VS_PEP440, "1.0a1", "1.0alpha1", 0},
    {SC_VS_PEP440, "1.0a1", "1.0.a.1", 0},
    {SC_VS_PEP440, "1.0b2", "1.0-beta-2", 0},
    {SC_VS_PEP440, "1.0c1", "1.0rc1", 0},
    {SC_VS_PEP440, "1.0pre1", "1.0rc1", 0},
    {SC_VS_PEP440, "1.0preview1", "1.0RC1", 0},
    {SC_VS_PEP440, "1.0-1", "1.0.post1", 0},
    {SC_VS_PEP440, "1.0post1", "1.0-post-1", 0},
    {SC_VS_PEP440, "1.0.rev1", "1.0r1", 0},
    {SC_VS_PEP440, "1.0.post", "1.0.post0", 0},
    {SC_VS_PEP440, "1.0.dev", "1.0.dev0", 0},
    {SC_VS_PEP440, "1.0a", "1.0a0", 0},
    {SC_VS_PEP440, "v1.0", "1.0", 0},
    {SC_VS_PEP440, " 1.0 ", "1.0", 0},
    {SC_VS_PEP440, "1!1.0", "2.0", 1},
    {SC_VS_PEP440, "0!2.0", "2.0", 0},
    {SC_VS_PEP440, "1.0+ubuntu.1", "1.0", 1},
    {SC_VS_PEP440, "1.0+1", "1.0+abc", 1},
    {SC_VS_PEP440, "1.0+abc.1", "1.0+abc.1.1", -1},
    {SC_VS_PEP440, "1.0+ABC", "1.0+abc", 0},
    {SC_VS_PEP440, "1.0+abc-1", "1.0+abc_1", 0},
    {SC_VS_PEP440, "1.1.dev1", "1.1a1", -1},
    {SC_VS_PEP440, "1.0a1.post1", "1.0a1", 1},
    {SC_VS_PEP440, "1.0a1.post1", "1.0a2", -1},
    {SC_VS_PEP440, "2.31.0", "2.4.1", 1},
    {SC_VS_PEP440, "1.0.0.0.1", "1.0", 1},
    {SC_VS_PEP440, "99999999999999999999999.1", "99999999999999999999999.0", 1},
    /* SemVer / npm / Go */
    {SC_VS_SEMVER, "1.0.0+build.1", "1.0.0+build.2", 0},
    {SC_VS_SEMVER, "1.0.0+build.1", "1.0.0", 0},
    {SC_VS_SEMVER, "v1.2.3", "1.2.3", 0},
    {SC_VS_SEMVER, "v2.0.0+incompatible", "v2.0.0", 0},
    {SC_VS_SEMVER, "v2.0.0+incompatible", "v2.0.1", -1},
    {SC_VS_SEMVER, "v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5", -1},
    {SC_VS_SEMVER, "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", -1},
    {SC_VS_SEMVER, "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-0.20200101000000-0123456789ab", -1},
    {SC_VS_SEMVER, "v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-0123456789ab", -1},
    {SC_VS_SEMVER, "v0.0.0-20191109021931-daa7c04131f5", "v0.1.0", -1},
    {SC_VS_SEMVER, "v1.2.4-pre.0.20191109021931-daa7c04131f5", "v1.2.4-pre", 1},
    {SC_VS_SEMVER, "v1.2.4-pre.0.20191109021931-daa7c04131f5", "v1.2.4-pre.1", -1},
    {SC_VS_SEMVER, "go1.21.5", "1.21.5", 0},
    {SC_VS_SEMVER, "1.21", "1.21.0", 0},
    {SC_VS_SEMVER, "go1.21", "1.21.0", 0},
    {SC_VS_SEMVER, "go1.21rc2", "go1.21.0", -1},
    {SC_VS_SEMVER, "go1.21rc2", "go1.21rc1", 1},
    {SC_VS_SEMVER, "1.20.14", "1.21", -1},
    {SC_VS_SEMVER, "1.2.3-1", "1.2.3-a", -1}, /* numeric identifiers first */
    {SC_VS_SEMVER, "1.2.3-Beta", "1.2.3-beta", -1}, /* ASCII order */
    {SC_VS_SEMVER, "1.10.0", "1.9.0", 1},
    /* NuGet */
    {SC_VS_NUGET, "1.0.0.0", "1.0", 0},
    {SC_VS_NUGET, "1.0.0-ALPHA", "1.0.0-alpha", 0},
    {SC_VS_NUGET, "1.0.0.1", "1.0.0", 1},
    {SC_VS_NUGET, "1.0.0-beta", "1.0.0", -1},
    {SC_VS_NUGET, "1.0.0.1-rc.1", "1.0.0.1-rc.2", -1},
    {SC_VS_NUGET, "13.0.1", "13.0.3", -1},
    /* Maven ComparableVersionTest: equalities and pairs */
    {SC_VS_MAVEN, "1", "1", 0},
    {SC_VS_MAVEN, "1", "1.0", 0},
    {SC_VS_MAVEN, "1", "1.0.0", 0},
    {SC_VS_MAVEN, "1.0", "1.0.0", 0},
    {SC_VS_MAVEN, "1", "1-0", 0},
    {SC_VS_MAVEN, "1", "1.0-0", 0},
    {SC_VS_MAVEN, "1.0", "1.0-0", 0},
    {SC_VS_MAVEN, "1a", "1-a", 0},
    {SC_VS_MAVEN, "1a", "1.0-a", 0},
    {SC_VS_MAVEN, "1a", "1.0.0-a", 0},
    {SC_VS_MAVEN, "1.0a", "1-a", 0},
    {SC_VS_MAVEN, "1.0.0a", "1-a", 0},
    {SC_VS_MAVEN, "1x", "1-x", 0},
    {SC_VS_MAVEN, "1x", "1.0-x", 0},
    {SC_VS_MAVEN, "1x", "1.0.0-x", 0},
    {SC_VS_MAVEN, "1.0x", "1-x", 0},
    {SC_VS_MAVEN, "1.0.0x", "1-x", 0},
    {SC_VS_MAVEN, "1ga", "1", 0},
    {SC_VS_MAVEN, "1release", "1", 0},
    {SC_VS_MAVEN, "1final", "1", 0},
    {SC_VS_MAVEN, "1cr", "1rc", 0},
    {SC_VS_MAVEN, "1a1", "1-alpha-1", 0},
    {SC_VS_MAVEN, "1b2", "1-beta-2", 0},
    {SC_VS_MAVEN, "1m3", "1-milestone-3", 0},
    {SC_VS_MAVEN, "1X", "1x", 0},
    {SC_VS_MAVEN, "1A", "1a", 0},
    {SC_VS_MAVEN, "1B", "1b", 0},
    {SC_VS_MAVEN, "1M", "1m", 0},
    {SC_VS_MAVEN, "1Ga", "1", 0},
    {SC_VS_MAVEN, "1GA", "1", 0},
    {SC_VS_MAVEN, "1RELEASE", "1", 0},
    {SC_VS_MAVEN, "1Final", "1", 0},
    {SC_VS_MAVEN, "1CR", "1RC", 0},
    {SC_VS_MAVEN, "1", "2", -1},
    {SC_VS_MAVEN, "1.5", "2", -1},
    {SC_VS_MAVEN, "1", "2.5", -1},
    {SC_VS_MAVEN, "1.0", "1.1", -1},
    {SC_VS_MAVEN, "1.1", "1.2", -1},
    {SC_VS_MAVEN, "1.0.0", "1.1", -1},
    {SC_VS_MAVEN, "1.0.1", "1.1", -1},
    {SC_VS_MAVEN, "1.1", "1.2.0", -1},
    {SC_VS_MAVEN, "1.0-alpha-1", "1.0", -1},
    {SC_VS_MAVEN, "1.0-alpha-1", "1.0-alpha-2", -1},
    {SC_VS_MAVEN, "1.0-alpha-1", "1.0-beta-1", -1},
    {SC_VS_MAVEN, "1.0-beta-1", "1.0-SNAPSHOT", -1},
    {SC_VS_MAVEN, "1.0-SNAPSHOT", "1.0", -1},
    {SC_VS_MAVEN, "1.0-alpha-1-SNAPSHOT", "1.0-alpha-1", -1},
    {SC_VS_MAVEN, "1.0", "1.0-1", -1},
    {SC_VS_MAVEN, "1.0-1", "1.0-2", -1},
    {SC_VS_MAVEN, "1.0.0", "1.0-1", -1},
    {SC_VS_MAVEN, "2.0-1", "2.0.1", -1},
    {SC_VS_MAVEN, "2.0.1-klm", "2.0.1-lmn", -1},
    {SC_VS_MAVEN, "2.0.1", "2.0.1-xyz", -1},
    {SC_VS_MAVEN, "2.0.1", "2.0.1-123", -1},
    {SC_VS_MAVEN, "2.0.1-xyz", "2.0.1-123", -1},
    {SC_VS_MAVEN, "2.17.0", "2.17.1", -1},
    {SC_VS_MAVEN, "2.15.0-rc1", "2.15.0", -1},
    {SC_VS_MAVEN, "2.0.a", "2.0.0.a", 0},          /* Maven 3.9 */
    {SC_VS_MAVEN, "1.0.0.X1", "1.0.0-X2", -1},
    {SC_VS_MAVEN, "1.0.0.RC1", "1.0.0-RC1", 0},
    {SC_VS_MAVEN, "1.0.0.Final", "1", 0},
    {SC_VS_MAVEN, "0-00.sp-releasefinal", "0", 1}, /* MNG-6964: whole list vs nothing */
    /* RubyGems test_gem_version.rb */
    {SC_VS_RUBYGEMS, "1.2", "1.2.0", 0},
    {SC_VS_RUBYGEMS, "1.2.b1", "1.2.b.1", 0},
    {SC_VS_RUBYGEMS, "1.0", "1.0.0", 0},
    {SC_VS_RUBYGEMS, "1.0", "1.0.a", 1},
    {SC_VS_RUBYGEMS, "1.8.2", "0.0.0", 1},
    {SC_VS_RUBYGEMS, "1.8.2", "1.8.2.a", 1},
    {SC_VS_RUBYGEMS, "1.8.2.b", "1.8.2.a", 1},
    {SC_VS_RUBYGEMS, "1.8.2.a", "1.8.2", -1},
    {SC_VS_RUBYGEMS, "1.8.2.a10", "1.8.2.a9", 1},
    {SC_VS_RUBYGEMS, "", "0", 0},
    {SC_VS_RUBYGEMS, "0.beta.1", "0.0.beta.1", 0},
    {SC_VS_RUBYGEMS, "0.0.beta", "0.0.beta.1", -1},
    {SC_VS_RUBYGEMS, "0.0.beta", "0.beta.1", -1},
    {SC_VS_RUBYGEMS, "5.a", "5.0.0.rc2", -1},
    {SC_VS_RUBYGEMS, "5.x", "5.0.0.rc2", 1},
    {SC_VS_RUBYGEMS, "1.0-1", "1.0.pre.1", 0},
    {SC_VS_RUBYGEMS, "7.0.8.1", "7.0.8", 1},
    /* generic */
    {SC_VS_GENERIC, "1.2", "1.10", -1},
    {SC_VS_GENERIC, "1.0rc1", "1.0", -1},
    {SC_VS_GENERIC, "1.0-beta", "1.0-rc1", -1},
    {SC_VS_GENERIC, "1.0-dev", "1.0-alpha", -1},
    {SC_VS_GENERIC, "1.0", "1.0.0", 0},
    {SC_VS_GENERIC, "1.0-patch1", "1.0", 1},
    {SC_VS_GENERIC, "1.0-patch1", "1.0.1", -1},
    {SC_VS_GENERIC, "v1.2", "1.2", 0},
    {SC_VS_GENERIC, "2023.01.02", "2023.1.10", -1},
    {SC_VS_GENERIC, "1.0.0-BETA1", "1.0.0-beta1", 0},
    {SC_VS_GENERIC, "1.0-beta", "1", -1},
    {SC_VS_GENERIC, "1.0a1", "1.0-alpha-1", 0},
    {SC_VS_GENERIC, "1.0-foo", "1.0-bar", 1},
    {SC_VS_GENERIC, "1.0-foo", "1.0", -1},
    {SC_VS_GENERIC, "1^0", "1post", -1}, /* transitivity: 1^0 = 1 < 1post */
};

/* Strictly increasing sequences: every pair (i < j) must compare -1. */
typedef struct {
  sc_vscheme s;
  const char *v[26];
} chain;

static const chain chains[] = {
    {SC_VS_PEP440, /* PEP 440, "Summary of permitted suffixes and relative ordering" */
     {"1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
      "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0",
      "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1"}},
    {SC_VS_SEMVER, /* SemVer 2.0.0, section 11 */
     {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
      "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"}},
    {SC_VS_MAVEN, /* ComparableVersionTest VERSIONS_QUALIFIER */
     {"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11",
      "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def",
      "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123"}},
    {SC_VS_MAVEN, /* ComparableVersionTest VERSIONS_NUMBER (Maven 3.9: ".a" reads as "-a") */
     {"2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c",
      "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
      "11", "11.a", "11b", "11c", "11m"}},
    {SC_VS_APK,
     {"1.0_alpha", "1.0_alpha2", "1.0_beta", "1.0_beta3_pre2", "1.0_pre1", "1.0_rc1", "1.0",
      "1.0-r1", "1.0-r2", "1.0_cvs", "1.0_svn", "1.0_git", "1.0_hg", "1.0_p1", "1.0_p2", "1.0a",
      "1.0b", "1.0.1", "1.2", "1.10"}},
    {SC_VS_DPKG,
     {"1.0~~", "1.0~~a", "1.0~", "1.0~rc1", "1.0", "1.0-0.1", "1.0-1~bpo1", "1.0-1", "1.0-1+b1",
      "1.0-1.1", "1.0a", "1.0+dfsg", "1.0.1", "1:0.1"}},
    {SC_VS_RUBYGEMS, {"1.0.a", "1.0.a.1", "1.0.b", "1.0.rc1", "1.0", "1.0.1", "1.1", "2"}},
};

typedef struct {
  sc_vscheme s;
  const char *v;
} bad;

static const bad bads[] = {
    {SC_VS_DPKG, ""}, {SC_VS_DPKG, "a:1.0"}, {SC_VS_DPKG, ":1.0"}, {SC_VS_DPKG, "1.0-"},
    {SC_VS_DPKG, "1:"}, {SC_VS_DPKG, "1.0 2"}, {SC_VS_DPKG, "1.0_1"}, {SC_VS_DPKG, "1.0-a_b"},
    {SC_VS_APK, ""}, {SC_VS_APK, "abc"}, {SC_VS_APK, "1.0bc"}, {SC_VS_APK, "1.0-1"},
    {SC_VS_APK, "1..0"}, {SC_VS_APK, "23_foo"}, {SC_VS_APK, "1.0-r"}, {SC_VS_APK, "1.0A"},
    {SC_VS_PEP440, ""}, {SC_VS_PEP440, "abc"}, {SC_VS_PEP440, "1.0-"}, {SC_VS_PEP440, "1.0+"},
    {SC_VS_PEP440, "1.0+a..b"}, {SC_VS_PEP440, "1..0"}, {SC_VS_PEP440, "1.0 a"},
    {SC_VS_PEP440, "1.0final"}, {SC_VS_PEP440, "1!"},
    {SC_VS_SEMVER, ""}, {SC_VS_SEMVER, "1.0.0-"}, {SC_VS_SEMVER, "1.0.0+"},
    {SC_VS_SEMVER, "a.b.c"}, {SC_VS_SEMVER, "1.0.0-al_pha"}, {SC_VS_SEMVER, "1.0.0 x"},
    {SC_VS_SEMVER, "1.0.0-a..b"}, {SC_VS_SEMVER, "v"},
    {SC_VS_NUGET, "1.0.0.0.0"},
    {SC_VS_RUBYGEMS, "a.1"}, {SC_VS_RUBYGEMS, "1.0 1"}, {SC_VS_RUBYGEMS, "1..0"},
};

static int cmp(sc_vscheme s, const char *a, const char *b) {
  int r = 99;
  int rc = sc_version_cmp(s, a, b, &r);
  return rc ? 100 + rc : r;
}

int main(void) {
  for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
    const pair *p = &pairs[i];
    CHECK_INT(cmp(p->s, p->a, p->b), p->want, "%s: %s vs %s", sc_vscheme_name(p->s), p->a, p->b);
    CHECK_INT(cmp(p->s, p->b, p->a), -p->want, "%s: %s vs %s (reversed)", sc_vscheme_name(p->s), p->b, p->a);
  }
  for (size_t c = 0; c < sizeof(chains) / sizeof(chains[0]); c++) {
    const chain *ch = &chains[c];
    size_t n = 0;
    while (n < 26 && ch->v[n]) n++;
    int bad_pairs = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) {
        int want = i < j ? -1 : i > j ? 1 : 0;
        int got = cmp(ch->s, ch->v[i], ch->v[j]);
        if (got != want) {
          bad_pairs++;
          printf("# %s: %s vs %s = %d, want %d\n", sc_vscheme_name(ch->s), ch->v[i], ch->v[j], got, want);
        }
      }
    CHECK_INT(bad_pairs, 0, "%s ordering chain %zu (%zu versions, all pairs)", sc_vscheme_name(ch->s), c, n);
  }
  for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
    int r;
    CHECK_INT(sc_version_cmp(bads[i].s, bads[i].v, "1", &r), SC_ERR_FORMAT, "%s rejects '%s'",
              sc_vscheme_name(bads[i].s), bads[i].v);
    CHECK_INT(sc_version_valid(bads[i].s, bads[i].v), SC_ERR_FORMAT, "%s: '%s' not valid",
              sc_vscheme_name(bads[i].s), bads[i].v);
  }
  /* arguments and caps */
  int r;
  CHECK_INT(sc_version_cmp(SC_VS_DPKG, NULL, "1", &r), SC_ERR_ARG, "NULL version");
  CHECK_INT(sc_version_cmp(SC_VS_DPKG, "1", "1", NULL), SC_ERR_ARG, "NULL out");
  char big[SC_VERSION_MAX + 16];
  memset(big, '1', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  CHECK_INT(sc_version_cmp(SC_VS_GENERIC, big, "1", &r), SC_ERR_LIMIT, "over-long version");
  /* a long but legal Maven version with many items hits the arena cap, not the stack */
  char many[SC_VERSION_MAX];
  for (size_t i = 0; i + 2 < sizeof(many); i += 2) many[i] = '1', many[i + 1] = '-';
  many[sizeof(many) - 2] = '1';
  many[sizeof(many) - 1] = 0;
  CHECK_INT(sc_version_cmp(SC_VS_MAVEN, many, "1", &r), SC_ERR_LIMIT, "maven item cap");
  CHECK_INT(sc_version_cmp(SC_VS_RPM, "", "", &r), 0, "rpm accepts empty");
  CHECK_INT(r, 0, "rpm empty == empty");
  CHECK_INT(sc_version_valid(SC_VS_DPKG, "1:2.38.1-5+deb12u1"), 0, "valid dpkg");

  /* ecosystems */
  static const struct {
    const char *eco;
    sc_vscheme s;
  } ecos[] = {
      {"Debian:12", SC_VS_DPKG},     {"Ubuntu:22.04", SC_VS_DPKG},
      {"Ubuntu:22.04:LTS", SC_VS_DPKG}, {"Ubuntu:Pro:18.04:LTS", SC_VS_DPKG},
      {"Alpine:v3.19", SC_VS_APK},   {"Wolfi", SC_VS_APK},
      {"PyPI", SC_VS_PEP440},        {"npm", SC_VS_SEMVER},
      {"Go", SC_VS_SEMVER},          {"Maven", SC_VS_MAVEN},
      {"crates.io", SC_VS_SEMVER},   {"RubyGems", SC_VS_RUBYGEMS},
      {"Packagist", SC_VS_COMPOSER}, {"NuGet", SC_VS_NUGET},
      {"Red Hat", SC_VS_RPM},        {"Red Hat:enterprise_linux:9::appstream", SC_VS_RPM},
      {"Rocky Linux:9", SC_VS_RPM},  {"AlmaLinux:8", SC_VS_RPM},
      {"openSUSE:Leap 15.5", SC_VS_RPM}, {"Hackage", SC_VS_GENERIC},
      {"Nonsense", SC_VS_GENERIC},   {"", SC_VS_GENERIC},
      {"Debianx", SC_VS_GENERIC},
  };
  for (size_t i = 0; i < sizeof(ecos) / sizeof(ecos[0]); i++)
    CHECK_INT(sc_vscheme_for_ecosystem(ecos[i].eco), ecos[i].s, "ecosystem '%s' -> %s", ecos[i].eco,
              sc_vscheme_name(ecos[i].s));
  CHECK_INT(sc_vscheme_for_ecosystem(NULL), SC_VS_GENERIC, "NULL ecosystem");
  return tap_done();
}
