#!/bin/bash
# tests/package/test_deb.sh - the Debian package, built and used as an
# operator would: `dpkg-buildpackage -us -uc -b` on a clean export of the
# committed tree (git archive HEAD), the .deb's contents (binary, man
# pages, unit, conffiles, library dependencies), `dpkg -i`, the installed
# unit accepted by `systemd-analyze verify`, the installed customs started
# on the installed configuration and policy in front of a docker-registry
# with a push and a pull through it, then `dpkg --purge` removing it all;
# lintian reports no error or warning on the built package.
# Run by .ci/run as root (it installs a package); TAP output.
# Needs: debhelper, dpkg-dev, fakeroot, git, lintian, the build dependencies.

. "$(dirname "$0")/../integration/lib.sh"
. "$LIB_DIR/mkimage.sh"

[ "$(id -u)" = 0 ] || bail_out "run as root: the test installs the package"
for c in dpkg-buildpackage dh git skopeo systemd-analyze lintian; do
    command -v "$c" >/dev/null || bail_out "$c is required"
done
SRC=$(cd "$LIB_DIR/../.." && pwd)
git -C "$SRC" rev-parse HEAD >/dev/null 2>&1 || bail_out "$SRC is not a git checkout (the package is built from HEAD)"
dpkg -s customs >/dev/null 2>&1 && bail_out "a customs package is already installed: remove it first"
trap 'dpkg --purge customs >/dev/null 2>&1; _lib_cleanup' EXIT

W=$T/deb
mkdir -p "$W/src"
git -C "$SRC" archive HEAD | tar -x -C "$W/src" || bail_out "git archive failed"
(cd "$W/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1
is "$?" 0 "dpkg-buildpackage -us -uc -b builds" || diag "$(tail -30 "$W/build.log")"
DEB=$(ls "$W"/customs_*.deb 2>/dev/null | head -n 1)
ok '[ -f "$DEB" ]' "a .deb came out ($(basename "${DEB:-none}"))"
# Debian's policy checker: no error or warning (debian/*lintian-overrides
# name, with a reason each, the few tags that do not apply)
lintian --fail-on error,warning "$W"/customs_*.changes >"$W/lintian.out" 2>&1
is "$?" 0 "lintian finds no error or warning in the package" || diag "$(grep -E '^[EW]: ' "$W/lintian.out")"
dpkg-deb -c "$DEB" >"$W/contents" 2>&1
for f in ./usr/bin/customs ./lib/systemd/system/customs.service ./etc/customs/customs.yaml ./etc/customs/policy.yaml \
    ./usr/share/man/man1/customs.1.gz ./usr/share/man/man5/customs.yaml.5.gz ./usr/share/man/man5/customs-policy.5.gz; do
    ok 'grep -q " $f\$" "$W/contents"' "the package holds $f"
done
dpkg-deb -I "$DEB" >"$W/info" 2>&1
like "$(grep '^ Depends:' "$W/info")" "libsqlite3.*libarchive|libarchive.*libsqlite3" "Depends names the shared libraries"
dpkg-deb -e "$DEB" "$W/control"
is "$(sort "$W/control/conffiles" | tr '\n' ' ')" "/etc/customs/customs.yaml /etc/customs/policy.yaml " \
    "the configuration and the policy are conffiles (an upgrade keeps local edits)"

dpkg -i "$DEB" >"$W/install.log" 2>&1
is "$?" 0 "dpkg -i installs it" || diag "$(tail -20 "$W/install.log")"
ok '[ -x /usr/bin/customs ] && /usr/bin/customs --help >/dev/null 2>&1' "/usr/bin/customs runs"
systemd-analyze verify /lib/systemd/system/customs.service >"$W/verify.out" 2>&1
is "$?" 0 "systemd-analyze verify accepts the installed unit" || diag "$(cat "$W/verify.out")"
/usr/bin/customs policy check /etc/customs/policy.yaml >"$W/check.out" 2>&1
is "$?" 0 "the installed policy is valid"

# the installed binary, configuration and policy in front of a registry
start_registry
CUSTOMS_BIN=/usr/bin/customs CUSTOMS_POLICY=/etc/customs/policy.yaml start_customs -c /etc/customs/customs.yaml
mkimage_rootfs "$W/root" 0 65536 random && oci_init "$W/img" && oci_add_layer "$W/img" "$W/root" &&
    D=$(oci_finish "$W/img" v1) || bail_out "cannot build a test image"
skopeo copy -q --dest-tls-verify=false "oci:$W/img:v1" "docker://127.0.0.1:$CUS_PORT/pkg/app:v1" >"$W/push.out" 2>&1
is "$?" 0 "push through the installed customs" || diag "$(cat "$W/push.out")"
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$CUS_PORT/pkg/app:v1" "oci:$W/pulled:v1" >"$W/pull.out" 2>&1
is "$?" 0 "pull through it" || diag "$(cat "$W/pull.out")"
is "$(jq -r '.manifests[0].digest' "$W/pulled/index.json")" "$D" "the pulled image is the pushed one"
stop_pid "$CUS_PID"

dpkg --purge customs >"$W/purge.log" 2>&1
is "$?" 0 "dpkg --purge removes it"
ok '[ ! -e /usr/bin/customs ] && [ ! -e /etc/customs/customs.yaml ] && [ ! -e /lib/systemd/system/customs.service ]' \
    "binary, configuration and unit are gone"

done_testing
