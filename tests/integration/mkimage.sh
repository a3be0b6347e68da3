#!/bin/bash
# tests/integration/mkimage.sh - build a made-up container image as an OCI
# image layout directory, usable as `skopeo copy oci:DIR:TAG docker://...`.
#
# As a command:
#   mkimage.sh [-n LAYERS] [-s SIZE[,SIZE...]] [-p random|text|zero] [-t TAG]
#              [-l ROOTFS_DIR]... [-H HOOK] [-a ARCH] [-z GZIP_LEVEL] OUTDIR
#     -n  number of generated layers (default 3)
#     -s  payload bytes per layer, one for all or a comma list, suffix K/M/G
#         (binary units; default 64K)
#     -p  payload content: random (incompressible, default), text, zero
#     -t  tag recorded in index.json (default latest)
#     -l  use this directory as the root filesystem of the next layer instead
#         of generating one (repeatable; -n is then ignored)
#     -H  called as `HOOK LAYER_ROOTFS_DIR INDEX` on each generated layer
#         before it is packed, to plant extra files (dpkg status, ...). A shell
#         function (exported with export -f, or when sourced) or an executable.
#     -a  architecture in the config (default amd64)
#     -z  gzip level 1-9 (default 6)
#   Prints the manifest digest (sha256:...) on stdout.
#
# As a library (`. mkimage.sh`), the same steps one by one:
#   oci_init OUT                      create/prepare the layout, forget layers
#   mkimage_rootfs DIR INDEX BYTES KIND   fill DIR with a made-up root fs
#   oci_add_layer OUT ROOTFS_DIR [LVL]    tar + gzip DIR as the next layer
#   oci_add_layer_tar OUT TARFILE [LVL]   same from a ready uncompressed tar
#                                     (for whiteouts, odd modes, links, ...)
#   oci_finish OUT TAG [ARCH]         write config, manifest, index.json;
#                                     prints the manifest digest
# Everything is deterministic except random payloads (fixed mtimes, owners,
# ordering, gzip -n), so digests change only when content does.

MKIMAGE_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
MKIMAGE_OCI_CONFIG=application/vnd.oci.image.config.v1+json
MKIMAGE_OCI_LAYER=application/vnd.oci.image.layer.v1.tar+gzip

# mkimage_bytes SIZE: "64K" -> 65536 (K/M/G binary; plain numbers are bytes).
mkimage_bytes() {
    local s=$1 n
    case $s in
        *[kK]) n=$((${s%?} * 1024)) ;;
        *[mM]) n=$((${s%?} * 1024 * 1024)) ;;
        *[gG]) n=$((${s%?} * 1024 * 1024 * 1024)) ;;
        *) n=$((s)) ;;
    esac
    echo "$n"
}

# mkimage_payload FILE BYTES KIND: write BYTES of random/text/zero data.
mkimage_payload() {
    case $3 in
        random) head -c "$2" /dev/urandom >"$1" ;;
        zero) head -c "$2" /dev/zero >"$1" ;;
        text) yes "customs test payload line, compressible on purpose" | head -c "$2" >"$1" ;;
        *) echo "mkimage: unknown payload kind '$3'" >&2; return 1 ;;
    esac
}

# mkimage_rootfs DIR INDEX BYTES KIND
#   A small made-up root filesystem. Layer 0 looks like a base image (os-release,
#   passwd, a shell symlink); every layer gets its own /opt/layer-INDEX with a
#   payload of BYTES bytes. Callers add files afterwards (or through -H).
mkimage_rootfs() {
    local dir=$1 idx=$2 bytes=$3 kind=$4
    mkdir -p "$dir/opt/layer-$idx" || return 1
    if [ "$idx" = 0 ]; then
        mkdir -p "$dir/etc" "$dir/bin" "$dir/usr/bin" "$dir/tmp" "$dir/var/lib"
        cat >"$dir/etc/os-release" <<'EOF'
PRETTY_NAME="Customs Test Linux 1"
NAME="Customs Test Linux"
ID=customs-test
VERSION_ID="1"
EOF
        printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
        printf '#!/bin/sh\necho made-up shell\n' >"$dir/bin/sh"
        chmod 755 "$dir/bin/sh"
        ln -sf ../../bin/sh "$dir/usr/bin/sh"
        chmod 1777 "$dir/tmp"
    fi
    printf 'layer %s of a customs test image\n' "$idx" >"$dir/opt/layer-$idx/README"
    if [ "$bytes" -gt 0 ]; then
        mkimage_payload "$dir/opt/layer-$idx/payload.bin" "$bytes" "$kind" || return 1
    fi
}

# oci_init OUT: make the layout skeleton and start a new image (no layers).
oci_init() {
    local out=$1
    mkdir -p "$out/blobs/sha256" "$out/.mkimage" || return 1
    printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
    : >"$out/.mkimage/layers"
}

# _oci_put_blob OUT FILE: move FILE into blobs/ under its digest; prints
# "sha256:<hex> <size>".
_oci_put_blob() {
    local out=$1 f=$2 hex size
    hex=$(sha256sum "$f") || return 1
    hex=${hex%% *}
    size=$(stat -c %s "$f")
    mv -f "$f" "$out/blobs/sha256/$hex" || return 1
    echo "sha256:$hex $size"
}

# oci_add_layer_tar OUT TARFILE [LEVEL]: compress an uncompressed layer tar
# and append it to the image (diff_id = sha256 of the tar).
oci_add_layer_tar() {
    local out=$1 tarf=$2 level=${3:-6} diffid blob
    diffid=$(sha256sum "$tarf") || return 1
    diffid=sha256:${diffid%% *}
    gzip -n "-$level" -c "$tarf" >"$out/.mkimage/blob.tmp" || return 1
    blob=$(_oci_put_blob "$out" "$out/.mkimage/blob.tmp") || return 1
    echo "$blob $diffid" >>"$out/.mkimage/layers"
}

