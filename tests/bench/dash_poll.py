#!/usr/bin/env python3
"""dash_poll.py PORT HZ: polls eddy's dashboard API as the page does (HZ
times a second: /api/pipelines, /api/series?pipeline=P&since=T, /api/alerts;
/api/models every 5 s; the page's files once) until killed; prints the
requests made and bytes read on SIGTERM."""
import json
import signal
import sys
import time
import urllib.parse
import urllib.request

port, hz = int(sys.argv[1]), float(sys.argv[2])
base = f"http://127.0.0.1:{port}"
stats = {"requests": 0, "bytes": 0, "errors": 0}


def get(path):
    try:
        body = urllib.request.urlopen(base + path, timeout=5).read()
        stats["requests"] += 1
        stats["bytes"] += len(body)
        return body
    except OSError:
        stats["errors"] += 1
        return None


def bye(*_):
    print(json.dumps(stats), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, bye)
for f in ("/", "/app.js", "/style.css", "/uplot.js", "/uplot.css"):
    get(f)
since, last_models = 0, 0.0
while True:
    t0 = time.time()
    body = get("/api/pipelines")
    pls = json.loads(body)["pipelines"] if body else []
    if pls:
        q = urllib.parse.quote(pls[0]["name"])
        body = get(f"/api/series?pipeline={q}&since={since}")
        if body:
            for p in json.loads(body)["partitions"]:
                since = max([since] + p["t"])
        get(f"/api/alerts?pipeline={q}")
        if t0 - last_models >= 5:
            get(f"/api/models?pipeline={q}")
            last_models = t0
    time.sleep(max(0.0, 1 / hz - (time.time() - t0)))
