#!/bin/bash
# tests/integration/test_bypass.sh - no way around the gate.  A denied image
# (critical CVE) is driven through customs every way an attacker could try:
# every percent-encoding of every byte of the path, %2F, dot segments, "//",
# trailing slashes, absolute-form, HTTP/1.0, HTTP/2 with odd :path, query
# strings, Range and conditional headers, HEAD then GET, odd methods, by tag
# and by digest, an index and its child, another repository holding the same
# digest, blob GETs (gate.blobs), skopeo; each must be refused (400, 403, 404
# or 405; never 200/206/304 with the manifest).  Good requests still work.
# Also: refusals carry the distribution error codes, Connection may not strip
# decisive headers, query strings stay out of the log, case-variant and
# duplicate JSON keys are refused at PUT, and local answers given deep in the
# response path (empty or cut manifest bodies from the upstream) are safe
# (run against an --enable-asan build in CI).  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

for c in jq skopeo nghttp python3; do command -v $c >/dev/null || bail_out "$c is required"; done

POL=$T/policy.yaml
cat >"$POL" <<'X'
mode: enforce
unscanned: scan
on_error: deny
head: deny
rules:
  - name: no-critical
    repositories: ["**"]
    deny:
      severity: critical
X
printf 'gate:\n  blobs: true\n' >"$T/customs.yaml"
start_registry
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT
RH=127.0.0.1:$REG_PORT
ACC='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'

# ---- a denied image, an allowed one -----------------------------------------
R0=$T/rootfs0 R1=$T/unused BAD=$T/bad GOOD=$T/good
fixture_shop "$R0" "$R1"
oci_init "$BAD" && oci_add_layer "$BAD" "$R0" && BADDIG=$(oci_finish "$BAD" latest) || bail_out "bad image"
mkdir -p "$T/rootfs-good/srv" && echo "nothing to see" >"$T/rootfs-good/srv/readme.txt"
oci_init "$GOOD" && oci_add_layer "$GOOD" "$T/rootfs-good" && GOODDIG=$(oci_finish "$GOOD" v1) || bail_out "good image"
fixture_critical_osv "$T/osv.json"
skopeo copy -q --dest-tls-verify=false "oci:$BAD:latest" "docker://$H/team/bad:latest" >"$T/push.out" 2>&1 ||
    bail_out "push of the bad image: $(cat "$T/push.out")"
skopeo copy -q --dest-tls-verify=false "oci:$GOOD:v1" "docker://$H/team/good:v1" >>"$T/push.out" 2>&1 ||
    bail_out "push of the good image: $(cat "$T/push.out")"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "import: $(cat "$T/import.out")"
BADMAN=$BAD/blobs/sha256/${BADDIG#sha256:}
LAYER=$(jq -r '.layers[0].digest' "$BADMAN")
GOODLAYER=$(jq -r '.layers[0].digest' "$GOOD/blobs/sha256/${GOODDIG#sha256:}")

# the same manifest in other repositories, pushed around customs
skopeo copy -q --dest-tls-verify=false "oci:$BAD:latest" "docker://$RH/other/copy:x" >>"$T/push.out" 2>&1 ||
    bail_out "copy to another repository"
skopeo copy -q --dest-tls-verify=false "oci:$BAD:latest" "docker://$RH/team/idx:child" >>"$T/push.out" 2>&1 ||
    bail_out "copy for the index"
BADSIZE=$(stat -c %s "$BADMAN")
jq -cn --arg d "$BADDIG" --argjson s "$BADSIZE" '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
                 platform: {architecture: "amd64", os: "linux"}}]}' | tr -d '\n' >"$T/index.json"
IDXDIG=$(sha256_of "$T/index.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
    --data-binary "@$T/index.json" "$REG_URL/v2/team/idx/manifests/multi")
is "$code" 201 "setup: an index over the denied manifest, pushed around customs"

# ---- sanity: the registry itself serves the denied manifest ------------------
is "$(curl -s -o /dev/null -w '%{http_code}' -H "$ACC" "$REG_URL/v2/team/bad/manifests/latest")" 200 \
    "setup: the registry serves the manifest directly"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$ACC" "$CUS_URL/v2/team/bad/manifests/latest")
is "$code" 403 "the plain GET through customs is denied"

