# tests/faults/labels.sh: what the label cases (case_label_*.sh) share,
# sourced after lib.sh: pipeline fx with [source] label_topic = fx.labels
# (4 partitions, co-partitioned with `in`), the Redis store without
# aggregates, records without their label and each record's label
# LABEL_DELAY records later on the label topic, plus UNKNOWN labels of ids
# never predicted (their dead letters are what verify expects: BAD).
#
#   labels_setup KIND        fault_setup KIND, then the label topic and config
#   labels_produce RATE      records and labels at RATE records/s, in the
#                            background ($GEN_PID)
#   labels_wait_produced     waits for it; BAD = UNKNOWN
#   labels_finish            once the checkpoints pass every record and
#                            every label: SIGTERM, exit status 0
UNKNOWN=10

labels_setup() {
  fault_setup "$1"
  create_topic $PIPE.labels 4
  # The merge waits up to 2 s for a partition that has nothing buffered:
  # records and labels are then handled in timestamp order even when one
  # partition's fetch is late (the order the verifier replays).
  sed -i -e '/^aggregates = /d' -e '/^key = user$/d' \
    -e "s/^max_record_bytes = 65536$/max_record_bytes = 65536\nlabel_topic = $PIPE.labels\nmax_task_idle_ms = 2000/" "$CFG"
  grep -q "^label_topic = $PIPE.labels$" "$CFG" || fail "labels_setup: $(cat "$CFG")"
  N=${N:-$FAULTS_RECORDS}
  LABEL_DELAY=$((N / 10))
}

labels_produce() {
  "$PYTHON" - "$BOOTSTRAP" in $PIPE.labels "$N" "$LABEL_DELAY" "$UNKNOWN" "$1" > "$EDDY_TEST_TMP/produced.log" 2>&1 <<'PYEOF' &
import json, random, sys, time
from confluent_kafka import Producer
bs, topic, labels, n, delay, unknown, rate = sys.argv[1:4] + [int(a) for a in sys.argv[4:7]] + [float(sys.argv[7])]
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5, "enable.idempotence": True})
failed = []
def dr(err, msg):
    if err: failed.append(str(err))
def send(t, key, value):
    while True:
        try:
            p.produce(t, key=key.encode(), value=json.dumps(value).encode(), on_delivery=dr)
            return
        except BufferError:
            p.poll(0.05)
def label(i):
    rnd = random.Random(i)
    x1, x2 = rnd.random() * 10, rnd.random() * 10
    y = x1 + x2 > 10
    if i >= n // 2: y = not y  # the concept flips half way: drift, a reset
    send(labels, f"k{i}", {"id": f"r{i}", "y": "1" if y else "0"})
every = max(1, n // (unknown + 1))
t0 = time.time()
for i in range(n + delay):
    if i < n:
        rnd = random.Random(i)
        x1, x2 = rnd.random() * 10, rnd.random() * 10
        send(topic, f"k{i}", {"id": f"r{i}", "x1": round(x1, 6), "x2": round(x2, 6), "c": rnd.choice("abc")})
    if i >= delay:
        label(i - delay)
    if i % every == every - 1 and i // every < unknown:
        send(labels, f"u{i}", {"id": f"nobody{i}", "y": "1"})
    p.poll(0)
    ahead = t0 + (i + 1) / rate - time.time()
    if ahead > 0: time.sleep(ahead)
if p.flush(60) or failed: sys.exit(f"not delivered: {failed[:3]}")
PYEOF
  GEN_PID=$!
}

labels_wait_produced() {
  wait "$GEN_PID" || fail "the producer failed: $(tail -3 "$EDDY_TEST_TMP/produced.log")"
  BAD=$UNKNOWN
}

# The label offsets of the checkpoints, summed.
label_offsets() {
  local s=0 p v
  for p in 0 1 2 3; do
    v=$(redis-cli -p "$REDIS_PORT" hget "eddy:$PIPE:ckpt:$p" label_offset 2>/dev/null)
    [ -n "$v" ] && [ "$v" -ge 0 ] && s=$((s + v))
  done
  echo $s
}
_labels_checkpointed() { [ "$(label_offsets)" -eq $((N + UNKNOWN)) ]; }

labels_finish() {
  wait_checkpointed "$N" 300
  wait_for 300 "checkpoints past every label ($((N + UNKNOWN)))" _labels_checkpointed
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the last eddy run after SIGTERM"
}
