#!/usr/bin/env bash
# case_sigterm.sh: `eddy run` stopped with SIGTERM (drain: outputs
# delivered, offsets committed, final checkpoints) and restarted at once,
# five times at random moments while records stream in. Each stop must
# exit 0. Against Apache Kafka and `eddy broker`.
source "$(dirname "$0")/lib.sh"

STOPS=5

scenario() {
  fault_setup "$1"
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx
  local k
  for k in $(seq 1 $STOPS); do
    wait_assigned "$RUN_LOG"
    rand_sleep 500 5000
    stop_run TERM
    assert_eq 0 "$RUN_RC" "exit status after SIGTERM $k"
    start_fx
  done
  fault_wait_produced
  finish_fx
  fault_verify "SIGTERM and restart x$STOPS under load"
}

run_scenarios scenario kafka eddy
log "case_sigterm: ok"
