#!/usr/bin/env bash
# test_skips.sh: records a broker no longer has are never skipped silently
# (issue 19). A one-partition topic loses its oldest records:
#   - eddy broker (librdkafka's mock keeps ~5 MB per partition) drops them
#     when 150,000 SEA records are produced: it warns, and the counts it
#     names add up to the low watermark an independent client reads;
#     Apache Kafka: Admin.deleteRecords moves the log start (as retention);
#   - eddy run counts and logs every offset it jumped over
#     (eddy_records_skipped_total), exactly the offsets between where it was
#     and the new log start: at a fresh start (the head gone before the
#     first record), while running (stopped with SIGSTOP while the head
#     moves past its position: an out-of-range reset), and at a restart
#     from its committed offset;
#   - eddy verify exits 2, "cannot verify: TOPIC:0 no longer starts at
#     offset 0", instead of reporting missing outputs;
#   - eddy demo at full speed finishes, counting what its broker dropped;
#   - Kafka: a transactional input's gaps (commit markers, an aborted
#     transaction) are not skips.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

# "LOW HIGH" of partition 0 of a topic, by an independent client.
watermarks() {
  "$PYTHON" - "$BOOTSTRAP" "$1" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "eddy-test-wm"})
lo, hi = c.get_watermark_offsets(TopicPartition(sys.argv[2], 0), timeout=10)
print(lo, hi)
c.close()
PY
}

# Moves partition 0's log start to OFFSET: on eddy broker by producing
# N more records (the mock drops the oldest), on Kafka by deleteRecords
# after producing N.
sea() { "$EDDY_BIN" gen sea --n "$2" --seed "$3" --topic "$1" --bootstrap "$BOOTSTRAP" > /dev/null; }
delete_before() {
  java -cp "$EDDY_ROOT/.cache/kafka/libs/*" "$EDDY_ROOT/tests/integration/DeleteRecords.java" \
    "$BOOTSTRAP" "$1" 0 "$2" > /dev/null 2> "$EDDY_TEST_TMP/delete.err" ||
    fail "deleteRecords $1 before $2: $(grep -v log4j "$EDDY_TEST_TMP/delete.err")"
}

write_sea_config() {
  HTTP_PORT=$(free_port)
  cat > "$1" <<INI
[pipeline]
name = sk
[source]
topics = $2
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10
[features]
numeric = attrib1, attrib2, attrib3
target = class
[model]
learner = naive_bayes
[sink]
predictions = $2.predictions
dead_letter = $2.dlq
[http]
listen = 127.0.0.1:$HTTP_PORT
INI
}

