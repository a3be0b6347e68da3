#!/bin/bash
# tests/integration/test_push_scan.sh - layers are scanned while a push
# streams through customs, the manifest is recorded before the push returns,
# and `customs report` lists exactly what was planted; `customs scan` of the
# same image agrees.  Layers that bypassed customs are fetched and scanned
# when a manifest references them; a corrupt layer is recorded as failed
# without disturbing the push.  The real docker CLI (dockerlib.sh's
# dockerd): `docker push` is scanned in-stream, its report there when the
# push returns.  TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"
. "$LIB_DIR/dockerlib.sh"

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
docker_require

start_registry
start_customs
DB=$(cus_db 1)

IMG=$T/shop
fixture_shop_image "$IMG" >"$T/digest" || bail_out "cannot build the OCI layout"
DIGEST=$(cat "$T/digest")

# ---- push through customs --------------------------------------------------
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://127.0.0.1:$CUS_PORT/shop/app:v1" \
    >"$T/push.out" 2>&1
is "$?" 0 "skopeo push through customs"
is "$(grep -c 'scan layer=.*via=upload.*status=ok' "$CUS_LOG")" 2 "both layers scanned in-stream (not fetched)"
ok 'grep -q "image repo=shop/app tag=v1 digest=$DIGEST" "$CUS_LOG"' "manifest recorded when the push returned"

# ---- report ------------------------------------------------------------------
OUT=$T/report.json
"$CUSTOMS_BIN" report --db "$DB" --format json shop/app:v1 >"$OUT" 2>"$T/report.err"
is "$?" 0 "customs report shop/app:v1"
is "$(jq -r .digest "$OUT")" "$DIGEST" "report names the pushed manifest digest"
is "$(jq -r '.os.id + " " + .os.version_id' "$OUT")" "debian 12" "os is debian 12"
is "$(jq -r '[.packages[] | .type + ":" + .name + "@" + .version] | sort | join(" ")' "$OUT")" \
    "deb:bash@5.2.15-2+b2 deb:libssl3@3.0.11-1~deb12u2 deb:zlib1g@1:1.2.13.dfsg-1 go:example.com/shop@v1.4.0 go:golang.org/x/net@v0.17.0 go:stdlib@go1.21.5 npm:is-odd@3.0.1 npm:left-pad@1.3.0 python:requests@2.31.0" \
    "exactly the planted packages (dpkg, python, npm, Go binary)"
is "$(jq '[.packages[] | select(.name == "gone-pkg")] | length' "$OUT")" 0 "whited-out package is gone"
is "$(jq -r '.packages[] | select(.name == "zlib1g") | .source_name + " " + .source_version' "$OUT")" \
    "zlib 1:1.2.13.dfsg-1" "dpkg Source: with version"
is "$(jq -r '[.secrets[] | .rule + " " + .path] | join(",")' "$OUT")" "private-key root/.ssh/id_rsa" \
    "exactly the planted secret"
is "$(jq -r '[.layers[].status] | join(",")' "$OUT")" "ok,ok" "both layers stored ok"
"$CUSTOMS_BIN" report --db "$DB" --format json "shop/app@$DIGEST" >"$T/report-d.json" 2>>"$T/report.err"
is "$(jq -c '[.packages[].name] | sort' "$T/report-d.json")" "$(jq -c '[.packages[].name] | sort' "$OUT")" \
    "report by digest agrees"

# ---- customs scan of the same image agrees ------------------------------------
norm='{os, packages: (.packages | map({ecosystem, name, version, source_name, source_version, path}) | sort_by(.path, .name)), secrets: (.secrets | map({path, rule}))}'
"$CUSTOMS_BIN" scan --format json "oci:$IMG:v1" >"$T/scan-oci.json" 2>"$T/scan.err"
is "$(jq -cS "$norm" "$T/scan-oci.json")" "$(jq -cS "$norm" "$OUT")" "customs scan oci: agrees with the report"
"$CUSTOMS_BIN" scan --format json "docker://127.0.0.1:$REG_PORT/shop/app:v1" >"$T/scan-reg.json" 2>>"$T/scan.err"
is "$(jq -cS "$norm" "$T/scan-reg.json")" "$(jq -cS "$norm" "$OUT")" "customs scan docker:// agrees with the report"

