#!/usr/bin/env bash
# test_memory_bound.sh: hostile streams cost `eddy run` bounded memory,
# against Apache Kafka (the volumes are past what `eddy broker` keeps per
# partition; skipped, saying why, without Java or the jars).
#
# One stream of M records in which every record has a categorical value
# never seen before (c = v<i>: the dictionary keeps max_values = 1024 and
# maps the rest onto its overflow value) and an entity key never seen before
# (user = u<i>, with [state] store = memory, three aggregates and
# max_entities = 100000: the least recently seen entities are evicted),
# while 10 MB records arrive among them (past max_record_bytes: dead-
# lettered with their first 64 KiB). The process's peak RSS (VmHWM in
# /proc/PID/status) is sampled while the stream goes on: predictions keep
# coming between samples, and the peak stays under BUDGET_KB. At the end
# every good record has its prediction and every huge one its dead letter
# (eddy verify, exactly once: no restart here).
#
# Budget and measured peak (Debian 12, librdkafka 2.0.2, 2 cores shared,
# Apache Kafka 3.9.2 on the same machine): BUDGET_KB = 262144 (256 MiB).
# What is bounded, and by what: the entity table (max_entities = 100,000:
# about 11 MB), the dictionary (max_values = 1024), outputs in flight
# ([sink] max_in_flight = 100,000 predictions in librdkafka's producer
# queue: with max_in_flight = 10,000 the peak was 122 MB), the prefetch
# ([kafka] queued.max.messages.kbytes = 32768 here), a record past
# max_record_bytes (never decoded; its dead letter carries 64 KiB).
# Measured peaks (VmHWM), M = 1,000,000 with 20 records of 10 MB: 143, 146,
# 164 and 179 MB over four runs (the highest when the group join came late
# and a backlog was there to read); 152 MB with M = 2,000,000 (the same
# plateau for twice the stream); 92 MB with no huge record, flat from the
# first second on. Without the entity bound (max_entities = 10,000,000,
# EDDY_MEMORY_MAX_ENTITIES) the peak grows with the stream and passes
# 256 MB at 667,000 records: the test fails.
# EDDY_MEMORY_RECORDS, EDDY_MEMORY_HUGE and EDDY_MEMORY_BUDGET_KB change M,
# the huge records and the budget.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

M=${EDDY_MEMORY_RECORDS:-1000000}
HUGE=${EDDY_MEMORY_HUGE:-20}
HUGE_BYTES=$((10 * 1024 * 1024))
BUDGET_KB=${EDDY_MEMORY_BUDGET_KB:-262144}

hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# The hostile records: M small ones (kcat, key TAB value) and HUGE of
# HUGE_BYTES (confluent-kafka), interleaved in time.
small_records() {
  awk -v m="$M" 'BEGIN {
    for (i = 0; i < m; i++)
      printf "u%d\t{\"id\":\"r%d\",\"x1\":%.1f,\"x2\":%.1f,\"c\":\"v%d\",\"user\":\"u%d\",\"y\":\"%d\"}\n",
             i, i, (i % 97) / 10, (i % 89) / 10, i, i, (i % 97 + i % 89 > 92) ? 1 : 0
  }' | kcat -P -b "$BOOTSTRAP" -t in -K $'\t' -X acks=1 -X linger.ms=20 -X queue.buffering.max.messages=1000000
}

huge_records() {
  "$PYTHON" - "$BOOTSTRAP" "$HUGE" "$HUGE_BYTES" <<'EOF'
import sys, time
from confluent_kafka import Producer
bootstrap, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": size + 100000, "acks": "all"})
failed = []
for i in range(n):
    value = b'{"id":"huge%d","x1":1,"x2":2,"c":"' % i + b"z" * size + b'","y":"1"}'
    p.produce("in", key=b"huge%d" % i, value=value, headers=[("expect", b"dlq")],
              on_delivery=lambda err, m: failed.append(err) if err else None)
    p.flush(60)
    time.sleep(0.2)
if p.flush(60) or failed:
    sys.exit(f"huge records not delivered: {failed[:3]}")
EOF
}

