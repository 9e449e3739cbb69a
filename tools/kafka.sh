#!/usr/bin/env bash
# kafka.sh: a throwaway single-node Apache Kafka (KRaft: broker and
# controller in one JVM) on free loopback ports, for the integration tests
# and for trying eddy against a real broker. The jars come from
# tools/kafka/pom.xml via `make deps` (into .cache/kafka/libs).
#
#   tools/kafka.sh start DIR   format DIR (a new or empty directory), start
#                              the broker in the background, wait until it
#                              answers, print its bootstrap address
#   tools/kafka.sh stop DIR    stop it (SIGTERM, then SIGKILL after a while)
#   tools/kafka.sh restart DIR start a stopped broker again on its data and
#                              ports (for fault tests: the broker down and
#                              back), wait until it answers
#   tools/kafka.sh check       exit 0 when java and the jars are there, else
#                              say what is missing and exit 1
#
# DIR receives server.properties, log4j.properties, data/, server.log,
# stdout.log, kafka.pid (the JVM, leader of its own process group) and
# bootstrap. Environment: KAFKA_LIBS (default .cache/kafka/libs),
# KAFKA_PARTITIONS (num.partitions for auto-created topics, default 4 as
# `eddy broker`), KAFKA_HEAP (default 512m), KAFKA_START_TIMEOUT (s, 90).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
libs=${KAFKA_LIBS:-$root/.cache/kafka/libs}

die() { echo "kafka.sh: $*" >&2; exit 1; }

check() {
  command -v java >/dev/null || { echo "kafka.sh: java not found (Debian: default-jre-headless)" >&2; return 1; }
  compgen -G "$libs/kafka_2.13-*.jar" >/dev/null ||
    { echo "kafka.sh: no Kafka jars in $libs (run 'make deps')" >&2; return 1; }
  command -v kcat >/dev/null || { echo "kafka.sh: kcat not found (make deps)" >&2; return 1; }
}

