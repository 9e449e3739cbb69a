#!/usr/bin/env bash
# test_example_labels.sh: examples/labels/ as its README runs it, on
# `eddy broker`: 20,000 transactions, their chargebacks and settled labels
# 1,000 transactions later, and 5 chargebacks of older transactions. Every
# label of a transaction is joined (1,000 transactions are 20 s of stream
# time, within label_ttl = 300 s), the 5 others are dead-lettered with stage
# label, and every prediction was joined, expired (no label within 300 s)
# or still waits: none evicted, none lost.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=20000
start_eddy_broker --topic transactions:4 --topic chargebacks:4 --topic chargebacks.predictions:4 \
  --topic chargebacks.alerts:1 --topic chargebacks.dlq:1
"$PYTHON" "$EDDY_ROOT/examples/labels/chargeback_gen.py" --bootstrap "$BOOTSTRAP" --n $N --delay 1000 \
  2> "$EDDY_TEST_TMP/gen.err" || fail "chargeback_gen: $(cat "$EDDY_TEST_TMP/gen.err")"
cat "$EDDY_TEST_TMP/gen.err" >&2
read -r cb settled < <(sed -nE 's/.* ([0-9]+) chargebacks and ([0-9]+) settled labels and 5 of older.*/\1 \2/p' \
  "$EDDY_TEST_TMP/gen.err")
[ -n "${settled:-}" ] || fail "chargeback_gen's counts: $(cat "$EDDY_TEST_TMP/gen.err")"
labels=$((cb + settled))

port=$(free_port)
cfg=$EDDY_TEST_TMP/chargebacks.ini
sed -e "s/^bootstrap.servers = .*/bootstrap.servers = $BOOTSTRAP/" -e "s/^listen = .*/listen = 127.0.0.1:$port/" \
  "$EDDY_ROOT/examples/labels/chargebacks.ini" > "$cfg"
start_run "$cfg" "$EDDY_TEST_TMP/run.log"
l='pipeline="chargebacks"'
wait_metric "$port" eddy_labels_in_total "$l" $((labels + 5)) 60
wait_metric "$port" eddy_records_in_total "$l" $N
assert_eq $labels "$(metric "$port" eddy_labels_joined_total "$l")" "labels joined"
assert_eq $labels "$(metric "$port" eddy_learn_total "$l")" "eddy_learn_total"
assert_eq 5 "$(metric "$port" eddy_labels_unmatched_total "$l")" "labels unmatched"
assert_eq 0 "$(metric "$port" eddy_labels_evicted_total "$l")" "evicted"
expired=$(metric "$port" eddy_labels_expired_total "$l")
waiting=$(metric "$port" eddy_labels_waiting "$l")
log "$labels joined, $expired expired, $waiting waiting"
[ "$expired" -gt 0 ] || fail "nothing expired in 400 s of stream time with label_ttl = 300"
assert_eq $N $((labels + expired + waiting)) "joined + expired + waiting"
wait_metric "$port" eddy_dead_letters_delivered_total "$l" 5
h=$(CONSUME_FORMAT='%h %s\n' consume chargebacks.dlq 5)
assert_eq 5 "$(grep -c 'eddy.errors.stage=label' <<< "$h")" "dead letters with stage label"
assert_eq 5 "$(grep -cE "unknown id: no prediction waits for id .old[0-9]" <<< "$h")" "their reason"
stop_run TERM
assert_eq 0 "$RUN_RC" "exit status"
log "ok"
