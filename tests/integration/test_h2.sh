#!/bin/bash
# test_h2.sh - the registry API through customs over HTTP/1.1, cleartext
# HTTP/2 (prior knowledge), and TLS (ALPN h2 and http/1.1), with curl and
# nghttp: chunked/streamed blob uploads, monolithic uploads, GET/Range/HEAD,
# Location rewriting, error bodies, tags, catalog pagination, manifests.

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json

# req LABEL METHOD URL [CURL ARGS...]
#   One curl request with the current protocol options ($PROTO_OPTS). Body goes
#   to $T/LABEL.body, headers to $T/LABEL.hdr, curl -v trace to $T/LABEL.trace.
#   Sets CODE (HTTP status, 000 on transport error) and HVER (1.1, 2, ...).
req() {
    local label=$1 method=$2 url=$3 out
    shift 3
    local m=(-X "$method")
    [ "$method" = HEAD ] && m=(-I)
    out=$(curl -sS -v "${PROTO_OPTS[@]}" "${m[@]}" -o "$T/$label.body" -D "$T/$label.hdr" \
        -w '%{http_code} %{http_version}' "$@" "$url" 2>"$T/$label.trace")
    CODE=${out% *}
    HVER=${out#* }
    [ -n "$CODE" ] || CODE=000
}

# check_location LABEL DESC: the Location header of the last response in
# $T/LABEL.hdr points at customs (scheme, host and port) and, when WANT_QS
# is given, still carries that query parameter. Sets LOC (absolute URL).
check_location() {
    local label=$1 desc=$2 want_qs=${3:-} raw
    raw=$(header_value "$T/$label.hdr" Location)
    LOC=$(abs_url "$BASE" "$raw")
    like "$LOC" "^${BASE}/v2/" "$desc: Location points at customs ($BASE)"
    if [ -n "$want_qs" ]; then
        like "$LOC" "[?&]${want_qs}=[^&]+" "$desc: Location keeps its query string ($want_qs=)"
    fi
}

# add_qs URL PARAM: append a query parameter with ? or &.
add_qs() {
    case $1 in *\?*) echo "$1&$2" ;; *) echo "$1?$2" ;; esac
}

