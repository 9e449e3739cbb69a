#!/usr/bin/env bash
# run.sh BUILD SECONDS [NAME...]: runs each libFuzzer target BUILD/fuzz_NAME
# (all of them when no NAME is given) for SECONDS on a working copy of its
# seed corpus, one after the other, and prints a line per target: total
# executions, executions/s, coverage (cov: edges) and features (ft:).
# Fails when any target found a crash, a leak, a timeout or ran out of
# memory, printing the reproducer (rerun it with `BUILD/fuzz_NAME FILE`).
#
# Working copies live in BUILD/work/NAME/corpus (git-ignored): the seeds of
# tests/fuzz/corpus/NAME/, the configs/*.ini files for config, and what
# BUILD/make_corpus generates from the registries for checkpoint, replica
# and avro. What a run discovers stays there for the next run, so the repo
# does not churn. Logs: BUILD/work/NAME.log.
set -u
build=${1:?usage: run.sh BUILD SECONDS [NAME...]}
seconds=${2:?usage: run.sh BUILD SECONDS [NAME...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$build/work
mkdir -p "$work"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for t in "$build"/fuzz_*; do
    case $t in *.d) continue ;; esac
    names+=("${t##*/fuzz_}")
  done
fi

# Seeds that depend on the build: every registered learner and detector.
rm -rf "$work/gen"
"$build/make_corpus" "$work/gen" "$here/fuzz.avsc" || { echo "make_corpus failed"; exit 1; }

# Longest input per target: a little above its largest seed, at least the
# size its format needs to show its structure.
max_len() {
  local name=$1 dir=$2 floor
  case $name in
    avro) floor=2048 ;;
    decimal) floor=512 ;;
    config) floor=8192 ;;
    checkpoint | replica) floor=16384 ;;
    *) floor=4096 ;;
  esac
  local big
  big=$(find "$dir" -type f -printf '%s\n' | sort -n | tail -1)
  big=$(( ${big:-0} + ${big:-0} / 4 + 64 ))
  echo $(( big > floor ? big : floor ))
}

# ASan's default quarantine (256 MB of freed memory held back) makes every
# replica's allocations fresh pages: 16 MB still catches a use after free
# of anything freed lately, at twice the speed and a fraction of the RSS.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}

failed=0
summary=()
for name in "${names[@]}"; do
  bin=$build/fuzz_$name
  if [ ! -x "$bin" ]; then
    echo "no target $bin"
    failed=1
    continue
  fi
  corpus=$work/$name/corpus
  artifacts=$work/$name/artifacts
  mkdir -p "$corpus" "$artifacts"
  [ -d "$here/corpus/$name" ] && cp -n "$here/corpus/$name"/* "$corpus"/ 2>/dev/null
  [ -d "$work/gen/$name" ] && cp "$work/gen/$name"/* "$corpus"/
  [ "$name" = config ] && cp "$root"/configs/*.ini "$corpus"/
  dict=()
  case $name in
    json) dict=(-dict="$here/json.dict") ;;
    csv) dict=(-dict="$here/csv.dict") ;;
    config) dict=(-dict="$work/gen/config.dict") ;;
    decimal) dict=(-dict="$here/decimal.dict") ;;
  esac
  len=$(max_len "$name" "$corpus")
  log=$work/$name.log
  echo "fuzz_$name: ${seconds}s, -max_len=$len, corpus $(ls "$corpus" | wc -l) files ($log)"
  "$bin" -max_total_time="$seconds" -max_len="$len" -rss_limit_mb=2048 -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  line=$(printf '%-11s %10s runs %7s/s  cov %5s  ft %6s  rss %5s MB' "$name" "${runs:-?}" "${speed:-?}" \
    "${cov:-?}" "${ft:-?}" "${rss:-?}")
  if [ $rc -ne 0 ]; then
    failed=1
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    line="$line  FAILED (exit $rc)"
    echo "fuzz_$name FAILED:"
    grep -E 'ERROR: |SUMMARY: |runtime error|check failed|ALARM|out-of-memory' "$log" | head -5 | sed 's/^/  /'
    echo "  reproducer: ${repro:-none written; see $log}"
    [ -n "$repro" ] && echo "  rerun: $bin $repro"
  fi
  summary+=("$line")
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $failed
