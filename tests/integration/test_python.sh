#!/usr/bin/env bash
# test_python.sh: `pip install ./python` into a fresh virtualenv, then the
# Python package's tests (python/tests: River's check_estimator for every
# estimator, predictions equal to `eddy eval`'s on the same stream).
# The virtualenv sees the project's (.cache/venv: River, pandas, pytest,
# setuptools and wheel, pinned in tools/requirements.txt) through a .pth
# file, and builds without isolation: no network.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROJECT_PY=$ROOT/.cache/venv/bin/python
[ -x "$PROJECT_PY" ] || fail "no $PROJECT_PY: run 'make deps'"
"$PROJECT_PY" -c 'import river, pandas, pytest, setuptools, wheel' ||
  fail "the project's virtualenv lacks River, pandas, pytest, setuptools or wheel: run 'make deps'"
EDDY_BIN=$(cd "$(dirname "${EDDY_BIN:-$ROOT/eddy}")" && pwd)/$(basename "${EDDY_BIN:-eddy}")
export EDDY_BIN
# The package compiles its own copy of the C core (setup.py, plain flags):
# under `make SANITIZE=1 test` this case would build and run the same thing
# again, minutes for nothing the sanitizers see.
if grep -q libasan <<< "$(ldd "$EDDY_BIN" 2>/dev/null)"; then  # not `ldd | grep -q`: SIGPIPE under pipefail
  echo "SKIP test_python: the package builds its own C core with plain flags; it ran with the plain build (make test)"
  exit 77
fi

VENV=$EDDY_TEST_TMP/venv
log "virtualenv in $VENV"
"$PROJECT_PY" -m venv "$VENV"
site_of() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
site_of "$PROJECT_PY" > "$(site_of "$VENV/bin/python")/project-venv.pth"

log "pip install ./python"
# a copy: the build writes build/ and *.egg-info beside setup.py, and the
# copy must find the C sources, so it is the whole tree minus build outputs
SRC=$EDDY_TEST_TMP/src
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard -- Makefile core learners detectors python |
  xargs -0 cp --parents -t "$SRC" 2>/dev/null) || true
[ -f "$SRC/python/setup.py" ] || fail "could not copy the sources"
start=$(date +%s)
"$VENV/bin/python" -m pip install --no-build-isolation --no-deps --disable-pip-version-check -q "$SRC/python" ||
  fail "pip install ./python failed"
log "built and installed in $(( $(date +%s) - start )) s"

cd "$EDDY_TEST_TMP"
"$VENV/bin/python" -c 'import eddy, eddy.river; print("eddy", eddy.__version__, eddy.__file__)'
case $("$VENV/bin/python" -c 'import eddy; print(eddy.__file__)') in
  "$VENV"/*) ;;
  *) fail "eddy was not imported from the fresh virtualenv" ;;
esac
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/python/tests"

# eddy.load of a checkpoint `eddy run` wrote: a pipeline (naive Bayes) over
# `eddy broker` with its state in redis-server checkpoints its model; the
# model read from Redis (its sha256 as `eddy models` prints it) loads in
# Python and predicts as a GaussianNB that learned the same records.
source "$ROOT/tests/integration/run_lib.sh"
N=600
start_redis
start_eddy_broker
create_topic in 1
for t in ck.predictions ck.dlq ck.alerts; do create_topic "$t" 1; done
port=$(free_port)
cfg=$EDDY_TEST_TMP/ck.ini
write_config "$cfg" ck in "[state]
store = $REDIS_URL
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
gen in $N
start_run "$cfg" "$EDDY_TEST_TMP/run.log"
wait_metric "$port" eddy_predictions_delivered_total 'pipeline="ck"' $N 60
stop_run TERM
assert_eq 0 "$RUN_RC" "exit status after SIGTERM"
redis-cli -p "$REDIS_PORT" --raw HGET eddy:ck:ckpt:0 model | head -c -1 > "$EDDY_TEST_TMP/ck.eddy"
want=$(models "$cfg" | awk '$1 == 0 { print $3 }')
got=$(sha256sum "$EDDY_TEST_TMP/ck.eddy" | cut -d' ' -f1)
assert_eq "$want" "$got" "sha256 of the checkpoint read from Redis"
consume in $N > "$EDDY_TEST_TMP/records.jsonl"
"$VENV/bin/python" - "$EDDY_TEST_TMP/ck.eddy" "$EDDY_TEST_TMP/records.jsonl" <<'PY'
import json, math, sys
import eddy
from eddy import river as er

loaded = eddy.load(sys.argv[1])
assert type(loaded) is er.GaussianNB, type(loaded)
assert loaded.eddy_model.features == ["x1", "x2", "c"], loaded.eddy_model.features
records = [json.loads(l) for l in open(sys.argv[2])]
assert len(records) == int(len(records)) and records, "no records"
ref = er.GaussianNB()
for r in records:
    ref.learn_one({k: r[k] for k in ("x1", "x2", "c")}, r["y"])
assert sorted(loaded.eddy_model.classes) == sorted(ref.eddy_model.classes)
for r in records[:200]:
    x = {k: r[k] for k in ("x1", "x2", "c")}
    a, b = loaded.predict_proba_one(x), ref.predict_proba_one(x)
    assert a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) for k in a), (a, b)
print("eddy.load: the checkpoint of eddy run predicts as GaussianNB on its", len(records), "records")
PY
log "ok"
