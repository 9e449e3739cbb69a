#!/usr/bin/env bash
# test_demo_labels.sh: `eddy demo --label-delay N`: the records go without
# their label, each label N records later on a co-partitioned label topic.
# Every label is joined to its prediction, nothing waits or is dead-lettered
# at the end; while the stream runs, about N predictions wait (the producer
# holds back exactly N labels); a bad value is refused.
source "$(dirname "$0")/lib.sh"

out=$EDDY_TEST_TMP/demo.out
timeout 60 "$EDDY_BIN" demo --events 4000 --rate 0 --plain --partitions 3 --label-delay 200 > "$out" 2>&1 ||
  fail "eddy demo exited $?: $(cat "$out")"
cat "$out" >&2
grep -q "^  predictions     4000 delivered, 4000 learned, 0 dead-lettered$" "$out" ||
  fail "predictions line: $(grep predictions "$out")"
grep -q "^  labels          4000 in, 4000 joined (200 records after their prediction), 0 waiting at the end, 0 unmatched, 0 expired$" \
  "$out" || fail "labels line: $(grep '^  labels ' "$out")"
assert_eq "0 waiting, 4000 joined" "$(grep -o 'labels [0-9]* waiting, [0-9]* joined$' "$out" | tail -1 | cut -d' ' -f2-)" \
  "the last live line"

# Paced: the live view shows the labels held back while the stream runs.
# Up to a fetch batch more may wait (records of one partition read before
# the labels of the same millisecond), or fewer (the partitions apart).
timeout 60 "$EDDY_BIN" demo --events 6000 --rate 2000 --plain --label-delay 500 > "$out" 2>&1 ||
  fail "paced eddy demo exited $?: $(cat "$out")"
cat "$out" >&2
mid=$(awk '/events .*labels [0-9]+ waiting/ && !/^ *0 \// && !/ 6000 \/ 6000/ { for (i = 1; i < NF; i++) if ($(i+1) == "waiting,") print $i }' "$out")
[ -n "$mid" ] || fail "no live line while the stream ran"
log "waiting while the stream ran: $(echo $mid)"
in_range=$(awk '$1 >= 300 && $1 <= 800' <<< "$mid" | wc -l)
[ "$in_range" -ge 1 ] || fail "no live line with about 500 waiting: $(echo $mid)"
grep -q "^  labels          6000 in, 6000 joined .* 0 waiting at the end, 0 unmatched, 0 expired$" "$out" ||
  fail "paced labels line: $(grep '^  labels ' "$out")"

set +e
"$EDDY_BIN" demo --label-delay -3 > "$out" 2>&1
rc=$?
set -e
assert_eq 2 "$rc" "exit status of --label-delay -3"
grep -q "bad value '-3'" "$out" || fail "refusal: $(cat "$out")"
log "ok"
