#!/usr/bin/env bash
# test_labels_redis.sh: labels that arrive later with [state] store = redis:
# the label partition's offset and the predictions waiting for their
# labels are in the checkpoints, so a kill -9 loses no waiting prediction
# and learns no label twice. Against `eddy broker` (and Apache Kafka when
# available), with a real redis-server (AOF, fsync always).
#
# 5,000 records without their label on a 3-partition topic; pipeline `lr`
# predicts them all and checkpoints (every 0.2 s); it is killed with
# SIGKILL once its checkpoints cover every record (5,000 predictions wait
# in Redis, nothing learned). The labels (id + target) then come on the
# co-partitioned label topic at a fixed rate, plus 10 labels of ids never
# predicted; the restarted run restores the waiting predictions, and is
# killed again part way through the labels, then restarted once more. The
# same pipeline in another group and key prefix reads everything without
# interruption: eddy_learn_total = 5,000, the 10 unknown ids in the
# dead-letter topic with stage label, `eddy verify` exit 0. The killed
# run's final checkpoints (partition, next offset, SHA-256 of the model)
# equal the uninterrupted run's, and `eddy verify` holds on both (it
# compares every checkpoint's model and waiting predictions with those
# recomputed from both partitions replayed in timestamp order).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=5000
UNKNOWN=10

# Records r0..r<N-1> (x1, x2, c, id; no y) to TOPIC, keyed k<i>.
produce_records() {
  "$PYTHON" - "$BOOTSTRAP" "$1" "$N" <<'EOF'
import json, random, sys
from confluent_kafka import Producer
bs, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5, "enable.idempotence": True})
for i in range(n):
    rnd = random.Random(i)
    x1, x2 = rnd.random() * 10, rnd.random() * 10
    while True:
        try:
            p.produce(topic, key=f"k{i}".encode(),
                      value=json.dumps({"id": f"r{i}", "x1": round(x1, 6), "x2": round(x2, 6),
                                        "c": rnd.choice("abc")}).encode(),
                      headers=[("expect", b"prediction"), ("id", f"r{i}".encode())])
            break
        except BufferError:
            p.poll(0.05)
if p.flush(60): sys.exit("records not delivered")
EOF
}

# Their labels (id, y), keyed as the records, RATE a second, then UNKNOWN
# labels of ids never predicted.
produce_labels() {
  "$PYTHON" - "$BOOTSTRAP" "$1" "$N" "$UNKNOWN" "$2" <<'EOF'
import json, random, sys, time
from confluent_kafka import Producer
bs, topic, n, unknown, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5, "enable.idempotence": True})
t0 = time.time()
for i in range(n):
    rnd = random.Random(i)
    x1, x2 = rnd.random() * 10, rnd.random() * 10
    p.produce(topic, key=f"k{i}".encode(), value=json.dumps({"id": f"r{i}", "y": "1" if x1 + x2 > 10 else "0"}).encode())
    p.poll(0)
    ahead = t0 + (i + 1) / rate - time.time()
    if ahead > 0: time.sleep(ahead)
for j in range(unknown):
    p.produce(topic, key=f"u{j}".encode(), value=json.dumps({"id": f"nobody{j}", "y": "1"}).encode())
if p.flush(60): sys.exit("labels not delivered")
EOF
}

sum_offsets() { models "$1" | awk '{ s += $2 } END { print s + 0 }'; }
covers_records() { [ "$(sum_offsets "$1")" -eq "$N" ] && [ "$(models "$1" | wc -l)" -eq 3 ]; }
joined_over() { local v; v=$(metric "$1" eddy_labels_joined_total 'pipeline="lr"'); [ -n "$v" ] && [ "$v" -gt "$2" ]; }

verify_ok() {
  local cfg=$1 out=$2 rc
  set +e
  "$EDDY_BIN" verify -c "$cfg" --expect-dlq $UNKNOWN > "$out" 2>&1
  rc=$?
  set -e
  cat "$out" >&2
  assert_eq 0 "$rc" "eddy verify exit status ($(basename "$cfg"))"
  grep -q "labels lr.labels: $((N + UNKNOWN)) label records replayed .* $N joined" "$out" || fail "verify's labels line"
}

