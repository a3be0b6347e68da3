/* test_range.c - OSV range evaluation: introduced/fixed/last_affected,
 * unsorted events, several intervals, "0", limit, boundaries. */
#include "sc_range.h"
#include "sc_inventory.h"
#include "tap.h"

#define I(v) {SC_EV_INTRODUCED, v}
#define F(v) {SC_EV_FIXED, v}
#define L(v) {SC_EV_LAST_AFFECTED, v}
#define LIM(v) {SC_EV_LIMIT, v}

typedef struct {
  const char *name;
  sc_vscheme s;
  sc_event ev[8];
  size_t nev;
  const char *version;
  int want;            /* affected 0/1 */
  const char *fixed;   /* sc_range_fixed_for, NULL for none */
} tcase;

static const tcase cases[] = {
    {"introduced 0 fixed, below", SC_VS_SEMVER, {I("0"), F("1.2.3")}, 2, "1.2.2", 1, "1.2.3"},
    {"introduced 0 fixed, equal to fixed", SC_VS_SEMVER, {I("0"), F("1.2.3")}, 2, "1.2.3", 0, NULL},
    {"introduced 0 fixed, above", SC_VS_SEMVER, {I("0"), F("1.2.3")}, 2, "1.3.0", 0, NULL},
    {"prerelease of fixed is affected", SC_VS_SEMVER, {I("0"), F("1.2.3")}, 2, "1.2.3-rc.1", 1, "1.2.3"},
    {"below introduced", SC_VS_SEMVER, {I("1.0.0"), F("1.2.3")}, 2, "0.9.9", 0, "1.2.3"},
    {"equal to introduced", SC_VS_SEMVER, {I("1.0.0"), F("1.2.3")}, 2, "1.0.0", 1, "1.2.3"},
    {"last_affected equal", SC_VS_SEMVER, {I("1.0.0"), L("1.4.0")}, 2, "1.4.0", 1, NULL},
    {"last_affected above", SC_VS_SEMVER, {I("1.0.0"), L("1.4.0")}, 2, "1.4.1", 0, NULL},
    {"only introduced: open range", SC_VS_SEMVER, {I("2.0.0")}, 1, "99.0.0", 1, NULL},
    {"only introduced 0", SC_VS_PEP440, {I("0")}, 1, "0.0.1", 1, NULL},
    {"unsorted events", SC_VS_SEMVER, {F("1.2.3"), F("2.1.0"), I("2.0.0"), I("0")}, 4, "2.0.5", 1, "2.1.0"},
    {"unsorted, gap between intervals", SC_VS_SEMVER, {F("2.1.0"), I("2.0.0"), F("1.2.3"), I("0")}, 4, "1.5.0", 0, "2.1.0"},
    {"unsorted, first interval", SC_VS_SEMVER, {F("2.1.0"), I("2.0.0"), F("1.2.3"), I("0")}, 4, "1.2.0", 1, "1.2.3"},
    {"after last interval", SC_VS_SEMVER, {I("0"), F("1.2.3"), I("2.0.0"), F("2.1.0")}, 4, "2.1.0", 0, NULL},
    {"three intervals, middle", SC_VS_PEP440,
     {I("1.0"), F("1.1"), I("2.0"), F("2.0.5"), I("3.0"), F("3.2")}, 6, "2.0.4", 1, "2.0.5"},
    {"three intervals, in gap", SC_VS_PEP440,
     {I("1.0"), F("1.1"), I("2.0"), F("2.0.5"), I("3.0"), F("3.2")}, 6, "2.9", 0, "3.2"},
    {"pep440 normalisation equal to fixed", SC_VS_PEP440, {I("0"), F("2.0")}, 2, "2.0.0", 0, NULL},
    {"pep440 prerelease before fixed", SC_VS_PEP440, {I("0"), F("2.0")}, 2, "2.0rc1", 1, "2.0"},
    {"limit caps the range (below)", SC_VS_SEMVER, {I("1.0.0"), LIM("1.5.0")}, 2, "1.4.9", 1, NULL},
    {"limit caps the range (at)", SC_VS_SEMVER, {I("1.0.0"), LIM("1.5.0")}, 2, "1.5.0", 0, NULL},
    {"limit '*' is no limit", SC_VS_SEMVER, {I("1.0.0"), LIM("*")}, 2, "9.0.0", 1, NULL},
    {"dpkg: epoch and tilde", SC_VS_DPKG, {I("0"), F("1:2.3-1")}, 2, "1:2.3~rc1-1", 1, "1:2.3-1"},
    {"dpkg: debian security fix", SC_VS_DPKG, {I("0"), F("3.0.11-1~deb12u2")}, 2, "3.0.11-1~deb12u1", 1, "3.0.11-1~deb12u2"},
    {"dpkg: newer than fix", SC_VS_DPKG, {I("0"), F("3.0.11-1~deb12u2")}, 2, "3.0.13-1~deb12u1", 0, NULL},
    {"apk: revision bump fixes", SC_VS_APK, {I("0"), F("3.1.4-r5")}, 2, "3.1.4-r4", 1, "3.1.4-r5"},
    {"go pseudo-version before fix", SC_VS_SEMVER, {I("0"), F("0.17.0")}, 2, "v0.0.0-20220722155217-630584e8d5aa", 1, "0.17.0"},
    {"go +incompatible", SC_VS_SEMVER, {I("2.0.0+incompatible"), F("2.3.0+incompatible")}, 2, "v2.2.1+incompatible", 1, "2.3.0+incompatible"},
    {"maven", SC_VS_MAVEN, {I("2.0-beta9"), F("2.15.0")}, 2, "2.14.1", 1, "2.15.0"},
    {"maven rc before fix", SC_VS_MAVEN, {I("2.0-beta9"), F("2.15.0")}, 2, "2.15.0-rc1", 1, "2.15.0"},
    {"introduced == fixed: empty", SC_VS_SEMVER, {I("1.0.0"), F("1.0.0")}, 2, "1.0.0", 0, NULL},
    {"introduced == last_affected: single version", SC_VS_SEMVER, {L("1.0.0"), I("1.0.0")}, 2, "1.0.0", 1, NULL},
    {"introduced == last_affected: next not", SC_VS_SEMVER, {L("1.0.0"), I("1.0.0")}, 2, "1.0.1", 0, NULL},
    {"no events", SC_VS_SEMVER, {I("0")}, 0, "1.0.0", 0, NULL},
    {"fixed_for picks the lowest", SC_VS_SEMVER, {I("0"), F("3.0.0"), F("1.5.0"), F("2.0.0")}, 4, "1.0.0", 1, "1.5.0"},
};

