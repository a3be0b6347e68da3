#!/bin/bash
# tests/integration/test_referrers.sh - the OCI 1.1 referrers API served by
# customs in front of docker-registry 2.8 (which has none): a client pushes
# an artifact manifest whose `subject` is an image; the PUT answer carries
# OCI-Subject; GET /v2/<repo>/referrers/<digest> lists it (artifactType,
# filtering with OCI-Filters-Applied, empty index for an unknown subject,
# a referrer pushed before its subject); the same request at the registry
# is a 404 (customs answers it); the registry decides who may read the
# list (401 passed through from a registry with authentication); a denied
# image's referrers stay readable while the image is refused, and the
# referrer's blobs are not the image's.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
direct_mode && bail_out "customs serves the referrers API: nothing to test against the registry alone"

POL=$T/policy.yaml
fixture_policy_no_critical "$POL" head=auto
printf 'gate:\n  blobs: true\n' >"$T/customs.yaml"
start_registry
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml"
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT
MT=application/vnd.oci.image.manifest.v1+json
IDX=application/vnd.oci.image.index.v1+json
EMPTY_MT=application/vnd.oci.empty.v1+json
SIG=application/vnd.example.sig

# ---- the subject: an image whose openssl gets a critical CVE later ----------
R0=$T/rootfs0 R1=$T/unused IMG=$T/shop
fixture_shop "$R0" "$R1"
oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && DIGEST=$(oci_finish "$IMG" v1) || bail_out "image"
fixture_critical_osv "$T/osv.json"
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/shop/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "push of the subject image"
MANI=$IMG/blobs/sha256/${DIGEST#sha256:}
LAYER=$(jq -r '.layers[0].digest' "$MANI")
CONFIG=$(jq -r '.config.digest' "$MANI")
MSIZE=$(stat -c %s "$MANI")

# ---- pushing artifacts with curl, as the distribution spec shows ----------
# put_blob URL REPO FILE [CURL ARGS]: POST then PUT ?digest= with the bytes
#   (registry 2.8 has no monolithic POST); prints the PUT's status, or the
#   POST's when it is not 202
put_blob() {
    local url=$1 repo=$2 f=$3 code loc
    shift 3
    code=$(curl -s -o /dev/null -D "$T/post.h" -w '%{http_code}' -X POST "$@" "$url/v2/$repo/blobs/uploads/")
    [ "$code" = 202 ] || { echo "$code"; return; }
    loc=$(abs_url "$url" "$(header_value "$T/post.h" location)")
    case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
    curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' "$@" \
        --data-binary "@$f" "${loc}digest=$(sha256_of "$f")"
}
# put_manifest URL REPO FILE HEADERS_OUT [CURL ARGS]: PUT by digest; prints the status
put_manifest() {
    local url=$1 repo=$2 f=$3 hdr=$4
    shift 4
    curl -s -o "$hdr.body" -D "$hdr" -w '%{http_code}' -X PUT -H "Content-Type: $MT" --data-binary "@$f" "$@" \
        "$url/v2/$repo/manifests/$(sha256_of "$f")"
}
# artifact FILE SUBJECT SUBJECT_SIZE ARTIFACT_TYPE CONFIG_MT LAYER_FILE ANNOTATION
artifact() {
    jq -cn --arg mt "$MT" --arg at "$4" --arg cmt "$5" --arg cd "$(sha256_of "$T/empty.json")" \
        --arg ld "$(sha256_of "$6")" --argjson ls "$(stat -c %s "$6")" --arg sd "$2" --argjson ss "$3" \
        --arg note "$7" '{schemaVersion: 2, mediaType: $mt}
          + (if $at == "" then {} else {artifactType: $at} end)
          + {config: {mediaType: $cmt, digest: $cd, size: 2},
             layers: [{mediaType: "application/vnd.example.sig.v1", digest: $ld, size: $ls}],
             subject: {mediaType: $mt, digest: $sd, size: $ss},
             annotations: {"org.example.note": $note}}' >"$1"
}
printf '{}' >"$T/empty.json"
printf 'signature over %s\n' "$DIGEST" >"$T/sig.bin"
is "$(put_blob "$CUS_URL" shop/app "$T/empty.json")" 201 "empty config blob {} uploaded through customs"
is "$(put_blob "$CUS_URL" shop/app "$T/sig.bin")" 201 "signature blob uploaded"
artifact "$T/sig.json" "$DIGEST" "$MSIZE" "$SIG" "$EMPTY_MT" "$T/sig.bin" "signed by ci"
ART=$(sha256_of "$T/sig.json")
ASIZE=$(stat -c %s "$T/sig.json")
is "$(put_manifest "$CUS_URL" shop/app "$T/sig.json" "$T/put.h")" 201 "artifact manifest with a subject accepted"
is "$(header_value "$T/put.h" oci-subject)" "$DIGEST" "the PUT answer carries OCI-Subject: the subject digest"
is "$(header_value "$T/put.h" docker-content-digest)" "$ART" "the registry's own digest header is kept"

# an image pushed without a subject gets no OCI-Subject
PLAIN=$(jq -r '.manifests[0].digest' "$IMG/index.json")
curl -s -o /dev/null -D "$T/put_plain.h" -X PUT -H "Content-Type: $MT" --data-binary "@$MANI" \
    "$CUS_URL/v2/shop/app/manifests/again"
is "$(header_value "$T/put_plain.h" oci-subject)" "" "a manifest without a subject gets no OCI-Subject"
isnt "$PLAIN" "" "(the image's own manifest pushed again by tag)"

# ---- the list ----------------------------------------------------------------
# customs lists its own SBOM and vulnerability report too (annotation
# "io.customs.annotation", pushed after the scan): the client's are the others
CLIENT='[.manifests[] | select(.annotations["io.customs.annotation"] == null)]'
code=$(curl -s -D "$T/ref.h" -o "$T/ref.json" -w '%{http_code}' "$CUS_URL/v2/shop/app/referrers/$DIGEST")
is "$code" 200 "GET referrers through customs: 200"
is "$(header_value "$T/ref.h" content-type)" "$IDX" "Content-Type is the OCI image index"
is "$(jq -r .schemaVersion "$T/ref.json")" 2 "schemaVersion 2"
is "$(jq -r .mediaType "$T/ref.json")" "$IDX" "mediaType of an image index"
is "$(jq -r "$CLIENT | length" "$T/ref.json")" 1 "one client referrer listed"
is "$(jq -r "$CLIENT | .[0].digest" "$T/ref.json")" "$ART" "it is the pushed artifact"
is "$(jq -r "$CLIENT | .[0].artifactType" "$T/ref.json")" "$SIG" "with its artifactType"
is "$(jq -r "$CLIENT | .[0].mediaType" "$T/ref.json")" "$MT" "and media type"
is "$(jq -r "$CLIENT | .[0].size" "$T/ref.json")" "$ASIZE" "and size"
is "$(jq -r "$CLIENT | .[0].annotations[\"org.example.note\"]" "$T/ref.json")" "signed by ci" "and annotations"
diag "customs' own referrers listed: $(jq -r '[.manifests[] | select(.annotations["io.customs.annotation"]) | .artifactType] | join(", ")' "$T/ref.json")"
is "$(header_value "$T/ref.h" oci-filters-applied)" "" "no filter, no OCI-Filters-Applied"

code=$(curl -s -I -D "$T/head.h" -o "$T/head.body" -w '%{http_code}' "$CUS_URL/v2/shop/app/referrers/$DIGEST")
is "$code" 200 "HEAD referrers: 200"
is "$(header_value "$T/head.h" content-length)" "$(stat -c %s "$T/ref.json")" "with the GET's Content-Length"

code=$(curl -s --http2-prior-knowledge -o "$T/ref_h2.json" -w '%{http_code} %{http_version}' \
    "$CUS_URL/v2/shop/app/referrers/$DIGEST")
is "$code" "200 2" "over HTTP/2 (h2c) too"
is "$(jq -r "$CLIENT | .[0].digest" "$T/ref_h2.json")" "$ART" "with the same list"

# a second referrer without artifactType: its config media type stands for it
echo "attestation" >"$T/att.bin"
is "$(put_blob "$CUS_URL" shop/app "$T/att.bin")" 201 "attestation blob uploaded"
artifact "$T/att.json" "$DIGEST" "$MSIZE" "" application/vnd.example.attestation "$T/att.bin" "attested"
ATT=$(sha256_of "$T/att.json")
is "$(put_manifest "$CUS_URL" shop/app "$T/att.json" "$T/put2.h")" 201 "artifact without artifactType accepted"
is "$(header_value "$T/put2.h" oci-subject)" "$DIGEST" "OCI-Subject again"
curl -s -o "$T/ref2.json" "$CUS_URL/v2/shop/app/referrers/$DIGEST"
is "$(jq -r "$CLIENT | map(.digest) | sort | join(\" \")" "$T/ref2.json")" "$(printf '%s\n' "$ART" "$ATT" | sort | xargs)" \
    "both listed"
is "$(jq -r --arg d "$ATT" '.manifests[] | select(.digest == $d) | .artifactType' "$T/ref2.json")" \
    application/vnd.example.attestation "artifactType from the config media type"

# ---- filtering -------------------------------------------------------------------
curl -s -D "$T/f.h" -o "$T/f.json" "$CUS_URL/v2/shop/app/referrers/$DIGEST?artifactType=$SIG"
is "$(jq -r '[.manifests[].digest] | join(" ")' "$T/f.json")" "$ART" "?artifactType= keeps the signature only"
is "$(header_value "$T/f.h" oci-filters-applied)" artifactType "with OCI-Filters-Applied: artifactType"
code=$(curl -s -D "$T/f0.h" -o "$T/f0.json" -w '%{http_code}' \
    "$CUS_URL/v2/shop/app/referrers/$DIGEST?artifactType=application%2Fvnd.nobody")
is "$code" 200 "a filter nothing matches: 200"
is "$(jq -r '.manifests | length' "$T/f0.json")" 0 "an empty list"
is "$(jq -r '.manifests | type' "$T/f0.json")" array "(an empty array, not null)"
is "$(header_value "$T/f0.h" oci-filters-applied)" artifactType "with OCI-Filters-Applied"

# ---- subjects that do not exist, bad digests, the registry alone -------------
NOSUCH=sha256:$(printf 'no such manifest' | sha256sum | cut -d' ' -f1)
code=$(curl -s -D "$T/ns.h" -o "$T/ns.json" -w '%{http_code}' "$CUS_URL/v2/shop/app/referrers/$NOSUCH")
is "$code" 200 "unknown subject: 200 (the spec: a registry with the API must not answer 404)"
is "$(jq -r '.manifests | length' "$T/ns.json")" 0 "with an empty index"
is "$(header_value "$T/ns.h" content-type)" "$IDX" "typed as an image index"
# a referrer pushed before its subject (the spec allows either order)
MISSING=sha256:$(printf 'pushed later' | sha256sum | cut -d' ' -f1)
artifact "$T/early.json" "$MISSING" 1234 "$SIG" "$EMPTY_MT" "$T/sig.bin" "early"
EARLY=$(sha256_of "$T/early.json")
is "$(put_manifest "$CUS_URL" shop/app "$T/early.json" "$T/put3.h")" 201 "referrer of a missing subject accepted"
is "$(header_value "$T/put3.h" oci-subject)" "$MISSING" "OCI-Subject names the missing subject"
curl -s -o "$T/early.out" "$CUS_URL/v2/shop/app/referrers/$MISSING"
is "$(jq -r '[.manifests[].digest] | join(" ")' "$T/early.out")" "$EARLY" "and it is listed"
curl -s -o "$T/other.out" "$CUS_URL/v2/other/app/referrers/$DIGEST"
is "$(jq -r '.manifests | length' "$T/other.out")" 0 "referrers are per repository: none under another name"
is "$(curl -s -o "$T/bad.json" -w '%{http_code}' "$CUS_URL/v2/shop/app/referrers/sha256:nothex")" 400 \
    "an invalid digest: 400"
is "$(jq -r '.errors[0].code' "$T/bad.json")" DIGEST_INVALID "DIGEST_INVALID"
is "$(curl -s -o /dev/null -w '%{http_code}' "$REG_URL/v2/shop/app/referrers/$DIGEST")" 404 \
    "the same request at the registry itself: 404 (customs is the one answering)"
like "$(grep -c "referrers" "$CUS_LOG")" "^[1-9]" "customs logged the referrers requests"

# (oras discover is not run: Debian 12 does not package the oras CLI, and
# nothing may be downloaded here; the requests it makes are the ones above)

# ---- a denied image: its referrers stay readable, the image does not ---------
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported: the subject is now denied"
is "$(curl -s -o "$T/deny.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$DIGEST")" 403 \
    "GET of the denied image: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/shop/app/blobs/$LAYER")" 403 \
    "its layer (gate.blobs): 403"
