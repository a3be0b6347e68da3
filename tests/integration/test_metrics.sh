#!/bin/bash
# tests/integration/test_metrics.sh - /metrics on the admin listener
# (--admin-listen) in front of a real registry: the exposition parses as
# Prometheus text 0.0.4 (a strict checker written here, and the parser of
# python3-prometheus-client agreeing with it), and it counts what was done:
# 7 GET /v2/ (customs_requests_total{method="GET",code="200"}), a push with
# skopeo (layer and manifest scans, request bytes in, upstream latency), a
# scan-completed webhook delivered, 4 denied pulls (manifest GETs and a blob
# GET: customs_pulls_denied_total and verdicts), the policy and data
# generations, and a refused policy reload.  TAP.

. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/mkimage.sh"
. "$LIB_DIR/fixtures.sh"

direct_mode && bail_out "metrics need customs (CUSTOMS_TEST_DIRECT=1 has none)"
command -v jq >/dev/null || bail_out "jq is required"
command -v skopeo >/dev/null || bail_out "skopeo is required"
# Debian's python3 (the package python3-prometheus-client, scripts/deps.sh),
# not whichever python3 comes first on PATH
PY=/usr/bin/python3
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
    bail_out "python3-prometheus-client is required (scripts/deps.sh)"

# ---- the checker: strict text format 0.0.4, then prometheus_client's parser;
# prints every sample as {"name{k=v,...}": value} (labels sorted) ----------
cat >"$T/promcheck.py" <<'PY'
import json, math, re, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\n]|\\[\\\"n])*)\""
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
errors, types, helps, samples, order = [], {}, set(), {}, []

def fail(n, why):
    errors.append("line %d: %s" % (n, why))

def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)

def family(name):
    if name in types:
        return name
    for s in ("_bucket", "_sum", "_count"):
        if name.endswith(s) and types.get(name[: -len(s)]) == "histogram":
            return name[: -len(s)]
    return None

def number(v):
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    if v in special:
        return special[v]
    if not re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$", v):
        raise ValueError(v)
    return float(v)

if not text.endswith("\n"):
    errors.append("the exposition does not end with a line feed")
seen_samples = set()
for n, line in enumerate(text.split("\n")[:-1], 1):
    if line == "":
        continue
    if line.startswith("#"):
        m = re.match(r"^# (HELP|TYPE) (%s)(?: (.*))?$" % NAME, line)
        if not m:
            continue  # a plain comment
        kw, name, rest = m.groups()
        if kw == "HELP":
            if name in helps: fail(n, "second HELP for " + name)
            if not rest: fail(n, "HELP without text")
            helps.add(name)
        else:
            if name in types: fail(n, "second TYPE for " + name)
            if name in seen_samples: fail(n, "TYPE after samples of " + name)
            if rest not in ("counter", "gauge", "histogram", "summary", "untyped"): fail(n, "bad TYPE " + str(rest))
            types[name] = rest
        continue
    m = SAMPLE.match(line)
    if not m:
        fail(n, "not `name{labels} value`: " + line)
        continue
    name, value = m.group(1), m.group(len(m.groups()))
    labels = dict((k, unescape(v)) for k, v in re.findall(LABEL, line[len(name):line.rfind(" ")]))
    fam = family(name)
    if fam is None:
        fail(n, "sample without a TYPE before it: " + name)
        continue
    seen_samples.add(fam)
    try:
        v = number(value)
    except ValueError:
        fail(n, "value is not a float: " + value)
        continue
    key = name + "{" + ",".join("%s=%s" % kv for kv in sorted(labels.items())) + "}"
    if key in samples: fail(n, "duplicate series " + key)
    samples[key] = v
    order.append((name, labels, v))

# histograms: for each label set, buckets in increasing le, cumulative,
# ending at +Inf, which equals _count; one _sum
for fam, t in types.items():
    if t != "histogram":
        continue
    counts = [(l, v) for (nm, l, v) in order if nm == fam + "_count"]
    if not counts: errors.append(fam + ": no _count")
    for labels, count in counts:
        buckets = [(l, v) for (nm, l, v) in order if nm == fam + "_bucket"
                   and {k: x for k, x in l.items() if k != "le"} == labels]
        les = [number(l["le"]) for l, _ in buckets]
        vals = [v for _, v in buckets]
        if not buckets or les[-1] != math.inf: errors.append("%s%s: no +Inf bucket last" % (fam, labels))
        if any(b <= a for a, b in zip(les, les[1:])): errors.append("%s%s: le not increasing" % (fam, labels))
        if any(b < a for a, b in zip(vals, vals[1:])): errors.append("%s%s: buckets not cumulative" % (fam, labels))
        if buckets and vals[-1] != count: errors.append("%s%s: _count %s != +Inf %s" % (fam, labels, count, vals[-1]))
        if sum(1 for (nm, l, v) in order if nm == fam + "_sum" and l == labels) != 1:
            errors.append("%s%s: not one _sum" % (fam, labels))

