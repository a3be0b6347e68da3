/* sc_policy_eval.c - judging one image against a loaded policy: which
 * rules apply to the repository, which findings, packages, secrets, user,
 * age and stale base hit their deny/warn conditions, which VEX statements
 * (before any rule) and exceptions take findings out, and the strictest
 * outcome.  The reasons are recorded as they are found
 * (sc_policy_render.c builds them); the message is written afterwards from
 * what this file counted.  See sc_policy.h for the semantics.
 * Owner: scanner/policy.  Thread: any number of threads may evaluate one
 * policy at once (it is read-only; all state is in the call's ectx).
 * Errors: SC_ERR_ARG (NULL or inconsistent arguments), SC_ERR_NOMEM. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc_glob.h"
#include "sc_policy.h"
#include "sc_policy_int.h"
#include "sc_time.h"

static int eco_match(const char *want, const char *eco, const char *type) {
  if (!want) return 1;
  size_t n = strlen(want);
  if (eco && !strncasecmp(eco, want, n) && (eco[n] == '\0' || eco[n] == ':')) return 1;
  return type && !strcasecmp(type, want);
}

static int pkg_match(const pkgspec *ps, const char *eco, const char *type, const char *name,
                     const char *version) {
  if (!name || strcasecmp(ps->name, name)) return 0;
  if (ps->version && (!version || strcmp(ps->version, version))) return 0;
  return eco_match(ps->eco, eco, type);
}

static int vuln_match(const char *want, const sc_finding *fd) {
  if (fd->id && !strcasecmp(want, fd->id)) return 1;
  for (size_t i = 0; fd->aliases && i < fd->naliases; i++)
    if (fd->aliases[i] && !strcasecmp(want, fd->aliases[i])) return 1;
  return 0;
}

static int repo_match(char *const *globs, size_t n, const char *repo) {
  for (size_t i = 0; i < n; i++)
    if (sc_glob_match(globs[i], repo)) return 1;
  return 0;
}

/* The exception that covers finding i in this repository today, or -1.
 * Computed lazily: only findings some condition hits pay for the scan. */
static int exception_for(ectx *x, size_t i) {
  const sc_finding *fd = &x->f->findings[i];
  if (x->exc_of[i] != -2) return x->exc_of[i];
  x->exc_of[i] = -1;
  for (size_t e = 0; e < x->p->nexcs; e++) {
    const exc *ex = &x->p->excs[e];
    if (!vuln_match(ex->vuln, fd) || !repo_match(ex->repos, ex->nrepos, x->repo)) continue;
    if (ex->has_pkg && !pkg_match(&ex->pkg, fd->ecosystem, NULL, fd->package, fd->version)) continue;
    if (ex->has_expires && x->today > ex->expires_day) {
      if (x->expired_of[i] < 0) x->expired_of[i] = (int32_t)e;
      continue;
    }
    x->exc_of[i] = (int32_t)e;
    break;
  }
  return x->exc_of[i];
}

/* Statements of doc that cover finding fd: the last one decides (OpenVEX
 * statements override earlier ones); an expired one is only remembered. */
static void vex_scan_doc(ectx *x, const sc_vex_doc *doc, const sc_finding *fd, const sc_finding *src, vexhit *last,
                         vexhit *expired) {
  for (size_t s = 0; s < doc->nstmts; s++) {
    const sc_vex_stmt *st = &doc->stmts[s];
    const char *product = NULL;
    int idm = 0;
    for (size_t k = 0; k < st->nvulns && !idm; k++) idm = vuln_match(st->vulns[k], fd);
    if (!idm || (!sc_vex_stmt_covers(st, x->f->digest, fd, &product) &&
                 !(src && sc_vex_stmt_covers(st, x->f->digest, src, &product))))
      continue;
    if (st->has_expires && x->today > st->expires_day) {
      if (sc_vex_suppresses(st->status)) *expired = (vexhit){doc, st, product};
      continue;
    }
    *last = (vexhit){doc, st, product};
  }
}

/* Before any rule: which findings a VEX statement takes out (the policy's
 * `vex:` documents in order, scoped like exceptions, then the image's). */
