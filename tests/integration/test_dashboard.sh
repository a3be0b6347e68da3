#!/bin/bash
# tests/integration/test_dashboard.sh - the web dashboard (dash/, embedded
# by scripts/embed_assets.py, served by the admin listener) loaded in
# headless Chromium: a real docker-registry and customs with
# --admin-listen, a policy that denies an image with a known CVE, the image
# pushed with skopeo; the DOM must show the denied image and why (the CVE,
# the rule, the fixed version), the exceptions, the decisions; values are
# escaped (a hostile User-Agent in the audit log stays text); no request of
# the page leaves 127.0.0.1 (Chromium's net log); the bearer token flow
# (prompt on 401, #token= taken once).  Paging and search over thousands of
# images run against tests/integration/fake_admin_api.py (same JSON shapes).
# A screenshot of the denied image's page is kept at
# <build dir>/tests/integration/artifacts/dashboard.png.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

CHROMIUM=${CHROMIUM:-chromium}
CHROME_TIMEOUT_S=120        # one headless page load (2 shared cores: Chromium starts slowly)
CHROME_BUDGET_MS=10000      # virtual time for the page's fetches before the DOM is dumped
MIN_SCREENSHOT_BYTES=20000  # a blank 1280x900 PNG is a few KiB; the page is far more
SRC=${top_srcdir:-$TOP_DIR}
ART_DIR=$(cd "$(dirname "$CUSTOMS_BIN")" && pwd)/tests/integration/artifacts

command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
command -v "$CHROMIUM" >/dev/null || bail_out "chromium is required (Debian package chromium; scripts/deps.sh)"
direct_mode && bail_out "the dashboard is served by customs: CUSTOMS_TEST_DIRECT=1 cannot run this test"

# chrome OUT URL [ARGS...]: headless Chromium loads URL, waits for its
# fetches (virtual time) and dumps the DOM to OUT; its net log goes to
# OUT.netlog, its console to OUT.err.  Hostnames resolve to nothing but
# 127.0.0.1 (MAP * ~NOTFOUND), so Chromium's own background requests
# (updates, accounts) never leave the machine either.
chrome() {
    local out=$1 url=$2
    shift 2
    timeout "$CHROME_TIMEOUT_S" "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$T/chromium-profile" --no-first-run --no-default-browser-check \
        --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
        --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' \
        --enable-logging=stderr --v=0 --log-net-log="$out.netlog" \
        --virtual-time-budget="$CHROME_BUDGET_MS" "$@" "$url" >"$out" 2>"$out.err"
}
dom() { chrome "$1" "$2" --dump-dom; }

# netlog_check FILE: prints "page N" (requests a page made: initiator is an
# origin) and one "foreign URL" line per page request not to 127.0.0.1.
netlog_check() {
    python3 - "$1" <<'PY'
import json, sys
from urllib.parse import urlsplit
d = json.load(open(sys.argv[1]))
names = {v: k for k, v in d["constants"]["logEventTypes"].items()}
page = 0
for e in d.get("events", []):
    if names.get(e.get("type")) != "URL_REQUEST_START_JOB":
        continue
    p = e.get("params") or {}
    url, ini = p.get("url", ""), p.get("initiator", "")
    if not url or not ini.startswith(("http://", "https://")):
        continue  # Chromium's own requests ("not an origin"), or the navigation
    page += 1
    if urlsplit(url).hostname != "127.0.0.1":
        print("foreign", url)
print("page", page)
PY
}

# ---- customs with the admin listener, a denying policy, a denied image ------
POL=$T/policy.yaml
{
    echo "mode: enforce"
    echo "unscanned: scan"
    echo "on_error: deny"
    echo "head: auto"
    echo "rules:"
    echo "  - name: no-critical"
    echo "    repositories: [\"**\"]"
    echo "    deny:"
    echo "      severity: critical"
    echo "exceptions:"
    echo "  - vulnerability: CVE-2099-0002"
    echo "    repositories: [\"other/**\"]"
    echo "    expires: $(date -u -d '+10 days' +%F)"
    echo "    reason: \"waiting for the vendor\""
} >"$POL"

start_registry
ADMIN_PORT=$(free_port) || bail_out "no free port"
CUSTOMS_POLICY=$POL start_customs --admin-listen "127.0.0.1:$ADMIN_PORT"
ADMIN=http://127.0.0.1:$ADMIN_PORT
DB=$(cus_db 1)
wait_http "$ADMIN/healthz" "$CUS_PID" || bail_out "the admin listener did not start: $(tail -5 "$CUS_LOG")"
api() { curl -s -m 10 "$ADMIN/api/$1"; }

