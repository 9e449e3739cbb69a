#!/usr/bin/env bash
# test_redis_auth.sh: Redis with a password (issue 19). A redis-server with
# `requirepass` and an ACL user whose password holds ':', '@' and '/':
#   - redis://:PASSWORD@HOST (the default user) and the ACL user
#     (redis://USER:PASSWORD@HOST): eddy run checkpoints into Redis (eddy
#     models lists the partitions), eddy verify passes (exit 0);
#   - a wrong password, or none, stops eddy run at start with a clear error
#     (exit non-zero within seconds, "authentication failed"), not retried;
#     eddy models names the refusal;
#   - no password appears in any log, error, eddy models' output or
#     /metrics.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

PASS='s3cret-default'
UPASS='p@ss:w/rd'
N=400

start_redis --requirepass "$PASS"
redis-cli -p "$REDIS_PORT" -a "$PASS" --no-auth-warning ACL SETUSER eddyu on ">$UPASS" '~*' '&*' '+@all' > /dev/null
start_eddy_broker --topic ra:2

good() { seq "$1" "$2" | awk '{ printf "{\"x1\":%d,\"x2\":1,\"c\":\"a\",\"y\":\"%s\",\"id\":\"%d\"}\n", $1 % 7, $1 % 2 ? "p" : "n", $1 }'; }
good 1 $((N / 2)) | produce ra -p 0
good $((N / 2 + 1)) "$N" | produce ra -p 1

secrets_absent() {
  local f
  for f in "$@"; do
    if grep -qF -e "$PASS" -e "$UPASS" "$f"; then
      fail "a password is printed in $(basename "$f"): $(grep -F -e "$PASS" -e "$UPASS" "$f" | head -2)"
    fi
  done
}

# A run with [state] STORE (and EXTRA lines) over the topic: checkpoints,
# models, verify, nothing secret printed.
run_ok() {
  local name=$1 store=$2 extra=${3:-} cfg logf port
  cfg=$EDDY_TEST_TMP/$name.ini
  logf=$EDDY_TEST_TMP/$name.log
  port=$(free_port)
  SINK_EXTRA="" write_config "$cfg" "$name" ra "[state]
store = $store
checkpoint_interval = 0.5
$extra
[http]
listen = 127.0.0.1:$port"
  start_run "$cfg" "$logf"
  wait_metric "$port" eddy_records_in_total "pipeline=\"$name\"" "$N" 60
  curl -sf "http://127.0.0.1:$port/metrics" > "$EDDY_TEST_TMP/$name.metrics"
  stop_run
  assert_eq 0 "$RUN_RC" "$name: eddy run's exit status"
  "$EDDY_BIN" models -c "$cfg" > "$EDDY_TEST_TMP/$name.models" 2>&1 || fail "$name: eddy models: $(cat "$EDDY_TEST_TMP/$name.models")"
  assert_eq 2 "$(awk -v n="$name" '$1 == n && ($2 == 0 || $2 == 1)' "$EDDY_TEST_TMP/$name.models" | wc -l)" "$name: checkpoints listed"
  "$EDDY_BIN" verify -c "$cfg" > "$EDDY_TEST_TMP/$name.verify" 2>&1 || fail "$name: eddy verify: $(tail -3 "$EDDY_TEST_TMP/$name.verify")"
  secrets_absent "$logf" "$EDDY_TEST_TMP/$name.metrics" "$EDDY_TEST_TMP/$name.models" "$EDDY_TEST_TMP/$name.verify"
}

# A run that must be refused at start, naming the reason.
run_refused() {
  local name=$1 store=$2 extra=${3:-} cfg logf rc
  cfg=$EDDY_TEST_TMP/$name.ini
  logf=$EDDY_TEST_TMP/$name.log
  write_config "$cfg" "$name" ra "[state]
store = $store
$extra"
  set +e
  timeout 30 "$EDDY_BIN" run -c "$cfg" > "$logf" 2>&1
  rc=$?
  set -e
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$name: eddy run was not refused at start (exit $rc): $(tail -3 "$logf")"
  grep -q "authentication failed" "$logf" || fail "$name: no clear error: $(tail -3 "$logf")"
  if grep -q "retrying" "$logf"; then fail "$name: retried: $(grep retrying "$logf" | head -1)"; fi
  secrets_absent "$logf"
  log "$name: refused: $(grep -m1 'authentication failed' "$logf" | cut -c1-200)"
}

run_ok auth_default "redis://:$PASS@127.0.0.1:$REDIS_PORT/0"
run_ok auth_acl "redis://eddyu:$UPASS@127.0.0.1:$REDIS_PORT/1"

run_refused auth_wrong "redis://eddyu:wrong-one@127.0.0.1:$REDIS_PORT/3"
run_refused auth_none "redis://127.0.0.1:$REDIS_PORT/3"
"$EDDY_BIN" models -c "$EDDY_TEST_TMP/auth_wrong.ini" > "$EDDY_TEST_TMP/models_wrong.out" 2>&1 && fail "eddy models passed a wrong password"
grep -qE "authentication failed|WRONGPASS" "$EDDY_TEST_TMP/models_wrong.out" || fail "eddy models: $(cat "$EDDY_TEST_TMP/models_wrong.out")"
secrets_absent "$EDDY_TEST_TMP/models_wrong.out"
log "PASS"
