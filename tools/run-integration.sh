#!/usr/bin/env bash
# run-integration.sh: runs each tests/integration/test_*.sh; each starts
# (and always stops) the servers it needs. Fails when any case failed.
set -u
cd "$(dirname "$0")/.."
failed=()
n=0
for t in tests/integration/test_*.sh; do
  [ -e "$t" ] || continue
  n=$((n + 1))
  name=$(basename "$t" .sh)
  start=$(date +%s)
  if bash "$t" > "${BUILD:-build}/$name.log" 2>&1; then
    printf '%-36s ok (%ss)\n' "$name" $(( $(date +%s) - start ))
  else
    printf '%-36s FAILED (%ss), last lines of %s:\n' "$name" $(( $(date +%s) - start )) "${BUILD:-build}/$name.log"
    tail -30 "${BUILD:-build}/$name.log" | sed 's/^/    /'
    failed+=("$name")
  fi
done
echo "integration: $n cases, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
