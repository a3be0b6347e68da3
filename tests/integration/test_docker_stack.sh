#!/bin/bash
# tests/integration/test_docker_stack.sh - the container path for real, on a
# dockerd of its own (dockerlib.sh), issue 14 item 7:
#   - a debian:12 base made locally (debootstrap --variant=minbase, cached in
#     DEBIAN12_CACHE_DIR: Docker Hub does not answer here);
#   - the repository's Dockerfile builds on it (`docker build --network host`,
#     apt-get reaching the host's Debian mirror), timed;
#   - a registry image built FROM debian:12 with Debian's docker-registry;
#   - both run as the compose stack does, with `docker run --network host`
#     (registry on a free loopback port, its storage in $T; customs in front,
#     its database on a bind mount, vulnerability data imported into it
#     beforehand with the customs binary of the image);
#   - `docker push` of a clean image (the real debian:12 minbase) and of a
#     vulnerable one through customs; `docker pull` of the clean one back
#     gives the same digest; the vulnerable one is refused, its CVE in
#     docker's error;
#   - customs runs as the image's non-root user `customs`, and `docker stop`
#     stops it within its grace period, cleanly.
# Why `docker run` and not docker-compose.yml itself: Debian 12 packages no
# `docker compose` plugin (docker.io 20.10 ships none; the docker-compose
# package is the retired Python v1), and the compose file's network (a bridge
# between the two services, a published port) needs the bridge and iptables
# that dockerd runs without here.  The runs below are the compose services
# with network_mode: host: the same images, command, volumes, grace period.
# TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/dockerlib.sh"

for c in jq curl; do
    command -v "$c" >/dev/null || bail_out "$c is required"
done
docker_require
SRC=${top_srcdir:-$TOP_DIR}
[ -f "$SRC/Dockerfile" ] || bail_out "no Dockerfile in $SRC"
STOP_GRACE_SECS=40          # docker-compose.yml's stop_grace_period
DK_TIMEOUT_SECS=900         # one docker build (apt-get, compiling) at most
CUS_IMG=customs:stack-test REG_IMG=registry:stack-test

REGPORT=$(free_port) || bail_out "no free port"
CPORT=$(free_port) || bail_out "no free port"
while [ "$CPORT" = "$REGPORT" ]; do CPORT=$(free_port) || bail_out "no free port"; done
CH=127.0.0.1:$CPORT
# overlay2 where dockerd can use it: vfs copies the whole root filesystem
# for every build step and makes the build several times slower
DOCKERD_STORAGE_DRIVER=${DOCKERD_STORAGE_DRIVER:-auto} start_dockerd "$CH"

# ---- images: base, customs (the Dockerfile), registry ------------------------------
debian12_image
t0=$SECONDS
dk build --network host -t "$CUS_IMG" -f "$SRC/Dockerfile" "$SRC" >"$T/build.out" 2>&1
rc=$?
BUILD_SECS=$((SECONDS - t0))
is "$rc" 0 "docker build --network host of the Dockerfile on the local debian:12"
[ "$rc" = 0 ] || { diag "$(tail -30 "$T/build.out")"; bail_out "no customs image"; }
diag "docker build of the Dockerfile took $BUILD_SECS s"

mkdir -p "$T/regimg"
cat >"$T/regimg/Dockerfile" <<'X'
FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends docker-registry \
    && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["/usr/bin/docker-registry", "serve"]
CMD ["/etc/docker/registry/config.yml"]
X
t0=$SECONDS
dk build --network host -t "$REG_IMG" "$T/regimg" >"$T/regbuild.out" 2>&1
rc=$?
is "$rc" 0 "docker build of a registry image from Debian's docker-registry"
[ "$rc" = 0 ] || { diag "$(tail -30 "$T/regbuild.out")"; bail_out "no registry image"; }
diag "registry image built in $((SECONDS - t0)) s"

# ---- the stack: registry, then customs in front of it -------------------------------
mkdir -p "$T/regdata" "$T/regconf"
printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$REGPORT" >"$T/regconf/config.yml"
dk run -d --name stack-registry --network host -v "$T/regdata:/var/lib/registry" \
    -v "$T/regconf/config.yml:/etc/docker/registry/config.yml:ro" "$REG_IMG" >"$T/reg.id" 2>"$T/reg.err" ||
    bail_out "docker run of the registry: $(cat "$T/reg.err")"
