#!/usr/bin/env bash
# test_install.sh: `make install PREFIX=TMP` puts the binary, libeddy.a and
# libeddy.so, the public headers, eddy.pc and the man page under TMP;
# examples/c/learn_predict.c compiles with `pkg-config --cflags --libs eddy`
# alone and runs against the shared library (it learns a stream, then checks
# that a saved and loaded model predicts alike); `man -l` renders eddy.1
# with every command and the configuration keys; `make uninstall` leaves no
# file behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
w=$(mktemp -d "${TMPDIR:-/tmp}/eddy-install.XXXXXX")
trap 'rm -rf "$w"' EXIT
# The plain build is what gets installed, also when this runs under `make
# SANITIZE=1 test` (whose SANITIZE=1 would reach this make through MAKEFLAGS:
# an ASan libeddy.so cannot be loaded by a program built without ASan).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s SANITIZE=0 "$@"; }
mk install PREFIX="$w/prefix" > "$w/install.log" 2>&1 || { tail -20 "$w/install.log"; exit 1; }
for f in bin/eddy lib/libeddy.a lib/libeddy.so lib/pkgconfig/eddy.pc include/eddy/eddy.h \
         include/eddy/core/core.h include/eddy/learners/learners.h share/man/man1/eddy.1; do
  [ -e "$w/prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
export PKG_CONFIG_PATH=$w/prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs eddy)
echo "pkg-config --cflags --libs eddy: $flags"
cc -std=gnu11 -Wall -Wextra -Werror examples/c/learn_predict.c $flags -o "$w/learn_predict"
out=$(LD_LIBRARY_PATH=$w/prefix/lib "$w/learn_predict")
echo "$out"
grep -q "loaded copy predicts alike: yes" <<< "$out"
# ldd's output is read whole: `ldd | grep -q` under pipefail fails when grep
# exits at its match before ldd has written everything (SIGPIPE).
libs=$(ldd "$w/learn_predict"; LD_LIBRARY_PATH=$w/prefix/lib ldd "$w/learn_predict")
grep -q "$w/prefix/lib/libeddy.so" <<< "$libs" || { echo "learn_predict does not load $w/prefix/lib/libeddy.so: $libs"; exit 1; }
"$w/prefix/bin/eddy" --version
man -l "$w/prefix/share/man/man1/eddy.1" > "$w/man.txt" 2>/dev/null
for want in "EDDY(1)" "eddy predict" "eddy verify" "max_record_bytes" "hoeffding_tree" "adwin"; do
  grep -q -- "$want" "$w/man.txt" || { echo "man page lacks '$want'"; exit 1; }
done
echo "man -l eddy.1: $(wc -l < "$w/man.txt") lines"
mk uninstall PREFIX="$w/prefix" > /dev/null
left=$(find "$w/prefix" -type f -o -type l)
[ -z "$left" ] || { echo "left after uninstall: $left"; exit 1; }
echo "uninstall: nothing left"
