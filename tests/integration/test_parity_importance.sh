#!/usr/bin/env bash
# test_parity_importance.sh: eddy's Hoeffding tree holds the statistics
# MOA's feature importance is made of. MOA's FeatureImportanceHoeffdingTree
# (MDI over its own HoeffdingTree, tools/compare/MoaImportance.java) on
# 20,000 Elec2 rows and 20,000 SEA rows (10% noise), and its
# FeatureImportanceHoeffdingTreeEnsemble over AdaptiveRandomForest -s 10 on
# the Elec2 rows, give per attribute the same value (to 1e-9) as MOA's
# formula applied here to the trees eddy exports after the same rows
# (eddy's trees are MOA's, node for node): per split, the entropy of the
# class weights of its leaves less each child's entropy weighted by the
# child's weight truncated to an integer over the split's, summed over the
# forest's trees. eddy's own figure, printed beside it, weights each split
# by the share of the weight that reached it (README, "Feature
# importance").
# Skips (exit 77) without MOA's jar, java and javac (`make peers`).
set -euo pipefail
cd "$(dirname "$0")/../.."
EDDY_BIN=${EDDY_BIN:-$PWD/eddy}
jar=$(ls .cache/moa/libs/moa-*.jar 2>/dev/null | head -1 || true)
if [ -z "$jar" ] || ! command -v java >/dev/null || ! command -v javac >/dev/null; then
  echo "SKIP test_parity_importance: needs MOA's jar in .cache/moa/libs, java and javac (run 'make peers')"; exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-parity-importance.XXXXXX")
trap 'rm -rf "$work"' EXIT
classes=.cache/moa/classes
src=tools/compare/MoaImportance.java
if [ ! -f "$classes/MoaImportance.class" ] || [ "$src" -nt "$classes/MoaImportance.class" ]; then
  classes=$work/classes
  mkdir -p "$classes"
  javac -nowarn -Xlint:-path -d "$classes" -cp "$jar" "$src"
fi
cp=$(ls .cache/moa/libs/*.jar | tr '\n' ':')$classes
elec2=${EDDY_DATASETS:-../shared/datasets}/elec2.csv

head -20001 "$elec2" > "$work/elec2.csv"
python3 tools/compare/csv2arff.py "$work/elec2.csv" "$work/elec2.arff" --nominal day --target class \
  day:1,2,3,4,5,6,7 class:UP,DOWN
cp configs/elec2-ht.ini "$work/elec2.ini"
"$EDDY_BIN" gen sea --n 20000 --noise 0.1 --seed 1 > "$work/sea.csv"
python3 tools/compare/csv2arff.py "$work/sea.csv" "$work/sea.arff" --target class
printf '[pipeline]\nname = s\n[features]\ntarget = class\n[model]\nlearner = hoeffding_tree\n' > "$work/sea.ini"
sed 's/^ensemble_size = 100$/ensemble_size = 10/' configs/elec2-arf.ini > "$work/arf.ini"
cp "$work/elec2.csv" "$work/arf.csv"
cp "$work/elec2.arff" "$work/arf.arff"

for s in elec2 sea arf; do
  "$EDDY_BIN" eval -c "$work/$s.ini" -i "$work/$s.csv" -e 0 -q --save-model "$work/$s.ckpt" > /dev/null 2>&1
  "$EDDY_BIN" models --checkpoint "$work/$s.ckpt" > "$work/$s.json"
  if [ $s = arf ]; then
    java -cp "$cp" MoaImportance "$work/$s.arff" 'meta.AdaptiveRandomForest -s 10' 2> /dev/null > "$work/$s.moa"
  else
    java -cp "$cp" MoaImportance "$work/$s.arff" > "$work/$s.moa"
  fi
  python3 - "$s" "$work/$s.json" "$work/$s.moa" <<'PY'
import json, sys
from math import log2
name, mine, moa = sys.argv[1], json.load(open(sys.argv[2]))["learner"], json.load(open(sys.argv[3]))
trees = [t["tree"] for t in mine["model"]["trees"]] if mine["model"]["family"] == "forest" else [mine["model"]]
assert len(trees) == (10 if name == "arf" else 1), len(trees)
def entropy(s):
    w = sum(s.values())
    return -sum(v / w * log2(v / w) for v in s.values() if v > 0) if w > 0 else 0.0
want, n_nodes = {}, 0
for tree in trees:
    nodes = {n["id"]: n for n in tree["nodes"]}
    n_nodes += len(nodes)
    def stat(n):
        if n["kind"] != "split":
            return dict(n["class_weights"])
        s = {}
        for k in n["children"]:
            if k is not None:
                for c, v in stat(nodes[k]).items():
                    s[c] = s.get(c, 0.0) + v
        return s
    for n in nodes.values():
        if n["kind"] == "split":
            s = stat(n)
            w = sum(s.values())
            kids = [stat(nodes[k]) for k in n["children"] if k is not None]
            d = entropy(s) - sum(int(sum(c.values())) / w * entropy(c) for c in kids)
            want[n["attribute"]] = want.get(n["attribute"], 0.0) + d
got = moa["importance"]
assert sorted(got) == sorted(a["name"] for a in mine["attributes"]), (got, mine["attributes"])
assert moa["instances"] == 20000, moa
for a, v in got.items():
    assert abs(v - want.get(a, 0.0)) <= 1e-9 * max(1.0, abs(v)), (name, a, v, want.get(a, 0.0))
assert sum(got.values()) > 0, got
total = sum(got.values())
eddy = {f["name"]: f["importance"] for f in mine["importance"]}
print(f"{name}: MOA's MDI equals its formula on eddy's exported trees ({n_nodes} nodes);",
      "normalised, MOA / eddy:", ", ".join(f"{a} {v / total:.3f} / {eddy[a]:.3f}"
                                               for a, v in sorted(got.items(), key=lambda x: -x[1]) if v > 0))
PY
done
