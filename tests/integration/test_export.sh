#!/usr/bin/env bash
# test_export.sh: `eddy models --checkpoint CKPT` (the JSON export of a saved
# model) says what the model holds, checked against independent arithmetic:
# - logistic regression (plain SGD, constant rate 0.01, no penalty, no
#   scaling) on 3,000 SEA rows: the intercept and the weights by feature
#   equal scikit-learn's SGDClassifier(log_loss, constant, eta0 0.01,
#   penalty None) fed the same rows one partial_fit at a time (to 1e-9);
# - naive Bayes on Elec2: per class its weight, and per numeric attribute
#   the weight, mean and sample variance of the class's values, as numpy
#   computes them (to 1e-9 relative); `day`'s value counts per class;
# - OzaBoost: ten members, each with its vote weight and its own export.
# Skips (exit 77) without scikit-learn in .cache/venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDDY_BIN=${EDDY_BIN:-$PWD/eddy}
py=.cache/venv/bin/python
if [ ! -x "$py" ] || ! "$py" -c 'import sklearn, numpy' 2>/dev/null; then
  echo "SKIP test_export: no scikit-learn in .cache/venv (run 'make deps')"; exit 77
fi
elec2=${EDDY_DATASETS:-../shared/datasets}/elec2.csv
w=$(mktemp -d "${TMPDIR:-/tmp}/eddy-export.XXXXXX")
trap 'rm -rf "$w"' EXIT
"$EDDY_BIN" gen sea --n 3000 --seed 11 > "$w/sea.csv"
printf '[pipeline]\nname = x\n[features]\ntarget = class\n[model]\nlearner = logistic_regression\nlearning_rate = 0.01\nintercept_lr = 0.01\nl2 = 0\nstandardize = false\n' > "$w/lr.ini"
"$EDDY_BIN" eval -c "$w/lr.ini" -i "$w/sea.csv" -e 0 -q --save-model "$w/lr.ckpt" > /dev/null 2>&1
"$EDDY_BIN" models --checkpoint "$w/lr.ckpt" --export "$w/lr.json"
"$EDDY_BIN" eval -c configs/elec2-nb.ini -i "$elec2" -e 0 -q --save-model "$w/nb.ckpt" > /dev/null 2>&1
"$EDDY_BIN" models --checkpoint "$w/nb.ckpt" > "$w/nb.json"
"$EDDY_BIN" eval -c configs/elec2-ozaboost.ini -i "$elec2" -e 0 -q -n 2000 --save-model "$w/ob.ckpt" > /dev/null 2>&1
"$EDDY_BIN" models --checkpoint "$w/ob.ckpt" > "$w/ob.json"
"$py" - "$w" "$elec2" <<'PY'
import csv, json, sys
import numpy as np
from sklearn.linear_model import SGDClassifier
w, elec2 = sys.argv[1], sys.argv[2]

lr = json.load(open(f"{w}/lr.json"))
m = lr["learner"]["model"]
assert lr["learner"]["type"] == "logistic_regression" and m["family"] == "linear", lr
rows = list(csv.DictReader(open(f"{w}/sea.csv")))
names = [k for k in rows[0] if k != "class"]
X = np.array([[float(r[k]) for k in names] for r in rows])
classes = []
for r in rows:
    if r["class"] not in classes:
        classes.append(r["class"])
y = np.array([classes.index(r["class"]) for r in rows])
sk = SGDClassifier(loss="log_loss", penalty=None, learning_rate="constant", eta0=0.01)
for i in range(len(rows)):
    sk.partial_fit(X[i:i + 1], y[i:i + 1], classes=[0, 1])
out = m["outputs"][0]
assert out["output"] == classes[1], (out["output"], classes)
got = np.array([out["weights"][k] for k in names])
assert np.allclose(got, sk.coef_[0], rtol=0, atol=1e-9), (got, sk.coef_[0])
assert abs(out["intercept"] - sk.intercept_[0]) < 1e-9, (out["intercept"], sk.intercept_[0])
print(f"logistic regression: {len(names)} weights and the intercept equal scikit-learn's")

nb = json.load(open(f"{w}/nb.json"))["learner"]["model"]
rows = list(csv.DictReader(open(elec2)))
numeric = [k for k in rows[0] if k not in ("class", "day")]
for c in nb["classes"]:
    mine = [r for r in rows if r["class"] == c["class"]]
    assert c["weight"] == len(mine), (c["class"], c["weight"], len(mine))
    for k in numeric:
        v = np.array([float(r[k]) for r in mine])
        g = c["numeric"][k]
        assert g["weight"] == len(v)
        assert abs(g["mean"] - v.mean()) <= 1e-9 * max(1, abs(v.mean())), (k, g, v.mean())
        assert abs(g["variance"] - v.var(ddof=1)) <= 1e-9 * max(1e-12, v.var(ddof=1)), (k, g, v.var(ddof=1))
    counts = {d: sum(1 for r in mine if r["day"] == d) for d in set(r["day"] for r in rows)}
    assert all(c["nominal"]["day"].get(d, 0) == n for d, n in counts.items()), (c["nominal"]["day"], counts)
print(f"naive Bayes: {len(nb['classes'])} classes, {len(numeric)} Gaussians each and day's counts equal numpy's")

ob = json.load(open(f"{w}/ob.json"))["learner"]
assert ob["type"] == "oza_boost" and len(ob["model"]["members"]) == 10
assert all(m["learner"]["type"] == "hoeffding_tree" and m["vote_weight"] >= 0 for m in ob["model"]["members"])
print("OzaBoost: 10 members with their vote weights")
PY
