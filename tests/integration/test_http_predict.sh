#!/usr/bin/env bash
# test_http_predict.sh: HTTP predict and learn on a running pipeline's live
# models (eddy broker, memory store, count/mean aggregates per user, two
# partitions). After labelled records are learned, records without labels
# are scored over HTTP (one by one, then as one array) and then streamed:
# the stream's predictions equal the HTTP answers (prediction,
# probabilities, model_version, aggregates), and HTTP predicts leave the
# models' bytes unchanged (/api/models' sha256). Then the errors: learn
# without or with a wrong token 401, with the token 200 and learned; 413,
# 400 (bad JSON, unknown field), 404, 405, 409 (a partition not owned).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/run_lib.sh"

start_eddy_broker --topic in:2 --topic other:1
port=$(free_port)
token=tok-$RANDOM$RANDOM
printf '%s\n' "$token" > "$EDDY_TEST_TMP/token"
cfg=$EDDY_TEST_TMP/serve.ini
FEATURES_EXTRA="key = user" SINK_EXTRA="aggregates = true" write_config "$cfg" sv in "[state]
store = memory
aggregates = count(*), mean(x1)

[http]
listen = 127.0.0.1:$port
max_body_bytes = 4096
allow_learn = true
token_file = $EDDY_TEST_TMP/token"

# 400 labelled records of 20 users, keyed by user (kcat: librdkafka's
# default partitioner, as the server's); then one unlabelled record per user.
$PYTHON - "$EDDY_TEST_TMP" <<'PY'
import json, random, sys
d = sys.argv[1]
rnd = random.Random(7)
def rec(i, label):
    u = "u%d" % (i % 20)
    x1 = rnd.gauss(i % 20, 3.0)
    x2 = rnd.random()
    c = rnd.choice("abc")
    r = {"id": "r%d" % i, "user": u, "x1": round(x1, 4), "x2": round(x2, 4), "c": c}
    if label:
        r["y"] = "yes" if x1 + 10 * x2 > 14 else "no"
    return u, r
with open(d + "/learn.txt", "w") as f:
    for i in range(400):
        u, r = rec(i, True)
        f.write(u + "|" + json.dumps(r) + "\n")
with open(d + "/score.txt", "w") as f, open(d + "/score.json", "w") as g:
    rs = []
    for i in range(400, 420):
        u, r = rec(i, False)
        f.write(u + "|" + json.dumps(r) + "\n")
        rs.append(r)
    json.dump(rs, g)
PY

start_run "$cfg" "$EDDY_TEST_TMP/run.log"
wait_log "$EDDY_TEST_TMP/run.log" "http: .* on port $port" 30
produce in -K'|' < "$EDDY_TEST_TMP/learn.txt"
wait_metric "$port" eddy_learn_total 'pipeline="sv"' 400 60
log "400 labelled records learned"

url=http://127.0.0.1:$port/v1/pipelines/sv
post() { curl -s -o "$EDDY_TEST_TMP/body" -w '%{http_code}' -X POST "$@"; }

