/* cmd_replay.c - `customs policy replay --policy CANDIDATE [--db PATH]
 * [--since 7d] [--format table|json]`: what a candidate policy would have
 * decided on the pulls recorded since a time, judged with today's data.
 *
 * Each distinct (repository, digest) of the decisions log is judged once
 * (sc_decisions_images_since, sc_judge_image) and compared with the newest
 * recorded verdict of that image; its pulls count as flipped when the
 * verdicts differ.  An index is judged per stored platform, the worst
 * verdict standing for it (the gate judges the platform a client asks for).
 * An image no longer in the store, a decision without a digest, or a layer
 * digest (a blob pull under gate.blobs) is listed as not judgeable, with
 * the reason: it is never guessed.
 * Exit: 0 no pull would flip, 3 some would (as `scan` uses 3), 1 error
 * (bad candidate policy, reported as FILE:LINE:COL; unreadable database).
 * Thread: the command's.  Errors: messages on stderr. */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_decisions.h"
#include "sc_judge.h"
#include "sc_policy.h"
#include "sc_store.h"
#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLAY_EXIT_SAME 0
#define REPLAY_EXIT_ERROR 1
#define REPLAY_EXIT_FLIPS 3
#define REPLAY_SINCE_MAX_SECS (3650LL * 86400) /* --since longer than ten years is a typo */
#define REPLAY_WHY_MAX 5                        /* findings named per image in the table */
#define REPLAY_NDIR 5                           /* allow, warn, deny, unscanned, other */

typedef struct item {
  char *repo, *digest, *was, *was_rule;
  int64_t pulls, last_at;
  int judged;          /* 1: now/rule/reasons hold the candidate's verdict */
  char *why_not;       /* not judgeable: why */
  sc_decision now;
  char *rule;
  json_t *reasons;     /* the verdict's reasons (array), or NULL */
} item;

typedef struct items {
  item *v;
  size_t n, cap;
  int64_t decisions;
} items;

static void usage(FILE *f) {
  fprintf(f, "usage: customs policy replay --policy CANDIDATE [--db PATH] [--since DURATION] [--format table|json]\n"
             "  DURATION: N with s, m, h, d or w (default 7d)\n");
}

/* "90", "30m", "12h", "7d", "2w" -> seconds; -1 when invalid. */
static long long parse_since(const char *s) {
  char *end;
  long long n = strtoll(s, &end, 10), mul = 1;
  if (end == s || n < 0) return -1;
  if (*end) {
    switch (*end) {
    case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    case 'w': mul = 7 * 86400; break;
    default: return -1;
    }
    if (end[1]) return -1;
  }
  if (n > REPLAY_SINCE_MAX_SECS / mul) return -1;
  return n * mul;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* sc_decisions_images_since callback: copies the row (the store's strings
 * die with the callback, and judging waits until the walk is over so no
 * write of the matcher runs under an open read). */
static int collect(void *arg, const sc_decision_image *d) {
  items *it = arg;
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 64;
    item *v = realloc(it->v, cap * sizeof(*v));
    if (!v) return SC_ERR_NOMEM;
    it->v = v;
    it->cap = cap;
  }
  item *x = &it->v[it->n];
  memset(x, 0, sizeof(*x));
  x->repo = strdup(d->repository);
  x->digest = strdup(d->digest);
  x->was = strdup(d->last_verdict);
  x->was_rule = dup_or_null(d->last_rule);
  x->pulls = d->count;
  x->last_at = d->last_at;
  it->n++;
  it->decisions += d->count;
  if (!x->repo || !x->digest || !x->was || (d->last_rule && !x->was_rule)) return SC_ERR_NOMEM;
  return 0;
}

/* Takes v into x when it is worse than what x holds. */
static void keep_worst(item *x, sc_verdict *v) {
  if (x->judged && v->decision <= x->now) return;
  x->judged = 1;
  x->now = v->decision;
  free(x->rule);
  x->rule = dup_or_null(v->rule);
  json_decref(x->reasons);
  x->reasons = v->reasons_json ? json_loads(v->reasons_json, 0, NULL) : NULL;
}

