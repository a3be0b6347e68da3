/* sc_policy_parse.c - the policy's schema: a YAML node tree becomes a
 * validated sc_policy (modes, rules with their deny/warn conditions,
 * exceptions), every problem reported with its FILE:LINE:COL; the loaders,
 * sc_policy_free and the getters.  See sc_policy.h for the format.
 * Owner: scanner/policy.  Thread: loading is single-threaded per call; the
 * result is immutable and may be shared.  Errors: SC_ERR_FORMAT (the
 * report in *errors), SC_ERR_IO, SC_ERR_LIMIT, SC_ERR_NOMEM, SC_ERR_ARG. */
#include "sc_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc_glob.h"
#include "sc_policy_int.h"
#include "sc_policy_yaml.h"
#include "sc_time.h"

#define POLICY_ERRORS_MAX_BYTES (64 * 1024) /* the whole error report (then cut) */

static void strv_free(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void pkgspec_free(pkgspec *p) {
  free(p->eco);
  free(p->name);
  free(p->version);
}

static void cond_free(cond *c) {
  strv_free(c->vulns, c->nvulns);
  for (size_t i = 0; i < c->npkgs; i++) pkgspec_free(&c->pkgs[i]);
  free(c->pkgs);
}

void sc_policy_free(sc_policy *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nrules; i++) {
    free(p->rules[i].name);
    strv_free(p->rules[i].repos, p->rules[i].nrepos);
    cond_free(&p->rules[i].deny);
    cond_free(&p->rules[i].warn);
  }
  free(p->rules);
  for (size_t i = 0; i < p->nexcs; i++) {
    free(p->excs[i].vuln);
    strv_free(p->excs[i].repos, p->excs[i].nrepos);
    pkgspec_free(&p->excs[i].pkg);
    free(p->excs[i].reason);
  }
  free(p->excs);
  for (size_t i = 0; i < p->nvex; i++) {
    free(p->vex[i].path);
    free(p->vex[i].file);
    strv_free(p->vex[i].repos, p->vex[i].nrepos);
    sc_vex_doc_free(p->vex[i].doc);
  }
  free(p->vex);
  strv_free(p->vexref_repos, p->nvexref_repos);
  free(p->file);
  free(p);
}

sc_policy_mode sc_policy_mode_of(const sc_policy *p) { return p ? p->mode : SC_MODE_ENFORCE; }
sc_unscanned sc_policy_unscanned(const sc_policy *p) { return p ? p->unscanned : SC_UNSCANNED_SCAN; }
sc_on_error sc_policy_on_error(const sc_policy *p) { return p ? p->on_error : SC_ON_ERROR_DENY; }
sc_head sc_policy_head(const sc_policy *p) { return p ? p->head : SC_HEAD_AUTO; }
size_t sc_policy_rule_count(const sc_policy *p) { return p ? p->nrules : 0; }
size_t sc_policy_exception_count(const sc_policy *p) { return p ? p->nexcs : 0; }
size_t sc_policy_vex_count(const sc_policy *p) { return p ? p->nvex : 0; }
const char *sc_policy_vex_file(const sc_policy *p, size_t i) { return p && i < p->nvex ? p->vex[i].file : NULL; }

int sc_policy_exception_at(const sc_policy *p, size_t i, sc_policy_exception_info *out) {
  if (!p || !out || i >= p->nexcs) return SC_ERR_ARG;
  const exc *e = &p->excs[i];
  memset(out, 0, sizeof(*out));
  out->vulnerability = e->vuln;
  out->repositories = (const char *const *)e->repos;
  out->nrepositories = e->nrepos;
  if (e->has_pkg) {
    out->package_ecosystem = e->pkg.eco;
    out->package_name = e->pkg.name;
    out->package_version = e->pkg.version;
  }
  out->has_expires = e->has_expires;
  out->expires_day = e->expires_day;
  out->reason = e->reason;
  out->line = e->line;
  return 0;
}

