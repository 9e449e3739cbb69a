# lib.sh: the integration tests' harness, sourced by every
# tests/integration/test_*.sh as
#     source "$(dirname "$0")/lib.sh"
# It starts servers on free loopback ports, each in its own directory under
# $EDDY_TEST_TMP and its own process group, and stops every one of them when
# the test exits, fails or is interrupted. The test runs with `set -euo
# pipefail`: the first failing command fails the test.
#
#   free_port                      a free loopback TCP port
#   wait_for SECS DESC CMD...      retry CMD every 0.1 s until it succeeds
#   start_redis [OPTS...]          redis-server (no RDB, no AOF unless OPTS say
#                                  so, e.g. --appendonly yes --appendfsync
#                                  always); sets REDIS_PORT REDIS_URL REDIS_DIR
#                                  REDIS_PID; restart_redis / kill_redis
#   start_eddy_broker [ARGS...]    `eddy broker ARGS`; sets BOOTSTRAP,
#                                  BROKER_KIND=eddy, EDDY_BROKER_PID
#   broker_ctl COMMAND...          a fault command to that broker (down 1,
#                                  leader t 0 2, ...); prints its output,
#                                  fails unless it answered ok
#   start_kafka                    a real single-node Apache Kafka (KRaft);
#                                  sets BOOTSTRAP, BROKER_KIND=kafka
#   kafka_available                true when java and the jars are there
#   stop_broker                    stops the current broker (either kind)
#   for_each_broker FN [ARGS...]   runs FN once against `eddy broker ARGS`
#                                  and once against Apache Kafka (skipped,
#                                  saying why, only when Java or the jars are
#                                  missing; EDDY_REQUIRE_KAFKA=1 fails then);
#                                  EDDY_TEST_BROKERS="eddy" picks one kind
#   create_topic NAME PARTITIONS   on either kind, waits until it has leaders
#   produce TOPIC [KCAT-ARGS...]   kcat producer, records from stdin, one a
#                                  line; fails if any was not delivered
#   consume TOPIC N [KCAT-ARGS...] the first N records from the beginning
#                                  (values, one a line; CONSUME_FORMAT changes
#                                  that), waiting up to CONSUME_TIMEOUT (60) s
#   stop_pid PID [SIGNAL]          stops a process group started here
#   stop_all                       stops everything (the EXIT trap calls it)
#   log MSG / fail MSG / assert_eq EXPECTED ACTUAL WHAT
#
# EDDY_BIN is the eddy binary (the Makefile sets it; default ./eddy).
# KEEP_TMP=1 keeps $EDDY_TEST_TMP (it is always kept when the test fails).

set -euo pipefail

EDDY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EDDY_BIN=${EDDY_BIN:-$EDDY_ROOT/eddy}
PYTHON=${PYTHON:-/usr/bin/python3}
EDDY_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-$(basename "$0" .sh).XXXXXX")
export EDDY_BIN EDDY_ROOT EDDY_TEST_TMP

_eddy_pgids=()     # process groups started here (each server is a group leader)
_eddy_kafka_dirs=() # Kafka directories (tools/kafka.sh stop DIR)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

fail() {
  log "FAIL: $*"
  exit 1
}

