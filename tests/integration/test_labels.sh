#!/usr/bin/env bash
# test_labels.sh: labels that arrive later ([source] label_topic), against
# `eddy broker` (and Apache Kafka when available). 5,000 records without
# their label on a 3-partition topic, then their labels (id + target, keyed
# as the records) on a co-partitioned label topic, plus 10 labels whose ids
# were never predicted: every record is learned once (eddy_learn_total =
# 5,000, all joined), the 10 unknown ones are dead-lettered with stage
# label, nothing waits at the end, and `eddy verify` holds. A label topic
# with another partition count is refused at start with what to fix.
# Then, on a running pipeline: labels that come after label_ttl are not
# learned (their predictions expire), a second label for an id is refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=5000
UNKNOWN=10

# Records (x1, x2, c, id; no y) to TOPIC, then labels (id, y) to LABELS,
# both keyed k<i> (the same partitioner: co-partitioned), then UNKNOWN
# labels of ids never produced. Labels are produced after every record:
# their timestamps are later.
produce_all() {
  "$PYTHON" - "$BOOTSTRAP" "$1" "$2" "$N" "$UNKNOWN" <<'EOF'
import json, random, sys
from confluent_kafka import Producer
bs, topic, labels, n, unknown = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5, "enable.idempotence": True})
failed = []
def dr(err, msg):
    if err: failed.append(str(err))
def send(t, key, value, headers=None):
    while True:
        try:
            p.produce(t, key=key.encode(), value=json.dumps(value).encode(), headers=headers, on_delivery=dr)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
ys = []
for i in range(n):
    rnd = random.Random(i)
    x1, x2 = rnd.random() * 10, rnd.random() * 10
    ys.append("1" if x1 + x2 > 10 else "0")
    send(topic, f"k{i}", {"id": f"r{i}", "x1": round(x1, 6), "x2": round(x2, 6), "c": rnd.choice("abc")},
         [("expect", b"prediction"), ("id", f"r{i}".encode())])  # what stream_check.py checks
if p.flush(60): sys.exit("records not delivered")
for i in range(n):
    send(labels, f"k{i}", {"id": f"r{i}", "y": ys[i]})
for j in range(unknown):
    send(labels, f"u{j}", {"id": f"nobody{j}", "y": "1"})
if p.flush(60) or failed: sys.exit(f"labels not delivered: {failed[:3]}")
EOF
}

