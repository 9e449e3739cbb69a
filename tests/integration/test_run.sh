#!/usr/bin/env bash
# test_run.sh: `eddy run` end to end, against `eddy broker` and Apache
# Kafka: records produced before it starts each get exactly one prediction
# (checked by Python's confluent-kafka and counted by kcat), with the
# record's key, id and label; /metrics and /healthz agree; SIGTERM exits 0
# within 10 s having committed, so that a restart (here subscribing by
# regex) predicts only the records that came after, each once. A second
# pipeline of the same file, a regression on the same topic (its own
# group), predicts every record too, with a numeric prediction and label.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=3000
MORE=500

scenario() {
  create_topic in 4
  create_topic basic.predictions 2
  create_topic basic.dlq 1
  create_topic basic.alerts 1
  create_topic reg.predictions 1
  # Half the records carry their label (learned), half do not (predicted only).
  gen in $N --label-every 2

  local port cfg=$EDDY_TEST_TMP/basic.ini logf=$EDDY_TEST_TMP/run1.log
  port=$(free_port)
  write_config "$cfg" basic in "[http]
listen = 127.0.0.1:$port

[pipeline]
name = reg
task = regression
[source]
topics = in
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10
[features]
numeric = x1
nominal = c
target = x2
[model]
learner = hoeffding_tree_regressor
[sink]
predictions = reg.predictions"
  start_run "$cfg" "$logf"
  local out
  out=$(check --in in --pred basic.predictions --dlq basic.dlq --pipeline basic --exactly-once --with-id)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 duplicates 0 labelled $((N / 2)) " <<< "$out" ||
    fail "unexpected summary: $out"

  # The regression: a number predicted for every record, its label x2.
  CONSUME_FORMAT='%s\n' consume reg.predictions $N | "$PYTHON" -c '
import json, sys
seen = set()
for line in sys.stdin:
    p = json.loads(line)
    assert p["pipeline"] == "reg" and isinstance(p["prediction"], (int, float)), p
    assert isinstance(p["label"], (int, float)) and "probabilities" not in p, p
    seen.add((p["partition"], p["offset"]))
assert len(seen) == '$N', len(seen)
' || fail "regression predictions"
  log "regression: $N numeric predictions"

  # kcat reads the same predictions.
  assert_eq $N "$(CONSUME_FORMAT='%s\n' consume basic.predictions $N | grep -c '"pipeline":"basic"')" \
    "predictions read by kcat"

  # The metrics say the same. Counters may lag the check by a poll: wait.
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="basic"' $N
  assert_eq $N "$(metric "$port" eddy_records_in_total 'pipeline="basic"')" "eddy_records_in_total"
  assert_eq $((N / 2)) "$(metric "$port" eddy_learn_total 'pipeline="basic"')" "eddy_learn_total"
  assert_eq 0 "$(metric "$port" eddy_dead_lettered_total 'pipeline="basic"')" "eddy_dead_lettered_total"
  local parts
  parts=$(curl -sf "http://127.0.0.1:$port/metrics" | grep -c '^eddy_accuracy_windowed{pipeline="basic",topic="in",partition="[0-3]"} 0\.[0-9]')
  assert_eq 4 "$parts" "partitions with a windowed accuracy in /metrics"
  local health
  health=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/healthz")
  grep -q '^{"status":"ok","pipelines":{"basic":{"state":"running","partitions":4,' <<< "$health" ||
    fail "/healthz: $health"
  grep -q ' 200$' <<< "$health" || fail "/healthz status: $health"
  assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nothing")" "/nothing"

  # SIGTERM: exit 0 within 10 s, everything committed.
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  [ "$RUN_SECONDS" -lt 10 ] || fail "SIGTERM took ${RUN_SECONDS}s"
  grep -q "pipeline basic: stopped after $N records" "$logf" || fail "no 'stopped after $N records' line"

  # A restart resumes from the committed offsets: only the new records.
  gen in $MORE --start $N
  sed -i 's/^topics = in$/topics = ^i[n]$/' "$cfg"
  start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
  out=$(check --in in --pred basic.predictions --dlq basic.dlq --pipeline basic --exactly-once --with-id)
  log "check after the restart: $out"
  grep -q "^inputs $((N + MORE)) predicted $((N + MORE)) dead-lettered 0 duplicates 0 " <<< "$out" ||
    fail "after the restart: $out"
  wait_metric "$port" eddy_records_in_total 'pipeline="basic"' $MORE
  stop_run INT
  assert_eq 0 "$RUN_RC" "exit status after SIGINT"
}

for_each_broker scenario
log "test_run: ok"
