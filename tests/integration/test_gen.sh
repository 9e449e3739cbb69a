#!/usr/bin/env bash
# test_gen.sh: `eddy gen --topic` (issue 19): records carry keys (the
# record index, or --key FIELD) so that they spread over every partition of
# a 4-partition topic, a summary line says what went where, and an
# unreachable broker is one clear error, without librdkafka's own lines.
source "$(dirname "$0")/lib.sh"

N=2000

spread() {
  [ "$BROKER_KIND" = eddy ] || create_topic g 4
  local out
  out=$("$EDDY_BIN" gen sea --n $N --seed 3 --topic g --bootstrap "$BOOTSTRAP" 2>&1) ||
    fail "eddy gen --topic failed: $out"
  grep -q "^eddy gen: $N records to g at " <<< "$out" || fail "no summary line: $out"
  # Each partition holds records, and all N are there with their index as key.
  local p count total=0 keys=""
  for p in 0 1 2 3; do
    count=$(kcat -C -b "$BOOTSTRAP" -t g -p $p -o beginning -e -q -f '%k\n' | tee "$EDDY_TEST_TMP/keys.$p" | wc -l)
    [ "$count" -gt 0 ] || fail "partition $p got no records"
    grep -q " $p:$count\b" <<< "$out" || fail "summary does not say partition $p got $count: $out"
    total=$((total + count))
  done
  assert_eq $N "$total" "records in the 4 partitions"
  [ "$(cat "$EDDY_TEST_TMP"/keys.* | sort -n | tr '\n' ' ')" = "$(seq 0 $((N - 1)) | tr '\n' ' ')" ] ||
    fail "keys are not the record indexes 0..$((N - 1))"
  log "gen: $N records keyed by index over 4 partitions: $(tail -c 60 <<< "$out")"
  # --key FIELD: the field's value is the key (sea's class: two keys).
  [ "$BROKER_KIND" = eddy ] || create_topic h 4
  out=$("$EDDY_BIN" gen sea --n 200 --topic h --key class --bootstrap "$BOOTSTRAP" 2>&1) || fail "$out"
  local pairs
  pairs=$(kcat -C -b "$BOOTSTRAP" -t h -o beginning -e -q -f '%k %s\n' |
    awk '{k=$1; match($0, /"class":"?[^,}"]*/); v=substr($0, RSTART + 8, RLENGTH - 8); gsub(/"/, "", v); print (k == v) ? "same" : "differ: " $0}' | sort | uniq -c)
  [ "$(awk '{print $2}' <<< "$pairs")" = same ] || fail "keys are not the class values: $pairs"
  log "gen --key class: every key is the record's class"
}

for_each_broker spread

# Nothing listens at this port: one line naming the address, exit 1, no raw
# librdkafka log lines ("%3|...").
port=$(free_port)
if out=$("$EDDY_BIN" gen sea --n 10 --topic g --bootstrap 127.0.0.1:$port 2>&1); then
  fail "gen to an unreachable broker succeeded: $out"
fi
grep -q "cannot reach --bootstrap 127.0.0.1:$port" <<< "$out" || fail "unclear error: $out"
! grep -q '^%[0-9]|' <<< "$out" || fail "librdkafka's own lines printed: $out"
assert_eq 1 "$(wc -l <<< "$out")" "lines of the error"
log "gen to an unreachable broker: $out"
log "PASS"