# suite NAME BASE WANT_HVER CURL_OPTS...: every API check over one protocol.
suite() {
    local name=$1
    BASE=$2
    local want_hver=$3
    shift 3
    PROTO_OPTS=("$@")
    local repo=it/$name n=$((3 * 1024 * 1024 + 123))
    local f=$T/$name.blob d got

    # ---- /v2/ and protocol actually used -----------------------------------
    req "$name-base" GET "$BASE/v2/"
    is "$CODE" 200 "$name: GET /v2/ -> 200"
    is "$HVER" "$want_hver" "$name: spoke HTTP/$want_hver"

    # ---- chunked upload: POST, PATCH (sized), PATCH (streamed), PUT ?digest=
    make_random_file "$f" "$n"
    head -c 1048576 "$f" >"$f.1"
    tail -c +1048577 "$f" >"$f.2"
    d=$(sha256_of "$f")

    req "$name-post" POST "$BASE/v2/$repo/blobs/uploads/" -H 'Content-Length: 0'
    is "$CODE" 202 "$name: POST blobs/uploads/ -> 202"
    ok '[ -n "$(header_value "$T/$name-post.hdr" Docker-Upload-UUID)" ]' \
        "$name: POST returns Docker-Upload-UUID"
    check_location "$name-post" "$name: POST" _state

    req "$name-patch1" PATCH "$LOC" -T "$f.1" -H 'Content-Type: application/octet-stream'
    is "$CODE" 202 "$name: PATCH first chunk (Content-Length) -> 202"
    is "$(header_value "$T/$name-patch1.hdr" Range)" "0-1048575" "$name: Range after first chunk"
    check_location "$name-patch1" "$name: PATCH 1" _state

    # Second chunk from a pipe: no length known, so HTTP/1.1 sends it chunked
    # and HTTP/2 streams DATA frames without content-length.
    req "$name-patch2" PATCH "$LOC" -T - -H 'Content-Type: application/octet-stream' <"$f.2"
    is "$CODE" 202 "$name: PATCH second chunk (streamed, unknown length) -> 202"
    is "$(header_value "$T/$name-patch2.hdr" Range)" "0-$((n - 1))" "$name: Range after second chunk"
    if [ "$want_hver" = 1.1 ]; then
        ok 'grep -qi "^> Transfer-Encoding: chunked" "$T/$name-patch2.trace"' \
            "$name: the streamed PATCH really used Transfer-Encoding: chunked"
    fi
    check_location "$name-patch2" "$name: PATCH 2" _state

    req "$name-put" PUT "$(add_qs "$LOC" "digest=$d")" -H 'Content-Length: 0'
    is "$CODE" 201 "$name: PUT ?digest= -> 201"
    is "$(header_value "$T/$name-put.hdr" Docker-Content-Digest)" "$d" \
        "$name: PUT returns Docker-Content-Digest"
    check_location "$name-put" "$name: PUT"

    # ---- download, Range, HEAD ---------------------------------------------
    req "$name-get" GET "$BASE/v2/$repo/blobs/$d"
    is "$CODE" 200 "$name: GET blob -> 200"
    is "$(sha256_of "$T/$name-get.body")" "$d" "$name: GET blob body matches digest"

    req "$name-range" GET "$BASE/v2/$repo/blobs/$d" -r 100000-1099999
    is "$CODE" 206 "$name: GET blob with Range -> 206"
    ok 'cmp -s "$T/$name-range.body" <(tail -c +100001 "$f" | head -c 1000000)' \
        "$name: Range body is bytes 100000-1099999"
    is "$(header_value "$T/$name-range.hdr" Content-Range)" "bytes 100000-1099999/$n" \
        "$name: Content-Range"

    req "$name-head" HEAD "$BASE/v2/$repo/blobs/$d"
    is "$CODE" 200 "$name: HEAD blob -> 200"
    is "$(header_value "$T/$name-head.hdr" Content-Length)" "$n" "$name: HEAD Content-Length"
    is "$(header_value "$T/$name-head.hdr" Docker-Content-Digest)" "$d" \
        "$name: HEAD Docker-Content-Digest"

    # ---- monolithic POST ?digest= with a body --------------------------------
    # registry 2.8 ignores the body and answers 202 (the OCI spec allows 201):
    # customs must answer what the registry answers, and the upload must be
    # completable either way.
    local mono=$T/$name.mono dm direct
    make_random_file "$mono" 70000
    dm=$(sha256_of "$mono")
    direct=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$mono" \
        -H 'Content-Type: application/octet-stream' -k \
        "$REG_URL/v2/it/direct-$name/blobs/uploads/?digest=$dm")
    req "$name-mono" POST "$BASE/v2/$repo-mono/blobs/uploads/?digest=$dm" \
        --data-binary @"$mono" -H 'Content-Type: application/octet-stream'
    is "$CODE" "$direct" "$name: monolithic POST ?digest= answers like the registry ($direct)"
    if [ "$CODE" = 202 ]; then
        check_location "$name-mono" "$name: monolithic POST" _state
        # Finish as containerd does: one PUT with the whole body.
        req "$name-mono-put" PUT "$(add_qs "$LOC" "digest=$dm")" --data-binary @"$mono" \
            -H 'Content-Type: application/octet-stream'
        is "$CODE" 201 "$name: single PUT ?digest= with body -> 201"
    fi
    req "$name-mono-get" GET "$BASE/v2/$repo-mono/blobs/$dm"
    is "$(sha256_of "$T/$name-mono-get.body")" "$dm" "$name: monolithic blob reads back intact"

    # ---- unknown manifest: the registry's own error body ---------------------
    req "$name-404" GET "$BASE/v2/$repo/manifests/no-such-tag" -H "Accept: $OCI_MANIFEST"
    is "$CODE" 404 "$name: unknown manifest -> 404"
    curl -sk -o "$T/$name-404.direct" -H "Accept: $OCI_MANIFEST" \
        "$REG_URL/v2/$repo/manifests/no-such-tag"
    is "$(jq -r '.errors[0].code' "$T/$name-404.body" 2>/dev/null)" MANIFEST_UNKNOWN \
        "$name: 404 body has MANIFEST_UNKNOWN"
    ok 'cmp -s "$T/$name-404.body" "$T/$name-404.direct"' \
        "$name: 404 body identical to the registry's direct answer"

    # ---- manifest PUT / GET byte-exact ---------------------------------------
    local cfg=$T/$name.cfg dc man=$T/$name.manifest dmf
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]},"name":"%s"}' \
        "$d" "$name" >"$cfg"
    dc=$(sha256_of "$cfg")
    req "$name-cfgpost" POST "$BASE/v2/$repo/blobs/uploads/" -H 'Content-Length: 0'
    check_location "$name-cfgpost" "$name: config POST" _state
    req "$name-cfgput" PUT "$(add_qs "$LOC" "digest=$dc")" --data-binary @"$cfg" \
        -H 'Content-Type: application/octet-stream'
    is "$CODE" 201 "$name: config blob uploaded"
    # Odd spacing on purpose: the digest is over these exact bytes.
    printf '{ "schemaVersion": 2, "mediaType": "%s",\n  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "%s", "size": %s},\n  "layers": [ {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "%s", "size": %s} ] }\n' \
        "$OCI_MANIFEST" "$dc" "$(stat -c %s "$cfg")" "$d" "$n" >"$man"
    dmf=$(sha256_of "$man")
    req "$name-mput" PUT "$BASE/v2/$repo/manifests/v1" --data-binary @"$man" \
        -H "Content-Type: $OCI_MANIFEST"
    is "$CODE" 201 "$name: manifest PUT -> 201"
    is "$(header_value "$T/$name-mput.hdr" Docker-Content-Digest)" "$dmf" \
        "$name: manifest PUT Docker-Content-Digest = sha256 of the pushed body"
    check_location "$name-mput" "$name: manifest PUT"
    for ref in v1 "$dmf"; do
        req "$name-mget" GET "$BASE/v2/$repo/manifests/$ref" -H "Accept: $OCI_MANIFEST"
        is "$CODE" 200 "$name: manifest GET by ${ref:0:12} -> 200"
        is "$(sha256_of "$T/$name-mget.body")" "$dmf" "$name: manifest GET by ${ref:0:12} is byte-exact"
        is "$(header_value "$T/$name-mget.hdr" Docker-Content-Digest)" "$dmf" \
            "$name: manifest GET by ${ref:0:12} Docker-Content-Digest"
    done

    # ---- tags and catalog ----------------------------------------------------
    req "$name-tags" GET "$BASE/v2/$repo/tags/list"
    is "$CODE" 200 "$name: tags/list -> 200"
    # customs' own annotations may add the referrers tag sha256-<hex> (OCI
    # referrers tag schema) at any moment after the push: not the client's
    is "$(jq -c '[.tags[] | select(startswith("sha256-") | not)]' "$T/$name-tags.body" 2>/dev/null)" '["v1"]' \
        "$name: tags/list is [v1] (besides the referrers tag)"

    req "$name-cat" GET "$BASE/v2/_catalog?n=1"
    is "$CODE" 200 "$name: _catalog?n=1 -> 200"
    is "$(jq '.repositories | length' "$T/$name-cat.body" 2>/dev/null)" 1 "$name: _catalog?n=1 lists one repository"
    local link next first
    link=$(header_value "$T/$name-cat.hdr" Link)
    like "$link" '^<[^>]+>; *rel="next"' "$name: _catalog?n=1 has a Link rel=next"
    next=$(sed -n 's/^<\([^>]*\)>.*/\1/p' <<<"$link")
    like "$(abs_url "$BASE" "$next")" "^${BASE}/v2/_catalog\?" "$name: Link target is customs' catalog"
    first=$(jq -r '.repositories[0]' "$T/$name-cat.body" 2>/dev/null)
    req "$name-cat2" GET "$(abs_url "$BASE" "$next")"
    got=$(jq -r '.repositories[0]' "$T/$name-cat2.body" 2>/dev/null)
    ok '[ "$CODE" = 200 ] && [ -n "$got" ] && [ "$got" != null ] && [ "$got" != "$first" ]' \
        "$name: following Link gives the next repository ($first -> $got)"
}