R0=$T/rootfs0 R1=$T/unused IMG=$T/shop
fixture_shop "$R0" "$R1"
oci_init "$IMG" && oci_add_layer "$IMG" "$R0" && DIGEST=$(oci_finish "$IMG" v1) || bail_out "image"
fixture_critical_osv "$T/osv.json"
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://127.0.0.1:$CUS_PORT/shop/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "push of shop/app:v1 through customs"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported (CVE-2099-0001 in its openssl)"

# a pull, denied, recorded with a hostile User-Agent (text the dashboard must escape)
HOSTILE='<img src=x onerror="document.title=1">evil-agent'
code=$(curl -s -o /dev/null -w '%{http_code}' -A "$HOSTILE" \
    -H "Accept: application/vnd.oci.image.manifest.v1+json" "$CUS_URL/v2/shop/app/manifests/v1")
is "$code" 403 "the pull is denied"
wait_until 20 '[ "$(api "image?repository=shop/app&reference=v1" | jq -r .verdict.decision 2>/dev/null)" = deny ]'
ok $? "the admin API says deny (the dashboard's source)"
wait_until 20 'api "decisions?repository=shop/app" | jq -e ".decisions | map(select(.verdict == \"deny\")) | length > 0" >/dev/null 2>&1'
ok $? "the denial is in the audit log"

# ---- the assets: embedded copies of dash/, nothing from another origin ------
for f in index.html app.js app.css; do
    curl -s -D "$T/$f.h" -o "$T/$f" "$ADMIN/$f"
    is "$(sha256sum <"$T/$f" | cut -d' ' -f1)" "$(sha256sum <"$SRC/dash/$f" | cut -d' ' -f1)" "/$f is dash/$f, byte for byte"
done
curl -s -D "$T/root.h" -o "$T/root.html" "$ADMIN/"
ok 'cmp -s "$T/root.html" "$SRC/dash/index.html"' "/ is index.html"
like "$(header_value "$T/root.h" content-type)" "^text/html" "/ is text/html"
like "$(header_value "$T/app.js.h" content-type)" "^text/javascript" "app.js is text/javascript"
like "$(header_value "$T/app.css.h" content-type)" "^text/css" "app.css is text/css"
like "$(header_value "$T/root.h" content-security-policy)" "default-src 'self'" "the page is served with CSP default-src 'self'"
ORIGINS=$(grep -EHno "(https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}|https?://" "$T/index.html" "$T/app.js" "$T/app.css")
is "$ORIGINS" "" "no asset names another origin (http://, https://, //host)"
ok '! grep -Eq "<script>|<style>| style=| on[a-z]+=" "$T/index.html"' "no inline script, style or handler in the page"
perl -0pe 's{/\*.*?\*/}{}gs' "$T/app.js" >"$T/app.code.js"   # the code without its comments
ok '[ -s "$T/app.code.js" ] && ! grep -Eq "innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function" "$T/app.code.js"' \
    "app.js never parses data as HTML or code (textContent only)"

# ---- the dashboard in Chromium ------------------------------------------------
dom "$T/overview.html" "$ADMIN/" || diag "chromium: $(tail -5 "$T/overview.html.err")"
ok 'grep -q "data-view=\"overview\"" "$T/overview.html"' "the overview renders (app.js ran and fetched /api/summary)"
like "$(grep -o '<span class="n">[0-9]*</span><span class="l">denied</span>' "$T/overview.html")" '"n">1<' \
    "overview: one image denied"

dom "$T/images.html" "$ADMIN/#/images?verdict=deny"
like "$(grep -o '<tr><td><a href="#/images?repository=shop%2Fapp">shop/app</a>.*</tr>' "$T/images.html")" \
    'data-verdict="deny">deny<' "images: shop/app listed with a deny badge"
like "$(cat "$T/images.html")" 'no-critical' "with the rule"
like "$(cat "$T/images.html")" 'C 1<' "and its critical count"
dom "$T/search.html" "$ADMIN/#/images?q=nothing-matches-this"
like "$(cat "$T/search.html")" "No image matches" "images: a search that matches nothing says so"