# ---- layers pushed around customs are fetched when a manifest names them ------
R2=$T/rootfs2 IMG2=$T/side
mkdir -p "$R2/lib/apk/db" "$R2/etc"
printf 'ID=alpine\nVERSION_ID=3.19.1\n' >"$R2/etc/os-release"
printf 'P:musl\nV:1.2.4_git20230717-r4\no:musl\n\nP:busybox\nV:1.36.1-r15\no:busybox\n\n' >"$R2/lib/apk/db/installed"
oci_init "$IMG2" && oci_add_layer "$IMG2" "$R2" && D2=$(oci_finish "$IMG2" v1) || bail_out "cannot build side image"
skopeo copy -q --dest-tls-verify=false "oci:$IMG2:v1" "docker://127.0.0.1:$REG_PORT/side/app:v1" >>"$T/push.out" 2>&1
is "$?" 0 "push straight to the registry (around customs)"
# the blobs exist upstream: this push through customs sends only the manifest
skopeo copy -q --dest-tls-verify=false "oci:$IMG2:v1" "docker://127.0.0.1:$CUS_PORT/side/app:v2" >>"$T/push.out" 2>&1
is "$?" 0 "push of the same image through customs"
ok 'grep -q "scan layer=.*repo=side/app via=fetch.*status=ok" "$CUS_LOG"' "the unseen layer was fetched and scanned"
"$CUSTOMS_BIN" report --db "$DB" --format json side/app:v2 >"$T/side.json" 2>>"$T/report.err"
is "$(jq -r '[.packages[] | .ecosystem + " " + .name + "@" + .version] | sort | join(",")' "$T/side.json")" \
    "Alpine:v3.19 busybox@1.36.1-r15,Alpine:v3.19 musl@1.2.4_git20230717-r4" "fetched layer's apk packages reported"

# ---- a corrupt layer is recorded as failed; the push is not disturbed --------
IMG3=$T/broken
oci_init "$IMG3" && oci_add_layer "$IMG3" "$R0" || bail_out "cannot build broken image"
head -c 300000 /dev/urandom >"$R1/noise.bin"
tar -C "$R1" -cf - . | gzip -1 | head -c 200000 >"$T/trunc.gz"
blob=$(_oci_put_blob "$IMG3" "$T/trunc.gz")
echo "$blob sha256:$(printf '%064d' 0)" >>"$IMG3/.mkimage/layers"
D3=$(oci_finish "$IMG3" v1) || bail_out "cannot finish broken image"
skopeo copy -q --dest-tls-verify=false "oci:$IMG3:v1" "docker://127.0.0.1:$CUS_PORT/broken/app:v1" >>"$T/push.out" 2>&1
is "$?" 0 "push of an image with a truncated gzip layer succeeds"
"$CUSTOMS_BIN" report --db "$DB" --format json broken/app:v1 >"$T/broken.json" 2>>"$T/report.err"
is "$(jq -r '[.layers[].status] | join(",")' "$T/broken.json")" "ok,failed" "the truncated layer is recorded as failed"
like "$(jq -r '.layers[1].error' "$T/broken.json")" "gzip" "with the reason"
isnt "$(jq -r '.verdict.decision' "$T/broken.json")" "allow" "a failed layer does not leave the image silently clean"
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$CUS_PORT/shop/app:v1" "oci:$T/pulled:v1" >>"$T/push.out" 2>&1
is "$?" 0 "pull through customs still works"
kill -0 "$CUS_PID" 2>/dev/null
is "$?" 0 "customs is still running"

