/* sc_cat_ruby.c - RubyGems: installed gems and applications' lockfiles.
 *
 * Installed gems: every gem home (usr/lib/ruby/gems/X.Y.Z, var/lib/gems/X.Y.Z,
 * usr/local/bundle, Debian's usr/share/rubygems-integration/all, ...) keeps one
 * specifications/NAME-VERSION[-PLATFORM].gemspec per gem, default gems in
 * specifications/default/.  A gemspec is Ruby code; it is never evaluated.
 * Inside the `Gem::Specification.new do |s|` block we read only the literal
 * assignments `s.name = "..."` and `s.version = "..."` (also '...', %q{...},
 * a trailing .freeze and Gem::Version.new("...")): that is what RubyGems
 * itself writes.  Anything computed (interpolation, concatenation, escapes)
 * is not read, and the file name NAME-VERSION.gemspec fills what the body did
 * not give, and only when its version part parses as a Gem version.
 *
 * Applications: Gemfile.lock (and Bundler's other name, gems.locked): the
 * `specs:` of the GEM, GIT and PATH sections, one `    name (version)` line
 * per locked gem at 4 spaces (6 spaces are its dependencies).  As Bundler's
 * lockfile parser does, the version is what precedes the first '-' inside
 * the parentheses; the rest is the platform ("1.13.0-x86_64-linux").
 *
 * Owner: scanner (ruby).  Thread: called by the layer walker, one file at a
 * time; no state between calls.  Errors: SC_ERR_LIMIT for a file over the
 * cap, SC_ERR_FORMAT for a gemspec with no readable name and version, or a
 * lockfile with no readable spec line but malformed ones; the walker records
 * them as notes.  Malformed lines of an otherwise readable lockfile are
 * skipped and counted in one note. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_catalog.h"

#define GEMSPEC_MAX_BYTES (4u << 20) /* installed specs are a few KiB; beyond this is hostile */
#define GEM_FIELD_MAX 256            /* longest name or version we accept, bytes */
#define GEM_NOTE_MAX 640             /* one note, bytes */

enum { RB_NONE, RB_GEMSPEC, RB_LOCK };

/* ---- paths ------------------------------------------------------------- */

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Whether the directory component ending just before path[end] (a '/') is `want`. */
static int dir_is(const char *path, size_t end, const char *want, size_t *start) {
  size_t b = end;
  while (b > 0 && path[b - 1] != '/') b--;
  *start = b;
  size_t n = strlen(want);
  return end - b == n && strncmp(path + b, want, n) == 0;
}

static int rb_kind(const char *path) {
  const char *base = base_name(path);
  if (strcmp(base, "Gemfile.lock") == 0 || strcmp(base, "gems.locked") == 0) return RB_LOCK;
  size_t bl = strlen(base);
  if (bl <= 8 || strcmp(base + bl - 8, ".gemspec") != 0 || base == path) return RB_NONE;
  size_t end = (size_t)(base - path) - 1, b; /* the '/' before base */
  if (dir_is(path, end, "specifications", &b)) return RB_GEMSPEC;
  /* default gems: specifications/default/NAME-VERSION.gemspec */
  if (dir_is(path, end, "default", &b) && b > 0 && dir_is(path, b - 1, "specifications", &b))
    return RB_GEMSPEC;
  return RB_NONE;
}

static int rb_match(const char *path, int64_t size, mode_t mode) {
  (void)size; /* an oversized file is still read up to the cap, to leave a note */
  (void)mode;
  return rb_kind(path) != RB_NONE;
}

/* ---- names and versions ------------------------------------------------ */

static int name_ok(const char *s) {
  if (!*s || strlen(s) >= GEM_FIELD_MAX) return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 0;
  return 1;
}

/* Gem::Version's pattern, loosely: a digit first, then alphanumerics, dots
 * and dashes, no empty segment. */
static int version_ok(const char *s) {
  if (!isdigit((unsigned char)*s) || strlen(s) >= GEM_FIELD_MAX) return 0;
  for (const char *p = s; *p; p++) {
    if (isalnum((unsigned char)*p)) continue;
    if ((*p != '.' && *p != '-') || p[1] == '\0' || p[1] == '.' || p[1] == '-') return 0;
  }
  return 1;
}

