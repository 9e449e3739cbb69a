#!/usr/bin/env bash
# case_sigkill.sh: `eddy run` killed with SIGKILL ten times at random
# moments (seeded by FAULTS_SEED) while the records stream in, restarted
# each time; every partition restores its model and offset from Redis.
# Against Apache Kafka and `eddy broker`.
source "$(dirname "$0")/lib.sh"

KILLS=10

scenario() {
  fault_setup "$1"
  local rate=$((FAULTS_RECORDS / 60 + 1)) k
  fault_produce --rate $rate
  start_fx
  for k in $(seq 1 $KILLS); do
    wait_assigned "$RUN_LOG"
    rand_sleep 200 4000
    kill_fx KILL
    log "kill $k of $KILLS: SIGKILL (exit $RUN_RC)"
    start_fx
  done
  fault_wait_produced
  finish_fx
  fault_verify "SIGKILL x$KILLS at random moments"
}

run_scenarios scenario kafka eddy
log "case_sigkill: ok"
