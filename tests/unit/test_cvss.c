/* test_cvss.c - CVSS scoring against published scores: the example vectors
 * of the CVSS v3.1 "Examples" document (same scores under v3.0), the CVSS v2
 * guide, FIRST's CVSS v4.0 calculator; v3.0 vs v3.1 rounding; malformed
 * vectors; severity names. */
#include <math.h>

#include "sc_cvss.h"
#include "sc_inventory.h"
#include "tap.h"

typedef struct {
  const char *what, *vector; /* v3 vectors without the "CVSS:3.x/" prefix */
  double score;
} ex;

static const ex v3ex[] = {
    {"CVE-2013-1937 phpMyAdmin reflected XSS", "AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
    {"CVE-2013-0375 MySQL stored SQLi", "AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},
    {"CVE-2014-3566 SSLv3 POODLE", "AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},
    {"CVE-2012-1516 VMware guest to host escape", "AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},
    {"CVE-2009-0783 Tomcat XML parser", "AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2},
    {"CVE-2012-0384 Cisco IOS command execution", "AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8},
    {"CVE-2015-1098 Apple iWork DoS", "AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8},
    {"CVE-2014-0160 Heartbleed", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},
    {"CVE-2014-6271 Shellshock", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
    {"CVE-2008-1447 DNS Kaminsky", "AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8},
    {"CVE-2014-2005 Sophos login bypass", "AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8},
    {"CVE-2010-0467 Joomla directory traversal", "AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8},
    {"CVE-2012-1342 Cisco ACL bypass", "AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8},
    {"CVE-2013-6014 Juniper proxy ARP DoS", "AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3},
    {"CVE-2014-9253 DokuWiki reflected XSS", "AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4},
    {"CVE-2011-1265 Windows Bluetooth RCE", "AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8},
    {"CVE-2014-2019 iOS security control bypass", "AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 4.6},
    {"CVE-2015-0970 SearchBlox CSRF", "AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8},
    {"CVE-2014-0224 OpenSSL CCS injection", "AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4},
    {"CVE-2016-1645 Chrome PDFium JPEG2000", "AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8},
    {"CVE-2016-0128 Badlock", "AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8},
    {"CVE-2004-0230 TCP reset", "AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L", 3.7},
    {"no impact", "AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
};

static const ex v2ex[] = { /* CVSS v2 guide, section 3.3 */
    {"CVE-2002-0392 Apache chunked encoding", "AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8},
    {"CVE-2003-0818 Windows ASN.1", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0},
    {"CVE-2003-0062 NOD32 buffer overflow", "AV:L/AC:H/Au:N/C:C/I:C/A:C", 6.2},
    {"CVE-2014-0160 Heartbleed (NVD v2)", "AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0},
    {"parenthesised", "(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 7.5},
    {"CVSS:2.0 prefix", "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5},
    {"temporal/environmental tolerated", "AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC/RL:OF/RC:C/CDP:LM/TD:H/CR:M/IR:ND/AR:H", 7.5},
};

/* CVSS v4.0: base (CVSS-B) and full (CVSS-BTE) scores as FIRST's calculator gives them */
static const struct {
  const char *vector;
  double base, full;
} v4ex[] = {
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, 9.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9, 6.9},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A", 9.3, 8.7},
    {"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5, 8.5},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:P/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 2.1, 2.1},
    {"CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 8.6, 8.6},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 9.3, 8.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.1, 5.1},
    {"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/MSI:S", 5.3, 7.9},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, 0.0},
    /* metrics in another order, supplemental metrics do not change the score */
    {"CVSS:4.0/SA:N/SI:N/SC:N/VA:H/VI:H/VC:H/UI:N/PR:N/AT:N/AC:L/AV:N/S:P/AU:Y/R:A/V:C/RE:H/U:Red", 9.3, 9.3},
};

static const char *const malformed[] = {
    "",
    "CVSS:3.1",
    "CVSS:3.1/",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",              /* missing A */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H",      /* duplicate */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X",          /* bad value */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:h",          /* case matters */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",         /* trailing slash */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y",     /* unknown metric */
    "CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",         /* empty part */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:Q",      /* bad temporal value */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:X/MAV:N",
    "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:X/C:H/I:H/A:H",
    "CVSS:3.1/AVN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SI:N/SA:N",       /* missing SC */
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",  /* S only in MSI */
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  /* v3 UI value */
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red",
    "CVSS:4.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",                      /* v3 metrics under 4.0 */
    "AV:N/AC:L/Au:N/C:P/I:P",                                             /* v2 missing A */
    "AV:N/AC:L/Au:X/C:P/I:P/A:P",
    "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",                                /* v3 without prefix */
    "garbage",
};

static int close1(double a, double b) { return fabs(a - b) < 0.001; }

int main(void) {
  double s;
  sc_severity sev;
  char buf[256];
  for (size_t i = 0; i < sizeof(v3ex) / sizeof(v3ex[0]); i++) {
    for (int minor = 0; minor <= 1; minor++) {
      snprintf(buf, sizeof(buf), "CVSS:3.%d/%s", minor, v3ex[i].vector);
      s = -1;
      int rc = sc_cvss_score(buf, &s, &sev);
      CHECK(rc == 0 && close1(s, v3ex[i].score), "v3.%d %s: %.1f (got %.1f, rc %d)", minor, v3ex[i].what,
            v3ex[i].score, s, rc);
      CHECK_INT(sev, sc_severity_from_score(v3ex[i].score), "v3.%d %s: severity", minor, v3ex[i].what);
    }
  }
  for (size_t i = 0; i < sizeof(v2ex) / sizeof(v2ex[0]); i++) {
    s = -1;
    int rc = sc_cvss_score(v2ex[i].vector, &s, NULL);
    CHECK(rc == 0 && close1(s, v2ex[i].score), "v2 %s: %.1f (got %.1f, rc %d)", v2ex[i].what, v2ex[i].score, s, rc);
  }
  CHECK(sc_cvss_score("AV:N/AC:L/Au:N/C:C/I:C/A:C", NULL, &sev) == 0 && sev == SC_SEV_HIGH,
        "v2 10.0 is high on NVD's v2 scale");
  for (size_t i = 0; i < sizeof(v4ex) / sizeof(v4ex[0]); i++) {
    sc_cvss_detail d;
    int rc = sc_cvss_scores(v4ex[i].vector, &d);
    CHECK(rc == 0 && d.version == 40 && close1(d.base, v4ex[i].base), "v4 base %.1f (got %.1f): %s",
          v4ex[i].base, d.base, v4ex[i].vector);
    CHECK(rc == 0 && close1(d.environmental, v4ex[i].full), "v4 full %.1f (got %.1f): %s", v4ex[i].full,
          d.environmental, v4ex[i].vector);
  }

  /* temporal and environmental v3 */
  sc_cvss_detail d;
  CHECK(sc_cvss_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/CR:H/MAV:L", &d) == 0 &&
            close1(d.base, 9.8) && close1(d.temporal, 9.3) && close1(d.environmental, 7.9),
        "v3.1 temporal 9.3 and environmental 7.9 (got %.1f/%.1f)", d.temporal, d.environmental);
  /* v3.0's ceil(x*10)/10 sees 10 * 0.92 = 9.200000000000001 and rounds up;
   * v3.1's integer Roundup does not */
  double t30, t31;
  sc_cvss_scores("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/E:H/RL:U/RC:U", &d);
  t30 = d.temporal;
  sc_cvss_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/E:H/RL:U/RC:U", &d);
  t31 = d.temporal;
  CHECK(close1(t30, 9.3) && close1(t31, 9.2), "v3.0 roundup 9.3 vs v3.1 Roundup 9.2 (got %.1f, %.1f)", t30, t31);
  /* v3.1 changed the scope-changed ModifiedImpact formula */
  sc_cvss_scores("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/CR:H/IR:H/AR:H", &d);
  t30 = d.environmental;
  sc_cvss_scores("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/CR:H/IR:H/AR:H", &d);
  t31 = d.environmental;
  CHECK(close1(t30, 9.9) && close1(t31, 10.0), "v3.0 env 9.9 vs v3.1 env 10.0 (got %.1f, %.1f)", t30, t31);
  CHECK(sc_cvss_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &d) == 0 && d.version == 31,
        "version 31");
  CHECK(sc_cvss_scores("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &d) == 0 && d.version == 30,
        "version 30");
  CHECK(sc_cvss_scores(" CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n", &d) == 0 && close1(d.base, 9.8),
        "surrounding whitespace tolerated");

  /* malformed */
  for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
    CHECK_INT(sc_cvss_score(malformed[i], &s, &sev), SC_ERR_FORMAT, "rejects '%s'", malformed[i]);
  CHECK_INT(sc_cvss_score("CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s, &sev), SC_ERR_UNSUPP,
            "unknown version");
  CHECK_INT(sc_cvss_score("CVSS:5.0/AV:N", &s, &sev), SC_ERR_UNSUPP, "CVSS:5.0");
  CHECK_INT(sc_cvss_score(NULL, &s, &sev), SC_ERR_ARG, "NULL vector");
  char big[SC_CVSS_MAX + 40];
  memset(big, 'A', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  CHECK_INT(sc_cvss_score(big, &s, &sev), SC_ERR_LIMIT, "over-long vector");

  /* severity scale */
  static const struct {
    double score;
    sc_severity sev;
  } scale[] = {{0.0, SC_SEV_NONE},   {0.1, SC_SEV_LOW},      {3.9, SC_SEV_LOW},    {4.0, SC_SEV_MEDIUM},
               {6.9, SC_SEV_MEDIUM}, {7.0, SC_SEV_HIGH},     {8.9, SC_SEV_HIGH},   {9.0, SC_SEV_CRITICAL},
               {10.0, SC_SEV_CRITICAL}, {-1, SC_SEV_UNKNOWN}, {10.1, SC_SEV_UNKNOWN}};
  for (size_t i = 0; i < sizeof(scale) / sizeof(scale[0]); i++)
    CHECK_INT(sc_severity_from_score(scale[i].score), scale[i].sev, "score %.1f is %s", scale[i].score,
              sc_severity_name(scale[i].sev));
  CHECK_INT(sc_severity_from_score(NAN), SC_SEV_UNKNOWN, "NaN is unknown");
  CHECK_INT(sc_severity_from_score(6.8999999999), SC_SEV_MEDIUM, "6.8999999999 still medium");

  static const struct {
    const char *text;
    sc_severity sev;
  } texts[] = {{"CRITICAL", SC_SEV_CRITICAL}, {"High", SC_SEV_HIGH},         {"important", SC_SEV_HIGH},
               {"Important", SC_SEV_HIGH},    {"moderate", SC_SEV_MEDIUM},   {"MEDIUM", SC_SEV_MEDIUM},
               {"low", SC_SEV_LOW},           {"negligible", SC_SEV_LOW},    {"unimportant", SC_SEV_LOW},
               {"Negligible", SC_SEV_LOW},    {"none", SC_SEV_NONE},         {"untriaged", SC_SEV_UNKNOWN},
               {"not yet assigned", SC_SEV_UNKNOWN}, {"", SC_SEV_UNKNOWN},   {"highest", SC_SEV_UNKNOWN},
               {" high ", SC_SEV_HIGH},       {NULL, SC_SEV_UNKNOWN}};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
    CHECK_INT(sc_severity_from_text(texts[i].text), texts[i].sev, "text '%s' -> %s",
              texts[i].text ? texts[i].text : "(null)", sc_severity_name(texts[i].sev));
  CHECK_STR(sc_severity_name(SC_SEV_CRITICAL), "critical", "name critical");
  CHECK_STR(sc_severity_name(SC_SEV_MEDIUM), "medium", "name medium");
  CHECK_STR(sc_severity_name(SC_SEV_NONE), "none", "name none");
  CHECK_STR(sc_severity_name(SC_SEV_UNKNOWN), "unknown", "name unknown");
  CHECK_STR(sc_severity_name((sc_severity)42), "unknown", "name out of range");
  CHECK(SC_SEV_NONE < SC_SEV_UNKNOWN && SC_SEV_UNKNOWN < SC_SEV_LOW && SC_SEV_LOW < SC_SEV_MEDIUM &&
            SC_SEV_MEDIUM < SC_SEV_HIGH && SC_SEV_HIGH < SC_SEV_CRITICAL,
        "severities are ordered");
  return tap_done();
}