_committed_at() { [ "$(metric "$HTTP_PORT" eddy_committed_offset "pipeline=\"sk\",topic=\"$1\",partition=\"0\"")" = "$2" ]; }
committed_at() { wait_for 30 "pipeline sk to commit $1 [0] at $2" _committed_at "$1" "$2"; }

skipped() { metric "$HTTP_PORT" eddy_records_skipped_total 'pipeline="sk"'; }

_broker_dropped() {
  local sum
  sum=$(grep -oE "topic $1: dropped its [0-9]+ oldest records" "$EDDY_BROKER_DIR/err" |
        awk '{ s += $5 } END { print s + 0 }')
  [ "$sum" -eq "$2" ]
}

# Runs the pipeline until it consumed N records; checks skipped = S.
consume_all() {
  wait_metric "$HTTP_PORT" eddy_records_in_total 'pipeline="sk"' "$1" 120
  assert_eq "$2" "$(skipped)" "eddy_records_skipped_total"
}

check_verify() {
  set +e
  "$EDDY_BIN" verify -c "$1" > "$EDDY_TEST_TMP/verify.out" 2> "$EDDY_TEST_TMP/verify.err"
  local rc=$?
  set -e
  assert_eq 2 "$rc" "eddy verify's exit status on a topic that lost its head"
  grep -q "cannot verify: $2:0 no longer starts at offset 0" "$EDDY_TEST_TMP/verify.err" ||
    fail "eddy verify did not say why: $(cat "$EDDY_TEST_TMP/verify.err")"
}

on_eddy_broker() {
  local cfg=$EDDY_TEST_TMP/eddy.ini logf=$EDDY_TEST_TMP/run-eddy.log lo hi lo2 hi2 lo3 hi3
  sea bigin 150000 1
  read -r lo hi < <(watermarks bigin)
  log "bigin: offsets $lo..$hi after 150000 records"
  [ "$lo" -gt 0 ] && [ "$hi" -eq 150000 ] || fail "the mock kept every record ($lo..$hi): nothing to test"
  wait_for 15 "eddy broker to warn that bigin dropped $lo records" _broker_dropped bigin "$lo"
  grep -q "a real Kafka keeps them" "$EDDY_BROKER_DIR/err" || fail "the warning does not say a real Kafka keeps them"

  write_sea_config "$cfg" bigin
  start_run "$cfg" "$logf"
  consume_all $((hi - lo)) "$lo"
  grep -q "bigin \[0\]: $lo records skipped (offsets 0..$((lo - 1)))" "$logf" || fail "no skip logged at the start"
  committed_at bigin "$hi"

  # While it runs: stopped, the head moves past its position.
  kill -STOP "$RUN_PID"
  sea bigin 150000 2
  read -r lo2 hi2 < <(watermarks bigin)
  kill -CONT "$RUN_PID"
  [ "$lo2" -gt "$hi" ] || fail "the head did not pass the run's position ($lo2 <= $hi)"
  consume_all $((hi - lo + hi2 - lo2)) $((lo + lo2 - hi))
  grep -q "bigin \[0\]: $((lo2 - hi)) records skipped (offsets $hi..$((lo2 - 1)))" "$logf" ||
    fail "no skip logged while running"
  committed_at bigin "$hi2"
  stop_run

  # A restart from the committed offset, the head past it.
  sea bigin 150000 3
  read -r lo3 hi3 < <(watermarks bigin)
  start_run "$cfg" "$logf.2"
  consume_all $((hi3 - lo3)) $((lo3 - hi2))
  stop_run
  check_verify "$cfg" bigin
}

on_kafka() {
  local cfg=$EDDY_TEST_TMP/kafka.ini logf=$EDDY_TEST_TMP/run-kafka.log
  create_topic skin 1
  sea skin 1000 1
  write_sea_config "$cfg" skin
  start_run "$cfg" "$logf"
  consume_all 1000 0
  committed_at skin 1000
  kill -STOP "$RUN_PID"
  sea skin 1000 2
  delete_before skin 1500
  kill -CONT "$RUN_PID"
  consume_all 1500 500
  grep -q "skin \[0\]: 500 records skipped (offsets 1000..1499)" "$logf" || fail "no skip logged while running"
  committed_at skin 2000
  stop_run
  sea skin 1000 3
  delete_before skin 2500
  start_run "$cfg" "$logf.2"
  consume_all 500 500
  grep -q "skin \[0\]: 500 records skipped (offsets 2000..2499)" "$logf.2" || fail "no skip logged at the restart"
  stop_run
  check_verify "$cfg" skin

  # Gaps of the log's own are no skips: a transactional producer's commit
  # markers take an offset after each transaction, and an aborted one hides
  # its 50 records from read_committed readers: 150 records, none skipped.
  # (A fresh topic per attempt: a coordinator still loading can fail one.)
  local tx
  tx=$("$PYTHON" - "$BOOTSTRAP" <<'PY'
import json, sys, time
from confluent_kafka import KafkaException, Producer
for attempt in range(3):
    topic = f"sktx{attempt}"
    try:
        p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": f"eddy-test-skips-{attempt}"})
        p.init_transactions(30)
        for t in range(4):
            p.begin_transaction()
            for i in range(50):
                p.produce(topic, json.dumps({"attrib1": i % 10, "attrib2": t, "attrib3": 1.5,
                                             "class": str(i % 2)}).encode(), partition=0)
            p.flush(30)
            if t == 2:
                p.abort_transaction(30)
            else:
                p.commit_transaction(30)
        print(topic)
        break
    except KafkaException as e:
        print(f"transactional producer, attempt {attempt + 1}: {e}", file=sys.stderr)
        time.sleep(2)
else:
    sys.exit("no transactional topic written")
PY
)
  write_sea_config "$cfg.tx" "$tx" # librdkafka reads read_committed by default
  start_run "$cfg.tx" "$logf.tx"
  consume_all 150 0
  stop_run
  if grep -q "records skipped" "$logf.tx"; then fail "gaps of a transactional topic taken for skips: $(grep 'records skipped' "$logf.tx")"; fi
}

# eddy demo at full speed on its embedded broker: 600,000 records into one
# partition (~46,000 fit) used to hang at the records the broker dropped;
# it finishes, and what it delivered plus what it says was lost is all.
demo_finishes() {
  local out=$EDDY_TEST_TMP/demo.out rc delivered lost
  set +e
  timeout 300 "$EDDY_BIN" demo --rate 0 --events 600000 --partitions 1 --plain > "$out" 2>&1
  rc=$?
  set -e
  assert_eq 0 "$rc" "eddy demo's exit status (124: it hung)"
  delivered=$(sed -n 's/^ *predictions *\([0-9]*\) delivered.*/\1/p' "$out")
  lost=$(sed -n 's/^ *lost *\([0-9]*\) records.*/\1/p' "$out")
  [ -n "$delivered" ] || fail "eddy demo printed no summary: $(tail -5 "$out")"
  assert_eq 600000 $((delivered + ${lost:-0})) "predictions delivered + records lost"
  log "eddy demo: $delivered delivered, ${lost:-0} lost"
}

if [ "${EDDY_TEST_BROKERS:-eddy kafka}" != kafka ]; then
  demo_finishes
  log "== against eddy broker"
  start_eddy_broker --topic bigin:1
  on_eddy_broker
  stop_broker
fi
if [ "${EDDY_TEST_BROKERS:-eddy kafka}" != eddy ]; then
  if why=$("$EDDY_ROOT/tools/kafka.sh" check 2>&1); then
    log "== against Apache Kafka"
    start_kafka
    on_kafka
    stop_broker
  else
    [ "${EDDY_REQUIRE_KAFKA:-0}" = 1 ] && fail "Apache Kafka unavailable: $why"
    log "SKIP against Apache Kafka: $why"
  fi
fi
log "PASS"
