/* test_metrics.c - the counters and the Prometheus text exposition of
 * proxy/px_metrics.c and px_metrics_render.c: known updates rendered and read back through a small
 * strict parser of the text format 0.0.4 (every line a comment, a blank or
 * `name{labels} value`; HELP and TYPE once per family, TYPE before its
 * samples; label values with only \\ \" \n escapes; histogram buckets with
 * increasing le, cumulative counts, a last +Inf bucket equal to _count);
 * bucket boundaries (a value equal to a bound is in that bucket); labels
 * outside the fixed sets; concurrent updates from several threads; the
 * buffer's cap; a context without metrics. */
#include "../../proxy/px_metrics.c"
#include "../../proxy/px_metrics_render.c"
#include "tap.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>

#define MAX_SAMPLES 512
#define MAX_FAMILIES 64
#define NAME_MAX_BYTES 128
#define LABELS_MAX_BYTES 256
#define RENDER_MAX_BYTES (1024 * 1024)

typedef struct sample {
  char name[NAME_MAX_BYTES];
  char labels[LABELS_MAX_BYTES]; /* unescaped, as k=v,k=v in the order given */
  char le[LABELS_MAX_BYTES];     /* the le label, if any */
  double value;
} sample;

typedef struct family {
  char name[NAME_MAX_BYTES];
  char type[16];
  int help, nsamples;
} family;

typedef struct expo {
  sample s[MAX_SAMPLES];
  int n;
  family f[MAX_FAMILIES];
  int nf;
  char error[200];
} expo;

static int name_char(int c, int first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

static const char *read_name(const char *p, char *out, size_t cap) {
  size_t n = 0;
  if (!name_char((unsigned char)*p, 1)) return NULL;
  while (name_char((unsigned char)*p, 0)) {
    if (n + 1 >= cap) return NULL;
    out[n++] = *p++;
  }
  out[n] = 0;
  return p;
}

static family *find_family(expo *e, const char *name) {
  for (int i = 0; i < e->nf; i++)
    if (!strcmp(e->f[i].name, name)) return &e->f[i];
  return NULL;
}

/* The family a sample belongs to: its own name, or for a histogram the
 * name without _bucket/_sum/_count. */
static family *family_of(expo *e, const char *name) {
  family *f = find_family(e, name);
  if (f) return f;
  static const char *const sfx[] = {"_bucket", "_sum", "_count"};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(name), k = strlen(sfx[i]);
    char base[NAME_MAX_BYTES];
    if (n <= k || strcmp(name + n - k, sfx[i])) continue;
    snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
    f = find_family(e, base);
    if (f && !strcmp(f->type, "histogram")) return f;
  }
  return NULL;
}

static int fail(expo *e, int line, const char *why) {
  snprintf(e->error, sizeof(e->error), "line %d: %s", line, why);
  return -1;
}

static int parse_value(const char *p, double *v) {
  char *end;
  if (!strcmp(p, "+Inf")) *v = INFINITY;
  else if (!strcmp(p, "-Inf")) *v = -INFINITY;
  else if (!strcmp(p, "NaN")) *v = NAN;
  else {
    if (!*p) return -1;
    *v = strtod(p, &end);
    if (*end) return -1;
  }
  return 0;
}