static void vex_apply(ectx *x) {
  const sc_policy *p = x->p;
  const sc_image_facts *f = x->f;
  for (size_t i = 0; i < f->nfindings; i++) {
    vexhit last = {0}, expired = {0};
    /* A purl may name the source package (pkg:deb/debian/openssl) of the
     * binary the finding is on (libssl3): match that too, with the
     * inventory's source name and version. */
    sc_finding srcf, *src = NULL;
    const sc_finding *fd = &f->findings[i];
    for (size_t j = 0; f->packages && j < f->npackages && !src; j++) {
      const sc_package *pk = &f->packages[j];
      if (!pk->source_name || !pk->name || !fd->package || strcmp(pk->name, fd->package) ||
          !pk->version || !fd->version || strcmp(pk->version, fd->version))
        continue;
      srcf = *fd;
      srcf.package = pk->source_name;
      srcf.version = pk->source_version ? pk->source_version : pk->version;
      src = &srcf;
    }
    for (size_t d = 0; d < p->nvex; d++)
      if (repo_match(p->vex[d].repos, p->vex[d].nrepos, x->repo)) vex_scan_doc(x, p->vex[d].doc, fd, src, &last, &expired);
    for (size_t d = 0; f->vex_docs && d < f->nvex_docs; d++)
      if (f->vex_docs[d]) vex_scan_doc(x, f->vex_docs[d], fd, src, &last, &expired);
    if (last.st && sc_vex_suppresses(last.st->status)) {
      x->vex_of[i] = last;
      x->nvexed++;
    } else if (expired.st) {
      x->vex_expired_of[i] = expired;
    }
  }
}

static void hit(ectx *x, size_t ri, int lvl) {
  if (x->rlevel[ri] < lvl) x->rlevel[ri] = (uint8_t)lvl;
}

/* t is when a time-based condition starts to hold: keep the earliest. */
static void note_change(ectx *x, int64_t t) {
  if (t > x->now && (!x->changes_at || t < x->changes_at)) x->changes_at = t;
}

