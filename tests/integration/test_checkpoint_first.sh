#!/usr/bin/env bash
# test_checkpoint_first.sh: kill -9 before a partition's first checkpoint,
# at least once, against `eddy broker` and Apache Kafka, with a real
# redis-server. Pipeline `cf` (naive Bayes, ADWIN with reset, checkpoints
# every hour: none before the kill) handles all N records, its predictions
# delivered, then is killed with SIGKILL: no checkpoint is in Redis and no
# offset may be committed (a restart finding no checkpoint starts a fresh
# model at the group's committed offset, and the model would never learn
# the records before it: the fault suite's ckpt_steps once caught a
# checkpoint 249 records short of its offset that way). The restart
# (checkpoints every 0.5 s) predicts everything again from offset 0, N
# more records are produced, and SIGTERM writes the final checkpoints:
# `eddy verify` finds the 4 models equal to the ones recomputed from
# offset 0, 2N records, N duplicates and none lost.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=2000

jfield() { "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
checkpoints() { "$EDDY_BIN" models -c "$1" --json | grep -c '"sha256"' || true; }
committed_sum() {
  curl -sf "http://127.0.0.1:$1/metrics" |
    awk 'index($1, "eddy_committed_offset{pipeline=\"cf\"") == 1 { s += $2 } END { print s + 0 }'
}

scenario() {
  start_redis --appendonly yes --appendfsync always
  create_topic in 4
  create_topic cf.predictions 2
  create_topic cf.dlq 1
  create_topic cf.alerts 1
  local port cfg=$EDDY_TEST_TMP/cf.ini
  port=$(free_port)
  write_config "$cfg" cf in "[state]
store = $REDIS_URL
checkpoint_interval = 3600

[http]
listen = 127.0.0.1:$port"
  sed -i 's/^detector = adwin$/detector = adwin\naction = reset/' "$cfg"

  gen in $N --entities 64 --flip-at $((N / 2))
  start_run "$cfg" "$EDDY_TEST_TMP/run1.log"
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="cf"' $N 60
  # Ten commit intervals (100 ms): time enough for a commit to be sent
  # and answered, were one allowed.
  sleep 1
  local committed
  committed=$(committed_sum "$port")
  stop_run KILL
  assert_eq 0 "$(checkpoints "$cfg")" "checkpoints in Redis before the kill"
  assert_eq 0 "$committed" "offsets committed without a checkpoint (sum over the partitions)"

  sed -i 's/^checkpoint_interval = 3600$/checkpoint_interval = 0.5/' "$cfg"
  start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
  gen in $N --entities 64 --start $N
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="cf"' $((2 * N)) 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  assert_eq 4 "$(grep -c 'no checkpoint (eddy:cf:ckpt:[0-3])' "$EDDY_TEST_TMP/run2.log")" \
    "partitions of the restart without a checkpoint"

  set +e
  local vout vrc
  vout=$("$EDDY_BIN" verify -c "$cfg" --json 2> "$EDDY_TEST_TMP/verify.err")
  vrc=$?
  set -e
  log "eddy verify -> exit $vrc"$'\n'"$(cat "$EDDY_TEST_TMP/verify.err")"$'\n'"$vout"
  assert_eq 0 "$vrc" "eddy verify exit status"
  assert_eq "$((2 * N)) $((2 * N)) $N 0 4 4" \
    "$(for f in records_in predictions duplicates lost models_checked models_equal; do jfield "$vout" $f; done | xargs)" \
    "records_in predictions duplicates lost models_checked models_equal"
  stop_pid "$REDIS_PID"
}

for_each_broker scenario
log "test_checkpoint_first: ok"
