#!/usr/bin/env bash
# test_run_threads.sh: `eddy run --threads N` (worker threads, one pipeline
# instance per thread in the pipeline's consumer group) gives every
# partition the model one thread gives it. The same 8-partition SEA input
# (`eddy gen`, SEA's concept 3 to 4 half way) goes through `eddy broker` to
# pipeline t1 (`--threads 1`) and to pipeline t2 (`[run] threads = 2`),
# both ADWIN bagging with an ADWIN detector, checkpoints in a real
# redis-server every 0.5 s; after SIGTERM (final checkpoints):
#   - each run predicted every record ( /metrics sums t2's two instances);
#   - both of t2's threads were assigned partitions;
#   - the 8 checkpoints of t1 and t2 name the same next offsets and hold
#     the same model bytes (SHA-256 of `eddy models`), partition by
#     partition: a task's model does not depend on the thread count;
#   - `eddy verify` exits 0 on t2 (every record predicted once, the 8
#     models equal to their replay from offset 0, drift alerts written);
#   - /healthz, HTTP predict on each partition (answered by the thread that
#     owns it), the dashboard's API, a SIGHUP reload that replaces t2 (its 2 instances drain and
#     2 new ones take the partitions over from the checkpoints) and a clean
#     stop work with threads.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=16000
P=8

