/* sc_file.c - bounded whole-file reads. */
#include "sc_file.h"
#include "sc_inventory.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int sc_read_file(const char *path, size_t cap, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SC_ERR_IO;
  struct stat sb;
  if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
    close(fd);
    return SC_ERR_IO;
  }
  if ((uint64_t)sb.st_size > cap) {
    close(fd);
    return SC_ERR_LIMIT;
  }
  char *b = malloc((size_t)sb.st_size + 1);
  size_t n = 0;
  while (b && n < (size_t)sb.st_size) {
    ssize_t r = read(fd, b + n, (size_t)sb.st_size - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (!b) return SC_ERR_NOMEM;
  if (n != (size_t)sb.st_size) {
    free(b);
    return SC_ERR_IO;
  }
  b[n] = 0;
  *out = b;
  *len = n;
  return 0;
}

int sc_read_secret(const char *path, char *out, size_t cap) {
  char buf[SC_SECRET_MAX_BYTES + 2];
  FILE *f = path && *path ? fopen(path, "re") : NULL;
  if (!f) return -1;
  int ok = fgets(buf, sizeof(buf), f) != NULL;
  fclose(f);
  if (ok) buf[strcspn(buf, "\r\n")] = 0;
  ok = ok && buf[0] && strlen(buf) < cap;
  if (ok) memcpy(out, buf, strlen(buf) + 1);
  explicit_bzero(buf, sizeof(buf));
  return ok ? 0 : -1;
}
