#!/usr/bin/env bash
# case_ckpt_steps.sh: `eddy run` dies at each step of a checkpoint, in
# turn: just before the model and offset are sent to Redis
# (ckpt_before_write), and after Redis has acknowledged them but before the
# offsets are committed to Kafka (ckpt_after_write), through the test-only
# EDDY_TEST_CRASH_AT=STEP:N (exit 137 at the Nth time, N seeded). Model
# and offset are one Lua script call in Redis, so they cannot be split.
# Three crashes at each step, then a run to the end. Against Apache Kafka
# and `eddy broker`.
source "$(dirname "$0")/lib.sh"

ROUNDS=3

scenario() {
  fault_setup "$1"
  # Two minutes of stream: six crashed runs, each waiting for the session
  # of the one before it to time out (6 s) before its assignment, take
  # 60-100 s; a run started when the stream is over checkpoints no more
  # and would never reach its crash.
  fault_produce --rate $((FAULTS_RECORDS / 120 + 1))
  local r step at
  for r in $(seq 1 $ROUNDS); do
    for step in ckpt_before_write ckpt_after_write; do
      if ! kill -0 "$GEN_PID" 2>/dev/null; then
        log "the stream is over before round $r's $step: no more crashes"
        break 2
      fi
      at=$(rand_ms 2 12)
      EDDY_TEST_CRASH_AT=$step:$at start_fx
      wait_for 90 "eddy run to reach $step $at times" eval '! kill -0 $RUN_PID'
      set +e
      wait "$RUN_PID"
      RUN_RC=$?
      set -e
      assert_eq 137 "$RUN_RC" "exit status of a run crashing at $step:$at"
      grep -q "EDDY_TEST_CRASH_AT=$step: exiting with 137" "$RUN_LOG" || fail "no crash line in $RUN_LOG"
      log "crashed at $step (checkpoint $at of that run)"
    done
  done
  start_fx
  fault_wait_produced
  finish_fx
  fault_verify "exit at checkpoint steps (before write, after write) x$ROUNDS each"
}

run_scenarios scenario kafka eddy
log "case_ckpt_steps: ok"
