/* cmd_lineage.c - `customs lineage [--db PATH] [--format table|json]
 * REPO:TAG | REPO@DIGEST`: what a stored image is built on (its base chain,
 * nearest first, each base with how it was found, its layers and whether
 * its tag has moved since: "stale base: superseded N days ago, fixes K
 * findings" or "current"), and the images built on it.  The facts come
 * from sc_lineage_describe (scanner/sc_lineage.h); --format json prints
 * that document as is, the table is a reading of it.
 * Exit: 0, or 1 on error (unknown image, unreadable database).
 * Thread: the command's.  Errors: messages on stderr. */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_err.h"
#include "sc_lineage.h"
#include "sc_report.h"
#include "sc_store.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LINEAGE_TABLE_MAX_FIXES 10 /* findings listed under a stale base in the table (all are counted) */
#define LINEAGE_REPO_MAX_BYTES 512
#define LINEAGE_REF_MAX_BYTES 200

static const struct option lineage_opts[] = {{"db", required_argument, NULL, 'd'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

static void lineage_usage(FILE *f) {
  fprintf(f, "usage: customs lineage [--db PATH] [--format table|json] REPO:TAG | REPO@DIGEST\n");
}

static const char *jstr(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s && s[0] ? s : NULL;
}

static long long jint(const json_t *o, const char *k) {
  const json_t *v = json_object_get(o, k);
  return json_is_integer(v) ? (long long)json_integer_value(v) : json_is_real(v) ? (long long)json_real_value(v) : 0;
}

/* "repo:tag", else "repo@digest", else the digest. */
static void print_name(const json_t *o, const char *digest) {
  const char *repo = jstr(o, "repository"), *tag = jstr(o, "tag");
  if (repo && tag) printf("%s:%s", repo, tag);
  else if (repo && digest) printf("%s@%s", repo, digest);
  else printf("%s", digest ? digest : "(unknown)");
}

/* "annotation" or "layer chain", whether the document says it as a name or as SC_BASE_*. */
static const char *how_name(const json_t *b) {
  const json_t *h = json_object_get(b, "how");
  if (json_is_string(h)) return !strcmp(json_string_value(h), "chain") ? "layer chain" : json_string_value(h);
  return jint(b, "how") == SC_BASE_BY_ANNOTATION ? "annotation" : "layer chain";
}

static void print_fixes(const json_t *b) {
  const json_t *fixes = json_object_get(b, "fixes");
  size_t n = json_array_size(fixes);
  long long total = json_is_integer(json_object_get(b, "fixes_total")) ? jint(b, "fixes_total") : (long long)n;
  if (!json_is_true(json_object_get(b, "fixes_known"))) {
    printf("fixes an unknown number of findings (the new base was never scanned by customs)\n");
    return;
  }
  printf("fixes %lld finding%s\n", total, total == 1 ? "" : "s");
  for (size_t i = 0; i < n && i < LINEAGE_TABLE_MAX_FIXES; i++) {
    const json_t *f = json_array_get(fixes, i);
    const char *fixed = jstr(f, "fixed");
    printf("          %-20s %-9s %s %s -> %s\n", jstr(f, "id") ? jstr(f, "id") : "?",
           jstr(f, "severity") ? jstr(f, "severity") : "unknown", jstr(f, "package") ? jstr(f, "package") : "?",
           jstr(f, "version") ? jstr(f, "version") : "?", fixed ? fixed : "no fixed version");
  }
  if (total > LINEAGE_TABLE_MAX_FIXES) printf("          and %lld more\n", total - LINEAGE_TABLE_MAX_FIXES);
}

static void print_base(size_t i, const json_t *b) {
  const char *digest = jstr(b, "digest"), *index = jstr(b, "index"), *origin = jstr(b, "origin");
  printf("  %zu. ", i + 1);
  print_name(b, digest);
  printf("\n     digest:  %s\n", digest ? digest : "(unknown)");
  if (index) printf("     index:   %s\n", index);
  long long layers = jint(b, "layers");
  printf("     found:   by %s, %lld layer%s%s\n", how_name(b), layers, layers == 1 ? "" : "s",
         origin && !strcmp(origin, "watch") ? ", watched upstream" : "");
  if (!json_is_true(json_object_get(b, "stale"))) {
    printf("     status:  current\n");
    return;
  }
  long long days = jint(b, "superseded_days"), at = jint(b, "superseded_at");
  char when[CMD_TIME_BYTES];
  cmd_fmt_time(at, when);
  printf("     status:  stale base: superseded %lld day%s ago (%s), ", days, days == 1 ? "" : "s", when);
  print_fixes(b);
  if (jstr(b, "new_digest")) printf("     now:     %s\n", jstr(b, "new_digest"));
}

/* The tag's moves, newest first, and what is still on the digests it left. */
static void print_history(const json_t *h) {
  if (!json_is_array(h)) return;
  printf("\ntag history (newest first):\n");
  if (!json_array_size(h)) printf("  none recorded\n");
  for (size_t i = 0; i < json_array_size(h); i++) {
    const json_t *e = json_array_get(h, i), *on = json_object_get(e, "images_on_it");
    char from[CMD_TIME_BYTES], to[CMD_TIME_BYTES];
    cmd_fmt_time(jint(e, "at"), from);
    if (jint(e, "until")) cmd_fmt_time(jint(e, "until"), to);
    else snprintf(to, sizeof(to), "now");
    printf("  %s  %s .. %s", jstr(e, "digest") ? jstr(e, "digest") : "?", from, to);
    if (json_array_size(on)) {
      printf("  still built on it:");
      for (size_t k = 0; k < json_array_size(on); k++) {
        printf(k ? ", " : " ");
        print_name(json_array_get(on, k), NULL);
      }
    }
    printf("\n");
  }
}

static void print_table(const json_t *d) {
  const json_t *bases = json_object_get(d, "bases"), *up = json_object_get(d, "built_on_this");
  const char *digest = jstr(d, "digest");
  printf("image:   ");
  print_name(d, digest);
  printf("\ndigest:  %s\n\nbase chain (nearest first):\n", digest ? digest : "(unknown)");
  if (!json_array_size(bases)) printf("  none known\n");
  for (size_t i = 0; i < json_array_size(bases); i++) print_base(i, json_array_get(bases, i));
  printf("\nbuilt on this image (%zu):\n", json_array_size(up));
  if (!json_array_size(up)) printf("  none known\n");
  for (size_t i = 0; i < json_array_size(up); i++) {
    const json_t *u = json_array_get(up, i);
    printf("  ");
    print_name(u, jstr(u, "digest"));
    printf("  %s\n", jstr(u, "digest") ? jstr(u, "digest") : "");
  }
  print_history(json_object_get(d, "history"));
}

static int lineage(sc_store *st, const char *arg, const char *repo, const char *ref, cmd_fmt fmt) {
  json_t *doc = NULL;
  int rv = sc_lineage_describe(st, repo, ref, (int64_t)time(NULL), &doc);
  if (rv || !doc) {
    fprintf(stderr, "customs lineage: %s: %s\n", arg,
            rv == SC_ERR_NOTFOUND ? "image not found in the database"
            : rv == SC_ERR_DB     ? sc_store_errmsg(st)
            : rv                  ? customs_strerror(rv)
                                  : "no lineage document");
    json_decref(doc);
    return CMD_EXIT_ERROR;
  }
  if (fmt == CMD_FMT_JSON) {
    rv = sc_report_write_json(doc, stdout);
  } else {
    print_table(doc);
    rv = fflush(stdout) == 0 && !ferror(stdout) ? 0 : SC_ERR_IO;
  }
  json_decref(doc);
  if (rv) fprintf(stderr, "customs lineage: cannot write the output: %s\n", customs_strerror(rv));
  return rv ? CMD_EXIT_ERROR : CMD_EXIT_PASS;
}

int cmd_lineage(int argc, char **argv) {
  const char *db = "customs.db";
  cmd_fmt fmt = CMD_FMT_TABLE;
  char repo[LINEAGE_REPO_MAX_BYTES], ref[LINEAGE_REF_MAX_BYTES];
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:f:h", lineage_opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'f':
      if (cmd_parse_format(optarg, &fmt, 0)) {
        fprintf(stderr, "customs lineage: unknown format '%s' (table or json)\n", optarg);
        return CMD_EXIT_ERROR;
      }
      break;
    case 'h': lineage_usage(stdout); return CMD_EXIT_PASS;
    default: lineage_usage(stderr); return CMD_EXIT_ERROR;
    }
  }
  if (optind != argc - 1) {
    lineage_usage(stderr);
    return CMD_EXIT_ERROR;
  }
  const char *arg = argv[optind];
  if (cmd_split_ref(arg, repo, sizeof(repo), ref, sizeof(ref)) < 0) {
    fprintf(stderr, "customs lineage: expected REPO:TAG or REPO@DIGEST, got '%s'\n", arg);
    return CMD_EXIT_ERROR;
  }
  sc_store *st = cmd_open_existing_db("lineage", db);
  if (!st) return CMD_EXIT_ERROR;
  int code = lineage(st, arg, repo, ref, fmt);
  sc_store_close(st);
  return code;
}
