/* sc_rust_audit.h - crates compiled into binaries built with `cargo
 * auditable`: the ".dep-v0" ELF section, zlib-compressed JSON
 * {"packages":[{"name","version","source","kind","dependencies","root"}]}.
 * Owner: scanner (the Rust cataloger, sc_cat_rust.c).  Thread: any (no
 * state).  Errors: SC_ERR_* (sc_err.h); content that cannot be trusted
 * (a zlib bomb, a section that does not inflate) is a note, not an error. */
#ifndef CUSTOMS_SC_RUST_AUDIT_H
#define CUSTOMS_SC_RUST_AUDIT_H
#include <stddef.h>

#include "sc_catalog.h"

#define SC_RUST_ECOSYSTEM "crates.io" /* the OSV ecosystem */
#define SC_RUST_TYPE "rust"           /* sc_package.type; purl pkg:cargo/NAME@VERSION */

/* Streams one file from r; when it is an ELF executable or shared object
 * with a .dep-v0 section, adds its crates.io packages to inv.  A file that is
 * not ELF or has no such section adds nothing and returns 0. */
int sc_rust_audit_scan(sc_inventory *inv, const char *path, sc_reader *r, const sc_limits *lim);

/* Adds the crates.io packages of an inflated .dep-v0 document (len bytes).
 * 0, SC_ERR_FORMAT (not the published shape), SC_ERR_NOMEM. */
int sc_rust_audit_json(sc_inventory *inv, const char *path, const char *json, size_t len);

/* Adds crate name@version found in path (sc_cat_rust.c). 0 or SC_ERR_NOMEM. */
int sc_rust_add_crate(sc_inventory *inv, const char *path, const char *name, const char *version);
#endif