# ---- helpers ------------------------------------------------------------------
NREFUSED=0
# no_content FILE: empty, or a body that is not a manifest or a blob (an error
# document, JSON or the registry's text); blobs are gzip, "\x1f\x8b".
no_content() {
    [ ! -s "$1" ] && return 0
    ! grep -q '"schemaVersion"' "$1" && [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' ')" != 1f8b ]
}
# refused DESC CURL_ARGS...: the answer is 400/403/404/405/414 and holds no manifest or blob.
refused() {
    local desc=$1 code
    shift
    code=$(curl -s -m 20 -o "$T/r.body" -D "$T/r.head" -w '%{http_code}' "$@" 2>/dev/null)
    if [[ $code =~ ^(400|403|404|405|414)$ ]] && no_content "$T/r.body"; then
        NREFUSED=$((NREFUSED + 1))
        _tap_result 0 "$desc ($code)"
    else
        _tap_result 1 "$desc"
        diag "status '$code', body: $(head -c 300 "$T/r.body" | tr -d '\0')"
    fi
}
# refused_quiet CURL_ARGS...: same, counted, a failure reported (for the big loops).
FAILS=()
refused_quiet() {
    local code
    code=$(curl -s -m 20 -o "$T/r.body" -w '%{http_code}' "$@" 2>/dev/null)
    if [[ $code =~ ^(400|403|404|405|414)$ ]] && no_content "$T/r.body"; then
        return 0
    fi
    FAILS+=("$code ${*: -1} $(head -c 100 "$T/r.body")")
    return 1
}

