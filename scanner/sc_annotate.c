/* sc_annotate.c - the SBOM and vulnerability report customs pushes as OCI
 * referrers, their artifact manifests and the tag-schema index (see
 * sc_annotate.h).
 *
 * Pure: JSON in memory (jansson, insertion order kept, so a document built
 * twice from the same content has the same bytes); no I/O, no clock (the
 * caller passes `created`), no randomness (sc_report's random serialNumber
 * is replaced by one derived from the content).
 * Owner: the caller's sc_annot_doc.  Thread: any.  Errors: see the header. */
#include "sc_annotate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_cvss.h"
#include "sc_image.h" /* sc_digest_sha256 */

/* compact; CVSS scores have one decimal: 4 significant digits print 9.8 as
 * "9.8", not jansson's default 17 ("9.8000000000000007") */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(4))
#define TIME_BYTES 32

static const char *const KIND_NAME[SC_ANNOT_NKINDS] = {"sbom", "vulnerabilities"};
static const char *const KIND_TYPE[SC_ANNOT_NKINDS] = {SC_ANNOT_SBOM_TYPE, SC_ANNOT_VULNS_TYPE};

const char *sc_annot_kind_name(sc_annot_kind k) { return (unsigned)k < SC_ANNOT_NKINDS ? KIND_NAME[k] : "?"; }
const char *sc_annot_kind_type(sc_annot_kind k) { return (unsigned)k < SC_ANNOT_NKINDS ? KIND_TYPE[k] : "?"; }

int sc_annot_kind_parse(const char *s) {
  for (int i = 0; s && i < SC_ANNOT_NKINDS; i++)
    if (!strcmp(s, KIND_NAME[i])) return i;
  return -1;
}

void sc_annot_doc_free(sc_annot_doc *d) {
  if (!d) return;
  free(d->blob);
  free(d->manifest);
  memset(d, 0, sizeof(*d));
}

static void rfc3339(int64_t t, char out[TIME_BYTES]) {
  struct tm tm;
  time_t tt = (time_t)t;
  out[0] = 0;
  if (t < 0 || !gmtime_r(&tt, &tm) || !strftime(out, TIME_BYTES, "%Y-%m-%dT%H:%M:%SZ", &tm)) strcpy(out, "1970-01-01T00:00:00Z");
}

/* set: steals v; flags failure in *bad */
static void set(json_t *o, const char *k, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, k, v)) *bad = 1;
}
static json_t *jstr(const char *s) { return json_string(s ? s : ""); }

/* sha256 of doc without the keys of drop (top-level, NULL-terminated) and,
 * when meta_drop, metadata.<meta_drop>: the content hash. */
static int hash_without(const json_t *doc, const char *const *drop, const char *meta_drop,
                        char hash[SC_ANNOT_DIGEST_BYTES]) {
  json_t *c = json_deep_copy(doc);
  if (!c) return SC_ERR_NOMEM;
  for (size_t i = 0; drop[i]; i++) json_object_del(c, drop[i]);
  if (meta_drop) json_object_del(json_object_get(c, "metadata"), meta_drop);
  char *s = json_dumps(c, DUMP_FLAGS);
  json_decref(c);
  if (!s) return SC_ERR_NOMEM;
  int rv = sc_digest_sha256(s, strlen(s), hash);
  free(s);
  return rv;
}

/* ---- the SBOM ---- */

static const char *const SBOM_DROP[] = {"serialNumber", NULL};

/* The BOM (sc_report's CycloneDX, no vulnerabilities) with its volatile
 * fields made deterministic; *hash its content hash. */
static json_t *sbom_json(const sc_annot_input *in, char hash[SC_ANNOT_DIGEST_BYTES]) {
  if (!in->report) return NULL;
  sc_report_input r = *in->report;
  r.findings = NULL; /* the SBOM is what is installed; findings are the report's */
  json_t *bom = sc_report_cyclonedx(&r);
  if (!bom) return NULL;
  char ts[TIME_BYTES], serial[64];
  int bad = 0;
  if (hash_without(bom, SBOM_DROP, "timestamp", hash)) {
    json_decref(bom);
    return NULL;
  }
  /* a name-based UUID (RFC 9562 version 8 layout) from the content hash:
   * the same content is the same BOM */
  const char *h = hash + 7;
  snprintf(serial, sizeof(serial), "urn:uuid:%.8s-%.4s-8%.3s-%c%.3s-%.12s", h, h + 8, h + 13,
           "89ab"[(h[16] >= 'a' ? h[16] - 'a' + 10 : h[16] - '0') & 3], h + 17, h + 20);
  rfc3339(in->created, ts);
  set(bom, "serialNumber", json_string(serial), &bad); /* an existing key: keeps its place */
  json_t *meta = json_object_get(bom, "metadata");
  if (!meta) bad = 1;
  else set(meta, "timestamp", json_string(ts), &bad);
  if (bad) {
    json_decref(bom);
    return NULL;
  }
  return bom;
}

