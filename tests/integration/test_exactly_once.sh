#!/usr/bin/env bash
# test_exactly_once.sh: processing.guarantee = exactly_once on Apache Kafka
# with a real redis-server (AOF, fsync always): eddy run killed with
# SIGKILL at random moments, restarted each time, leaves exactly one
# prediction per input offset and exactly one dead letter per bad record
# (read_committed), and final models byte-identical to an uninterrupted
# run's.
#
# N records of 64 entities (one in 97 undecodable, labels flipping half way
# so that ADWIN's drift resets the model) stream in at a fixed rate.
# Pipeline `ck` (naive Bayes over x1, x2, c and eight aggregates from
# Redis, checkpoints every 0.5 s, transactions every 100 ms) is killed with
# SIGKILL KILLS times, each a random 0.3-3 s after it was assigned its
# partitions, and started again at once: each restart fences the killed
# instance's transactional.id, restores each partition's checkpoint, reads
# the group's committed offset, learns the records in between again
# without outputs, and goes on. Besides, every 13th transaction is aborted
# instead of committed (EDDY_FAULT_ABORT_EVERY): each abort rewinds every
# partition to its checkpoint and replays the same way, in the process.
# When the stream is over, stream_check.py check --exactly-once reads
# the outputs read_committed: one prediction per good record, one dead
# letter per bad one, no duplicate. SIGTERM writes the final checkpoints.
# The same pipeline in another group, under another key prefix and
# transactional.id, then reads the topic without interruption: `eddy
# models` must give the same (partition, next offset, SHA-256) for both.
#
# Against `eddy broker` (librdkafka's mock cluster, whose transactions keep
# no offsets and let read_committed consumers see aborted records),
# exactly_once is refused at start with a message that says so.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=${EOS_RECORDS:-20000}
RATE=${EOS_RATE:-800}
KILLS=${EOS_KILLS:-3}
ABORT_EVERY=${EOS_ABORT_EVERY:-13}
E=64
BAD=97

refused_on_mock() {
  create_topic in 4
  local cfg=$EDDY_TEST_TMP/mock.ini
  write_config "$cfg" ck in
  sed -i 's/^window = 200$/window = 200\nprocessing.guarantee = exactly_once/' "$cfg"
  start_run "$cfg" "$EDDY_TEST_TMP/mock.log"
  local i
  for i in $(seq 1 300); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$RUN_PID" 2>/dev/null && fail "eddy run with exactly_once still runs against eddy broker"
  set +e
  wait "$RUN_PID"
  RUN_RC=$?
  set -e
  log "eddy run against eddy broker exited $RUN_RC: $(grep -m1 'real Kafka' "$EDDY_TEST_TMP/mock.log" || true)"
  [ "$RUN_RC" -ne 0 ] || fail "exactly_once against eddy broker exited 0"
  grep -q "exactly_once needs a real Kafka broker: the cluster at bootstrap.servers is librdkafka's mock cluster" \
    "$EDDY_TEST_TMP/mock.log" || fail "no clear refusal: $(cat "$EDDY_TEST_TMP/mock.log")"
}

scenario() {
  if [ "$BROKER_KIND" = eddy ]; then
    refused_on_mock
    return
  fi
  start_redis --appendonly yes --appendfsync always
  create_topic in 4
  create_topic ck.predictions 2
  create_topic ref.predictions 2
  create_topic ck.dlq 1
  create_topic ref.dlq 1
  create_topic ck.alerts 1
  local port cfg=$EDDY_TEST_TMP/ck.ini ref=$EDDY_TEST_TMP/ref.ini
  port=$(free_port)
  FEATURES_EXTRA="key = user" write_config "$cfg" ck in "[state]
store = $REDIS_URL
aggregates = count(*), sum(x1), mean(x1), min(x2), max(x2), ewma(x1, 0.5), last(x1), since_last()
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
  sed -i -e 's/^detector = adwin$/detector = adwin\naction = reset/' \
         -e 's/^window = 200$/window = 200\nprocessing.guarantee = exactly_once/' "$cfg"
  sed -e 's/^predictions = ck.predictions$/predictions = ref.predictions/' \
      -e 's/^dead_letter = ck.dlq$/dead_letter = ref.dlq/' \
      -e 's/^session.timeout.ms = 6000$/session.timeout.ms = 6000\ngroup.id = ref\ntransactional.id = ref-instance/' \
      -e 's/^checkpoint_interval = 0.5$/checkpoint_interval = 0.5\nkey_prefix = ref/' \
      -e '/^\[http\]$/,$d' "$cfg" > "$ref"
  grep -q '^group.id = ref$' "$ref" && grep -q '^key_prefix = ref$' "$ref" &&
    grep -q '^processing.guarantee = exactly_once$' "$ref" && grep -q '^action = reset$' "$ref" ||
    fail "configs: $(cat "$ref")"

  gen in $N --rate $RATE --entities $E --flip-at $((N / 2)) --bad-every $BAD &
  local gen_pid=$! k delay
  # Besides the kills, every ABORT_EVERY-th transaction is aborted instead
  # of committed (fault injection): each abort rewinds every partition.
  export EDDY_FAULT_ABORT_EVERY=$ABORT_EVERY
  start_run "$cfg" "$EDDY_TEST_TMP/run0.log"
  for k in $(seq 1 "$KILLS"); do
    # A random moment while the instance consumes (a kill before its
    # assignment would test little): after it holds its partitions.
    wait_log "$EDDY_TEST_TMP/run$((k - 1)).log" "pipeline ck: assigned " 60
    delay=$("$PYTHON" -c 'import random; print(round(random.uniform(0.3, 3), 2))')
    sleep "$delay"
    kill -0 "$RUN_PID" 2>/dev/null || fail "eddy run exited by itself: $(tail -5 "$EDDY_TEST_TMP/run$((k - 1)).log")"
    stop_run KILL
    log "kill $k of $KILLS, ${delay}s after the assignment"
    start_run "$cfg" "$EDDY_TEST_TMP/run$k.log"
  done
  wait "$gen_pid" || fail "the producer failed"
  local out bad=$((N / BAD))
  out=$(check --in in --pred ck.predictions --dlq ck.dlq --pipeline ck --with-id --exactly-once --timeout 180)
  log "check: $out"
  grep -q "^inputs $N predicted $((N - bad)) dead-lettered $bad duplicates 0 " <<< "$out" || fail "$out"
  stop_run TERM
  unset EDDY_FAULT_ABORT_EVERY
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  local aborts rewound
  aborts=$(cat "$EDDY_TEST_TMP"/run*.log | grep -c 'exactly once: aborting the transaction' || true)
  rewound=$(cat "$EDDY_TEST_TMP"/run*.log | grep -c ': rewound: model from' || true)
  log "aborts injected: $aborts, partitions rewound: $rewound"
  [ "$ABORT_EVERY" = 0 ] || [ "$aborts" -ge 1 ] || fail "no transaction was aborted"
  [ "$rewound" -ge "$aborts" ] || fail "$aborts aborts rewound $rewound partitions"
  # Every restart went on from checkpoints and replayed without outputs.
  local restored replayed
  restored=$(cat "$EDDY_TEST_TMP"/run[1-9]*.log | grep -c 'model restored from eddy:ck:ckpt:' || true)
  replayed=$(cat "$EDDY_TEST_TMP"/run[1-9]*.log | grep -c 'learned again without outputs' || true)
  log "restarts: $restored partition restores, $replayed partitions replayed without outputs"
  [ "$restored" -ge 4 ] || fail "restarts restored $restored checkpoints"
  [ "$replayed" -ge 1 ] || fail "no restart replayed records without outputs"
  local killed
  killed=$(models "$cfg")

  start_run "$ref" "$EDDY_TEST_TMP/ref.log"
  out=$(check --in in --pred ref.predictions --dlq ref.dlq --pipeline ck --with-id --exactly-once --timeout 180)
  log "reference check: $out"
  grep -q "^inputs $N predicted $((N - bad)) dead-lettered $bad duplicates 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the reference run"
  grep -q "model restored" "$EDDY_TEST_TMP/ref.log" && fail "the reference run restored a checkpoint"
  local want
  want=$(models "$ref")
  log "after $KILLS kills and restarts:"$'\n'"$killed"
  log "uninterrupted:"$'\n'"$want"
  assert_eq "$want" "$killed" "checkpoints (partition, next offset, SHA-256) of the killed run vs the uninterrupted one"
  assert_eq $N "$(awk '{ s += $2 } END { print s }' <<< "$killed")" "sum of the final next offsets"
  grep -q '"action":"reset"' <<< "$("$EDDY_BIN" alerts -c "$cfg" --json)" || fail "no drift reset in the alerts"
  stop_pid "$REDIS_PID"
}

