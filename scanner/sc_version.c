/* sc_version.c - per-ecosystem version ordering (see sc_version.h).
 *
 * Every comparator works on (pointer, length) slices of the trimmed input
 * and never allocates; the tree-shaped schemes (Maven, RubyGems) use small
 * fixed arenas on the stack. */
#include "sc_version.h"
#include "sc_inventory.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct {
  const char *p;
  size_t n;
} vs;

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_alnum(int c) { return is_digit(c) || is_alpha(c); }
static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static int sgn(long long x) { return x < 0 ? -1 : x > 0; }

/* Compares two digit strings of any length by value (leading zeros ignored). */
static int numcmp(const char *a, size_t an, const char *b, size_t bn) {
  while (an && *a == '0') a++, an--;
  while (bn && *b == '0') b++, bn--;
  if (an != bn) return an < bn ? -1 : 1;
  return sgn(an ? memcmp(a, b, an) : 0);
}

static int all_digits(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_digit((unsigned char)p[i])) return 0;
  return n > 0;
}

/* Byte-wise comparison, optionally ASCII case-insensitive; a prefix is less. */
static int strcmp_n(const char *a, size_t an, const char *b, size_t bn, int icase) {
  size_t m = an < bn ? an : bn;
  for (size_t i = 0; i < m; i++) {
    int x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (icase) x = lower(x), y = lower(y);
    if (x != y) return x < y ? -1 : 1;
  }
  return an == bn ? 0 : an < bn ? -1 : 1;
}

static int ieq(const char *p, size_t n, const char *word) {
  size_t wn = strlen(word);
  return n == wn && strncasecmp(p, word, n) == 0;
}

/* ---------------------------------------------------------------- dpkg */

typedef struct {
  vs epoch, up, rev;
} dpkg_v;

static int dpkg_parse(vs s, dpkg_v *v) {
  const char *p = s.p, *end = s.p + s.n;
  memset(v, 0, sizeof(*v));
  if (!s.n) return SC_ERR_FORMAT;
  const char *colon = memchr(p, ':', s.n);
  if (colon) {
    if (colon == p || !all_digits(p, (size_t)(colon - p))) return SC_ERR_FORMAT;
    v->epoch = (vs){p, (size_t)(colon - p)};
    p = colon + 1;
  }
  const char *hy = NULL;
  for (const char *q = p; q < end; q++)
    if (*q == '-') hy = q;
  v->up = (vs){p, (size_t)((hy ? hy : end) - p)};
  if (hy) {
    v->rev = (vs){hy + 1, (size_t)(end - hy - 1)};
    if (!v->rev.n) return SC_ERR_FORMAT; /* "1.0-": empty revision */
  }
  if (!v->up.n) return SC_ERR_FORMAT;
  for (size_t i = 0; i < v->up.n; i++) {
    int c = (unsigned char)v->up.p[i];
    if (!is_alnum(c) && !strchr(".-+~:", c)) return SC_ERR_FORMAT;
  }
  for (size_t i = 0; i < v->rev.n; i++) {
    int c = (unsigned char)v->rev.p[i];
    if (!is_alnum(c) && !strchr(".+~", c)) return SC_ERR_FORMAT;
  }
  return 0;
}

/* Debian policy's sort weight of one character; NUL is the end. */
static int dpkg_order(int c) {
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return c;
  if (c == '~') return -1;
  if (c) return c + 256;
  return 0;
}

static int verrevcmp(vs a, vs b) {
  size_t i = 0, j = 0;
#define AC (i < a.n ? (unsigned char)a.p[i] : 0)
#define BC (j < b.n ? (unsigned char)b.p[j] : 0)
  while (i < a.n || j < b.n) {
    int first_diff = 0;
    while ((AC && !is_digit(AC)) || (BC && !is_digit(BC))) {
      int ac = dpkg_order(AC), bc = dpkg_order(BC);
      if (ac != bc) return sgn(ac - bc);
      i++, j++;
    }
    while (AC == '0') i++;
    while (BC == '0') j++;
    while (is_digit(AC) && is_digit(BC)) {
      if (!first_diff) first_diff = AC - BC;
      i++, j++;
    }
    if (is_digit(AC)) return 1;
    if (is_digit(BC)) return -1;
    if (first_diff) return sgn(first_diff);
  }
#undef AC
#undef BC
  return 0;
}

static int cmp_dpkg(vs a, vs b, int *out) {
  dpkg_v x, y;
  if (dpkg_parse(a, &x) || dpkg_parse(b, &y)) return SC_ERR_FORMAT;
  int r = numcmp(x.epoch.p, x.epoch.n, y.epoch.p, y.epoch.n);
  if (!r) r = verrevcmp(x.up, y.up);
  if (!r) r = verrevcmp(x.rev, y.rev);
  *out = r;
  return 0;
}

/* ----------------------------------------------------------------- apk */

#define APK_MAXNUM 32
#define APK_MAXSUF 16

typedef struct {
  vs num[APK_MAXNUM];
  size_t nnum;
  int letter; /* 0 = none */
  int suf[APK_MAXSUF]; /* rank: alpha..rc = -4..-1, cvs..p = 1..5 */
  vs sufn[APK_MAXSUF];
  size_t nsuf;
  vs rev;
  int has_rev;
} apk_v;

static int apk_suffix(const char *p, size_t n, size_t *len) {
  static const char *const names[] = {"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"};
  static const int ranks[] = {-4, -3, -2, -1, 1, 2, 3, 4, 5};
  for (size_t k = 0; k < sizeof(ranks) / sizeof(ranks[0]); k++) {
    size_t l = strlen(names[k]);
    if (l <= n && memcmp(p, names[k], l) == 0 && (l == n || !is_alpha((unsigned char)p[l]))) {
      *len = l;
      return ranks[k];
    }
  }
  return 0;
}

static size_t span_digits(const char *p, size_t i, size_t n) {
  while (i < n && is_digit((unsigned char)p[i])) i++;
  return i;
}

