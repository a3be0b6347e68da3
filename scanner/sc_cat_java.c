/* sc_cat_java.c - Maven artifacts in jar/war/ear (and Jenkins jpi/hpi).
 *
 * The archive is read front to back with libarchive's streamable zip reader
 * (local headers, no central directory), pulling from the layer entry, so no
 * archive is ever held in memory.  Nested archives (WEB-INF/lib/x.jar,
 * BOOT-INF/lib/x.jar, lib/x.jar of an ear, ...) are read the same way from the
 * enclosing archive's current entry, up to lim->max_nesting levels deep.
 * Bytes inflated to feed nested archives count against the layer's nested
 * budget (lim->budget, shared by all archives of the layer): over it, the
 * scan stops and the layer fails "budget: java: ...".  Runs in the layer
 * walker's thread; errors are SC_ERR_*.
 *
 * Per archive: every META-INF/maven/<g>/<a>/pom.properties is a package
 * "g:a" (shaded jars carry several).  A META-INF/maven/<g>/<a>/pom.xml
 * without a pom.properties beside it names "g:a" from its path alone; its
 * version is the pom's own <version> (sc_jn_pom_version), else, when it is
 * the archive's only pom, the manifest's or the file name's (a shaded jar's
 * manifest belongs to the outer artifact, not to the poms it swallowed).
 * Without any pom, sc_jn_select (sc_java_names.h) names the archive from
 * MANIFEST.MF and the file name: Jenkins Short-Name, Bundle-SymbolicName,
 * "artifact-1.2.3.jar", then the manifest's titles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <archive.h>
#include <archive_entry.h>
#include "sc_catalog.h"
#include "sc_java_names.h"

#define JV_BUF        (64 * 1024)
#define JV_MAX_META   (64 * 1024)  /* pom.properties / MANIFEST.MF bigger than this are ignored */
#define JV_MAX_FIELD  SC_JN_FIELD
#define JV_MAX_POMS   512          /* pom.properties + pom.xml remembered per archive; more are ignored */
#define JV_MAX_PATH   4096

static const char *const jv_exts[] = {".jar", ".war", ".ear", ".jpi", ".hpi", NULL};

static int jv_is_archive(const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; jv_exts[i]; i++) {
    size_t e = strlen(jv_exts[i]);
    if (n > e && strcasecmp(name + n - e, jv_exts[i]) == 0) return 1;
  }
  return 0;
}

static int jv_match(const char *path, int64_t size, mode_t mode) {
  (void)mode;
  return size >= 22 && jv_is_archive(path); /* 22: an empty zip */
}

/* State shared by all nesting levels of one scan. */
typedef struct jv_scan {
  sc_inventory *inv;
  const sc_limits *lim;
  uint64_t entries;   /* zip entries seen, all levels */
  sc_budget *b;       /* the layer's budget for this cataloger (NULL: none) */
  uint64_t left;      /* without one: bytes nested levels may still inflate */
} jv_scan;

/* Charges n bytes inflated out of an archive to feed a nested one: to the
 * layer's nested budget (shared by every archive of the layer), or without
 * one to this scan's own allowance.  0 or SC_ERR_LIMIT. */
static int jv_charge(jv_scan *s, uint64_t n) {
  if (s->b) return sc_budget_inflate(s->b, n);
  if (n > s->left) return SC_ERR_LIMIT;
  s->left -= n;
  return 0;
}

/* Where an archive's compressed bytes come from: the layer entry (level 0)
 * or the current entry of the enclosing archive. */
typedef struct jv_src {
  sc_reader *r;
  struct archive *outer;
  jv_scan *s;
  unsigned char buf[JV_BUF];
  int err;            /* SC_ERR_* behind a failed read */
} jv_src;

