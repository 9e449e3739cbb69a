#!/usr/bin/env bash
# case_group_kill.sh: two `eddy run` instances in one consumer group split
# the four partitions; one is killed with SIGKILL mid-stream: after its
# session times out, the other takes its partitions and restores their
# models and offsets from Redis. Against Apache Kafka and `eddy broker`.
source "$(dirname "$0")/lib.sh"

parts_of() { curl -sf "http://127.0.0.1:$1/healthz" | sed -n 's/.*"partitions":\([0-9]*\).*/\1/p'; }
split_is() {
  local a b
  a=$(parts_of "$1") b=$(parts_of "$2")
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ $((a + b)) -eq 4 ]
}
holds() { [ "$(parts_of "$1")" = "$2" ]; }

scenario() {
  fault_setup "$1"
  # The second instance: its own /metrics port (and, under exactly once,
  # its own transactional.id).
  local port_b cfg_b=$EDDY_TEST_TMP/b.ini
  port_b=$(free_port)
  sed -e "s/^listen = 127.0.0.1:$PORT$/listen = 127.0.0.1:$port_b/" "$CFG" > "$cfg_b"
  if [ "$GUARANTEE" = exactly_once ]; then
    sed -i 's/^bootstrap.servers = \(.*\)$/bootstrap.servers = \1\ntransactional.id = fx-a/' "$CFG"
    sed -i 's/^bootstrap.servers = \(.*\)$/bootstrap.servers = \1\ntransactional.id = fx-b/' "$cfg_b"
  fi
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx "$EDDY_TEST_TMP/a.log"
  local a=$RUN_PID
  start_fx "$EDDY_TEST_TMP/b.log" "$cfg_b"
  local b=$RUN_PID
  wait_for 90 "the two instances to split the 4 partitions" split_is "$PORT" "$port_b"
  log "split: $(parts_of "$PORT") + $(parts_of "$port_b") partitions"
  wait_consumed $((FAULTS_RECORDS / 10)) 120 "$port_b"
  RUN_PID=$b kill_fx KILL
  log "instance b killed with SIGKILL"
  wait_for 90 "instance a to hold all 4 partitions" holds "$PORT" 4
  grep -q "model restored from" "$EDDY_TEST_TMP/a.log" || fail "instance a restored no model"
  RUN_PID=$a
  fault_wait_produced
  finish_fx
  fault_verify "2 instances, one SIGKILLed: the other took its partitions"
}

run_scenarios scenario kafka eddy
log "case_group_kill: ok"