static int apk_parse(vs s, apk_v *v) {
  const char *p = s.p;
  size_t n = s.n, i = 0, e;
  memset(v, 0, sizeof(*v));
  for (;;) { /* digits {. digits} */
    e = span_digits(p, i, n);
    if (e == i) return SC_ERR_FORMAT;
    if (v->nnum == APK_MAXNUM) return SC_ERR_LIMIT;
    v->num[v->nnum++] = (vs){p + i, e - i};
    i = e;
    if (i < n && p[i] == '.') i++;
    else break;
  }
  if (i < n && p[i] >= 'a' && p[i] <= 'z') v->letter = p[i++];
  while (i < n && p[i] == '_') {
    size_t l;
    int r = apk_suffix(p + i + 1, n - i - 1, &l);
    if (!r) return SC_ERR_FORMAT;
    if (v->nsuf == APK_MAXSUF) return SC_ERR_LIMIT;
    i += 1 + l;
    e = span_digits(p, i, n);
    v->suf[v->nsuf] = r;
    v->sufn[v->nsuf++] = (vs){p + i, e - i};
    i = e;
  }
  if (i + 1 < n && p[i] == '-' && p[i + 1] == 'r') {
    i += 2;
    e = span_digits(p, i, n);
    if (e == i) return SC_ERR_FORMAT;
    v->rev = (vs){p + i, e - i};
    v->has_rev = 1;
    i = e;
  }
  return i == n ? 0 : SC_ERR_FORMAT;
}

static int cmp_apk(vs a, vs b, int *out) {
  apk_v x, y;
  int rc;
  if ((rc = apk_parse(a, &x)) || (rc = apk_parse(b, &y))) return rc;
  int r = 0;
  for (size_t k = 0; !r && k < x.nnum && k < y.nnum; k++)
    r = numcmp(x.num[k].p, x.num[k].n, y.num[k].p, y.num[k].n);
  if (!r && x.nnum != y.nnum) r = x.nnum > y.nnum ? 1 : -1; /* 1.0 > 1 */
  if (!r) r = sgn(x.letter - y.letter);
  for (size_t k = 0; !r && k < x.nsuf && k < y.nsuf; k++) {
    r = sgn(x.suf[k] - y.suf[k]);
    if (!r) r = numcmp(x.sufn[k].p, x.sufn[k].n, y.sufn[k].p, y.sufn[k].n);
  }
  /* an extra suffix is a prerelease (less) or a post-release (greater) */
  if (!r && x.nsuf > y.nsuf) r = x.suf[y.nsuf] < 0 ? -1 : 1;
  if (!r && y.nsuf > x.nsuf) r = y.suf[x.nsuf] < 0 ? 1 : -1;
  if (!r && x.has_rev != y.has_rev) r = x.has_rev ? 1 : -1;
  if (!r) r = numcmp(x.rev.p, x.rev.n, y.rev.p, y.rev.n);
  *out = r;
  return 0;
}

/* ----------------------------------------------------------------- rpm */

/* rpmvercmp: alternating digit/alpha segments, separators ignored. */
static int rpmvercmp(vs a, vs b) {
  size_t i = 0, j = 0;
  if (a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0)) return 0;
#define AC (i < a.n ? (unsigned char)a.p[i] : 0)
#define BC (j < b.n ? (unsigned char)b.p[j] : 0)
  while (AC || BC) {
    while (AC && !is_alnum(AC) && AC != '~' && AC != '^') i++;
    while (BC && !is_alnum(BC) && BC != '~' && BC != '^') j++;
    if (AC == '~' || BC == '~') { /* ~ sorts before everything, even the end */
      if (AC != '~') return 1;
      if (BC != '~') return -1;
      i++, j++;
      continue;
    }
    if (AC == '^' || BC == '^') { /* ^ sorts after the end, before anything else */
      if (!AC) return -1;
      if (!BC) return 1;
      if (AC != '^') return 1;
      if (BC != '^') return -1;
      i++, j++;
      continue;
    }
    if (!(AC && BC)) break;
    size_t si = i, sj = j;
    int isnum = is_digit(AC);
    if (isnum) {
      while (is_digit(AC)) i++;
      while (is_digit(BC)) j++;
    } else {
      while (is_alpha(AC)) i++;
      while (is_alpha(BC)) j++;
    }
    if (j == sj) return isnum ? 1 : -1; /* numeric segment beats alpha */
    int r = isnum ? numcmp(a.p + si, i - si, b.p + sj, j - sj)
                  : strcmp_n(a.p + si, i - si, b.p + sj, j - sj, 0);
    if (r) return r;
  }
  if (!AC && !BC) return 0;
  return !AC ? -1 : 1;
#undef AC
#undef BC
}

static void rpm_split(vs s, vs *e, vs *v, vs *r) {
  const char *p = s.p, *end = s.p + s.n;
  *e = (vs){NULL, 0};
  const char *colon = memchr(p, ':', s.n);
  if (colon && all_digits(p, (size_t)(colon - p))) {
    *e = (vs){p, (size_t)(colon - p)};
    p = colon + 1;
  }
  const char *hy = NULL;
  for (const char *q = p; q < end; q++)
    if (*q == '-') hy = q;
  *v = (vs){p, (size_t)((hy ? hy : end) - p)};
  *r = hy ? (vs){hy + 1, (size_t)(end - hy - 1)} : (vs){NULL, 0};
}

static int cmp_rpm(vs a, vs b, int *out) {
  vs ae, av, ar, be, bv, br;
  rpm_split(a, &ae, &av, &ar);
  rpm_split(b, &be, &bv, &br);
  int r = numcmp(ae.p, ae.n, be.p, be.n);
  if (!r) r = rpmvercmp(av, bv);
  /* as rpm.vercmp() of rpm 4.18: a missing release sorts before any release */
  if (!r && (!ar.p || !br.p)) r = ar.p ? 1 : br.p ? -1 : 0;
  if (!r) r = rpmvercmp(ar, br);
  *out = r;
  return 0;
}

/* -------------------------------------------------------------- PEP 440 */

typedef struct {
  vs epoch, rel;
  int pre;       /* -1 none, 0 a, 1 b, 2 rc */
  vs pren;
  int post;      /* 0/1 */
  vs postn;
  int dev;
  vs devn;
  vs local;      /* after '+', n == 0 when absent */
} pep_v;

static int is_sep(int c) { return c == '-' || c == '_' || c == '.'; }

/* Matches one of words (case-insensitive) at p[i]; returns its index or -1. */
static int match_word(const char *p, size_t n, size_t i, const char *const *words, size_t nw, size_t *len) {
  for (size_t k = 0; k < nw; k++) {
    size_t l = strlen(words[k]);
    if (i + l <= n && strncasecmp(p + i, words[k], l) == 0) {
      *len = l;
      return (int)k;
    }
  }
  return -1;
}

/* [sep] WORD [sep] [digits] at p[*ip]. */
static int pep_part(const char *p, size_t n, size_t *ip, const char *const *words, size_t nw, vs *num) {
  size_t i = *ip, l;
  if (i < n && is_sep((unsigned char)p[i])) i++;
  int k = match_word(p, n, i, words, nw, &l);
  if (k < 0) return -1;
  i += l;
  if (i < n && is_sep((unsigned char)p[i])) i++; /* "1.0b-" is valid, like packaging */
  size_t e = span_digits(p, i, n);
  *num = (vs){p + i, e - i};
  *ip = e;
  return k;
}