static int rb_add(sc_inventory *inv, const char *path, const char *name, const char *ver) {
  sc_package p = {"gem", "RubyGems", (char *)name, (char *)ver, NULL, NULL, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}

static int rb_note(sc_inventory *inv, const char *path, const char *what) {
  char msg[GEM_NOTE_MAX];
  snprintf(msg, sizeof msg, "ruby: %s: %s", path, what);
  return sc_strlist_add(&inv->notes, msg);
}

/* ---- gemspec ----------------------------------------------------------- */

static const char *skip_ws(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

static int ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* A Ruby string literal at s without anything that needs evaluating: "...",
 * '...', %q/%Q/% with any delimiter.  Copies it to out; returns the byte after
 * it (and after a ".freeze"), or NULL. */
static const char *literal(const char *s, char *out) {
  char close;
  int interp;
  if (*s == '"' || *s == '\'') {
    close = *s++;
    interp = close == '"';
  } else if (*s == '%') {
    s++;
    interp = *s != 'q';
    if (*s == 'q' || *s == 'Q') s++;
    char open = *s++;
    switch (open) {
    case '(': close = ')'; break;
    case '[': close = ']'; break;
    case '{': close = '}'; break;
    case '<': close = '>'; break;
    default:
      if (!ispunct((unsigned char)open)) return NULL;
      close = open;
    }
  } else {
    return NULL;
  }
  size_t n = 0;
  for (; *s != close; s++) {
    if (*s == '\0' || *s == '\\' || n + 1 >= GEM_FIELD_MAX) return NULL;
    if (interp && s[0] == '#' && (s[1] == '{' || s[1] == '@' || s[1] == '$')) return NULL;
    out[n++] = *s;
  }
  out[n] = '\0';
  s++;
  if (strncmp(s, ".freeze", 7) == 0 && !ident_char(s[7])) s += 7;
  return s;
}

/* The value of `VAR.FIELD = VALUE`: a literal or Gem::Version.new(literal),
 * followed by nothing but blanks, ';' or a comment. */
static int value(const char *s, char *out) {
  static const char gv[] = "Gem::Version.new";
  int call = 0;
  s = skip_ws(s);
  if (strncmp(s, gv, sizeof gv - 1) == 0) {
    s = skip_ws(s + sizeof gv - 1);
    if (*s != '(') return 0;
    s = skip_ws(s + 1);
    call = 1;
  }
  if (!(s = literal(s, out))) return 0;
  s = skip_ws(s);
  if (call) {
    if (*s != ')') return 0;
    s = skip_ws(s + 1);
  }
  return *s == '\0' || *s == '#' || *s == ';';
}

/* `Gem::Specification.new do |VAR|` (or `{ |VAR|`): copies VAR. */
static int block_var(const char *line, char *var) {
  const char *p = strstr(line, "Gem::Specification.new");
  if (!p || !(p = strchr(p, '|'))) return 0;
  p = skip_ws(p + 1);
  size_t n = 0;
  while (ident_char(p[n]) && n + 1 < GEM_FIELD_MAX) n++;
  if (n == 0 || *skip_ws(p + n) != '|') return 0;
  memcpy(var, p, n);
  var[n] = '\0';
  return 1;
}

/* `VAR.FIELD = ...` (not ==): returns what follows the '=', or NULL. */
static const char *assign(const char *line, const char *var, const char *field) {
  const char *s = skip_ws(line);
  size_t vl = strlen(var), fl = strlen(field);
  if (strncmp(s, var, vl) != 0 || s[vl] != '.' || strncmp(s + vl + 1, field, fl) != 0) return NULL;
  s = skip_ws(s + vl + 1 + fl);
  if (s[0] != '=' || s[1] == '=' || s[1] == '~') return NULL;
  return s + 1;
}

static void gemspec_body(char *buf, size_t len, char *name, char *ver) {
  char var[GEM_FIELD_MAX] = "";
  char tmp[GEM_FIELD_MAX];
  char *p = buf, *end = buf + len, *line;
  const char *v;
  while ((line = sc_next_line(&p, end)) != NULL && !(*name && *ver)) {
    if (!*var) {
      block_var(line, var);
      continue;
    }
    if (!*name && (v = assign(line, var, "name")) && value(v, tmp) && name_ok(tmp)) strcpy(name, tmp);
    else if (!*ver && (v = assign(line, var, "version")) && value(v, tmp) && version_ok(tmp)) strcpy(ver, tmp);
  }
}

/* NAME-VERSION[-PLATFORM].gemspec: the version starts at the first "-DIGIT"
 * (platforms such as arm64-darwin-21 hold digits too, names seldom do). */
static int gemspec_file_name(const char *path, char *name, char *ver) {
  const char *base = base_name(path);
  size_t bl = strlen(base) - 8; /* without ".gemspec" */
  if (bl >= GEM_FIELD_MAX) return 0;
  for (size_t i = 1; i + 1 < bl; i++) {
    if (base[i] != '-' || !isdigit((unsigned char)base[i + 1])) continue;
    size_t vl = 0;
    while (i + 1 + vl < bl && base[i + 1 + vl] != '-') vl++;
    memcpy(name, base, i);
    name[i] = '\0';
    memcpy(ver, base + i + 1, vl);
    ver[vl] = '\0';
    return name_ok(name) && version_ok(ver);
  }
  return 0;
}

static int gemspec_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  size_t cap = lim && lim->max_file_read < GEMSPEC_MAX_BYTES ? lim->max_file_read : GEMSPEC_MAX_BYTES;
  char *buf;
  size_t len;
  char name[GEM_FIELD_MAX] = "", ver[GEM_FIELD_MAX] = "";
  char fname[GEM_FIELD_MAX], fver[GEM_FIELD_MAX];
  int rv = sc_read_all_b(r, cap, lim ? lim->budget : NULL, &buf, &len);
  if (rv == SC_ERR_LIMIT && gemspec_file_name(path, fname, fver)) {
    /* too big to read: the file name still says which gem this is */
    rv = rb_note(inv, path, "gemspec over the size cap, named from its file name");
    return rv ? rv : rb_add(inv, path, fname, fver);
  }
  if (rv) return rv;
  gemspec_body(buf, len, name, ver);
  free(buf);
  if (!*name || !*ver) {
    if (!gemspec_file_name(path, fname, fver)) return SC_ERR_FORMAT;
    if (!*name) strcpy(name, fname);
    if (!*ver) strcpy(ver, fver);
  }
  return rb_add(inv, path, name, ver);
}

/* ---- Gemfile.lock ------------------------------------------------------ */

/* "    name (version[-platform])" after the 4 spaces: 1 and the parts, 0 if malformed. */
static int spec_line(char *s, char **name, char **ver) {
  char *sp = strchr(s, ' ');
  if (!sp || sp[1] != '(') return 0;
  *sp = '\0';
  char *v = sp + 2;
  size_t vl = strlen(v);
  while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) v[--vl] = '\0'; /* hand-edited lockfiles */
  if (vl < 2 || v[vl - 1] != ')') return 0;
  v[vl - 1] = '\0';
  char *dash = strchr(v, '-'); /* Bundler: version is [^-]*, the rest the platform */
  if (dash) *dash = '\0';
  *name = s;
  *ver = v;
  return name_ok(s) && version_ok(v);
}

