# run_lib.sh: helpers of the `eddy run` integration tests, sourced after
# lib.sh (which starts and always stops the servers).
#
#   write_config FILE NAME TOPICS [EXTRA]   a JSON pipeline NAME reading TOPICS
#                                 (x1, x2 numeric, c nominal, y target, id) to
#                                 NAME.predictions / NAME.dlq / NAME.alerts;
#                                 EXTRA lines are appended to the file; the
#                                 variables SOURCE_EXTRA, KAFKA_EXTRA,
#                                 FEATURES_EXTRA and SINK_EXTRA add lines to
#                                 those sections
#   start_run CONFIG LOG          `eddy run -c CONFIG` in the background in its
#                                 own process group (stopped by lib.sh's trap);
#                                 sets RUN_PID
#   stop_run [SIGNAL]             signals RUN_PID (TERM) and waits; sets RUN_RC
#                                 and RUN_SECONDS
#   wait_log LOG PATTERN [SECS]   until a line of LOG matches PATTERN
#   metric PORT NAME LABELS       one sample's value from /metrics ('' if none)
#   wait_metric PORT NAME LABELS VALUE [SECS]   until that sample equals VALUE
#   wait_committed PORT NAME      until pipeline NAME's committed offsets add up
#                                 to the records it consumed (fresh topics:
#                                 offsets start at 0)
#   models CONFIG                 `eddy models --json` as lines "partition
#                                 next_offset sha256", sorted by partition
#   records_over PORT PIPELINE N  pipeline PIPELINE has consumed more than N
#                                 records (for wait_for)
#   check ARGS...                 stream_check.py check "$BOOTSTRAP" ARGS...
#   gen ARGS...                   stream_check.py produce "$BOOTSTRAP" ARGS...

CHECK="$PYTHON $(dirname "${BASH_SOURCE[0]}")/stream_check.py"
AVSC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/records.avsc"

check() { $CHECK check "$BOOTSTRAP" "$@"; }
gen() { $CHECK produce "$BOOTSTRAP" "$@"; }

write_config() {
  local file=$1 name=$2 topics=$3 extra=${4:-}
  cat > "$file" <<EOF
[pipeline]
name = $name
window = 200

[source]
topics = $topics
max_record_bytes = 65536
${SOURCE_EXTRA:-}

[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10
topic.metadata.refresh.interval.ms = 1000
${KAFKA_EXTRA:-}

[features]
numeric = x1, x2
nominal = c
target = y
id = id
required = x1, x2
${FEATURES_EXTRA:-}

[model]
learner = naive_bayes

[drift]
detector = adwin

[sink]
predictions = $name.predictions
dead_letter = $name.dlq
alerts = $name.alerts
${SINK_EXTRA:-}
$extra
EOF
}

start_run() {
  local config=$1 logf=$2
  ( exec setsid "$EDDY_BIN" run -c "$config" > "$logf" 2>&1 < /dev/null ) &
  RUN_PID=$!
  _track "$RUN_PID"
  log "eddy run -c $(basename "$config") (pid $RUN_PID, log $logf)"
}

stop_run() {
  local sig=${1:-TERM} t0
  t0=$(date +%s%3N)
  kill -"$sig" "$RUN_PID"
  set +e
  wait "$RUN_PID"
  RUN_RC=$?
  set -e
  RUN_SECONDS=$(( ($(date +%s%3N) - t0) / 1000 ))
  log "eddy run (pid $RUN_PID) exited $RUN_RC after SIG$sig in ${RUN_SECONDS}s"
}

wait_log() {
  wait_for "${3:-60}" "'$2' in $(basename "$1")" grep -qE "$2" "$1"
}

metric() {
  local text
  text=$(curl -sf "http://127.0.0.1:$1/metrics") || return 0
  awk -v n="$2" -v l="$3" '
    { split($0, a, " "); name = a[1] }
    !found && ((l == "" && name == n) || (l != "" && name == n "{" l "}")) { print a[2]; found = 1 }' <<< "$text"
}

_metric_is() { [ "$(metric "$1" "$2" "$3")" = "$4" ]; }
wait_metric() { wait_for "${5:-30}" "$2{$3} = $4" _metric_is "$1" "$2" "$3" "$4"; }

_committed() {
  local text sum n
  text=$(curl -sf "http://127.0.0.1:$1/metrics") || return 1
  sum=$(awk -v p="pipeline=\"$2\"" 'index($1, "eddy_committed_offset{" p) == 1 { s += $2 } END { print s + 0 }' <<< "$text")
  n=$(awk -v p="eddy_records_in_total{pipeline=\"$2\"}" '$1 == p { print $2 }' <<< "$text")
  [ -n "$n" ] && [ "$sum" -eq "$n" ]
}
wait_committed() { wait_for "${3:-30}" "pipeline $2 to commit all it consumed" _committed "$1" "$2"; }

models() { "$EDDY_BIN" models -c "$1" --json | "$PYTHON" -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print(r["partition"], r.get("next_offset"), r.get("sha256", r.get("error")))' | sort -n; }

records_over() { local v; v=$(metric "$1" eddy_records_in_total "pipeline=\"$2\""); [ -n "$v" ] && [ "$v" -gt "$3" ]; }
