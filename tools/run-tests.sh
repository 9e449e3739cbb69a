#!/usr/bin/env bash
# run-tests.sh: runs every Criterion suite given, keeps each one's
# "Synthesis" line visible, and fails when any suite failed or crashed.
set -u
failed=()
total=0
for t in "$@"; do
  name=$(basename "$t")
  out=$("$t" --jobs 2 2>&1); rc=$?
  synth=$(printf '%s\n' "$out" | grep -a "Synthesis:" | tail -1)
  if [ $rc -ne 0 ] || [ -z "$synth" ]; then
    printf '%s\n' "$out" | grep -av "^\[----\]\s*$" | tail -60
    failed+=("$name")
  fi
  printf '%-28s %s\n' "$name" "${synth:-[====] no synthesis line (crashed?) rc=$rc}"
  n=$(printf '%s' "$synth" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
  total=$((total + ${n:-0}))
done
echo "unit: $# suites, $total tests, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