static void eval_cond(ectx *x, size_t ri, const cond *c, int lvl) {
  const rule *r = &x->p->rules[ri];
  const sc_image_facts *f = x->f;
  for (size_t i = 0; i < f->nfindings; i++) {
    const sc_finding *fd = &f->findings[i];
    if (x->vex_of && x->vex_of[i].st) continue; /* suppressed by VEX: no rule sees it */
    int rank = sc_pol_sev_rank(fd->severity) ? sc_pol_sev_rank(fd->severity) : c->unknown_rank;
    int fixable = fd->fixed_version && fd->fixed_version[0];
    int by_sev = c->severity && rank >= c->severity && (fixable || !c->fixable_only);
    int by_cvss = c->has_max_cvss && fd->score >= 0 && fd->score > c->max_cvss &&
                  (fixable || !c->fixable_only);
    const char *by_id = NULL;
    for (size_t k = 0; k < c->nvulns && !by_id; k++)
      if (vuln_match(c->vulns[k], fd)) by_id = c->vulns[k];
    if (!by_sev && !by_cvss && !by_id) continue;
    int e = exception_for(x, i);
    if (e >= 0) {
      x->exc_used[e] = 1;
      continue;
    }
    if (x->flevel[i] < lvl) x->flevel[i] = (uint8_t)lvl;
    hit(x, ri, lvl);
    json_t *o;
    if (by_sev && (o = sc_pol_reason(x, r, lvl, "severity"))) {
      sc_pol_finding_fields(x, o, fd);
      sc_pol_jadd(x, o, "threshold", json_string(sc_pol_sev_names[c->severity]));
    }
    if (by_cvss && (o = sc_pol_reason(x, r, lvl, "cvss"))) {
      sc_pol_finding_fields(x, o, fd);
      sc_pol_jadd(x, o, "max_cvss", json_real(c->max_cvss));
    }
    if (by_id && (o = sc_pol_reason(x, r, lvl, "vulnerability"))) {
      sc_pol_finding_fields(x, o, fd);
      sc_pol_jadd(x, o, "listed", sc_pol_jstr(by_id));
    }
  }
  if (c->npkgs) {
    /* With an inventory, a listed package blocks by being present; without
     * one, the packages named by findings are all we know. */
    size_t n = f->packages ? f->npackages : f->nfindings;
    for (size_t j = 0; j < n; j++) {
      const sc_package *pk = f->packages ? &f->packages[j] : NULL;
      const sc_finding *fd = pk ? NULL : &f->findings[j];
      const char *eco = pk ? pk->ecosystem : fd->ecosystem, *type = pk ? pk->type : NULL;
      const char *name = pk ? pk->name : fd->package, *ver = pk ? pk->version : fd->version;
      const pkgspec *m = NULL;
      for (size_t k = 0; k < c->npkgs && !m; k++)
        if (pkg_match(&c->pkgs[k], eco, type, name, ver)) m = &c->pkgs[k];
      if (!m) continue;
      if (x->plevel[j] < lvl) x->plevel[j] = (uint8_t)lvl;
      hit(x, ri, lvl);
      json_t *o = sc_pol_reason(x, r, lvl, "package");
      if (!o) continue;
      sc_pol_jadd(x, o, "package", sc_pol_jstr(name));
      sc_pol_jadd(x, o, "version", sc_pol_jstr(ver));
      sc_pol_jadd(x, o, "ecosystem", sc_pol_jstr(eco ? eco : type));
      if (pk && pk->path) sc_pol_jadd(x, o, "path", sc_pol_jstr(pk->path));
    }
  }
  if (c->secrets && f->nsecrets) {
    x->lv[lvl].secrets = 1;
    hit(x, ri, lvl);
    for (size_t j = 0; f->secrets && j < f->nsecrets; j++) {
      json_t *o = sc_pol_reason(x, r, lvl, "secret");
      if (!o) continue;
      sc_pol_jadd(x, o, "secret", sc_pol_jstr(f->secrets[j].rule));
      sc_pol_jadd(x, o, "path", sc_pol_jstr(f->secrets[j].path));
    }
  }
  if (c->root && f->runs_as_root > 0) {
    x->lv[lvl].root = 1;
    hit(x, ri, lvl);
    sc_pol_reason(x, r, lvl, "root");
  }
  /* conditions that start to hold with time alone: when the first does, a
   * cached verdict must be judged again (sc_verdict.changes_at) */
  if (c->max_age_days >= 0 && f->created > 0 && x->now - f->created <= (int64_t)c->max_age_days * SC_DAY_SECONDS)
    note_change(x, f->created + (int64_t)c->max_age_days * SC_DAY_SECONDS + 1);
  if (c->stale_base_days >= 0 && f->stale_base && f->stale_base_secs >= 0 &&
      f->stale_base_secs < (int64_t)c->stale_base_days * SC_DAY_SECONDS)
    note_change(x, x->now + (int64_t)c->stale_base_days * SC_DAY_SECONDS - f->stale_base_secs);
  if (c->max_age_days >= 0 && f->created > 0 &&
      x->now - f->created > (int64_t)c->max_age_days * SC_DAY_SECONDS) {
    int64_t age = (x->now - f->created) / SC_DAY_SECONDS;
    if (!x->lv[lvl].age || c->max_age_days < x->lv[lvl].max_age) x->lv[lvl].max_age = c->max_age_days;
    x->lv[lvl].age = 1;
    x->lv[lvl].age_days = age;
    hit(x, ri, lvl);
    json_t *o = sc_pol_reason(x, r, lvl, "age");
    if (o) {
      sc_pol_jadd(x, o, "age_days", json_integer(age));
      sc_pol_jadd(x, o, "max_age_days", json_integer(c->max_age_days));
    }
  }
  /* ">=": 0 days means any superseded base, even one superseded a second ago. */
  if (c->stale_base_days >= 0 && f->stale_base && f->stale_base_secs >= 0 &&
      f->stale_base_secs >= (int64_t)c->stale_base_days * SC_DAY_SECONDS) {
    int64_t days = f->stale_base_secs / SC_DAY_SECONDS;
    if (!x->lv[lvl].stale || c->stale_base_days < x->lv[lvl].max_stale) x->lv[lvl].max_stale = c->stale_base_days;
    x->lv[lvl].stale = 1;
    x->lv[lvl].stale_days = days;
    hit(x, ri, lvl);
    json_t *o = sc_pol_reason(x, r, lvl, "stale_base");
    if (o) {
      sc_pol_jadd(x, o, "base", sc_pol_jstr(f->stale_base_ref));
      sc_pol_jadd(x, o, "base_digest", sc_pol_jstr(f->stale_base_digest));
      sc_pol_jadd(x, o, "new_digest", sc_pol_jstr(f->stale_base_now));
      sc_pol_jadd(x, o, "superseded_days", json_integer(days));
      sc_pol_jadd(x, o, "stale_base_days", json_integer(c->stale_base_days));
    }
  }
}


