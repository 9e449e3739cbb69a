#!/usr/bin/env bash
# test_run_restart.sh: no prediction is lost across stops, against `eddy
# broker` and Apache Kafka. While records stream in, `eddy run` gets
# SIGTERM (it must exit 0 within 10 s), is restarted, is killed with
# SIGKILL (no chance to flush or commit), and is restarted again: every
# record ends up with a prediction (duplicates are allowed: at-least-once).
# max_in_flight = 300 keeps backpressure (pausing and resuming consumption)
# busy the whole time.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=12000
RATE=1500


scenario() {
  create_topic in 4
  create_topic rs.predictions 2
  create_topic rs.dlq 1
  create_topic rs.alerts 1
  local port cfg=$EDDY_TEST_TMP/rs.ini
  port=$(free_port)
  SOURCE_EXTRA="commit_interval_ms = 200" SINK_EXTRA="max_in_flight = 300" write_config "$cfg" rs in "[http]
listen = 127.0.0.1:$port"
  grep -q "^max_in_flight = 300" "$cfg" && grep -q "^commit_interval_ms = 200" "$cfg" || fail "config: $(cat "$cfg")"

  gen in $N --rate $RATE --label-every 2 &
  local gen_pid=$!

  start_run "$cfg" "$EDDY_TEST_TMP/run1.log"
  wait_for 60 "the first records predicted" records_over "$port" rs 1000
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM mid-stream"
  [ "$RUN_SECONDS" -lt 10 ] || fail "SIGTERM took ${RUN_SECONDS}s"

  start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
  wait_for 60 "records after the restart" records_over "$port" rs 1000
  stop_run KILL
  log "killed with SIGKILL mid-stream"

  start_run "$cfg" "$EDDY_TEST_TMP/run3.log"
  wait "$gen_pid" || fail "the producer failed"
  local out
  out=$(check --in in --pred rs.predictions --dlq rs.dlq --pipeline rs --with-id --timeout 120)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
}

for_each_broker scenario
log "test_run_restart: ok"
