/* px_annotate_push.c - pushing one annotation artifact to the registry
 * (see px_annotate_int.h): the subject's descriptor, the blobs (HEAD, else
 * POST an upload and PUT it with ?digest=), the manifest by digest, and the
 * referrers tag schema when the registry lacks the referrers API.
 *
 * Requests go through net_http_registry_send/_get (the token flow for
 * scope repository:<repo>:pull,push; no redirect carries credentials to
 * another origin; an upload Location on another origin gets none at all).
 * Errors name the request and the status, never a query string or a
 * credential.
 * Owner: the annotation thread.  Thread: that one.  Errors: see the header. */
#include "px_annotate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_image.h"

#define URL_MAX (PX_PATH_MAX + 2048) /* base + path, or an upload Location + ?digest= */
#define SCOPE_MAX (PX_PATH_MAX + 64)
#define SUBJECT_ACCEPT SC_MT_OCI_MANIFEST ", " SC_MT_DOCKER_MANIFEST ", " SC_MT_OCI_INDEX ", " SC_MT_DOCKER_LIST

static void scope_of(const char *repo, char *out, size_t cap) { snprintf(out, cap, "repository:%s:pull,push", repo); }

static int fail(char *err, size_t errlen, const net_http_resp *rs, const char *what, int rv) {
  snprintf(err, errlen, "%s: %s", what, rs->error[0] ? rs->error : "unexpected answer");
  return rv;
}

/* One send with the common settings. */
static int send_req(px_annot_reg *r, const char *method, const char *url, const void *body, size_t len,
                    const char *ctype, const char *repo, int anonymous, net_http_resp *rs) {
  char scope[SCOPE_MAX];
  scope_of(repo, scope, sizeof(scope));
  net_http_send_req rq = {.method = method, .url = url, .body = body, .len = len, .content_type = ctype,
                          .scope = scope, .anonymous = anonymous, .timeout_ms = PX_ANNOT_REQUEST_TIMEOUT_MS,
                          .max_bytes = PX_ANNOT_ANSWER_MAX_BYTES, .abort_flag = r->abort_flag};
  return net_http_registry_send(r->http, &rq, rs);
}

int px_annot_subject(px_annot_reg *r, const char *repo, const char *digest, char media_type[PX_ANNOT_MEDIA_TYPE_MAX],
                     int64_t *size, char *err, size_t errlen) {
  char url[URL_MAX], scope[SCOPE_MAX], got[SC_ANNOT_DIGEST_BYTES];
  net_http_resp rs;
  snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->base, repo, digest);
  snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
  net_http_req rq = {.url = url, .accept = SUBJECT_ACCEPT, .scope = scope, .fd = -1,
                     .max_bytes = SC_MANIFEST_MAX_BYTES, .abort_flag = r->abort_flag};
  int rv = net_http_registry_get(r->http, &rq, &rs);
  if (rv || rs.status != 200) {
    rv = !rv && rs.status == 404 ? SC_ERR_NOTFOUND : SC_ERR_IO;
    fail(err, errlen, &rs, "the image's manifest", rv);
    net_http_resp_free(&rs);
    return rv;
  }
  rv = sc_digest_sha256(rs.body ? rs.body : "", rs.len, got);
  if (!rv && strcmp(got, digest)) {
    snprintf(err, errlen, "the image's manifest: the registry answered %s for %s", got, digest);
    rv = SC_ERR_IO;
  }
  /* the media type without parameters; a registry that sends none gets
   * the one the document names */
  size_t n = strcspn(rs.content_type, "; ");
  if (n && n < PX_ANNOT_MEDIA_TYPE_MAX) snprintf(media_type, PX_ANNOT_MEDIA_TYPE_MAX, "%.*s", (int)n, rs.content_type);
  else snprintf(media_type, PX_ANNOT_MEDIA_TYPE_MAX, "%s", SC_MT_OCI_MANIFEST);
  *size = (int64_t)rs.len;
  net_http_resp_free(&rs);
  return rv;
}

/* Uploads one blob unless the repository has it. */
static int push_blob(px_annot_reg *r, const char *repo, const char *digest, const void *data, size_t len, char *err,
                     size_t errlen) {
  char url[URL_MAX], what[160];
  net_http_resp rs;
  snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", r->base, repo, digest);
  int rv = send_req(r, "HEAD", url, NULL, 0, NULL, repo, 0, &rs);
  if (!rv && rs.status == 200) return 0;
  snprintf(url, sizeof(url), "%s/v2/%s/blobs/uploads/", r->base, repo);
  snprintf(what, sizeof(what), "blob %.80s: starting the upload", digest);
  if ((rv = send_req(r, "POST", url, "", 0, NULL, repo, 0, &rs)) || rs.status != 202 || !rs.location[0]) {
    if (!rv && !rs.location[0] && rs.status == 202) snprintf(rs.error, sizeof(rs.error), "no Location");
    rv = fail(err, errlen, &rs, what, SC_ERR_IO);
    net_http_resp_free(&rs);
    return rv;
  }
  net_http_resp_free(&rs);
  /* the Location may be relative, and may carry a query (_state) */
  const char *loc = rs.location;
  int n = loc[0] == '/' ? snprintf(url, sizeof(url), "%s%s", r->base, loc) : snprintf(url, sizeof(url), "%s", loc);
  if (n < 0 || (size_t)n + 90 >= sizeof(url)) {
    snprintf(err, errlen, "blob %.80s: upload Location too long", digest);
    return SC_ERR_IO;
  }
  snprintf(url + n, sizeof(url) - (size_t)n, "%cdigest=sha256%%3A%s", strchr(url, '?') ? '&' : '?', digest + 7);
  /* an upload on another origin (object storage) gets no credentials */
  int other = !net_http_same_origin(url, r->base);
  snprintf(what, sizeof(what), "blob %.80s: upload", digest);
  rv = send_req(r, "PUT", url, data, len, "application/octet-stream", repo, other, &rs);
  if (rv || rs.status != 201) rv = fail(err, errlen, &rs, what, SC_ERR_IO);
  net_http_resp_free(&rs);
  return rv;
}