static int lock_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  size_t cap = lim ? lim->max_file_read : (16u << 20);
  char *buf;
  size_t len;
  int rv = sc_read_all_b(r, cap, lim ? lim->budget : NULL, &buf, &len);
  if (rv) return rv;
  int source = 0, specs = 0; /* in a GEM/GIT/PATH section; in its specs: */
  unsigned long long found = 0, bad = 0;
  char prev_name[GEM_FIELD_MAX] = "", prev_ver[GEM_FIELD_MAX] = "";
  char *p = buf, *end = buf + len, *line, *name, *ver;
  while (!rv && (line = sc_next_line(&p, end)) != NULL) {
    if (line[0] != ' ') { /* a section header, or the blank line between sections */
      source = strcmp(line, "GEM") == 0 || strcmp(line, "GIT") == 0 || strcmp(line, "PATH") == 0;
      specs = 0;
      continue;
    }
    if (!source) continue;
    if (line[1] == ' ' && line[2] != ' ') { /* a 2-space key: remote:, revision:, specs: */
      specs = strcmp(line + 2, "specs:") == 0;
      continue;
    }
    if (!specs || strncmp(line, "    ", 4) != 0 || line[4] == ' ') continue; /* 6: dependencies */
    if (!spec_line(line + 4, &name, &ver)) {
      bad++;
      continue;
    }
    found++;
    /* platform variants of one gem are adjacent ("nokogiri (1.13.0-x86_64-linux)",
     * "nokogiri (1.13.0-arm64-darwin)"): one package */
    if (strcmp(name, prev_name) == 0 && strcmp(ver, prev_ver) == 0) continue;
    strcpy(prev_name, name);
    strcpy(prev_ver, ver);
    rv = rb_add(inv, path, name, ver);
  }
  free(buf);
  if (rv) return rv;
  if (bad && !found) return SC_ERR_FORMAT;
  if (bad) {
    char what[96];
    snprintf(what, sizeof what, "%llu malformed spec lines skipped", bad);
    return rb_note(inv, path, what);
  }
  return 0;
}

static int rb_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim) {
  int k = rb_kind(path);
  if (k == RB_GEMSPEC) return gemspec_scan(inv, path, r, lim);
  if (k == RB_LOCK) return lock_scan(inv, path, r, lim);
  return 0;
}

const sc_cataloger sc_cat_ruby = {"ruby", rb_match, rb_scan};
