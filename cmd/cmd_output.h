/* cmd_output.h - how `customs scan` and `customs report` print an image:
 * the report (sc_report) as a table, JSON, CycloneDX, SARIF or SPDX on stdout, judged by
 * a policy when one is given (the same evaluation the proxy does at pull
 * time), and the exit status that follows from the verdict.
 * Thread: the command's.  Errors: messages on stderr, CMD_EXIT_ERROR. */
#ifndef CUSTOMS_CMD_OUTPUT_H
#define CUSTOMS_CMD_OUTPUT_H
#include <stddef.h>

#include "sc_match.h"
#include "sc_policy.h"
#include "sc_report.h"

typedef enum { CMD_FMT_TABLE, CMD_FMT_JSON, CMD_FMT_CYCLONEDX, CMD_FMT_SARIF, CMD_FMT_SPDX } cmd_fmt;

/* Splits REPO:TAG or REPO@DIGEST (a tag follows the last ':' that no '/'
 * follows) into repo and ref; -1 when arg is neither or does not fit. */
int cmd_split_ref(const char *arg, char *repo, size_t rcap, char *ref, size_t fcap);

/* Opens the database at path for a command that reads it, without creating
 * an empty one; NULL after a message on stderr ("customs CMD: ..."). */
struct sc_store;
/* path fit for a message: a postgres:// URL's password as "***" (one
 * static buffer: valid until the next call). */
const char *cmd_db_shown(const char *path);
struct sc_store *cmd_open_existing_db(const char *cmd, const char *path);

/* The policy at path, or NULL after "customs CMD: <its errors>" on stderr. */
sc_policy *cmd_load_policy(const char *cmd, const char *path);

/* Unix seconds as "2026-11-30T12:00:00Z" (UTC), "never" for t <= 0. */
#define CMD_TIME_BYTES 32
void cmd_fmt_time(long long t, char out[CMD_TIME_BYTES]);

/* "table" | "json", and when allow_cdx the image documents "cyclonedx" |
 * "sarif" | "spdx-json"; -1 otherwise. */
int cmd_parse_format(const char *s, cmd_fmt *f, int allow_cdx);

typedef struct cmd_image {
  const char *image, *repo, *tag, *digest; /* digest NULL for a single layer */
  const sc_inventory *inv;
  const char *config;           /* image config JSON, may be NULL */
  size_t config_len;
  const sc_report_layer *layers;
  size_t nlayers;
  const sc_finding_list *findings; /* NULL = no vulnerability data */
  const sc_verdict *verdict;    /* already judged (sc_judge_image: `report --policy`), else NULL */
} cmd_image;

/* Prints the report of img (its verdict when given, else judged by pol
 * when not NULL); returns CMD_EXIT_PASS, CMD_EXIT_DENY or CMD_EXIT_ERROR. */
int cmd_print_report(cmd_fmt fmt, const cmd_image *img, const sc_policy *pol);
#endif
