#!/usr/bin/env bash
# run-faults.sh: the fault suite (`make faults`): runs every
# tests/faults/case_*.sh, one after the other, each with its log in
# build/faults/CASE.log, and prints one line per scenario (a case runs on
# one or more brokers and guarantees): case, broker, what was injected,
# records in, offsets predicted, duplicates, lost, dead letters, models
# equal/checked, PASS or FAIL. Exit 1 when any scenario failed (or a case
# script failed before its verdict).
#
#   tools/run-faults.sh [full|short]
#     full   FAULTS_RECORDS=100000 per scenario, every broker kind a case
#            supports, exactly_once too on Apache Kafka
#     short  (CI) FAULTS_RECORDS=5000, each case on one broker (the first
#            it supports: Apache Kafka for most), at-least-once only
# Environment: FAULTS_RECORDS, FAULTS_BROKERS, FAULTS_EOS, FAULTS_SEED
# override; FAULTS_CASES="sigkill redis_stop" picks cases; EDDY_BIN.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-full}
case "$mode" in
  full)
    export FAULTS_RECORDS=${FAULTS_RECORDS:-100000}
    export FAULTS_EOS=${FAULTS_EOS:-1}
    ;;
  short)
    export FAULTS_RECORDS=${FAULTS_RECORDS:-5000}
    export FAULTS_EOS=${FAULTS_EOS:-0}
    export FAULTS_ONE_BROKER=${FAULTS_ONE_BROKER:-1}
    ;;
  *) echo "usage: run-faults.sh [full|short]" >&2; exit 2 ;;
esac
export EDDY_BIN=${EDDY_BIN:-$root/eddy}
out=${BUILD:-build}/faults
case "$out" in /*) ;; *) out=$root/$out ;; esac
mkdir -p "$out"
results=$out/results.jsonl
: > "$results"
export FAULTS_RESULTS=$results

cases=()
if [ -n "${FAULTS_CASES:-}" ]; then
  for c in $FAULTS_CASES; do cases+=("$root/tests/faults/case_$c.sh"); done
else
  cases=("$root"/tests/faults/case_*.sh)
fi

fmt() { # result lines (JSON) as table rows
  /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    n = lambda k: "-" if r.get(k) is None else str(r[k])
    models = n("models_equal") + "/" + n("models_checked")
    row = "%-18s %-10s %-62s %8s %9s %6s %5s %6s %7s %s" % (
        r["case"], r["broker"], r["injected"][:62], n("records_in"), n("predictions"), n("duplicates"),
        n("lost"), n("dlq"), models, r["result"])
    if r["result"] != "PASS":
        row += "  (%s)" % r.get("violation")
    print(row)'
}

printf 'faults (%s): FAULTS_RECORDS=%s, seed %s, logs in %s/\n' "$mode" "$FAULTS_RECORDS" "${FAULTS_SEED:-1}" "$out"
printf '%-18s %-10s %-62s %8s %9s %6s %5s %6s %7s %s\n' case broker injected in predicted dups lost dlq models result
t0=$(date +%s)
failed=0
for script in "${cases[@]}"; do
  name=$(basename "$script" .sh)
  name=${name#case_}
  [ -x "$script" ] || { echo "$name: no such case ($script)"; failed=1; continue; }
  before=$(wc -l < "$results")
  c0=$(date +%s)
  "$script" > "$out/$name.log" 2>&1
  rc=$?
  tail -n "+$((before + 1))" "$results" | fmt
  if [ "$rc" -ne 0 ]; then
    failed=1
    if ! tail -n "+$((before + 1))" "$results" | grep -q '"result": "FAIL"'; then
      printf '%-18s %-10s %-62s %s\n' "$name" - "(the case failed before its verdict)" \
        "FAIL  ($(grep -m1 'FAIL:' "$out/$name.log" | cut -c1-160))"
    fi
  fi
  printf '  (%s: %d s)\n' "$name" $(( $(date +%s) - c0 )) >&2
done
printf 'faults (%s): %s in %d s\n' "$mode" "$([ $failed = 0 ] && echo PASS || echo FAIL)" $(( $(date +%s) - t0 ))
exit $failed
