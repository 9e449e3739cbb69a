#!/usr/bin/env bash
# test_run_dlq.sh: bad input never stops the stream and is never lost,
# against `eddy broker` and Apache Kafka. Three pipelines in one config:
# JSON, plain Avro and Confluent-framed Avro (schema id 7). Every fifth
# record is malformed (not JSON, truncated, a wrong type, an array, nested
# 5000 deep, a required field missing, invalid UTF-8, a 5 KB nominal value,
# a record over max_record_bytes; Avro truncated, with trailing bytes,
# garbage, the wrong schema id): each lands in the dead-letter topic with
# its original key, value and headers, and eddy.errors.* headers naming the
# source topic, partition, offset, stage and error; every good record
# around them is predicted exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=1000

avro_pipeline() {
  local name=$1 wire=$2
  cat <<EOF

[pipeline]
name = $name
[source]
topics = $name.in
format = avro
schema = $AVSC
wire_format = $wire
schema_id = $([ "$wire" = confluent ] && echo 7 || echo -1)
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10
[features]
numeric = x1, x2
nominal = c
target = y
[model]
learner = naive_bayes
[sink]
predictions = $name.predictions
dead_letter = $name.dlq
EOF
}

scenario() {
  local t
  for t in js av cf; do
    create_topic $t.in 3
    create_topic $t.predictions 2
    create_topic $t.dlq 2 # the mock keeps ~5 MB a partition: 22 oversized letters of 100 KB
  done
  gen js.in $N --bad-every 5 --label-every 3
  gen av.in $N --bad-every 5 --format avro
  gen cf.in $N --bad-every 5 --format confluent

  local cfg=$EDDY_TEST_TMP/dlq.ini port
  port=$(free_port)
  write_config "$cfg" js js.in "[http]
listen = 127.0.0.1:$port"
  { avro_pipeline av plain; avro_pipeline cf confluent; } >> "$cfg"
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"

  local out
  out=$(check --in js.in --pred js.predictions --dlq js.dlq --pipeline js --exactly-once --with-id)
  log "json: $out"
  grep -q "^inputs $N predicted $((N * 4 / 5)) dead-lettered $((N / 5)) duplicates 0 " <<< "$out" || fail "json: $out"
  # Each kind of bad record is rejected where it should be.
  local want
  for want in "array: decode/eddy.EPARSE" "bad_utf8: decode/eddy.EPARSE" "deep: decode/eddy.EPARSE" \
              "long_value: decode/eddy.ERANGE" "missing_required: validate/eddy.EMISSING" \
              "not_json: decode/eddy.EPARSE" "oversized: size/eddy.ERANGE" "truncated: decode/eddy.EPARSE" \
              "wrong_type: decode/eddy.ETYPE"; do
    grep -qF "[$want]" <<< "$out" || fail "json: no [$want] in: $out"
  done

  out=$(check --in av.in --pred av.predictions --dlq av.dlq --pipeline av --exactly-once)
  log "avro: $out"
  grep -q "^inputs $N predicted $((N * 4 / 5)) dead-lettered $((N / 5)) duplicates 0 " <<< "$out" || fail "avro: $out"
  out=$(check --in cf.in --pred cf.predictions --dlq cf.dlq --pipeline cf --exactly-once)
  log "confluent avro: $out"
  grep -q "^inputs $N predicted $((N * 4 / 5)) dead-lettered $((N / 5)) duplicates 0 " <<< "$out" ||
    fail "confluent avro: $out"
  grep -qF "[avro_wrong_id: decode/eddy.EPARSE]" <<< "$out" || fail "the wrong schema id is not refused: $out"

  wait_metric "$port" eddy_dead_letters_delivered_total 'pipeline="js"' $((N / 5))
  assert_eq $((N / 5)) "$(metric "$port" eddy_dead_lettered_total 'pipeline="av"')" "eddy_dead_lettered_total of av"
  local dec
  dec=$(metric "$port" eddy_decode_errors_total 'pipeline="js"')
  [ "$dec" -gt 0 ] && [ "$dec" -lt $((N / 5)) ] || fail "eddy_decode_errors_total of js: $dec"
  assert_eq $((N / 5 / 9)) "$(metric "$port" eddy_oversized_records_total 'pipeline="js"')" \
    "eddy_oversized_records_total (the ninth kind of bad record)"

  # kcat sees the headers too.
  local h
  h=$(CONSUME_FORMAT='%h\n' consume js.dlq 1)
  grep -q "eddy.errors.topic=js.in" <<< "$h" && grep -q "eddy.errors.stage=" <<< "$h" || fail "kcat headers: $h"

  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
}

for_each_broker scenario
log "test_run_dlq: ok"