static la_ssize_t jv_read_cb(struct archive *a, void *ctx, const void **out) {
  jv_src *src = ctx;
  ssize_t n;
  if (src->outer) {
    /* the inflating happens here, in the outer archive: check the CPU
     * budget too, level 0's reads do it for the layer entry */
    if (sc_budget_check(src->s->b)) {
      src->err = SC_ERR_LIMIT;
      n = -1;
    } else if ((n = archive_read_data(src->outer, src->buf, sizeof src->buf)) < 0) {
      src->err = SC_ERR_FORMAT;
    } else if (jv_charge(src->s, (uint64_t)n)) {
      src->err = SC_ERR_LIMIT;
      n = -1;
    }
  } else {
    n = sc_read(src->r, src->buf, sizeof src->buf);
    if (n < 0) src->err = (int)n;
  }
  if (n < 0) {
    archive_set_error(a, EIO, "read failed");
    return -1;
  }
  *out = src->buf;
  return n;
}

/* Reads the current entry into a NUL-terminated buffer of at most cap bytes.
 * Returns 0, SC_ERR_LIMIT (longer), SC_ERR_FORMAT (corrupt) or SC_ERR_NOMEM. */
static int jv_read_entry(struct archive *a, size_t cap, char **out, size_t *outlen) {
  char *b = malloc(cap + 1);
  if (!b) return SC_ERR_NOMEM;
  size_t len = 0;
  for (;;) {
    ssize_t n = archive_read_data(a, b + len, cap + 1 - len);
    if (n < 0) { free(b); return SC_ERR_FORMAT; }
    if (n == 0) break;
    len += (size_t)n;
    if (len > cap) { free(b); return SC_ERR_LIMIT; }
  }
  b[len] = '\0';
  *out = b;
  *outlen = len;
  return 0;
}