code=$(curl -s -o "$T/ref3.json" -w '%{http_code}' "$CUS_URL/v2/shop/app/referrers/$DIGEST")
is "$code" 200 "its referrers list stays readable"
is "$(jq -r "$CLIENT | length" "$T/ref3.json")" 2 "both client referrers"
# every referrer listed (the client's, and customs' SBOM and report) and
# every blob it names, fetched through customs: none is the denied image's
# manifest, config or layer
leaked=0 fetched=0 named=0
for d in $(jq -r '.manifests[].digest' "$T/ref3.json"); do
    named=$((named + 1))
    code=$(curl -s -o "$T/a.json" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$d")
    [ "$code" = 200 ] && [ "$(sha256_of "$T/a.json")" = "$d" ] && fetched=$((fetched + 1))
    for b in $(jq -r '.config.digest, .layers[].digest' "$T/a.json"); do
        named=$((named + 1))
        code=$(curl -s -o "$T/blob" -w '%{http_code}' "$CUS_URL/v2/shop/app/blobs/$b")
        [ "$code" = 200 ] && [ "$(sha256_of "$T/blob")" = "$b" ] && fetched=$((fetched + 1))
        case $b in "$LAYER" | "$CONFIG" | "$DIGEST") leaked=$((leaked + 1)) ;; esac
    done
    case $d in "$DIGEST") leaked=$((leaked + 1)) ;; esac