# ---- every percent-encoding of every byte, by tag and by digest ----------------
for P in "/v2/team/bad/manifests/latest" "/v2/team/bad/manifests/$BADDIG"; do
    FAILS=()
    n=0
    for ((i = 0; i < ${#P}; i++)); do
        ch=${P:i:1}
        hex=$(printf '%02x' "'$ch")
        for enc in "$(echo "$hex" | tr a-f A-F)" "$hex"; do
            n=$((n + 1))
            refused_quiet -H "$ACC" --path-as-is --request-target "${P:0:i}%$enc${P:i+1}" "$CUS_URL"
        done
    done
    is "${#FAILS[@]}" 0 "all $n single-byte percent-encodings of $P are refused"
    [ "${#FAILS[@]}" = 0 ] || diag "${FAILS[@]}"
done
FAILS=()
for enc in "%2F" "%2f"; do
    for P in "/v2${enc}team/bad/manifests/latest" "/v2/team${enc}bad/manifests/latest" \
        "/v2/team/bad${enc}manifests${enc}latest" "/v2${enc}team${enc}bad${enc}manifests${enc}latest" \
        "/%76%32${enc}team/bad/manifests/latest"; do
        refused_quiet -H "$ACC" --path-as-is --request-target "$P" "$CUS_URL"
    done
done
is "${#FAILS[@]}" 0 "%2F separators are refused"
[ "${#FAILS[@]}" = 0 ] || diag "${FAILS[@]}"

# ---- cleaning, slashes, forms ---------------------------------------------------
for P in /v2/./team/bad/manifests/latest /v2/x/../team/bad/manifests/latest /x/../v2/team/bad/manifests/latest \
    /v2/team/bad/manifests/./latest /x/%2e%2e/v2/team/bad/manifests/latest /x/..%2Fv2/team/bad/manifests/latest \
    //v2/team/bad/manifests/latest /v2//team/bad/manifests/latest /v2/team//bad/manifests/latest \
    /v2/team/bad/manifests/latest/ /v2/team/bad/manifests/latest/. /v2/team/bad/manifests/latest%00 \
    '/v2/team/bad/manifests/latest#x' '/v2/team/bad/manifests/latest;x' '/v2/team\bad/manifests/latest' \
    /V2/team/bad/manifests/latest /v2/team/bad/manifests/lat%zzest; do
    refused "path $P" -H "$ACC" --path-as-is --request-target "$P" "$CUS_URL"
done
refused "absolute-form target" -H "$ACC" --request-target "http://$H/v2/team/bad/manifests/latest" "$CUS_URL"
refused "absolute-form target naming the registry" -H "$ACC" --request-target "$REG_URL/v2/team/bad/manifests/latest" "$CUS_URL"
refused "HTTP/1.0" --http1.0 -H "$ACC" "$CUS_URL/v2/team/bad/manifests/latest"
refused "HTTP/1.0 without Host" --http1.0 -H 'Host:' -H "$ACC" "$CUS_URL/v2/team/bad/manifests/latest"
for P in /%762/team/bad/manifests/latest /v2%2Fteam/bad/manifests/latest /v2//team/bad/manifests/latest \
    /v2/x/../team/bad/manifests/latest /v2/team/bad/manifests/latest/ "/v2/team/bad/manifests/$BADDIG" \
    "/v2/team/bad/manifests/latest?x=1"; do
    refused "h2 :path $P" --http2-prior-knowledge -H "$ACC" --path-as-is --request-target "$P" "$CUS_URL"
done
for P in /%762/team/bad/manifests/latest /v2/team/bad/manifests/latest; do
    nghttp -n -s -H "$ACC" "$CUS_URL$P" >"$T/ng.out" 2>&1
    st=$(nghttp -nv -H "$ACC" "$CUS_URL$P" 2>&1 | sed -n 's/.*recv (stream_id=[0-9]*) :status: \([0-9]*\).*/\1/p' | head -1)
    like "$st" '^(400|403|404)$' "nghttp :path $P refused ($st)"
done

# ---- queries, conditional and partial requests, HEAD, methods -------------------
for Q in '?x=1' '?' '?digest=sha256:0' '?n=1&last=a' "?ns=$H"; do
    refused "query $Q" -H "$ACC" --path-as-is --request-target "/v2/team/bad/manifests/latest$Q" "$CUS_URL"
done
refused "Range" -H "$ACC" -H 'Range: bytes=0-10' "$CUS_URL/v2/team/bad/manifests/latest"
refused "If-None-Match" -H "$ACC" -H "If-None-Match: \"$BADDIG\"" "$CUS_URL/v2/team/bad/manifests/latest"
refused "If-None-Match by digest" -H "$ACC" -H "If-None-Match: \"$BADDIG\"" "$CUS_URL/v2/team/bad/manifests/$BADDIG"
refused "If-Modified-Since" -H "$ACC" -H 'If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT' \
    "$CUS_URL/v2/team/bad/manifests/latest"
refused "If-Range + Range" -H "$ACC" -H "If-Range: \"$BADDIG\"" -H 'Range: bytes=1-' "$CUS_URL/v2/team/bad/manifests/latest"
refused "HEAD" -I -H "$ACC" "$CUS_URL/v2/team/bad/manifests/latest"
refused "GET after HEAD" -H "$ACC" "$CUS_URL/v2/team/bad/manifests/latest"
refused "h2 If-None-Match" --http2-prior-knowledge -H "$ACC" -H "If-None-Match: \"$BADDIG\"" \
    "$CUS_URL/v2/team/bad/manifests/latest"
for M in get GeT gEt head Get TRACE PROPFIND; do
    refused "h1 method $M" -X "$M" -H "$ACC" "$CUS_URL/v2/team/bad/manifests/latest"
    refused "h2 method $M" --http2-prior-knowledge -X "$M" -H "$ACC" "$CUS_URL/v2/team/bad/manifests/latest"
done
code=$(curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge -X get "$CUS_URL/v2/")
is "$code" 405 "a lowercase method on /v2/ is 405"
# conditional headers are dropped on manifest reads: an allowed manifest answers whole
code=$(curl -s -o "$T/g.body" -w '%{http_code}' -H "$ACC" -H "If-None-Match: \"$GOODDIG\"" -H 'Range: bytes=0-3' \
    "$CUS_URL/v2/team/good/manifests/v1")
is "$code" 200 "allowed manifest with If-None-Match + Range: 200, never 304/206 through customs"
is "$(sha256_of "$T/g.body")" "$GOODDIG" "and the whole document"
code=$(curl -s -o "$T/g2.body" -w '%{http_code}' -H 'Accept: application/json' "$CUS_URL/v2/team/good/manifests/v1")
is "$code" 200 "a client that accepts no manifest type still gets the stored manifest (schema2/OCI Accept added)"
is "$(sha256_of "$T/g2.body")" "$GOODDIG" "not a converted schema1 document"

# ---- index, children, other repositories, blobs --------------------------------------
refused "index over denied children" -H "$ACC" "$CUS_URL/v2/team/idx/manifests/multi"
refused "index by digest" -H "$ACC" "$CUS_URL/v2/team/idx/manifests/$IDXDIG"
refused "child by digest in the index repository" -H "$ACC" "$CUS_URL/v2/team/idx/manifests/$BADDIG"
refused "child by tag in the index repository" -H "$ACC" "$CUS_URL/v2/team/idx/manifests/child"
refused "same digest in another repository, by tag" -H "$ACC" "$CUS_URL/v2/other/copy/manifests/x"
refused "same digest in another repository, by digest" -H "$ACC" "$CUS_URL/v2/other/copy/manifests/$BADDIG"
refused "same digest, h2" --http2-prior-knowledge -H "$ACC" "$CUS_URL/v2/other/copy/manifests/$BADDIG"
refused "blob of the denied image (gate.blobs)" "$CUS_URL/v2/team/bad/blobs/$LAYER"
refused "blob with Range" -H 'Range: bytes=0-99' "$CUS_URL/v2/team/bad/blobs/$LAYER"
refused "blob, encoded path" --path-as-is --request-target "/v2/team/bad/blobs/sha256%3A${LAYER#sha256:}" "$CUS_URL"
refused "blob, %2F path" --path-as-is --request-target "/v2%2Fteam/bad/blobs/$LAYER" "$CUS_URL"
refused "blob, dot segment" --path-as-is --request-target "/v2/x/../team/bad/blobs/$LAYER" "$CUS_URL"
refused "blob via the other repository" "$CUS_URL/v2/other/copy/blobs/$LAYER"
refused "blob, h2" --http2-prior-knowledge "$CUS_URL/v2/team/bad/blobs/$LAYER"
skopeo copy -q --src-tls-verify=false "docker://$H/team/bad:latest" "oci:$T/pulled:bad" >"$T/pull.out" 2>&1
isnt "$?" 0 "skopeo copy of the denied image fails"
skopeo copy -q --src-tls-verify=false "docker://$H/other/copy:x" "oci:$T/pulled:bad2" >"$T/pull2.out" 2>&1
isnt "$?" 0 "skopeo copy of the same image from another repository fails"
diag "$NREFUSED refusals checked one by one"

# ---- good requests still work ----------------------------------------------------------
is "$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/")" 200 "GET /v2/"
is "$(curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge "$CUS_URL/v2/")" 200 "h2 GET /v2/"
skopeo copy -q --src-tls-verify=false "docker://$H/team/good:v1" "oci:$T/pulled:good" >"$T/pull3.out" 2>&1
is "$?" 0 "skopeo copy of the allowed image works"
is "$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/team/good/blobs/$GOODLAYER")" 200 "allowed blob GET"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "$ACC" "$CUS_URL/v2/team/good/manifests/v1?x=1")" 200 \
    "allowed manifest with a query string"
is "$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/team/good/tags/list")" 200 "tags/list"