/* Applies every rule whose repositories match; returns the decision before
 * audit mode is applied and sets *first to the first rule (file order) that
 * produced it, -1 when none did. */
static int judge(ectx *x, int *first) {
  const sc_policy *p = x->p;
  const sc_image_facts *f = x->f;
  int decision = SC_DECISION_ALLOW;
  *first = -1;
  if (!f->scanned) {
    decision = p->unscanned == SC_UNSCANNED_ALLOW ? SC_DECISION_ALLOW : SC_DECISION_DENY;
    sc_pol_reason(x, NULL, decision, "unscanned");
    return decision;
  }
  if (f->scan_failed && p->on_error == SC_ON_ERROR_DENY) {
    sc_pol_reason(x, NULL, SC_DECISION_DENY, "scan_error");
    return SC_DECISION_DENY;
  }
  /* no vulnerability data at all: the vulnerability conditions cannot
   * match, so the policy says what that means (no_data) */
  if (f->no_data && p->no_data == SC_DECISION_DENY) {
    sc_pol_reason(x, NULL, SC_DECISION_DENY, "no_data");
    return SC_DECISION_DENY;
  }
  for (size_t ri = 0; ri < p->nrules; ri++) {
    const rule *r = &p->rules[ri];
    if (!repo_match(r->repos, r->nrepos, x->repo)) continue;
    x->applied++;
    if (r->has_deny) eval_cond(x, ri, &r->deny, SC_DECISION_DENY);
    if (r->has_warn) eval_cond(x, ri, &r->warn, SC_DECISION_WARN);
    if (x->rlevel[ri] > decision) decision = x->rlevel[ri];
  }
  for (size_t ri = 0; ri < p->nrules; ri++)
    if (x->rlevel[ri] == decision && decision != SC_DECISION_ALLOW) {
      if (*first < 0) *first = (int)ri;
      x->lv[decision].nrules++;
    }
  if (f->no_data && (int)p->no_data > decision) { /* a warning no rule gave: *first stays -1 */
    decision = (int)p->no_data;
    sc_pol_reason(x, NULL, decision, "no_data");
  }
  return decision;
}

int sc_policy_evaluate(const sc_policy *p, const sc_image_facts *f, int64_t now, sc_verdict *v) {
  ectx x = {.p = p, .f = f, .now = now, .today = sc_day_of(now)};
  int decision, first, rc;
  if (!v) return SC_ERR_ARG;
  memset(v, 0, sizeof(*v));
  if (!p || !f || (f->nfindings && !f->findings) || (f->npackages && !f->packages)) return SC_ERR_ARG;
  x.repo = f->repository ? f->repository : "";
  size_t nf = f->nfindings ? f->nfindings : 1, np = f->packages ? f->npackages : f->nfindings;
  x.exc_of = malloc(nf * sizeof(int32_t));
  x.expired_of = malloc(nf * sizeof(int32_t));
  x.flevel = calloc(nf, 1);
  x.plevel = calloc(np ? np : 1, 1);
  x.exc_used = calloc(p->nexcs ? p->nexcs : 1, 1);
  x.rlevel = calloc(p->nrules ? p->nrules : 1, 1);
  x.reasons = json_array();
  if (!x.exc_of || !x.expired_of || !x.flevel || !x.plevel || !x.exc_used || !x.rlevel || !x.reasons) {
    rc = SC_ERR_NOMEM;
  } else {
    for (size_t i = 0; i < f->nfindings; i++) x.exc_of[i] = -2, x.expired_of[i] = -1;
    if ((p->nvex || f->nvex_docs) && f->nfindings) {
      x.vex_of = calloc(nf, sizeof(vexhit));
      x.vex_expired_of = calloc(nf, sizeof(vexhit));
      if (x.vex_of && x.vex_expired_of) vex_apply(&x);
      else x.oom = 1;
    }
    decision = judge(&x, &first);
    rc = sc_pol_render(&x, decision, first, v);
    if (rc == 0) v->changes_at = x.changes_at;
  }
  free(x.exc_of);
  free(x.expired_of);
  free(x.flevel);
  free(x.plevel);
  free(x.exc_used);
  free(x.rlevel);
  free(x.vex_of);
  free(x.vex_expired_of);
  json_decref(x.reasons);
  return rc;
}