/* Judges one stored image (not an index) into x; 0, or an error with
 * x->why_not set. */
static int judge_one(sc_store *st, const sc_policy *p, item *x, const sc_store_image *img, int64_t now) {
  sc_verdict v;
  sc_judge_info info;
  char msg[256];
  memset(&v, 0, sizeof(v));
  int rc = sc_judge_image(st, p, x->repo, img->digest, img, now, &v, &info);
  if (rc == 0) keep_worst(x, &v);
  else if (!x->why_not) {
    snprintf(msg, sizeof(msg), "judgement of %s failed: %s", img->digest, sc_store_errmsg(st));
    x->why_not = strdup(msg);
  }
  sc_verdict_free(&v);
  return rc;
}

static void judge_item(sc_store *st, const sc_policy *p, item *x, int64_t now) {
  sc_store_image img;
  memset(&img, 0, sizeof(img));
  if (!x->digest[0]) {
    x->why_not = strdup("no digest was recorded for these pulls");
    return;
  }
  int rc = sc_store_get_image(st, x->digest, &img);
  char status[16];
  if (rc == SC_ERR_NOTFOUND && sc_store_layer_status(st, x->digest, status) == 0) {
    /* gate.blobs records layer pulls under the layer's digest */
    x->why_not = strdup("a layer (blob pull), not an image: its images' pulls are judged");
  } else if (rc == SC_ERR_NOTFOUND) {
    x->why_not = strdup("no longer in the store (or never an image): cannot be judged");
  } else if (rc != 0) {
    x->why_not = strdup("cannot be read from the store");
  } else if (img.kind == SC_MANIFEST_INDEX) {
    for (size_t i = 0; i < img.nchildren; i++) {
      sc_store_image child;
      memset(&child, 0, sizeof(child));
      if (sc_store_get_image(st, img.children[i], &child) == 0 && child.kind != SC_MANIFEST_INDEX)
        judge_one(st, p, x, &child, now);
      sc_store_image_free(&child);
    }
    if (!x->judged && !x->why_not) x->why_not = strdup("an index none of whose platforms is in the store");
  } else {
    judge_one(st, p, x, &img, now);
  }
  sc_store_image_free(&img);
  if (x->judged) {
    free(x->why_not); /* a failed platform does not hide the others' verdict */
    x->why_not = NULL;
  }
}

static int dir_index(const char *verdict) {
  if (!strcmp(verdict, "allow")) return 0;
  if (!strcmp(verdict, "warn")) return 1;
  if (!strcmp(verdict, "deny")) return 2;
  if (!strcmp(verdict, "unscanned")) return 3;
  return 4;
}

static int flipped(const item *x) { return x->judged && strcmp(x->was, sc_decision_name(x->now)) != 0; }

/* "CVE-2099-0001 (libssl3)" for each deny/warn reason naming a finding,
 * else its kind, at most REPLAY_WHY_MAX. */
static void print_why(const item *x) {
  size_t i, shown = 0;
  json_t *r;
  printf("      rule %s:", x->rule ? x->rule : "-");
  json_array_foreach(x->reasons, i, r) {
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *fnd = json_string_value(json_object_get(r, "finding"));
    const char *pkg = json_string_value(json_object_get(r, "package"));
    if (!kind || !strcmp(kind, "exception")) continue;
    if (shown++ == REPLAY_WHY_MAX) {
      printf(" ...");
      break;
    }
    if (fnd) printf(" %s%s%s%s", fnd, pkg ? " (" : "", pkg ? pkg : "", pkg ? ")" : "");
    else printf(" %s", kind);
  }
  if (!shown) printf(" no reason given");
  printf("\n");
}

static const char *const dir_names[REPLAY_NDIR] = {"allow", "warn", "deny", "unscanned", "other"};