# ---- refusals speak the registry's language ---------------------------------------------
errcase() { # DESC WANT_STATUS WANT_CODE WANT_IN_MESSAGE CURL_ARGS...
    local desc=$1 st=$2 cd=$3 msg=$4 code
    shift 4
    code=$(curl -s -o "$T/e.body" -w '%{http_code}' "$@")
    is "$code $(jq -r '.errors[0].code' "$T/e.body" 2>/dev/null)" "$st $cd" "$desc"
    like "$(jq -r '.errors[0].message' "$T/e.body" 2>/dev/null)" "$msg" "$desc: the message names the part"
}
errcase "GET of a tag that cannot exist" 404 MANIFEST_UNKNOWN '\.INVALID_MANIFEST_NAME' \
    "$CUS_URL/v2/team/bad/manifests/.INVALID_MANIFEST_NAME"
errcase "HEAD-like GET by a malformed digest" 404 MANIFEST_UNKNOWN 'sha256:abc' "$CUS_URL/v2/team/bad/manifests/sha256:abc"
errcase "bad repository name" 400 NAME_INVALID 'Team/bad' "$CUS_URL/v2/Team/bad/manifests/latest"
errcase "blob GET by a malformed digest" 400 DIGEST_INVALID 'sha256:abc' "$CUS_URL/v2/team/bad/blobs/sha256:abc"
errcase "manifest PUT with an invalid tag" 400 MANIFEST_INVALID 'tag' -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary '{}' "$CUS_URL/v2/team/bad/manifests/.bad"
errcase "non-canonical path" 400 UNSUPPORTED 'canonical' --path-as-is --request-target /v2//team/bad/tags/list "$CUS_URL"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$CUS_URL/v2/team/bad/manifests/.INVALID_MANIFEST_NAME")
is "$code" 404 "HEAD of a tag that cannot exist: 404"
code=$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/team/good/manifests/nosuchtag")
is "$code" 404 "an unknown valid tag is answered by the registry (404)"