# nghttp_status FILE: the :status of the first response in an nghttp -v log.
nghttp_status() {
    sed -n 's/.*recv (stream_id=[0-9]*) :status: \([0-9]*\).*/\1/p' "$1" | head -1
}

# nghttp_suite NAME BASE: GET /v2/ and a PATCH upload driven by nghttp.
nghttp_suite() {
    local name=$1 base=$2 f=$T/$1.ng d loc
    nghttp -nv "$base/v2/" >"$T/$name-ng-get.log" 2>&1
    is "$(nghttp_status "$T/$name-ng-get.log")" 200 "$name: nghttp GET /v2/ -> 200"

    make_random_file "$f" 500000
    d=$(sha256_of "$f")
    PROTO_OPTS=(--http2-prior-knowledge)
    [[ $base == https:* ]] && PROTO_OPTS=(--http2 --cacert "$T/tls/ca.crt")
    BASE=$base
    req "$name-ng-post" POST "$base/v2/it/$name-ng/blobs/uploads/" -H 'Content-Length: 0'
    loc=$(abs_url "$base" "$(header_value "$T/$name-ng-post.hdr" Location)")
    nghttp -nv -H ':method: PATCH' -H 'content-type: application/octet-stream' \
        -d "$f" "$loc" >"$T/$name-ng-patch.log" 2>&1
    is "$(nghttp_status "$T/$name-ng-patch.log")" 202 "$name: nghttp PATCH upload -> 202"
    loc=$(sed -n 's/.*recv (stream_id=[0-9]*) location: //p' "$T/$name-ng-patch.log" | head -1)
    loc=$(abs_url "$base" "$loc")
    like "$loc" "^$base/v2/.*_state=" "$name: nghttp PATCH Location points at customs"
    nghttp -nv -H ':method: PUT' -d /dev/null "$(add_qs "$loc" "digest=$d")" \
        >"$T/$name-ng-put.log" 2>&1
    is "$(nghttp_status "$T/$name-ng-put.log")" 201 "$name: nghttp PUT ?digest= -> 201"
    req "$name-ng-get" GET "$base/v2/it/$name-ng/blobs/$d"
    is "$(sha256_of "$T/$name-ng-get.body")" "$d" "$name: blob uploaded by nghttp reads back intact"
}

start_registry
start_customs
H_URL=$CUS_URL
make_tls_certs "$T/tls" || bail_out "openssl failed to make certificates"
start_customs --tls-cert "$T/tls/server.crt" --tls-key "$T/tls/server.key"
S_URL=$CUS_URL

suite h1 "$H_URL" 1.1 --http1.1
suite h2c "$H_URL" 2 --http2-prior-knowledge
suite tls-h2 "$S_URL" 2 --http2 --cacert "$T/tls/ca.crt"
suite tls-h1 "$S_URL" 1.1 --http1.1 --cacert "$T/tls/ca.crt"
nghttp_suite ng-h2c "$H_URL"
nghttp_suite ng-tls "$S_URL"

done_testing
