/* sc_inventory.c - layer/image inventories: storage, merge, purls. */
#include "sc_inventory.h"
#include "sc_hash.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hard caps: an inventory never grows past these, whatever the image. */
#define SC_INV_MAX_ITEMS (4u * 1000u * 1000u)
#define SC_PURL_MAX 4096

void sc_inventory_init(sc_inventory *inv) { memset(inv, 0, sizeof(*inv)); }

static void pkg_free(sc_package *p) {
  free(p->type);
  free(p->ecosystem);
  free(p->name);
  free(p->version);
  free(p->source_name);
  free(p->source_version);
  free(p->path);
  free(p->purl);
  memset(p, 0, sizeof(*p));
}

static void secret_free(sc_secret *s) {
  free(s->path);
  free(s->rule);
  memset(s, 0, sizeof(*s));
}

static void os_free(sc_osinfo *o) {
  free(o->id);
  free(o->version_id);
  free(o->path);
  memset(o, 0, sizeof(*o));
}

void sc_strlist_free(sc_strlist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

void sc_inventory_free(sc_inventory *inv) {
  for (size_t i = 0; i < inv->npkgs; i++) pkg_free(&inv->pkgs[i]);
  free(inv->pkgs);
  for (size_t i = 0; i < inv->nsecrets; i++) secret_free(&inv->secrets[i]);
  free(inv->secrets);
  os_free(&inv->os);
  sc_strlist_free(&inv->cataloged);
  sc_strlist_free(&inv->whiteouts);
  sc_strlist_free(&inv->opaque);
  sc_strlist_free(&inv->notes);
  memset(inv, 0, sizeof(*inv));
}

/* Makes room for one more element of size sz in *arr (doubling, capped). */
static int grow(void **arr, size_t *cap, size_t n, size_t sz) {
  if (n < *cap) return 0;
  if (n >= SC_INV_MAX_ITEMS) return SC_ERR_LIMIT;
  size_t ncap = *cap ? *cap * 2 : 16;
  if (ncap > SC_INV_MAX_ITEMS) ncap = SC_INV_MAX_ITEMS;
  void *p = realloc(*arr, ncap * sz);
  if (!p) return SC_ERR_NOMEM;
  *arr = p;
  *cap = ncap;
  return 0;
}

/* strdup that maps NULL to NULL; *err set on allocation failure. */
static char *dup_or_null(const char *s, int *err) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *err = 1;
  return d;
}

int sc_strlist_add(sc_strlist *l, const char *s) {
  int rv = grow((void **)&l->v, &l->cap, l->n, sizeof(char *));
  if (rv) return rv;
  char *d = strdup(s ? s : "");
  if (!d) return SC_ERR_NOMEM;
  l->v[l->n++] = d;
  return 0;
}

int sc_strlist_has(const sc_strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0) return 1;
  return 0;
}

int sc_inventory_add_package(sc_inventory *inv, const sc_package *p) {
  int rv = grow((void **)&inv->pkgs, &inv->pkgs_cap, inv->npkgs, sizeof(sc_package));
  if (rv) return rv;
  sc_package c;
  int err = 0;
  c.type = dup_or_null(p->type, &err);
  c.ecosystem = dup_or_null(p->ecosystem, &err);
  c.name = dup_or_null(p->name, &err);
  c.version = dup_or_null(p->version, &err);
  c.source_name = dup_or_null(p->source_name, &err);
  c.source_version = dup_or_null(p->source_version, &err);
  c.path = dup_or_null(p->path, &err);
  c.purl = dup_or_null(p->purl, &err);
  if (err) {
    pkg_free(&c);
    return SC_ERR_NOMEM;
  }
  inv->pkgs[inv->npkgs++] = c;
  return 0;
}

int sc_inventory_add_secret(sc_inventory *inv, const char *path, const char *rule, int line) {
  int rv = grow((void **)&inv->secrets, &inv->secrets_cap, inv->nsecrets, sizeof(sc_secret));
  if (rv) return rv;
  int err = 0;
  sc_secret s = {dup_or_null(path, &err), dup_or_null(rule, &err), line};
  if (err) {
    secret_free(&s);
    return SC_ERR_NOMEM;
  }
  inv->secrets[inv->nsecrets++] = s;
  return 0;
}

