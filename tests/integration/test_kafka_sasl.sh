#!/usr/bin/env bash
# test_kafka_sasl.sh: Kafka with SASL/SCRAM-SHA-512 over TLS (issue 19). An
# Apache Kafka (KRaft, one node) whose only client listener is SASL_SSL,
# with a CA and a broker certificate made here by openssl and a SCRAM user
# created when its storage is formatted:
#   - the [kafka] keys security.protocol, sasl.mechanisms, sasl.username,
#     sasl.password and ssl.ca.location go to librdkafka as they are: eddy
#     run consumes every record, eddy verify passes (exit 0);
#   - a wrong password stops eddy run within seconds (exit non-zero, the
#     log says "authentication failed"), not retried forever;
#   - the password appears in no log (even with [kafka] debug = security,
#     conf), no error, no /metrics and no `eddy config --check` output.
# Skips (exit 77) only when Java or the Kafka jars are missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

if ! why=$("$EDDY_ROOT/tools/kafka.sh" check 2>&1); then
  [ "${EDDY_REQUIRE_KAFKA:-0}" = 1 ] && fail "Apache Kafka unavailable: $why"
  echo "SKIP test_kafka_sasl: $why"
  exit 77
fi
command -v openssl > /dev/null || fail "openssl not found"

PASS='Scr4m-s3cret-e1ddy'
ADMIN_PASS='adm1n-s3cret-broker'
STORE_PASS='st0re-s3cret-pkcs12'
N=400
LIBS=${KAFKA_LIBS:-$EDDY_ROOT/.cache/kafka/libs}
KDIR=$EDDY_TEST_TMP/kafka-sasl
mkdir -p "$KDIR/data"

# ---------------------------------------------------------------- certificates
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=eddy test CA" \
  -keyout "$KDIR/ca.key" -out "$KDIR/ca.pem" 2> "$KDIR/openssl.log"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$KDIR/broker.key" -out "$KDIR/broker.csr" 2>> "$KDIR/openssl.log"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$KDIR/san.ext"
openssl x509 -req -in "$KDIR/broker.csr" -CA "$KDIR/ca.pem" -CAkey "$KDIR/ca.key" -CAcreateserial \
  -days 2 -extfile "$KDIR/san.ext" -out "$KDIR/broker.pem" 2>> "$KDIR/openssl.log"
openssl pkcs12 -export -in "$KDIR/broker.pem" -inkey "$KDIR/broker.key" -certfile "$KDIR/ca.pem" \
  -name broker -passout "pass:$STORE_PASS" -out "$KDIR/broker.p12" 2>> "$KDIR/openssl.log"

# ---------------------------------------------------------------- the broker
read -r SPORT CPORT < <("$PYTHON" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
cat > "$KDIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=SASL_SSL://127.0.0.1:$SPORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=SASL_SSL://127.0.0.1:$SPORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$ADMIN_PASS";
ssl.keystore.type=PKCS12
ssl.keystore.location=$KDIR/broker.p12
ssl.keystore.password=$STORE_PASS
ssl.key.password=$STORE_PASS
ssl.truststore.type=PEM
ssl.truststore.location=$KDIR/ca.pem
ssl.client.auth=none
log.dirs=$KDIR/data
num.partitions=2
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=2
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
log.cleaner.enable=false
EOF
cat > "$KDIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$KDIR/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
EOF
JVM="-Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Djava.awt.headless=true"
JVM="$JVM -Dlog4j.configuration=file:$KDIR/log4j.properties"
CID=$("$PYTHON" -c 'import base64, os; print("A" + base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")[1:])')
t0=$(date +%s%3N)
# shellcheck disable=SC2086
java $JVM -cp "$LIBS/*" kafka.tools.StorageTool format --cluster-id "$CID" --config "$KDIR/server.properties" \
  --add-scram "SCRAM-SHA-512=[name=eddy,password=$PASS]" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$ADMIN_PASS]" > "$KDIR/format.log" 2>&1 ||
  fail "formatting the SASL broker's storage: $(tail -5 "$KDIR/format.log")"
# shellcheck disable=SC2086
( exec setsid java $JVM -cp "$LIBS/*" kafka.Kafka "$KDIR/server.properties" < /dev/null > "$KDIR/stdout.log" 2>&1 ) &
KAFKA_PID=$!
_track "$KAFKA_PID"
BOOTSTRAP=127.0.0.1:$SPORT
export BOOTSTRAP

