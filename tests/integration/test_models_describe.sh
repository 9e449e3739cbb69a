#!/usr/bin/env bash
# test_models_describe.sh: `eddy models -c FILE --describe` on the
# checkpoints `eddy run` keeps in a real redis-server (over `eddy broker`):
# after each partition's row, its Hoeffding tree and the features ranked by
# importance. The stream's label is x1 + x2 > 10 and c is noise: x1 and x2
# rank first, c last; the ranking equals the one `eddy models --checkpoint
# --describe` prints from the same model bytes read from Redis.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

N=8000
start_redis
start_eddy_broker
create_topic in 1
for t in md.predictions md.dlq md.alerts; do create_topic "$t" 1; done
port=$(free_port)
cfg=$EDDY_TEST_TMP/md.ini
write_config "$cfg" md in "[state]
store = $REDIS_URL
checkpoint_interval = 0.5

[http]
listen = 127.0.0.1:$port"
sed -i 's/^learner = naive_bayes$/learner = hoeffding_tree\ngrace_period = 50/' "$cfg"
gen in $N
start_run "$cfg" "$EDDY_TEST_TMP/run.log"
wait_metric "$port" eddy_predictions_delivered_total 'pipeline="md"' $N 60
stop_run TERM
assert_eq 0 "$RUN_RC" "exit status after SIGTERM"

out=$("$EDDY_BIN" models -c "$cfg" --describe)
log "$out"
grep -q '^md  *0 hoeffding_tree ' <<< "$out" || fail "no row for partition 0"
grep -q '^hoeffding_tree: depth [1-9]' <<< "$out" || fail "no grown tree described"
ranking=$(sed -n '/^feature importance/,$p' <<< "$out")
assert_eq "x1 x2" "$(awk 'NR == 3 || NR == 4 { print $2 }' <<< "$ranking" | sort | xargs)" "the first two features"
assert_eq "c" "$(awk 'NR > 2 { f = $2 } END { print f }' <<< "$ranking")" "the noise ranks last"
redis-cli -p "$REDIS_PORT" --raw HGET eddy:md:ckpt:0 model | head -c -1 > "$EDDY_TEST_TMP/md.eddy"
assert_eq "$ranking" "$("$EDDY_BIN" models --checkpoint "$EDDY_TEST_TMP/md.eddy" --describe | sed -n '/^feature importance/,$p')" \
  "the ranking of the checkpoint file"
log "ok"