static int parse_line(expo *e, int ln, char *line) {
  if (!*line) return 0;
  if (line[0] == '#') {
    char kw[8], name[NAME_MAX_BYTES];
    const char *p = line + 1;
    if (*p != ' ') return 0; /* a plain comment */
    p++;
    if (strncmp(p, "HELP ", 5) && strncmp(p, "TYPE ", 5)) return 0;
    snprintf(kw, sizeof(kw), "%.4s", p);
    if (!(p = read_name(p + 5, name, sizeof(name)))) return fail(e, ln, "bad metric name in a comment");
    family *f = find_family(e, name);
    if (!f) {
      if (e->nf == MAX_FAMILIES) return fail(e, ln, "too many families");
      f = &e->f[e->nf++];
      memset(f, 0, sizeof(*f));
      snprintf(f->name, sizeof(f->name), "%s", name);
    }
    if (!strcmp(kw, "HELP")) {
      if (f->help++) return fail(e, ln, "second HELP");
      if (*p != ' ' || !p[1]) return fail(e, ln, "HELP without text");
    } else {
      if (f->type[0]) return fail(e, ln, "second TYPE");
      if (f->nsamples) return fail(e, ln, "TYPE after samples");
      if (*p != ' ') return fail(e, ln, "TYPE without a type");
      p++;
      if (strcmp(p, "counter") && strcmp(p, "gauge") && strcmp(p, "histogram") && strcmp(p, "summary") &&
          strcmp(p, "untyped"))
        return fail(e, ln, "unknown TYPE");
      snprintf(f->type, sizeof(f->type), "%s", p);
    }
    return 0;
  }
  if (e->n == MAX_SAMPLES) return fail(e, ln, "too many samples");
  sample *s = &e->s[e->n];
  memset(s, 0, sizeof(*s));
  const char *p = read_name(line, s->name, sizeof(s->name));
  if (!p) return fail(e, ln, "bad sample name");
  if (*p == '{') {
    size_t ln_len = 0;
    p++;
    while (*p != '}') {
      char key[NAME_MAX_BYTES], val[LABELS_MAX_BYTES];
      size_t vn = 0;
      if (!(p = read_name(p, key, sizeof(key)))) return fail(e, ln, "bad label name");
      if (p[0] != '=' || p[1] != '"') return fail(e, ln, "label without =\"");
      p += 2;
      while (*p != '"') {
        char c = *p++;
        if (!c) return fail(e, ln, "unterminated label value");
        if (c == '\n') return fail(e, ln, "raw line feed in a label value");
        if (c == '\\') {
          c = *p++;
          if (c == 'n') c = '\n';
          else if (c != '\\' && c != '"') return fail(e, ln, "bad escape in a label value");
        }
        if (vn + 1 >= sizeof(val)) return fail(e, ln, "label value too long");
        val[vn++] = c;
      }
      val[vn] = 0;
      p++;
      if (!strcmp(key, "le")) snprintf(s->le, sizeof(s->le), "%s", val);
      int w = snprintf(s->labels + ln_len, sizeof(s->labels) - ln_len, "%s%s=%s", ln_len ? "," : "", key, val);
      if (w < 0 || (size_t)w >= sizeof(s->labels) - ln_len) return fail(e, ln, "labels too long");
      ln_len += (size_t)w;
      if (*p == ',') p++;
      else if (*p != '}') return fail(e, ln, "labels not separated by ,");
    }
    p++;
  }
  if (*p != ' ') return fail(e, ln, "no space before the value");
  p++;
  if (strchr(p, ' ')) return fail(e, ln, "a timestamp or trailing text (customs prints none)");
  if (parse_value(p, &s->value) < 0) return fail(e, ln, "value is not a float");
  family *f = family_of(e, s->name);
  if (!f || !f->type[0]) return fail(e, ln, "sample without a TYPE before it");
  f->nsamples++;
  e->n++;
  return 0;
}