assert_eq() {
  [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {
  local secs=$1 desc=$2
  shift 2
  local deadline=$(($(date +%s%3N) + secs * 1000))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%3N)" -lt "$deadline" ] || fail "timed out after ${secs}s waiting for $desc"
    sleep 0.1
  done
}

_track() { _eddy_pgids+=("$1"); }

# Stops the process group of pid: SIGTERM (or $2), up to 5 s, then SIGKILL.
stop_pid() {
  local pid=$1 sig=${2:-TERM}
  kill -0 "$pid" 2>/dev/null || return 0
  kill -"$sig" -- "-$pid" 2>/dev/null || kill -"$sig" "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------------ Redis

start_redis() {
  REDIS_DIR=$(mktemp -d "$EDDY_TEST_TMP/redis.XXXX")
  REDIS_PORT=$(free_port)
  REDIS_OPTS=("$@")
  _redis_launch
  export REDIS_PORT REDIS_DIR REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  log "redis-server on $REDIS_PORT (pid $REDIS_PID)"
}

_redis_launch() {
  # Options later on the line override earlier ones, so REDIS_OPTS win.
  ( exec setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
      --save '' --appendonly no --logfile "$REDIS_DIR/redis.log" "${REDIS_OPTS[@]}" \
      < /dev/null >> "$REDIS_DIR/stdout.log" 2>&1 ) &
  REDIS_PID=$!
  _track "$REDIS_PID"
  wait_for 20 "redis-server on port $REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
}

# Stops Redis with SIGKILL (a crash: no final save) or the given signal.
kill_redis() { stop_pid "$REDIS_PID" "${1:-KILL}"; }

# Starts Redis again on the same port and directory with the same options.
restart_redis() {
  stop_pid "$REDIS_PID" TERM
  _redis_launch
  log "redis-server restarted on $REDIS_PORT (pid $REDIS_PID)"
}

# ------------------------------------------------------------ eddy broker

start_eddy_broker() {
  EDDY_BROKER_DIR=$(mktemp -d "$EDDY_TEST_TMP/broker.XXXX")
  mkfifo "$EDDY_BROKER_DIR/ctl"
  # This shell holds the control FIFO open for writing, so the broker never
  # sees the end of its stdin while the test runs.
  exec {EDDY_BROKER_FD}<>"$EDDY_BROKER_DIR/ctl"
  ( exec {EDDY_BROKER_FD}>&-
    exec setsid "$EDDY_BIN" broker "$@" < "$EDDY_BROKER_DIR/ctl" > "$EDDY_BROKER_DIR/out" \
      2> "$EDDY_BROKER_DIR/err" ) &
  EDDY_BROKER_PID=$!
  _track "$EDDY_BROKER_PID"
  local deadline=$(($(date +%s) + 15))
  until head -1 "$EDDY_BROKER_DIR/out" 2>/dev/null | grep -q '^127\.0\.0\.1:[0-9]'; do
    if ! kill -0 "$EDDY_BROKER_PID" 2>/dev/null; then
      cat "$EDDY_BROKER_DIR/err" >&2
      fail "eddy broker $* exited during start-up"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "eddy broker printed no bootstrap line in 15 s"
    sleep 0.05
  done
  BOOTSTRAP=$(head -1 "$EDDY_BROKER_DIR/out")
  BROKER_KIND=eddy
  export BOOTSTRAP BROKER_KIND EDDY_BROKER_DIR
  log "eddy broker at $BOOTSTRAP (pid $EDDY_BROKER_PID)"
}

broker_ctl() {
  [ "${BROKER_KIND:-}" = eddy ] && kill -0 "${EDDY_BROKER_PID:-0}" 2>/dev/null ||
    fail "broker_ctl $*: needs a running eddy broker (BROKER_KIND=${BROKER_KIND:-none})"
  local out=$EDDY_BROKER_DIR/out before reply="" deadline
  before=$(wc -l < "$out")
  printf '%s\n' "$*" >&"$EDDY_BROKER_FD"
  deadline=$(($(date +%s) + 10))
  while :; do
    reply=$(tail -n "+$((before + 1))" "$out" | grep -m1 -E '^(ok$|error: )' || true)
    [ -z "$reply" ] || break
    [ "$(date +%s)" -lt "$deadline" ] || fail "broker_ctl $*: no answer in 10 s"
    sleep 0.02
  done
  # Lines the command printed before its ok (help, brokers).
  tail -n "+$((before + 1))" "$out" | sed -n '/^ok$/q;/^error: /q;p'
  if [ "$reply" != ok ]; then
    log "broker_ctl $*: $reply"
    return 1
  fi
}

# ------------------------------------------------------------ Apache Kafka

kafka_available() { "$EDDY_ROOT/tools/kafka.sh" check 2>/dev/null; }

start_kafka() {
  local dir
  dir=$(mktemp -d "$EDDY_TEST_TMP/kafka.XXXX")/k
  _eddy_kafka_dirs+=("$dir") # before starting, so that an interrupted start is stopped too
  BOOTSTRAP=$("$EDDY_ROOT/tools/kafka.sh" start "$dir") || fail "Apache Kafka did not start"
  BROKER_KIND=kafka
  KAFKA_DIR=$dir
  export BOOTSTRAP BROKER_KIND KAFKA_DIR
}

stop_broker() {
  case "${BROKER_KIND:-}" in
    eddy)
      stop_pid "$EDDY_BROKER_PID"
      exec {EDDY_BROKER_FD}>&-
      ;;
    kafka) "$EDDY_ROOT/tools/kafka.sh" stop "$KAFKA_DIR" ;;
  esac
  BROKER_KIND=""
  BOOTSTRAP=""
}