int sc_policy_trusts_vex_referrers(const sc_policy *p, const char *repo) {
  for (size_t i = 0; p && repo && i < p->nvexref_repos; i++)
    if (sc_glob_match(p->vexref_repos[i], repo)) return 1;
  return 0;
}

int sc_policy_uses_stale_base(const sc_policy *p) {
  for (size_t i = 0; p && i < p->nrules; i++)
    if ((p->rules[i].has_deny && p->rules[i].deny.stale_base_days >= 0) ||
        (p->rules[i].has_warn && p->rules[i].warn.stale_base_days >= 0))
      return 1;
  return 0;
}

typedef struct strv_acc {
  char ***v;
  size_t *n;
  const char *what;
  int glob; /* validate as repository glob */
} strv_acc;

static int add_str_item(sc_yctx *c, const sc_ynode *n, void *arg, size_t idx) {
  strv_acc *a = arg;
  char msg[128];
  (void)idx;
  const char *s = sc_yaml_str(c, n, a->what);
  if (!s) return -1;
  if (a->glob && sc_glob_check(s, msg, sizeof(msg)) != 0) {
    sc_yaml_err(c, n->line, n->col, "bad repository pattern '%s': %s", s, msg);
    return -1;
  }
  if (!a->glob && strpbrk(s, " \t")) {
    sc_yaml_err(c, n->line, n->col, "%s '%s' contains a space", a->what, s);
    return -1;
  }
  char **t = realloc(*a->v, (*a->n + 1) * sizeof(char *));
  if (!t) {
    c->nomem = 1;
    return -1;
  }
  *a->v = t;
  if (!(t[*a->n] = sc_yaml_dup(c, s))) return -1;
  (*a->n)++;
  return 0;
}

/* Ecosystem prefixes recognised in "ecosystem/name": OSV ecosystems plus
 * the cataloger types.  Anything else before a "/" is part of the name (Go
 * modules "github.com/x/y", npm scopes "@types/node"). */
static const char *const ecosystems[] = {
    "AlmaLinux", "Alpine", "Android", "Bitnami", "Chainguard", "CRAN", "crates.io", "Debian",
    "GitHub Actions", "Go", "Hackage", "Hex", "Linux", "Mageia", "Maven", "npm", "NuGet",
    "openSUSE", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "RubyGems",
    "SUSE", "SwiftURL", "Ubuntu", "Wolfi", "apk", "deb", "rpm", "python", "java"};

static int parse_pkgspec(sc_yctx *c, const sc_ynode *n, const char *what, pkgspec *out) {
  const char *s = sc_yaml_str(c, n, what);
  const char *name, *slash, *at;
  memset(out, 0, sizeof(*out));
  if (!s) return -1;
  name = s;
  slash = strchr(s, '/');
  if (slash && slash != s) {
    for (size_t i = 0; i < sizeof(ecosystems) / sizeof(ecosystems[0]); i++)
      if (strlen(ecosystems[i]) == (size_t)(slash - s) && !strncasecmp(s, ecosystems[i], (size_t)(slash - s))) {
        out->eco = strndup(s, (size_t)(slash - s));
        name = slash + 1;
        if (!out->eco) c->nomem = 1;
        break;
      }
  }
  at = strrchr(name, '@');
  if (at == name) at = NULL; /* "@scope/pkg" */
  out->name = at ? strndup(name, (size_t)(at - name)) : strdup(name);
  if (at) out->version = strdup(at + 1);
  if (!out->name || (at && !out->version)) c->nomem = 1;
  if (c->nomem) return -1;
  if (!out->name[0] || (out->version && !out->version[0]) || strpbrk(out->name, " \t")) {
    sc_yaml_err(c, n->line, n->col, "bad %s '%s' (expected name, name@version or ecosystem/name)", what, s);
    pkgspec_free(out);
    memset(out, 0, sizeof(*out));
    return -1;
  }
  return 0;
}

typedef struct pkg_acc {
  pkgspec **v;
  size_t *n;
} pkg_acc;

