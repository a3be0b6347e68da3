#!/bin/bash
# test_coalesce.sh - identical manifest GETs by tag in flight at once share
# one registry round trip, and each still gets its own verdict.
#
# 200 GETs of one tag, 50 at a time (h2load, HTTP/1.1 and h2c): every one
# succeeds, far fewer reach the registry (counted in its own log), and the
# documents served are byte-exact.  The same burst against a denied image:
# every GET is refused.  TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v h2load >/dev/null || bail_out "h2load (nghttp2-client) is required"
command -v jq >/dev/null || bail_out "jq is required"
direct_mode && { echo "1..0 # SKIP needs customs (CUSTOMS_TEST_DIRECT=1)"; exit 0; }

N=200   # GETs per burst
C=50    # at once
MT=application/vnd.oci.image.manifest.v1+json

POL=$T/policy.yaml
cat >"$POL" <<'X'
mode: enforce
unscanned: scan
on_error: deny
rules:
  - name: no-critical
    repositories: ["**"]
    deny:
      severity: critical
X
# the registry's access log counts what reaches it (lib.sh turns it off)
REGISTRY_LOG_ACCESSLOG_DISABLED=false start_registry
CUSTOMS_POLICY=$POL start_customs
DB=$(cus_db 1)
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >/dev/null 2>&1 || bail_out "cannot import the critical record"

OKD=$(mkimage_build -n 1 -s 8K -t v1 "$T/ok") || bail_out "cannot build the clean image"
fixture_shop "$T/r0" "$T/r1"
oci_init "$T/shop" && oci_add_layer "$T/shop" "$T/r0" && SHOPD=$(oci_finish "$T/shop" v1) ||
    bail_out "cannot build the denied image"
forget_blob_locations
skopeo_push "$T/ok" v1 "127.0.0.1:$CUS_PORT" co/ok:v1 2>/dev/null || bail_out "push of the clean image"
skopeo_push "$T/shop" v1 "127.0.0.1:$CUS_PORT" co/shop:v1 2>/dev/null || bail_out "push of the denied image"
is "$(http_code "$CUS_URL/v2/co/ok/manifests/v1" -H "Accept: $MT")" 200 "the clean image is served"
is "$(http_code "$CUS_URL/v2/co/shop/manifests/v1" -H "Accept: $MT")" 403 "the denied image is refused"

# registry_gets REPO: the registry's own count of manifest GETs of tag v1
registry_gets() { grep -c "\"GET /v2/$1/manifests/v1 HTTP" "$REG_LOG"; }

for proto in h1 h2c; do
    args=(-n "$N" -c "$C" -m 1 --h1)
    [ $proto = h2c ] && args=(-n "$N" -c 4 -m 50)
    before=$(registry_gets co/ok)
    h2load "${args[@]}" -H "Accept: $MT" "$CUS_URL/v2/co/ok/manifests/v1" >"$T/burst-$proto.out" 2>&1
    like "$(grep '^requests:' "$T/burst-$proto.out")" "$N succeeded, 0 failed" "$proto: $N GETs by tag all succeed"
    like "$(grep '^status codes:' "$T/burst-$proto.out")" "$N 2xx" "$proto: every one 2xx"
    now=$(registry_gets co/ok)
    up=$((now - before))
    diag "$proto: $up of $N GETs reached the registry"
    ok "[ $up -ge 1 ] && [ $up -le $((N / 2)) ]" "$proto: identical GETs in flight share registry round trips ($up of $N)"
done

# byte-exact documents, each with its own verdict header, from parallel clients
pids=()
for i in $(seq 1 20); do
    curl -s -m 30 -D "$T/par$i.h" -o "$T/par$i.body" -H "Accept: $MT" "$CUS_URL/v2/co/ok/manifests/v1" &
    pids+=($!)
done
wait "${pids[@]}"
bad=0
for i in $(seq 1 20); do
    [ "$(sha256_of "$T/par$i.body")" = "$OKD" ] || bad=$((bad + 1))
    [ "$(header_value "$T/par$i.h" docker-content-digest)" = "$OKD" ] || bad=$((bad + 1))
    [ "$(header_value "$T/par$i.h" x-customs-verdict)" = allow ] || bad=$((bad + 1))
done
is "$bad" 0 "20 parallel GETs: every body hashes to the digest, with Docker-Content-Digest and a verdict"

# a burst at the denied image: none gets out
h2load -n "$N" -c "$C" -m 1 --h1 -H "Accept: $MT" "$CUS_URL/v2/co/shop/manifests/v1" >"$T/burst-deny.out" 2>&1
like "$(grep '^status codes:' "$T/burst-deny.out")" "0 2xx, 0 3xx, $N 4xx" "a burst of GETs of the denied image: every one refused"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running"

done_testing
