/* sc_report.c - JSON report, text tables, CycloneDX SBOM.
 *
 * Pure formatting of what the caller passes (no I/O but the FILE given, no
 * globals), so any thread may call it.  A finding matched by caution (its
 * version is not comparable, sc_finding_unsure) is marked in every format:
 * "version_comparable": false in JSON, UNSURE_MARK after its version and
 * UNSURE_TEXT as a footnote in the table, an analysis detail and a
 * customs:version_comparable property in CycloneDX.  Also the helpers the
 * SARIF and SPDX writers share (sc_report.h); reals are written with
 * SC_REPORT_JSON_REALS so scores print as their sources give them. */
#include "sc_report.h"

#include <openssl/rand.h>
#include "sc_cvss.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COL_MAX 72 /* widest table column; longer cells are cut with "~" */
#define UNSURE_SIGN "(*)"            /* marks a finding matched by caution ... */
#define UNSURE_MARK " " UNSURE_SIGN  /* ... after its version in the table */
#define UNSURE_TEXT "version not comparable: counted as affected"

/* json string or null; NULL return (and *bad) only on allocation failure */
static json_t *jstr(const char *s) { return s ? json_string(s) : json_null(); }

/* set: steals v; flags failure in *bad */
static void set(json_t *o, const char *k, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, k, v)) *bad = 1;
}
static void push(json_t *a, json_t *v, int *bad) {
  if (!v || json_array_append_new(a, v)) *bad = 1;
}

static json_t *strs(char *const *v, size_t n, int *bad) {
  json_t *a = json_array();
  if (!a) *bad = 1;
  for (size_t i = 0; a && i < n; i++) push(a, jstr(v[i]), bad);
  return a;
}

static int cmp_cstr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* {"deb": 88, "python": 2}: packages of inv per cataloger kind, kinds in
 * name order (stable output) */
static json_t *found_by_type(const sc_inventory *inv, int *bad) {
  json_t *o = json_object();
  if (!o) {
    *bad = 1;
    return NULL;
  }
  for (size_t i = 0; i < inv->npkgs; i++) {
    const char *t = inv->pkgs[i].type ? inv->pkgs[i].type : "?";
    json_t *n = json_object_get(o, t);
    if (json_object_set_new(o, t, json_integer(n ? json_integer_value(n) + 1 : 1))) *bad = 1;
  }
  /* jansson keeps insertion order (JSON_PRESERVE_ORDER): rebuild sorted */
  json_t *sorted = json_object();
  const char *k;
  json_t *v;
  size_t nk = json_object_size(o), i = 0;
  const char **keys = calloc(nk ? nk : 1, sizeof(*keys));
  if (!sorted || !keys) {
    *bad = 1;
    free(keys);
    json_decref(sorted);
    return o;
  }
  json_object_foreach(o, k, v) keys[i++] = k;
  qsort(keys, nk, sizeof(*keys), cmp_cstr);
  for (i = 0; i < nk; i++)
    if (json_object_set(sorted, keys[i], json_object_get(o, keys[i]))) *bad = 1;
  free(keys);
  json_decref(o);
  return sorted;
}

/* "deb 88, python 2" from a layer's "found" (table output) */
static json_t *layers_for_table(const json_t *arr) {
  json_t *out = json_array();
  for (size_t i = 0; out && i < json_array_size(arr); i++) {
    json_t *c = json_copy(json_array_get(arr, i));
    const json_t *f = json_object_get(c, "found");
    char text[256] = "";
    size_t len = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)f, k, v) {
      int n = snprintf(text + len, sizeof(text) - len, "%s%s %lld", len ? ", " : "", k,
                       (long long)json_integer_value(v));
      if (n < 0 || (size_t)n >= sizeof(text) - len) break;
      len += (size_t)n;
    }
    if (!c || json_object_set_new(c, "found", json_string(f ? text : "")) || json_array_append_new(out, c)) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}