static int add_pkg_item(sc_yctx *c, const sc_ynode *n, void *arg, size_t idx) {
  pkg_acc *a = arg;
  pkgspec ps;
  (void)idx;
  if (parse_pkgspec(c, n, "package", &ps) != 0) return -1;
  pkgspec *t = realloc(*a->v, (*a->n + 1) * sizeof(*t));
  if (!t) {
    pkgspec_free(&ps);
    c->nomem = 1;
    return -1;
  }
  *a->v = t;
  t[(*a->n)++] = ps;
  return 0;
}


static const char *const sev_levels[] = {"low", "medium", "high", "critical"};

enum { C_SEVERITY, C_FIXABLE, C_UNKNOWN, C_MAXCVSS, C_SECRETS, C_ROOT, C_AGE, C_STALE, C_VULNS, C_PKGS };
static const char *const cond_keys[] = {"severity", "fixable_only", "unknown_severity",
                                        "max_cvss", "secrets", "root", "max_age_days",
                                        "stale_base_days", "vulnerabilities", "packages"};

static int parse_cond(sc_yctx *c, const sc_ynode *n, const char *where, cond *out) {
  unsigned seen = 0;
  int ok = 1, v;
  double d;
  memset(out, 0, sizeof(*out));
  out->unknown_rank = SC_SEV_LOW;
  out->max_age_days = -1;
  out->stale_base_days = -1;
  if (n->type == Y_BAD) return -1;
  if (sc_yaml_is_null(n)) {
    sc_yaml_err(c, n->line, n->col, "%s is empty (give at least one condition)", where);
    return -1;
  }
  if (n->type != Y_MAP) {
    sc_yaml_err(c, n->line, n->col, "%s must be a mapping of conditions, not %s", where,
                sc_yaml_type_name(n));
    return -1;
  }
  for (size_t i = 0; i + 1 < n->nkids; i += 2) {
    const sc_ynode *k = n->kids[i], *val = n->kids[i + 1];
    switch (sc_yaml_key(c, k, where, cond_keys, sizeof(cond_keys) / sizeof(cond_keys[0]), &seen)) {
    case C_SEVERITY:
      if ((v = sc_yaml_enum(c, val, "severity", sev_levels, 4)) < 0) ok = 0;
      else out->severity = v + 1;
      break;
    case C_FIXABLE:
      if ((v = sc_yaml_bool(c, val, "fixable_only")) < 0) ok = 0;
      else out->fixable_only = v;
      break;
    case C_UNKNOWN:
      if ((v = sc_yaml_enum(c, val, "unknown_severity", sev_levels, 4)) < 0) ok = 0;
      else out->unknown_rank = v + 1;
      break;
    case C_MAXCVSS:
      if (sc_yaml_number(c, val, "max_cvss", 0, 10, 0, &d) < 0) ok = 0;
      else out->has_max_cvss = 1, out->max_cvss = d;
      break;
    case C_SECRETS:
      if ((v = sc_yaml_bool(c, val, "secrets")) < 0) ok = 0;
      else out->secrets = v;
      break;
    case C_ROOT:
      if ((v = sc_yaml_bool(c, val, "root")) < 0) ok = 0;
      else out->root = v;
      break;
    case C_AGE:
      if (sc_yaml_number(c, val, "max_age_days", 0, 36500, 1, &d) < 0) ok = 0;
      else out->max_age_days = (int)d;
      break;
    case C_STALE: /* 0 is meaningful: any superseded base */
      if (sc_yaml_number(c, val, "stale_base_days", 0, 36500, 1, &d) < 0) ok = 0;
      else out->stale_base_days = (int)d;
      break;
    case C_VULNS: {
      strv_acc a = {&out->vulns, &out->nvulns, "vulnerability id", 0};
      if (!sc_yaml_is_null(val) && sc_yaml_each(c, val, "vulnerabilities", add_str_item, &a) != 0) ok = 0;
      break;
    }
    case C_PKGS: {
      pkg_acc a = {&out->pkgs, &out->npkgs};
      if (!sc_yaml_is_null(val) && sc_yaml_each(c, val, "packages", add_pkg_item, &a) != 0) ok = 0;
      break;
    }
    default:
      ok = 0;
      break;
    }
  }
  if (!ok) return -1;
  /* A block that can never fire is almost always a mistake (a misindented
   * key, "secrets: false" left alone): say so instead of allowing all. */
  if (!out->severity && !out->has_max_cvss && !out->secrets && !out->root && out->max_age_days < 0 &&
      out->stale_base_days < 0 && !out->nvulns && !out->npkgs) {
    sc_yaml_err(c, n->line, n->col, "%s has no condition that can match (severity, max_cvss, secrets, root, "
                "max_age_days, stale_base_days, vulnerabilities or packages)", where);
    return -1;
  }
  if ((seen & ((1u << C_FIXABLE) | (1u << C_UNKNOWN))) && !out->severity && !out->has_max_cvss) {
    sc_yaml_err(c, n->line, n->col, "%s: fixable_only and unknown_severity need severity or max_cvss", where);
    return -1;
  }
  return 0;
}

