#!/usr/bin/env bash
# test_state_group.sh: models move between processes through their Redis
# checkpoints, against `eddy broker` and Apache Kafka. Process A holds all
# four partitions and learns a third of the records; process B joins:
# A's partitions are revoked (A writes their checkpoints, and gives them
# up only once Redis has answered), and the two share them, B restoring
# its partitions' models and offsets from A's checkpoints; they learn the
# second third. Then A stops (SIGTERM): B takes A's partitions the same
# way and learns the last third. Every record has a
# prediction, and the final models (`eddy models`, SHA-256 per partition)
# equal those of one uninterrupted run over the same records: nothing was
# learned twice or skipped however the partitions moved. No timer
# checkpoint is taken (checkpoint_interval = 3600): the models move by the
# checkpoints of revocations and shutdowns alone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=6000
E=64

parts_of() { curl -sf "http://127.0.0.1:$1/healthz" | sed -n 's/.*"partitions":\([0-9]*\).*/\1/p'; }
split_is() {
  local a b
  a=$(parts_of "$1") b=$(parts_of "$2")
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ $((a + b)) -eq 4 ]
}
holds() { [ "$(parts_of "$1")" = "$2" ]; }

scenario() {
  start_redis --appendonly yes --appendfsync always
  create_topic in 4
  create_topic sg.predictions 2
  create_topic ref.predictions 2
  create_topic sg.dlq 1
  create_topic sg.alerts 1
  local pa pb
  pa=$(free_port)
  pb=$(free_port)
  local state="[state]
store = $REDIS_URL
aggregates = count(*), mean(x1), ewma(x2, 0.3), since_last()
checkpoint_interval = 3600
"
  FEATURES_EXTRA="key = user" write_config "$EDDY_TEST_TMP/a.ini" sg in "$state
[http]
listen = 127.0.0.1:$pa"
  FEATURES_EXTRA="key = user" write_config "$EDDY_TEST_TMP/b.ini" sg in "$state
[http]
listen = 127.0.0.1:$pb"
  sed -e 's/^predictions = sg.predictions$/predictions = ref.predictions/' \
      -e 's/^session.timeout.ms = 6000$/session.timeout.ms = 6000\ngroup.id = ref/' \
      -e 's/^checkpoint_interval = 3600$/checkpoint_interval = 3600\nkey_prefix = ref/' \
      -e '/^\[http\]$/,$d' "$EDDY_TEST_TMP/a.ini" > "$EDDY_TEST_TMP/ref.ini"

  # A third of the records for A alone, a third for A and B, a third for B.
  local third=$((N / 3)) out
  gen in $third --entities $E --flip-at $((N / 2))
  start_run "$EDDY_TEST_TMP/a.ini" "$EDDY_TEST_TMP/a.log"
  local a=$RUN_PID
  wait_metric "$pa" eddy_records_in_total 'pipeline="sg"' $third 60
  start_run "$EDDY_TEST_TMP/b.ini" "$EDDY_TEST_TMP/b.log"
  local b=$RUN_PID
  wait_for 60 "A and B to share the partitions" split_is "$pa" "$pb"
  log "split: A $(parts_of "$pa"), B $(parts_of "$pb")"
  grep -q "checkpoints of the revoked partitions written" "$EDDY_TEST_TMP/a.log" ||
    fail "A gave its partitions up without waiting for their checkpoints"
  gen in $third --start $third --entities $E --flip-at $((N / 2))
  out=$(check --in in --pred sg.predictions --dlq sg.dlq --pipeline sg --with-id --timeout 120)
  log "check with A and B: $out"
  RUN_PID=$a
  stop_run TERM
  assert_eq 0 "$RUN_RC" "A's exit status"
  wait_for 60 "B to hold the four partitions" holds "$pb" 4
  gen in $((N - 2 * third)) --start $((2 * third)) --entities $E --flip-at $((N / 2))
  RUN_PID=$b
  out=$(check --in in --pred sg.predictions --dlq sg.dlq --pipeline sg --with-id --timeout 120)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "B's exit status"
  local moved
  moved=$(grep -c "model restored from eddy:sg:ckpt:" "$EDDY_TEST_TMP/b.log")
  log "B restored $moved models from checkpoints"
  [ "$moved" -ge 4 ] || fail "B restored $moved models (its share from A, then A's share)"
  local got
  got=$(models "$EDDY_TEST_TMP/a.ini")

  start_run "$EDDY_TEST_TMP/ref.ini" "$EDDY_TEST_TMP/ref.log"
  out=$(check --in in --pred ref.predictions --dlq sg.dlq --pipeline sg --with-id --timeout 120)
  grep -q "^inputs $N predicted $N dead-lettered 0 duplicates 0 " <<< "$out" || fail "reference: $out"
  stop_run TERM
  local want
  want=$(models "$EDDY_TEST_TMP/ref.ini")
  log "moved between A and B:"$'\n'"$got"
  log "uninterrupted:"$'\n'"$want"
  assert_eq "$want" "$got" "checkpoints (partition, next offset, SHA-256) after the moves vs an uninterrupted run"
  stop_pid "$REDIS_PID"
}

for_each_broker scenario
log "test_state_group: ok"
