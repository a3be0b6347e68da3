/* sc_policy_render.c - what a verdict says: the JSON reasons (built while
 * the evaluator finds them), the one-paragraph message for humans (counts by
 * severity, the top findings with their fixes, how to add an exception),
 * the applied exceptions, the findings VEX suppressed ("suppressed by VEX
 * (document, justification)"), and the expiry warnings of `customs policy
 * check`.
 * Untrusted text (package names and versions from image layers) goes
 * through sc_buf_add_clean, so messages are valid UTF-8 without control
 * characters, and every text is capped (SC_VERDICT_MAX_MESSAGE,
 * SC_VERDICT_MAX_REASONS).
 * Owner: scanner/policy.  Thread: any; state is in the caller's ectx.
 * Errors: SC_ERR_NOMEM (the ectx's sticky oom), SC_ERR_ARG. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_policy.h"
#include "sc_policy_int.h"
#include "sc_time.h"

#define MESSAGE_CUT_MARK "..."               /* ends a message the cap has cut */
#define EXPIRY_REPORT_MAX_BYTES (1024 * 1024) /* sc_policy_check_expiring's text */

const char *const sc_pol_sev_names[5] = {"unknown", "low", "medium", "high", "critical"};

void sc_pol_linef(sc_buf *b, const char *fmt, ...) {
  char tmp[SC_POLICY_LINE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  sc_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

const char *sc_decision_name(sc_decision d) {
  return d == SC_DECISION_DENY ? "deny" : d == SC_DECISION_WARN ? "warn" : "allow";
}

/* ----------------------------------------------------------------- reasons */

json_t *sc_pol_jstr(const char *s) {
  if (!s) return json_null();
  json_t *j = json_string(s);
  if (j) return j; /* NULL: not valid UTF-8 (or no memory): clean it */
  sc_buf b;
  sc_buf_init(&b, SC_POLICY_MAX_STRING * 4);
  sc_buf_add_clean(&b, s);
  j = json_string(sc_buf_str(&b));
  sc_buf_free(&b);
  return j;
}

static int jset(json_t *o, const char *k, json_t *v) {
  if (!v) return -1;
  return json_object_set_new(o, k, v);
}

void sc_pol_jadd(ectx *x, json_t *o, const char *k, json_t *v) {
  if (jset(o, k, v) != 0) x->oom = 1;
}

/* A new reason object of kind appended to the list, or NULL past the cap
 * (counted in x->omitted) or out of memory (x->oom). */
static json_t *new_reason(ectx *x, const char *kind) {
  if (x->nreasons >= SC_VERDICT_MAX_REASONS) {
    x->omitted++;
    return NULL;
  }
  json_t *o = json_object();
  if (!o || json_array_append_new(x->reasons, o) != 0) {
    x->oom = 1;
    return NULL;
  }
  x->nreasons++;
  sc_pol_jadd(x, o, "kind", json_string(kind));
  return o;
}

/* A new reason object appended to the list, or NULL past the cap. */
json_t *sc_pol_reason(ectx *x, const rule *r, int lvl, const char *kind) {
  json_t *o = new_reason(x, kind);
  if (!o) return NULL;
  sc_pol_jadd(x, o, "action", json_string(sc_decision_name((sc_decision)lvl)));
  sc_pol_jadd(x, o, "rule", r ? sc_pol_jstr(r->name) : json_null());
  return o;
}

void sc_pol_finding_fields(ectx *x, json_t *o, const sc_finding *fd) {
  sc_pol_jadd(x, o, "finding", sc_pol_jstr(fd->id));
  sc_pol_jadd(x, o, "package", sc_pol_jstr(fd->package));
  sc_pol_jadd(x, o, "version", sc_pol_jstr(fd->version));
  sc_pol_jadd(x, o, "fixed_version",
              sc_pol_jstr(fd->fixed_version && fd->fixed_version[0] ? fd->fixed_version : NULL));
  sc_pol_jadd(x, o, "severity", json_string(sc_pol_sev_names[sc_pol_sev_rank(fd->severity)]));
  if (fd->score >= 0) sc_pol_jadd(x, o, "score", json_real(fd->score));
}


/* ------------------------------------------------------------- describe */

typedef struct rank_item {
  size_t i;
  int rank;
  double score;
} rank_item;

static int rank_cmp(const void *a, const void *b) {
  const rank_item *x = a, *y = b;
  if (x->rank != y->rank) return y->rank - x->rank;
  if (x->score != y->score) return x->score < y->score ? 1 : -1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* "its base image REF (DIGEST) was superseded N days ago (...): rebuild it
 * on the new REF (NOW)": what is stale and what to do about it. */
static void stale_base(sc_buf *m, const char *sep, const sc_image_facts *f, const lvinfo *lv) {
  const char *ref = f->stale_base_ref, *dig = f->stale_base_digest, *now = f->stale_base_now;
  sc_buf_printf(m, "%sits base image ", sep);
  if (ref) sc_buf_add_clean(m, ref);
  if (dig) {
    sc_buf_addstr(m, ref ? " (" : "");
    sc_buf_add_clean(m, dig);
    sc_buf_addstr(m, ref ? ")" : "");
  }
  if (!ref && !dig) sc_buf_addstr(m, "(unnamed)");
  sc_buf_printf(m, " was superseded %lld day%s ago (stale_base_days: %d): rebuild the image on the new ",
                (long long)lv->stale_days, lv->stale_days == 1 ? "" : "s", lv->max_stale);
  if (ref) {
    sc_buf_add_clean(m, ref);
    if (now) {
      sc_buf_addstr(m, " (");
      sc_buf_add_clean(m, now);
      sc_buf_addstr(m, ")");
    }
  } else {
    sc_buf_addstr(m, "base");
  }
  sc_buf_addstr(m, " and push it again");
}

/* Human summary of everything that counted at level lvl. */
static void describe(ectx *x, int lvl, sc_buf *m) {
  const sc_image_facts *f = x->f;
  size_t counts[5] = {0}, n = 0, shown = 0;
  const char *sep = "";
  rank_item *items = NULL;
  for (size_t i = 0; i < f->nfindings; i++)
    if (x->flevel[i] == lvl) n++;
  if (n && !(items = malloc(n * sizeof(*items)))) {
    x->oom = 1;
    return;
  }
  n = 0;
  for (size_t i = 0; i < f->nfindings; i++)
    if (x->flevel[i] == lvl) {
      items[n].i = i;
      items[n].rank = sc_pol_sev_rank(f->findings[i].severity);
      items[n].score = f->findings[i].score;
      counts[items[n].rank]++;
      n++;
    }
  if (n) {
    qsort(items, n, sizeof(*items), rank_cmp);
    sc_buf_printf(m, "%zu vulnerabilit%s (", n, n == 1 ? "y" : "ies");
    for (int s = SC_SEV_CRITICAL, first = 1; s >= SC_SEV_UNKNOWN; s--)
      if (counts[s]) {
        sc_buf_printf(m, "%s%zu %s", first ? "" : ", ", counts[s], sc_pol_sev_names[s]);
        first = 0;
      }
    sc_buf_addstr(m, "): ");
    for (; shown < n && shown < 5; shown++) {
      const sc_finding *fd = &f->findings[items[shown].i];
      if (shown) sc_buf_addstr(m, ", ");
      sc_buf_add_clean(m, fd->id);
      sc_buf_addstr(m, " (");
      sc_buf_add_clean(m, fd->package);
      sc_buf_addstr(m, " ");
      sc_buf_add_clean(m, fd->version);
      sc_buf_addstr(m, " -> ");
      sc_buf_add_clean(m, fd->fixed_version && fd->fixed_version[0] ? fd->fixed_version : "no fix");
      sc_buf_addstr(m, ")");
    }
    if (n > shown) sc_buf_printf(m, " and %zu more", n - shown);
    sep = "; ";
  }
  size_t np = f->packages ? f->npackages : f->nfindings, npk = 0;
  for (size_t j = 0; j < np; j++)
    if (x->plevel[j] == lvl) {
      const char *name = f->packages ? f->packages[j].name : f->findings[j].package;
      const char *ver = f->packages ? f->packages[j].version : f->findings[j].version;
      if (npk < 5) {
        sc_buf_printf(m, "%s", npk ? ", " : sep);
        if (!npk) sc_buf_addstr(m, "listed package ");
        sc_buf_add_clean(m, name);
        sc_buf_addstr(m, " ");
        sc_buf_add_clean(m, ver);
      }
      npk++;
    }
  if (npk > 5) sc_buf_printf(m, " and %zu more", npk - 5);
  if (npk) sep = "; ";
  if (x->lv[lvl].secrets) {
    sc_buf_printf(m, "%s%zu secret%s", sep, f->nsecrets, f->nsecrets == 1 ? "" : "s");
    if (f->secrets) {
      sc_buf_addstr(m, " (");
      sc_buf_add_clean(m, f->secrets[0].rule);
      sc_buf_addstr(m, " in /");
      sc_buf_add_clean(m, f->secrets[0].path);
      sc_buf_printf(m, "%s)", f->nsecrets > 1 ? ", ..." : "");
    }
    sep = "; ";
  }
  if (x->lv[lvl].root) {
    sc_buf_printf(m, "%sthe image runs as root", sep);
    sep = "; ";
  }
  if (x->lv[lvl].age) {
    sc_buf_printf(m, "%sthe image is %lld days old (max %d)", sep, (long long)x->lv[lvl].age_days,
                  x->lv[lvl].max_age);
    sep = "; ";
  }
  if (x->lv[lvl].stale) {
    stale_base(m, sep, f, &x->lv[lvl]);
    sep = "; ";
  }
  for (size_t k = 0; k < n; k++) { /* an expired exception is what the user will ask about */
    int32_t e = x->expired_of[items[k].i];
    if (e >= 0) {
      char d[SC_DAY_STR_BYTES];
      sc_day_format(x->p->excs[e].expires_day, d);
      sc_buf_printf(m, "%sthe exception for ", sep);
      sc_buf_add_clean(m, x->p->excs[e].vuln);
      sc_buf_printf(m, " expired on %s", d);
      break;
    }
  }
  for (size_t k = 0; x->vex_expired_of && k < n; k++) {
    const vexhit *h = &x->vex_expired_of[items[k].i];
    if (h->st) {
      char d[SC_DAY_STR_BYTES];
      sc_day_format(h->st->expires_day, d);
      sc_buf_printf(m, "%sthe VEX statement for ", sep);
      sc_buf_add_clean(m, f->findings[items[k].i].id);
      sc_buf_addstr(m, " in ");
      sc_buf_add_clean(m, h->doc->name);
      sc_buf_printf(m, " expired on %s", d);
      break;
    }
  }
  if (n) {
    char d[SC_DAY_STR_BYTES];
    sc_day_format(x->today + 30, d);
    sc_buf_addstr(m, ". To accept a vulnerability, add to the policy's exceptions: {vulnerability: ");
    sc_buf_add_clean(m, f->findings[items[0].i].id);
    sc_buf_addstr(m, ", repositories: [\"");
    sc_buf_add_clean(m, x->repo);
    sc_buf_printf(m, "\"], expires: %s, reason: \"why it is safe\"}", d);
  }
  free(items);
}


/* ----------------------------------------------------------------- message */

#define VEX_SHOWN_MAX 3 /* suppressed findings named in the message */

/* Why a statement suppresses: its justification, else its impact
 * statement, else its status ("fixed"). */
static const char *vex_why(const sc_vex_stmt *st) {
  return st->justification ? st->justification : st->impact ? st->impact : sc_vex_status_name(st->status);
}

/* "; N findings suppressed by VEX: CVE-x (doc, justification), ..." */
static void vex_summary(ectx *x, sc_buf *m) {
  size_t shown = 0;
  if (!x->nvexed) return;
  sc_buf_printf(m, "; %zu finding%s suppressed by VEX: ", x->nvexed, x->nvexed == 1 ? "" : "s");
  for (size_t i = 0; i < x->f->nfindings && shown < VEX_SHOWN_MAX; i++) {
    const vexhit *h = &x->vex_of[i];
    if (!h->st) continue;
    if (shown++) sc_buf_addstr(m, ", ");
    sc_buf_add_clean(m, x->f->findings[i].id);
    sc_buf_addstr(m, " (");
    sc_buf_add_clean(m, h->doc->name);
    sc_buf_addstr(m, ", ");
    sc_buf_add_clean(m, vex_why(h->st));
    sc_buf_addstr(m, ")");
  }
  if (x->nvexed > shown) sc_buf_printf(m, " and %zu more", x->nvexed - shown);
}

/* "; N VEX referrer(s) not applied: sha256:...: reason, ..." for the trusted
 * referrers that could not be read: a VEX the operator expects to count
 * and that does not is said, not silently dropped. */
static void vex_errors(ectx *x, sc_buf *m) {
  const sc_image_facts *f = x->f;
  if (!f->vex_errors || !f->nvex_errors) return;
  sc_buf_printf(m, "; %zu VEX referrer%s not applied: ", f->nvex_errors, f->nvex_errors == 1 ? "" : "s");
  for (size_t i = 0; i < f->nvex_errors && i < VEX_SHOWN_MAX; i++) {
    if (i) sc_buf_addstr(m, ", ");
    sc_buf_add_clean(m, f->vex_errors[i]);
  }
  if (f->nvex_errors > VEX_SHOWN_MAX) sc_buf_printf(m, " and %zu more", f->nvex_errors - VEX_SHOWN_MAX);
}

/* The whole message of a verdict whose pre-audit outcome is `decision`. */
static void message(ectx *x, int decision, int first, sc_buf *m) {
  const sc_policy *p = x->p;
  const sc_image_facts *f = x->f;
  if (p->mode == SC_MODE_AUDIT && (!f->scanned ? p->unscanned != SC_UNSCANNED_ALLOW
                                                : f->scan_failed && p->on_error == SC_ON_ERROR_DENY))
    sc_buf_addstr(m, "audit mode, not blocked: ");
  if (!f->scanned) {
    sc_buf_add_clean(m, x->repo);
    sc_buf_printf(m, " has not been scanned by customs (policy: unscanned: %s)",
                  p->unscanned == SC_UNSCANNED_ALLOW  ? "allow"
                  : p->unscanned == SC_UNSCANNED_DENY ? "deny"
                  : "scan");
    return;
  }
  if (f->scan_failed && p->on_error == SC_ON_ERROR_DENY) {
    sc_buf_addstr(m, "scanning ");
    sc_buf_add_clean(m, x->repo);
    sc_buf_addstr(m, " failed and the policy says on_error: deny");
    return;
  }
  if (decision != SC_DECISION_ALLOW && first < 0 && f->no_data) { /* decided by no_data alone */
    sc_buf_add_clean(m, x->repo);
    sc_buf_printf(m, ": no vulnerability data is loaded, so no vulnerability rule can match (policy: no_data: %s);"
                     " import OSV data (customs db import, or db.sources)",
                  p->no_data == SC_DECISION_DENY ? "deny" : "warn");
    return;
  }
  if (decision == SC_DECISION_ALLOW) {
    size_t used = 0;
    for (size_t e = 0; e < p->nexcs; e++) used += x->exc_used[e];
    if (x->applied) {
      sc_buf_addstr(m, "allowed by policy");
    } else {
      sc_buf_addstr(m, "allowed: no policy rule applies to ");
      sc_buf_add_clean(m, x->repo);
    }
    if (used) sc_buf_printf(m, " (%zu exception%s applied)", used, used == 1 ? "" : "s");
  } else {
    if (decision == SC_DECISION_DENY && p->mode == SC_MODE_AUDIT)
      sc_buf_addstr(m, "audit mode, not blocked: would be denied by policy rule \"");
    else
      sc_buf_addstr(m, decision == SC_DECISION_DENY ? "denied by policy rule \""
                                                    : "warning from policy rule \"");
    sc_buf_add_clean(m, p->rules[first].name);
    sc_buf_addstr(m, "\"");
    if (x->lv[decision].nrules > 1)
      sc_buf_printf(m, " and %zu other rule%s", x->lv[decision].nrules - 1,
                    x->lv[decision].nrules > 2 ? "s" : "");
    sc_buf_addstr(m, " for ");
    sc_buf_add_clean(m, x->repo);
    if (f->reference) {
      sc_buf_addstr(m, strncmp(f->reference, "sha256:", 7) ? ":" : "@");
      sc_buf_add_clean(m, f->reference);
    }
    sc_buf_addstr(m, ": ");
    describe(x, decision, m);
  }
  vex_summary(x, m);
  vex_errors(x, m);
  if (f->scan_failed) sc_buf_addstr(m, " (the scan failed: judged on partial data, on_error: allow)");
  if (f->no_data) sc_buf_addstr(m, " (no vulnerability data is loaded: vulnerability rules matched nothing)");
}

/* Appends the applied exceptions and the count of reasons left out. */
static void reasons_tail(ectx *x) {
  const sc_policy *p = x->p;
  for (size_t e = 0; e < p->nexcs && !x->oom; e++) {
    if (!x->exc_used[e]) continue;
    const exc *ex = &p->excs[e];
    json_t *o = json_object();
    char d[SC_DAY_STR_BYTES];
    if (!o || json_array_append_new(x->reasons, o) != 0) {
      x->oom = 1;
      return;
    }
    sc_pol_jadd(x, o, "kind", json_string("exception"));
    sc_pol_jadd(x, o, "vulnerability", sc_pol_jstr(ex->vuln));
    if (ex->has_pkg) sc_pol_jadd(x, o, "package", sc_pol_jstr(ex->pkg.name));
    sc_pol_jadd(x, o, "reason", sc_pol_jstr(ex->reason));
    if (ex->has_expires) sc_day_format(ex->expires_day, d);
    sc_pol_jadd(x, o, "expires", ex->has_expires ? json_string(d) : json_null());
  }
  for (size_t i = 0; x->vex_of && i < x->f->nfindings && !x->oom; i++) {
    const vexhit *h = &x->vex_of[i];
    const sc_finding *fd = &x->f->findings[i];
    if (!h->st) continue;
    json_t *o = new_reason(x, "vex");
    if (!o) continue; /* past the cap (counted), or out of memory (the loop ends) */
    sc_pol_jadd(x, o, "finding", sc_pol_jstr(fd->id));
    sc_pol_jadd(x, o, "package", sc_pol_jstr(fd->package));
    sc_pol_jadd(x, o, "version", sc_pol_jstr(fd->version));
    sc_pol_jadd(x, o, "document", sc_pol_jstr(h->doc->name));
    if (h->doc->id) sc_pol_jadd(x, o, "document_id", sc_pol_jstr(h->doc->id));
    sc_pol_jadd(x, o, "product", sc_pol_jstr(h->product));
    sc_pol_jadd(x, o, "status", json_string(sc_vex_status_name(h->st->status)));
    sc_pol_jadd(x, o, "justification", sc_pol_jstr(h->st->justification));
    if (h->st->impact) sc_pol_jadd(x, o, "impact_statement", sc_pol_jstr(h->st->impact));
    if (h->st->has_expires) {
      char d[SC_DAY_STR_BYTES];
      sc_day_format(h->st->expires_day, d);
      sc_pol_jadd(x, o, "expires", json_string(d));
    }
  }
  for (size_t i = 0; x->f->vex_errors && i < x->f->nvex_errors && !x->oom; i++) {
    json_t *o = new_reason(x, "vex_error");
    if (o) sc_pol_jadd(x, o, "error", sc_pol_jstr(x->f->vex_errors[i]));
  }
  if (x->omitted && !x->oom) {
    json_t *o = json_object();
    if (!o || json_array_append_new(x->reasons, o) != 0) {
      x->oom = 1;
      return;
    }
    sc_pol_jadd(x, o, "kind", json_string("truncated"));
    sc_pol_jadd(x, o, "omitted", json_integer((json_int_t)x->omitted));
  }
}

int sc_pol_render(ectx *x, int decision, int first, sc_verdict *v) {
  sc_buf m;
  /* room kept for the cut mark, so a cut message still fits the cap */
  sc_buf_init(&m, SC_VERDICT_MAX_MESSAGE - sizeof(MESSAGE_CUT_MARK));
  message(x, decision, first, &m);
  reasons_tail(x);
  if (sc_buf_mark_cut(&m, MESSAGE_CUT_MARK) != 0 || x->oom || m.oom) goto oom;
  if (decision == SC_DECISION_DENY && x->p->mode == SC_MODE_AUDIT) decision = SC_DECISION_WARN;
  v->decision = (sc_decision)decision;
  v->message = m.s ? sc_buf_take(&m) : strdup("");
  v->reasons_json = json_dumps(x->reasons, JSON_COMPACT | JSON_REAL_PRECISION(6));
  if (first >= 0) v->rule = strdup(x->p->rules[first].name);
  if (!v->message || !v->reasons_json || (first >= 0 && !v->rule)) goto oom;
  return 0;
oom:
  sc_buf_free(&m);
  sc_verdict_free(v);
  return SC_ERR_NOMEM;
}

void sc_verdict_free(sc_verdict *v) {
  if (!v) return;
  free(v->rule);
  free(v->message);
  free(v->reasons_json);
  memset(v, 0, sizeof(*v));
}

/* ------------------------------------------------------------------ expiry */

int sc_policy_check_expiring(const sc_policy *p, int64_t now, int days, char **warnings) {
  sc_buf b;
  int n = 0;
  int64_t today = sc_day_of(now);
  if (!p || !warnings || days < 0) return SC_ERR_ARG;
  *warnings = NULL;
  sc_buf_init(&b, EXPIRY_REPORT_MAX_BYTES);
  for (size_t e = 0; e < p->nexcs; e++) {
    const exc *ex = &p->excs[e];
    char d[SC_DAY_STR_BYTES];
    if (!ex->has_expires) continue;
    sc_day_format(ex->expires_day, d);
    if (today > ex->expires_day)
      sc_pol_linef(&b, "%s:%d:%d: exception for %s expired on %s and no longer applies\n", p->file,
                   ex->exp_line, ex->exp_col, ex->vuln, d);
    else if (ex->expires_day == today)
      sc_pol_linef(&b, "%s:%d:%d: exception for %s expires today (%s is its last day)\n", p->file,
                   ex->exp_line, ex->exp_col, ex->vuln, d);
    else if (ex->expires_day - today < days)
      sc_pol_linef(&b, "%s:%d:%d: exception for %s expires on %s (in %lld day%s)\n", p->file, ex->exp_line,
                   ex->exp_col, ex->vuln, d, (long long)(ex->expires_day - today),
                   ex->expires_day - today == 1 ? "" : "s");
    else
      continue;
    n++;
  }
  for (size_t d = 0; d < p->nvex; d++) /* customs' `expires` on VEX statements */
    for (size_t s = 0; s < p->vex[d].doc->nstmts; s++) {
      const sc_vex_stmt *st = &p->vex[d].doc->stmts[s];
      char day[SC_DAY_STR_BYTES];
      if (!st->has_expires || !sc_vex_suppresses(st->status)) continue;
      if (st->expires_day - today >= days && today <= st->expires_day) continue;
      sc_day_format(st->expires_day, day);
      sc_pol_linef(&b, "%s: vex %s statement #%zu (%s) %s %s\n", p->file, p->vex[d].path, s + 1,
                   st->nvulns ? st->vulns[0] : "?", today > st->expires_day ? "expired on" : "expires on", day);
      n++;
    }
  if (b.oom) {
    sc_buf_free(&b);
    return SC_ERR_NOMEM;
  }
  *warnings = sc_buf_take(&b);
  return n;
}
