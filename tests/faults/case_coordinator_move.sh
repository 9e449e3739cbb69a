#!/usr/bin/env bash
# case_coordinator_move.sh: on a three-broker `eddy broker`, the group
# coordinator of eddy's consumer group moves from broker to broker while
# records stream in (commits and heartbeats go to the new one).
source "$(dirname "$0")/lib.sh"

MOVES=4

scenario() {
  fault_setup "$1" --brokers 3
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx
  wait_assigned "$RUN_LOG"
  local k b
  for k in $(seq 1 $MOVES); do
    wait_consumed $((FAULTS_RECORDS * k / (MOVES + 2)))
    b=$((k % 3 + 1))
    broker_ctl coordinator group eddy.$PIPE "$b" > /dev/null
    log "move $k: coordinator of group eddy.$PIPE to broker $b"
  done
  fault_wait_produced
  finish_fx
  fault_verify "group coordinator moved x$MOVES"
}

run_scenarios scenario eddy
log "case_coordinator_move: ok"
