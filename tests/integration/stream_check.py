#!/usr/bin/python3
"""stream_check.py: produces the integration tests' input records and checks
`eddy run`'s outputs, with Debian's python3-confluent-kafka (an independent
Kafka client: it reads what eddy writes).

  stream_check.py produce BOOTSTRAP TOPIC N [--start K] [--format json|avro|confluent]
                  [--bad-every M] [--rate R] [--label-every L]
      N records i = K..K+N-1, key "k<i>": {"id": "r<i>", "x1", "x2", "c", "y"}
      (y, the label, on every L-th record only; default every one). With
      --bad-every M, every M-th record is malformed in one of several ways
      (rotating). Each record carries a header `expect`: `prediction` or
      `dlq`, and `kind` naming how it is malformed. With --entities E, record
      i belongs to entity "u<i mod E>": a field `user` and the Kafka key (so
      that an entity's records share a partition). With --flip-at F, labels
      from record F on are the other class (a concept drift).
      --bad-kinds K1,K2 rotates among those kinds only; --huge-every H makes
      every H-th record (H-1, 2H-1, ...) a JSON value of --huge-bytes
      (10 MB), kind `huge` (the topic must take it: --max-bytes sets the
      producer's message.max.bytes); --distinct-c gives every good record
      its own value of the categorical c ("v<i>"); --summary prints
      {"records": N, "bad": B} on stdout at the end.
  stream_check.py check BOOTSTRAP --in TOPIC[,TOPIC] --pred TOPIC [--dlq TOPIC]
                  [--exactly-once] [--timeout S] [--pipeline NAME]
      reads every input record, then the predictions (and dead letters)
      until each input has its output: a prediction for `expect:
      prediction` records, a dead letter for `expect: dlq` ones. Checks
      every prediction's fields and every dead letter's headers, key and
      value. Exit 1 on a missing output, a wrong field, or (with
      --exactly-once) a duplicate. Prints one summary line. With --json,
      prints instead one JSON object shaped as `eddy verify --json`'s
      (records_in, decoded, predictions, duplicates, lost, dlq, ..., and
      violation: null or the first failure; models_checked 0: this check
      reads no models) and exits 1 when violation is not null.
  stream_check.py aggregates BOOTSTRAP --in TOPIC --pred TOPIC [--timeout S]
      every prediction (duplicates included) must carry, in "aggregates",
      exactly the values its record's entity had before it: count(*),
      sum(x1), mean(x1), min(x2), max(x2), ewma(x1, 0.5), last(x1) and
      since_last() on the Kafka timestamps, computed here record by record
      in offset order. Prints one summary line.
"""
import argparse
import json
import random
import struct
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

AVRO_SCHEMA_ID = 7


class Violation(Exception):
    pass


JSON_MODE = False