# oci_add_layer OUT ROOTFS_DIR [LEVEL]: pack a directory as the next layer.
oci_add_layer() {
    local out=$1 dir=$2 level=${3:-6} rc
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        --format=gnu -C "$dir" -cf "$out/.mkimage/layer.tar" . || return 1
    oci_add_layer_tar "$out" "$out/.mkimage/layer.tar" "$level"
    rc=$?
    rm -f "$out/.mkimage/layer.tar"
    return $rc
}

# oci_finish OUT TAG [ARCH]: write config + manifest, add/replace TAG in
# index.json, print the manifest digest.
oci_finish() {
    local out=$1 tag=$2 arch=${3:-amd64} layers cfg man
    [ -s "$out/.mkimage/layers" ] || { echo "mkimage: no layers" >&2; return 1; }
    # Layer list as JSON: [{"digest","size","diff_id"}...]
    layers=$(awk '{ printf "%s{\"digest\":\"%s\",\"size\":%s,\"diff_id\":\"%s\"}",
                      (NR > 1 ? "," : "["), $1, $2, $3 } END { print "]" }' \
        "$out/.mkimage/layers")
    jq -cn --argjson l "$layers" --arg arch "$arch" '{
        created: "1970-01-01T00:00:00Z",
        architecture: $arch, os: "linux",
        config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/sh"] },
        rootfs: { type: "layers", diff_ids: [ $l[].diff_id ] },
        history: [ $l[] | { created: "1970-01-01T00:00:00Z",
                            created_by: "mkimage.sh layer" } ] }' \
        | tr -d '\n' >"$out/.mkimage/config.tmp" || return 1
    cfg=$(_oci_put_blob "$out" "$out/.mkimage/config.tmp") || return 1
    jq -cn --argjson l "$layers" --arg cd "${cfg% *}" --argjson cs "${cfg#* }" \
        --arg mt "$MKIMAGE_OCI_MANIFEST" --arg ct "$MKIMAGE_OCI_CONFIG" \
        --arg lt "$MKIMAGE_OCI_LAYER" '{
        schemaVersion: 2, mediaType: $mt,
        config: { mediaType: $ct, digest: $cd, size: $cs },
        layers: [ $l[] | { mediaType: $lt, digest: .digest, size: .size } ] }' \
        | tr -d '\n' >"$out/.mkimage/manifest.tmp" || return 1
    man=$(_oci_put_blob "$out" "$out/.mkimage/manifest.tmp") || return 1
    # index.json keeps other tags already in the layout.
    [ -f "$out/index.json" ] || echo '{"schemaVersion":2,"manifests":[]}' >"$out/index.json"
    jq -c --arg d "${man% *}" --argjson s "${man#* }" --arg t "$tag" \
        --arg mt "$MKIMAGE_OCI_MANIFEST" '
        .manifests |= ([ .[] | select(.annotations["org.opencontainers.image.ref.name"] != $t) ]
          + [ { mediaType: $mt, digest: $d, size: $s,
                annotations: { "org.opencontainers.image.ref.name": $t } } ])' \
        "$out/index.json" >"$out/.mkimage/index.tmp" || return 1
    mv -f "$out/.mkimage/index.tmp" "$out/index.json"
    rm -rf "$out/.mkimage"
    echo "${man% *}"
}

# mkimage_build [options] OUTDIR: the command-line entry point (see top).
mkimage_build() {
    local n=3 sizes=64K kind=random tag=latest hook="" arch=amd64 level=6 opt
    local dirs=() OPTIND=1
    while getopts "n:s:p:t:l:H:a:z:" opt; do
        case $opt in
            n) n=$OPTARG ;;
            s) sizes=$OPTARG ;;
            p) kind=$OPTARG ;;
            t) tag=$OPTARG ;;
            l) dirs+=("$OPTARG") ;;
            H) hook=$OPTARG ;;
            a) arch=$OPTARG ;;
            z) level=$OPTARG ;;
            *) echo "usage: mkimage.sh [-n N] [-s SIZES] [-p KIND] [-t TAG] [-l DIR]... [-H HOOK] [-a ARCH] [-z LVL] OUTDIR" >&2
               return 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    [ $# = 1 ] || { echo "mkimage.sh: OUTDIR required" >&2; return 2; }
    local out=$1 i work size_list
    oci_init "$out" || return 1
    if [ ${#dirs[@]} -gt 0 ]; then
        for i in "${dirs[@]}"; do
            oci_add_layer "$out" "$i" "$level" || return 1
        done
    else
        IFS=, read -r -a size_list <<<"$sizes"
        work=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX") || return 1
        for ((i = 0; i < n; i++)); do
            # A short size list repeats its last element.
            local sz=${size_list[i]:-${size_list[${#size_list[@]} - 1]}}
            mkdir -p "$work/$i"
            mkimage_rootfs "$work/$i" "$i" "$(mkimage_bytes "$sz")" "$kind" &&
                { [ -z "$hook" ] || "$hook" "$work/$i" "$i"; } &&
                oci_add_layer "$out" "$work/$i" "$level" ||
                { rm -rf "$work"; return 1; }
            rm -rf "${work:?}/$i"
        done
        rm -rf "$work"
    fi
    oci_finish "$out" "$tag" "$arch"
}

# Run as a command unless sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    mkimage_build "$@"
fi
