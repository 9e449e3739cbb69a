#!/usr/bin/env bash
# bench_e2e.sh: `eddy run` end to end, from produce to prediction
# delivered, through `eddy broker` and through Apache Kafka: JSON records of
# 10 numeric features (tests/bench/e2e_load.c writes them and reads the
# predictions), logistic regression (naive Bayes when this build has no
# logistic_regression, said in the output). For each broker:
#   - records/s: N records produced as fast as the load generator can,
#     divided by the time from the first send to the last prediction read
#     back (best of BENCH_RUNS runs);
#   - latency at a fixed offered rate (BENCH_RATE/s): p50, p99, p999 of
#     send to prediction read back (the run with the best p99 of BENCH_RUNS);
#   - the same job written the way users write it today (py_job.py: Python
#     confluent-kafka consumer + scikit-learn partial_fit per record +
#     producer), its records/s and eddy's ratio to it;
#   - records/s of the same pipeline with its state in a local redis-server
#     (`[state] store = redis://...`, five aggregates per entity joined
#     from Redis, 100,000 distinct entity keys, model checkpoints every
#     10 s), best of BENCH_RUNS (skipped when redis-server is missing);
#   - Apache Kafka only: records/s of the same pipeline with
#     processing.guarantee = exactly_once (transactions every 100 ms;
#     predictions read back read_committed, so counted once committed),
#     best of BENCH_RUNS, beside the at-least-once figure above;
#   - `eddy broker` only: records/s with the dashboard open and polling
#     (tests/bench/dash_poll.py asks the JSON API as the page does, once a
#     second, and BENCH_DASH_STRESS_HZ (20) times a second: 20 pages) against
#     the same run with nobody polling, runs interleaved, best of
#     BENCH_DASH_RUNS (5) each; and the share of the loop's time spent
#     answering the poller (eddy_http_seconds_total over the run's time).
#     The bench fails when answering the page takes 5% of the loop or more,
#     or when the throughput with the page is 5% or more under the one
#     without while the machine is quiet enough to tell (the runs without
#     polling within 5% of each other; otherwise it says so).
# Beside each records/s: eddy's own CPU (user+sys of the `eddy run`
# process, all its threads, from /proc/PID/stat, between the load's start
# and its end) per record in µs (the same figure as CPU-seconds per million
# records), and the broker's (the eddy broker process or the Kafka JVM) over
# the same span: figures that do not depend on other work sharing the cores;
# and of eddy's, its loop thread's (where the record path runs: the rest is
# librdkafka's threads).
# The load generator batches for 1 ms at a fixed rate (librdkafka's
# linger.ms), which the latencies include; eddy's [kafka] sets linger.ms = 1,
# and with `eddy broker` fetch.wait.max.ms = 2 (the mock answers an empty
# fetch only after that wait, even when records arrive meanwhile; Kafka
# answers as soon as records come, so its default 500 ms stays).
# Environment: BENCH_RUNS (3), BENCH_N (300000 through eddy broker: its
# partitions keep ~5 MB each), BENCH_N_KAFKA (1000000), BENCH_RATE (50000),
# BENCH_LAT_SECONDS (6), BENCH_PY_N (20000), EDDY_TEST_BROKERS ("eddy kafka"),
# BENCH_DASH_ONLY=1 (the dashboard's figures alone).
source "$(dirname "$0")/../integration/lib.sh"
trap - ERR

RUNS=${BENCH_RUNS:-3}
RATE=${BENCH_RATE:-50000}
LAT_N=$((RATE * ${BENCH_LAT_SECONDS:-6}))
PY_N=${BENCH_PY_N:-20000}
LOAD=$EDDY_TEST_TMP/e2e_load
VENV_PY=$EDDY_ROOT/.cache/venv/bin/python

cc -O2 -o "$LOAD" "$EDDY_ROOT/tests/bench/e2e_load.c" $(pkg-config --cflags --libs rdkafka) -lpthread -lm ||
  fail "cannot build the load generator"
LEARNER=naive_bayes
grep -q '^### logistic_regression' <<< "$("$EDDY_BIN" config --reference)" && LEARNER=logistic_regression

json_field() { sed -n "s/.*\"$2\":\\([-0-9.e+na]*\\).*/\\1/p" <<< "$1"; }

