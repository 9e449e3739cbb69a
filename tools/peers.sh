#!/usr/bin/env bash
# peers.sh (`make peers`): everything `make compare` and the parity test
# (tests/integration/test_parity.sh) measure eddy against, each fetched
# only when absent, into git-ignored caches:
#   - tools/deps.sh: Debian packages, and River, scikit-learn, numpy, scipy,
#     matplotlib (PyPI, pinned in tools/requirements.txt) in .cache/venv;
#   - a JDK (javac) and Maven, from Debian, when missing;
#   - MOA (Maven Central, pinned in tools/moa/pom.xml) in .cache/moa/libs,
#     fetched again when the pom changes;
#   - the MOA drivers tools/compare/*.java compiled into .cache/moa/classes
#     when a source is newer than its class.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh

need=()
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  echo "peers: installing Debian packages: ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

libs=.cache/moa/libs
if ! cmp -s tools/moa/pom.xml "$libs/.pom" 2>/dev/null; then
  echo "peers: fetching MOA from Maven Central into $libs"
  rm -rf "$libs.tmp"
  mkdir -p .cache/moa
  mvn -q -B -Dstyle.color=never -f tools/moa/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$PWD/$libs.tmp" > .cache/moa/mvn.log 2>&1 ||
    { cat .cache/moa/mvn.log; echo "peers: mvn failed (log above)"; exit 1; }
  cp tools/moa/pom.xml "$libs.tmp/.pom"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  rm -rf .cache/moa/classes
fi

classes=.cache/moa/classes
for src in tools/compare/*.java; do
  cls=$classes/$(basename "$src" .java).class
  if [ ! -f "$cls" ] || [ "$src" -nt "$cls" ]; then
    echo "peers: compiling the MOA drivers into $classes"
    mkdir -p "$classes"
    javac -nowarn -Xlint:-path -d "$classes" -cp "$(echo "$libs"/*.jar | tr ' ' :)" tools/compare/*.java
    break
  fi
done