IMG_URL="$ADMIN/#/image?repository=shop%2Fapp&reference=v1"
dom "$T/image.html" "$IMG_URL"
PAGE=$(cat "$T/image.html")
like "$PAGE" "Why this image is denied" "image page: the denial is explained"
like "$PAGE" '<strong class="rule">no-critical</strong>' "the rule that denied it"
like "$PAGE" 'class="message">[^<]*CVE-2099-0001' "the verdict message names CVE-2099-0001"
like "$PAGE" '<ul class="reasons"><li>.*<strong>CVE-2099-0001</strong>' "the reasons name the finding"
like "$PAGE" '<td><strong>CVE-2099-0001</strong>' "the finding is listed"
like "$PAGE" '<code class="fixed">3\.0\.13-1~deb12u1</code>' "with its fixed version"
like "$PAGE" 'libssl3' "and the package"
like "$PAGE" "${DIGEST}" "the image's digest"
like "$PAGE" 'Packages \([0-9]+\)' "packages listed"
like "$PAGE" 'Layers \(1\)' "its one layer"

dom "$T/repositories.html" "$ADMIN/#/repositories?q=shop"
like "$(cat "$T/repositories.html")" '<a href="#/images\?repository=shop%2Fapp">shop/app</a></td><td>1</td>' \
    "repositories: shop/app with its one image"

dom "$T/exceptions.html" "$ADMIN/#/exceptions"
like "$(cat "$T/exceptions.html")" '<strong>CVE-2099-0002</strong>.*other/\*\*.*expires in 1?[0-9] days.*waiting for the vendor' \
    "exceptions: the exception, its repositories, its expiry and reason"

dom "$T/decisions.html" "$ADMIN/#/decisions"
DEC=$(cat "$T/decisions.html")
like "$DEC" 'shop/app:v1</a>.*data-verdict="deny"' "decisions: the denied pull"
like "$DEC" '&lt;img src=x onerror="document.title=1"&gt;evil-agent' "the hostile User-Agent is shown as text"
ok '! grep -q "<img" "$T/decisions.html"' "and never becomes an element"

dom "$T/events.html" "$ADMIN/#/events"
ok 'grep -q "data-view=\"events\"" "$T/events.html" && ! grep -q "Something went wrong" "$T/events.html"' \
    "webhook deliveries page renders (/api/events answers)"

chrome "$T/dashboard.png" "$IMG_URL" --screenshot="$T/dashboard.png" --window-size=1280,900 || true
mkdir -p "$ART_DIR" && cp "$T/dashboard.png" "$ART_DIR/dashboard.png" 2>/dev/null
like "$(file -b "$ART_DIR/dashboard.png" 2>&1)" "^PNG image data, 1280 x 900" "screenshot is a 1280x900 PNG"
size=$(stat -c %s "$ART_DIR/dashboard.png" 2>/dev/null || echo 0)
ok '[ "$size" -gt "$MIN_SCREENSHOT_BYTES" ]' "screenshot is not blank ($size bytes)"
diag "screenshot: $ART_DIR/dashboard.png"