/* PUT /v2/<repo>/manifests/<ref> of body; *subject_hdr: OCI-Subject came back. */
static int put_manifest(px_annot_reg *r, const char *repo, const char *ref, const char *ctype, const char *body,
                        size_t len, const char *want_digest, int *subject_hdr, char *err, size_t errlen) {
  char url[URL_MAX], what[160];
  net_http_resp rs;
  snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->base, repo, ref);
  snprintf(what, sizeof(what), "manifest %.100s", ref);
  int rv = send_req(r, "PUT", url, body, len, ctype, repo, 0, &rs);
  if (rv || rs.status != 201) {
    rv = fail(err, errlen, &rs, what, SC_ERR_IO);
  } else if (want_digest && rs.docker_digest[0] && strcmp(rs.docker_digest, want_digest)) {
    snprintf(err, errlen, "%s: the registry stored it as %.80s", what, rs.docker_digest);
    rv = SC_ERR_IO;
  }
  if (subject_hdr) *subject_hdr = !rv && rs.oci_subject[0] != 0;
  net_http_resp_free(&rs);
  return rv;
}

/* The referrers tag schema: the index under sha256-<hex> with doc added
 * and old dropped. */
static int update_tag_index(px_annot_reg *r, const char *repo, const char *subject, const sc_annot_doc *doc,
                            const char *old, char *err, size_t errlen) {
  char tag[SC_ANNOT_DIGEST_BYTES + 8], url[URL_MAX], scope[SCOPE_MAX];
  net_http_resp rs;
  char *desc = NULL, *idx = NULL;
  size_t idxlen = 0;
  int rv;
  if (sc_annot_tag(subject, tag, sizeof(tag)) < 0) {
    snprintf(err, errlen, "subject %.80s is not a sha256 digest", subject);
    return SC_ERR_IO;
  }
  snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->base, repo, tag);
  scope_of(repo, scope, sizeof(scope));
  net_http_req rq = {.url = url, .accept = SC_ANNOT_INDEX_TYPE, .scope = scope, .fd = -1,
                     .max_bytes = PX_ANNOT_INDEX_MAX_BYTES, .abort_flag = r->abort_flag};
  if ((rv = net_http_registry_get(r->http, &rq, &rs)) || (rs.status != 200 && rs.status != 404)) {
    rv = fail(err, errlen, &rs, "reading the referrers tag", SC_ERR_IO);
    net_http_resp_free(&rs);
    return rv;
  }
  if (!(desc = sc_annot_descriptor(doc))) rv = SC_ERR_NOMEM;
  else rv = sc_annot_index_update(rs.status == 200 ? rs.body : NULL, rs.status == 200 ? rs.len : 0, desc,
                                  old && old[0] ? old : NULL, &idx, &idxlen);
  net_http_resp_free(&rs);
  if (rv == SC_ERR_FORMAT) snprintf(err, errlen, "tag %.80s holds something that is not an OCI index: left alone", tag);
  else if (rv) snprintf(err, errlen, "building the referrers index: %s", rv == SC_ERR_LIMIT ? "too many referrers" : "out of memory");
  if (!rv) rv = put_manifest(r, repo, tag, SC_ANNOT_INDEX_TYPE, idx, idxlen, NULL, NULL, err, errlen);
  free(desc);
  free(idx);
  return rv;
}

int px_annot_push(px_annot_reg *r, const char *repo, const char *subject, const sc_annot_doc *doc, const char *old,
                  int *via_api, char *err, size_t errlen) {
  int rv;
  *via_api = 0;
  if ((rv = push_blob(r, repo, SC_ANNOT_EMPTY_DIGEST, SC_ANNOT_EMPTY_BLOB, 2, err, errlen)) ||
      (rv = push_blob(r, repo, doc->blob_digest, doc->blob, doc->blob_len, err, errlen)) ||
      (rv = put_manifest(r, repo, doc->manifest_digest, SC_ANNOT_MANIFEST_TYPE, doc->manifest, doc->manifest_len,
                         doc->manifest_digest, via_api, err, errlen)))
    return rv;
  if (*via_api) return 0; /* the registry lists it among the subject's referrers itself */
  return update_tag_index(r, repo, subject, doc, old, err, errlen);
}

int px_annot_delete(px_annot_reg *r, const char *repo, const char *digest, char *err, size_t errlen) {
  char url[URL_MAX];
  net_http_resp rs;
  snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->base, repo, digest);
  int rv = send_req(r, "DELETE", url, NULL, 0, NULL, repo, 0, &rs);
  if (rv) rv = fail(err, errlen, &rs, "delete", SC_ERR_IO);
  else if (rs.status != 202 && rs.status != 200) rv = fail(err, errlen, &rs, "delete", SC_ERR_UNSUPP);
  net_http_resp_free(&rs);
  return rv;
}
