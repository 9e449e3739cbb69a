"""hst_river.py: a labelled anomaly stream and River's HalfSpaceTrees on it,
for test_hst_river.sh and the bench.

  hst_river.py gen PATH N SEED     writes a CSV: x1..x4, label (normal/anomaly)
  hst_river.py river PATH SEED...  River's prequential ROC AUC per seed, one a line
  hst_river.py speed PATH          River's records/s (score_one + learn_one)
  hst_river.py config SEED         eddy's pipeline for the stream (same parameters)

The stream: normal records from three Gaussian clusters (sd 0.06) in
[0, 1]^3, x4 = 100 x a fourth coordinate (limits.x4 = 0, 100); 2% anomalies
uniform over the whole box, which Half-Space Trees isolate (spread out, not
packed in windows)."""
import csv
import random
import sys
import time

CENTERS = [(0.25, 0.3, 0.7, 0.4), (0.7, 0.65, 0.3, 0.6), (0.5, 0.8, 0.5, 0.2)]
LIMITS = {"x4": (0.0, 100.0)}


def gen(path, n, seed):
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2", "x3", "x4", "label"])
        for _ in range(n):
            if rng.random() < 0.02:
                v = [rng.random() for _ in range(4)]
                label = "anomaly"
            else:
                c = rng.choice(CENTERS)
                v = [min(1.0, max(0.0, rng.gauss(m, 0.06))) for m in c]
                label = "normal"
            v[3] *= 100.0
            w.writerow([repr(x) for x in v] + [label])


def read(path):
    with open(path) as f:
        r = csv.DictReader(f)
        rows = [({k: float(v) for k, v in row.items() if k != "label"}, row["label"] == "anomaly")
                for row in r]
    return rows


def river_scores(rows, seed):
    from river import anomaly
    m = anomaly.HalfSpaceTrees(n_trees=10, height=8, window_size=250, limits=dict(LIMITS), seed=seed)
    out = []
    for x, _ in rows:
        out.append(m.score_one(x))
        m.learn_one(x)
    return out


CONFIG = """[pipeline]
name = hst
seed = {seed}

[features]
numeric = x1, x2, x3, x4
target = label
values.label = normal, anomaly

[model]
learner = half_space_trees
n_trees = 10
height = 8
window_size = 250
limits.x4 = 0, 100
"""


def main():
    if sys.argv[1] == "config":
        sys.stdout.write(CONFIG.format(seed=int(sys.argv[2])))
    elif sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "river":
        from sklearn.metrics import roc_auc_score
        rows = read(sys.argv[2])
        y = [a for _, a in rows]
        for s in sys.argv[3:]:
            print(roc_auc_score(y, river_scores(rows, int(s))))
    elif sys.argv[1] == "speed":
        rows = read(sys.argv[2])
        t = time.perf_counter()
        river_scores(rows, 1)
        print(len(rows) / (time.perf_counter() - t))


if __name__ == "__main__":
    main()
