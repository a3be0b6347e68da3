/* sc_config.h - facts from an OCI / Docker image configuration blob.
 *
 * The config (application/vnd.oci.image.config.v1+json or
 * application/vnd.docker.container.image.v1+json) is small JSON; it is
 * parsed whole with jansson, after a hard size cap, and read with the key
 * semantics of Go's encoding/json or refused (sc_gojson.h).
 * Thread: any; no global state. */
#ifndef CUSTOMS_SC_CONFIG_H
#define CUSTOMS_SC_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include "sc_inventory.h"

#define SC_CONFIG_MAX_BYTES (8u * 1024 * 1024) /* bigger configs are refused */
#define SC_CONFIG_MAX_ITEMS 65536              /* ports, env entries, diff_ids */

typedef struct sc_image_config {
  char *os, *architecture, *variant; /* NULL when absent */
  char *user;                        /* config.User, "" when absent */
  int runs_as_root;                  /* user (before ':') empty, "root" or "0" */
  char **exposed_ports;              /* "80/tcp", in the config's order */
  size_t nports;
  char **secret_env;                 /* names of env vars that look like secrets
                                        (*PASSWORD*, *SECRET*, *TOKEN*, *API_KEY*,
                                        AWS_SECRET_ACCESS_KEY) with a non-empty value */
  size_t nsecret_env;
  int64_t created;                   /* unix seconds from "created" (RFC 3339), -1 if
                                        absent or unparseable */
  char **diff_ids;                   /* rootfs.diff_ids, bottom layer first */
  size_t ndiff_ids;
} sc_image_config;

/* Parses len bytes of json into *out (zeroed first; free with
 * sc_config_free, also after an error).  Accepts only configs that Go
 * clients read the same way (sc_gojson.h): no duplicate keys at any depth;
 * in struct objects (top, config, container_config, rootfs, history[],
 * Healthcheck) no key that folds (Go's case fold, with U+017F and U+212A) to
 * a field name without being spelled like it, and no two keys folding to
 * each other.  Maps (ExposedPorts, Volumes, Labels) take any exact keys.
 * Returns 0, SC_ERR_FORMAT (not JSON, not an object, wrong member types,
 * any of the above),
 * SC_ERR_LIMIT (over SC_CONFIG_MAX_BYTES or SC_CONFIG_MAX_ITEMS),
 * SC_ERR_NOMEM or SC_ERR_ARG (NULL argument). */
int sc_config_parse(const char *json, size_t len, sc_image_config *out);
void sc_config_free(sc_image_config *c);

/* The same reading as sc_config_parse, for a yes/no answer: 0 when the
 * config is acceptable, else the SC_ERR_* code with a one-line reason of
 * printable ASCII in why (whycap bytes; why may be NULL when whycap is 0),
 * e.g. `key "Diff_IDs" at $.rootfs folds to "diff_ids" (Go clients read it
 * case-insensitively)`. */
int sc_config_check(const char *json, size_t len, char *why, size_t whycap);

/* The Go type tree (sc_gojson_type) configs are checked against; static. */
struct sc_gojson_type;
const struct sc_gojson_type *sc_config_gotype(void);

/* RFC 3339 timestamp ("2024-01-02T03:04:05.678Z", "...+02:00") to unix
 * seconds.  Returns 0 or SC_ERR_FORMAT. */
int sc_config_parse_time(const char *s, int64_t *out);
#endif
