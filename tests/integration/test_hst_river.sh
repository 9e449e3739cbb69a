#!/usr/bin/env bash
# test_hst_river.sh: half_space_trees against River 0.26.1's HalfSpaceTrees
# (n_trees 10, height 8, window 250, limits x4 in [0, 100]) on a labelled
# anomaly stream (hst_river.py: three clusters, 2% uniform outliers): the
# prequential ROC AUC of `eddy eval`, mean over seeds 1..5, within 0.01 of
# River's (sklearn's roc_auc_score of River's score_one before learn_one).
# Then `eddy run` without a target (unsupervised: every record learned): each
# prediction carries a score in [0, 1] and no class, and exactly the records
# whose score is above [sink] anomaly_threshold have an alert, whose
# statistic is that score. A second pipeline of the same run, naive Bayes
# with the fallback majority (warmup 100) on the records' labels, says
# "served_by": "fallback" for exactly the first 100 records and "model"
# after, with one alert (kind model) at the switch. Both checkpoint to
# Redis, and `eddy verify` finds every checkpointed model (the detector's
# trees and masses; the model, its fallback and their record) equal to the
# one it recomputes through the record path. Skips (passes, saying
# why, exit 77) without River.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

py=$EDDY_ROOT/.cache/venv/bin/python
hst=$EDDY_ROOT/tests/integration/hst_river.py
if [ ! -x "$py" ] || ! "$py" -c 'import river, sklearn' 2>/dev/null; then
  echo "SKIP test_hst_river: no River/scikit-learn in .cache/venv (run 'make peers')"; exit 77
fi

