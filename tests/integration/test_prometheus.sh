#!/usr/bin/env bash
# test_prometheus.sh: a real Prometheus server (Debian's prometheus) on
# loopback scrapes a running pipeline (`eddy broker`, `eddy run` with its
# state in redis-server, fed by `eddy gen stagger` whose concept changes
# abruptly from 1 to 3 half way) every second with
# examples/monitoring/eddy-rules.yml (its `for:` durations cut to 0 s), and
# its HTTP API is queried until EddyAccuracyBelowFloor fires for the
# pipeline: the windowed accuracy, ~1 before the drift, falls under 0.8
# after it (the drift action is `alert`: the model is not reset). The
# dashboard's /api/alerts then equals `eddy alerts --json` (the Redis
# stream) for the same run. Skips only where prometheus is missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

command -v prometheus >/dev/null || { log "SKIP: prometheus is missing (Debian: prometheus; make deps installs it)"; exit 0; }
N=12000

start_redis
start_eddy_broker
create_topic in 2
create_topic mon.predictions 2
create_topic mon.dlq 1
create_topic mon.alerts 1
port=$(free_port)
cfg=$EDDY_TEST_TMP/mon.ini
cat > "$cfg" <<INI
[http]
listen = 127.0.0.1:$port

[pipeline]
name = mon
window = 200

[source]
topics = in

[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10

[features]
nominal = size, color, shape
target = class

[state]
store = $REDIS_URL

[model]
learner = naive_bayes

[drift]
detector = adwin
action = alert

[sink]
predictions = mon.predictions
dead_letter = mon.dlq
alerts = mon.alerts
INI
start_run "$cfg" "$EDDY_TEST_TMP/run.log"
wait_for 20 "the run's /metrics" curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"

# Prometheus: scrape and evaluate every second, the example's rules with for: 0s.
prom_port=$(free_port)
prom_dir=$EDDY_TEST_TMP/prometheus
mkdir -p "$prom_dir/data"
sed -E 's/^( +for: ).*/\10s/' "$EDDY_ROOT/examples/monitoring/eddy-rules.yml" > "$prom_dir/eddy-rules.yml"
cat > "$prom_dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - eddy-rules.yml
scrape_configs:
  - job_name: eddy
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
( cd "$prom_dir" && exec setsid prometheus --config.file=prometheus.yml --storage.tsdb.path=data \
    --web.listen-address="127.0.0.1:$prom_port" > prometheus.log 2>&1 < /dev/null ) &
prom_pid=$!
_track "$prom_pid"
prom() { curl -sf "http://127.0.0.1:$prom_port/api/v1/$1" "${@:2}"; }
wait_for 30 "prometheus to be ready" curl -sf -o /dev/null "http://127.0.0.1:$prom_port/-/ready"
_target_up() { prom query --data-urlencode 'query=up{job="eddy"}' | grep -q '"value":\[[0-9.]*,"1"\]'; }
wait_for 30 "prometheus to scrape eddy (up == 1)" _target_up

# The stream: concept 1 (small and red) until record N/2, then 3 (medium or large).
( exec setsid "$EDDY_BIN" gen stagger --n "$N" --seed 7 --drift-to 3 --drift-at $((N / 2)) --drift-width 1 \
    --topic in --bootstrap "$BOOTSTRAP" --rate 1500 > "$EDDY_TEST_TMP/gen.log" 2>&1 < /dev/null ) &
gen_pid=$!
_track "$gen_pid"

_firing() {
  prom alerts | "$PYTHON" -c '
import json, sys
a = json.load(sys.stdin)["data"]["alerts"]
sys.exit(0 if any(x["labels"]["alertname"] == "EddyAccuracyBelowFloor" and x["labels"].get("pipeline") == "mon"
                  and x["state"] == "firing" for x in a) else 1)'
}
# Before the drift: accuracy over 0.8 and the rule quiet.
wait_for 30 "the accuracy over 0.9 before the drift" "$PYTHON" -c '
import json, sys, urllib.request, urllib.parse
q = urllib.parse.urlencode({"query": "min(eddy_accuracy_windowed{pipeline=\"mon\"})"})
r = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?{q}"))["data"]["result"]
sys.exit(0 if r and float(r[0]["value"][1]) > 0.9 else 1)' "$prom_port"
! _firing || fail "EddyAccuracyBelowFloor fired before the drift"
wait_for 60 "Prometheus to fire EddyAccuracyBelowFloor for pipeline mon" _firing
prom query --data-urlencode 'query=min(eddy_accuracy_windowed{pipeline="mon"})' > "$EDDY_TEST_TMP/acc.json"
log "EddyAccuracyBelowFloor fired; accuracy then: $(cat "$EDDY_TEST_TMP/acc.json")"

# The dashboard's alerts are the Redis stream's, for the same run.
wait "$gen_pid" || fail "eddy gen failed: $(cat "$EDDY_TEST_TMP/gen.log")"
wait_for 30 "every record consumed" records_over "$port" mon $((N - 1))
sleep 1
curl -sf "http://127.0.0.1:$port/api/alerts?pipeline=mon" > "$EDDY_TEST_TMP/api.json"
"$EDDY_BIN" alerts -c "$cfg" --json > "$EDDY_TEST_TMP/redis.jsonl"
"$PYTHON" - "$EDDY_TEST_TMP/api.json" "$EDDY_TEST_TMP/redis.jsonl" <<'PY' || fail "/api/alerts differs from eddy alerts --json"
import json, sys
api = json.load(open(sys.argv[1]))
redis = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
assert api == redis, f"/api/alerts {len(api)} alerts, eddy alerts --json {len(redis)}:\n{api[:3]}\n{redis[:3]}"
assert any(a["kind"] == "drift" for a in api), "no drift alert"
print(f"{len(api)} alerts, identical")
PY
stop_run TERM
assert_eq 0 "$RUN_RC" "eddy run's exit status"
log "ok: prometheus"
