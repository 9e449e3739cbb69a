#!/usr/bin/env bash
# test_checkpoint_kill.sh: kill -9 in the middle of a stream loses nothing
# and learns nothing twice, against `eddy broker` and Apache Kafka, with a
# real redis-server (AOF, fsync always).
#
# Records of 64 entities stream in at a fixed rate (labels flip half way:
# ADWIN's drift resets the model, so the model version and the detector's
# state are part of what is compared). Pipeline `ck` (naive Bayes over
# x1, x2, c and eight aggregates from Redis, checkpoints every 0.5 s) is
# killed with SIGKILL once every partition has a checkpoint and before the
# stream ends, then restarted: each partition restores its model and
# offset from Redis and replays from there. When every record has a
# prediction (duplicates allowed, none missing), SIGTERM writes the final
# checkpoints. A second pipeline, `ck` too but with its own group and key
# prefix, then reads the same topic from start to end without
# interruption. `eddy models` must give, for every partition, the same
# next offset (the end of the partition) and the same SHA-256 of the model
# bytes for both.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=8000
RATE=1000
E=64

four_checkpoints() { [ "$(models "$1" | wc -l)" -eq 4 ]; }

scenario() {
  start_redis --appendonly yes --appendfsync always
  create_topic in 4
  create_topic ck.predictions 2
  create_topic ref.predictions 2
  create_topic ck.dlq 1
  create_topic ck.alerts 1
  local port cfg=$EDDY_TEST_TMP/ck.ini ref=$EDDY_TEST_TMP/ref.ini
  port=$(free_port)
  FEATURES_EXTRA="key = user" write_config "$cfg" ck in "[state]
store = $REDIS_URL
aggregates = count(*), sum(x1), mean(x1), min(x2), max(x2), ewma(x1, 0.5), last(x1), since_last()
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
  sed -i 's/^detector = adwin$/detector = adwin\naction = reset/' "$cfg"
  # The uninterrupted reference: the same pipeline in another group and
  # under another key prefix.
  sed -e 's/^predictions = ck.predictions$/predictions = ref.predictions/' \
      -e 's/^session.timeout.ms = 6000$/session.timeout.ms = 6000\ngroup.id = ref/' \
      -e 's/^checkpoint_interval = 0.5$/checkpoint_interval = 0.5\nkey_prefix = ref/' \
      -e '/^\[http\]$/,$d' "$cfg" > "$ref"
  grep -q '^group.id = ref$' "$ref" && grep -q '^key_prefix = ref$' "$ref" && grep -q '^action = reset$' "$ref" ||
    fail "configs: $(cat "$ref")"

  gen in $N --rate $RATE --entities $E --flip-at $((N / 2)) &
  local gen_pid=$!
  start_run "$cfg" "$EDDY_TEST_TMP/run1.log"
  wait_for 60 "a checkpoint of every partition" four_checkpoints "$cfg"
  wait_for 60 "records consumed" records_over "$port" ck $((N / 4))
  local before
  before=$(models "$cfg")
  stop_run KILL
  log "killed with SIGKILL; checkpoints then (partition, next offset, sha256):"$'\n'"$before"
  start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
  wait "$gen_pid" || fail "the producer failed"
  local out
  out=$(check --in in --pred ck.predictions --dlq ck.dlq --pipeline ck --with-id --timeout 120)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  # The restarted run restored every partition, at offsets before the end.
  local restored
  restored=$(grep -oE 'model restored from eddy:ck:ckpt:[0-3] .*consuming from offset [0-9]+' "$EDDY_TEST_TMP/run2.log" |
             sed -E 's/.*ckpt:([0-3]) .*offset ([0-9]+)/\1 \2/' | sort -n)
  log "restored (partition, offset):"$'\n'"$restored"
  assert_eq 4 "$(wc -l <<< "$restored")" "partitions restored after the kill"
  local killed
  killed=$(models "$cfg")

  start_run "$ref" "$EDDY_TEST_TMP/ref.log"
  out=$(check --in in --pred ref.predictions --dlq ck.dlq --pipeline ck --with-id --timeout 120)
  log "reference check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 duplicates 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the reference run"
  grep -q "model restored" "$EDDY_TEST_TMP/ref.log" && fail "the reference run restored a checkpoint"
  local want
  want=$(models "$ref")
  log "after the kill and restart:"$'\n'"$killed"
  log "uninterrupted:"$'\n'"$want"
  assert_eq "$want" "$killed" "checkpoints (partition, next offset, SHA-256) of the killed run vs the uninterrupted one"
  # Each partition's next offset is its end, and drift reset the models.
  local ends
  ends=$(awk '{ s += $2 } END { print s }' <<< "$killed")
  assert_eq $N "$ends" "sum of the final next offsets"
  grep -q '"action":"reset"' <<< "$("$EDDY_BIN" alerts -c "$cfg" --json)" || fail "no drift reset in the alerts"
  stop_pid "$REDIS_PID"
}

for_each_broker scenario
log "test_checkpoint_kill: ok"