REG_CPID=$(dk inspect -f '{{.State.Pid}}' stack-registry)
wait_http "http://127.0.0.1:$REGPORT/v2/" "$REG_CPID" ||
    bail_out "the registry container does not answer: $(dk logs stack-registry 2>&1 | tail -5)"

# customs' configuration: the shipped policy's rule set with the test's
# critical CVE, and no db.sources (the shipped ones are on the internet)
mkdir -p "$T/conf" "$T/cdb"
printf 'log:\n  level: info\n' >"$T/conf/customs.yaml"
fixture_policy_no_critical "$T/conf/policy.yaml"
CUID=$(dk run --rm --network none --entrypoint id "$CUS_IMG" -u 2>"$T/id.err")
CUSER=$(dk run --rm --network none --entrypoint id "$CUS_IMG" -un 2>>"$T/id.err")
is "$CUSER" customs "the image's user is customs"
ok '[ -n "$CUID" ] && [ "$CUID" != 0 ]' "and it is not root (uid ${CUID:-none})"
# the image's VOLUME is owned by that user; so must be the bind mount in its place
chown "${CUID:-0}" "$T/cdb"
fixture_critical_osv "$T/conf/osv.json"
dk run --rm --network none -v "$T/cdb:/var/lib/customs" -v "$T/conf:/etc/customs:ro" \
    --entrypoint /usr/local/bin/customs "$CUS_IMG" \
    db import --db /var/lib/customs/customs.db /etc/customs/osv.json >"$T/import.out" 2>&1
is "$?" 0 "customs db import with the image's binary, into the database on the volume"
is "$(stat -c %u "$T/cdb/customs.db" 2>/dev/null)" "$CUID" "the database belongs to the customs user"

t0=$SECONDS
dk run -d --name stack-customs --network host --stop-timeout "$STOP_GRACE_SECS" \
    -v "$T/cdb:/var/lib/customs" -v "$T/conf:/etc/customs:ro" "$CUS_IMG" \
    --listen "$CH" --upstream "http://127.0.0.1:$REGPORT" \
    --db /var/lib/customs/customs.db --policy /etc/customs/policy.yaml >"$T/cus.id" 2>"$T/cus.err" ||
    bail_out "docker run of customs: $(cat "$T/cus.err")"
CUS_CPID=$(dk inspect -f '{{.State.Pid}}' stack-customs)
wait_http "http://$CH/v2/" "$CUS_CPID" || bail_out "customs' container does not answer: $(dk logs stack-customs 2>&1 | tail -5)"
diag "stack up in $((SECONDS - t0)) s: registry 127.0.0.1:$REGPORT, customs $CH"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://$CH/v2/")" 200 "customs answers /v2/ from its container"
is "$(ps -o uid= -p "$CUS_CPID" | tr -d ' ')" "$CUID" "customs' process runs with the customs user's uid"
is "$(dk exec stack-customs id -un 2>/dev/null)" customs "docker exec in it is the customs user"

# ---- push both, pull them back -------------------------------------------------------
# clean: the real debian:12 minbase (real dpkg database, no CVE-2099-0001)
dk tag debian:12 "$CH/stack/base:12"
dk push "$CH/stack/base:12" >"$T/push-clean.out" 2>&1
is "$?" 0 "docker push of debian:12 through customs"
CLEAN=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$T/push-clean.out" | tail -1)
like "$CLEAN" '^sha256:' "docker names the pushed digest"
is "$(reg_digest "$REGPORT" stack/base 12)" "$CLEAN" "the registry container holds stack/base:12 with it"
dk exec stack-customs customs report --db /var/lib/customs/customs.db --format json "stack/base@$CLEAN" \
    >"$T/report.json" 2>"$T/report.err"
is "$(jq -r '.os.id + " " + .os.version_id' "$T/report.json" 2>/dev/null)" "debian 12" \
    "customs in the container scanned it: Debian 12"
NPKG=$(jq '[.packages[] | select(.type == "deb")] | length' "$T/report.json" 2>/dev/null)
ok '[ "${NPKG:-0}" -ge 50 ]' "with the minbase's packages (${NPKG:-0} deb, base-files among them: $(jq -r '.packages[] | select(.name == "base-files") | .version' "$T/report.json" 2>/dev/null))"

