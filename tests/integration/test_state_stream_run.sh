#!/usr/bin/env bash
# test_state_stream_run.sh: [state] scope = stream under `eddy run`: one
# state per partition, no entity key. 2,000 records (a third unlabelled)
# over two partitions through `eddy run` on `eddy broker` with aggregates
# last(y), last(y, 2) and count(*) echoed in the predictions: each record's
# y_last is the class index (values.y = 0, 1) of the labelled record before
# it in its partition, y_last_2 the one before that, count the records
# before it in the partition; the first record of a partition sees them
# missing (and 0). The same records of partition 0, read back into a file,
# give the same aggregates and predictions through `eddy eval`. Once with
# the memory store, once with a real redis-server (the batched path, whose
# first pass keys each record before its batch is read), where the state
# is the hash eddy:NAME:e:*stream*:P of each partition P.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=2000

# one_store STORE NAME: the scenario on topic NAME.in with that store.
one_store() {
  local store=$1 ss=$2 in=$2.in
  create_topic $in 2
  create_topic $ss.predictions 1
  create_topic $ss.dlq 1
  create_topic $ss.alerts 1
  local cfg=$EDDY_TEST_TMP/$ss.ini
  FEATURES_EXTRA="values.y = 0, 1" SINK_EXTRA="aggregates = true" write_config "$cfg" $ss $in "[state]
store = $store
scope = stream
aggregates = last(y), last(y, 2), count(*)"
  gen $in $N --entities 30 --label-every 3
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  local out
  out=$(check --in $in --pred $ss.predictions --dlq $ss.dlq --pipeline $ss --with-id --timeout 90)
  log "check: $out"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status of eddy run"
  CONSUME_FORMAT='%p %o %s\n' consume $in $N > "$EDDY_TEST_TMP/in.txt"
  local npred
  npred=$("$PYTHON" -c 'import sys,re; print(re.search(r"predicted (\d+)", sys.argv[1]).group(1))' "$out")
  consume $ss.predictions "$npred" > "$EDDY_TEST_TMP/run.txt"
  "$PYTHON" - "$EDDY_TEST_TMP/in.txt" "$EDDY_TEST_TMP/run.txt" "$EDDY_TEST_TMP/p0.jsonl" <<'EOF2'
import json, sys
recs = {}
for line in open(sys.argv[1]):
    p, o, v = line.split(" ", 2)
    recs[(int(p), int(o))] = json.loads(v)
run = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    run.setdefault((r["partition"], r["offset"]), r)
assert len(run) == len(recs), f"{len(run)} predictions of {len(recs)} records"
parts = sorted({p for p, _ in recs})
assert parts == [0, 1], f"records in partitions {parts}"
for p in parts:
    labels, n = [], 0
    for o in sorted(o for q, o in recs if q == p):
        a = run[(p, o)]["aggregates"]
        want = (labels[-1] if labels else None, labels[-2] if len(labels) > 1 else None, n)
        got = (a.get("y_last"), a.get("y_last_2"), a.get("count"))
        assert got == want, f"partition {p} offset {o}: (y_last, y_last_2, count) {got}, want {want}"
        y = recs[(p, o)].get("y")
        if y is not None:
            labels.append(float(y))  # values.y = 0, 1: the class index is the label
        n += 1
    print(f"partition {p}: {n} records, each saw the labels before it in its partition")
with open(sys.argv[3], "w") as f:
    for o in sorted(o for q, o in recs if q == 0):
        f.write(json.dumps(recs[(0, o)]) + "\n")
EOF2
  "$EDDY_BIN" eval -c "$cfg" --input "$EDDY_TEST_TMP/p0.jsonl" --predictions "$EDDY_TEST_TMP/eval.jsonl" -e 0 -q \
    > "$EDDY_TEST_TMP/eval.out" 2> "$EDDY_TEST_TMP/eval.err" || fail "eddy eval: $(cat "$EDDY_TEST_TMP/eval.err")"
  "$PYTHON" - "$EDDY_TEST_TMP/run.txt" "$EDDY_TEST_TMP/eval.jsonl" <<'EOF2'
import json, sys
run = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["partition"] == 0:
        run.setdefault(r["offset"], r)
ev = [json.loads(l) for l in open(sys.argv[2])]
assert len(ev) == len(run), f"eval {len(ev)} records, run {len(run)} in partition 0"
for e in ev:
    r = run[e["index"]]
    for k in ("prediction", "probabilities", "aggregates"):
        assert e.get(k) == r.get(k), f"record {e['index']}: {k}: eval {e.get(k)!r} run {r.get(k)!r}"
print(f"eval equals run on partition 0's {len(ev)} records")
EOF2
  if [ "$store" != memory ]; then
    local p
    for p in 0 1; do
      assert_eq 1 "$(redis-cli -p "$REDIS_PORT" exists "eddy:$ss:e:*stream*:$p")" "the state of partition $p in Redis"
    done
  fi
}

scenario() {
  one_store memory ssm
  start_redis
  one_store "$REDIS_URL" ssr
}

EDDY_TEST_BROKERS=${EDDY_TEST_BROKERS:-eddy} for_each_broker scenario
