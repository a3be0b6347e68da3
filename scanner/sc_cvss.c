/* sc_cvss.c - CVSS v2, v3.0, v3.1 and v4.0 scoring (see sc_cvss.h). */
#include "sc_cvss.h"
#include "sc_inventory.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------- parsing */

#define MAXVALS 6

typedef struct {
  const char *key;
  const char *vals[MAXVALS]; /* NULL-terminated when shorter */
  int mandatory;
} mdef;

/* Splits "K:V/K:V/..." (n bytes) and stores each metric's value index in
 * idx[] (-1 when absent). */
static int parse_metrics(const char *p, size_t n, const mdef *defs, size_t nd, int *idx) {
  for (size_t k = 0; k < nd; k++) idx[k] = -1;
  size_t i = 0;
  if (!n) return SC_ERR_FORMAT;
  while (i <= n) {
    size_t e = i;
    while (e < n && p[e] != '/') e++;
    const char *tok = p + i, *colon = memchr(tok, ':', e - i);
    if (!colon || colon == tok) return SC_ERR_FORMAT;
    size_t kl = (size_t)(colon - tok), vl = e - i - kl - 1;
    size_t d = 0;
    while (d < nd && !(strlen(defs[d].key) == kl && memcmp(defs[d].key, tok, kl) == 0)) d++;
    if (d == nd || idx[d] >= 0) return SC_ERR_FORMAT; /* unknown or duplicate metric */
    for (int v = 0; v < MAXVALS && defs[d].vals[v]; v++)
      if (strlen(defs[d].vals[v]) == vl && memcmp(defs[d].vals[v], colon + 1, vl) == 0) idx[d] = v;
    if (idx[d] < 0) return SC_ERR_FORMAT;
    i = e + 1;
  }
  for (size_t k = 0; k < nd; k++)
    if (defs[k].mandatory && idx[k] < 0) return SC_ERR_FORMAT;
  return 0;
}

/* ------------------------------------------------------------------ v3 */

enum { V3_AV, V3_AC, V3_PR, V3_UI, V3_S, V3_C, V3_I, V3_A, V3_E, V3_RL, V3_RC, V3_CR, V3_IR, V3_AR,
       V3_MAV, V3_MAC, V3_MPR, V3_MUI, V3_MS, V3_MC, V3_MI, V3_MA, V3_N };

static const mdef v3defs[V3_N] = {
    {"AV", {"N", "A", "L", "P"}, 1},     {"AC", {"L", "H"}, 1},
    {"PR", {"N", "L", "H"}, 1},          {"UI", {"N", "R"}, 1},
    {"S", {"U", "C"}, 1},                {"C", {"H", "L", "N"}, 1},
    {"I", {"H", "L", "N"}, 1},           {"A", {"H", "L", "N"}, 1},
    {"E", {"X", "H", "F", "P", "U"}, 0}, {"RL", {"X", "U", "W", "T", "O"}, 0},
    {"RC", {"X", "C", "R", "U"}, 0},     {"CR", {"X", "H", "M", "L"}, 0},
    {"IR", {"X", "H", "M", "L"}, 0},     {"AR", {"X", "H", "M", "L"}, 0},
    {"MAV", {"X", "N", "A", "L", "P"}, 0}, {"MAC", {"X", "L", "H"}, 0},
    {"MPR", {"X", "N", "L", "H"}, 0},    {"MUI", {"X", "N", "R"}, 0},
    {"MS", {"X", "U", "C"}, 0},          {"MC", {"X", "H", "L", "N"}, 0},
    {"MI", {"X", "H", "L", "N"}, 0},     {"MA", {"X", "H", "L", "N"}, 0},
};

static const double w_av[] = {0.85, 0.62, 0.55, 0.2};
static const double w_ac[] = {0.77, 0.44};
static const double w_pr_u[] = {0.85, 0.62, 0.27}, w_pr_c[] = {0.85, 0.68, 0.5};
static const double w_ui[] = {0.85, 0.62};
static const double w_cia[] = {0.56, 0.22, 0};
static const double w_e[] = {1, 1, 0.97, 0.94, 0.91};
static const double w_rl[] = {1, 1, 0.97, 0.96, 0.95};
static const double w_rc[] = {1, 1, 0.96, 0.92};
static const double w_req[] = {1, 1.5, 1, 0.5};