# ---- per layer: what each cataloger found, and what could not be read ------------
is "$(jq -c '[.layers[].found]' "$OUT")" '[{"deb":3,"npm":2,"python":1},{"go":3,"npm":1}]' \
    "report: packages per cataloger, per layer"
is "$(jq -c '[.layers[].found]' "$T/scan-oci.json")" "$(jq -c '[.layers[].found]' "$OUT")" \
    "customs scan says the same per layer"
mkdir -p "$T/blind/app/node_modules/good" "$T/blind/app/node_modules/bad"
echo '{"name": "good", "version": "1.0.0"}' >"$T/blind/app/node_modules/good/package.json"
echo '{"name": "bad", "version": ' >"$T/blind/app/node_modules/bad/package.json"
oci_init "$T/blindimg" && oci_add_layer "$T/blindimg" "$T/blind" && oci_finish "$T/blindimg" v1 >/dev/null ||
    bail_out "blind image"
skopeo copy -q --dest-tls-verify=false "oci:$T/blindimg:v1" "docker://127.0.0.1:$CUS_PORT/shop/blind:v1" \
    >>"$T/push.out" 2>&1 || bail_out "push of the blind-spot image"
"$CUSTOMS_BIN" report --db "$DB" --format json shop/blind:v1 >"$T/blind.json" 2>>"$T/report.err"
is "$(jq -c '.layers[0].found' "$T/blind.json")" '{"npm":1}' "a layer with an unreadable package.json: the readable one found"
like "$(jq -r '.layers[0].notes[]' "$T/blind.json")" "app/node_modules/bad/package.json" \
    "and the unreadable one named in the layer's notes, not silently dropped"
like "$("$CUSTOMS_BIN" report --db "$DB" shop/blind:v1 2>>"$T/report.err")" "ok +npm 1" "the table's FOUND column"

# ---- the docker CLI: docker push is scanned, the report there when it returns -------
# (a dockerd of its own: dockerlib.sh; docker pushes Docker v2 schema 2
# manifests and its own gzip layers, where skopeo above pushed OCI ones)
start_dockerd "127.0.0.1:$CUS_PORT"
DH=127.0.0.1:$CUS_PORT
tar -C "$R0" -cf "$T/dock0.tar" . || bail_out "tar"
DOCK_ID=$(dk import "$T/dock0.tar" "$DH/dock/shop:v1" 2>"$T/dimport.err") || bail_out "docker import: $(cat "$T/dimport.err")"
dk push "$DH/dock/shop:v1" >"$T/dpush.out" 2>&1
is "$?" 0 "docker push through customs"
"$CUSTOMS_BIN" report --db "$DB" --format json dock/shop:v1 >"$T/dock.json" 2>>"$T/report.err"
DPUSHED=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$T/dpush.out" | tail -1)
is "$(jq -r .digest "$T/dock.json")" "$DPUSHED" "right when docker push returns, the report names the digest docker printed"
is "$(jq -r '[.packages[] | .type + ":" + .name + "@" + .version] | sort | join(" ")' "$T/dock.json")" \
    "deb:bash@5.2.15-2+b2 deb:libssl3@3.0.11-1~deb12u2 deb:zlib1g@1:1.2.13.dfsg-1 npm:gone-pkg@0.0.1 npm:left-pad@1.3.0 python:requests@2.31.0" \
    "with exactly the packages of the pushed layer"
is "$(jq -r '[.layers[].status] | join(",")' "$T/dock.json")" ok "its layer stored ok"
ok 'grep -q "scan layer=.*repo=dock/shop via=upload.*status=ok" "$CUS_LOG"' "docker's layer was scanned in-stream"
dk rmi "$DH/dock/shop:v1" >/dev/null 2>&1
dk pull "$DH/dock/shop:v1" >"$T/dpull.out" 2>&1
is "$?" 0 "docker pull of it through customs"
is "$(dk image inspect -f '{{.Id}}' "$DH/dock/shop:v1" 2>/dev/null)" "$DOCK_ID" "the same image"

done_testing
