#!/usr/bin/env bash
# test_redis_cluster.sh: [state] store = redis+cluster:// against a real
# Redis Cluster of 3 masters and 3 replicas on loopback (redis-server
# --cluster-enabled yes, made by redis-cli --cluster create), with a manual
# failover of a master in the middle of a run.
#
# Pipeline `rc` (naive Bayes over x1, x2, c and aggregates of 48 entities,
# ADWIN with reset, checkpoints every 0.5 s) reads a keyed stream of 4
# partitions through `eddy broker`. Once every partition has a checkpoint
# and before the stream ends, the master holding partition 0's slot is
# replaced by its replica (CLUSTER FAILOVER sent to the replica): the
# old master answers MOVED, the client follows the new slot map. Then:
# every record has a prediction, `eddy verify` exits 0 (nothing lost, 4
# models checked and equal to those recomputed from offset 0 through the
# record path, whose aggregates are recomputed too), partition 0's
# entities and checkpoint share one slot, `eddy models` lists 4 partitions
# ending at the end of the input, `eddy alerts` reads the drift resets.
# Then the run starts again (restoring) and the master of partition 1's
# slot is killed with SIGKILL (idle, in sync with its replica) while more
# records arrive: the pipeline pauses until the replica is elected and
# the new map read, then every record has a prediction and `eddy verify`
# exits 0 again.
# Every node requires a password (requirepass, masterauth): eddy's URL
# carries it, every node it finds is AUTHed, and it is never printed.
# Skips (exit 77, saying why) only when redis-server cannot run in cluster
# mode.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=8000
RATE=1000
E=48
PW=pw-$RANDOM-$RANDOM

# A loopback port below 55535 whose cluster bus port (+10000) is free too.
cluster_port() {
  "$PYTHON" - "$@" <<'EOF'
import socket, sys
taken = set(int(a) for a in sys.argv[1:])
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p < 55535 and p not in taken and p + 10000 not in taken:
        b = socket.socket()
        try:
            b.bind(("127.0.0.1", p + 10000)); print(p); break
        except OSError:
            pass
        finally:
            b.close()
    s.close()
EOF
}

start_node() {
  local port=$1 dir=$EDDY_TEST_TMP/node.$1
  mkdir -p "$dir"
  ( exec setsid redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 --save '' --appendonly no \
      --requirepass "$PW" --masterauth "$PW" \
      --logfile "$dir/redis.log" < /dev/null >> "$dir/stdout.log" 2>&1 ) &
  _track $!
  NODE_PID[$port]=$!
}

cli() { local p=$1; shift; redis-cli -p "$p" -a "$PW" --no-auth-warning "$@"; }
cluster_ok() { local p; for p in "${PORTS[@]}"; do cli "$p" cluster info | grep -q '^cluster_state:ok' || return 1; done; }
is_master() { cli "$1" role | head -1 | grep -qx master; }
# "ID PORT" of the master serving SLOT, then the port of one of its replicas.
master_of() {
  cli "$1" cluster nodes | awk -v s="$2" '
    $3 ~ /master/ && $3 !~ /fail/ { for (i = 9; i <= NF; i++) { split($i, r, "-"); if (r[2] == "") r[2] = r[1];
                    if (s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) { split($2, a, "[:@]"); print $1, a[2] } } }'
}
replica_of() { cli "$1" cluster nodes | awk -v m="$2" '$4 == m { split($2, a, "[:@]"); print a[2]; exit }'; }
repl_offset() { cli "$1" info replication | tr -d '\r' | awk -F: '$1 == "master_repl_offset" { print $2 }'; }
in_sync() { [ "$(repl_offset "$1")" = "$(repl_offset "$2")" ]; }
# eddy verify -c CONFIG: exit 0, RECORDS read, none lost, 4 models equal.
verify_ok() {
  local vout vrc
  set +e
  vout=$("$EDDY_BIN" verify -c "$cfg" --json 2> "$EDDY_TEST_TMP/verify.err")
  vrc=$?
  set -e
  log "eddy verify -> exit $vrc"$'\n'"$(grep -v '^verify: model in' "$EDDY_TEST_TMP/verify.err")"$'\n'"$vout"
  assert_eq 0 "$vrc" "eddy verify exit status"
  assert_eq "$1 0 4 4" "$(for f in records_in lost models_checked models_equal; do
    "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$vout" $f; done | xargs)" \
    "records_in lost models_checked models_equal"
}
four_checkpoints() { [ "$(models "$1" | grep -c ' [0-9a-f]\{64\}$')" -eq 4 ]; }

