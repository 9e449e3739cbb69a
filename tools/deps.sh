#!/usr/bin/env bash
# deps.sh: installs what eddy builds and tests with, each only when absent:
# Debian packages (apt-get, only when pkg-config or command -v lacks one)
# and the test-only peers into git-ignored caches under .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

# uPlot (npm, pinned) for the dashboard's plots, embedded in the binary at
# build time (Makefile: build/gen/dash_assets.c); the Makefile runs
# `tools/deps.sh npm` when it is missing.
fetch_uplot() {
  local version=1.6.32 dir=.cache/npm
  grep -qs "\"version\": \"$version\"" "$dir/node_modules/uplot/package.json" && return 0
  command -v npm >/dev/null || { echo "deps: npm is needed for uPlot (Debian: npm)"; exit 1; }
  echo "deps: fetching uplot@$version from npm into $dir"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save -s "uplot@$version" >/dev/null
}
if [ "$what" = npm ]; then fetch_uplot; exit 0; fi

need=()
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
for pair in rdkafka:librdkafka-dev hiredis:libhiredis-dev libuv:libuv1-dev avro-c:libavro-dev \
            criterion:libcriterion-dev inih:libinih-dev jansson:libjansson-dev \
            libxxhash:libxxhash-dev zlib:zlib1g-dev libcrypto:libssl-dev; do
  have_pc "${pair%%:*}" || need+=("${pair#*:}")
done
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -f /usr/include/http_parser.h ] || need+=(libhttp-parser-dev) # ships no .pc file
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools) # test_redis_cluster.sh: redis-cli --cluster create
command -v kcat >/dev/null || need+=(kcat)
command -v openssl >/dev/null || need+=(openssl)             # test_kafka_sasl.sh: its CA and broker certificate
command -v java >/dev/null || need+=(default-jre-headless)
command -v npm >/dev/null || need+=(npm)                 # uPlot for the dashboard
command -v promtool >/dev/null || need+=(prometheus)     # the alerting rules' check and scrape test
command -v chromium >/dev/null || need+=(chromium)       # the dashboard's browser test
command -v wrk >/dev/null || need+=(wrk)                 # make bench: HTTP predicts (tests/bench/bench_serve.sh)
/usr/bin/python3 -c 'import websocket' 2>/dev/null || need+=(python3-websocket) # its DevTools client
command -v mvn >/dev/null || need+=(maven) # fetches the Kafka jars below
/usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null || need+=(python3-confluent-kafka)
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ "$what" = debian ] && exit 0

fetch_uplot

# Python peers (scikit-learn, River) from PyPI, pinned, in .cache/venv.
venv=.cache/venv
stamp=$venv/.requirements
if ! cmp -s tools/requirements.txt "$stamp" 2>/dev/null; then
  echo "deps: creating $venv from tools/requirements.txt (PyPI)"
  rm -rf "$venv"
  py=python3; "$py" -m venv --help >/dev/null 2>&1 || py=/usr/bin/python3
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tools/requirements.txt
  cp tools/requirements.txt "$stamp"
fi

# Apache Kafka for the integration tests (tools/kafka.sh), from Maven
# Central through tools/kafka/pom.xml, fetched again when the pom changes;
# mvn keeps its own cache in ~/.m2.
kafka_libs=.cache/kafka/libs
if ! cmp -s tools/kafka/pom.xml "$kafka_libs/.pom" 2>/dev/null; then
  if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    echo "deps: skipping Apache Kafka (needs mvn and java; Debian: maven, default-jre-headless);" \
         "the integration tests will run against eddy broker only"
  else
    echo "deps: fetching Apache Kafka jars from Maven Central into $kafka_libs"
    rm -rf "$kafka_libs.tmp"
    mkdir -p .cache/kafka
    mvn -q -B -Dstyle.color=never -f tools/kafka/pom.xml dependency:copy-dependencies \
      -DoutputDirectory="$PWD/$kafka_libs.tmp" > .cache/kafka/mvn.log 2>&1 ||
      { cat .cache/kafka/mvn.log; echo "deps: mvn failed (log above)"; exit 1; }
    cp tools/kafka/pom.xml "$kafka_libs.tmp/.pom"
    rm -rf "$kafka_libs"
    mv "$kafka_libs.tmp" "$kafka_libs"
  fi
fi
