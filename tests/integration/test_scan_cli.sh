#!/bin/bash
# tests/integration/test_scan_cli.sh - `customs scan` and `customs report` on
# a made-up two-layer OCI layout (no registry needed).
#
# Layer 0: Debian 12 os-release, a dpkg status with Source: fields, a Python
#          dist-info, two node_modules packages.
# Layer 1: a whiteout deleting one node_modules package of layer 0, a
#          planted PEM private key, one more npm package.
# Checks the JSON report (exactly the planted packages and secret, not the
# whited-out one), the CycloneDX SBOM, and that `scan --db` then `report`
# (repository "local/<dirname>", tag TAG) agree.  TAP output.
#
# CUSTOMS_BIN: the customs binary (default: <top>/customs).

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v jq >/dev/null || bail_out "jq is required"
[ -x "$CUSTOMS_BIN" ] || bail_out "no customs binary at $CUSTOMS_BIN (set CUSTOMS_BIN)"

R0=$T/rootfs0 R1=$T/rootfs1 IMG=$T/shop
fixture_shop "$R0" "$R1"

oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && oci_add_layer "$IMG" "$R1" &&
    DIGEST=$(oci_finish "$IMG" v1) || bail_out "cannot build the OCI layout"

# ---- JSON report ---------------------------------------------------------
OUT=$T/scan.json
"$CUSTOMS_BIN" scan --format json "oci:$IMG:v1" >"$OUT" 2>"$T/scan.err"
is "$?" 0 "scan oci:DIR:TAG exits 0"
ok 'jq -e . "$OUT" >/dev/null' "scan output is JSON"
is "$(jq -r .digest "$OUT")" "$DIGEST" "report names the manifest digest"
is "$(jq -r '.os.id + " " + .os.version_id' "$OUT")" "debian 12" "os is debian 12"
is "$(jq -r '[.packages[] | .type + ":" + .name + "@" + .version] | sort | join(" ")' "$OUT")" \
    "deb:bash@5.2.15-2+b2 deb:libssl3@3.0.11-1~deb12u2 deb:zlib1g@1:1.2.13.dfsg-1 npm:is-odd@3.0.1 npm:left-pad@1.3.0 python:requests@2.31.0" \
    "exactly the planted packages"
is "$(jq '[.packages[] | select(.name == "gone-pkg")] | length' "$OUT")" 0 \
    "whited-out package is gone"
is "$(jq -r '.packages[] | select(.name == "libssl3") | .source_name' "$OUT")" openssl \
    "dpkg Source: name kept"
is "$(jq -r '.packages[] | select(.name == "zlib1g") | .source_name + " " + .source_version' "$OUT")" \
    "zlib 1:1.2.13.dfsg-1" "dpkg Source: with version kept"
is "$(jq -r '.packages[] | select(.name == "libssl3") | .ecosystem' "$OUT")" "Debian:12" \
    "deb ecosystem from the OS"
like "$(jq -r '.packages[] | select(.name == "requests") | .purl' "$OUT")" '^pkg:pypi/requests@2\.31\.0' \
    "python purl"
is "$(jq -r '[.secrets[] | .rule + " " + .path] | join(",")' "$OUT")" "private-key root/.ssh/id_rsa" \
    "exactly the planted secret"
is "$(jq -r '.vulnerabilities | length' "$OUT")" 0 "vulnerabilities is an (empty) array"
is "$(jq -r '.verdict.decision' "$OUT")" allow "verdict allow"
is "$(jq -r '[.layers[].status] | join(",")' "$OUT")" "ok,ok" "both layers scanned ok"
is "$(jq -r '.config.runs_as_root' "$OUT")" true "config: runs as root"

# ---- policy: exit 3 when the image fails it ------------------------------------
"$CUSTOMS_BIN" scan --policy "$TOP_DIR/conf/policy.yaml" --format json "oci:$IMG:v1" >"$T/pol.json" 2>>"$T/scan.err"
is "$?" 3 "scan --policy exits 3 for an image that fails the policy (planted key)"
is "$(jq -r .verdict.decision "$T/pol.json")" deny "verdict deny"
is "$(jq -r '.verdict.reasons[0].kind + " " + .verdict.rule' "$T/pol.json")" "secret no-critical" "reason: the secret, rule no-critical"
printf 'mode: enforce\nrules:\n  - name: no-secrets-in-prod\n    repositories: ["prod/**"]\n    deny:\n      secrets: true\n' >"$T/p2.yaml"
"$CUSTOMS_BIN" scan --policy "$T/p2.yaml" --format json "oci:$IMG:v1" >"$T/pol2.json" 2>>"$T/scan.err"
is "$?" 0 "a rule for other repositories does not apply (exit 0)"

