#!/usr/bin/env bash
# test_eval_delay.sh: `eddy eval --delay` reveals each label later exactly as
# River's evaluate.progressive_val_score(dataset, model, metric, delay=...)
# does (River's simulate_qa order: the labels due are learned before the
# next record is predicted; the prediction made then is the one scored).
# Logistic regression (plain SGD 0.01, standardize = false, every column a
# number) on Elec2 (../shared/datasets) with delays of 0, 100 and 1000
# records, and on a 20,000-row SEA stream with a time field, labels 15
# minutes after each record (River: moment = ts, delay = 900 s): accuracy
# equal to River's to 1e-6. Skips (exit 77) without River in .cache/venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDDY_BIN=${EDDY_BIN:-$PWD/eddy}
py=.cache/venv/bin/python
if [ ! -x "$py" ] || ! "$py" -c 'import river' 2>/dev/null; then
  echo "SKIP test_eval_delay: no River in .cache/venv (run 'make peers')"; exit 77
fi
elec2=${EDDY_DATASETS:-../shared/datasets}/elec2.csv
[ -f "$elec2" ] || { echo "SKIP test_eval_delay: $elec2 not found"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-delay.XXXXXX")
trap 'rm -rf "$work"' EXIT

lr='[model]
learner = logistic_regression
learning_rate = 0.01
intercept_lr = 0.01
l2 = 0
standardize = false'
printf '[pipeline]\nname = delay\n[features]\ntarget = class\n%s\n' "$lr" > "$work/lr.ini"
printf '[pipeline]\nname = delay\n[features]\ntarget = class\ntimestamp = ts\n[state]\ntime_unit = s\n%s\n' \
  "$lr" > "$work/lr_ts.ini"

# SEA with a time field: seconds, 0 to 120 apart (seeded).
"$EDDY_BIN" gen sea --n 20000 --seed 7 | "$py" -c '
import random, sys
rnd = random.Random(3)
rows = sys.stdin.read().splitlines()
print(rows[0] + ",ts")
t = 1700000000
for r in rows[1:]:
    t += rnd.randint(0, 120)
    print(f"{r},{t}")' > "$work/sea_ts.csv"
head -1 "$work/sea_ts.csv" | grep -q '^attrib1,attrib2,attrib3,class,ts$' || { echo "unexpected SEA header: $(head -1 "$work/sea_ts.csv")"; exit 1; }

eddy_acc() { # CONFIG FILE DELAY
  "$EDDY_BIN" eval -c "$1" --input "$2" -e 0 -f jsonl -q --delay "$3" | tail -1 |
    "$py" -c 'import json, sys; d = json.load(sys.stdin); print(d["accuracy"], d["instances"], d["revealed_later"])'
}

# River's binary LogisticRegression models P(True); eddy's, the second class
# seen (class index 1), and both break a 0.5 tie towards the other one: True
# is the second class of the file.
"$py" - "$elec2" "$work/sea_ts.csv" > "$work/river.txt" <<'EOF'
import csv, sys
from river import compose, evaluate, linear_model, metrics, optim

def data(path):
    with open(path) as f:
        rows = csv.DictReader(f)
        second, seen = None, []
        for r in rows:
            y = r.pop("class")
            if y not in seen:
                seen.append(y)
            yield {k: float(v) for k, v in r.items()}, len(seen) > 1 and y == seen[1]

def acc(path, **kw):
    m = linear_model.LogisticRegression(optimizer=optim.SGD(0.01), intercept_lr=0.01, l2=0.0)
    if "moment" in kw:  # the time field tells when, it is not a feature
        m = compose.Discard(kw["moment"]) | m
    a = metrics.Accuracy()
    evaluate.progressive_val_score(data(path), m, a, **kw)
    return a.get()

for d in (0, 100, 1000):
    print("elec2", d, repr(acc(sys.argv[1], delay=d)))
print("sea_ts", "15m", repr(acc(sys.argv[2], moment="ts", delay=900)))
EOF
cat "$work/river.txt"
fails=0
while read -r stream delay want; do
  if [ "$stream" = elec2 ]; then got=$(eddy_acc "$work/lr.ini" "$elec2" "$delay")
  else got=$(eddy_acc "$work/lr_ts.ini" "$work/sea_ts.csv" "$delay"); fi
  read -r acc n revealed <<< "$got"
  if "$py" -c "import sys; sys.exit(0 if abs($acc - $want) <= 1e-6 else 1)"; then
    echo "ok   $stream delay $delay: eddy $acc River $want ($n instances, $revealed labels revealed later)"
  else
    echo "FAIL $stream delay $delay: eddy $acc River $want ($n instances, $revealed labels revealed later)"
    fails=$((fails + 1))
  fi
done < "$work/river.txt"
[ "$fails" -eq 0 ]
