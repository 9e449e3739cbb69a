"""py_job.py: the job of bench_e2e.sh written the way users write it today,
for the ratio: a confluent-kafka consumer, scikit-learn's SGDClassifier
(logistic loss) predicting then learning each record with partial_fit, and
a producer writing the same prediction JSON as eddy (source topic,
partition, offset, key, prediction, probabilities, label, model version,
time).

  py_job.py BOOTSTRAP IN_TOPIC OUT_TOPIC GROUP

Runs until SIGTERM. Run with the venv's python (.cache/venv: scikit-learn);
confluent-kafka comes from Debian's python3-confluent-kafka.
"""
import json
import signal
import sys
import time

try:
    import confluent_kafka  # noqa: F401
except ImportError:  # Debian's package, after the venv's own
    sys.path.append("/usr/lib/python3/dist-packages")
from confluent_kafka import Consumer, Producer  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402

FEATURES = [f"x{i}" for i in range(10)]


def main():
    bootstrap, in_topic, out_topic, group = sys.argv[1:5]
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": True, "fetch.wait.max.ms": 10, "session.timeout.ms": 6000})
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    c.subscribe([in_topic], on_assign=lambda c_, parts: print(f"assigned {len(parts)} partitions",
                                                                   file=sys.stderr, flush=True))
    model = SGDClassifier(loss="log_loss")
    classes = np.array([0, 1])
    fitted = False
    version = 1
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    x = np.zeros((1, len(FEATURES)))
    while not stop:
        for m in c.consume(500, 0.1):
            if m.error():
                continue
            rec = json.loads(m.value())
            for i, f in enumerate(FEATURES):
                x[0, i] = rec[f]
            if fitted:
                proba = model.predict_proba(x)[0]
            else:
                proba = np.array([0.5, 0.5])
            label = rec.get("y")
            out = {"pipeline": "python", "topic": m.topic(), "partition": m.partition(), "offset": m.offset(),
                   "key": m.key().decode() if m.key() else None, "prediction": str(int(proba[1] > 0.5)),
                   "probabilities": {"0": float(proba[0]), "1": float(proba[1])}, "model_version": version,
                   "time": time.time()}
            if label is not None:
                out["label"] = label
            while True:
                try:
                    p.produce(out_topic, json.dumps(out).encode(), m.key())
                    break
                except BufferError:
                    p.poll(0.01)
            p.poll(0)
            if label is not None:
                model.partial_fit(x, np.array([int(label)]), classes=classes)
                fitted = True
    p.flush(10)
    c.close()


if __name__ == "__main__":
    main()