# ---- CycloneDX ------------------------------------------------------------
CDX=$T/scan.cdx.json
"$CUSTOMS_BIN" scan --format cyclonedx "oci:$IMG:v1" >"$CDX" 2>>"$T/scan.err"
is "$?" 0 "scan --format cyclonedx exits 0"
is "$(jq -r '.bomFormat + " " + .specVersion' "$CDX")" "CycloneDX 1.5" "CycloneDX 1.5 header"
like "$(jq -r .serialNumber "$CDX")" '^urn:uuid:[0-9a-f-]{36}$' "serialNumber is a urn:uuid"
is "$(jq -r '[.components[] | select(.type == "library") | .name] | sort | join(" ")' "$CDX")" \
    "bash is-odd left-pad libssl3 requests zlib1g" "SBOM lists the packages"
is "$(jq -r '.components[] | select(.type == "operating-system") | .name + " " + .version' "$CDX")" \
    "debian 12" "SBOM lists the OS"
is "$(jq -r '.components[] | select(.name == "left-pad") | .properties[] | select(.name == "customs:path") | .value' "$CDX")" \
    "app/node_modules/left-pad/package.json" "SBOM component carries its path"

# ---- table ------------------------------------------------------------------
TXT=$("$CUSTOMS_BIN" scan "oci:$IMG:v1" 2>>"$T/scan.err")
is "$?" 0 "scan (table) exits 0"
like "$TXT" 'libssl3 +3\.0\.11-1~deb12u2' "table shows aligned package rows"

# ---- store + report -----------------------------------------------------------
# the database customs 1 would have (a file, or PostgreSQL with CUSTOMS_TEST_DB)
DB=$(cus_db 1)
"$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$IMG:v1" >"$T/db-scan.json" 2>>"$T/scan.err"
is "$?" 0 "scan --db exits 0"
ok '[ "$(db_sql "select count(*) from layers where status = '\''ok'\''")" = 2 ]' \
    "both layers stored"
"$CUSTOMS_BIN" report --db "$DB" --format json "local/shop:v1" >"$T/report.json" 2>>"$T/scan.err"
is "$?" 0 "report REPO:TAG exits 0"
norm='del(.image, .tag, .repository) | .packages |= sort_by(.path, .name)'
is "$(jq -cS "$norm" "$T/report.json")" "$(jq -cS "$norm" "$T/db-scan.json")" \
    "report (from the store) agrees with the scan"
"$CUSTOMS_BIN" report --db "$DB" --format json "local/shop@$DIGEST" >"$T/report-d.json" 2>>"$T/scan.err"
is "$?" 0 "report REPO@DIGEST exits 0"
is "$(jq -c '[.packages[].name] | sort' "$T/report-d.json")" "$(jq -c '[.packages[].name] | sort' "$OUT")" \
    "report by digest has the same packages"
# second scan reuses the stored layers and still agrees
"$CUSTOMS_BIN" scan --db "$DB" --format json "oci:$IMG:v1" >"$T/db-scan2.json" 2>>"$T/scan.err"
is "$(jq -cS "$norm" "$T/db-scan2.json")" "$(jq -cS "$norm" "$T/db-scan.json")" \
    "rescan with stored layers agrees"

# ---- errors ---------------------------------------------------------------------
"$CUSTOMS_BIN" report --db "$DB" "local/shop:nope" >/dev/null 2>"$T/err1"
is "$?" 1 "report of an unknown tag exits 1"
like "$(cat "$T/err1")" "not found" "with a message"
"$CUSTOMS_BIN" scan "oci:$IMG:nope" >/dev/null 2>"$T/err2"
is "$?" 1 "scan of an unknown tag exits 1"
"$CUSTOMS_BIN" scan "bogus:thing" >/dev/null 2>"$T/err3"
is "$?" 1 "unknown target kind exits 1"

