#!/usr/bin/env bash
# case_label_redis.sh: labels that arrive later ([source] label_topic, Redis
# store): Redis killed with SIGKILL and restarted (AOF, fsync always)
# twice while predictions wait for their labels, then `eddy run` killed
# once: the waiting predictions of the last checkpoint before the kill
# come back from Redis with it. eddy verify: every checkpoint's model and
# waiting predictions equal to the recomputed ones, every label joined
# once or dead-lettered. Against `eddy broker` and Apache Kafka.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/labels.sh"

scenario() {
  labels_setup "$1"
  labels_produce $((N / 15 + 1))
  start_fx
  wait_assigned "$RUN_LOG"
  local k
  for k in 1 2; do
    rand_sleep 1000 2500
    kill_redis
    log "Redis killed ($k of 2)"
    rand_sleep 500 1500
    restart_redis
  done
  rand_sleep 500 1500
  kill_fx KILL
  log "eddy run killed after the Redis restarts (exit $RUN_RC)"
  start_fx
  labels_wait_produced
  labels_finish
  fault_verify "Redis SIGKILL+restart x2 while features wait, then SIGKILL"
}

run_scenarios scenario eddy kafka
log "case_label_redis: ok"
