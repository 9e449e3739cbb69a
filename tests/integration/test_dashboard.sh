#!/usr/bin/env bash
# test_dashboard.sh: `eddy demo` serves its dashboard; headless Chromium
# (Debian's chromium over the DevTools protocol, dash_browser.py) loads it
# and the page shows the curve, one drift mark per drift alert the demo
# printed, the alerts table with those rows and the trees' features ranked
# by importance in the models table; /api/alerts agrees with the
# demo; with --label-delay, the label panel's numbers move while the stream
# runs and end at every label joined. Skips, saying why, only where
# chromium or python3-websocket is missing (tools/deps.sh installs both).
# DASH_SCREENSHOT=FILE keeps the screenshot there (docs/dashboard.png is
# taken that way).
source "$(dirname "$0")/lib.sh"

if [ ! -x /usr/bin/chromium ] || ! /usr/bin/python3 -c 'import websocket' 2>/dev/null; then
  log "SKIP: needs Debian's chromium and python3-websocket (make deps installs them)"
  exit 0
fi

port=$(free_port)
out=$EDDY_TEST_TMP/demo.out
events=${DASH_EVENTS:-40000}
( exec setsid "$EDDY_BIN" demo --events "$events" --rate "${DASH_RATE:-5000}" --plain --linger \
    --http "127.0.0.1:$port" > "$out" 2>&1 < /dev/null ) &
demo_pid=$!
_track "$demo_pid"
wait_for 15 "the dashboard's URL" grep -q "dashboard http://127.0.0.1:$port/" "$out"
curl -sf -o "$EDDY_TEST_TMP/index.html" "http://127.0.0.1:$port/"
grep -q '<title>eddy dashboard</title>' "$EDDY_TEST_TMP/index.html" || fail "/ is not the dashboard"
curl -sf -o "$EDDY_TEST_TMP/uplot.js" "http://127.0.0.1:$port/uplot.js"
grep -q 'uPlot' "$EDDY_TEST_TMP/uplot.js" || fail "uPlot is not served"
wait_for 60 "the demo's summary" grep -q "the dashboard stays at" "$out"

