#!/usr/bin/env bash
# test_dashboard.sh: `eddy demo` serves its dashboard; headless Chromium
# (Debian's chromium over the DevTools protocol, dash_browser.py) loads it
# and the page shows the curve, one drift mark per drift alert the demo
# printed, the alerts table with those rows and the trees' features ranked
# by importance in the models table; /api/alerts agrees with the
# demo. Skips, saying why, only where chromium or python3-websocket is
# missing (tools/deps.sh installs both). DASH_SCREENSHOT=FILE keeps the
# screenshot there (docs/dashboard.png is taken that way).
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