/* CVSS v3.1 Roundup (appendix A): integer arithmetic so that 4.000000001
 * style floating-point noise does not round up. */
static double roundup31(double x) {
  long long i = llround(x * 100000.0);
  if (i % 10000 == 0) return (double)i / 100000.0;
  return (double)(i / 10000 + 1) / 10.0;
}

static double roundup30(double x) { return ceil(x * 10.0) / 10.0; }

static double v3_round(int v31, double x) { return v31 ? roundup31(x) : roundup30(x); }

/* Value index of a modified metric, or of its base metric when X/absent. */
static int modified(const int *idx, int m, int base) { return idx[m] > 0 ? idx[m] - 1 : idx[base]; }

static void v3_score(const int *idx, int v31, sc_cvss_detail *d) {
  int changed = idx[V3_S] == 1;
  double iss = 1 - (1 - w_cia[idx[V3_C]]) * (1 - w_cia[idx[V3_I]]) * (1 - w_cia[idx[V3_A]]);
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
  double expl = 8.22 * w_av[idx[V3_AV]] * w_ac[idx[V3_AC]] *
                (changed ? w_pr_c : w_pr_u)[idx[V3_PR]] * w_ui[idx[V3_UI]];
  double base = 0;
  if (impact > 0)
    base = v3_round(v31, changed ? fmin(1.08 * (impact + expl), 10) : fmin(impact + expl, 10));
  double tmul = w_e[idx[V3_E] < 0 ? 0 : idx[V3_E]] * w_rl[idx[V3_RL] < 0 ? 0 : idx[V3_RL]] *
                w_rc[idx[V3_RC] < 0 ? 0 : idx[V3_RC]];
  d->base = base;
  d->temporal = v3_round(v31, base * tmul);

  /* environmental: modified metrics fall back to the base ones */
  int mchanged = idx[V3_MS] > 0 ? idx[V3_MS] == 2 : changed;
  double cr = w_req[idx[V3_CR] < 0 ? 0 : idx[V3_CR]], ir = w_req[idx[V3_IR] < 0 ? 0 : idx[V3_IR]],
         ar = w_req[idx[V3_AR] < 0 ? 0 : idx[V3_AR]];
  double miss = fmin(1 - (1 - cr * w_cia[modified(idx, V3_MC, V3_C)]) *
                             (1 - ir * w_cia[modified(idx, V3_MI, V3_I)]) *
                             (1 - ar * w_cia[modified(idx, V3_MA, V3_A)]),
                     0.915);
  double mimpact;
  if (!mchanged) mimpact = 6.42 * miss;
  else if (v31) mimpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss * 0.9731 - 0.02, 13);
  else mimpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss - 0.02, 15);
  double mexpl = 8.22 * w_av[modified(idx, V3_MAV, V3_AV)] * w_ac[modified(idx, V3_MAC, V3_AC)] *
                 (mchanged ? w_pr_c : w_pr_u)[modified(idx, V3_MPR, V3_PR)] *
                 w_ui[modified(idx, V3_MUI, V3_UI)];
  double env = 0;
  if (mimpact > 0) {
    double inner = mchanged ? fmin(1.08 * (mimpact + mexpl), 10) : fmin(mimpact + mexpl, 10);
    env = v3_round(v31, v3_round(v31, inner) * tmul);
  }
  d->environmental = env;
}

/* ------------------------------------------------------------------ v2 */

enum { V2_AV, V2_AC, V2_AU, V2_C, V2_I, V2_A, V2_E, V2_RL, V2_RC, V2_CDP, V2_TD, V2_CR, V2_IR, V2_AR, V2_N };

static const mdef v2defs[V2_N] = {
    {"AV", {"L", "A", "N"}, 1},  {"AC", {"H", "M", "L"}, 1},
    {"Au", {"M", "S", "N"}, 1},  {"C", {"N", "P", "C"}, 1},
    {"I", {"N", "P", "C"}, 1},   {"A", {"N", "P", "C"}, 1},
    {"E", {"U", "POC", "F", "H", "ND"}, 0}, {"RL", {"OF", "TF", "W", "U", "ND"}, 0},
    {"RC", {"UC", "UR", "C", "ND"}, 0},     {"CDP", {"N", "L", "LM", "MH", "H", "ND"}, 0},
    {"TD", {"N", "L", "M", "H", "ND"}, 0},  {"CR", {"L", "M", "H", "ND"}, 0},
    {"IR", {"L", "M", "H", "ND"}, 0},       {"AR", {"L", "M", "H", "ND"}, 0},
};

