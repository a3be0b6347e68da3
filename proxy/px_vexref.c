/* px_vexref.c - VEX referrers fetched and stored as their manifests pass
 * through customs (see px_vexref.h).
 * Ownership: fetched buffers are freed here.  Thread: a scan worker or the
 * sync thread, with its own px_worker (store, HTTP client).
 * Errors: stored as the row's error, or logged (px_vexref.h). */
#include "px_vexref.h"
#include "px_fetch.h"
#include "px_log.h"
#include "sc_store.h"
#include "sc_store_vex.h"
#include "sc_vex.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VEXREF_WHY_BYTES 400 /* one stored reason */

/* mt is application/vnd.openvex+json (any case, parameters ignored). */
static int is_vex(const char *mt) {
  size_t n = strlen(SC_VEXREF_MEDIA_TYPE);
  if (!mt || strncasecmp(mt, SC_VEXREF_MEDIA_TYPE, n)) return 0;
  mt += n;
  while (*mt == ' ' || *mt == '\t') mt++;
  return *mt == '\0' || *mt == ';';
}

px_vexref_kind px_vexref_pick(const sc_manifest *m, const char **blob, int64_t *size, char *why, size_t whylen) {
  *blob = NULL;
  *size = -1;
  if (why && whylen) why[0] = '\0';
  if (!m || m->kind != SC_MANIFEST_IMAGE || !m->subject) return PX_VEXREF_NONE;
  if (!is_vex(m->artifact_type) && !is_vex(m->config_media_type) &&
      !(m->nlayers == 1 && is_vex(m->layers[0].media_type)))
    return PX_VEXREF_NONE;
  size_t typed = 0, at = 0;
  for (size_t i = 0; i < m->nlayers; i++)
    if (is_vex(m->layers[i].media_type)) typed++, at = i;
  if (typed > 1) {
    snprintf(why, whylen, "%zu layers are typed %s: which one is the document is ambiguous", typed,
             SC_VEXREF_MEDIA_TYPE);
    return PX_VEXREF_BAD;
  }
  if (typed == 1 || m->nlayers == 1) {
    *blob = m->layers[at].digest;
    *size = m->layers[at].size;
  } else if (m->nlayers == 0 && is_vex(m->config_media_type) && m->config_digest) {
    *blob = m->config_digest; /* the document as the config (no layers) */
  } else {
    snprintf(why, whylen, "none of its %zu layers is typed %s", m->nlayers, SC_VEXREF_MEDIA_TYPE);
    return PX_VEXREF_BAD;
  }
  if (*size > SC_VEXREF_MAX_BYTES) {
    snprintf(why, whylen, "the VEX blob is %lld bytes, over the limit of %d", (long long)*size, SC_VEXREF_MAX_BYTES);
    return PX_VEXREF_BAD;
  }
  return PX_VEXREF_BLOB;
}

/* Fetches blob and checks it: the document text (malloc'd), or NULL with
 * why set. */
static char *fetch_doc(px_ctx *ctx, px_worker *w, const char *repo, const char *digest, const char *blob,
                       const char *client_auth, char *why, size_t whylen) {
  char ferr[300] = "", got[72], verr[SC_VEX_ERR_BYTES], name[200];
  size_t n = 0;
  if (w->before_fetch && w->before_fetch(w->before_fetch_arg) != 0) {
    snprintf(why, whylen, "customs stopped before fetching the VEX blob %s", blob);
    return NULL;
  }
  /* a blob of exactly SC_VEXREF_MAX_BYTES is still fetched (cap: fewer than) */
  char *buf = px_fetch_small(w->http, ctx, repo, blob, client_auth, w->abort_flag, (size_t)SC_VEXREF_MAX_BYTES + 1, &n,
                             ferr, sizeof(ferr));
  if (!buf) {
    snprintf(why, whylen, "cannot fetch the VEX blob: %s", ferr);
    return NULL;
  }
  if (strncmp(blob, "sha256:", 7) != 0) {
    snprintf(why, whylen, "the VEX blob's digest %s is not sha256: it cannot be verified", blob);
  } else if (sc_digest_sha256(buf, n, got) != 0) {
    snprintf(why, whylen, "out of memory");
  } else if (strcmp(got, blob) != 0) {
    snprintf(why, whylen, "the fetched VEX blob does not match its digest %s (got %s)", blob, got);
  } else if (strlen(buf) != n) {
    snprintf(why, whylen, "the VEX blob is not text (it holds a NUL byte)");
  } else {
    sc_vex_doc *doc = NULL;
    snprintf(name, sizeof(name), "referrer %s", digest);
    if (sc_vex_parse(name, buf, n, &doc, verr, sizeof(verr)) == 0) {
      sc_vex_doc_free(doc);
      return buf;
    }
    snprintf(why, whylen, "not a valid OpenVEX document: %s", verr);
  }
  free(buf);
  return NULL;
}

void px_vexref_record(px_ctx *ctx, px_worker *w, const char *repo, const char *digest, const char *ctype,
                      const char *body, size_t len, const char *client_auth) {
  sc_manifest m;
  const char *blob = NULL;
  int64_t size = -1;
  char why[VEXREF_WHY_BYTES] = "", *doc = NULL;
  if (!w->store || !body) return;
  /* parsed again: the job trims an artifact's non-layer blobs from its copy */
  if (sc_manifest_parse(body, len, ctype && ctype[0] ? ctype : NULL, &m) != 0) {
    sc_manifest_free(&m);
    return;
  }
  px_vexref_kind k = px_vexref_pick(&m, &blob, &size, why, sizeof(why));
  if (k == PX_VEXREF_NONE) {
    sc_manifest_free(&m);
    return;
  }
  if (k == PX_VEXREF_BLOB) doc = fetch_doc(ctx, w, repo, digest, blob, client_auth, why, sizeof(why));
  if (sc_store_vex_put(w->store, repo, m.subject, digest, blob, doc, doc ? NULL : why) != 0)
    px_error("vex referrer %s@%s: cannot store it: %s", repo, digest, sc_store_errmsg(w->store));
  else if (doc)
    px_info("vex referrer repo=%s digest=%s subject=%s blob=%s bytes=%zu: stored", repo, digest, m.subject, blob,
            strlen(doc));
  else
    px_warn("vex referrer repo=%s digest=%s subject=%s: not usable: %s", repo, digest, m.subject, why);
  free(doc);
  sc_manifest_free(&m);
}
