#!/usr/bin/env bash
# test_run_threads_eos.sh: processing.guarantee = exactly_once with worker
# threads (`[run] threads = 2`) on Apache Kafka and a real redis-server:
# each instance has its own producer, so its own transactional.id (the
# pipeline's with .0 and .1 appended). Pipeline `te` (naive Bayes, ADWIN,
# aggregates and checkpoints in Redis, every 5th transaction aborted by
# EDDY_FAULT_ABORT_EVERY) reads 8 partitions streamed at a fixed rate, is
# killed with SIGKILL once both threads hold partitions and restarted at
# once (each thread's id fences its predecessor's), then:
#   - stream_check.py reads the outputs read_committed: one prediction per
#     good record, one dead letter per bad one, no duplicate;
#   - the log names the two transactional ids, aborts were injected and
#     rewound, checkpoints were restored after the kill;
#   - `eddy verify --exactly-once` exits 0.
# Skipped, saying why, where Apache Kafka cannot run (EDDY_REQUIRE_KAFKA=1:
# a failure).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=${EOS_THREADS_RECORDS:-8000}
BAD=97

if ! why=$("$EDDY_ROOT/tools/kafka.sh" check 2>&1); then
  [ "${EDDY_REQUIRE_KAFKA:-0}" = 1 ] && fail "Apache Kafka unavailable: $why"
  log "SKIP test_run_threads_eos: Apache Kafka unavailable: $why"
  exit 77
fi
start_kafka
start_redis --appendonly yes --appendfsync always
create_topic in 8
create_topic te.predictions 2
create_topic te.dlq 1
create_topic te.alerts 1
port=$(free_port)
cfg=$EDDY_TEST_TMP/te.ini
FEATURES_EXTRA="key = user" write_config "$cfg" te in "[state]
store = $REDIS_URL
aggregates = count(*), mean(x1), since_last()
checkpoint_interval = 0.5

[run]
threads = 2

[http]
listen = 127.0.0.1:$port"
sed -i 's/^window = 200$/window = 200\nprocessing.guarantee = exactly_once/' "$cfg"

gen in $N --rate 500 --entities 64 --bad-every $BAD &
gen_pid=$!
export EDDY_FAULT_ABORT_EVERY=5
start_run "$cfg" "$EDDY_TEST_TMP/run0.log"
wait_log "$EDDY_TEST_TMP/run0.log" "pipeline te: assigned .*\(thread 1\)$" 90
grep -qE "pipeline te: assigned .*\(thread 0\)$" "$EDDY_TEST_TMP/run0.log" || wait_log "$EDDY_TEST_TMP/run0.log" "pipeline te: assigned .*\(thread 0\)$" 30
sleep 2
stop_run KILL
log "killed after both threads were assigned; restarting"
start_run "$cfg" "$EDDY_TEST_TMP/run1.log"
wait "$gen_pid" || fail "the producer failed"
bad=$((N / BAD))
out=$(check --in in --pred te.predictions --dlq te.dlq --pipeline te --with-id --exactly-once --timeout 180)
log "check: $out"
grep -q "^inputs $N predicted $((N - bad)) dead-lettered $bad duplicates 0 " <<< "$out" || fail "$out"
stop_run TERM
unset EDDY_FAULT_ABORT_EVERY
assert_eq 0 "$RUN_RC" "exit status after SIGTERM"

for k in 0 1; do
  grep -qE "pipeline te: exactly once: transactions as eddy\.te\..*\.$k, committed" "$EDDY_TEST_TMP/run1.log" ||
    fail "no transactional.id ending in .$k: $(grep 'transactions as' "$EDDY_TEST_TMP/run1.log")"
done
aborts=$(cat "$EDDY_TEST_TMP"/run*.log | grep -c 'exactly once: aborting the transaction' || true)
rewound=$(cat "$EDDY_TEST_TMP"/run*.log | grep -c ': rewound: model from' || true)
restored=$(grep -c 'model restored from eddy:te:ckpt:' "$EDDY_TEST_TMP/run1.log" || true)
log "aborts injected: $aborts, partitions rewound: $rewound, restored after the kill: $restored"
[ "$aborts" -ge 1 ] || fail "no transaction was aborted"
[ "$rewound" -ge "$aborts" ] || fail "$aborts aborts rewound $rewound partitions"
[ "$restored" -ge 1 ] || fail "the restart restored no checkpoint"

set +e
vout=$("$EDDY_BIN" verify -c "$cfg" --exactly-once --expect-dlq $bad --json 2> "$EDDY_TEST_TMP/verify.err")
vrc=$?
set -e
log "eddy verify --exactly-once -> $vrc"$'\n'"$(cat "$EDDY_TEST_TMP/verify.err")"$'\n'"$vout"
assert_eq 0 "$vrc" "eddy verify --exactly-once on the threads = 2 run"
log "test_run_threads_eos: ok"