# ---- layer: and docker-archive: ---------------------------------------------------
L1=$(jq -r '.layers[1].digest' "$OUT")
"$CUSTOMS_BIN" scan --format json "layer:$IMG/blobs/sha256/${L1#sha256:}" >"$T/layer.json" 2>>"$T/scan.err"
is "$?" 0 "scan layer:FILE exits 0"
is "$(jq -r '[.packages[].name] | join(",")' "$T/layer.json")" "is-odd" "single layer has its own packages"
is "$(jq -r '.layers[0].digest' "$T/layer.json")" "$L1" "single layer digest"

# docker save layout: manifest.json + config + uncompressed layer tars
DA=$T/da
mkdir -p "$DA"
CFG=$(jq -r '.config.digest' "$IMG/blobs/sha256/${DIGEST#sha256:}")
cp "$IMG/blobs/sha256/${CFG#sha256:}" "$DA/config.json"
i=0
for l in $(jq -r '.layers[].digest' "$IMG/blobs/sha256/${DIGEST#sha256:}"); do
    mkdir -p "$DA/l$i"
    gzip -dc "$IMG/blobs/sha256/${l#sha256:}" >"$DA/l$i/layer.tar"
    i=$((i + 1))
done
echo '[{"Config":"config.json","RepoTags":["shop/app:1.0"],"Layers":["l0/layer.tar","l1/layer.tar"]}]' \
    >"$DA/manifest.json"
tar -C "$DA" -cf "$T/da.tar" manifest.json config.json l0 l1
"$CUSTOMS_BIN" scan --db "$DB" --format json "docker-archive:$T/da.tar" >"$T/da.json" 2>>"$T/scan.err"
is "$?" 0 "scan docker-archive:FILE exits 0"
is "$(jq -c '[.packages[].name] | sort' "$T/da.json")" "$(jq -c '[.packages[].name] | sort' "$OUT")" \
    "docker-archive finds the same packages"
"$CUSTOMS_BIN" report --db "$DB" --format json "shop/app:1.0" >"$T/da-report.json" 2>>"$T/scan.err"
is "$?" 0 "docker-archive image stored under its RepoTags"

# ---- containers-transports(5): PATH ends at the first ':', as in skopeo ---------------
# Two images in one archive: the reference picks one (by normalised RepoTags, or @INDEX).
jq '.rootfs.diff_ids |= .[0:1]' "$DA/config.json" >"$DA/config2.json"
jq '. + [{"Config":"config2.json","RepoTags":["other/img:2"],"Layers":["l0/layer.tar"]}]' \
    "$DA/manifest.json" >"$DA/m2" && mv "$DA/m2" "$DA/manifest.json"
tar -C "$DA" -cf "$T/da2.tar" manifest.json config.json config2.json l0 l1
L0_PKGS='["bash","gone-pkg","left-pad","libssl3","requests","zlib1g"]'  # layer 0 only: gone-pkg not yet whited out
"$CUSTOMS_BIN" scan --format json "docker-archive:$T/da2.tar:other/img:2" >"$T/da2.json" 2>>"$T/scan.err"
is "$?" 0 "scan docker-archive:FILE:REPO:TAG exits 0"
is "$(jq -c '[.packages[].name] | sort' "$T/da2.json")" "$L0_PKGS" "the reference picks the second image (one layer)"
is "$(jq -r '.repository + ":" + .tag' "$T/da2.json")" "other/img:2" "named after the RepoTags entry it matched"
"$CUSTOMS_BIN" scan --format json "docker-archive:$T/da2.tar:docker.io/other/img:2" >"$T/da2n.json" 2>>"$T/scan.err"
is "$(jq -c '[.packages[].name] | sort' "$T/da2n.json")" "$L0_PKGS" "a fully qualified reference matches a familiar RepoTags entry"
"$CUSTOMS_BIN" scan --format json "docker-archive:$T/da2.tar:@1" >"$T/da2i.json" 2>>"$T/scan.err"
is "$(jq -c '[.packages[].name] | sort' "$T/da2i.json")" "$L0_PKGS" "docker-archive:FILE:@1 picks the second image"
"$CUSTOMS_BIN" scan --format json "docker-archive:$T/da2.tar:shop/app:1.0" >"$T/da2a.json" 2>>"$T/scan.err"
is "$(jq -c '[.packages[].name] | sort' "$T/da2a.json")" "$(jq -c '[.packages[].name] | sort' "$OUT")" \
    "docker-archive:FILE:shop/app:1.0 picks the first image"