static int pep_parse(vs s, pep_v *v) {
  static const char *const prew[] = {"alpha", "a", "beta", "b", "preview", "pre", "rc", "c"};
  static const int prek[] = {0, 0, 1, 1, 2, 2, 2, 2};
  static const char *const postw[] = {"post", "rev", "r"};
  static const char *const devw[] = {"dev"};
  const char *p = s.p;
  size_t n = s.n, i = 0, e;
  memset(v, 0, sizeof(*v));
  v->pre = -1;
  if (i < n && (p[i] == 'v' || p[i] == 'V')) i++;
  e = span_digits(p, i, n);
  if (e == i) return SC_ERR_FORMAT;
  if (e < n && p[e] == '!') {
    v->epoch = (vs){p + i, e - i};
    i = e + 1;
  }
  size_t rs = i;
  for (;;) {
    e = span_digits(p, i, n);
    if (e == i) return SC_ERR_FORMAT;
    i = e;
    if (i + 1 < n && p[i] == '.' && is_digit((unsigned char)p[i + 1])) i++;
    else break;
  }
  v->rel = (vs){p + rs, i - rs};
  int k = pep_part(p, n, &i, prew, 8, &v->pren);
  if (k >= 0) v->pre = prek[k];
  if (i + 1 < n && p[i] == '-' && is_digit((unsigned char)p[i + 1])) { /* 1.0-1 */
    e = span_digits(p, i + 1, n);
    v->post = 1;
    v->postn = (vs){p + i + 1, e - i - 1};
    i = e;
  } else if (pep_part(p, n, &i, postw, 3, &v->postn) >= 0) {
    v->post = 1;
  }
  if (pep_part(p, n, &i, devw, 1, &v->devn) >= 0) v->dev = 1;
  if (i < n && p[i] == '+') {
    i++;
    size_t ls = i;
    for (;;) {
      size_t st = i;
      while (i < n && is_alnum((unsigned char)p[i])) i++;
      if (i == st) return SC_ERR_FORMAT;
      if (i < n && is_sep((unsigned char)p[i])) i++;
      else break;
    }
    v->local = (vs){p + ls, i - ls};
  }
  return i == n ? 0 : SC_ERR_FORMAT;
}

/* Next dot-separated numeric release component; missing ones are "0". */
static vs next_comp(vs *rest) {
  if (!rest->n) return (vs){"0", 1};
  const char *d = memchr(rest->p, '.', rest->n);
  size_t l = d ? (size_t)(d - rest->p) : rest->n;
  vs c = {rest->p, l};
  rest->p += d ? l + 1 : l;
  rest->n -= d ? l + 1 : l;
  return c;
}

static int release_cmp(vs a, vs b) {
  while (a.n || b.n) {
    vs x = next_comp(&a), y = next_comp(&b);
    int r = numcmp(x.p, x.n, y.p, y.n);
    if (r) return r;
  }
  return 0;
}

/* Next local-label segment (separators -_.). */
static vs next_seg(vs *rest) {
  size_t l = 0;
  while (l < rest->n && !is_sep((unsigned char)rest->p[l])) l++;
  vs c = {rest->p, l};
  size_t adv = l < rest->n ? l + 1 : l;
  rest->p += adv;
  rest->n -= adv;
  return c;
}

static int local_cmp(vs a, vs b) {
  while (a.n && b.n) {
    vs x = next_seg(&a), y = next_seg(&b);
    int xn = all_digits(x.p, x.n), yn = all_digits(y.p, y.n);
    int r = xn && yn ? numcmp(x.p, x.n, y.p, y.n)
            : xn != yn ? (xn ? 1 : -1)  /* numeric segments sort after strings */
                       : strcmp_n(x.p, x.n, y.p, y.n, 1);
    if (r) return r;
  }
  return a.n ? 1 : b.n ? -1 : 0;
}

static int pep_phase(const pep_v *v) {
  if (v->pre >= 0) return v->pre;
  if (!v->post && v->dev) return -1; /* 1.0.dev0 sorts before 1.0a0 */
  return 3;
}

static int cmp_pep(vs a, vs b, int *out) {
  pep_v x, y;
  if (pep_parse(a, &x) || pep_parse(b, &y)) return SC_ERR_FORMAT;
  int r = numcmp(x.epoch.p, x.epoch.n, y.epoch.p, y.epoch.n);
  if (!r) r = release_cmp(x.rel, y.rel);
  if (!r) r = sgn(pep_phase(&x) - pep_phase(&y));
  if (!r && x.pre >= 0) r = numcmp(x.pren.p, x.pren.n, y.pren.p, y.pren.n);
  if (!r) r = sgn(x.post - y.post);
  if (!r && x.post) r = numcmp(x.postn.p, x.postn.n, y.postn.p, y.postn.n);
  if (!r) r = sgn(y.dev - x.dev); /* a dev release is before the release */
  if (!r && x.dev) r = numcmp(x.devn.p, x.devn.n, y.devn.p, y.devn.n);
  if (!r && (x.local.n || y.local.n)) {
    if (!x.local.n || !y.local.n) r = x.local.n ? 1 : -1;
    else r = local_cmp(x.local, y.local);
  }
  *out = r;
  return 0;
}

/* -------------------------------------------------------------- semver */

typedef struct {
  vs core, pre;
  int has_pre;
} sem_v;

static int sem_ident_char(int c) { return is_alnum(c) || c == '-'; }

/* Checks dot-separated non-empty identifiers of [0-9A-Za-z-]. */
static int sem_idents_ok(const char *p, size_t n) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '.') {
      if (!run) return 0;
      run = 0;
    } else if (sem_ident_char((unsigned char)p[i])) {
      run++;
    } else {
      return 0;
    }
  }
  return run > 0;
}