/* Histogram checks, for each distinct label set of each histogram family. */
static int check_histograms(expo *e) {
  for (int fi = 0; fi < e->nf; fi++) {
    family *f = &e->f[fi];
    char bname[NAME_MAX_BYTES + 8], cname[NAME_MAX_BYTES + 8], sname[NAME_MAX_BYTES + 8];
    if (strcmp(f->type, "histogram")) continue;
    snprintf(bname, sizeof(bname), "%s_bucket", f->name);
    snprintf(cname, sizeof(cname), "%s_count", f->name);
    snprintf(sname, sizeof(sname), "%s_sum", f->name);
    int ncount = 0;
    for (int i = 0; i < e->n; i++) {
      if (strcmp(e->s[i].name, cname)) continue;
      ncount++;
      /* the buckets with the same other labels, in order */
      double prev_le = -INFINITY, prev = 0;
      int nb = 0, last_inf = 0, nsum = 0;
      for (int j = 0; j < e->n; j++) {
        sample *b = &e->s[j];
        char rest[LABELS_MAX_BYTES];
        if (!strcmp(b->name, sname) && !strcmp(b->labels, e->s[i].labels)) nsum++;
        if (strcmp(b->name, bname)) continue;
        /* labels without the trailing le=... */
        const char *le = strstr(b->labels, "le=");
        if (!le || !b->le[0]) return fail(e, 0, "bucket without le");
        snprintf(rest, sizeof(rest), "%.*s", (int)(le - b->labels - (le > b->labels ? 1 : 0)), b->labels);
        if (strcmp(rest, e->s[i].labels)) continue;
        double lev;
        if (parse_value(b->le, &lev) < 0) return fail(e, 0, "le is not a float");
        if (!(lev > prev_le)) return fail(e, 0, "le not increasing");
        if (b->value < prev) return fail(e, 0, "buckets not cumulative");
        prev_le = lev;
        prev = b->value;
        last_inf = isinf(lev) && lev > 0;
        nb++;
      }
      if (!nb || !last_inf) return fail(e, 0, "no +Inf bucket last");
      if (prev != e->s[i].value) return fail(e, 0, "_count differs from the +Inf bucket");
      if (nsum != 1) return fail(e, 0, "not exactly one _sum");
    }
    if (!ncount) return fail(e, 0, "histogram without _count");
  }
  return 0;
}

static int parse(expo *e, const char *text) {
  char *copy = strdup(text), *save = NULL, *line;
  int ln = 0, rc = 0;
  memset(e, 0, sizeof(*e));
  if (!copy) return -1;
  size_t len = strlen(copy);
  if (len == 0 || copy[len - 1] != '\n') rc = fail(e, 0, "does not end with a line feed");
  /* strtok_r would merge blank lines, which are legal anyway */
  for (line = strtok_r(copy, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save))
    rc = parse_line(e, ++ln, line);
  free(copy);
  if (rc == 0) rc = check_histograms(e);
  return rc;
}

/* The value of name{labels} (labels as k=v,k=v), or NAN when absent. */
static double val(const expo *e, const char *name, const char *labels) {
  for (int i = 0; i < e->n; i++)
    if (!strcmp(e->s[i].name, name) && !strcmp(e->s[i].labels, labels)) return e->s[i].value;
  return NAN;
}

static int render_parse(px_ctx *ctx, expo *e) {
  sc_buf b;
  sc_buf_init(&b, RENDER_MAX_BYTES);
  int rc = px_metrics_render(ctx, &b);
  if (rc == 0) rc = parse(e, b.s ? b.s : "");
  if (rc != 0) printf("# render/parse: rc %d, %s\n", rc, e->error);
  sc_buf_free(&b);
  return rc;
}

/* ---- concurrency ---- */

#define THREADS 4
#define PER_THREAD 200000

static pthread_barrier_t start_line; /* the threads start together, so they overlap */

static void *hammer(void *arg) {
  px_ctx *ctx = arg;
  pthread_barrier_wait(&start_line);
  for (int i = 0; i < PER_THREAD; i++) {
    px_metrics_request(ctx, "PUT", 201, 3, 5);
    px_metrics_upstream(ctx, (i % 2) ? 0.003 : 0.3);
    px_metrics_scan(ctx, "layer", 1.5, i % 10 != 0);
    px_metrics_verdict(ctx, PX_V_DENY);
  }
  return NULL;
}

