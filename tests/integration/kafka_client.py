#!/usr/bin/python3
"""kafka_client.py: a second, independent Kafka client for the integration
tests (Debian's python3-confluent-kafka, run with /usr/bin/python3).

  kafka_client.py consume BOOTSTRAP TOPIC N
      the first N records of every partition of TOPIC from the beginning
      (no consumer group), one "PARTITION OFFSET VALUE" line each
  kafka_client.py faults BOOTSTRAP CTL_FIFO BROKER_STDOUT
      fault scenarios against an `eddy broker --brokers 3 --topic f:3`,
      driving it through its control FIFO; exits non-zero on the first
      failed check
"""
import os
import sys
import time
import zlib

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition


def fail(msg):
    print(f"kafka_client: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(f"kafka_client: {msg}", file=sys.stderr, flush=True)


def read_partitions(bootstrap, topic, partitions, n, timeout=60.0):
    """(partition, offset, value) of the first n records of the given
    partitions, read from the beginning without a consumer group."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "eddy-test-reader",
                  "enable.auto.commit": False, "enable.partition.eof": False})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            fail(f"consume {topic}: {m.error()}")
        out.append((m.partition(), m.offset(), m.value().decode()))
    c.close()
    return out


def consume(bootstrap, topic, n):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "eddy-test-reader"})
    md = c.list_topics(topic, timeout=30)
    c.close()
    t = md.topics[topic]
    if t.error is not None:
        fail(f"metadata of {topic}: {t.error}")
    recs = read_partitions(bootstrap, topic, sorted(t.partitions), n)
    if len(recs) < n:
        fail(f"consume {topic}: {len(recs)} of {n} records")
    for p, o, v in recs:
        print(p, o, v)


class Ctl:
    """Commands to `eddy broker` through its stdin FIFO; answers are read
    from the file its stdout goes to."""

    def __init__(self, fifo, out):
        self.fifo = open(fifo, "w")  # the broker holds the read end open
        self.out = out

    def __call__(self, cmd, expect_ok=True):
        with open(self.out) as f:
            before = len(f.readlines())
        self.fifo.write(cmd + "\n")
        self.fifo.flush()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.out) as f:
                new = f.readlines()[before:]
            for line in new:
                line = line.rstrip("\n")
                if line == "ok" or line.startswith("error: "):
                    if expect_ok and line != "ok":
                        fail(f"broker command '{cmd}': {line}")
                    log(f"> {cmd}: {line}")
                    return line
            time.sleep(0.02)
        fail(f"broker command '{cmd}': no answer in 10 s")


def leaders(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "eddy-test-reader"})
    md = c.list_topics(topic, timeout=10)
    c.close()
    return {p: pm.leader for p, pm in md.topics[topic].partitions.items()}


def wait_leader(bootstrap, topic, partition, broker):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if leaders(bootstrap, topic)[partition] == broker:
            return
        time.sleep(0.1)
    fail(f"{topic} [{partition}]: leader is not {broker} after 20 s")


# No delivery report yet. (A KafkaError compared with == to anything but a
# KafkaError or an int leaves a Python exception pending in
# confluent-kafka 1.7: compare with `is`.)
PENDING = object()


def desc(err):
    if err is None:
        return "delivered"
    if err is PENDING:
        return "no delivery report yet"
    return f"{err.name()}: {err.str()}"


def produce_one(producer, topic, partition, value, flush_s):
    """Produces one record; returns its delivery error (None when
    delivered) or PENDING when no report came in flush_s."""
    result = []
    producer.produce(topic, value=value.encode(), partition=partition,
                     on_delivery=lambda err, msg: result.append(err))
    producer.flush(flush_s)
    return result[0] if result else PENDING


def faults(bootstrap, fifo, out):
    ctl = Ctl(fifo, out)
    topic = "f"
    base = {"bootstrap.servers": bootstrap, "reconnect.backoff.max.ms": 500,
            "retry.backoff.ms": 100, "topic.metadata.refresh.interval.ms": 1000}
    if sorted(leaders(bootstrap, topic)) != [0, 1, 2]:
        fail("topic f should have partitions 0, 1, 2")

    # Leader moves: metadata follows, and records before and after the move
    # stay readable (the mock keeps one log per partition).
    p = Producer(dict(base))
    for b in (1, 2, 3):
        ctl(f"leader {topic} 0 {b}")
        wait_leader(bootstrap, topic, 0, b)
        err = produce_one(p, topic, 0, f"on-leader-{b}", 30)
        if err is not None:
            fail(f"produce with leader {b}: {desc(err)}")
    log("leader moves 1 -> 2 -> 3 seen in metadata; a record produced under each")

    # Broker down: a producer with a short message timeout fails, one with
    # a long timeout waits and delivers once the broker is up again.
    ctl(f"leader {topic} 0 1")
    wait_leader(bootstrap, topic, 0, 1)
    patient = Producer(dict(base, **{"message.timeout.ms": 60000}))
    if produce_one(patient, topic, 0, "before-down", 30) is not None:
        fail("produce before down")
    ctl("down 1")
    hasty = Producer(dict(base, **{"message.timeout.ms": 2000}))
    err = produce_one(hasty, topic, 0, "lost-while-down", 15)
    if err is None or err is PENDING:
        fail(f"produce with broker 1 down and a 2 s timeout: expected a failure, got {desc(err)}")
    log(f"with broker 1 down, a 2 s produce failed: {desc(err)}")
    err = produce_one(patient, topic, 0, "during-down", 3)
    if err is not PENDING:
        fail(f"produce with broker 1 down: expected it to wait, got {desc(err)}")
    ctl("up 1")
    patient.flush(30)
    if len(patient) != 0:
        fail("the record produced during down was not delivered after up")
    log("a record produced while broker 1 was down waited and was delivered after up")

    # Round-trip time: responses delayed by 3 s fail a producer whose
    # request and message timeouts are shorter; with 0 they succeed.
    ctl("rtt 1 3000")
    slow = Producer(dict(base, **{"request.timeout.ms": 500, "message.timeout.ms": 1500}))
    err = produce_one(slow, topic, 0, "lost-to-rtt", 15)
    if err is None or err is PENDING:
        fail(f"produce under rtt 3000 with 1.5 s timeouts: expected a failure, got {desc(err)}")
    log(f"under rtt 3000 ms a produce with 1.5 s timeouts failed: {desc(err)}")
    ctl("rtt 1 0")
    if produce_one(Producer(dict(base)), topic, 0, "after-rtt", 30) is not None:
        fail("produce after rtt 0")

    # Injected request errors: without retries the error reaches the
    # application; with retries the producer gets through. (NOT_ENOUGH_REPLICAS:
    # retriable and counted as a retry; librdkafka retries
    # NOT_LEADER_FOR_PARTITION after a metadata refresh even with retries 0.)
    ctl("error Produce NOT_ENOUGH_REPLICAS 1")
    err = produce_one(Producer(dict(base, **{"message.send.max.retries": 0})), topic, 0,
                      "lost-to-error", 30)
    if err is None or err is PENDING or err.code() != KafkaError.NOT_ENOUGH_REPLICAS:
        fail(f"produce after 'error Produce NOT_ENOUGH_REPLICAS': got {desc(err)}")
    ctl("error Produce NOT_ENOUGH_REPLICAS 2")
    if produce_one(Producer(dict(base)), topic, 0, "after-errors", 30) is not None:
        fail("produce with retries through 2 injected errors")
    log("an injected NOT_ENOUGH_REPLICAS reached a producer without retries; "
        "one with retries got through 2 of them")

    # Topic errors in metadata.
    ctl("topic-error f TOPIC_AUTHORIZATION_FAILED")
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "eddy-test-reader"})
    t = c.list_topics(topic, timeout=10).topics[topic]
    if t.error is None or t.error.code() != KafkaError.TOPIC_AUTHORIZATION_FAILED:
        fail(f"metadata of f after topic-error: {t.error}")
    ctl("topic-error f NO_ERROR")
    t = c.list_topics(topic, timeout=10).topics[topic]
    if t.error is not None:
        fail(f"metadata of f after clearing the error: {t.error}")
    c.close()
    log("topic-error shows in metadata and clears")

    # Partition 0 holds exactly what was delivered, in order.
    want = ["on-leader-1", "on-leader-2", "on-leader-3", "before-down", "during-down",
            "after-rtt", "after-errors"]
    got = [v for _, _, v in read_partitions(bootstrap, topic, [0], len(want), 30)]
    if got != want:
        fail(f"partition 0 holds {got}, expected {want}")
    log(f"partition 0 holds the {len(want)} delivered records in order, none of the failed ones")

    # Coordinator move: with the group's coordinator moved to broker 3 and
    # broker 3 down, the group cannot form; once it is up, it consumes. All
    # partition leaders are on broker 1 so that only the coordinator is hit.
    group = "g-coord"
    home = zlib.crc32(group.encode()) % 3 + 1  # the mock's default choice
    target = 3 if home != 3 else 2
    for part in (0, 1, 2):
        ctl(f"leader {topic} {part} 1")
    ctl(f"coordinator group {group} {target}")
    ctl(f"down {target}")
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 6000, "reconnect.backoff.max.ms": 500})
    c.subscribe([topic])
    got = 0
    end = time.monotonic() + 5
    while time.monotonic() < end:
        m = c.poll(0.2)
        if m is not None and not m.error():
            got += 1
    if got:
        fail(f"group {group} consumed {got} records with its coordinator (broker {target}) down")
    ctl(f"up {target}")
    end = time.monotonic() + 30
    while got < len(want) and time.monotonic() < end:
        m = c.poll(0.2)
        if m is not None and not m.error() and m.partition() == 0:
            got += 1
    c.close()
    if got < len(want):
        fail(f"group {group}: {got} of {len(want)} records after its coordinator came back")
    log(f"group {group} (default coordinator {home}) moved to broker {target}: "
        f"no records while {target} was down, all {len(want)} after it came back")
    print("faults: ok")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "consume":
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "faults":
        faults(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
