# tests/integration/dockerlib.sh - a real dockerd per test, for the tests
# that use the docker CLI as a client (source it after lib.sh):
#     . "$LIB_DIR/dockerlib.sh"
#
# It provides:
#   - docker_require: bail out unless docker, dockerd and root are there;
#   - start_dockerd [REGISTRY_HOST:PORT...]: a dockerd with vfs storage (or
#     DOCKERD_STORAGE_DRIVER), no bridge, no iptables, its data root, exec
#     root and socket in $T, the given registries trusted over plain HTTP
#     (--insecure-registry); the docker CLI is pointed at it (DOCKER_HOST,
#     DOCKER_CONFIG in $T);
#   - dk ARGS...: the docker CLI with a timeout (DK_TIMEOUT_SECS);
#   - stop_dockerd: removes its containers, stops it and its containerd;
#     also run on every exit (bail_out included), before lib.sh's cleanup;
#   - debian12_image: `docker import` of a Debian 12 minbase root filesystem
#     as debian:12, made by debootstrap once and cached (DEBIAN12_CACHE_DIR).
# Environment:
#   DOCKER_BIN, DOCKERD_BIN   the CLI and the daemon (default: from $PATH)
#   DOCKERD_STORAGE_DRIVER    vfs (default), overlay2, or auto (overlay2 if
#                             dockerd can use it here, else vfs)
#   DEBIAN12_CACHE_DIR        where the minbase tarball is kept between runs
#                             (default /var/cache/customs-tests)
#   DEBIAN12_MIRROR           the mirror debootstrap uses (default: the first
#                             Debian mirror in the host's apt sources)
# Errors: anything that prevents a dockerd or the base image is a bail_out.

DOCKER_BIN=${DOCKER_BIN:-docker}
DOCKERD_BIN=${DOCKERD_BIN:-dockerd}
DEBIAN12_CACHE_DIR=${DEBIAN12_CACHE_DIR:-/var/cache/customs-tests}
DOCKERD_WAIT_SECS=20     # TERM -> exit: dockerd stops its containers first
DOCKERD_START_SECS=60    # start -> answering on its socket
DK_TIMEOUT_SECS=${DK_TIMEOUT_SECS:-120}   # one docker CLI call (push, pull, run)
DOCKERD_PID="" DOCKERD_CHILDREN=""

export DOCKER_HOST=unix://$T/docker.sock DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG"

# docker_require: the tools and privileges a dockerd needs.
docker_require() {
    local c
    for c in "$DOCKER_BIN" "$DOCKERD_BIN"; do
        command -v "$c" >/dev/null || bail_out "$c is required (Debian: apt-get install docker.io)"
    done
    [ "$(id -u)" = 0 ] || bail_out "dockerd needs root"
}

dk() { timeout "$DK_TIMEOUT_SECS" "$DOCKER_BIN" "$@"; }

# start_dockerd [HOST:PORT...]: start it, wait until it answers.  Storage:
# DOCKERD_STORAGE_DRIVER (default vfs, which works on any filesystem); "auto"
# tries overlay2 first (no copy of the whole root filesystem per build step:
# several times faster for docker build) and vfs when dockerd cannot use it
# here (an overlay filesystem under $T, no overlay in the kernel).
start_dockerd() {
    local args=() h deadline drv drivers=${DOCKERD_STORAGE_DRIVER:-vfs}
    for h in "$@"; do args+=(--insecure-registry "$h"); done
    [ "$drivers" = auto ] && drivers="overlay2 vfs"
    for drv in $drivers; do
        "$DOCKERD_BIN" --iptables=false --ip6tables=false --bridge=none --storage-driver="$drv" \
            --data-root "$T/d" --exec-root "$T/e" -H "$DOCKER_HOST" --pidfile "$T/docker.pid" \
            "${args[@]}" >"$T/dockerd.log" 2>&1 &
        DOCKERD_PID=$!
        _LIB_PIDS+=("$DOCKERD_PID")
        deadline=$((SECONDS + DOCKERD_START_SECS))
        until dk version >/dev/null 2>&1; do
            kill -0 "$DOCKERD_PID" 2>/dev/null || break
            [ $SECONDS -lt $deadline ] || bail_out "dockerd did not answer within $DOCKERD_START_SECS s: $(tail -5 "$T/dockerd.log")"
            sleep 0.3
        done
        kill -0 "$DOCKERD_PID" 2>/dev/null && break
        wait "$DOCKERD_PID" 2>/dev/null
        diag "dockerd --storage-driver=$drv cannot start here: $(grep -m1 'failed to start daemon' "$T/dockerd.log")"
        DOCKERD_PID=""
        _dockerd_unmount
        mv "$T/d" "$T/d-$drv" 2>/dev/null; mv "$T/e" "$T/e-$drv" 2>/dev/null
    done
    [ -n "$DOCKERD_PID" ] || bail_out "dockerd cannot start here (storage drivers tried: $drivers)"
    DOCKERD_DRIVER=$(dk info -f '{{.Driver}}' 2>/dev/null)
    diag "dockerd $(dk version -f '{{.Server.Version}}' 2>/dev/null) on $DOCKER_HOST, storage $DOCKERD_DRIVER"
}