int main(void) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const tcase *t = &cases[i];
    int aff = -1;
    int rc = sc_range_affected(t->s, t->ev, t->nev, t->version, &aff);
    CHECK_INT(rc, 0, "%s: rc", t->name);
    CHECK_INT(aff, t->want, "%s: %s affected", t->name, t->version);
    CHECK_STR(sc_range_fixed_for(t->s, t->ev, t->nev, t->version), t->fixed, "%s: fixed_for", t->name);
  }
  /* every permutation order of a two-interval range gives the same answers */
  const sc_event base[4] = {I("0"), F("1.2.3"), I("2.0.0"), F("2.1.0")};
  const char *probe[] = {"0.1.0", "1.2.3", "1.9.9", "2.0.0", "2.0.9", "2.1.0", "3.0.0"};
  const int want[] = {1, 0, 0, 1, 1, 0, 0};
  int perms = 0, wrong = 0;
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++)
      for (int c = 0; c < 4; c++) {
        int d = 6 - a - b - c;
        if (a == b || a == c || b == c || d < 0 || d > 3 || d == a || d == b || d == c) continue;
        sc_event ev[4] = {base[a], base[b], base[c], base[d]};
        perms++;
        for (size_t k = 0; k < 7; k++) {
          int aff;
          if (sc_range_affected(SC_VS_SEMVER, ev, 4, probe[k], &aff) || aff != want[k]) wrong++;
        }
      }
  CHECK_INT(perms, 24, "all 24 event orders tried");
  CHECK_INT(wrong, 0, "event order does not change the answer");

  /* errors */
  int aff = 7;
  const sc_event ok[2] = {I("0"), F("1.0.0")};
  const sc_event badev[2] = {I("0"), F("not a version")};
  const sc_event nullev[2] = {I("0"), {SC_EV_FIXED, NULL}};
  CHECK_INT(sc_range_affected(SC_VS_SEMVER, ok, 2, "garbage!", &aff), SC_ERR_FORMAT, "bad version");
  CHECK_INT(aff, 0, "affected cleared on error");
  CHECK_INT(sc_range_affected(SC_VS_SEMVER, badev, 2, "0.5.0", &aff), SC_ERR_FORMAT, "bad event version");
  CHECK_INT(sc_range_affected(SC_VS_SEMVER, nullev, 2, "0.5.0", &aff), SC_ERR_ARG, "NULL event version");
  CHECK_INT(sc_range_affected(SC_VS_SEMVER, ok, 2, NULL, &aff), SC_ERR_ARG, "NULL version");
  CHECK_INT(sc_range_affected(SC_VS_SEMVER, ok, 2, "1.0.0", NULL), SC_ERR_ARG, "NULL out");
  CHECK_INT(sc_range_affected(SC_VS_SEMVER, NULL, 2, "1.0.0", &aff), SC_ERR_ARG, "NULL events");
  CHECK(sc_range_fixed_for(SC_VS_SEMVER, badev, 2, "0.5.0") == NULL, "fixed_for skips unparsable");
  CHECK(sc_range_fixed_for(SC_VS_SEMVER, NULL, 0, "0.5.0") == NULL, "fixed_for NULL events");
  return tap_done();
}
