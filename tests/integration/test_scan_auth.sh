#!/bin/bash
# tests/integration/test_scan_auth.sh - `customs scan docker://` against a
# registry that wants credentials (docker-registry with htpasswd): refused
# anonymous, scanned with --username/--password-file, with --authfile (the
# file `skopeo login` writes) and with $REGISTRY_AUTH_FILE; a wrong password
# fails with a message naming neither the password nor its Basic encoding;
# a bad auth file and --username without a password file are clear errors.
# TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/authlib.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v htpasswd >/dev/null || bail_out "htpasswd (apache2-utils) is required"
[ -x "$CUSTOMS_BIN" ] || bail_out "no customs binary at $CUSTOMS_BIN (set CUSTOMS_BIN)"

PW=s3cret-$RANDOM$RANDOM
make_htpasswd "$T/htpasswd" alice "$PW"
start_htpasswd_registry "$T/htpasswd"
HOSTPORT=127.0.0.1:$AREG_PORT
DIGEST=$(fixture_shop_image "$T/shop") || bail_out "cannot build the image"
skopeo copy -q --dest-tls-verify=false --dest-creds "alice:$PW" "oci:$T/shop:v1" "docker://$HOSTPORT/team/shop:v1" \
    >/dev/null 2>&1 || bail_out "cannot push to the registry with authentication"

scan() { "$CUSTOMS_BIN" scan --format json "$@"; }
REF="docker://$HOSTPORT/team/shop:v1"

scan "$REF" >"$T/anon.json" 2>"$T/anon.err"
is "$?" 1 "anonymous: the scan fails (exit 1)"
like "$(cat "$T/anon.err")" "401" "and says the registry answered 401"

printf '%s\n' "$PW" >"$T/pw"
scan --username alice --password-file "$T/pw" "$REF" >"$T/user.json" 2>"$T/user.err"
is "$?" 0 "--username/--password-file: scanned"
is "$(jq -r .digest "$T/user.json")" "$DIGEST" "the report names the pushed digest"
ok 'jq -e "[.packages[] | select(.name == \"libssl3\")] | length == 1" "$T/user.json" >/dev/null' \
    "and the packages of the image"

printf '%s\n' "$PW" | skopeo login --tls-verify=false --authfile "$T/auth.json" -u alice --password-stdin "$HOSTPORT" >"$T/login.out" 2>&1 ||
    bail_out "skopeo login failed"
ok 'jq -e ".auths[\"$HOSTPORT\"].auth" "$T/auth.json" >/dev/null' "skopeo login wrote an auth file for the host"
scan --authfile "$T/auth.json" "$REF" >"$T/af.json" 2>"$T/af.err"
is "$?" 0 "--authfile (skopeo's auth.json): scanned"
is "$(jq -r .digest "$T/af.json")" "$DIGEST" "same digest"
REGISTRY_AUTH_FILE=$T/auth.json scan "$REF" >"$T/env.json" 2>"$T/env.err"
is "$?" 0 "\$REGISTRY_AUTH_FILE: scanned"

# docker's config.json form: a key with a scheme and a path
jq -n --arg a "$(printf 'alice:%s' "$PW" | base64 -w0)" --arg k "https://$HOSTPORT/v1/" \
    '{auths: {"other.example:5000": {auth: "Ym9iOnB3"}, ($k): {auth: $a}}}' >"$T/config.json"
scan --authfile "$T/config.json" "$REF" >/dev/null 2>"$T/dk.err"
is "$?" 0 "docker config.json with an https://HOST/v1/ key: scanned"

printf 'wrong-%s\n' "$PW" >"$T/bad"
scan --username alice --password-file "$T/bad" "$REF" >/dev/null 2>"$T/bad.err"
is "$?" 1 "a wrong password: exit 1"
B64=$(printf 'alice:wrong-%s' "$PW" | base64 -w0)
ok '! grep -qF -- "$PW" "$T/bad.err" && ! grep -qF -- "$B64" "$T/bad.err"' \
    "the error names neither the password nor its Basic encoding"
ok '! grep -qF -- "$PW" "$T/user.err" "$T/af.err" "$T/anon.err"' "no password on stderr in any run"

echo '{"auths": {"'"$HOSTPORT"'": {"auth": "not base64!"}}}' >"$T/broken.json"
scan --authfile "$T/broken.json" "$REF" >/dev/null 2>"$T/broken.err"
is "$?" 1 "an auth entry that is not base64(user:password): exit 1"
like "$(cat "$T/broken.err")" "not base64" "with a message saying so"
echo '[1,2' >"$T/notjson.json"
scan --authfile "$T/notjson.json" "$REF" >/dev/null 2>"$T/nj.err"
is "$?" 1 "an auth file that is not JSON: exit 1"
scan --username alice "$REF" >/dev/null 2>"$T/nopw.err"
is "$?" 1 "--username without --password-file: exit 1"
like "$(cat "$T/nopw.err")" "password-file" "and the message names --password-file"

done_testing
