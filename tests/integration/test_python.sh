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
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard -- Makefile core engine learners detectors connectors generators python |
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
log "ok"