static int sem_parse(vs s, sem_v *v, size_t maxparts) {
  const char *p = s.p;
  size_t n = s.n, i = 0, parts = 0;
  memset(v, 0, sizeof(*v));
  if (n >= 2 && strncasecmp(p, "go", 2) == 0) i = 2;
  else if (n && (p[0] == 'v' || p[0] == 'V')) i = 1;
  size_t cs = i;
  for (;;) {
    size_t e = span_digits(p, i, n);
    if (e == i) return SC_ERR_FORMAT;
    if (++parts > maxparts) return SC_ERR_FORMAT;
    i = e;
    if (i + 1 < n && p[i] == '.' && is_digit((unsigned char)p[i + 1])) i++;
    else break;
  }
  v->core = (vs){p + cs, i - cs};
  const char *plus = memchr(p + i, '+', n - i);
  size_t pe = plus ? (size_t)(plus - p) : n;
  if (i < pe) {
    if (p[i] == '-') i++;
    else if (!is_alpha((unsigned char)p[i])) return SC_ERR_FORMAT; /* go1.21rc2 */
    if (!sem_idents_ok(p + i, pe - i)) return SC_ERR_FORMAT;
    v->pre = (vs){p + i, pe - i};
    v->has_pre = 1;
  }
  if (plus && !sem_idents_ok(plus + 1, (size_t)(p + n - plus - 1))) return SC_ERR_FORMAT;
  return 0;
}

static int sem_pre_cmp(vs a, vs b, int icase) {
  while (a.n && b.n) {
    const char *d = memchr(a.p, '.', a.n), *f = memchr(b.p, '.', b.n);
    vs x = {a.p, d ? (size_t)(d - a.p) : a.n}, y = {b.p, f ? (size_t)(f - b.p) : b.n};
    a.p += d ? x.n + 1 : x.n, a.n -= d ? x.n + 1 : x.n;
    b.p += f ? y.n + 1 : y.n, b.n -= f ? y.n + 1 : y.n;
    int xn = all_digits(x.p, x.n), yn = all_digits(y.p, y.n);
    int r = xn && yn ? numcmp(x.p, x.n, y.p, y.n)
            : xn != yn ? (xn ? -1 : 1) /* numeric identifiers sort first */
                       : strcmp_n(x.p, x.n, y.p, y.n, icase);
    if (r) return r;
  }
  return a.n ? 1 : b.n ? -1 : 0;
}

static int cmp_sem(vs a, vs b, int *out, int nuget) {
  sem_v x, y;
  size_t maxp = nuget ? 4 : 16;
  if (sem_parse(a, &x, maxp) || sem_parse(b, &y, maxp)) return SC_ERR_FORMAT;
  int r = release_cmp(x.core, y.core);
  if (!r && x.has_pre != y.has_pre) r = x.has_pre ? -1 : 1;
  if (!r && x.has_pre) r = sem_pre_cmp(x.pre, y.pre, nuget);
  *out = r;
  return 0;
}

/* --------------------------------------------------------------- maven */

#define MVN_MAXNODES 256
enum { MI_INT, MI_STR, MI_LIST };

typedef struct {
  int kind;
  vs s;    /* INT: digits without leading zeros; STR: text (lowercased on compare) */
  int q;   /* STR: qualifier rank 0..6, 7 = unknown (compared by text) */
  int first, last, next; /* LIST children; sibling link */
} mnode;

typedef struct {
  mnode n[MVN_MAXNODES];
  int count;
} mtree;

static int mvn_new(mtree *t, int kind) {
  if (t->count == MVN_MAXNODES) return -1;
  mnode *m = &t->n[t->count];
  memset(m, 0, sizeof(*m));
  m->kind = kind;
  m->first = m->last = m->next = -1;
  return t->count++;
}

static void mvn_append(mtree *t, int list, int item) {
  if (t->n[list].last < 0) t->n[list].first = item;
  else t->n[t->n[list].last].next = item;
  t->n[list].last = item;
}

static int mvn_qual(const char *p, size_t n, int followed_by_digit) {
  static const char *const q[] = {"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"};
  if (followed_by_digit && n == 1) {
    int c = lower((unsigned char)p[0]);
    if (c == 'a') return 0;
    if (c == 'b') return 1;
    if (c == 'm') return 2;
  }
  if (ieq(p, n, "ga") || ieq(p, n, "final") || ieq(p, n, "release")) return 5;
  if (ieq(p, n, "cr")) return 3;
  for (int k = 0; k < 7; k++)
    if (ieq(p, n, q[k])) return k;
  return 7;
}

/* Adds an INT (digits) or STR item for p[0..n) to list; -1 when full. */
static int mvn_item(mtree *t, int list, const char *p, size_t n, int digits, int fbd) {
  int it = mvn_new(t, digits ? MI_INT : MI_STR);
  if (it < 0) return -1;
  if (digits) {
    while (n && *p == '0') p++, n--;
  } else {
    t->n[it].q = mvn_qual(p, n, fbd);
  }
  t->n[it].s = (vs){p, n};
  mvn_append(t, list, it);
  return 0;
}

static int mvn_sublist(mtree *t, int *cur) {
  int l = mvn_new(t, MI_LIST);
  if (l < 0) return -1;
  mvn_append(t, *cur, l);
  *cur = l;
  return 0;
}

static int mvn_isnull(const mtree *t, int i) {
  const mnode *m = &t->n[i];
  if (m->kind == MI_INT) return m->s.n == 0;
  if (m->kind == MI_STR) return m->q == 5;
  return m->first < 0;
}

/* Drops trailing null items (0, "", ga, empty lists), skipping over lists. */
static void mvn_normalize(mtree *t, int list) {
  int idx[MVN_MAXNODES], cnt = 0;
  for (int c = t->n[list].first; c >= 0; c = t->n[c].next) idx[cnt++] = c;
  int keep[MVN_MAXNODES];
  for (int k = 0; k < cnt; k++) keep[k] = 1;
  for (int k = cnt - 1; k >= 0; k--) {
    if (mvn_isnull(t, idx[k])) keep[k] = 0;
    else if (t->n[idx[k]].kind != MI_LIST) break;
  }
  t->n[list].first = t->n[list].last = -1;
  for (int k = 0; k < cnt; k++) {
    if (!keep[k]) continue;
    t->n[idx[k]].next = -1;
    mvn_append(t, list, idx[k]);
  }
}

