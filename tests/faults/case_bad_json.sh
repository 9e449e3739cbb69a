#!/usr/bin/env bash
# case_bad_json.sh: a flood of bad JSON records mixed into good ones, on
# Apache Kafka (10 MB values do not fit `eddy broker`'s partitions):
# 10 x FAULTS_RECORDS records (a million in the full run), every good one
# with its own value of the categorical c (a million distinct values: the
# dictionary is bounded by max_values, later values share the overflow
# value); every 10th record bad, rotating through not JSON, truncated,
# wrong type, an array, nesting 5,000 deep, a required field missing,
# invalid UTF-8, a 5,000-byte value, a 100 kB record; and ten 10 MB
# records (over max_record_bytes: dead-lettered with their first 64 KiB).
# The dead-letter topic must hold exactly the bad records.
source "$(dirname "$0")/lib.sh"

scenario() {
  IN_TOPIC_CONFIG="max.message.bytes=12000000" fault_setup "$1"
  N=$((FAULTS_RECORDS * 10))
  fault_produce --bad-every 10 --huge-every $((N / 10)) --distinct-c --max-bytes 12000000
  start_fx
  fault_wait_produced
  log "$BAD bad records among $N"
  finish_fx 600
  fault_verify "bad JSON x$BAD (10MB, deep, bad UTF-8..), $N distinct c"
}

run_scenarios scenario kafka
log "case_bad_json: ok"