/* `repositories` of a rule or an exception (`what`): a non-empty list of
 * valid repository globs.  0, or -1 after reporting. */
static int parse_repos(sc_yctx *c, const sc_ynode *v, const char *what, char ***repos, size_t *n) {
  strv_acc a = {repos, n, "repository pattern", 1};
  if (sc_yaml_each(c, v, "repositories", add_str_item, &a) != 0) return -1;
  if (!*n) {
    sc_yaml_err(c, v->line, v->col, "repositories is empty: the %s would never apply", what);
    return -1;
  }
  return 0;
}

/* Without `repositories`, a rule or an exception covers every repository. */
static int default_repos(sc_yctx *c, char ***repos, size_t *n) {
  if (!(*repos = calloc(1, sizeof(char *))) || !((*repos)[0] = sc_yaml_dup(c, "**"))) {
    c->nomem = 1;
    return -1;
  }
  *n = 1;
  return 0;
}

enum { R_NAME, R_DESC, R_REPOS, R_DENY, R_WARN };
static const char *const rule_keys[] = {"name", "description", "repositories", "deny", "warn"};

static int parse_rule(sc_yctx *c, const sc_ynode *n, void *arg, size_t idx) {
  sc_policy *p = arg;
  rule *r = &p->rules[p->nrules];
  unsigned seen = 0;
  int ok = 1;
  const sc_ynode *name_node = NULL;
  char where[64];
  snprintf(where, sizeof(where), "rule #%zu", idx + 1);
  memset(r, 0, sizeof(*r));
  if (n->type == Y_BAD) return -1;
  if (n->type != Y_MAP) {
    sc_yaml_err(c, n->line, n->col, "each rule must be a mapping (name, repositories, deny, warn), not %s",
                sc_yaml_type_name(n));
    return -1;
  }
  p->nrules++; /* owned by p from here, freed with it on failure */
  r->line = n->line;
  for (size_t i = 0; i + 1 < n->nkids; i += 2) {
    const sc_ynode *k = n->kids[i], *v = n->kids[i + 1];
    switch (sc_yaml_key(c, k, where, rule_keys, 5, &seen)) {
    case R_NAME: {
      const char *s = sc_yaml_str(c, v, "rule name");
      if (!s) ok = 0;
      else if (!(r->name = sc_yaml_dup(c, s))) return -1;
      name_node = v;
      break;
    }
    case R_DESC:
      if (!sc_yaml_is_null(v) && !sc_yaml_str(c, v, "description")) ok = 0;
      break;
    case R_REPOS:
      if (parse_repos(c, v, "rule", &r->repos, &r->nrepos) != 0) ok = 0;
      break;
    case R_DENY:
      if (parse_cond(c, v, "deny", &r->deny) != 0) ok = 0;
      r->has_deny = 1;
      break;
    case R_WARN:
      if (parse_cond(c, v, "warn", &r->warn) != 0) ok = 0;
      r->has_warn = 1;
      break;
    default:
      ok = 0;
    }
  }
  if (!(seen & (1u << R_NAME))) {
    sc_yaml_err(c, n->line, n->col, "%s has no name", where);
    ok = 0;
  }
  if (!(seen & ((1u << R_DENY) | (1u << R_WARN)))) {
    sc_yaml_err(c, n->line, n->col, "%s has neither deny nor warn", where);
    ok = 0;
  }
  if (r->name && name_node)
    for (size_t j = 0; j + 1 < p->nrules; j++)
      if (p->rules[j].name && !strcmp(p->rules[j].name, r->name)) {
        sc_yaml_err(c, name_node->line, name_node->col, "duplicate rule name '%s' (first at line %d)",
                    r->name, p->rules[j].line);
        ok = 0;
        break;
      }
  if (ok && !(seen & (1u << R_REPOS)) && default_repos(c, &r->repos, &r->nrepos) != 0) return -1;
  return ok ? 0 : -1;
}

