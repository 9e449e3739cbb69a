#!/usr/bin/env bash
# test_monitoring_rules.sh: examples/monitoring/ as Prometheus reads it:
# promtool (Debian's prometheus package) accepts the config and the alerting
# rules, the rules' unit tests pass (eddy-rules.test.yml: each rule fires on
# a series crossing its threshold, not before), and every query of the
# Grafana dashboard parses (checked as recording rules) and names only
# metrics that eddy's /metrics declares. Skips only where promtool is
# missing (make deps installs it).
source "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || { log "SKIP: promtool is missing (Debian: prometheus; make deps installs it)"; exit 0; }
mon=$EDDY_ROOT/examples/monitoring
promtool check rules "$mon/eddy-rules.yml"
promtool check config "$mon/prometheus.yml"
( cd "$mon" && promtool test rules eddy-rules.test.yml )

# The Grafana queries, $pipeline set to every pipeline, as recording rules.
"$PYTHON" - "$mon/grafana-eddy.json" > "$EDDY_TEST_TMP/grafana-rules.yml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
exprs += [a["expr"] for a in d["annotations"]["list"] if "expr" in a]
print("groups:\n  - name: grafana\n    rules:")
for i, e in enumerate(exprs):
    print(f"      - record: grafana:q{i}\n        expr: {json.dumps(e.replace('$pipeline', '.*'))}")
PY
promtool check rules "$EDDY_TEST_TMP/grafana-rules.yml"

# Every eddy_* metric named by the rules or the dashboard is one /metrics
# declares (a `# TYPE` line; histograms by their family name).
port=$(free_port)
# (a pipeline whose broker is not there: /metrics declares every family anyway)
cat > "$EDDY_TEST_TMP/empty.ini" <<INI
[http]
listen = 127.0.0.1:$port
[pipeline]
name = nobroker
[source]
topics = in
[kafka]
bootstrap.servers = 127.0.0.1:$(free_port)
[features]
numeric = x
target = y
[model]
learner = naive_bayes
INI
( exec setsid "$EDDY_BIN" run -c "$EDDY_TEST_TMP/empty.ini" > "$EDDY_TEST_TMP/run.log" 2>&1 < /dev/null ) &
run_pid=$!
_track "$run_pid"
wait_for 10 "/metrics" curl -sf -o "$EDDY_TEST_TMP/metrics.txt" "http://127.0.0.1:$port/metrics"
declared=$(sed -nE 's/^# TYPE ([a-z_]+) .*/\1/p' "$EDDY_TEST_TMP/metrics.txt" | sort -u)
used=$(cat "$mon/eddy-rules.yml" "$mon/grafana-eddy.json" | grep -oE 'eddy_[a-z_]+' | grep -v '^eddy_pipelines$' |
       sed -E 's/_(bucket|sum|count)$//' | sort -u)
missing=$(comm -23 <(echo "$used") <(echo "$declared"))
[ -z "$missing" ] || fail "metrics used by examples/monitoring but not in /metrics: $missing"
log "ok: $(echo "$used" | wc -l) metrics used, all declared; rules, config and Grafana queries accepted"