# stop_dockerd: remove its containers (their shims are not its children and
# would outlive it), TERM it, wait (it stops its containerd), then force
# both, and unmount what it left mounted in $T.
# Sets DOCKERD_CHILDREN to what it had started.
stop_dockerd() {
    [ -n "$DOCKERD_PID" ] || return 0
    local cpid ids p
    ids=$(timeout 30 "$DOCKER_BIN" ps -aq 2>/dev/null)
    [ -z "$ids" ] || timeout 60 "$DOCKER_BIN" rm -f $ids >/dev/null 2>&1
    cpid=$(ps -o pid= --ppid "$DOCKERD_PID" 2>/dev/null | tr -d ' ') # its containerd (and nothing else)
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 $((DOCKERD_WAIT_SECS * 5))); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.2
    done
    kill -9 "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    for p in $cpid; do
        kill -0 "$p" 2>/dev/null || continue
        kill "$p" 2>/dev/null
        sleep 1
        kill -9 "$p" 2>/dev/null
    done
    DOCKERD_CHILDREN=$cpid
    DOCKERD_PID=""
    _dockerd_unmount
}

# _dockerd_unmount: unmount what dockerd left mounted in $T, deepest first:
# the host network namespace it binds for --network host containers
# (exec-root/netns/default), its data root after a failed start; lib.sh's
# rm -rf of $T would fail on them.
_dockerd_unmount() {
    awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
}
# lib.sh's cleanup gives a daemon one second before SIGKILL, which would
# orphan dockerd's containerd and containers: stop dockerd first, keeping
# the exit status
trap '_dk_rc=$?; stop_dockerd; (exit $_dk_rc); _lib_cleanup' EXIT

# debian12_mirror: the Debian mirror the host's apt uses (deb822 URIs: or
# one-line deb entries), so that debootstrap goes where apt-get goes.
debian12_mirror() {
    [ -n "${DEBIAN12_MIRROR:-}" ] && { echo "$DEBIAN12_MIRROR"; return 0; }
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^[ \t]*URIs:/ { for (i = 2; i <= NF; i++) print $i }
             /^[ \t]*deb[ \t]/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
        grep -E '/debian/?$' | head -1
}

# debian12_tarball: set DEBIAN12_TARBALL to the cached minbase root
# filesystem tarball, making it with debootstrap first if it is not there.
# Built in a temporary directory beside it and renamed into place, so that a
# run that dies half way, or two runs at once, never leave a partial tarball.
# Sets DEBIAN12_HOW to "built in N s ..." or "reused".
debian12_tarball() {
    local mirror work t0
    DEBIAN12_TARBALL=$DEBIAN12_CACHE_DIR/debian12-minbase.tar
    if [ -s "$DEBIAN12_TARBALL" ]; then
        DEBIAN12_HOW=reused
        return 0
    fi
    command -v debootstrap >/dev/null || bail_out "debootstrap is required (Debian: apt-get install debootstrap)"
    mirror=$(debian12_mirror)
    [ -n "$mirror" ] || bail_out "no Debian mirror in /etc/apt/sources.list*: set DEBIAN12_MIRROR"
    mkdir -p "$DEBIAN12_CACHE_DIR" || bail_out "cannot create $DEBIAN12_CACHE_DIR"
    work=$(mktemp -d "$DEBIAN12_CACHE_DIR/build.XXXXXX") || bail_out "mktemp in $DEBIAN12_CACHE_DIR"
    t0=$SECONDS
    if ! debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        diag "debootstrap: $(tail -5 "$work/debootstrap.log")"
        rm -rf "$work"
        bail_out "debootstrap --variant=minbase bookworm from $mirror failed"
    fi
    # the image needs no package lists nor downloaded .debs (apt-get update
    # fetches fresh lists in every build)
    rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
    tar --numeric-owner -C "$work/root" -cf "$work/root.tar" . || { rm -rf "$work"; bail_out "tar of the minbase root"; }
    mv -f "$work/root.tar" "$DEBIAN12_TARBALL" || { rm -rf "$work"; bail_out "cannot move the tarball into $DEBIAN12_CACHE_DIR"; }
    rm -rf "$work"
    DEBIAN12_HOW="built in $((SECONDS - t0)) s from $mirror"
}

# debian12_image: debian:12 in this dockerd, from the cached tarball.
debian12_image() {
    debian12_tarball
    dk import --change 'CMD ["bash"]' "$DEBIAN12_TARBALL" debian:12 >"$T/debian12.id" 2>"$T/debian12.err" ||
        bail_out "docker import of $DEBIAN12_TARBALL: $(cat "$T/debian12.err")"
    diag "debian:12 base: $DEBIAN12_HOW ($DEBIAN12_TARBALL, $(($(stat -c %s "$DEBIAN12_TARBALL") / 1048576)) MiB)"
}