enum { E_VULN, E_REPOS, E_PKG, E_EXPIRES, E_REASON };
static const char *const exc_keys[] = {"vulnerability", "repositories", "package", "expires", "reason"};

static int parse_exc(sc_yctx *c, const sc_ynode *n, void *arg, size_t idx) {
  sc_policy *p = arg;
  exc *e = &p->excs[p->nexcs];
  unsigned seen = 0;
  int ok = 1;
  char where[64];
  snprintf(where, sizeof(where), "exception #%zu", idx + 1);
  memset(e, 0, sizeof(*e));
  if (n->type == Y_BAD) return -1;
  if (n->type != Y_MAP) {
    sc_yaml_err(c, n->line, n->col, "each exception must be a mapping (vulnerability, repositories, "
                "package, expires, reason), not %s", sc_yaml_type_name(n));
    return -1;
  }
  p->nexcs++;
  e->line = n->line;
  e->col = n->col;
  for (size_t i = 0; i + 1 < n->nkids; i += 2) {
    const sc_ynode *k = n->kids[i], *v = n->kids[i + 1];
    const char *s;
    switch (sc_yaml_key(c, k, where, exc_keys, 5, &seen)) {
    case E_VULN:
      if (!(s = sc_yaml_str(c, v, "vulnerability"))) ok = 0;
      else if (strpbrk(s, " \t")) {
        sc_yaml_err(c, v->line, v->col, "vulnerability id '%s' contains a space", s);
        ok = 0;
      } else if (!(e->vuln = sc_yaml_dup(c, s))) return -1;
      break;
    case E_REPOS:
      if (parse_repos(c, v, "exception", &e->repos, &e->nrepos) != 0) ok = 0;
      break;
    case E_PKG:
      if (parse_pkgspec(c, v, "package", &e->pkg) != 0) ok = 0;
      else e->has_pkg = 1;
      break;
    case E_EXPIRES:
      s = v->type == Y_SCALAR ? v->val : "";
      if (v->type == Y_BAD) ok = 0;
      else if ((e->expires_day = sc_day_parse(s)) < 0) {
        sc_yaml_err(c, v->line, v->col, "bad date '%s' for expires (expected YYYY-MM-DD)", s);
        ok = 0;
      } else {
        e->has_expires = 1;
        e->exp_line = v->line;
        e->exp_col = v->col;
      }
      break;
    case E_REASON:
      if (!(s = sc_yaml_str(c, v, "reason"))) ok = 0;
      else if (!(e->reason = sc_yaml_dup(c, s))) return -1;
      break;
    default:
      ok = 0;
    }
  }
  if (!(seen & (1u << E_VULN))) {
    sc_yaml_err(c, n->line, n->col, "%s has no vulnerability", where);
    ok = 0;
  }
  if (!(seen & (1u << E_REASON))) {
    sc_yaml_err(c, n->line, n->col, "%s has no reason (say why it is safe to accept)", where);
    ok = 0;
  }
  if (ok && !(seen & (1u << E_REPOS)) && default_repos(c, &e->repos, &e->nrepos) != 0) return -1;
  return ok ? 0 : -1;
}

enum { V_FILE, V_REPOS };
static const char *const vex_keys[] = {"file", "repositories"};