static int mvn_parse(vs s, mtree *t) {
  const char *p = s.p;
  size_t n = s.n, start = 0;
  int is_dig = 0;
  t->count = 0;
  int cur = mvn_new(t, MI_LIST);
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)p[i];
    if (c == '.' || c == '-') {
      if (i == start) {
        if (mvn_item(t, cur, "0", 1, 1, 0)) return SC_ERR_LIMIT;
      } else if (mvn_item(t, cur, p + start, i - start, is_dig, 0)) {
        return SC_ERR_LIMIT;
      }
      start = i + 1;
      if (c == '-' && mvn_sublist(t, &cur)) return SC_ERR_LIMIT;
    } else if (is_digit(c)) {
      if (!is_dig && i > start) {
        /* Maven 3.9: ".X1" is read as "-X1" */
        if (t->n[cur].first >= 0 && mvn_sublist(t, &cur)) return SC_ERR_LIMIT;
        if (mvn_item(t, cur, p + start, i - start, 0, 1) || mvn_sublist(t, &cur)) return SC_ERR_LIMIT;
        start = i;
      }
      is_dig = 1;
    } else {
      if (is_dig && i > start) {
        if (mvn_item(t, cur, p + start, i - start, 1, 0) || mvn_sublist(t, &cur)) return SC_ERR_LIMIT;
        start = i;
      }
      is_dig = 0;
    }
  }
  if (n > start) {
    /* Maven 3.9: a trailing ".X" qualifier is read as "-X" */
    if (!is_dig && t->n[cur].first >= 0 && mvn_sublist(t, &cur)) return SC_ERR_LIMIT;
    if (mvn_item(t, cur, p + start, n - start, is_dig, 0)) return SC_ERR_LIMIT;
  }
  /* lists were created outer-first: normalize innermost first */
  for (int k = t->count - 1; k >= 0; k--)
    if (t->n[k].kind == MI_LIST) mvn_normalize(t, k);
  return 0;
}

static int mvn_qcmp(const mnode *x, const mnode *y) {
  if (x->q != y->q) return x->q < y->q ? -1 : 1;
  if (x->q == 7) return strcmp_n(x->s.p, x->s.n, y->s.p, y->s.n, 1);
  return 0;
}

/* Item x of tree a against item y of tree b, y < 0 meaning "no item". */
static int mvn_cmp(const mtree *a, int x, const mtree *b, int y, int depth) {
  const mnode *m = &a->n[x];
  const mnode *o = y >= 0 ? &b->n[y] : NULL;
  if (depth > MVN_MAXNODES) return 0;
  switch (m->kind) {
  case MI_INT:
    if (!o) return m->s.n ? 1 : 0;
    if (o->kind != MI_INT) return 1; /* numbers beat qualifiers and sublists */
    return numcmp(m->s.p, m->s.n, o->s.p, o->s.n);
  case MI_STR:
    if (!o) return m->q < 5 ? -1 : m->q > 5 ? 1 : 0;
    if (o->kind != MI_STR) return -1;
    return mvn_qcmp(m, o);
  default:
    if (!o) { /* every item against nothing (MNG-6964) */
      for (int l = m->first; l >= 0; l = a->n[l].next) {
        int c = mvn_cmp(a, l, b, -1, depth + 1);
        if (c) return c;
      }
      return 0;
    }
    if (o->kind == MI_INT) return -1;
    if (o->kind == MI_STR) return 1;
    for (int l = m->first, r = o->first; l >= 0 || r >= 0;) {
      int c = l < 0 ? -mvn_cmp(b, r, a, -1, depth + 1) : mvn_cmp(a, l, b, r, depth + 1);
      if (c) return c;
      if (l >= 0) l = a->n[l].next;
      if (r >= 0) r = b->n[r].next;
    }
    return 0;
  }
}

static int cmp_mvn(vs a, vs b, int *out) {
  mtree x, y; /* ~10 KiB each on the stack */
  if (mvn_parse(a, &x) || mvn_parse(b, &y)) return SC_ERR_LIMIT;
  *out = mvn_cmp(&x, 0, &y, 0, 0);
  return 0;
}

/* --------------------------------------------- rubygems and generic */

#define SEG_MAX SC_VERSION_MAX /* a segment is at least one byte: never exceeded */

typedef struct {
  vs s;
  int num;
} seg;

/* Splits into digit runs and letter runs; '-' counts as the word "pre"
 * (Gem::Version rewrites "-" to ".pre."). */
static int split_segs(vs v, seg *out, size_t *nout, int gem) {
  size_t n = 0;
  for (size_t i = 0; i < v.n;) {
    int c = (unsigned char)v.p[i];
    if (gem && c == '-') {
      if (n == SEG_MAX) return SC_ERR_LIMIT;
      out[n++] = (seg){{"pre", 3}, 0};
      i++;
      continue;
    }
    if (!is_alnum(c)) {
      i++;
      continue;
    }
    size_t st = i;
    int d = is_digit(c);
    while (i < v.n && (d ? is_digit((unsigned char)v.p[i]) : is_alpha((unsigned char)v.p[i]))) i++;
    if (n == SEG_MAX) return SC_ERR_LIMIT;
    out[n++] = (seg){{v.p + st, i - st}, d};
  }
  *nout = n;
  return 0;
}

static int is_zero_seg(const seg *s) { return s->num && numcmp(s->s.p, s->s.n, "0", 1) == 0; }

/* Gem::Version#canonical_segments: drop trailing zeros of the numeric
 * prefix and of the rest separately. */
static size_t gem_canon(seg *s, size_t n) {
  size_t first_str = 0;
  while (first_str < n && s[first_str].num) first_str++;
  size_t a = first_str;
  while (a > 0 && is_zero_seg(&s[a - 1])) a--;
  size_t b = n;
  while (b > first_str && is_zero_seg(&s[b - 1])) b--;
  memmove(s + a, s + first_str, (b - first_str) * sizeof(*s));
  return a + (b - first_str);
}

static int gem_valid(vs v) {
  /* ^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$ */
  size_t i = span_digits(v.p, 0, v.n);
  if (!v.n) return 1; /* "" means "0" */
  if (i == 0) return 0;
  while (i < v.n && v.p[i] == '.') {
    size_t st = ++i;
    while (i < v.n && is_alnum((unsigned char)v.p[i])) i++;
    if (i == st) return 0;
  }
  if (i == v.n) return 1;
  if (v.p[i] != '-') return 0;
  return sem_idents_ok(v.p + i + 1, v.n - i - 1);
}

/* Generic word rank: prerelease words < 7 = end of version < post words. */
static int gen_rank(vs w) {
  if (ieq(w.p, w.n, "dev") || ieq(w.p, w.n, "snapshot")) return 1;
  if (ieq(w.p, w.n, "alpha") || ieq(w.p, w.n, "a")) return 2;
  if (ieq(w.p, w.n, "beta") || ieq(w.p, w.n, "b")) return 3;
  if (ieq(w.p, w.n, "pre") || ieq(w.p, w.n, "preview") || ieq(w.p, w.n, "m") ||
      ieq(w.p, w.n, "milestone"))
    return 4;
  if (ieq(w.p, w.n, "rc") || ieq(w.p, w.n, "cr") || ieq(w.p, w.n, "c")) return 5;
  if (ieq(w.p, w.n, "p") || ieq(w.p, w.n, "pl") || ieq(w.p, w.n, "patch") ||
      ieq(w.p, w.n, "post") || ieq(w.p, w.n, "sp"))
    return 8;
  return 6;
}

