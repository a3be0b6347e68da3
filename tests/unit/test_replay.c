/* test_replay.c - `customs policy replay` below the command line: the
 * decisions log folded per (repository, digest) since a time
 * (sc_decisions_images_since: newest verdict, count, boundary, order,
 * missing digest), the --since durations, and an image the store does not
 * hold, or a decision without a digest, left unjudged with the reason.
 * Includes cmd_replay.c (white box). */
#include "../../cmd/cmd_replay.c"

#include "tap.h"

#define LAYER "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct seen {
  char rows[8][256];
  size_t n;
  int stop_after; /* 0: never */
} seen;

static int record(void *arg, const sc_decision_image *d) {
  seen *s = arg;
  if (s->n < 8)
    snprintf(s->rows[s->n], sizeof(s->rows[0]), "%s|%s|%s|%s|%lld|%lld", d->repository, d->digest,
             d->last_verdict, d->last_rule ? d->last_rule : "-", (long long)d->count, (long long)d->last_at);
  s->n++;
  return s->stop_after && (int)s->n == s->stop_after ? 42 : 0;
}

static void test_images_since(void) {
  sc_store *st;
  seen s;
  CHECK_INT(sc_store_open(":memory:", &st), 0, "open");
  sc_decision_row rows[] = {
      {100, "c", "shop/app", "v1", "sha256:aa", "GET", "allow", NULL, "ua"},
      {200, "c", "shop/app", "v1", "sha256:aa", "GET", "deny", "no-critical", "ua"},
      {150, "c", "shop/app", "v1", "sha256:aa", "HEAD", "warn", "w", "ua"}, /* inserted last: newest */
      {300, "c", "shop/app", "v2", LAYER, "GET", "allow", NULL, "ua"}, /* a gate.blobs layer pull */
      {50, "c", "old/app", "v1", "sha256:aa", "GET", "allow", NULL, "ua"},
      {400, "c", "around/app", "v1", NULL, "GET", "unscanned", NULL, "ua"},
  };
  CHECK_INT(sc_decisions_append(st, rows, sizeof(rows) / sizeof(rows[0])), 0, "six decisions");

  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_decisions_images_since(st, 0, record, &s), 0, "walk everything");
  CHECK_INT((long long)s.n, 4, "four distinct (repository, digest)");
  CHECK_STR(s.rows[0], "around/app||unscanned|-|1|400", "no digest recorded: \"\", sorted by repository");
  CHECK_STR(s.rows[1], "old/app|sha256:aa|allow|-|1|50", "same digest in another repository is its own row");
  CHECK_STR(s.rows[2], "shop/app|sha256:aa|warn|w|3|150", "three decisions folded: the newest recorded verdict");
  CHECK_STR(s.rows[3], "shop/app|" LAYER "|allow|-|1|300", "then by digest");

  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_decisions_images_since(st, 150, record, &s), 0, "since 150");
  CHECK_INT((long long)s.n, 3, "old/app (50) left out");
  CHECK_STR(s.rows[1], "shop/app|sha256:aa|warn|w|2|150", "the boundary is inclusive; 100 left out");

  memset(&s, 0, sizeof(s));
  CHECK_INT(sc_decisions_images_since(st, 401, record, &s), 0, "since after the newest");
  CHECK_INT((long long)s.n, 0, "nothing");

  memset(&s, 0, sizeof(s));
  s.stop_after = 2;
  CHECK_INT(sc_decisions_images_since(st, 0, record, &s), 42, "the callback's stop is returned");
  CHECK_INT((long long)s.n, 2, "after two rows");
  CHECK_INT(sc_decisions_images_since(NULL, 0, record, &s), SC_ERR_ARG, "no store");
  CHECK_INT(sc_decisions_images_since(st, 0, NULL, &s), SC_ERR_ARG, "no callback");

  /* judging: neither row can be judged, and says why */
  items it = {0};
  CHECK_INT(sc_decisions_images_since(st, 0, collect, &it), 0, "collect");
  CHECK_INT(it.decisions, 6, "every decision counted");
  sc_policy *p = NULL;
  static const char pol[] = "mode: enforce\nrules:\n  - name: r\n    repositories: [\"**\"]\n    deny:\n"
                            "      severity: critical\n";
  CHECK_INT(sc_policy_load_mem("p.yaml", pol, sizeof(pol) - 1, &p, NULL), 0, "a policy");
  judge_item(st, p, &it.v[0], 1000);
  CHECK(!it.v[0].judged && it.v[0].why_not && strstr(it.v[0].why_not, "no digest"), "no digest: not judged (%s)",
        it.v[0].why_not ? it.v[0].why_not : "NULL");
  judge_item(st, p, &it.v[2], 1000);
  CHECK(!it.v[2].judged && it.v[2].why_not && strstr(it.v[2].why_not, "no longer in the store"),
        "not in the store: not judged (%s)", it.v[2].why_not ? it.v[2].why_not : "NULL");
  CHECK(!flipped(&it.v[2]), "an unjudged image never counts as a flip");
  sc_inventory empty;
  sc_inventory_init(&empty);
  CHECK_INT(sc_store_put_layer(st, LAYER, NULL, &empty), 0, "that digest stored as a layer");
  sc_inventory_free(&empty);
  judge_item(st, p, &it.v[3], 1000);
  CHECK(!it.v[3].judged && it.v[3].why_not && strstr(it.v[3].why_not, "a layer (blob pull)"),
        "a layer's digest (gate.blobs) is told apart (%s)", it.v[3].why_not ? it.v[3].why_not : "NULL");
  CHECK_INT(dir_index("unscanned"), 3, "unscanned has its own direction");
  CHECK_INT(dir_index("bogus"), 4, "an unknown verdict is 'other'");
  for (size_t i = 0; i < it.n; i++) {
    free(it.v[i].repo);
    free(it.v[i].digest);
    free(it.v[i].was);
    free(it.v[i].was_rule);
    free(it.v[i].why_not);
    free(it.v[i].rule);
    json_decref(it.v[i].reasons);
  }
  free(it.v);
  sc_policy_free(p);
  sc_store_close(st);
}

static void test_parse_since(void) {
  CHECK_INT(parse_since("7d"), 7 * 86400, "7d");
  CHECK_INT(parse_since("90"), 90, "bare seconds");
  CHECK_INT(parse_since("30m"), 1800, "minutes");
  CHECK_INT(parse_since("12h"), 12 * 3600, "hours");
  CHECK_INT(parse_since("2w"), 14 * 86400, "weeks");
  CHECK_INT(parse_since("0s"), 0, "zero");
  CHECK_INT(parse_since("7x"), -1, "unknown unit");
  CHECK_INT(parse_since("7dd"), -1, "trailing text");
  CHECK_INT(parse_since(""), -1, "empty");
  CHECK_INT(parse_since("-1d"), -1, "negative");
  CHECK_INT(parse_since("3651d"), -1, "over ten years");
  CHECK_INT(parse_since("99999999999999999999w"), -1, "overflow");
}

int main(void) {
  test_images_since();
  test_parse_since();
  return tap_done();
}
