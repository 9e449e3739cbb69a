#!/usr/bin/env bash
# bench_labels_redis.sh: labels that arrive later ([source] label_topic)
# with [state] store = redis, end to end through `eddy broker`: records/s
# and label joins/s of a pipeline whose labels come on a label topic
# 10,000 records after their records, beside records/s of the same
# pipeline (same store, same learner, same records) with the label in
# each record, and the ratio of the two (issue 14's target: the join
# costs less than a third of the throughput, i.e. a ratio of 0.67 or
# more). The records (and labels) are in the topics before `eddy run`
# starts; the time is from the first record consumed to the last label
# learned (eddy_learn_total = N, read from /metrics every 20 ms), best of
# BENCH_RUNS. Checkpoints every 5 s, so each run writes a few (with the
# waiting predictions). The memory store's figures are
# tests/bench/bench_labels.sh's; BENCH_LABEL_STORES="redis memory" adds
# them here too.
# Environment: BENCH_RUNS (3), BENCH_LABELS_N (100000: `eddy broker` keeps
# ~5 MB a partition), BENCH_LABEL_DELAY (10000), BENCH_LABEL_STORES (redis).
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/../integration/run_lib.sh"
trap - ERR

RUNS=${BENCH_RUNS:-3}
N=${BENCH_LABELS_N:-100000}
DELAY=${BENCH_LABEL_DELAY:-10000}
STORES=${BENCH_LABEL_STORES:-redis}
command -v redis-server > /dev/null || { echo "bench_labels_redis: redis-server missing: skipped"; exit 0; }

# TOPIC LABELS: N records (x1, x2, c, id) keyed k<i>; with LABELS, their
# labels (id, y) on it, each DELAY records later; without, y in the records.
produce() {
  "$PYTHON" - "$BOOTSTRAP" "$N" "$DELAY" "$@" <<'EOF'
import json, random, sys
from confluent_kafka import Producer
bs, n, delay, topic = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
labels = sys.argv[5] if len(sys.argv) > 5 else None
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 20, "batch.num.messages": 10000,
              "queue.buffering.max.messages": 1000000})
def send(t, k, v):
    while True:
        try:
            p.produce(t, key=k, value=v)
            return
        except BufferError:
            p.poll(0.05)
ys = []
for i in range(n + (delay if labels else 0)):
    if i < n:
        rnd = random.Random(i)
        x1, x2 = rnd.random() * 10, rnd.random() * 10
        y = "1" if x1 + x2 > 10 else "0"
        ys.append(y)
        r = {"id": f"r{i}", "x1": round(x1, 6), "x2": round(x2, 6), "c": rnd.choice("abc")}
        if not labels: r["y"] = y
        send(topic, f"k{i}".encode(), json.dumps(r).encode())
    if labels and i >= delay:
        j = i - delay
        send(labels, f"k{j}".encode(), json.dumps({"id": f"r{j}", "y": ys[j]}).encode())
if p.flush(120): sys.exit("not delivered")
EOF
}

# One run of pipeline NAME on TOPIC (LABELS: its label topic, or "") with
# STORE: prints records/s.
run_one() {
  local name=$1 topic=$2 labels=$3 store=$4 port cfg
  port=$(free_port)
  cfg=$EDDY_TEST_TMP/$name.ini
  local src="" st="store = memory"
  [ -z "$labels" ] || src="label_topic = $labels
max_task_idle_ms = 0
label_ttl = 0"
  [ "$store" = memory ] || st="store = $REDIS_URL
key_prefix = b$RANDOM
checkpoint_interval = 5"
  SOURCE_EXTRA="$src
batch_size = 1000" KAFKA_EXTRA="group.id = g$RANDOM$RANDOM" write_config "$cfg" "$name" "$topic" "[state]
$st

[http]
listen = 127.0.0.1:$port"
  sed -i 's/^detector = adwin$/detector =/' "$cfg" # no drift detector: the join's cost alone
  start_run "$cfg" "$EDDY_TEST_TMP/$name.log" > /dev/null 2>&1
  local t0="" t1="" v
  for _ in $(seq 1 6000); do
    v=$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null |
        awk -v p="pipeline=\"$name\"" '$1 ~ /^eddy_records_in_total\{/ && index($1, p) { r = $2 } $1 ~ /^eddy_learn_total\{/ && index($1, p) { l = $2 } END { print r + 0, l + 0 }')
    [ -n "$t0" ] || { [ "${v% *}" -gt 0 ] 2>/dev/null && t0=$(date +%s.%N); }
    [ "${v#* }" -ge "$N" ] 2>/dev/null && { t1=$(date +%s.%N); break; }
    kill -0 "$RUN_PID" 2>/dev/null || { echo "bench_labels_redis: eddy run exited: $(tail -n 2 "$EDDY_TEST_TMP/$name.log")" >&2; break; }
    sleep 0.02
  done
  stop_run TERM > /dev/null 2>&1
  [ -n "$t1" ] && [ -n "$t0" ] || { echo "0"; return; }
  awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}

best_of() {
  local best=0 r
  for _ in $(seq 1 "$RUNS"); do
    r=$(run_one "$@")
    [ "$r" -gt "$best" ] && best=$r
  done
  echo "$best"
}

start_redis
start_eddy_broker > /dev/null
create_topic bl.in 4
create_topic bl.lab 4
create_topic bl.labels 4
for t in bl_in bl_lab; do create_topic $t.predictions 8; create_topic $t.dlq 1; create_topic $t.alerts 1; done
produce bl.in
produce bl.lab bl.labels

echo
echo "labels that arrive later ($DELAY records after theirs), eddy broker, naive Bayes, $N records, best of $RUNS"
echo "(labels later: twice the Kafka messages, a record and its label; msgs/s counts both)"
printf '%-8s %18s %18s %14s %14s %8s %s\n' store "labels in records" "labels later" "label joins/s" "msgs/s" ratio \
  "(records/s later / in records; target >= 0.67)"
for store in $STORES; do
  base=$(best_of bl_in bl.in "" "$store")
  later=$(best_of bl_lab bl.lab bl.labels "$store")
  ratio=$(awk -v a="$later" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  verdict=$(awk -v r="$ratio" 'BEGIN { print (r + 0 >= 0.67) ? "met" : "NOT met" }')
  printf '%-8s %14s r/s %14s r/s %14s %14s %8s %s\n' "$store" "$base" "$later" "$later" $((2 * later)) "$ratio" \
    "$verdict"
done
