/* px_admin_int.h - private to the admin listener's modules:
 *   px_admin.c        the listener (evhttp on the loop), auth, security
 *                     headers, routing, /healthz, /metrics, dashboard files
 *   px_admin_query.c  pure helpers: query parameters, paging, the bearer
 *                     check, loopback addresses, the token file
 *   px_admin_ready.c  /readyz: database ping, policy, the cached upstream probe
 *   px_admin_api.c    the JSON API: requests answered from database tasks
 * Owner: ctx->admin (struct px_admin).  Thread: the loop, except the
 * functions marked "database thread" and the probe thread of
 * px_admin_ready.c.  Errors: SC_ERR_* (sc_err.h). */
#ifndef CUSTOMS_PX_ADMIN_INT_H
#define CUSTOMS_PX_ADMIN_INT_H
#include <stddef.h>
#include <stdint.h>
#include "px_admin.h"
#include "px_dbq.h"
#include "px_gate.h"
#include "px_policy.h"
#include "sc_err.h"
#include "sc_store.h"
#include <jansson.h>

struct evhttp;
struct evhttp_request;
struct evhttp_bound_socket;
struct json_t;

#define PX_ADMIN_MAX_HEADERS_BYTES 8192   /* request line and headers together */
#define PX_ADMIN_MAX_BODY_BYTES 1024      /* only GET and HEAD are served: no body is read */
#define PX_ADMIN_TIMEOUT_S 30             /* idle read/write per connection */
#define PX_ADMIN_MAX_QUERY_BYTES 2048     /* a longer query string is refused (400) */
#define PX_ADMIN_MAX_PARAM_BYTES 256      /* one decoded parameter value */
#define PX_ADMIN_MAX_PARAMS 8             /* parameters in one query */
#define PX_ADMIN_MAX_TOKEN_BYTES 1024     /* the token file's first line */
#define PX_ADMIN_DEFAULT_PER_PAGE 50
#define PX_ADMIN_MAX_PAGE 100000          /* page numbers past it are refused */
#define PX_ADMIN_DEFAULT_DECISIONS 100
#define PX_ADMIN_MAX_FINDINGS 1000        /* findings in one /api/image answer ("findings_truncated") */
#define PX_ADMIN_MAX_PACKAGES 5000        /* packages in one /api/image answer ("packages_truncated") */
#define PX_ADMIN_MAX_SECRETS 500          /* secrets in one /api/image answer ("secrets_truncated") */
#define PX_ADMIN_MAX_JUDGED 2000          /* images one request judges at most (?verdict= filter, summary) */
#define PX_ADMIN_MAX_EVENTS 200           /* deliveries in one /api/events answer */
#define PX_ADMIN_MAX_PENDING 256          /* API requests waiting for the database threads; then 503 */
#define PX_ADMIN_PROBE_TTL_S 5            /* an upstream probe result is reused this long */
#define PX_ADMIN_PROBE_CONNECT_MS 2000    /* the probe's connect timeout */
#define PX_ADMIN_PROBE_IDLE_S 2           /* and its idle timeout */
#define PX_ADMIN_READY_TIMEOUT_MS 5000    /* /readyz answers 503 when a check takes longer */

typedef struct px_admin px_admin;
typedef struct px_admin_job px_admin_job;
typedef struct px_admin_ready px_admin_ready;
typedef struct px_admin_probe px_admin_probe;

struct px_admin {
  px_ctx *ctx;
  struct evhttp *http;
  struct evhttp_bound_socket *sock;
  char host[256];          /* the listen host as configured */
  int port;                /* the bound port (the configured one, or the kernel's for port 0) */
  int has_token;
  unsigned char token_sha[32]; /* SHA-256 of the token: the token itself is not kept */
  px_admin_job *jobs;      /* API requests waiting for a database task */
  int njobs;
  px_admin_ready *ready;   /* /readyz requests waiting */
  px_admin_probe *probe;   /* the upstream probe (px_admin_ready.c) */
};

/* ---- px_admin_api.c / px_admin_images.c: one API request ---- */

enum { API_SUMMARY, API_REPOSITORIES, API_IMAGES, API_IMAGE, API_DECISIONS, API_VULNDB, API_LINEAGE, API_EVENTS };

