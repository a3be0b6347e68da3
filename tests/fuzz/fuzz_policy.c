/* fuzz_policy.c - libFuzzer target: the policy YAML (sc_policy_load_mem:
 * libyaml events, strict keys, globs, dates, limits, error lines) and, when a
 * policy loads, its evaluation against a fixed image (findings, packages, a
 * secret, root, an age) and the exception expiry report.
 *
 * Checks beyond the sanitizers: a load returns either a policy or errors,
 * never both nor neither; a verdict always has a message.
 * Owner: fuzz.  Single-threaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_policy.h"

#define FUZZ_POLICY_NOW 1735689600 /* 2025-01-01: fixed, so runs repeat */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const aliases[] = {"GHSA-xxxx-yyyy-zzzz"};
  static const sc_finding findings[] = {
      {"CVE-2023-4911", aliases, 1, "Debian:12", "libc6", "2.36-9", "2.36-9+deb12u3", 4, 7.8},
      {"CVE-2024-0001", NULL, 0, "PyPI", "requests", "2.0.0", NULL, 0, -1},
      {"GHSA-1234-5678-9abc", NULL, 0, "npm", "left-pad", "1.0.0", "", 2, 5.0},
  };
  static const sc_package pkgs[] = {
      {"deb", "Debian:12", "libc6", "2.36-9", "glibc", "2.36-9", "var/lib/dpkg/status", NULL},
      {"npm", "npm", "left-pad", "1.0.0", NULL, NULL, "app/node_modules/left-pad/package.json", NULL},
  };
  static const sc_secret secrets[] = {{"home/u/.ssh/id_rsa", "private-key", 1}};
  sc_policy *p = NULL;
  char *errors = NULL;
  int rc = sc_policy_load_mem("fuzz.yaml", (const char *)data, size, &p, &errors);
  if ((rc == 0) != (p != NULL) || (p && errors)) abort();
  if (rc == SC_ERR_FORMAT && !errors) abort(); /* an invalid policy says why */
  free(errors);
  if (!p) return 0;

  (void)sc_policy_mode_of(p);
  (void)sc_policy_unscanned(p);
  (void)sc_policy_on_error(p);
  (void)sc_policy_head(p);
  for (int variant = 0; variant < 3; variant++) {
    sc_image_facts f = {0};
    sc_verdict v;
    f.repository = variant == 1 ? "library/nginx" : "team/app";
    f.reference = "latest";
    f.digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    f.findings = findings;
    f.nfindings = sizeof findings / sizeof findings[0];
    f.packages = variant == 2 ? NULL : pkgs;
    f.npackages = variant == 2 ? 0 : sizeof pkgs / sizeof pkgs[0];
    f.secrets = secrets;
    f.nsecrets = variant == 0;
    f.runs_as_root = variant - 1;
    f.created = variant == 0 ? 1600000000 : 0;
    f.scanned = 1;
    f.scan_failed = variant == 2;
    if (sc_policy_evaluate(p, &f, FUZZ_POLICY_NOW, &v) == 0) {
      if (!v.message || (v.decision != SC_DECISION_ALLOW && v.decision != SC_DECISION_WARN &&
                         v.decision != SC_DECISION_DENY))
        abort();
      (void)sc_decision_name(v.decision);
      sc_verdict_free(&v);
    }
  }
  char *warn = NULL;
  if (sc_policy_check_expiring(p, FUZZ_POLICY_NOW, 30, &warn) > 0 && !warn) abort();
  free(warn);
  sc_policy_free(p);
  return 0;
}