# Two distinct free loopback ports (the kernel's choice; a small race with
# other processes remains until Kafka binds them).
free_ports() {
  /usr/bin/python3 - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# A random cluster id as Kafka writes one: 16 bytes, URL-safe base64
# without padding, not starting with '-' (the tools would take it for an
# option).
cluster_id() {
  /usr/bin/python3 -c '
import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

# The class-data-sharing archive of the broker's classes (AppCDS), per
# Kafka and Java version, next to the jars: it takes about a second off the
# start. The first broker started without one records it when it exits
# (stop copies it into place); a stale or foreign archive is ignored by the
# JVM.
cds_archive() {
  local jar java_home jv
  jar=$(basename "$(compgen -G "$libs/kafka_2.13-*.jar" | head -1)" .jar)
  java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  jv=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$java_home/release" 2>/dev/null || true)
  echo "$(dirname "$libs")/${jar}-java${jv:-unknown}.jsa"
}

# JVM flags for a fast start on a small shared machine: one GC thread, C1
# only (the broker lives for seconds to minutes), small heap, AppCDS.
jvm_flags() {
  echo "-Xms64m -Xmx${KAFKA_HEAP:-512m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData" \
       "-Xss512k -Djava.awt.headless=true -Dlog4j.configuration=file:$1/log4j.properties"
}

start() {
  local dir=$1
  check || exit 1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ ! -e "$dir/data" ] || die "$dir/data exists: give a new directory"
  local ports bport cport
  ports=$(free_ports)
  bport=${ports% *}
  cport=${ports#* }
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=${KAFKA_PARTITIONS:-4}
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.enable=false
EOF
  cat > "$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
  local flags t0 jsa cds_use="" cds_run=""
  flags=$(jvm_flags "$dir")
  jsa=$(cds_archive)
  if [ -f "$jsa" ]; then
    cds_use="-XX:SharedArchiveFile=$jsa"
    cds_run=$cds_use
  else
    cds_run="-XX:ArchiveClassesAtExit=$dir/kafka.jsa"
  fi
  t0=$(date +%s%3N)
  # shellcheck disable=SC2086
  java $flags $cds_use -cp "$libs/*" kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "$(cluster_id)" --config "$dir/server.properties" > "$dir/format.log" 2>&1 ||
    { cat "$dir/format.log" >&2; die "formatting $dir failed"; }
  local fmt_ms=$(( $(date +%s%3N) - t0 ))
  launch "$dir" "$bport" "$flags $cds_run"
  local ms=$(( $(date +%s%3N) - t0 )) jar
  jar=$(basename "$(compgen -G "$libs/kafka_2.13-*.jar" | head -1)" .jar)
  printf 'kafka.sh: Kafka %s up at 127.0.0.1:%s in %d.%03ds (format %d.%03ds; logs in %s)\n' \
    "${jar#kafka_2.13-}" "$bport" $((ms / 1000)) $((ms % 1000)) $((fmt_ms / 1000)) \
    $((fmt_ms % 1000)) "$dir" >&2
  echo "127.0.0.1:$bport"
}

# launch DIR PORT FLAGS: the broker of DIR/server.properties in the
# background; waits until it answers on PORT, writes DIR/bootstrap.
launch() {
  local dir=$1 bport=$2 flags=$3
  # Its own session and process group, so that stopping it takes every
  # thread and child with it; stdin from /dev/null so that it never holds a
  # caller's pipe open.
  # shellcheck disable=SC2086
  setsid java $flags -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
    < /dev/null > "$dir/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid" > "$dir/kafka.pid"
  local deadline=$(( $(date +%s) + ${KAFKA_START_TIMEOUT:-90} ))
  until kcat -L -b "127.0.0.1:$bport" -m 2 2>/dev/null | grep -q "broker 1 at"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -40 "$dir/stdout.log" "$dir/server.log" >&2 2>/dev/null || true
      die "the broker exited during start-up (logs in $dir)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -40 "$dir/server.log" >&2 2>/dev/null || true
      stop "$dir"
      die "no answer on 127.0.0.1:$bport after ${KAFKA_START_TIMEOUT:-90}s (logs in $dir)"
    fi
    sleep 0.2
  done
  echo "127.0.0.1:$bport" > "$dir/bootstrap"
}

restart() {
  local dir=$1 bport jsa cds=""
  check || exit 1
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/server.properties" ] && [ -d "$dir/data" ] || die "$dir holds no broker made by 'start'"
  [ ! -f "$dir/kafka.pid" ] || ! kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null || die "$dir: still running"
  bport=$(sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*|\1|p' "$dir/server.properties")
  jsa=$(cds_archive)
  [ ! -f "$jsa" ] || cds="-XX:SharedArchiveFile=$jsa"
  launch "$dir" "$bport" "$(jvm_flags "$dir") $cds"
  echo "kafka.sh: Kafka restarted at 127.0.0.1:$bport (logs in $dir)" >&2
  echo "127.0.0.1:$bport"
}

stop() {
  local dir=$1 pid
  [ -f "$dir/kafka.pid" ] || return 0
  pid=$(cat "$dir/kafka.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 "${KAFKA_STOP_WAIT:-100}"); do # tenths of a second
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$dir/kafka.pid"
  local jsa
  jsa=$(cds_archive)
  if [ -s "$dir/kafka.jsa" ] && [ ! -f "$jsa" ]; then # atomic, as brokers may stop together
    cp "$dir/kafka.jsa" "$jsa.tmp.$$" && mv -f "$jsa.tmp.$$" "$jsa" || rm -f "$jsa.tmp.$$"
  fi
  rm -f "$dir/kafka.jsa"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: kafka.sh start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: kafka.sh stop DIR"; stop "$2" ;;
  restart) [ $# -eq 2 ] || die "usage: kafka.sh restart DIR"; restart "$2" ;;
  check) check ;;
  *) die "usage: kafka.sh start DIR | stop DIR | restart DIR | check" ;;
esac
