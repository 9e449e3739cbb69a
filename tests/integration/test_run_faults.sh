#!/usr/bin/env bash
# test_run_faults.sh: the broker goes away mid-stream and comes back; `eddy
# run` says so in one clear line, keeps retrying, loses nothing, and says
# when it is back. Only against `eddy broker`, whose fault commands take
# its single broker down and up again (the harness's Apache Kafka cannot be
# restarted on its data).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=5000
RATE=1000


start_eddy_broker --topic in:3 --topic ft.predictions:2 --topic ft.dlq:1 --topic ft.alerts:1
port=$(free_port)
logf=$EDDY_TEST_TMP/run.log
write_config "$EDDY_TEST_TMP/ft.ini" ft in "[http]
listen = 127.0.0.1:$port"
start_run "$EDDY_TEST_TMP/ft.ini" "$logf"
wait_for 60 "eddy run assigned" grep -q "pipeline ft: assigned" "$logf"
gen in $N --rate $RATE &
gen_pid=$!
wait_for 30 "records flowing" records_over "$port" ft 1000

broker_ctl down 1 > /dev/null
log "broker down"
wait_log "$logf" "pipeline ft: Kafka at .* is unreachable .*retrying; nothing is lost" 30
assert_eq 0 "$(metric "$port" eddy_kafka_reachable 'pipeline="ft"')" "eddy_kafka_reachable while down"
sleep 4
broker_ctl up 1 > /dev/null
log "broker up"
wait_log "$logf" "pipeline ft: Kafka at .* is reachable again after [0-9.]+ s; resuming" 60
wait "$gen_pid" || fail "the producer failed"

out=$(check --in in --pred ft.predictions --dlq ft.dlq --pipeline ft --with-id --timeout 120)
log "check: $out"
grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
assert_eq 1 "$(metric "$port" eddy_kafka_reachable 'pipeline="ft"')" "eddy_kafka_reachable after"
stop_run TERM
assert_eq 0 "$RUN_RC" "exit status"
[ "$RUN_SECONDS" -lt 10 ] || fail "SIGTERM took ${RUN_SECONDS}s"

# A SIGTERM while the broker is down still exits 0 within 10 s (what is
# not committed is consumed again by the next run: nothing is lost).
start_run "$EDDY_TEST_TMP/ft.ini" "$EDDY_TEST_TMP/run2.log"
wait_for 60 "eddy run assigned" grep -q "pipeline ft: assigned" "$EDDY_TEST_TMP/run2.log"
broker_ctl down 1 > /dev/null
wait_log "$EDDY_TEST_TMP/run2.log" "is unreachable" 30
stop_run TERM
assert_eq 0 "$RUN_RC" "exit status with the broker down"
[ "$RUN_SECONDS" -lt 10 ] || fail "SIGTERM with the broker down took ${RUN_SECONDS}s"
log "test_run_faults: ok"