create_big_topic() {
  "$PYTHON" - "$BOOTSTRAP" "$1" "$2" <<'EOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
t = NewTopic(sys.argv[2], int(sys.argv[3]), 1, config={"max.message.bytes": "12582912"})
for f in admin.create_topics([t], operation_timeout=30).values():
    f.result()
EOF
  wait_for 30 "topic $1 led" _topic_ready "$1" "$2"
}

scenario() {
  create_big_topic in 4
  create_topic hm.predictions 4
  create_topic hm.dlq 1
  create_topic hm.alerts 1
  local port cfg=$EDDY_TEST_TMP/hm.ini
  port=$(free_port)
  # librdkafka's prefetch is part of the budget: at most 32 MiB queued.
  KAFKA_EXTRA="queued.max.messages.kbytes = 32768" FEATURES_EXTRA="key = user" write_config "$cfg" hm in "[state]
store = memory
aggregates = count(*), mean(x1), since_last()
max_entities = ${EDDY_MEMORY_MAX_ENTITIES:-100000}

[http]
listen = 127.0.0.1:$port"
  # Records of up to 1 MiB are read (the huge ones are refused by size, not
  # by the consumer).
  sed -i 's/^max_record_bytes = 65536$/max_record_bytes = 1048576/' "$cfg"

  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  local pid=$RUN_PID
  small_records &
  local small_pid=$!
  huge_records &
  local huge_pid=$!
  # Sample while the stream goes on: predictions keep coming.
  local last=-1 now hwm peak=0 samples=0 stalls=0 good=$M
  while :; do
    sleep 1
    hwm=$(hwm_kb "$pid")
    [ -n "$hwm" ] || fail "eddy run (pid $pid) is gone: $(tail -5 "$EDDY_TEST_TMP/run.log")"
    [ "$hwm" -gt "$peak" ] && peak=$hwm
    now=$(metric "$port" eddy_predictions_delivered_total 'pipeline="hm"')
    now=${now:-0}
    samples=$((samples + 1))
    log "sample $samples: $now predictions delivered, VmHWM $hwm kB"
    [ "$hwm" -lt "$BUDGET_KB" ] || fail "peak RSS $hwm kB over the budget of $BUDGET_KB kB after $now predictions"
    [ "$now" -ge "$good" ] && break
    if [ "$now" -le "$last" ]; then
      stalls=$((stalls + 1))
      [ "$stalls" -lt 60 ] || fail "no prediction for 60 s at $now"
    else
      stalls=0
    fi
    last=$now
  done
  wait "$small_pid" || fail "the small records' producer failed"
  wait "$huge_pid" || fail "the huge records' producer failed"
  wait_metric "$port" eddy_dead_letters_delivered_total 'pipeline="hm"' $HUGE 120
  hwm=$(hwm_kb "$pid")
  [ "$hwm" -gt "$peak" ] && peak=$hwm
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  log "peak RSS $peak kB (budget $BUDGET_KB kB) over $M records with distinct values and keys and $HUGE records of $HUGE_BYTES bytes"
  [ "$peak" -lt "$BUDGET_KB" ] || fail "peak RSS $peak kB over the budget $BUDGET_KB kB"

  local out
  set +e
  out=$("$EDDY_BIN" verify -c "$cfg" --exactly-once --expect-dlq $HUGE --timeout 60 --json)
  local rc=$?
  set -e
  log "eddy verify: $out"
  assert_eq 0 "$rc" "eddy verify exit status"
  grep -q "\"records_in\":$((M + HUGE)),\"decoded\":$M,\"predictions\":$M,\"duplicates\":0,\"lost\":0,\"dlq\":$HUGE," <<< "$out" ||
    fail "eddy verify: $out"
}

# Under ASan (make SANITIZE=1) the RSS is mostly shadow memory and the
# quarantine of freed blocks (256 MiB by default), not eddy's: the budget
# measures nothing there.
if grep -q libasan <<< "$(ldd "$EDDY_BIN" 2>/dev/null)"; then  # not `ldd | grep -q`: SIGPIPE under pipefail
  log "SKIP test_memory_bound: $EDDY_BIN is built with AddressSanitizer, whose shadow memory and quarantine make the peak RSS say nothing of eddy's (run it with the plain build: make test)"
  exit 77
fi
EDDY_TEST_BROKERS=kafka for_each_broker scenario
log "test_memory_bound: ok"