# vulnerable: libssl3 3.0.11-1~deb12u2 (CVE-2099-0001, critical)
fixture_debian_base "$T/bad-root" 3.0.11-1~deb12u2 stack-bad
tar -C "$T/bad-root" -cf "$T/bad.tar" . || bail_out "tar"
dk import "$T/bad.tar" "$CH/stack/bad:v1" >/dev/null 2>"$T/import-bad.err" || bail_out "docker import: $(cat "$T/import-bad.err")"
dk push "$CH/stack/bad:v1" >"$T/push-bad.out" 2>&1
is "$?" 0 "docker push of a vulnerable image through customs (pushes are not blocked)"
BAD=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$T/push-bad.out" | tail -1)
is "$(reg_digest "$REGPORT" stack/bad v1)" "$BAD" "it reached the registry"

# a small clean image too, removed entirely: docker fetches its layer through
# customs (debian:12's layer stays in dockerd: the built images derive from it)
fixture_debian_base "$T/clean-root" 3.0.13-1~deb12u1 stack-clean
tar -C "$T/clean-root" -cf "$T/clean.tar" . || bail_out "tar"
SMALL_ID=$(dk import "$T/clean.tar" "$CH/stack/small:v1" 2>"$T/import-small.err") || bail_out "docker import: $(cat "$T/import-small.err")"
dk push "$CH/stack/small:v1" >"$T/push-small.out" 2>&1
is "$?" 0 "docker push of a small clean image through customs"

BASE_ID=$(dk image inspect -f '{{.Id}}' debian:12)
dk rmi "$CH/stack/base:12" "$CH/stack/bad:v1" "$CH/stack/small:v1" >/dev/null 2>&1
ok '! dk image inspect "$SMALL_ID" >/dev/null 2>&1' "(the small image is gone from dockerd)"
dk pull "$CH/stack/small:v1" >"$T/pull-small.out" 2>&1
is "$?" 0 "docker pull of it through customs, its layer downloaded"
is "$(dk image inspect -f '{{.Id}}' "$CH/stack/small:v1" 2>/dev/null)" "$SMALL_ID" "the same image"
dk pull "$CH/stack/base:12" >"$T/pull-clean.out" 2>&1
is "$?" 0 "docker pull of the clean image through customs"
is "$(dk image inspect -f '{{index .RepoDigests 0}}' "$CH/stack/base:12" 2>/dev/null)" "$CH/stack/base@$CLEAN" \
    "the pulled image has the pushed digest"
is "$(dk image inspect -f '{{.Id}}' "$CH/stack/base:12" 2>/dev/null)" "$BASE_ID" "and is debian:12 (same image id)"
dk pull "$CH/stack/bad:v1" >"$T/pull-bad.out" 2>&1
isnt "$?" 0 "docker pull of the vulnerable image through customs is refused"
diag "docker: $(head -c 400 "$T/pull-bad.out")"
like "$(cat "$T/pull-bad.out")" 'CVE-2099-0001' "docker's error names CVE-2099-0001"
like "$(cat "$T/pull-bad.out")" 'no-critical' "and the policy rule"
ok '! dk image inspect "$CH/stack/bad:v1" >/dev/null 2>&1' "no image stack/bad in dockerd"

# ---- docker stop: SIGTERM, customs drains and exits within the grace period ----------------
t0=$(date +%s%N)
dk stop "stack-customs" >/dev/null 2>&1
STOP_MS=$((($(date +%s%N) - t0) / 1000000))
is "$(dk inspect -f '{{.State.Running}}' stack-customs)" false "docker stop stopped customs"
ok '[ "$STOP_MS" -lt $((STOP_GRACE_SECS * 1000)) ]' "within its ${STOP_GRACE_SECS} s grace period ($STOP_MS ms)"
is "$(dk inspect -f '{{.State.ExitCode}}' stack-customs)" 0 "exit status 0 (not killed)"
like "$(dk logs stack-customs 2>&1 | tail -3)" 'customs stopped' "its log ends with 'customs stopped'"

DK=$DOCKERD_PID
stop_dockerd
ok '! kill -0 "$DK" 2>/dev/null' "dockerd stopped"
ok '! kill -0 "$CUS_CPID" 2>/dev/null && ! kill -0 "$REG_CPID" 2>/dev/null' "and the containers' processes are gone"
is "$(awk -v t="$T/" 'index($2, t) == 1' /proc/mounts | wc -l)" 0 "nothing of it left mounted"
done_testing
