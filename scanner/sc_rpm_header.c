/* sc_rpm_header.c - the tags of an rpm header blob that name a package
 * (see sc_rpm_header.h), shared by the sqlite, BerkeleyDB and NDB readers.
 * Owner: scanner.  Thread: any.  Errors: SC_ERR_FORMAT, SC_ERR_NOMEM. */
#include <stdio.h>
#include <string.h>

#include "sc_rpm_header.h"

enum {
  TAG_NAME = 1000,
  TAG_VERSION = 1001,
  TAG_RELEASE = 1002,
  TAG_EPOCH = 1003,
  TAG_ARCH = 1022,
  TAG_SOURCERPM = 1044
};
enum { T_INT32 = 4, T_STRING = 6 };

#define SRPM_MAX 512     /* longest SOURCERPM we split into name and version */
#define VERSION_MAX 1024 /* epoch:version-release */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int sc_rpm_header_parse(const unsigned char *b, size_t n, sc_rpm_header *h) {
  memset(h, 0, sizeof(*h));
  if (!b || n < 8) return SC_ERR_FORMAT;
  uint32_t il = be32(b), dl = be32(b + 4);
  if (il == 0 || il > SC_RPM_HDR_MAX_INDEX || (uint64_t)il * 16 + dl + 8 > n) return SC_ERR_FORMAT;
  const unsigned char *idx = b + 8, *data = idx + (size_t)il * 16;
  for (uint32_t i = 0; i < il; i++) {
    const unsigned char *e = idx + (size_t)i * 16;
    uint32_t tag = be32(e), type = be32(e + 4), off = be32(e + 8), cnt = be32(e + 12);
    if (off >= dl) continue;
    if (type == T_STRING && cnt == 1) {
      const char *s = (const char *)data + off;
      if (!memchr(s, '\0', dl - off)) continue; /* unterminated: ignore */
      if (tag == TAG_NAME) h->name = s;
      else if (tag == TAG_VERSION) h->version = s;
      else if (tag == TAG_RELEASE) h->release = s;
      else if (tag == TAG_ARCH) h->arch = s;
      else if (tag == TAG_SOURCERPM) h->sourcerpm = s;
    } else if (type == T_INT32 && tag == TAG_EPOCH && cnt >= 1 && (uint64_t)off + 4 <= dl) {
      h->has_epoch = 1;
      h->epoch = be32(data + off);
    }
  }
  return h->name && h->version && h->name[0] && h->version[0] ? 0 : SC_ERR_FORMAT;
}

/* "bash-5.1.8-6.el9.src.rpm" -> name "bash", version "5.1.8-6.el9";
 * name and ver hold SRPM_MAX bytes; both empty when srpm does not parse. */
static void split_srpm(const char *srpm, char *name, char *ver) {
  name[0] = ver[0] = '\0';
  size_t n = strlen(srpm);
  char tmp[SRPM_MAX];
  if (n >= sizeof(tmp)) return;
  memcpy(tmp, srpm, n + 1);
  char *dot = strstr(tmp, ".src.rpm");
  if (!dot) dot = strstr(tmp, ".nosrc.rpm");
  if (dot) *dot = '\0';
  char *rel = strrchr(tmp, '-');
  if (!rel) return;
  *rel = '\0';
  char *v = strrchr(tmp, '-');
  if (!v) return;
  *v = '\0';
  /* each part is shorter than tmp: no truncation possible */
  memcpy(name, tmp, strlen(tmp) + 1);
  size_t vl = strlen(v + 1), rl = strlen(rel + 1);
  memcpy(ver, v + 1, vl);
  ver[vl] = '-';
  memcpy(ver + vl + 1, rel + 1, rl + 1);
}

int sc_rpm_header_add(sc_inventory *inv, const char *path, const sc_rpm_header *h) {
  if (strcmp(h->name, "gpg-pubkey") == 0) return 0; /* imported keys, not software */
  char ver[VERSION_MAX], sname[SRPM_MAX], sver[SRPM_MAX];
  const char *rel = h->release ? h->release : "";
  if (h->has_epoch && h->epoch)
    snprintf(ver, sizeof(ver), "%u:%s%s%s", h->epoch, h->version, *rel ? "-" : "", rel);
  else
    snprintf(ver, sizeof(ver), "%s%s%s", h->version, *rel ? "-" : "", rel);
  split_srpm(h->sourcerpm ? h->sourcerpm : "", sname, sver);
  /* SOURCERPM's file name has no epoch, but the epoch is a tag of the spec:
   * the source package and all its binaries share it, and advisories match
   * the source's epoch:version-release (as Trivy and Grype do). */
  char sfull[SRPM_MAX + 16];
  if (sver[0] && h->has_epoch && h->epoch) snprintf(sfull, sizeof(sfull), "%u:%s", h->epoch, sver);
  else snprintf(sfull, sizeof(sfull), "%s", sver);
  sc_package p = {"rpm", NULL, (char *)h->name, ver, sname[0] ? sname : NULL,
                  sfull[0] ? sfull : NULL, (char *)path, NULL};
  return sc_inventory_add_package(inv, &p);
}
