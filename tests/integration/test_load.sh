#!/bin/bash
# test_load.sh - customs under load: 20 parallel uploads (mixed HTTP/1.1 and
# h2c), 1 GiB uploads over HTTP/1.1 and HTTP/2 with a cap on customs' peak
# RSS, and the upstream registry killed in the middle of an upload.

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

RSS_CAP_KIB=$((128 * 1024))
BIG=${LOAD_BIG_BYTES:-$((1024 * 1024 * 1024))}

# upload_blob REPO FILE DIGEST CURL_OPTS...: blob_upload through customs.
upload_blob() {
    blob_upload "$CUS_URL" "$@"
}

# proto_opts I: alternate HTTP/1.1 and cleartext HTTP/2.
proto_opts() {
    if [ $(($1 % 2)) = 0 ]; then echo --http1.1; else echo --http2-prior-knowledge; fi
}

start_registry
start_customs

# ---- 20 parallel uploads, mixed h1/h2 ----------------------------------------
N=20
for i in $(seq 1 $N); do
    make_random_file "$T/par.$i" $(((1 + i % 4) * 1024 * 1024 + i))
    sha256_of "$T/par.$i" >"$T/par.$i.digest"
done
pids=()
for i in $(seq 1 $N); do
    upload_blob it/par "$T/par.$i" "$(cat "$T/par.$i.digest")" "$(proto_opts "$i")" \
        >"$T/par.$i.code" &
    pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: the daemons are our children too
codes=$(cat "$T"/par.*.code | sort | uniq -c | tr -s ' ' | tr '\n' ';')
is "$(grep -lx 201 "$T"/par.*.code | wc -l)" $N "$N parallel uploads (h1+h2c) all end in 201 ($codes)"
good=0
for i in $(seq 1 $N); do
    curl -s "$(proto_opts "$i")" -o "$T/par.$i.back" \
        "$CUS_URL/v2/it/par/blobs/$(cat "$T/par.$i.digest")"
    [ "$(sha256_of "$T/par.$i.back" 2>/dev/null)" = "$(cat "$T/par.$i.digest")" ] && good=$((good + 1))
    rm -f "$T/par.$i" "$T/par.$i.back"
done
is "$good" $N "all $N parallel uploads read back with the right digest"

# ---- 1 GiB over HTTP/1.1 and HTTP/2, peak RSS ------------------------------
# Sparse files of zeros (with a distinct head) cost no disk on the client side.
for p in h1 h2; do
    truncate -s "$BIG" "$T/big.$p"
    printf 'customs big %s' "$p" | dd of="$T/big.$p" conv=notrunc status=none
done
for p in h1 h2; do
    opt=--http1.1
    [ $p = h2 ] && opt=--http2-prior-knowledge
    dig=$(sha256_of "$T/big.$p")
    t0=$(date +%s.%N)
    code=$(upload_blob it/big "$T/big.$p" "$dig" "$opt")
    t1=$(date +%s.%N)
    is "$code" 201 "1 GiB upload over $p ($opt) -> 201"
    diag "$(awk -v b="$BIG" -v a="$t0" -v z="$t1" \
        'BEGIN { printf "%s: %.1f s, %.0f MB/s", "'$p'", z - a, b / (z - a) / 1e6 }')"
    size=$(curl -s -I "$REG_URL/v2/it/big/blobs/$dig" | tr -d '\r' |
        awk 'tolower($1) == "content-length:" { print $2 }')
    is "$size" "$BIG" "1 GiB $p blob is complete in the registry"
    rm -f "$T/big.$p"
    rss=$(peak_rss_kib "$CUS_PID")
    diag "customs peak RSS (VmHWM) after the $p upload: ${rss:-?} KiB"
done
ok '[ -n "$rss" ] && [ "$rss" -lt $RSS_CAP_KIB ]' \
    "customs peak RSS ${rss:-?} KiB < $RSS_CAP_KIB KiB (128 MiB)"

# ---- upstream killed during a slow upload ----------------------------------
make_random_file "$T/slow" $((16 * 1024 * 1024))
dig=$(sha256_of "$T/slow")
(upload_blob it/slow "$T/slow" "$dig" --http1.1 --limit-rate 2M -m 60 >"$T/slow.code") &
upl=$!
sleep 2
kill -9 "$REG_PID"
wait "$REG_PID" 2>/dev/null
wait "$upl"
code=$(cat "$T/slow.code")
ok '[ "${code:0:1}" != 2 ]' "upload whose upstream was killed does not succeed (got $code)"
code=$(curl -s -m 20 -o "$T/down.body" -w '%{http_code}' "$CUS_URL/v2/")
like "$code" '^(502|504)$' "after the kill, GET /v2/ through customs -> 502/504"
ok 'jq -e ".errors | length > 0" "$T/down.body" >/dev/null 2>&1' \
    "the 502/504 body is registry-style JSON with errors"
ok 'kill -0 "$CUS_PID" 2>/dev/null' "customs is still running"

done_testing
