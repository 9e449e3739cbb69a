#!/usr/bin/env bash
# test_eval_run.sh: `eddy eval` and `eddy run` share one record path. A keyed
# stream (30 entities, every 20th record malformed) goes through `eddy run`
# on `eddy broker` (one partition, memory store, aggregates count, mean and
# ewma joined per entity, echoed in the predictions); the same records,
# read back from the topic into a JSON-lines file, go through `eddy eval
# --predictions`. Record for record (offset = index), the prediction, the
# probabilities and the joined aggregates are equal, and eval skips the
# records run dead-lettered.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=3000

scenario() {
  create_topic in 1
  create_topic er.predictions 1
  create_topic er.dlq 1
  create_topic er.alerts 1
  local cfg=$EDDY_TEST_TMP/er.ini
  FEATURES_EXTRA="key = user" SINK_EXTRA="aggregates = true" write_config "$cfg" er in "[state]
store = memory
aggregates = count(*), mean(x1), ewma(x1, 0.1), max(x2)"
  gen in $N --entities 30 --bad-every 20 --flip-at 1500
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  local out
  out=$(check --in in --pred er.predictions --dlq er.dlq --pipeline er --with-id --timeout 90)
  log "check: $out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of eddy run"
  consume in $N > "$EDDY_TEST_TMP/in.jsonl"
  local npred
  npred=$("$PYTHON" -c 'import sys,re; print(re.search(r"predicted (\d+)", sys.argv[1]).group(1))' "$out")
  consume er.predictions "$npred" > "$EDDY_TEST_TMP/run.jsonl"
  "$EDDY_BIN" eval -c "$cfg" --input "$EDDY_TEST_TMP/in.jsonl" --predictions "$EDDY_TEST_TMP/eval.jsonl" -e 0 -q \
    > "$EDDY_TEST_TMP/eval.out" 2> "$EDDY_TEST_TMP/eval.err" || fail "eddy eval: $(cat "$EDDY_TEST_TMP/eval.err")"
  "$PYTHON" - "$EDDY_TEST_TMP/run.jsonl" "$EDDY_TEST_TMP/eval.jsonl" "$N" <<'EOF'
import json, sys
run = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    run.setdefault(r["offset"], r)  # at least once: the first of any duplicates
ev = [json.loads(l) for l in open(sys.argv[2])]
n = int(sys.argv[3])
assert len(ev) == len(run), f"eval predicted {len(ev)} records, run {len(run)}"
assert len(ev) < n, "the malformed records must be skipped by eval as run dead-letters them"
for e in ev:
    r = run.get(e["index"])
    assert r is not None, f"eval predicted record {e['index']}, run did not"
    for k in ("prediction", "probabilities", "aggregates", "label", "id", "model_version"):
        assert e.get(k) == r.get(k), f"record {e['index']}: {k}: eval {e.get(k)!r} run {r.get(k)!r}"
aggs = [e["aggregates"]["count"] for e in ev]
assert max(aggs) > 50, "aggregates were joined (entity counts grow)"
print(f"{len(ev)} predictions equal record for record (of {n} records)")
EOF
}

EDDY_TEST_BROKERS=${EDDY_TEST_BROKERS:-eddy} for_each_broker scenario
