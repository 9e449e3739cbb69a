#!/usr/bin/env bash
# test_eval_probabilities.sh: `eddy eval --predictions` never writes a
# prediction that contradicts its probabilities (issue 19): 20,000 Agrawal
# records through a Hoeffding tree (whose fresh leaves give every class 0)
# and naive Bayes. The first prediction (nothing learned) is null with no
# probabilities; every other one has probabilities summing to 1 and the
# predicted class's the largest. No server needed.
source "$(dirname "$0")/lib.sh"

"$EDDY_BIN" gen agrawal --n 20000 --format jsonl > "$EDDY_TEST_TMP/ag.jsonl"
for learner in hoeffding_tree naive_bayes; do
  cat > "$EDDY_TEST_TMP/$learner.ini" <<INI
[pipeline]
name = ag
[features]
numeric = salary, commission, age, hvalue, hyears, loan
nominal = elevel, car, zipcode
target = class
[model]
learner = $learner
INI
  "$EDDY_BIN" eval -c "$EDDY_TEST_TMP/$learner.ini" --input "$EDDY_TEST_TMP/ag.jsonl" \
    --predictions "$EDDY_TEST_TMP/$learner.pred" -q > /dev/null
  "$PYTHON" - "$EDDY_TEST_TMP/$learner.pred" "$learner" <<'PY'
import json, sys
n = nulls = 0
for i, line in enumerate(open(sys.argv[1])):
    p = json.loads(line)
    probs = p["probabilities"]
    n += 1
    if p["prediction"] is None:
        nulls += 1
        if probs or i != 0:
            sys.exit(f"{sys.argv[2]}: record {i}: a null prediction {p}")
        continue
    if abs(sum(probs.values()) - 1) > 1e-9:
        sys.exit(f"{sys.argv[2]}: record {i}: probabilities sum to {sum(probs.values())}: {p}")
    if probs.get(p["prediction"]) != max(probs.values()):
        sys.exit(f"{sys.argv[2]}: record {i}: {p['prediction']!r} has not the largest probability: {probs}")
if n != 20000 or nulls != 1:
    sys.exit(f"{sys.argv[2]}: {n} predictions, {nulls} null (20000 and 1 expected)")
print(f"{sys.argv[2]}: {n} predictions agree with their probabilities")
PY
done
log "PASS"
