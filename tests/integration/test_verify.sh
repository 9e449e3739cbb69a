#!/usr/bin/env bash
# test_verify.sh: `eddy verify` against `eddy broker` and a real
# redis-server. Pipeline `v` (naive Bayes over x1, x2, c and four
# aggregates of 40 entities from Redis, ADWIN with reset, checkpoints every
# 0.5 s) runs over N records of which every 50th is malformed (rotating
# through stream_check.py's kinds), the labels flipping half way; SIGTERM
# writes the final checkpoints. Then:
#   - the clean run verifies: exit 0, records_in = N, predictions = N - N/50,
#     dlq = N/50, no duplicates, nothing lost, 4 models checked and equal
#     (each recomputed from offset 0 through the record path), and the
#     independent Python checker agrees on the counts; --expect-dlq with
#     the wrong count is a violation; the same for Avro predictions;
#   - violations, each caught with exit 1 and named: a prediction written by
#     hand naming an offset beyond a partition's high watermark (stray); the
#     model bytes of one checkpoint replaced by another partition's (valid
#     CRC: the bytes of a real checkpoint); records added to one partition
#     after the pipeline stopped (no prediction);
#   - a Redis that cannot be reached is exit 2;
#   - exactly once: pipeline `d` is killed with SIGKILL half way (no commit
#     and no checkpoint yet: the restart predicts again from offset 0), then
#     finishes: without --exactly-once it verifies (duplicates > 0, lost 0,
#     and its final models equal the recomputed ones); with --exactly-once
#     it is a violation naming a duplicated offset.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=4000
BAD=$((N / 50))
E=40

# One field of `eddy verify --json`'s object (stdout) for a config.
jfield() { "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# Runs eddy verify ARGS; sets VOUT (the JSON), VERR (the report) and VRC.
verify() {
  set +e
  VOUT=$("$EDDY_BIN" verify "$@" --json 2> "$EDDY_TEST_TMP/verify.err")
  VRC=$?
  set -e
  VERR=$(cat "$EDDY_TEST_TMP/verify.err")
  log "eddy verify $* -> exit $VRC"$'\n'"$VERR"$'\n'"$VOUT"
}

# The high watermark of TOPIC [PARTITION] (confluent-kafka: another client).
high_watermark() { "$PYTHON" - "$BOOTSTRAP" "$1" "$2" <<'EOF'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "hw"})
print(c.get_watermark_offsets(TopicPartition(sys.argv[2], int(sys.argv[3])), timeout=10)[1])
c.close()
EOF
}

