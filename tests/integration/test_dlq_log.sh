#!/usr/bin/env bash
# test_dlq_log.sh: a stream whose records fail is not silent (issue 19).
# 300 records whose x1 is not a number: eddy run logs, at most every 5 s
# and once more at its stop, how many were dead-lettered by stage with the
# first one's error, loudly (error, NOTHING PREDICTED) while no record at
# all has passed; then 50 good records and 20 bad ones: warnings (not the
# loud line) naming the first bad one's offset. The counts the lines give
# add up to exactly the records dead-lettered.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

bad() { seq "$1" "$2" | awk '{ printf "{\"x1\":\"abc\",\"x2\":1,\"c\":\"a\",\"y\":\"p\",\"id\":\"%d\"}\n", $1 }'; }
good() { seq "$1" "$2" | awk '{ printf "{\"x1\":%d,\"x2\":1,\"c\":\"a\",\"y\":\"%s\",\"id\":\"%d\"}\n", $1 % 7, $1 % 2 ? "p" : "n", $1 }'; }

# The sum of the counts a kind of line gives ("N dead-lettered in the last").
counted() { grep -E "$1" "$2" | grep -oE '[0-9]+ (records )?dead-lettered in the last' | awk '{ s += $1 } END { print s + 0 }'; }

scenario() {
  local cfg=$EDDY_TEST_TMP/dl-$BROKER_KIND.ini logf=$EDDY_TEST_TMP/run-$BROKER_KIND.log port
  port=$(free_port)
  create_topic dl 1
  write_config "$cfg" dl dl "[http]
listen = 127.0.0.1:$port"
  bad 1 300 | produce dl
  start_run "$cfg" "$logf"
  wait_log "$logf" "NOTHING PREDICTED" 60
  grep -m1 "NOTHING PREDICTED" "$logf" | grep -q "the first: dl \[0\] offset 0: field 'x1'" ||
    fail "the loud line does not name the first record and its error: $(grep -m1 'NOTHING PREDICTED' "$logf")"
  grep "NOTHING PREDICTED" "$logf" | grep -q "eddy error" || fail "the loud line is not an error"
  wait_metric "$port" eddy_dead_lettered_total 'pipeline="dl"' 300 60
  wait_for 15 "the 300 dead letters reported" bash -c "[ \$(grep -E 'NOTHING PREDICTED' '$logf' | grep -oE '[0-9]+ dead-lettered in the last' | awk '{ s += \$1 } END { print s + 0 }') -eq 300 ]"

  good 301 350 | produce dl
  bad 351 370 | produce dl
  wait_metric "$port" eddy_dead_lettered_total 'pipeline="dl"' 320 60
  wait_for 15 "the 20 later dead letters reported" bash -c "grep -q 'records dead-lettered in the last' '$logf'"
  stop_run
  grep -m1 "records dead-lettered in the last" "$logf" | grep -q "eddy warn: .*(decode [0-9]*); the first: dl \[0\] offset 350: field 'x1'" ||
    fail "the warning does not name the first bad record after the good ones: $(grep -m1 'records dead-lettered' "$logf")"
  assert_eq 300 "$(counted 'NOTHING PREDICTED' "$logf")" "dead letters the loud lines count"
  assert_eq 20 "$(counted 'records dead-lettered in the last' "$logf")" "dead letters the warnings count"
}

for_each_broker scenario
log "PASS"
