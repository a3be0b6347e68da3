#!/bin/bash
# bench/real_image.sh - build a real (not synthetic) container image for the
# benchmarks: Debian 12 minbase + a few packages + a Python/npm application
# layer, as an OCI layout with 3 gzip layers in OUTDIR/layout (tag "app").
#
#   layer 1  debootstrap --variant=minbase bookworm (the apt mirror of this
#            machine, default http://deb.debian.org/debian)
#   layer 2  + python3 ca-certificates curl git openssh-client gnupg procps less
#            (chroot apt-get, no recommends)
#   layer 3  + python3 dist-packages (requests, yaml, jinja2, ... via apt) and
#            an npm node_modules under /app (npm install --prefix)
#
# Layers 2 and 3 hold only what changed over the layer below (new or modified
# entries, and OCI whiteouts for removed ones). Each stage's tree and the
# layout are cached in OUTDIR: a second run reuses what exists (delete OUTDIR,
# or one of its rootfs-N directories, to rebuild from there).
#
# usage: bench/real_image.sh OUTDIR        (needs root, debootstrap, npm,
#                                           python3, skopeo, gzip)
#   env: MIRROR  Debian mirror (default: first URIs of /etc/apt/sources.list*)
#        NPM_PKGS  npm packages for layer 3 (default below)
# Prints the layout path, compressed size, file count and layer sizes.
# Errors: any failed step stops the script with a message and exit 1.

set -eu
LINES=()
[ $# = 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root (debootstrap, chroot)" >&2; exit 1; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
LAYOUT=$OUT/layout
TAG=app
SUITE=bookworm
PKGS2="python3 ca-certificates curl git openssh-client gnupg procps less"
PKGS3="python3-pip python3-requests python3-yaml python3-jinja2 python3-six python3-urllib3 python3-idna python3-certifi python3-chardet"
NPM_PKGS=${NPM_PKGS:-"express lodash axios moment react react-dom typescript commander chalk uuid"}

die() { echo "$0: $*" >&2; exit 1; }

# The mirror apt uses here (deb822 "URIs:" or a one-line "deb URL ...").
if [ -z "${MIRROR:-}" ]; then
    MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
        /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }
             /^deb / && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^http/) { print $i; exit } }')
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null ||
    die "debootstrap missing and apt-get install failed"
for c in npm python3 skopeo gzip sha256sum; do
    command -v $c >/dev/null || die "$c not found"
done

# in_chroot ROOT CMD...: run CMD in ROOT with /proc mounted and the host's DNS.
in_chroot() {
    local root=$1 rc=0
    shift
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
    umount "$root/proc"
    return $rc
}

# apt_add ROOT PKGS...: install packages the way a Dockerfile RUN would
# (no recommends, lists and caches removed afterwards).
apt_add() {
    local root=$1
    shift
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    in_chroot "$root" apt-get -q update >/dev/null
    in_chroot "$root" apt-get -q install -y --no-install-recommends "$@" >/dev/null
    in_chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d"
}

