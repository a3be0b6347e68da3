/* sc_java_names.c - naming a jar from its manifest, pom.xml and file name
 * (see sc_java_names.h for the order and the Bundle-SymbolicName rule).
 * Owner: scanner (java cataloger).  Pure string code: no I/O, no
 * allocation, thread-safe; every output is bounded and NUL-terminated. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sc_java_names.h"

#define JN_POM_DEPTH 3 /* <project><parent><version> is as deep as we look */
#define JN_TAG_MAX 32  /* longer element names are never the ones we want */

static void jn_copy(char *dst, size_t cap, const char *s, size_t n) {
  if (n >= cap) n = cap - 1;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

static void jn_set(char *dst, const char *v, size_t n) {
  if (!*dst) jn_copy(dst, SC_JN_FIELD, v, n);
}

/* ------------------------------------------------------------- manifest */

void sc_jn_manifest_parse(sc_jn_manifest *m, char *text) {
  /* Unfold continuation lines (a line starting with one space continues
   * the previous one; the jar tool wraps at 72 bytes) in place. */
  char *w = text;
  for (char *r = text; *r;) {
    if (*r == '\r' && r[1] == '\n') r++;
    if (*r == '\n' || *r == '\r') {
      if (r[1] == ' ') {
        r += 2;
        continue;
      }
      *w++ = '\n';
      r++;
      continue;
    }
    *w++ = *r++;
  }
  *w = '\0';
  int main_section = 1;
  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    if (!*line) {
      main_section = 0; /* a blank line ends the main section */
    } else {
      size_t kl = strcspn(line, ":");
      char *v = line + kl;
      /* "Key: value"; a key is [A-Za-z0-9_-]+ (JAR spec), else not a header */
      int ok = *v == ':' && kl > 0;
      for (size_t i = 0; ok && i < kl; i++) ok = isalnum((unsigned char)line[i]) || line[i] == '-' || line[i] == '_';
      if (ok) {
        *v++ = '\0';
        while (*v == ' ') v++;
        size_t vl = strlen(v);
        while (vl && isspace((unsigned char)v[vl - 1])) vl--;
        if (!main_section) {
          if (!strcasecmp(line, "Implementation-Version")) jn_set(m->section_version, v, vl);
          else if (!strcasecmp(line, "Specification-Version")) jn_set(m->section_spec_version, v, vl);
        } else if (!strcasecmp(line, "Implementation-Title")) jn_set(m->impl_title, v, vl);
        else if (!strcasecmp(line, "Implementation-Version")) jn_set(m->impl_version, v, vl);
        else if (!strcasecmp(line, "Specification-Title")) jn_set(m->spec_title, v, vl);
        else if (!strcasecmp(line, "Specification-Version")) jn_set(m->spec_version, v, vl);
        else if (!strcasecmp(line, "Bundle-SymbolicName")) jn_set(m->bundle, v, strcspn(v, "; \t"));
        else if (!strcasecmp(line, "Bundle-Version")) jn_set(m->bundle_version, v, vl);
        else if (!strcasecmp(line, "Short-Name")) jn_set(m->short_name, v, vl);
        else if (!strcasecmp(line, "Plugin-Version")) jn_set(m->plugin_version, v, strcspn(v, " \t"));
        else if (!strcasecmp(line, "Group-Id")) jn_set(m->group_id, v, vl);
      }
    }
    line = nl ? nl + 1 : NULL;
  }
}

/* ---------------------------------------------------------- maven paths */

int sc_jn_maven_path(const char *entry, const char *file, char *ga) {
  static const char pre[] = "META-INF/maven/";
  size_t n = strlen(entry), fl = strlen(file);
  if (strncmp(entry, pre, sizeof pre - 1) != 0) return 0;
  const char *g = entry + sizeof pre - 1;
  if (n < sizeof pre - 1 + fl + 4 || entry[n - fl - 1] != '/' || strcmp(entry + n - fl, file) != 0) return 0;
  const char *end = entry + n - fl - 1; /* the '/' before file */
  const char *slash = memchr(g, '/', (size_t)(end - g));
  if (!slash || slash == g || slash + 1 >= end || memchr(slash + 1, '/', (size_t)(end - slash - 1))) return 0;
  size_t gl = (size_t)(slash - g), al = (size_t)(end - slash - 1);
  if (gl >= SC_JN_FIELD) gl = SC_JN_FIELD - 1;
  if (al >= SC_JN_FIELD) al = SC_JN_FIELD - 1;
  memcpy(ga, g, gl);
  ga[gl] = ':';
  memcpy(ga + gl + 1, slash + 1, al);
  ga[gl + 1 + al] = '\0';
  return 1;
}

/* -------------------------------------------------------------- pom.xml */

/* Skips from p past the first occurrence of end; NULL when absent. */
static const char *jn_past(const char *p, const char *end) {
  const char *q = strstr(p, end);
  return q ? q + strlen(end) : NULL;
}

/* The trimmed text at p up to the next '<' into version, when plain. */
static void jn_text(const char *p, char *version) {
  size_t n = strcspn(p, "<");
  if (p[n] != '<') return; /* truncated */
  while (n && isspace((unsigned char)*p)) p++, n--;
  while (n && isspace((unsigned char)p[n - 1])) n--;
  if (!n || n >= SC_JN_FIELD || memchr(p, '$', n) || memchr(p, '&', n)) return;
  jn_copy(version, SC_JN_FIELD, p, n);
}