# cfg FILE NAME PORT [RUN-SECTION]
cfg() {
  cat > "$1" <<EOF
${4:-}
[pipeline]
name = $2
window = 200

[source]
topics = in

[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10

[features]
numeric = attrib1, attrib2, attrib3
target = class

[model]
learner = adwin_bagging
ensemble_size = 3

[drift]
detector = adwin

[state]
store = $REDIS_URL
checkpoint_interval = 0.5

[sink]
predictions = $2.predictions
dead_letter = $2.dlq
alerts = $2.alerts

[http]
listen = 127.0.0.1:$3
EOF
}

jfield() { "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

start_eddy_broker
start_redis
create_topic in $P
for p in t1 t2; do
  create_topic $p.predictions 2
  create_topic $p.dlq 1
  create_topic $p.alerts 1
done
"$EDDY_BIN" gen sea --n $N --seed 7 --format jsonl --concept 3 --drift-to 4 --drift-at $((N / 2)) --topic in \
  --bootstrap "$BOOTSTRAP" 2>&1 | tee -a "$EDDY_TEST_TMP/gen.log"

p1=$(free_port)
p2=$(free_port)
cfg "$EDDY_TEST_TMP/t1.ini" t1 "$p1"
cfg "$EDDY_TEST_TMP/t2.ini" t2 "$p2" "[run]
threads = 2"

# --threads 1: the one-thread path as it always was.
( exec setsid "$EDDY_BIN" run -c "$EDDY_TEST_TMP/t1.ini" --threads 1 > "$EDDY_TEST_TMP/t1.log" 2>&1 < /dev/null ) &
RUN_PID=$!
_track "$RUN_PID"
wait_metric "$p1" eddy_predictions_delivered_total 'pipeline="t1"' $N 120
stop_run TERM
assert_eq 0 "$RUN_RC" "t1: exit status after SIGTERM"
grep -q "worker threads" "$EDDY_TEST_TMP/t1.log" && fail "t1 (--threads 1) started worker threads"

# [run] threads = 2.
start_run "$EDDY_TEST_TMP/t2.ini" "$EDDY_TEST_TMP/t2.log"
wait_metric "$p2" eddy_predictions_delivered_total 'pipeline="t2"' $N 120
grep -q "2 worker threads" "$EDDY_TEST_TMP/t2.log" || fail "t2 did not start 2 worker threads"
for k in 0 1; do
  grep -qE "pipeline t2: assigned .*\(thread $k\)$" "$EDDY_TEST_TMP/t2.log" || fail "thread $k of t2 was never assigned a partition"
done
assert_eq $N "$(metric "$p2" eddy_records_in_total 'pipeline="t2"')" "t2: records in, summed over its instances"
parts=$(curl -sf "http://127.0.0.1:$p2/healthz" | sed -n 's/.*"partitions":\([0-9]*\).*/\1/p')
assert_eq $P "$parts" "t2: partitions in /healthz, summed over its instances"
n_part=$(curl -sf "http://127.0.0.1:$p2/metrics" | grep -c '^eddy_partition_records_total{pipeline="t2"')
assert_eq $P "$n_part" "t2: per-partition samples in /metrics"
stop_run TERM
assert_eq 0 "$RUN_RC" "t2: exit status after SIGTERM"

# The same model bytes, partition by partition.
m1=$(models "$EDDY_TEST_TMP/t1.ini")
m2=$(models "$EDDY_TEST_TMP/t2.ini")
log "t1 checkpoints:"$'\n'"$m1"
log "t2 checkpoints:"$'\n'"$m2"
assert_eq $P "$(wc -l <<< "$m1")" "t1: checkpoints"
assert_eq $N "$(awk '{ s += $2 } END { print s }' <<< "$m1")" "t1: next offsets add up to the records"
grep -q None <<< "$m1$m2" && fail "a checkpoint without a model"
assert_eq "$m1" "$m2" "checkpoints (partition, next offset, model SHA-256) of --threads 1 and of threads = 2"

set +e
vout=$("$EDDY_BIN" verify -c "$EDDY_TEST_TMP/t2.ini" --json 2> "$EDDY_TEST_TMP/verify.err")
vrc=$?
set -e
log "eddy verify t2 -> $vrc"$'\n'"$(cat "$EDDY_TEST_TMP/verify.err")"$'\n'"$vout"
assert_eq 0 "$vrc" "eddy verify exit status on the threads = 2 run"
assert_eq "$N $N 0 0 $P $P" \
  "$(for f in records_in predictions duplicates lost models_checked models_equal; do jfield "$vout" $f; done | xargs)" \
  "verify: records_in predictions duplicates lost models_checked models_equal"
[ "$(jfield "$vout" alerts)" -gt 0 ] || fail "no drift alert from the threads (the drift at $((N / 2))): $vout"

# A reload that replaces t2 with threads: its instances drain, the new ones
# restore the 8 checkpoints and go on; then a clean stop.
start_run "$EDDY_TEST_TMP/t2.ini" "$EDDY_TEST_TMP/t2b.log"
wait_for 60 "t2 to hold the $P partitions again" \
  bash -c "curl -sf http://127.0.0.1:$p2/healthz | grep -q '\"partitions\":$P'"
# Serving from the partition's owner, whichever thread holds it; the
# dashboard's API sums the instances.
for k in $(seq 0 $((P - 1))); do
  body=$(curl -s -w ' %{http_code}' -X POST -d '{"attrib1": 1.5, "attrib2": 2.5, "attrib3": 3}' \
    "http://127.0.0.1:$p2/v1/pipelines/t2/predict?partition=$k")
  [ "${body##* }" = 200 ] || fail "predict on partition $k: $body"
  grep -q "\"partition\":$k" <<< "$body" || fail "predict on partition $k: $body"
done
curl -sf "http://127.0.0.1:$p2/api/pipelines" | grep -q '"t2"' || fail "/api/pipelines lacks t2"
sed -i 's/^window = 200$/window = 300/' "$EDDY_TEST_TMP/t2.ini"
kill -HUP "$RUN_PID"
wait_log "$EDDY_TEST_TMP/t2b.log" "reload applied: replaced t2" 30
"$EDDY_BIN" gen sea --n 800 --seed 8 --format jsonl --topic in --bootstrap "$BOOTSTRAP" > /dev/null 2>&1
wait_metric "$p2" eddy_predictions_delivered_total 'pipeline="t2"' 800 120
stop_run TERM
assert_eq 0 "$RUN_RC" "t2 after the reload: exit status after SIGTERM"
m3=$(models "$EDDY_TEST_TMP/t2.ini")
assert_eq $((N + 800)) "$(awk '{ s += $2 } END { print s }' <<< "$m3")" "t2 after the reload: next offsets"
log "test_run_threads: ok"