/* ---- the vulnerability report ---- */

static const char *const REPORT_DROP[] = {"generated_at", "data_generation", NULL};

static json_t *report_json(const sc_annot_input *in, char hash[SC_ANNOT_DIGEST_BYTES]) {
  const sc_finding_list *fl = in->findings;
  char ts[TIME_BYTES];
  int bad = 0;
  int64_t nsev[6] = {0}, fixable = 0; /* none, unknown, low, medium, high, critical */
  json_t *r = json_object(), *findings = json_array(), *counts = json_object();
  if (!r || !findings || !counts) {
    json_decref(r);
    json_decref(findings);
    json_decref(counts);
    return NULL;
  }
  for (size_t i = 0; fl && i < fl->n && !bad; i++) {
    const sc_finding *f = &fl->v[i];
    json_t *o = json_object(), *al = json_array();
    if (!o || !al) {
      json_decref(o);
      json_decref(al);
      bad = 1;
      break;
    }
    for (size_t k = 0; k < f->naliases; k++)
      if (json_array_append_new(al, jstr(f->aliases[k]))) bad = 1;
    int sev = f->severity >= SC_SEV_NONE && f->severity <= SC_SEV_CRITICAL ? f->severity : SC_SEV_UNKNOWN;
    nsev[sev + 1]++;
    if (sc_finding_fixable(f)) fixable++;
    set(o, "id", jstr(f->id), &bad);
    set(o, "aliases", al, &bad);
    set(o, "package", jstr(f->package), &bad);
    set(o, "version", jstr(f->version), &bad);
    set(o, "fixed_version", jstr(f->fixed_version), &bad);
    set(o, "severity", json_string(sc_severity_name((sc_severity)sev)), &bad);
    set(o, "score", f->score >= 0 ? json_real(f->score) : json_null(), &bad);
    set(o, "ecosystem", jstr(f->ecosystem), &bad);
    set(o, "purl", jstr(fl->purl ? fl->purl[i] : ""), &bad);
    set(o, "version_comparable", json_boolean(!sc_finding_unsure(fl, i)), &bad);
    if (json_array_append_new(findings, o)) bad = 1;
  }
  static const char *const NAMES[6] = {"none", "unknown", "low", "medium", "high", "critical"};
  for (int s = 5; s >= 0; s--) set(counts, NAMES[s], json_integer(nsev[s]), &bad);
  set(counts, "total", json_integer(fl ? (json_int_t)fl->n : 0), &bad);
  set(counts, "fixable", json_integer(fixable), &bad);
  rfc3339(in->created, ts);
  set(r, "mediaType", json_string(SC_ANNOT_VULNS_TYPE), &bad);
  set(r, "repository", jstr(in->repository), &bad);
  set(r, "digest", jstr(in->digest), &bad);
  set(r, "generated_at", json_string(ts), &bad);
  set(r, "data_generation", json_integer(in->generation), &bad);
  set(r, "counts", counts, &bad);
  set(r, "findings", findings, &bad);
  if (bad || hash_without(r, REPORT_DROP, NULL, hash)) {
    json_decref(r);
    return NULL;
  }
  return r;
}

static json_t *document(sc_annot_kind k, const sc_annot_input *in, char hash[SC_ANNOT_DIGEST_BYTES]) {
  return k == SC_ANNOT_SBOM ? sbom_json(in, hash) : report_json(in, hash);
}

int sc_annot_content_hash(sc_annot_kind k, const sc_annot_input *in, char hash[SC_ANNOT_DIGEST_BYTES]) {
  if (!in || (unsigned)k >= SC_ANNOT_NKINDS) return SC_ERR_ARG;
  json_t *d = document(k, in, hash);
  if (!d) return SC_ERR_NOMEM;
  json_decref(d);
  return 0;
}

/* ---- the artifact manifest ---- */

