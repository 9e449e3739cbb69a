#!/usr/bin/env bash
# run-bench.sh: runs each bench binary given (learners and detectors on
# in-memory streams), then the end-to-end benchmarks under tests/bench/
# (bench_*.sh), and prints their tables.
set -u
cd "$(dirname "$0")/.."
rc=0
echo "eddy bench on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)"
for b in "$@"; do
  echo
  "$b" || rc=1
done
for s in tests/bench/bench_*.sh; do
  [ -e "$s" ] || continue
  echo
  bash "$s" || rc=1
done
exit $rc
