#!/usr/bin/python3
"""chargeback_gen.py: card transactions (examples/fraud_gen.py's, without
their label) to one topic, and the labels that come later to another, for
examples/labels/chargebacks.ini.

  examples/labels/chargeback_gen.py --bootstrap 127.0.0.1:PORT [--n 100000] [--seed 1]
          [--delay 2000 | --delay-seconds 600] [--settled-rate 0.3]
          [--transactions transactions --chargebacks chargebacks]

Every fraud gets a chargeback ({"txn_id": "t9", "is_fraud": "1", "ts": ...});
a --settled-rate share of the other transactions gets a "0" label (the
transaction was reviewed and settled); the rest are never labelled, as in
life, and their predictions expire after label_ttl. A label goes --delay
transactions after its own, or once the stream's time (the records' ts,
about 50 transactions a second) is --delay-seconds past it; those still due
at the end follow the last transaction, then --unknown chargebacks of
transactions from before the stream (dead-lettered: unknown id). Both topics are keyed by user_id
(the same partitioner: a label lands in its transaction's partition when
the topics have the same partition count). Needs confluent-kafka.
"""
import argparse
import collections
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fraud_gen import transactions  # noqa: E402

try:
    from confluent_kafka import Producer
except ImportError:  # another python3 than Debian's: its package still serves
    sys.path.append("/usr/lib/python3/dist-packages")
    from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drift-at", type=int, default=None, help="default: n / 2")
    ap.add_argument("--delay", type=int, default=2000, help="labels this many transactions later")
    ap.add_argument("--delay-seconds", type=float, default=None, help="or this many seconds of stream time later")
    ap.add_argument("--settled-rate", type=float, default=0.3, help="share of legitimate transactions labelled 0")
    ap.add_argument("--unknown", type=int, default=5,
                    help="chargebacks of transactions from before the stream (no prediction waits for them)")
    ap.add_argument("--transactions", default="transactions")
    ap.add_argument("--chargebacks", default="chargebacks")
    a = ap.parse_args()
    drift_at = a.n // 2 if a.drift_at is None else a.drift_at
    p = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 5})
    failed = []

    def send(topic, rec, key):
        while True:
            try:
                p.produce(topic, json.dumps(rec, separators=(",", ":")).encode(), key.encode(),
                          on_delivery=lambda err, msg: err and failed.append(str(err)))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)

    rnd = random.Random(a.seed + 1)  # which legitimate ones are settled: apart from the stream's draws
    due = collections.deque()  # (index or stream time it is due at, key, label), in due order
    counts = {"transactions": 0, "chargebacks": 0, "settled": 0}
    last_ts = 0
    for i, r in enumerate(transactions(a.n, a.seed, drift_at, 1.0)):
        y = r.pop("is_fraud")
        now = i if a.delay_seconds is None else r["ts"]
        while due and due[0][0] <= now:
            _, key, lab = due.popleft()
            lab["ts"] = r["ts"]  # the label's time: when it comes, in the stream's time
            send(a.chargebacks, lab, key)
        send(a.transactions, r, r["user_id"])
        last_ts = r["ts"]
        counts["transactions"] += 1
        if y == "1" or rnd.random() < a.settled_rate:
            at = i + a.delay if a.delay_seconds is None else r["ts"] + a.delay_seconds
            due.append((at, r["user_id"], {"txn_id": r["txn_id"], "is_fraud": y}))
            counts["chargebacks" if y == "1" else "settled"] += 1
    for _, key, lab in due:
        lab["ts"] = last_ts
        send(a.chargebacks, lab, key)
    for j in range(a.unknown):
        send(a.chargebacks, {"txn_id": f"old{j}", "is_fraud": "1", "ts": last_ts}, f"u{j}")
    left = p.flush(60)
    if left or failed:
        sys.exit(f"chargeback_gen: {left} records not delivered {failed[:3]}")
    print(f"chargeback_gen: {counts['transactions']} transactions to {a.transactions}, "
          f"{counts['chargebacks']} chargebacks and {counts['settled']} settled labels and {a.unknown} of older transactions to {a.chargebacks}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