def fail(msg):
    if JSON_MODE:
        raise Violation(msg)
    print(f"stream_check: FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def log(msg):
    print(f"stream_check: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ Avro

def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def avro_string(s):
    b = s.encode()
    return zigzag(len(b)) + b


def avro_record(rec):
    """Avro binary of {x1: double, x2: double, c: string, y: [null, string]}
    (tests/integration/records.avsc)."""
    out = struct.pack("<d", rec["x1"]) + struct.pack("<d", rec["x2"]) + avro_string(rec["c"])
    if "y" in rec:
        out += zigzag(1) + avro_string(rec["y"])
    else:
        out += zigzag(0)
    return out


# ------------------------------------------------------------- produce

JSON_BAD = [
    ("not_json", lambda r: b"this is not json"),
    ("truncated", lambda r: json.dumps(r).encode()[:-3]),
    ("wrong_type", lambda r: json.dumps({**r, "x1": "abc"}).encode()),
    ("array", lambda r: b"[1, 2, 3]"),
    ("deep", lambda r: (b'{"x1": 1, "z": ' + b"[" * 5000 + b"]" * 5000 + b"}")),
    ("missing_required", lambda r: json.dumps({k: v for k, v in r.items() if k != "x2"}).encode()),
    ("bad_utf8", lambda r: b'{"x1": 1, "c": "\xff\xfe"}'),
    ("long_value", lambda r: json.dumps({**r, "c": "z" * 5000}).encode()),
    ("oversized", lambda r: json.dumps({**r, "pad": "z" * 100000}).encode()),
]

AVRO_BAD = [
    ("avro_truncated", lambda r, conf: avro_frame(avro_record(r)[:-4], conf)),
    ("avro_trailing", lambda r, conf: avro_frame(avro_record(r) + b"\x00\x01", conf)),
    ("avro_garbage", lambda r, conf: avro_frame(b"\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", conf)),
    ("avro_wrong_id", lambda r, conf: b"\x00" + struct.pack(">I", AVRO_SCHEMA_ID + 1) + avro_record(r)),
]


def avro_frame(body, confluent):
    return (b"\x00" + struct.pack(">I", AVRO_SCHEMA_ID) + body) if confluent else body


def make_record(i, with_label, entities=0, flip_at=None, distinct_c=False):
    rnd = random.Random(i)
    x1, x2 = rnd.random() * 10, rnd.random() * 10
    c = rnd.choice(["a", "b", "c"])
    rec = {"id": f"r{i}", "x1": round(x1, 6), "x2": round(x2, 6), "c": f"v{i}" if distinct_c else c}
    if entities:
        rec["user"] = f"u{i % entities}"
    if with_label:
        y = x1 + x2 > 10
        if flip_at is not None and i >= flip_at:
            y = not y
        rec["y"] = "1" if y else "0"
    return rec


def produce(args):
    # Idempotent: a produce request retried across a broker fault must not
    # write its records twice (the fault cases count the input exactly).
    p = Producer({"bootstrap.servers": args.bootstrap, "acks": "all", "linger.ms": 5,
                  "enable.idempotence": True, "message.max.bytes": args.max_bytes})
    json_bad, avro_bad = JSON_BAD, AVRO_BAD
    if args.bad_kinds:
        kinds = args.bad_kinds.split(",")
        known = {k for k, _ in JSON_BAD + AVRO_BAD}
        if set(kinds) - known:
            fail(f"--bad-kinds: unknown {sorted(set(kinds) - known)}; known: {sorted(known)}")
        json_bad = [(k, f) for k, f in JSON_BAD if k in kinds]
        avro_bad = [(k, f) for k, f in AVRO_BAD if k in kinds]
    n_bad = 0
    failures = []

    def dr(err, msg):
        if err:
            failures.append(str(err))

    t0 = time.monotonic()
    bad_i = 0
    for i in range(args.start, args.start + args.n):
        rec = make_record(i, (i % args.label_every) == 0, args.entities, args.flip_at, args.distinct_c)
        headers = [("expect", b"prediction"), ("id", rec["id"].encode())]
        if "y" in rec:
            headers.append(("label", rec["y"].encode()))
        fmt = args.format
        if args.huge_every and i % args.huge_every == args.huge_every - 1:
            value = json.dumps({**rec, "pad": "z" * args.huge_bytes}).encode()
            headers = [("expect", b"dlq"), ("kind", b"huge")]
            n_bad += 1
        elif args.bad_every and i % args.bad_every == args.bad_every - 1:
            table = json_bad if fmt == "json" else avro_bad
            kind, f = table[bad_i % len(table)]
            bad_i += 1
            value = f(rec) if fmt == "json" else f(rec, fmt == "confluent")
            headers = [("expect", b"dlq"), ("kind", kind.encode())]
            n_bad += 1
        elif fmt == "json":
            value = json.dumps(rec).encode()
        else:
            value = avro_frame(avro_record(rec), fmt == "confluent")
        while True:
            try:
                key = rec["user"] if args.entities else f"k{i}"
                p.produce(args.topic, value=value, key=key.encode(), headers=headers, on_delivery=dr)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
        if args.rate:
            ahead = t0 + (i - args.start + 1) / args.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    left = p.flush(60)
    if left or failures:
        fail(f"{left} records not delivered, {len(failures)} failed: {failures[:3]}")
    log(f"produced {args.n} {args.format} records to {args.topic} ({n_bad} bad)")
    if args.summary:
        print(json.dumps({"records": args.n, "bad": n_bad}), flush=True)


# --------------------------------------------------------------- check

def read_all(bootstrap, topics, until, timeout):
    """Every record of the topics from the beginning, until until(records)
    says enough or timeout seconds pass without it."""
    # read_committed (librdkafka's default, said here): outputs of aborted
    # transactions are never seen, those of open ones only once committed.
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "stream-check", "enable.auto.commit": False,
                  "enable.partition.eof": False, "fetch.wait.max.ms": 10, "isolation.level": "read_committed"})
    parts = []
    for t in topics:
        md = c.list_topics(t, timeout=10)
        if t not in md.topics or md.topics[t].error:
            fail(f"topic {t}: {md.topics[t].error if t in md.topics else 'missing'}")
        parts += [TopicPartition(t, p, OFFSET_BEGINNING) for p in md.topics[t].partitions]
    c.assign(parts)
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until(out):
        for m in c.consume(1000, 0.2):
            if m.error():
                continue
            out.append(m)
    c.close()
    return out