done
ok '[ "$named" -ge 6 ]' "the referrers name manifests and blobs ($named)"
is "$fetched" "$named" "each of them comes through customs whole"
is "$leaked" 0 "none of them is the denied image's manifest, config or layer"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$DIGEST")" 403 \
    "and the image itself is still refused"

# ---- a referrer deleted through customs leaves the list --------------------------
first=$(jq -r "$CLIENT | .[0].digest" "$T/ref3.json")
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$CUS_URL/v2/shop/app/manifests/$first")" 202 \
    "DELETE of a client referrer through customs: 202 (the registry deletes it)"
wait_until 10 '[ "$(curl -s "$CUS_URL/v2/shop/app/referrers/$DIGEST" | jq -r "[.manifests[].digest] | index(\"$first\")")" = null ]'
curl -s -o "$T/ref4.json" "$CUS_URL/v2/shop/app/referrers/$DIGEST"
is "$(jq -r "$CLIENT | length" "$T/ref4.json")" 1 "the list no longer names it, the other client referrer stays"
ok '[ "$(jq -r ".manifests | length" "$T/ref4.json")" -ge 1 ]' "and the list is still answered (not emptied by a stale entry)"

# ---- the registry decides who may read the list --------------------------------
# a registry with basic authentication, and a second customs in front of it
AUTH_DIR=$T/authreg
mkdir -p "$AUTH_DIR/data"
HASH=$(python3 -c 'import crypt,sys; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' 2>/dev/null)
[ -n "$HASH" ] || bail_out "cannot hash a password for htpasswd"
echo "alice:$HASH" >"$AUTH_DIR/htpasswd"
APORT=$(free_port)
cat >"$AUTH_DIR/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $AUTH_DIR/data
http:
  addr: 127.0.0.1:$APORT