static int seg_scmp(const seg *l, const seg *r) {
  if (l->num && r->num) return numcmp(l->s.p, l->s.n, r->s.p, r->s.n);
  if (l->num != r->num) return l->num ? 1 : -1;
  return 0;
}

/* Gem::Version order: a missing segment is 0, numbers beat letters. */
static int gem_cmp(const seg *x, size_t xn, const seg *y, size_t yn) {
  static const seg zero = {{"0", 1}, 1};
  for (size_t k = 0; k < xn || k < yn; k++) {
    const seg *l = k < xn ? &x[k] : &zero, *r = k < yn ? &y[k] : &zero;
    int c = seg_scmp(l, r);
    if (!c && !l->num) c = strcmp_n(l->s.p, l->s.n, r->s.p, r->s.n, 0);
    if (c) return c;
  }
  return 0;
}

/* Generic order: zeros dropped as in gem_canon (1.0-beta = 1-beta), then
 * element by element with prerelease words < end of version < post words <
 * numbers; synonyms (a/alpha, p/patch) are equal, unknown words compare by
 * text.  A total order on elements keeps the comparison transitive. */
static int gen_elem(const seg *s) { return !s ? 7 : s->num ? 9 : gen_rank(s->s); }

static int generic_cmp(const seg *x, size_t xn, const seg *y, size_t yn) {
  for (size_t k = 0; k < xn || k < yn; k++) {
    const seg *l = k < xn ? &x[k] : NULL, *r = k < yn ? &y[k] : NULL;
    int c = sgn(gen_elem(l) - gen_elem(r));
    if (!c && l && r) {
      if (l->num) c = seg_scmp(l, r);
      else if (gen_elem(l) == 6) c = strcmp_n(l->s.p, l->s.n, r->s.p, r->s.n, 1);
    }
    if (c) return c;
  }
  return 0;
}

static int cmp_gem(vs a, vs b, int *out) {
  seg x[SEG_MAX], y[SEG_MAX];
  size_t xn, yn;
  int rc;
  if (!gem_valid(a) || !gem_valid(b)) return SC_ERR_FORMAT;
  if ((rc = split_segs(a, x, &xn, 1)) || (rc = split_segs(b, y, &yn, 1))) return rc;
  xn = gem_canon(x, xn);
  yn = gem_canon(y, yn);
  *out = gem_cmp(x, xn, y, yn);
  return 0;
}

static int cmp_generic(vs a, vs b, int *out) {
  seg x[SEG_MAX], y[SEG_MAX];
  size_t xn, yn;
  int rc;
  if (a.n > 1 && (a.p[0] == 'v' || a.p[0] == 'V') && is_digit((unsigned char)a.p[1])) a.p++, a.n--;
  if (b.n > 1 && (b.p[0] == 'v' || b.p[0] == 'V') && is_digit((unsigned char)b.p[1])) b.p++, b.n--;
  if ((rc = split_segs(a, x, &xn, 0)) || (rc = split_segs(b, y, &yn, 0))) return rc;
  *out = generic_cmp(x, gem_canon(x, xn), y, gem_canon(y, yn));
  return 0;
}

/* ------------------------------------------------------------- Composer */

/* Composer (Packagist): VersionParser::normalize, then PHP's
 * version_compare, as Composer's Comparator does on normalized versions.
 * Normalizing: alias (" as X") and build metadata ("+foo") dropped, leading
 * v dropped, master/trunk/default = dev-master/..., 1 to 4 numeric parts
 * padded to 4 ("1.2" = "1.2.0.0"), dates (2010-01-02) kept as they are,
 * stabilities spelled out (a = alpha, b = beta, rc = RC, p = pl = patch;
 * "-stable" dropped), "-dev" kept, branch forms (1.x-dev) =
 * 1.9999999.9999999.9999999-dev.  A version Composer would refuse is
 * compared as written (version_compare takes anything). */
#define COMPOSER_BRANCH_NUM "9999999" /* Composer's number for a dev branch */
#define COMPOSER_NORM_MAX (SC_VERSION_MAX + 64) /* normalizing adds at most ".0.0.0-patch-dev" */

typedef struct {
  char b[COMPOSER_NORM_MAX];
  size_t n;
  int over;
} cbuf;

static void cb_put(cbuf *c, const char *p, size_t n) {
  if (c->n + n >= sizeof(c->b)) {
    c->over = 1;
    return;
  }
  memcpy(c->b + c->n, p, n);
  c->n += n;
}
static void cb_str(cbuf *c, const char *s) { cb_put(c, s, strlen(s)); }

static int iprefix(const char *p, size_t n, const char *w) {
  size_t wn = strlen(w);
  return n >= wn && strncasecmp(p, w, wn) == 0;
}

/* The modifier part of Composer's classical and date forms, all of r:
 * [._-]?((stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?
 * Appends "-<stability><digits>" and "-dev" to c; 0 when r does not match. */
static int composer_mods(vs r, cbuf *c) {
  static const char *const words[] = {"stable", "beta", "b", "RC", "alpha", "a", "patch", "pl", "p"};
  static const char *const spelled[] = {"stable", "beta", "beta", "RC", "alpha", "alpha", "patch", "patch", "patch"};
  size_t i = 0, w = sizeof(words) / sizeof(words[0]);
  if (i < r.n && (r.p[i] == '.' || r.p[i] == '_' || r.p[i] == '-')) i++;
  for (size_t k = 0; k < sizeof(words) / sizeof(words[0]) && w == sizeof(words) / sizeof(words[0]); k++)
    if (iprefix(r.p + i, r.n - i, words[k])) w = k;
  size_t d0 = 0, d1 = 0;
  if (w < sizeof(words) / sizeof(words[0])) {
    i += strlen(words[w]);
    d0 = d1 = i;
    for (;;) { /* (?:[.-]?\d+)*+ */
      size_t j = i;
      if (j < r.n && (r.p[j] == '.' || r.p[j] == '-')) j++;
      if (j >= r.n || !is_digit((unsigned char)r.p[j])) break;
      while (j < r.n && is_digit((unsigned char)r.p[j])) j++;
      i = d1 = j;
    }
  } else if (i == 1 && !iprefix(r.p + i, r.n - i, "dev")) {
    i = 0; /* the separator belongs to ([.-]?dev) */
  }
  int dev = 0;
  if (i < r.n) {
    size_t j = i;
    if (r.p[j] == '.' || r.p[j] == '-') j++;
    if (r.n - j != 3 || strncasecmp(r.p + j, "dev", 3) != 0) return 0;
    dev = 1;
  }
  if (w < sizeof(words) / sizeof(words[0])) {
    if (w == 0) return 1; /* "-stable": the version as it is, -dev ignored too */
    cb_str(c, "-");
    cb_str(c, spelled[w]);
    while (d0 < d1 && (r.p[d0] == '.' || r.p[d0] == '-')) d0++;
    cb_put(c, r.p + d0, d1 - d0);
  }
  if (dev) cb_str(c, "-dev");
  return 1;
}