static void time_str(int64_t t, char *out, size_t cap) {
  struct tm tm;
  time_t tt = (time_t)t;
  out[0] = 0;
  if (t >= 0 && gmtime_r(&tt, &tm)) strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *vulns_json(const sc_finding_list *fl, int *bad) {
  json_t *a = json_array();
  if (!a) *bad = 1;
  for (size_t i = 0; a && fl && i < fl->n; i++) {
    const sc_finding *f = &fl->v[i];
    json_t *o = json_object(), *al = json_array();
    for (size_t k = 0; al && k < f->naliases; k++) push(al, jstr(f->aliases[k]), bad);
    if (o) {
      set(o, "id", jstr(f->id), bad);
      set(o, "aliases", al, bad);
      al = NULL;
      set(o, "package", jstr(f->package), bad);
      set(o, "version", jstr(f->version), bad);
      set(o, "fixed_version", jstr(f->fixed_version ? f->fixed_version : ""), bad);
      set(o, "severity", jstr(sc_severity_name((sc_severity)f->severity)), bad);
      set(o, "score", f->score >= 0 ? json_real(f->score) : json_null(), bad);
      set(o, "fixable", json_boolean(sc_finding_fixable(f)), bad);
      set(o, "ecosystem", jstr(f->ecosystem), bad);
      set(o, "layer", jstr(fl->layer ? fl->layer[i] : ""), bad);
      set(o, "purl", jstr(fl->purl ? fl->purl[i] : ""), bad);
      /* false: the comparator could not parse a version; affected by caution */
      set(o, "version_comparable", json_boolean(!sc_finding_unsure(fl, i)), bad);
      /* the distribution's own word, beside the score (never the severity) */
      set(o, "vendor_rating", fl->rating && fl->rating[i][0] ? json_string(fl->rating[i]) : json_null(), bad);
    }
    json_decref(al);
    push(a, o, bad);
  }
  return a;
}

json_t *sc_report_json(const sc_report_input *in) {
  int bad = 0;
  json_t *r = json_object();
  if (!r || !in || !in->inv) {
    json_decref(r);
    return NULL;
  }
  const sc_inventory *inv = in->inv;
  set(r, "image", jstr(in->image), &bad);
  set(r, "repository", jstr(in->repository), &bad);
  set(r, "tag", jstr(in->tag), &bad);
  set(r, "digest", jstr(in->digest), &bad);
  json_t *os = json_object();
  if (os) {
    set(os, "id", jstr(inv->os.id), &bad);
    set(os, "version_id", jstr(inv->os.version_id), &bad);
  }
  set(r, "os", os, &bad);

  json_t *pkgs = json_array();
  for (size_t i = 0; pkgs && i < inv->npkgs; i++) {
    const sc_package *p = &inv->pkgs[i];
    json_t *o = json_object();
    if (o) {
      set(o, "type", jstr(p->type), &bad);
      set(o, "ecosystem", jstr(p->ecosystem), &bad);
      set(o, "name", jstr(p->name), &bad);
      set(o, "version", jstr(p->version), &bad);
      set(o, "source_name", jstr(p->source_name), &bad);
      set(o, "source_version", jstr(p->source_version), &bad);
      set(o, "path", jstr(p->path), &bad);
      set(o, "purl", jstr(p->purl), &bad);
    }
    push(pkgs, o, &bad);
  }
  set(r, "packages", pkgs, &bad);
  set(r, "vulnerabilities", vulns_json(in->findings, &bad), &bad);
  /* findings no severity rule can match (Debian/Ubuntu records without a
   * score, no CVE score lent): said, not left to be guessed */
  size_t unrated = 0;
  for (size_t i = 0; in->findings && i < in->findings->n; i++)
    if (in->findings->v[i].severity == SC_SEV_UNKNOWN) unrated++;
  set(r, "vulnerabilities_without_severity", json_integer((json_int_t)unrated), &bad);

  json_t *secs = json_array();
  for (size_t i = 0; secs && i < inv->nsecrets; i++) {
    const sc_secret *s = &inv->secrets[i];
    json_t *o = json_object();
    if (o) {
      set(o, "path", jstr(s->path), &bad);
      set(o, "rule", jstr(s->rule), &bad);
      set(o, "line", json_integer(s->line), &bad);
    }
    push(secs, o, &bad);
  }
  set(r, "secrets", secs, &bad);

  if (in->config) {
    const sc_image_config *c = in->config;
    json_t *o = json_object();
    char ts[40];
    time_str(c->created, ts, sizeof(ts));
    if (o) {
      set(o, "user", jstr(c->user ? c->user : ""), &bad);
      set(o, "runs_as_root", json_boolean(c->runs_as_root), &bad);
      set(o, "exposed_ports", strs(c->exposed_ports, c->nports, &bad), &bad);
      set(o, "secret_env", strs(c->secret_env, c->nsecret_env, &bad), &bad);
      set(o, "created", jstr(ts[0] ? ts : NULL), &bad);
      set(o, "os", jstr(c->os), &bad);
      set(o, "architecture", jstr(c->architecture), &bad);
    }
    set(r, "config", o, &bad);
  } else {
    set(r, "config", json_null(), &bad);
  }

  json_t *layers = json_array(), *reasons = json_array();
  const char *decision = "allow";
  for (size_t i = 0; layers && i < in->nlayers; i++) {
    const sc_report_layer *l = &in->layers[i];
    json_t *o = json_object();
    if (o) {
      set(o, "digest", jstr(l->digest), &bad);
      set(o, "status", jstr(l->status), &bad);
      set(o, "error", jstr(l->error), &bad);
      if (l->inv) {
        set(o, "found", found_by_type(l->inv, &bad), &bad);
        set(o, "notes", strs(l->inv->notes.v, l->inv->notes.n, &bad), &bad);
      }
    }
    push(layers, o, &bad);
    if (l->status && strcmp(l->status, "ok") != 0 && reasons) {
      char msg[512];
      snprintf(msg, sizeof(msg), "layer %s not fully scanned (%s%s%s)",
               l->digest ? l->digest : "?", l->status, l->error ? ": " : "", l->error ? l->error : "");
      push(reasons, json_string(msg), &bad);
      decision = "warn";
    }
  }
  set(r, "layers", layers, &bad);
  /* the inventory's notes, then which findings were matched by caution */
  json_t *notes = strs(inv->notes.v, inv->notes.n, &bad);
  for (size_t i = 0; notes && in->findings && i < in->findings->notes.n; i++)
    push(notes, jstr(in->findings->notes.v[i]), &bad);
  set(r, "notes", notes, &bad);
  json_t *v = json_object();
  if (v) set(v, "decision", json_string(decision), &bad);
  if (v) set(v, "reasons", reasons, &bad);
  else json_decref(reasons);
  set(r, "verdict", v, &bad);
  if (bad) {
    json_decref(r);
    return NULL;
  }
  return r;
}

/* ---- CycloneDX ------------------------------------------------------- */

int sc_report_uuid4(char out[SC_REPORT_UUID_BYTES]) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) return -1;
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  snprintf(out, SC_REPORT_UUID_BYTES, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return 0;
}

