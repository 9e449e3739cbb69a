#!/usr/bin/env python3
"""dashboard_shot.py: retakes docs/dashboard.png (README's dashboard section)
from a live `eddy demo --label-delay N`, once the concept change has been
detected, with tests/integration/dash_browser.py (headless Chromium).

    tools/dashboard_shot.py [--eddy ./eddy] [--out docs/dashboard.png] [--rate 5000]
                            [--events 200000] [--label-delay 1000] [--after 5]

Waits for a drift alert at or past the concept change (record events/2,
offset events/2/partitions in each of the demo's 2 partitions), then
--after more seconds so the curves show the recovery, then shoots the page
at 1400 px wide (its full height). Needs Debian's chromium and
python3-websocket (tools/deps.sh), run by /usr/bin/python3."""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eddy", default=os.path.join(ROOT, "eddy"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "dashboard.png"))
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--label-delay", type=int, default=1000)
    ap.add_argument("--after", type=float, default=5, help="seconds after the drift is detected")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    demo = subprocess.Popen([a.eddy, "demo", "--plain", "--linger", "--rate", str(a.rate), "--events",
                             str(a.events), "--label-delay", str(a.label_delay)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + a.timeout
        url = None
        for line in demo.stdout:  # the dashboard's address comes before the stream starts
            m = re.search(r"dashboard (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        if not url:
            print("dashboard_shot: eddy demo printed no dashboard address", file=sys.stderr)
            return 1
        # Keep reading its lines, so that it never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in demo.stdout], daemon=True).start()
        change = a.events // 2 // 2  # offset of the concept change in each of the 2 partitions
        while time.time() < deadline:
            alerts = json.load(urllib.request.urlopen(url + "api/alerts", timeout=10))
            if any(x.get("kind") == "drift" and x.get("offset", 0) >= change for x in alerts):
                break
            time.sleep(0.5)
        else:
            print("dashboard_shot: no drift detected past the concept change", file=sys.stderr)
            return 1
        time.sleep(a.after)
        r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "integration", "dash_browser.py"), url,
                            a.out, "--ranked", "--timeout", "30", "--width", "1400"])
        print(f"dashboard_shot: {a.out} ({os.path.getsize(a.out)} bytes)")
        return r.returncode
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(10)


if __name__ == "__main__":
    sys.exit(main())