scenario() {
  create_topic lab.in 3
  create_topic lab.labels 3
  create_topic lab.predictions 2
  create_topic lab.dlq 1
  create_topic lab.alerts 1
  create_topic lab.labels2 2
  produce_all lab.in lab.labels
  log "produced $N records to lab.in, $N + $UNKNOWN labels to lab.labels"

  # A label topic with another partition count: refused at start.
  local cfg=$EDDY_TEST_TMP/labels.ini port
  SOURCE_EXTRA="label_topic = lab.labels2" write_config "$cfg" lab lab.in
  set +e
  timeout 60 "$EDDY_BIN" run -c "$cfg" > "$EDDY_TEST_TMP/refused.log" 2>&1
  local rc=$?
  set -e
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a label topic of 2 partitions was not refused (exit $rc)"
  grep -q "label_topic lab.labels2 has 2 partitions and the input topic lab.in has 3: .*needs 3 partitions" \
    "$EDDY_TEST_TMP/refused.log" || fail "refusal message: $(cat "$EDDY_TEST_TMP/refused.log")"
  log "mismatched partition counts refused: $(grep -o 'label_topic lab.labels2 has.*' "$EDDY_TEST_TMP/refused.log" | head -c 160)"

  port=$(free_port)
  SOURCE_EXTRA="label_topic = lab.labels
max_task_idle_ms = 0" write_config "$cfg" lab lab.in "[http]
listen = 127.0.0.1:$port"
  start_run "$cfg" "$EDDY_TEST_TMP/run.log"
  wait_metric "$port" eddy_labels_in_total 'pipeline="lab"' $((N + UNKNOWN)) 90
  assert_eq $N "$(metric "$port" eddy_learn_total 'pipeline="lab"')" "eddy_learn_total"
  assert_eq $N "$(metric "$port" eddy_labels_joined_total 'pipeline="lab"')" "eddy_labels_joined_total"
  assert_eq $UNKNOWN "$(metric "$port" eddy_labels_unmatched_total 'pipeline="lab"')" "eddy_labels_unmatched_total"
  assert_eq 0 "$(metric "$port" eddy_labels_waiting 'pipeline="lab"')" "eddy_labels_waiting"
  assert_eq 0 "$(metric "$port" eddy_labels_expired_total 'pipeline="lab"')" "eddy_labels_expired_total"
  assert_eq $N "$(metric "$port" eddy_records_in_total 'pipeline="lab"')" "eddy_records_in_total"
  assert_eq $N "$(metric "$port" eddy_label_delay_seconds_count 'pipeline="lab"')" "label delays observed"
  wait_metric "$port" eddy_dead_letters_delivered_total 'pipeline="lab"' $UNKNOWN
  # Every partition's model learned its own records' labels.
  local per
  per=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^eddy_partition_learn_total\{pipeline="lab"/ { s += $2; n++ } END { print n, s }')
  assert_eq "3 $N" "$per" "partitions and records learned by them"

  # The dead letters: the 10 unknown ids, stage label, from the label topic.
  local h
  h=$(CONSUME_FORMAT='%h %s\n' consume lab.dlq $UNKNOWN)
  assert_eq $UNKNOWN "$(grep -c 'eddy.errors.stage=label' <<< "$h")" "dead letters with stage label"
  assert_eq $UNKNOWN "$(grep -c 'eddy.errors.topic=lab.labels' <<< "$h")" "dead letters from lab.labels"
  assert_eq $UNKNOWN "$(grep -cE 'unknown id: no prediction waits for id .nobody[0-9]' <<< "$h")" "reasons"
  CONSUME_TIMEOUT=5 consume lab.dlq $((UNKNOWN + 1)) > "$EDDY_TEST_TMP/dlq.all" 2>/dev/null || true
  assert_eq $UNKNOWN "$(wc -l < "$EDDY_TEST_TMP/dlq.all")" "dead letters in all"

  local out
  out=$(check --in lab.in --pred lab.predictions --pipeline lab --with-id)
  log "predictions: $out"
  grep -q "^inputs $N predicted $N dead-lettered 0 duplicates 0 " <<< "$out" || fail "predictions: $out"
  wait_committed "$port" lab
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"

  set +e
  "$EDDY_BIN" verify -c "$cfg" --expect-dlq $UNKNOWN > "$EDDY_TEST_TMP/verify.log" 2>&1
  rc=$?
  set -e
  cat "$EDDY_TEST_TMP/verify.log" >&2
  assert_eq 0 "$rc" "eddy verify exit status"
}

# Records of ids r<from>..r<to-1> (no label) to TOPIC, or their labels
# (id, y) to it with --labels.
send_range() {
  "$PYTHON" - "$BOOTSTRAP" "$@" <<'EOF'
import json, random, sys
from confluent_kafka import Producer
bs, topic, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
labels = len(sys.argv) > 5
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5})
for i in range(lo, hi):
    rnd = random.Random(i)
    x1, x2 = rnd.random() * 10, rnd.random() * 10
    v = {"id": f"r{i}", "y": "1" if x1 + x2 > 10 else "0"} if labels else \
        {"id": f"r{i}", "x1": round(x1, 6), "x2": round(x2, 6), "c": rnd.choice("abc")}
    p.produce(topic, key=f"k{i}".encode(), value=json.dumps(v).encode())
if p.flush(60): sys.exit("not delivered")
EOF
}

# Live: labels within label_ttl = 4 s are joined, later ones (within twice
# that) are told expired; a second label for an id is dead-lettered as such.
scenario_ttl() {
  create_topic ttl.in 2
  create_topic ttl.labels 2
  create_topic ttl.predictions 1
  create_topic ttl.dlq 1
  create_topic ttl.alerts 1
  local cfg=$EDDY_TEST_TMP/ttl.ini port
  port=$(free_port)
  SOURCE_EXTRA="label_topic = ttl.labels
label_ttl = 4
max_task_idle_ms = 200" write_config "$cfg" ttl ttl.in "[http]
listen = 127.0.0.1:$port"
  start_run "$cfg" "$EDDY_TEST_TMP/ttl.log"
  wait_log "$EDDY_TEST_TMP/ttl.log" "assigned" 60 # a group join on eddy broker took over 30 s once under ASan
  send_range ttl.in 0 200
  sleep 1
  send_range ttl.labels 0 100 --labels
  send_range ttl.labels 0 5 --labels
  wait_metric "$port" eddy_labels_in_total 'pipeline="ttl"' 105 60
  sleep 4 # past label_ttl of the 100 predictions still waiting (about 6 s after them)
  send_range ttl.labels 100 200 --labels
  wait_metric "$port" eddy_labels_in_total 'pipeline="ttl"' 205 60
  assert_eq 100 "$(metric "$port" eddy_labels_joined_total 'pipeline="ttl"')" "joined"
  assert_eq 100 "$(metric "$port" eddy_learn_total 'pipeline="ttl"')" "learned"
  assert_eq 105 "$(metric "$port" eddy_labels_unmatched_total 'pipeline="ttl"')" "unmatched"
  assert_eq 100 "$(metric "$port" eddy_labels_expired_total 'pipeline="ttl"')" "expired"
  assert_eq 0 "$(metric "$port" eddy_labels_waiting 'pipeline="ttl"')" "waiting"
  wait_metric "$port" eddy_dead_letters_delivered_total 'pipeline="ttl"' 105
  local h
  h=$(CONSUME_FORMAT='%h %s\n' consume ttl.dlq 105)
  assert_eq 105 "$(grep -c 'eddy.errors.stage=label' <<< "$h")" "dead letters with stage label"
  assert_eq 5 "$(grep -c 'label already joined' <<< "$h")" "second labels"
  assert_eq 100 "$(grep -c 'expired: no prediction waits' <<< "$h")" "late labels"
  stop_run TERM
  assert_eq 0 "$RUN_RC" "exit status"
}

