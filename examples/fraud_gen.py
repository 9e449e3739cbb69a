#!/usr/bin/python3
"""fraud_gen.py: synthetic card transactions for configs/fraud.ini, as JSON
lines on stdout or as records of a Kafka topic (keyed by user_id, so that a
user's transactions stay in one partition and the per-user aggregates see
them all).

  examples/fraud_gen.py --n 100000 [--seed 1] [--drift-at N]
          [--label-rate 1.0] [--topic transactions --bootstrap 127.0.0.1:9092]

Each record: txn_id, user_id, amount, hour, merchant, country, ts (epoch
seconds) and, for a --label-rate share of them, is_fraud ("0"/"1"; the rest
are predicted only, as when the label arrives later or never). About 2% are
fraud: large amounts compared with the user's habit, at night, at risky
merchants or abroad. From --drift-at on, the fraud pattern changes (small
amounts at one merchant category, any hour): a concept drift for the
detector to find. Kafka output needs Debian's python3-confluent-kafka.
"""
import argparse
import json
import math
import random
import sys

MERCHANTS = ["grocery", "fuel", "travel", "electronics", "gaming", "jewelry", "pharmacy", "restaurant"]
COUNTRIES = ["FR", "DE", "ES", "IT", "NL", "US", "GB", "BR", "NG", "RU"]
HOME = ["FR", "DE", "ES", "IT", "NL"]


def transactions(n, seed, drift_at, label_rate, users=2000):
    rnd = random.Random(seed)
    habit = [math.exp(rnd.gauss(3.5, 0.8)) for _ in range(users)]
    home = [rnd.choice(HOME) for _ in range(users)]
    t = 1_700_000_000.0
    for i in range(n):
        t += rnd.expovariate(50)  # about 50 transactions a second
        u = rnd.randrange(users)
        hour = int((t / 3600) % 24)
        merchant = rnd.choice(MERCHANTS)
        country = home[u] if rnd.random() < 0.9 else rnd.choice(COUNTRIES)
        amount = round(habit[u] * math.exp(rnd.gauss(0, 0.5)), 2)
        if i < drift_at:
            score = (-6.0 + 1.8 * math.log(amount / habit[u] + 1e-9) + (1.5 if hour < 6 else 0)
                     + (1.5 if merchant in ("electronics", "jewelry") else 0) + (1.5 if country != home[u] else 0))
        else:
            score = -6.0 + (3.5 if merchant == "gaming" and amount < habit[u] else 0) + (1.0 if country == "BR" else 0)
        fraud = rnd.random() < 1 / (1 + math.exp(-score))
        if fraud and i < drift_at:
            amount = round(amount * rnd.uniform(3, 10), 2)
        rec = {"txn_id": f"t{i}", "user_id": f"u{u}", "amount": amount, "hour": hour, "merchant": merchant,
               "country": country, "ts": round(t, 3)}
        if rnd.random() < label_rate:
            rec["is_fraud"] = "1" if fraud else "0"
        yield rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drift-at", type=int, default=None, help="default: n / 2")
    ap.add_argument("--label-rate", type=float, default=1.0)
    ap.add_argument("--topic")
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    a = ap.parse_args()
    drift_at = a.n // 2 if a.drift_at is None else a.drift_at
    recs = transactions(a.n, a.seed, drift_at, a.label_rate)
    if not a.topic:
        out = sys.stdout
        for r in recs:
            out.write(json.dumps(r, separators=(",", ":")) + "\n")
        return
    try:
        from confluent_kafka import Producer
    except ImportError:  # another python3 than Debian's: its package still serves
        sys.path.append("/usr/lib/python3/dist-packages")
        from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 5})
    for r in recs:
        while True:
            try:
                p.produce(a.topic, json.dumps(r, separators=(",", ":")).encode(), r["user_id"].encode())
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    if left:
        sys.exit(f"fraud_gen: {left} records not delivered")
    print(f"fraud_gen: {a.n} transactions to {a.topic}", file=sys.stderr)


if __name__ == "__main__":
    main()