void sc_report_time(int64_t t, char out[SC_REPORT_TIME_BYTES]) { time_str(t, out, SC_REPORT_TIME_BYTES); }

void sc_report_score_text(double score, char out[SC_REPORT_SCORE_BYTES]) {
  /* what jansson prints with JSON_REAL_PRECISION(DBL_DIG): %.15g, and ".0"
   * when that reads as an integer */
  int n = snprintf(out, SC_REPORT_SCORE_BYTES, "%.*g", DBL_DIG, score);
  if (n > 0 && n + 2 < SC_REPORT_SCORE_BYTES && !strpbrk(out, ".eE")) memcpy(out + n, ".0", 3);
}

long sc_report_pkg_of(const sc_report_input *in, size_t i) {
  const sc_finding_list *fl = in ? in->findings : NULL;
  if (!fl || i >= fl->n || !in->inv) return -1;
  const sc_finding *f = &fl->v[i];
  const char *fpurl = fl->purl ? fl->purl[i] : NULL;
  for (size_t k = 0; k < in->inv->npkgs; k++) {
    const sc_package *p = &in->inv->pkgs[k];
    int same = fpurl && fpurl[0] && p->purl ? !strcmp(fpurl, p->purl)
                                            : p->name && f->package && !strcmp(p->name, f->package) &&
                                                  p->version && f->version && !strcmp(p->version, f->version);
    if (same) return (long)k;
  }
  return -1;
}

static json_t *prop(const char *name, const char *value) {
  return json_pack("{s:s, s:s}", "name", name, "value", value);
}

