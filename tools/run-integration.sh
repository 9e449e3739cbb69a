#!/usr/bin/env bash
# run-integration.sh: runs each tests/integration/test_*.sh; each starts
# (and always stops) the servers it needs. Fails when any case failed.
set -u
cd "$(dirname "$0")/.."
failed=()
skipped=()
n=0
for t in tests/integration/test_*.sh; do
  [ -e "$t" ] || continue
  n=$((n + 1))
  name=$(basename "$t" .sh)
  start=$(date +%s)
  rc=0
  bash "$t" > "${BUILD:-build}/$name.log" 2>&1 || rc=$?
  if [ $rc -eq 0 ]; then
    printf '%-36s ok (%ss)\n' "$name" $(( $(date +%s) - start ))
  elif [ $rc -eq 77 ]; then
    why=$(grep -m1 -o 'SKIP [^:]*: .*' "${BUILD:-build}/$name.log" | sed 's/^SKIP [^:]*: //')
    printf '%-36s skipped: %s\n' "$name" "${why:-no reason given}"
    skipped+=("$name")
  else
    printf '%-36s FAILED (%ss), last lines of %s:\n' "$name" $(( $(date +%s) - start )) "${BUILD:-build}/$name.log"
    tail -30 "${BUILD:-build}/$name.log" | sed 's/^/    /'
    failed+=("$name")
  fi
done
echo "integration: $n cases, ${#failed[@]} failed${failed:+: ${failed[*]}}, ${#skipped[@]} skipped${skipped:+: ${skipped[*]}}"
[ ${#failed[@]} -eq 0 ]
