/* sc_secrets.h - the secret rules: ids, Hyperscan prefilters, exact shapes.
 *
 * The secrets cataloger (sc_cat_secrets.c) compiles every prefilter of
 * sc_secret_pats[] into one Hyperscan database and runs it once over a
 * file's bytes.  Each prefilter hit is then confirmed by its pattern's
 * exact shape check (sc_secrets_rules.c), so what is reported depends only
 * on the checks, never on how Hyperscan happens to match: a prefilter must
 * match wherever its check would say yes.
 *
 * A check reads the whole file buffer [buf, end) around the hit and must
 * never cross a '\n' (a finding belongs to one line) nor read outside the
 * buffer; its scans are bounded by named maxima so that a file full of
 * near-prefixes stays linear.
 *
 * Ownership: static tables only.  Thread: any (the checks are pure). */
#ifndef CUSTOMS_SC_SECRETS_H
#define CUSTOMS_SC_SECRETS_H
#include <stddef.h>

/* A prefilter hit: from is its first byte when the expression has a fixed
 * width (NULL otherwise), to is one past its last byte. */
typedef int (*sc_secret_check)(const unsigned char *buf, const unsigned char *end, const unsigned char *from,
                               const unsigned char *to);

typedef struct sc_secret_pat {
  const char *expr;       /* Hyperscan expression (ASCII, no anchors) */
  unsigned flags;         /* HS_FLAG_* added to the defaults (HS_FLAG_CASELESS) */
  unsigned rule;          /* index into sc_secret_rules[] */
  int fixed;              /* 1: the expression has one width and check needs `from` */
  sc_secret_check check;  /* the exact shape; 1 when the hit is a secret */
} sc_secret_pat;

/* Rule ids, in the order findings of one line are reported (the first five
 * are the historical rules, in their historical order). */
extern const char *const sc_secret_rules[];
extern const size_t sc_secret_nrules;

extern const sc_secret_pat sc_secret_pats[];
extern const size_t sc_secret_npats;

/* Whether the n bytes at p look like a placeholder rather than a secret
 * ("EXAMPLE", "xxxx", six equal characters in a row).  Exposed for tests. */
int sc_secret_placeholder(const unsigned char *p, size_t n);
#endif
