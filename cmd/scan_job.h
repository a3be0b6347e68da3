/* scan_job.h - one `customs scan`: what a scan target fills in, and the
 * steps every target shares.
 *
 * A target (scan_target.h) turns its TARGET string into a manifest, a config
 * and one byte stream per layer; for each layer it calls scan_job_try_stored
 * (with --db, a layer stored "ok" is loaded, not scanned) and otherwise
 * scan_job_scan_fd or sc_layer_scan + scan_job_layer_done.  cmd_scan.c then
 * merges the inventories in layer order, stores the image and reports.
 * Ownership: the job owns every pointer in it (scan_job_free); st and
 * spool_dir are borrowed.  Thread: the command's.
 * Errors: SC_ERR_*; a target prints its own message (scan_job_fail) before
 * returning one, cmd_scan.c names the code. */
#ifndef CUSTOMS_SCAN_JOB_H
#define CUSTOMS_SCAN_JOB_H
#include <stddef.h>

#include "sc_image.h"
#include "sc_layer.h"
#include "sc_store.h"

#define SCAN_SMALL_MAX_BYTES (8u * 1024 * 1024) /* index.json, manifest.json, configs */
#define SCAN_MAX_LAYERS 1024
#define SCAN_STATUS_LEN 16

typedef struct scan_job {
  const char *target;           /* as given, for messages */
  const char *spool_dir;        /* where downloaded layers are spooled */
  char *repo, *tag, *image;     /* image: "repo@digest" once known */
  char digest[72];              /* manifest digest, "" for a single layer */
  sc_manifest man;
  char *config;
  size_t config_len;
  size_t n;                     /* layers */
  sc_inventory *inv;            /* per layer */
  sc_layer_result *res;
  char (*status)[SCAN_STATUS_LEN]; /* per layer, for the report */
  sc_store *st;                 /* --db, else NULL */
  int progress;                 /* 1: stderr is a terminal: one line rewritten per layer */
  int progress_drawn;
  const char *reg_username;     /* docker://: --username (with reg_password_file), or NULL */
  const char *reg_password_file;
  const char *reg_authfile;     /* docker://: --authfile, or NULL ($REGISTRY_AUTH_FILE) */
  sc_limits lim;
} scan_job;

/* "customs: TARGET: <message>" on stderr. */
void scan_job_fail(const scan_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocates the per-layer arrays for n layers (status "missing"). */
int scan_job_alloc(scan_job *j, size_t n);
void scan_job_free(scan_job *j);
/* With --db: loads layer i from the store when it is stored "ok"; 1 if so. */
int scan_job_try_stored(scan_job *j, size_t i, const char *digest);
/* After layer i was scanned: checks it against `expect` (may be NULL), sets
 * its status, stores it (--db). */
int scan_job_layer_done(scan_job *j, size_t i, const char *expect);
/* On a terminal (j->progress), "VERB layer i+1/n" on one line rewritten
 * in place; scan_job_progress_end clears it.  Nothing otherwise: logs and
 * pipes stay line-oriented. */
void scan_job_progress(scan_job *j, size_t i, const char *verb);
void scan_job_progress_end(scan_job *j);
/* Scans layer i from fd to its end, then scan_job_layer_done. */
int scan_job_scan_fd(scan_job *j, size_t i, int fd, const char *expect);
#endif
