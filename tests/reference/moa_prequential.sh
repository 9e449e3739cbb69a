#!/usr/bin/env bash
# moa_prequential.sh: MOA's prequential accuracy and per-row predictions on a
# CSV data set, for side-by-side checks of eddy's learners (not run by make).
#   tests/reference/moa_prequential.sh ../shared/datasets/elec2.csv \
#       moa.classifiers.bayes.NaiveBayes day:1,2,3,4,5,6,7 class:UP,DOWN
# Each NAME:v1,v2,... argument makes column NAME nominal with those values
# in that order (as in the ARFF header MOA's figures were measured with);
# the last column is the class. Needs java, javac and MOA's jar (Maven
# Central nz.ac.waikato.cms.moa:moa, in ~/.m2 or $MOA_JAR). Per-row output:
# $OUT (default /tmp/moa_prequential.txt): predicted index, then MOA's votes.
set -euo pipefail
csv=$1 cls=$2
shift 2
jar=${MOA_JAR:-$(ls ~/.m2/repository/nz/ac/waikato/cms/moa/moa/*/moa-*.jar 2>/dev/null | sort | tail -1)}
[ -n "$jar" ] && [ -f "$jar" ] || { echo "no MOA jar: set MOA_JAR" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$csv" "$work/data.arff" "$@" <<'PY'
import csv, sys
src, dst, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
nominal = dict((s.split(':', 1)[0], s.split(':', 1)[1].split(',')) for s in specs)
with open(src, newline='') as f:
    rows = list(csv.reader(f))
with open(dst, 'w') as out:
    out.write('@relation data\n')
    for name in rows[0]:
        kind = '{%s}' % ','.join(nominal[name]) if name in nominal else 'numeric'
        out.write('@attribute %s %s\n' % (name, kind))
    out.write('@data\n')
    for r in rows[1:]:
        out.write(','.join(r) + '\n')
PY
here=$(cd "$(dirname "$0")" && pwd)
javac -d "$work" -cp "$jar" "$here/MoaPrequential.java"
java -cp "$jar:$work" MoaPrequential "$work/data.arff" "${OUT:-/tmp/moa_prequential.txt}" "$cls"