struct px_admin_job {
  px_admin *a;                 /* loop: NULL once abandoned (stop) */
  struct evhttp_request *req;  /* loop */
  px_dbtask *task;
  px_admin_job *prev, *next;   /* a->jobs */
  int kind;
  px_gate *gate;               /* ctx->gate: outlives the task */
  px_policy_ref *pol;          /* the policy in force when asked (NULL: none) */
  char repo[PX_ADMIN_MAX_PARAM_BYTES + 1], ref[PX_ADMIN_MAX_PARAM_BYTES + 1], q[PX_ADMIN_MAX_PARAM_BYTES + 1];
  char verdict[16];            /* "" or allow|warn|deny|unscanned */
  int64_t page, per_page, offset, before, limit;
  json_t *extra;               /* summary: the policy part, made on the loop */
  /* the answer, made on the database thread */
  int status;
  char *body;
};

/* An answer {"error": msg} with status (the job's answer; returns 0). */
int px_admin_fail(px_admin_job *j, int status, const char *msg, json_t **doc);
/* A database failure: logged, answered 500. */
int px_admin_db_fail(px_admin_job *j, sc_store *st, int rc, json_t **doc);
json_t *px_admin_str_or_null(const char *s);
/* The handlers of px_admin_images.c (database thread): fill *doc. */
int px_admin_run_images(px_admin_job *j, sc_store *st, json_t **doc);
int px_admin_run_image(px_admin_job *j, sc_store *st, json_t **doc);
int px_admin_run_summary(px_admin_job *j, sc_store *st, json_t **doc);

/* ---- px_admin_query.c ---- */

/* One parsed query: names and decoded values (owned). */
typedef struct px_admin_query {
  char *name[PX_ADMIN_MAX_PARAMS], *value[PX_ADMIN_MAX_PARAMS];
  int n;
} px_admin_query;
/* Parses query (may be NULL) into q: each name must be one of allowed (a
 * NULL-terminated list), appear once, and its value hold at most
 * PX_ADMIN_MAX_PARAM_BYTES bytes without control characters.  SC_ERR_INVALID
 * with a reason in err otherwise (q is then empty). */
int px_admin_query_parse(const char *query, const char *const *allowed, px_admin_query *q, char *err, size_t errlen);
void px_admin_query_free(px_admin_query *q);
/* The value of name, or NULL. */
const char *px_admin_query_get(const px_admin_query *q, const char *name);
/* name as a decimal integer in [min, max], def when absent.  SC_ERR_INVALID
 * with a reason in err otherwise. */
int px_admin_query_int(const px_admin_query *q, const char *name, int64_t def, int64_t min, int64_t max,
                       int64_t *out, char *err, size_t errlen);
/* Paging: page (1-based) and per_page (1..PX_ADMIN_MAX_PER_PAGE, default
 * PX_ADMIN_DEFAULT_PER_PAGE) from q, and the offset of the page's first row. */
int px_admin_paging(const px_admin_query *q, int64_t *page, int64_t *per_page, int64_t *offset, char *err,
                    size_t errlen);
/* Whether the Authorization value carries the token whose SHA-256 is sha
 * (scheme "Bearer", case-insensitive; compared in constant time). */
int px_admin_bearer_ok(const char *authorization, const unsigned char sha[32]);
/* Whether host (an address literal or a name) is a loopback address:
 * 127.0.0.0/8, ::1, ::ffff:127.x.x.x or "localhost".  "" (every
 * interface) and other names are not. */
int px_admin_is_loopback(const char *host);
/* Whether a Host header value names this listener without a rebinding
 * risk: an address literal, "localhost", or listen_host (with any port). */
int px_admin_host_ok(const char *host_header, const char *listen_host);
/* Reads the token (first line, trailing blanks cut) of path; SC_ERR_IO when
 * unreadable, SC_ERR_INVALID when empty or over PX_ADMIN_MAX_TOKEN_BYTES. */
int px_admin_read_token(const char *path, char *out, size_t cap);

/* ---- px_admin.c ---- */

/* Answers req with status and body (len bytes, type), with the security
 * headers; HEAD gets the headers only. */
void px_admin_reply(struct evhttp_request *req, int status, const char *type, const char *body, size_t len);
/* {"error": msg} with status. */
void px_admin_reply_error(struct evhttp_request *req, int status, const char *msg);
/* A JSON document (stolen: decref'd here). */
void px_admin_reply_json(struct evhttp_request *req, int status, struct json_t *doc);

/* ---- px_admin_ready.c ---- */

int px_admin_ready_init(px_admin *a);
/* Starts answering one /readyz. */
void px_admin_readyz(px_admin *a, struct evhttp_request *req);
/* Abandons waiting requests, joins the probe thread. */
void px_admin_ready_stop(px_admin *a);

/* ---- px_admin_api.c ---- */

/* Answers one GET /api/... (path without the query). */
void px_admin_api(px_admin *a, struct evhttp_request *req, const char *path, const char *query);
/* Abandons the API requests still waiting for the database threads. */
void px_admin_api_stop(px_admin *a);
#endif
