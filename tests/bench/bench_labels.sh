#!/usr/bin/env bash
# bench_labels.sh: labels that arrive later ([source] label_topic), memory
# store, end to end through `eddy broker`: the same pipeline (JSON records
# of 10 numeric features and an id, BENCH_LABELS_P partitions, logistic
# regression) run two ways over the same records, each run from the first
# record consumed to the last prediction delivered and the last record
# learned (eddy's /metrics polled every 50 ms):
#   - labels in the records: records/s;
#   - labels arriving BENCH_LABELS_DELAY (10,000) records later on a
#     co-partitioned label topic (each label's Kafka timestamp falls between
#     those of the records 10,000 after its own, so the timestamp merge
#     joins it there): records/s and label joins/s (every record is joined
#     once: eddy_labels_joined_total = records, checked), and the peak of
#     predictions waiting (about 10,000, checked to be at least half that);
# and the ratio of the two throughputs (best of BENCH_RUNS runs each,
# interleaved). Target (issue 14): the join costs less than a third of the
# throughput (ratio above 0.667). Beside each: eddy's own CPU per record
# (user + sys of the `eddy run` process over the same span, lowest of the
# runs), which other work sharing the cores disturbs less than records/s.
# The bench fails when a run loses or duplicates a record or label, or when
# the join costs a third or more both in throughput and in CPU per record.
# Everything is produced before eddy starts (timestamps set by the
# producer); BENCH_LABELS_N (120,000) records of ~120 bytes over 8
# partitions stay within the ~5 MB per partition eddy broker keeps (its
# eviction warning fails the bench). The Redis store's figures:
# tests/bench/bench_labels_redis.sh.
# Environment: BENCH_RUNS (3), BENCH_LABELS_N, BENCH_LABELS_DELAY,
# BENCH_LABELS_P (8).
source "$(dirname "$0")/../integration/lib.sh"
trap - ERR

RUNS=${BENCH_RUNS:-3}
N=${BENCH_LABELS_N:-120000}
DELAY=${BENCH_LABELS_DELAY:-10000}
P=${BENCH_LABELS_P:-8}
LEARNER=naive_bayes
grep -q '^### logistic_regression' <<< "$("$EDDY_BIN" config --reference)" && LEARNER=logistic_regression

# inline.in: records with their label; late.in: the same records without
# it; late.labels: {"id", "y"} of record i with a timestamp between those
# of records i + DELAY and i + DELAY + 1 (all keyed k<i>: co-partitioned).
produce_all() {
  "$PYTHON" - "$BOOTSTRAP" "$N" "$DELAY" <<'EOF'
import json, random, sys, time
from confluent_kafka import Producer
bs, n, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 20, "batch.num.messages": 10000,
              "queue.buffering.max.messages": 500000})
failed = []
def dr(err, msg):
    if err: failed.append(str(err))
def send(topic, key, value, ts):
    while True:
        try:
            p.produce(topic, key=key, value=value, timestamp=ts, on_delivery=dr)
            return
        except BufferError:
            p.poll(0.05)
base = int(time.time() * 1000) - 4 * (n + delay) - 60000  # in the past, 2 ms apart
rnd = random.Random(14)
for i in range(n):
    xs = [round(rnd.random(), 4) for _ in range(10)]
    y = "1" if sum(xs[:5]) + 0.3 * rnd.random() > 2.65 else "0"
    rec = {"id": f"r{i}", **{f"x{j}": xs[j] for j in range(10)}}
    key = f"k{i}".encode()
    send("late.in", key, json.dumps(rec, separators=(",", ":")).encode(), base + 4 * i)
    rec["y"] = y
    send("inline.in", key, json.dumps(rec, separators=(",", ":")).encode(), base + 4 * i)
    send("late.labels", key, json.dumps({"id": f"r{i}", "y": y}, separators=(",", ":")).encode(),
         base + 4 * (i + delay) + 2)
    if i % 1000 == 0:
        p.poll(0)
if p.flush(120) or failed:
    sys.exit(f"not delivered: {failed[:3]}")
EOF
}

# Polls eddy's /metrics on port $1 (pid $2) every 50 ms until N records
# are learned and their predictions delivered (or $3 s pass): prints
# "seconds cpu_ticks waiting_peak joined learned delivered" from the first
# record consumed.
measure() {
  "$PYTHON" - "$1" "$2" "$N" "${3:-300}" <<'EOF'
import sys, time, urllib.request
port, pid, n, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
def ticks():
    with open(f"/proc/{pid}/stat") as f:
        s = f.read().rsplit(")", 1)[1].split()
    return int(s[11]) + int(s[12])
def metrics():
    out = {}
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        if line.startswith("eddy_") and "{" in line:
            name, rest = line.split("{", 1)
            if "partition=" in rest:
                continue
            out[name] = float(line.rsplit(" ", 1)[1])
    return out
deadline = time.time() + limit
m = {}
while time.time() < deadline:
    m = metrics()
    if m.get("eddy_records_in_total", 0) > 0:
        break
    time.sleep(0.05)
t0, c0, peak = time.time(), ticks(), 0
while time.time() < deadline:
    m = metrics()
    peak = max(peak, m.get("eddy_labels_waiting", 0))
    if m.get("eddy_learn_total", 0) >= n and m.get("eddy_predictions_delivered_total", 0) >= n:
        break
    time.sleep(0.05)
t1, c1 = time.time(), ticks()
print(f"{t1 - t0:.3f} {c1 - c0} {peak:.0f} {m.get('eddy_labels_joined_total', 0):.0f} "
      f"{m.get('eddy_learn_total', 0):.0f} {m.get('eddy_predictions_delivered_total', 0):.0f}")
EOF
}

