-- serve_predict.lua: wrk script of bench_serve.sh: POSTs one JSON record per
-- request to /v1/pipelines/$SERVE_PIPELINE/predict, cycling through 1,000
-- records of 1,000 users (the keys spread them over every partition).
local pipeline = os.getenv("SERVE_PIPELINE") or "bench"
local path = "/v1/pipelines/" .. pipeline .. "/predict"
local bodies = {}
local i = 0
math.randomseed(7)
for k = 0, 999 do
  local x = {}
  for j = 0, 9 do x[#x + 1] = string.format('"x%d":%.6f', j, math.random()) end
  bodies[k + 1] = string.format('{"user":"u%06d",%s}', k, table.concat(x, ","))
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", path, nil, bodies[i])
end
-- Non-2xx answers are counted by wrk itself; done() prints one JSON line of
-- the figures the bench reads.
done = function(summary, latency, requests)
  io.write(string.format('{"requests":%d,"seconds":%.3f,"rps":%.0f,"p50_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,' ..
                         '"non2xx":%d,"errors":%d}\n', summary.requests, summary.duration / 1e6,
                         summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, summary.errors.status,
                         summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