# Stage 1: minbase.
if [ ! -e "$OUT/rootfs-1.done" ]; then
    rm -rf "$OUT/rootfs-1"
    echo "# layer 1: debootstrap --variant=minbase $SUITE from $MIRROR" >&2
    debootstrap --variant=minbase "$SUITE" "$OUT/rootfs-1" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 ||
        die "debootstrap failed, see $OUT/debootstrap.log"
    rm -rf "$OUT"/rootfs-1/var/lib/apt/lists/* "$OUT"/rootfs-1/var/cache/apt/archives/*.deb
    touch "$OUT/rootfs-1.done"
fi
# Stage 2: packages.
if [ ! -e "$OUT/rootfs-2.done" ]; then
    rm -rf "$OUT/rootfs-2"
    echo "# layer 2: apt-get install $PKGS2" >&2
    cp -a "$OUT/rootfs-1" "$OUT/rootfs-2"
    # shellcheck disable=SC2086
    apt_add "$OUT/rootfs-2" $PKGS2 || die "layer 2 apt-get failed"
    touch "$OUT/rootfs-2.done"
fi
# Stage 3: Python dist-packages + npm node_modules.
if [ ! -e "$OUT/rootfs-3.done" ]; then
    rm -rf "$OUT/rootfs-3"
    echo "# layer 3: $PKGS3; npm install $NPM_PKGS" >&2
    cp -a "$OUT/rootfs-2" "$OUT/rootfs-3"
    # shellcheck disable=SC2086
    apt_add "$OUT/rootfs-3" $PKGS3 || die "layer 3 apt-get failed"
    mkdir -p "$OUT/rootfs-3/app"
    # shellcheck disable=SC2086
    npm install --prefix "$OUT/rootfs-3/app" --no-audit --no-fund --loglevel=error $NPM_PKGS \
        >"$OUT/npm.log" 2>&1 || die "npm install failed, see $OUT/npm.log"
    chown -R 0:0 "$OUT/rootfs-3/app"
    touch "$OUT/rootfs-3.done"
fi

# Layers and layout (cheap compared with the trees; redone unless present).
if [ ! -e "$LAYOUT/index.json" ]; then
    rm -rf "$LAYOUT" "$OUT/tmp-layers"
    mkdir -p "$LAYOUT/blobs/sha256" "$OUT/tmp-layers"
    # difftar LOWER UPPER: an uncompressed tar on stdout of the entries of
    # UPPER that are new or differ from LOWER ("" = everything), plus
    # whiteouts for entries of LOWER that UPPER lacks. The contents of
    # /proc /sys /dev /run /tmp are left out, as image builders do.
    difftar() {
        python3 - "$1" "$2" <<'PY'
import os, stat, sys, tarfile
lower, upper = sys.argv[1], sys.argv[2]
SKIP = ("proc", "sys", "dev", "run", "tmp")
def walk(root):
    out = {}
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs.sort()
        for n in sorted(dirs + files):
            r = n if rel == "." else rel + "/" + n
            if "/" in r and r.split("/")[0] in SKIP:
                continue
            out[r] = os.lstat(os.path.join(root, r))
    return out
def same(a, b):
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode) or a.st_mode != b.st_mode:
        return False
    if (a.st_uid, a.st_gid) != (b.st_uid, b.st_gid):
        return False
    if stat.S_ISDIR(a.st_mode):
        return True          # a directory is re-listed only if its mode/owner changed
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns
up = walk(upper)
lo = walk(lower) if lower else {}
tf = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
removed = [r for r in lo if r not in up]
gone = set(removed)
for r in sorted(up):
    if r in lo and same(lo[r], up[r]):
        continue
    ti = tf.gettarinfo(os.path.join(upper, r), arcname=r)
    ti.uname = ti.gname = ""
    if ti.isreg():
        with open(os.path.join(upper, r), "rb") as f:
            tf.addfile(ti, f)
    else:
        tf.addfile(ti)
for r in sorted(removed):
    parent = os.path.dirname(r)
    if parent in gone:
        continue             # the whiteout of the parent covers it
    ti = tarfile.TarInfo((parent + "/" if parent else "") + ".wh." + os.path.basename(r))
    ti.mode = 0o644
    tf.addfile(ti)
tf.close()
PY
    }
    DIFF_IDS=() LAYERS=() SIZES=()
    lower=""
    for n in 1 2 3; do
        echo "# layer $n: tar + gzip" >&2
        tmp=$OUT/tmp-layers/layer-$n.tar.gz
        difftar "$lower" "$OUT/rootfs-$n" | tee >(sha256sum >"$OUT/tmp-layers/diff-$n") |
            gzip -6 -n >"$tmp"
        sleep 0.2    # the process substitution writes diff-N asynchronously
        while [ ! -s "$OUT/tmp-layers/diff-$n" ]; do sleep 0.1; done
        diff_id=sha256:$(cut -d' ' -f1 "$OUT/tmp-layers/diff-$n")
        dig=$(sha256sum "$tmp" | cut -d' ' -f1)
        mv "$tmp" "$LAYOUT/blobs/sha256/$dig"
        DIFF_IDS+=("$diff_id") LAYERS+=("$dig") SIZES+=("$(stat -c %s "$LAYOUT/blobs/sha256/$dig")")
        lower=$OUT/rootfs-$n
    done
    rm -rf "$OUT/tmp-layers"
    # Config, manifest, index (python: JSON without surprises).
    python3 - "$LAYOUT" "$TAG" "${DIFF_IDS[@]}" "${LAYERS[@]}" "${SIZES[@]}" <<'PY'
import hashlib, json, os, sys
layout, tag, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
diff_ids, layers, sizes = rest[0:3], rest[3:6], [int(s) for s in rest[6:9]]
def blob(obj):
    data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs/sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
config = {
    "created": "2025-05-20T00:00:00Z", "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "WorkingDir": "/app", "Cmd": ["/bin/bash"]},
    "rootfs": {"type": "layers", "diff_ids": diff_ids},
    "history": [{"created": "2025-05-20T00:00:00Z", "created_by": c} for c in
                ("debootstrap --variant=minbase bookworm",
                 "apt-get install python3 ca-certificates curl git openssh-client gnupg procps less",
                 "apt-get install python3-*; npm install")]}
cd, cs = blob(config)
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": cd, "size": cs},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": "sha256:" + l, "size": s} for l, s in zip(layers, sizes)]}
md, ms = blob(manifest)
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "digest": md, "size": ms,
                              "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
PY
fi

skopeo inspect "oci:$LAYOUT:$TAG" >"$OUT/inspect.json" || die "skopeo inspect failed on $LAYOUT"
skopeo inspect --raw "oci:$LAYOUT:$TAG" >"$OUT/manifest.json" || die "skopeo inspect --raw failed"
skopeo inspect --config "oci:$LAYOUT:$TAG" >"$OUT/config.json" || die "skopeo inspect --config failed"
# skopeo copy to a scratch dir re-reads every blob and checks its digest;
# the diff_ids (digests of the uncompressed tars) are checked here.
rm -rf "$OUT/verify"
skopeo copy -q "oci:$LAYOUT:$TAG" "dir:$OUT/verify" || die "skopeo copy (digest check) failed"
rm -rf "$OUT/verify"
python3 - "$OUT/manifest.json" "$OUT/config.json" <<'PY' >"$OUT/layers.txt" || die "layer list failed"
import json, sys
m, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for l, d in zip(m["layers"], c["rootfs"]["diff_ids"]):
    print(l["digest"], l["size"], d)
PY
i=0 total=0
while read -r dig size diff_id; do
    i=$((i + 1))
    got=sha256:$(gzip -dc "$LAYOUT/blobs/sha256/${dig#sha256:}" | sha256sum | cut -d' ' -f1)
    [ "$got" = "$diff_id" ] || die "layer $i: diff_id $diff_id in the config, $got in the blob"
    total=$((total + size))
    LINES+=("layer $i: $dig $size bytes ($((size / 1000000)) MB), diff_id ok")
done <"$OUT/layers.txt"

files=$(find "$OUT/rootfs-3" -xdev \( -path "$OUT/rootfs-3/proc" -o -path "$OUT/rootfs-3/sys" \
    -o -path "$OUT/rootfs-3/dev" \) -prune -o -type f -print | wc -l)
debs=$(chroot "$OUT/rootfs-3" dpkg-query -W -f '.\n' 2>/dev/null | wc -l)
npms=$(find "$OUT/rootfs-3/app/node_modules" -mindepth 2 -maxdepth 3 -name package.json | wc -l)
echo "layout: oci:$LAYOUT:$TAG"
printf '%s\n' "${LINES[@]}"
echo "image: $total bytes compressed ($((total / 1000000)) MB) in $i layers, $files regular files, $debs deb packages, $npms npm packages"