# the reference parser must read the same samples
try:
    ref = {}
    for f in text_string_to_metric_families(text):
        for s in f.samples:
            ref[s.name + "{" + ",".join("%s=%s" % kv for kv in sorted(s.labels.items())) + "}"] = s.value
    if ref != samples:
        diff = set(ref.items()) ^ set(samples.items())
        errors.append("prometheus_client reads other samples: %s" % sorted(diff)[:5])
except Exception as e:
    errors.append("prometheus_client refuses it: %r" % e)

if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
json.dump(samples, sys.stdout)
PY

# scrape NAME: GET /metrics into $T/NAME.txt (headers $T/NAME.h), checked
#   into $T/NAME.json; returns the checker's status
scrape() {
    curl -s -m 10 -D "$T/$1.h" -o "$T/$1.txt" "$ADMIN/metrics" || return 1
    "$PY" "$T/promcheck.py" "$T/$1.txt" >"$T/$1.json" 2>"$T/$1.err"
}
# m NAME 'series{k=v,...}': the value (integers without a fraction), or "absent"
m() { jq -r --arg k "$2" 'if has($k) then (.[$k] | if . == floor then floor else . end) else "absent" end' "$T/$1.json"; }
# delta A B SERIES: B - A, absent counting as 0
delta() {
    local a b
    a=$(m "$1" "$3") b=$(m "$2" "$3")
    [ "$a" = absent ] && a=0
    [ "$b" = absent ] && b=0
    echo $((b - a))
}

POL=$T/policy.yaml
printf 'mode: enforce\nunscanned: scan\non_error: deny\nhead: auto\nrules:\n  - name: no-critical\n    repositories: ["**"]\n    deny:\n      severity: critical\n' >"$POL"
start_registry
mkdir -p "$T/rcv"
start_receiver "$T/rcv"
{
    printf 'gate:\n  blobs: true\n'
    printf 'webhooks:\n  - url: %s/hook\n    events: [scan-completed]\n' "$RCV_URL"
} >"$T/customs.yaml"
ADMIN_PORT=$(free_port) || bail_out "no free port"
ADMIN=http://127.0.0.1:$ADMIN_PORT
CUSTOMS_POLICY=$POL start_customs -c "$T/customs.yaml" --admin-listen "127.0.0.1:$ADMIN_PORT"
wait_http "$ADMIN/healthz" "$CUS_PID" || bail_out "the admin listener did not start: $(tail -5 "$CUS_LOG")"
DB=$(cus_db 1)
H=127.0.0.1:$CUS_PORT
MT=application/vnd.oci.image.manifest.v1+json

# ---- at start ---------------------------------------------------------------
scrape m0
ok $? "the exposition at start parses as Prometheus text ($(head -3 "$T/m0.err" 2>/dev/null))"
like "$(header_value "$T/m0.h" content-type)" "^text/plain; *version=0\.0\.4" "Content-Type text/plain; version=0.0.4"
VERSION=$(sed -n 's/^AC_INIT(\[customs\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
is "$(m m0 "customs_build_info{version=$VERSION}")" 1 "customs_build_info carries the version $VERSION"
is "$(m m0 'customs_policy_generation{}')" 1 "the policy loaded at start is generation 1"
is "$(m m0 'customs_policy_reload_failures_total{}')" 0 "no reload failure yet"
is "$(m m0 'customs_vulndb_generation{}')" 0 "the data generation of an empty database, learnt at start (0)"
is "$(m m0 'customs_scan_queue_depth{}')" 0 "no scan queued"
is "$(m m0 'customs_spool_bytes{}')" 0 "nothing spilled"

# ---- 7 GET /v2/ -----------------------------------------------------------------
n200=0
for i in 1 2 3 4 5 6 7; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/")" = 200 ] && n200=$((n200 + 1))
done
is "$n200" 7 "7 GET /v2/ answered 200"
# an exchange is counted when it is freed, just after its answer: wait for it
wait_until 5 'scrape m1 && [ "$(delta m0 m1 "customs_requests_total{code=200,method=GET}")" -ge 7 ]'
scrape m1
ok $? "parses after the GETs"
is "$(delta m0 m1 'customs_requests_total{code=200,method=GET}')" 7 \
    'customs_requests_total{method="GET",code="200"} grew by exactly the 7 GETs'
ok '[ "$(delta m0 m1 "customs_upstream_latency_seconds_count{}")" -ge 7 ]' \
    "upstream latency counted each of them ($(delta m0 m1 'customs_upstream_latency_seconds_count{}'))"
ok '[ "$(m m1 "customs_upstream_latency_seconds_bucket{le=30}")" -ge 7 ]' "and they took under 30 s"