/* round_to_1_decimal, half up; the epsilon absorbs binary noise (x.x4999..) */
static double round1(double x) { return floor(x * 10.0 + 0.5 + 1e-9) / 10.0; }

static void v2_score(const int *idx, sc_cvss_detail *d) {
  static const double av[] = {0.395, 0.646, 1.0}, ac[] = {0.35, 0.61, 0.71}, au[] = {0.45, 0.56, 0.704},
                      cia[] = {0, 0.275, 0.660};
  static const double e[] = {0.85, 0.9, 0.95, 1, 1}, rl[] = {0.87, 0.9, 0.95, 1, 1}, rc[] = {0.9, 0.95, 1, 1};
  double impact = 10.41 * (1 - (1 - cia[idx[V2_C]]) * (1 - cia[idx[V2_I]]) * (1 - cia[idx[V2_A]]));
  double expl = 20 * av[idx[V2_AV]] * ac[idx[V2_AC]] * au[idx[V2_AU]];
  double base = round1((0.6 * impact + 0.4 * expl - 1.5) * (impact == 0 ? 0 : 1.176));
  if (base < 0) base = 0;
  d->base = base;
  d->temporal = round1(base * (idx[V2_E] < 0 ? 1 : e[idx[V2_E]]) * (idx[V2_RL] < 0 ? 1 : rl[idx[V2_RL]]) *
                       (idx[V2_RC] < 0 ? 1 : rc[idx[V2_RC]]));
  d->environmental = d->temporal;
}

/* ------------------------------------------------------------------ v4 */

enum { V4_AV, V4_AC, V4_AT, V4_PR, V4_UI, V4_VC, V4_VI, V4_VA, V4_SC, V4_SI, V4_SA, V4_E, V4_CR,
       V4_IR, V4_AR, V4_MAV, V4_MAC, V4_MAT, V4_MPR, V4_MUI, V4_MVC, V4_MVI, V4_MVA, V4_MSC, V4_MSI,
       V4_MSA, V4_S, V4_AU, V4_R, V4_V, V4_RE, V4_U, V4_N };

static const mdef v4defs[V4_N] = {
    {"AV", {"N", "A", "L", "P"}, 1}, {"AC", {"L", "H"}, 1},      {"AT", {"N", "P"}, 1},
    {"PR", {"N", "L", "H"}, 1},      {"UI", {"N", "P", "A"}, 1}, {"VC", {"H", "L", "N"}, 1},
    {"VI", {"H", "L", "N"}, 1},      {"VA", {"H", "L", "N"}, 1}, {"SC", {"H", "L", "N"}, 1},
    {"SI", {"H", "L", "N"}, 1},      {"SA", {"H", "L", "N"}, 1}, {"E", {"X", "A", "P", "U"}, 0},
    {"CR", {"X", "H", "M", "L"}, 0}, {"IR", {"X", "H", "M", "L"}, 0}, {"AR", {"X", "H", "M", "L"}, 0},
    {"MAV", {"X", "N", "A", "L", "P"}, 0}, {"MAC", {"X", "L", "H"}, 0}, {"MAT", {"X", "N", "P"}, 0},
    {"MPR", {"X", "N", "L", "H"}, 0}, {"MUI", {"X", "N", "P", "A"}, 0}, {"MVC", {"X", "H", "L", "N"}, 0},
    {"MVI", {"X", "H", "L", "N"}, 0}, {"MVA", {"X", "H", "L", "N"}, 0}, {"MSC", {"X", "H", "L", "N"}, 0},
    {"MSI", {"X", "S", "H", "L", "N"}, 0}, {"MSA", {"X", "S", "H", "L", "N"}, 0},
    {"S", {"X", "N", "P"}, 0},       {"AU", {"X", "N", "Y"}, 0}, {"R", {"X", "A", "U", "I"}, 0},
    {"V", {"X", "D", "C"}, 0},       {"RE", {"X", "L", "M", "H"}, 0},
    {"U", {"X", "Clear", "Green", "Amber", "Red"}, 0},
};

