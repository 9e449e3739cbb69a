#!/usr/bin/env bash
# bench_threads.sh: thread scaling of `eddy run --threads N` (issue 18):
# an ADWIN bagging pipeline (10 Hoeffding trees, each with its ADWIN) over
# SEA records (`eddy gen sea`, JSON) on 8 partitions of `eddy broker`, with
# 1 and with 2 worker threads, runs interleaved (1, 2, 1, 2, ...).
# Each run: `eddy run` starts on the empty topic and waits until every
# thread holds partitions (no rebalance during the measure), is stopped
# (SIGSTOP) while BENCH_THREADS_N records are produced by `eddy gen`, then
# continued (SIGCONT): the rate is N over the time from then to the moment
# eddy has consumed them all (/metrics polled every 0.1 s). Beside it,
# eddy's CPU (user+sys, all threads, /proc/PID/stat) per record over that
# span. Prints the best of each, their ratio (target: >= 1.7 on 2 cores)
# and the load average, which says how much the other tenants took.
# Environment: BENCH_THREADS_N (300000), BENCH_THREADS_RUNS (2),
# BENCH_THREADS_LEARNER (adwin_bagging).
source "$(dirname "$0")/../integration/lib.sh"
trap - ERR

N=${BENCH_THREADS_N:-300000}
RUNS=${BENCH_THREADS_RUNS:-2}
LEARNER=${BENCH_THREADS_LEARNER:-adwin_bagging}
P=8
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2> /dev/null || echo 0; }
records_in() {
  curl -sf "http://127.0.0.1:$1/metrics" | awk -v n="eddy_records_in_total{pipeline=\"$2\"}" '$1 == n { print $2 }'
}
parts_of() { curl -sf "http://127.0.0.1:$1/healthz" | sed -n 's/.*"partitions":\([0-9]*\).*/\1/p'; }
now_ms() { date +%s%3N; }

start_eddy_broker
load0=$(cut -d' ' -f1 /proc/loadavg)

# One run: threads $1, run index $2. Sets RPS and US.
run_one() {
  local t=$1 r=$2 name=thr$1x$2 port cfg logf pid
  port=$(free_port)
  cfg=$EDDY_TEST_TMP/$name.ini
  logf=$EDDY_TEST_TMP/$name.log
  create_topic "$name" $P
  create_topic "$name.out" $P
  cat > "$cfg" <<EOF
[pipeline]
name = $name
[source]
topics = $name
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 2
linger.ms = 1
[features]
numeric = attrib1, attrib2, attrib3
target = class
[model]
learner = $LEARNER
[sink]
predictions = $name.out
[http]
listen = 127.0.0.1:$port
EOF
  ( exec setsid "$EDDY_BIN" run -c "$cfg" --threads "$t" > "$logf" 2>&1 < /dev/null ) &
  pid=$!
  _track "$pid"
  if [ "$t" -gt 1 ]; then
    wait_for 60 "thread $((t - 1)) of $name to be assigned" grep -q "(thread $((t - 1)))\$" "$logf"
  else
    wait_for 60 "$name to be assigned" grep -q "pipeline $name: assigned" "$logf"
  fi
  wait_for 30 "$name to hold the $P partitions" bash -c "[ \"\$(curl -sf http://127.0.0.1:$port/healthz | sed -n 's/.*\"partitions\":\([0-9]*\).*/\1/p')\" = $P ]"
  # eddy is stopped while the records are produced (well within
  # session.timeout.ms): the measure starts when it goes on, with all N
  # records waiting and the cores free of the producer.
  kill -STOP "$pid"
  "$EDDY_BIN" gen sea --n "$N" --seed "$r" --format jsonl --topic "$name" --bootstrap "$BOOTSTRAP" > /dev/null 2>&1 ||
    { kill -CONT "$pid"; fail "eddy gen"; }
  local t0 c0 r0 cur
  r0=0 # a fresh topic: nothing was there before
  t0=$(now_ms)
  c0=$(cpu_ticks "$pid")
  kill -CONT "$pid"
  cur=$r0
  local deadline=$((t0 + 300000))
  while [ "${cur:-0}" -lt "$N" ] && [ "$(now_ms)" -lt $deadline ]; do
    sleep 0.1
    cur=$(records_in "$port" "$name")
  done
  local t1 c1
  t1=$(now_ms)
  c1=$(cpu_ticks "$pid")
  [ "${cur:-0}" -ge "$N" ] || fail "$name: $cur of $N records after 300 s"
  stop_pid "$pid"
  RPS=$(awk -v n=$((N - r0)) -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ms / 1000) }')
  US=$(awk -v t=$((c1 - c0)) -v k="$CLK_TCK" -v n=$((N - r0)) 'BEGIN { printf "%.2f", t / k * 1e6 / n }')
  log "threads $t, run $r: $RPS records/s over $((N - r0)) records, eddy CPU $US µs/record"
}

best1=0 best2=0 runs1="" runs2="" us1="" us2=""
for r in $(seq 1 "$RUNS"); do
  for t in 1 2; do
    run_one $t "$r"
    if [ $t = 1 ]; then
      runs1+="${runs1:+, }$RPS"; us1+="${us1:+, }$US"; [ "$RPS" -gt "$best1" ] && best1=$RPS
    else
      runs2+="${runs2:+, }$RPS"; us2+="${us2:+, }$US"; [ "$RPS" -gt "$best2" ] && best2=$RPS
    fi
  done
done
load1=$(cut -d' ' -f1 /proc/loadavg)
ratio=$(awk -v a="$best2" -v b="$best1" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
echo "thread scaling: $LEARNER over $P partitions through eddy broker, $N records a run, best of $RUNS"
printf '  %-10s %14s   %-28s %s\n' threads "records/s" "runs" "eddy CPU µs/record (runs)"
printf '  %-10s %14s   %-28s %s\n' 1 "$best1" "$runs1" "$us1"
printf '  %-10s %14s   %-28s %s\n' 2 "$best2" "$runs2" "$us2"
echo "  ratio 2/1: $ratio (target >= 1.7 on 2 free cores); load average $load0 before, $load1 after, on $(nproc) cores"
printf 'BENCH_THREADS {"learner":"%s","partitions":%d,"records":%d,"threads_1":%d,"threads_2":%d,"ratio":%s,"runs_1":[%s],"runs_2":[%s],"cpu_us_1":[%s],"cpu_us_2":[%s],"load":"%s %s"}\n' \
  "$LEARNER" $P "$N" "$best1" "$best2" "$ratio" "$runs1" "$runs2" "$us1" "$us2" "$load0" "$load1"