/* ^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)? + modifiers */
static int composer_classical(vs s, cbuf *c) {
  size_t i = 0, parts = 0;
  while (parts < 4) {
    size_t st = i + (parts ? 1 : 0);
    if (parts && (i >= s.n || s.p[i] != '.')) break;
    size_t j = st;
    while (j < s.n && is_digit((unsigned char)s.p[j])) j++;
    if (j == st) break;
    if (!parts && j - st > 5) return 0;
    cb_put(c, s.p + i, j - i);
    i = j;
    parts++;
  }
  if (!parts) return 0;
  for (; parts < 4; parts++) cb_str(c, ".0");
  return composer_mods((vs){s.p + i, s.n - i}, c);
}

/* ^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2}) + modifiers, the
 * date's separators written as dots (taken greedily: digits and single
 * separators between digits). */
static int composer_date(vs s, cbuf *c) {
  size_t i = 0, groups = 0;
  while (i < s.n && is_digit((unsigned char)s.p[i])) i++;
  size_t first = i;
  if (first < 4) return 0;
  cb_put(c, s.p, i);
  while (i + 1 < s.n && (s.p[i] == '.' || s.p[i] == ':' || s.p[i] == '-') && is_digit((unsigned char)s.p[i + 1])) {
    size_t j = i + 1;
    while (j < s.n && is_digit((unsigned char)s.p[j])) j++;
    cb_str(c, ".");
    cb_put(c, s.p + i + 1, j - i - 1);
    i = j;
    groups++;
  }
  if (first < 6 && !groups) return 0; /* \d{4} then at least one more group */
  return composer_mods((vs){s.p + i, s.n - i}, c);
}

/* Branch form "(.*?)[.-]?dev": ^v?(\d++)(\.(?:\d++|[xX*])){0,3}$ with x, *
 * and missing parts as 9999999. */
static int composer_branch(vs s, cbuf *c) {
  if (s.n < 3 || strncasecmp(s.p + s.n - 3, "dev", 3) != 0) return 0;
  s.n -= 3;
  if (s.n && (s.p[s.n - 1] == '.' || s.p[s.n - 1] == '-')) s.n--;
  size_t i = 0, parts = 0;
  while (i < s.n && parts < 4) {
    if (parts && s.p[i++] != '.') return 0;
    size_t j = i;
    while (j < s.n && is_digit((unsigned char)s.p[j])) j++;
    if (parts && j == i && i < s.n && (s.p[i] == 'x' || s.p[i] == 'X' || s.p[i] == '*')) {
      cb_str(c, "." COMPOSER_BRANCH_NUM);
      i++;
    } else {
      if (j == i) return 0;
      if (parts) cb_str(c, ".");
      cb_put(c, s.p + i, j - i);
      i = j;
    }
    parts++;
  }
  if (!parts || i != s.n) return 0;
  for (; parts < 4; parts++) cb_str(c, "." COMPOSER_BRANCH_NUM);
  cb_str(c, "-dev");
  return 1;
}

static void composer_norm(vs s, cbuf *c) {
  c->n = 0;
  c->over = 0;
  for (size_t i = 0; i + 4 <= s.n; i++) /* "1.0.0 as 2.0": the alias goes */
    if (s.p[i] == ' ' && (s.p[i + 1] == 'a' || s.p[i + 1] == 'A') && (s.p[i + 2] == 's' || s.p[i + 2] == 'S') &&
        s.p[i + 3] == ' ') {
      s.n = i;
      break;
    }
  while (s.n && s.p[s.n - 1] == ' ') s.n--;
  vs t = s;
  /* branches: "master", "trunk", "default" are dev-master, ... (Composer 2) */
  if ((s.n == 6 && !memcmp(s.p, "master", 6)) || (s.n == 5 && !memcmp(s.p, "trunk", 5)) ||
      (s.n == 7 && !memcmp(s.p, "default", 7))) {
    cb_str(c, "dev-");
    cb_put(c, s.p, s.n);
    return;
  }
  if (iprefix(s.p, s.n, "dev-")) { /* a branch: compared as written */
    cb_str(c, "dev-");
    cb_put(c, s.p + 4, s.n - 4);
    return;
  }
  const char *plus = memchr(s.p, '+', s.n);
  if (plus) s.n = (size_t)(plus - s.p);
  if (s.n > 1 && (s.p[0] == 'v' || s.p[0] == 'V') && is_digit((unsigned char)s.p[1])) s.p++, s.n--;
  if (composer_classical(s, c) && !c->over) return;
  c->n = c->over = 0;
  if (composer_date(s, c) && !c->over) return;
  c->n = c->over = 0;
  if (composer_branch(s, c) && !c->over) return;
  c->n = c->over = 0;
  cb_put(c, t.p, t.n);
}

/* PHP's php_canonicalize_version: '-', '_', '+' and every other
 * non-alphanumeric become '.', a '.' goes between digits and letters,
 * runs of dots collapse; the first character is kept as it is. */
static size_t php_canon(const char *in, size_t n, char *out) {
  size_t q = 0;
  if (!n) return 0;
  out[q++] = in[0];
  for (size_t i = 1; i < n; i++) {
    int lp = (unsigned char)in[i - 1], c = (unsigned char)in[i];
    int lp_d = is_digit(lp), c_d = is_digit(c), lp_nd = !is_digit(lp) && lp != '.', c_nd = !is_digit(c) && c != '.';
    if (c == '-' || c == '_' || c == '+' || !is_alnum(c)) {
      if (out[q - 1] != '.') out[q++] = '.';
    } else if ((lp_nd && c_d) || (lp_d && c_nd)) {
      if (out[q - 1] != '.') out[q++] = '.';
      out[q++] = (char)c;
    } else {
      out[q++] = (char)c;
    }
  }
  return q;
}

/* PHP's special forms, matched as prefixes and case-sensitively (Composer
 * writes them in these spellings); anything else ranks below "dev". */
static int php_form(const char *p, size_t n) {
  static const struct {
    const char *name;
    int order;
  } forms[] = {{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2}, {"RC", 3},
               {"rc", 3},  {"#", 4},     {"pl", 5}, {"p", 5}};
  for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
    size_t m = strlen(forms[k].name);
    if (n >= m && memcmp(p, forms[k].name, m) == 0) return forms[k].order;
  }
  return -1;
}

