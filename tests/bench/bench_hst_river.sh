#!/usr/bin/env bash
# bench_hst_river.sh: half_space_trees against River 0.26.1's HalfSpaceTrees
# (same defaults, limits.x4) on the labelled anomaly stream of
# tests/integration/hst_river.py: records/s of score + learn, eddy's through
# `eddy eval` (CSV parsing included), River's in-process (no parsing).
set -u
cd "$(dirname "$0")/../.."
py=.cache/venv/bin/python
EDDY_BIN=${EDDY_BIN:-$PWD/eddy}
if [ ! -x "$py" ] || ! "$py" -c 'import river' 2>/dev/null; then
  echo "bench_hst_river: skipped (no River in .cache/venv)"; exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-hst-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=200000
"$py" tests/integration/hst_river.py gen "$work/a.csv" $n 7
"$py" tests/integration/hst_river.py config 1 > "$work/hst.ini"
eddy=$("$EDDY_BIN" eval -c "$work/hst.ini" --input "$work/a.csv" -e 0 -q -f jsonl |
  "$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["instances_per_second"])')
head -20001 "$work/a.csv" > "$work/b.csv"
river=$("$py" tests/integration/hst_river.py speed "$work/b.csv")
printf '%-34s %14s %14s %8s\n' "half_space_trees vs River" "eddy rec/s" "River rec/s" "ratio"
printf '%-34s %14.0f %14.0f %7.0fx\n' "10 trees, height 8, window 250" "$eddy" "$river" \
  "$(echo "$eddy / $river" | bc -l)"
