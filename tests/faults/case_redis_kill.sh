#!/usr/bin/env bash
# case_redis_kill.sh: redis-server (AOF, fsync always) killed with SIGKILL
# mid-stream and restarted on its data 3 s later; eddy pauses, keeps its
# batch, and resumes. Against Apache Kafka and `eddy broker`.
source "$(dirname "$0")/lib.sh"

scenario() {
  fault_setup "$1"
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx
  wait_assigned "$RUN_LOG"
  wait_consumed $((FAULTS_RECORDS / 4))
  kill_redis
  log "redis-server killed with SIGKILL"
  wait_log "$RUN_LOG" "pipeline $PIPE: Redis unreachable: consumption paused" 30
  sleep 3
  restart_redis
  wait_log "$RUN_LOG" "pipeline $PIPE: Redis is back after" 60
  fault_wait_produced
  finish_fx
  fault_verify "redis-server SIGKILL, restart with AOF"
}

run_scenarios scenario kafka eddy
log "case_redis_kill: ok"