json_t *sc_report_cyclonedx(const sc_report_input *in) {
  if (!in || !in->inv) return NULL;
  char uuid[SC_REPORT_UUID_BYTES], serial[48], ts[SC_REPORT_TIME_BYTES];
  int bad = 0;
  if (sc_report_uuid4(uuid)) return NULL;
  snprintf(serial, sizeof(serial), "urn:uuid:%s", uuid);
  time_str((int64_t)time(NULL), ts, sizeof(ts));
  json_t *bom = json_object();
  if (!bom) return NULL;
  set(bom, "bomFormat", json_string("CycloneDX"), &bad);
  set(bom, "specVersion", json_string("1.5"), &bad);
  set(bom, "serialNumber", json_string(serial), &bad);
  set(bom, "version", json_integer(1), &bad);

  json_t *meta = json_object(), *comp = json_object();
  if (meta && comp) {
    set(meta, "timestamp", json_string(ts), &bad);
    set(meta, "tools", json_pack("{s:[{s:s, s:s}]}", "components", "type", "application", "name",
                                 "customs"),
        &bad);
    set(comp, "type", json_string("container"), &bad);
    set(comp, "bom-ref", json_string(in->digest ? in->digest : (in->image ? in->image : "image")),
        &bad);
    set(comp, "name", json_string(in->repository ? in->repository : (in->image ? in->image : "image")),
        &bad);
    if (in->tag) set(comp, "version", json_string(in->tag), &bad);
    if (in->digest) {
      const char *hex = strchr(in->digest, ':');
      if (hex && !strncmp(in->digest, "sha256:", 7))
        set(comp, "hashes", json_pack("[{s:s, s:s}]", "alg", "SHA-256", "content", hex + 1), &bad);
    }
    set(meta, "component", comp, &bad);
    comp = NULL;
  }
  json_decref(comp);
  set(bom, "metadata", meta, &bad);

  json_t *comps = json_array();
  const sc_inventory *inv = in->inv;
  if (comps && inv->os.id) {
    json_t *o = json_object();
    if (o) {
      set(o, "type", json_string("operating-system"), &bad);
      set(o, "bom-ref", json_string("os"), &bad);
      set(o, "name", json_string(inv->os.id), &bad);
      if (inv->os.version_id) set(o, "version", json_string(inv->os.version_id), &bad);
    }
    push(comps, o, &bad);
  }
  for (size_t i = 0; comps && i < inv->npkgs; i++) {
    const sc_package *p = &inv->pkgs[i];
    if (!p->name) continue;
    json_t *o = json_object(), *props = json_array();
    char ref[32];
    snprintf(ref, sizeof(ref), "pkg-%zu", i);
    if (o && props) {
      set(o, "type", json_string("library"), &bad);
      set(o, "bom-ref", json_string(ref), &bad);
      set(o, "name", json_string(p->name), &bad);
      if (p->version) set(o, "version", json_string(p->version), &bad);
      if (p->purl) set(o, "purl", json_string(p->purl), &bad);
      if (p->path) push(props, prop("customs:path", p->path), &bad);
      if (p->type) push(props, prop("customs:type", p->type), &bad);
      if (p->ecosystem) push(props, prop("customs:ecosystem", p->ecosystem), &bad);
      if (p->source_name) push(props, prop("customs:source_name", p->source_name), &bad);
      if (p->source_version) push(props, prop("customs:source_version", p->source_version), &bad);
      set(o, "properties", props, &bad);
      props = NULL;
    }
    json_decref(props);
    push(comps, o, &bad);
  }
  set(bom, "components", comps, &bad);
  /* vulnerabilities, each pointing at the component it affects */
  const sc_finding_list *fl = in->findings;
  json_t *vulns = fl ? json_array() : NULL;
  for (size_t i = 0; vulns && i < fl->n; i++) {
    const sc_finding *f = &fl->v[i];
    char ref[32] = "";
    long k = sc_report_pkg_of(in, i);
    if (k >= 0) snprintf(ref, sizeof(ref), "pkg-%ld", k);
    json_t *o = json_object(), *ratings = json_array(), *affects = json_array();
    if (!o || !ratings || !affects) {
      json_decref(o);
      json_decref(ratings);
      json_decref(affects);
      bad = 1;
      break;
    }
    set(o, "id", json_string(f->id), &bad);
    set(o, "source", json_pack("{s:s}", "name", "OSV"), &bad);
    json_t *rating = json_object();
    static const char *const sev[] = {"unknown", "low", "medium", "high", "critical"};
    set(rating, "severity", json_string(f->severity >= 0 && f->severity <= 4 ? sev[f->severity] : "none"), &bad);
    if (f->score >= 0) set(rating, "score", json_real(f->score), &bad);
    push(ratings, rating, &bad);
    set(o, "ratings", ratings, &bad);
    if (ref[0]) push(affects, json_pack("{s:s}", "ref", ref), &bad);
    set(o, "affects", affects, &bad);
    if (sc_finding_unsure(fl, i)) {
      set(o, "analysis", json_pack("{s:s}", "detail", UNSURE_TEXT), &bad);
      json_t *props = json_array();
      push(props, prop("customs:version_comparable", "false"), &bad);
      set(o, "properties", props, &bad);
    }
    if (f->fixed_version && f->fixed_version[0]) {
      char rec[300];
      snprintf(rec, sizeof(rec), "Upgrade %s to %s", f->package ? f->package : "the package", f->fixed_version);
      set(o, "recommendation", json_string(rec), &bad);
    }
    push(vulns, o, &bad);
  }
  if (vulns) set(bom, "vulnerabilities", vulns, &bad);
  if (bad) {
    json_decref(bom);
    return NULL;
  }
  return bom;
}