for_each_broker() {
  local fn=$1 kind why
  shift
  for kind in ${EDDY_TEST_BROKERS:-eddy kafka}; do
    case "$kind" in
      eddy)
        log "== $fn: against eddy broker"
        start_eddy_broker "$@"
        ;;
      kafka)
        if ! why=$("$EDDY_ROOT/tools/kafka.sh" check 2>&1); then
          [ "${EDDY_REQUIRE_KAFKA:-0}" = 1 ] && fail "$fn: Apache Kafka unavailable: $why"
          log "SKIP $fn against Apache Kafka: $why"
          continue
        fi
        log "== $fn: against Apache Kafka"
        start_kafka
        ;;
      *) fail "EDDY_TEST_BROKERS: unknown kind '$kind' (eddy, kafka)" ;;
    esac
    "$fn"
    stop_broker
  done
}

create_topic() {
  local name=$1 partitions=$2
  case "${BROKER_KIND:-}" in
    eddy) broker_ctl topic "$name" "$partitions" > /dev/null ;;
    kafka)
      "$PYTHON" - "$BOOTSTRAP" "$name" "$partitions" <<'EOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
for f in admin.create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)],
                             operation_timeout=30).values():
    f.result()
EOF
      ;;
    *) fail "create_topic: no broker running" ;;
  esac
  wait_for 30 "topic $name with $partitions partitions led" _topic_ready "$name" "$partitions"
}

_topic_ready() {
  [ "$(kcat -L -b "$BOOTSTRAP" -t "$1" -m 5 2>/dev/null | grep -cE '^ +partition [0-9]+, leader [0-9]+')" -eq "$2" ]
}

# ------------------------------------------------------------- kcat I/O

produce() {
  local topic=$1
  shift
  kcat -P -b "$BOOTSTRAP" -t "$topic" -X acks=all -X message.timeout.ms=30000 "$@"
}

consume() {
  local topic=$1 n=$2
  shift 2
  timeout "${CONSUME_TIMEOUT:-60}" kcat -C -b "$BOOTSTRAP" -t "$topic" -o beginning -c "$n" -q \
    -f "${CONSUME_FORMAT:-%s\\n}" "$@"
}

# ------------------------------------------------------------- clean-up

stop_all() {
  local d p
  for d in "${_eddy_kafka_dirs[@]}"; do
    "$EDDY_ROOT/tools/kafka.sh" stop "$d" 2>/dev/null || true
  done
  for p in "${_eddy_pgids[@]}"; do
    stop_pid "$p"
  done
  _eddy_kafka_dirs=()
  _eddy_pgids=()
}

_eddy_on_exit() {
  local rc=$1
  trap - EXIT INT TERM
  set +e
  stop_all
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then # 77: skipped, saying why
    local f
    for f in "$EDDY_TEST_TMP"/*/err "$EDDY_TEST_TMP"/*/redis.log "$EDDY_TEST_TMP"/kafka.*/k/server.log; do
      [ -s "$f" ] || continue
      echo "--- last lines of $f" >&2
      tail -15 "$f" >&2
    done
    log "$(basename "$0"): FAILED (exit $rc); files kept in $EDDY_TEST_TMP"
  elif [ "${KEEP_TMP:-0}" = 1 ]; then
    log "files kept in $EDDY_TEST_TMP"
  else
    rm -rf "$EDDY_TEST_TMP"
  fi
  exit "$rc"
}

trap '_eddy_on_exit $?' EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM
