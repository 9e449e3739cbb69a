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

models() { "$EDDY_BIN" models -c "$1" --json | "$PYTHON" -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print(r["partition"], r.get("next_offset"), r.get("sha256", r.get("error")))' | sort -n; }

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
  aborts=$(cat "$EDDY_TEST_TMP"/run*.log | grep -c 'aborting the transaction (EDDY_FAULT_ABORT_EVERY' || true)
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

for_each_broker scenario
log "test_exactly_once: ok"