/* MacroVector scores (tenths), from the CVSS v4.0 specification's lookup
 * table.  Row = eq1*2+eq2; within a row: eq3 0 and 1 take 18 slots each
 * (eq4*6 + eq5*2 + eq6), eq3 2 exists only with eq6 1 (eq4*3 + eq5). */
static const unsigned char v4_lookup[6][45] = {
    {100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81, 93, 90, 89, 80, 81, 68,
     98, 95, 95, 92, 90, 84, 93, 92, 89, 81, 81, 65, 88, 80, 78, 70, 69, 48,
     92, 82, 72, 79, 69, 50, 69, 55, 27},
    {99, 97, 95, 92, 92, 85, 95, 91, 90, 83, 84, 71, 92, 81, 82, 71, 72, 53,
     95, 93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59, 84, 70, 71, 52, 50, 30,
     86, 75, 52, 71, 52, 29, 63, 29, 17},
    {98, 95, 94, 87, 91, 81, 94, 89, 86, 74, 77, 64, 87, 75, 74, 63, 63, 49,
     94, 89, 88, 77, 76, 67, 86, 76, 74, 58, 59, 50, 72, 57, 57, 52, 52, 25,
     83, 70, 54, 65, 58, 26, 53, 21, 13},
    {95, 90, 88, 76, 76, 70, 90, 77, 75, 62, 61, 53, 77, 66, 68, 59, 52, 30,
     89, 78, 76, 67, 62, 58, 74, 59, 57, 57, 47, 23, 61, 52, 57, 29, 24, 16,
     71, 59, 30, 58, 26, 15, 23, 13, 6},
    {93, 87, 86, 72, 75, 58, 86, 74, 74, 61, 56, 34, 70, 54, 52, 40, 40, 22,
     85, 75, 74, 55, 62, 51, 72, 57, 55, 41, 46, 19, 53, 36, 34, 19, 19, 8,
     64, 51, 20, 47, 21, 11, 24, 9, 4},
    {88, 75, 73, 53, 60, 50, 73, 55, 59, 40, 41, 20, 54, 43, 45, 22, 20, 11,
     75, 55, 58, 45, 40, 21, 61, 51, 48, 18, 20, 9, 46, 18, 17, 7, 8, 2,
     53, 24, 14, 24, 12, 5, 10, 3, 1},
};

/* Score of a MacroVector, or NAN when it does not exist. */
static double v4_macro(int e1, int e2, int e3, int e4, int e5, int e6) {
  if (e1 > 2 || e2 > 1 || e3 > 2 || e4 > 2 || e5 > 2 || e6 > 1 || (e3 == 2 && e6 == 0)) return NAN;
  int off = e3 < 2 ? e3 * 18 + e4 * 6 + e5 * 2 + e6 : 36 + e4 * 3 + e5;
  return v4_lookup[e1 * 2 + e2][off] / 10.0;
}

/* The 15 metrics the severity distance is measured on. */
enum { L_AV, L_PR, L_UI, L_AC, L_AT, L_VC, L_VI, L_VA, L_SC, L_SI, L_SA, L_CR, L_IR, L_AR, L_E, L_N };
static const char *const lname[L_N] = {"AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA",
                                       "SC", "SI", "SA", "CR", "IR", "AR", "E"};

/* Severity level of value c for metric m (0.0 is the most severe). */
static double v4_level(int m, char c) {
  switch (m) {
  case L_AV: return c == 'N' ? 0.0 : c == 'A' ? 0.1 : c == 'L' ? 0.2 : 0.3;
  case L_PR: return c == 'N' ? 0.0 : c == 'L' ? 0.1 : 0.2;
  case L_UI: return c == 'N' ? 0.0 : c == 'P' ? 0.1 : 0.2;
  case L_AC: return c == 'L' ? 0.0 : 0.1;
  case L_AT: return c == 'N' ? 0.0 : 0.1;
  case L_VC: case L_VI: case L_VA: return c == 'H' ? 0.0 : c == 'L' ? 0.1 : 0.2;
  case L_SC: return c == 'H' ? 0.1 : c == 'L' ? 0.2 : 0.3;
  case L_SI: case L_SA: return c == 'S' ? 0.0 : c == 'H' ? 0.1 : c == 'L' ? 0.2 : 0.3;
  case L_CR: case L_IR: case L_AR: return c == 'H' ? 0.0 : c == 'M' ? 0.1 : 0.2;
  default: return c == 'U' ? 0.2 : c == 'P' ? 0.1 : 0.0;
  }
}

