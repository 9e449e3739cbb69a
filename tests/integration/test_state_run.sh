#!/usr/bin/env bash
# test_state_run.sh: `eddy run` with its state in a real redis-server,
# against `eddy broker` and Apache Kafka. Records of 40 entities (keyed by
# entity, so that an entity stays in one partition) stream through a
# pipeline whose predictions echo the aggregates joined into each record
# ([sink] aggregates = true): count(*), sum, mean, min, max, ewma, last and
# since_last() on the Kafka timestamps. The run stops (SIGTERM: final
# checkpoints) half way; `eddy models` lists a checkpoint per partition
# whose next offsets add up to the records consumed; the restarted run
# restores every partition's model from Redis (the log says so, per key)
# and goes on: every prediction, before and after the restart, duplicates
# included, carries exactly the aggregates a record-by-record reference
# computes (stream_check.py aggregates), so the entity state came back from
# Redis. The labels flip in the second half: the drift detector's alerts
# are in the Redis stream (`eddy alerts`), each with its pipeline and
# partition.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=4000
HALF=$((N / 2))
E=40

models_sum() { "$EDDY_BIN" models -c "$1" --json | "$PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert all("error" not in r for r in rows), rows
print(len(rows), sum(r["next_offset"] for r in rows))'; }

scenario() {
  start_redis --appendonly yes --appendfsync always
  create_topic in 4
  create_topic st.predictions 2
  create_topic st.dlq 1
  create_topic st.alerts 1
  local port cfg=$EDDY_TEST_TMP/st.ini
  port=$(free_port)
  FEATURES_EXTRA="key = user" SINK_EXTRA="aggregates = true" write_config "$cfg" st in "[state]
store = $REDIS_URL
aggregates = count(*), sum(x1), mean(x1), min(x2), max(x2), ewma(x1, 0.5), last(x1), since_last()
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"

  gen in $HALF --entities $E
  start_run "$cfg" "$EDDY_TEST_TMP/run1.log"
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="st"' $HALF 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  assert_eq "4 $HALF" "$(models_sum "$cfg")" "checkpoints (partitions, sum of next offsets) after the first run"
  "$EDDY_BIN" models -c "$cfg" >&2

  gen in $HALF --start $HALF --entities $E --flip-at $HALF
  start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
  local out
  out=$(check --in in --pred st.predictions --dlq st.dlq --pipeline st --with-id --timeout 90)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="st"' $HALF 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
  assert_eq 4 "$(grep -c 'model restored from eddy:st:ckpt:[0-3] (naive_bayes' "$EDDY_TEST_TMP/run2.log")" \
    "partitions restored from Redis at the restart"
  # The second run consumed the second half only: the checkpoints' offsets.
  grep -q "stopped after $HALF records" "$EDDY_TEST_TMP/run2.log" || fail "second run: $(grep 'stopped after' "$EDDY_TEST_TMP/run2.log")"
  assert_eq "4 $N" "$(models_sum "$cfg")" "checkpoints after the second run"

  out=$($CHECK aggregates "$BOOTSTRAP" --in in --pred st.predictions --timeout 60)
  log "$out"
  grep -q "^aggregates of [0-9]* predictions ($N records, $E entities, " <<< "$out" || fail "$out"

  # Drift alerts went to the Redis stream too.
  local alerts
  alerts=$("$EDDY_BIN" alerts -c "$cfg" --json)
  "$PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
drifts = [r for r in rows if r["kind"] == "drift"]
assert drifts, rows
assert all(r["pipeline"] == "st" and 0 <= r["partition"] < 4 and r["offset"] >= 0 for r in rows), rows
parts = sorted({r["partition"] for r in drifts})
print(f"{len(rows)} alerts in Redis, {len(drifts)} drifts, partitions {parts}")
' "$alerts" >&2 || fail "alerts in Redis: $alerts"
  redis-cli -p "$REDIS_PORT" del eddy:st:alerts > /dev/null
  stop_pid "$REDIS_PID"
}

for_each_broker scenario
log "test_state_run: ok"