static void print_table(const items *it, const char *policy, int64_t since, long long counts[][REPLAY_NDIR][2],
                        size_t judged, size_t unjudged) {
  char t[CMD_TIME_BYTES];
  const char *cur = NULL;
  cmd_fmt_time(since, t);
  printf("replay of %s since %s: %lld decision(s) on %zu image(s)\n", policy, t, (long long)it->decisions, it->n);
  for (size_t i = 0; i < it->n; i++) {
    const item *x = &it->v[i];
    if (!flipped(x) && x->judged) continue;
    if (!cur || strcmp(cur, x->repo)) printf("%s\n", (cur = x->repo)[0] ? cur : "(no repository)");
    cmd_fmt_time(x->last_at, t);
    if (x->judged) {
      printf("  %s  %lld pull(s), last %s: %s -> %s\n", x->digest, (long long)x->pulls, t, x->was,
             sc_decision_name(x->now));
      print_why(x);
    } else {
      printf("  %s  %lld pull(s), last %s: %s -> ?  %s\n", x->digest[0] ? x->digest : "(no digest)",
             (long long)x->pulls, t, x->was, x->why_not ? x->why_not : "cannot be judged");
    }
  }
  printf("summary: %lld decision(s), %zu image(s), %zu judged, %zu not judgeable\n", (long long)it->decisions,
         it->n, judged, unjudged);
  int any = 0;
  for (int a = 0; a < REPLAY_NDIR; a++)
    for (int b = 0; b < REPLAY_NDIR; b++)
      if (counts[a][b][0]) {
        printf("flips %s -> %s: %lld image(s), %lld pull(s)\n", dir_names[a], dir_names[b],
               counts[a][b][0], counts[a][b][1]);
        any = 1;
      }
  if (!any) printf("no pull would flip\n");
}

static int print_json(const items *it, const char *policy, int64_t since, int64_t now,
                      long long counts[][REPLAY_NDIR][2], size_t judged, size_t unjudged) {
  json_t *doc = json_object(), *repos = json_array(), *flips = json_object(), *repo = NULL, *imgs = NULL;
  const char *cur = NULL;
  char t[CMD_TIME_BYTES], key[32];
  if (!doc || !repos || !flips) return REPLAY_EXIT_ERROR;
  cmd_fmt_time(since, t);
  json_object_set_new(doc, "policy", json_string(policy));
  json_object_set_new(doc, "since", json_string(t));
  cmd_fmt_time(now, t);
  json_object_set_new(doc, "judged_at", json_string(t));
  json_object_set_new(doc, "decisions", json_integer(it->decisions));
  json_object_set_new(doc, "images", json_integer((json_int_t)it->n));
  json_object_set_new(doc, "judged", json_integer((json_int_t)judged));
  json_object_set_new(doc, "not_judgeable", json_integer((json_int_t)unjudged));
  for (int a = 0; a < REPLAY_NDIR; a++)
    for (int b = 0; b < REPLAY_NDIR; b++)
      if (counts[a][b][0]) {
        snprintf(key, sizeof(key), "%s->%s", dir_names[a], dir_names[b]);
        json_object_set_new(flips, key, json_pack("{s:I,s:I}", "images", (json_int_t)counts[a][b][0], "pulls",
                                                  (json_int_t)counts[a][b][1]));
      }
  json_object_set_new(doc, "flips", flips);
  for (size_t i = 0; i < it->n; i++) {
    const item *x = &it->v[i];
    if (!cur || strcmp(cur, x->repo)) {
      cur = x->repo;
      repo = json_object();
      imgs = json_array();
      json_object_set_new(repo, "repository", json_string(cur));
      json_object_set_new(repo, "images", imgs);
      json_array_append_new(repos, repo);
    }
    json_t *o = json_object();
    cmd_fmt_time(x->last_at, t);
    json_object_set_new(o, "digest", json_string(x->digest));
    json_object_set_new(o, "pulls", json_integer(x->pulls));
    json_object_set_new(o, "last_pull", json_string(t));
    json_object_set_new(o, "was", json_string(x->was));
    json_object_set_new(o, "was_rule", x->was_rule ? json_string(x->was_rule) : json_null());
    json_object_set_new(o, "judgeable", json_boolean(x->judged));
    json_object_set_new(o, "now", x->judged ? json_string(sc_decision_name(x->now)) : json_null());
    json_object_set_new(o, "rule", x->rule ? json_string(x->rule) : json_null());
    json_object_set_new(o, "flip", json_boolean(flipped(x)));
    json_object_set_new(o, "reasons", x->reasons ? json_incref(x->reasons) : json_array());
    if (x->why_not) json_object_set_new(o, "why_not", json_string(x->why_not));
    json_array_append_new(imgs, o);
  }
  json_object_set_new(doc, "repositories", repos);
  int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(DBL_DIG)) == 0
               ? 0
               : REPLAY_EXIT_ERROR;
  fputc('\n', stdout);
  json_decref(doc);
  return rc;
}