/* Highest-severity vectors of each EQ level (specification's max_composed). */
static const char *const mx_eq1[3][3] = {
    {"AV:N/PR:N/UI:N"}, {"AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"},
    {"AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"}};
static const char *const mx_eq2[2][2] = {{"AC:L/AT:N"}, {"AC:H/AT:N", "AC:L/AT:P"}};
static const char *const mx_eq3[3][2][5] = {
    {{"VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"},
     {"VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"}},
    {{"VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"},
     {"VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
      "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"}},
    {{NULL}, {"VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"}}};
static const char *const mx_eq4[3] = {"SC:H/SI:S/SA:S", "SC:H/SI:H/SA:H", "SC:L/SI:L/SA:L"};
static const char *const mx_eq5[3] = {"E:A", "E:P", "E:U"};
static const int maxsev_eq1[3] = {1, 4, 5}, maxsev_eq2[2] = {1, 2}, maxsev_eq4[3] = {6, 5, 4};
static const int maxsev_eq36[3][2] = {{7, 6}, {8, 8}, {0, 10}};

/* Puts the values of "K:V/K:V" into max[] (by L_ index). */
static void v4_fill(const char *s, char *max) {
  while (s && *s) {
    const char *colon = strchr(s, ':');
    size_t kl = (size_t)(colon - s);
    for (int m = 0; m < L_N; m++)
      if (strlen(lname[m]) == kl && memcmp(lname[m], s, kl) == 0) max[m] = colon[1];
    s = strchr(colon, '/');
    if (s) s++;
  }
}

/* Effective value letter of a scored metric. */
static char v4_eff(const int *idx, int with_env, int base, int mod, char xdefault) {
  if (with_env && mod >= 0 && idx[mod] > 0) return v4defs[mod].vals[idx[mod]][0];
  if (base < 0 || idx[base] < 0 || (v4defs[base].vals[idx[base]][0] == 'X')) return xdefault;
  return v4defs[base].vals[idx[base]][0];
}

