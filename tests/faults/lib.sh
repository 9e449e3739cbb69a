# tests/faults/lib.sh: the fault cases' harness, sourced by every
# tests/faults/case_*.sh after nothing else:
#     source "$(dirname "$0")/lib.sh"
# It sources tests/integration/lib.sh (servers on free ports, always
# stopped; set -euo pipefail) and run_lib.sh (eddy run, /metrics), then:
#
#   FAULTS_RECORDS (100000)   records per scenario (`make faults
#                             FAULTS=short` sets fewer)
#   FAULTS_SEED (1)           seeds the random moments ($RANDOM)
#   FAULTS_RESULTS            a file: each verified scenario appends one
#                             JSON line to it (tools/run-faults.sh reads it)
#   FAULTS_BROKERS            "kafka eddy": the broker kinds the cases may
#                             use (a case names the kinds it runs on)
#   FAULTS_EOS (1)            1: the cases that run on Apache Kafka run
#                             again with processing.guarantee = exactly_once
#                             (eddy verify --exactly-once); 0: not
#
#   run_scenarios FN KIND...  FN KIND GUARANTEE for each KIND (kafka, eddy)
#                             the case supports and FAULTS_BROKERS allows;
#                             on kafka also with exactly_once (FAULTS_EOS);
#                             FAULTS_ONE_BROKER=1: the first such KIND only
#
#   fault_setup KIND [PRED_PARTS]   Redis (AOF, fsync always), the broker
#                             (kafka | eddy [--brokers 3]), topics `in` (4
#                             partitions), fx.predictions, fx.dlq, fx.alerts
#                             and the pipeline config $CFG (pipeline fx,
#                             JSON, naive Bayes on x1, x2, c and eight
#                             aggregates of entity `user` from Redis,
#                             checkpoints every 0.5 s, /metrics on $PORT)
#   fault_produce [ARGS]      stream_check.py produce into `in`, in the
#                             background ($GEN_PID), 64 entities
#   fault_wait_produced       waits for it; fails if it failed
#   start_fx [LOG] / kill_fx [SIGNAL] / wait_assigned LOG
#   wait_consumed N           until this run's records_in metric passes N
#   rand_ms LO HI             a seeded random whole number in [LO, HI]
#   fault_verify INJECTED [VERIFY-ARGS...]
#                             the invariants after the run: `eddy verify -c
#                             $CFG --json` (or, while eddy verify does not
#                             exist, stream_check.py check --json: outputs
#                             only, no model check, labelled so); writes the
#                             result line; a violation fails the case once
#                             its other scenarios have run

# shellcheck source=../integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
# shellcheck source=../integration/run_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/run_lib.sh"

FAULTS_RECORDS=${FAULTS_RECORDS:-100000}
FAULTS_SEED=${FAULTS_SEED:-1}
FAULTS_BROKERS=${FAULTS_BROKERS:-kafka eddy}
FAULTS_EOS=${FAULTS_EOS:-1}
FAULT_CASE=$(basename "$0" .sh)
FAULT_CASE=${FAULT_CASE#case_}
RANDOM=$FAULTS_SEED
E=64 # entities
PIPE=fx

rand_ms() { echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }

# A sleep of rand_ms LO HI milliseconds.
rand_sleep() {
  local ms
  ms=$(rand_ms "$1" "$2")
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# wants_broker KIND: the case may run on KIND.
wants_broker() { [[ " $FAULTS_BROKERS " == *" $1 "* ]]; }

# Creates a topic with topic-level configs (real Kafka only): NAME PARTS K=V...
create_topic_config() {
  "$PYTHON" - "$BOOTSTRAP" "$@" <<'EOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
conf = dict(a.split("=", 1) for a in sys.argv[4:])
for f in admin.create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1, config=conf)],
                             operation_timeout=30).values():
    f.result()
EOF
  wait_for 30 "topic $1 led" _topic_ready "$1" "$2"
}

