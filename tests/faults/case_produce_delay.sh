#!/usr/bin/env bash
# case_produce_delay.sh: `eddy broker` delays its answers to produce
# requests: 200 responses 3 s late (broker-error 1 Produce NO_ERROR 3000),
# then every response of the broker 500 ms late for 10 s (rtt), while
# records stream in. Outputs wait for their delivery reports; checkpoints
# and commits wait for them.
source "$(dirname "$0")/lib.sh"

scenario() {
  fault_setup "$1"
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx
  wait_assigned "$RUN_LOG"
  wait_consumed $((FAULTS_RECORDS / 5))
  broker_ctl broker-error 1 Produce NO_ERROR 3000 200 > /dev/null
  log "the next 200 produce responses 3 s late"
  wait_consumed $((FAULTS_RECORDS / 2))
  broker_ctl rtt 1 500 > /dev/null
  log "every response 500 ms late for 10 s"
  sleep 10
  broker_ctl rtt 1 0 > /dev/null
  fault_wait_produced
  finish_fx
  fault_verify "produce responses delayed (3 s x200, then 500 ms for 10 s)"
}

run_scenarios scenario eddy
log "case_produce_delay: ok"