static void jv_copy(char *dst, const char *s, size_t n) {
  if (n >= JV_MAX_FIELD) n = JV_MAX_FIELD - 1;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

static int jv_add(jv_scan *s, const char *path, const char *name, const char *version) {
  if (!*name || !*version) return 0;
  sc_package p = {0};
  p.type = "java";
  p.ecosystem = "Maven";
  p.name = (char *)name;
  p.version = (char *)version;
  p.path = (char *)path;
  return sc_inventory_add_package(s->inv, &p);
}

/* The poms of one archive: pom.properties seen (their path's "g:a") and
 * pom.xml files waiting to learn whether a pom.properties sits beside them. */
typedef struct jv_pom_ent {
  char ga[SC_JN_NAME];
  char version[JV_MAX_FIELD]; /* pom.xml's own; "" for pom.properties */
  int props;
} jv_pom_ent;

typedef struct jv_poms {
  jv_pom_ent *v;
  size_t n, cap;
  int props, xmls; /* how many of each were seen (also past JV_MAX_POMS) */
} jv_poms;

/* Remembers one pom; past JV_MAX_POMS it is counted, not kept. */
static int jv_poms_add(jv_poms *ps, const char *ga, const char *version, int props) {
  if (props) ps->props++;
  else ps->xmls++;
  if (ps->n == JV_MAX_POMS) return 0;
  if (ps->n == ps->cap) {
    size_t cap = ps->cap ? 2 * ps->cap : 4;
    jv_pom_ent *v = realloc(ps->v, cap * sizeof *v);
    if (!v) return SC_ERR_NOMEM;
    ps->v = v;
    ps->cap = cap;
  }
  jv_pom_ent *e = &ps->v[ps->n++];
  snprintf(e->ga, sizeof e->ga, "%s", ga);
  snprintf(e->version, sizeof e->version, "%s", version);
  e->props = props;
  return 0;
}

/* java.util.Properties subset: "key=value", "key: value", '#'/'!' comments. */
static int jv_pom(jv_scan *s, const char *path, char *text) {
  char group[JV_MAX_FIELD] = "", artifact[JV_MAX_FIELD] = "", version[JV_MAX_FIELD] = "";
  for (char *line = text; line;) {
    char *nl = strpbrk(line, "\r\n");
    if (nl) *nl = '\0';
    while (*line == ' ' || *line == '\t') line++;
    char *sep = strpbrk(line, "=:");
    if (*line != '#' && *line != '!' && sep) {
      char *k = line, *ke = sep, *v = sep + 1;
      while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
      while (*v == ' ' || *v == '\t') v++;
      size_t vl = strlen(v);
      while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
      size_t kl = (size_t)(ke - k);
      if (kl == 7 && strncmp(k, "groupId", 7) == 0) jv_copy(group, v, vl);
      else if (kl == 10 && strncmp(k, "artifactId", 10) == 0) jv_copy(artifact, v, vl);
      else if (kl == 7 && strncmp(k, "version", 7) == 0) jv_copy(version, v, vl);
    }
    line = nl ? nl + 1 : NULL;
  }
  if (!*group || !*artifact || !*version) return 0;
  char name[2 * JV_MAX_FIELD + 1];
  snprintf(name, sizeof name, "%s:%s", group, artifact);
  return jv_add(s, path, name, version);
}

/* The pom.xml files without a pom.properties beside them: "g:a" from the
 * path, the version from the pom, else (the archive's only pom) from the
 * manifest or the file name. */
static int jv_pom_xmls(jv_scan *s, const char *path, const jv_poms *ps, const sc_jn_manifest *m) {
  for (size_t i = 0; i < ps->n; i++) {
    const jv_pom_ent *x = &ps->v[i];
    if (x->props) continue;
    int paired = 0;
    /* beside a pom.properties, or the same path seen before (a zip may repeat an entry) */
    for (size_t j = 0; j < ps->n && !paired; j++)
      paired = (ps->v[j].props || j < i) && !strcmp(ps->v[j].ga, x->ga);
    if (paired) continue;
    const char *v = x->version;
    char fa[JV_MAX_FIELD], fv[JV_MAX_FIELD];
    if (!*v && ps->xmls == 1 && !ps->props) {
      sc_jn_file_name(path, fa, fv);
      v = *m->impl_version ? m->impl_version : *m->bundle_version ? m->bundle_version
        : *m->spec_version ? m->spec_version : *m->section_version ? m->section_version
        : *m->section_spec_version ? m->section_spec_version : fv;
    }
    int rc = jv_add(s, path, x->ga, v);
    if (rc) return rc;
  }
  return 0;
}

/* No pom at all: the manifest and the file name (sc_jn_select). */
static int jv_fallback(jv_scan *s, const char *path, const sc_jn_manifest *m) {
  char name[SC_JN_NAME], version[JV_MAX_FIELD];
  if (!sc_jn_select(m, path, name, version)) return 0;
  return jv_add(s, path, name, version);
}

static int jv_archive(jv_scan *s, jv_src *src, const char *path, int depth);

static int jv_note(jv_scan *s, const char *path, int err) {
  char msg[JV_MAX_PATH + 64];
  snprintf(msg, sizeof msg, "java: %s: %s", path,
           err == SC_ERR_LIMIT ? "limit exceeded" : err == SC_ERR_NOMEM ? "out of memory" : "unreadable archive");
  return sc_strlist_add(&s->inv->notes, msg);
}

/* Handles one entry of the archive a; path is the archive's own path. */
static int jv_entry(jv_scan *s, struct archive *a, struct archive_entry *e, const char *path, int depth,
                    sc_jn_manifest *m, jv_poms *poms) {
  const char *name = archive_entry_pathname(e);
  if (!name || archive_entry_filetype(e) == AE_IFDIR) return 0;
  if (name[0] == '/') name++;
  int rc = 0;
  char *text = NULL;
  size_t len;
  char ga[SC_JN_NAME];
  if (sc_jn_maven_path(name, "pom.properties", ga)) {
    if ((rc = jv_read_entry(a, JV_MAX_META, &text, &len)) == 0 && (rc = jv_pom(s, path, text)) == 0)
      rc = jv_poms_add(poms, ga, "", 1);
  } else if (sc_jn_maven_path(name, "pom.xml", ga)) {
    /* the path names it; an unreadable or oversized pom still does */
    char version[JV_MAX_FIELD] = "";
    if ((rc = jv_read_entry(a, JV_MAX_META, &text, &len)) == 0) sc_jn_pom_version(text, version);
    if (rc != SC_ERR_NOMEM) rc = jv_poms_add(poms, ga, version, 0);
  } else if (strcasecmp(name, "META-INF/MANIFEST.MF") == 0) {
    if ((rc = jv_read_entry(a, JV_MAX_META, &text, &len)) == 0) sc_jn_manifest_parse(m, text);
  } else if (jv_is_archive(name) && depth < s->lim->max_nesting) {
    char inner[JV_MAX_PATH];
    int n = snprintf(inner, sizeof inner, "%s!/%s", path, name);
    if (n < 0 || (size_t)n >= sizeof inner || (s->lim->max_name && (size_t)n > s->lim->max_name)) return 0;
    jv_src *sub = calloc(1, sizeof *sub);
    if (!sub) return SC_ERR_NOMEM;
    sub->outer = a;
    sub->s = s;
    rc = jv_archive(s, sub, inner, depth + 1);
    free(sub);
    /* Over the layer's budget: stop everything (the layer fails).  Else a
     * broken nested archive costs only itself; the outer one goes on. */
    if (sc_budget_hit(s->b)) return SC_ERR_LIMIT;
    if (rc == SC_ERR_FORMAT || rc == SC_ERR_LIMIT) rc = jv_note(s, inner, rc);
    return rc;
  }
  free(text);
  /* An unreadable or oversized metadata file is skipped, not fatal. */
  return rc == SC_ERR_NOMEM ? rc : 0;
}

/* Reads one archive from src.  depth 0 is the layer entry itself. */
static int jv_archive(jv_scan *s, jv_src *src, const char *path, int depth) {
  struct archive *a = archive_read_new();
  if (!a) return SC_ERR_NOMEM;
  int rc = 0;
  jv_poms poms = {0};
  sc_jn_manifest m;
  memset(&m, 0, sizeof m);
  archive_read_support_format_zip_streamable(a);
  if (archive_read_open(a, src, NULL, jv_read_cb, NULL) != ARCHIVE_OK) {
    rc = src->err ? src->err : SC_ERR_FORMAT;
    archive_read_free(a);
    return rc;
  }
  for (;;) {
    struct archive_entry *e;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      rc = src->err ? src->err : SC_ERR_FORMAT;
      break;
    }
    if (++s->entries > s->lim->max_entries) {
      rc = SC_ERR_LIMIT;
      break;
    }
    if ((rc = jv_entry(s, a, e, path, depth, &m, &poms))) break;
  }
  /* What was found before a failure still counts. */
  if (rc != SC_ERR_NOMEM) {
    int rc2 = poms.props || poms.xmls ? jv_pom_xmls(s, path, &poms, &m) : jv_fallback(s, path, &m);
    if (!rc) rc = rc2;
  }
  free(poms.v);
  archive_read_free(a);
  return rc;
}

static int jv_scan_cb(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  sc_limits dflt;
  if (!lim) {
    sc_limits_default(&dflt);
    lim = &dflt;
  }
  jv_scan s = {inv, lim, 0, lim->budget, lim->nested_max_bytes ? lim->nested_max_bytes : lim->max_total_bytes};
  jv_src *src = calloc(1, sizeof *src);
  if (!src) return SC_ERR_NOMEM;
  src->r = r;
  src->s = &s;
  int rc = jv_archive(&s, src, path, 0);
  free(src);
  return rc;
}

const sc_cataloger sc_cat_java = {"java", jv_match, jv_scan_cb};