# One run of pipeline $1 (inline or late) as run $2: sets RPS, US (eddy's
# CPU µs per record), PEAK, JOINED.
run_once() {
  local kind=$1 r=$2 cfg=$EDDY_TEST_TMP/$1$2.ini logf=$EDDY_TEST_TMP/$1$2.log port out pid
  port=$(free_port)
  create_topic "$kind$r.predictions" "$P"
  cat > "$cfg" <<EOF
[pipeline]
name = bench-$kind$r
[source]
topics = $kind.in
$([ "$kind" = late ] && echo "label_topic = late.labels")
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 2
linger.ms = 1
[features]
numeric = x0, x1, x2, x3, x4, x5, x6, x7, x8, x9
target = y
id = id
[model]
learner = $LEARNER
[sink]
predictions = $kind$r.predictions
[http]
listen = 127.0.0.1:$port
EOF
  ( exec setsid "$EDDY_BIN" run -c "$cfg" > "$logf" 2>&1 < /dev/null ) &
  pid=$!
  _track "$pid"
  out=$(measure "$port" "$pid" 300)
  stop_pid "$pid"
  read -r secs ticks PEAK JOINED learned delivered <<< "$out"
  [ "$learned" = "$N" ] && [ "$delivered" = "$N" ] ||
    fail "$kind run $r: $learned learned, $delivered predictions delivered of $N records (log $logf)"
  [ "$kind" = inline ] || [ "$JOINED" = "$N" ] || fail "late run $r: $JOINED labels joined of $N"
  RPS=$(awk -v n="$N" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  US=$(awk -v t="$ticks" -v k="$(getconf CLK_TCK)" -v n="$N" 'BEGIN { printf "%.2f", t / k * 1e6 / n }')
}

better() { awk -v a="$1" -v b="$2" -v hi="$3" 'BEGIN { exit !(b == "" || (hi ? a > b : a < b)) }'; }

echo "bench_labels: labels that arrive later, memory store ($(nproc) cores; load average $(uptime | sed 's/.*load average: //'))"
start_eddy_broker
for t in inline.in late.in late.labels; do create_topic "$t" "$P"; done
t0=$(date +%s.%N)
produce_all || fail "producing the records"
log "produced $N records to inline.in and late.in, $N labels to late.labels ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"

in_best="" in_runs="" in_us="" late_best="" late_runs="" late_us="" peak_min=""
for r in $(seq 1 "$RUNS"); do
  run_once inline "$r"
  in_runs+="${in_runs:+, }$RPS"
  better "$RPS" "$in_best" 1 && in_best=$RPS
  better "$US" "$in_us" 0 && in_us=$US
  log "run $r, labels in the records: $RPS records/s, eddy CPU $US µs/record"
  run_once late "$r"
  late_runs+="${late_runs:+, }$RPS"
  better "$RPS" "$late_best" 1 && late_best=$RPS
  better "$US" "$late_us" 0 && late_us=$US
  better "$PEAK" "$peak_min" 0 && peak_min=$PEAK
  log "run $r, labels $DELAY records later: $RPS records/s (and label joins/s), eddy CPU $US µs/record, at most $PEAK waiting"
done
[ "$peak_min" -ge $((DELAY / 2)) ] || fail "at most $peak_min predictions waited: the labels did not come $DELAY records later"
if grep -q "dropped its" "$EDDY_BROKER_DIR/err"; then
  fail "eddy broker dropped records (its ~5 MB per partition): $(grep -m1 'dropped its' "$EDDY_BROKER_DIR/err")"
fi

ratio=$(awk -v a="$late_best" -v b="$in_best" 'BEGIN { printf "%.3f", a / b }')
cpu_ratio=$(awk -v a="$late_us" -v b="$in_us" 'BEGIN { printf "%.3f", b / a }')
met() { awk -v r="$1" 'BEGIN { print (r > 2 / 3 ? "met" : "NOT met") }'; }
printf '\nlabels that arrive later, end to end through eddy broker (librdkafka mock): %d partitions, %d JSON records of 10 numeric features, %s, [state] store = memory\n' \
  "$P" "$N" "$LEARNER"
printf '  %-52s %s records/s (best of %d runs: %s)\n' "labels in the records" "$in_best" "$RUNS" "$in_runs"
printf '  %-52s %s records/s = label joins/s (best of %d runs: %s)\n' "labels $DELAY records later (label topic)" \
  "$late_best" "$RUNS" "$late_runs"
printf '  %-52s %s (target > 0.667: the join costs < 1/3): %s\n' "throughput ratio, later / in the records" "$ratio" "$(met "$ratio")"
printf '  %-52s in the records %s, later %s: ratio %s, %s\n' "eddy CPU µs per record (lowest of the runs)" \
  "$in_us" "$late_us" "$cpu_ratio" "$(met "$cpu_ratio")"
printf '  %-52s %s (lowest peak of the runs)\n' "predictions waiting at most" "$peak_min"
printf 'BENCH_LABELS {"store":"memory","broker":"eddy","learner":"%s","partitions":%d,"records":%d,"delay":%d,"inline_records_per_second":%s,"late_records_per_second":%s,"ratio":%s,"inline_cpu_us_per_record":%s,"late_cpu_us_per_record":%s,"cpu_ratio":%s,"load":"%s"}\n' \
  "$LEARNER" "$P" "$N" "$DELAY" "$in_best" "$late_best" "$ratio" "$in_us" "$late_us" "$cpu_ratio" \
  "$(uptime | sed 's/.*load average: //')"
# A bench reports; it does not fail on a figure (the machine's load moves
# them): the verdict is printed above and in the BENCH_LABELS line.
