#!/usr/bin/env bash
# moa_prequential.sh: MOA's prequential accuracy and per-row predictions on a
# CSV data set, for side-by-side checks of eddy's learners (not run by make).
#   tests/reference/moa_prequential.sh ../shared/datasets/elec2.csv \
#       bayes.NaiveBayes day:1,2,3,4,5,6,7 class:UP,DOWN
# The classifier is a MOA command-line string ('trees.HoeffdingTree -g 100').
# Each NAME:v1,v2,... argument makes column NAME nominal with those values
# in that order (as in the ARFF header MOA's figures were measured with);
# NOMINAL=a,b makes columns nominal with their values in order of
# appearance (as eddy numbers them); the last column is the class. Uses the
# one MOA driver, tools/compare/MoaPrequential.java, and MOA's jar from
# `make peers` (.cache/moa/libs) or $MOA_JAR. Per-row output: $OUT (default
# /tmp/moa_prequential.txt): predicted index, then MOA's votes.
set -euo pipefail
csv=$1 cls=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
jar=${MOA_JAR:-$(ls "$root"/.cache/moa/libs/moa-*.jar 2>/dev/null | head -1)}
[ -n "$jar" ] && [ -f "$jar" ] || { echo "no MOA jar: run 'make peers' or set MOA_JAR" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/tools/compare/csv2arff.py" "$csv" "$work/data.arff" --nominal "${NOMINAL:-}" "$@"
javac -nowarn -Xlint:-path -d "$work" -cp "$jar" "$root/tools/compare/MoaPrequential.java"
java -cp "$jar:$work" MoaPrequential "$work/data.arff" "$cls" --predictions "${OUT:-/tmp/moa_prequential.txt}"
