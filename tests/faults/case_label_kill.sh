#!/usr/bin/env bash
# case_label_kill.sh: labels that arrive later ([source] label_topic, Redis
# store), `eddy run` killed with SIGKILL five times at random moments
# (seeded by FAULTS_SEED) while records and their labels (each 1/10 of the
# stream later) stream in: every kill falls between predictions and their
# labels. Each restart restores the models, the predictions waiting for
# their labels and both offsets from one checkpoint; eddy verify replays
# both partitions in timestamp order and finds every checkpoint's model
# and waiting predictions equal to the recomputed ones, every label
# joined once or dead-lettered (the 10 unknown ids). Against `eddy broker`
# and Apache Kafka.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/labels.sh"

KILLS=5

scenario() {
  labels_setup "$1"
  local k
  labels_produce $((N / 15 + 1))
  start_fx
  for k in $(seq 1 $KILLS); do
    wait_assigned "$RUN_LOG"
    rand_sleep 500 2500
    kill_fx KILL
    log "kill $k of $KILLS: SIGKILL (exit $RUN_RC)"
    start_fx
  done
  labels_wait_produced
  labels_finish
  fault_verify "SIGKILL x$KILLS between predictions and labels"
}

run_scenarios scenario eddy kafka
log "case_label_kill: ok"
