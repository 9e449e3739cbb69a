#!/usr/bin/env bash
# case_broker_down.sh: the Kafka broker goes away for 10 s and comes back
# while records stream in. Apache Kafka: the broker process is stopped
# (SIGTERM) and started again on its data (tools/kafka.sh restart); the
# producer of the input retries meanwhile. `eddy broker`: its fault
# commands `down 1` and `up 1`.
source "$(dirname "$0")/lib.sh"

DOWN=10

scenario() {
  fault_setup "$1"
  fault_produce --rate $((FAULTS_RECORDS / 40 + 1))
  start_fx
  wait_assigned "$RUN_LOG"
  wait_consumed $((FAULTS_RECORDS / 5))
  case "$1" in
    kafka)
      "$EDDY_ROOT/tools/kafka.sh" stop "$KAFKA_DIR"
      log "Kafka stopped for ${DOWN}s"
      sleep $DOWN
      "$EDDY_ROOT/tools/kafka.sh" restart "$KAFKA_DIR" > /dev/null
      ;;
    eddy)
      broker_ctl down 1 > /dev/null
      log "eddy broker down for ${DOWN}s"
      sleep $DOWN
      broker_ctl up 1 > /dev/null
      ;;
  esac
  log "broker back"
  wait_log "$RUN_LOG" "pipeline $PIPE: Kafka at .* is reachable again" 120
  fault_wait_produced
  finish_fx
  fault_verify "broker down ${DOWN}s and back"
}

run_scenarios scenario kafka eddy
log "case_broker_down: ok"
