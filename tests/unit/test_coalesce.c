/* test_coalesce.c - request collapsing (proxy/px_coalesce.c) in isolation:
 * the first request of a key leads, identical ones follow; the leader's
 * outcome resumes every follower from a fresh loop callback (never inside
 * px_coalesce_done); different keys never meet; a follower that leaves is
 * not resumed; a leader that leaves sends its followers upstream (NULL). */
#include "../../proxy/px_coalesce.c"
#include "tap.h"

static struct event_base *base;
static char got[16][200]; /* what each follower was resumed with ("-" = NULL) */
static int nresumed;

static void resume(void *f, const char *digest) {
  int i = (int)(intptr_t)f;
  snprintf(got[i], sizeof(got[i]), "%s", digest ? digest : "-");
  nresumed++;
}

static void *id(int i) { return (void *)(intptr_t)i; }
static void run(void) { event_base_loop(base, EVLOOP_NONBLOCK); }

int main(void) {
  base = event_base_new();
  px_coalesce *c = px_coalesce_new(base, resume);
  CHECK(c != NULL, "new");
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/x", "Bearer a", id(1)), 0, "first request leads");
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/x", "Bearer a", id(2)), 1, "identical one follows");
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/x", "Bearer a", id(3)), 1, "and another");
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/x", "Bearer b", id(4)), 0,
            "other credentials: a leader of its own");
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/y", "Bearer a", id(5)), 0, "other Accept: its own");
  CHECK_INT(px_coalesce_join(c, "team/app", "v2", "application/x", "Bearer a", id(6)), 0, "other tag: its own");
  CHECK_INT(px_coalesce_join(c, "team/ap", "pv1", "application/x", "Bearer a", id(7)), 0,
            "fields cannot run into each other (team/ap + pv1)");
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", NULL, "Bearer a", id(8)), 0, "no Accept differs from one");
  CHECK_INT(px_coalesce_keys(c), 6, "six keys in flight");
  CHECK_INT(px_coalesce_waiting(c), 2, "two followers wait");
  px_coalesce_leave(c, id(3)); /* its client went away */
  CHECK_INT(px_coalesce_waiting(c), 1, "a follower that leaves no longer waits");
  px_coalesce_done(c, id(1), "sha256:aaaa");
  CHECK_INT(nresumed, 0, "followers are not resumed inside px_coalesce_done");
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/x", "Bearer a", id(9)), 0,
            "after the leader is done, a new request leads again (never a stale answer)");
  run();
  CHECK_INT(nresumed, 1, "one follower resumed on the next loop turn");
  CHECK_STR(got[2], "sha256:aaaa", "with the leader's digest");
  CHECK_STR(got[3], "", "the one that left is not resumed");
  /* a leader without a cacheable answer: followers go upstream */
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/x", "Bearer b", id(10)), 1, "follows leader 4");
  px_coalesce_done(c, id(4), NULL);
  run();
  CHECK_STR(got[10], "-", "no digest: resumed with NULL (it asks the registry)");
  /* a leader that goes away: same */
  CHECK_INT(px_coalesce_join(c, "team/app", "v2", "application/x", "Bearer a", id(11)), 1, "follows leader 6");
  px_coalesce_leave(c, id(6));
  run();
  CHECK_STR(got[11], "-", "a leader that leaves resumes its followers with NULL");
  /* a follower leaving after done, before its resume callback */
  CHECK_INT(px_coalesce_join(c, "team/app", "v1", "application/y", "Bearer a", id(12)), 1, "follows leader 5");
  px_coalesce_done(c, id(5), "sha256:bbbb");
  px_coalesce_leave(c, id(12));
  int before = nresumed;
  run();
  CHECK_INT(nresumed, before, "a follower gone between done and resume is not resumed");
  px_coalesce_done(c, id(1), "sha256:zzzz"); /* not a leader any more: nothing */
  px_coalesce_leave(c, id(99));                /* unknown: nothing */
  CHECK_INT(px_coalesce_keys(c), 3, "leaders 7, 8, 9 still in flight");
  px_coalesce_free(c); /* frees entries still in flight */
  event_base_free(base);
  return tap_done();
}
