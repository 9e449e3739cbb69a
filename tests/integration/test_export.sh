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
# - OzaBoost: ten members, each with its vote weight and its own export;
# - a Hoeffding tree (majority-class leaves) learned on 20,000 Elec2 rows:
#   walking its exported nodes by hand predicts what `eddy predict` predicts
#   with the saved model, on every row; its "importance" ranking equals the
#   mean decrease in impurity computed here from the exported leaves'
#   class weights (to 1e-9), and `models --describe` prints that ranking.
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
printf '[pipeline]\nname = t\n[features]\nnominal = day\ntarget = class\n[model]\nlearner = hoeffding_tree\nleaf_prediction = mc\n' > "$w/ht.ini"
head -20001 "$elec2" > "$w/e20k.csv"
"$EDDY_BIN" eval -c "$w/ht.ini" -i "$w/e20k.csv" -e 0 -q --save-model "$w/ht.ckpt" > /dev/null 2>&1
"$EDDY_BIN" models --checkpoint "$w/ht.ckpt" > "$w/ht.json"
"$EDDY_BIN" predict -c "$w/ht.ini" -m "$w/ht.ckpt" -i "$elec2" -o "$w/ht.pred" 2> /dev/null
"$EDDY_BIN" models --checkpoint "$w/ht.ckpt" --describe > "$w/ht.describe"
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

# The exported tree, walked by hand with majority-class leaves, predicts
# what the model predicts (eddy predict) on every Elec2 row.
ht = json.load(open(f"{w}/ht.json"))["learner"]
nodes = {n["id"]: n for n in ht["model"]["nodes"]}
assert ht["model"]["split_nodes"] >= 5, ht["model"]["split_nodes"]
def leaf_of(r):
    n = nodes[0]
    while n["kind"] == "split":
        v = r[n["attribute"]]
        if n["test"] == "<=":
            b = 0 if float(v) <= n["value"] else 1
        elif n["test"] == "==":
            b = 0 if v == n["value"] else 1
        else:
            b = n["values"].index(v) if v in n["values"] else None
        if b is None or n["children"][b] is None:
            return n
        n = nodes[n["children"][b]]
    return n
preds = [json.loads(l)["prediction"] for l in open(f"{w}/ht.pred")]
same = 0
for r, p in zip(rows, preds):
    cw = leaf_of(r)["class_weights"]
    same += max(cw, key=lambda c: (cw[c], -list(cw).index(c))) == p
assert same == len(rows) == len(preds), (same, len(rows), len(preds))
print(f"Hoeffding tree: {len(nodes)} nodes; walking the export predicts as the model on all {same} rows")

# Mean decrease in impurity from the exported nodes: a split's class
# weights are its leaves' summed; it adds W*H(split) - sum W_k*H(child k)
# (H the entropy in bits) to its attribute; normalised to sum 1.
from math import log2
def stat(n):
    if n["kind"] != "split":
        return dict(n["class_weights"])
    s = {}
    for k in n["children"]:
        if k is not None:
            for c, v in stat(nodes[k]).items():
                s[c] = s.get(c, 0.0) + v
    return s
def wh(s):
    W = sum(v for v in s.values() if v > 0)
    return -sum(v * log2(v / W) for v in s.values() if v > 0) if W > 0 else 0.0
gain, splits = {}, {}
for n in nodes.values():
    if n["kind"] == "split":
        d = wh(stat(n)) - sum(wh(stat(nodes[k])) for k in n["children"] if k is not None)
        gain[n["attribute"]] = gain.get(n["attribute"], 0.0) + max(d, 0.0)
        splits[n["attribute"]] = splits.get(n["attribute"], 0) + 1
total = sum(gain.values())
imp = ht["importance"]
assert sorted(a["name"] for a in imp) == sorted(a["name"] for a in ht["attributes"]), imp
assert all(x["importance"] >= y["importance"] for x, y in zip(imp, imp[1:])), imp
for a in imp:
    assert abs(a["importance"] - gain.get(a["name"], 0.0) / total) < 1e-9, (a, gain.get(a["name"], 0.0) / total)
    assert a["splits"] == splits.get(a["name"], 0), (a, splits)
lines = open(f"{w}/ht.describe").read().split("feature importance")[1].splitlines()[2:]
assert [l.split()[1] for l in lines] == [a["name"] for a in imp], lines
print("Hoeffding tree: importance " + ", ".join(f"{a['name']} {a['importance']:.3f}" for a in imp[:3]) +
      " ... equals the mean decrease in impurity of its exported nodes; models --describe ranks the same")
PY