# Redis in cluster mode, or skip.
PORTS=()
declare -A NODE_PID
probe=$(cluster_port)
start_node "$probe"
for i in $(seq 1 50); do cli "$probe" ping > /dev/null 2>&1 && break; sleep 0.1; done
if ! cli "$probe" info cluster 2>/dev/null | grep -q '^cluster_enabled:1'; then
  log "SKIP test_redis_cluster: redis-server does not run in cluster mode here: $(tail -3 "$EDDY_TEST_TMP/node.$probe/redis.log" 2>/dev/null)"
  exit 77
fi
PORTS+=("$probe")
for i in 1 2 3 4 5; do
  p=$(cluster_port "${PORTS[@]}")
  start_node "$p"
  PORTS+=("$p")
done
for p in "${PORTS[@]}"; do wait_for 20 "redis-server on $p" cli "$p" ping; done
hosts=()
for p in "${PORTS[@]}"; do hosts+=("127.0.0.1:$p"); done
redis-cli -a "$PW" --no-auth-warning --cluster create "${hosts[@]}" --cluster-replicas 1 --cluster-yes > "$EDDY_TEST_TMP/create.log" 2>&1 ||
  fail "redis-cli --cluster create: $(tail -5 "$EDDY_TEST_TMP/create.log")"
wait_for 30 "cluster_state:ok on every node" cluster_ok
log "Redis Cluster on ${PORTS[*]}: $(cli "${PORTS[0]}" cluster nodes | awk '{print $2, $3}' | sed 's/@[0-9]*//' | tr '\n' ';')"

start_eddy_broker
create_topic in 4
create_topic rc.predictions 2
create_topic rc.dlq 1
create_topic rc.alerts 1
port=$(free_port)
cfg=$EDDY_TEST_TMP/rc.ini
# Two of the six nodes name the cluster; the client finds the rest.
FEATURES_EXTRA="key = user" write_config "$cfg" rc in "[state]
store = redis+cluster://:$PW@127.0.0.1:${PORTS[1]},127.0.0.1:${PORTS[4]}
aggregates = count(*), mean(x1), max(x2), ewma(x1, 0.5), since_last()
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
sed -i 's/^detector = adwin$/detector = adwin\naction = reset/' "$cfg"

# The first half, then the second (labels flipped) streaming in while the
# master fails over.
HALF=$((N / 2))
gen in $HALF --rate $RATE --entities $E --flip-at $HALF &
gen_pid=$!
start_run "$cfg" "$EDDY_TEST_TMP/run.log"
wait_for 60 "a checkpoint of every partition" four_checkpoints "$cfg"
wait_for 60 "records consumed" records_over "$port" rc $((N / 4))
wait "$gen_pid" || fail "the producer failed"
gen in $HALF --start $HALF --rate $RATE --entities $E --flip-at $HALF &
gen_pid=$!

# The master of partition 0's slot, and one of its replicas.
slot=$(cli "${PORTS[0]}" cluster keyslot 'eddy:{rc:0}:ckpt')
read -r master_id master_port < <(master_of "${PORTS[0]}" "$slot")
replica_port=$(replica_of "${PORTS[0]}" "$master_id")
[ -n "$master_port" ] && [ -n "$replica_port" ] || fail "no master/replica for slot $slot: $(cli "${PORTS[0]}" cluster nodes)"
before=$(metric "$port" eddy_records_in_total 'pipeline="rc"')
log "slot $slot (partition 0) on master $master_port; CLUSTER FAILOVER on its replica $replica_port after $before records"
[ "$before" -lt "$N" ] || fail "the stream ended before the failover ($before records)"
assert_eq OK "$(cli "$replica_port" cluster failover)" "CLUSTER FAILOVER"
wait_for 30 "replica $replica_port to become master" is_master "$replica_port"
wait_for 30 "the old master $master_port to become a replica" eval '! is_master '"$master_port"
wait_for 30 "cluster_state:ok after the failover" cluster_ok