int sc_inventory_set_os(sc_inventory *inv, const char *id, const char *version_id,
                        const char *path) {
  int err = 0;
  sc_osinfo o = {dup_or_null(id, &err), dup_or_null(version_id, &err), dup_or_null(path, &err)};
  if (err) {
    os_free(&o);
    return SC_ERR_NOMEM;
  }
  os_free(&inv->os);
  inv->os = o;
  return 0;
}

const char *sc_path_clean(const char *s) {
  for (;;) {
    if (s[0] == '/')
      s++;
    else if (s[0] == '.' && s[1] == '/')
      s += 2;
    else
      return s;
  }
}

/* ---- merge ------------------------------------------------------------ */

/* A small open-addressing set of strings (borrowed pointers) so that merging
 * thousands of packages against thousands of paths stays linear. */
typedef struct strset {
  const char **slot;
  size_t mask;
} strset;

static int strset_build(strset *set, const sc_strlist *l) {
  size_t cap = 16;
  while (cap < l->n * 2 + 1) cap <<= 1;
  set->slot = calloc(cap, sizeof(char *));
  if (!set->slot) return SC_ERR_NOMEM;
  set->mask = cap - 1;
  for (size_t i = 0; i < l->n; i++) {
    size_t k = sc_fnv1a(l->v[i], strlen(l->v[i])) & set->mask;
    while (set->slot[k] && strcmp(set->slot[k], l->v[i]) != 0) k = (k + 1) & set->mask;
    set->slot[k] = l->v[i];
  }
  return 0;
}

/* Whether the first n bytes of s are in the set. */
static int strset_has_n(const strset *set, const char *s, size_t n) {
  size_t k = sc_fnv1a(s, n) & set->mask;
  while (set->slot[k]) {
    if (strncmp(set->slot[k], s, n) == 0 && set->slot[k][n] == '\0') return 1;
    k = (k + 1) & set->mask;
  }
  return 0;
}

typedef struct merge_sets {
  strset cataloged, whiteouts, opaque;
} merge_sets;

/* Whether lower-layer content at `path` is hidden by the upper layer. */
static int hidden(const merge_sets *m, const char *path) {
  if (!path) return 0;
  size_t len = strlen(path);
  if (strset_has_n(&m->cataloged, path, len)) return 1;
  if (strset_has_n(&m->opaque, path, 0)) return 1; /* opaque root */
  /* a whiteout removes the path or any ancestor; an opaque dir hides every
   * lower path below it (not the dir entry itself, which is irrelevant here) */
  for (size_t i = 0; i <= len; i++) {
    if (i == len || path[i] == '/') {
      if (strset_has_n(&m->whiteouts, path, i)) return 1;
      if (i < len && strset_has_n(&m->opaque, path, i)) return 1;
    }
  }
  return 0;
}

static int is_os_release(const char *p) {
  return p && (strcmp(p, "etc/os-release") == 0 || strcmp(p, "usr/lib/os-release") == 0);
}