# Two instances in one group, each with its own transactional.id (through
# group.instance.id): A alone, then B joins (A's revocation commits its
# transaction and checkpoints before B reads them), then A is killed with
# SIGKILL and B takes every partition after the session timeout: it waits
# for A's open transaction (aborted by the broker after
# transaction.timeout.ms, 10 s here) before it reads the committed offsets,
# and goes on exactly once, with the models of an uninterrupted run.
two_instances() {
  [ "$BROKER_KIND" = kafka ] || return 0
  local n=${EOS_GROUP_RECORDS:-8000}
  start_redis --appendonly yes --appendfsync always
  create_topic in2 4
  create_topic g.predictions 2
  create_topic g.dlq 1
  create_topic gref.predictions 2
  create_topic gref.dlq 1
  local a=$EDDY_TEST_TMP/a.ini b=$EDDY_TEST_TMP/b.ini ref=$EDDY_TEST_TMP/gref.ini
  KAFKA_EXTRA="transaction.timeout.ms = 10000" FEATURES_EXTRA="key = user" write_config "$a" g in2 "[state]
store = $REDIS_URL
aggregates = count(*), mean(x1), ewma(x1, 0.5), since_last()
checkpoint_interval = 0.5"
  sed -i -e 's/^window = 200$/window = 200\nprocessing.guarantee = exactly_once/' "$a"
  sed -e 's/^transaction.timeout.ms = 10000$/transaction.timeout.ms = 10000\ngroup.instance.id = b/' "$a" > "$b"
  sed -i -e 's/^transaction.timeout.ms = 10000$/transaction.timeout.ms = 10000\ngroup.instance.id = a/' "$a"
  sed -e 's/^predictions = g.predictions$/predictions = gref.predictions/' \
      -e 's/^dead_letter = g.dlq$/dead_letter = gref.dlq/' \
      -e 's/^group.instance.id = a$/group.id = gref/' \
      -e 's/^checkpoint_interval = 0.5$/checkpoint_interval = 0.5\nkey_prefix = gref/' "$a" > "$ref"
  grep -q '^group.instance.id = b$' "$b" && grep -q '^group.instance.id = a$' "$a" && grep -q '^group.id = gref$' "$ref" ||
    fail "configs: $(cat "$a" "$b" "$ref")"
  gen in2 "$n" --rate 500 --entities 32 --bad-every $BAD &
  local gen_pid=$! a_pid b_pid
  start_run "$a" "$EDDY_TEST_TMP/a.log"
  a_pid=$RUN_PID
  wait_log "$EDDY_TEST_TMP/a.log" 'pipeline g: assigned in2\[0\] in2\[1\] in2\[2\] in2\[3\]' 60
  sleep 1
  start_run "$b" "$EDDY_TEST_TMP/b.log"
  b_pid=$RUN_PID
  wait_log "$EDDY_TEST_TMP/b.log" 'pipeline g: assigned in2' 60
  grep -q 'pipeline g: revoked' "$EDDY_TEST_TMP/a.log" || fail "a gave up no partition"
  sleep 1.5
  RUN_PID=$a_pid
  stop_run KILL
  log "instance a killed; b takes its partitions"
  RUN_PID=$b_pid
  wait "$gen_pid" || fail "the producer failed"
  local out bad=$((n / BAD))
  out=$(check --in in2 --pred g.predictions --dlq g.dlq --pipeline g --with-id --exactly-once --timeout 180)
  log "check: $out"
  grep -q "^inputs $n predicted $((n - bad)) dead-lettered $bad duplicates 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of b after SIGTERM"
  grep -q 'pipeline g: assigned in2\[0\] in2\[1\] in2\[2\] in2\[3\]' "$EDDY_TEST_TMP/b.log" ||
    fail "b never held every partition"
  local got want
  got=$(models "$a")
  start_run "$ref" "$EDDY_TEST_TMP/gref.log"
  out=$(check --in in2 --pred gref.predictions --dlq gref.dlq --pipeline g --with-id --exactly-once --timeout 180)
  log "reference check: $out"
  grep -q "^inputs $n predicted $((n - bad)) dead-lettered $bad duplicates 0 " <<< "$out" || fail "$out"
  stop_run TERM
  want=$(models "$ref")
  log "two instances, one killed:"$'\n'"$got"
  log "uninterrupted:"$'\n'"$want"
  assert_eq "$want" "$got" "checkpoints (partition, next offset, SHA-256) after the handovers vs an uninterrupted run"
  stop_pid "$REDIS_PID"
}

