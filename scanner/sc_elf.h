/* sc_elf.h - decoding the ELF file header and section headers from bytes
 * the caller already holds (32- and 64-bit, little- and big-endian).
 *
 * Why a helper of its own: catalogers that stream a binary (the Rust
 * cataloger's .dep-v0 search) need the header first and the section table
 * later, from a forward-only reader; these functions only decode, so the
 * caller decides what to buffer.  Every offset and count is checked against
 * the bytes given: a hostile header yields SC_ERR_FORMAT, never a read out of
 * bounds.  (The Go cataloger finds its build info by its magic, without the
 * ELF structure, so it has nothing to share here.)
 * Owner: scanner (shared helper).  Thread: any (no state).
 * Errors: SC_ERR_FORMAT (not ELF, truncated, inconsistent). */
#ifndef CUSTOMS_SC_ELF_H
#define CUSTOMS_SC_ELF_H
#include <stddef.h>
#include <stdint.h>

#include "sc_err.h"

#define SC_ELF_EHDR_BYTES 64 /* an ELF64 file header; ELF32's is 52 */
#define SC_ELF_ET_EXEC 2
#define SC_ELF_ET_DYN 3
#define SC_ELF_SHT_NOBITS 8

typedef struct sc_elf {
  int is64;           /* ELFCLASS64 */
  int big;            /* ELFDATA2MSB */
  uint16_t type;      /* e_type: SC_ELF_ET_EXEC, SC_ELF_ET_DYN, ... */
  uint64_t shoff;     /* file offset of the section header table (0: none) */
  uint16_t shentsize; /* bytes of one section header (40 or 64 for the class) */
  uint16_t shnum;     /* section headers (0 with shoff: extended numbering) */
  uint16_t shstrndx;  /* index of the section holding section names */
} sc_elf;

typedef struct sc_elf_shdr {
  uint32_t name;   /* offset of its name in the section-name table */
  uint32_t type;   /* SHT_* */
  uint64_t offset; /* file offset of its bytes */
  uint64_t size;   /* bytes in the file (none for SC_ELF_SHT_NOBITS) */
} sc_elf_shdr;

/* Decodes the file header from the first n bytes of a file.  0 or
 * SC_ERR_FORMAT (not ELF, unknown class or byte order, n too short, a
 * section header size that does not fit the class). */
int sc_elf_header(const unsigned char *b, size_t n, sc_elf *e);

/* Bytes of the section header table: shnum * shentsize. */
uint64_t sc_elf_shtab_bytes(const sc_elf *e);

/* Decodes section header i from the table `tab` (n bytes, the table's
 * first byte at tab[0]).  0 or SC_ERR_FORMAT (i out of the table). */
int sc_elf_shdr_at(const sc_elf *e, const unsigned char *tab, size_t n, unsigned i, sc_elf_shdr *out);

/* The NUL-terminated name at offset `name` of a section-name table held in
 * strtab[0..n); NULL when it does not end inside the table. */
const char *sc_elf_name(const unsigned char *strtab, size_t n, uint32_t name);
#endif