int cmd_policy_replay(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'},    {"policy", required_argument, 0, 'p'},
                                       {"since", required_argument, 0, 's'}, {"format", required_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
  const char *dbpath = "customs.db", *ppath = NULL, *since_s = "7d";
  int json = 0, c, rc = REPLAY_EXIT_ERROR;
  char *errors = NULL;
  sc_policy *p = NULL;
  sc_store *st = NULL;
  items it = {0};
  long long counts[REPLAY_NDIR][REPLAY_NDIR][2] = {{{0}}};
  size_t judged = 0, unjudged = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'd') dbpath = optarg;
    else if (c == 'p') ppath = optarg;
    else if (c == 's') since_s = optarg;
    else if (c == 'f' && !strcmp(optarg, "json")) json = 1;
    else if (c == 'f' && !strcmp(optarg, "table")) json = 0;
    else if (c == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return REPLAY_EXIT_ERROR;
    }
  }
  long long secs = parse_since(since_s);
  if (optind != argc || !ppath || secs < 0) {
    if (secs < 0)
      fprintf(stderr, "customs policy replay: --since: expected a duration (90, 30m, 12h, 7d, 2w), got '%s'\n",
              since_s);
    usage(stderr);
    return REPLAY_EXIT_ERROR;
  }
  if (sc_policy_load(ppath, &p, &errors) != 0) {
    fprintf(stderr, "customs policy replay: candidate policy refused:\n%s", errors ? errors : "cannot read it\n");
    if (errors && errors[0] && errors[strlen(errors) - 1] != '\n') fputc('\n', stderr);
    free(errors);
    return REPLAY_EXIT_ERROR;
  }
  free(errors);
  if (!(st = cmd_open_existing_db("policy replay", dbpath))) goto out;
  int64_t now = (int64_t)time(NULL), since = now - secs;
  if ((c = sc_decisions_images_since(st, since, collect, &it)) != 0) {
    fprintf(stderr, "customs policy replay: cannot read the decisions: %s\n",
            c == SC_ERR_NOMEM ? "out of memory" : sc_store_errmsg(st));
    goto out;
  }
  for (size_t i = 0; i < it.n; i++) {
    item *x = &it.v[i];
    judge_item(st, p, x, now);
    if (!x->judged) {
      unjudged++;
      continue;
    }
    judged++;
    if (flipped(x)) {
      int a = dir_index(x->was), b = dir_index(sc_decision_name(x->now));
      counts[a][b][0]++;
      counts[a][b][1] += x->pulls;
    }
  }
  int any = 0;
  for (int a = 0; a < REPLAY_NDIR; a++)
    for (int b = 0; b < REPLAY_NDIR; b++) any |= counts[a][b][0] != 0;
  if (json) {
    if (print_json(&it, ppath, since, now, counts, judged, unjudged) != 0) goto out;
  } else {
    print_table(&it, ppath, since, counts, judged, unjudged);
  }
  rc = any ? REPLAY_EXIT_FLIPS : REPLAY_EXIT_SAME;
out:
  for (size_t i = 0; i < it.n; i++) {
    item *x = &it.v[i];
    free(x->repo);
    free(x->digest);
    free(x->was);
    free(x->was_rule);
    free(x->why_not);
    free(x->rule);
    json_decref(x->reasons);
  }
  free(it.v);
  if (st) sc_store_close(st);
  sc_policy_free(p);
  return rc;
}