# CPU ticks (user + sys, every thread) of process $1 so far; 0 when gone.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2> /dev/null || echo 0; }
# The same for the thread $1 of the process (the main thread: eddy's loop,
# where the record path runs; the rest of eddy's CPU is librdkafka's threads).
thread_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/task/$1/stat" 2> /dev/null || echo 0; }
broker_pid() {
  if [ "$BROKER_KIND" = eddy ]; then echo "$EDDY_BROKER_PID"; else cat "$KAFKA_DIR/kafka.pid"; fi
}
# µs of CPU per record from ticks $1 over $2 records.
us_per_record() { awk -v t="$1" -v k="$CLK_TCK" -v n="$2" 'BEGIN { printf "%.2f", t / k * 1e6 / n }'; }

# Keeps the lowest eddy CPU per record of a row's runs (the least disturbed
# by other work on the cores) in the variables named $1 (eddy) and $2
# (broker), and appends "eddy/broker" to the list named $3.
keep_cpu() {
  local -n e=$1 b=$2 l=$3
  l+="${l:+, }$EDDY_US/$BROKER_US"
  if [ -z "$e" ] || awk -v a="$EDDY_US" -v b="$e" 'BEGIN { exit !(a < b) }'; then
    e=$EDDY_US
    b=$BROKER_US
    if [ "$1" = tp_e ]; then TP_MAIN=$EDDY_MAIN_US; fi
  fi
}

# Runs the load generator ("$@", N records) against the pipeline RUN_PID
# (or the process $CPU_PID): sets OUT, EDDY_US, BROKER_US and EXTRA_US (µs
# of CPU per record over the load's span; EXTRA: the process $EXTRA_PID,
# the redis-server of the Redis row). Fails as the load generator does.
measured_load() {
  local n=$1 pid=${CPU_PID:-$RUN_PID} bpid e0 b0 x0 m0 rc=0
  shift
  bpid=$(broker_pid)
  m0=$(thread_ticks "$pid")
  e0=$(cpu_ticks "$pid")
  b0=$(cpu_ticks "$bpid")
  x0=$(cpu_ticks "${EXTRA_PID:-0}")
  OUT=$("$LOAD" live -b "$BOOTSTRAP" -n "$n" "$@") || rc=$?
  EDDY_MAIN_US=$(us_per_record $(($(thread_ticks "$pid") - m0)) "$n")
  EDDY_US=$(us_per_record $(($(cpu_ticks "$pid") - e0)) "$n")
  BROKER_US=$(us_per_record $(($(cpu_ticks "$bpid") - b0)) "$n")
  EXTRA_US=$(us_per_record $(($(cpu_ticks "${EXTRA_PID:-0}") - x0)) "$n")
  return $rc
}

# An eddy pipeline on topics $1 (in) and $2 (out) with P partitions each;
# waits until it holds them all. Sets RUN_PID.
start_eddy() {
  local in=$1 out=$2 cfg=$EDDY_TEST_TMP/$1.ini logf=$EDDY_TEST_TMP/$1.log
  create_topic "$in" "$P"
  create_topic "$out" "$P"
  cat > "$cfg" <<EOF
${E2E_HTTP:-}
[pipeline]
name = bench-$in
${E2E_PIPELINE:-}
[source]
topics = $in
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
$FETCH_WAIT
linger.ms = 1
[features]
numeric = x0, x1, x2, x3, x4, x5, x6, x7, x8, x9
target = y
${E2E_FEATURES:-}
[model]
learner = $LEARNER
[sink]
predictions = $out
${E2E_STATE:-}
EOF
  ( exec setsid "$EDDY_BIN" run -c "$cfg" > "$logf" 2>&1 < /dev/null ) &
  RUN_PID=$!
  _track "$RUN_PID"
  wait_for 60 "eddy to be assigned $in" grep -q "pipeline bench-$in: assigned" "$logf"
  sleep 0.5
}

stop_eddy() { stop_pid "$RUN_PID"; }