/* One `vex:` entry, PATH or {file: PATH, repositories: [...]}: the OpenVEX
 * document is read now, a relative PATH against the policy file's
 * directory, so that a broken document fails the load (and a reload keeps
 * the previous policy) instead of silently suppressing nothing. */
static int parse_vex(sc_yctx *c, const sc_ynode *n, void *arg, size_t idx) {
  sc_policy *p = arg;
  vexsrc *vs = &p->vex[p->nvex];
  const sc_ynode *file = NULL;
  unsigned seen = 0;
  int ok = 1;
  char where[64], err[SC_VEX_ERR_BYTES];
  snprintf(where, sizeof(where), "vex #%zu", idx + 1);
  memset(vs, 0, sizeof(*vs));
  if (n->type == Y_BAD) return -1;
  if (n->type == Y_SCALAR) {
    file = n;
  } else if (n->type == Y_MAP) {
    for (size_t i = 0; i + 1 < n->nkids; i += 2) {
      const sc_ynode *k = n->kids[i], *v = n->kids[i + 1];
      switch (sc_yaml_key(c, k, where, vex_keys, 2, &seen)) {
      case V_FILE:
        file = v;
        break;
      case V_REPOS:
        if (parse_repos(c, v, "vex document", &vs->repos, &vs->nrepos) != 0) ok = 0;
        break;
      default:
        ok = 0;
      }
    }
    if (!file) {
      sc_yaml_err(c, n->line, n->col, "%s has no file", where);
      ok = 0;
    }
  } else {
    sc_yaml_err(c, n->line, n->col, "each vex entry must be a path or a mapping (file, repositories), not %s",
                sc_yaml_type_name(n));
    return -1;
  }
  p->nvex++; /* owned by p from here */
  const char *path = file ? sc_yaml_str(c, file, "vex file") : NULL;
  if (!path || !ok) return -1;
  if (!(vs->path = sc_yaml_dup(c, path))) return -1;
  if (!vs->nrepos && default_repos(c, &vs->repos, &vs->nrepos) != 0) return -1;
  const char *slash = strrchr(c->file, '/');
  char *full = NULL;
  if (path[0] != '/' && slash && asprintf(&full, "%.*s/%s", (int)(slash - c->file), c->file, path) < 0) {
    c->nomem = 1;
    return -1;
  }
  int rc = sc_vex_load(full ? full : path, path, &vs->doc, err, sizeof(err));
  if (rc == SC_ERR_NOMEM) c->nomem = 1;
  else if (rc) sc_yaml_err(c, file->line, file->col, "vex file %s: %s", full ? full : path, err);
  vs->file = full ? full : strdup(path); /* owned by vs */
  if (!vs->file) c->nomem = 1;
  return rc || !vs->file ? -1 : 0;
}

/* vex: a list of paths or {file, repositories} (sc_vex.h). */
static void parse_vex_list(sc_yctx *c, const sc_ynode *val, sc_policy *p) {
  if (sc_yaml_is_null(val)) return;
  if (val->type != Y_SEQ) {
    if (val->type != Y_BAD) sc_yaml_err(c, val->line, val->col, "vex must be a list, not %s", sc_yaml_type_name(val));
    return;
  }
  if (val->nkids > SC_POLICY_MAX_VEX) {
    sc_yaml_err(c, val->line, val->col, "more than %d vex files", SC_POLICY_MAX_VEX);
    return;
  }
  if (!val->nkids) return;
  if (!(p->vex = calloc(val->nkids, sizeof(vexsrc)))) c->nomem = 1;
  for (size_t j = 0; j < val->nkids && !c->nomem; j++) parse_vex(c, val->kids[j], p, j);
}

/* vex_referrers: true (every repository), false (none), or a non-empty
 * list of repository globs, like a rule's `repositories`. */