def end_offsets(bootstrap, topics):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "stream-check"})
    total = 0
    for t in topics:
        md = c.list_topics(t, timeout=10)
        for p in md.topics[t].partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(t, p), timeout=10)
            total += hi - lo
    c.close()
    return total


def hdrs(m):
    return {k: (v.decode() if v is not None else None) for k, v in (m.headers() or [])}


def check(args):
    """check_run, or with --json its figures and first violation as one
    JSON object shaped as `eddy verify --json`'s."""
    global JSON_MODE
    if not args.json:
        check_run(args, {})
        return
    JSON_MODE = True
    res = {"pipeline": args.pipeline, "verifier": "stream_check", "records_in": None, "decoded": None,
           "predictions": None, "duplicates": None, "lost": None, "dlq": None, "dlq_duplicates": None,
           "alerts": None, "stray": None, "models_checked": 0, "models_equal": 0, "violation": None}
    try:
        check_run(args, res)
    except Violation as e:
        res["violation"] = str(e)
    print(json.dumps(res), flush=True)
    sys.exit(1 if res["violation"] else 0)


def check_run(args, res):
    inputs = args.inp.split(",")
    n_in = end_offsets(args.bootstrap, inputs)
    recs = read_all(args.bootstrap, inputs, lambda out: len(out) >= n_in, args.timeout)
    if len(recs) < n_in:
        fail(f"read {len(recs)} of the {n_in} input records")
    want = {}
    for m in recs:
        h = hdrs(m)
        want[(m.topic(), m.partition(), m.offset())] = (h.get("expect", "prediction"), m)
    need_pred = {k for k, (e, _) in want.items() if e == "prediction"}
    need_dlq = {k for k, (e, _) in want.items() if e == "dlq"}
    out_topics = [args.pred] + ([args.dlq] if args.dlq and need_dlq else [])

    seen_pred, seen_dlq = {}, {}

    def done(out):
        for m in out[done.n:]:
            if m.topic() == args.pred:
                try:
                    p = json.loads(m.value())
                except ValueError:
                    fail(f"prediction at {m.partition()}/{m.offset()} is not JSON: {m.value()[:80]!r}")
                k = (p.get("topic"), p.get("partition"), p.get("offset"))
                seen_pred.setdefault(k, []).append((p, m))
            else:
                h = hdrs(m)
                k = (h.get("eddy.errors.topic"), int(h.get("eddy.errors.partition", -1)),
                     int(h.get("eddy.errors.offset", -1)))
                seen_dlq.setdefault(k, []).append((h, m))
        done.n = len(out)
        return need_pred <= seen_pred.keys() and need_dlq <= seen_dlq.keys()

    done.n = 0
    read_all(args.bootstrap, out_topics, done, args.timeout)
    missing = need_pred - seen_pred.keys()
    missing_dlq = need_dlq - seen_dlq.keys()
    res.update(records_in=len(want), decoded=len(need_pred), predictions=sum(len(v) for v in seen_pred.values()),
               duplicates=sum(len(v) - 1 for v in seen_pred.values()), lost=len(missing) + len(missing_dlq),
               dlq=len(seen_dlq), dlq_duplicates=sum(len(v) - 1 for v in seen_dlq.values()),
               stray=len((seen_pred.keys() - set(want)) | (seen_dlq.keys() - set(want))))
    if missing:
        fail(f"{len(missing)} of {len(need_pred)} records have no prediction, e.g. {sorted(missing)[:5]}")
    if missing_dlq:
        fail(f"{len(missing_dlq)} of {len(need_dlq)} bad records are not in {args.dlq}, e.g. {sorted(missing_dlq)[:5]}")
    extra = (seen_pred.keys() - set(want)) | (seen_dlq.keys() - set(want))
    if extra:
        fail(f"outputs for records that do not exist: {sorted(extra)[:5]}")
    wrong = seen_pred.keys() & need_dlq
    if wrong:
        fail(f"bad records were predicted: {sorted(wrong)[:5]}")
    wrong = seen_dlq.keys() & need_pred
    if wrong:
        fail(f"good records were dead-lettered: {[(k, seen_dlq[k][0][0].get('eddy.errors.exception.message')) for k in sorted(wrong)[:3]]}")
    dups = sum(len(v) - 1 for v in seen_pred.values()) + sum(len(v) - 1 for v in seen_dlq.values())
    if args.exactly_once and dups:
        fail(f"{dups} duplicated outputs")
    # Every prediction: its fields, its key, its label when the input had one.
    labelled = learned_versions = 0
    for k, lst in seen_pred.items():
        src = want[k][1]
        sh = hdrs(src)
        for p, m in lst:
            for f in ("pipeline", "topic", "partition", "offset", "prediction", "probabilities", "model_version", "time"):
                if f not in p:
                    fail(f"prediction of {k} lacks '{f}': {p}")
            if args.pipeline and p["pipeline"] != args.pipeline:
                fail(f"prediction of {k} names pipeline {p['pipeline']}, not {args.pipeline}")
            if p.get("key") != src.key().decode() or m.key() != src.key():
                fail(f"prediction of {k}: key {p.get('key')!r} / {m.key()!r}, source key {src.key()!r}")
            if args.with_id and p.get("id") != sh.get("id"):
                fail(f"prediction of {k}: id {p.get('id')} != {sh.get('id')}")
            if "label" in sh:
                labelled += 1
                if p.get("label") != sh["label"]:
                    fail(f"prediction of {k}: label {p.get('label')!r}, the record's is {sh['label']!r}")
            elif "label" in p:
                fail(f"prediction of {k} has a label the record did not carry")
            # A prediction agrees with its probabilities (issue 19): null with
            # none before anything was learned, else they sum to 1 and the
            # predicted class has the largest.
            probs = p["probabilities"]
            if p["prediction"] is None:
                if probs:
                    fail(f"prediction of {k} is null but has probabilities {probs}")
            elif not probs or abs(sum(probs.values()) - 1) > 1e-9:
                fail(f"prediction of {k}: probabilities sum to {sum(probs.values())}: {p}")
            elif probs.get(p["prediction"]) != max(probs.values()):
                fail(f"prediction of {k}: {p['prediction']!r} has not the largest probability: {probs}")
            learned_versions = max(learned_versions, p["model_version"])
    # Every dead letter: the original key, value and headers, and why.
    for k, lst in seen_dlq.items():
        src = want[k][1]
        sh = hdrs(src)
        for h, m in lst:
            if m.key() != src.key():
                fail(f"dead letter of {k}: key {m.key()!r}, source key {src.key()!r}")
            if m.value() != src.value() and h.get("eddy.errors.value.truncated.from") is None:
                fail(f"dead letter of {k}: the value differs from the source record's")
            for name, v in sh.items():
                if h.get(name) != v:
                    fail(f"dead letter of {k}: the source header {name}={v} is not kept")
            for name in ("topic", "partition", "offset", "connector.name", "stage", "exception.class.name",
                         "exception.message"):
                if not h.get("eddy.errors." + name):
                    fail(f"dead letter of {k} ({sh.get('kind')}) lacks eddy.errors.{name}: {h}")
            if args.pipeline and h["eddy.errors.connector.name"] != args.pipeline:
                fail(f"dead letter of {k}: connector.name {h['eddy.errors.connector.name']}")
    kinds = {}
    for k, lst in seen_dlq.items():
        h = lst[0][0]
        kind = hdrs(want[k][1]).get("kind")
        kinds.setdefault(kind, set()).add(f"{h['eddy.errors.stage']}/{h['eddy.errors.exception.class.name']}")
    print(f"inputs {len(want)} predicted {len(seen_pred)} dead-lettered {len(seen_dlq)} duplicates {dups} "
          f"labelled {labelled} max_model_version {learned_versions}"
          + "".join(f" [{k}: {','.join(sorted(v))}]" for k, v in sorted(kinds.items(), key=lambda x: str(x[0]))))


