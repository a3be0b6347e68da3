/* sc_elf.c - ELF file header and section header decoding (sc_elf.h).
 * Owner: scanner.  Thread: any (no state).  Errors: SC_ERR_FORMAT. */
#include "sc_elf.h"

#include <string.h>

#define ELF32_EHDR_BYTES 52
#define ELF32_SHDR_BYTES 40
#define ELF64_SHDR_BYTES 64

static uint64_t get(const unsigned char *p, int len, int big) {
  uint64_t v = 0;
  for (int i = 0; i < len; i++) v |= (uint64_t)p[big ? len - 1 - i : i] << (8 * i);
  return v;
}

int sc_elf_header(const unsigned char *b, size_t n, sc_elf *e) {
  if (n < 16 || memcmp(b, "\x7f" "ELF", 4) != 0) return SC_ERR_FORMAT;
  if ((b[4] != 1 && b[4] != 2) || (b[5] != 1 && b[5] != 2)) return SC_ERR_FORMAT;
  memset(e, 0, sizeof(*e));
  e->is64 = b[4] == 2;
  e->big = b[5] == 2;
  if (n < (e->is64 ? SC_ELF_EHDR_BYTES : ELF32_EHDR_BYTES)) return SC_ERR_FORMAT;
  e->type = (uint16_t)get(b + 16, 2, e->big);
  if (e->is64) {
    e->shoff = get(b + 40, 8, e->big);
    e->shentsize = (uint16_t)get(b + 58, 2, e->big);
    e->shnum = (uint16_t)get(b + 60, 2, e->big);
    e->shstrndx = (uint16_t)get(b + 62, 2, e->big);
  } else {
    e->shoff = get(b + 32, 4, e->big);
    e->shentsize = (uint16_t)get(b + 46, 2, e->big);
    e->shnum = (uint16_t)get(b + 48, 2, e->big);
    e->shstrndx = (uint16_t)get(b + 50, 2, e->big);
  }
  /* a table is read only with the entry size of its class; none at all is fine */
  if (e->shoff && e->shnum && e->shentsize != (e->is64 ? ELF64_SHDR_BYTES : ELF32_SHDR_BYTES))
    return SC_ERR_FORMAT;
  return 0;
}

uint64_t sc_elf_shtab_bytes(const sc_elf *e) { return (uint64_t)e->shnum * e->shentsize; }

int sc_elf_shdr_at(const sc_elf *e, const unsigned char *tab, size_t n, unsigned i, sc_elf_shdr *out) {
  if (i >= e->shnum || (uint64_t)(i + 1) * e->shentsize > n) return SC_ERR_FORMAT;
  const unsigned char *p = tab + (size_t)i * e->shentsize;
  out->name = (uint32_t)get(p, 4, e->big);
  out->type = (uint32_t)get(p + 4, 4, e->big);
  if (e->is64) {
    out->offset = get(p + 24, 8, e->big);
    out->size = get(p + 32, 8, e->big);
  } else {
    out->offset = get(p + 16, 4, e->big);
    out->size = get(p + 20, 4, e->big);
  }
  return 0;
}

const char *sc_elf_name(const unsigned char *strtab, size_t n, uint32_t name) {
  if (name >= n || !memchr(strtab + name, '\0', n - name)) return NULL;
  return (const char *)strtab + name;
}