data=$EDDY_TEST_TMP/anomaly.csv
"$py" "$hst" gen "$data" 20000 7
river=$("$py" "$hst" river "$data" 1 2 3 4 5)
# eddy's AUC twice: as `eddy eval` reports it (score histogram), and
# sklearn's exact figure from the scores in its prediction records.
eddy="" exact=""
for s in 1 2 3 4 5; do
  "$py" "$hst" config $s > "$EDDY_TEST_TMP/hst$s.ini"
  a=$("$EDDY_BIN" eval -c "$EDDY_TEST_TMP/hst$s.ini" --input "$data" -e 0 -q -f jsonl \
        --predictions "$EDDY_TEST_TMP/p$s.jsonl" | tail -1 |
    "$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["auc"])')
  x=$("$py" - "$EDDY_TEST_TMP/p$s.jsonl" <<'PY'
import json, sys
from sklearn.metrics import roc_auc_score
p = [json.loads(l) for l in open(sys.argv[1])]
assert len(p) == 20000 and all(0 <= r["score"] <= 1 for r in p)
print(roc_auc_score([r["label"] == "anomaly" for r in p], [r["score"] for r in p]))
PY
)
  eddy="$eddy $a" exact="$exact $x"
done
log "River AUC by seed: $(echo $river)"
log "eddy  AUC by seed:$eddy (eval), $exact (exact)"
"$py" - "$eddy" "$exact" "$river" <<'PY' || fail "AUC parity with River"
import statistics, sys
e, x, r = ([float(v) for v in a.split()] for a in sys.argv[1:4])
for a, b in zip(e, x):  # eval's histogram AUC is the exact one to 1e-3
    assert abs(a - b) < 1e-3, (a, b)
me, mr = statistics.mean(x), statistics.mean(r)
print(f"mean AUC: eddy {me:.4f}, River {mr:.4f}, difference {me - mr:+.4f}")
# The stream's outliers are there to be found: both detectors must see them.
assert mr > 0.7 and me > 0.7, (me, mr)
assert abs(me - mr) <= 0.01, (me, mr)
PY

N=3000
scenario() {
  start_redis
  create_topic hin 1
  create_topic hst.predictions 1
  create_topic hst.alerts 1
  create_topic fb.predictions 1
  create_topic fb.alerts 1
  head -$((N + 1)) "$data" | "$py" -c '
import csv, json, sys
for row in csv.DictReader(sys.stdin):
    rec = {k: float(row[k]) for k in ("x1", "x2", "x3", "x4")}
    rec["label"] = row["label"]
    print(json.dumps(rec))
' | produce hin
  local cfg=$EDDY_TEST_TMP/run.ini
  cat > "$cfg" <<CFG
[pipeline]
name = hst
[source]
topics = hin
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10
[features]
numeric = x1, x2, x3, x4
[state]
store = $REDIS_URL
checkpoint_interval = 0.3
[model]
learner = half_space_trees
limits.x4 = 0, 100
[sink]
predictions = hst.predictions
alerts = hst.alerts
anomaly_threshold = 0.99

[pipeline]
name = fb
[source]
topics = hin
[kafka]
bootstrap.servers = $BOOTSTRAP
session.timeout.ms = 6000
fetch.wait.max.ms = 10
[features]
numeric = x1, x2, x3, x4
target = label
values.label = normal, anomaly
[state]
store = $REDIS_URL
checkpoint_interval = 0.3
[model]
learner = naive_bayes
fallback = majority
warmup = 100
[sink]
predictions = fb.predictions
alerts = fb.alerts
CFG
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  CONSUME_FORMAT='%s\n' consume hst.predictions $N > "$EDDY_TEST_TMP/pred.jsonl"
  local n_alerts
  n_alerts=$("$py" - "$EDDY_TEST_TMP/pred.jsonl" <<'PY'
import json, sys
above = 0
for line in open(sys.argv[1]):
    p = json.loads(line)
    assert 0.0 <= p["score"] <= 1.0 and p["prediction"] is None and p["probabilities"] == {}, p
    assert "label" not in p, p
    above += p["score"] > 0.99
print(above)
PY
) || fail "predictions"
  log "$N predictions with a score, $n_alerts above 0.99"
  [ "$n_alerts" -gt 0 ] && [ "$n_alerts" -lt $((N / 2)) ] || fail "alerts expected: $n_alerts"
  CONSUME_FORMAT='%s\n' consume hst.alerts "$n_alerts" > "$EDDY_TEST_TMP/alerts.jsonl"
  CONSUME_FORMAT='%s\n' consume fb.predictions $N > "$EDDY_TEST_TMP/fb.jsonl"
  CONSUME_FORMAT='%s\n' consume fb.alerts 1 > "$EDDY_TEST_TMP/fb-alerts.jsonl"
  stop_run
  "$py" - "$EDDY_TEST_TMP/pred.jsonl" "$EDDY_TEST_TMP/alerts.jsonl" <<'PY' || fail "alerts"
import json, sys
preds = {p["offset"]: p["score"] for p in map(json.loads, open(sys.argv[1]))}
want = {o for o, s in preds.items() if s > 0.99}
got = {}
for a in map(json.loads, open(sys.argv[2])):
    assert a["kind"] == "anomaly" and a["detector"] == "half_space_trees", a
    assert a["threshold"] == 0.99 and a["statistic"] == preds[a["offset"]], a
    got[a["offset"]] = a
assert set(got) == want, (len(got), len(want))
PY
  "$py" - "$EDDY_TEST_TMP/fb.jsonl" "$EDDY_TEST_TMP/fb-alerts.jsonl" <<'PY' || fail "fallback"
import json, sys
preds = sorted(map(json.loads, open(sys.argv[1])), key=lambda p: p["offset"])
assert [p["offset"] for p in preds] == list(range(len(preds)))
for p in preds:
    want = "fallback" if p["offset"] < 100 else "model"
    assert p["served_by"] == want and "score" not in p, p
    if p["offset"] < 100:  # majority: the more frequent class so far
        assert p["prediction"] in ("normal", None), p
a = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == 1 and a[0]["detector"] == "fallback" and a[0]["kind"] == "model" and a[0]["offset"] == 100, a
PY
  assert_eq 1 "$(CONSUME_TIMEOUT=5 consume fb.alerts 2 | wc -l || true)" "fallback switches"
  log "fallback: records 0-99 served by the fallback, the rest by the model, one switch alert"
  local p out
  for p in hst fb; do
    out=$("$EDDY_BIN" verify -c "$cfg" -p $p --json) || fail "eddy verify -p $p: $out"
    "$py" -c '
import json, sys
v = json.loads(sys.argv[1])
assert v["violation"] is None and v["lost"] == 0 and v["predictions"] == '$N', v
assert v["models_checked"] >= 1 and v["models_equal"] == v["models_checked"], v
' "$out" || fail "eddy verify -p $p: $out"
  done
  log "eddy verify: both pipelines' checkpointed models equal the recomputed ones"
  # No more alerts than that (a later one would be past the last record).
  assert_eq "$n_alerts" "$(CONSUME_TIMEOUT=5 consume hst.alerts $((n_alerts + 1)) | wc -l || true)" "alerts"
}
for_each_broker scenario
