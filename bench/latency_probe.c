/* latency_probe.c - measures how long one HTTP/1.1 GET takes, again and
 * again at a fixed interval, over one keep-alive connection to 127.0.0.1.
 * Used by bench/loop_latency.sh to see whether customs' event loop stalls.
 *
 * Usage: latency_probe [-i INTERVAL_MS] [-d SECONDS] [-w PID] [-o FILE] PORT PATH
 *   -i  interval between request starts (default 10 ms)
 *   -d  run this long (default 10 s) ...
 *   -w  ... or until process PID has exited (whichever comes first)
 *   -o  write every sample (service_ms scheduled_ms) to FILE
 * Prints one line:
 *   n=N errors=E p50_ms=.. p99_ms=.. max_ms=.. sched_p99_ms=.. sched_max_ms=..
 *
 * Why not curl or h2load: a curl process per request costs ~5 ms of its own,
 * more than the goal being measured (p99 < 20 ms); h2load reports min, max,
 * mean and sd but no percentiles, and sends as fast as it can. This probe
 * costs microseconds per request and sends on a fixed schedule, so a stall
 * of the server shows up in the samples taken during it.
 *
 * Two latencies per request: service time (sent -> last byte received) and
 * scheduled time (when the request should have gone out -> last byte). A
 * 700 ms stall delays the requests queued behind it; scheduled time counts
 * that wait (no "coordinated omission": requests due during a stall are
 * sent right after it, not dropped), service time does not.
 *
 * Errors: a connection error, a timeout (REPLY_TIMEOUT_MS) or a non-200
 * answer counts as an error and the connection is reopened. Single thread.
 * Exit status 0 when at least one request succeeded, 1 otherwise, 2 on usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 10000       /* a reply slower than this is an error */
#define RESP_MAX_BYTES (64 * 1024)   /* /v2/ answers a few hundred bytes */
#define SAMPLES_MAX (1000 * 1000)    /* 10 ms x 10^6 = almost 3 hours */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_until(double t_ms) {
  double d = t_ms - now_ms();
  if (d <= 0) return;
  struct timespec ts = {(time_t)(d / 1e3), (long)((d - (double)(time_t)(d / 1e3) * 1e3) * 1e6)};
  nanosleep(&ts, NULL);
}

static int connect_to(int port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0) return -1;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Sends one request and reads the whole answer. Returns 0 on a 200, -1 on
 * any error (the caller reconnects). */
static int one_request(int fd, const char *req, size_t reqlen) {
  char buf[RESP_MAX_BYTES + 1];
  size_t got = 0, want = 0;
  int have_hdr = 0, status = 0;
  double deadline = now_ms() + REPLY_TIMEOUT_MS;
  for (size_t off = 0; off < reqlen;) {
    ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    off += (size_t)w;
  }
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int left = (int)(deadline - now_ms());
    if (left <= 0 || poll(&p, 1, left) <= 0) return -1;
    ssize_t r = recv(fd, buf + got, RESP_MAX_BYTES - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
    buf[got] = 0;
    if (!have_hdr) {
      char *end = strstr(buf, "\r\n\r\n"), *cl;
      if (!end) {
        if (got >= RESP_MAX_BYTES) return -1;
        continue;
      }
      have_hdr = 1;
      if (sscanf(buf, "HTTP/1.%*c %d", &status) != 1) return -1;
      cl = strcasestr(buf, "\r\ncontent-length:");
      if (!cl || cl > end) return -1; /* /v2/ always has a length */
      want = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
      if (want > RESP_MAX_BYTES) return -1;
    }
    if (got >= want) return status == 200 ? 0 : -1;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static double pct(const double *v, size_t n, double p) {
  if (n == 0) return 0;
  size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return v[k - 1];
}

int main(int argc, char **argv) {
  double interval = 10, duration = 10;
  long watch = 0;
  const char *out = NULL;
  int c;
  while ((c = getopt(argc, argv, "i:d:w:o:")) != -1) {
    switch (c) {
    case 'i': interval = atof(optarg); break;
    case 'd': duration = atof(optarg); break;
    case 'w': watch = atol(optarg); break;
    case 'o': out = optarg; break;
    default: goto usage;
    }
  }
  if (argc - optind != 2 || interval <= 0 || duration <= 0) goto usage;
  int port = atoi(argv[optind]);
  char req[2048];
  int reqlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: latency_probe\r\n\r\n",
                        argv[optind + 1], port);
  if (reqlen <= 0 || (size_t)reqlen >= sizeof(req)) goto usage;

  double *svc = malloc(SAMPLES_MAX * sizeof(double)), *sch = malloc(SAMPLES_MAX * sizeof(double));
  FILE *of = out ? fopen(out, "w") : NULL;
  if (!svc || !sch || (out && !of)) {
    perror("latency_probe");
    return 1;
  }
  size_t n = 0, errors = 0;
  int fd = -1;
  double start = now_ms(), next = start;
  while (n + errors < SAMPLES_MAX && now_ms() - start < duration * 1e3) {
    if (watch > 0 && kill((pid_t)watch, 0) != 0 && errno == ESRCH) break;
    sleep_until(next);
    double t0 = now_ms();
    if (fd < 0) fd = connect_to(port);
    if (fd < 0 || one_request(fd, req, (size_t)reqlen) != 0) {
      errors++;
      if (fd >= 0) close(fd);
      fd = -1;
    } else {
      double t1 = now_ms();
      svc[n] = t1 - t0;
      sch[n] = t1 - next;
      if (of) fprintf(of, "%.3f %.3f\n", svc[n], sch[n]);
      n++;
    }
    /* behind after a stall: the requests due meanwhile go out back to back,
     * each with the wait it suffered in its scheduled time */
    next += interval;
  }
  if (fd >= 0) close(fd);
  if (of) fclose(of);
  qsort(svc, n, sizeof(double), cmp_double);
  qsort(sch, n, sizeof(double), cmp_double);
  printf("n=%zu errors=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f sched_p99_ms=%.2f sched_max_ms=%.2f\n", n, errors,
         pct(svc, n, 50), pct(svc, n, 99), n ? svc[n - 1] : 0.0, pct(sch, n, 99), n ? sch[n - 1] : 0.0);
  free(svc);
  free(sch);
  return n > 0 ? 0 : 1;
usage:
  fprintf(stderr, "usage: latency_probe [-i INTERVAL_MS] [-d SECONDS] [-w PID] [-o FILE] PORT PATH\n");
  return 2;
}