int main(void) {
  px_ctx ctx;
  expo *e = calloc(1, sizeof(*e));
  memset(&ctx, 0, sizeof(ctx));
  if (!e) return 1;

  /* a context without metrics: nothing counted, the gauges still render */
  px_metrics_request(&ctx, "GET", 200, 1, 1);
  px_metrics_verdict(&ctx, PX_V_DENY);
  CHECK(render_parse(&ctx, e) == 0, "without metrics: the exposition parses (%s)", e->error);
  CHECK(isnan(val(e, "customs_requests_total", "method=GET,code=200")), "without metrics: no request series");
  CHECK(val(e, "customs_build_info", "version=" PACKAGE_VERSION) == 1, "build_info with the version");

  CHECK_INT(px_metrics_init(&ctx), 0, "init");
  ctx.spool.bytes = 12345;
  CHECK(render_parse(&ctx, e) == 0, "fresh: parses (%s)", e->error);
  CHECK(isnan(val(e, "customs_requests_total", "method=GET,code=200")), "fresh: no request series yet");
  CHECK(val(e, "customs_upstream_latency_seconds_count", "") == 0, "fresh: upstream count 0");
  CHECK(val(e, "customs_upstream_latency_seconds_bucket", "le=+Inf") == 0, "fresh: +Inf bucket 0");
  CHECK(val(e, "customs_scan_duration_seconds_count", "kind=layer") == 0, "fresh: layer scans 0");
  CHECK(val(e, "customs_pulls_denied_total", "") == 0, "fresh: pulls denied 0");
  CHECK(val(e, "customs_vulndb_generation", "") == -1, "fresh: data generation not known (-1)");
  CHECK(val(e, "customs_spool_bytes", "") == 12345, "spool bytes gauge reads ctx->spool");
  CHECK(val(e, "customs_scan_queue_depth", "") == 0, "no pools: queue depth 0");
  CHECK(val(e, "customs_policy_generation", "") == 0, "no policy: generation 0");
  CHECK(val(e, "customs_webhook_deliveries_total", "result=retry") == 0, "fresh: deliveries 0");

  /* known updates */
  for (int i = 0; i < 3; i++) px_metrics_request(&ctx, "GET", 200, 0, 100);
  px_metrics_request(&ctx, "HEAD", 404, 0, 0);
  px_metrics_request(&ctx, "BREW", 200, 7, 0);    /* method outside the set */
  px_metrics_request(&ctx, "PATCH", 0, 1000, 0);  /* no status sent */
  px_metrics_request(&ctx, "DELETE", 999, 0, 0);  /* status outside 100..599 */
  px_metrics_request(&ctx, "OPTIONS", 599, 0, 0); /* the last code with a slot */
  px_metrics_request(&ctx, NULL, 100, 0, 0);
  px_metrics_upstream(&ctx, 0.001);
  px_metrics_upstream(&ctx, 0.005); /* equal to a bound: in that bucket */
  px_metrics_upstream(&ctx, 0.2);
  px_metrics_upstream(&ctx, 31);    /* above every bound */
  px_metrics_upstream(&ctx, -1);    /* a clock step back counts as 0 */
  px_metrics_upstream(&ctx, NAN);
  px_metrics_scan(&ctx, "layer", 0.5, 1);
  px_metrics_scan(&ctx, "layer", 700, 0);
  px_metrics_scan(&ctx, "manifest", 0.02, 1);
  px_metrics_scan(&ctx, "bogus", 1, 1); /* not a kind of the interface: ignored */
  px_metrics_scan(&ctx, NULL, 1, 1);
  px_metrics_verdict(&ctx, PX_V_ALLOW);
  px_metrics_verdict(&ctx, PX_V_WARN);
  px_metrics_verdict(&ctx, PX_V_DENY);
  px_metrics_verdict(&ctx, PX_V_DENY);
  px_metrics_verdict(&ctx, PX_V_UNSCANNED);
  px_metrics_verdict(&ctx, 7);
  px_metrics_verdict(&ctx, -1);
  px_metrics_policy_reload_failed(&ctx);
  px_metrics_vulndb_generation(&ctx, 42);
  px_metrics_delivery(&ctx, "delivered");
  px_metrics_delivery(&ctx, "retry");
  px_metrics_delivery(&ctx, "retry");
  px_metrics_delivery(&ctx, "failed");
  px_metrics_delivery(&ctx, "lost"); /* ignored */

  CHECK(render_parse(&ctx, e) == 0, "after updates: parses (%s)", e->error);
  CHECK(val(e, "customs_requests_total", "method=GET,code=200") == 3, "GET 200 counted 3 times");
  CHECK(val(e, "customs_requests_total", "method=HEAD,code=404") == 1, "HEAD 404");
  CHECK(val(e, "customs_requests_total", "method=other,code=200") == 1, "unknown method is other");
  CHECK(val(e, "customs_requests_total", "method=PATCH,code=other") == 1, "no status is code other");
  CHECK(val(e, "customs_requests_total", "method=DELETE,code=other") == 1, "status 999 is code other");
  CHECK(val(e, "customs_requests_total", "method=OPTIONS,code=599") == 1, "599 has its own slot");
  CHECK(val(e, "customs_requests_total", "method=other,code=100") == 1, "NULL method is other");
  CHECK(isnan(val(e, "customs_requests_total", "method=GET,code=404")), "zero series left out");
  CHECK(val(e, "customs_request_bytes_total", "direction=in") == 1007, "bytes in summed");
  CHECK(val(e, "customs_request_bytes_total", "direction=out") == 300, "bytes out summed");

  CHECK(val(e, "customs_upstream_latency_seconds_bucket", "le=0.005") == 4, "le=0.005: 0.001, 0.005, -1, NaN");
  CHECK(val(e, "customs_upstream_latency_seconds_bucket", "le=0.1") == 4, "le=0.1 cumulative");
  CHECK(val(e, "customs_upstream_latency_seconds_bucket", "le=0.25") == 5, "le=0.25 has 0.2");
  CHECK(val(e, "customs_upstream_latency_seconds_bucket", "le=30") == 5, "le=30 without 31");
  CHECK(val(e, "customs_upstream_latency_seconds_bucket", "le=+Inf") == 6, "+Inf has all");
  CHECK(val(e, "customs_upstream_latency_seconds_count", "") == 6, "upstream count");
  CHECK(fabs(val(e, "customs_upstream_latency_seconds_sum", "") - 31.206) < 1e-6, "upstream sum %.9f",
        val(e, "customs_upstream_latency_seconds_sum", ""));

  CHECK(val(e, "customs_scan_duration_seconds_bucket", "kind=layer,le=0.5") == 1, "layer 0.5 in le=0.5");
  CHECK(val(e, "customs_scan_duration_seconds_bucket", "kind=layer,le=600") == 1, "layer 700 above 600");
  CHECK(val(e, "customs_scan_duration_seconds_count", "kind=layer") == 2, "layer count 2");
  CHECK(val(e, "customs_scan_duration_seconds_bucket", "kind=manifest,le=0.01") == 0, "manifest 0.02 not in 0.01");
  CHECK(val(e, "customs_scan_duration_seconds_bucket", "kind=manifest,le=0.05") == 1, "manifest 0.02 in 0.05");
  CHECK(val(e, "customs_scan_duration_seconds_count", "kind=manifest") == 1, "manifest count 1");
  CHECK(fabs(val(e, "customs_scan_duration_seconds_sum", "kind=layer") - 700.5) < 1e-6, "layer sum");
  CHECK(val(e, "customs_scans_total", "kind=layer,result=ok") == 1, "layer ok");
  CHECK(val(e, "customs_scans_total", "kind=layer,result=failed") == 1, "layer failed");
  CHECK(val(e, "customs_scans_total", "kind=manifest,result=ok") == 1, "manifest ok");
  CHECK(val(e, "customs_scans_total", "kind=manifest,result=failed") == 0, "manifest failed 0");
  CHECK(isnan(val(e, "customs_scans_total", "kind=bogus,result=ok")), "no series for an unknown kind");

  CHECK(val(e, "customs_verdicts_total", "decision=allow") == 1, "allow");
  CHECK(val(e, "customs_verdicts_total", "decision=warn") == 1, "warn");
  CHECK(val(e, "customs_verdicts_total", "decision=deny") == 2, "deny");
  CHECK(val(e, "customs_verdicts_total", "decision=unscanned") == 1, "unscanned");
  CHECK(val(e, "customs_pulls_denied_total", "") == 2, "pulls denied follow deny verdicts");
  CHECK(val(e, "customs_policy_reload_failures_total", "") == 1, "policy reload failures");
  CHECK(val(e, "customs_vulndb_generation", "") == 42, "data generation set");
  CHECK(val(e, "customs_webhook_deliveries_total", "result=delivered") == 1, "delivered");
  CHECK(val(e, "customs_webhook_deliveries_total", "result=retry") == 2, "retry");
  CHECK(val(e, "customs_webhook_deliveries_total", "result=failed") == 1, "failed");

  /* escaping, and the parser refusing what the format forbids */
  {
    sc_buf b;
    sc_buf_init(&b, 1024);
    add_label_value(&b, "a\"b\\c\nd");
    CHECK_STR(b.s, "a\\\"b\\\\c\\nd", "label values escaped");
    sc_buf_free(&b);
    static const char *const bad[] = {
        "# TYPE x counter\nx 1 2 3\n",             "x 1\n",
        "# TYPE x counter\nx{a=\"\\q\"} 1\n",      "# TYPE x counter\nx{a=\"v\" b=\"w\"} 1\n",
        "# TYPE x counter\nx one\n",               "# TYPE x counter\n# TYPE x gauge\nx 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 3\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 0\nh_count 1\n"};
    int refused = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) refused += parse(e, bad[i]) != 0;
    CHECK_INT(refused, (int)(sizeof(bad) / sizeof(bad[0])), "the parser refuses malformed expositions");
    CHECK(parse(e, "# TYPE x counter\n\n# a comment\nx{a=\"q\\\"\\n\"} 1.5e3\n") == 0 &&
              val(e, "x", "a=q\"\n") == 1500,
          "the parser reads escapes and floats");
  }

  /* the cap of the buffer */
  {
    sc_buf b;
    sc_buf_init(&b, 200);
    CHECK_INT(px_metrics_render(&ctx, &b), SC_ERR_LIMIT, "a buffer too small: SC_ERR_LIMIT");
    sc_buf_free(&b);
  }

  /* concurrent updates */
  px_metrics_free(&ctx);
  CHECK(ctx.metrics == NULL, "free clears ctx->metrics");
  px_metrics_init(&ctx);
  pthread_t th[THREADS];
  pthread_barrier_init(&start_line, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, hammer, &ctx);
  /* renders while they run: every one parses (count = +Inf always) */
  int parsed = 0, renders = 0;
  for (int i = 0; i < 20; i++, renders++) parsed += render_parse(&ctx, e) == 0;
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&start_line);
  CHECK_INT(parsed, renders, "renders during the updates all parse");
  CHECK(render_parse(&ctx, e) == 0, "after the threads: parses");
  const double total = (double)THREADS * PER_THREAD;
  CHECK(val(e, "customs_requests_total", "method=PUT,code=201") == total, "requests from %d threads: %.0f",
        THREADS, val(e, "customs_requests_total", "method=PUT,code=201"));
  CHECK(val(e, "customs_request_bytes_total", "direction=in") == 3 * total, "bytes in from threads");
  CHECK(val(e, "customs_request_bytes_total", "direction=out") == 5 * total, "bytes out from threads");
  CHECK(val(e, "customs_upstream_latency_seconds_count", "") == total, "upstream observations from threads");
  CHECK(val(e, "customs_upstream_latency_seconds_bucket", "le=0.005") == total / 2, "half in le=0.005");
  CHECK(fabs(val(e, "customs_upstream_latency_seconds_sum", "") - total / 2 * 0.303) < 1e-3, "upstream sum");
  CHECK(val(e, "customs_scans_total", "kind=layer,result=failed") == total / 10, "failed scans from threads");
  CHECK(val(e, "customs_scans_total", "kind=layer,result=ok") == total - total / 10, "ok scans from threads");
  CHECK(val(e, "customs_pulls_denied_total", "") == total, "denied pulls from threads");
  px_metrics_free(&ctx);
  free(e);
  return tap_done();
}