int sc_annot_build(sc_annot_kind k, const sc_annot_input *in, sc_annot_doc *out) {
  if (!out) return SC_ERR_ARG;
  memset(out, 0, sizeof(*out));
  if (!in || (unsigned)k >= SC_ANNOT_NKINDS || !in->subject.digest || !in->subject.media_type ||
      in->subject.size < 0 || (k == SC_ANNOT_SBOM && !in->report))
    return SC_ERR_ARG;
  out->kind = k;
  json_t *doc = document(k, in, out->content_hash);
  if (!doc) return SC_ERR_NOMEM;
  out->blob = json_dumps(doc, DUMP_FLAGS);
  json_decref(doc);
  if (!out->blob) return SC_ERR_NOMEM;
  out->blob_len = strlen(out->blob);
  if (sc_digest_sha256(out->blob, out->blob_len, out->blob_digest)) return SC_ERR_NOMEM;

  char ts[TIME_BYTES], gen[24];
  int bad = 0;
  rfc3339(in->created, ts);
  json_t *annots = json_object();
  if (!annots) return SC_ERR_NOMEM;
  set(annots, SC_ANNOT_CREATED_KEY, json_string(ts), &bad);
  set(annots, SC_ANNOT_KIND_KEY, json_string(KIND_NAME[k]), &bad);
  if (k == SC_ANNOT_VULNS) {
    snprintf(gen, sizeof(gen), "%lld", (long long)in->generation);
    set(annots, SC_ANNOT_GENERATION_KEY, json_string(gen), &bad);
  }
  json_t *m = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i}, s:[{s:s, s:s, s:I}], s:{s:s, s:s, s:I}, s:O}",
                        "schemaVersion", 2, "mediaType", SC_ANNOT_MANIFEST_TYPE, "artifactType", KIND_TYPE[k],
                        "config", "mediaType", SC_ANNOT_EMPTY_TYPE, "digest", SC_ANNOT_EMPTY_DIGEST, "size", 2,
                        "layers", "mediaType", KIND_TYPE[k], "digest", out->blob_digest, "size",
                        (json_int_t)out->blob_len, "subject", "mediaType", in->subject.media_type, "digest",
                        in->subject.digest, "size", (json_int_t)in->subject.size, "annotations", annots);
  json_decref(annots);
  if (!m || bad) {
    json_decref(m);
    return SC_ERR_NOMEM;
  }
  out->manifest = json_dumps(m, DUMP_FLAGS);
  json_decref(m);
  if (!out->manifest) return SC_ERR_NOMEM;
  out->manifest_len = strlen(out->manifest);
  return sc_digest_sha256(out->manifest, out->manifest_len, out->manifest_digest);
}

char *sc_annot_descriptor(const sc_annot_doc *d) {
  if (!d || !d->manifest) return NULL;
  json_t *m = json_loadb(d->manifest, d->manifest_len, 0, NULL);
  json_t *annots = json_object_get(m, "annotations"), *none = json_object();
  json_t *desc = none ? json_pack("{s:s, s:s, s:I, s:s, s:O}", "mediaType", SC_ANNOT_MANIFEST_TYPE, "digest",
                                  d->manifest_digest, "size", (json_int_t)d->manifest_len, "artifactType",
                                  sc_annot_kind_type(d->kind), "annotations", annots ? annots : none)
                      : NULL;
  json_decref(none);
  char *s = desc ? json_dumps(desc, DUMP_FLAGS) : NULL;
  json_decref(desc);
  json_decref(m);
  return s;
}

int sc_annot_tag(const char *subject, char *out, size_t cap) {
  if (!subject || !sc_digest_valid(subject, 0) || cap < 72) return -1;
  snprintf(out, cap, "sha256-%s", subject + 7);
  return 0;
}

/* ---- the referrers tag schema ---- */

int sc_annot_index_update(const char *old, size_t len, const char *add, const char *remove, char **out,
                          size_t *outlen) {
  if (!add || !out || !outlen) return SC_ERR_ARG;
  *out = NULL;
  *outlen = 0;
  json_t *a = json_loads(add, 0, NULL);
  const char *adig = json_string_value(json_object_get(a, "digest"));
  if (!json_is_object(a) || !adig) {
    json_decref(a);
    return SC_ERR_ARG;
  }
  json_t *list = json_array(), *idx = NULL;
  int rv = 0;
  if (!list) rv = SC_ERR_NOMEM;
  if (!rv && old && len) {
    json_t *o = json_loadb(old, len, 0, NULL);
    json_t *ms = json_object_get(o, "manifests");
    const char *mt = json_string_value(json_object_get(o, "mediaType"));
    if (!json_is_object(o) || !json_is_array(ms) || (mt && strcmp(mt, SC_ANNOT_INDEX_TYPE))) {
      rv = SC_ERR_FORMAT;
    } else {
      size_t i;
      json_t *e;
      json_array_foreach(ms, i, e) {
        const char *d = json_string_value(json_object_get(e, "digest"));
        if (d && (!strcmp(d, adig) || (remove && !strcmp(d, remove)))) continue;
        if (json_array_size(list) + 1 >= SC_ANNOT_INDEX_MAX_ENTRIES) {
          rv = SC_ERR_LIMIT;
          break;
        }
        if (json_array_append(list, e)) rv = SC_ERR_NOMEM;
      }
    }
    json_decref(o);
  }
  if (!rv && json_array_append(list, a)) rv = SC_ERR_NOMEM;
  if (!rv && !(idx = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", SC_ANNOT_INDEX_TYPE,
                               "manifests", list)))
    rv = SC_ERR_NOMEM;
  if (!rv && !(*out = json_dumps(idx, DUMP_FLAGS))) rv = SC_ERR_NOMEM;
  if (!rv) *outlen = strlen(*out);
  json_decref(idx);
  json_decref(list);
  json_decref(a);
  return rv;
}