# The client side: what a user writes under [kafka].
SASL_KEYS=(security.protocol=SASL_SSL sasl.mechanisms=SCRAM-SHA-512 sasl.username=eddy
           "sasl.password=$PASS" "ssl.ca.location=$KDIR/ca.pem")
KCAT_X=()
for kv in "${SASL_KEYS[@]}"; do KCAT_X+=(-X "$kv"); done

_sasl_up() {
  kill -0 "$KAFKA_PID" 2> /dev/null || fail "the SASL broker exited: $(tail -20 "$KDIR/server.log" "$KDIR/stdout.log")"
  kcat -L -b "$BOOTSTRAP" "${KCAT_X[@]}" -m 3 2> /dev/null | grep -q "broker 1 at"
}
wait_for 120 "Kafka's SASL_SSL listener on $SPORT" _sasl_up
log "Kafka with SASL_SSL (SCRAM-SHA-512) up at $BOOTSTRAP in $(( ($(date +%s%3N) - t0) / 1000 ))s"

# Without credentials the listener is refused: the test is not run against
# an open broker.
if kcat -L -b "$BOOTSTRAP" -X security.protocol=SSL -X "ssl.ca.location=$KDIR/ca.pem" -m 3 2>&1 |
   grep -q "broker 1 at"; then
  fail "the broker answered a client without SASL credentials"
fi

# ---------------------------------------------------------------- the records
good() { seq "$1" "$2" | awk '{ printf "{\"x1\":%d,\"x2\":1,\"c\":\"a\",\"y\":\"%s\",\"id\":\"%d\"}\n", $1 % 7, $1 % 2 ? "p" : "n", $1 }'; }
good 1 $((N / 2)) | kcat -P -b "$BOOTSTRAP" "${KCAT_X[@]}" -t sa -p 0 -X acks=all -X message.timeout.ms=30000
good $((N / 2 + 1)) "$N" | kcat -P -b "$BOOTSTRAP" "${KCAT_X[@]}" -t sa -p 1 -X acks=all -X message.timeout.ms=30000

secrets_absent() {
  local f
  for f in "$@"; do
    if grep -qF -e "$PASS" "$f"; then
      fail "the SASL password is printed in $(basename "$f"): $(grep -F "$PASS" "$f" | head -2 | cut -c1-300)"
    fi
  done
}

kafka_keys() { # the SASL_SSL [kafka] lines, with PASSWORD as sasl.password
  printf 'security.protocol = SASL_SSL\nsasl.mechanisms = SCRAM-SHA-512\nsasl.username = eddy\n'
  printf 'sasl.password = %s\nssl.ca.location = %s\n' "$1" "$KDIR/ca.pem"
}

# ---------------------------------------------------------------- a good run
cfg=$EDDY_TEST_TMP/sasl_ok.ini
logf=$EDDY_TEST_TMP/sasl_ok.log
port=$(free_port)
KAFKA_EXTRA=$(kafka_keys "$PASS") write_config "$cfg" sasl_ok sa "[http]
listen = 127.0.0.1:$port"
"$EDDY_BIN" config --check -c "$cfg" > "$EDDY_TEST_TMP/sasl_ok.check" 2>&1 ||
  fail "eddy config --check: $(cat "$EDDY_TEST_TMP/sasl_ok.check")"
start_run "$cfg" "$logf"
wait_metric "$port" eddy_records_in_total 'pipeline="sasl_ok"' "$N" 90
wait_committed "$port" sasl_ok
curl -sf "http://127.0.0.1:$port/metrics" > "$EDDY_TEST_TMP/sasl_ok.metrics"
stop_run
assert_eq 0 "$RUN_RC" "eddy run over SASL_SSL: exit status"
"$EDDY_BIN" verify -c "$cfg" > "$EDDY_TEST_TMP/sasl_ok.verify" 2>&1 ||
  fail "eddy verify over SASL_SSL: $(tail -5 "$EDDY_TEST_TMP/sasl_ok.verify")"
log "eddy run and eddy verify over SASL_SSL: $N records, $(grep -m1 '^verify: ok' "$EDDY_TEST_TMP/sasl_ok.verify" | cut -c1-160)"
secrets_absent "$logf" "$EDDY_TEST_TMP/sasl_ok.metrics" "$EDDY_TEST_TMP/sasl_ok.verify" "$EDDY_TEST_TMP/sasl_ok.check"

