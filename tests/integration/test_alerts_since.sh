#!/usr/bin/env bash
# test_alerts_since.sh: `eddy alerts --since` on a pipeline without Redis
# (its [sink] alerts topic) finds the alerts at or after the time, on
# Apache Kafka (offsets_for_times) and on eddy broker, whose mock cluster
# cannot look offsets up by time (issue 19: it used to move to the end and
# print nothing). Three alerts, each written with its own time as the
# record's timestamp: 3 h, 2 h and 10 min ago, in two partitions.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

# Writes alert N of partition P, A seconds ago (its time and timestamp).
put_alerts() {
  "$PYTHON" - "$BOOTSTRAP" "$1" <<'PY'
import json, sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
now = time.time()
for part, ago, offset in ((0, 3 * 3600, 100), (1, 2 * 3600, 200), (0, 600, 300)):
    t = now - ago
    alert = {"topic": "in", "pipeline": "al", "partition": part, "offset": offset, "index": offset,
             "detector": "adwin", "kind": "drift", "statistic": 0.5, "threshold": 0.1, "action": "reset",
             "version_before": 1, "version_after": 2,
             "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z"}
    p.produce(sys.argv[2], json.dumps(alert).encode(), partition=part, timestamp=int(t * 1000))
if p.flush(30):
    sys.exit("alerts not delivered")
PY
}

# The offsets of the alerts `eddy alerts --since S --json` prints, sorted.
since() { "$EDDY_BIN" alerts -c "$CFG" --json --since "$1" 2> "$EDDY_TEST_TMP/alerts.err" |
          "$PYTHON" -c 'import json, sys; print(" ".join(str(o) for o in sorted(json.loads(l)["offset"] for l in sys.stdin)))'; }

scenario() {
  CFG=$EDDY_TEST_TMP/al-$BROKER_KIND.ini
  create_topic al.alerts 2
  write_config "$CFG" al al
  put_alerts al.alerts
  assert_eq "100 200 300" "$(since 4h)" "alerts since 4 h ago"
  assert_eq "200 300" "$(since 150m)" "alerts since 150 min ago"
  assert_eq "300" "$(since 1h)" "alerts since 1 h ago"
  assert_eq "" "$(since 5m)" "alerts since 5 min ago"
  assert_eq "100 200 300" "$("$EDDY_BIN" alerts -c "$CFG" --json | "$PYTHON" -c 'import json, sys; print(" ".join(str(o) for o in sorted(json.loads(l)["offset"] for l in sys.stdin)))')" "every alert"
}

for_each_broker scenario
log "PASS"