"$CUSTOMS_BIN" scan "docker-archive:$T/da2.tar:other/img:3" >/dev/null 2>"$T/err5"
is "$?" 1 "an unknown docker-archive reference exits 1"
like "$(cat "$T/err5")" "no image tagged 'other/img:3'" "with a message naming it"
if command -v skopeo >/dev/null; then
    # the very strings customs takes, given to skopeo
    skopeo copy --quiet "docker-archive:$T/da2.tar:other/img:2" "oci:$T/from-da:x" >/dev/null 2>&1
    is "$?" 0 "skopeo reads docker-archive:FILE:other/img:2 too"
    SK=$T/sklayout
    skopeo copy --quiet "oci:$IMG:v1" "oci:$SK:app:1" >/dev/null 2>&1
    is "$?" 0 "skopeo wrote oci:DIR:app:1"
    is "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$SK/index.json")" "app:1" \
        "skopeo split at the first colon: layout DIR, reference app:1"
    "$CUSTOMS_BIN" scan --format json "oci:$SK:app:1" >"$T/sk.json" 2>>"$T/scan.err"
    is "$?" 0 "customs scan oci:DIR:app:1 exits 0"
    is "$(jq -r '.repository + " " + .tag' "$T/sk.json")" "local/sklayout app:1" "layout DIR, reference app:1"
    is "$(jq -c '[.packages[].name] | sort' "$T/sk.json")" "$(jq -c '[.packages[].name] | sort' "$OUT")" \
        "the skopeo-written layout has the same packages"
    "$CUSTOMS_BIN" scan "oci:$SK:app" >/dev/null 2>"$T/err6"
    is "$?" 1 "oci:DIR:app (not app:1) exits 1"
    like "$(cat "$T/err6")" "no manifest tagged 'app'" "with a message naming the reference"
    skopeo copy --quiet "oci:$IMG:v1" "docker-archive:$T/sk.tar:shop/app:2" >/dev/null 2>&1
    "$CUSTOMS_BIN" scan --format json "docker-archive:$T/sk.tar:shop/app:2" >"$T/skda.json" 2>>"$T/scan.err"
    is "$?" 0 "customs scans a skopeo-written docker-archive:FILE:shop/app:2"
    is "$(jq -r '.repository + ":" + .tag' "$T/skda.json")" "docker.io/shop/app:2" "named after skopeo's RepoTags"
else
    for d in da-read oci-write oci-ref oci-scan oci-name oci-pkgs oci-bad oci-bad-msg da-scan da-name; do
        skip "skopeo $d" "no skopeo"
    done
fi

# ---- docker:// (a real registry, filled with skopeo) --------------------------------
if [ -x "$REGISTRY_BIN" ] && command -v skopeo >/dev/null; then
    start_registry
    skopeo copy --quiet --dest-tls-verify=false "oci:$IMG:v1" \
        "docker://127.0.0.1:$REG_PORT/team/shop:v1" >/dev/null 2>&1
    is "$?" 0 "skopeo pushed the image to the registry"
    "$CUSTOMS_BIN" scan --format json "docker://127.0.0.1:$REG_PORT/team/shop:v1" \
        >"$T/reg.json" 2>>"$T/scan.err"
    is "$?" 0 "scan docker://HOST:PORT/REPO:TAG exits 0"
    is "$(jq -c '[.packages[].name] | sort' "$T/reg.json")" \
        "$(jq -c '[.packages[].name] | sort' "$OUT")" "registry scan finds the same packages"
    is "$(jq -r '.repository + ":" + .tag' "$T/reg.json")" "team/shop:v1" "registry repository and tag"
    "$CUSTOMS_BIN" scan "docker://127.0.0.1:$REG_PORT/team/shop:missing" >/dev/null 2>"$T/err4"
    is "$?" 1 "scan of a missing registry tag exits 1"
    "$CUSTOMS_BIN" scan --spool-dir "$T/no-such-dir" "docker://127.0.0.1:$REG_PORT/team/shop:v1" \
        >/dev/null 2>"$T/err7"
    is "$?" 1 "layers are spooled in --spool-dir (a missing one is an error, TMPDIR is not used)"
    like "$(cat "$T/err7")" "temp file in $T/no-such-dir" "the message names the spool directory"
else
    for d in push scan packages repository missing spool spool-msg; do skip "docker:// $d" "no docker-registry/skopeo"; done
fi

if [ -s "$T/scan.err" ]; then diag "stderr:"; diag "$(cat "$T/scan.err")"; fi
done_testing