/* ---- text ------------------------------------------------------------ */

static const char *gs(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s && *s ? s : "-";
}

/* Prints rows of an array of objects as columns keys[0..nk). */
static int table(FILE *out, const char *title, const json_t *arr, const char *const *keys,
                 const char *const *heads, int nk) {
  int w[8] = {0};
  size_t n = json_array_size(arr);
  fprintf(out, "\n%s (%zu)\n", title, n);
  if (!n) return 0;
  for (int k = 0; k < nk && k < 8; k++) w[k] = (int)strlen(heads[k]);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < nk && k < 8; k++) {
      const json_t *v = json_object_get(json_array_get(arr, i), keys[k]);
      int len = json_is_integer(v) ? 10 : (int)strlen(gs(json_array_get(arr, i), keys[k]));
      if (len > COL_MAX) len = COL_MAX;
      if (len > w[k]) w[k] = len;
    }
  for (int k = 0; k < nk && k < 8; k++)
    fprintf(out, "%-*s%s", k + 1 < nk ? w[k] : 0, heads[k], k + 1 < nk ? "  " : "\n");
  for (size_t i = 0; i < n; i++) {
    const json_t *row = json_array_get(arr, i);
    for (int k = 0; k < nk && k < 8; k++) {
      const json_t *v = json_object_get(row, keys[k]);
      char num[24];
      const char *s = gs(row, keys[k]);
      if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        s = num;
      }
      int len = (int)strlen(s);
      if (len > w[k]) fprintf(out, "%.*s~", w[k] - 1, s);
      else fprintf(out, "%-*s", k + 1 < nk ? w[k] : 0, s); /* no trailing pad */
      fputs(k + 1 < nk ? "  " : "\n", out);
    }
  }
  return 0;
}

/* The vulnerabilities with UNSURE_MARK after the version of those matched by
 * caution ("version_comparable": false); *n counts them.  NULL when out of
 * memory. */
static json_t *marked_vulns(const json_t *arr, size_t *n) {
  json_t *out = json_array();
  for (size_t i = 0; out && i < json_array_size(arr); i++) {
    json_t *v = json_array_get(arr, i);
    if (!json_is_false(json_object_get(v, "version_comparable"))) {
      if (json_array_append(out, v)) goto fail;
      continue;
    }
    json_t *c = json_copy(v);
    char *ver = NULL;
    int bad = !c || asprintf(&ver, "%s%s", gs(v, "version"), UNSURE_MARK) < 0;
    if (bad) ver = NULL;
    if (!bad) set(c, "version", json_string(ver), &bad);
    free(ver);
    if (!bad && json_array_append(out, c)) bad = 1;
    json_decref(c);
    if (bad) goto fail;
    (*n)++;
  }
  return out;
fail:
  json_decref(out);
  return NULL;
}

