/* cmd_events.c - `customs events [--db PATH] [--format table|json]
 * [--status pending|delivered|failed] [--limit N] [--event ID]`: the
 * webhook deliveries customs recorded (sc_events.h), newest first, with
 * their status, attempts, the last HTTP status and error; with --event, that
 * event's JSON too.  Webhooks are shown by format and origin only (a URL's
 * path can carry a token).  Read-only: the database is never created.
 * Thread: the command's.  Exit: 0, or 1 on error. */
#include "cmd.h"
#include "cmd_output.h"
#include "sc_err.h"
#include "sc_events.h"
#include "sc_store.h"

#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_DEFAULT_LIMIT 50     /* deliveries listed without --limit */
#define EVENTS_MAX_LIMIT 100000     /* --limit at most */
#define EVENTS_ORIGIN_BYTES 300     /* "scheme://host[:port]" shown for a webhook */

static const struct option events_opts[] = {{"db", required_argument, NULL, 'd'},
                                            {"format", required_argument, NULL, 'f'},
                                            {"status", required_argument, NULL, 's'},
                                            {"limit", required_argument, NULL, 'n'},
                                            {"event", required_argument, NULL, 'e'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};

static void events_usage(FILE *f) {
  fprintf(f, "usage: customs events [--db PATH] [--format table|json] [--status pending|delivered|failed]\n"
             "                      [--limit N] [--event ID]\n");
}

/* "format scheme://host[:port]" of a delivery's webhook: never its path. */
static void webhook_shown(const sc_delivery *d, char *out, size_t cap) {
  char origin[EVENTS_ORIGIN_BYTES];
  const char *u = d->url, *p = strstr(u, "://");
  size_t n = p ? (size_t)(p + 3 - u) + strcspn(p + 3, "/?#") : strcspn(u, "/?#");
  if (n >= sizeof(origin)) n = sizeof(origin) - 1;
  memcpy(origin, u, n);
  origin[n] = 0;
  size_t f = strcspn(d->hook, " "); /* the key is "<format> <url>" */
  snprintf(out, cap, "%.*s %s", (int)f, d->hook, origin);
}

static int print_table(const sc_delivery_list *l) {
  printf("%-8s %-20s %-20s %-16s %-9s %4s %4s  %s\n", "ID", "CREATED", "EVENT", "EVENT ID", "STATUS", "TRY", "HTTP",
         "WEBHOOK / LAST ERROR");
  for (size_t i = 0; i < l->n; i++) {
    const sc_delivery *d = &l->v[i];
    char ts[CMD_TIME_BYTES], hook[EVENTS_ORIGIN_BYTES + 40];
    cmd_fmt_time(d->created_at, ts);
    webhook_shown(d, hook, sizeof(hook));
    printf("%-8lld %-20s %-20s %-16.16s %-9s %4d %4ld  %s%s%s\n", (long long)d->id, ts, d->type, d->event,
           sc_delivery_status_name(d->status), d->attempts, d->last_status, hook, d->last_error ? "  " : "",
           d->last_error ? d->last_error : "");
  }
  if (!l->n) printf("(no deliveries recorded)\n");
  return 0;
}

static json_t *delivery_json(const sc_delivery *d) {
  char hook[EVENTS_ORIGIN_BYTES + 40];
  webhook_shown(d, hook, sizeof(hook));
  return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:I, s:o, s:I, s:o, s:o}", "id", (json_int_t)d->id, "event",
                   d->event, "type", d->type, "webhook", hook, "status", sc_delivery_status_name(d->status), "attempts",
                   d->attempts, "last_status", (json_int_t)d->last_status,
                   "last_error", d->last_error ? json_string(d->last_error) : json_null(), "created_at",
                   (json_int_t)d->created_at, "delivered_at",
                   d->delivered_at ? json_integer(d->delivered_at) : json_null(), "next_at",
                   d->status == SC_DELIVERY_PENDING ? json_integer(d->next_at) : json_null());
}

static int print_json(const sc_delivery_list *l, const char *event_json) {
  json_t *arr = json_array(), *o = json_object();
  int rv = !arr || !o;
  for (size_t i = 0; !rv && i < l->n; i++) {
    json_t *d = delivery_json(&l->v[i]);
    rv = !d || json_array_append_new(arr, d);
  }
  if (!rv && event_json) {
    json_t *ev = json_loads(event_json, 0, NULL);
    rv = !ev || json_object_set_new(o, "event", ev);
  }
  if (!rv) rv = json_object_set(o, "deliveries", arr);
  if (!rv) rv = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(DBL_DIG)) != 0;
  if (!rv) printf("\n");
  json_decref(arr);
  json_decref(o);
  return rv ? SC_ERR_NOMEM : 0;
}

static int parse_status(const char *s, int *out) {
  static const char *const names[] = {"pending", "delivered", "failed"};
  for (int i = 0; i < 3; i++)
    if (!strcmp(s, names[i])) return *out = i, 0;
  return -1;
}

int cmd_events(int argc, char **argv) {
  const char *db = "customs.db", *event = NULL;
  cmd_fmt fmt = CMD_FMT_TABLE;
  int c, status = -1;
  long limit = EVENTS_DEFAULT_LIMIT;
  char *end;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:f:s:n:e:h", events_opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'e': event = optarg; break;
    case 'f':
      if (cmd_parse_format(optarg, &fmt, 0)) {
        fprintf(stderr, "customs events: unknown format '%s' (table or json)\n", optarg);
        return CMD_EXIT_ERROR;
      }
      break;
    case 's':
      if (parse_status(optarg, &status)) {
        fprintf(stderr, "customs events: unknown status '%s' (pending, delivered or failed)\n", optarg);
        return CMD_EXIT_ERROR;
      }
      break;
    case 'n':
      limit = strtol(optarg, &end, 10);
      if (*end || limit < 1 || limit > EVENTS_MAX_LIMIT) {
        fprintf(stderr, "customs events: --limit: expected 1 to %d\n", EVENTS_MAX_LIMIT);
        return CMD_EXIT_ERROR;
      }
      break;
    case 'h': events_usage(stdout); return CMD_EXIT_PASS;
    default: events_usage(stderr); return CMD_EXIT_ERROR;
    }
  }
  if (optind != argc) {
    events_usage(stderr);
    return CMD_EXIT_ERROR;
  }
  sc_store *st = cmd_open_existing_db("events", db);
  if (!st) return CMD_EXIT_ERROR;
  sc_delivery_list l = {0};
  char *json = NULL;
  int rv = 0;
  if (event) {
    rv = sc_events_get(st, event, &json);
    if (rv == SC_ERR_NOTFOUND) fprintf(stderr, "customs events: no event %s\n", event);
    if (!rv) rv = sc_events_list(st, event, (size_t)limit, &l);
  } else {
    rv = sc_events_recent(st, status, (size_t)limit, &l);
  }
  if (!rv && fmt == CMD_FMT_JSON) rv = print_json(&l, json);
  else if (!rv) {
    if (json) printf("%s\n\n", json);
    rv = print_table(&l);
  }
  if (rv && rv != SC_ERR_NOTFOUND) fprintf(stderr, "customs events: %s\n", customs_strerror(rv));
  free(json);
  sc_delivery_list_free(&l);
  sc_store_close(st);
  return rv ? CMD_EXIT_ERROR : CMD_EXIT_PASS;
}