static void parse_vex_referrers(sc_yctx *c, const sc_ynode *val, sc_policy *p) {
  if (sc_yaml_is_null(val)) return; /* as false, like an empty `vex:` */
  if (val->type == Y_SCALAR) {
    int on = sc_yaml_bool(c, val, "vex_referrers");
    if (on == 1) default_repos(c, &p->vexref_repos, &p->nvexref_repos);
    return;
  }
  if (val->type != Y_SEQ) {
    if (val->type != Y_BAD)
      sc_yaml_err(c, val->line, val->col, "vex_referrers must be true, false or a list of repository patterns, not %s",
                  sc_yaml_type_name(val));
    return;
  }
  strv_acc a = {&p->vexref_repos, &p->nvexref_repos, "repository pattern", 1};
  if (sc_yaml_each(c, val, "vex_referrers", add_str_item, &a) == 0 && !p->nvexref_repos)
    sc_yaml_err(c, val->line, val->col, "vex_referrers is empty: write false to trust no VEX referrer");
}

enum { T_MODE, T_UNSCANNED, T_ON_ERROR, T_HEAD, T_NO_DATA, T_VEX, T_VEXREF, T_RULES, T_EXCEPTIONS, T_NKEYS };
static const char *const top_keys[T_NKEYS] = {"mode",          "unscanned", "on_error", "head",      "no_data",
                                             "vex",           "vex_referrers", "rules", "exceptions"};

static void parse_top(sc_yctx *c, const sc_ynode *root, sc_policy *p) {
  static const char *const modes[] = {"enforce", "audit"};
  static const char *const unsc[] = {"scan", "deny", "allow"};
  static const char *const onerr[] = {"deny", "allow"};
  static const char *const heads[] = {"auto", "allow", "deny"};
  static const char *const nodata[] = {"allow", "warn", "deny"};
  unsigned seen = 0;
  int v;
  if (root->type != Y_MAP) {
    if (root->type != Y_BAD)
      sc_yaml_err(c, root->line, root->col,
                  sc_yaml_is_null(root) ? "the policy is empty (expected a mapping with mode, rules, ...)"
                                        : "the policy must be a mapping (mode, rules, ...), not %s",
                  sc_yaml_type_name(root));
    return;
  }
  for (size_t i = 0; i + 1 < root->nkids && !c->nomem; i += 2) {
    const sc_ynode *k = root->kids[i], *val = root->kids[i + 1];
    switch (sc_yaml_key(c, k, "the policy", top_keys, T_NKEYS, &seen)) {
    case T_MODE:
      if ((v = sc_yaml_enum(c, val, "mode", modes, 2)) >= 0) p->mode = (sc_policy_mode)v;
      break;
    case T_UNSCANNED:
      if ((v = sc_yaml_enum(c, val, "unscanned", unsc, 3)) >= 0) p->unscanned = (sc_unscanned)v;
      break;
    case T_ON_ERROR:
      if ((v = sc_yaml_enum(c, val, "on_error", onerr, 2)) >= 0) p->on_error = (sc_on_error)v;
      break;
    case T_HEAD:
      if ((v = sc_yaml_enum(c, val, "head", heads, 3)) >= 0) p->head = (sc_head)v;
      break;
    case T_NO_DATA:
      if ((v = sc_yaml_enum(c, val, "no_data", nodata, 3)) >= 0)
        p->no_data = v == 0 ? SC_DECISION_ALLOW : v == 1 ? SC_DECISION_WARN : SC_DECISION_DENY;
      break;
    case T_VEX:
      parse_vex_list(c, val, p);
      break;
    case T_VEXREF:
      parse_vex_referrers(c, val, p);
      break;
    case T_RULES:
    case T_EXCEPTIONS: {
      int rules = !strcmp(k->val, "rules");
      size_t max = rules ? SC_POLICY_MAX_RULES : SC_POLICY_MAX_EXCEPTIONS;
      if (sc_yaml_is_null(val)) break;
      if (val->type != Y_SEQ) {
        if (val->type != Y_BAD)
          sc_yaml_err(c, val->line, val->col, "%s must be a list, not %s", k->val, sc_yaml_type_name(val));
        break;
      }
      if (val->nkids > max) {
        sc_yaml_err(c, val->line, val->col, "more than %zu %s", max, k->val);
        break;
      }
      if (!val->nkids) break;
      if (rules && !(p->rules = calloc(val->nkids, sizeof(rule)))) c->nomem = 1;
      if (!rules && !(p->excs = calloc(val->nkids, sizeof(exc)))) c->nomem = 1;
      for (size_t j = 0; j < val->nkids && !c->nomem; j++)
        (rules ? parse_rule : parse_exc)(c, val->kids[j], p, j);
      break;
    }
    default:
      break;
    }
  }
}