# every request the pages made went to 127.0.0.1, and there were some
pages=0 foreign=""
for n in "$T"/*.html.netlog; do
    r=$(netlog_check "$n")
    pages=$((pages + $(sed -n 's/^page //p' <<<"$r")))
    foreign+=$(grep '^foreign' <<<"$r")
done
ok '[ "$pages" -ge 20 ]' "the page loads made requests ($pages seen in Chromium's net logs)"
is "$foreign" "" "none of them left 127.0.0.1"
cons=$(cat "$T"/*.html.err | grep 'CONSOLE' | grep -Ei 'Content Security Policy|Uncaught|TypeError|ReferenceError')
is "$cons" "" "no CSP violation or script error in the console"

# the net log check catches a page that loads from elsewhere (its control)
mkdir -p "$T/leak"
printf '<html><body><img src="http://leak.example/x.png"></body></html>\n' >"$T/leak/index.html"
LEAK_PORT=$(free_port) || bail_out "no free port"
python3 -m http.server --bind 127.0.0.1 "$LEAK_PORT" -d "$T/leak" >"$T/leak.log" 2>&1 &
LEAK_PID=$!
_LIB_PIDS+=("$LEAK_PID")
wait_http "http://127.0.0.1:$LEAK_PORT/" "$LEAK_PID" || bail_out "leak page server"
dom "$T/leak.out" "http://127.0.0.1:$LEAK_PORT/"
like "$(netlog_check "$T/leak.out.netlog")" "foreign http://leak.example/x.png" \
    "control: the net log check sees a request to another host"
stop_pid "$LEAK_PID"

# ---- with admin.token_file: the prompt, then #token= -------------------------
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$T/admin.token"
chmod 600 "$T/admin.token"
printf 'admin:\n  token_file: %s\n' "$T/admin.token" >"$T/customs-token.yaml"
ADMIN2_PORT=$(free_port) || bail_out "no free port"
CUSTOMS_POLICY=$POL start_customs -c "$T/customs-token.yaml" --admin-listen "127.0.0.1:$ADMIN2_PORT"
ADMIN2=http://127.0.0.1:$ADMIN2_PORT
wait_http "$ADMIN2/healthz" "$CUS_PID" || bail_out "the second admin listener did not start"
is "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN2/api/summary")" 401 "token: the API answers 401 without it"
is "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN2/")" 200 \
    "token: the page itself loads without it (a browser cannot send a header on navigation)"
dom "$T/token1.html" "$ADMIN2/#/images"
ok 'grep -q "id=\"token-form\"" "$T/token1.html"' "token: the dashboard asks for the token"
dom "$T/token2.html" "$ADMIN2/#/images?token=$TOKEN"
ok 'grep -q "data-view=\"images\"" "$T/token2.html" && ! grep -q "token-form" "$T/token2.html"' \
    "token: taken from the fragment, the images page renders"
ok '! grep -q "$TOKEN" "$T/token2.html"' "token: never written into the page"
dom "$T/token3.html" "$ADMIN2/#token=wrong-$TOKEN"
like "$(cat "$T/token3.html")" "refused the token" "token: a wrong token is refused, the prompt says so"

# ---- thousands of images: server-side paging and search (fake API) ----------
FAKE_DIR=$T/fake
mkdir -p "$FAKE_DIR"
FAKE_PORT=$(free_port) || bail_out "no free port"
python3 "$LIB_DIR/fake_admin_api.py" "$FAKE_PORT" "$SRC/dash" "$FAKE_DIR/requests.log" --images 5000 \
    >"$FAKE_DIR/out.log" 2>&1 &
FAKE_PID=$!
_LIB_PIDS+=("$FAKE_PID")
wait_until 10 '[ -e "$FAKE_DIR/ready" ]' || bail_out "fake admin API did not start: $(cat "$FAKE_DIR/out.log")"
FAKE=http://127.0.0.1:$FAKE_PORT
dom "$T/fake-page.html" "$FAKE/#/images?page=40"
like "$(cat "$T/fake-page.html")" "Page 40 of 100 · 5000 in all" "5,000 images: page 40 of 100"
like "$(cat "$T/fake-page.html")" ">build-1950<" "showing the 40th page's images"
is "$(grep -o '<tr><td>' "$T/fake-page.html" | wc -l | tr -d ' ')" 50 "of 50 rows, not 5,000"
like "$(grep 'GET /api/images' "$FAKE_DIR/requests.log")" "page=40&per_page=50|per_page=50&page=40" \
    "the page was asked of the server (page=40, per_page=50)"
dom "$T/fake-q.html" "$FAKE/#/images?q=team07%2Fsvc0&verdict=allow"
like "$(grep 'GET /api/images' "$FAKE_DIR/requests.log" | tail -1)" "q=team07%2Fsvc0" "search is sent to the server"
like "$(cat "$T/fake-q.html")" 'team07/svc0.*data-verdict="allow"' "and its answer shown"
ok '! grep -Eo "<tr><td><a[^>]*>team[0-9]+/svc[0-9]" "$T/fake-q.html" | grep -qv "team07/svc0"' "only matching images"
dom "$T/fake-image.html" "$FAKE/#/image?repository=shop%2Fapp&reference=v1"
like "$(cat "$T/fake-image.html")" '&lt;img src=x onerror=' "a hostile verdict message stays text"
ok '! grep -q "<img" "$T/fake-image.html"' "no element made from data"
like "$(cat "$T/fake-image.html")" 'Page 1 of 3 · 250 rows' "250 packages are paged in the page (100 rows at a time)"
like "$(cat "$T/fake-image.html")" 'stale: superseded 5 days ago' "lineage: the stale base and its age"
like "$(cat "$T/fake-image.html")" 'application/vnd.cyclonedx\+json' "annotations listed when present"
dom "$T/fake-dec.html" "$FAKE/#/decisions?before=500"
like "$(cat "$T/fake-dec.html")" '<tr><td>499</td>' "decisions: paged by the server from before=500"
like "$(cat "$T/fake-dec.html")" 'href="#/decisions\?before=400"[^>]*>Older' "with a link to the next 100"
stop_pid "$FAKE_PID"

done_testing