# eddy verify and a transaction left open: pipeline o commits its
# transactions every 60 s; killed with SIGKILL once some of its predictions
# are delivered (in its open transaction), it leaves them past the last
# stable offset of o.predictions, hidden from read_committed readers until
# transaction.timeout.ms (90 s here). eddy verify --exactly-once then gives
# no verdict (exit 2, "wait behind an open transaction", hidden > 0) rather
# than a violation. A restart with the same transactional.id fences the
# killed instance (its transaction aborted at once) and finishes: exit 0.
open_txn() {
  [ "$BROKER_KIND" = kafka ] || return 0
  local n=2000
  start_redis
  create_topic in3 4
  create_topic o.predictions 2
  create_topic o.dlq 1
  local cfg=$EDDY_TEST_TMP/o.ini port
  port=$(free_port)
  KAFKA_EXTRA="transaction.timeout.ms = 90000" SOURCE_EXTRA="commit_interval_ms = 60000" write_config "$cfg" o in3 "[state]
store = $REDIS_URL
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
  sed -i -e 's/^window = 200$/window = 200\nprocessing.guarantee = exactly_once/' "$cfg"
  gen in3 $n --entities 32
  start_run "$cfg" "$EDDY_TEST_TMP/o1.log"
  wait_for 60 "predictions delivered in the open transaction" _delivered_over "$port" o $((n / 2))
  stop_run KILL
  set +e
  local vout vrc
  vout=$("$EDDY_BIN" verify -c "$cfg" --exactly-once --timeout 20 --json 2> "$EDDY_TEST_TMP/o.err")
  vrc=$?
  set -e
  log "eddy verify after the kill -> exit $vrc"$'\n'"$(cat "$EDDY_TEST_TMP/o.err")"$'\n'"$vout"
  assert_eq 2 "$vrc" "eddy verify exit status with outputs hidden by an open transaction"
  grep -q "^verify: PENDING: $n input offsets without a visible output may wait behind an open transaction on o.predictions:[01]" "$EDDY_TEST_TMP/o.err" ||
    fail "no PENDING line naming the $n offsets"
  "$PYTHON" -c 'import json, sys; r = json.loads(sys.argv[1]); assert r["violation"] is None and r["pending"] and r["hidden"] >= 1, r' "$vout"
  sed -i '/^commit_interval_ms = 60000$/d' "$cfg"
  start_run "$cfg" "$EDDY_TEST_TMP/o2.log"
  wait_metric "$port" eddy_records_in_total 'pipeline="o"' $n 60
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the restart after SIGTERM"
  set +e
  vout=$("$EDDY_BIN" verify -c "$cfg" --exactly-once --json 2> "$EDDY_TEST_TMP/o.err")
  vrc=$?
  set -e
  log "eddy verify after the restart -> exit $vrc"$'\n'"$(cat "$EDDY_TEST_TMP/o.err")"$'\n'"$vout"
  assert_eq 0 "$vrc" "eddy verify exit status after the restart"
  stop_pid "$REDIS_PID"
}

_delivered_over() {
  local v
  v=$(metric "$1" eddy_predictions_delivered_total "pipeline=\"$2\"")
  [ -n "$v" ] && [ "$v" -ge "$3" ]
}

# EOS_CASES picks cases while iterating.
both() {
  local c
  for c in ${EOS_CASES:-scenario two_instances open_txn}; do "$c"; done
}

for_each_broker both
log "test_exactly_once: ok"