run_scenarios() {
  local fn=$1 kind
  shift
  for kind in "$@"; do
    wants_broker "$kind" || { log "$FAULT_CASE: $kind not in FAULTS_BROKERS ($FAULTS_BROKERS): skipped"; continue; }
    if [ "$kind" = kafka ] && ! kafka_available; then
      [ "${EDDY_REQUIRE_KAFKA:-0}" = 1 ] && fail "Apache Kafka unavailable: $("$EDDY_ROOT/tools/kafka.sh" check 2>&1)"
      log "SKIP $FAULT_CASE on Apache Kafka: $("$EDDY_ROOT/tools/kafka.sh" check 2>&1)"
      continue
    fi
    GUARANTEE=at_least_once
    log "== $FAULT_CASE on $kind, $GUARANTEE"
    "$fn" "$kind"
    fault_end
    if [ "$kind" = kafka ] && [ "$FAULTS_EOS" = 1 ]; then
      GUARANTEE=exactly_once
      log "== $FAULT_CASE on $kind, $GUARANTEE"
      "$fn" "$kind"
      fault_end
    fi
    [ "${FAULTS_ONE_BROKER:-0}" != 1 ] || break
  done
  [ "${FAULTS_FAILED:-0}" = 0 ] || fail "$FAULT_CASE: a scenario violated an invariant (see the result lines)"
}

# fault_setup KIND [EDDY-BROKER-ARGS...]
fault_setup() {
  local kind=$1
  shift
  GUARANTEE=${GUARANTEE:-at_least_once}
  FAULT_BROKER=$kind
  [ "$GUARANTEE" = at_least_once ] || FAULT_BROKER="$kind+eos"
  start_redis --appendonly yes --appendfsync always
  case "$kind" in
    kafka) start_kafka ;;
    eddy) start_eddy_broker "$@" ;;
    *) fail "fault_setup: unknown broker kind $kind" ;;
  esac
  if [ -n "${IN_TOPIC_CONFIG:-}" ]; then
    # shellcheck disable=SC2086
    create_topic_config in 4 $IN_TOPIC_CONFIG
  else
    create_topic in 4
  fi
  # The mock broker keeps ~5 MB per partition: the predictions (about 400
  # bytes each, duplicates included) are spread over enough partitions.
  create_topic $PIPE.predictions "$( [ "$kind" = eddy ] && echo 16 || echo 4)"
  create_topic $PIPE.dlq "$( [ "$kind" = eddy ] && echo 4 || echo 1)"
  create_topic $PIPE.alerts 1
  PORT=$(free_port)
  CFG=$EDDY_TEST_TMP/$PIPE.ini
  FEATURES_EXTRA="key = user" write_config "$CFG" $PIPE in "[state]
store = $REDIS_URL
aggregates = count(*), sum(x1), mean(x1), min(x2), max(x2), ewma(x1, 0.5), last(x1), since_last()
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$PORT
${CFG_EXTRA:-}"
  sed -i 's/^detector = adwin$/detector = adwin\naction = reset/' "$CFG"
  [ "$GUARANTEE" = at_least_once ] ||
    sed -i "s/^window = 200$/window = 200\nprocessing.guarantee = $GUARANTEE/" "$CFG"
  RUNS=0
  export FAULT_BROKER
}

# fault_produce [ARGS...]: FAULTS_RECORDS records (64 entities, labels
# flipped half way) into `in`, in the background; ARGS are added
# (--rate R, --bad-every M, ...).
fault_produce() {
  N=${N:-$FAULTS_RECORDS}
  gen in "$N" --entities $E --flip-at $((N / 2)) --summary "$@" > "$EDDY_TEST_TMP/produced.json" &
  GEN_PID=$!
}

fault_wait_produced() {
  wait "$GEN_PID" || fail "the producer failed"
  BAD=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["bad"])' "$EDDY_TEST_TMP/produced.json")
}