# The drift alerts the demo printed (every one, repeats included) and its warnings.
read -r drifts warnings < <(sed -nE 's/^ *alerts +([0-9]+) drift alerts?, ([0-9]+) warnings?$/\1 \2/p' "$out")
[ -n "${drifts:-}" ] || fail "no alerts line in the demo's summary"
log "the demo printed $drifts drift alerts and $warnings warnings"
[ "$drifts" -ge 1 ] || fail "the drifting stream raised no drift alert"
api=$(curl -sf "http://127.0.0.1:$port/api/alerts")
read -r api_drifts api_warnings < <("$PYTHON" -c '
import json, sys
a = json.loads(sys.argv[1])
print(sum(x["kind"] != "warning" for x in a), sum(x["kind"] == "warning" for x in a))' "$api")
assert_eq "$drifts $warnings" "$api_drifts $api_warnings" "drift alerts and warnings in /api/alerts"
series=$(curl -sf "http://127.0.0.1:$port/api/series?pipeline=demo")
"$PYTHON" -c '
import json, sys
s = json.loads(sys.argv[1])
assert len(s["partitions"]) == 2, s["partitions"]
total = sum(sum(p["records"]) for p in s["partitions"])
assert total == int(sys.argv[2]), f"the per-second records add up to {total}, not {sys.argv[2]}"' "$series" "$events" ||
  fail "/api/series does not add up to the records of the demo"

# The demo's Hoeffding trees rank their features (/api/models), and the
# page's models table shows that ranking.
"$PYTHON" -c '
import json, sys
m = json.loads(sys.argv[1])["models"]
assert m and all(x["learner"] == "hoeffding_tree" and len(x["importance"]) == 3 for x in m), m' \
  "$(curl -sf "http://127.0.0.1:$port/api/models?pipeline=demo")" || fail "/api/models ranks no feature of the demo's trees"

shot=${DASH_SCREENSHOT:-$EDDY_TEST_TMP/dashboard.png}
state=$(/usr/bin/python3 "$EDDY_ROOT/tests/integration/dash_browser.py" "http://127.0.0.1:$port/" "$shot" \
          --drifts "$drifts" --alerts $((drifts + warnings)) --ranked --timeout 40) ||
  fail "the page did not show $drifts drift marks and $((drifts + warnings)) alert rows: $state"
log "the page showed: $state"
[ "$(stat -c %s "$shot")" -gt 20000 ] || fail "the screenshot $shot is too small to show anything"

kill -INT "$demo_pid"
set +e
wait "$demo_pid"
rc=$?
set -e
assert_eq 0 "$rc" "eddy demo's exit status after Ctrl-C while lingering"
log "ok: dashboard (screenshot $shot)"

# `eddy demo --label-delay N`: the label panel (/api/pipelines' "labels"
# and /api/series' "waiting") moves while the stream runs: labels joined
# grow and about N predictions wait; at the end every label is joined and
# none waits, none unmatched or expired; the page's panel shows the same.
port=$(free_port)
out=$EDDY_TEST_TMP/demo_labels.out
levents=${DASH_LABEL_EVENTS:-60000}
( exec setsid "$EDDY_BIN" demo --events "$levents" --rate 3000 --plain --linger --label-delay 1000 \
    --http "127.0.0.1:$port" > "$out" 2>&1 < /dev/null ) &
demo_pid=$!
_track "$demo_pid"
wait_for 15 "the dashboard's URL" grep -q "dashboard http://127.0.0.1:$port/" "$out"
shot=$EDDY_TEST_TMP/dashboard_labels.png
( exec setsid /usr/bin/python3 "$EDDY_ROOT/tests/integration/dash_browser.py" "http://127.0.0.1:$port/" "$shot" \
    --labels "$levents" --timeout 90 > "$EDDY_TEST_TMP/browser_labels.json" < /dev/null ) &
browser_pid=$!
_track "$browser_pid"
labels_of() {
  curl -sf "http://127.0.0.1:$port/api/pipelines" | "$PYTHON" -c '
import json, sys
l = json.load(sys.stdin)["pipelines"][0]["labels"]
print(l["in"], l["joined"], l["waiting"], l["unmatched"], l["expired"], l["delay_p50"] is not None)'
}
_joined_over() { local f; f=($(labels_of)); [ "${f[1]:-0}" -gt "$1" ]; }
wait_for 60 "labels joined" _joined_over 0
read -r _ j1 w1 _ < <(labels_of)
sleep 2
read -r _ j2 w2 _ < <(labels_of)
log "label panel while the stream runs: joined $j1 then $j2, waiting $w1 then $w2"
[ "$j2" -gt "$j1" ] || grep -q "the dashboard stays at" "$out" || fail "labels joined did not move: $j1 then $j2"
[ "$w1" -gt 0 ] || [ "$w2" -gt 0 ] || fail "no prediction waited for its label while the stream ran"
wait_for 90 "the label demo's summary" grep -q "the dashboard stays at" "$out"
assert_eq "$levents $levents 0 0 0 True" "$(labels_of)" "labels in, joined, waiting, unmatched, expired, delay known"
most=$(curl -sf "http://127.0.0.1:$port/api/series?pipeline=demo" | "$PYTHON" -c '
import json, sys
ps = json.load(sys.stdin)["partitions"]
by_t = {}
for p in ps:
    for t, w in zip(p["t"], p["waiting"]):
        by_t[t] = by_t.get(t, 0) + (w or 0)
print(max(by_t.values()))')
log "most predictions waiting in a second of /api/series: $most"
[ "$most" -gt 0 ] || fail "/api/series never showed a prediction waiting"
set +e
wait "$browser_pid"
rc=$?
set -e
state=$(cat "$EDDY_TEST_TMP/browser_labels.json")
[ "$rc" -eq 0 ] || fail "the page's label panel did not move to $levents joined, 0 waiting: $state"
log "the label panel showed: $(grep -o '"labelCards".*' <<< "$state" | head -c 300)"
kill -INT "$demo_pid"
set +e
wait "$demo_pid"
rc=$?
set -e
assert_eq 0 "$rc" "the label demo's exit status"
log "ok: label panel (screenshot $shot)"