auth:
  htpasswd:
    realm: test-realm
    path: $AUTH_DIR/htpasswd
YAML
"$REGISTRY_BIN" serve "$AUTH_DIR/config.yml" >"$AUTH_DIR/registry.log" 2>&1 &
APID=$!
_LIB_PIDS+=("$APID")
wait_http "http://127.0.0.1:$APORT/v2/" "$APID" || bail_out "registry with authentication did not start"
CUS_UPSTREAM=http://127.0.0.1:$APORT start_customs
A=$CUS_URL
is "$(put_blob "$A" priv/app "$T/empty.json")" 401 "no credentials: the authenticated registry refuses an upload"
CRED=(-u alice:s3cret)
put_blob_auth() { put_blob "$@" "${CRED[@]}"; }
is "$(put_blob_auth "$A" priv/app "$T/empty.json")" 201 "with credentials: config blob uploaded"
is "$(put_blob_auth "$A" priv/app "$T/sig.bin")" 201 "and the signature blob"
artifact "$T/priv.json" "$MISSING" 1234 "$SIG" "$EMPTY_MT" "$T/sig.bin" "private"
PRIV=$(sha256_of "$T/priv.json")
is "$(put_manifest "$A" priv/app "$T/priv.json" "$T/put4.h" "${CRED[@]}")" 201 "private referrer pushed"
code=$(curl -s -D "$T/p0.h" -o "$T/p0.json" -w '%{http_code}' "$A/v2/priv/app/referrers/$MISSING")
is "$code" 401 "referrers without credentials: the registry's 401 passes through"
like "$(header_value "$T/p0.h" www-authenticate)" 'realm="test-realm"' "with its WWW-Authenticate"
like "$(cat "$T/p0.json")" UNAUTHORIZED "and its error body"
isnt "$(grep -c "$PRIV" "$T/p0.json")" 1 "the referrer's digest is not in it"
is "$(curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "$A/v2/priv/app/referrers/$MISSING")" 401 \
    "wrong password: 401"
is "$(curl -s -o /dev/null -w '%{http_code}' -I "$A/v2/priv/app/referrers/$MISSING")" 401 "HEAD without credentials: 401"
code=$(curl -s -o "$T/p1.json" -w '%{http_code}' "${CRED[@]}" "$A/v2/priv/app/referrers/$MISSING")
is "$code" 200 "with credentials: 200"
is "$(jq -r '[.manifests[].digest] | join(" ")' "$T/p1.json")" "$PRIV" "listing the private referrer"

done_testing
