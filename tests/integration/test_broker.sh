#!/usr/bin/env bash
# test_broker.sh: `eddy broker` as a Kafka broker for other processes (kcat
# and Python's confluent-kafka produce and consume through it), its fixed
# ports and its fault commands; the same produce/consume check against a
# real Apache Kafka.
source "$(dirname "$0")/lib.sh"

N=1000
CLIENT="$PYTHON $(dirname "$0")/kafka_client.py"

# 1,000 keyed records into topic t (3 partitions), read back by kcat and by
# confluent-kafka: the same records, each once, every partition used, and
# offsets 0..n-1 in each partition.
roundtrip() {
  [ "$BROKER_KIND" = eddy ] || create_topic t 3
  local parts
  parts=$(kcat -L -b "$BOOTSTRAP" -t t | grep -cE '^ +partition [0-9]+, leader')
  assert_eq 3 "$parts" "partitions of t"

  seq 1 $N | awk '{print "key" $1 ":value-" $1}' | produce t -K:
  local want got
  want=$(seq 1 $N | awk '{print "key" $1 " value-" $1}' | sort)
  got=$(CONSUME_FORMAT='%k %s\n' consume t $N | sort)
  [ "$got" = "$want" ] || fail "kcat read back $(wc -l <<< "$got") records that differ from the $N produced"
  log "kcat: $N records back, contents equal"

  local py
  py=$($CLIENT consume "$BOOTSTRAP" t $N)
  [ "$(awk '{print $3}' <<< "$py" | sort)" = "$(seq 1 $N | sed 's/^/value-/' | sort)" ] ||
    fail "confluent-kafka read back records that differ from the $N produced"
  # Each partition got records (keys are hashed over 3 partitions) and holds
  # offsets 0..count-1 exactly once.
  local p count
  for p in 0 1 2; do
    count=$(awk -v p=$p '$1 == p' <<< "$py" | wc -l)
    [ "$count" -gt 0 ] || fail "partition $p got no records"
    [ "$(awk -v p=$p '$1 == p {print $2}' <<< "$py" | sort -n | tr '\n' ' ')" = \
      "$(seq 0 $((count - 1)) | tr '\n' ' ')" ] || fail "partition $p: offsets are not 0..$((count - 1))"
  done
  log "confluent-kafka: $N records back, contents equal, offsets contiguous in 3 partitions"

  # The same key always lands in the same partition (the clients agree on
  # the partitioner with the broker's partition count).
  echo "key7:again" | produce t -K:
  local p7 p7b
  p7=$(awk '$3 == "value-7" {print $1}' <<< "$py")
  p7b=$($CLIENT consume "$BOOTSTRAP" t $((N + 1)) | awk '$3 == "again" {print $1}')
  assert_eq "$p7" "$p7b" "partition of key7 on the second produce"
}

for_each_broker roundtrip --topic t:3

# ------------------------------------------------ eddy broker on its own

# --port: a fixed port; a taken one is an error that names it.
port=$(free_port)
start_eddy_broker --port "$port"
assert_eq "127.0.0.1:$port" "$BOOTSTRAP" "bootstrap with --port $port"
echo "x" | produce fixed
assert_eq x "$(consume fixed 1)" "record through the fixed port"
set +e
msg=$("$EDDY_BIN" broker --port "$port" 2>&1 < /dev/null)
rc=$?
set -e
assert_eq 1 "$rc" "exit status with a taken port"
grep -q "port $port: Address already in use" <<< "$msg" || fail "taken port: unexpected message: $msg"
log "--port $port works; a second broker on it exits 1: $msg"

# Unknown topics are created on first use with 4 partitions (the mock's
# fixed default).
echo "y" | produce auto
assert_eq 4 "$(kcat -L -b "$BOOTSTRAP" -t auto | grep -cE '^ +partition [0-9]+, leader')" \
  "partitions of an auto-created topic"

# Control commands answer ok / error: ...
broker_ctl topic made 2 > /dev/null
assert_eq 2 "$(kcat -L -b "$BOOTSTRAP" -t made | grep -cE '^ +partition [0-9]+, leader')" \
  "partitions of a topic made by the topic command"
broker_ctl topic made 2 > /dev/null && fail "creating an existing topic succeeded"
broker_ctl down 2 > /dev/null && fail "down 2 succeeded on a 1-broker cluster"
broker_ctl frobnicate > /dev/null && fail "an unknown command succeeded"
broker_ctl help | grep -q '^leader TOPIC PARTITION BROKER' || fail "help lacks the leader command"
assert_eq "$BOOTSTRAP" "$(broker_ctl brokers)" "the brokers command"

# SIGTERM stops it with status 0; `quit` too; --exit-on-eof ends with stdin.
pid=$EDDY_BROKER_PID
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
assert_eq 0 "$rc" "exit status after SIGTERM"
BROKER_KIND=""
assert_eq "ok" "$(printf 'quit\n' | "$EDDY_BIN" broker 2> /dev/null | tail -1)" "answer to quit"
out=$(printf 'rtt 1 5\n' | timeout 10 "$EDDY_BIN" broker --exit-on-eof 2> /dev/null) ||
  fail "eddy broker --exit-on-eof did not exit 0 at the end of stdin"
assert_eq ok "$(tail -1 <<< "$out")" "answer to rtt before the end of stdin"
log "SIGTERM, quit and --exit-on-eof stop it with status 0"

# Fault commands with 3 brokers, driven from Python (leader moves, down/up,
# rtt, request errors, topic errors, coordinator move).
start_eddy_broker --brokers 3 --topic f:3
assert_eq 3 "$(tr ',' '\n' <<< "$BOOTSTRAP" | wc -l)" "bootstrap entries with --brokers 3"
$CLIENT faults "$BOOTSTRAP" "$EDDY_BROKER_DIR/ctl" "$EDDY_BROKER_DIR/out"
stop_broker
log "test_broker: all checks passed"
