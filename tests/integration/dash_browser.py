#!/usr/bin/env python3
"""dash_browser.py: loads eddy's dashboard in headless Chromium (Debian's
chromium, driven over its DevTools protocol with python3-websocket), waits
until the page shows what the test expects, prints what it shows as JSON
and saves a screenshot.

    dash_browser.py URL SCREENSHOT.png [--drifts N] [--alerts N] [--labels N] [--timeout S]

Exits 0 when the page showed at least 5 points on the curve, N drift marks
and N alert rows (when given) before the timeout, and the newest alert's
link put its time in the middle of the curve's view; with --labels N, when the
label panel showed its joined count moving (two values or more while polled),
some predictions waiting on the way, and at last N joined and none waiting;
1 otherwise (printing the last state seen); 77 when chromium or the websocket
module is missing."""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import websocket  # Debian's python3-websocket
except ImportError:
    print("dash_browser: the python3 websocket module is missing (Debian: python3-websocket)")
    sys.exit(77)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--hide-scrollbars", "--remote-debugging-port=0", "--remote-allow-origins=*"]

STATE_JS = """JSON.stringify({
  d: window.eddyDash || null,
  rows: document.querySelectorAll('#alerts tbody tr').length,
  driftRows: document.querySelectorAll('#alerts tbody tr.drift').length,
  models: document.querySelectorAll('#models tbody tr').length,
  labelsShown: !!document.getElementById('labels') && !document.getElementById('labels').hidden,
  labelCards: Object.fromEntries([...document.querySelectorAll('#labels-cards .card')].map(
    (c) => [c.dataset.k, c.querySelector('b').textContent])),
  importance: (document.querySelector('#models tbody tr td:last-child') || {}).textContent || null,
  status: (document.getElementById('status') || {}).textContent,
  height: document.documentElement.scrollHeight})"""


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")


def devtools_port(profile, proc, deadline):
    path = os.path.join(profile, "DevToolsActivePort")
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        try:
            with open(path) as f:
                return int(f.readline())
        except (OSError, ValueError):
            time.sleep(0.1)
    raise RuntimeError("chromium did not open its DevTools port")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("screenshot")
    ap.add_argument("--drifts", type=int)
    ap.add_argument("--alerts", type=int)
    ap.add_argument("--labels", type=int)
    ap.add_argument("--ranked", action="store_true", help="the models table shows the features' importance")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--width", type=int, default=1400)
    a = ap.parse_args()
    if not shutil.which(CHROMIUM):
        print(f"dash_browser: {CHROMIUM} is missing (Debian: chromium)")
        return 77
    profile = tempfile.mkdtemp(prefix="eddy-chromium.")
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={a.width},1000",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + a.timeout
        port = devtools_port(profile, proc, deadline)
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        page.call("Page.enable")
        page.call("Page.navigate", url=a.url)
        seen, ok = None, False
        joined_seen, most_waiting = set(), 0
        num = lambda s: int(s.replace(",", "")) if s and s.replace(",", "").isdigit() else None
        while time.time() < deadline:
            seen = json.loads(page.eval(STATE_JS) or "{}")
            d = seen.get("d") or {}
            cards = seen.get("labelCards") or {}
            if seen.get("labelsShown") and num(cards.get("joined")) is not None:
                joined_seen.add(num(cards["joined"]))
                most_waiting = max(most_waiting, num(cards.get("waiting")) or 0)
            seen["labelsMoved"] = {"joined_values": len(joined_seen), "most_waiting": most_waiting}
            ok = (d.get("updates", 0) >= 2 and d.get("points", 0) >= 5 and seen.get("models", 0) > 0 and
                  (not a.ranked or not (seen.get("importance") or "–").startswith("–")) and
                  (a.drifts is None or (d.get("marks", {}).get("drift") == a.drifts and seen["driftRows"] == a.drifts)) and
                  (a.alerts is None or seen["rows"] == a.alerts) and
                  (a.labels is None or (len(joined_seen) >= 2 and most_waiting > 0 and
                                        num(cards.get("joined")) == a.labels and num(cards.get("waiting")) == 0)))
            if ok:
                break
            time.sleep(0.5)
        # The whole page in the screenshot.
        page.call("Emulation.setDeviceMetricsOverride", width=a.width, height=int(seen.get("height") or 1000),
                  deviceScaleFactor=1, mobile=False)
        time.sleep(1.2)  # one more poll and redraw at that size
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(a.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        if ok and seen["rows"]:
            # The newest alert's link shows its point on the curve.
            page.eval("document.querySelector('#alerts tbody tr a').click()")
            time.sleep(1.5)  # uPlot commits a new scale after the call: the next poll's draw records it
            view = json.loads(page.eval("""JSON.stringify({v: window.eddyDash.view,
              t: Date.parse(document.querySelector('#alerts tbody tr a').textContent.replace(' ', 'T') + 'Z') / 1000,
              sel: document.querySelectorAll('#alerts tbody tr.selected').length})"""))
            v = view["v"] or {}
            seen["link"] = view
            ok = (v.get("focus") is not None and abs(v["focus"] - view["t"]) < 0.01 and view["sel"] == 1 and
                  v["min"] <= view["t"] <= v["max"] and v["max"] - v["min"] < d["view"]["max"] - d["view"]["min"])
        print(json.dumps(seen))
        return 0 if ok else 1
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