int sc_inventory_merge(sc_inventory *img, const sc_inventory *upper) {
  merge_sets m;
  memset(&m, 0, sizeof(m));
  int rv = SC_ERR_NOMEM;
  if (strset_build(&m.cataloged, &upper->cataloged) || strset_build(&m.whiteouts, &upper->whiteouts) ||
      strset_build(&m.opaque, &upper->opaque))
    goto out;

  size_t j = 0;
  for (size_t i = 0; i < img->npkgs; i++) {
    if (hidden(&m, img->pkgs[i].path))
      pkg_free(&img->pkgs[i]);
    else
      img->pkgs[j++] = img->pkgs[i];
  }
  img->npkgs = j;
  j = 0;
  for (size_t i = 0; i < img->nsecrets; i++) {
    if (hidden(&m, img->secrets[i].path))
      secret_free(&img->secrets[i]);
    else
      img->secrets[j++] = img->secrets[i];
  }
  img->nsecrets = j;
  if (img->os.path && hidden(&m, img->os.path)) os_free(&img->os);

  for (size_t i = 0; i < upper->npkgs; i++)
    if ((rv = sc_inventory_add_package(img, &upper->pkgs[i])) != 0) goto out;
  for (size_t i = 0; i < upper->nsecrets; i++) {
    const sc_secret *s = &upper->secrets[i];
    if ((rv = sc_inventory_add_secret(img, s->path, s->rule, s->line)) != 0) goto out;
  }
  /* a fallback (debian_version, alpine-release) never overrides an os-release */
  if ((upper->os.id || upper->os.version_id) &&
      !(is_os_release(img->os.path) && !is_os_release(upper->os.path)))
    if ((rv = sc_inventory_set_os(img, upper->os.id, upper->os.version_id, upper->os.path)) != 0)
      goto out;
  for (size_t i = 0; i < upper->notes.n; i++)
    if (!sc_strlist_has(&img->notes, upper->notes.v[i]))
      if ((rv = sc_strlist_add(&img->notes, upper->notes.v[i])) != 0) goto out;
  rv = 0;
out:
  free(m.cataloged.slot);
  free(m.whiteouts.slot);
  free(m.opaque.slot);
  return rv;
}

/* ---- ecosystems and purls -------------------------------------------- */

/* Copies the first `parts` dot-separated components of v into out. */
static void version_prefix(const char *v, int parts, char *out, size_t outsz) {
  size_t n = 0;
  int dots = 0;
  while (v[n] && n + 1 < outsz) {
    if (v[n] == '.' && ++dots == parts) break;
    n++;
  }
  memcpy(out, v, n);
  out[n] = '\0';
}

char *sc_os_ecosystem(const char *id, const char *version_id) {
  if (!id) return NULL;
  static const struct {
    const char *id, *eco;
    int parts; /* version components kept; 0 = no version; -1 = full */
    const char *vprefix;
  } map[] = {
      {"debian", "Debian", 1, ""},        {"ubuntu", "Ubuntu", -1, ""},
      {"alpine", "Alpine", 2, "v"},       {"rhel", "Red Hat", 0, ""},
      {"centos", "Red Hat", 0, ""},       {"rocky", "Rocky Linux", 1, ""},
      {"almalinux", "AlmaLinux", 1, ""},  {"wolfi", "Wolfi", 0, ""},
      {"chainguard", "Chainguard", 0, ""}, {"sles", "SUSE", 0, ""},
      {"opensuse-leap", "openSUSE", 0, ""}, {"photon", "Photon OS", -1, ""},
      {"mageia", "Mageia", -1, ""},       {"amzn", "Amazon Linux", -1, ""},
  };
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
    if (strcmp(map[i].id, id) != 0) continue;
    char ver[64] = "";
    if (version_id && *version_id && map[i].parts != 0) {
      if (map[i].parts < 0)
        snprintf(ver, sizeof(ver), "%s", version_id);
      else
        version_prefix(version_id, map[i].parts, ver, sizeof(ver));
    }
    char buf[128];
    if (ver[0])
      snprintf(buf, sizeof(buf), "%s:%s%s", map[i].eco, map[i].vprefix, ver);
    else
      snprintf(buf, sizeof(buf), "%s", map[i].eco);
    return strdup(buf);
  }
  return NULL;
}

/* Appends s percent-encoded (RFC 3986 unreserved kept; `keep` extra chars). */
/* The purl prefix of cataloger kinds whose name goes in as is (no
 * namespace): RubyGems, crates.io, NuGet; NULL for the others. */
static const char *simple_purl_type(const char *t) {
  static const struct {
    const char *type, *prefix;
  } k[] = {{"gem", "pkg:gem/"}, {"rust", "pkg:cargo/"}, {"nuget", "pkg:nuget/"}};
  for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
    if (!strcmp(t, k[i].type)) return k[i].prefix;
  return NULL;
}

