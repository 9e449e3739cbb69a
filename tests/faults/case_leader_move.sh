#!/usr/bin/env bash
# case_leader_move.sh: on a three-broker `eddy broker`, the leaders of the
# input partitions and of the predictions partitions move from broker to
# broker while records stream in (eight moves, seeded).
source "$(dirname "$0")/lib.sh"

MOVES=8

scenario() {
  fault_setup "$1" --brokers 3
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx
  wait_assigned "$RUN_LOG"
  local k p b
  for k in $(seq 1 $MOVES); do
    wait_consumed $((FAULTS_RECORDS * k / (MOVES + 2)))
    p=$(rand_ms 0 3)
    b=$(rand_ms 1 3)
    broker_ctl leader in "$p" "$b" > /dev/null
    broker_ctl leader $PIPE.predictions "$(rand_ms 0 15)" "$(rand_ms 1 3)" > /dev/null
    log "move $k: leader of in [$p] to broker $b, and of a predictions partition"
  done
  fault_wait_produced
  finish_fx
  fault_verify "partition leaders moved x$MOVES"
}

run_scenarios scenario eddy
log "case_leader_move: ok"
