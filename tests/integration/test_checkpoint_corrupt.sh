#!/usr/bin/env bash
# test_checkpoint_corrupt.sh: a checkpoint that does not verify is refused,
# naming its key, and the stream goes on; against `eddy broker` and Apache
# Kafka with a real redis-server. A run over the first half of the records
# stops (final checkpoints); one byte in the middle of partition 2's model
# bytes is changed in Redis; `eddy models` reports that checkpoint as
# refused with its key (exit 1). The restarted run restores partitions 0, 1
# and 3, logs that eddy:cc:ckpt:2 is refused (the CRC does not match) and
# that partition 2 starts from the group's committed offset with a fresh
# model, keeps the bad checkpoint aside as eddy:cc:ckpt:2:refused, and goes
# on: every record has a prediction and, at the end, `eddy models` lists
# four good checkpoints whose next offsets add up to every record. A second
# pipeline of the file, `cn`, keeps its models in Redis without aggregates
# (records handled one by one, no entity batches): its checkpoints, left
# alone, are all restored and it predicts every record too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=3000
HALF=$((N / 2))
E=40

FLIP='local m = redis.call("HGET", KEYS[1], "model")
local i = math.floor(#m / 2)
local b = string.byte(m, i)
redis.call("HSET", KEYS[1], "model", string.sub(m, 1, i - 1) .. string.char((b + 1) % 256) .. string.sub(m, i + 1))
return i'

scenario() {
  start_redis
  create_topic in 4
  create_topic cc.predictions 2
  create_topic cc.dlq 1
  create_topic cc.alerts 1
  create_topic cn.predictions 2
  local port cfg=$EDDY_TEST_TMP/cc.ini
  port=$(free_port)
  FEATURES_EXTRA="key = user" write_config "$cfg" cc in "[state]
store = $REDIS_URL
aggregates = count(*), mean(x1)
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port

[pipeline]
name = cn
[source]
topics = in
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10
[features]
numeric = x1, x2
nominal = c
target = y
id = id
[state]
store = $REDIS_URL
checkpoint_interval = 0.5
[model]
learner = hoeffding_tree
[sink]
predictions = cn.predictions"

  gen in $HALF --entities $E
  start_run "$cfg" "$EDDY_TEST_TMP/run1.log"
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="cc"' $HALF 60
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="cn"' $HALF 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
  "$EDDY_BIN" models -c "$cfg" > /dev/null || fail "eddy models before the damage"

  local at
  at=$(redis-cli -p "$REDIS_PORT" eval "$FLIP" 1 eddy:cc:ckpt:2)
  log "changed byte $at of the model in eddy:cc:ckpt:2"
  local rc=0 out
  out=$("$EDDY_BIN" models -c "$cfg" 2>&1) || rc=$?
  log "eddy models:"$'\n'"$out"
  assert_eq 1 "$rc" "eddy models' exit status with a damaged checkpoint"
  grep -qE "^eddy models: checkpoint eddy:cc:ckpt:2 refused: .*CRC" <<< "$out" || fail "eddy models: $out"
  grep -qE "^cc +2 REFUSED" <<< "$out" || fail "eddy models' table: $out"
  assert_eq 4 "$(grep -cE '^cn +[0-3] hoeffding_tree ' <<< "$out")" "cn's checkpoints"

  gen in $HALF --start $HALF --entities $E
  start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
  out=$(check --in in --pred cc.predictions --dlq cc.dlq --pipeline cc --with-id --timeout 90)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
  wait_metric "$port" eddy_records_in_total 'pipeline="cc"' $HALF 60
  out=$(check --in in --pred cn.predictions --pipeline cn --with-id --timeout 90)
  log "check cn: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "cn: $out"
  wait_metric "$port" eddy_records_in_total 'pipeline="cn"' $HALF 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
  local logf=$EDDY_TEST_TMP/run2.log
  grep -E "checkpoint eddy:cc:ckpt:2 refused: .*CRC.*; in \[2\] starts from the group's committed offset with a fresh model" \
    "$logf" >&2 || fail "no refusal naming the key in the log"
  grep -q "the refused checkpoint is kept as eddy:cc:ckpt:2:refused" "$logf" || fail "the bad checkpoint was not set aside"
  assert_eq 3 "$(grep -c 'model restored from eddy:cc:ckpt:[013] ' "$logf")" "good checkpoints restored"
  grep -q "model restored from eddy:cc:ckpt:2 " "$logf" && fail "the damaged checkpoint was restored"
  assert_eq 4 "$(grep -c 'model restored from eddy:cn:ckpt:[0-3] (hoeffding_tree' "$logf")" "cn's checkpoints restored"
  assert_eq 1 "$(redis-cli -p "$REDIS_PORT" exists eddy:cc:ckpt:2:refused)" "the refused checkpoint kept aside"
  out=$("$EDDY_BIN" models -c "$cfg" --pipeline cc --json) || fail "eddy models after the run: $out"
  "$PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert sorted(r["partition"] for r in rows) == [0, 1, 2, 3], rows
assert sum(r["next_offset"] for r in rows) == int(sys.argv[2]), rows
' "$out" $N || fail "eddy models after the run: $out"
  stop_pid "$REDIS_PID"
}

for_each_broker scenario
log "test_checkpoint_corrupt: ok"