AGG_NAMES = ["count", "x1_sum", "x1_mean", "x2_min", "x2_max", "x1_ewma_0.5", "x1_last", "since_last"]


def aggregates(args):
    """Every prediction's aggregates against a record-by-record reference."""
    n_in = end_offsets(args.bootstrap, [args.inp])
    recs = read_all(args.bootstrap, [args.inp], lambda out: len(out) >= n_in, args.timeout)
    if len(recs) < n_in:
        fail(f"read {len(recs)} of the {n_in} input records")
    recs.sort(key=lambda m: (m.partition(), m.offset()))
    want, state, where = {}, {}, {}
    for m in recs:
        r = json.loads(m.value())
        u = r["user"]
        t = m.timestamp()[1]
        if where.setdefault(u, m.partition()) != m.partition():
            fail(f"entity {u} is in partitions {where[u]} and {m.partition()}")
        s = state.setdefault(u, {"n": 0, "sum": 0.0, "min": None, "max": None, "ewma": None, "last": None,
                                 "t": None})
        want[(m.partition(), m.offset())] = {
            "count": float(s["n"]), "x1_sum": s["sum"], "x1_mean": s["sum"] / s["n"] if s["n"] else None,
            "x2_min": s["min"], "x2_max": s["max"], "x1_ewma_0.5": s["ewma"], "x1_last": s["last"],
            "since_last": (t - s["t"]) / 1000.0 if s["t"] is not None else None}
        x1, x2 = float(r["x1"]), float(r["x2"])
        s["n"] += 1
        s["sum"] += x1
        s["min"] = x2 if s["min"] is None or x2 < s["min"] else s["min"]
        s["max"] = x2 if s["max"] is None or x2 > s["max"] else s["max"]
        s["ewma"] = x1 if s["ewma"] is None else 0.5 * x1 + (1 - 0.5) * s["ewma"]
        s["last"] = x1
        s["t"] = t
    seen = {}

    def done(out):
        for m in out[done.n:]:
            p = json.loads(m.value())
            seen.setdefault((p["partition"], p["offset"]), []).append(p)
        done.n = len(out)
        return want.keys() <= seen.keys()

    done.n = 0
    read_all(args.bootstrap, [args.pred], done, args.timeout)
    missing = want.keys() - seen.keys()
    if missing:
        fail(f"{len(missing)} records have no prediction, e.g. {sorted(missing)[:5]}")
    checked = dups = 0
    for k, ps in seen.items():
        w = want[k]
        dups += len(ps) - 1
        for p in ps:
            got = p.get("aggregates")
            if got is None or sorted(got) != sorted(AGG_NAMES):
                fail(f"prediction of {k}: aggregates {got}")
            for name in AGG_NAMES:
                a, b = got[name], w[name]
                if (a is None) != (b is None) or (a is not None and float(a) != b):
                    fail(f"prediction of {k} (entity {where and p.get('key')}): {name} = {a!r}, the reference "
                         f"says {b!r}; all: {got} vs {w}")
            checked += 1
    print(f"aggregates of {checked} predictions ({len(want)} records, {len(state)} entities, {dups} duplicates) "
          f"equal to the reference")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("produce")
    a.add_argument("bootstrap")
    a.add_argument("topic")
    a.add_argument("n", type=int)
    a.add_argument("--start", type=int, default=0)
    a.add_argument("--format", default="json", choices=["json", "avro", "confluent"])
    a.add_argument("--bad-every", type=int, default=0)
    a.add_argument("--label-every", type=int, default=1)
    a.add_argument("--rate", type=float, default=0)
    a.add_argument("--entities", type=int, default=0)
    a.add_argument("--flip-at", type=int, default=None)
    a.add_argument("--bad-kinds", default="")
    a.add_argument("--huge-every", type=int, default=0)
    a.add_argument("--huge-bytes", type=int, default=10 * 1000 * 1000)
    a.add_argument("--max-bytes", type=int, default=2000000)
    a.add_argument("--distinct-c", action="store_true")
    a.add_argument("--summary", action="store_true")
    a = sub.add_parser("check")
    a.add_argument("bootstrap")
    a.add_argument("--in", dest="inp", required=True)
    a.add_argument("--pred", required=True)
    a.add_argument("--dlq")
    a.add_argument("--pipeline")
    a.add_argument("--exactly-once", action="store_true")
    a.add_argument("--with-id", action="store_true", help="predictions carry the record's id")
    a.add_argument("--timeout", type=float, default=60)
    a.add_argument("--json", action="store_true")
    a = sub.add_parser("aggregates")
    a.add_argument("bootstrap")
    a.add_argument("--in", dest="inp", required=True)
    a.add_argument("--pred", required=True)
    a.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    {"produce": produce, "check": check, "aggregates": aggregates}[args.cmd](args)


if __name__ == "__main__":
    main()