static void put_enc(char *out, size_t cap, size_t *len, const char *s, const char *keep) {
  static const char hex[] = "0123456789ABCDEF";
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep && strchr(keep, c))) {
      if (*len + 1 < cap) out[(*len)++] = (char)c;
    } else if (*len + 3 < cap) {
      out[(*len)++] = '%';
      out[(*len)++] = hex[c >> 4];
      out[(*len)++] = hex[c & 15];
    }
  }
  out[*len] = '\0';
}

static void put_raw(char *out, size_t cap, size_t *len, const char *s) {
  size_t n = strlen(s);
  if (*len + 1 >= cap) return;
  if (n > cap - 1 - *len) n = cap - 1 - *len;
  memcpy(out + *len, s, n);
  *len += n;
  out[*len] = '\0';
}

/* PEP 503: lowercase, runs of -_. become one "-". */
static void pep503(const char *in, char *out, size_t cap) {
  size_t n = 0;
  int sep = 0;
  for (; *in && n + 1 < cap; in++) {
    if (*in == '-' || *in == '_' || *in == '.') {
      sep = 1;
      continue;
    }
    if (sep && n > 0 && n + 2 < cap) out[n++] = '-';
    sep = 0;
    out[n++] = (char)tolower((unsigned char)*in);
  }
  out[n] = '\0';
}

static char *make_purl(const sc_package *p, const sc_osinfo *os) {
  if (!p->type || !p->name) return NULL;
  char out[SC_PURL_MAX];
  size_t len = 0;
  out[0] = '\0';
  const char *t = p->type;
  const char *distro_id = os->id ? os->id : NULL;
  char *epoch = NULL;
  const char *ver = p->version;
  if (strcmp(t, "deb") == 0 || strcmp(t, "apk") == 0 || strcmp(t, "rpm") == 0) {
    const char *ns = distro_id ? distro_id : (strcmp(t, "apk") == 0 ? "alpine" : t);
    put_raw(out, sizeof(out), &len, "pkg:");
    put_raw(out, sizeof(out), &len, t);
    put_raw(out, sizeof(out), &len, "/");
    put_enc(out, sizeof(out), &len, ns, NULL);
    put_raw(out, sizeof(out), &len, "/");
    put_enc(out, sizeof(out), &len, p->name, NULL);
    /* rpm: the epoch goes in a qualifier; deb keeps it in the version */
    if (ver && strcmp(t, "rpm") == 0) {
      const char *c = strchr(ver, ':');
      if (c) {
        epoch = strndup(ver, (size_t)(c - ver));
        ver = c + 1;
      }
    }
    if (ver) {
      put_raw(out, sizeof(out), &len, "@");
      put_enc(out, sizeof(out), &len, ver, ":");
    }
    char q = '?';
    if (epoch) {
      put_raw(out, sizeof(out), &len, "?epoch=");
      put_enc(out, sizeof(out), &len, epoch, NULL);
      q = '&';
    }
    if (strcmp(t, "apk") != 0 && os->id && os->version_id) {
      char qs[3] = {q, 0, 0};
      put_raw(out, sizeof(out), &len, qs);
      put_raw(out, sizeof(out), &len, "distro=");
      put_enc(out, sizeof(out), &len, os->id, NULL);
      put_raw(out, sizeof(out), &len, "-");
      put_enc(out, sizeof(out), &len, os->version_id, NULL);
    }
    free(epoch);
    return strdup(out);
  }
  if (strcmp(t, "python") == 0) {
    char norm[1024];
    pep503(p->name, norm, sizeof(norm));
    put_raw(out, sizeof(out), &len, "pkg:pypi/");
    put_enc(out, sizeof(out), &len, norm, NULL);
  } else if (strcmp(t, "npm") == 0) {
    put_raw(out, sizeof(out), &len, "pkg:npm/");
    const char *slash = p->name[0] == '@' ? strchr(p->name, '/') : NULL;
    if (slash) {
      char *scope = strndup(p->name, (size_t)(slash - p->name));
      if (!scope) return NULL;
      put_enc(out, sizeof(out), &len, scope, NULL);
      free(scope);
      put_raw(out, sizeof(out), &len, "/");
      put_enc(out, sizeof(out), &len, slash + 1, NULL);
    } else {
      put_enc(out, sizeof(out), &len, p->name, NULL);
    }
  } else if (simple_purl_type(t)) {
    put_raw(out, sizeof(out), &len, simple_purl_type(t));
    put_enc(out, sizeof(out), &len, p->name, NULL);
  } else if (strcmp(t, "composer") == 0) {
    /* pkg:composer/VENDOR/NAME: the vendor is the purl namespace */
    put_raw(out, sizeof(out), &len, "pkg:composer/");
    put_enc(out, sizeof(out), &len, p->name, "/");
  } else if (strcmp(t, "go") == 0) {
    put_raw(out, sizeof(out), &len, "pkg:golang/");
    put_enc(out, sizeof(out), &len, p->name, "/");
  } else if (strcmp(t, "java") == 0) {
    put_raw(out, sizeof(out), &len, "pkg:maven/");
    const char *c = strchr(p->name, ':');
    if (c) {
      char *group = strndup(p->name, (size_t)(c - p->name));
      if (!group) return NULL;
      put_enc(out, sizeof(out), &len, group, NULL);
      free(group);
      put_raw(out, sizeof(out), &len, "/");
      put_enc(out, sizeof(out), &len, c + 1, NULL);
    } else {
      put_enc(out, sizeof(out), &len, p->name, NULL);
    }
  } else {
    put_raw(out, sizeof(out), &len, "pkg:generic/");
    put_enc(out, sizeof(out), &len, p->name, NULL);
  }
  if (ver) {
    put_raw(out, sizeof(out), &len, "@");
    put_enc(out, sizeof(out), &len, ver, NULL);
  }
  return strdup(out);
}

