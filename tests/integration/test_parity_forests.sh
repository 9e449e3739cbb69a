#!/usr/bin/env bash
# test_parity_forests.sh: eddy's leveraging_bagging, adaptive_random_forest and
# streaming_random_patches (10 trees) against MOA 2024.07.0's LeveragingBag,
# AdaptiveRandomForest and StreamingRandomPatches
# (tools/compare/parity_forests.py) on Elec2 (day's values in MOA's order) and
# 20,000 seeded Agrawal rows: the same number of rows right (their draws are
# MOA's: the predictions are MOA's row for row; tests/unit/test_forests.c
# checks the rows themselves); and adaptive_random_forest_regressor against
# AdaptiveRandomForestRegressor (10 trees) on the red wine data: MAE and RMSE
# equal to 6 decimals with trees that do not split (the forest's own logic),
# both printed with the default trees. Skips (passes, saying why) when the
# peers are absent (`make peers`). Takes ~2 min (MOA's ARF is the slow part).
set -euo pipefail
cd "$(dirname "$0")/../.."
export EDDY_BIN=${EDDY_BIN:-$PWD/eddy}
# MOA's side takes minutes and is the same under the sanitizer build; the
# forests themselves run under ASan/UBSan in tests/unit/test_forests.c.
if grep -q libasan <<< "$(ldd "$EDDY_BIN" 2>/dev/null)"; then  # not `ldd | grep -q`: SIGPIPE under pipefail
  echo "SKIP test_parity_forests: MOA's runs are the same as in the plain build (make test); test_forests covers the forests under ASan"
  exit 77
fi
py=.cache/venv/bin/python
jar=$(ls .cache/moa/libs/moa-*.jar 2>/dev/null | head -1 || true)
if [ ! -x "$py" ] || ! "$py" -c 'import river' 2>/dev/null; then
  echo "SKIP test_parity_forests: no River in .cache/venv (run 'make peers')"; exit 77
fi
if [ -z "$jar" ] || ! command -v java >/dev/null || ! command -v javac >/dev/null; then
  echo "SKIP test_parity_forests: needs MOA's jar in .cache/moa/libs, java and javac (run 'make peers')"; exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-parity-forests.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The drivers as compiled by `make peers`, or freshly here when a source changed.
classes=.cache/moa/classes
for src in tools/compare/*.java; do
  if [ ! -f "$classes/$(basename "$src" .java).class" ] || [ "$src" -nt "$classes/$(basename "$src" .java).class" ]; then
    classes=$work/classes
    mkdir -p "$classes"
    javac -nowarn -Xlint:-path -d "$classes" -cp "$jar" tools/compare/*.java
    break
  fi
done
export MOA_CLASSES=$classes
"$py" tools/compare/parity_forests.py "$work"
