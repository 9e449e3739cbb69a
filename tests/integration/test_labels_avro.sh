#!/usr/bin/env bash
# test_labels_avro.sh: labels that arrive later in Avro, as the input is.
# 2,000 Avro records (x1, x2, c, id; y null; Confluent wire format, schema
# id 4) on a 3-partition topic, then their labels (id, y) with a schema of
# their own ([source] label_schema, label_schema_id = 5; no label_format:
# the input's), plus 10 labels of ids never predicted and one label with
# another schema id: every record is learned once (eddy_learn_total =
# records), the 10 unknown ones are dead-lettered with stage label, the
# wrong schema id with stage decode, and `eddy verify` holds.
# Also: label_format = avro on a JSON input without label_schema is refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=2000
UNKNOWN=10
RSC=$EDDY_TEST_TMP/records_id.avsc
LSC=$EDDY_TEST_TMP/labels.avsc
cat > "$RSC" <<'EOF'
{"type": "record", "name": "Rec", "namespace": "eddy.test",
 "fields": [
   {"name": "x1", "type": "double"},
   {"name": "x2", "type": "double"},
   {"name": "c", "type": "string"},
   {"name": "id", "type": "string"},
   {"name": "y", "type": ["null", "string"], "default": null}
 ]}
EOF
cat > "$LSC" <<'EOF'
{"type": "record", "name": "Label", "namespace": "eddy.test",
 "fields": [
   {"name": "id", "type": "string"},
   {"name": "y", "type": "string"},
   {"name": "note", "type": ["null", "string"], "default": null}
 ]}
EOF

# Avro binary by hand (as stream_check.py does: no Avro library needed).
produce_all() {
  "$PYTHON" - "$BOOTSTRAP" "$1" "$2" "$N" "$UNKNOWN" <<'EOF'
import random, struct, sys
from confluent_kafka import Producer
bs, topic, labels, n, unknown = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def zigzag(v):
    v = (v << 1) ^ (v >> 63)
    out = b""
    while v & ~0x7F:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])
def s(x):
    b = x.encode()
    return zigzag(len(b)) + b
def record(i, x1, x2, c):  # Confluent framing; x1, x2, c, id, y = null (branch 0)
    return b"\x00" + struct.pack(">I", 4) + struct.pack("<d", x1) + struct.pack("<d", x2) + s(c) + s(f"r{i}") + zigzag(0)
def label(ident, y, schema_id=5):  # Confluent framing; id, y, note = null
    return b"\x00" + struct.pack(">I", schema_id) + s(ident) + s(y) + zigzag(0)
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5, "enable.idempotence": True})
failed = []
def dr(err, msg):
    if err: failed.append(str(err))
def send(t, key, value):
    while True:
        try:
            p.produce(t, key=key.encode(), value=value, on_delivery=dr)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
ys = []
for i in range(n):
    rnd = random.Random(i)
    x1, x2 = rnd.random() * 10, rnd.random() * 10
    ys.append("1" if x1 + x2 > 10 else "0")
    send(topic, f"k{i}", record(i, x1, x2, rnd.choice("abc")))
if p.flush(60): sys.exit("records not delivered")
for i in range(n):
    send(labels, f"k{i}", label(f"r{i}", ys[i]))
for j in range(unknown):
    send(labels, f"u{j}", label(f"nobody{j}", "1"))
send(labels, "w0", label("r0", "1", schema_id=6))
if p.flush(60) or failed: sys.exit(f"labels not delivered: {failed[:3]}")
EOF
}

scenario() {
  create_topic avl.in 3
  create_topic avl.labels 3
  create_topic avl.predictions 2
  create_topic avl.dlq 1
  create_topic avl.alerts 1
  produce_all avl.in avl.labels
  log "produced $N Avro records to avl.in, $N + $UNKNOWN + 1 Avro labels to avl.labels"

  local cfg=$EDDY_TEST_TMP/avl.ini port rc
  port=$(free_port)
  SOURCE_EXTRA="format = avro
schema = $RSC
wire_format = confluent
schema_id = 4
label_topic = avl.labels
label_schema = $LSC
label_schema_id = 5
max_task_idle_ms = 0" write_config "$cfg" avl avl.in "[http]
listen = 127.0.0.1:$port"
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  wait_metric "$port" eddy_labels_in_total 'pipeline="avl"' $((N + UNKNOWN + 1)) 90
  assert_eq $N "$(metric "$port" eddy_records_in_total 'pipeline="avl"')" "eddy_records_in_total"
  assert_eq $N "$(metric "$port" eddy_learn_total 'pipeline="avl"')" "eddy_learn_total"
  assert_eq $N "$(metric "$port" eddy_labels_joined_total 'pipeline="avl"')" "eddy_labels_joined_total"
  assert_eq $UNKNOWN "$(metric "$port" eddy_labels_unmatched_total 'pipeline="avl"')" "eddy_labels_unmatched_total"
  assert_eq 0 "$(metric "$port" eddy_labels_waiting 'pipeline="avl"')" "eddy_labels_waiting"
  wait_metric "$port" eddy_dead_letters_delivered_total 'pipeline="avl"' $((UNKNOWN + 1))

  local h
  h=$(CONSUME_FORMAT='%h\n' consume avl.dlq $((UNKNOWN + 1)))
  assert_eq $UNKNOWN "$(grep -c 'eddy.errors.stage=label' <<< "$h")" "dead letters with stage label"
  assert_eq $UNKNOWN "$(grep -cE 'unknown id: no prediction waits for id .nobody[0-9]' <<< "$h")" "reasons"
  assert_eq 1 "$(grep 'eddy.errors.stage=decode' <<< "$h" | grep -c 'schema id 6, expected 5')" \
    "the label of another schema id, dead-lettered at decode"
  assert_eq $((UNKNOWN + 1)) "$(grep -c 'eddy.errors.topic=avl.labels' <<< "$h")" "dead letters from avl.labels"
  wait_committed "$port" avl
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"

  set +e
  "$EDDY_BIN" verify -c "$cfg" --expect-dlq $((UNKNOWN + 1)) > "$EDDY_TEST_TMP/verify.log" 2>&1
  rc=$?
  set -e
  cat "$EDDY_TEST_TMP/verify.log" >&2
  assert_eq 0 "$rc" "eddy verify exit status"
  # The summary counts unjoined labels by the stage they were dead-lettered with.
  assert_eq 1 "$(grep -c "labels avl.labels: $((N + UNKNOWN + 1)) label records .* $N joined (learned once), \
$((UNKNOWN + 1)) not (dead letters due: $UNKNOWN with stage label, 1 with stage decode)$" "$EDDY_TEST_TMP/verify.log")" \
    "verify's labels summary by stage"
}

# Refused before any broker is reached: Avro labels of a JSON input need
# their schema.
BOOTSTRAP=127.0.0.1:1
SOURCE_EXTRA="label_topic = x.labels
label_format = avro" write_config "$EDDY_TEST_TMP/bad.ini" bad x.in
set +e
"$EDDY_BIN" config --check -c "$EDDY_TEST_TMP/bad.ini" > "$EDDY_TEST_TMP/bad.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "label_format = avro without label_schema was accepted"
grep -q "label_schema.*required when label_format = avro" "$EDDY_TEST_TMP/bad.log" ||
  fail "refusal: $(cat "$EDDY_TEST_TMP/bad.log")"
log "refused: $(head -c 200 "$EDDY_TEST_TMP/bad.log")"

for_each_broker scenario
log "test_labels_avro: ok"