scenario() {
  start_redis --appendonly yes --appendfsync always
  create_topic lr.in 3
  create_topic lr.labels 3
  create_topic lr.predictions 2
  create_topic ref.predictions 2
  create_topic lr.dlq 1
  create_topic ref.dlq 1
  create_topic lr.alerts 1
  local port cfg=$EDDY_TEST_TMP/lr.ini ref=$EDDY_TEST_TMP/ref.ini
  port=$(free_port)
  SOURCE_EXTRA="label_topic = lr.labels
max_task_idle_ms = 0" write_config "$cfg" lr lr.in "[state]
store = $REDIS_URL
checkpoint_interval = 0.2

[http]
listen = 127.0.0.1:$port"
  sed -e 's/^predictions = lr.predictions$/predictions = ref.predictions/' \
      -e 's/^dead_letter = lr.dlq$/dead_letter = ref.dlq/' \
      -e 's/^session.timeout.ms = 6000$/session.timeout.ms = 6000\ngroup.id = ref/' \
      -e 's/^checkpoint_interval = 0.2$/checkpoint_interval = 0.2\nkey_prefix = ref/' \
      -e "s/^listen = 127.0.0.1:$port$/listen = 127.0.0.1:$(free_port)/" "$cfg" > "$ref"
  grep -q '^group.id = ref$' "$ref" && grep -q '^key_prefix = ref$' "$ref" || fail "configs: $(cat "$ref")"

  produce_records lr.in
  start_run "$cfg" "$EDDY_TEST_TMP/run1.log"
  wait_for 90 "checkpoints covering all $N records" covers_records "$cfg"
  wait_metric "$port" eddy_labels_waiting 'pipeline="lr"' $N 30
  stop_run KILL
  log "killed with SIGKILL, $N predictions waiting; checkpoints:"$'\n'"$(models "$cfg")"
  [ "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'eddy:lr:waiting:*' | wc -l)" -eq 3 ] ||
    fail "no waiting predictions in Redis: $(redis-cli -p "$REDIS_PORT" --scan --pattern 'eddy:*')"
  # Their expiry: twice label_ttl (its default, 7 days) of wall clock.
  local pttl
  pttl=$(redis-cli -p "$REDIS_PORT" pttl eddy:lr:waiting:0)
  [ "$pttl" -gt $((2 * 604800 * 1000 - 600000)) ] && [ "$pttl" -le $((2 * 604800 * 1000)) ] ||
    fail "waiting key's expiry: $pttl ms"

  start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
  wait_log "$EDDY_TEST_TMP/run2.log" "assigned lr.in" 60
  produce_labels lr.labels 1000 &
  local labels_pid=$!
  # The labels that came after the kill find their predictions: restored
  # from Redis (none was learned before the kill).
  wait_for 60 "some labels joined" joined_over "$port" 2000
  stop_run KILL
  log "killed with SIGKILL during the labels; checkpoints:"$'\n'"$(models "$cfg")"
  start_run "$cfg" "$EDDY_TEST_TMP/run3.log"
  wait_log "$EDDY_TEST_TMP/run3.log" "assigned lr.in" 60
  wait "$labels_pid" || fail "the label producer failed"
  wait_for 90 "the final checkpoints to pass every label" _all_labels_in "$cfg"
  local out
  out=$(check --in lr.in --pred lr.predictions --pipeline lr --with-id --timeout 120)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  grep -q "labels from offset [0-9]* (its checkpoint)" "$EDDY_TEST_TMP/run3.log" || fail "run 3 did not seek the labels"
  local killed
  killed=$(models "$cfg")

  # The uninterrupted reference.
  local rport
  rport=$(grep -o '^listen = 127.0.0.1:[0-9]*' "$ref" | cut -d: -f2)
  start_run "$ref" "$EDDY_TEST_TMP/ref.log"
  wait_metric "$rport" eddy_labels_in_total 'pipeline="lr"' $((N + UNKNOWN)) 90
  assert_eq $N "$(metric "$rport" eddy_learn_total 'pipeline="lr"')" "eddy_learn_total"
  assert_eq $N "$(metric "$rport" eddy_labels_joined_total 'pipeline="lr"')" "eddy_labels_joined_total"
  assert_eq $UNKNOWN "$(metric "$rport" eddy_labels_unmatched_total 'pipeline="lr"')" "eddy_labels_unmatched_total"
  assert_eq 0 "$(metric "$rport" eddy_labels_waiting 'pipeline="lr"')" "eddy_labels_waiting"
  wait_metric "$rport" eddy_dead_letters_delivered_total 'pipeline="lr"' $UNKNOWN
  local h
  h=$(CONSUME_FORMAT='%h %s\n' consume ref.dlq $UNKNOWN)
  assert_eq $UNKNOWN "$(grep -c 'eddy.errors.stage=label' <<< "$h")" "dead letters with stage label"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the reference run"
  grep -q "model restored" "$EDDY_TEST_TMP/ref.log" && fail "the reference run restored a checkpoint"
  local want
  want=$(models "$ref")
  log "after two kills and restarts:"$'\n'"$killed"
  log "uninterrupted:"$'\n'"$want"
  assert_eq "$want" "$killed" "checkpoints (partition, next offset, SHA-256) of the killed run vs the uninterrupted one"
  assert_eq $N "$(awk '{ s += $2 } END { print s }' <<< "$killed")" "sum of the final next offsets"

  verify_ok "$ref" "$EDDY_TEST_TMP/verify.ref.log"
  verify_ok "$cfg" "$EDDY_TEST_TMP/verify.lr.log"
  grep -q "waiting lr.in \[[0-9]\]: .*equal to the recomputed ones" "$EDDY_TEST_TMP/verify.lr.log" ||
    fail "verify compared no waiting predictions"
  [ "$BROKER_KIND" != kafka ] || scenario_eos "$cfg" "$want"
  stop_pid "$REDIS_PID"
}