# ---- Connection may not strip decisive headers ------------------------------------------
for F in Authorization Accept Range If-None-Match Content-Type; do
    code=$(curl -s -o "$T/c.body" -w '%{http_code}' -H "$ACC" -H "Connection: keep-alive, $F" \
        -H 'Authorization: Bearer x' -H 'Range: bytes=0-1' "$CUS_URL/v2/team/good/manifests/v1")
    is "$code" 400 "Connection naming $F is refused"
done

# ---- secrets stay out of the log ---------------------------------------------------------
SECRET=sekrit$RANDOM$RANDOM
curl -s -o /dev/null "$CUS_URL/v2/team/good/blobs/uploads/nosuch-upload?_state=$SECRET"
curl -s -o /dev/null --http2-prior-knowledge "$CUS_URL/v2/team/good/tags/list?token=$SECRET"
curl -s -o /dev/null --path-as-is --request-target "/v2//x?_state=$SECRET" "$CUS_URL"
sleep 0.5
ok '! grep -q "$SECRET" "$CUS_LOG"' "query strings are redacted in every log line"
ok 'grep -q "?<redacted>" "$CUS_LOG"' "the log says a query was there"

# ---- case-variant and duplicate JSON keys are refused at PUT --------------------------------
# (another part of the issue builds this check; these stay to prove it)
GOODMAN=$GOOD/blobs/sha256/${GOODDIG#sha256:}
BADL=$(jq -c '.layers' "$BADMAN")
skopeo copy -q --dest-tls-verify=false "oci:$BAD:latest" "docker://$RH/team/mixed:base" >>"$T/push.out" 2>&1
skopeo copy -q --dest-tls-verify=false "oci:$GOOD:v1" "docker://$RH/team/mixed:good" >>"$T/push.out" 2>&1
GOODL=$(jq -c '.layers' "$GOODMAN")
CFG=$(jq -c '.config' "$GOODMAN")
MT=application/vnd.oci.image.manifest.v1+json
printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":%s,"LAYERS":%s}' "$MT" "$CFG" "$GOODL" "$BADL" \
    >"$T/case.json"
printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":%s,"layers":%s}' "$MT" "$CFG" "$GOODL" "$BADL" \
    >"$T/dup.json"
printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":%s,"layer\xc5\xbf":%s}' "$MT" "$CFG" "$GOODL" "$BADL" \
    >"$T/fold.json" # "layerſ": U+017F (long s) folds to s in Go's encoding/json
for f in case dup fold; do
    code=$(curl -s -o "$T/put.body" -w '%{http_code}' -X PUT -H "Content-Type: $MT" --data-binary "@$T/$f.json" \
        "$CUS_URL/v2/team/mixed/manifests/$f")
    is "$code $(jq -r '.errors[0].code' "$T/put.body" 2>/dev/null)" "400 MANIFEST_INVALID" "manifest PUT with $f keys is refused"
    refused "and the tag $f is not served" -H "$ACC" "$CUS_URL/v2/team/mixed/manifests/$f"
done

# ---- OCI artifacts: not images, but no way around the gate either ----------------------------
# An artifact (config not an image config) whose blobs are not layers is no
# runtime's image: it passes, as signatures and SBOMs must.  One whose blob is
# typed as a layer and is the denied layer is judged like an image: denied.
# push_blob REPO FILE: a monolithic upload through customs (POST, then PUT ?digest=)
push_blob() {
    local dig up sep
    dig=sha256:$(sha256sum "$2" | cut -d' ' -f1)
    up=$(curl -s -D - -o /dev/null -X POST "$CUS_URL/v2/$1/blobs/uploads/" | tr -d '\r' |
        awk 'tolower($1)=="location:"{print $2}')
    case $up in http*) ;; *) up=$CUS_URL$up ;; esac
    sep='?'; case $up in *\?*) sep='&' ;; esac
    curl -s -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$up${sep}digest=$dig"
}
printf '{}' >"$T/empty.json"
EDIG=sha256:$(sha256sum "$T/empty.json" | cut -d' ' -f1)
push_blob team/art "$T/empty.json"
printf 'signature bytes %s' "$RANDOM" >"$T/sig.bin"
SDIG=sha256:$(sha256sum "$T/sig.bin" | cut -d' ' -f1)
push_blob team/art "$T/sig.bin"
ECFG="{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"$EDIG\",\"size\":2}"
printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.example.sig","config":%s,"layers":[{"mediaType":"application/vnd.example.sig.v1","digest":"%s","size":%s}]}' \
    "$MT" "$ECFG" "$SDIG" "$(stat -c %s "$T/sig.bin")" >"$T/art-ok.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $MT" --data-binary "@$T/art-ok.json" \
    "$CUS_URL/v2/team/art/manifests/sig")