void sc_jn_pom_version(const char *xml, char *version) {
  char stack[JN_POM_DEPTH + 1][JN_TAG_MAX];
  char parent[SC_JN_FIELD] = "";
  int depth = 0;
  *version = '\0';
  for (const char *p = xml; p && (p = strchr(p, '<'));) {
    if (!strncmp(p, "<!--", 4)) p = jn_past(p + 4, "-->");
    else if (!strncmp(p, "<?", 2)) p = jn_past(p + 2, "?>");
    else if (!strncmp(p, "<![CDATA[", 9)) p = jn_past(p + 9, "]]>");
    else if (!strncmp(p, "<!", 2)) p = jn_past(p + 2, ">");
    else if (p[1] == '/') {
      if (--depth < 0) return; /* more ends than starts: not a pom */
      p = jn_past(p + 2, ">");
    } else {
      size_t nl = strcspn(p + 1, " \t\r\n/>");
      const char *gt = strchr(p + 1, '>');
      if (!gt) return;
      int empty = gt[-1] == '/';
      if (!empty) {
        depth++;
        if (depth <= JN_POM_DEPTH) jn_copy(stack[depth], JN_TAG_MAX, p + 1, nl < JN_TAG_MAX ? nl : JN_TAG_MAX - 1);
        int is_version = nl == 7 && !strncmp(p + 1, "version", 7);
        if (is_version && depth == 2 && !strcmp(stack[1], "project")) {
          jn_text(gt + 1, version);
          return; /* the project's own version wins over its parent's */
        }
        if (is_version && depth == 3 && !strcmp(stack[1], "project") && !strcmp(stack[2], "parent"))
          jn_text(gt + 1, parent);
      }
      p = gt + 1;
    }
  }
  /* no <version> of its own: Maven inherits the parent's */
  strcpy(version, parent);
}

/* ------------------------------------------------------------ file name */

void sc_jn_file_name(const char *path, char *artifact, char *version) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t bl = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot) bl = (size_t)(dot - base);
  size_t cut = bl;
  for (size_t i = 0; i + 1 < bl; i++)
    if (base[i] == '-' && isdigit((unsigned char)base[i + 1])) {
      cut = i;
      break;
    }
  jn_copy(artifact, SC_JN_FIELD, base, cut);
  *version = '\0';
  if (cut < bl) jn_copy(version, SC_JN_FIELD, base + cut + 1, bl - cut - 1);
}

/* ------------------------------------------------------------- choosing */

void sc_jn_bundle(const char *bsn, const char *fa, char *name) {
  const char *dot = strrchr(bsn, '.');
  size_t bl = strlen(bsn);
  if (!*fa) {
    if (dot && dot > bsn && dot[1])
      snprintf(name, SC_JN_NAME, "%.*s:%s", (int)(dot - bsn), bsn, dot + 1);
    else
      snprintf(name, SC_JN_NAME, "%s", bsn);
    return;
  }
  if (dot && dot > bsn && !strcmp(dot + 1, fa)) {
    if (strpbrk(fa, "-.")) /* groupId + "." + artifactId */
      snprintf(name, SC_JN_NAME, "%.*s:%s", (int)(dot - bsn), bsn, fa);
    else /* the groupId, whose last part is the artifactId */
      snprintf(name, SC_JN_NAME, "%s:%s", bsn, fa);
    return;
  }
  /* "commons-lang3" in "org.apache.commons.lang3": groupId + the rest of
   * the artifactId, assumed only when that rest is one word (else
   * "com.google.oauth-client" would read as com.google + "google-oauth-client") */
  size_t head = strcspn(fa, "-");
  if (fa[head] == '-' && fa[head + 1] && !strpbrk(fa + head + 1, "-.")) {
    char suffix[SC_JN_FIELD + 2];
    int n = snprintf(suffix, sizeof suffix, ".%s", fa);
    if (n > 0 && (size_t)n < sizeof suffix) {
      suffix[head + 1] = '.';
      size_t sl = (size_t)n, tail = strlen(fa + head + 1);
      if (bl > sl && !strcmp(bsn + bl - sl, suffix)) {
        snprintf(name, SC_JN_NAME, "%.*s:%s", (int)(bl - tail - 1), bsn, fa);
        return;
      }
    }
  }
  snprintf(name, SC_JN_NAME, "%s:%s", bsn, fa);
}

int sc_jn_select(const sc_jn_manifest *m, const char *path, char *name, char *version) {
  char fa[SC_JN_FIELD], fv[SC_JN_FIELD];
  sc_jn_file_name(path, fa, fv);
  const char *mv = *m->impl_version ? m->impl_version : *m->spec_version ? m->spec_version
                 : *m->section_version ? m->section_version : m->section_spec_version;
  const char *v = "";
  *name = '\0';
  if (*m->short_name && *m->plugin_version) {
    snprintf(name, SC_JN_NAME, "%s:%s", *m->group_id ? m->group_id : "org.jenkins-ci.plugins", m->short_name);
    v = m->plugin_version;
  } else if (*m->bundle) {
    /* Eclipse names plugin files "<bsn>_<version>.jar": no artifact there */
    size_t bl = strlen(m->bundle);
    const char *stem = strrchr(path, '/');
    stem = stem ? stem + 1 : path;
    if (!strncmp(stem, m->bundle, bl) && (stem[bl] == '_' || stem[bl] == '.' || stem[bl] == '\0')) *fa = '\0';
    sc_jn_bundle(m->bundle, fa, name);
    v = *m->bundle_version ? m->bundle_version : *mv ? mv : fv;
  } else if (*fa && *fv) {
    snprintf(name, SC_JN_NAME, "%s", fa);
    v = fv;
  } else if (*m->impl_title || *m->spec_title) {
    snprintf(name, SC_JN_NAME, "%s", *m->impl_title ? m->impl_title : m->spec_title);
    v = mv;
  } else {
    snprintf(name, SC_JN_NAME, "%s", fa);
    v = mv;
  }
  jn_copy(version, SC_JN_FIELD, v, strlen(v));
  return *name && *version;
}