# The models' bytes, from a dashboard snapshot taken after time $1.
shas_after() {
  local t=$1 out
  for _ in $(seq 1 100); do
    out=$(curl -sf "http://127.0.0.1:$port/api/models?pipeline=sv" | $PYTHON -c '
import json, sys
m = json.load(sys.stdin)["models"]
t = float(sys.argv[1])
if len(m) == 2 and all(x["time"] > t for x in m):
    print(" ".join("%d:%s:%d" % (x["partition"], x["sha256"], x["seen"]) for x in sorted(m, key=lambda x: x["partition"])))' "$t")
    [ -n "$out" ] && { echo "$out"; return 0; }
    sleep 0.2
  done
  fail "no fresh /api/models snapshot after $t"
}
before=$(shas_after "$(date +%s.%N)")
log "models before HTTP predicts: $before"

# Each unlabelled record alone, then all of them as one array.
: > "$EDDY_TEST_TMP/single.jsonl"
while IFS='|' read -r key value; do
  code=$(post "$url/predict" -H 'Content-Type: application/json' --data-binary "$value")
  assert_eq 200 "$code" "HTTP predict of $value: $(cat "$EDDY_TEST_TMP/body")"
  cat "$EDDY_TEST_TMP/body" >> "$EDDY_TEST_TMP/single.jsonl"
done < "$EDDY_TEST_TMP/score.txt"
code=$(post "$url/predict" --data-binary @"$EDDY_TEST_TMP/score.json")
assert_eq 200 "$code" "HTTP predict of an array"
cp "$EDDY_TEST_TMP/body" "$EDDY_TEST_TMP/array.json"
# A nominal value never seen is scored with the index the stream would give
# it, and not added to the model's dictionary (the sha below would change).
assert_eq 200 "$(post "$url/predict" --data-binary '{"user": "u3", "x1": 1.5, "x2": 0.5, "c": "never-seen"}')" \
  "predict with a nominal value never seen"
after=$(shas_after "$(date +%s.%N)")
assert_eq "$before" "$after" "models' sha256 and instances seen after 41 HTTP predicts"
log "models unchanged by HTTP predicts: $after"

# The stream: the same records, then its predictions of them.
produce in -K'|' < "$EDDY_TEST_TMP/score.txt"
wait_metric "$port" eddy_predictions_total 'pipeline="sv"' 420 60
CONSUME_FORMAT='%s\n' consume sv.predictions 420 > "$EDDY_TEST_TMP/stream.jsonl"
$PYTHON - "$EDDY_TEST_TMP" <<'PY'
import json, sys
d = sys.argv[1]
single = [json.loads(l) for l in open(d + "/single.jsonl") if l.strip()]
array = json.load(open(d + "/array.json"))
stream = {}
for l in open(d + "/stream.jsonl"):
    p = json.loads(l)
    stream[p["id"]] = p
assert len(single) == 20 and len(array) == 20, (len(single), len(array))
fields = ("prediction", "probabilities", "model_version", "aggregates", "partition", "key")
for s, a in zip(single, array):
    for f in fields:
        assert s.get(f) == a.get(f), ("single vs array", s["id"], f, s.get(f), a.get(f))
    p = stream[s["id"]]
    for f in fields:
        assert f in p or f in ("aggregates",), (f, p)
        assert s.get(f) == p.get(f), ("http vs stream", s["id"], f, s.get(f), p.get(f))
parts = {s["partition"] for s in single}
assert parts == {0, 1}, parts
print("20 records: HTTP single = HTTP array = stream (prediction, probabilities, model_version, aggregates, partition); partitions", sorted(parts))
PY

# Learn: the token is needed; with it the record is learned at once.
one=$(sed -n 1p "$EDDY_TEST_TMP/learn.txt" | cut -d'|' -f2)
assert_eq 401 "$(post "$url/learn" --data-binary "$one")" "learn without a token"
grep -q '"error"' "$EDDY_TEST_TMP/body" || fail "401 without a JSON error"
assert_eq 401 "$(post "$url/learn" -H "Authorization: Bearer wrong$token" --data-binary "$one")" "learn with a wrong token"
learned=$(metric "$port" eddy_learn_total 'pipeline="sv"')
assert_eq 200 "$(post "$url/learn" -H "Authorization: Bearer $token" --data-binary "$one")" "learn with the token"
wait_metric "$port" eddy_learn_total 'pipeline="sv"' $((learned + 1)) 10
log "learn: 401 without a token and with a wrong one, 200 with it, eddy_learn_total $learned -> $((learned + 1))"

# Errors.
big=$($PYTHON -c 'import json; print(json.dumps({"user": "u1", "x1": 1, "x2": 2, "c": "a", "pad": "x" * 5000}))')
assert_eq 413 "$(post "$url/predict" --data-binary "$big")" "predict over max_body_bytes"
assert_eq 400 "$(post "$url/predict" --data-binary '{"user": "u1", "x1": ')" "bad JSON"
grep -q '"error"' "$EDDY_TEST_TMP/body" || fail "bad JSON: no JSON error"
assert_eq 400 "$(post "$url/predict" --data-binary '{"user": "u1", "x1": 1, "x2": 2, "c": "a", "zz": 3}')" "unknown field"
grep -q "unknown field 'zz'" "$EDDY_TEST_TMP/body" || fail "unknown field: $(cat "$EDDY_TEST_TMP/body")"
assert_eq 404 "$(post "http://127.0.0.1:$port/v1/pipelines/nope/predict" --data-binary '{}')" "unknown pipeline"
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' "$url/predict")" "GET on predict"
assert_eq 409 "$(post "$url/predict?topic=other&partition=0" --data-binary '{"x1": 1, "x2": 2, "c": "a"}')" \
  "a partition this instance does not own"
grep -q 'other \[0\] is not owned' "$EDDY_TEST_TMP/body" || fail "409: $(cat "$EDDY_TEST_TMP/body")"
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" "POST on /metrics"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" "GET /metrics without a token"
log "413, 400 (bad JSON, unknown field), 404, 405, 409 as expected; /metrics read-only, open"

stop_run
assert_eq 0 "$RUN_RC" "eddy run's exit status"
log "test_http_predict: all checks passed"