int sc_inventory_finish(sc_inventory *img) {
  char *eco = sc_os_ecosystem(img->os.id, img->os.version_id);
  for (size_t i = 0; i < img->npkgs; i++) {
    sc_package *p = &img->pkgs[i];
    if (!p->ecosystem && eco && p->type &&
        (strcmp(p->type, "deb") == 0 || strcmp(p->type, "apk") == 0 || strcmp(p->type, "rpm") == 0)) {
      if (!(p->ecosystem = strdup(eco))) goto nomem;
    }
    if (!p->type || !p->name) continue;
    char *purl = make_purl(p, &img->os);
    if (!purl) goto nomem;
    free(p->purl);
    p->purl = purl;
  }
  free(eco);
  return 0;
nomem:
  free(eco);
  return SC_ERR_NOMEM;
}

/* ---- merge by reference ------------------------------------------------ */

struct sc_inventory_mask {
  merge_sets m;
};

int sc_inventory_mask_new(const sc_inventory *upper, sc_inventory_mask **out) {
  if (!upper || !out) return SC_ERR_NOMEM;
  *out = NULL;
  if (!upper->cataloged.n && !upper->whiteouts.n && !upper->opaque.n) return 0;
  sc_inventory_mask *k = calloc(1, sizeof(*k));
  if (!k) return SC_ERR_NOMEM;
  if (strset_build(&k->m.cataloged, &upper->cataloged) || strset_build(&k->m.whiteouts, &upper->whiteouts) ||
      strset_build(&k->m.opaque, &upper->opaque)) {
    sc_inventory_mask_free(k);
    return SC_ERR_NOMEM;
  }
  *out = k;
  return 0;
}

int sc_inventory_mask_hides(const sc_inventory_mask *k, const char *path) {
  return k && hidden(&k->m, path);
}

void sc_inventory_mask_free(sc_inventory_mask *k) {
  if (!k) return;
  free(k->m.cataloged.slot);
  free(k->m.whiteouts.slot);
  free(k->m.opaque.slot);
  free(k);
}

int sc_inventory_os_replaces(const char *lower_path, const sc_osinfo *upper) {
  return (upper->id || upper->version_id) && !(is_os_release(lower_path) && !is_os_release(upper->path));
}

char *sc_package_purl(const sc_package *p, const sc_osinfo *os) {
  if (!p->type || !p->name) return p->purl ? strdup(p->purl) : strdup("");
  return make_purl(p, os);
}
