/* scan_layer.c - the layer:FILE target: one layer tar (plain, gzip or
 * zstd), scanned alone; no manifest, so nothing is stored as an image. */
#include "scan_target.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int scan_layer_file(scan_job *j, const char *file) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    scan_job_fail(j, "cannot open: %s", strerror(errno));
    return SC_ERR_IO;
  }
  int rv = scan_job_alloc(j, 1);
  if (!rv) rv = scan_job_scan_fd(j, 0, fd, NULL);
  close(fd);
  return rv;
}
