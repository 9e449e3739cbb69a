#!/usr/bin/env bash
# test_run_reload.sh: plugging in a topic without a restart, against `eddy
# broker` and Apache Kafka. While records stream into the running pipeline
# `old`, the config gains a pipeline `new` on another topic and eddy gets
# SIGHUP: `new` starts predicting its topic, `old` keeps running with its
# models (its counters go on, its records are predicted exactly once). A
# config that does not validate is refused with its file:line:key error and
# changes nothing; a reload that removes `new` drains it and commits.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=6000
RATE=1000
M=800

running() { curl -sf "http://127.0.0.1:$1/healthz" | grep -q "\"$2\":{\"state\":\"running\""; }
gone() { ! curl -sf "http://127.0.0.1:$1/healthz" | grep -q "\"$2\":"; }
learned_over() { local v; v=$(metric "$1" eddy_learn_total "pipeline=\"$2\""); [ -n "$v" ] && [ "$v" -gt "$3" ]; }

scenario() {
  local t
  for t in old new; do
    create_topic $t.in 2
    create_topic $t.predictions 1
    create_topic $t.dlq 1
    create_topic $t.alerts 1
  done
  local port cfg=$EDDY_TEST_TMP/reload.ini logf=$EDDY_TEST_TMP/run.log
  port=$(free_port)
  write_config "$EDDY_TEST_TMP/old.part" old old.in
  write_config "$EDDY_TEST_TMP/new.part" new new.in
  { printf '[http]\nlisten = 127.0.0.1:%s\n\n' "$port"; cat "$EDDY_TEST_TMP/old.part"; } > "$cfg"
  start_run "$cfg" "$logf"
  gen old.in $N --rate $RATE &
  local gen_pid=$!
  wait_for 60 "pipeline old learning" learned_over "$port" old 500

  # Add `new`: `old`'s section is unchanged (only further down the file).
  { printf '[http]\nlisten = 127.0.0.1:%s\n\n' "$port"; cat "$EDDY_TEST_TMP/new.part" "$EDDY_TEST_TMP/old.part"; } > "$cfg"
  local before
  before=$(metric "$port" eddy_learn_total 'pipeline="old"')
  kill -HUP "$RUN_PID"
  wait_log "$logf" "reload applied: added new, kept old" 20
  wait_for 60 "pipeline new running" running "$port" new
  gen new.in $M --start 100000
  local out
  out=$(check --in new.in --pred new.predictions --dlq new.dlq --pipeline new --exactly-once --with-id)
  log "new: $out"
  grep -q "^inputs $M predicted $M dead-lettered 0 duplicates 0 " <<< "$out" || fail "new: $out"
  # `old` kept its models: its counters were not reset by the reload.
  local after
  after=$(metric "$port" eddy_learn_total 'pipeline="old"')
  [ "$after" -ge "$before" ] || fail "old's learn count went from $before to $after: its models were replaced"

  # A config that does not validate: refused, nothing changes.
  cp "$cfg" "$EDDY_TEST_TMP/good.ini"
  printf 'bogus_key = 1\n' >> "$cfg"
  local line
  line=$(wc -l < "$cfg")
  kill -HUP "$RUN_PID"
  wait_log "$logf" "reload refused, the running pipelines go on unchanged: .*reload.ini:$line: \[sink\] key 'bogus_key': unknown key" 20
  running "$port" old && running "$port" new || fail "a refused reload changed the running set"
  assert_eq 1 "$(metric "$port" eddy_config_reload_failures_total '')" "eddy_config_reload_failures_total"

  wait "$gen_pid" || fail "the producer of old.in failed"
  out=$(check --in old.in --pred old.predictions --dlq old.dlq --pipeline old --exactly-once --with-id)
  log "old: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 duplicates 0 " <<< "$out" || fail "old: $out"
  assert_eq $N "$(metric "$port" eddy_records_in_total 'pipeline="old"')" "old's records_in across the reloads"

  # Remove `new`: it drains and commits; `old` goes on.
  { printf '[http]\nlisten = 127.0.0.1:%s\n\n' "$port"; cat "$EDDY_TEST_TMP/old.part"; } > "$cfg"
  kill -HUP "$RUN_PID"
  wait_log "$logf" "reload applied: kept old, removed new" 20
  wait_log "$logf" "pipeline new: stopped after $M records" 30
  wait_for 30 "new gone from /healthz" gone "$port" new
  running "$port" old || fail "old stopped"
  assert_eq 2 "$(metric "$port" eddy_config_reloads_total '')" "eddy_config_reloads_total"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
  # `new` committed when it was removed: a new run of it predicts nothing again.
  write_config "$EDDY_TEST_TMP/new.ini" new new.in "[http]
listen = 127.0.0.1:$port"
  start_run "$EDDY_TEST_TMP/new.ini" "$EDDY_TEST_TMP/new.log"
  wait_log "$EDDY_TEST_TMP/new.log" "pipeline new: assigned" 60
  sleep 2
  assert_eq 0 "$(metric "$port" eddy_records_in_total 'pipeline="new"')" "records of new consumed again"
  stop_run TERM
}

for_each_broker scenario
log "test_run_reload: ok"