wait "$gen_pid" || fail "the producer failed"
out=$(check --in in --pred rc.predictions --dlq rc.dlq --pipeline rc --with-id --timeout 60)
log "check: $out"
grep -q "^inputs $N predicted $N dead-lettered 0 " <<< "$out" || fail "$out"
after=$(metric "$port" eddy_records_in_total 'pipeline="rc"')
stop_run TERM
assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
[ "$after" -gt "$before" ] || fail "nothing consumed after the failover"
grep -q "redis cluster .*slot $slot moved to 127.0.0.1:$replica_port (MOVED)" "$EDDY_TEST_TMP/run.log" ||
  fail "no MOVED of slot $slot to the new master was followed"
grep -q 'redis cluster .*the slot map changed' "$EDDY_TEST_TMP/run.log" || fail "the slot map was not read again after the failover"

# Partition 0's checkpoint and entities live in one slot, on the new master.
keys=$(cli "$replica_port" cluster countkeysinslot "$slot")
[ "$keys" -gt 1 ] || fail "slot $slot holds $keys keys (expected the checkpoint and partition 0's entities)"
assert_eq 1 "$(cli "$replica_port" exists 'eddy:{rc:0}:ckpt')" "partition 0's checkpoint on the new master"
log "slot $slot: $keys keys (checkpoint and entities of partition 0)"

verify_ok $N

m=$(models "$cfg")
log "eddy models:"$'\n'"$m"
assert_eq 4 "$(grep -c ' [0-9a-f]\{64\}$' <<< "$m")" "partitions with a checkpoint in eddy models"
assert_eq $N "$(awk '{ s += $2 } END { print s }' <<< "$m")" "sum of the final next offsets"
grep -q '"action":"reset"' <<< "$("$EDDY_BIN" alerts -c "$cfg" --json)" || fail "no drift reset in eddy alerts"
! grep -q -- "$PW" "$EDDY_TEST_TMP/run.log" "$EDDY_TEST_TMP/verify.err" || fail "the password was printed"

# A master crashes (kill -9; in sync with its replica, the run idle) and
# records arrive while it is away: the pipeline pauses, the replica is
# elected (cluster-node-timeout), the client reads the new map, and the
# run goes on from where it was.
start_run "$cfg" "$EDDY_TEST_TMP/run2.log"
wait_log "$EDDY_TEST_TMP/run2.log" "assigned in"
slot1=$(cli "${PORTS[0]}" cluster keyslot 'eddy:{rc:1}:ckpt')
read -r master_id master_port < <(master_of "${PORTS[0]}" "$slot1")
replica_port=$(replica_of "${PORTS[0]}" "$master_id")
[ -n "$master_port" ] && [ -n "$replica_port" ] || fail "no master/replica for slot $slot1"
live=$replica_port
wait_for 20 "replica $replica_port in sync with $master_port" in_sync "$master_port" "$replica_port"
log "slot $slot1 (partition 1) on master $master_port: kill -9; its replica is $replica_port"
stop_pid "${NODE_PID[$master_port]}" KILL
Q=2000
gen in $Q --start $N --rate $RATE --entities $E --flip-at $HALF
wait_for 30 "replica $replica_port elected master" is_master "$replica_port"
out=$(check --in in --pred rc.predictions --dlq rc.dlq --pipeline rc --with-id --timeout 60)
log "check: $out"
grep -q "^inputs $((N + Q)) predicted $((N + Q)) dead-lettered 0 " <<< "$out" || fail "$out"
stop_run TERM
assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
grep -q 'redis cluster .*the slot map changed' "$EDDY_TEST_TMP/run2.log" || fail "the new map was not read"
grep -E 'redis cluster|paused|resum|is back' "$EDDY_TEST_TMP/run2.log" >&2 || true
verify_ok $((N + Q))
m=$(models "$cfg")
assert_eq $((N + Q)) "$(awk '{ s += $2 } END { print s }' <<< "$m")" "sum of the final next offsets after the crash"
log "test_redis_cluster: ok"