scenario() {
  start_redis
  create_topic in 4
  create_topic v.predictions 2
  create_topic v.dlq 1
  create_topic v.alerts 1
  local port cfg=$EDDY_TEST_TMP/v.ini
  port=$(free_port)
  FEATURES_EXTRA="key = user" write_config "$cfg" v in "[state]
store = $REDIS_URL
aggregates = count(*), mean(x1), max(x2), since_last()
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
  sed -i 's/^detector = adwin$/detector = adwin\naction = reset/' "$cfg"

  gen in $N --entities $E --bad-every 50 --flip-at $((N / 2))
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  wait_metric "$port" eddy_predictions_delivered_total 'pipeline="v"' $((N - BAD)) 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"

  # The clean run.
  verify -c "$cfg"
  assert_eq 0 "$VRC" "eddy verify exit status on the clean run"
  assert_eq "$N $((N - BAD)) $((N - BAD)) 0 0 $BAD 0 4 4 0 None" \
    "$(for f in records_in decoded predictions duplicates lost dlq dlq_duplicates models_checked models_equal stray violation; do jfield "$VOUT" $f; done | xargs)" \
    "records_in decoded predictions duplicates lost dlq dlq_duplicates models_checked models_equal stray violation"
  [ "$(jfield "$VOUT" alerts)" -gt 0 ] || fail "no drift alert was verified: $VOUT"
  grep -q "^verify: predictions: $((N - BAD)) offsets over 4 partitions, $((N - BAD)) with a prediction, 0 duplicates, 0 missing" <<< "$VERR" ||
    fail "the predictions line: $VERR"
  local out
  out=$(check --in in --pred v.predictions --dlq v.dlq --pipeline v --timeout 60)
  log "stream_check: $out"
  grep -q "^inputs $N predicted $((N - BAD)) dead-lettered $BAD duplicates 0 " <<< "$out" || fail "$out"
  verify -c "$cfg" --expect-dlq $BAD
  assert_eq 0 "$VRC" "--expect-dlq $BAD"
  verify -c "$cfg" --expect-dlq $((BAD + 1))
  assert_eq 1 "$VRC" "--expect-dlq $((BAD + 1))"
  grep -q "VIOLATION: the dead-letter topic holds $BAD distinct records, $((BAD + 1)) expected" <<< "$VERR" || fail "$VERR"

  # The same config with processing.guarantee = exactly_once: outputs read
  # read_committed (the same records here: nothing was transactional), the
  # replay the same.
  sed 's/^name = v$/name = v\nprocessing.guarantee = exactly_once/' "$cfg" > "$EDDY_TEST_TMP/eos.ini"
  grep -q '^processing.guarantee = exactly_once$' "$EDDY_TEST_TMP/eos.ini" || fail "eos.ini"
  verify -c "$EDDY_TEST_TMP/eos.ini" --exactly-once
  assert_eq 0 "$VRC" "eddy verify exit status of the exactly_once config"
  assert_eq "$N $((N - BAD)) 0 0 $BAD 4 4" \
    "$(for f in records_in predictions duplicates lost dlq models_checked models_equal; do jfield "$VOUT" $f; done | xargs)" \
    "exactly_once config: records_in predictions duplicates lost dlq models_checked models_equal"

  # Avro predictions (Confluent framing, schema id 9) of the same input, by
  # pipeline va (memory store: no checkpoints).
  create_topic va.predictions 2
  create_topic va.dlq 1
  create_topic va.alerts 1
  local vaport va=$EDDY_TEST_TMP/va.ini
  vaport=$(free_port)
  SINK_EXTRA=$'format = avro\noutput_schema_id = 9' write_config "$va" va in "[http]
listen = 127.0.0.1:$vaport"
  start_run "$va" "$EDDY_TEST_TMP/va.log"
  wait_metric "$vaport" eddy_predictions_delivered_total 'pipeline="va"' $((N - BAD)) 60
  stop_run TERM
  verify -c "$va" --exactly-once --expect-dlq $BAD
  assert_eq 0 "$VRC" "eddy verify exit status with Avro predictions"
  assert_eq "$N $((N - BAD)) 0 0 $BAD 0" \
    "$(for f in records_in predictions duplicates lost dlq models_checked; do jfield "$VOUT" $f; done | xargs)" \
    "Avro predictions: records_in predictions duplicates lost dlq models_checked"

  # A stray prediction: the same outputs plus one naming in [0] beyond its end.
  create_topic s.predictions 2
  local hi0 copy=$EDDY_TEST_TMP/s.ini
  hi0=$(high_watermark in 0)
  consume v.predictions $((N - BAD)) | produce s.predictions
  # (its keys in another order than eddy's: read by the general JSON path)
  echo "{\"prediction\":\"1\",\"probabilities\":{},\"pipeline\":\"v\",\"topic\":\"in\",\"partition\":0,\"offset\":$((hi0 + 5)),\"model_version\":1,\"time\":0}" |
    produce s.predictions
  sed 's/^predictions = v.predictions$/predictions = s.predictions/' "$cfg" > "$copy"
  verify -c "$copy"
  assert_eq 1 "$VRC" "eddy verify exit status with a stray prediction"
  assert_eq "1 0 0" "$(jfield "$VOUT" stray) $(jfield "$VOUT" lost) $(jfield "$VOUT" duplicates)" "stray lost duplicates"
  grep -q "VIOLATION: a prediction names in:0@$((hi0 + 5)), beyond the high watermark $hi0" <<< "$VERR" || fail "$VERR"

  # Partition 1's checkpoint holding partition 0's model (a valid checkpoint
  # of another partition).
  local r="redis-cli -p $REDIS_PORT"
  $r COPY eddy:v:ckpt:1 saved:ckpt:1 > /dev/null
  $r EVAL "redis.call('HSET', KEYS[2], 'model', redis.call('HGET', KEYS[1], 'model'), 'bytes', redis.call('HGET', KEYS[1], 'bytes')) return 1" \
    2 eddy:v:ckpt:0 eddy:v:ckpt:1 > /dev/null
  verify -c "$cfg"
  assert_eq 1 "$VRC" "eddy verify exit status with a swapped model"
  assert_eq "4 3 0" "$(jfield "$VOUT" models_checked) $(jfield "$VOUT" models_equal) $(jfield "$VOUT" lost)" \
    "models checked, equal, lost"
  grep -q "VIOLATION: checkpoint eddy:v:ckpt:1 (next offset [0-9]*) holds a model .* differs from the one recomputed from in \[1\]" <<< "$VERR" ||
    fail "$VERR"
  $r COPY saved:ckpt:1 eddy:v:ckpt:1 REPLACE > /dev/null
  verify -c "$cfg"
  assert_eq 0 "$VRC" "eddy verify exit status with the checkpoint put back"

  # Redis away: exit 2.
  sed "s|^store = .*|store = redis://127.0.0.1:$(free_port)/0|" "$cfg" > "$EDDY_TEST_TMP/noredis.ini"
  verify -c "$EDDY_TEST_TMP/noredis.ini" --timeout 2
  assert_eq 2 "$VRC" "eddy verify exit status without Redis"
  grep -q "Redis" <<< "$VERR" || fail "$VERR"

  # Records that came after the pipeline stopped: partition 2 has no
  # prediction for them (its checkpoint, before them, still verifies).
  printf '{"id":"late%d","x1":1,"x2":2,"c":"a","y":"1","user":"late"}\n' 1 2 3 | produce in -p 2
  verify -c "$cfg"
  assert_eq 1 "$VRC" "eddy verify exit status with a partition not consumed to its end"
  assert_eq "$((N + 3)) 3 4 4" \
    "$(jfield "$VOUT" records_in) $(jfield "$VOUT" lost) $(jfield "$VOUT" models_checked) $(jfield "$VOUT" models_equal)" \
    "records_in lost models_checked models_equal"
  grep -q "VIOLATION: in:2@[0-9]* has no prediction" <<< "$VERR" || fail "$VERR"

  # Exactly once: duplicates after a kill -9 in at-least-once mode.
  create_topic din 4
  create_topic d.predictions 2
  create_topic d.dlq 1
  create_topic d.alerts 1
  local dport dcfg=$EDDY_TEST_TMP/d.ini
  dport=$(free_port)
  SOURCE_EXTRA="commit_interval_ms = 3600000" FEATURES_EXTRA="key = user" write_config "$dcfg" d din "[state]
store = $REDIS_URL
aggregates = count(*), mean(x1)
checkpoint_interval = 3600

[http]
listen = 127.0.0.1:$dport"
  gen din $N --entities $E --rate 500 &
  local gen_pid=$!
  start_run "$dcfg" "$EDDY_TEST_TMP/d1.log"
  wait_for 60 "records consumed" records_over "$dport" d $((N / 4))
  stop_run KILL
  local killed_at
  sleep 1 # a produce request the broker had when the process died is written first
  killed_at=$(grep -c . <<< "$(consume d.predictions 100000 -e 2>/dev/null)" || true)
  log "killed after $killed_at predictions"
  start_run "$dcfg" "$EDDY_TEST_TMP/d2.log"
  wait "$gen_pid" || fail "the producer failed"
  wait_metric "$dport" eddy_records_in_total 'pipeline="d"' $N 60
  wait_metric "$dport" eddy_predictions_delivered_total 'pipeline="d"' $N 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the restarted run"
  verify -c "$dcfg"
  assert_eq 0 "$VRC" "eddy verify (at least once) after kill -9"
  local dups
  dups=$(jfield "$VOUT" duplicates)
  # Nothing was committed or checkpointed before the kill: every prediction
  # made then is made again.
  assert_eq "$killed_at" "$dups" "duplicates after kill -9 and a restart from offset 0"
  [ "$dups" -lt $N ] || fail "the kill came after the end of the stream: $VOUT"
  assert_eq "$N $N 0 4 4" \
    "$(jfield "$VOUT" records_in) $(jfield "$VOUT" predictions) $(jfield "$VOUT" lost) $(jfield "$VOUT" models_checked) $(jfield "$VOUT" models_equal)" \
    "records_in predictions lost models_checked models_equal after kill -9"
  verify -c "$dcfg" --exactly-once
  assert_eq 1 "$VRC" "eddy verify --exactly-once after kill -9"
  assert_eq "$dups" "$(jfield "$VOUT" duplicates)" "duplicates with --exactly-once"
  grep -q "VIOLATION: din:[0-3]@[0-9]* has more than one prediction (exactly once)" <<< "$VERR" || fail "$VERR"
  stop_pid "$REDIS_PID"
}

EDDY_TEST_BROKERS=eddy for_each_broker scenario
log "test_verify: ok"
