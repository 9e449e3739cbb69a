#!/usr/bin/env bash
# test_predict.sh: `eddy eval --save-model` then `eddy predict -m`: a Hoeffding
# tree learns the first 2,000 rows of a seeded SEA stream and is saved; the
# next 1,000 rows, scored by `eddy predict` with the saved model, get
# exactly the predictions and probabilities `eddy eval` makes for them when
# they follow the 2,000 rows without their labels (nothing more learned).
# A damaged checkpoint is refused, naming the file.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDDY_BIN=${EDDY_BIN:-$PWD/eddy}
w=$(mktemp -d "${TMPDIR:-/tmp}/eddy-predict.XXXXXX")
trap 'rm -rf "$w"' EXIT
cfg=configs/sea-ht.ini
"$EDDY_BIN" gen sea --n 3000 --seed 5 > "$w/s.csv"
head -2001 "$w/s.csv" > "$w/a.csv"
{ head -1 "$w/s.csv"; tail -1000 "$w/s.csv"; } > "$w/b.csv"
{ cat "$w/a.csv"; tail -1000 "$w/s.csv" | sed 's/,[^,]*$/,/'; } > "$w/ab.csv"
"$EDDY_BIN" eval -c "$cfg" -i "$w/a.csv" -e 0 -q --save-model "$w/m.ckpt" > /dev/null
"$EDDY_BIN" eval -c "$cfg" -i "$w/ab.csv" -e 0 -q --predictions "$w/ab.jsonl" > /dev/null
"$EDDY_BIN" predict -c "$cfg" -m "$w/m.ckpt" -i "$w/b.csv" -o "$w/b.jsonl"
"$EDDY_BIN" predict -c "$cfg" -m "$w/m.ckpt" -i "$w/b.csv" -f csv > "$w/b.csv.out"
python3 - "$w" <<'PY'
import csv, json, sys
w = sys.argv[1]
ab = [json.loads(l) for l in open(f"{w}/ab.jsonl")][2000:]
b = [json.loads(l) for l in open(f"{w}/b.jsonl")]
assert len(ab) == len(b) == 1000, (len(ab), len(b))
for x, y in zip(ab, b):
    assert (x["prediction"], x["probabilities"]) == (y["prediction"], y["probabilities"]), (x, y)
rows = list(csv.DictReader(open(f"{w}/b.csv.out")))
assert len(rows) == 1000 and all(r["prediction"] == j["prediction"] for r, j in zip(rows, b))
print("1000 predictions of the saved model equal eval's, JSON and CSV")
PY
# One byte changed in the middle: the CRC refuses it.
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$w/m.ckpt"
if "$EDDY_BIN" predict -c "$cfg" -m "$w/m.ckpt" -i "$w/b.csv" > /dev/null 2> "$w/err"; then
  echo "a damaged checkpoint was accepted"; exit 1
fi
grep -q "m.ckpt: refused" "$w/err" || { echo "unexpected error: $(cat "$w/err")"; exit 1; }
echo "damaged checkpoint refused: $(cat "$w/err")"
