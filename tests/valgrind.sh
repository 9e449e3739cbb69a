#!/usr/bin/env bash
# valgrind.sh SUITE...: the unit suites given and the integration suites
# under Valgrind's memcheck (`make valgrind`). Each suite binary runs under
# valgrind with one Criterion job; every eddy process the suites start
# (EDDY_BIN: test_cli, test_cmd_detect, the integration scripts' brokers)
# runs under valgrind through a wrapper. Every process writes its own log
# (BUILD/valgrind/logs/NAME.PID.log); the run fails when any log shows a
# memory error or a definite or indirect leak, or when a suite failed, and
# prints the logs that did.
#
# Needs the plain build (BUILD=build: valgrind and ASan do not mix). Under
# valgrind everything runs 20 to 50 times slower: suites with a Criterion
# .timeout may time out; those are reported as timeouts, not as memory
# errors. VALGRIND_INTEGRATION=0 skips the integration scripts;
# VALGRIND_LOGS=DIR keeps the logs elsewhere (two runs at once over
# different suites); VALGRIND_EXTRA adds options (--track-origins=yes to
# find where an uninitialised value came from, at twice the time).
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build}
if [ "$build" != build ]; then
  echo "valgrind: run it on the plain build (make valgrind, without SANITIZE=1)"
  exit 2
fi
command -v valgrind > /dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 2; }
dir=$PWD/$build/valgrind
logs=${VALGRIND_LOGS:-$dir/logs}
case $logs in /*) ;; *) logs=$PWD/$logs ;; esac
rm -rf "$logs"
mkdir -p "$logs"
# shellcheck disable=SC2206
vg=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 --num-callers=30
    ${VALGRIND_EXTRA:-})

# eddy under valgrind, for whoever runs $EDDY_BIN (one wrapper per log
# directory; the suites' valgrind does not trace it: */valgrind/eddy).
wrap=$logs/wrap/valgrind
mkdir -p "$wrap"
printf '#!/bin/sh\nexec %s --log-file="%s/eddy.%%p.log" "%s/eddy" "$@"\n' "${vg[*]}" "$logs" "$PWD" \
  > "$wrap/eddy"
chmod +x "$wrap/eddy"
export EDDY_BIN=$wrap/eddy

failed=()
for t in "$@"; do
  name=$(basename "$t")
  case $name in
    test_linear_alloc)
      # It counts allocations by defining malloc itself, which valgrind
      # replaces: the counter never moves and its asserts fail.
      printf '%-28s skipped: interposes malloc, which valgrind replaces\n' "$name"
      continue ;;
  esac
  start=$(date +%s)
  # Criterion runs each test in a child that re-executes the suite: traced;
  # servers, scripts and the eddy wrapper (which runs valgrind itself) not.
  out=$("${vg[@]}" --trace-children=yes \
    --trace-children-skip='*/valgrind/eddy,*redis-server*,*python*,*java*,*kcat*,/bin/*,/usr/bin/*,/usr/sbin/*' \
    --log-file="$logs/$name.%p.log" "$t" --jobs 1 2>&1)
  rc=$?
  synth=$(printf '%s\n' "$out" | grep -a "Synthesis:" | tail -1)
  printf '%-28s %s (%ss, exit %d)\n' "$name" "${synth:-no synthesis line}" $(( $(date +%s) - start )) $rc
  if [ $rc -ne 0 ]; then
    printf '%s\n' "$out" | grep -aE "^\[FAIL\]|Timed out|Crash" | head -10 | sed 's/^/    /'
    failed+=("$name")
  fi
done

if [ "${VALGRIND_INTEGRATION:-1}" != 0 ]; then
  BUILD=$build tools/run-integration.sh || failed+=(integration)
fi

# Logs with errors or leaks (valgrind writes the summaries at exit).
bad=()
for f in "$logs"/*.log; do
  [ -e "$f" ] || continue
  if grep -qE "ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]" "$f"; then
    bad+=("$f")
  fi
done
# A log without a summary is a child that exec'd a program not traced (a
# shell for popen, a server, the eddy wrapper, which logs on its own).
n_logs=$(grep -l "ERROR SUMMARY" "$logs"/*.log 2> /dev/null | wc -l)
n_left=$(grep -L "ERROR SUMMARY" "$logs"/*.log 2> /dev/null | wc -l)
echo "valgrind: $n_logs processes checked ($n_left more exec'd into programs not traced)," \
  "${#bad[@]} with memory errors or leaks"
for f in "${bad[@]}"; do
  echo "== $f"
  grep -E "^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|Argument|[0-9,]+ .*(definitely|indirectly) lost|ERROR SUMMARY)" "$f" | head -12
done
[ ${#failed[@]} -eq 0 ] || echo "suites that failed under valgrind: ${failed[*]}"
[ ${#bad[@]} -eq 0 ] && [ ${#failed[@]} -eq 0 ]