# start_fx [LOG] [CONFIG]: another `eddy run` of the pipeline; RUN_PID,
# RUN_LOG.
start_fx() {
  RUNS=$((RUNS + 1))
  RUN_LOG=${1:-$EDDY_TEST_TMP/run$RUNS.log}
  start_run "${2:-$CFG}" "$RUN_LOG"
}

# kill_fx [SIGNAL]: stops RUN_PID (KILL by default) and waits for it.
kill_fx() {
  local sig=${1:-KILL}
  kill -"$sig" "$RUN_PID" 2>/dev/null || true
  set +e
  wait "$RUN_PID"
  RUN_RC=$?
  set -e
}

wait_assigned() { wait_log "$1" "pipeline $PIPE: (assigned|checkpoints read)" "${2:-90}"; }

wait_consumed() { wait_for "${2:-120}" "more than $1 records consumed" records_over "${3:-$PORT}" "$PIPE" "$1"; }

# wait_stable [SECS]: under exactly once, until the output topics' last
# stable offsets reach their high watermarks: a transaction left open by
# a killed instance (whose transactional.id nobody takes over) hides what
# follows it from read_committed readers until the broker aborts it,
# transaction.timeout.ms (60 s) after its start.
_stable() {
  "$PYTHON" - "$BOOTSTRAP" $PIPE.predictions $PIPE.dlq $PIPE.alerts <<'PYEOF'
import sys
from confluent_kafka import Consumer, TopicPartition
bs, topics = sys.argv[1], sys.argv[2:]
rc = Consumer({"bootstrap.servers": bs, "group.id": "faults-lso", "isolation.level": "read_committed"})
ru = Consumer({"bootstrap.servers": bs, "group.id": "faults-lso", "isolation.level": "read_uncommitted"})
for t in topics:
    for p in rc.list_topics(t, timeout=10).topics[t].partitions:
        tp = TopicPartition(t, p)
        if rc.get_watermark_offsets(tp, timeout=10)[1] != ru.get_watermark_offsets(tp, timeout=10)[1]:
            sys.exit(1)
PYEOF
}
wait_stable() {
  local t0=$SECONDS
  wait_for "${1:-180}" "the outputs' open transactions to end (last stable offset = high watermark)" _stable
  [ $((SECONDS - t0)) -lt 2 ] || log "outputs stable (no open transaction) after $((SECONDS - t0)) s"
}

# The verifier: `eddy verify` when this build has it, else the fallback.
have_verify() {
  "$EDDY_BIN" verify --help > /dev/null 2>&1
}

