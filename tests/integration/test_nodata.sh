#!/bin/bash
# tests/integration/test_nodata.sh - the policy key no_data: an image judged
# while no vulnerability data is loaded at all is refused (deny), warned
# about (warn) or allowed (allow, the default) with the reason said in the
# 403, the Warning header and `customs policy explain`; once data is
# imported the real findings decide.  A policy with a bad no_data value is
# refused with its line.  TAP output.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

command -v skopeo >/dev/null || bail_out "skopeo is required"

IMG=$T/shop
fixture_shop_image "$IMG" >/dev/null || bail_out "image"
fixture_critical_osv "$T/osv.json"
MT=application/vnd.oci.image.manifest.v1+json
printf 'mode: enforce\nno_data: maybe\n' >"$T/bad.yaml"
"$CUSTOMS_BIN" policy check "$T/bad.yaml" >"$T/bad.out" 2>&1
is "$?" 1 "no_data: maybe is refused by policy check"
like "$(cat "$T/bad.out")" "bad.yaml:2:.*no_data" "with its line and the key"

start_registry
for mode in deny warn allow; do
    fixture_policy_no_critical "$T/p-$mode.yaml" "no_data=$mode"
    CUSTOMS_POLICY=$T/p-$mode.yaml start_customs
    DB=$(cus_db $_CUS_N) H=127.0.0.1:$CUS_PORT
    skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/shop/$mode:v1" >"$T/push.out" 2>&1 ||
        bail_out "push: $(cat "$T/push.out")"
    code=$(curl -s -D "$T/h-$mode" -o "$T/b-$mode" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/$mode/manifests/v1")
    case $mode in
        deny)
            is "$code" 403 "no_data: deny, no data loaded: the pull is refused"
            like "$(cat "$T/b-$mode")" "no vulnerability data is loaded" "and the 403 says why"
            ;;
        warn)
            is "$code" 200 "no_data: warn: the pull goes through"
            like "$(header_value "$T/h-$mode" x-customs-verdict)" "^warn" "marked warn"
            like "$(header_value "$T/h-$mode" warning)" "no vulnerability data is loaded" "with the reason in a Warning"
            ;;
        allow)
            is "$code" 200 "no_data: allow: the pull goes through"
            is "$(header_value "$T/h-$mode" x-customs-verdict)" allow "marked allow"
            like "$(header_value "$T/h-$mode" warning)" "no vulnerability data is loaded.*no_data: allow" \
                "but not silently: a Warning says no data was loaded"
            ;;
    esac
    "$CUSTOMS_BIN" policy explain --db "$DB" --policy "$T/p-$mode.yaml" "shop/$mode:v1" >"$T/x-$mode" 2>&1
    like "$(cat "$T/x-$mode")" "no vulnerability data is loaded" "explain ($mode) names the missing data"
    # data arrives: the real finding decides (the gate's cache follows the data generation)
    "$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1 || bail_out "import"
    code=$(curl -s -o "$T/b2-$mode" -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/$mode/manifests/v1")
    is "$code" 403 "no_data: $mode, data imported: CVE-2099-0001 denies the image"
    like "$(cat "$T/b2-$mode")" "CVE-2099-0001" "named in the 403"
    ok '! grep -q "no vulnerability data" "$T/b2-$mode"' "and the missing-data reason is gone"
    stop_pid "$CUS_PID"
done

done_testing
