#!/bin/bash
# tests/integration/test_install.sh - what `make install` gives an operator:
# the binary, the man pages customs(1), customs.yaml(5) and
# customs-policy(5) (rendered by man without a warning), the example
# configuration and policy (valid as installed: the policy passes
# `customs policy check`, customs starts on the configuration), and the
# systemd unit, which `systemd-analyze verify` accepts and
# `systemd-analyze security` rates; `make uninstall` removes every file.
# TAP output.

. "$(dirname "$0")/lib.sh"

[ -n "${top_builddir:-}" ] && [ -f "$top_builddir/Makefile" ] || bail_out "top_builddir is not a configured build tree (run through make check)"
command -v systemd-analyze >/dev/null || bail_out "systemd-analyze (package systemd) is required"
command -v man >/dev/null || bail_out "man (package man-db) is required"

ROOT=$T/root
make -s -C "$top_builddir" install DESTDIR="$ROOT" >"$T/install.out" 2>&1
is "$?" 0 "make install DESTDIR=… succeeds" || diag "$(tail -20 "$T/install.out")"
find_one() { find "$ROOT" -path "*$1" -type f | head -n 1; }
BIN=$(find_one /bin/customs)
UNIT=$(find_one /lib/systemd/system/customs.service)
CONF=$(find_one /etc/customs/customs.yaml)
POLICY=$(find_one /etc/customs/policy.yaml)
ok '[ -x "$BIN" ]' "the binary is installed ($BIN)"
for page in man1/customs.1 man5/customs.yaml.5 man5/customs-policy.5; do
    f=$(find_one "/share/man/$page")
    ok '[ -n "$f" ]' "man page $page installed"
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" >"$T/page.txt" 2>"$T/page.err"
    ok '[ -s "$T/page.txt" ] && [ ! -s "$T/page.err" ]' "$page renders without a warning" || diag "$(cat "$T/page.err")"
done
like "$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$(find_one /share/man/man5/customs.yaml.5)" 2>/dev/null)" "upstream.proxy_auth" \
    "customs.yaml(5) documents the upstream keys"
ok '[ -n "$CONF" ] && [ -n "$POLICY" ]' "the example configuration and policy are installed"
"$BIN" policy check "$POLICY" >"$T/check.out" 2>&1
is "$?" 0 "the installed policy passes customs policy check"

# the unit: ExecStart names the installed binary (under the prefix, not DESTDIR)
ok '[ -n "$UNIT" ]' "the systemd unit is installed"
like "$(grep '^ExecStart=' "$UNIT")" "^ExecStart=/.*/bin/customs serve -c /.*/customs/customs.yaml" \
    "ExecStart runs customs serve on the installed configuration"
ok '! grep -q "@bindir@\|@sysconfdir@\|$ROOT" "$UNIT"' "no placeholder and no DESTDIR left in the unit"
mkdir -p "$T/units"
sed "s|^ExecStart=[^ ]*/bin/customs|ExecStart=$BIN|" "$UNIT" >"$T/units/customs.service"
MANPATH=$(dirname "$(dirname "$(find_one /share/man/man1/customs.1)")") \
    systemd-analyze verify "$T/units/customs.service" >"$T/verify.out" 2>&1
is "$?" 0 "systemd-analyze verify accepts the unit (man pages of Documentation= found)" || diag "$(cat "$T/verify.out")"
is "$(cat "$T/verify.out")" "" "and says nothing"
for key in DynamicUser=yes StateDirectory=customs ProtectSystem=strict NoNewPrivileges=yes CapabilityBoundingSet=; do
    ok 'grep -qx "$key" "$UNIT"' "sandboxing: $key"
done
systemd-analyze security --offline=yes --no-pager "$T/units/customs.service" >"$T/security.out" 2>&1
EXPO=$(sed -n 's/.*Overall exposure level for customs.service: \([0-9.]*\).*/\1/p' "$T/security.out")
diag "systemd-analyze security: exposure $EXPO (0 = fully sandboxed, 10 = not at all)"
ok '[ -n "$EXPO" ] && [ "$(echo "$EXPO <= 2.0" | bc)" = 1 ]' "exposure level $EXPO is at most 2.0 (systemd calls it OK)"

# the installed configuration starts customs (only the places are changed)
start_registry
sed -e "s|^listen: .*|listen: 127.0.0.1:0|" "$CONF" >"$T/customs.yaml"
CUSTOMS_BIN=$BIN CUSTOMS_POLICY=$POLICY start_customs -c "$T/customs.yaml"
is "$(http_code "$CUS_URL/v2/")" 200 "customs serves on the installed configuration and policy"
stop_pid "$CUS_PID"

make -s -C "$top_builddir" uninstall DESTDIR="$ROOT" >"$T/uninstall.out" 2>&1
is "$?" 0 "make uninstall succeeds"
is "$(find "$ROOT" -type f | wc -l)" 0 "and leaves no file behind"

done_testing