# ---------------------------------------------------------------- eddy gen
# eddy gen --topic takes the [kafka] keys of the pipeline's config
# (--kafka-config): 300 SEA records, all read back over SASL_SSL.
"$EDDY_BIN" gen sea --n 300 --topic sgen --kafka-config "$cfg" > "$EDDY_TEST_TMP/gen_ok.out" 2>&1 ||
  fail "eddy gen over SASL_SSL: $(tail -3 "$EDDY_TEST_TMP/gen_ok.out")"
got=$(timeout 60 kcat -C -b "$BOOTSTRAP" "${KCAT_X[@]}" -t sgen -o beginning -c 300 -q -e | wc -l)
assert_eq 300 "$got" "records of eddy gen read back over SASL_SSL"
secrets_absent "$EDDY_TEST_TMP/gen_ok.out"
log "eddy gen over SASL_SSL: $(tail -1 "$EDDY_TEST_TMP/gen_ok.out" | cut -c1-160)"

# ---------------------------------------------------------------- a wrong password
# librdkafka's debug lines (security: the SASL exchange; conf: the client
# configuration) are forwarded by eddy: they must not carry the password
# either. The wrong password is the right one with a suffix, so that a
# printed one is caught by the same grep.
cfg=$EDDY_TEST_TMP/sasl_wrong.ini
logf=$EDDY_TEST_TMP/sasl_wrong.log
KAFKA_EXTRA="$(kafka_keys "${PASS}-wrong")
debug = security,conf" write_config "$cfg" sasl_wrong sa
t0=$(date +%s%3N)
set +e
timeout 60 "$EDDY_BIN" run -c "$cfg" > "$logf" 2>&1
rc=$?
set -e
ms=$(( $(date +%s%3N) - t0 ))
secs=$(( ms / 1000 ))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a wrong SASL password: eddy run was not stopped (exit $rc after ${secs}s): $(tail -3 "$logf")"
grep -qi "authentication failed" "$logf" || fail "a wrong SASL password: no clear error: $(grep -v librdkafka "$logf" | tail -3)"
[ "$secs" -le 30 ] || fail "a wrong SASL password: eddy run took ${secs}s to stop"
if grep -q "retrying" "$logf"; then fail "a wrong SASL password: retried: $(grep -m1 retrying "$logf" | cut -c1-200)"; fi
secrets_absent "$logf"
log "a wrong SASL password: eddy run exit $rc after ${ms} ms: $(grep -m1 'eddy error: .*authentication failed' "$logf" | cut -c1-220)"

# So does eddy gen, within its 5 s connection check.
t0=$(date +%s%3N)
if timeout 60 "$EDDY_BIN" gen sea --n 10 --topic sgen --kafka-config "$cfg" > "$EDDY_TEST_TMP/gen_wrong.out" 2>&1; then
  fail "eddy gen passed with a wrong SASL password"
fi
ms=$(( $(date +%s%3N) - t0 ))
secs=$(( ms / 1000 ))
grep -q "Authentication failed" "$EDDY_TEST_TMP/gen_wrong.out" || fail "eddy gen, a wrong SASL password: $(tail -2 "$EDDY_TEST_TMP/gen_wrong.out")"
[ "$secs" -le 3 ] || fail "eddy gen, a wrong SASL password: ${secs}s to fail"
secrets_absent "$EDDY_TEST_TMP/gen_wrong.out"
log "a wrong SASL password: eddy gen failed after ${ms} ms"

# eddy verify with the wrong password fails too, at once, and says so.
t0=$(date +%s%3N)
if timeout 60 "$EDDY_BIN" verify -c "$cfg" > "$EDDY_TEST_TMP/sasl_wrong.verify" 2>&1; then
  fail "eddy verify passed with a wrong SASL password"
fi
ms=$(( $(date +%s%3N) - t0 ))
secs=$(( ms / 1000 ))
grep -q "^eddy verify: .*Kafka authentication failed" "$EDDY_TEST_TMP/sasl_wrong.verify" ||
  fail "eddy verify, a wrong SASL password: no clear error: $(grep -v '^%' "$EDDY_TEST_TMP/sasl_wrong.verify" | tail -3)"
[ "$secs" -le 20 ] || fail "eddy verify, a wrong SASL password: ${secs}s to fail"
secrets_absent "$EDDY_TEST_TMP/sasl_wrong.verify"
log "a wrong SASL password: eddy verify failed after ${ms} ms: $(grep -m1 '^eddy verify: ' "$EDDY_TEST_TMP/sasl_wrong.verify" | cut -c1-160)"

stop_pid "$KAFKA_PID"
log "PASS"
