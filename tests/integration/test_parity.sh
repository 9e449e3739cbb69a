#!/usr/bin/env bash
# test_parity.sh: eddy against MOA on the same data (tools/compare/parity.py):
# naive Bayes and the Hoeffding tree on a 20,000-row seeded Agrawal stream
# must be within 0.5 point of MOA's prequential accuracy, OzaBoost (10
# trees, MOA's Poisson draws) and EFDT exactly at it (EFDT also on Elec2 and
# UCI Adult from ../shared/datasets, prediction for prediction), and each detector's
# first drift on a 0/1 series (Bernoulli 0.2 then 0.5) within 32 values of
# MOA's. Learners and detectors not in this build are skipped, each named.
# Skips (exit 77, saying why) when the peers are absent: `make peers` installs
# them (MOA's jar in .cache/moa/libs, River in .cache/venv). Takes ~50 s (more when the machine is loaded).
set -euo pipefail
cd "$(dirname "$0")/../.."
export EDDY_BIN=${EDDY_BIN:-$PWD/eddy}
py=.cache/venv/bin/python
jar=$(ls .cache/moa/libs/moa-*.jar 2>/dev/null | head -1 || true)
if [ ! -x "$py" ] || ! "$py" -c 'import river' 2>/dev/null; then
  echo "SKIP test_parity: no River in .cache/venv (run 'make peers')"; exit 77
fi
if [ -z "$jar" ] || ! command -v java >/dev/null || ! command -v javac >/dev/null; then
  echo "SKIP test_parity: needs MOA's jar in .cache/moa/libs, java and javac (run 'make peers')"; exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-parity.XXXXXX")
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
"$py" tools/compare/parity.py "$work"
