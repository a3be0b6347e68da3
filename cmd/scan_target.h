/* scan_target.h - the TARGETs of `customs scan`, one file each, named as
 * containers-transports(5) names them so that the same string works for
 * skopeo and for customs:
 *
 *   oci:PATH[:REFERENCE]            scan_oci.c
 *   docker-archive:PATH[:REFERENCE|:@INDEX]   scan_docker_archive.c
 *   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]   scan_registry.c
 *   layer:FILE (customs only: one layer tar, plain or compressed)  scan_layer.c
 *
 * PATH ends at the FIRST ':' (a path cannot contain one, as in skopeo):
 * `oci:/x/layout:app:1` is the layout /x/layout and the reference "app:1".
 * `spec` is the TARGET without its "transport:" prefix.  A target fills the
 * job (scan_job.h) and returns 0 or SC_ERR_* after printing what failed;
 * SC_ERR_ARG means the TARGET itself was malformed. */
#ifndef CUSTOMS_SCAN_TARGET_H
#define CUSTOMS_SCAN_TARGET_H
#include "scan_job.h"

typedef struct scan_target {
  const char *prefix;           /* "oci:" ... */
  int (*scan)(scan_job *j, const char *spec);
} scan_target;

int scan_oci(scan_job *j, const char *spec);
int scan_docker_archive(scan_job *j, const char *spec);
int scan_registry(scan_job *j, const char *spec);
int scan_layer_file(scan_job *j, const char *spec);

/* Splits "PATH[:REF]" at the first ':' into path (cap bytes) and *ref
 * (pointing into spec; NULL when absent or empty).  -1 if PATH is empty or
 * does not fit. */
int scan_split_path_ref(const char *spec, char *path, size_t cap, const char **ref);

/* docker://: the credentials for host (scan_creds.c): user and pass empty
 * for none.  -1 (message printed) when given ones cannot be read. */
int scan_creds_for(const scan_job *j, const char *host, char *user, size_t ucap, char *pass, size_t pcap);
#endif
