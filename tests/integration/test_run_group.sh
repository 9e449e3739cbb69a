#!/usr/bin/env bash
# test_run_group.sh: two `eddy run` processes in one consumer group split
# the partitions (each has a model per partition it holds) and together
# predict every record exactly once; when one stops (SIGTERM: it commits
# and leaves the group), the other takes its partitions over from the
# committed offsets and predicts what follows, each record once. Against
# `eddy broker` and Apache Kafka.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=4000
MORE=1000

parts_of() { curl -sf "http://127.0.0.1:$1/healthz" | sed -n 's/.*"partitions":\([0-9]*\).*/\1/p'; }

split_is() { # both hold partitions, and all 6 between them
  local a b
  a=$(parts_of "$1") b=$(parts_of "$2")
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ $((a + b)) -eq 6 ]
}

holds() { [ "$(parts_of "$1")" = "$2" ]; }
counts_add_up() {
  local a b
  a=$(metric "$1" eddy_records_in_total 'pipeline="grp"') b=$(metric "$2" eddy_records_in_total 'pipeline="grp"')
  [ -n "$a" ] && [ -n "$b" ] && [ $((a + b)) -eq "$3" ]
}

scenario() {
  create_topic in 6
  create_topic grp.predictions 2
  create_topic grp.dlq 1
  create_topic grp.alerts 1
  local pa pb
  pa=$(free_port)
  pb=$(free_port)
  write_config "$EDDY_TEST_TMP/a.ini" grp in "[http]
listen = 127.0.0.1:$pa"
  write_config "$EDDY_TEST_TMP/b.ini" grp in "[http]
listen = 127.0.0.1:$pb"
  start_run "$EDDY_TEST_TMP/a.ini" "$EDDY_TEST_TMP/a.log"
  local a=$RUN_PID
  start_run "$EDDY_TEST_TMP/b.ini" "$EDDY_TEST_TMP/b.log"
  local b=$RUN_PID
  wait_for 60 "the two processes to split the 6 partitions" split_is "$pa" "$pb"
  log "split: $(parts_of "$pa") + $(parts_of "$pb") partitions"

  gen in $N
  local out
  out=$(check --in in --pred grp.predictions --pipeline grp --exactly-once --with-id)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 duplicates 0 " <<< "$out" || fail "$out"
  local ra rb
  wait_for 10 "both counts in /metrics" counts_add_up "$pa" "$pb" $N
  ra=$(metric "$pa" eddy_records_in_total 'pipeline="grp"')
  rb=$(metric "$pb" eddy_records_in_total 'pipeline="grp"')
  log "records: $ra by one, $rb by the other"
  [ "$ra" -gt 0 ] && [ "$rb" -gt 0 ] || fail "one process predicted nothing ($ra, $rb)"

  # B leaves once both have committed (a commit that a rebalance refuses
  # would be retried, but the records it covers would be predicted again).
  wait_committed "$pa" grp
  wait_committed "$pb" grp
  RUN_PID=$b stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the process that left"
  wait_for 60 "the remaining process to hold all 6 partitions" holds "$pa" 6
  gen in $MORE --start $N
  out=$(check --in in --pred grp.predictions --pipeline grp --exactly-once --with-id)
  log "check after one left: $out"
  grep -q "^inputs $((N + MORE)) predicted $((N + MORE)) dead-lettered 0 duplicates 0 " <<< "$out" || fail "$out"
  RUN_PID=$a stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
}

for_each_broker scenario
log "test_run_group: ok"