#define PHP_NUMBER_FORM 4 /* a number against a special form ranks as "#" */

/* version_compare on canonical texts: part by part, numbers by value,
 * special forms by rank, a number against a form as "#"; when one side
 * runs out, a number left over makes it greater, a form left over is
 * ranked against "#". */
static int php_vcmp(const char *a, size_t an, const char *b, size_t bn) {
  size_t i = 0, j = 0;
  for (;;) {
    size_t ie = i, je = j;
    while (ie < an && a[ie] != '.') ie++;
    while (je < bn && b[je] != '.') je++;
    int ad = i < an && is_digit((unsigned char)a[i]), bd = j < bn && is_digit((unsigned char)b[j]), c;
    if (ad && bd) c = numcmp(a + i, ie - i, b + j, je - j);
    else if (!ad && !bd) c = sgn(php_form(a + i, ie - i) - php_form(b + j, je - j));
    else if (ad) c = sgn(PHP_NUMBER_FORM - php_form(b + j, je - j));
    else c = sgn(php_form(a + i, ie - i) - PHP_NUMBER_FORM);
    if (c) return c;
    int amore = ie < an, bmore = je < bn;
    i = ie + 1;
    j = je + 1;
    if (amore && bmore) continue;
    if (amore) { /* what is left of a, against "#" */
      if (i < an && is_digit((unsigned char)a[i])) return 1;
      return sgn(php_form(a + i, an - i) - PHP_NUMBER_FORM);
    }
    if (bmore) {
      if (j < bn && is_digit((unsigned char)b[j])) return -1;
      return sgn(PHP_NUMBER_FORM - php_form(b + j, bn - j));
    }
    return 0;
  }
}

static int cmp_composer(vs a, vs b, int *out) {
  cbuf x, y;
  char cx[2 * COMPOSER_NORM_MAX], cy[2 * COMPOSER_NORM_MAX];
  composer_norm(a, &x);
  composer_norm(b, &y);
  size_t xn = php_canon(x.b, x.n, cx), yn = php_canon(y.b, y.n, cy);
  *out = php_vcmp(cx, xn, cy, yn);
  return 0;
}

/* ---------------------------------------------------------------- API */

static int trim(const char *s, vs *out) {
  size_t n = strnlen(s, SC_VERSION_MAX + 1);
  if (n > SC_VERSION_MAX) return SC_ERR_LIMIT;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, n--;
  *out = (vs){s, n};
  return 0;
}

int sc_version_cmp(sc_vscheme scheme, const char *a, const char *b, int *out) {
  vs x, y;
  int rc, r = 0;
  if (!a || !b || !out) return SC_ERR_ARG;
  if ((rc = trim(a, &x)) || (rc = trim(b, &y))) return rc;
  switch (scheme) {
  case SC_VS_DPKG: rc = cmp_dpkg(x, y, &r); break;
  case SC_VS_APK: rc = cmp_apk(x, y, &r); break;
  case SC_VS_RPM: rc = cmp_rpm(x, y, &r); break;
  case SC_VS_PEP440: rc = cmp_pep(x, y, &r); break;
  case SC_VS_SEMVER: rc = cmp_sem(x, y, &r, 0); break;
  case SC_VS_NUGET: rc = cmp_sem(x, y, &r, 1); break;
  case SC_VS_MAVEN: rc = cmp_mvn(x, y, &r); break;
  case SC_VS_RUBYGEMS: rc = cmp_gem(x, y, &r); break;
  case SC_VS_COMPOSER: rc = cmp_composer(x, y, &r); break;
  default: rc = cmp_generic(x, y, &r); break;
  }
  if (rc) return rc;
  *out = r < 0 ? -1 : r > 0;
  return 0;
}

int sc_version_valid(sc_vscheme scheme, const char *v) {
  int r;
  return sc_version_cmp(scheme, v, v, &r);
}

sc_vscheme sc_vscheme_for_ecosystem(const char *eco) {
  static const struct {
    const char *name;
    sc_vscheme s;
  } map[] = {
      {"Debian", SC_VS_DPKG},         {"Ubuntu", SC_VS_DPKG},
      {"Alpine", SC_VS_APK},          {"Wolfi", SC_VS_APK},
      {"Chainguard", SC_VS_APK},      {"MinimOS", SC_VS_APK},
      {"Red Hat", SC_VS_RPM},         {"Rocky Linux", SC_VS_RPM},
      {"AlmaLinux", SC_VS_RPM},       {"openSUSE", SC_VS_RPM},
      {"SUSE", SC_VS_RPM},            {"Mageia", SC_VS_RPM},
      {"Photon OS", SC_VS_RPM},       {"openEuler", SC_VS_RPM},
      {"Azure Linux", SC_VS_RPM},     {"CentOS", SC_VS_RPM},
      {"Fedora", SC_VS_RPM},          {"Oracle Linux", SC_VS_RPM},
      {"Amazon Linux", SC_VS_RPM},    {"PyPI", SC_VS_PEP440},
      {"npm", SC_VS_SEMVER},          {"Go", SC_VS_SEMVER},
      {"crates.io", SC_VS_SEMVER},    {"Hex", SC_VS_SEMVER},
      {"Pub", SC_VS_SEMVER},          {"SwiftURL", SC_VS_SEMVER},
      {"Bitnami", SC_VS_SEMVER},      {"GitHub Actions", SC_VS_SEMVER},
      {"Maven", SC_VS_MAVEN},         {"RubyGems", SC_VS_RUBYGEMS},
      {"NuGet", SC_VS_NUGET},         {"Packagist", SC_VS_COMPOSER},
  };
  if (!eco) return SC_VS_GENERIC;
  size_t n = strcspn(eco, ":");
  for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
    if (strlen(map[k].name) == n && strncasecmp(eco, map[k].name, n) == 0) return map[k].s;
  return SC_VS_GENERIC;
}

const char *sc_vscheme_name(sc_vscheme s) {
  switch (s) {
  case SC_VS_DPKG: return "dpkg";
  case SC_VS_APK: return "apk";
  case SC_VS_RPM: return "rpm";
  case SC_VS_PEP440: return "pep440";
  case SC_VS_SEMVER: return "semver";
  case SC_VS_MAVEN: return "maven";
  case SC_VS_RUBYGEMS: return "rubygems";
  case SC_VS_NUGET: return "nuget";
  case SC_VS_COMPOSER: return "composer";
  default: return "generic";
  }
}