bench_broker() {
  local kind=$BROKER_KIND name best=0 runs="" lat_best="" lat_p99=1e9 r out rps
  TP_MAIN=""
  local tp_e="" tp_b="" tp_l="" lat_e="" lat_b="" lat_l="" py_e="" py_b="" py_l="" rd_e="" rd_b="" rd_l=""
  local eo_e="" eo_b="" eo_l="" rd_x=""
  name=$([ "$kind" = eddy ] && echo "eddy broker (librdkafka mock)" || echo "Apache Kafka 3.9 (KRaft, 1 node)")
  local n=$([ "$kind" = eddy ] && echo "${BENCH_N:-300000}" || echo "${BENCH_N_KAFKA:-1000000}")
  P=$([ "$kind" = eddy ] && echo 16 || echo 8)
  if [ "$kind" = eddy ]; then
    FETCH_WAIT="fetch.wait.max.ms = 2"
    export E2E_FETCH_WAIT_MS=1
  else
    FETCH_WAIT=""
    export E2E_FETCH_WAIT_MS=500
  fi
  local runs_main=$RUNS only=${BENCH_DASH_ONLY:-0}
  [ "$only" = 1 ] && runs_main=0
  for r in $(seq 1 "$runs_main"); do
    start_eddy "tp$r" "tpo$r"
    measured_load "$n" -t "tp$r" -o "tpo$r" -r 0 || fail "throughput run $r: $OUT"
    out=$OUT
    stop_eddy
    keep_cpu tp_e tp_b tp_l
    rps=$(json_field "$out" records_per_second)
    runs+="${runs:+, }$rps"
    [ "$rps" -gt "$best" ] && best=$rps
    start_eddy "lt$r" "lto$r"
    E2E_LINGER_MS=1 measured_load "$LAT_N" -t "lt$r" -o "lto$r" -r "$RATE" || fail "latency run $r: $OUT"
    out=$OUT
    stop_eddy
    keep_cpu lat_e lat_b lat_l
    local p99
    p99=$(json_field "$out" p99_ms)
    log "run $r: $rps records/s (eddy CPU ${tp_l##*, } µs/record, eddy/broker); at $RATE/s: p50 $(json_field "$out" p50_ms) p99 $p99 p999 $(json_field "$out" p999_ms) ms (CPU ${lat_l##*, } µs/record)"
    if awk -v a="$p99" -v b="$lat_p99" 'BEGIN { exit !(a < b) }'; then
      lat_p99=$p99
      lat_best=$out
    fi
  done

  # The Python job, through the same broker.
  local py_rps="n/a" ratio="n/a"
  if [ "$only" != 1 ] && [ -x "$VENV_PY" ] && "$VENV_PY" -c 'import sklearn' 2>/dev/null; then
    create_topic py_in "$P"
    create_topic py_out "$P"
    ( exec setsid "$VENV_PY" "$EDDY_ROOT/tests/bench/py_job.py" "$BOOTSTRAP" py_in py_out py-job \
        > "$EDDY_TEST_TMP/py.log" 2>&1 < /dev/null ) &
    local py_pid=$!
    _track "$py_pid"
    wait_for 60 "the Python job to be assigned" grep -q "assigned" "$EDDY_TEST_TMP/py.log"
    CPU_PID=$py_pid measured_load "$PY_N" -t py_in -o py_out -r 0 || fail "python run: $OUT"
    out=$OUT
    stop_pid "$py_pid"
    keep_cpu py_e py_b py_l
    py_rps=$(json_field "$out" records_per_second)
    ratio=$(awk -v a="$best" -v b="$py_rps" 'BEGIN { printf "%.0f", a / b }')
  fi
  # The same pipeline with its state in Redis: 100,000 entities.
  local redis_best=0 redis_runs="" redis_row="n/a"
  if [ "$only" != 1 ] && command -v redis-server > /dev/null; then
    start_redis
    for r in $(seq 1 "$RUNS"); do
      E2E_FEATURES="key = user" E2E_STATE="[state]
store = $REDIS_URL
aggregates = count(*), mean(x0), ewma(x1, 0.1), max(x2), since_last()" start_eddy "rs$r" "rso$r"
      E2E_KEYS=100000 EXTRA_PID=$REDIS_PID measured_load "$n" -t "rs$r" -o "rso$r" -r 0 || fail "redis run $r: $OUT"
      out=$OUT
      stop_eddy
      keep_cpu rd_e rd_b rd_l
      rd_x+="${rd_x:+, }$EXTRA_US"
      rps=$(json_field "$out" records_per_second)
      redis_runs+="${redis_runs:+, }$rps"
      [ "$rps" -gt "$redis_best" ] && redis_best=$rps
      log "redis run $r: $rps records/s"
    done
    stop_pid "$REDIS_PID"
    redis_row=$redis_best
  fi
  # Exactly once (Apache Kafka only: refused on the mock cluster).
  local eos_best=0 eos_runs="" eos_row="n/a (mock cluster: refused)"
  if [ "$kind" = kafka ] && [ "$only" != 1 ]; then
    for r in $(seq 1 "$RUNS"); do
      E2E_PIPELINE="processing.guarantee = exactly_once" start_eddy "eo$r" "eoo$r"
      measured_load "$n" -t "eo$r" -o "eoo$r" -r 0 || fail "exactly-once run $r: $OUT"
      out=$OUT
      stop_eddy
      keep_cpu eo_e eo_b eo_l
      rps=$(json_field "$out" records_per_second)
      eos_runs+="${eos_runs:+, }$rps"
      [ "$rps" -gt "$eos_best" ] && eos_best=$rps
      log "exactly-once run $r: $rps records/s"
    done
    eos_row=$eos_best
  fi
  # The dashboard polling (eddy broker only: the bound is about the loop).
  local dash_row="n/a (eddy broker only)" dash_fail=0
  if [ "$kind" = eddy ]; then
    local dash_runs=${BENCH_DASH_RUNS:-5} hz mode off_best=0 on_best=0 st_best=0 off_all="" on_all="" st_all=""
    local stress=${BENCH_DASH_STRESS_HZ:-20} dport poll_pid polled="" off_min=0 share share_page=0 share_st=0 hs
    for r in $(seq 1 "$dash_runs"); do
      for mode in off on stress; do
        dport=$(free_port)
        E2E_HTTP="[http]
listen = 127.0.0.1:$dport" start_eddy "d$mode$r" "d${mode}o$r"
        poll_pid=""
        if [ "$mode" != off ]; then
          hz=$([ "$mode" = on ] && echo 1 || echo "$stress")
          ( exec setsid /usr/bin/python3 "$EDDY_ROOT/tests/bench/dash_poll.py" "$dport" "$hz" \
              > "$EDDY_TEST_TMP/poll-$mode$r.log" 2>&1 < /dev/null ) &
          poll_pid=$!
          _track "$poll_pid"
          sleep 1
        fi
        out=$("$LOAD" live -b "$BOOTSTRAP" -t "d$mode$r" -o "d${mode}o$r" -n "$n" -r 0) || fail "dashboard run $r ($mode): $out"
        [ -n "$poll_pid" ] && stop_pid "$poll_pid" && polled=$(tail -1 "$EDDY_TEST_TMP/poll-$mode$r.log")
        hs=$(curl -sf "http://127.0.0.1:$dport/metrics" | awk '$1 == "eddy_http_seconds_total" { print $2 }')
        stop_eddy
        rps=$(json_field "$out" records_per_second)
        # the loop's share spent answering, over the run's time (n / rps)
        share=$(awk -v h="${hs:-0}" -v n="$n" -v r="$rps" 'BEGIN { printf "%.3f", h * 100 * r / n }')
        case $mode in
          off) off_all+="${off_all:+, }$rps"; [ "$rps" -gt "$off_best" ] && off_best=$rps
               { [ "$off_min" = 0 ] || [ "$rps" -lt "$off_min" ]; } && off_min=$rps ;;
          on) on_all+="${on_all:+, }$rps"; [ "$rps" -gt "$on_best" ] && on_best=$rps
              share_page=$(awk -v a="$share" -v b="$share_page" 'BEGIN { print (a > b ? a : b) }') ;;
          stress) st_all+="${st_all:+, }$rps"; [ "$rps" -gt "$st_best" ] && st_best=$rps
                  share_st=$(awk -v a="$share" -v b="$share_st" 'BEGIN { print (a > b ? a : b) }') ;;
        esac
        log "dashboard run $r, $mode: $rps records/s, answering took $share% of the loop ${poll_pid:+(poller: $polled)}"
      done
    done
    local diff st_diff
    diff=$(awk -v a="$off_best" -v b="$on_best" 'BEGIN { printf "%.1f", (a - b) * 100 / a }')
    st_diff=$(awk -v a="$off_best" -v b="$st_best" 'BEGIN { printf "%.1f", (a - b) * 100 / a }')
    local noise verdict
    noise=$(awk -v a="$off_best" -v b="$off_min" 'BEGIN { printf "%.1f", (a - b) * 100 / a }')
    if awk -v d="$diff" 'BEGIN { exit !(d < 5) }'; then
      verdict="within the 5% bound"
    elif awk -v x="$noise" 'BEGIN { exit !(x < 5) }'; then
      verdict="NOT within the 5% bound"
      dash_fail=1
    else
      verdict="not resolvable here: the runs without polling themselves spread $noise%"
    fi
    awk -v x="$share_page" 'BEGIN { exit !(x < 5) }' || { dash_fail=1; verdict+="; answering the page took 5% of the loop or more"; }
    dash_row="$on_best records/s with the page polling, $off_best without: $diff% lost ($verdict); answering the page took at most $share_page% of the loop's time; $st_best at ${stress} Hz ($st_diff% lost, answering $share_st% of the loop) [runs: none $off_all; page $on_all; ${stress} Hz $st_all]"
  fi
  printf '\nend to end through %s: %d partitions, JSON records of 10 numeric features, %s\n' "$name" "$P" "$LEARNER"
  printf '  %-44s %s records/s (best of %d runs of %d records: %s)\n' "records/s, produce to prediction read" \
    "$best" "$RUNS" "$n" "$runs"
  printf '  %-44s p50 %s ms, p99 %s ms, p999 %s ms (best p99 of %d runs, %d records each)\n' \
    "latency at $RATE records/s" "$(json_field "$lat_best" p50_ms)" "$(json_field "$lat_best" p99_ms)" \
    "$(json_field "$lat_best" p999_ms)" "$RUNS" "$LAT_N"
  printf '  %-44s %s records/s (%d records): eddy is %sx faster\n' \
    "python confluent-kafka + sklearn partial_fit" "$py_rps" "$PY_N" "$ratio"
  printf '  %-44s %s records/s (best of %d runs of %d records: %s)\n' \
    "state in Redis, 100k entity keys, 5 aggregates" "$redis_row" "$RUNS" "$n" "$redis_runs"
  printf '  %-44s %s records/s (best of %d runs of %d records: %s)\n' \
    "processing.guarantee = exactly_once" "$eos_row" "$RUNS" "$n" "$eos_runs"
  printf '  %-44s %s\n' "dashboard open and polling (best of each)" "$dash_row"
  printf '  CPU per record, µs (= CPU-seconds per million records), lowest of the runs; eddy / the broker [every run]:\n'
  printf '    %-42s eddy %s (its loop thread %s, librdkafka'"'"'s threads the rest)\n' "records/s run, the lowest" "$tp_e" "$TP_MAIN"
  printf '    %-42s eddy %s, broker %s [%s]\n' "records/s run" "$tp_e" "$tp_b" "$tp_l" \
    "latency run at $RATE/s" "$lat_e" "$lat_b" "$lat_l" \
    "python job (its process, not eddy)" "${py_e:-n/a}" "${py_b:-n/a}" "$py_l" \
    "state in Redis (redis-server: ${rd_x:-n/a})" "${rd_e:-n/a}" "${rd_b:-n/a}" "$rd_l" \
    "exactly_once" "${eo_e:-n/a}" "${eo_b:-n/a}" "$eo_l"
  printf 'BENCH_E2E {"broker":"%s","learner":"%s","partitions":%d,"records_per_second":%s,"runs":[%s],"rate":%s,"p50_ms":%s,"p99_ms":%s,"p999_ms":%s,"python_records_per_second":"%s","ratio":"%s","redis_records_per_second":"%s","exactly_once_records_per_second":"%s","eddy_cpu_us_per_record":"%s","eddy_loop_thread_cpu_us_per_record":"%s","broker_cpu_us_per_record":"%s","latency_eddy_cpu_us_per_record":"%s","latency_broker_cpu_us_per_record":"%s","load":"%s"}\n' \
    "$kind" "$LEARNER" "$P" "$best" "$runs" "$RATE" "$(json_field "$lat_best" p50_ms)" \
    "$(json_field "$lat_best" p99_ms)" "$(json_field "$lat_best" p999_ms)" "$py_rps" "$ratio" "$redis_row" "$eos_row" "$tp_e" "${TP_MAIN:-}" "$tp_b" "$lat_e" "$lat_b" \
    "$(uptime | sed 's/.*load average: //')"
  [ "$dash_fail" = 0 ] || { log "FAIL: the dashboard's polling cost 5% or more of the throughput"; return 1; }
}

echo "bench_e2e: eddy run end to end ($(nproc) cores; load average $(uptime | sed 's/.*load average: //'))"
for_each_broker bench_broker
