#!/usr/bin/env bash
# case_bad_avro.sh: a flood of bad Confluent-framed Avro records mixed into
# good ones: every 10th record is truncated, has trailing bytes, is garbage
# or names the wrong schema id. Against Apache Kafka and `eddy broker`.
source "$(dirname "$0")/lib.sh"

scenario() {
  fault_setup "$1"
  sed -i -e "s|^topics = in$|topics = in\nformat = avro\nschema = $AVSC\nwire_format = confluent\nschema_id = 7|" "$CFG"
  # Its records (tests/integration/records.avsc) have x1, x2, c and y only:
  # no id, no entity key, hence no aggregates; Redis keeps the checkpoints.
  sed -i -e '/^id = id$/d' -e '/^key = user$/d' -e '/^aggregates = /d' "$CFG"
  grep -q '^wire_format = confluent$' "$CFG" || fail "config: $(cat "$CFG")"
  N=$FAULTS_RECORDS
  fault_produce --bad-every 10 --format confluent
  start_fx
  fault_wait_produced
  finish_fx
  fault_verify "bad Avro x$BAD: truncated/trailing/garbage/wrong schema id"
}

run_scenarios scenario kafka eddy
log "case_bad_avro: ok"