# Apache Kafka: the same records and labels with processing.guarantee =
# exactly_once (the label partitions' offsets in the transactions), one
# record batch a fetch (so that the stream spans many transactions), every
# 2nd transaction aborted (each abort rewinds both partitions of every
# task to the checkpoint) and one kill -9: the final models equal the
# uninterrupted at-least-once run's, and eddy verify --exactly-once holds.
scenario_eos() {
  local base=$1 want=$2 eos=$EDDY_TEST_TMP/eos.ini port
  port=$(free_port)
  create_topic eos.predictions 2
  create_topic eos.dlq 1
  sed -e 's/^predictions = lr.predictions$/predictions = eos.predictions/' \
      -e 's/^dead_letter = lr.dlq$/dead_letter = eos.dlq/' \
      -e 's/^window = 200$/window = 200\nprocessing.guarantee = exactly_once/' \
      -e 's/^max_task_idle_ms = 0$/max_task_idle_ms = 0\ncommit_interval_ms = 10\nbatch_size = 50/' \
      -e 's/^session.timeout.ms = 6000$/session.timeout.ms = 6000\ngroup.id = eos\ntransactional.id = eos-instance\nmax.partition.fetch.bytes = 1/' \
      -e 's/^checkpoint_interval = 0.2$/checkpoint_interval = 0.2\nkey_prefix = eos/' \
      -e "s/^listen = 127.0.0.1:[0-9]*$/listen = 127.0.0.1:$port/" "$base" > "$eos"
  grep -q '^processing.guarantee = exactly_once$' "$eos" && grep -q '^key_prefix = eos$' "$eos" &&
    grep -q '^commit_interval_ms = 10$' "$eos" || fail "eos config: $(cat "$eos")"
  export EDDY_FAULT_ABORT_EVERY=2
  start_run "$eos" "$EDDY_TEST_TMP/eos1.log"
  wait_log "$EDDY_TEST_TMP/eos1.log" "pipeline lr: assigned " 60
  sleep 0.3
  stop_run KILL
  start_run "$eos" "$EDDY_TEST_TMP/eos2.log"
  wait_log "$EDDY_TEST_TMP/eos2.log" "pipeline lr: assigned " 60
  _eos_done() { [ "$(models "$eos" | awk '{ s += $2 } END { print s + 0 }')" -eq "$N" ] &&
                [ "$(_label_sum eos)" -eq $((N + UNKNOWN)) ]; }
  wait_for 120 "the exactly-once checkpoints to pass every record and label" _eos_done
  stop_run TERM
  unset EDDY_FAULT_ABORT_EVERY
  assert_eq 0 "$RUN_RC" "exit status of the exactly-once run"
  local aborts
  aborts=$(cat "$EDDY_TEST_TMP"/eos*.log | grep -c 'exactly once: aborting the transaction' || true)
  log "exactly once: $aborts transactions aborted (injected)"
  [ "$aborts" -ge 1 ] || fail "no transaction was aborted"
  local rewound
  rewound=$(cat "$EDDY_TEST_TMP"/eos*.log | grep -c ': rewound: model from' || true)
  [ "$rewound" -ge 3 ] || fail "$aborts aborts rewound $rewound partitions"
  local got
  got=$(models "$eos")
  log "exactly once, after a kill and $aborts aborts:"$'\n'"$got"
  assert_eq "$want" "$got" "checkpoints of the exactly-once run vs the uninterrupted one"
  local rc=0
  "$EDDY_BIN" verify -c "$eos" --exactly-once --expect-dlq $UNKNOWN > "$EDDY_TEST_TMP/verify.eos.log" 2>&1 || rc=$?
  cat "$EDDY_TEST_TMP/verify.eos.log" >&2
  assert_eq 0 "$rc" "eddy verify --exactly-once exit status"
}

_label_sum() {
  local s=0 p v
  for p in 0 1 2; do
    v=$(redis-cli -p "$REDIS_PORT" hget "$1:lr:ckpt:$p" label_offset)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

# Every label read (unknown ones included) is in a checkpoint: the label
# offsets in Redis add up to the label topic's size.
_all_labels_in() {
  local s=0 p v
  for p in 0 1 2; do
    v=$(redis-cli -p "$REDIS_PORT" hget "eddy:lr:ckpt:$p" label_offset)
    s=$((s + ${v:-0}))
  done
  [ "$s" -eq $((N + UNKNOWN)) ]
}

for_each_broker scenario
log "test_labels_redis: ok"
