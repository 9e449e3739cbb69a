#!/usr/bin/env bash
# test_redis_restart.sh: Redis dies in the middle of a run and comes back,
# against `eddy broker` and Apache Kafka. redis-server (AOF, fsync always)
# is killed with SIGKILL while records stream in: `eddy run` says that
# consumption is paused (one line), /metrics says eddy_paused 1, and the
# records wait in Kafka; redis-server restarts on the same port and
# directory: the run says Redis is back and resumes. Nothing is lost: every
# record gets a prediction, and the final models (SHA-256 per partition
# from `eddy models`) equal those of an uninterrupted run over the same
# records (the batch in hand when Redis went is kept and read again, the
# write-backs and checkpoints that were on their way are replayed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=6000
RATE=1000
E=64

four_checkpoints() { [ "$(models "$1" | wc -l)" -eq 4 ]; }

scenario() {
  start_redis --appendonly yes --appendfsync always
  create_topic in 4
  create_topic rr.predictions 2
  create_topic ref.predictions 2
  create_topic rr.dlq 1
  create_topic rr.alerts 1
  local port cfg=$EDDY_TEST_TMP/rr.ini ref=$EDDY_TEST_TMP/ref.ini
  port=$(free_port)
  FEATURES_EXTRA="key = user" write_config "$cfg" rr in "[state]
store = $REDIS_URL
aggregates = count(*), sum(x1), mean(x1), max(x2), ewma(x1, 0.5), since_last()
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
  sed -e 's/^predictions = rr.predictions$/predictions = ref.predictions/' \
      -e 's/^session.timeout.ms = 6000$/session.timeout.ms = 6000\ngroup.id = ref/' \
      -e 's/^checkpoint_interval = 0.5$/checkpoint_interval = 0.5\nkey_prefix = ref/' \
      -e '/^\[http\]$/,$d' "$cfg" > "$ref"

  gen in $N --rate $RATE --entities $E --flip-at $((N / 2)) &
  local gen_pid=$!
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  wait_for 60 "a checkpoint of every partition" four_checkpoints "$cfg"
  wait_for 60 "records consumed" records_over "$port" rr $((N / 5))
  kill_redis
  log "redis-server killed with SIGKILL"
  wait_log "$EDDY_TEST_TMP/run.log" "pipeline rr: Redis unreachable: consumption paused" 30
  wait_metric "$port" eddy_paused 'pipeline="rr"' 1 30
  sleep 1
  restart_redis
  wait_log "$EDDY_TEST_TMP/run.log" "pipeline rr: Redis is back after [0-9.]+ s: consumption resumes" 30
  grep -E "redis 127.0.0.1:$REDIS_PORT/0: connected again after" "$EDDY_TEST_TMP/run.log" >&2 ||
    fail "no reconnection line"
  wait "$gen_pid" || fail "the producer failed"
  local out
  out=$(check --in in --pred rr.predictions --dlq rr.dlq --pipeline rr --with-id --timeout 120)
  log "check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
  local got
  got=$(models "$cfg")

  start_run "$ref" "$EDDY_TEST_TMP/ref.log"
  out=$(check --in in --pred ref.predictions --dlq rr.dlq --pipeline rr --with-id --timeout 120)
  log "reference check: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 duplicates 0 " <<< "$out" || fail "$out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the reference run"
  local want
  want=$(models "$ref")
  log "with a Redis restart:"$'\n'"$got"
  log "uninterrupted:"$'\n'"$want"
  assert_eq "$want" "$got" "checkpoints (partition, next offset, SHA-256) with a Redis restart vs without"
  assert_eq $N "$(awk '{ s += $2 } END { print s }' <<< "$got")" "sum of the final next offsets"
  stop_pid "$REDIS_PID"
}

for_each_broker scenario
log "test_redis_restart: ok"