# ---- a push ---------------------------------------------------------------------
IMG=$T/shop
fixture_shop "$T/rootfs0" "$T/unused"
oci_init "$IMG" && oci_add_layer "$IMG" "$T/rootfs0" && DIGEST=$(oci_finish "$IMG" v1) || bail_out "image"
LAYER=$(jq -r '.layers[0].digest' "$IMG/blobs/sha256/${DIGEST#sha256:}")
LAYER_BYTES=$(stat -c %s "$IMG/blobs/sha256/${LAYER#sha256:}")
skopeo copy -q --dest-tls-verify=false "oci:$IMG:v1" "docker://$H/shop/app:v1" >"$T/push.out" 2>&1
is "$?" 0 "push through customs"
# the manifest PUT was held for its scan; the webhook is asynchronous
wait_until 20 '[ -n "$(ls "$T/rcv"/*.body 2>/dev/null)" ]'
ok $? "the scan-completed webhook arrived"
wait_until 10 'scrape m2 && [ "$(m m2 "customs_webhook_deliveries_total{result=delivered}")" -ge 1 ]'
ok $? "customs_webhook_deliveries_total{result=\"delivered\"} counts it"
is "$(m m2 'customs_scans_total{kind=layer,result=ok}')" 1 "one layer scanned ok (the config blob is not a layer scan)"
is "$(m m2 'customs_scan_duration_seconds_count{kind=layer}')" 1 "the scan duration histogram counted the layer"
is "$(m m2 'customs_scans_total{kind=manifest,result=ok}')" 1 "one manifest job ok"
is "$(m m2 'customs_scan_duration_seconds_count{kind=manifest}')" 1 "and its duration"
is "$(m m2 'customs_scans_total{kind=layer,result=failed}')" 0 "no failed scan"
ok '[ "$(delta m1 m2 "customs_request_bytes_total{direction=in}")" -ge "$LAYER_BYTES" ]' \
    "request bytes in grew by at least the layer's $LAYER_BYTES bytes"
ok '[ "$(m m2 "customs_requests_total{code=201,method=PUT}")" -ge 2 ]' "PUT 201s (blob and manifest) counted"
is "$(m m2 'customs_pulls_denied_total{}')" 0 "no pull denied yet"

# ---- denied pulls ---------------------------------------------------------------
fixture_critical_osv "$T/osv.json"
"$CUSTOMS_BIN" db import --db "$DB" "$T/osv.json" >"$T/import.out" 2>&1
is "$?" 0 "vulnerability data imported"
ndeny=0
for i in 1 2 3; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MT" "$CUS_URL/v2/shop/app/manifests/$DIGEST")" = 403 ] &&
        ndeny=$((ndeny + 1))
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$CUS_URL/v2/shop/app/blobs/$LAYER")" = 403 ] && ndeny=$((ndeny + 1))
is "$ndeny" 4 "3 manifest GETs and a blob GET denied"
wait_until 5 'scrape m3 && [ "$(delta m2 m3 "customs_requests_total{code=403,method=GET}")" -ge 4 ]'
scrape m3
ok $? "parses after the denied pulls"
is "$(delta m2 m3 'customs_pulls_denied_total{}')" 4 "customs_pulls_denied_total grew by the 4 denied pulls"
is "$(delta m2 m3 'customs_verdicts_total{decision=deny}')" 4 'customs_verdicts_total{decision="deny"} too'
is "$(delta m2 m3 'customs_requests_total{code=403,method=GET}')" 4 "and the 403s among the requests"
gen=$("$CUSTOMS_BIN" db status --db "$DB" 2>/dev/null | sed -n 's/.*generation[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -1)
ok '[ "$(m m3 "customs_vulndb_generation{}")" -ge 1 ]' \
    "the data generation learnt after the import ($(m m3 'customs_vulndb_generation{}'); db status: ${gen:-?})"
[ -n "$gen" ] && is "$(m m3 'customs_vulndb_generation{}')" "$gen" "equal to what customs db status says"

# ---- a refused policy reload ---------------------------------------------------------
printf 'mode: enforce\nrules:\n  - name: x\n    repositories: ["**"]\n    deny:\n      severity: critcal\n' >"$POL"
kill -HUP "$CUS_PID"
wait_until 10 'scrape m4 && [ "$(m m4 "customs_policy_reload_failures_total{}")" -ge 1 ]'
ok $? "a broken policy file counts in customs_policy_reload_failures_total"
is "$(m m4 'customs_policy_generation{}')" 1 "the generation in force stays 1"

# ---- every series of the interface is there ---------------------------------------------
for f in customs_requests_total customs_request_bytes_total customs_upstream_latency_seconds \
    customs_scan_duration_seconds customs_scans_total customs_scan_queue_depth customs_spool_bytes \
    customs_verdicts_total customs_pulls_denied_total customs_vulndb_generation customs_policy_generation \
    customs_policy_reload_failures_total customs_webhook_deliveries_total customs_build_info; do
    grep -q "^# TYPE $f " "$T/m4.txt" || missing="${missing:-} $f"
done
is "${missing:-}" "" "every documented family has its TYPE line"
done_testing