is "$code" 201 "an OCI artifact (empty config, non-layer blob) is accepted"
code=$(curl -s -o "$T/art.body" -D "$T/art.head" -w '%{http_code}' -H "$ACC" "$CUS_URL/v2/team/art/manifests/sig")
is "$code" 200 "and served: it is not an image, its blob is not a layer"
ok 'grep -qi "^x-customs-verdict: allow" "$T/art.head"' "with verdict allow"
# the same artifact shape, but its blob is the denied image's layer, typed as a layer
printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.example.sig","config":%s,"layers":%s}' \
    "$MT" "$ECFG" "$BADL" >"$T/art-bad.json"
for l in $(jq -r '.[].digest' <<<"$BADL"); do
    curl -s -o /dev/null -X POST "$CUS_URL/v2/team/art/blobs/uploads/?mount=$l&from=team/bad"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $MT" --data-binary "@$T/art-bad.json" \
    "$CUS_URL/v2/team/art/manifests/ride")
is "$code" 201 "setup: an artifact carrying the denied layer (mounted) is pushed"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$ACC" "$CUS_URL/v2/team/art/manifests/ride")
is "$code" 403 "an artifact whose layer-typed blob is the denied layer is denied"

ok 'kill -0 "$CUS_PID"' "customs still running"

# ---- local answers deep in the response path (ASan in CI) ---------------------------------
# A fake registry: manifests answered 200 with an empty body, or a body cut
# short; customs must answer (403 / 502) and keep serving.
cat >"$T/fake.py" <<'X'
import http.server, socketserver, sys
D = "sha256:" + "ab" * 32
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/v2/":
            self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}"); return
        if self.path.endswith("/manifests/empty"):
            self.send_response(200); self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Docker-Content-Digest", D); self.send_header("Content-Length", "0"); self.end_headers(); return
        if self.path.endswith("/manifests/cut"):
            self.send_response(200); self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Docker-Content-Digest", D); self.send_header("Content-Length", "500"); self.end_headers()
            self.wfile.write(b'{"schemaVersion":2,'); self.wfile.flush(); self.close_connection = True; return
        self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
    do_HEAD = do_GET
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
X
FAKE_PORT=$(free_port) || bail_out "no free port"
python3 "$T/fake.py" "$FAKE_PORT" >"$T/fake.log" 2>&1 &
FAKE_PID=$!
_LIB_PIDS+=("$FAKE_PID")
wait_http "http://127.0.0.1:$FAKE_PORT/v2/" "$FAKE_PID" || bail_out "fake registry did not start"
CUS_UPSTREAM=http://127.0.0.1:$FAKE_PORT CUSTOMS_POLICY=$POL start_customs
for i in 1 2 3; do
    code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -H "$ACC" "$CUS_URL/v2/x/y/manifests/empty")
    like "$code" '^(403|502)$' "empty 200 manifest from the upstream: refused ($code), round $i"
    code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' --http2-prior-knowledge -H "$ACC" "$CUS_URL/v2/x/y/manifests/empty")
    like "$code" '^(403|502)$' "the same over h2 ($code)"
    code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -H "$ACC" "$CUS_URL/v2/x/y/manifests/cut")
    like "$code" '^(403|502|000)$' "manifest cut short by the upstream: no manifest ($code)"
done
is "$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/")" 200 "customs still serves after those"
ok 'kill -0 "$CUS_PID"' "and is still running"
ok '! grep -q "AddressSanitizer\|runtime error" "$CUS_LOG" "$T/customs.log"' "no sanitizer report in the logs"

done_testing