# Two members of one group: the range assignor gives each the same input
# and label partitions, so every label finds its prediction in the member
# that made it (the group settles before any record is produced: the
# waiting predictions do not move with a partition yet).
scenario_group() {
  create_topic two.in 3
  create_topic two.labels 3
  create_topic two.predictions 1
  create_topic two.dlq 1
  create_topic two.alerts 1
  local cfg=$EDDY_TEST_TMP/two.ini pa pb
  pa=$(free_port)
  pb=$(free_port)
  SOURCE_EXTRA="label_topic = two.labels" write_config "$cfg" two two.in
  sed "s/^\[sink\]/[http]\nlisten = 127.0.0.1:$pa\n[sink]/" "$cfg" > "$cfg.a"
  sed "s/^\[sink\]/[http]\nlisten = 127.0.0.1:$pb\n[sink]/" "$cfg" > "$cfg.b"
  start_run "$cfg.a" "$EDDY_TEST_TMP/two.a.log"
  local a=$RUN_PID
  wait_log "$EDDY_TEST_TMP/two.a.log" "assigned" 60
  start_run "$cfg.b" "$EDDY_TEST_TMP/two.b.log"
  local b=$RUN_PID
  wait_log "$EDDY_TEST_TMP/two.b.log" "assigned" 60
  # Range: one member has partitions 0 and 1 of both topics, the other 2.
  local la lb
  wait_for 30 "member a to hold a share" grep -qE "assigned two.in\[[0-9]\] two.in\[[0-9]\] two.labels|assigned two.in\[[0-9]\] two.labels\[[0-9]\]$" "$EDDY_TEST_TMP/two.a.log"
  la=$(grep -o "assigned .*" "$EDDY_TEST_TMP/two.a.log" | tail -1)
  lb=$(grep -o "assigned .*" "$EDDY_TEST_TMP/two.b.log" | tail -1)
  log "member a: $la; member b: $lb"
  local one
  for one in "$la" "$lb"; do
    [ "$(grep -o 'two.in\[[0-9]\]' <<< "$one" | tr -dc 0-9)" = "$(grep -o 'two.labels\[[0-9]\]' <<< "$one" | tr -dc 0-9)" ] ||
      fail "input and label partitions not assigned together: $one"
  done
  produce_all two.in two.labels
  _joined_sum() {
    local x y
    x=$(metric "$pa" eddy_labels_in_total 'pipeline="two"')
    y=$(metric "$pb" eddy_labels_in_total 'pipeline="two"')
    [ $((${x:-0} + ${y:-0})) -eq $((N + UNKNOWN)) ]
  }
  wait_for 90 "both members to read every label" _joined_sum
  local ja jb
  ja=$(metric "$pa" eddy_labels_joined_total 'pipeline="two"')
  jb=$(metric "$pb" eddy_labels_joined_total 'pipeline="two"')
  log "joined: member a $ja, member b $jb"
  [ "$ja" -gt 0 ] && [ "$jb" -gt 0 ] || fail "a member joined nothing: $ja, $jb"
  assert_eq $N $((ja + jb)) "labels joined by the two members"
  assert_eq $N $(( $(metric "$pa" eddy_learn_total 'pipeline="two"') + $(metric "$pb" eddy_learn_total 'pipeline="two"') )) \
    "eddy_learn_total of the two members"
  assert_eq $UNKNOWN $(( $(metric "$pa" eddy_labels_unmatched_total 'pipeline="two"') +
    $(metric "$pb" eddy_labels_unmatched_total 'pipeline="two"') )) "unmatched"
  RUN_PID=$a stop_run TERM
  assert_eq 0 "$RUN_RC" "member a's exit status"
  RUN_PID=$b stop_run TERM
  assert_eq 0 "$RUN_RC" "member b's exit status"
}

both() {
  scenario
  scenario_ttl
  scenario_group
}

for_each_broker both
log "test_labels: ok"