int sc_policy_load_mem(const char *name, const char *yaml, size_t len, sc_policy **out, char **errors) {
  sc_yctx c = {.file = name ? name : "policy"};
  sc_policy *p;
  sc_ynode *root;
  int rc = 0;
  if (errors) *errors = NULL;
  if (!out || (!yaml && len)) return SC_ERR_ARG;
  *out = NULL;
  sc_buf_init(&c.err, POLICY_ERRORS_MAX_BYTES);
  if (len > SC_POLICY_MAX_BYTES) {
    sc_yaml_err(&c, 0, 0, "policy file larger than %d bytes", SC_POLICY_MAX_BYTES);
    rc = SC_ERR_LIMIT;
    goto done;
  }
  if (!(p = calloc(1, sizeof(*p))) || !(p->file = strdup(c.file))) {
    free(p);
    return SC_ERR_NOMEM;
  }
  root = sc_yaml_tree(&c, yaml ? yaml : "", len);
  if (!root && !c.nerr && !c.nomem)
    sc_yaml_err(&c, 1, 1, "the policy is empty (expected a mapping with mode, rules, ...)");
  if (root && !c.nomem) parse_top(&c, root, p);
  sc_yaml_free(root);
  if (c.nomem || c.err.oom) {
    sc_policy_free(p);
    sc_buf_free(&c.err);
    return SC_ERR_NOMEM;
  }
  if (c.nerr) {
    sc_policy_free(p);
    rc = SC_ERR_FORMAT;
    goto done;
  }
  *out = p;
done:
  if (rc && errors) *errors = sc_buf_take(&c.err);
  else sc_buf_free(&c.err);
  return rc;
}

int sc_policy_load(const char *path, sc_policy **out, char **errors) {
  char ebuf[128], line[SC_POLICY_LINE_MAX];
  struct stat st;
  int fd, rc;
  char *buf;
  size_t len = 0;
  if (errors) *errors = NULL;
  if (!path || !out) return SC_ERR_ARG;
  *out = NULL;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char *why = "not a regular file";
    if (fd < 0 || errno) why = strerror_r(errno, ebuf, sizeof(ebuf));
    if (fd >= 0 && !S_ISREG(st.st_mode)) why = "not a regular file";
    if (fd >= 0) close(fd);
    snprintf(line, sizeof(line), "%s: cannot read: %s\n", path, why);
    if (errors) *errors = strdup(line);
    return SC_ERR_IO;
  }
  if (st.st_size > SC_POLICY_MAX_BYTES) {
    close(fd);
    snprintf(line, sizeof(line), "%s: policy file larger than %d bytes\n", path, SC_POLICY_MAX_BYTES);
    if (errors) *errors = strdup(line);
    return SC_ERR_LIMIT;
  }
  /* Read up to one byte past the cap: the file may grow between fstat and read. */
  if (!(buf = malloc((size_t)SC_POLICY_MAX_BYTES + 1))) {
    close(fd);
    return SC_ERR_NOMEM;
  }
  for (;;) {
    ssize_t n = read(fd, buf + len, (size_t)SC_POLICY_MAX_BYTES + 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(line, sizeof(line), "%s: cannot read: %s\n", path, strerror_r(errno, ebuf, sizeof(ebuf)));
      close(fd);
      free(buf);
      if (errors) *errors = strdup(line);
      return SC_ERR_IO;
    }
    if (n == 0 || (len += (size_t)n) > SC_POLICY_MAX_BYTES) break;
  }
  close(fd);
  rc = sc_policy_load_mem(path, buf, len, out, errors);
  free(buf);
  return rc;
}