# fault_verify INJECTED [ARGS...]: ARGS go to eddy verify (--exactly-once,
# --expect-dlq N; the fallback takes --exactly-once only). The result line:
# {"case", "broker", "injected", "verifier", ...verify's fields...}.
fault_verify() {
  local injected=$1
  shift
  local out rc=0 verifier timeout=$((120 + FAULTS_RECORDS / 1000))
  if [ "$GUARANTEE" != at_least_once ]; then
    set -- --exactly-once "$@"
    wait_stable
  fi
  if have_verify; then
    verifier="eddy verify"
    local ex=()
    [ -z "${BAD:-}" ] || ex=(--expect-dlq "$BAD")
    out=$("$EDDY_BIN" verify -c "$CFG" --pipeline $PIPE --timeout "$timeout" --json "${ex[@]}" "$@" \
      2> "$EDDY_TEST_TMP/verify.err") || rc=$?
    sed 's/^/  /' "$EDDY_TEST_TMP/verify.err" >&2
  else
    verifier="stream_check (fallback: outputs only, no model check)"
    local a eo=()
    for a in "$@"; do [ "$a" != --exactly-once ] || eo=(--exactly-once); done
    out=$(check --in in --pred $PIPE.predictions --dlq $PIPE.dlq --pipeline $PIPE --with-id \
      --timeout "$timeout" --json "${eo[@]}") || rc=$?
  fi
  out=$(tail -1 <<< "$out")
  log "verify ($verifier, exit $rc): $out"
  local line
  line=$("$PYTHON" - "$FAULT_CASE" "$FAULT_BROKER" "$injected" "$verifier" "$rc" "${BAD:-}" "$out" <<'EOF'
import json, sys
case, broker, injected, verifier, rc, bad, out = sys.argv[1:]
try:
    r = json.loads(out)
except ValueError:
    r = {"violation": f"verifier exit {rc}, no JSON: {out[-200:]!r}"}
r = {"case": case, "broker": broker, "injected": injected, "verifier": verifier, **r}
if r.get("violation") is None and int(rc) != 0:
    r["violation"] = f"verifier exit {rc}"
if r.get("violation") is None and r.get("models_checked", 0) != r.get("models_equal", 0):
    r["violation"] = f"models: {r.get('models_equal')} of {r.get('models_checked')} equal"
if r.get("violation") is None and verifier == "eddy verify" and not r.get("models_checked"):
    r["violation"] = "no checkpoint was checked"
if r.get("violation") is None and r.get("lost") != 0:
    r["violation"] = f"lost {r.get('lost')}"
if r.get("violation") is None and bad != "" and r.get("dlq") != int(bad):
    r["violation"] = f"dlq {r.get('dlq')} != the {bad} bad records produced"
r["result"] = "PASS" if r.get("violation") is None else "FAIL"
print(json.dumps(r))
EOF
)
  [ -z "${FAULTS_RESULTS:-}" ] || printf '%s\n' "$line" >> "$FAULTS_RESULTS"
  # A violation fails the case, after its other scenarios have run.
  grep -q '"result": "PASS"' <<< "$line" || { log "FAIL: $FAULT_CASE on $FAULT_BROKER: $line"; FAULTS_FAILED=1; }
}

# fault_end: stops the servers of this scenario (the next one starts its own).
fault_end() {
  stop_all
  BROKER_KIND=""
}

# wait_checkpointed TOTAL [SECS]: until the Redis checkpoints of the
# pipeline's partitions have next offsets adding up to TOTAL (the whole of
# `in`). eddy checkpoints a partition only when every output of its
# records up to there is delivered, so this also says that the outputs
# are out. (eddy_consumer_lag is no use here: a partition restored at its
# end and given no record since has none.)
ckpt_offsets() {
  "$EDDY_BIN" models -c "$CFG" --json 2>/dev/null | "$PYTHON" -c '
import json, sys
print(sum(json.loads(l).get("next_offset") or 0 for l in sys.stdin if l.strip()))'
}
_checkpointed() { [ "$(ckpt_offsets)" -eq "$1" ]; }
wait_checkpointed() {
  wait_for "${2:-300}" "checkpoints up to the end of in ($1 records)" _checkpointed "$1"
}

# in_end: the records in `in` once the producer is done (the sum of its
# high watermarks): more than the N produced when the producer (not
# idempotent) retried a request whose records the broker had written
# (the broker going away with its answer: case broker_down).
in_end() {
  "$PYTHON" - "$BOOTSTRAP" <<'PYEOF'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "faults-end"})
parts = c.list_topics("in", timeout=10).topics["in"].partitions
print(sum(c.get_watermark_offsets(TopicPartition("in", p), timeout=10)[1] for p in parts))
c.close()
PYEOF
}

# finish_fx: once the checkpoints reach the end of `in` (every output
# delivered),
# SIGTERM (final checkpoints); the exit status must be 0.
finish_fx() {
  local end
  end=$(in_end)
  [ "$end" -eq "$N" ] ||
    log "in holds $end records, $N were produced: the producer's retries wrote $((end - N)) of them twice"
  wait_checkpointed "$end" "${1:-300}"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of the last eddy run after SIGTERM"
}