static double v4_score(const int *idx, int with_env) {
  char eff[L_N];
  static const int basei[L_N] = {V4_AV, V4_PR, V4_UI, V4_AC, V4_AT, V4_VC, V4_VI, V4_VA,
                                 V4_SC, V4_SI, V4_SA, V4_CR, V4_IR, V4_AR, V4_E};
  static const int modi[L_N] = {V4_MAV, V4_MPR, V4_MUI, V4_MAC, V4_MAT, V4_MVC, V4_MVI, V4_MVA,
                                V4_MSC, V4_MSI, V4_MSA, -1, -1, -1, -1};
  for (int m = 0; m < L_N; m++) {
    int b = basei[m];
    /* threat/requirement metrics: X (or ignored) means the worst case */
    char xdef = m == L_E ? 'A' : (m >= L_CR && m <= L_AR) ? 'H' : 0;
    eff[m] = (b >= V4_E && !with_env) ? xdef : v4_eff(idx, with_env, b, modi[m], xdef);
  }
  if (eff[L_VC] == 'N' && eff[L_VI] == 'N' && eff[L_VA] == 'N' && eff[L_SC] == 'N' && eff[L_SI] == 'N' &&
      eff[L_SA] == 'N')
    return 0.0;

  char av = eff[L_AV], pr = eff[L_PR], ui = eff[L_UI];
  int eq1 = (av == 'N' && pr == 'N' && ui == 'N') ? 0
            : ((av == 'N' || pr == 'N' || ui == 'N') && av != 'P') ? 1 : 2;
  int eq2 = (eff[L_AC] == 'L' && eff[L_AT] == 'N') ? 0 : 1;
  char vc = eff[L_VC], vi = eff[L_VI], va = eff[L_VA];
  int eq3 = (vc == 'H' && vi == 'H') ? 0 : (vc == 'H' || vi == 'H' || va == 'H') ? 1 : 2;
  int eq4 = (eff[L_SI] == 'S' || eff[L_SA] == 'S') ? 0
            : (eff[L_SC] == 'H' || eff[L_SI] == 'H' || eff[L_SA] == 'H') ? 1 : 2;
  int eq5 = eff[L_E] == 'A' ? 0 : eff[L_E] == 'P' ? 1 : 2;
  int eq6 = ((eff[L_CR] == 'H' && vc == 'H') || (eff[L_IR] == 'H' && vi == 'H') ||
             (eff[L_AR] == 'H' && va == 'H')) ? 0 : 1;

  double value = v4_macro(eq1, eq2, eq3, eq4, eq5, eq6);
  double lower1 = v4_macro(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
  double lower2 = v4_macro(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
  double lower36;
  if (eq3 == 0 && eq6 == 0) /* two ways down: take the higher */
    lower36 = fmax(v4_macro(eq1, eq2, eq3, eq4, eq5, 1), v4_macro(eq1, eq2, 1, eq4, eq5, eq6));
  else if (eq3 == 1 && eq6 == 0)
    lower36 = v4_macro(eq1, eq2, eq3, eq4, eq5, 1);
  else if (eq6 == 1 && eq3 < 2)
    lower36 = v4_macro(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
  else
    lower36 = NAN;
  double lower4 = v4_macro(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
  double lower5 = v4_macro(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

  /* the first highest-severity vector of this MacroVector that is at least
   * as severe as the scored vector in every metric */
  double dist[L_N] = {0};
  for (int a = 0; a < 3 && mx_eq1[eq1][a]; a++)
    for (int b = 0; b < 2 && mx_eq2[eq2][b]; b++)
      for (int c = 0; c < 5 && mx_eq3[eq3][eq6][c]; c++) {
        char max[L_N];
        memset(max, 0, sizeof(max));
        v4_fill(mx_eq1[eq1][a], max);
        v4_fill(mx_eq2[eq2][b], max);
        v4_fill(mx_eq3[eq3][eq6][c], max);
        v4_fill(mx_eq4[eq4], max);
        v4_fill(mx_eq5[eq5], max);
        int ok = 1;
        for (int m = 0; m < L_N; m++) {
          dist[m] = v4_level(m, eff[m]) - v4_level(m, max[m]);
          if (dist[m] < 0) ok = 0;
        }
        if (ok) goto found;
      }
found:;
  double cur1 = dist[L_AV] + dist[L_PR] + dist[L_UI];
  double cur2 = dist[L_AC] + dist[L_AT];
  double cur36 = dist[L_VC] + dist[L_VI] + dist[L_VA] + dist[L_CR] + dist[L_IR] + dist[L_AR];
  double cur4 = dist[L_SC] + dist[L_SI] + dist[L_SA];
  double sum = 0;
  int n = 0;
  /* proportion of the way to the next lower MacroVector, per EQ */
  if (!isnan(lower1)) n++, sum += (value - lower1) * (cur1 / (maxsev_eq1[eq1] * 0.1));
  if (!isnan(lower2)) n++, sum += (value - lower2) * (cur2 / (maxsev_eq2[eq2] * 0.1));
  if (!isnan(lower36)) n++, sum += (value - lower36) * (cur36 / (maxsev_eq36[eq3][eq6] * 0.1));
  if (!isnan(lower4)) n++, sum += (value - lower4) * (cur4 / (maxsev_eq4[eq4] * 0.1));
  if (!isnan(lower5)) n++; /* EQ5 distance is always 0 */
  double s = value - (n ? sum / n : 0);
  s = fmax(0, fmin(10, s));
  /* half up after a 1e-6 lift, as FIRST's calculator: the interpolation can
   * land one ULP below an x.x5 tie (5.6499999999999995 for 5.65) */
  return floor((s + 1e-6) * 10 + 0.5) / 10;
}

/* ----------------------------------------------------------------- API */

int sc_cvss_scores(const char *vector, sc_cvss_detail *d) {
  if (!vector || !d) return SC_ERR_ARG;
  size_t n = strnlen(vector, SC_CVSS_MAX + 1);
  if (n > SC_CVSS_MAX) return SC_ERR_LIMIT;
  while (n && (vector[n - 1] == ' ' || vector[n - 1] == '\n' || vector[n - 1] == '\r')) n--;
  while (n && *vector == ' ') vector++, n--;
  memset(d, 0, sizeof(*d));
  int idx[V4_N], rc;
  if (n >= 5 && memcmp(vector, "CVSS:", 5) == 0) {
    const char *slash = memchr(vector, '/', n);
    if (!slash) return SC_ERR_FORMAT;
    size_t vl = (size_t)(slash - vector) - 5;
    const char *ver = vector + 5, *rest = slash + 1;
    size_t rn = n - (size_t)(rest - vector);
    if (vl == 3 && (memcmp(ver, "3.0", 3) == 0 || memcmp(ver, "3.1", 3) == 0)) {
      int v31 = ver[2] == '1';
      if ((rc = parse_metrics(rest, rn, v3defs, V3_N, idx))) return rc;
      d->version = v31 ? 31 : 30;
      v3_score(idx, v31, d);
      return 0;
    }
    if (vl == 3 && memcmp(ver, "4.0", 3) == 0) {
      if ((rc = parse_metrics(rest, rn, v4defs, V4_N, idx))) return rc;
      d->version = 40;
      d->base = v4_score(idx, 0);
      d->environmental = v4_score(idx, 1);
      /* CVSS-BT: only the threat metric on top of the base */
      int keep[V4_N];
      memcpy(keep, idx, sizeof(keep));
      for (int m = V4_CR; m < V4_N; m++) keep[m] = -1;
      d->temporal = v4_score(keep, 1);
      return 0;
    }
    if (vl == 3 && memcmp(ver, "2.0", 3) == 0) {
      vector = rest;
      n = rn;
    } else {
      return SC_ERR_UNSUPP;
    }
  }
  if (n >= 2 && vector[0] == '(' && vector[n - 1] == ')') vector++, n -= 2;
  if ((rc = parse_metrics(vector, n, v2defs, V2_N, idx))) return rc;
  d->version = 20;
  v2_score(idx, d);
  return 0;
}

int sc_cvss_score(const char *vector, double *score, sc_severity *sev) {
  sc_cvss_detail d;
  int rc = sc_cvss_scores(vector, &d);
  if (rc) return rc;
  if (score) *score = d.base;
  if (sev) {
    *sev = sc_severity_from_score(d.base);
    if (d.version == 20 && *sev == SC_SEV_CRITICAL) *sev = SC_SEV_HIGH; /* NVD v2 scale */
  }
  return 0;
}

sc_severity sc_severity_from_score(double score) {
  if (!(score >= 0 && score <= 10)) return SC_SEV_UNKNOWN; /* also NaN */
  long t = lround(score * 10);
  if (t == 0) return SC_SEV_NONE;
  if (t < 40) return SC_SEV_LOW;
  if (t < 70) return SC_SEV_MEDIUM;
  if (t < 90) return SC_SEV_HIGH;
  return SC_SEV_CRITICAL;
}

sc_severity sc_severity_from_text(const char *t) {
  static const struct {
    const char *word;
    sc_severity sev;
  } words[] = {
      {"critical", SC_SEV_CRITICAL}, {"high", SC_SEV_HIGH},     {"important", SC_SEV_HIGH},
      {"medium", SC_SEV_MEDIUM},     {"moderate", SC_SEV_MEDIUM}, {"low", SC_SEV_LOW},
      {"negligible", SC_SEV_LOW},    {"unimportant", SC_SEV_LOW}, {"none", SC_SEV_NONE},
  };
  if (!t) return SC_SEV_UNKNOWN;
  while (*t == ' ') t++;
  size_t n = strnlen(t, 32);
  while (n && t[n - 1] == ' ') n--;
  for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
    if (strlen(words[k].word) == n && strncasecmp(t, words[k].word, n) == 0) return words[k].sev;
  return SC_SEV_UNKNOWN;
}

const char *sc_severity_name(sc_severity s) {
  switch (s) {
  case SC_SEV_NONE: return "none";
  case SC_SEV_LOW: return "low";
  case SC_SEV_MEDIUM: return "medium";
  case SC_SEV_HIGH: return "high";
  case SC_SEV_CRITICAL: return "critical";
  default: return "unknown";
  }
}