int sc_report_table(const json_t *r, FILE *out) {
  const json_t *os = json_object_get(r, "os"), *cfg = json_object_get(r, "config"),
               *verdict = json_object_get(r, "verdict");
  fprintf(out, "Image:    %s\n", gs(r, "image"));
  fprintf(out, "Digest:   %s\n", gs(r, "digest"));
  fprintf(out, "OS:       %s %s\n", gs(os, "id"), json_string_value(json_object_get(os, "version_id"))
                                                       ? gs(os, "version_id") : "");
  if (json_is_object(cfg)) {
    fprintf(out, "User:     %s%s\n", gs(cfg, "user"),
            json_is_true(json_object_get(cfg, "runs_as_root")) ? " (runs as root)" : "");
    fprintf(out, "Created:  %s\n", gs(cfg, "created"));
  }
  fprintf(out, "Verdict:  %s\n", gs(verdict, "decision"));
  /* a policy's verdict says why in its message (its reasons are objects,
   * listed by the JSON format); the scan's own reasons are strings */
  const char *vmsg = json_string_value(json_object_get(verdict, "message"));
  if (vmsg) fprintf(out, "  %s\n", vmsg);
  const json_t *reasons = json_object_get(verdict, "reasons");
  for (size_t i = 0; i < json_array_size(reasons); i++) {
    const char *m = json_string_value(json_array_get(reasons, i));
    if (m) fprintf(out, "  - %s\n", m);
  }

  static const char *const pk[] = {"type", "name", "version", "source_name", "ecosystem", "path"};
  static const char *const ph[] = {"TYPE", "NAME", "VERSION", "SOURCE", "ECOSYSTEM", "PATH"};
  table(out, "Packages", json_object_get(r, "packages"), pk, ph, 6);
  static const char *const vk[] = {"severity", "id", "package", "version", "fixed_version", "ecosystem",
                                   "vendor_rating"};
  static const char *const vh[] = {"SEVERITY", "ID", "PACKAGE", "VERSION", "FIXED", "ECOSYSTEM", "VENDOR RATING"};
  size_t nunsure = 0;
  json_t *vulns = marked_vulns(json_object_get(r, "vulnerabilities"), &nunsure);
  if (!vulns) return SC_ERR_NOMEM;
  /* the vendor's rating (Debian urgency, Ubuntu priority) in a last column,
   * only when a finding has one: the other columns stay where they were */
  int rated = 0;
  for (size_t i = 0; i < json_array_size(vulns); i++)
    if (json_is_string(json_object_get(json_array_get(vulns, i), "vendor_rating"))) rated = 1;
  table(out, "Vulnerabilities", vulns, vk, vh, rated ? 7 : 6);
  json_decref(vulns);
  if (nunsure) fprintf(out, "%s %s (%zu)\n", UNSURE_SIGN, UNSURE_TEXT, nunsure);
  json_int_t unrated = json_integer_value(json_object_get(r, "vulnerabilities_without_severity"));
  if (unrated > 0)
    fprintf(out, "Without severity: %lld of %zu (no CVSS score known; severity rules cannot match them)\n",
            (long long)unrated, json_array_size(json_object_get(r, "vulnerabilities")));
  static const char *const sk[] = {"rule", "path", "line"};
  static const char *const sh[] = {"RULE", "PATH", "LINE"};
  table(out, "Secrets", json_object_get(r, "secrets"), sk, sh, 3);
  static const char *const lk[] = {"digest", "status", "found", "error"};
  static const char *const lh[] = {"LAYER", "STATUS", "FOUND", "ERROR"};
  json_t *layers = layers_for_table(json_object_get(r, "layers"));
  if (!layers) return SC_ERR_NOMEM;
  table(out, "Layers", layers, lk, lh, 4);
  json_decref(layers);
  fflush(out);
  return ferror(out) ? SC_ERR_IO : 0;
}

int sc_report_write_json(const json_t *doc, FILE *out) {
  if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | SC_REPORT_JSON_REALS) != 0) return SC_ERR_IO;
  fputc('\n', out);
  fflush(out);
  return ferror(out) ? SC_ERR_IO : 0;
}
