/* scan_bench.c - times sc_layer_scan_fd on one layer file.
 * Usage: scan_bench FILE [RUNS]   prints one line per run:
 *   seconds MB/s(compressed) status entries packages digest cpu-seconds cpu-s/GB(compressed)
 * cpu-seconds is the user+system time of the whole process (both scan
 * threads) during the scan, from getrusage.  Single-threaded driver. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../scanner/sc_layer.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* user + system seconds of every thread of the process so far */
static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE [RUNS]\n", argv[0]);
    return 2;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 1;
  sc_limits lim;
  sc_limits_default(&lim);
  for (int i = 0; i < runs; i++) {
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
      perror(argv[1]);
      return 1;
    }
    sc_inventory inv;
    sc_inventory_init(&inv);
    sc_layer_result res;
    double t0 = now(), c0 = cpu();
    int rv = sc_layer_scan_fd(fd, &lim, &inv, &res);
    double dt = now() - t0, dc = cpu() - c0;
    close(fd);
    double gb = res.compressed_size / 1e9;
    printf("%.3f %.1f %d %llu %zu %s %.3f %.2f%s%s\n", dt, res.compressed_size / dt / 1e6, rv ? rv : res.status,
           (unsigned long long)res.entries, inv.npkgs, res.digest, dc, gb > 0 ? dc / gb : 0.0,
           res.status ? " " : "", res.error);
    sc_inventory_free(&inv);
  }
  return 0;
}
