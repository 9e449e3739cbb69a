#!/usr/bin/env bash
# case_redis_stop.sh: redis-server frozen with SIGSTOP for 15 s, then
# SIGCONT, mid-stream: the connection stays open but nothing answers;
# eddy's own deadlines must notice, and nothing may be lost or learned
# twice when Redis answers again. Against Apache Kafka and `eddy broker`.
source "$(dirname "$0")/lib.sh"

STOP=15

scenario() {
  fault_setup "$1"
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx
  wait_assigned "$RUN_LOG"
  wait_consumed $((FAULTS_RECORDS / 4))
  kill -STOP "$REDIS_PID"
  log "redis-server stopped (SIGSTOP) for ${STOP}s"
  sleep $STOP
  kill -CONT "$REDIS_PID"
  log "redis-server continued (SIGCONT)"
  fault_wait_produced
  finish_fx
  fault_verify "redis-server SIGSTOP ${STOP}s, SIGCONT"
}

run_scenarios scenario kafka eddy
log "case_redis_stop: ok"
