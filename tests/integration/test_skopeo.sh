#!/bin/bash
# test_skopeo.sh - push and pull a made-up 3-layer image through customs with
# skopeo, over plain HTTP/1.1 and over TLS; check every blob's digest,
# `skopeo inspect` and the tag list.

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/mkimage.sh"

# verify_layout DIR: every blob's sha256 equals its file name. Prints
# "<blobs> <bad>".
verify_layout() {
    local f n=0 bad=0 h
    for f in "$1"/blobs/sha256/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        h=$(sha256sum "$f")
        [ "${h%% *}" = "$(basename "$f")" ] || bad=$((bad + 1))
    done
    echo "$n $bad"
}

# layout_manifest DIR TAG: manifest digest recorded for TAG in index.json.
layout_manifest() {
    jq -r --arg t "$2" '.manifests[] |
        select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
        "$1/index.json"
}

# layout_layers DIR TAG: the manifest's layer digests, one line.
layout_layers() {
    local m
    m=$(layout_manifest "$1" "$2")
    jq -r '[.layers[].digest] | join(" ")' "$1/blobs/sha256/${m#sha256:}"
}

# check_push_pull LABEL HOSTPORT REPO TAG SRC_LAYOUT DEST_FLAG SRC_FLAG
#   Push SRC_LAYOUT:TAG to HOSTPORT/REPO:TAG and pull it back; DEST_FLAG and
#   SRC_FLAG are the skopeo TLS options (e.g. --dest-tls-verify=false).
check_push_pull() {
    local label=$1 hp=$2 repo=$3 tag=$4 src=$5 dflag=$6 sflag=$7
    local want got pulled=$T/pulled-$label res
    want=$(layout_manifest "$src" "$tag")

    skopeo copy --quiet "$dflag" "oci:$src:$tag" "docker://$hp/$repo:$tag" \
        >"$T/push-$label.out" 2>&1
    ok $? "$label: skopeo push oci:$tag -> $hp/$repo:$tag" ||
        diag "$(tail -5 "$T/push-$label.out")"

    # The manifest really reached the registry, byte for byte.
    got=$(curl -sk -o /dev/null -w '%header{docker-content-digest}' \
        -H "Accept: $MKIMAGE_OCI_MANIFEST" "$REG_URL/v2/$repo/manifests/$tag")
    [ -n "$got" ] || got=$(curl -sk -I -H "Accept: $MKIMAGE_OCI_MANIFEST" \
        "$REG_URL/v2/$repo/manifests/$tag" | tr -d '\r' |
        awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
    is "$got" "$want" "$label: registry holds the pushed manifest digest"

    skopeo copy --quiet "$sflag" "docker://$hp/$repo:$tag" "oci:$pulled:$tag" \
        >"$T/pull-$label.out" 2>&1
    ok $? "$label: skopeo pull $hp/$repo:$tag -> new OCI dir" ||
        diag "$(tail -5 "$T/pull-$label.out")"
    is "$(layout_manifest "$pulled" "$tag")" "$want" \
        "$label: pulled manifest digest equals pushed one"
    is "$(layout_layers "$pulled" "$tag" 2>/dev/null)" "$(layout_layers "$src" "$tag")" \
        "$label: pulled layer digests equal pushed ones"
    res=$(verify_layout "$pulled")
    is "$res" "5 0" "$label: 5 pulled blobs (manifest, config, 3 layers), all sha256 match"

    # skopeo inspect spells the source options without "src-".
    local iflag=${sflag/--src-/--}
    got=$(skopeo inspect "$iflag" "docker://$hp/$repo:$tag" 2>"$T/inspect-$label.err")
    is "$(jq -r .Digest <<<"$got" 2>/dev/null)" "$want" "$label: skopeo inspect Digest"
    is "$(jq -r '.Layers | join(" ")' <<<"$got" 2>/dev/null)" "$(layout_layers "$src" "$tag")" \
        "$label: skopeo inspect Layers"
    got=$(skopeo inspect --raw "$iflag" "docker://$hp/$repo:$tag" 2>/dev/null | sha256sum)
    is "sha256:${got%% *}" "$want" "$label: skopeo inspect --raw is byte-exact"
}

start_registry
start_customs
HP=$(url_hostport "$CUS_URL")

# --- plain HTTP/1.1 -------------------------------------------------------
mkimage_build -n 3 -s 2M,512K,3M -t v1 "$T/img" >/dev/null || bail_out "mkimage failed"
check_push_pull h1 "$HP" it/app v1 "$T/img" --dest-tls-verify=false --src-tls-verify=false

# Second tag, then the tag list through customs.
skopeo copy --quiet --dest-tls-verify=false "oci:$T/img:v1" "docker://$HP/it/app:v2" \
    >"$T/push-v2.out" 2>&1
ok $? "h1: push second tag v2"
# (customs' own annotations add the referrers tag sha256-<hex> of the OCI
# tag schema at some moment after the push: not the client's tags)
tags=$(skopeo list-tags --tls-verify=false "docker://$HP/it/app" 2>/dev/null |
    jq -r '[.Tags[] | select(startswith("sha256-") | not)] | sort | join(",")' 2>/dev/null)
is "$tags" "v1,v2" "h1: skopeo list-tags shows v1,v2 (besides referrers tags)"

# --- TLS ------------------------------------------------------------------
make_tls_certs "$T/tls" || bail_out "openssl failed to make certificates"
start_customs --tls-cert "$T/tls/server.crt" --tls-key "$T/tls/server.key"
HPS=$(url_hostport "$CUS_URL")
like "$CUS_URL" '^https://' "tls: customs listens with TLS"

# Without our CA the certificate must not verify: proves TLS is really ours.
skopeo inspect --tls-verify=true "docker://$HPS/it/app:v1" >"$T/noca.out" 2>&1
# shellcheck disable=SC2034
st=$?   # read by ok's eval below
ok '[ $st != 0 ] && grep -qiE "x509|certificate" "$T/noca.out"' \
    "tls: without the CA, skopeo refuses the certificate"

mkimage_build -n 3 -s 1M,256K,2M -t t1 "$T/img-tls" >/dev/null || bail_out "mkimage failed"
check_push_pull tls "$HPS" it/tls t1 "$T/img-tls" \
    "--dest-cert-dir=$T/tls/certs.d" "--src-cert-dir=$T/tls/certs.d"
tags=$(skopeo list-tags "--cert-dir=$T/tls/certs.d" "docker://$HPS/it/tls" 2>/dev/null |
    jq -r '[.Tags[] | select(startswith("sha256-") | not)] | join(",")' 2>/dev/null)
is "$tags" "t1" "tls: skopeo list-tags shows t1 (besides referrers tags)"

done_testing
